//! End to end against moto: each scenario builds its world through the AWS APIs (IAM, an
//! organization with SCPs and RCPs, resources with their policies, second and third accounts
//! reached by `sts:AssumeRole`), writes the CloudTrail access-denied record AWS would write, runs
//! the real pipeline (`AwsSource` + `diagnose_item`, or the CLI binary) and checks the
//! CONTRACT.md result: `AssessmentResult`, `ExplicitDenyPolicies`, `PoliciesToAdd`,
//! `FixVerified`.
//!
//! moto is reset between scenarios (`support::moto()`). Also here: the snapshot round trip,
//! `get-scps` + `analyze --scp-file`, the API-call benchmark (`#[ignore]`d; run by
//! `scripts/bench-calls`), and `#[ignore]`d reproductions of known pipeline gaps (each says
//! why; `cargo test --test it analyze_moto -- --ignored` runs them).

use std::process::{Command, Output};

use access_undenied::app::diagnose_item;
use access_undenied::collect::aws::AwsSource;
use access_undenied::collect::snapshot::{Recording, Snapshot, SnapshotSource};
use access_undenied::collect::PolicySource;
use serde_json::{json, Value};

use crate::support;
use crate::support::events::{
    aws_account, console_user, event_id, iam_user, kms_event, message, record, role_session,
    s3_object, RecordExt,
};
use crate::support::run::{allow, analyze_with, items};
use crate::support::world::{policy, trust, Acct, Node, Org};
use crate::support::{moto, Patched, Rule, ACCOUNT, OTHER_ACCOUNT, REGION};

/// The third account of the scenarios (outside any organization).
const THIRD_ACCOUNT: &str = "333333333333";

// ---------------------------------------------------------------- running and checking

/// Diagnoses with the AWS adapter on moto (the environment's credentials).
async fn analyze(records: &[Value]) -> Vec<Value> {
    analyze_with(&support::source().await, records).await
}

async fn analyze_one(record: Value) -> Value {
    let mut results = analyze(&[record]).await;
    assert_eq!(results.len(), 1, "{results:#?}");
    results.remove(0)
}

/// Checks the contract's fields of one result.
#[track_caller]
fn expect(r: &Value, assessment: &str, denies: Value, adds: Value, fix_verified: Option<bool>) {
    let pretty = serde_json::to_string_pretty(r).unwrap();
    assert_eq!(r["AssessmentResult"], json!(assessment), "{pretty}");
    assert_eq!(
        r["ResultDetails"]["ExplicitDenyPolicies"], denies,
        "ExplicitDenyPolicies of {pretty}"
    );
    assert_eq!(
        r["ResultDetails"]["PoliciesToAdd"], adds,
        "PoliciesToAdd of {pretty}"
    );
    assert_eq!(
        r.get("FixVerified").cloned(),
        fix_verified.map(Value::from),
        "FixVerified of {pretty}"
    );
    // The error messages of the scenarios say what the engine finds.
    assert_eq!(r.get("HintDisagreement"), None, "{pretty}");
}

/// An `Allowed` result (the policies as they are now allow the request).
#[track_caller]
fn expect_allowed(r: &Value) {
    expect(r, "Allowed", json!([]), json!([]), None);
    assert!(
        r["ErrorMessage"].as_str().is_some_and(|m| !m.is_empty()),
        "{r:#}"
    );
}

/// An `Error` result whose message contains `needle`.
#[track_caller]
fn expect_error(r: &Value, needle: &str) {
    let pretty = serde_json::to_string_pretty(r).unwrap();
    assert_eq!(r["AssessmentResult"], json!("Error"), "{pretty}");
    let msg = r["ErrorMessage"].as_str().unwrap_or_default();
    assert!(msg.contains(needle), "`{needle}` not in {pretty}");
}

/// `ExplicitDenyPolicies[]` entry.
fn deny(target: &str, policy_arn: &str, name: &str, statement: &Value) -> Value {
    json!({
        "AttachmentTargetArn": target,
        "PolicyArn": policy_arn,
        "PolicyName": name,
        "PolicyStatement": statement
    })
}

/// `PoliciesToAdd[]` entry with one statement.
fn add(target: &str, statement: Value) -> Value {
    json!({
        "AttachmentTargetArn": target,
        "Policy": {"Version": "2012-10-17", "Statement": [statement]}
    })
}

fn grant(principal: &str, action: &str, resource: &str) -> Value {
    json!({"Effect": "Allow", "Principal": {"AWS": principal}, "Action": action, "Resource": resource})
}

/// A role in `acct` with one inline policy; `(arn, userIdentity of a session)`.
async fn role_with_policy(
    acct: &Acct,
    name: &str,
    path: &str,
    statements: Value,
    session: &str,
) -> (String, Value) {
    let (arn, id) = acct.role_with_id(name, path, &trust("*"), None, &[]).await;
    acct.role_policy(name, &format!("{name}-access"), &policy(statements))
        .await;
    (arn, role_session(&acct.id, path, name, &id, session, false))
}

async fn own() -> Acct {
    Acct::new(ACCOUNT).await
}

fn table(account: &str, name: &str) -> String {
    format!("arn:aws:dynamodb:{REGION}:{account}:table/{name}")
}

fn dynamodb(n: u32, who: &Value, event: &str, table_name: &str, account: &str) -> Value {
    record(
        n,
        who,
        "dynamodb.amazonaws.com",
        event,
        json!({"tableName": table_name, "key": {"pk": {"S": "order#1"}}}),
        account,
    )
}

/// An EC2 `StopInstances` denial. EC2 writes the plain-text reason before the encoded message.
fn stop_instances(n: u32, who: &Value, account: &str, instance_id: &str, because: &str) -> Value {
    let resource = instance(account, instance_id);
    record(
        n,
        who,
        "ec2.amazonaws.com",
        "StopInstances",
        json!({"instancesSet": {"items": [{"instanceId": instance_id}]}, "force": false}),
        account,
    )
    .msg(format!(
        "You are not authorized to perform this operation. {} Encoded authorization failure message: \
         4nK0bExampleEncodedMessageOnlyStsCanDecode",
        message(who, "ec2:StopInstances", &resource, because)
    ))
}

fn instance(account: &str, id: &str) -> String {
    format!("arn:aws:ec2:{REGION}:{account}:instance/{id}")
}

// ================================================================ identity-based policies

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

// ================================================================ permissions boundaries

#[tokio::test]
async fn boundary_of_a_role_missing_allow() {
    let _env = moto().await;
    let a = own().await;
    let boundary = a
        .managed(
            "DevBoundary",
            &policy(json!([allow("s3:*", "*"), allow("cloudwatch:*", "*")])),
        )
        .await;
    let (role, id) = a
        .role_with_id("Builder", "/dev/", &trust("*"), Some(&boundary), &[])
        .await;
    a.role_policy(
        "Builder",
        "tables",
        &policy(json!([allow("dynamodb:*", "*")])),
    )
    .await;
    let who = role_session(ACCOUNT, "/dev/", "Builder", &id, "build-991", false);
    let ev = dynamodb(7, &who, "PutItem", "events", ACCOUNT).msg(message(
        &who,
        "dynamodb:PutItem",
        &table(ACCOUNT, "events"),
        "because no permissions boundary allows the dynamodb:PutItem action",
    ));

    let r = analyze_one(ev).await;

    assert!(role.contains(":role/dev/Builder"));
    expect(
        &r,
        "Missing allow in a permissions boundary policy",
        json!([]),
        json!([add(
            &boundary,
            allow("dynamodb:PutItem", &table(ACCOUNT, "events"))
        )]),
        Some(true),
    );
}

#[tokio::test]
async fn boundary_of_a_role_explicit_deny() {
    let _env = moto().await;
    let a = own().await;
    let stmt = json!({"Sid": "NoIamWrites", "Effect": "Deny",
                      "Action": ["iam:CreateUser", "iam:AttachRolePolicy", "iam:PutRolePolicy"], "Resource": "*"});
    let boundary = a
        .managed(
            "GuardrailBoundary",
            &policy(json!([
                {"Sid": "AllowAll", "Effect": "Allow", "Action": "*", "Resource": "*"},
                stmt.clone()
            ])),
        )
        .await;
    let (role, id) = a
        .role_with_id("Platform", "/", &trust("*"), Some(&boundary), &[])
        .await;
    a.role_policy("Platform", "iam", &policy(json!([allow("iam:*", "*")])))
        .await;
    let who = role_session(ACCOUNT, "/", "Platform", &id, "maria", false);
    let ev = record(
        8,
        &who,
        "iam.amazonaws.com",
        "AttachRolePolicy",
        json!({"roleName": "orders-api-role", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}),
        ACCOUNT,
    )
    .msg(message(
        &who,
        "iam:AttachRolePolicy",
        "role orders-api-role",
        "with an explicit deny in a permissions boundary",
    ));

    let r = analyze_one(ev).await;

    expect(
        &r,
        "Explicit deny in a permissions boundary policy",
        json!([deny(&role, &boundary, "GuardrailBoundary", &stmt)]),
        json!([]),
        Some(true),
    );
}

#[tokio::test]
async fn boundary_of_a_user_missing_allow() {
    // moto has no user boundaries: GetUser answers are patched to carry one (support::Patched).
    let _env = moto().await;
    let a = own().await;
    let boundary = a
        .managed("ReadOnlyBoundary", &policy(json!([allow("s3:Get*", "*")])))
        .await;
    a.user("erin", "/", &[]).await;
    a.user_policy("erin", "s3", &policy(json!([allow("s3:*", "*")])))
        .await;
    a.bucket("uploads", None).await;
    let who = iam_user(ACCOUNT, "/", "erin");
    let ev = s3_object(
        9,
        &who,
        "PutObject",
        "uploads",
        "erin/photo.jpg",
        ACCOUNT,
        ACCOUNT,
    );
    let source = Patched::new(vec![Rule::UserBoundary(boundary.clone())])
        .source(support::settings())
        .await;

    let r = analyze_with(&source, &[ev]).await.remove(0);

    expect(
        &r,
        "Missing allow in a permissions boundary policy",
        json!([]),
        json!([add(
            &boundary,
            allow("s3:PutObject", "arn:aws:s3:::uploads/erin/photo.jpg")
        )]),
        Some(true),
    );
}

// ================================================================ S3

#[tokio::test]
async fn s3_bucket_policy_explicit_deny_on_an_object() {
    let _env = moto().await;
    let a = own().await;
    let (_, who) = role_with_policy(
        &a,
        "Reader",
        "/app/",
        json!([allow("s3:GetObject", "*")]),
        "web-1",
    )
    .await;
    let stmt = json!({"Sid": "OnlyFinance", "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
                      "Resource": "arn:aws:s3:::payroll/*",
                      "Condition": {"StringNotLike": {"aws:PrincipalArn": format!("arn:aws:iam::{ACCOUNT}:role/finance/*")}}});
    let bucket = a
        .bucket("payroll", Some(&policy(json!([stmt.clone()]))))
        .await;
    let ev = s3_object(
        10,
        &who,
        "GetObject",
        "payroll",
        "2026/11/salaries.csv",
        ACCOUNT,
        ACCOUNT,
    );

    let r = analyze_one(ev).await;

    expect(
        &r,
        "Explicit deny in a resource-based policy",
        json!([deny(
            &bucket,
            &format!("{bucket}/S3BucketPolicy"),
            "S3BucketPolicy",
            &stmt
        )]),
        json!([]),
        Some(true),
    );
}

#[tokio::test]
async fn s3_cross_account_object_missing_bucket_grant() {
    let _env = moto().await;
    let a = own().await;
    let b = Acct::new(OTHER_ACCOUNT).await;
    let (role, who) = role_with_policy(
        &b,
        "Etl",
        "/",
        json!([allow("s3:GetObject", "arn:aws:s3:::shared-data/*")]),
        "etl-run-42",
    )
    .await;
    let other_role = format!("arn:aws:iam::{OTHER_ACCOUNT}:role/Reporting");
    let bucket = a
        .bucket(
            "shared-data",
            Some(&policy(json!([{"Sid": "Reporting", "Effect": "Allow",
                "Principal": {"AWS": other_role}, "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::shared-data/*"}]))),
        )
        .await;
    let ev = s3_object(
        11,
        &who,
        "GetObject",
        "shared-data",
        "exports/2026-11-20.parquet",
        ACCOUNT,
        OTHER_ACCOUNT,
    );

    let r = analyze_one(ev).await;

    expect(
        &r,
        "Missing allow in a resource-based policy in cross-account access",
        json!([]),
        json!([add(
            &bucket,
            grant(
                &role,
                "s3:GetObject",
                "arn:aws:s3:::shared-data/exports/2026-11-20.parquet"
            )
        )]),
        Some(true),
    );
}

#[tokio::test]
async fn s3_cross_account_both_allows_missing() {
    let _env = moto().await;
    let a = own().await;
    let b = Acct::new(OTHER_ACCOUNT).await;
    let (role, who) = role_with_policy(
        &b,
        "Etl",
        "/",
        json!([allow("dynamodb:*", "*")]),
        "etl-run-43",
    )
    .await;
    let bucket = a.bucket("partner-drop", None).await;
    let object = "arn:aws:s3:::partner-drop/inbound/batch-0042.csv";
    let ev = s3_object(
        12,
        &who,
        "PutObject",
        "partner-drop",
        "inbound/batch-0042.csv",
        ACCOUNT,
        OTHER_ACCOUNT,
    );

    let r = analyze_one(ev).await;

    expect(
        &r,
        "Missing allows in an identity-based and a resource-based policy in cross-account access",
        json!([]),
        json!([
            add(&bucket, grant(&role, "s3:PutObject", object)),
            add(&role, allow("s3:PutObject", object))
        ]),
        Some(true),
    );
}

#[tokio::test]
async fn s3_cross_account_list_bucket_from_a_third_account_user() {
    let _env = moto().await;
    let a = own().await;
    let c = Acct::new(THIRD_ACCOUNT).await;
    let user = c.user("auditor", "/audit/", &[]).await;
    c.user_policy(
        "auditor",
        "list",
        &policy(json!([allow("s3:ListBucket", "*")])),
    )
    .await;
    let bucket = a
        .bucket(
            "logs-archive",
            Some(&policy(json!([{"Sid": "AuditRead", "Effect": "Allow",
                "Principal": {"AWS": format!("arn:aws:iam::{THIRD_ACCOUNT}:root")},
                "Action": "s3:GetObject", "Resource": "arn:aws:s3:::logs-archive/*"}]))),
        )
        .await;
    let who = iam_user(THIRD_ACCOUNT, "/audit/", "auditor");
    let ev = record(
        13,
        &who,
        "s3.amazonaws.com",
        "ListObjects",
        json!({"bucketName": "logs-archive", "prefix": "2026/", "Host": "logs-archive.s3.us-east-1.amazonaws.com"}),
        THIRD_ACCOUNT,
    )
    .set(
        "resources",
        json!([{"accountId": ACCOUNT, "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::logs-archive"}]),
    );

    let r = analyze_one(ev).await;

    expect(
        &r,
        "Missing allow in a resource-based policy in cross-account access",
        json!([]),
        json!([add(&bucket, grant(&user, "s3:ListBucket", &bucket))]),
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

// ================================================================ KMS

#[tokio::test]
async fn kms_key_policy_missing_allow_same_account() {
    let _env = moto().await;
    let a = own().await;
    let (role, who) = role_with_policy(
        &a,
        "Billing",
        "/",
        json!([allow("kms:Decrypt", "*")]),
        "invoice-7",
    )
    .await;
    let key = a
        .key(&policy(json!([{"Sid": "KeyAdmins", "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:role/KeyAdmin")},
            "Action": "kms:*", "Resource": "*"}])))
        .await;
    let ev = kms_event(15, &who, "Decrypt", &key, ACCOUNT, ACCOUNT).msg(message(
        &who,
        "kms:Decrypt",
        &key,
        "because no resource-based policy allows the kms:Decrypt action",
    ));

    let r = analyze_one(ev).await;

    expect(
        &r,
        "Missing allow in a resource-based policy",
        json!([]),
        json!([add(&key, grant(&role, "kms:Decrypt", &key))]),
        Some(true),
    );
}

#[tokio::test]
async fn kms_key_policy_explicit_deny() {
    let _env = moto().await;
    let a = own().await;
    a.user("kmsadmin", "/", &[]).await;
    a.user_policy("kmsadmin", "admin", &policy(json!([allow("*", "*")])))
        .await;
    let stmt = json!({"Sid": "NoDeletion", "Effect": "Deny", "Principal": "*",
                      "Action": ["kms:ScheduleKeyDeletion", "kms:DisableKey"], "Resource": "*"});
    let key = a
        .key(&policy(json!([
            {"Sid": "EnableIAM", "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")},
             "Action": "kms:*", "Resource": "*"},
            stmt.clone()
        ])))
        .await;
    let who = iam_user(ACCOUNT, "/", "kmsadmin");
    let ev = kms_event(16, &who, "ScheduleKeyDeletion", &key, ACCOUNT, ACCOUNT);

    let r = analyze_one(ev).await;

    expect(
        &r,
        "Explicit deny in a resource-based policy",
        json!([deny(
            &key,
            &format!("{key}/KMSKeyPolicy"),
            "KMSKeyPolicy",
            &stmt
        )]),
        json!([]),
        Some(true),
    );
}

#[tokio::test]
async fn kms_cross_account_missing_key_policy_grant() {
    let _env = moto().await;
    let a = own().await;
    let b = Acct::new(OTHER_ACCOUNT).await;
    let (role, who) = role_with_policy(
        &b,
        "Etl",
        "/",
        json!([allow("kms:Decrypt", "*")]),
        "etl-run-44",
    )
    .await;
    let key = a
        .key(&policy(json!([{"Sid": "EnableIAM", "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}, "Action": "kms:*", "Resource": "*"}])))
        .await;
    let ev = kms_event(17, &who, "Decrypt", &key, ACCOUNT, OTHER_ACCOUNT);

    let r = analyze_one(ev).await;

    expect(
        &r,
        "Missing allow in a resource-based policy in cross-account access",
        json!([]),
        json!([add(&key, grant(&role, "kms:Decrypt", &key))]),
        Some(true),
    );
}

// ================================================================ Secrets Manager

fn secret_event(n: u32, who: &Value, name: &str, secret: &str, recipient: &str) -> Value {
    record(
        n,
        who,
        "secretsmanager.amazonaws.com",
        name,
        json!({"secretId": secret}),
        recipient,
    )
}

#[tokio::test]
async fn secrets_manager_cross_account_missing_grant() {
    let _env = moto().await;
    let a = own().await;
    let b = Acct::new(OTHER_ACCOUNT).await;
    let (role, who) = role_with_policy(
        &b,
        "Etl",
        "/",
        json!([allow("secretsmanager:GetSecretValue", "*")]),
        "etl-run-45",
    )
    .await;
    let secret = a
        .secret(
            "prod/warehouse",
            Some(&policy(json!([{"Sid": "Reporting", "Effect": "Allow",
                "Principal": {"AWS": format!("arn:aws:iam::{OTHER_ACCOUNT}:role/Reporting")},
                "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]))),
        )
        .await;
    let ev = secret_event(18, &who, "GetSecretValue", &secret, OTHER_ACCOUNT);

    let r = analyze_one(ev).await;

    expect(
        &r,
        "Missing allow in a resource-based policy in cross-account access",
        json!([]),
        json!([add(
            &secret,
            grant(&role, "secretsmanager:GetSecretValue", &secret)
        )]),
        Some(true),
    );
}

#[tokio::test]
async fn secrets_manager_resource_policy_explicit_deny() {
    let _env = moto().await;
    let a = own().await;
    let (_, who) = role_with_policy(
        &a,
        "Web",
        "/app/",
        json!([allow("secretsmanager:*", "*")]),
        "web-2",
    )
    .await;
    let stmt = json!({"Sid": "OnlyDeployer", "Effect": "Deny", "Principal": {"AWS": "*"},
                      "Action": "secretsmanager:GetSecretValue", "Resource": "*",
                      "Condition": {"ArnNotEquals": {"aws:PrincipalArn": format!("arn:aws:iam::{ACCOUNT}:role/Deployer")}}});
    let secret = a
        .secret("api-key", Some(&policy(json!([stmt.clone()]))))
        .await;
    let ev = secret_event(19, &who, "GetSecretValue", &secret, ACCOUNT);

    let r = analyze_one(ev).await;

    expect(
        &r,
        "Explicit deny in a resource-based policy",
        json!([deny(
            &secret,
            &format!("{secret}/SecretResourcePolicy"),
            "SecretResourcePolicy",
            &stmt
        )]),
        json!([]),
        Some(true),
    );
}

// ================================================================ SQS and SNS

#[tokio::test]
async fn sqs_cross_account_missing_queue_grant() {
    let _env = moto().await;
    let a = own().await;
    let b = Acct::new(OTHER_ACCOUNT).await;
    let (role, who) = role_with_policy(
        &b,
        "Producer",
        "/",
        json!([allow("sqs:SendMessage", "*")]),
        "producer-1",
    )
    .await;
    let (queue, url) = a
        .queue(
            "orders",
            Some(&policy(json!([{"Sid": "Partner", "Effect": "Allow",
                "Principal": {"AWS": format!("arn:aws:iam::{THIRD_ACCOUNT}:root")},
                "Action": "sqs:SendMessage",
                "Resource": format!("arn:aws:sqs:{REGION}:{ACCOUNT}:orders")}]))),
        )
        .await;
    let ev = record(
        20,
        &who,
        "sqs.amazonaws.com",
        "SendMessage",
        json!({"queueUrl": url, "messageBody": "HIDDEN_DUE_TO_SECURITY_REASONS"}),
        OTHER_ACCOUNT,
    );

    let r = analyze_one(ev).await;

    expect(
        &r,
        "Missing allow in a resource-based policy in cross-account access",
        json!([]),
        json!([add(&queue, grant(&role, "sqs:SendMessage", &queue))]),
        Some(true),
    );
}

#[tokio::test]
async fn sqs_queue_policy_explicit_deny() {
    let _env = moto().await;
    let a = own().await;
    a.user("ops", "/", &[]).await;
    a.user_policy("ops", "sqs", &policy(json!([allow("sqs:*", "*")])))
        .await;
    let queue_arn = format!("arn:aws:sqs:{REGION}:{ACCOUNT}:payments");
    let stmt = json!({"Sid": "NoPurge", "Effect": "Deny", "Principal": "*", "Action": "sqs:PurgeQueue", "Resource": queue_arn});
    let (queue, url) = a
        .queue("payments", Some(&policy(json!([stmt.clone()]))))
        .await;
    let who = iam_user(ACCOUNT, "/", "ops");
    let ev = record(
        21,
        &who,
        "sqs.amazonaws.com",
        "PurgeQueue",
        json!({"queueUrl": url}),
        ACCOUNT,
    );

    let r = analyze_one(ev).await;

    expect(
        &r,
        "Explicit deny in a resource-based policy",
        json!([deny(
            &queue,
            &format!("{queue}/SQSQueuePolicy"),
            "SQSQueuePolicy",
            &stmt
        )]),
        json!([]),
        Some(true),
    );
}

#[tokio::test]
async fn sns_cross_account_missing_topic_grant() {
    let _env = moto().await;
    let a = own().await;
    let b = Acct::new(OTHER_ACCOUNT).await;
    let (role, who) = role_with_policy(
        &b,
        "Monitor",
        "/",
        json!([allow("sns:Publish", "*")]),
        "alarm-forwarder",
    )
    .await;
    let topic_arn = format!("arn:aws:sns:{REGION}:{ACCOUNT}:alerts");
    let topic = a
        .topic(
            "alerts",
            Some(&policy(json!([{"Sid": "Owner", "Effect": "Allow",
                "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")},
                "Action": "sns:Publish", "Resource": topic_arn}]))),
        )
        .await;
    let ev = record(
        22,
        &who,
        "sns.amazonaws.com",
        "Publish",
        json!({"topicArn": topic, "message": "HIDDEN_DUE_TO_SECURITY_REASONS"}),
        OTHER_ACCOUNT,
    )
    .msg(message(
        &who,
        "SNS:Publish",
        &topic,
        "because no resource-based policy allows the SNS:Publish action",
    ));

    let r = analyze_one(ev).await;

    expect(
        &r,
        "Missing allow in a resource-based policy in cross-account access",
        json!([]),
        json!([add(&topic, grant(&role, "sns:Publish", &topic))]),
        Some(true),
    );
}

#[tokio::test]
async fn sns_topic_policy_explicit_deny() {
    let _env = moto().await;
    let a = own().await;
    let (_, who) = role_with_policy(&a, "App", "/", json!([allow("sns:*", "*")]), "app-1").await;
    let topic_arn = format!("arn:aws:sns:{REGION}:{ACCOUNT}:billing-events");
    let stmt = json!({"Sid": "NoSubscriptions", "Effect": "Deny", "Principal": "*", "Action": "sns:Subscribe", "Resource": topic_arn});
    let topic = a
        .topic(
            "billing-events",
            Some(&policy(json!([
                {"Sid": "Owner", "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")},
                 "Action": "sns:*", "Resource": topic_arn},
                stmt.clone()
            ]))),
        )
        .await;
    let ev = record(
        23,
        &who,
        "sns.amazonaws.com",
        "Subscribe",
        json!({"topicArn": topic, "protocol": "email", "endpoint": "finance@example.com"}),
        ACCOUNT,
    );

    let r = analyze_one(ev).await;

    expect(
        &r,
        "Explicit deny in a resource-based policy",
        json!([deny(
            &topic,
            &format!("{topic}/SNSTopicPolicy"),
            "SNSTopicPolicy",
            &stmt
        )]),
        json!([]),
        Some(true),
    );
}

// ================================================================ Lambda and ECR

fn invoke(n: u32, who: &Value, function: &str, recipient: &str) -> Value {
    record(
        n,
        who,
        "lambda.amazonaws.com",
        "Invoke",
        json!({"functionName": function, "invocationType": "RequestResponse"}),
        recipient,
    )
    .set("managementEvent", json!(false))
    .set("eventCategory", json!("Data"))
}

#[tokio::test]
async fn lambda_cross_account_missing_function_grant() {
    let _env = moto().await;
    let a = own().await;
    let b = Acct::new(OTHER_ACCOUNT).await;
    let (role, who) = role_with_policy(
        &b,
        "Uploader",
        "/",
        json!([allow("lambda:InvokeFunction", "*")]),
        "uploader-3",
    )
    .await;
    let function = a
        .function(
            "resize",
            &[("s3-trigger", "s3.amazonaws.com", "lambda:InvokeFunction")],
        )
        .await;
    let ev = invoke(24, &who, &function, OTHER_ACCOUNT);

    let r = analyze_one(ev).await;

    expect(
        &r,
        "Missing allow in a resource-based policy in cross-account access",
        json!([]),
        json!([add(
            &function,
            grant(&role, "lambda:InvokeFunction", &function)
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

#[tokio::test]
async fn ecr_cross_account_missing_repository_grant() {
    let _env = moto().await;
    let a = own().await;
    let b = Acct::new(OTHER_ACCOUNT).await;
    let (role, who) =
        role_with_policy(&b, "Ci", "/", json!([allow("ecr:*", "*")]), "build-77").await;
    let repo = a
        .repository(
            "team/app",
            Some(&policy(json!([{"Sid": "Pull", "Effect": "Allow",
                "Principal": {"AWS": format!("arn:aws:iam::{THIRD_ACCOUNT}:root")},
                "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]}]))),
        )
        .await;
    let ev = record(
        26,
        &who,
        "ecr.amazonaws.com",
        "BatchGetImage",
        json!({"repositoryName": "team/app", "registryId": ACCOUNT,
               "imageIds": [{"imageTag": "1.4.2"}],
               "acceptedMediaTypes": ["application/vnd.docker.distribution.manifest.v2+json"]}),
        OTHER_ACCOUNT,
    )
    .set("resources", json!([{"accountId": ACCOUNT, "ARN": repo}]));

    let r = analyze_one(ev).await;

    expect(
        &r,
        "Missing allow in a resource-based policy in cross-account access",
        json!([]),
        json!([add(&repo, grant(&role, "ecr:BatchGetImage", &repo))]),
        Some(true),
    );
}

#[tokio::test]
async fn ecr_repository_policy_explicit_deny() {
    let _env = moto().await;
    let a = own().await;
    let (_, who) = role_with_policy(&a, "Ci", "/", json!([allow("ecr:*", "*")]), "build-78").await;
    let stmt = json!({"Sid": "Immutable", "Effect": "Deny", "Principal": "*",
                      "Action": ["ecr:BatchDeleteImage", "ecr:PutImage"]});
    let repo = a
        .repository("base-images", Some(&policy(json!([stmt.clone()]))))
        .await;
    let ev = record(
        27,
        &who,
        "ecr.amazonaws.com",
        "BatchDeleteImage",
        json!({"repositoryName": "base-images", "registryId": ACCOUNT, "imageIds": [{"imageTag": "v1"}]}),
        ACCOUNT,
    );

    let r = analyze_one(ev).await;

    expect(
        &r,
        "Explicit deny in a resource-based policy",
        json!([deny(
            &repo,
            &format!("{repo}/ECRRepositoryResourcePolicy"),
            "ECRRepositoryResourcePolicy",
            &stmt
        )]),
        json!([]),
        Some(true),
    );
}

// ================================================================ role trust policies

fn assume_role(n: u32, who: &Value, role: &str, recipient: &str) -> Value {
    let account = role.split(':').nth(4).unwrap_or_default().to_string();
    record(
        n,
        who,
        "sts.amazonaws.com",
        "AssumeRole",
        json!({"roleArn": role, "roleSessionName": "deploy-2026-11-20", "durationSeconds": 3600}),
        recipient,
    )
    .set(
        "resources",
        json!([{"accountId": account, "type": "AWS::IAM::Role", "ARN": role}]),
    )
}

#[tokio::test]
async fn role_trust_missing_allow_same_account() {
    let _env = moto().await;
    let a = own().await;
    let (caller, who) = role_with_policy(
        &a,
        "App",
        "/",
        json!([allow("sts:AssumeRole", "*")]),
        "app-9",
    )
    .await;
    let (deployer, _) = a
        .role_with_id(
            "Deployer",
            "/deploy/",
            &trust(&format!("arn:aws:iam::{ACCOUNT}:role/ci/Pipeline")),
            None,
            &[],
        )
        .await;
    let ev = assume_role(28, &who, &deployer, ACCOUNT).msg(message(
        &who,
        "sts:AssumeRole",
        &deployer,
        "because no resource-based policy allows the sts:AssumeRole action",
    ));

    let r = analyze_one(ev).await;

    expect(
        &r,
        "Missing allow in a resource-based policy",
        json!([]),
        json!([add(
            &deployer,
            json!({"Effect": "Allow", "Principal": {"AWS": caller}, "Action": "sts:AssumeRole"})
        )]),
        Some(true),
    );
}

#[tokio::test]
async fn role_trust_explicit_deny_without_mfa() {
    let _env = moto().await;
    let a = own().await;
    a.user("hank", "/", &[]).await;
    a.user_policy(
        "hank",
        "assume",
        &policy(json!([allow("sts:AssumeRole", "*")])),
    )
    .await;
    let stmt = json!({"Sid": "RequireMfa", "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole",
                      "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}});
    let (role, _) = a
        .role_with_id(
            "BreakGlass",
            "/",
            &policy(json!([
                {"Sid": "Admins", "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")},
                 "Action": "sts:AssumeRole"},
                stmt.clone()
            ])),
            None,
            &[],
        )
        .await;
    // Long-term access keys: no MFA in the request.
    let who = iam_user(ACCOUNT, "/", "hank");

    let r = analyze_one(assume_role(29, &who, &role, ACCOUNT)).await;

    expect(
        &r,
        "Explicit deny in a resource-based policy",
        json!([deny(
            &role,
            &format!("{role}/RoleTrustPolicy"),
            "RoleTrustPolicy",
            &stmt
        )]),
        json!([]),
        Some(true),
    );
}

#[tokio::test]
async fn role_trust_cross_account_from_a_third_account() {
    let _env = moto().await;
    let a = own().await;
    let c = Acct::new(THIRD_ACCOUNT).await;
    let user = c.user("ian", "/", &[]).await;
    c.user_policy(
        "ian",
        "assume-auditor",
        &policy(json!([allow(
            "sts:AssumeRole",
            "arn:aws:iam::*:role/Auditor"
        )])),
    )
    .await;
    let (role, _) = a
        .role_with_id(
            "Auditor",
            "/",
            &trust(&format!("arn:aws:iam::{OTHER_ACCOUNT}:root")),
            None,
            &[],
        )
        .await;
    let who = iam_user(THIRD_ACCOUNT, "/", "ian");

    let r = analyze_one(assume_role(30, &who, &role, THIRD_ACCOUNT)).await;

    expect(
        &r,
        "Missing allow in a resource-based policy in cross-account access",
        json!([]),
        json!([add(
            &role,
            json!({"Effect": "Allow", "Principal": {"AWS": user}, "Action": "sts:AssumeRole"})
        )]),
        Some(true),
    );
}

// ================================================================ Organizations: SCPs and RCPs

/// root → Workloads → Prod (account prod-app, prod-two); root → Dev (account dev-app).
struct OrgWorld {
    org: Org,
    workloads: Node,
    prod: Node,
    dev: Node,
}

impl OrgWorld {
    async fn build() -> OrgWorld {
        let mut org = Org::create(&own().await).await;
        let root = org.root.clone();
        let workloads = org.ou("Workloads", &root).await;
        let prod = org.ou("Prod", &workloads).await;
        let dev = org.ou("Dev", &root).await;
        org.account("prod-app", &prod).await;
        org.account("prod-two", &prod).await;
        org.account("dev-app", &dev).await;
        OrgWorld {
            org,
            workloads,
            prod,
            dev,
        }
    }

    fn account(&self, name: &str) -> &Node {
        &self.org.accounts[name]
    }

    async fn acct(&self, name: &str) -> Acct {
        Acct::new(&self.account(name).id).await
    }
}

#[tokio::test]
async fn scp_at_the_root_explicit_deny() {
    let _env = moto().await;
    let w = OrgWorld::build().await;
    let stmt = json!({"Sid": "NoTrailTampering", "Effect": "Deny",
                      "Action": ["cloudtrail:StopLogging", "cloudtrail:DeleteTrail"], "Resource": "*"});
    let scp = w
        .org
        .scp(
            "ProtectCloudTrail",
            &policy(json!([stmt.clone()])),
            &w.org.root,
        )
        .await;
    let prod = w.acct("prod-app").await;
    let (_, who) = role_with_policy(
        &prod,
        "Operator",
        "/ops/",
        json!([allow("cloudtrail:*", "*")]),
        "oncall",
    )
    .await;
    let ev = record(
        31,
        &who,
        "cloudtrail.amazonaws.com",
        "StopLogging",
        json!({"name": format!("arn:aws:cloudtrail:{REGION}:{}:trail/org-trail", prod.id)}),
        &prod.id,
    )
    .msg(message(
        &who,
        "cloudtrail:StopLogging",
        &format!("arn:aws:cloudtrail:{REGION}:{}:trail/org-trail", prod.id),
        "with an explicit deny in a service control policy",
    ));

    let r = analyze_one(ev).await;

    expect(
        &r,
        "Explicit deny in a service-control policy",
        json!([deny(&w.org.root.arn, &scp, "ProtectCloudTrail", &stmt)]),
        json!([]),
        Some(true),
    );
}

#[tokio::test]
async fn scp_at_an_ou_explicit_deny_from_the_requested_region() {
    let _env = moto().await;
    let w = OrgWorld::build().await;
    let stmt = json!({"Sid": "DenyOutsideEU", "Effect": "Deny",
                      "NotAction": ["iam:*", "sts:*", "organizations:*", "support:*"], "Resource": "*",
                      "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1", "eu-central-1"]}}});
    let scp = w
        .org
        .scp("RegionLock", &policy(json!([stmt.clone()])), &w.workloads)
        .await;
    let prod = w.acct("prod-app").await;
    let (_, who) = role_with_policy(
        &prod,
        "Operator",
        "/",
        json!([allow("ec2:*", "*")]),
        "oncall",
    )
    .await;
    let denied = "with an explicit deny in a service control policy.";
    let in_us = stop_instances(32, &who, &prod.id, "i-0aaa1111bbbb2222c", denied);
    let in_eu = stop_instances(33, &who, &prod.id, "i-0aaa1111bbbb2222c", denied)
        .set("awsRegion", json!("eu-west-1"));

    let results = analyze(&[in_us, in_eu]).await;

    expect(
        &results[0],
        "Explicit deny in a service-control policy",
        json!([deny(&w.workloads.arn, &scp, "RegionLock", &stmt)]),
        json!([]),
        Some(true),
    );
    // The same call in an allowed region: nothing denies it now.
    expect_allowed(&results[1]);
}

#[tokio::test]
async fn scp_on_the_account_explicit_deny() {
    let _env = moto().await;
    let w = OrgWorld::build().await;
    let prod_node = w.account("prod-app").clone();
    let stmt = json!({"Sid": "NoBucketPolicies", "Effect": "Deny",
                      "Action": ["s3:PutBucketPolicy", "s3:DeleteBucketPolicy"], "Resource": "*"});
    let scp = w
        .org
        .scp(
            "NoPublicBuckets",
            &policy(json!([stmt.clone()])),
            &prod_node,
        )
        .await;
    let prod = w.acct("prod-app").await;
    let (_, who) =
        role_with_policy(&prod, "Admin", "/", json!([allow("s3:*", "*")]), "admin").await;
    prod.bucket("prod-site", None).await;
    let ev = record(
        34,
        &who,
        "s3.amazonaws.com",
        "PutBucketPolicy",
        json!({"bucketName": "prod-site", "bucketPolicy": {"Version": "2012-10-17"}, "policy": "", "Host": "prod-site.s3.amazonaws.com"}),
        &prod.id,
    )
    .set(
        "resources",
        json!([{"accountId": prod.id, "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::prod-site"}]),
    );

    let r = analyze_one(ev).await;

    assert!(prod_node.arn.ends_with(&format!("/{}", prod.id)));
    expect(
        &r,
        "Explicit deny in a service-control policy",
        json!([deny(&prod_node.arn, &scp, "NoPublicBuckets", &stmt)]),
        json!([]),
        Some(true),
    );
}

#[tokio::test]
async fn scp_missing_allow_when_full_access_is_replaced_by_an_allow_list() {
    let _env = moto().await;
    let mut w = OrgWorld::build().await;
    let root = w.org.root.clone();
    let sandbox = w.org.ou("Sandbox", &root).await;
    w.org.detach_full_access(&sandbox).await;
    w.org
        .scp(
            "SandboxAllowList",
            &policy(json!([{"Sid": "Allowed", "Effect": "Allow",
                "Action": ["s3:*", "ec2:*", "cloudwatch:*"], "Resource": "*"}])),
            &sandbox,
        )
        .await;
    let account = w.org.account("sandbox-1", &sandbox).await;
    let acct = Acct::new(&account.id).await;
    let (_, who) = role_with_policy(
        &acct,
        "Tinkerer",
        "/",
        json!([allow("dynamodb:*", "*")]),
        "tinker",
    )
    .await;
    let ev = dynamodb(35, &who, "GetItem", "scratch", &account.id);

    let r = analyze_one(ev).await;

    expect(
        &r,
        "Missing allow in a service-control policy",
        json!([]),
        json!([add(
            &sandbox.arn,
            allow("dynamodb:GetItem", &table(&account.id, "scratch"))
        )]),
        Some(true),
    );
}

#[tokio::test]
async fn scp_does_not_apply_to_the_management_account() {
    let _env = moto().await;
    let w = OrgWorld::build().await;
    w.org
        .scp(
            "NoTableDeletes",
            &policy(json!([{"Sid": "NoDeletes", "Effect": "Deny", "Action": "dynamodb:DeleteTable", "Resource": "*"}])),
            &w.org.root,
        )
        .await;
    let a = own().await;
    let (_, who) = role_with_policy(
        &a,
        "OrgAdmin",
        "/",
        json!([allow("dynamodb:*", "*")]),
        "admin",
    )
    .await;

    let r = analyze_one(dynamodb(36, &who, "DeleteTable", "legacy", ACCOUNT)).await;

    expect_allowed(&r);
}

#[tokio::test]
async fn rcp_explicit_deny_from_the_source_ip() {
    let _env = moto().await;
    let w = OrgWorld::build().await;
    let stmt = json!({"Sid": "DenyOutsideCorp", "Effect": "Deny", "Principal": "*",
                      "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "*",
                      "Condition": {"NotIpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.0.2.0/24"]},
                                    "BoolIfExists": {"aws:PrincipalIsAWSService": "false"}}});
    let rcp = w
        .org
        .rcp(
            "CorpNetworkOnly",
            &policy(json!([stmt.clone()])),
            &w.workloads,
        )
        .await;
    let prod = w.acct("prod-app").await;
    let (_, who) =
        role_with_policy(&prod, "Api", "/app/", json!([allow("s3:*", "*")]), "api-1").await;
    prod.bucket("prod-data", None).await;
    let outside = s3_object(
        37,
        &who,
        "GetObject",
        "prod-data",
        "customers.json",
        &prod.id,
        &prod.id,
    );
    let inside = s3_object(
        38,
        &who,
        "GetObject",
        "prod-data",
        "customers.json",
        &prod.id,
        &prod.id,
    )
    .set("sourceIPAddress", json!("192.0.2.44"));

    let results = analyze(&[outside, inside]).await;

    expect(
        &results[0],
        "Explicit deny in a resource control policy",
        json!([deny(&w.workloads.arn, &rcp, "CorpNetworkOnly", &stmt)]),
        json!([]),
        Some(true),
    );
    expect_allowed(&results[1]);
}

#[tokio::test]
async fn rcp_at_the_root_explicit_deny_on_a_secret() {
    let _env = moto().await;
    let w = OrgWorld::build().await;
    let stmt = json!({"Sid": "OnlySecretAdmins", "Effect": "Deny", "Principal": "*",
                      "Action": "secretsmanager:DeleteSecret", "Resource": "*",
                      "Condition": {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/secret-admin/*"}}});
    let rcp = w
        .org
        .rcp(
            "SecretsBreakGlass",
            &policy(json!([stmt.clone()])),
            &w.org.root,
        )
        .await;
    let prod = w.acct("prod-app").await;
    let (_, who) = role_with_policy(
        &prod,
        "Api",
        "/app/",
        json!([allow("secretsmanager:*", "*")]),
        "api-2",
    )
    .await;
    let secret = prod.secret("prod/api-token", None).await;
    let ev = record(
        39,
        &who,
        "secretsmanager.amazonaws.com",
        "DeleteSecret",
        json!({"secretId": secret, "recoveryWindowInDays": 7}),
        &prod.id,
    );

    let r = analyze_one(ev).await;

    expect(
        &r,
        "Explicit deny in a resource control policy",
        json!([deny(&w.org.root.arn, &rcp, "SecretsBreakGlass", &stmt)]),
        json!([]),
        Some(true),
    );
}

#[tokio::test]
async fn cross_account_in_the_organization_with_principal_org_paths() {
    let _env = moto().await;
    let w = OrgWorld::build().await;
    let prod = w.acct("prod-app").await;
    let path = format!(
        "{}/{}/{}/{}/*",
        w.org.id, w.org.root.id, w.workloads.id, w.prod.id
    );
    let bucket = prod
        .bucket(
            "prod-shared",
            Some(&policy(
                json!([{"Sid": "ProdOus", "Effect": "Allow", "Principal": "*",
                "Action": "s3:GetObject", "Resource": "arn:aws:s3:::prod-shared/*",
                "Condition": {"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": path}}}]),
            )),
        )
        .await;
    let dev = w.acct("dev-app").await;
    let (dev_role, dev_who) = role_with_policy(
        &dev,
        "Reader",
        "/",
        json!([allow("s3:GetObject", "*")]),
        "dev-1",
    )
    .await;
    let two = w.acct("prod-two").await;
    let (_, two_who) = role_with_policy(
        &two,
        "Reader",
        "/",
        json!([allow("s3:GetObject", "*")]),
        "prod-1",
    )
    .await;
    let object = "arn:aws:s3:::prod-shared/config/app.yaml";
    let from_dev = s3_object(
        40,
        &dev_who,
        "GetObject",
        "prod-shared",
        "config/app.yaml",
        &prod.id,
        &dev.id,
    );
    let from_prod = s3_object(
        41,
        &two_who,
        "GetObject",
        "prod-shared",
        "config/app.yaml",
        &prod.id,
        &two.id,
    );

    let results = analyze(&[from_dev, from_prod]).await;

    assert!(w.dev.arn.contains(&w.dev.id));
    expect(
        &results[0],
        "Missing allow in a resource-based policy in cross-account access",
        json!([]),
        json!([add(&bucket, grant(&dev_role, "s3:GetObject", object))]),
        Some(true),
    );
    // A caller under Workloads/Prod matches aws:PrincipalOrgPaths.
    expect_allowed(&results[1]);
}

// ================================================================ conditions fed from the event

#[tokio::test]
async fn condition_source_ip_identity_deny() {
    let _env = moto().await;
    let a = own().await;
    let stmt = json!({"Sid": "OfficeOnly", "Effect": "Deny", "Action": "*", "Resource": "*",
                      "Condition": {"NotIpAddress": {"aws:SourceIp": "198.51.100.0/24"}}});
    let user = a.user("jane", "/", &[]).await;
    a.user_policy(
        "jane",
        "office",
        &policy(json!([
            {"Sid": "AllowS3", "Effect": "Allow", "Action": "s3:*", "Resource": "*"},
            stmt.clone()
        ])),
    )
    .await;
    a.bucket("reports", None).await;
    let who = iam_user(ACCOUNT, "/", "jane");
    let list = |n: u32, ip: &str| {
        record(
            n,
            &who,
            "s3.amazonaws.com",
            "ListObjects",
            json!({"bucketName": "reports", "Host": "reports.s3.amazonaws.com"}),
            ACCOUNT,
        )
        .set(
            "resources",
            json!([{"accountId": ACCOUNT, "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::reports"}]),
        )
        .set("sourceIPAddress", json!(ip))
    };

    let results = analyze(&[list(42, "203.0.113.7"), list(43, "198.51.100.20")]).await;

    expect(
        &results[0],
        "Explicit deny in an identity-based policy",
        json!([deny(&user, &format!("{user}/office"), "office", &stmt)]),
        json!([]),
        Some(true),
    );
    expect_allowed(&results[1]);
}

#[tokio::test]
async fn condition_mfa_of_a_role_session() {
    let _env = moto().await;
    let a = own().await;
    let (role, id) = a
        .role_with_id("Ops", "/admin/", &trust("*"), None, &[])
        .await;
    a.role_policy(
        "Ops",
        "stop-with-mfa",
        &policy(
            json!([{"Sid": "StopWithMfa", "Effect": "Allow", "Action": "ec2:StopInstances",
            "Resource": "*", "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]),
        ),
    )
    .await;
    let without = role_session(ACCOUNT, "/admin/", "Ops", &id, "jo", false);
    let with = role_session(ACCOUNT, "/admin/", "Ops", &id, "jo", true);
    let implicit = "because no identity-based policy allows the ec2:StopInstances action.";

    let results = analyze(&[
        stop_instances(44, &without, ACCOUNT, "i-0123456789abcdef0", implicit),
        stop_instances(45, &with, ACCOUNT, "i-0123456789abcdef0", implicit),
    ])
    .await;

    expect(
        &results[0],
        "Missing allow in an identity-based policy",
        json!([]),
        json!([add(
            &role,
            allow(
                "ec2:StopInstances",
                &instance(ACCOUNT, "i-0123456789abcdef0")
            )
        )]),
        Some(true),
    );
    expect_allowed(&results[1]);
}

#[tokio::test]
async fn condition_mfa_of_a_user_force_mfa_policy() {
    let _env = moto().await;
    let a = own().await;
    let user = a.user("kim", "/", &[]).await;
    let stmt = json!({"Sid": "DenyAllExceptListedIfNoMFA", "Effect": "Deny",
        "NotAction": ["iam:CreateVirtualMFADevice", "iam:EnableMFADevice", "iam:GetUser", "iam:ListMFADevices",
                      "iam:ListVirtualMFADevices", "iam:ResyncMFADevice", "sts:GetSessionToken"],
        "Resource": "*", "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}});
    let force = a
        .managed(
            "ForceMFA",
            &policy(json!([
                {"Sid": "AllowEverything", "Effect": "Allow", "Action": "*", "Resource": "*"},
                stmt.clone()
            ])),
        )
        .await;
    a.attach_user("kim", &force).await;
    let key = iam_user(ACCOUNT, "/", "kim");
    let console = console_user(ACCOUNT, "/", "kim", true);

    let results = analyze(&[
        dynamodb(46, &key, "Scan", "orders", ACCOUNT),
        dynamodb(47, &console, "Scan", "orders", ACCOUNT),
    ])
    .await;

    expect(
        &results[0],
        "Explicit deny in an identity-based policy",
        json!([deny(&user, &force, "ForceMFA", &stmt)]),
        json!([]),
        Some(true),
    );
    expect_allowed(&results[1]);
}

#[tokio::test]
async fn condition_principal_tag_from_iam_tags() {
    let _env = moto().await;
    let a = own().await;
    let team_tables = a
        .managed(
            "TeamTables",
            &policy(json!([{"Sid": "OwnTeam", "Effect": "Allow", "Action": "dynamodb:*", "Resource": "*",
                "Condition": {"StringEquals": {"aws:PrincipalTag/team": "data"}}}])),
        )
        .await;
    let user = a.user("lee", "/", &[("team", "web")]).await;
    a.attach_user("lee", &team_tables).await;
    let (_, id) = a
        .role_with_id("DataEng", "/", &trust("*"), None, &[("team", "data")])
        .await;
    a.attach_role("DataEng", &team_tables).await;
    let web = iam_user(ACCOUNT, "/", "lee");
    let data = role_session(ACCOUNT, "/", "DataEng", &id, "nina", false);

    let results = analyze(&[
        dynamodb(48, &web, "Query", "metrics", ACCOUNT),
        dynamodb(49, &data, "Query", "metrics", ACCOUNT),
    ])
    .await;

    expect(
        &results[0],
        "Missing allow in an identity-based policy",
        json!([]),
        json!([add(
            &user,
            allow("dynamodb:Query", &table(ACCOUNT, "metrics"))
        )]),
        Some(true),
    );
    expect_allowed(&results[1]);
}

#[tokio::test]
async fn condition_requested_region_in_an_identity_policy() {
    let _env = moto().await;
    let a = own().await;
    let (role, id) = a
        .role_with_id("Analyst", "/eu/", &trust("*"), None, &[])
        .await;
    a.role_policy(
        "Analyst",
        "eu-only",
        &policy(json!([{"Sid": "EuTables", "Effect": "Allow", "Action": "dynamodb:Query", "Resource": "*",
            "Condition": {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}}])),
    )
    .await;
    let who = role_session(ACCOUNT, "/eu/", "Analyst", &id, "ana", false);
    let us = dynamodb(50, &who, "Query", "sales", ACCOUNT);
    let eu = dynamodb(51, &who, "Query", "sales", ACCOUNT).set("awsRegion", json!("eu-west-1"));

    let results = analyze(&[us, eu]).await;

    expect(
        &results[0],
        "Missing allow in an identity-based policy",
        json!([]),
        json!([add(
            &role,
            allow("dynamodb:Query", &table(ACCOUNT, "sales"))
        )]),
        Some(true),
    );
    expect_allowed(&results[1]);
}

// ================================================================ special cases

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

fn cli(args: &[&str]) -> Output {
    cli_in(&std::env::temp_dir(), args)
}

/// Runs the CLI in `dir` (the environment points it at moto).
fn cli_in(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_access-undenied"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run access-undenied")
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
async fn cross_account_caller_known_only_by_principal_id_is_resolved() {
    let _env = moto().await;
    let a = own().await;
    let b = Acct::new(OTHER_ACCOUNT).await;
    let (role, role_id) = b
        .role_with_id("Etl", "/pipelines/", &trust("*"), None, &[])
        .await;
    b.role_policy("Etl", "read", &policy(json!([allow("s3:GetObject", "*")])))
        .await;
    let bucket = a.bucket("shared-artifacts", None).await;
    // The bucket owner's trail shows the caller only by account and unique id.
    let who = aws_account(OTHER_ACCOUNT, &format!("{role_id}:build-7731"));
    let ev = s3_object(
        57,
        &who,
        "GetObject",
        "shared-artifacts",
        "releases/app-1.4.2.zip",
        ACCOUNT,
        ACCOUNT,
    );

    let r = analyze_one(ev).await;

    let object = "arn:aws:s3:::shared-artifacts/releases/app-1.4.2.zip";
    expect(
        &r,
        "Missing allow in a resource-based policy in cross-account access",
        json!([]),
        json!([add(&bucket, grant(&role, "s3:GetObject", object))]),
        Some(true),
    );
    assert_eq!(
        r["Request"][0]["Principal"],
        json!(format!(
            "arn:aws:sts::{OTHER_ACCOUNT}:assumed-role/Etl/build-7731"
        ))
    );
}

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

// ================================================================ former gaps (fixed)

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

#[tokio::test]
async fn ecr_registry_id_names_the_repository_owner() {
    let _env = moto().await;
    let a = own().await;
    let b = Acct::new(OTHER_ACCOUNT).await;
    let (role, who) =
        role_with_policy(&b, "Ci", "/", json!([allow("ecr:*", "*")]), "build-79").await;
    let repo = a.repository("team/api", None).await;
    let ev = record(
        67,
        &who,
        "ecr.amazonaws.com",
        "BatchGetImage",
        json!({"repositoryName": "team/api", "registryId": ACCOUNT, "imageIds": [{"imageTag": "2.0.0"}]}),
        OTHER_ACCOUNT,
    );

    let r = analyze_one(ev).await;

    expect(
        &r,
        "Missing allow in a resource-based policy in cross-account access",
        json!([]),
        json!([add(&repo, grant(&role, "ecr:BatchGetImage", &repo))]),
        Some(true),
    );
}

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

// ================================================================ snapshot round trip

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

    assert_eq!(live_results, offline_results);
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
    assert_eq!(live_cli.stdout, offline_cli.stdout);
    let first: Value =
        serde_json::from_slice(live_cli.stdout.split(|b| *b == b'\n').next().unwrap()).unwrap();
    assert_eq!(first, live_results[0]);
}

// ================================================================ get-scps

#[tokio::test]
async fn get_scps_writes_every_account_and_analyze_uses_the_file() {
    let _env = moto().await;
    let w = OrgWorld::build().await;
    let trail_stmt = json!({"Sid": "NoTrailTampering", "Effect": "Deny", "Action": "cloudtrail:StopLogging", "Resource": "*"});
    let trail_scp = w
        .org
        .scp(
            "ProtectCloudTrail",
            &policy(json!([trail_stmt.clone()])),
            &w.org.root,
        )
        .await;
    let rcp = w
        .org
        .rcp(
            "CorpNetworkOnly",
            &policy(json!([{"Sid": "DenyOutsideCorp", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                "Resource": "*", "Condition": {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}])),
            &w.workloads,
        )
        .await;
    let prod = w.acct("prod-app").await;
    let (_, who) = role_with_policy(
        &prod,
        "Operator",
        "/",
        json!([allow("cloudtrail:*", "*"), allow("dynamodb:*", "*")]),
        "oncall",
    )
    .await;
    let dir = tempfile::tempdir().unwrap();

    // Default file name, in the working directory.
    let out = cli_in(dir.path(), &["get-scps"]);

    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("organization data of 4 account(s)"),
        "{stderr}"
    );
    let path = dir.path().join("scp_data.json");
    let raw: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let accounts: Vec<&String> = raw["Organizations"].as_object().unwrap().keys().collect();
    let mut expected: Vec<String> = w.org.accounts.values().map(|n| n.id.clone()).collect();
    expected.push(ACCOUNT.to_string());
    expected.sort();
    assert_eq!(accounts, expected.iter().collect::<Vec<_>>());
    let file = access_undenied::collect::snapshot::ScpFile::load(&path).unwrap();
    let prod_org = file.organizations[&prod.id]
        .clone()
        .expect("in the organization");
    assert_eq!(prod_org.organization_id, w.org.id);
    assert_eq!(prod_org.management_account, ACCOUNT);
    let ids: Vec<&str> = prod_org.path.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(
        ids,
        vec![
            w.org.root.id.as_str(),
            w.workloads.id.as_str(),
            w.prod.id.as_str(),
            prod.id.as_str()
        ]
    );
    let trail = prod_org.path[0]
        .scps
        .iter()
        .find(|p| p.name == "ProtectCloudTrail")
        .expect("the root SCP");
    assert_eq!(
        (trail.arn.as_str(), trail.attached_to.as_str()),
        (trail_scp.as_str(), w.org.root.arn.as_str())
    );
    assert_eq!(trail.document, policy(json!([trail_stmt.clone()])));
    assert!(prod_org.path[1].rcps.iter().any(|p| p.arn == rcp));
    // The same as the adapter reads live.
    let live = support::source()
        .await
        .organization(&prod.id)
        .await
        .unwrap();
    assert_eq!(file.organizations[&prod.id], live);
    assert_eq!(file.organizations[ACCOUNT].as_ref().unwrap().path.len(), 2);

    // After the file was written, a new SCP denies deleting tables: only live data knows it.
    w.org
        .scp(
            "NoTableDeletes",
            &policy(json!([{"Sid": "NoDeletes", "Effect": "Deny", "Action": "dynamodb:DeleteTable", "Resource": "*"}])),
            &w.workloads,
        )
        .await;
    let events = dir.path().join("events.json");
    let records = vec![
        record(
            68,
            &who,
            "cloudtrail.amazonaws.com",
            "StopLogging",
            json!({"name": "org-trail"}),
            &prod.id,
        ),
        dynamodb(69, &who, "DeleteTable", "orders", &prod.id),
    ];
    std::fs::write(&events, json!({ "Records": records }).to_string()).unwrap();
    let assessments = |out: &Output| -> Vec<Value> {
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .collect()
    };

    let from_file = cli_in(
        dir.path(),
        &[
            "analyze",
            "--events-file",
            "events.json",
            "--scp-file",
            "scp_data.json",
        ],
    );
    let from_live = cli_in(dir.path(), &["analyze", "--events-file", "events.json"]);

    let from_file = assessments(&from_file);
    expect(
        &from_file[0],
        "Explicit deny in a service-control policy",
        json!([deny(
            &w.org.root.arn,
            &trail_scp,
            "ProtectCloudTrail",
            &trail_stmt
        )]),
        json!([]),
        Some(true),
    );
    expect_allowed(&from_file[1]);
    let from_live = assessments(&from_live);
    assert_eq!(from_live[0], from_file[0]);
    assert_eq!(
        from_live[1]["AssessmentResult"],
        json!("Explicit deny in a service-control policy")
    );
}

#[tokio::test]
async fn get_scps_through_the_management_role_and_outside_an_organization() {
    let _env = moto().await;
    let dir = tempfile::tempdir().unwrap();

    // No organization: the caller's account, without organization data.
    let out = cli_in(dir.path(), &["get-scps", "--output-file", "none.json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let none: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("none.json")).unwrap())
            .unwrap();
    assert_eq!(none, json!({"Organizations": {ACCOUNT: null}}));

    // An organization managed from the third account, read through its role.
    let management = Acct::new(THIRD_ACCOUNT).await;
    let mut org = Org::create(&management).await;
    let root = org.root.clone();
    let member = org.account("member", &root).await;
    let role = format!("arn:aws:iam::{THIRD_ACCOUNT}:role/OrgReader");
    let out = cli_in(
        dir.path(),
        &[
            "get-scps",
            "--output-file",
            "org.json",
            "--management-account-role-arn",
            &role,
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let file =
        access_undenied::collect::snapshot::ScpFile::load(&dir.path().join("org.json")).unwrap();
    let mut accounts: Vec<&str> = file.organizations.keys().map(String::as_str).collect();
    accounts.sort_unstable();
    let mut expected = vec![THIRD_ACCOUNT, member.id.as_str()];
    expected.sort_unstable();
    assert_eq!(accounts, expected);
    let data = file.organizations[&member.id].as_ref().unwrap();
    assert_eq!(data.management_account, THIRD_ACCOUNT);
    assert_eq!(
        data.path.last().map(|n| n.arn.as_str()),
        Some(member.arn.as_str())
    );
}

// ================================================================ AWS API calls per event

/// One resource of the benchmark and the record of a call on it.
struct BenchResource {
    kind: usize,
    account: String,
    name: String,
    arn: String,
    url: String,
}

impl BenchResource {
    fn record(&self, n: u32, who: &Value, recipient: &str) -> Value {
        match self.kind {
            0 => s3_object(
                n,
                who,
                "GetObject",
                &self.name,
                &format!("reports/{}.csv", n % 13),
                &self.account,
                recipient,
            ),
            1 => record(
                n,
                who,
                "sqs.amazonaws.com",
                "SendMessage",
                json!({"queueUrl": self.url, "messageBody": "HIDDEN_DUE_TO_SECURITY_REASONS"}),
                recipient,
            ),
            2 => record(
                n,
                who,
                "sns.amazonaws.com",
                "Publish",
                json!({"topicArn": self.arn, "message": "HIDDEN_DUE_TO_SECURITY_REASONS"}),
                recipient,
            ),
            3 => kms_event(n, who, "Decrypt", &self.arn, &self.account, recipient),
            _ => dynamodb(n, who, "GetItem", &self.name, &self.account),
        }
    }
}

/// 20 principals and 50 resources in 3 accounts of an organization (SCPs and RCPs enabled),
/// and 1,000 denials of calls between them.
async fn bench_world() -> Vec<Value> {
    let mut org = Org::create(&own().await).await;
    let root = org.root.clone();
    let workloads = org.ou("Workloads", &root).await;
    let m1 = org.account("bench-one", &workloads).await;
    let m2 = org.account("bench-two", &root).await;
    org.scp(
        "NoTopicPublishFromTwo",
        &policy(json!([{"Sid": "NoPublish", "Effect": "Deny", "Action": "sns:Publish", "Resource": "*"}])),
        &m2,
    )
    .await;
    let accts = [
        own().await,
        Acct::new(&m1.id).await,
        Acct::new(&m2.id).await,
    ];
    let services = [
        json!([allow("s3:GetObject", "*"), allow("sqs:*", "*")]),
        json!([allow("sns:Publish", "*"), allow("kms:Decrypt", "*")]),
        json!([allow("dynamodb:GetItem", "*"), allow("s3:*", "*")]),
        json!([
            allow("sqs:SendMessage", "*"),
            allow("kms:*", "*"),
            allow("dynamodb:*", "*")
        ]),
    ];
    let mut principals = Vec::new();
    for p in 0..20usize {
        let acct = &accts[p % 3];
        let statements = services[p % 4].clone();
        if p % 3 == 2 {
            let name = format!("bench-user-{p}");
            acct.user(&name, "/bench/", &[("team", "bench")]).await;
            acct.user_policy(&name, "access", &policy(statements)).await;
            principals.push(iam_user(&acct.id, "/bench/", &name));
        } else {
            let (_, who) = role_with_policy(
                acct,
                &format!("bench-role-{p}"),
                "/bench/",
                statements,
                &format!("session-{p}"),
            )
            .await;
            principals.push(who);
        }
    }
    let root_of = |acct: &Acct| format!("arn:aws:iam::{}:root", acct.id);
    let mut resources = Vec::new();
    for i in 0..50usize {
        let acct = &accts[i % 3];
        let other = &accts[(i + 1) % 3];
        let kind = i % 5;
        let name = format!("bench-{i}");
        let (arn, url) = match kind {
            0 => {
                let doc = policy(json!([grant(
                    &root_of(other),
                    "s3:GetObject",
                    &format!("arn:aws:s3:::{name}/*")
                )]));
                (acct.bucket(&name, Some(&doc)).await, String::new())
            }
            1 => {
                let arn = format!("arn:aws:sqs:{REGION}:{}:{name}", acct.id);
                acct.queue(
                    &name,
                    Some(&policy(json!([grant(
                        &root_of(other),
                        "sqs:SendMessage",
                        &arn
                    )]))),
                )
                .await
            }
            2 => {
                let arn = format!("arn:aws:sns:{REGION}:{}:{name}", acct.id);
                let doc = policy(json!([
                    grant(&root_of(acct), "sns:*", &arn),
                    grant(&root_of(other), "sns:Publish", &arn)
                ]));
                (acct.topic(&name, Some(&doc)).await, String::new())
            }
            3 => {
                let doc = policy(json!([{"Sid": "EnableIAM", "Effect": "Allow",
                    "Principal": {"AWS": root_of(acct)}, "Action": "kms:*", "Resource": "*"}]));
                (acct.key(&doc).await, String::new())
            }
            _ => (table(&acct.id, &name), String::new()),
        };
        resources.push(BenchResource {
            kind,
            account: acct.id.clone(),
            name,
            arn,
            url,
        });
    }
    (0..1000u32)
        .map(|n| {
            let who = &principals[n as usize % 20];
            let resource = &resources[(n as usize * 7 + n as usize / 20) % 50];
            let recipient = who["accountId"].as_str().unwrap_or(ACCOUNT).to_string();
            resource.record(1000 + n, who, &recipient)
        })
        .collect()
}

/// Diagnoses `records` as the CLI does (8 events at a time); the results and the wall time.
async fn timed(source: &AwsSource, records: &[Value]) -> (Vec<Value>, std::time::Duration) {
    use futures::StreamExt as _;
    let items = items(records);
    let start = std::time::Instant::now();
    let results: Vec<Value> = futures::stream::iter(items.iter())
        .map(|item| diagnose_item(item, source))
        .buffered(8)
        .map(|r| serde_json::to_value(r).unwrap())
        .collect()
        .await;
    (results, start.elapsed())
}

/// Run by `scripts/bench-calls`: AWS API calls per event (the adapter's `calls()` counter) and
/// wall time, for a batch of 1,000 denials from 20 principals over 50 resources in 3 accounts,
/// for a single cold event, and for the same batch with a cold cache for every event (a new
/// adapter per event, as if each were diagnosed by a fresh process).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run by scripts/bench-calls"]
async fn bench_calls_per_event() {
    let _env = moto().await;
    let records = bench_world().await;

    let cold = support::source().await;
    let (single, single_time) = timed(&cold, &records[..1]).await;
    let batch_source = support::source().await;
    let (results, batch_time) = timed(&batch_source, &records).await;
    let (mut cold_calls, mut cold_time, mut cold_results) = (0, std::time::Duration::ZERO, 0);
    for record in &records {
        let fresh = support::source().await;
        let (r, t) = timed(&fresh, std::slice::from_ref(record)).await;
        cold_calls += fresh.calls();
        cold_time += t;
        cold_results += r.len();
    }

    let mut by_result = std::collections::BTreeMap::<String, usize>::new();
    for r in &results {
        *by_result
            .entry(r["AssessmentResult"].as_str().unwrap_or("?").to_string())
            .or_default() += 1;
    }
    let row = |what: &str, events: usize, calls: u64, time: std::time::Duration| {
        println!(
            "| {what:<60} | {events:>6} | {calls:>9} | {:>11.3} | {:>9.1} ms | {:>8.2} ms |",
            calls as f64 / events as f64,
            time.as_secs_f64() * 1e3,
            time.as_secs_f64() * 1e3 / events as f64,
        );
    };
    println!();
    println!(
        "| {:<60} | {:>6} | {:>9} | {:>11} | {:>12} | {:>11} |",
        "run (on moto)", "events", "AWS calls", "calls/event", "wall time", "per event"
    );
    println!(
        "|{}|-------:|----------:|------------:|-------------:|------------:|",
        "-".repeat(62)
    );
    row(
        "batch: 1,000 events, 20 principals, 50 resources, 3 accounts",
        results.len(),
        batch_source.calls(),
        batch_time,
    );
    row("single cold event", single.len(), cold.calls(), single_time);
    row(
        "same batch, cold cache for every event",
        cold_results,
        cold_calls,
        cold_time,
    );
    println!();
    println!("results of the batch: {by_result:?}");

    assert_eq!(results.len(), 1000);
    assert!(
        !by_result.contains_key("Error"),
        "every event of the benchmark is diagnosable: {by_result:?}"
    );
    let per_event = batch_source.calls() as f64 / results.len() as f64;
    assert!(
        per_event <= 1.0,
        "{per_event} AWS calls per event (bar: ≤ 1)"
    );
}
