//! The world fixtures (`tests/worlds/`, see `support::worlds`) replayed offline: each
//! scenario's snapshot through `SnapshotSource`, its records through the pipeline, every result
//! compared whole with the one recorded against moto.

use access_undenied::collect::snapshot::{Snapshot, SnapshotSource};
use serde_json::Value;

use crate::support::run::analyze_with;
use crate::support::worlds::dir;

fn fixtures(d: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(d).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            fixtures(&path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
}

#[tokio::test]
async fn fixtures_replay_offline() {
    let mut files = Vec::new();
    fixtures(&dir(), &mut files);
    files.sort();
    assert!(
        files.len() >= 40,
        "only {} world fixtures under {}",
        files.len(),
        dir().display()
    );
    let mut failures = Vec::new();
    for file in &files {
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        let snapshot: Snapshot = serde_json::from_value(doc["Snapshot"].clone()).unwrap();
        let records = doc["Records"].as_array().unwrap();
        let expected = doc["Expected"].as_array().unwrap();
        assert!(!expected.is_empty(), "{}: no results", file.display());
        let got = analyze_with(&SnapshotSource { snapshot }, records).await;
        let expected = &crate::support::run::as_replayed(expected);
        if &got != expected {
            failures.push(format!(
                "{}:\nexpected {}\n     got {}",
                file.display(),
                serde_json::to_string_pretty(expected).unwrap(),
                serde_json::to_string_pretty(&got).unwrap()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} world fixtures differ:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}
