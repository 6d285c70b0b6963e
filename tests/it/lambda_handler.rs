//! The Lambda handler end to end, in process: policies from the bundled snapshot, results in a
//! moto DynamoDB table, alerts on a moto SNS topic read back from a subscribed SQS queue.
//! Redelivery, repeats, poison events, and the failure between the store and the publish.

use std::sync::Arc;
use std::time::Duration;

use access_undenied::lambda::{Config, Handler, HandlerError, PolicySources};
use access_undenied::sink::memory::{MemoryNotifier, MemorySink};
use access_undenied::sink::sns::SnsNotifier;
use access_undenied::sink::{Notifier, ResultSink};
use aws_config::SdkConfig;
use lambda_runtime::Diagnostic;
use serde_json::{json, Value};

use crate::support;
use crate::support::lambda::{
    b, batch_record, create_table, create_topic_with_queue, kms_envelope, kms_envelope_as, n,
    published, receive_all, s, scan, snapshot_source, table_sink, KMS_EVENT_ID, TABLE,
};

fn sink(config: &SdkConfig, window: u32) -> Arc<dyn ResultSink> {
    table_sink(config, window)
}

fn handler(sink: Arc<dyn ResultSink>, notifier: Arc<dyn Notifier>) -> Handler {
    Handler::new(PolicySources::Fixed(snapshot_source()), sink, notifier)
}

/// The moto stack: table, topic, subscribed queue, and a handler over them.
async fn stack() -> (support::TestEnv, SdkConfig, String, Handler) {
    let env = support::moto().await;
    let config = support::config().await;
    create_table(&config, TABLE).await;
    let (topic, queue) = create_topic_with_queue(&config).await;
    let notifier = Arc::new(SnsNotifier::new(aws_sdk_sns::Client::new(&config), topic));
    let h = handler(sink(&config, 60), notifier);
    (env, config, queue, h)
}

#[tokio::test]
async fn an_eventbridge_event_is_diagnosed_stored_and_published_once() {
    let (_env, config, queue, h) = stack().await;
    let ddb = aws_sdk_dynamodb::Client::new(&config);

    let out = h.handle(kms_envelope()).await.unwrap();
    assert_eq!(out["EventId"], KMS_EVENT_ID);
    assert_eq!(
        out["AssessmentResult"],
        "Missing allow in a resource-based policy"
    );
    assert_eq!(out["FixVerified"], true);

    let items = scan(&ddb, TABLE).await;
    let item = &items[KMS_EVENT_ID];
    assert_eq!(
        serde_json::from_str::<Value>(s(item, "Result")).unwrap(),
        out
    );
    assert!(b(item, "Notified"), "the alert is recorded as sent");
    let delivered = receive_all(&config, &queue).await;
    assert_eq!(delivered.len(), 1);
    assert_eq!(
        serde_json::from_str::<Value>(&delivered[0].body).unwrap(),
        out
    );
    assert_eq!(delivered[0].attributes["AccountId"], "111122223333");

    // Redelivered: the same answer, nothing rewritten, nobody alerted twice.
    let again = h.handle(kms_envelope()).await.unwrap();
    assert_eq!(again, out);
    assert_eq!(scan(&ddb, TABLE).await, items);
    assert!(receive_all(&config, &queue).await.is_empty());

    // A repeat of the finding within the window: counted, not alerted.
    let repeat = h
        .handle(kms_envelope_as(
            "77777777-0000-4000-8000-000000000001",
            "2026-11-20T10:20:00Z",
        ))
        .await
        .unwrap();
    assert_eq!(repeat["EventId"], "77777777-0000-4000-8000-000000000001");
    assert_eq!(
        repeat["AssessmentResult"],
        "Missing allow in a resource-based policy"
    );
    assert!(receive_all(&config, &queue).await.is_empty());
    let items = scan(&ddb, TABLE).await;
    assert_eq!(n(&items[KMS_EVENT_ID], "Count"), 2);
    assert_eq!(s(&items[KMS_EVENT_ID], "LastSeen"), "2026-11-20T10:20:00Z");
    assert_eq!(
        s(
            &items["77777777-0000-4000-8000-000000000001"],
            "FindingState"
        ),
        "Repeat"
    );

    // After the window: a new alert.
    h.handle(kms_envelope_as(
        "77777777-0000-4000-8000-000000000002",
        "2026-11-20T12:00:00Z",
    ))
    .await
    .unwrap();
    assert_eq!(receive_all(&config, &queue).await.len(), 1);
}

#[tokio::test]
async fn a_bare_record_is_accepted() {
    let (_env, config, queue, h) = stack().await;
    let out = h.handle(kms_envelope()["detail"].clone()).await.unwrap();
    assert_eq!(out["EventId"], KMS_EVENT_ID);
    assert_eq!(
        out["AssessmentResult"],
        "Missing allow in a resource-based policy"
    );
    assert_eq!(receive_all(&config, &queue).await.len(), 1);
}

#[tokio::test]
async fn poison_and_foreign_events_are_answered_not_stored_not_retried() {
    let (env, config, queue, h) = stack().await;
    let ddb = aws_sdk_dynamodb::Client::new(&config);

    // A denial record that cannot be read (no eventSource).
    let mut broken = kms_envelope();
    broken["detail"]
        .as_object_mut()
        .unwrap()
        .remove("eventSource");
    let out = h.handle(broken).await.unwrap();
    assert_eq!(out["AssessmentResult"], "Error");
    assert_eq!(out["EventId"], KMS_EVENT_ID);
    assert!(out["ErrorMessage"]
        .as_str()
        .unwrap()
        .contains("eventSource"));

    // Not an access denial.
    let mut fine = kms_envelope();
    fine["detail"].as_object_mut().unwrap().remove("errorCode");
    fine["detail"]
        .as_object_mut()
        .unwrap()
        .remove("errorMessage");
    let out = h.handle(fine).await.unwrap();
    assert_eq!(out["AssessmentResult"], "Error");
    assert!(
        out["ErrorMessage"]
            .as_str()
            .unwrap()
            .contains("no access-denied record"),
        "{out}"
    );

    // Not CloudTrail at all.
    let out = h.handle(json!({"hello": "world"})).await.unwrap();
    assert_eq!(out["AssessmentResult"], "Error");
    let out = h.handle(json!("just a string")).await.unwrap();
    assert_eq!(out["AssessmentResult"], "Error");

    assert!(scan(&ddb, TABLE).await.is_empty());
    assert!(receive_all(&config, &queue).await.is_empty());
    assert!(published(&env.url).is_empty());
}

#[tokio::test]
async fn a_failed_publish_is_retried_and_alerts_exactly_once() {
    let _env = support::moto().await;
    let config = support::config().await;
    let ddb = create_table(&config, TABLE).await;
    let notifier = Arc::new(MemoryNotifier::failing(1));
    let h = handler(sink(&config, 60), notifier.clone());

    // The store succeeds, the publish fails: the invocation fails (Lambda retries it).
    let err = h.handle(kms_envelope()).await.unwrap_err();
    assert!(err.retryable());
    assert_eq!(err.error_type(), "AccessUndenied.PublishFailed.Retryable");
    let diagnostic = Diagnostic::from(err);
    assert_eq!(
        diagnostic.error_type,
        "AccessUndenied.PublishFailed.Retryable"
    );
    assert!(diagnostic.error_message.contains(KMS_EVENT_ID));
    let items = scan(&ddb, TABLE).await;
    assert!(!b(&items[KMS_EVENT_ID], "Notified"));
    assert!(notifier.sent().is_empty());

    // The retry: already stored, alert still pending → sent now, once.
    let out = h.handle(kms_envelope()).await.unwrap();
    assert_eq!(out["EventId"], KMS_EVENT_ID);
    assert_eq!(notifier.sent().len(), 1);
    assert!(b(&scan(&ddb, TABLE).await[KMS_EVENT_ID], "Notified"));

    // Any later redelivery: nothing.
    h.handle(kms_envelope()).await.unwrap();
    assert_eq!(notifier.sent().len(), 1);
    assert_eq!(n(&scan(&ddb, TABLE).await[KMS_EVENT_ID], "Count"), 1);
}

#[tokio::test]
async fn a_failed_store_fails_the_invocation_and_alerts_nobody() {
    let _env = support::moto().await;
    let config = support::config().await; // no table created
    let notifier = Arc::new(MemoryNotifier::new());
    let h = handler(sink(&config, 60), notifier.clone());
    let err = h.handle(kms_envelope()).await.unwrap_err();
    assert!(matches!(err, HandlerError::Sink(_)));
    assert_eq!(err.error_type(), "AccessUndenied.StoreFailed.Permanent");
    assert!(notifier.sent().is_empty());
}

#[tokio::test]
async fn a_batch_of_records_gives_every_result() {
    let sink = Arc::new(MemorySink::new(60));
    let notifier = Arc::new(MemoryNotifier::new());
    let h = handler(sink.clone(), notifier.clone());
    let batch = crate::support::lambda::json_file("events/sample-batch.json");
    let out = h.handle(batch).await.unwrap();
    let results = out["Results"].as_array().unwrap();
    assert_eq!(results.len(), 6, "5 denials and 1 unreadable record");
    assert_eq!(
        results
            .iter()
            .filter(|r| r["AssessmentResult"] == "Error")
            .count(),
        1
    );
    assert_eq!(
        sink.events().len(),
        5,
        "the unreadable record is not stored"
    );
    assert_eq!(notifier.sent().len(), 5);
    let scp = sink.event("11111111-0000-4000-8000-000000000002").unwrap();
    assert_eq!(
        scp.result["AssessmentResult"],
        "Explicit deny in a service-control policy"
    );
    assert_eq!(
        batch_record("11111111-0000-4000-8000-000000000002")["eventID"],
        "11111111-0000-4000-8000-000000000002"
    );
}

#[tokio::test]
async fn the_production_wiring_runs_against_the_local_stack() {
    let env = support::moto().await;
    let config = support::config().await;
    let ddb = create_table(&config, TABLE).await;
    let (topic, queue) = create_topic_with_queue(&config).await;
    let lookup = |key: &str| match key {
        "RESULTS_TABLE" => Some(TABLE.to_string()),
        "ALERTS_TOPIC_ARN" => Some(topic.clone()),
        "POLICY_CACHE_SECONDS" => Some("0".to_string()),
        _ => None,
    };
    let cfg = Config::from_lookup(lookup).unwrap();
    let h = Handler::from_config(&cfg).await;
    // moto holds none of the event's policies: the diagnosis is an inconclusive `Error`, stored
    // and published like any other result.
    let out = tokio::time::timeout(Duration::from_secs(60), h.handle(kms_envelope()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(out["EventId"], KMS_EVENT_ID);
    let items = scan(&ddb, TABLE).await;
    assert_eq!(
        s(&items[KMS_EVENT_ID], "AssessmentResult"),
        out["AssessmentResult"].as_str().unwrap()
    );
    assert_eq!(receive_all(&config, &queue).await.len(), 1);
    assert_eq!(published(&env.url).len(), 1);
}

/// The sink of the double-delivery test: the real one, telling how many `claim_alert` calls
/// have returned.
struct WatchedClaims {
    inner: Arc<dyn ResultSink>,
    claims: tokio::sync::watch::Sender<usize>,
}

#[async_trait::async_trait]
impl ResultSink for WatchedClaims {
    async fn store(
        &self,
        result: &access_undenied::core::explain::DiagnosisResult,
        meta: &access_undenied::sink::EventMeta,
    ) -> Result<access_undenied::sink::StoreOutcome, access_undenied::sink::SinkError> {
        self.inner.store(result, meta).await
    }

    async fn mark_notified(&self, event_id: &str) -> Result<(), access_undenied::sink::SinkError> {
        self.inner.mark_notified(event_id).await
    }

    async fn claim_alert(
        &self,
        event_id: &str,
        lease_secs: u64,
    ) -> Result<bool, access_undenied::sink::SinkError> {
        let claimed = self.inner.claim_alert(event_id, lease_secs).await;
        self.claims.send_modify(|n| *n += 1);
        claimed
    }

    async fn release_alert(&self, event_id: &str) -> Result<(), access_undenied::sink::SinkError> {
        self.inner.release_alert(event_id).await
    }
}

/// A notifier that publishes only once both deliveries have been through their claim: the
/// delivery that claimed the alert is still sending it (not yet recorded as sent) when the
/// other one asks.
struct GatedNotifier {
    inner: MemoryNotifier,
    claims: tokio::sync::watch::Receiver<usize>,
}

#[async_trait::async_trait]
impl Notifier for GatedNotifier {
    async fn notify(
        &self,
        result: &access_undenied::core::explain::DiagnosisResult,
        meta: &access_undenied::sink::EventMeta,
    ) -> Result<String, access_undenied::sink::SinkError> {
        let mut claims = self.claims.clone();
        // A guard against a hang if the other delivery never claims, not a synchronisation.
        tokio::time::timeout(Duration::from_secs(60), claims.wait_for(|n| *n >= 2))
            .await
            .expect("the other delivery never reached its claim")
            .expect("the sink is gone");
        self.inner.notify(result, meta).await
    }
}

/// EventBridge delivers at least once, sometimes twice at the same moment: the two deliveries
/// store one item and publish one alert; the one that lost the claim fails retryably and its
/// retry (after the alert is recorded as sent) publishes nothing. Deterministic: the publish
/// waits until the second delivery has been through its claim.
#[tokio::test]
async fn two_simultaneous_deliveries_publish_one_alert() {
    let _env = support::moto().await;
    let config = support::config().await;
    let ddb = create_table(&config, TABLE).await;
    let (claims, watched) = tokio::sync::watch::channel(0);
    let notifier = Arc::new(GatedNotifier {
        inner: MemoryNotifier::new(),
        claims: watched,
    });
    let watched_sink = Arc::new(WatchedClaims {
        inner: sink(&config, 60),
        claims,
    });
    let h = handler(watched_sink.clone(), notifier.clone());

    let (a, b_) = tokio::join!(h.handle(kms_envelope()), h.handle(kms_envelope()));

    assert_eq!(
        notifier.inner.sent().len(),
        1,
        "exactly one alert for two deliveries"
    );
    assert_eq!(*watched_sink.claims.borrow(), 2, "both asked for the claim");
    let (ok, lost) = match (a, b_) {
        (Ok(ok), Err(lost)) | (Err(lost), Ok(ok)) => (ok, lost),
        other => panic!("one delivery publishes, the other is retried: {other:?}"),
    };
    assert_eq!(ok["EventId"], KMS_EVENT_ID);
    assert!(lost.retryable(), "{lost}");
    assert_eq!(lost.error_type(), "AccessUndenied.PublishFailed.Retryable");
    assert!(b(&scan(&ddb, TABLE).await[KMS_EVENT_ID], "Notified"));

    // The retry of the delivery that lost: answered, nothing sent again.
    let retried = h.handle(kms_envelope()).await.unwrap();
    assert_eq!(retried["EventId"], KMS_EVENT_ID);
    assert_eq!(notifier.inner.sent().len(), 1);
    assert_eq!(n(&scan(&ddb, TABLE).await[KMS_EVENT_ID], "Count"), 1);
}

/// A storm of denials from one account: every one is diagnosed and stored, the first
/// `budget` alert, then one "alerts suppressed" notice, then silence for the hour.
#[tokio::test]
async fn an_accounts_alert_budget_caps_a_storm_with_one_notice() {
    // Offline, but 1,000 diagnoses: run apart from the log-capturing tests (which hold this
    // lock), whose per-thread subscribers can miss a callsite another thread registers at the
    // same moment.
    let _env = support::moto().await;
    let sink = Arc::new(MemorySink::new(0)); // no dedupe: every event is a new finding
    let notifier = Arc::new(MemoryNotifier::new());
    let h = Handler::new(
        PolicySources::Fixed(snapshot_source()),
        sink.clone(),
        notifier.clone(),
    )
    .with_alert_budget(20);
    for i in 0..1000 {
        let out = h
            .handle(kms_envelope_as(
                &format!("55555555-0000-4000-8000-{i:012}"),
                "2026-11-20T10:00:00Z",
            ))
            .await
            .unwrap();
        assert_eq!(
            out["AssessmentResult"],
            "Missing allow in a resource-based policy"
        );
    }
    assert_eq!(sink.events().len(), 1000, "every denial stored");
    assert_eq!(notifier.sent().len(), 20, "the budget's alerts");
    let notices = notifier.suppressed();
    assert_eq!(notices.len(), 1, "one notice: {notices:?}");
    assert_eq!(notices[0].0, "111122223333");
    assert_eq!(notices[0].1, 20);
    // Suppressed alerts are handled: a redelivery does not send them.
    let again = h
        .handle(kms_envelope_as(
            "55555555-0000-4000-8000-000000000999",
            "2026-11-20T10:00:00Z",
        ))
        .await
        .unwrap();
    assert_eq!(again["EventId"], "55555555-0000-4000-8000-000000000999");
    assert_eq!(notifier.sent().len(), 20);
}

/// An EventBridge envelope around one CloudTrail record, as EventBridge delivers it.
fn envelope_of(record: &Value, source: &str) -> Value {
    json!({
        "version": "0",
        "id": format!("env-{}", record["eventID"].as_str().unwrap()),
        "detail-type": "AWS API Call via CloudTrail",
        "source": source,
        "account": record["recipientAccountId"],
        "time": record["eventTime"],
        "region": support::REGION,
        "resources": [],
        "detail": record
    })
}

#[tokio::test]
async fn each_cross_account_session_is_named_after_the_event_that_opened_it() {
    use crate::support::events::{event_id, record, role_session};
    use crate::support::world::{trust, Acct};

    let env = support::moto().await;
    let config = support::config().await;
    let member = Acct::new(support::OTHER_ACCOUNT).await;
    let mut envelopes = Vec::new();
    for (n, role) in [(901, "Reporting"), (902, "Billing")] {
        let (_, id) = member.role_with_id(role, "/", &trust("*"), None, &[]).await;
        member
            .role_policy(role, "read", &support::doc("Allow", "s3:ListBucket", "*"))
            .await;
        let who = role_session(support::OTHER_ACCOUNT, "/", role, &id, "run-1", false);
        let table = json!({"tableName": "orders", "key": {"pk": {"S": "order#1"}}});
        let rec = record(
            n,
            &who,
            "dynamodb.amazonaws.com",
            "GetItem",
            table,
            support::OTHER_ACCOUNT,
        );
        envelopes.push(envelope_of(&rec, "aws.dynamodb"));
    }
    let sources = PolicySources::aws(config, support::settings(), Duration::from_secs(3600));
    let h = Handler::new(
        sources,
        Arc::new(MemorySink::new(60)),
        Arc::new(MemoryNotifier::new()),
    );
    // The second delivery of the first event reads nothing new: it opens no session.
    for e in [&envelopes[0], &envelopes[1], &envelopes[0]] {
        let out = h.handle(e.clone()).await.unwrap();
        assert_ne!(out["AssessmentResult"], "Error", "{out:#}");
    }

    // The function's sessions of its cross-account role (the test's own set-up assumes another).
    let role = format!(
        "arn:aws:iam::{}:role/{}",
        support::OTHER_ACCOUNT,
        support::CROSS_ROLE
    );
    let sessions: Vec<String> = support::standin_requests(&env.standin)
        .iter()
        .filter(|q| q["Operation"] == "AssumeRole" && q["RoleArn"] == role.as_str())
        .map(|q| q["RoleSessionName"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        sessions,
        [
            format!("access-undenied-{}", event_id(901)),
            format!("access-undenied-{}", event_id(902)),
        ]
    );
}
