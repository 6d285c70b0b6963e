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
    #[arg(long)]
    results_file: PathBuf,
    /// First day (YYYY-MM-DD, by the event time of each result).
    #[arg(long)]
    since: Option<String>,
    /// Last day (YYYY-MM-DD).
    #[arg(long)]
    until: Option<String>,
    #[arg(long, value_enum, default_value_t = ReportFormat::Markdown)]
    format: ReportFormat,
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

pub(super) fn run(args: ReportArgs) -> anyhow::Result<ExitCode> {
    use std::io::Read as _;
    let mut text = String::new();
    access_undenied::input::open(&args.results_file)?.read_to_string(&mut text)?;
    for date in [&args.since, &args.until].into_iter().flatten() {
        access_undenied::input::s3::KeyFilter::date(date)?;
    }
    let digest = Digest::of(
        &results(&text)?,
        args.since.as_deref(),
        args.until.as_deref(),
    );
    let out = match args.format {
        ReportFormat::Markdown => digest.markdown(),
        ReportFormat::Html => digest.html(),
    };
    super::stdout::line(out.trim_end())?;
    Ok(ExitCode::SUCCESS)
}
