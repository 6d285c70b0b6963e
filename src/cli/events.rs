//! `events`: what reading each record gives (principal, action(s), resource(s), context keys,
//! message hint), without AWS.

use std::path::PathBuf;
use std::process::ExitCode;

use access_undenied::core::event::reader::{Item, RecordReader};
use access_undenied::core::event::view::view;

use super::{exit_status, Format};

#[derive(clap::Args)]
pub(super) struct EventsArgs {
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
}

pub(super) fn run(args: EventsArgs) -> anyhow::Result<ExitCode> {
    let input = access_undenied::input::open(&args.events_file)?;
    let mut reader = RecordReader::new(input);
    let mut failed = false;
    for item in reader.by_ref() {
        if args.summary {
            failed |= matches!(item, Item::Error { .. });
            continue;
        }
        let v = view(&item);
        failed |= v.status == "Error";
        match args.format {
            Format::Json => super::stdout::line(serde_json::to_string(&v)?)?,
            Format::Text => super::stdout::line(access_undenied::render::text::event_text(&v))?,
        }
    }
    let c = reader.counts;
    eprintln!(
        "access-undenied: {} records read, {} access denials, {} skipped (not access denials), {} unreadable",
        c.records, c.denials, c.skipped, c.errors
    );
    Ok(exit_status(failed))
}
