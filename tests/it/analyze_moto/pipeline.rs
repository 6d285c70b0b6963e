//! The pipeline around the diagnosis: an invalid action, a batch with a broken record in the
//! middle (library and CLI), and the snapshot round trip (live results equal offline ones).

use access_undenied::collect::snapshot::{Recording, Snapshot, SnapshotSource};
use serde_json::{json, Value};

use super::{
    add, analyze, cli, deny, dynamodb, expect, expect_error, own, role_with_policy, table, OrgWorld,
};
use crate::support;
use crate::support::events::{event_id, iam_user, record, s3_object};
use crate::support::run::{allow, analyze_with};
use crate::support::world::policy;
use crate::support::{moto, ACCOUNT};

#[tokio::test]
async fn invalid_action_get_caller_identity() {
    let _env = moto().await;
    let a = own().await;
    a.user("mo", "/", &[]).await;
    let who = iam_user(ACCOUNT, "/", "mo");
    let ev = record(
        52,
        &who,
        "sts.amazonaws.com",
        "GetCallerIdentity",
        Value::Null,
        ACCOUNT,
    );
    let source = support::source().await;

    let r = analyze_with(&source, &[ev]).await.remove(0);

    expect(&r, "Invalid action", json!([]), json!([]), None);
    assert!(r["ErrorMessage"].as_str().is_some_and(|m| !m.is_empty()));
    assert_eq!(source.calls(), 0, "nothing to read for an invalid action");
}

/// Three denials around a broken record, plus a successful call that is only counted.
async fn batch_with_a_broken_record() -> (Vec<Value>, String, String) {
    let a = own().await;
    let user = a.user("nora", "/", &[]).await;
    let stmt = json!({"Sid": "NoDeletes", "Effect": "Deny", "Action": "dynamodb:DeleteTable", "Resource": "*"});
    a.user_policy(
        "nora",
        "tables",
        &policy(json!([
            allow("dynamodb:Query", "*"),
            allow("dynamodb:DeleteTable", "*"),
            stmt.clone()
        ])),
    )
    .await;
    let who = iam_user(ACCOUNT, "/", "nora");
    let mut broken = dynamodb(54, &who, "GetItem", "orders", ACCOUNT);
    broken.as_object_mut().unwrap().remove("eventSource");
    let mut ok = dynamodb(55, &who, "Query", "orders", ACCOUNT);
    ok.as_object_mut().unwrap().remove("errorCode");
    ok.as_object_mut().unwrap().remove("errorMessage");
    let records = vec![
        dynamodb(53, &who, "GetItem", "orders", ACCOUNT),
        broken,
        ok,
        dynamodb(56, &who, "DeleteTable", "orders", ACCOUNT),
    ];
    (records, user, stmt.to_string())
}

#[tokio::test]
async fn records_batch_with_a_broken_event_in_the_middle() {
    let _env = moto().await;
    let (records, user, stmt) = batch_with_a_broken_record().await;

    let results = analyze(&records).await;

    assert_eq!(results.len(), 3, "the successful call gets no result");
    expect(
        &results[0],
        "Missing allow in an identity-based policy",
        json!([]),
        json!([add(
            &user,
            allow("dynamodb:GetItem", &table(ACCOUNT, "orders"))
        )]),
        Some(true),
    );
    assert_eq!(results[1]["EventId"], json!(event_id(54)));
    expect_error(&results[1], "eventSource");
    let stmt: Value = serde_json::from_str(&stmt).unwrap();
    expect(
        &results[2],
        "Explicit deny in an identity-based policy",
        json!([deny(&user, &format!("{user}/tables"), "tables", &stmt)]),
        json!([]),
        Some(true),
    );
}

#[tokio::test]
async fn cli_analyze_batch_with_a_broken_event() {
    let env = moto().await;
    let (records, _, _) = batch_with_a_broken_record().await;
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("events.json");
    std::fs::write(&events, json!({ "Records": records }).to_string()).unwrap();
    let out_file = dir.path().join("results.json");

    let out = cli(&[
        "analyze",
        "--events-file",
        events.to_str().unwrap(),
        "--output-file",
        out_file.to_str().unwrap(),
        "--cross-account-role-name",
        support::CROSS_ROLE,
    ]);

    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "an Error result: {stderr}");
    assert!(
        stderr.contains("4 records read, 2 access denials analysed, 1 skipped (not access denials), 1 unreadable"),
        "{stderr}"
    );
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let file: Value = serde_json::from_str(&std::fs::read_to_string(&out_file).unwrap()).unwrap();
    assert_eq!(file["Results"], json!(lines));
    let assessments: Vec<&str> = lines
        .iter()
        .map(|r| r["AssessmentResult"].as_str().unwrap())
        .collect();
    assert_eq!(
        assessments,
        vec![
            "Missing allow in an identity-based policy",
            "Error",
            "Explicit deny in an identity-based policy"
        ]
    );
    assert!(env.url.starts_with("http://127.0.0.1:"));
}

#[tokio::test]
async fn snapshot_round_trip_gives_identical_results() {
    let _env = moto().await;
    let w = OrgWorld::build().await;
    w.org
        .scp(
            "ProtectCloudTrail",
            &policy(json!([{"Sid": "NoTrailTampering", "Effect": "Deny", "Action": "cloudtrail:StopLogging", "Resource": "*"}])),
            &w.org.root,
        )
        .await;
    let prod = w.acct("prod-app").await;
    let (_, who) = role_with_policy(
        &prod,
        "Api",
        "/app/",
        json!([allow("cloudtrail:*", "*"), allow("s3:GetObject", "*")]),
        "api",
    )
    .await;
    let bucket_owner = own().await;
    bucket_owner.bucket("central-logs", None).await;
    let user = bucket_owner.user("ray", "/", &[]).await;
    let records = vec![
        record(
            61,
            &who,
            "cloudtrail.amazonaws.com",
            "StopLogging",
            json!({"name": "org-trail"}),
            &prod.id,
        ),
        s3_object(
            62,
            &who,
            "GetObject",
            "central-logs",
            "a.log",
            ACCOUNT,
            &prod.id,
        ),
        dynamodb(63, &iam_user(ACCOUNT, "/", "ray"), "GetItem", "t", ACCOUNT),
        record(
            64,
            &iam_user(ACCOUNT, "/", "ray"),
            "sts.amazonaws.com",
            "GetCallerIdentity",
            Value::Null,
            ACCOUNT,
        ),
    ];

    let live = Recording::new(support::source().await);
    let live_results = analyze_with(&live, &records).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("snapshot.json");
    live.snapshot().save(&file).unwrap();
    let offline = SnapshotSource {
        snapshot: Snapshot::load(&file).unwrap(),
    };
    let offline_results = analyze_with(&offline, &records).await;

    assert_eq!(support::run::as_replayed(&live_results), offline_results);
    assert!(live_results
        .iter()
        .all(|r| r["Evidence"]["Source"] == "CurrentPolicies"));
    let assessments: Vec<&str> = live_results
        .iter()
        .map(|r| r["AssessmentResult"].as_str().unwrap())
        .collect();
    assert_eq!(
        assessments,
        vec![
            "Explicit deny in a service-control policy",
            "Missing allow in a resource-based policy in cross-account access",
            "Missing allow in an identity-based policy",
            "Invalid action"
        ]
    );
    assert!(user.ends_with("user/ray"));

    // The CLI does the same: --save-snapshot live, then --snapshot offline.
    let events = dir.path().join("events.json");
    std::fs::write(&events, json!({ "Records": records }).to_string()).unwrap();
    let saved = dir.path().join("cli-snapshot.json");
    let live_cli = cli(&[
        "analyze",
        "--events-file",
        events.to_str().unwrap(),
        "--save-snapshot",
        saved.to_str().unwrap(),
    ]);
    let offline_cli = cli(&[
        "analyze",
        "--events-file",
        events.to_str().unwrap(),
        "--snapshot",
        saved.to_str().unwrap(),
    ]);
    assert_eq!(live_cli.status.code(), Some(0));
    assert_eq!(offline_cli.status.code(), Some(0));
    let lines = |out: &[u8]| -> Vec<Value> {
        out.split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_slice(l).unwrap())
            .collect()
    };
    assert_eq!(
        support::run::as_replayed(&lines(&live_cli.stdout)),
        lines(&offline_cli.stdout)
    );
    assert_eq!(lines(&live_cli.stdout)[0], live_results[0]);
}
