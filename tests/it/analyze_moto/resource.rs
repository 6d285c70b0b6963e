//! Resource-based policies in the caller's own account: S3 bucket, KMS key, Secrets Manager,
//! SQS queue, SNS topic and ECR repository policies that deny, or a key policy that lacks the
//! grant.

use serde_json::json;

use super::{add, analyze_one, deny, expect, grant, own, role_with_policy, secret_event};
use crate::support::events::{iam_user, kms_event, message, record, s3_object, RecordExt};
use crate::support::run::allow;
use crate::support::world::policy;
use crate::support::{moto, ACCOUNT, REGION};

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
