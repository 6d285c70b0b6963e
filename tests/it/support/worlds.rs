//! World fixtures: the rules of the end-to-end scenarios, checked without moto.
//!
//! A moto scenario builds its world through the AWS APIs and diagnoses its records with the AWS
//! adapter wrapped in a [`Recording`]. With `AU_RECORD_WORLDS=1` it writes what the adapter read
//! (a snapshot), the records and the full results to `tests/worlds/<module>/<test>.json`; the
//! offline test (`worlds::fixtures_replay_offline`) replays every fixture from its snapshot and
//! compares each result whole. So the moto scenarios test the adapter's reading, and the world
//! fixtures pin what the rules make of it (every field a user reads, not only the assessment).
//! Without the variable, a scenario only checks that its fixture exists.

use std::cell::Cell;
use std::path::PathBuf;

use access_undenied::collect::snapshot::Snapshot;
use serde_json::{json, Value};

use super::root;

/// The folder of the world fixtures.
pub fn dir() -> PathBuf {
    root().join("tests/worlds")
}

thread_local! {
    /// How many worlds the running test has written (a test may analyse more than once).
    static CALLS: Cell<usize> = const { Cell::new(0) };
}

/// The fixture of the running test's next analysis: `analyze_moto::scp::x` → `scp/x.json`,
/// then `scp/x-2.json` for a second analysis in the same test.
fn next_path() -> PathBuf {
    let thread = std::thread::current();
    let name = thread.name().unwrap_or("unnamed").to_string();
    let n = CALLS.with(|c| {
        c.set(c.get() + 1);
        c.get()
    });
    let mut parts: Vec<&str> = name.split("::").collect();
    if parts.first() == Some(&"analyze_moto") {
        parts.remove(0);
    }
    let file = parts.pop().unwrap_or("unnamed");
    let file = if n == 1 {
        format!("{file}.json")
    } else {
        format!("{file}-{n}.json")
    };
    parts.iter().fold(dir(), |d, p| d.join(p)).join(file)
}

/// Writes the world (with `AU_RECORD_WORLDS` set) or checks that it was written.
pub fn record_or_check(snapshot: &Snapshot, records: &[Value], results: &[Value]) {
    let path = next_path();
    if std::env::var_os("AU_RECORD_WORLDS").is_some() {
        let doc = json!({
            "Test": std::thread::current().name(),
            "Snapshot": snapshot,
            "Records": records,
            "Expected": results,
        });
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, serde_json::to_string_pretty(&doc).unwrap() + "\n").unwrap();
    } else {
        assert!(
            path.is_file(),
            "no world fixture {} for this scenario: record it with \
             `AU_RECORD_WORLDS=1 cargo test --test it analyze_moto`",
            path.display()
        );
    }
}
