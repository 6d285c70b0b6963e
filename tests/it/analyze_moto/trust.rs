//! Role trust policies (`sts:AssumeRole`): a missing allow in the same account and from a third
//! account, and an explicit deny without MFA.

use serde_json::{json, Value};

use super::{add, analyze_one, deny, expect, own, role_with_policy, THIRD_ACCOUNT};
use crate::support::events::{iam_user, message, record, RecordExt};
use crate::support::run::allow;
use crate::support::world::{policy, trust, Acct};
use crate::support::{moto, ACCOUNT, OTHER_ACCOUNT};

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
