//! End to end against moto: each scenario builds its world through the AWS APIs (IAM, an
//! organization with SCPs and RCPs, resources with their policies, second and third accounts
//! reached by `sts:AssumeRole`), writes the CloudTrail access-denied record AWS would write, runs
//! the real pipeline (`AwsSource` + `diagnose_item`, or the CLI binary) and checks the result's
//! fields (README, "The result of one event"): `AssessmentResult`, `ExplicitDenyPolicies`,
//! `PoliciesToAdd`, `FixVerified`. Each analysis also records its world fixture (what the
//! adapter read, the records, the whole results) under `tests/worlds/`, which
//! `worlds::fixtures_replay_offline` checks without moto (`support::worlds`).
//!
//! One module per gate or feature; this one holds the running and checking helpers they share.
//! moto is reset between scenarios (`support::moto()`). The API-call benchmark is `#[ignore]`d
//! (run by `scripts/bench calls`); `cargo test --test it analyze_moto -- --ignored` runs it.

mod bench;
mod boundary;
mod conditions;
mod cross_account;
mod evidence;
mod get_scps;
mod identity;
mod pipeline;
mod rcp;
mod resource;
mod scp;
mod trust;
mod unreadable;
mod vpc_endpoint;

use std::process::{Command, Output};

use access_undenied::collect::snapshot::Recording;
use serde_json::{json, Value};

use crate::support;
use crate::support::events::{message, record, role_session, RecordExt};
use crate::support::run::analyze_with;
use crate::support::world::{policy, trust, Acct, Node, Org};
use crate::support::{ACCOUNT, REGION};

/// The third account of the scenarios (outside any organization).
const THIRD_ACCOUNT: &str = "333333333333";

/// Diagnoses with the AWS adapter on moto (the environment's credentials), recording what the
/// adapter read as the scenario's world fixture (`support::worlds`).
async fn analyze(records: &[Value]) -> Vec<Value> {
    let recording = Recording::new(support::source().await);
    let results = analyze_with(&recording, records).await;
    support::worlds::record_or_check(&recording.snapshot(), records, &results);
    results
}

async fn analyze_one(record: Value) -> Value {
    let mut results = analyze(&[record]).await;
    assert_eq!(results.len(), 1, "{results:#?}");
    results.remove(0)
}

/// Checks a result's `AssessmentResult`, `ExplicitDenyPolicies`, `PoliciesToAdd`, `FixVerified`.
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
