//! `analyze`: diagnoses access-denied events, streamed — read, diagnose (`--concurrency` at a
//! time, in order), write — so memory does not grow with the size of the input. On a terminal,
//! a progress bar on stderr ([`super::progress`]).

use std::path::PathBuf;
use std::process::ExitCode;

use access_undenied::collect::aws::AwsSource;
use access_undenied::collect::snapshot::{
    Recording, ScpFile, Snapshot, SnapshotSource, WithOrganizations,
};
use access_undenied::collect::PolicySource;
use access_undenied::core::event::reader::RecordReader;
use access_undenied::core::explain::Assessment;
use futures::StreamExt as _;

use super::aws_args::AwsArgs;
use super::progress::Progress;
use super::results_file::ResultsFile;
use super::{exit_status, Format};

/// The flags of `analyze` (also filled in by `snapshot`).
#[derive(clap::Args)]
pub(super) struct AnalyzeArgs {
    /// One event, {"Records":[...]}, an EventBridge envelope, LookupEvents output, NDJSON,
    /// or a CloudTrail log file (.json / .json.gz); "-" reads stdin.
    #[arg(long)]
    pub events_file: PathBuf,
    /// Organization data written by `get-scps`.
    #[arg(long)]
    pub scp_file: Option<PathBuf>,
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Writes {"Results": [...]} to this file.
    #[arg(long)]
    pub output_file: Option<PathBuf>,
    /// Nothing on stdout.
    #[arg(long)]
    pub suppress_output: bool,
    /// Runs offline from a snapshot file instead of AWS.
    #[arg(long)]
    pub snapshot: Option<PathBuf>,
    /// Also writes everything read from AWS to this snapshot file.
    #[arg(long)]
    pub save_snapshot: Option<PathBuf>,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
    /// Events diagnosed concurrently.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
}

/// Where the policies come from: a snapshot, or AWS; with `--scp-file`'s organizations.
async fn policy_source(
    profile: Option<String>,
    args: &AnalyzeArgs,
) -> anyhow::Result<Box<dyn PolicySource>> {
    let base: Box<dyn PolicySource> = match &args.snapshot {
        Some(path) => Box::new(SnapshotSource {
            snapshot: Snapshot::load(path)?,
        }),
        None => Box::new(AwsSource::new(args.aws.settings(profile)).await?),
    };
    Ok(match &args.scp_file {
        Some(path) => Box::new(WithOrganizations {
            inner: base,
            organizations: ScpFile::load(path)?.organizations,
        }),
        None => base,
    })
}

pub(super) async fn run(
    profile: Option<String>,
    verbosity: u8,
    args: AnalyzeArgs,
) -> anyhow::Result<ExitCode> {
    let progress = Progress::on_terminal(access_undenied::input::file_size(&args.events_file));
    let input = match &progress {
        Some(p) => access_undenied::input::open_counting(&args.events_file, p.on_read())?,
        None => access_undenied::input::open(&args.events_file)?,
    };
    let source = Recording::new(policy_source(profile, &args).await?);
    let mut reader = RecordReader::new(input);
    let mut output_file = match &args.output_file {
        Some(path) => Some(ResultsFile::create(path)?),
        None => None,
    };
    let mut analysed = 0usize;
    let mut failed = false;
    {
        // One pipeline for the batch: each distinct policy document is parsed once.
        let pipeline = &access_undenied::app::Pipeline::new(&source);
        let mut stream = futures::stream::iter(reader.by_ref())
            .map(|item| async move { pipeline.diagnose_item(&item).await })
            .buffered(args.concurrency.max(1));
        while let Some(result) = stream.next().await {
            failed |= result.assessment_result == Assessment::Error;
            if !args.suppress_output {
                let line = match args.format {
                    Format::Json => serde_json::to_string(&result)?,
                    Format::Text => access_undenied::render::text::result_text(&result),
                };
                match &progress {
                    Some(p) => p.print(|| super::stdout::line(&line))?,
                    None => super::stdout::line(&line)?,
                }
            }
            if let Some(file) = &mut output_file {
                file.push(&result)?;
            }
            analysed += 1;
            if let Some(p) = &progress {
                p.analysed();
            }
        }
    }
    let counts = reader.counts;
    if let Some(p) = progress {
        p.finish();
    }
    if let Some(file) = output_file {
        file.finish()?;
    }
    if let Some(path) = &args.save_snapshot {
        source.snapshot().save(path)?;
    }
    eprintln!(
        "access-undenied: {} records read, {} access denials analysed, {} skipped (not access denials), {} unreadable",
        counts.records, counts.denials, counts.skipped, counts.errors
    );
    if verbosity > 0 {
        eprintln!("access-undenied: {analysed} results");
    }
    Ok(exit_status(failed))
}
