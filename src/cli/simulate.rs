//! `simulate`: evaluates requests against the policies given with them, offline, and says why.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use access_undenied::core::simulate;
use anyhow::Context as _;

use super::{exit_status, Format};

#[derive(clap::Args)]
pub(super) struct SimulateArgs {
    /// A JSON document (request + policies), a JSON list of them, or NDJSON; "-" reads stdin.
    #[arg(long)]
    input: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    format: Format,
}

/// The whole input, from a file or stdin (`-`).
fn read_input(path: &Path) -> anyhow::Result<String> {
    if path.as_os_str() == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("cannot read stdin")?;
        return Ok(s);
    }
    std::fs::read_to_string(path).with_context(|| format!("cannot read `{}`", path.display()))
}

pub(super) fn run(verbosity: u8, args: SimulateArgs) -> anyhow::Result<ExitCode> {
    let text = read_input(&args.input)?;
    let docs = simulate::documents(&text)?;
    let single = docs.len() == 1;
    let mut failed = false;
    for doc in &docs {
        let outcome = match doc {
            Ok(doc) => simulate::run_value(doc),
            Err(e) => simulate::failed(None, e),
        };
        failed |= outcome.error.is_some();
        match args.format {
            Format::Json if single => super::stdout::line(serde_json::to_string_pretty(&outcome)?)?,
            Format::Json => super::stdout::line(serde_json::to_string(&outcome)?)?,
            Format::Text => super::stdout::line(simulate::to_text(&outcome))?,
        }
    }
    if verbosity > 0 {
        eprintln!("access-undenied: {} request(s) evaluated", docs.len());
    }
    Ok(exit_status(failed))
}
