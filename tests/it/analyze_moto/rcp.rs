//! Resource control policies: explicit denies from an OU (on the request's source IP) and from
//! the root.

use serde_json::json;

use super::{analyze, analyze_one, deny, expect, expect_allowed, role_with_policy, OrgWorld};
use crate::support::events::{record, s3_object, RecordExt};
use crate::support::moto;
use crate::support::run::allow;
use crate::support::world::policy;

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
