//! Identity-based policies: inline and managed policies of users, roles and groups (an explicit
//! deny names the group that carries it), and the missing allow whose fix goes to the caller,
//! on resources with or without their own policy.

use serde_json::json;

use super::{
    add, analyze_one, deny, dynamodb, expect, instance, invoke, own, role_with_policy,
    secret_event, stop_instances, table,
};
use crate::support::events::{
    event_id, iam_user, message, record, role_session, s3_object, RecordExt,
};
use crate::support::run::allow;
use crate::support::world::{policy, trust};
use crate::support::{moto, ACCOUNT};

#[tokio::test]
async fn identity_user_inline_explicit_deny() {
    let _env = moto().await;
    let a = own().await;
    let user = a.user("alice", "/dev/", &[]).await;
    a.user_policy(
        "alice",
        "dynamodb-access",
        &policy(json!([allow("dynamodb:*", "*")])),
    )
    .await;
    let stmt = json!({"Sid": "NoTableDeletes", "Effect": "Deny", "Action": "dynamodb:DeleteTable", "Resource": "*"});
    a.user_policy("alice", "protect-tables", &policy(json!([stmt.clone()])))
        .await;
    let who = iam_user(ACCOUNT, "/dev/", "alice");
    let ev = dynamodb(1, &who, "DeleteTable", "orders", ACCOUNT).msg(message(
        &who,
        "dynamodb:DeleteTable",
        &table(ACCOUNT, "orders"),
        "with an explicit deny in an identity-based policy",
    ));

    let r = analyze_one(ev).await;

    expect(
        &r,
        "Explicit deny in an identity-based policy",
        json!([deny(
            &user,
            &format!("{user}/protect-tables"),
            "protect-tables",
            &stmt
        )]),
        json!([]),
        Some(true),
    );
    assert_eq!(r["EventId"], json!(event_id(1)));
}

#[tokio::test]
async fn identity_user_missing_allow() {
    let _env = moto().await;
    let a = own().await;
    let user = a.user("bob", "/", &[]).await;
    a.user_policy(
        "bob",
        "query-only",
        &policy(json!([allow("dynamodb:Query", "*")])),
    )
    .await;
    let who = iam_user(ACCOUNT, "/", "bob");
    let ev = dynamodb(2, &who, "GetItem", "orders", ACCOUNT).msg(message(
        &who,
        "dynamodb:GetItem",
        &table(ACCOUNT, "orders"),
        "because no identity-based policy allows the dynamodb:GetItem action",
    ));

    let r = analyze_one(ev).await;

    expect(
        &r,
        "Missing allow in an identity-based policy",
        json!([]),
        json!([add(
            &user,
            allow("dynamodb:GetItem", &table(ACCOUNT, "orders"))
        )]),
        Some(true),
    );
}

#[tokio::test]
async fn identity_role_managed_policy_explicit_deny() {
    let _env = moto().await;
    let a = own().await;
    let (role, id) = a
        .role_with_id("Reporter", "/app/", &trust("*"), None, &[])
        .await;
    let full = a
        .managed("S3FullAccess", &policy(json!([allow("s3:*", "*")])))
        .await;
    let stmt = json!({"Sid": "NoDeletes", "Effect": "Deny", "Action": ["s3:DeleteObject", "s3:DeleteBucket"], "Resource": "*"});
    let guard = a
        .managed("DenyDestructive", &policy(json!([stmt.clone()])))
        .await;
    a.attach_role("Reporter", &full).await;
    a.attach_role("Reporter", &guard).await;
    a.bucket("reports", None).await;
    let who = role_session(ACCOUNT, "/app/", "Reporter", &id, "nightly-job", false);
    let ev = s3_object(
        3,
        &who,
        "DeleteObject",
        "reports",
        "2026/11/summary.pdf",
        ACCOUNT,
        ACCOUNT,
    );

    let r = analyze_one(ev).await;

    expect(
        &r,
        "Explicit deny in an identity-based policy",
        json!([deny(&role, &guard, "DenyDestructive", &stmt)]),
        json!([]),
        Some(true),
    );
}

#[tokio::test]
async fn identity_group_inline_explicit_deny_targets_the_group() {
    let _env = moto().await;
    let a = own().await;
    a.user("carol", "/people/", &[]).await;
    a.user_policy(
        "carol",
        "secrets",
        &policy(json!([allow("secretsmanager:*", "*")])),
    )
    .await;
    let group = a.group("analysts", "/teams/", &["carol"]).await;
    let stmt = json!({"Sid": "NoSecretValues", "Effect": "Deny", "Action": "secretsmanager:GetSecretValue", "Resource": "*"});
    a.group_policy("analysts", "no-secrets", &policy(json!([stmt.clone()])))
        .await;
    let secret = a.secret("prod/db-password", None).await;
    let who = iam_user(ACCOUNT, "/people/", "carol");
    let ev = record(
        4,
        &who,
        "secretsmanager.amazonaws.com",
        "GetSecretValue",
        json!({"secretId": secret}),
        ACCOUNT,
    )
    .msg(message(
        &who,
        "secretsmanager:GetSecretValue",
        &secret,
        "with an explicit deny in an identity-based policy",
    ));

    let r = analyze_one(ev).await;

    assert!(group.contains(":group/teams/analysts"), "{group}");
    expect(
        &r,
        "Explicit deny in an identity-based policy",
        json!([deny(
            &group,
            &format!("{group}/no-secrets"),
            "no-secrets",
            &stmt
        )]),
        json!([]),
        Some(true),
    );
}

#[tokio::test]
async fn identity_group_managed_explicit_deny_targets_the_group() {
    let _env = moto().await;
    let a = own().await;
    a.user("dave", "/", &[]).await;
    let ops = a
        .managed("EC2Operator", &policy(json!([allow("ec2:*", "*")])))
        .await;
    a.attach_user("dave", &ops).await;
    let group = a.group("contractors", "/", &["dave"]).await;
    let stmt = json!({"Sid": "NoInstanceChanges", "Effect": "Deny",
                      "Action": ["ec2:StopInstances", "ec2:TerminateInstances"], "Resource": "*"});
    let guard = a
        .managed("ContractorGuard", &policy(json!([stmt.clone()])))
        .await;
    a.attach_group("contractors", &guard).await;
    let who = iam_user(ACCOUNT, "/", "dave");

    let r = analyze_one(stop_instances(
        5,
        &who,
        ACCOUNT,
        "i-0abc1234def567890",
        "with an explicit deny in an identity-based policy.",
    ))
    .await;

    expect(
        &r,
        "Explicit deny in an identity-based policy",
        json!([deny(&group, &guard, "ContractorGuard", &stmt)]),
        json!([]),
        Some(true),
    );
}

#[tokio::test]
async fn identity_role_with_path_missing_allow_on_a_queue_without_policy() {
    let _env = moto().await;
    let a = own().await;
    let (queue, url) = a.queue("builds", None).await;
    let (role, who) = role_with_policy(
        &a,
        "Runner",
        "/service/ci/",
        json!([allow("sqs:ReceiveMessage", &queue)]),
        "i-0f00ba4",
    )
    .await;
    let ev = record(
        6,
        &who,
        "sqs.amazonaws.com",
        "SendMessage",
        json!({"queueUrl": url, "messageBody": "HIDDEN_DUE_TO_SECURITY_REASONS"}),
        ACCOUNT,
    );

    let r = analyze_one(ev).await;

    assert!(role.ends_with(":role/service/ci/Runner"), "{role}");
    expect(
        &r,
        "Missing allow in an identity-based policy",
        json!([]),
        json!([add(&role, allow("sqs:SendMessage", &queue))]),
        Some(true),
    );
}

#[tokio::test]
async fn s3_same_account_object_missing_identity_allow() {
    let _env = moto().await;
    let a = own().await;
    let user = a.user("frank", "/", &[]).await;
    a.user_policy(
        "frank",
        "read-media",
        &policy(json!([allow("s3:GetObject", "arn:aws:s3:::media/*")])),
    )
    .await;
    a.bucket("media", None).await;
    let who = iam_user(ACCOUNT, "/", "frank");
    let ev = s3_object(
        14,
        &who,
        "PutObject",
        "media",
        "uploads/cat.png",
        ACCOUNT,
        ACCOUNT,
    );

    let r = analyze_one(ev).await;

    expect(
        &r,
        "Missing allow in an identity-based policy",
        json!([]),
        json!([add(
            &user,
            allow("s3:PutObject", "arn:aws:s3:::media/uploads/cat.png")
        )]),
        Some(true),
    );
}

#[tokio::test]
async fn lambda_same_account_missing_identity_allow() {
    let _env = moto().await;
    let a = own().await;
    let user = a.user("gina", "/", &[]).await;
    a.user_policy(
        "gina",
        "read",
        &policy(json!([allow("lambda:GetFunction", "*")])),
    )
    .await;
    let function = a
        .function(
            "report",
            &[("schedule", "events.amazonaws.com", "lambda:InvokeFunction")],
        )
        .await;
    let who = iam_user(ACCOUNT, "/", "gina");
    let ev = invoke(25, &who, "report", ACCOUNT);

    let r = analyze_one(ev).await;

    expect(
        &r,
        "Missing allow in an identity-based policy",
        json!([]),
        json!([add(&user, allow("lambda:InvokeFunction", &function))]),
        Some(true),
    );
}

// Formerly a known gap of the pipeline (fixed).
#[tokio::test]
async fn ec2_instance_from_the_instances_set_of_an_encoded_only_message() {
    let _env = moto().await;
    let a = own().await;
    let (role, who) =
        role_with_policy(&a, "Ops", "/", json!([allow("ec2:Describe*", "*")]), "ops").await;
    let ev = record(
        66,
        &who,
        "ec2.amazonaws.com",
        "StopInstances",
        json!({"instancesSet": {"items": [{"instanceId": "i-0abc1234def567890"}]}, "force": false}),
        ACCOUNT,
    )
    .msg(
        "You are not authorized to perform this operation. Encoded authorization failure message: \
          4nK0bExampleEncodedMessageOnlyStsCanDecode"
            .into(),
    );

    let r = analyze_one(ev).await;

    expect(
        &r,
        "Missing allow in an identity-based policy",
        json!([]),
        json!([add(
            &role,
            allow(
                "ec2:StopInstances",
                &instance(ACCOUNT, "i-0abc1234def567890")
            )
        )]),
        Some(true),
    );
}

// Formerly a known gap of the pipeline (fixed).
#[tokio::test]
async fn secret_named_without_its_suffix_gets_a_fix_for_its_full_arn() {
    let _env = moto().await;
    let a = own().await;
    let (role, who) = role_with_policy(
        &a,
        "App",
        "/",
        json!([allow("secretsmanager:ListSecrets", "*")]),
        "app-3",
    )
    .await;
    let secret = a.secret("by-name", None).await;
    let ev = secret_event(70, &who, "GetSecretValue", "by-name", ACCOUNT);

    let r = analyze_one(ev).await;

    expect(
        &r,
        "Missing allow in an identity-based policy",
        json!([]),
        json!([add(&role, allow("secretsmanager:GetSecretValue", &secret))]),
        Some(true),
    );
}
