//! The `analyze` pipeline offline: the bundled sample batch against the bundled snapshot gives
//! the expected results; a recorded snapshot replays identically; the CLI's exit codes (0 every
//! event analysed, 1 some event ended in `Error`, 2 usage error or unreadable input) and
//! `--output-file` (`{"Results": [...]}`) are those README's `access-undenied analyze` states.

use std::process::Command;

use access_undenied::app::diagnose_item;
use access_undenied::collect::snapshot::{Recording, Snapshot, SnapshotSource};
use access_undenied::core::event::reader::RecordReader;
use serde_json::Value;

use crate::support::root;

async fn run(source: &dyn access_undenied::collect::PolicySource) -> Vec<Value> {
    let file = std::fs::File::open(root().join("events/sample-batch.json")).unwrap();
    let items: Vec<_> = RecordReader::new(file).collect();
    let mut out = Vec::new();
    for item in &items {
        out.push(serde_json::to_value(diagnose_item(item, source).await).unwrap());
    }
    out
}

#[tokio::test]
async fn sample_batch_gives_the_contract_results() {
    let snapshot = Snapshot::load(&root().join("events/sample-snapshot.json")).unwrap();
    let results = run(&SnapshotSource { snapshot }).await;
    let assessments: Vec<&str> = results
        .iter()
        .map(|r| r["AssessmentResult"].as_str().unwrap())
        .collect();
    assert_eq!(
        assessments,
        vec![
            "Missing allow in an identity-based policy",
            "Explicit deny in a service-control policy",
            "Missing allow in a resource-based policy",
            "Missing allow in a resource-based policy in cross-account access",
            "Missing allow in a permissions boundary policy",
            "Error",
        ]
    );
    // The S3 object event: the fix targets the role (not the session) and the object ARN.
    let add = &results[0]["ResultDetails"]["PoliciesToAdd"][0];
    assert_eq!(
        add["AttachmentTargetArn"],
        "arn:aws:iam::111122223333:role/teams/Developer"
    );
    assert_eq!(
        add["Policy"]["Statement"][0]["Resource"],
        "arn:aws:s3:::example-reports/2026/q3.csv"
    );
    assert_eq!(results[0]["FixVerified"], true);
    // The SCP deny quotes the statement as written and names the OU.
    let deny = &results[1]["ResultDetails"]["ExplicitDenyPolicies"][0];
    assert_eq!(
        deny["AttachmentTargetArn"],
        "arn:aws:organizations::999999999999:ou/o-exampleorg/ou-ex12-workload"
    );
    assert_eq!(deny["PolicyName"], "DenyLambdaOutsidePlatform");
    assert_eq!(deny["PolicyStatement"]["Sid"], "NoLambdaChanges");
    // Cross-account bucket policy fix names the role and targets the bucket.
    let add = &results[3]["ResultDetails"]["PoliciesToAdd"][0];
    assert_eq!(add["AttachmentTargetArn"], "arn:aws:s3:::partner-drop");
    assert_eq!(
        add["Policy"]["Statement"][0]["Principal"]["AWS"],
        "arn:aws:iam::111122223333:role/Deployer"
    );
    assert!(results[5]["ErrorMessage"]
        .as_str()
        .unwrap()
        .contains("eventSource"));
}

#[tokio::test]
async fn recorded_snapshot_replays_identically() {
    let snapshot = Snapshot::load(&root().join("events/sample-snapshot.json")).unwrap();
    let recording = Recording::new(SnapshotSource { snapshot });
    let first = run(&recording).await;
    let replay = run(&SnapshotSource {
        snapshot: recording.snapshot(),
    })
    .await;
    assert_eq!(first, replay);
}

#[test]
fn cli_exit_codes_and_output_file() {
    let bin = env!("CARGO_BIN_EXE_access-undenied");
    let dir = std::env::temp_dir().join(format!("au-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("results.json");
    let status = Command::new(bin)
        .args(["analyze", "--events-file"])
        .arg(root().join("events/sample-batch.json"))
        .arg("--snapshot")
        .arg(root().join("events/sample-snapshot.json"))
        .arg("--output-file")
        .arg(&out)
        .arg("--suppress-output")
        .output()
        .unwrap();
    assert_eq!(status.status.code(), Some(1), "an Error event gives exit 1");
    assert!(status.stdout.is_empty(), "--suppress-output");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(doc["Results"].as_array().unwrap().len(), 6);
    let stderr = String::from_utf8_lossy(&status.stderr);
    assert!(stderr.contains("1 skipped"), "{stderr}");
    // A single good event: exit 0.
    let ok = Command::new(bin)
        .args(["analyze", "--events-file"])
        .arg(root().join("events/eventbridge-kms-decrypt.json"))
        .arg("--snapshot")
        .arg(root().join("events/sample-snapshot.json"))
        .output()
        .unwrap();
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let line: Value = serde_json::from_slice(&ok.stdout).unwrap();
    assert_eq!(
        line["AssessmentResult"],
        "Missing allow in a resource-based policy"
    );
    // Unreadable input: exit 2.
    let missing = Command::new(bin)
        .args([
            "analyze",
            "--events-file",
            "/nonexistent/x.json",
            "--snapshot",
        ])
        .arg(root().join("events/sample-snapshot.json"))
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    // --help needs no credentials.
    let help = Command::new(bin)
        .args(["analyze", "--help"])
        .env_remove("AWS_PROFILE")
        .output()
        .unwrap();
    assert_eq!(help.status.code(), Some(0));
    std::fs::remove_dir_all(&dir).ok();
}
