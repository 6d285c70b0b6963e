//! `access-undenied history` against moto: items written by the real DynamoDB sink (so the
//! layout read here is the one written), read back by principal, account, assessment and time
//! range, paginated, as JSON and text lines, and through the command line.

use std::process::Command;

use access_undenied::core::explain::{Assessment, DiagnosisResult};
use access_undenied::history::{
    self, HistoryArgs, HistoryEntry, HistoryError, HistoryQuery, Scope,
};
use access_undenied::sink::dynamodb::{DynamoDbSettings, DynamoDbSink};
use access_undenied::sink::{EventMeta, ResultSink, StoreOutcome};
use serde_json::Value;

use crate::support;
use crate::support::lambda::{create_table, diagnose, kms_envelope_as, KMS_EVENT_ID, TABLE};

const BOB: &str = "arn:aws:iam::111122223333:user/bob";
const CAROL: &str = "arn:aws:iam::111122223333:user/carol";
const ACCOUNT: &str = "111122223333";
const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const MISSING_RESOURCE: &str = "Missing allow in a resource-based policy";
const SCP_DENY: &str = "Explicit deny in a service-control policy";

fn sink(ddb: &aws_sdk_dynamodb::Client, window: u32) -> DynamoDbSink {
    DynamoDbSink::new(
        ddb.clone(),
        DynamoDbSettings {
            table: TABLE.into(),
            retention_days: 90,
            dedupe_window_minutes: window,
        },
    )
}

/// One denied `kms:Decrypt` (the bundled event, diagnosed), with its id, time and optionally
/// another caller, account or assessment.
struct Event<'a> {
    id: &'a str,
    time: &'a str,
    principal: Option<&'a str>,
    account: Option<&'a str>,
    assessment: Option<Assessment>,
}

impl<'a> Event<'a> {
    fn new(id: &'a str, time: &'a str) -> Self {
        Event {
            id,
            time,
            principal: None,
            account: None,
            assessment: None,
        }
    }

    fn by(mut self, principal: &'a str) -> Self {
        self.principal = Some(principal);
        self
    }

    fn in_account(mut self, account: &'a str) -> Self {
        self.account = Some(account);
        self
    }

    fn assessed(mut self, a: Assessment) -> Self {
        self.assessment = Some(a);
        self
    }

    async fn build(&self) -> (DiagnosisResult, EventMeta) {
        let (mut result, mut meta) = diagnose(&kms_envelope_as(self.id, self.time)).await;
        if let Some(p) = self.principal {
            for r in &mut result.request {
                r.principal = Some(p.into());
            }
            meta.principal = Some(p.into());
        }
        if let Some(a) = self.account {
            meta.account_id = Some(a.into());
        }
        if let Some(a) = self.assessment {
            result.assessment_result = a;
        }
        (result, meta)
    }

    /// Stores it with the sink; returns the result as stored.
    async fn store(&self, sink: &DynamoDbSink) -> (DiagnosisResult, StoreOutcome) {
        let (result, meta) = self.build().await;
        let outcome = sink.store(&result, &meta).await.unwrap();
        (result, outcome)
    }
}

fn id(n: u32) -> String {
    format!("aaaaaaaa-0000-4000-8000-{n:012}")
}

fn query(scope: Scope) -> HistoryQuery {
    HistoryQuery {
        table: TABLE.into(),
        scope,
        result: None,
        since: None,
        until: None,
        limit: 100,
        page_size: None,
    }
}

async fn run(ddb: &aws_sdk_dynamodb::Client, q: &HistoryQuery) -> Vec<HistoryEntry> {
    history::query(ddb, q).await.unwrap()
}

fn ids(entries: &[HistoryEntry]) -> Vec<&str> {
    entries.iter().map(|e| e.event_id.as_str()).collect()
}

fn principal(p: &str) -> Scope {
    Scope::Principal(p.into())
}

#[tokio::test]
async fn by_principal_newest_first_with_the_finding_counts() {
    let _env = support::moto().await;
    let config = support::config().await;
    let ddb = create_table(&config, TABLE).await;
    let sink = sink(&ddb, 60);
    let repeat = id(1);
    let (first, outcome) = Event::new(KMS_EVENT_ID, "2026-11-20T10:00:00Z")
        .store(&sink)
        .await;
    assert_eq!(outcome, StoreOutcome::New);
    let (second, outcome) = Event::new(&repeat, "2026-11-20T10:10:00Z")
        .store(&sink)
        .await;
    assert!(matches!(outcome, StoreOutcome::Repeat { count: 2, .. }));
    let carol = id(2);
    Event::new(&carol, "2026-11-20T10:05:00Z")
        .by(CAROL)
        .store(&sink)
        .await;

    // The index carries keys and `AssessmentResult`, not the results.
    let projected = ddb
        .query()
        .table_name(TABLE)
        .index_name(access_undenied::sink::dynamodb::BY_PRINCIPAL_INDEX)
        .key_condition_expression("Principal = :p")
        .expression_attribute_values(
            ":p",
            aws_sdk_dynamodb::types::AttributeValue::S(BOB.to_string()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(projected.items().len(), 2);
    assert!(projected
        .items()
        .iter()
        .all(|i| !i.contains_key("Result") && i.contains_key("AssessmentResult")));

    let entries = run(&ddb, &query(principal(BOB))).await;
    assert_eq!(ids(&entries), vec![repeat.as_str(), KMS_EVENT_ID]);

    // JSON: the stored result, plus Count/LastSeen on the finding's first event only.
    let mut expected = serde_json::to_value(&first).unwrap();
    expected["Count"] = Value::from(2);
    expected["LastSeen"] = Value::from("2026-11-20T10:10:00Z");
    assert_eq!(entries[1].to_json(), expected);
    assert_eq!(
        entries[0].to_json(),
        serde_json::to_value(&second).unwrap(),
        "a repeat carries no counters"
    );
    let line = serde_json::to_string(&entries[1].to_json()).unwrap();
    assert!(!line.contains('\n'), "one line per result");

    // Text: time, assessment, principal, action on resource, count, event id.
    assert_eq!(
        entries[1].to_text(),
        format!(
            "2026-11-20T10:00:00Z  {MISSING_RESOURCE}  {BOB}  kms:Decrypt on {KEY}  count 2  {KMS_EVENT_ID}"
        )
    );
    assert_eq!(
        entries[0].to_text(),
        format!(
            "2026-11-20T10:10:00Z  {MISSING_RESOURCE}  {BOB}  kms:Decrypt on {KEY}  count -  {repeat}"
        )
    );

    let entries = run(&ddb, &query(principal(CAROL))).await;
    assert_eq!(ids(&entries), vec![carol.as_str()]);
    assert_eq!(entries[0].principal.as_deref(), Some(CAROL));
    assert!(run(
        &ddb,
        &query(principal("arn:aws:iam::111122223333:user/nobody"))
    )
    .await
    .is_empty());
}

#[tokio::test]
async fn by_account() {
    let _env = support::moto().await;
    let config = support::config().await;
    let ddb = create_table(&config, TABLE).await;
    let sink = sink(&ddb, 60);
    Event::new(&id(1), "2026-11-20T10:00:00Z")
        .store(&sink)
        .await;
    let other = "444455556666";
    let dave = "arn:aws:iam::444455556666:user/dave";
    for (n, time) in [(2, "2026-11-20T10:01:00Z"), (3, "2026-11-20T10:02:00Z")] {
        Event::new(&id(n), time)
            .by(dave)
            .in_account(other)
            .store(&sink)
            .await;
    }

    let entries = run(&ddb, &query(Scope::Account(other.into()))).await;
    assert_eq!(ids(&entries), vec![id(3).as_str(), id(2).as_str()]);
    assert!(entries
        .iter()
        .all(|e| e.account_id.as_deref() == Some(other) && e.principal.as_deref() == Some(dave)));
    let entries = run(&ddb, &query(Scope::Account(ACCOUNT.into()))).await;
    assert_eq!(ids(&entries), vec![id(1).as_str()]);
    assert!(run(&ddb, &query(Scope::Account("999999999999".into())))
        .await
        .is_empty());
}

#[tokio::test]
async fn by_result_on_a_scan_and_on_an_index() {
    let _env = support::moto().await;
    let config = support::config().await;
    let ddb = create_table(&config, TABLE).await;
    // Dedupe on: the table also holds finding items, which carry an AssessmentResult too.
    let sink = sink(&ddb, 60);
    Event::new(&id(1), "2026-11-20T10:00:00Z")
        .store(&sink)
        .await;
    Event::new(&id(2), "2026-11-20T10:01:00Z")
        .assessed(Assessment::ExplicitDenyScp)
        .store(&sink)
        .await;
    Event::new(&id(3), "2026-11-20T10:02:00Z")
        .by(CAROL)
        .assessed(Assessment::ExplicitDenyScp)
        .store(&sink)
        .await;

    let everything = run(&ddb, &query(Scope::All)).await;
    assert_eq!(
        ids(&everything),
        vec![id(3).as_str(), id(2).as_str(), id(1).as_str()],
        "event items only, newest first"
    );

    let mut q = query(Scope::All);
    q.result = Some(SCP_DENY.into());
    let entries = run(&ddb, &q).await;
    assert_eq!(ids(&entries), vec![id(3).as_str(), id(2).as_str()]);
    assert!(entries
        .iter()
        .all(|e| e.to_json()["AssessmentResult"] == SCP_DENY));
    assert!(entries[0].to_text().contains(SCP_DENY));

    let mut q = query(principal(BOB));
    q.result = Some(SCP_DENY.into());
    assert_eq!(ids(&run(&ddb, &q).await), vec![id(2).as_str()]);
    q.result = Some(MISSING_RESOURCE.into());
    assert_eq!(ids(&run(&ddb, &q).await), vec![id(1).as_str()]);
    q.result = Some("Explicit deny in a session policy".into());
    assert!(run(&ddb, &q).await.is_empty());
}

#[tokio::test]
async fn time_range_on_the_index_key_and_on_a_scan() {
    let _env = support::moto().await;
    let config = support::config().await;
    let ddb = create_table(&config, TABLE).await;
    let sink = sink(&ddb, 0);
    for (n, time) in [
        (9, "2026-11-20T09:00:00Z"),
        (10, "2026-11-20T10:00:00Z"),
        (11, "2026-11-20T11:00:00Z"),
        (12, "2026-11-20T12:00:00Z"),
    ] {
        Event::new(&id(n), time).store(&sink).await;
    }
    let range = |since: Option<&str>, until: Option<&str>, scope: Scope| {
        let mut q = HistoryQuery::from_args(HistoryArgs {
            table: Some(TABLE.into()),
            since: since.map(str::to_string),
            until: until.map(str::to_string),
            ..HistoryArgs::default()
        })
        .unwrap();
        q.scope = scope;
        q
    };
    for scope in [principal(BOB), Scope::Account(ACCOUNT.into()), Scope::All] {
        let label = format!("{scope:?}");
        let q = range(
            Some("2026-11-20T10:00:00Z"),
            Some("2026-11-20T11:00:00Z"),
            scope.clone(),
        );
        assert_eq!(
            ids(&run(&ddb, &q).await),
            vec![id(11).as_str(), id(10).as_str()],
            "{label}: bounds are inclusive"
        );
        // 12:30 at +02:00 is 10:30 UTC.
        let q = range(Some("2026-11-20T12:30:00+02:00"), None, scope.clone());
        assert_eq!(
            ids(&run(&ddb, &q).await),
            vec![id(12).as_str(), id(11).as_str()],
            "{label}: since only, with an offset"
        );
        let q = range(None, Some("2026-11-20T09:59:59.5Z"), scope.clone());
        assert_eq!(
            ids(&run(&ddb, &q).await),
            vec![id(9).as_str()],
            "{label}: until only"
        );
        let q = range(Some("2026-11-20T09:00:00.5Z"), None, scope.clone());
        assert_eq!(
            ids(&run(&ddb, &q).await).len(),
            3,
            "{label}: a fractional lower bound excludes the second before it"
        );
        let q = range(Some("2026-11-21T00:00:00Z"), None, scope);
        assert!(run(&ddb, &q).await.is_empty(), "{label}: nothing after");
    }
}

#[tokio::test]
async fn an_empty_table_has_no_history() {
    let _env = support::moto().await;
    let config = support::config().await;
    let ddb = create_table(&config, TABLE).await;
    for scope in [Scope::All, principal(BOB), Scope::Account(ACCOUNT.into())] {
        let mut q = query(scope);
        assert!(run(&ddb, &q).await.is_empty());
        q.result = Some(SCP_DENY.into());
        q.since = Some("2026-11-20T00:00:00Z".into());
        assert!(run(&ddb, &q).await.is_empty());
    }
}

#[tokio::test]
async fn pages_are_followed_up_to_the_limit() {
    let _env = support::moto().await;
    let config = support::config().await;
    let ddb = create_table(&config, TABLE).await;
    let sink = sink(&ddb, 0);
    // Seven events a minute apart; the odd ones denied by an SCP.
    for n in 0..7 {
        let time = format!("2026-11-20T10:0{n}:00Z");
        let event_id = id(n);
        let mut e = Event::new(&event_id, &time);
        if n % 2 == 1 {
            e = e.assessed(Assessment::ExplicitDenyScp);
        }
        e.store(&sink).await;
    }
    let newest: Vec<String> = (0..7).rev().map(id).collect();
    let newest: Vec<&str> = newest.iter().map(String::as_str).collect();
    let scp: Vec<&str> = vec![newest[1], newest[3], newest[5]];

    for scope in [principal(BOB), Scope::All] {
        let label = format!("{scope:?}");
        let mut q = query(scope);
        q.page_size = Some(2);
        assert_eq!(ids(&run(&ddb, &q).await), newest, "{label}: every page");
        q.limit = 5;
        assert_eq!(
            ids(&run(&ddb, &q).await),
            newest[..5],
            "{label}: the newest 5"
        );
        q.limit = 100;
        q.result = Some(SCP_DENY.into());
        assert_eq!(ids(&run(&ddb, &q).await), scp, "{label}: filtered pages");
        q.limit = 2;
        assert_eq!(
            ids(&run(&ddb, &q).await),
            scp[..2],
            "{label}: filtered, limited"
        );
    }
}

#[tokio::test]
async fn a_missing_table_is_an_error() {
    let _env = support::moto().await;
    let config = support::config().await;
    let ddb = aws_sdk_dynamodb::Client::new(&config);
    for scope in [Scope::All, principal(BOB)] {
        let err = history::query(&ddb, &query(scope)).await.unwrap_err();
        assert!(matches!(err, HistoryError::Query { .. }), "{err:?}");
        let text = err.to_string();
        assert!(
            text.starts_with(&format!("cannot read table {TABLE}: ")),
            "{text}"
        );
        assert!(text.contains("ResourceNotFoundException"), "{text}");
    }
}

#[test]
fn arguments_are_checked() {
    let args = |f: fn(&mut HistoryArgs)| {
        let mut a = HistoryArgs {
            table: Some(TABLE.into()),
            ..HistoryArgs::default()
        };
        f(&mut a);
        HistoryQuery::from_args_with_env(a, None)
    };
    let q = args(|_| {}).unwrap();
    assert_eq!(q.scope, Scope::All);
    assert_eq!(q.limit, history::DEFAULT_LIMIT);

    let from_env = HistoryQuery::from_args_with_env(HistoryArgs::default(), Some("t-env".into()));
    assert_eq!(from_env.unwrap().table, "t-env");
    assert_eq!(
        HistoryQuery::from_args_with_env(HistoryArgs::default(), None),
        Err(HistoryError::NoTable)
    );
    assert_eq!(
        HistoryQuery::from_args_with_env(HistoryArgs::default(), Some(" ".into())),
        Err(HistoryError::NoTable)
    );
    assert_eq!(
        args(|a| a.principal = Some(BOB.into())).unwrap().scope,
        Scope::Principal(BOB.into())
    );
    assert_eq!(
        args(|a| {
            a.principal = Some(BOB.into());
            a.account = Some(ACCOUNT.into());
        }),
        Err(HistoryError::ConflictingScope)
    );
    assert_eq!(
        args(|a| a.account = Some(String::new())),
        Err(HistoryError::Empty { flag: "account" })
    );

    let q = args(|a| {
        a.since = Some("2026-11-20T12:00:00+02:00".into());
        a.until = Some("2026-11-20T10:59:59.999Z".into());
    })
    .unwrap();
    assert_eq!(q.since.as_deref(), Some("2026-11-20T10:00:00Z"));
    assert_eq!(q.until.as_deref(), Some("2026-11-20T10:59:59Z"));

    let err = args(|a| a.since = Some("yesterday".into())).unwrap_err();
    assert_eq!(
        err.to_string(),
        "--since `yesterday` is not an RFC 3339 time (e.g. 2026-11-20T10:00:00Z)"
    );
    assert!(matches!(
        args(|a| a.until = Some("2026-11-20".into())),
        Err(HistoryError::InvalidTime { flag: "until", .. })
    ));
    assert_eq!(
        args(|a| {
            a.since = Some("2026-11-21T00:00:00Z".into());
            a.until = Some("2026-11-20T00:00:00Z".into());
        })
        .unwrap_err()
        .to_string(),
        "--since 2026-11-21T00:00:00Z is after --until 2026-11-20T00:00:00Z"
    );
    assert_eq!(args(|a| a.limit = 0), Err(HistoryError::InvalidLimit));
}

/// `access-undenied history …` with the environment pointed at moto.
fn cli(args: &[&str], table_env: Option<&str>) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_access-undenied"));
    cmd.arg("history").args(args);
    match table_env {
        Some(t) => cmd.env("RESULTS_TABLE", t),
        None => cmd.env_remove("RESULTS_TABLE"),
    };
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn the_command_line() {
    let _env = support::moto().await;
    let config = support::config().await;
    let ddb = create_table(&config, TABLE).await;
    let sink = sink(&ddb, 60);
    let (first, _) = Event::new(KMS_EVENT_ID, "2026-11-20T10:00:00Z")
        .store(&sink)
        .await;
    Event::new(&id(1), "2026-11-20T10:10:00Z")
        .store(&sink)
        .await;
    Event::new(&id(2), "2026-11-20T10:20:00Z")
        .by(CAROL)
        .assessed(Assessment::ExplicitDenyScp)
        .store(&sink)
        .await;

    // JSON, the table from the environment.
    let (code, out, err) = tokio::task::spawn_blocking(|| cli(&["--principal", BOB], Some(TABLE)))
        .await
        .unwrap();
    assert_eq!(code, 0, "{err}");
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert_eq!(lines[0]["EventId"], id(1).as_str());
    let mut expected = serde_json::to_value(&first).unwrap();
    expected["Count"] = Value::from(2);
    expected["LastSeen"] = Value::from("2026-11-20T10:10:00Z");
    assert_eq!(lines[1], expected);

    // Text, filters, --table.
    let (code, out, err) = tokio::task::spawn_blocking(|| {
        cli(
            &[
                "--table",
                TABLE,
                "--result",
                SCP_DENY,
                "--since",
                "2026-11-20T10:15:00Z",
                "--format",
                "text",
                "-v",
                "1",
            ],
            None,
        )
    })
    .await
    .unwrap();
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        format!(
            "2026-11-20T10:20:00Z  {SCP_DENY}  {CAROL}  kms:Decrypt on {KEY}  count 1  {}\n",
            id(2)
        )
    );
    assert!(err.contains("1 event(s) from table"), "{err}");

    let (code, out, _) = tokio::task::spawn_blocking(|| {
        cli(
            &["--account", ACCOUNT, "--limit", "1", "--format", "json"],
            Some(TABLE),
        )
    })
    .await
    .unwrap();
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), 1);
    assert!(out.contains(&id(2)), "the newest: {out}");

    // Usage and AWS errors: exit 2 with a message.
    for (args, table, message) in [
        (
            vec!["--since", "yesterday"],
            Some(TABLE),
            "not an RFC 3339 time",
        ),
        (
            vec![],
            None,
            "no results table: pass --table or set RESULTS_TABLE",
        ),
        (
            vec!["--principal", BOB, "--account", ACCOUNT],
            Some(TABLE),
            "cannot be used with",
        ),
        (
            vec!["--limit", "0"],
            Some(TABLE),
            "--limit must be at least 1",
        ),
        (vec!["--format", "yaml"], Some(TABLE), "invalid value"),
        (
            vec!["--table", "no-such-table"],
            None,
            "cannot read table no-such-table",
        ),
    ] {
        let shown = format!("{args:?}");
        let (code, out, err) = tokio::task::spawn_blocking(move || cli(&args, table))
            .await
            .unwrap();
        assert_eq!(code, 2, "{shown}: {err}");
        assert!(out.is_empty(), "{shown}: {out}");
        assert!(err.contains(message), "{shown}: {err}");
    }
}

#[test]
fn items_without_a_readable_request_fall_back_on_their_attributes() {
    use aws_sdk_dynamodb::types::AttributeValue as A;
    use std::collections::HashMap;
    let s = |v: &str| A::S(v.into());
    let mut item: HashMap<String, A> = HashMap::from([
        ("EventId".to_string(), s("e-1")),
        ("EventTime".to_string(), s("2026-11-20T10:00:00Z")),
        ("AssessmentResult".to_string(), s("Error")),
        ("Principal".to_string(), s(BOB)),
        ("EventSource".to_string(), s("kms.amazonaws.com")),
        ("Actions".to_string(), A::L(vec![s("kms:Decrypt")])),
        ("Resources".to_string(), A::L(vec![])),
        // A result too large to store whole: the sink's summary, without `Request`.
        (
            "Result".to_string(),
            s(r#"{"EventId":"e-1","AssessmentResult":"Error","Truncated":true}"#),
        ),
        ("Count".to_string(), A::N("4".into())),
    ]);
    let entry = HistoryEntry::from_item(&item);
    assert_eq!(
        entry.to_json(),
        serde_json::json!({"EventId": "e-1", "AssessmentResult": "Error", "Truncated": true, "Count": 4})
    );
    assert_eq!(
        entry.to_text(),
        format!("2026-11-20T10:00:00Z  Error  {BOB}  kms:Decrypt  count 4  e-1")
    );

    // A disagreement between AWS's evidence and the engine is marked, never hidden.
    item.insert(
        "Result".into(),
        s(r#"{"EventId":"e-1","AssessmentResult":"Error","Evidence":{"Source":"AccessTroubleshooter","EngineAgrees":false}}"#),
    );
    let disagreeing = HistoryEntry::from_item(&item);
    assert!(disagreeing.engine_disagrees());
    assert!(disagreeing
        .to_text()
        .ends_with("e-1  AWS AND ENGINE DISAGREE"));

    item.insert("Result".into(), s("{not json"));
    let json = HistoryEntry::from_item(&item).to_json();
    assert_eq!(json["EventId"], "e-1");
    assert_eq!(json["Principal"], BOB);
    assert_eq!(json["EventSource"], "kms.amazonaws.com");
    assert!(json["ResultUnreadable"]
        .as_str()
        .unwrap()
        .starts_with("the Result attribute is not JSON"));
    assert_eq!(json["Count"], 4);
}
