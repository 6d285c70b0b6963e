//! Policies that cannot be read (a missing cross-account role, an unreadable caller account, a
//! VPC endpoint policy): what is certain is still reported, and nothing unread is ever claimed
//! as the cause.

use access_undenied::collect::aws::AwsSource;
use serde_json::{json, Value};

use super::{add, analyze_one, deny, expect_error, grant, own, role_with_policy};
use crate::support;
use crate::support::events::{iam_user, kms_event, s3_object, RecordExt};
use crate::support::run::{allow, analyze_with};
use crate::support::world::{policy, Acct};
use crate::support::{moto, Patched, Rule, ACCOUNT, OTHER_ACCOUNT};

/// A key in the other account whose cross-account role is missing (AssumeRole is denied), and
/// a caller in ours whose own policies deny deleting keys. `(source, caller, deny statement, key)`.
async fn key_behind_a_missing_role() -> (AwsSource, String, Value, String) {
    let a = own().await;
    let user = a.user("olga", "/", &[]).await;
    let stmt = json!({"Sid": "NoKeyDeletion", "Effect": "Deny", "Action": "kms:ScheduleKeyDeletion", "Resource": "*"});
    a.user_policy(
        "olga",
        "kms",
        &policy(json!([allow("kms:*", "*"), stmt.clone()])),
    )
    .await;
    let b = Acct::new(OTHER_ACCOUNT).await;
    let key = b
        .key(&policy(json!([{"Sid": "EnableIAM", "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{OTHER_ACCOUNT}:root")}, "Action": "kms:*", "Resource": "*"}])))
        .await;
    // The cross-account role is missing in the key's account: AssumeRole is denied.
    let source = Patched::new(vec![Rule::Fail {
        action: "AssumeRole",
        status: 403,
        code: "AccessDenied",
        times: usize::MAX,
    }])
    .source(support::settings())
    .await;
    (source, user, stmt, key)
}

#[tokio::test]
async fn unreadable_cross_account_role_keeps_a_certain_explicit_deny() {
    let _env = moto().await;
    let (source, user, stmt, key) = key_behind_a_missing_role().await;
    let who = iam_user(ACCOUNT, "/", "olga");

    let r = analyze_with(
        &source,
        &[kms_event(
            58,
            &who,
            "ScheduleKeyDeletion",
            &key,
            OTHER_ACCOUNT,
            ACCOUNT,
        )],
    )
    .await
    .remove(0);

    // The identity policy's deny is certain and reported although the key policy is unknown.
    let pretty = serde_json::to_string_pretty(&r).unwrap();
    assert_eq!(
        r["AssessmentResult"],
        json!("Explicit deny in an identity-based policy"),
        "{pretty}"
    );
    assert_eq!(
        r["ResultDetails"]["ExplicitDenyPolicies"],
        json!([deny(&user, &format!("{user}/kms"), "kms", &stmt)]),
        "{pretty}"
    );
    assert!(
        r["Unevaluated"].to_string().contains("sts:AssumeRole"),
        "{pretty}"
    );
}

#[tokio::test]
async fn unreadable_cross_account_role_is_never_a_false_missing_allow() {
    let _env = moto().await;
    let (source, _, _, key) = key_behind_a_missing_role().await;
    let who = iam_user(ACCOUNT, "/", "olga");

    let r = analyze_with(
        &source,
        &[kms_event(59, &who, "Decrypt", &key, OTHER_ACCOUNT, ACCOUNT)],
    )
    .await
    .remove(0);

    // The key policy could not be read: no claim that it lacks the grant.
    expect_error(&r, "inconclusive");
    assert!(
        r["Unevaluated"].to_string().contains("sts:AssumeRole"),
        "{r:#}"
    );
}

#[tokio::test]
async fn unreadable_identity_of_the_caller_is_never_a_false_cause() {
    let _env = moto().await;
    let a = own().await;
    let b = Acct::new(OTHER_ACCOUNT).await;
    let (role, who) = role_with_policy(
        &b,
        "Etl",
        "/",
        json!([allow("s3:GetObject", "*")]),
        "etl-run-46",
    )
    .await;
    let bucket = a.bucket("landing", None).await;
    let ev = s3_object(
        65,
        &who,
        "GetObject",
        "landing",
        "in/file.csv",
        ACCOUNT,
        OTHER_ACCOUNT,
    );
    // The caller's account cannot be entered: its identity policies are unknown.
    let source = Patched::new(vec![Rule::Fail {
        action: "AssumeRole",
        status: 403,
        code: "AccessDenied",
        times: usize::MAX,
    }])
    .source(support::settings())
    .await;

    let r = analyze_with(&source, &[ev]).await.remove(0);

    // The bucket certainly lacks the grant (it has no policy); nothing is claimed about the
    // identity side or a boundary, which could not be read.
    let pretty = serde_json::to_string_pretty(&r).unwrap();
    assert_eq!(
        r["AssessmentResult"],
        json!("Missing allow in a resource-based policy in cross-account access"),
        "{pretty}"
    );
    assert_eq!(
        r["AllReasons"],
        json!(["Missing allow in a resource-based policy in cross-account access"]),
        "{pretty}"
    );
    assert_eq!(
        r["ResultDetails"]["PoliciesToAdd"],
        json!([add(
            &bucket,
            grant(&role, "s3:GetObject", "arn:aws:s3:::landing/in/file.csv")
        )]),
        "{pretty}"
    );
}

#[tokio::test]
async fn unreadable_vpc_endpoint_policy_is_never_a_false_cause() {
    let _env = moto().await;
    let a = own().await;
    a.user("pat", "/", &[]).await;
    a.user_policy("pat", "s3", &policy(json!([allow("s3:*", "*")])))
        .await;
    a.bucket("internal", None).await;
    let who = iam_user(ACCOUNT, "/", "pat");
    let ev = s3_object(
        60,
        &who,
        "GetObject",
        "internal",
        "doc.txt",
        ACCOUNT,
        ACCOUNT,
    )
    .set("vpcEndpointId", json!("vpce-0a1b2c3d4e5f67890"))
    .set("sourceIPAddress", json!("10.0.12.34"));

    let r = analyze_one(ev).await;

    expect_error(&r, "vpce-0a1b2c3d4e5f67890");
}
