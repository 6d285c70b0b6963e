//! Heap allocations of `evaluate()`, counted by a counting global allocator (issue 16): a
//! request that meets no unknown context key must be decided without one allocation, once the
//! thread has warmed up; a request that meets an unknown key may allocate (the statement's
//! reasons are reported).
//!
//! This binary has no test harness (`harness = false`): it runs on one thread, so the
//! allocator's counts between two points are this thread's. The policies and requests are built
//! once; each case then runs `WARM_UP` decisions, and the counts are taken around `RUNS` more.
//! A correctness test on counts, not a timing test.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::alloc::System;
use std::hint::black_box;
use std::process::ExitCode;

use access_undenied_core::eval::{evaluate, Decision};
use access_undenied_core::simulate::{parse_case, Case};
use serde_json::{json, Value};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const WARM_UP: usize = 10;
const RUNS: usize = 1_000;

fn doc(statements: Value) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

fn allow_all() -> Value {
    json!({"Name": "FullAWSAccess", "Document": doc(json!([{"Effect": "Allow", "Action": "*", "Resource": "*"}]))})
}

/// Name, simulate document, expected decision, whether the request meets an unknown key.
fn cases() -> Vec<(&'static str, Value, Decision, bool)> {
    let user = "arn:aws:iam::111122223333:user/dev";
    let session = "arn:aws:sts::111122223333:assumed-role/app/i-0abc";
    vec![
        (
            "identity allow",
            json!({
                "Request": {"Principal": {"Arn": user}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::data-1/k.json"},
                "Policies": {"Identity": [{"Name": "S3Read", "Document": doc(json!([
                    {"Effect": "Allow", "Action": ["s3:GetObject", "s3:List*"], "Resource": ["arn:aws:s3:::data-*/*", "arn:aws:s3:::data-*"]},
                    {"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "arn:aws:dynamodb:*:*:table/orders*"}]))}]}
            }),
            Decision::Allowed,
            false,
        ),
        (
            "identity explicit deny",
            json!({
                "Request": {"Principal": {"Arn": user}, "Action": "iam:CreateUser", "Resource": "arn:aws:iam::111122223333:user/new"},
                "Policies": {"Identity": [
                    {"Name": "Admin", "Document": doc(json!([{"Effect": "Allow", "Action": "*", "Resource": "*"}]))},
                    {"Name": "DenyIamWrites", "Document": doc(json!([{"Effect": "Deny", "Action": ["iam:Create*", "iam:Delete*"], "Resource": "*"}]))}]}
            }),
            Decision::ExplicitDeny,
            false,
        ),
        (
            "SCP deny at an OU, three levels",
            json!({
                "Request": {
                    "Principal": {"Arn": "arn:aws:sts::222222222222:assumed-role/Deployer/ci"},
                    "Action": "lambda:CreateFunction",
                    "Resource": "arn:aws:lambda:us-east-1:222222222222:function:api",
                    "Context": {"aws:RequestedRegion": "us-east-1", "aws:SourceIp": "203.0.113.7"}
                },
                "Policies": {
                    "Identity": [{"Name": "DeployerAccess", "Document": doc(json!([
                        {"Effect": "Allow", "Action": ["lambda:*", "iam:PassRole"], "Resource": "*"}]))}],
                    "Scps": [
                        {"Node": "r-ab12", "Policies": [allow_all()]},
                        {"Node": "ou-ab12-cdef3456", "Policies": [allow_all(), {"Name": "DenyLambda", "Document": doc(json!([
                            {"Sid": "NoLambda", "Effect": "Deny", "Action": "lambda:*", "Resource": "*"},
                            {"Sid": "Regions", "Effect": "Deny", "NotAction": ["iam:*", "sts:*"], "Resource": "*",
                             "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}}}]))}]},
                        {"Node": "222222222222", "Policies": [allow_all()]}
                    ],
                    "ManagementAccount": "111111111111"
                }
            }),
            Decision::ExplicitDeny,
            false,
        ),
        (
            "permissions boundary lacks the action",
            json!({
                "Request": {"Principal": {"Arn": user}, "Action": "iam:CreateUser", "Resource": "arn:aws:iam::111122223333:user/new"},
                "Policies": {
                    "Identity": [{"Name": "Admin", "Document": doc(json!([{"Effect": "Allow", "Action": "*", "Resource": "*"}]))}],
                    "PermissionsBoundary": {"Name": "DevBoundary", "Document": doc(json!([
                        {"Effect": "Allow", "Action": ["s3:*", "dynamodb:*", "lambda:*", "logs:*"], "Resource": "*"},
                        {"Effect": "Allow", "Action": "iam:Get*", "Resource": "*"}]))}
                }
            }),
            Decision::ImplicitDeny,
            false,
        ),
        (
            "cross-account resource policy and RCPs",
            json!({
                "Request": {
                    "Principal": {"Arn": "arn:aws:sts::111122223333:assumed-role/Reader/app"},
                    "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::shared-data/reports/2024/q1.csv",
                    "ResourceAccount": "444455556666",
                    "Context": {"aws:SourceIp": "203.0.113.7", "aws:SecureTransport": "true", "aws:PrincipalOrgID": "o-ab12cd34ef"}
                },
                "Policies": {
                    "Identity": [{"Name": "ReadShared", "Document": doc(json!([
                        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": ["arn:aws:s3:::shared-data", "arn:aws:s3:::shared-data/*"]}]))}],
                    "Rcps": [
                        {"Node": "r-ab12", "Policies": [{"Name": "RCPFullAWSAccess", "Document": doc(json!([{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]))}]},
                        {"Node": "444455556666", "Policies": [{"Name": "RCPFullAWSAccess", "Document": doc(json!([{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]))},
                            {"Name": "DataPerimeter", "Document": doc(json!([{"Effect": "Deny", "Principal": "*", "Action": ["s3:*", "kms:*"], "Resource": "*",
                                "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-ab12cd34ef"}, "BoolIfExists": {"aws:PrincipalIsAWSService": "false"}}}]))}]}
                    ],
                    "Resource": {"Kind": "S3Bucket", "Arn": "arn:aws:s3:::shared-data", "Policy": {"Document": doc(json!([
                        {"Sid": "Workload", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "s3:*", "Resource": ["arn:aws:s3:::shared-data", "arn:aws:s3:::shared-data/*"]},
                        {"Sid": "TLSOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::shared-data/*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]))}}
                }
            }),
            Decision::Allowed,
            false,
        ),
        (
            "conditions on known keys, every operator family",
            json!({
                "Request": {
                    "Principal": {"Arn": session},
                    "Action": "kms:Decrypt",
                    "Resource": "arn:aws:kms:us-east-1:111122223333:key/1234abcd",
                    "Context": {
                        "aws:SourceIp": "10.1.2.3", "aws:RequestedRegion": "us-east-1",
                        "aws:PrincipalTag/team": "payments", "aws:MultiFactorAuthAge": "300",
                        "aws:CurrentTime": "2026-06-01T12:00:00Z", "aws:SecureTransport": "true",
                        "aws:TagKeys": ["env", "team"], "kms:EncryptionContext:app": "QUJD"
                    }
                },
                "Policies": {"Identity": [{"Name": "KmsUse", "Document": doc(json!([{"Effect": "Allow", "Action": ["kms:Decrypt", "kms:Encrypt"], "Resource": "arn:aws:kms:*:*:key/*",
                    "Condition": {
                        "IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "203.0.113.0/24"]},
                        "StringEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]},
                        "StringEqualsIgnoreCase": {"aws:PrincipalTag/team": "PAYMENTS"},
                        "StringLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/app*"},
                        "ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/app"},
                        "ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/app"},
                        "NumericLessThan": {"aws:MultiFactorAuthAge": "3600"},
                        "DateGreaterThan": {"aws:CurrentTime": "2026-01-01T00:00:00Z"},
                        "Bool": {"aws:SecureTransport": "true"},
                        "Null": {"aws:SourceVpc": "true"},
                        "ForAllValues:StringEquals": {"aws:TagKeys": ["env", "team", "owner"]},
                        "BinaryEquals": {"kms:EncryptionContext:app": "QUJD"}
                    }}]))}]}
            }),
            Decision::Allowed,
            false,
        ),
        (
            "policy variables with known values (Resource and conditions)",
            json!({
                "Request": {
                    "Principal": {"Arn": "arn:aws:iam::111122223333:user/bob"},
                    "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::home-bucket/home/bob/notes.txt",
                    "Context": {"aws:PrincipalTag/env": "dev", "s3:ExistingObjectTag/env": "DEV"}
                },
                "Policies": {"Identity": [{"Name": "S3HomeDirectory", "Document": doc(json!([{"Effect": "Allow", "Action": "s3:GetObject",
                    "Resource": ["arn:aws:s3:::other/${aws:username}", "arn:aws:s3:::home-bucket/home/${aws:username}/*"],
                    "Condition": {
                        "StringLike": {"aws:PrincipalArn": "arn:aws:iam::*:user/${aws:username}"},
                        "StringEquals": {"aws:username": "${aws:username}"},
                        "StringEqualsIgnoreCase": {"s3:ExistingObjectTag/env": "${aws:PrincipalTag/env}"}
                    }}]))}]}
            }),
            Decision::Allowed,
            false,
        ),
        (
            "a condition on an unknown key",
            json!({
                "Request": {
                    "Principal": {"Arn": session},
                    "Action": "secretsmanager:GetSecretValue",
                    "Resource": "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db",
                    "UnknownContextKeys": ["aws:PrincipalTag/*"]
                },
                "Policies": {"Identity": [{"Name": "SecretsForTeam", "Document": doc(json!([{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*",
                    "Condition": {"StringEquals": {"aws:PrincipalTag/team": "payments"}}}]))}]}
            }),
            Decision::ImplicitDeny,
            true,
        ),
    ]
}

/// Allocations (including reallocations) made by `RUNS` decisions of `case` after a warm-up.
fn allocations(case: &Case) -> usize {
    for _ in 0..WARM_UP {
        black_box(evaluate(
            black_box(&case.request),
            black_box(&case.policies),
        ));
    }
    let region = Region::new(GLOBAL);
    for _ in 0..RUNS {
        black_box(evaluate(
            black_box(&case.request),
            black_box(&case.policies),
        ));
    }
    let stats = region.change();
    stats.allocations + stats.reallocations
}

fn main() -> ExitCode {
    let mut failed = 0;
    let all = cases();
    for (name, doc, want, unknown) in &all {
        let case = match parse_case(doc) {
            Ok(c) => c,
            Err(e) => {
                println!("FAILED {name}: does not parse: {e}");
                failed += 1;
                continue;
            }
        };
        let decision = evaluate(&case.request, &case.policies).decision;
        let n = allocations(&case);
        let ok = decision == *want && if *unknown { n > 0 } else { n == 0 };
        println!(
            "{} {name}: {decision:?} (want {want:?}), {n} allocations in {RUNS} decisions{}",
            if ok { "ok" } else { "FAILED" },
            if *unknown {
                " (an unknown key: allocating is allowed)"
            } else {
                ""
            }
        );
        if !ok {
            failed += 1;
        }
    }
    println!(
        "allocations: {} passed, {failed} failed",
        all.len() - failed
    );
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
