//! The `access-undenied` command line: the flags ([`Cli`], one `Args` struct per command,
//! the AWS flags shared through [`aws_args::AwsArgs`]) and [`run`], which hands each command to
//! its own module. Compiled into the binary only (anyhow stays out of the library).

mod analyze;
mod aws_args;
mod events;
mod get_scps;
mod history;
mod ordered;
mod progress;
mod report;
mod results_file;
mod simulate;
mod snapshot;
pub mod stdout;

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "access-undenied",
    version,
    about = "Explain AWS AccessDenied errors: which policy denied, and the fix"
)]
pub struct Cli {
    /// Verbosity of diagnostics on stderr (0-3).
    #[arg(short = 'v', long = "verbosity", global = true, default_value_t = 0)]
    verbosity: u8,
    /// AWS profile of the credential chain.
    #[arg(long, global = true)]
    profile: Option<String>,
    #[command(subcommand)]
    command: Command,
}

/// What a command prints on stdout.
#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Json,
    Text,
}

#[derive(Subcommand)]
enum Command {
    /// Diagnose access-denied events: which policy denied, and the least-privilege fix.
    Analyze(analyze::AnalyzeArgs),
    /// Capture, from AWS, everything the diagnosis of these events reads (identities,
    /// organization, resource policies — errors too) into one snapshot file for offline
    /// `analyze --snapshot`.
    Snapshot(snapshot::SnapshotArgs),
    /// Write the organization data of every account of the organization (its path from the
    /// root with the SCPs and RCPs of each level) for `analyze --scp-file`.
    GetScps(get_scps::GetScpsArgs),
    /// Evaluate a request against policies of every type, offline, and say why.
    Simulate(simulate::SimulateArgs),
    /// Read CloudTrail access-denied events and show the requests they become (principal,
    /// action(s), resource(s), context keys, message hint), without AWS access.
    Events(events::EventsArgs),
    /// Query the results table written by the Lambda (by principal, account, assessment or
    /// time range), newest first.
    History(history::HistoryCliArgs),
    /// The digest of a set of results (an `analyze` output file, `history` lines, or the
    /// results table for a range of days): denials by
    /// cause, top findings with their fixes, most denied accounts and principals, AWS/engine
    /// disagreements; Markdown, or one self-contained HTML page with a daily chart.
    Report(report::ReportArgs),
}

/// Runs one command; its exit status, or an error for exit status 2.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let Cli {
        verbosity,
        profile,
        command,
    } = cli;
    match command {
        Command::Analyze(args) => block_on(analyze::run(profile, verbosity, args)),
        Command::Snapshot(args) => block_on(snapshot::run(profile, verbosity, args)),
        Command::GetScps(args) => block_on(get_scps::run(profile, verbosity, args)),
        Command::Simulate(args) => simulate::run(verbosity, args),
        Command::Events(args) => events::run(args),
        Command::History(args) => block_on(history::run(profile, verbosity, args)),
        Command::Report(args) => report::run(profile, args),
    }
}

/// Runs an async command on a multi-threaded runtime.
fn block_on<T>(f: impl std::future::Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(f)
}

/// 1 when some item failed, else 0.
fn exit_status(failed: bool) -> ExitCode {
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    use super::*;

    #[test]
    fn the_flags_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn analyze_and_snapshot_share_the_aws_flags_with_their_defaults() {
        let cli = Cli::try_parse_from([
            "access-undenied",
            "--profile",
            "p",
            "snapshot",
            "--events-file",
            "e.json",
            "--output-file",
            "s.json",
            "--external-id",
            "x1",
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        let Command::Snapshot(args) = cli.command else {
            panic!("not snapshot");
        };
        assert_eq!(cli.profile.as_deref(), Some("p"));
        let settings = args.aws.settings(cli.profile);
        assert_eq!(settings.cross_account_role_name, "AccessUndeniedRole");
        assert_eq!(settings.external_id.as_deref(), Some("x1"));
        assert_eq!(settings.management_account_role_arn, None);
    }
}
