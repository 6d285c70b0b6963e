//! Warm lookups in the built-in IAM tables (`iam_data`), one per public entry point the
//! diagnosis leans on: event → actions (the map, then the fallback guess), action casing,
//! resource types of an action, a condition key's type (exact, then templated), event source →
//! IAM prefix. `examples/first_lookup.rs` times the first lookup of a fresh process instead.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use access_undenied_core::iam_data;
use criterion::{black_box, criterion_group, criterion_main, Criterion};

fn lookups(c: &mut Criterion) {
    let mut g = c.benchmark_group("iam_data");
    g.bench_function("actions_for_event s3 GetObject", |b| {
        b.iter(|| {
            iam_data::actions_for_event(black_box("s3.amazonaws.com"), black_box("GetObject"))
        })
    });
    g.bench_function("actions_for_event s3 CopyObject", |b| {
        b.iter(|| {
            iam_data::actions_for_event(black_box("s3.amazonaws.com"), black_box("CopyObject"))
        })
    });
    g.bench_function("actions_for_event bedrock InvokeModel (fallback)", |b| {
        b.iter(|| {
            iam_data::actions_for_event(
                black_box("bedrock.amazonaws.com"),
                black_box("InvokeModel"),
            )
        })
    });
    g.bench_function("event_action_mappings s3 CopyObject", |b| {
        b.iter(|| {
            iam_data::event_action_mappings(black_box("s3.amazonaws.com"), black_box("CopyObject"))
        })
    });
    g.bench_function("canonical_action", |b| {
        b.iter(|| iam_data::canonical_action(black_box("S3:getobject")))
    });
    g.bench_function("resource_types_for_action s3:GetObject", |b| {
        b.iter(|| iam_data::resource_types_for_action(black_box("s3:GetObject")))
    });
    g.bench_function("condition_key_type exact", |b| {
        b.iter(|| iam_data::condition_key_type(black_box("aws:SourceIp")))
    });
    g.bench_function("condition_key_type template", |b| {
        b.iter(|| iam_data::condition_key_type(black_box("aws:PrincipalTag/team")))
    });
    g.bench_function("service_prefix_for_event_source", |b| {
        b.iter(|| iam_data::service_prefix_for_event_source(black_box("monitoring.amazonaws.com")))
    });
    g.finish();
}

criterion_group!(benches, lookups);
criterion_main!(benches);
