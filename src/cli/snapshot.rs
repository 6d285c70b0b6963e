//! `snapshot`: `analyze` against AWS with nothing on stdout, saving everything it read.

use std::path::PathBuf;
use std::process::ExitCode;

use super::analyze::{self, AnalyzeArgs};
use super::aws_args::AwsArgs;
use super::Format;

#[derive(clap::Args)]
pub(super) struct SnapshotArgs {
    /// The events whose policies to capture (any input form of `analyze`).
    #[arg(long)]
    events_file: PathBuf,
    /// The snapshot file to write.
    #[arg(long)]
    output_file: PathBuf,
    #[command(flatten)]
    pub(super) aws: AwsArgs,
}

pub(super) async fn run(
    profile: Option<String>,
    verbosity: u8,
    args: SnapshotArgs,
) -> anyhow::Result<ExitCode> {
    let args = AnalyzeArgs {
        events_file: args.events_file,
        scp_file: None,
        aws: args.aws,
        output_file: None,
        suppress_output: true,
        snapshot: None,
        save_snapshot: Some(args.output_file),
        format: Format::Json,
        concurrency: 8,
        since: None,
        until: None,
        accounts: Vec::new(),
        regions: Vec::new(),
    };
    analyze::run(profile, verbosity, args).await
}
