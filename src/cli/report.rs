//! `report`: the digest of a set of results ([`access_undenied::render::report`]) as Markdown or
//! one self-contained HTML page.

use std::path::PathBuf;
use std::process::ExitCode;

use access_undenied::render::report::Digest;
use serde_json::Value;

#[derive(Clone, Copy, clap::ValueEnum)]
pub(super) enum ReportFormat {
    Markdown,
    Html,
}

#[derive(clap::Args)]
pub(super) struct ReportArgs {
    /// Results: `analyze --output-file`'s {"Results": [...]}, or JSON lines (`analyze` or
    /// `history` output); "-" reads stdin.
    #[arg(long, required_unless_present = "table", conflicts_with = "table")]
    results_file: Option<PathBuf>,
    /// Or the results table the Lambda writes (scanned for the days asked; needs --since).
    #[arg(long, requires = "since")]
    table: Option<String>,
    /// The most results read from the table.
    #[arg(long, default_value_t = 100_000)]
    limit: usize,
    /// First day (YYYY-MM-DD, by the event time of each result).
    #[arg(long)]
    since: Option<String>,
    /// Last day (YYYY-MM-DD).
    #[arg(long)]
    until: Option<String>,
    #[arg(long, value_enum, default_value_t = ReportFormat::Markdown)]
    format: ReportFormat,
}

/// The stored results of the days asked, from the table (the standard credential chain).
fn from_table(profile: Option<&str>, table: &str, args: &ReportArgs) -> anyhow::Result<Vec<Value>> {
    use access_undenied::sink::{format_day, now_secs};
    let since = args.since.clone().unwrap_or_default();
    let until = args.until.clone().unwrap_or_else(|| format_day(now_secs()));
    super::block_on(async {
        let sdk = access_undenied::aws::load_sdk_config(profile).await;
        let client = aws_sdk_dynamodb::Client::new(&sdk);
        Ok(
            access_undenied::history::results_of_days(&client, table, &since, &until, args.limit)
                .await?,
        )
    })
}

/// The results of a file in either form.
fn results(text: &str) -> anyhow::Result<Vec<Value>> {
    if let Ok(Value::Object(doc)) = access_undenied::core::json::from_str(text) {
        if let Some(Value::Array(list)) = doc.get("Results") {
            return Ok(list.clone());
        }
        return Ok(vec![Value::Object(doc)]);
    }
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| {
            access_undenied::core::json::from_str(l)
                .map_err(|e| anyhow::anyhow!("line {} is not a JSON result: {e}", i + 1))
        })
        .collect()
}

pub(super) fn run(profile: Option<String>, args: ReportArgs) -> anyhow::Result<ExitCode> {
    use std::io::Read as _;
    for date in [&args.since, &args.until].into_iter().flatten() {
        access_undenied::input::s3::KeyFilter::date(date)?;
    }
    let list = match (&args.results_file, &args.table) {
        (Some(file), _) => {
            let mut text = String::new();
            access_undenied::input::open(file)?.read_to_string(&mut text)?;
            results(&text)?
        }
        (None, Some(table)) => from_table(profile.as_deref(), table, &args)?,
        (None, None) => anyhow::bail!("pass --results-file or --table"),
    };
    let digest = Digest::of(&list, args.since.as_deref(), args.until.as_deref());
    let out = match args.format {
        ReportFormat::Markdown => digest.markdown(),
        ReportFormat::Html => digest.html(),
    };
    super::stdout::line(out.trim_end())?;
    Ok(ExitCode::SUCCESS)
}
