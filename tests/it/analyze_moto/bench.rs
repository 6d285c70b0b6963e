//! AWS API calls per event (`#[ignore]`d; run by `scripts/bench calls`).

use access_undenied::app::diagnose_item;
use access_undenied::collect::aws::AwsSource;
use serde_json::{json, Value};

use super::{dynamodb, grant, own, role_with_policy, table};
use crate::support;
use crate::support::events::{iam_user, kms_event, record, s3_object};
use crate::support::run::{allow, items};
use crate::support::world::{policy, Acct, Org};
use crate::support::{moto, ACCOUNT, REGION};

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

/// Run by `scripts/bench calls`: AWS API calls per event (the adapter's `calls()` counter) and
/// wall time, for a batch of 1,000 denials from 20 principals over 50 resources in 3 accounts,
/// for a single cold event, and for the same batch with a cold cache for every event (a new
/// adapter per event, as if each were diagnosed by a fresh process).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run by scripts/bench calls"]
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
