//! The integration tests of the root crate, in one binary (one link of the AWS SDK, one moto
//! server per run): one module per area, shared fixtures under `support/`.
//!
//! Filter by module path: `cargo test --test it analyze_moto::scp`, `cargo test --test it
//! sink_`. Tests that use moto or change the process environment take `support::moto()`'s
//! global lock and run one at a time; the offline tests run alongside them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod support;

mod analyze_moto;
mod analyze_offline;
mod analyze_s3;
mod aws_adapter;
mod backfill_driver;
mod bad_inputs;
mod cli_stdout;
mod digest;
mod faults;
mod history;
mod lambda_admission;
mod lambda_backfill;
mod lambda_config;
mod lambda_handler;
mod lambda_logs;
mod lambda_template;
mod report_html;
mod sink_dynamodb;
mod sink_sns;
mod worlds;
