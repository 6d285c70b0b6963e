//! `analyze --events-file s3://…` on moto's S3: gzipped CloudTrail objects under the standard
//! key layout, read one at a time through the same reader, filtered by date range, accounts and
//! regions before anything is downloaded; digest files and (with filters) other objects are not
//! read. Policies come from the bundled snapshot, so only S3 is on moto.

use std::process::Command;

use serde_json::Value;

use crate::support::lambda::gz;
use crate::support::{self, moto, root};

const BUCKET: &str = "org-trail";

use crate::support::lambda::{put_objects, trail_key as key};

/// The trail bucket `org-trail` on moto: the bundled batch on 2026-11-20 (two accounts and
/// regions), one troubleshooter denial on 2026-11-21, and a digest file.
pub(crate) async fn trail() -> aws_sdk_s3::Client {
    let s3 = support::s3(&support::config().await);
    s3.create_bucket().bucket(BUCKET).send().await.unwrap();
    let batch = std::fs::read_to_string(root().join("events/sample-batch.json")).unwrap();
    let one: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("events/troubleshooter-denial.json")).unwrap(),
    )
    .unwrap();
    let single = serde_json::json!({"Records": [one]}).to_string();
    put_objects(
        &s3,
        BUCKET,
        vec![
        (
            key("111122223333", "us-east-1", "2026-11-20", "a.json.gz"),
            gz(&batch),
        ),
        (
            key("111122223333", "us-east-1", "2026-11-21", "b.json.gz"),
            gz(&single),
        ),
        (
            key("444455556666", "eu-west-1", "2026-11-20", "c.json.gz"),
            gz(&batch),
        ),
        (
            "AWSLogs/o-exampleorg/111122223333/CloudTrail-Digest/us-east-1/2026/11/20/d.json.gz"
                .to_string(),
            gz("{}"),
        ),
    ],
    )
    .await;
    s3
}

/// Runs `analyze` on `url` with `extra` flags; (results, stderr, exit code).
fn analyze(url: &str, extra: &[&str]) -> (Vec<Value>, String, Option<i32>) {
    let snapshot = root().join("events/sample-snapshot.json");
    let out = Command::new(env!("CARGO_BIN_EXE_access-undenied"))
        .args(["analyze", "--events-file", url, "--snapshot"])
        .arg(&snapshot)
        .args(extra)
        .output()
        .unwrap();
    let results = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (
        results,
        String::from_utf8_lossy(&out.stderr).to_string(),
        out.status.code(),
    )
}

#[tokio::test]
async fn s3_prefix_is_read_object_by_object_with_filters() {
    let _env = moto().await;
    trail().await;
    let prefix = format!("s3://{BUCKET}/AWSLogs/");

    // Everything but the digest: the batch twice (6 results each) and the single denial.
    let (all, stderr, _) = analyze(&prefix, &[]);
    assert_eq!(all.len(), 13, "{stderr}");
    assert!(stderr.contains("3 object(s) read"), "{stderr}");
    assert!(stderr.contains("1 left out"), "{stderr}");

    let (since, _, code) = analyze(&prefix, &["--since", "2026-11-21"]);
    assert_eq!(since.len(), 1);
    assert_eq!(since[0]["EventId"], "11111111-0000-4000-8000-000000000008");
    assert_eq!(since[0]["Evidence"]["Source"], "AccessTroubleshooter");
    assert_eq!(code, Some(0));

    let (by_account, _, _) = analyze(&prefix, &["--accounts", "444455556666"]);
    assert_eq!(by_account.len(), 6);
    let (by_region, _, _) = analyze(
        &prefix,
        &["--regions", "us-east-1", "--until", "2026-11-20"],
    );
    assert_eq!(by_region.len(), 6);
    let (none, stderr, _) = analyze(&prefix, &["--accounts", "999999999999"]);
    assert!(none.is_empty());
    assert!(stderr.contains("0 object(s) read"), "{stderr}");

    // One key.
    let one = format!(
        "s3://{BUCKET}/{}",
        key("111122223333", "us-east-1", "2026-11-21", "b.json.gz")
    );
    assert_eq!(analyze(&one, &[]).0.len(), 1);
}

#[tokio::test]
async fn s3_errors_and_misuse_are_reported() {
    let _env = moto().await;
    trail().await;
    let (results, stderr, code) = analyze("s3://no-such-bucket/AWSLogs/", &[]);
    assert!(results.is_empty());
    assert!(
        stderr.contains("cannot list s3://no-such-bucket/AWSLogs/"),
        "{stderr}"
    );
    assert_eq!(code, Some(2));
    let (_, stderr, code) = analyze(&format!("s3://{BUCKET}/"), &["--since", "20261120"]);
    assert!(stderr.contains("not a date"), "{stderr}");
    assert_eq!(code, Some(2));
    let file = root().join("events/sample-batch.json");
    let (_, stderr, code) = analyze(file.to_str().unwrap(), &["--accounts", "111122223333"]);
    assert!(stderr.contains("apply to s3:// inputs only"), "{stderr}");
    assert_eq!(code, Some(2));
}

#[tokio::test]
async fn on_a_terminal_the_progress_counts_objects_bytes_and_events() {
    let _env = moto().await;
    trail().await;
    let snapshot = root().join("events/sample-snapshot.json");
    // `script` gives the command a terminal (stderr too), as a person running it has.
    let cmd = format!(
        "{} analyze --events-file s3://{BUCKET}/AWSLogs/ --snapshot {} --suppress-output",
        env!("CARGO_BIN_EXE_access-undenied"),
        snapshot.display()
    );
    let out = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    // The bundled batch holds an unreadable record: status 1, as without a terminal.
    assert_eq!(out.status.code(), Some(1), "{text}");
    for part in ["objects (", "/s)", "read (", "events analysed ("] {
        assert!(
            text.contains(part),
            "`{part}` not in the progress line: {text:?}"
        );
    }
}
