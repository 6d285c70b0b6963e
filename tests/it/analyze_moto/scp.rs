//! Service control policies: explicit denies attached to the root, an OU or the account, a
//! missing allow when `FullAWSAccess` is replaced by an allow list, and the management account
//! that SCPs do not apply to.

use serde_json::json;

use super::{
    add, analyze, analyze_one, deny, dynamodb, expect, expect_allowed, own, role_with_policy,
    stop_instances, table, OrgWorld,
};
use crate::support::events::{message, record, RecordExt};
use crate::support::run::allow;
use crate::support::world::{policy, Acct};
use crate::support::{moto, ACCOUNT, REGION};

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

/// An organization whose root has the SCP (and RCP) policy type disabled: SCPs do not apply
/// (Organizations User Guide, "Disabling a policy type": all policies of that type are detached),
/// so a deny SCP still listed for the account (moto keeps it) decides nothing; the missing allow
/// of the role's own policy is the cause (the recorded world shows `ScpsEnabled: false` and no
/// SCP read at all).
#[tokio::test]
async fn an_organization_with_scps_disabled_applies_no_scp() {
    let _env = moto().await;
    let w = OrgWorld::build().await;
    let stmt = json!({"Sid": "NoTrailTampering", "Effect": "Deny",
                      "Action": "cloudtrail:*", "Resource": "*"});
    w.org
        .scp("ProtectCloudTrail", &policy(json!([stmt])), &w.org.root)
        .await;
    for kind in [
        aws_sdk_organizations::types::PolicyType::ServiceControlPolicy,
        aws_sdk_organizations::types::PolicyType::ResourceControlPolicy,
    ] {
        w.org
            .client
            .disable_policy_type()
            .root_id(&w.org.root.id)
            .policy_type(kind)
            .send()
            .await
            .unwrap();
    }
    let prod = w.acct("prod-app").await;
    let (role, who) = role_with_policy(
        &prod,
        "Reader",
        "/",
        json!([allow("cloudtrail:Describe*", "*")]),
        "oncall",
    )
    .await;
    let trail = format!("arn:aws:cloudtrail:{REGION}:{}:trail/org-trail", prod.id);
    let ev = record(
        34,
        &who,
        "cloudtrail.amazonaws.com",
        "StopLogging",
        json!({"name": trail}),
        &prod.id,
    )
    .msg(message(
        &who,
        "cloudtrail:StopLogging",
        &trail,
        "because no identity-based policy allows the cloudtrail:StopLogging action",
    ));

    let r = analyze_one(ev).await;

    expect(
        &r,
        "Missing allow in an identity-based policy",
        json!([]),
        json!([add(&role, allow("cloudtrail:StopLogging", &trail))]),
        Some(true),
    );
}
