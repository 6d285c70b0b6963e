//! AWS faults injected in front of moto (`support::Patched`): server errors and throttling
//! (retried by the SDK's standard retry mode, then reported), calls that hang (cut by the
//! adapter's call timeout), and an organization we cannot read. Each test checks the result a
//! user sees: what could not be read is named, a certain cause found elsewhere is still
//! reported, and no `AssessmentResult` is claimed that the missing policy could contradict.

use std::time::Duration;

use access_undenied::collect::aws::AwsSettings;
use access_undenied::collect::{CollectError, PolicySource};
use serde_json::{json, Value};

use crate::support;
use crate::support::events::{iam_user, kms_event, record, role_session};
use crate::support::run::{allow, analyze_with};
use crate::support::world::{policy, trust, Acct, Org};
use crate::support::{moto, Patched, Rule, ACCOUNT, OTHER_ACCOUNT};

/// The call timeout of the tests with a hung endpoint: generous, so healthy moto calls on a busy
/// machine never race it (a hung call ends after three attempts).
const HUNG_CALL_TIMEOUT: Duration = Duration::from_secs(4);

/// A fail-safe guard, not a measurement: a test whose hung call is never cut fails here instead
/// of hanging the suite. What the tests assert is the result, never how long it took.
async fn fail_safe<T>(fut: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(300), fut)
        .await
        .expect("fail-safe: a hung call was never cut by the call timeout")
}

fn dynamodb_get(n: u32, who: &Value, table_name: &str) -> Value {
    record(
        n,
        who,
        "dynamodb.amazonaws.com",
        "GetItem",
        json!({"tableName": table_name, "key": {"id": {"S": "1"}}}),
        ACCOUNT,
    )
}

#[track_caller]
fn assessment(r: &Value) -> &str {
    r["AssessmentResult"].as_str().unwrap_or_default()
}

/// User `bob` in our account whose inline policy allows only `dynamodb:Query`.
async fn bob() -> Value {
    let a = Acct::new(ACCOUNT).await;
    a.user("bob", "/", &[]).await;
    a.user_policy(
        "bob",
        "query-only",
        &policy(json!([allow("dynamodb:Query", "*")])),
    )
    .await;
    iam_user(ACCOUNT, "/", "bob")
}

/// 503 on every read of an inline policy: three attempts (the standard retry mode, with its
/// backoff), then the identity gate is unknown. The event is an inconclusive `Error` naming the
/// call and the service's answer — never "Missing allow in an identity-based policy", which the
/// unread policy could contradict.
#[tokio::test]
async fn server_errors_are_retried_then_named_never_guessed() {
    let _env = moto().await;
    let who = bob().await;
    let patched = Patched::new(vec![Rule::Fail {
        action: "GetUserPolicy",
        status: 503,
        code: "ServiceUnavailable",
        times: usize::MAX,
    }]);
    let source = patched.source(support::settings()).await;

    let r = analyze_with(&source, &[dynamodb_get(1, &who, "orders")])
        .await
        .remove(0);

    assert_eq!(patched.seen("GetUserPolicy"), 3, "retried, then given up");
    let pretty = serde_json::to_string_pretty(&r).unwrap();
    assert_eq!(assessment(&r), "Error", "{pretty}");
    assert!(
        r["ErrorMessage"]
            .as_str()
            .unwrap_or_default()
            .contains("inconclusive"),
        "{pretty}"
    );
    let unevaluated = r["Unevaluated"].to_string();
    assert!(unevaluated.contains("iam:GetUserPolicy"), "{pretty}");
    assert!(unevaluated.contains("ServiceUnavailable"), "{pretty}");
}

/// A 500 answered once, then the real answer: the retry gets through and the result is exactly
/// the fault-free one.
#[tokio::test]
async fn one_server_error_then_success_changes_nothing() {
    let _env = moto().await;
    let who = bob().await;
    let ev = dynamodb_get(2, &who, "orders");
    let clean = analyze_with(&support::source().await, std::slice::from_ref(&ev)).await;
    let patched = Patched::new(vec![Rule::Fail {
        action: "GetUserPolicy",
        status: 500,
        code: "InternalFailure",
        times: 1,
    }]);

    let faulty = analyze_with(&patched.source(support::settings()).await, &[ev]).await;

    assert_eq!(patched.seen("GetUserPolicy"), 2);
    assert_eq!(
        assessment(&clean[0]),
        "Missing allow in an identity-based policy"
    );
    assert_eq!(faulty, clean);
}

/// The key policy cannot be read (503 from KMS, a JSON-protocol service), but the caller's own
/// policy denies the call with certainty: that deny is reported as the cause, and the key
/// policy is listed as not evaluated.
#[tokio::test]
async fn a_certain_deny_survives_a_server_error_elsewhere() {
    let _env = moto().await;
    let a = Acct::new(ACCOUNT).await;
    a.user("olga", "/", &[]).await;
    let stmt = json!({"Sid": "NoKeyDeletion", "Effect": "Deny", "Action": "kms:ScheduleKeyDeletion", "Resource": "*"});
    a.user_policy(
        "olga",
        "kms",
        &policy(json!([allow("kms:*", "*"), stmt.clone()])),
    )
    .await;
    let key = a
        .key(&policy(json!([{"Sid": "EnableIAM", "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}, "Action": "kms:*", "Resource": "*"}])))
        .await;
    let patched = Patched::new(vec![Rule::Fail {
        action: "GetKeyPolicy",
        status: 503,
        code: "ServiceUnavailable",
        times: usize::MAX,
    }]);
    let source = patched.source(support::settings()).await;
    let who = iam_user(ACCOUNT, "/", "olga");

    let r = analyze_with(
        &source,
        &[kms_event(
            3,
            &who,
            "ScheduleKeyDeletion",
            &key,
            ACCOUNT,
            ACCOUNT,
        )],
    )
    .await
    .remove(0);

    let pretty = serde_json::to_string_pretty(&r).unwrap();
    assert_eq!(
        assessment(&r),
        "Explicit deny in an identity-based policy",
        "{pretty}"
    );
    assert_eq!(
        r["ResultDetails"]["ExplicitDenyPolicies"][0]["PolicyStatement"], stmt,
        "{pretty}"
    );
    assert!(
        r["Unevaluated"].to_string().contains("GetKeyPolicy"),
        "{pretty}"
    );
    assert_eq!(patched.seen("GetKeyPolicy"), 3);
}

/// An endpoint that accepts the request and never answers: the call is cut by the call timeout
/// and reported as timed out, naming it; the next event of the batch, which does not need that
/// call, is diagnosed normally, and the batch ends in bounded time.
#[tokio::test]
async fn a_hung_call_times_out_and_the_batch_goes_on() {
    let _env = moto().await;
    let who = bob().await;
    let a = Acct::new(ACCOUNT).await;
    a.user("carol", "/", &[]).await; // no inline policy: never calls GetUserPolicy
    let carol = iam_user(ACCOUNT, "/", "carol");
    let patched = Patched::new(vec![Rule::Hang {
        action: "GetUserPolicy",
        times: usize::MAX,
    }]);
    let source = patched
        .source(AwsSettings {
            call_timeout: Some(HUNG_CALL_TIMEOUT),
            ..support::settings()
        })
        .await;

    let results = fail_safe(analyze_with(
        &source,
        &[
            dynamodb_get(4, &who, "orders"),
            dynamodb_get(5, &carol, "orders"),
        ],
    ))
    .await;

    assert_eq!(results.len(), 2);
    let pretty = serde_json::to_string_pretty(&results).unwrap();
    assert_eq!(assessment(&results[0]), "Error", "{pretty}");
    let unevaluated = results[0]["Unevaluated"].to_string();
    assert!(unevaluated.contains("iam:GetUserPolicy"), "{pretty}");
    assert!(unevaluated.contains("timed out"), "{pretty}");
    assert_eq!(
        assessment(&results[1]),
        "Missing allow in an identity-based policy",
        "{pretty}"
    );
    assert!(patched.seen("GetUserPolicy") >= 1);

    // At the adapter: the same failure as a typed error.
    let fresh = patched
        .source(AwsSettings {
            call_timeout: Some(HUNG_CALL_TIMEOUT),
            ..support::settings()
        })
        .await;
    match fresh
        .identity(&format!("arn:aws:iam::{ACCOUNT}:user/bob"))
        .await
    {
        Err(CollectError::Service { what, message }) => {
            assert!(what.starts_with("iam:GetUserPolicy"), "{what}");
            assert!(message.starts_with("timed out"), "{message}");
        }
        other => panic!("expected a timed-out service error, got {other:?}"),
    }
}

/// A member account's role and an organization whose SCPs cannot be read (AccessDenied on
/// `organizations:ListPoliciesForTarget`). `(role session identity, deny statement, account)`.
async fn member_behind_an_unreadable_organization() -> (Value, Value, String) {
    let mut org = Org::create(&Acct::new(ACCOUNT).await).await;
    let root = org.root.clone();
    let ou = org.ou("Workloads", &root).await;
    org.account("app", &ou).await;
    let member = Acct::new(&org.accounts["app"].id).await;
    let stmt = json!({"Sid": "NoTableDrops", "Effect": "Deny", "Action": "dynamodb:DeleteTable", "Resource": "*"});
    let (_, id) = member
        .role_with_id("Operator", "/", &trust("*"), None, &[])
        .await;
    member
        .role_policy(
            "Operator",
            "ops",
            &policy(json!([allow("dynamodb:*", "*"), stmt.clone()])),
        )
        .await;
    let who = role_session(&member.id, "/", "Operator", &id, "oncall", false);
    (who, stmt, member.id.clone())
}

/// The organization cannot be read: an explicit deny in the caller's own policy is still the
/// certain cause; a call the identity allows is an inconclusive `Error` naming the
/// Organizations call (an SCP could deny it) — never "Allowed" and never a guessed cause.
#[tokio::test]
async fn an_unreadable_organization_is_named_never_guessed() {
    let _env = moto().await;
    let (who, stmt, account) = member_behind_an_unreadable_organization().await;
    let patched = Patched::new(vec![Rule::Fail {
        action: "ListPoliciesForTarget",
        status: 400,
        code: "AccessDeniedException",
        times: usize::MAX,
    }]);
    let source = patched.source(support::settings()).await;
    let table = |name: &str| json!({"tableName": name});
    let drop_table = record(
        6,
        &who,
        "dynamodb.amazonaws.com",
        "DeleteTable",
        table("orders"),
        &account,
    );
    let read = record(
        7,
        &who,
        "dynamodb.amazonaws.com",
        "GetItem",
        table("orders"),
        &account,
    );

    let results = analyze_with(&source, &[drop_table, read]).await;

    let pretty = serde_json::to_string_pretty(&results).unwrap();
    assert_eq!(
        assessment(&results[0]),
        "Explicit deny in an identity-based policy",
        "{pretty}"
    );
    assert_eq!(
        results[0]["ResultDetails"]["ExplicitDenyPolicies"][0]["PolicyStatement"], stmt,
        "{pretty}"
    );
    assert_eq!(assessment(&results[1]), "Error", "{pretty}");
    for r in &results {
        assert!(
            r["Unevaluated"]
                .to_string()
                .contains("organizations:ListPoliciesForTarget"),
            "{pretty}"
        );
    }
}

/// Organizations answers that the account is in no organization: there are no SCPs or RCPs to
/// read, so the result is the ordinary conclusive one.
#[tokio::test]
async fn no_organization_means_no_scps_not_an_error() {
    let _env = moto().await;
    let who = bob().await;
    let patched = Patched::new(vec![Rule::Fail {
        action: "DescribeOrganization",
        status: 400,
        code: "AWSOrganizationsNotInUseException",
        times: usize::MAX,
    }]);
    let source = patched.source(support::settings()).await;

    let r = analyze_with(&source, &[dynamodb_get(8, &who, "orders")])
        .await
        .remove(0);

    let pretty = serde_json::to_string_pretty(&r).unwrap();
    assert_eq!(
        assessment(&r),
        "Missing allow in an identity-based policy",
        "{pretty}"
    );
    assert_eq!(r.get("Unevaluated"), None, "{pretty}");
    assert!(patched.seen("DescribeOrganization") >= 1);
}

/// STS throttles the first AssumeRole into the other account: the SDK retries, the session is
/// obtained, and the cross-account result is the fault-free one.
#[tokio::test]
async fn a_throttled_assume_role_is_retried_and_changes_nothing() {
    let _env = moto().await;
    let b = Acct::new(OTHER_ACCOUNT).await;
    let (_, id) = b.role_with_id("Etl", "/", &trust("*"), None, &[]).await;
    b.role_policy("Etl", "etl", &policy(json!([allow("kms:Decrypt", "*")])))
        .await;
    let who = role_session(OTHER_ACCOUNT, "/", "Etl", &id, "etl-run-9", false);
    let a = Acct::new(ACCOUNT).await;
    let key = a
        .key(&policy(json!([{"Sid": "EnableIAM", "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}, "Action": "kms:*", "Resource": "*"}])))
        .await;
    let ev = kms_event(9, &who, "Decrypt", &key, ACCOUNT, OTHER_ACCOUNT);
    let clean = analyze_with(&support::source().await, std::slice::from_ref(&ev)).await;
    let patched = Patched::new(vec![Rule::Fail {
        action: "AssumeRole",
        status: 400,
        code: "Throttling",
        times: 1,
    }]);

    let faulty = analyze_with(&patched.source(support::settings()).await, &[ev]).await;

    assert_eq!(
        assessment(&clean[0]),
        "Missing allow in a resource-based policy in cross-account access"
    );
    assert_eq!(faulty, clean);
    assert_eq!(
        patched.seen("AssumeRole"),
        2,
        "throttled once, then assumed"
    );
}

/// The call timeout reaches every client, including the sessions of assumed roles: a hung
/// AssumeRole into the other account is cut and reported as that account's failure.
#[tokio::test]
async fn a_hung_assume_role_is_cut_and_names_the_account() {
    let _env = moto().await;
    let patched = Patched::new(vec![Rule::Hang {
        action: "AssumeRole",
        times: usize::MAX,
    }]);
    let source = patched
        .source(AwsSettings {
            call_timeout: Some(HUNG_CALL_TIMEOUT),
            ..support::settings()
        })
        .await;
    let out = fail_safe(source.identity(&format!("arn:aws:iam::{OTHER_ACCOUNT}:role/App"))).await;
    match out {
        Err(CollectError::AssumeRole { account, message }) => {
            assert_eq!(account, OTHER_ACCOUNT);
            assert!(message.contains("timed out"), "{message}");
        }
        other => panic!("expected AssumeRole, got {other:?}"),
    }
}

/// Account ids come from event data: one that is not 12 digits never becomes part of a role
/// ARN, so no crafted value can make the adapter assume another role than the configured one.
#[tokio::test]
async fn only_the_configured_role_in_a_valid_account_is_ever_assumed() {
    let _env = moto().await;
    let patched = Patched::new(vec![]);
    let source = patched.source(support::settings()).await;
    for account in [
        "12345678901",
        "1234567890123",
        "12345678901x",
        "123456789012:role/Admin#",
        "../../role/Admin",
    ] {
        let out = source
            .resource_policy(
                "arn:aws:s3:::b",
                account,
                "us-east-1",
                access_undenied::core::eval::ResourceKind::S3Bucket,
            )
            .await;
        match out {
            Err(CollectError::AssumeRole { message, .. }) => {
                assert!(message.contains("not an AWS account id"), "{message}")
            }
            other => panic!("{account}: expected AssumeRole, got {other:?}"),
        }
    }
    assert_eq!(patched.seen("AssumeRole"), 0);
}

/// A policy document AWS returns with a duplicated key (`"Effect"` twice) is ambiguous: it is
/// not read last-key-wins but reported as unreadable, naming the key, and no cause is guessed.
#[tokio::test]
async fn a_policy_with_a_duplicated_key_is_unreadable_not_guessed() {
    let _env = moto().await;
    let a = Acct::new(ACCOUNT).await;
    a.user("dana", "/", &[]).await;
    let iam = aws_sdk_iam::Client::new(&support::config().await);
    iam.put_user_policy()
        .user_name("dana")
        .policy_name("ambiguous")
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Effect":"Allow","Action":"dynamodb:GetItem","Resource":"*"}]}"#,
        )
        .send()
        .await
        .unwrap();
    let who = iam_user(ACCOUNT, "/", "dana");

    let r = analyze_with(
        &support::source().await,
        &[dynamodb_get(10, &who, "orders")],
    )
    .await
    .remove(0);

    let pretty = serde_json::to_string_pretty(&r).unwrap();
    assert_eq!(assessment(&r), "Error", "{pretty}");
    assert!(r.to_string().contains("duplicate key `Effect`"), "{pretty}");
}
