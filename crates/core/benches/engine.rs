//! Engine throughput on the three reference requests of the engine issue: (1) an explicit deny
//! in an OU-level SCP with three SCP levels, (2) a cross-account S3 GetObject with only an
//! identity allow, (3) a permissions boundary that lacks the action. Decisions per second are
//! 1 / (time per iteration), single-threaded.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use access_undenied_core::eval::evaluate;
use access_undenied_core::simulate::{parse_case, Case};
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use serde_json::json;

fn allow_all() -> serde_json::Value {
    json!({"Name": "FullAWSAccess", "Document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}})
}

fn cases() -> Vec<(&'static str, Case)> {
    let scp = json!({
        "Request": {
            "Principal": {"Arn": "arn:aws:sts::222222222222:assumed-role/Deployer/ci"},
            "Action": "lambda:CreateFunction",
            "Resource": "arn:aws:lambda:us-east-1:222222222222:function:api",
            "Context": {"aws:RequestedRegion": "us-east-1", "aws:SourceIp": "203.0.113.7"}
        },
        "Policies": {
            "Identity": [{"Name": "DeployerAccess", "Document": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": ["lambda:*", "iam:PassRole"], "Resource": "*"},
                {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::artifacts/*"}]}}],
            "Scps": [
                {"Node": "r-ab12", "Policies": [allow_all()]},
                {"Node": "ou-ab12-cdef3456", "Policies": [allow_all(), {"Name": "DenyLambda", "Document": {"Version": "2012-10-17", "Statement": [
                    {"Sid": "NoLambda", "Effect": "Deny", "Action": "lambda:*", "Resource": "*"},
                    {"Sid": "Regions", "Effect": "Deny", "NotAction": ["iam:*", "sts:*"], "Resource": "*",
                     "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}}}]}}]},
                {"Node": "222222222222", "Policies": [allow_all()]}
            ],
            "ManagementAccount": "111111111111"
        }
    });
    let cross = json!({
        "Request": {
            "Principal": {"Arn": "arn:aws:sts::111122223333:assumed-role/Reader/app"},
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::shared-data/reports/2024/q1.csv",
            "ResourceAccount": "444455556666",
            "Context": {"aws:SourceIp": "203.0.113.7", "aws:SecureTransport": "true"}
        },
        "Policies": {
            "Identity": [{"Name": "ReadShared", "Document": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": ["arn:aws:s3:::shared-data", "arn:aws:s3:::shared-data/*"]}]}}],
            "Resource": {"Kind": "S3Bucket", "Arn": "arn:aws:s3:::shared-data", "Policy": {"Document": {"Version": "2012-10-17", "Statement": [
                {"Sid": "OwnAccount", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"}, "Action": "s3:*", "Resource": ["arn:aws:s3:::shared-data", "arn:aws:s3:::shared-data/*"]},
                {"Sid": "TLSOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::shared-data/*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}}}
        }
    });
    let boundary = json!({
        "Request": {
            "Principal": {"Arn": "arn:aws:iam::111122223333:user/dev"},
            "Action": "iam:CreateUser",
            "Resource": "arn:aws:iam::111122223333:user/new"
        },
        "Policies": {
            "Identity": [{"Name": "Admin", "Document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}}],
            "PermissionsBoundary": {"Name": "DevBoundary", "Document": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": ["s3:*", "dynamodb:*", "lambda:*", "logs:*"], "Resource": "*"},
                {"Effect": "Allow", "Action": "iam:Get*", "Resource": "*"}]}}
        }
    });
    [
        ("1_scp_ou_explicit_deny", scp),
        ("2_cross_account_s3_identity_only", cross),
        ("3_boundary_lacks_action", boundary),
    ]
    .into_iter()
    .filter_map(|(n, v)| parse_case(&v).ok().map(|c| (n, c)))
    .collect()
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("engine");
    group.throughput(Throughput::Elements(1));
    for (name, case) in cases() {
        group.bench_function(name, |b| {
            b.iter(|| evaluate(black_box(&case.request), black_box(&case.policies)))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
