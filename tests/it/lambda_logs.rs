//! What the Lambda writes to its logs: at `info` (the default) ids, principals, actions and
//! outcomes, never a policy document or a credential. The function's own subscriber
//! ([`log_subscriber`]) is installed over an in-memory writer for each test.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use access_undenied::lambda::{log_subscriber, Config, Handler, PolicySources};
use access_undenied::sink::memory::{MemoryNotifier, MemorySink};

use crate::support;
use crate::support::lambda::{
    create_table, create_topic_with_queue, kms_envelope, snapshot_source, KMS_EVENT_ID, TABLE,
};

/// Log lines captured in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

/// The snapshot handler's logs for the bundled KMS denial at `level`, and its result.
async fn logs_of_one_diagnosis(level: &str) -> (String, serde_json::Value) {
    // Under the global test lock: tests diagnosing on other threads at the same moment can make
    // a per-thread subscriber miss a callsite (tracing's interest cache).
    let _env = support::moto().await;
    let captured = Captured::default();
    let _guard = tracing::subscriber::set_default(log_subscriber(level, captured.clone()));
    let h = Handler::new(
        PolicySources::Fixed(snapshot_source()),
        Arc::new(MemorySink::new(60)),
        Arc::new(MemoryNotifier::new()),
    );
    let out = h.handle(kms_envelope()).await.unwrap();
    (captured.text(), out)
}

#[tokio::test]
async fn info_logs_name_the_event_but_never_quote_a_policy() {
    let (logs, out) = logs_of_one_diagnosis("info").await;
    // The result itself carries policy documents (the fix to apply) …
    assert!(out.to_string().contains("\"Statement\""), "{out}");
    // … the info logs only say what happened to which event.
    let lines: Vec<serde_json::Value> = logs
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let diagnosed = lines
        .iter()
        .find(|l| l["message"] == "diagnosed")
        .unwrap_or_else(|| panic!("no `diagnosed` line in {logs}"));
    assert_eq!(diagnosed["event_id"], KMS_EVENT_ID);
    assert_eq!(diagnosed["level"], "INFO");
    assert_eq!(diagnosed["assessment_result"], out["AssessmentResult"]);
    // A snapshot calls no AWS: no AWS timing.
    assert!(diagnosed["diagnose_ms"].as_f64().is_some(), "{diagnosed}");
    assert!(diagnosed.get("aws_calls").is_none(), "{diagnosed}");
    assert!(diagnosed.get("aws_wait_ms").is_none(), "{diagnosed}");
    for forbidden in ["Statement", "\"Effect", "Principal\":{", "kms:*"] {
        assert!(!logs.contains(forbidden), "`{forbidden}` at info: {logs}");
    }
}

#[tokio::test]
async fn only_trace_logs_add_the_result() {
    // No level below `trace` quotes a policy: `debug` is for operators too.
    let (logs, _) = logs_of_one_diagnosis("debug").await;
    for forbidden in ["Statement", "\"Effect", "Principal\":{", "kms:*"] {
        assert!(!logs.contains(forbidden), "`{forbidden}` at debug: {logs}");
    }
    // The check is able to see a policy document when one is logged.
    let (logs, _) = logs_of_one_diagnosis("trace").await;
    assert!(logs.contains("Statement"), "{logs}");
}

/// The function as deployed (`Handler::from_config`, reading policies from AWS) on a results
/// table and an alerts topic in moto, with its logs at `level` captured: the logs of the bundled
/// KMS denial and its result. `vars` sets the function's environment after the table and topic
/// are made; what it sets is restored before moto is released to other tests.
async fn diagnose_on_moto(
    level: &str,
    vars: impl FnOnce() -> support::EnvVars,
) -> (String, serde_json::Value) {
    let _env = support::moto().await;
    let config = support::config().await;
    create_table(&config, TABLE).await;
    let (topic, _queue) = create_topic_with_queue(&config).await;
    let _vars = vars();
    let captured = Captured::default();
    let _guard = tracing::subscriber::set_default(log_subscriber(level, captured.clone()));
    let cfg = Config::from_lookup(|key: &str| match key {
        "RESULTS_TABLE" => Some(TABLE.to_string()),
        "ALERTS_TOPIC_ARN" => Some(topic.clone()),
        _ => None,
    })
    .unwrap();
    let h = Handler::from_config(&cfg).await;
    let out = tokio::time::timeout(Duration::from_secs(60), h.handle(kms_envelope()))
        .await
        .unwrap()
        .unwrap();
    (captured.text(), out)
}

#[tokio::test]
async fn credentials_never_reach_the_logs_at_any_level() {
    let key_id = "AKIALOGCHECK00000001";
    let secret = "logcheck/Secret+Value/0123456789abcdefXYZ";
    let token = "LogCheckSessionToken0123456789";
    // The most verbose level an operator can choose for the function's own code.
    let (logs, out) = diagnose_on_moto("trace", || {
        let mut vars = support::EnvVars::new();
        vars.set("AWS_ACCESS_KEY_ID", Some(key_id));
        vars.set("AWS_SECRET_ACCESS_KEY", Some(secret));
        vars.set("AWS_SESSION_TOKEN", Some(token));
        vars
    })
    .await;
    assert_eq!(out["EventId"], KMS_EVENT_ID);
    assert!(logs.contains("diagnosed"), "{logs}");
    for forbidden in [key_id, secret, token, "Secret+Value"] {
        assert!(
            !logs.contains(forbidden),
            "`{forbidden}` in the logs: {logs}"
        );
    }
}

#[tokio::test]
async fn the_diagnosed_line_says_what_the_aws_calls_took() {
    let (logs, _) = diagnose_on_moto("info", support::EnvVars::new).await;
    let diagnosed: serde_json::Value = logs
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|l| l["message"] == "diagnosed")
        .unwrap_or_else(|| panic!("no `diagnosed` line in {logs}"));
    let calls = diagnosed["aws_calls"].as_u64().unwrap();
    let waited = diagnosed["aws_wait_ms"].as_f64().unwrap();
    let diagnose = diagnosed["diagnose_ms"].as_f64().unwrap();
    // Nothing is seeded: the caller is read, then the first read of the principal fails.
    assert!(calls >= 2, "{diagnosed}");
    // Every call goes to moto and back: some waiting, never more than the whole diagnosis.
    assert!(waited > 0.0, "{diagnosed}");
    assert!(waited <= diagnose, "{diagnosed}");
}
