//! Runs the event fixtures under `tests/events/` (repository root). Each input file (`.json`,
//! `.ndjson`, `.json.gz`, or any other name) has a sibling `<file>.expect.json`:
//!
//! ```json
//! {"Counts": {"Records": 2, "Denials": 1, "Skipped": 1, "Errors": 0},
//!  "Events": [{"EventId": "...", "Status": "Requests",
//!              "Principal": {"Type": "AssumedRole", "RoleArn": "..."},
//!              "Requests": [{"Action": "s3:GetObject", "Resource": "...",
//!                            "Context": {"aws:sourceip": "..."},
//!                            "UnknownKeys": ["aws:PrincipalTag/team"], "AbsentKeys": ["aws:SourceVpce"]}],
//!              "Hint": {"PolicyType": "IdentityBased"},
//!              "ErrorContains": "..."}]}
//! ```
//! `Events` lists every yielded item in order; each is compared as a subset of the actual view
//! (objects: listed keys only; lists: same length, element-wise). `UnknownKeys` / `AbsentKeys`
//! check how the request context answers lookups of those keys.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::io::Read;
use std::path::{Path, PathBuf};

use access_undenied_core::eval::Lookup;
use access_undenied_core::event::reader::{Item, RecordReader};
use access_undenied_core::event::view::view;
use access_undenied_core::event::{read_event, Reading};
use serde_json::Value;

fn subset(expected: &Value, actual: &Value, path: &str, problems: &mut Vec<String>) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                match a.get(k) {
                    Some(av) => subset(ev, av, &format!("{path}.{k}"), problems),
                    None if ev.is_null() => {}
                    None => problems.push(format!("{path}.{k}: missing (expected {ev})")),
                }
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            if e.len() != a.len() {
                problems.push(format!(
                    "{path}: expected {} items, got {}: {actual}",
                    e.len(),
                    a.len()
                ));
                return;
            }
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                subset(ev, av, &format!("{path}[{i}]"), problems);
            }
        }
        (e, a) if e == a => {}
        (e, a) => problems.push(format!("{path}: expected {e}, got {a}")),
    }
}

fn open(path: &Path) -> Box<dyn Read> {
    let bytes = std::fs::read(path).unwrap();
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2_free_gunzip(&bytes, &mut out);
        Box::new(std::io::Cursor::new(out))
    } else {
        Box::new(std::io::Cursor::new(bytes))
    }
}

/// The core crate has no gzip dependency; gzip fixtures are unpacked with the system `gzip`.
fn flate2_free_gunzip(bytes: &[u8], out: &mut Vec<u8>) {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new("gzip")
        .arg("-dc")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(bytes).unwrap();
    let output = child.wait_with_output().unwrap();
    out.extend_from_slice(&output.stdout);
}

fn check_keys(item: &Item, expected_event: &Value, problems: &mut Vec<String>, label: &str) {
    let Some(reqs) = expected_event.get("Requests").and_then(Value::as_array) else {
        return;
    };
    let wants_keys = reqs
        .iter()
        .any(|r| r.get("UnknownKeys").is_some() || r.get("AbsentKeys").is_some());
    // An expectation on keys is never skipped: an item without requests to check it on fails.
    let requests = match item {
        Item::Denial(ev) => match read_event(ev, None) {
            Ok(Reading::Requests { requests, .. }) => requests,
            _ => Vec::new(),
        },
        _ => Vec::new(),
    };
    if wants_keys && requests.len() != reqs.len() {
        problems.push(format!(
            "{label}: UnknownKeys/AbsentKeys expected on {} request(s), the event gives {}",
            reqs.len(),
            requests.len()
        ));
        return;
    }
    for (i, (want, got)) in reqs.iter().zip(&requests).enumerate() {
        for (field, wanted) in [("UnknownKeys", true), ("AbsentKeys", false)] {
            for key in want
                .get(field)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                let l = got.request.context.lookup(&key.to_ascii_lowercase());
                let ok = if wanted {
                    matches!(l, Lookup::Unknown)
                } else {
                    matches!(l, Lookup::Absent)
                };
                if !ok {
                    problems.push(format!(
                        "{label} request {i}: key {key} expected {field}, got {l:?}"
                    ));
                }
            }
        }
    }
}

#[test]
fn event_fixtures() {
    // The directory at run time: a binary built in another clone sharing the target directory
    // must not read that clone's fixtures.
    let root = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
        .join("../../tests/events");
    let mut files: Vec<_> = std::fs::read_dir(&root)
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    let mut failures = Vec::new();
    let mut fixtures = 0;
    let mut events = 0;
    for input in files
        .iter()
        .filter(|p| p.is_file() && !p.to_string_lossy().ends_with(".expect.json"))
    {
        if input.extension().is_some_and(|e| e == "md") {
            continue;
        }
        let expect_path = format!("{}.expect.json", input.display());
        let name = input.file_name().unwrap().to_string_lossy().to_string();
        let Ok(text) = std::fs::read_to_string(&expect_path) else {
            failures.push(format!("{name}: no {name}.expect.json"));
            continue;
        };
        let expected: Value = match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(e) => {
                failures.push(format!("{name}.expect.json: {e}"));
                continue;
            }
        };
        fixtures += 1;
        let mut reader = RecordReader::new(open(input));
        let items: Vec<Item> = reader.by_ref().collect();
        let views: Vec<Value> = items
            .iter()
            .map(|i| serde_json::to_value(view(i)).unwrap())
            .collect();
        let mut problems = Vec::new();
        if let Some(c) = expected.get("Counts") {
            let counts = reader.counts;
            let actual = serde_json::json!({"Records": counts.records, "Denials": counts.denials, "Skipped": counts.skipped, "Errors": counts.errors});
            subset(c, &actual, "Counts", &mut problems);
        }
        if let Some(evs) = expected.get("Events").and_then(Value::as_array) {
            events += evs.len();
            if evs.len() != views.len() {
                problems.push(format!(
                    "expected {} events, got {}: {}",
                    evs.len(),
                    views.len(),
                    views
                        .iter()
                        .map(|v| v["EventId"].to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            for (i, (want, got)) in evs.iter().zip(&views).enumerate() {
                let mut want = want.clone();
                let error_contains = want.as_object_mut().and_then(|o| o.remove("ErrorContains"));
                if let Some(reqs) = want.get_mut("Requests").and_then(Value::as_array_mut) {
                    for r in reqs {
                        if let Some(o) = r.as_object_mut() {
                            o.remove("UnknownKeys");
                            o.remove("AbsentKeys");
                        }
                    }
                }
                subset(&want, got, &format!("Events[{i}]"), &mut problems);
                if let Some(text) = error_contains.as_ref().and_then(Value::as_str) {
                    let msg = got
                        .get("ErrorMessage")
                        .and_then(Value::as_str)
                        .unwrap_or("");
                    if !msg.contains(text) {
                        problems.push(format!(
                            "Events[{i}]: ErrorMessage `{msg}` does not contain `{text}`"
                        ));
                    }
                }
                check_keys(&items[i], &evs[i], &mut problems, &format!("Events[{i}]"));
            }
        }
        if !problems.is_empty() {
            failures.push(format!("{name}:\n    {}", problems.join("\n    ")));
        }
    }
    eprintln!("{fixtures} event fixtures, {events} events checked");
    assert!(
        fixtures > 0,
        "no event fixtures found: the harness would pass on nothing"
    );
    assert!(
        failures.is_empty(),
        "{} fixtures failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_access_denied_code_has_a_fixture() {
    let root = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
        .join("../../tests/events");
    let mut written = std::collections::BTreeSet::new();
    let code = regex::Regex::new(r#""errorCode"\s*:\s*"([^"]+)""#).unwrap();
    for entry in std::fs::read_dir(&root).unwrap().filter_map(Result::ok) {
        let path = entry.path();
        let name = path.to_string_lossy().to_string();
        if name.ends_with(".expect.json") || name.ends_with(".md") || name.ends_with(".gz") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        written.extend(code.captures_iter(&text).map(|c| c[1].to_string()));
    }
    let missing: Vec<&str> = access_undenied_core::event::ACCESS_DENIED_CODES
        .iter()
        .copied()
        .filter(|c| !written.contains(*c))
        .collect();
    assert!(missing.is_empty(), "codes without a fixture: {missing:?}");
}
