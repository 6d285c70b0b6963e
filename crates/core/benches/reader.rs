//! Event-reader throughput on an in-memory CloudTrail log file: 8 MiB of `{"Records": [...]}`
//! with 1 % access denials (the shape of `scripts/gen-cloudtrail`), read by the streaming
//! `RecordReader` and each denial turned into its request view, as `analyze` does before
//! diagnosis. Criterion reports bytes per second; `scripts/bench reader` measures the same on a
//! 1 GB file through the binary, with the disk and peak RSS.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use access_undenied_core::event::reader::RecordReader;
use access_undenied_core::event::view::view;
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use serde_json::json;

fn record(i: usize, denied: bool) -> serde_json::Value {
    let acct = format!("1111{:08}", i % 20);
    let n = i % 50;
    let mut r = json!({
        "eventVersion": "1.09",
        "userIdentity": {"type": "AssumedRole", "principalId": format!("AROAEXAMPLE{n:04}:session"),
            "arn": format!("arn:aws:sts::{acct}:assumed-role/App{n}/session"), "accountId": acct,
            "accessKeyId": "ASIAEXAMPLE", "sessionContext": {"sessionIssuer": {"type": "Role",
            "principalId": format!("AROAEXAMPLE{n:04}"), "arn": format!("arn:aws:iam::{acct}:role/App{n}"),
            "accountId": acct, "userName": format!("App{n}")},
            "attributes": {"creationDate": "2026-11-20T09:00:00Z", "mfaAuthenticated": "false"}}},
        "eventTime": "2026-11-20T10:00:00Z", "eventSource": "s3.amazonaws.com", "eventName": "GetObject",
        "awsRegion": "us-east-1", "sourceIPAddress": "203.0.113.7", "userAgent": "aws-sdk-java/2.25 Linux/6.1",
        "requestParameters": {"bucketName": format!("bucket-{}", i % 30), "key": format!("data/part-{i:05}.parquet")},
        "responseElements": null, "requestID": format!("{i:016X}"), "eventID": format!("00000000-0000-4000-8000-{i:012}"),
        "readOnly": true,
        "resources": [{"type": "AWS::S3::Object", "ARN": format!("arn:aws:s3:::bucket-{}/data/part-{i:05}.parquet", i % 30)},
                      {"accountId": acct, "type": "AWS::S3::Bucket", "ARN": format!("arn:aws:s3:::bucket-{}", i % 30)}],
        "eventType": "AwsApiCall", "managementEvent": false, "recipientAccountId": acct, "eventCategory": "Data"
    });
    if denied {
        r["errorCode"] = json!("AccessDenied");
        r["errorMessage"] = json!("Access Denied");
    }
    r
}

fn log_file(bytes: usize) -> Vec<u8> {
    let mut out = b"{\"Records\": [".to_vec();
    let mut i = 0;
    while out.len() < bytes {
        if i > 0 {
            out.push(b',');
        }
        out.extend(serde_json::to_vec(&record(i, i % 100 == 0)).unwrap());
        i += 1;
    }
    out.extend_from_slice(b"]}\n");
    out
}

fn reader(c: &mut Criterion) {
    let data = log_file(8 << 20);
    let mut group = c.benchmark_group("reader");
    group.throughput(Throughput::Bytes(data.len() as u64));
    group.sample_size(20);
    group.bench_function("8MiB_1pct_denials", |b| {
        b.iter(|| {
            let mut denials = 0;
            for item in RecordReader::new(black_box(data.as_slice())) {
                black_box(view(&item));
                denials += 1;
            }
            assert!(denials > 0);
        })
    });
    group.finish();
}

criterion_group!(benches, reader);
criterion_main!(benches);
