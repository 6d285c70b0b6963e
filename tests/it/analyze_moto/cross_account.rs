//! Cross-account access: the resource's policy must grant the caller of another account (the
//! fix is a grant naming it), sometimes the caller's own policies too; callers known only by
//! account and unique id; `aws:PrincipalOrgPaths` between accounts of an organization.

use serde_json::json;

use super::{
    add, analyze, analyze_one, expect, expect_allowed, grant, invoke, own, role_with_policy,
    secret_event, OrgWorld, THIRD_ACCOUNT,
};
use crate::support::events::{
    aws_account, iam_user, kms_event, message, record, s3_object, RecordExt,
};
use crate::support::run::allow;
use crate::support::world::{policy, trust, Acct};
use crate::support::{moto, ACCOUNT, OTHER_ACCOUNT, REGION};

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

// Formerly a known gap of the pipeline (fixed).
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
