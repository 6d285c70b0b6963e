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

/// A snapshot that recorded errors (an identity it could not read, an account it could not
/// enter) replays them: saved and loaded again, it gives the same results, and the errors are
/// named in them.
#[tokio::test]
async fn a_snapshot_with_recorded_errors_replays_identically() {
    use access_undenied::collect::CollectError;
    let mut snapshot = Snapshot::load(&root().join("events/sample-snapshot.json")).unwrap();
    let bob = "arn:aws:iam::111122223333:user/bob";
    snapshot.identities.insert(
        bob.into(),
        Err(CollectError::AccessDenied {
            what: format!("iam:ListAttachedUserPolicies {bob}"),
            message: "AccessDenied: not authorized".into(),
        }),
    );
    snapshot.organizations.insert(
        "444455556666".into(),
        Err(CollectError::AssumeRole {
            account: "444455556666".into(),
            message: "AccessDenied: not authorized to perform sts:AssumeRole".into(),
        }),
    );
    let recording = Recording::new(SnapshotSource { snapshot });
    let first = run(&recording).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("with-errors.json");
    recording.snapshot().save(&path).unwrap();
    let loaded = Snapshot::load(&path).unwrap();
    assert_eq!(loaded, recording.snapshot(), "errors survive save and load");
    let replay = run(&SnapshotSource { snapshot: loaded }).await;
    assert_eq!(first, replay);
    // Bob's KMS denial is certain without his policies (the key policy must grant and does
    // not), and the unread identity is still named; his boundary denial cannot be decided
    // without them: Error, naming the failed read.
    assert_eq!(
        first[2]["AssessmentResult"], "Missing allow in a resource-based policy",
        "{:#}",
        first[2]
    );
    let unevaluated = first[2]["Unevaluated"].to_string();
    assert!(
        unevaluated.contains("access denied while reading iam:ListAttachedUserPolicies"),
        "{unevaluated}"
    );
    assert_eq!(first[4]["AssessmentResult"], "Error", "{:#}", first[4]);
    let msg = first[4]["ErrorMessage"].as_str().unwrap();
    assert!(
        msg.contains("access denied while reading iam:ListAttachedUserPolicies"),
        "{msg}"
    );
}

/// Runs the CLI with `stdin` as its standard input.
fn cli_with_stdin(args: &[&str], stdin: &[u8]) -> std::process::Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_access-undenied"))
        .args(args)
        .current_dir(root())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

/// `-` reads the events (analyze) and the documents (simulate) from standard input, with the
/// same results as from the file.
#[test]
fn standard_input_gives_the_same_results_as_the_file() {
    let batch = std::fs::read(root().join("events/sample-batch.json")).unwrap();
    let snapshot = "events/sample-snapshot.json";
    let from_file = cli_with_stdin(
        &[
            "analyze",
            "--events-file",
            "events/sample-batch.json",
            "--snapshot",
            snapshot,
        ],
        b"",
    );
    let from_stdin = cli_with_stdin(
        &["analyze", "--events-file", "-", "--snapshot", snapshot],
        &batch,
    );
    assert_eq!(from_file.status.code(), Some(1));
    assert_eq!(from_stdin.status.code(), Some(1));
    assert!(!from_file.stdout.is_empty());
    assert_eq!(from_file.stdout, from_stdin.stdout);

    let doc = std::fs::read(root().join("examples/simulate/scp-deny.json")).unwrap();
    let file = cli_with_stdin(
        &["simulate", "--input", "examples/simulate/scp-deny.json"],
        b"",
    );
    let stdin = cli_with_stdin(&["simulate", "--input", "-"], &doc);
    assert_eq!(file.status.code(), Some(0));
    assert!(!file.stdout.is_empty());
    assert_eq!(file.stdout, stdin.stdout);
}

/// `--format text`: one block per event, its id and `AssessmentResult` first, then the
/// explanation and each fix or denying statement.
#[test]
fn analyze_text_format_names_each_event_and_its_result() {
    let out = cli_with_stdin(
        &[
            "analyze",
            "--events-file",
            "events/sample-batch.json",
            "--snapshot",
            "events/sample-snapshot.json",
            "--format",
            "text",
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(1), "the batch holds one Error");
    let text = String::from_utf8(out.stdout).unwrap();
    let heads: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("11111111-"))
        .collect();
    assert_eq!(
        heads,
        vec![
            "11111111-0000-4000-8000-000000000001: Missing allow in an identity-based policy",
            "11111111-0000-4000-8000-000000000002: Explicit deny in a service-control policy",
            "11111111-0000-4000-8000-000000000003: Missing allow in a resource-based policy",
            "11111111-0000-4000-8000-000000000004: Missing allow in a resource-based policy in cross-account access",
            "11111111-0000-4000-8000-000000000005: Missing allow in a permissions boundary policy",
            "11111111-0000-4000-8000-000000000006: Error",
        ]
    );
    assert!(text.contains(
        "  add to arn:aws:iam::111122223333:role/teams/Developer: {\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::example-reports/2026/q3.csv\"}]}"
    ), "{text}");
    assert!(
        text.contains("  deny: DenyLambdaOutsidePlatform (arn:aws:organizations::999999999999:policy/o-exampleorg/service_control_policy/p-lambda01)"),
        "{text}"
    );
    assert!(text.contains("  record has no `eventSource`"), "{text}");
}

/// Every bundled `examples/simulate/` file runs and gives the result its name promises.
#[test]
fn the_bundled_simulate_examples_give_their_results() {
    let expected = [
        (
            "identity-missing-allow.json",
            "Missing allow in an identity-based policy",
        ),
        (
            "kms-key-policy.json",
            "Missing allow in a resource-based policy",
        ),
        (
            "permissions-boundary.json",
            "Missing allow in a permissions boundary policy",
        ),
        (
            "rcp-deny.json",
            "Explicit deny in a resource control policy",
        ),
        (
            "resource-cross-account-s3.json",
            "Missing allow in a resource-based policy in cross-account access",
        ),
        ("scp-deny.json", "Explicit deny in a service-control policy"),
        ("session-policy.json", "Missing allow in a session policy"),
        (
            "trust-policy.json",
            "Missing allow in a resource-based policy",
        ),
        ("unknown-context-key.json", "Error"),
        (
            "vpc-endpoint.json",
            "Missing allow in a VPC endpoint policy",
        ),
    ];
    let dir = root().join("examples/simulate");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let names: Vec<&str> = expected.iter().map(|(f, _)| *f).collect();
    assert_eq!(files, names, "every example has an expectation");
    for (file, assessment) in expected {
        let path = format!("examples/simulate/{file}");
        let out = cli_with_stdin(&["simulate", "--input", &path], b"");
        assert_eq!(out.status.code(), Some(0), "{file}");
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            v["Diagnosis"]["AssessmentResult"], assessment,
            "{file}: {v:#}"
        );
        // Conclusive unless the example is about an unknown key.
        assert_eq!(
            v["Conclusive"],
            file != "unknown-context-key.json",
            "{file}"
        );
    }
}

/// `events --format text`: readable lines per event, like `analyze --format text` (it printed
/// pretty JSON).
#[test]
fn events_text_format_is_text() {
    let out = cli_with_stdin(
        &[
            "events",
            "--events-file",
            "events/sample-batch.json",
            "--format",
            "text",
        ],
        b"",
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "the batch holds one unreadable record"
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        !text.contains('{') || !text.trim_start().starts_with('{'),
        "{text}"
    );
    let first: Vec<&str> = text.lines().take(3).collect();
    assert_eq!(
        first[0],
        "11111111-0000-4000-8000-000000000001: Requests (s3.amazonaws.com GetObject)"
    );
    assert_eq!(
        first[1],
        "  principal: arn:aws:sts::111122223333:assumed-role/Developer/alice (AssumedRole)"
    );
    assert_eq!(
        first[2],
        "  request: s3:GetObject on arn:aws:s3:::example-reports/2026/q3.csv"
    );
    assert!(
        text.contains("  message names: ServiceControlPolicy"),
        "{text}"
    );
    assert!(
        text.contains("11111111-0000-4000-8000-000000000006: Error\n  record has no `eventSource`"),
        "{text}"
    );
}

/// The bundled Troubleshooter denial (the demo's evidence-backed diagnosis): the cause as AWS
/// captured it, the engine agreeing, the deny detached since, so fixed since.
#[tokio::test]
async fn the_bundled_troubleshooter_denial_rests_on_aws_evidence() {
    let snapshot = Snapshot::load(&root().join("events/sample-snapshot.json")).unwrap();
    let file = std::fs::File::open(root().join("events/troubleshooter-denial.json")).unwrap();
    let items: Vec<_> = RecordReader::new(file).collect();
    assert_eq!(items.len(), 1);
    let r =
        serde_json::to_value(diagnose_item(&items[0], &SnapshotSource { snapshot }).await).unwrap();
    assert_eq!(
        r["AssessmentResult"],
        "Explicit deny in an identity-based policy"
    );
    assert_eq!(
        r["ResultDetails"]["ExplicitDenyPolicies"][0]["PolicyArn"],
        "arn:aws:iam::111122223333:policy/ProtectReports"
    );
    let e = &r["Evidence"];
    assert_eq!(e["Source"], "AccessTroubleshooter");
    assert_eq!(e["PoliciesAsOf"], "EventTime");
    assert_eq!(e["EngineAgrees"], true);
    assert_eq!(e["FixedSince"], true);
    assert_eq!(
        e["ChangedSince"],
        serde_json::json!([{"PolicyArn": "arn:aws:iam::111122223333:policy/ProtectReports", "Change": "Detached"}])
    );
}

/// `report` over an `analyze` output file: the Markdown digest and the self-contained HTML page.
#[test]
fn report_digests_an_analyze_output_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results.json");
    let status = Command::new(env!("CARGO_BIN_EXE_access-undenied"))
        .args(["analyze", "--suppress-output", "--events-file"])
        .arg(root().join("events/sample-batch.json"))
        .arg("--snapshot")
        .arg(root().join("events/sample-snapshot.json"))
        .arg("--output-file")
        .arg(&out)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(1), "the batch holds one Error");
    let report = |format: &str, extra: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_access-undenied"))
            .args(["report", "--format", format, "--results-file"])
            .arg(&out)
            .args(extra)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap()
    };
    let md = report("markdown", &[]);
    assert!(md.starts_with("# Access denied: 2026-11-20"), "{md}");
    assert!(
        md.contains("6 denials, 6 distinct findings, 0 where"),
        "{md}"
    );
    assert!(
        md.contains("| Explicit deny in a service-control policy | 1 |"),
        "{md}"
    );
    assert!(
        md.contains("remove or narrow in DenyLambdaOutsidePlatform"),
        "{md}"
    );
    let html = report("html", &[]);
    assert!(html.starts_with("<!doctype html>") && !html.contains("<script"));
    assert!(html.contains("<svg"));
    // A range with no results in it: an empty digest, not an error.
    let later = report("markdown", &["--since", "2027-01-01"]);
    assert!(later.contains("0 denials"), "{later}");
}

/// A dependent action whose resource the event does not name is set aside, not the event's
/// error: the call's own action is diagnosed and the result's notes say what was not checked
/// (README, "Companion actions").
#[tokio::test]
async fn a_dependent_action_without_its_resource_is_set_aside_in_the_notes() {
    // The fixture's record, made by bob, whose policies the bundled snapshot holds.
    let text = std::fs::read_to_string(
        root().join("tests/events/action-companions-only-when-needed.json"),
    )
    .unwrap();
    let mut record: Value = serde_json::from_str::<Value>(&text).unwrap()["Records"][4].clone();
    assert_eq!(record["eventName"], "GenerateOrganizationsAccessReport");
    record["userIdentity"]["arn"] = "arn:aws:iam::111122223333:user/bob".into();
    record["userIdentity"]["userName"] = "bob".into();
    let items: Vec<_> = RecordReader::new(record.to_string().as_bytes()).collect();
    let snapshot = Snapshot::load(&root().join("events/sample-snapshot.json")).unwrap();
    let source = SnapshotSource { snapshot };
    let result = serde_json::to_value(diagnose_item(&items[0], &source).await).unwrap();
    assert_ne!(result["AssessmentResult"], "Error", "{result:#}");
    let notes: Vec<&str> = result["Notes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        notes.contains(&"the call also needs `organizations:DescribePolicy`, which is not checked: cannot determine the resource of `organizations:DescribePolicy` from the event: neither the error message, `resources` nor `requestParameters` name it"),
        "{result:#}"
    );
    let actions: Vec<&str> = result["ExplicitDenyPolicies"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["Action"].as_str())
        .collect();
    assert!(!actions.contains(&"organizations:DescribePolicy"));
}

/// `events --format text` lists a companion action set aside, with why.
#[test]
fn events_text_lists_the_actions_set_aside() {
    let out = cli_with_stdin(
        &[
            "events",
            "--events-file",
            "tests/events/action-companions-only-when-needed.json",
            "--format",
            "text",
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("  set aside: the call also needs `organizations:DescribePolicy`, which is not checked:"),
        "{text}"
    );
}
