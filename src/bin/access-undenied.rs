//! The `access-undenied` command line: `simulate` evaluates requests against given policies
//! with the engine, offline.

use std::io::Read as _;
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
    },
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
        Command::Events {
            events_file,
            format,
        } => {
            let input = access_undenied::input::open(&events_file)?;
            let mut reader = RecordReader::new(input);
            let mut failed = false;
            for item in reader.by_ref() {
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
