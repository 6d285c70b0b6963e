//! `get-scps`: the organization data of every account written to a file that `analyze
//! --scp-file` uses, read through the management account's role, and outside an organization.

use std::process::Output;

use access_undenied::collect::PolicySource;
use serde_json::{json, Value};

use super::{
    cli_in, deny, dynamodb, expect, expect_allowed, role_with_policy, OrgWorld, THIRD_ACCOUNT,
};
use crate::support;
use crate::support::events::record;
use crate::support::run::allow;
use crate::support::world::{policy, Acct, Org};
use crate::support::{moto, ACCOUNT};

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
