//! Backfill throughput of one function instance, CPU only: the backfill mode
//! (`lambda::backfill::run`) over gzipped CloudTrail objects held in memory, policies from an
//! offline snapshot, results into the in-memory sink — what one instance does per object once
//! S3 has answered, without S3's or DynamoDB's latency (BENCHMARKS.md adds those on paper).
//!
//! `scripts/bench backfill` runs it: `cargo bench --bench backfill -- LOG SNAPSHOT
//! RECORDS_PER_OBJECT` on a log written by `scripts/gen-cloudtrail`. Prints objects/s, MB/s
//! (compressed and as read), records/s and denials/s of a single thread.

use std::collections::HashMap;
use std::io::Write;
use std::time::Instant;

use access_undenied::collect::snapshot::{Snapshot, SnapshotSource};
use access_undenied::lambda::backfill::{run, BackfillRequest, ObjectSource};
use access_undenied::sink::memory::MemorySink;
use serde_json::Value;

struct Objects(HashMap<String, Vec<u8>>);

#[async_trait::async_trait]
impl ObjectSource for Objects {
    async fn get(&self, _bucket: &str, key: &str) -> Result<Vec<u8>, String> {
        self.0.get(key).cloned().ok_or_else(|| format!("no {key}"))
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let [log, snapshot, per_object] = args.as_slice() else {
        eprintln!("usage: backfill LOG SNAPSHOT RECORDS_PER_OBJECT");
        return Ok(());
    };
    let per_object: usize = per_object.parse()?;
    let doc: Value = serde_json::from_slice(&std::fs::read(log)?)?;
    let records = doc["Records"].as_array().cloned().unwrap_or_default();
    let mut objects = HashMap::new();
    let (mut plain, mut packed) = (0usize, 0usize);
    for (i, chunk) in records.chunks(per_object.max(1)).enumerate() {
        let text = serde_json::json!({ "Records": chunk }).to_string();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(text.as_bytes())?;
        let bytes = gz.finish()?;
        plain += text.len();
        packed += bytes.len();
        objects.insert(
            format!("AWSLogs/111100000000/CloudTrail/us-east-1/2026/11/20/o{i:06}.json.gz"),
            bytes,
        );
    }
    let keys: Vec<String> = {
        let mut k: Vec<String> = objects.keys().cloned().collect();
        k.sort();
        k
    };
    let n = keys.len();
    let source = SnapshotSource {
        snapshot: Snapshot::load(std::path::Path::new(snapshot))?,
    };
    let objects = Objects(objects);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let request = BackfillRequest::for_keys("trail", keys);
    for round in 0..3 {
        // A fresh sink each round: every denial is stored as new.
        let sink = MemorySink::new(60);
        let started = Instant::now();
        let counts = runtime.block_on(run(&request, &objects, &source, &sink))?;
        let secs = started.elapsed().as_secs_f64();
        println!(
            "round {round}: {n} objects ({:.0} KB gz, {:.0} KB as read each) in {secs:.2} s: \
             {:.0} objects/s, {:.1} MB/s gz, {:.1} MB/s as read, {:.0} records/s, {:.0} denials/s \
             ({} denials, {} stored)",
            packed as f64 / n as f64 / 1e3,
            plain as f64 / n as f64 / 1e3,
            n as f64 / secs,
            packed as f64 / 1e6 / secs,
            plain as f64 / 1e6 / secs,
            counts.records as f64 / secs,
            counts.denials as f64 / secs,
            counts.denials,
            counts.stored
        );
    }
    Ok(())
}
