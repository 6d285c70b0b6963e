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
use access_undenied::core::event::reader::{Item, RecordReader};
use access_undenied::core::explain::{Assessment, DiagnosisResult};

use super::aws_args::AwsArgs;
use super::progress::Progress;
use super::results_file::ResultsFile;
use super::{exit_status, Format};

/// The flags of `analyze` (also filled in by `snapshot`).
#[derive(clap::Args)]
pub(super) struct AnalyzeArgs {
    /// One event, {"Records":[...]}, an EventBridge envelope, LookupEvents output, NDJSON,
    /// or a CloudTrail log file (.json / .json.gz); "-" reads stdin; s3://bucket/prefix/ (or
    /// s3://bucket/key) reads the objects there, one at a time.
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
    /// With s3://: only objects of days from this one (YYYY-MM-DD, by the CloudTrail key layout).
    #[arg(long)]
    pub since: Option<String>,
    /// With s3://: only objects of days up to this one (YYYY-MM-DD).
    #[arg(long)]
    pub until: Option<String>,
    /// With s3://: only objects of these accounts (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub accounts: Vec<String>,
    /// With s3://: only objects of these regions (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub regions: Vec<String>,
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

/// What the diagnosis of a stream of records gave so far.
#[derive(Default)]
struct Tally {
    analysed: usize,
    failed: bool,
    records: u64,
    denials: u64,
    skipped: u64,
    errors: u64,
}

/// Records read ahead of the diagnoses (the reader's thread waits beyond that).
const READ_AHEAD: usize = 1024;

/// Where results go.
struct Sinks<'a> {
    args: &'a AnalyzeArgs,
    progress: Option<Progress>,
    output_file: Option<ResultsFile>,
}

impl Sinks<'_> {
    /// Writes one result to stdout and the output file, and counts it.
    fn write(&mut self, result: &DiagnosisResult, tally: &mut Tally) -> anyhow::Result<()> {
        tally.failed |= result.assessment_result == Assessment::Error;
        if !self.args.suppress_output {
            let line = match self.args.format {
                Format::Json => serde_json::to_string(result)?,
                Format::Text => access_undenied::render::text::result_text(result),
            };
            match &self.progress {
                Some(p) => p.print(|| super::stdout::line(&line))?,
                None => super::stdout::line(&line)?,
            }
        }
        if let Some(file) = &mut self.output_file {
            file.push(result)?;
        }
        tally.analysed += 1;
        if let Some(p) = &self.progress {
            p.analysed();
        }
        Ok(())
    }

    /// Diagnoses every record `reader` yields and writes each result, in the input's order.
    /// The reader runs on a thread of its own, at most [`READ_AHEAD`] records ahead of the
    /// writer; `--concurrency` threads diagnose, one event each at a time, so AWS calls are
    /// that many in flight ([`super::ordered`]). Offline (`--snapshot`) a diagnosis only
    /// computes, so there are no more threads than cores: more only take turns (on 2 cores,
    /// 8 threads made a 10 %-denial batch 7–9 % slower than 2).
    async fn diagnose<R: std::io::Read + Send>(
        &mut self,
        pipeline: &access_undenied::app::Pipeline<'_>,
        reader: RecordReader<R>,
        tally: &mut Tally,
    ) -> anyhow::Result<()> {
        let runtime = tokio::runtime::Handle::current();
        let workers = match &self.args.snapshot {
            Some(_) => std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .min(self.args.concurrency),
            None => self.args.concurrency,
        };
        let reader = tokio::task::block_in_place(|| {
            super::ordered::map_ordered(
                reader,
                workers,
                READ_AHEAD,
                |item: Item| runtime.block_on(pipeline.diagnose_item(&item)),
                |result| self.write(&result, tally),
            )
        })?;
        let c = reader.counts;
        tally.records += c.records;
        tally.denials += c.denials;
        tally.skipped += c.skipped;
        tally.errors += c.errors;
        Ok(())
    }
}

pub(super) async fn run(
    profile: Option<String>,
    verbosity: u8,
    args: AnalyzeArgs,
) -> anyhow::Result<ExitCode> {
    let url = args.events_file.to_string_lossy().to_string();
    let s3 = access_undenied::input::s3::S3Location::parse(&url).transpose()?;
    let filter = key_filter(&args)?;
    if s3.is_none() && filter != access_undenied::input::s3::KeyFilter::default() {
        anyhow::bail!("--since, --until, --accounts and --regions apply to s3:// inputs only");
    }
    let size = match &s3 {
        Some(_) => None,
        None => access_undenied::input::file_size(&args.events_file),
    };
    let recording = Recording::new(policy_source(profile.clone(), &args).await?);
    // Recording copies every answer: only when it is to be saved.
    let source: &dyn PolicySource = match &args.save_snapshot {
        Some(_) => &recording,
        None => recording.inner.as_ref(),
    };
    let mut sinks = Sinks {
        args: &args,
        progress: Progress::on_terminal(size, s3.is_some()),
        output_file: match &args.output_file {
            Some(path) => Some(ResultsFile::create(path)?),
            None => None,
        },
    };
    let mut tally = Tally::default();
    {
        // One pipeline for the batch: each distinct policy document is parsed once.
        let pipeline = access_undenied::app::Pipeline::new(source);
        match &s3 {
            None => {
                let input = match &sinks.progress {
                    Some(p) => {
                        access_undenied::input::open_counting(&args.events_file, p.on_read())?
                    }
                    None => access_undenied::input::open(&args.events_file)?,
                };
                sinks
                    .diagnose(&pipeline, RecordReader::new(input), &mut tally)
                    .await?;
            }
            Some(location) => {
                let sdk = access_undenied::aws::load_sdk_config(profile.as_deref()).await;
                let client = access_undenied::input::s3::client(&sdk);
                let mut listing = access_undenied::input::s3::Listing::new(&client, location);
                let (mut read, mut filtered, mut unreadable) = (0u64, 0u64, 0u64);
                while let Some(page) = listing.next_page().await {
                    for (key, _size) in page? {
                        if !filter.matches(&key) {
                            filtered += 1;
                            continue;
                        }
                        match access_undenied::input::s3::get(&client, &location.bucket, &key).await
                        {
                            Ok(bytes) => {
                                if let Some(p) = &sinks.progress {
                                    p.on_read()(bytes.len());
                                    p.object_read();
                                }
                                read += 1;
                                let reader =
                                    RecordReader::new(access_undenied::input::from_bytes(bytes));
                                sinks.diagnose(&pipeline, reader, &mut tally).await?;
                            }
                            Err(e) => {
                                unreadable += 1;
                                tally.failed = true;
                                eprintln!("access-undenied: {e}");
                            }
                        }
                    }
                }
                eprintln!(
                    "access-undenied: {read} object(s) read from s3://{}/{}, {filtered} left out by the filters or not logs, {unreadable} unreadable",
                    location.bucket, location.prefix
                );
            }
        }
    }
    if let Some(p) = sinks.progress.take() {
        p.finish();
    }
    if let Some(file) = sinks.output_file.take() {
        file.finish()?;
    }
    if let Some(path) = &args.save_snapshot {
        recording.snapshot().save(path)?;
    }
    eprintln!(
        "access-undenied: {} records read, {} access denials analysed, {} skipped (not access denials), {} unreadable",
        tally.records, tally.denials, tally.skipped, tally.errors
    );
    if verbosity > 0 {
        eprintln!("access-undenied: {} results", tally.analysed);
    }
    Ok(exit_status(tally.failed))
}

/// The S3 key filters of the command line.
fn key_filter(args: &AnalyzeArgs) -> anyhow::Result<access_undenied::input::s3::KeyFilter> {
    use access_undenied::input::s3::KeyFilter;
    Ok(KeyFilter {
        since: args.since.as_deref().map(KeyFilter::date).transpose()?,
        until: args.until.as_deref().map(KeyFilter::date).transpose()?,
        accounts: args
            .accounts
            .iter()
            .filter(|a| !a.is_empty())
            .cloned()
            .collect(),
        regions: args
            .regions
            .iter()
            .filter(|r| !r.is_empty())
            .cloned()
            .collect(),
    })
}
