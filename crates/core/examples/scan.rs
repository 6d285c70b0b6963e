//! Reading throughput of the streaming CloudTrail reader over one file, for BENCHMARKS.md:
//!
//!   cargo build --release -p access-undenied-core --example scan
//!   target/release/examples/scan FILE              # RecordReader over FILE: prints Counts
//!   target/release/examples/scan --reference FILE  # the same with the byte-by-byte oracle
//!   target/release/examples/scan --ceiling FILE    # one memmem pass for `errorCode`, no JSON
//!
//! Prints one JSON line: the mode, the counts, seconds and MB/s (10^6 bytes per second). Only
//! reading is timed: the denials' items are dropped as they come (no diagnosis, no view).
//! `--ceiling` is what no JSON reader that must look at every byte can beat on this machine: it
//! reads the file in the reader's 256 KiB pieces and counts the occurrences of `errorCode`.

use std::fs::File;
use std::io::Read;
use std::time::Instant;

use access_undenied_core::event::reader::{Item, RecordReader};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mode, path) = match args.as_slice() {
        [path] => ("fast", path),
        [flag, path] if flag == "--reference" => ("reference", path),
        [flag, path] if flag == "--ceiling" => ("ceiling", path),
        _ => return Err("usage: scan [--reference | --ceiling] FILE".into()),
    };
    let file = File::open(path)?;
    let start = Instant::now();
    let (summary, bytes) = if mode == "ceiling" {
        let (hits, bytes) = ceiling(file)?;
        (format!("\"errorCode\": {hits}"), bytes)
    } else {
        let mut reader = if mode == "reference" {
            RecordReader::reference(file)
        } else {
            RecordReader::new(file)
        };
        let mut items = 0u64;
        for item in reader.by_ref() {
            if let Item::Error { event_id, error } = &item {
                eprintln!("{event_id}: {error}");
            }
            items += 1;
        }
        let c = reader.counts;
        (
            format!(
                "\"items\": {items}, \"records\": {}, \"denials\": {}, \"skipped\": {}, \"errors\": {}",
                c.records, c.denials, c.skipped, c.errors
            ),
            c.bytes,
        )
    };
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{{\"mode\": \"{mode}\", {summary}, \"bytes\": {bytes}, \"seconds\": {secs:.3}, \"MB/s\": {:.0}}}",
        bytes as f64 / secs / 1e6
    );
    Ok(())
}

/// Counts `errorCode` in the file read in 256 KiB pieces (a match cut by a piece boundary is
/// missed: this is a speed ceiling, not a count anyone relies on).
fn ceiling(mut file: File) -> std::io::Result<(u64, u64)> {
    let finder = memchr::memmem::Finder::new(b"errorCode");
    let mut buf = vec![0u8; 256 * 1024];
    let (mut hits, mut bytes) = (0u64, 0u64);
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => return Ok((hits, bytes)),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        bytes += n as u64;
        hits += finder.find_iter(&buf[..n]).count() as u64;
    }
}
