//! The `access-undenied` command line: `simulate` evaluates requests against given policies
//! with the engine, offline.

use std::io::Read as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use access_undenied::core::event::reader::RecordReader;
use access_undenied::core::event::view::view;
use access_undenied::core::simulate;
use anyhow::Context as _;
use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "access-undenied",
    version,
    about = "Explain AWS AccessDenied errors: which policy denied, and the fix"
)]
struct Cli {
    /// Verbosity of diagnostics on stderr (0-3).
    #[arg(short = 'v', long = "verbosity", global = true, default_value_t = 0)]
    verbosity: u8,
    /// AWS profile of the credential chain.
    #[arg(long, global = true)]
    profile: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Json,
    Text,
}

#[derive(Subcommand)]
enum Command {
    /// Diagnose access-denied events: which policy denied, and the least-privilege fix.
    Analyze(AnalyzeArgs),
    /// Capture, from AWS, everything the diagnosis of these events reads (identities,
    /// organization, resource policies — errors too) into one snapshot file for offline
    /// `analyze --snapshot`.
    Snapshot {
        /// The events whose policies to capture (any input form of `analyze`).
        #[arg(long)]
        events_file: PathBuf,
        /// The snapshot file to write.
        #[arg(long)]
        output_file: PathBuf,
        /// Role assumed to read Organizations.
        #[arg(long)]
        management_account_role_arn: Option<String>,
        /// Role assumed in every other account involved.
        #[arg(long, default_value = "AccessUndeniedRole")]
        cross_account_role_name: String,
        /// `sts:ExternalId` for the cross-account role.
        #[arg(long)]
        external_id: Option<String>,
    },
    /// Write the organization data of every account of the organization (its path from the
    /// root with the SCPs and RCPs of each level) for `analyze --scp-file`.
    GetScps {
        /// The file to write.
        #[arg(long, default_value = "scp_data.json")]
        output_file: PathBuf,
        /// Role assumed to read Organizations (default: the caller's credentials).
        #[arg(long)]
        management_account_role_arn: Option<String>,
    },
    /// Evaluate a request against policies of every type, offline, and say why.
    Simulate {
        /// A JSON document (request + policies), a JSON list of them, or NDJSON; "-" reads stdin.
        #[arg(long)]
        input: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Json)]
        format: Format,
    },
    /// Read CloudTrail access-denied events and show the requests they become (principal,
    /// action(s), resource(s), context keys, message hint), without AWS access.
    Events {
        /// One event, {"Records":[...]}, an EventBridge envelope, LookupEvents output, NDJSON,
        /// or a CloudTrail log file (.json / .json.gz); "-" reads stdin.
        #[arg(long)]
        events_file: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Json)]
        format: Format,
        /// Only count records (no per-event output): for throughput measurements.
        #[arg(long)]
        summary: bool,
    },
    /// Query the results table written by the Lambda (by principal, account, assessment or
    /// time range), newest first.
    History {
        /// The DynamoDB results table (default: $RESULTS_TABLE).
        #[arg(long)]
        table: Option<String>,
        /// Only this principal's events (its ARN), through the `ByPrincipal` index.
        #[arg(long, conflicts_with = "account")]
        principal: Option<String>,
        /// Only events recorded in this account, through the `ByAccount` index.
        #[arg(long)]
        account: Option<String>,
        /// Only this `AssessmentResult` (e.g. "Explicit deny in a service-control policy").
        #[arg(long)]
        result: Option<String>,
        /// Only events at or after this RFC 3339 time (e.g. 2026-11-20T10:00:00Z).
        #[arg(long)]
        since: Option<String>,
        /// Only events at or before this RFC 3339 time.
        #[arg(long)]
        until: Option<String>,
        /// The most events shown (the newest).
        #[arg(long, default_value_t = access_undenied::history::DEFAULT_LIMIT)]
        limit: usize,
        /// Output format: one stored result per line, or one readable line per event.
        #[arg(long, value_enum, default_value_t = Format::Json)]
        format: Format,
    },
}

async fn analyze(
    cli_profile: Option<String>,
    verbosity: u8,
    args: AnalyzeArgs,
) -> anyhow::Result<ExitCode> {
    use access_undenied::collect::snapshot::{
        Recording, ScpFile, Snapshot, SnapshotSource, WithOrganizations,
    };
    use access_undenied::collect::PolicySource;
    use futures::StreamExt as _;

    let input = access_undenied::input::open(&args.events_file)?;
    let base: Box<dyn PolicySource> = match &args.snapshot {
        Some(path) => Box::new(SnapshotSource {
            snapshot: Snapshot::load(path)?,
        }),
        None => {
            let settings = access_undenied::collect::aws::AwsSettings {
                profile: cli_profile,
                cross_account_role_name: args.cross_account_role_name.clone(),
                management_account_role_arn: args.management_account_role_arn.clone(),
                external_id: args.external_id.clone(),
                call_timeout: None,
            };
            Box::new(access_undenied::collect::aws::AwsSource::new(settings).await?)
        }
    };
    let with_orgs: Box<dyn PolicySource> = match &args.scp_file {
        Some(path) => Box::new(WithOrganizations {
            inner: base,
            organizations: ScpFile::load(path)?.organizations,
        }),
        None => base,
    };
    let source = Recording::new(with_orgs);
    // Streamed end to end: records are read, diagnosed (`concurrency` at a time, in order) and
    // written one by one, so memory does not grow with the size of the input.
    let mut reader = RecordReader::new(input);
    let mut output_file = match &args.output_file {
        Some(path) => Some(ResultsFile::create(path)?),
        None => None,
    };
    let progress = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let mut analysed = 0usize;
    let mut failed = false;
    {
        let source = &source;
        let mut stream = futures::stream::iter(reader.by_ref())
            .map(|item| async move { access_undenied::app::diagnose_item(&item, source).await })
            .buffered(args.concurrency.max(1));
        while let Some(result) = stream.next().await {
            failed |= result.assessment_result == access_undenied::core::explain::Assessment::Error;
            if !args.suppress_output {
                match args.format {
                    Format::Json => println!("{}", serde_json::to_string(&result)?),
                    Format::Text => {
                        println!("{}", access_undenied::render::text::result_text(&result))
                    }
                }
            }
            if let Some(file) = &mut output_file {
                file.push(&result)?;
            }
            analysed += 1;
            if progress && analysed % 16 == 0 {
                eprint!("\ranalysed {analysed}");
            }
        }
    }
    let counts = reader.counts;
    if progress && analysed >= 16 {
        eprintln!("\ranalysed {analysed}");
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
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// `get-scps`: every account of the organization → its organization data, as `ScpFile`.
async fn get_scps(
    cli_profile: Option<String>,
    verbosity: u8,
    output_file: PathBuf,
    management_account_role_arn: Option<String>,
) -> anyhow::Result<ExitCode> {
    use access_undenied::collect::aws::{AwsSettings, AwsSource};
    use access_undenied::collect::snapshot::ScpFile;
    use access_undenied::collect::PolicySource as _;
    use futures::StreamExt as _;

    let source = AwsSource::new(AwsSettings {
        profile: cli_profile,
        management_account_role_arn,
        ..AwsSettings::default()
    })
    .await?;
    let accounts = source
        .organization_accounts()
        .await
        .context("cannot list the accounts of the organization")?;
    let mut file = ScpFile::default();
    let mut failed = false;
    if accounts.is_empty() {
        // Not in an organization: the caller's account has no SCPs or RCPs.
        let me = source.caller_account().await?;
        file.organizations.insert(me, None);
    }
    let mut answers = futures::stream::iter(accounts.iter())
        .map(|account| {
            let source = &source;
            async move { (account, source.organization(account).await) }
        })
        .buffered(8);
    while let Some((account, org)) = answers.next().await {
        match org {
            Ok(org) => {
                file.organizations.insert(account.clone(), org);
            }
            Err(e) => {
                failed = true;
                eprintln!("access-undenied: account {account} left out: {e}");
            }
        }
    }
    std::fs::write(&output_file, serde_json::to_string_pretty(&file)?)
        .with_context(|| format!("cannot write `{}`", output_file.display()))?;
    eprintln!(
        "access-undenied: organization data of {} account(s) written to {}",
        file.organizations.len(),
        output_file.display()
    );
    if verbosity > 0 {
        eprintln!("access-undenied: {} AWS API calls", source.calls());
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The flags of `analyze` (also filled in by `snapshot`).
#[derive(clap::Args)]
struct AnalyzeArgs {
    /// One event, {"Records":[...]}, an EventBridge envelope, LookupEvents output, NDJSON,
    /// or a CloudTrail log file (.json / .json.gz); "-" reads stdin.
    #[arg(long)]
    events_file: PathBuf,
    /// Organization data written by `get-scps`.
    #[arg(long)]
    scp_file: Option<PathBuf>,
    /// Role assumed to read Organizations.
    #[arg(long)]
    management_account_role_arn: Option<String>,
    /// Role assumed in every other account involved.
    #[arg(long, default_value = "AccessUndeniedRole")]
    cross_account_role_name: String,
    /// `sts:ExternalId` for the cross-account role.
    #[arg(long)]
    external_id: Option<String>,
    /// Writes {"Results": [...]} to this file.
    #[arg(long)]
    output_file: Option<PathBuf>,
    /// Nothing on stdout.
    #[arg(long)]
    suppress_output: bool,
    /// Runs offline from a snapshot file instead of AWS.
    #[arg(long)]
    snapshot: Option<PathBuf>,
    /// Also writes everything read from AWS to this snapshot file.
    #[arg(long)]
    save_snapshot: Option<PathBuf>,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    format: Format,
    /// Events diagnosed concurrently.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
}

/// `--output-file`: `{"Results": [...]}` written one result at a time (pretty-printed).
struct ResultsFile {
    path: std::path::PathBuf,
    out: std::io::BufWriter<std::fs::File>,
    written: usize,
}

impl ResultsFile {
    fn create(path: &std::path::Path) -> anyhow::Result<ResultsFile> {
        let file = std::fs::File::create(path)
            .with_context(|| format!("cannot write `{}`", path.display()))?;
        let mut out = std::io::BufWriter::new(file);
        out.write_all(b"{\n  \"Results\": [")
            .with_context(|| format!("cannot write `{}`", path.display()))?;
        Ok(ResultsFile {
            path: path.to_path_buf(),
            out,
            written: 0,
        })
    }

    fn push<T: serde::Serialize>(&mut self, result: &T) -> anyhow::Result<()> {
        let text = serde_json::to_string_pretty(result)?;
        let sep = if self.written == 0 { "\n" } else { ",\n" };
        let indented = text.replace('\n', "\n    ");
        write!(self.out, "{sep}    {indented}")
            .with_context(|| format!("cannot write `{}`", self.path.display()))?;
        self.written += 1;
        Ok(())
    }

    fn finish(mut self) -> anyhow::Result<()> {
        let end: &[u8] = if self.written == 0 {
            b"]\n}\n"
        } else {
            b"\n  ]\n}\n"
        };
        self.out
            .write_all(end)
            .and_then(|()| self.out.flush())
            .with_context(|| format!("cannot write `{}`", self.path.display()))
    }
}

/// Runs an async command on a multi-threaded runtime.
fn block_on<T>(f: impl std::future::Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(f)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("access-undenied: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn read_input(path: &PathBuf) -> anyhow::Result<String> {
    if path.as_os_str() == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("cannot read stdin")?;
        return Ok(s);
    }
    std::fs::read_to_string(path).with_context(|| format!("cannot read `{}`", path.display()))
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Analyze(args) => block_on(analyze(cli.profile, cli.verbosity, args)),
        Command::Snapshot {
            events_file,
            output_file,
            management_account_role_arn,
            cross_account_role_name,
            external_id,
        } => {
            let args = AnalyzeArgs {
                events_file,
                scp_file: None,
                management_account_role_arn,
                cross_account_role_name,
                external_id,
                output_file: None,
                suppress_output: true,
                snapshot: None,
                save_snapshot: Some(output_file),
                format: Format::Json,
                concurrency: 8,
            };
            block_on(analyze(cli.profile, cli.verbosity, args))
        }
        Command::GetScps {
            output_file,
            management_account_role_arn,
        } => block_on(get_scps(
            cli.profile,
            cli.verbosity,
            output_file,
            management_account_role_arn,
        )),
        Command::Events {
            events_file,
            format,
            summary,
        } => {
            let input = access_undenied::input::open(&events_file)?;
            let mut reader = RecordReader::new(input);
            let mut failed = false;
            for item in reader.by_ref() {
                if summary {
                    failed |= matches!(
                        item,
                        access_undenied::core::event::reader::Item::Error { .. }
                    );
                    continue;
                }
                let v = view(&item);
                failed |= v.status == "Error";
                match format {
                    Format::Json => println!("{}", serde_json::to_string(&v)?),
                    Format::Text => println!("{}", serde_json::to_string_pretty(&v)?),
                }
            }
            let c = reader.counts;
            eprintln!(
                "access-undenied: {} records read, {} access denials, {} skipped (not access denials), {} unreadable",
                c.records, c.denials, c.skipped, c.errors
            );
            Ok(if failed {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::History {
            table,
            principal,
            account,
            result,
            since,
            until,
            limit,
            format,
        } => {
            use access_undenied::history::{self, HistoryArgs, HistoryQuery};
            let query = HistoryQuery::from_args(HistoryArgs {
                table,
                principal,
                account,
                result,
                since,
                until,
                limit,
            })?;
            let entries = block_on(async {
                let sdk = access_undenied::aws::load_sdk_config(cli.profile.as_deref()).await;
                let client = aws_sdk_dynamodb::Client::new(&sdk);
                Ok(history::query(&client, &query).await?)
            })?;
            for entry in &entries {
                match format {
                    Format::Json => println!("{}", serde_json::to_string(&entry.to_json())?),
                    Format::Text => println!("{}", entry.to_text()),
                }
            }
            if cli.verbosity > 0 {
                eprintln!(
                    "access-undenied: {} event(s) from table {}",
                    entries.len(),
                    query.table
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Simulate { input, format } => {
            let text = read_input(&input)?;
            let docs = simulate::documents(&text)?;
            let single = docs.len() == 1;
            let mut failed = false;
            for doc in &docs {
                let outcome = simulate::run_value(doc);
                failed |= outcome.error.is_some();
                match format {
                    Format::Json if single => {
                        println!("{}", serde_json::to_string_pretty(&outcome)?)
                    }
                    Format::Json => println!("{}", serde_json::to_string(&outcome)?),
                    Format::Text => println!("{}", simulate::to_text(&outcome)),
                }
            }
            if cli.verbosity > 0 {
                eprintln!("access-undenied: {} request(s) evaluated", docs.len());
            }
            Ok(if failed {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
    }
}
