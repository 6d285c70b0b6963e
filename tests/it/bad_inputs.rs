//! The bad-input corpus (tests/bad_inputs/, see its README and EXPECTATIONS): every bad record
//! gives one clear per-event `Error` and the good records around it are still diagnosed; large
//! and hostile inputs (huge strings, deep nesting, oversized records, a gzip bomb, broken
//! policies in a snapshot or in `simulate` input) are generated here rather than committed.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use access_undenied::app::diagnose_item;
use access_undenied::collect::snapshot::{Snapshot, SnapshotSource};
use access_undenied::core::event::reader::{RecordReader, MAX_RECORD_BYTES};
use serde_json::Value;

use crate::support::root;

fn corpus() -> PathBuf {
    root().join("tests/bad_inputs")
}

const GOOD_RESULT: &str = "Missing allow in an identity-based policy";

/// The first sample record (diagnosed against the sample snapshot), with its own event id.
fn good(id: &str) -> String {
    let text = std::fs::read_to_string(root().join("events/sample-batch.json")).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    let mut rec = doc["Records"][0].clone();
    rec["eventID"] = Value::String(id.into());
    serde_json::to_string(&rec).unwrap()
}

fn sample_snapshot() -> Snapshot {
    Snapshot::load(&root().join("events/sample-snapshot.json")).unwrap()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

/// Reads `input` with the streaming reader and diagnoses every item against `snapshot`.
fn diagnose_with(input: impl std::io::Read, snapshot: Snapshot) -> Vec<Value> {
    let source = SnapshotSource { snapshot };
    let items: Vec<_> = RecordReader::new(input).collect();
    runtime().block_on(async {
        let mut out = Vec::new();
        for item in &items {
            out.push(serde_json::to_value(diagnose_item(item, &source).await).unwrap());
        }
        out
    })
}

fn diagnose(input: &[u8]) -> Vec<Value> {
    diagnose_with(input, sample_snapshot())
}

fn summary(results: &[Value]) -> String {
    results
        .iter()
        .map(|r| {
            format!(
                "{} {} {}",
                r["EventId"],
                r["AssessmentResult"],
                r["ErrorMessage"]
                    .as_str()
                    .unwrap_or("")
                    .chars()
                    .take(300)
                    .collect::<String>()
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn assert_good(r: &Value, id: &str, all: &[Value]) {
    assert_eq!(r["EventId"], id, "{}", summary(all));
    assert_eq!(r["AssessmentResult"], GOOD_RESULT, "{}", summary(all));
}

/// `want`: a text the `ErrorMessage` must contain, or `result:<AssessmentResult>` for
/// an event that is readable but names its own problem (such as `Invalid action`).
fn assert_error(r: &Value, want: &str, all: &[Value], name: &str) {
    if let Some(result) = want.strip_prefix("result:") {
        assert_eq!(r["AssessmentResult"], result, "{name}:\n{}", summary(all));
        return;
    }
    assert_eq!(r["AssessmentResult"], "Error", "{name}:\n{}", summary(all));
    let msg = r["ErrorMessage"].as_str().unwrap_or("");
    assert!(!msg.is_empty(), "{name}: an Error names its cause");
    assert!(
        msg.to_lowercase().contains(&want.to_lowercase()),
        "{name}: `{msg}` should mention `{want}`"
    );
}

/// `good, bad, good` in the given form; the bad one is an Error, the good ones are diagnosed.
fn check_between(bad: &[u8], mode: &str, want: &str, name: &str) {
    let (g1, g2) = (good("GOOD-1"), good("GOOD-2"));
    let mut input = Vec::new();
    match mode {
        "list" => {
            input.extend_from_slice(format!("{{\"Records\": [{g1},\n").as_bytes());
            input.extend_from_slice(bad.trim_ascii());
            input.extend_from_slice(format!(",\n{g2}]}}").as_bytes());
        }
        "ndjson" => {
            input.extend_from_slice(format!("{g1}\n").as_bytes());
            input.extend_from_slice(bad.trim_ascii());
            input.extend_from_slice(format!("\n{g2}\n").as_bytes());
        }
        other => panic!("unknown mode {other}"),
    }
    let results = diagnose(&input);
    assert_eq!(results.len(), 3, "{name}:\n{}", summary(&results));
    assert_good(&results[0], "GOOD-1", &results);
    assert_error(&results[1], want, &results, name);
    assert_good(&results[2], "GOOD-2", &results);
}

#[test]
fn corpus_files_each_give_one_error_and_the_batch_goes_on() {
    let spec = std::fs::read_to_string(corpus().join("EXPECTATIONS")).unwrap();
    let mut checked = 0;
    let mut failed = Vec::new();
    for line in spec.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        let [file, mode, want] = cols[..] else {
            panic!("bad EXPECTATIONS line: {line}")
        };
        let bytes = std::fs::read(corpus().join(file)).unwrap();
        let outcome = std::panic::catch_unwind(|| match mode {
            "list" | "ndjson" => check_between(&bytes, mode, want, file),
            "whole" => {
                let results = diagnose(&bytes);
                assert!(!results.is_empty(), "{file}: no result at all");
                for r in &results {
                    assert_error(r, want, &results, file);
                }
            }
            "whole-after-good" => {
                let results = diagnose(&bytes);
                assert!(results.len() >= 2, "{file}:\n{}", summary(&results));
                let (last, before) = results.split_last().unwrap();
                for r in before {
                    assert_eq!(r["AssessmentResult"], GOOD_RESULT, "{file}");
                }
                assert_error(last, want, &results, file);
            }
            other => panic!("{file}: unknown mode {other}"),
        });
        if outcome.is_err() {
            failed.push(file.to_string());
        }
        checked += 1;
    }
    assert!(failed.is_empty(), "failed: {failed:?}");
    assert!(checked >= 40, "the corpus holds at least 40 bad inputs");
    // Every corpus file is listed.
    let listed = spec.lines().filter(|l| !l.starts_with('#')).count();
    let files = std::fs::read_dir(corpus())
        .unwrap()
        .filter(|e| {
            let n = e.as_ref().unwrap().file_name();
            let n = n.to_string_lossy();
            n.ends_with(".json") || n.ends_with(".bin")
        })
        .count();
    assert_eq!(listed, files, "EXPECTATIONS lists every corpus file");
}

#[test]
fn absurdly_long_strings_are_one_error_or_diagnosed() {
    let long = "A".repeat(8 * 1024 * 1024);
    for field in ["eventName", "eventSource", "errorMessage"] {
        let mut rec: Value = serde_json::from_str(&good("BAD-long")).unwrap();
        rec[field] = Value::String(long.clone());
        let bad = serde_json::to_vec(&rec).unwrap();
        for mode in ["list", "ndjson"] {
            let want = match field {
                "errorMessage" => GOOD_RESULT,
                "eventName" => "`eventName` is 8388608 bytes long; at most 256 are accepted",
                _ => "`eventSource` is 8388608 bytes long; at most",
            };
            if want == GOOD_RESULT {
                // A long message is only text: the event is still diagnosed.
                let results = diagnose(&bad);
                assert_eq!(results[0]["AssessmentResult"], GOOD_RESULT);
                continue;
            }
            check_between(&bad, mode, want, field);
        }
    }
    // A long user name inside the principal's ARN.
    let mut rec: Value = serde_json::from_str(&good("BAD-arn")).unwrap();
    rec["userIdentity"]["arn"] = Value::String(format!(
        "arn:aws:sts::111122223333:assumed-role/Developer/{}",
        "x".repeat(4 * 1024 * 1024)
    ));
    let results = diagnose(&serde_json::to_vec(&rec).unwrap());
    assert_eq!(results.len(), 1);
}

#[test]
fn deeply_nested_json_is_one_error() {
    let depth = 100_000;
    let deep = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    // Inside a record that claims to be a denial.
    let bad = format!(
        "{{\"eventID\":\"BAD-deep\",\"errorCode\":\"AccessDenied\",\"requestParameters\":{deep}}}"
    );
    check_between(bad.as_bytes(), "list", "recursion limit", "nested list");
    check_between(bad.as_bytes(), "ndjson", "recursion limit", "nested ndjson");
    let objs = format!(
        "{{\"eventID\":\"BAD-deep\",\"errorCode\":\"AccessDenied\",\"a\":{}1{}}}",
        "{\"a\":".repeat(depth),
        "}".repeat(depth)
    );
    check_between(objs.as_bytes(), "list", "recursion limit", "nested objects");
    // The whole input an unclosed nest: one error, no crash.
    let results = diagnose("[".repeat(depth).as_bytes());
    assert_eq!(results.len(), 1);
    assert_error(&results[0], "end of input", &results, "unclosed nest");
}

/// Bytes after the oversized record are not read: the reader stops with one error.
fn check_oversized(input: impl std::io::Read, name: &str) {
    let mut reader = RecordReader::new(input);
    let items: Vec<_> = reader.by_ref().collect();
    let source = SnapshotSource {
        snapshot: sample_snapshot(),
    };
    let results: Vec<Value> = runtime().block_on(async {
        let mut out = Vec::new();
        for item in &items {
            out.push(serde_json::to_value(diagnose_item(item, &source).await).unwrap());
        }
        out
    });
    assert_eq!(results.len(), 2, "{name}:\n{}", summary(&results));
    assert_good(&results[0], "GOOD-1", &results);
    assert_error(&results[1], "larger than", &results, name);
    assert!(
        reader.counts.bytes < (MAX_RECORD_BYTES as u64) * 2,
        "{name}: read {} bytes",
        reader.counts.bytes
    );
}

/// An endless byte source: `head`, then `fill` repeated `n` times.
struct Repeat {
    head: std::io::Cursor<Vec<u8>>,
    fill: Vec<u8>,
    left: u64,
}

impl std::io::Read for Repeat {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.head.read(buf)?;
        if n > 0 {
            return Ok(n);
        }
        if self.left == 0 {
            return Ok(0);
        }
        let n = buf.len().min(self.fill.len());
        buf[..n].copy_from_slice(&self.fill[..n]);
        self.left = self.left.saturating_sub(n as u64);
        Ok(n)
    }
}

fn endless(head: String, fill: &[u8]) -> Repeat {
    Repeat {
        head: std::io::Cursor::new(head.into_bytes()),
        fill: fill.repeat(64 * 1024 / fill.len().max(1)),
        left: 4 << 30,
    }
}

#[test]
fn oversized_records_stop_the_read_with_bounded_memory() {
    let g1 = good("GOOD-1");
    // One endless string value in a list element.
    check_oversized(
        endless(
            format!("{{\"Records\": [{g1}, {{\"eventID\": \"BAD\", \"x\": \""),
            b"A",
        ),
        "endless string",
    );
    // An endless top-level object of small keys (NDJSON).
    check_oversized(
        endless(
            format!("{g1}\n{{\"errorCode\": \"AccessDenied\""),
            b",\"k\":1",
        ),
        "endless object",
    );
    // An endless run of whitespace inside a top-level object.
    check_oversized(
        endless(format!("{g1}\n{{\"errorCode\": \"AccessDenied\","), b" "),
        "endless whitespace",
    );
}

/// A small `.gz` (concatenated gzip members) expanding to more than 1 GB.
fn gzip_bomb(path: &Path) -> u64 {
    use flate2::{write::GzEncoder, Compression};
    let member = |data: &[u8]| {
        let mut e = GzEncoder::new(Vec::new(), Compression::best());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    };
    let mut out = std::fs::File::create(path).unwrap();
    let head = format!(
        "{{\"Records\": [{}, {{\"eventID\": \"BOMB\", \"errorCode\": \"AccessDenied\", \"requestParameters\": {{\"x\": \"",
        good("GOOD-1")
    );
    out.write_all(&member(head.as_bytes())).unwrap();
    let block = member(&vec![b'A'; 16 << 20]);
    let copies = 70; // 70 × 16 MiB = 1.1 GiB
    for _ in 0..copies {
        out.write_all(&block).unwrap();
    }
    out.write_all(&member(format!("\"}}}}, {}]}}", good("GOOD-2")).as_bytes()))
        .unwrap();
    out.flush().unwrap();
    copies * (16 << 20)
}

#[test]
fn gzip_bomb_is_cut_off_at_the_record_limit() {
    let dir = tempfile::tempdir().unwrap();
    let bomb = dir.path().join("bomb.json.gz");
    let expands_to = gzip_bomb(&bomb);
    let size = std::fs::metadata(&bomb).unwrap().len();
    assert!(
        expands_to > 1 << 30 && size < 2 << 20,
        "{size} → {expands_to}"
    );
    // Library: stops after MAX_RECORD_BYTES of the bomb record.
    let input = access_undenied::input::open(&bomb).unwrap();
    check_oversized(input, "gzip bomb");
    // CLI: the good record is diagnosed, the bomb is one Error, exit 1.
    let out = Command::new(env!("CARGO_BIN_EXE_access-undenied"))
        .args(["analyze", "--events-file"])
        .arg(&bomb)
        .arg("--snapshot")
        .arg(root().join("events/sample-snapshot.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{}", String::from_utf8_lossy(&out.stdout));
    assert_good(&lines[0], "GOOD-1", &lines);
    assert_error(&lines[1], "larger than", &lines, "cli gzip bomb");
}

/// The sample snapshot with the first identity policy's document replaced by `doc` (JSON text).
fn snapshot_with(doc: &str, dir: &Path) -> Result<Snapshot, String> {
    let text = std::fs::read_to_string(root().join("events/sample-snapshot.json")).unwrap();
    let mut v: Value = serde_json::from_str(&text).unwrap();
    v["Identities"]["arn:aws:iam::111122223333:role/teams/Developer"]["Ok"]["Policies"][0]
        ["Document"] = Value::String("@@DOC@@".into());
    let text = serde_json::to_string(&v)
        .unwrap()
        .replace("\"@@DOC@@\"", doc);
    let path = dir.join("snapshot.json");
    std::fs::write(&path, text).unwrap();
    Snapshot::load(&path).map_err(|e| e.to_string())
}

/// What the error of each broken document of `broken_policies_in_a_snapshot` must say.
fn broken_policy_reason(name: &str) -> &'static str {
    match name {
        "invalid operator" => "unknown condition operator `StringFuzzy`",
        "document is a string" => "policy must be a json object",
        "document is a number" => "policy must be a json object",
        "effect Maybe" => "element `Effect`: must be `Allow` or `Deny`",
        "action without service" => "`GetObject` is not an action",
        "statement a number" => "element `Statement`: must be a json object",
        "unknown element" => "element `Frob`: unknown statement element",
        "bad version" => "unsupported policy `Version` `2020-01-01`",
        other => panic!("no expectation for {other}"),
    }
}

/// Broken policy documents in a snapshot: each event's result is an inconclusive `Error` naming
/// the policy and what is wrong with it (a duplicated key refuses the snapshot), never a crash.
#[test]
fn broken_policies_in_a_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let stmt = r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}"#;
    let huge = format!(
        r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
        vec![r#"{"Effect":"Allow","Action":"ec2:DescribeInstances","Resource":"*"}"#; 20_000]
            .join(",")
    );
    let cases: Vec<(&str, String)> = vec![
        (
            "invalid operator",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringFuzzy":{"aws:username":"alice"}}}]}"#.to_string(),
        ),
        (
            "duplicated Effect key",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#.into(),
        ),
        (
            "duplicated Statement key",
            format!(r#"{{"Version":"2012-10-17","Statement":[],"Statement":[{stmt}]}}"#),
        ),
        ("document is a string", r#""{\"Statement\":[]}""#.into()),
        ("document is a number", "7".into()),
        ("effect Maybe", r#"{"Statement":[{"Effect":"Maybe","Action":"s3:GetObject","Resource":"*"}]}"#.into()),
        ("action without service", r#"{"Statement":[{"Effect":"Allow","Action":"GetObject","Resource":"*"}]}"#.into()),
        ("statement a number", r#"{"Statement":[1]}"#.into()),
        ("unknown element", r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Frob":1}]}"#.into()),
        ("bad version", r#"{"Version":"2020-01-01","Statement":[]}"#.into()),
        ("huge document", huge),
    ];
    let batch = format!("{}\n{}\n", good("GOOD-1"), good("GOOD-2"));
    for (name, doc) in cases {
        let snapshot = snapshot_with(&doc, dir.path());
        // A duplicated key is ambiguous (which one would AWS honour?): the snapshot is refused
        // with a usage error naming the key, before any event is diagnosed from it.
        if name.starts_with("duplicated") {
            let e = snapshot.err().unwrap_or_default();
            assert!(e.contains("duplicate key"), "{name}: {e}");
            continue;
        }
        let results = diagnose_with(batch.as_bytes(), snapshot.unwrap());
        assert_eq!(results.len(), 2, "{name}");
        for r in &results {
            if name == "huge document" {
                // Large but valid: read whole, and it allows only EC2.
                assert_eq!(
                    r["AssessmentResult"], "Missing allow in an identity-based policy",
                    "{name}: {r}"
                );
                continue;
            }
            // A broken document is never a grant that hides the denial, nor a guessed cause:
            // the event is an inconclusive `Error` naming the policy and what is wrong with it.
            assert_eq!(r["AssessmentResult"], "Error", "{name}: {r}");
            let msg = r["ErrorMessage"].as_str().unwrap_or("");
            assert!(msg.starts_with("inconclusive:"), "{name}: {msg}");
            assert!(msg.contains(broken_policy_reason(name)), "{name}: {msg}");
            if name != "invalid operator" {
                assert!(
                    msg.contains("role/teams/Developer/ReadOwnReports"),
                    "{name}: {msg}"
                );
            }
        }
    }
}

fn simulate(input: &str) -> (Option<i32>, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("case.json");
    std::fs::write(&path, input).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_access-undenied"))
        .args(["simulate", "--input"])
        .arg(&path)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Broken `simulate` documents: an `Error` outcome for the broken one (exit 1) while the
/// others in the same NDJSON input are still evaluated, or a usage error (exit 2).
#[test]
fn broken_simulate_input() {
    let ok = r#"{"Name":"ok","Request":{"Principal":"arn:aws:iam::111122223333:user/a","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/k"},"Policies":{"Identity":[{"Name":"p","Document":{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}}]}}"#;
    let with = |doc: &str| {
        ok.replace(
            r#"{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#,
            doc,
        )
    };
    let huge = format!(
        r#"{{"Statement":[{}]}}"#,
        vec![r#"{"Effect":"Deny","Action":"ec2:Run*","Resource":"*"}"#; 20_000].join(",")
    );
    let cases = [
        (
            "effect",
            with(r#"{"Statement":[{"Effect":"Perhaps","Action":"s3:GetObject","Resource":"*"}]}"#),
            true,
        ),
        (
            "operator value",
            with(
                r#"{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":[1]}}]}"#,
            ),
            true,
        ),
        ("request", r#"{"Name":"x","Request":7}"#.to_string(), true),
        ("no request", r#"{"Name":"x"}"#.to_string(), true),
        (
            "deep",
            format!(
                "{{\"Name\":\"x\",\"Request\":{}{}}}",
                "[".repeat(50_000),
                "]".repeat(50_000)
            ),
            true,
        ),
        ("huge", with(&huge), false),
        (
            "unknown operator",
            with(
                r#"{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringFuzzy":{"aws:username":"a"}}}]}"#,
            ),
            false,
        ),
        (
            "duplicate key",
            with(
                r#"{"Statement":[{"Effect":"Allow","Effect":"Deny","Action":"s3:GetObject","Resource":"*"}]}"#,
            ),
            true,
        ),
    ];
    for (name, bad, is_error) in cases {
        let (code, stdout, stderr) = simulate(&format!("{ok}\n{bad}\n{ok}\n"));
        let lines: Vec<Value> = stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 3, "{name}: {stdout} {stderr}");
        assert_eq!(lines[0]["Decision"], "Allowed", "{name}: {}", lines[0]);
        assert_eq!(lines[2]["Decision"], "Allowed", "{name}");
        if is_error {
            assert_eq!(code, Some(1), "{name}");
            if name == "duplicate key" {
                assert!(
                    lines[1]["Error"]
                        .to_string()
                        .contains("duplicate key `Effect`"),
                    "{name}: {}",
                    lines[1]
                );
            }
            assert!(
                lines[1]["Error"].as_str().is_some_and(|e| !e.is_empty()),
                "{name}: {}",
                lines[1]
            );
        } else {
            assert!(lines[1]["Error"].is_string() || lines[1]["Decision"].is_string());
        }
        eprintln!(
            "{name}: {}",
            &lines[1].to_string()[..lines[1].to_string().len().min(300)]
        );
    }
    // Not JSON at all: a usage error.
    let (code, _, stderr) = simulate("\u{0}\u{1}garbage");
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("not valid json"), "{stderr}");
}
