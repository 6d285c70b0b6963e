//! Engine throughput over a file of `simulate` documents, for `scripts/bench vs-iam-simulate`.
//!
//!   cargo run --release -p access-undenied-core --example simulate_throughput -- CASES.ndjson [SECONDS]
//!
//! Each line of CASES.ndjson is a `simulate` document (README, "Simulate input") with an extra
//! `Group` field. The cases of each group are parsed once, then evaluated in a loop on this one
//! thread: a warm-up of a fifth of SECONDS (default 2), then at least SECONDS of measured
//! passes over the whole group (the clock is read after every 64 decisions or more, not after
//! every pass: timing a one-case group is not timing the clock). Prints one JSON line per group, in first-appearance order:
//! `{"Group", "Cases", "Decisions", "Seconds", "DecisionsPerSec", "NsPerDecision",
//! "Results": ["Allowed" | "ExplicitDeny" | "ImplicitDeny" | "Error: …", …]}`.
//! Only `evaluate` is timed: not JSON parsing, not the report or the diagnosis.
//!
//! Identical policy documents are parsed once and shared by every case that carries them
//! (`simulate::PolicyCache`), as one batch shares its account's policies; `SHARE=0` gives each
//! case its own parsed copy instead (the layout before 2026-11-24, for comparison).
//!
//! With `PASSES=N` in the environment, exactly N passes over each group are made (no warm-up,
//! no time limit): deterministic work for `valgrind --tool=callgrind` (`PASSES=0` leaves only
//! the parsing and the one decision per case of `Results`).

use std::hint::black_box;
use std::time::{Duration, Instant};

use access_undenied_core::eval::evaluate;
use access_undenied_core::simulate::{parse_case, parse_case_shared, Case, PolicyCache};
use serde_json::{json, Value};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .ok_or("usage: simulate_throughput CASES.ndjson [SECONDS]")?;
    let seconds: f64 = match args.next() {
        Some(s) => s.parse()?,
        None => 2.0,
    };
    let text = std::fs::read_to_string(&path)?;
    let share = std::env::var("SHARE").map_or(true, |v| v != "0");
    let mut cache = PolicyCache::default();

    // Groups in first-appearance order; a case that does not parse keeps its slot as an error.
    let mut groups: Vec<(String, Vec<Result<Case, String>>)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let doc: Value =
            serde_json::from_str(line).map_err(|e| format!("{path}:{}: {e}", i + 1))?;
        let group = doc
            .get("Group")
            .and_then(Value::as_str)
            .unwrap_or("default")
            .to_string();
        let case = if share {
            parse_case_shared(&doc, &mut cache)
        } else {
            parse_case(&doc)
        }
        .map_err(|e| e.to_string());
        match groups.iter_mut().find(|(g, _)| *g == group) {
            Some((_, cases)) => cases.push(case),
            None => groups.push((group, vec![case])),
        }
    }

    for (group, cases) in &groups {
        let ok: Vec<&Case> = cases.iter().filter_map(|c| c.as_ref().ok()).collect();
        let results: Vec<String> = cases
            .iter()
            .map(|c| match c {
                Ok(case) => format!("{:?}", evaluate(&case.request, &case.policies).decision),
                Err(e) => format!("Error: {e}"),
            })
            .collect();
        let passes = std::env::var("PASSES")
            .ok()
            .and_then(|p| p.parse::<u64>().ok());
        let (decisions, elapsed) = if ok.is_empty() {
            (0_u64, Duration::ZERO)
        } else if let Some(passes) = passes {
            run_passes(&ok, passes)
        } else {
            run(&ok, Duration::from_secs_f64(seconds / 5.0));
            run(&ok, Duration::from_secs_f64(seconds))
        };
        let secs = elapsed.as_secs_f64();
        let per_sec = if secs > 0.0 {
            decisions as f64 / secs
        } else {
            0.0
        };
        let ns = if decisions > 0 {
            secs * 1e9 / decisions as f64
        } else {
            0.0
        };
        println!(
            "{}",
            json!({
                "Group": group,
                "Cases": cases.len(),
                "Decisions": decisions,
                "Seconds": secs,
                "DecisionsPerSec": per_sec,
                "NsPerDecision": ns,
                "Results": results,
            })
        );
    }
    Ok(())
}

/// Exactly `passes` whole passes over `cases`; returns decisions made and time.
fn run_passes(cases: &[&Case], passes: u64) -> (u64, Duration) {
    let start = Instant::now();
    for _ in 0..passes {
        for case in cases {
            black_box(evaluate(
                black_box(&case.request),
                black_box(&case.policies),
            ));
        }
    }
    (passes * cases.len() as u64, start.elapsed())
}

/// Decisions made between two readings of the clock (at least): a group of one case would
/// otherwise read the clock after every decision, which costs a tenth of a fast one.
const DECISIONS_PER_CLOCK_READING: usize = 64;

/// Whole passes over `cases` until `at_least` has elapsed; returns decisions made and time.
fn run(cases: &[&Case], at_least: Duration) -> (u64, Duration) {
    let passes = DECISIONS_PER_CLOCK_READING.div_ceil(cases.len()).max(1);
    let start = Instant::now();
    let mut decisions = 0_u64;
    loop {
        for _ in 0..passes {
            for case in cases {
                black_box(evaluate(
                    black_box(&case.request),
                    black_box(&case.policies),
                ));
            }
        }
        decisions += (passes * cases.len()) as u64;
        let elapsed = start.elapsed();
        if elapsed >= at_least {
            return (decisions, elapsed);
        }
    }
}
