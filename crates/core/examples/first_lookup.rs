//! The cost of the first IAM table lookup in a fresh process, next to a warm one.
//!
//!   cargo run --release -p access-undenied-core --example first_lookup
//!
//! Times `iam_data::actions_for_event("s3.amazonaws.com", "GetObject")` with
//! [`std::time::Instant`]: the first call (whatever the tables cost to make ready, plus the
//! lookup), then one warm call, then the median of 1,000 warm calls. Prints one line of
//! microseconds. Run it several times: each run is one fresh process, so one first lookup.

use std::hint::black_box;
use std::time::Instant;

use access_undenied_core::iam_data;

fn lookup() -> Option<Vec<String>> {
    iam_data::actions_for_event(black_box("s3.amazonaws.com"), black_box("GetObject"))
}

fn main() {
    let start = Instant::now();
    let first = black_box(lookup());
    let first_us = start.elapsed().as_secs_f64() * 1e6;

    let start = Instant::now();
    let warm = black_box(lookup());
    let warm_us = start.elapsed().as_secs_f64() * 1e6;

    let mut samples: Vec<f64> = (0..1_000)
        .map(|_| {
            let start = Instant::now();
            black_box(lookup());
            start.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    let median_us = samples.get(samples.len() / 2).copied().unwrap_or(f64::NAN);

    println!(
        "first {first_us:.1} us, second {warm_us:.2} us, warm median {median_us:.2} us ({:?}, same: {})",
        first.as_deref().unwrap_or_default(),
        first == warm
    );
}
