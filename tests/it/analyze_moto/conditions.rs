//! Condition keys fed from the event: `aws:SourceIp`, `aws:MultiFactorAuthPresent` of role
//! sessions and users, `aws:PrincipalTag` from IAM tags, `aws:RequestedRegion`. Each test pairs
//! a denied request with the same request that the condition allows.

use serde_json::json;

use super::{
    add, analyze, deny, dynamodb, expect, expect_allowed, instance, own, stop_instances, table,
};
use crate::support::events::{console_user, iam_user, record, role_session, RecordExt};
use crate::support::run::allow;
use crate::support::world::{policy, trust};
use crate::support::{moto, ACCOUNT};

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
