//! `history`: queries the results table the Lambda writes, newest first.

use std::process::ExitCode;

use access_undenied::history::{self, HistoryArgs, HistoryQuery};

use super::Format;

#[derive(clap::Args)]
pub(super) struct HistoryCliArgs {
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
    #[arg(long, default_value_t = history::DEFAULT_LIMIT)]
    limit: usize,
    /// Output format: one stored result per line, or one readable line per event.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    format: Format,
}

pub(super) async fn run(
    profile: Option<String>,
    verbosity: u8,
    args: HistoryCliArgs,
) -> anyhow::Result<ExitCode> {
    let query = HistoryQuery::from_args(HistoryArgs {
        table: args.table,
        principal: args.principal,
        account: args.account,
        result: args.result,
        since: args.since,
        until: args.until,
        limit: args.limit,
    })?;
    let sdk = access_undenied::aws::load_sdk_config(profile.as_deref()).await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    let entries = history::query(&client, &query).await?;
    for entry in &entries {
        match args.format {
            Format::Json => super::stdout::line(serde_json::to_string(&entry.to_json())?)?,
            Format::Text => super::stdout::line(entry.to_text())?,
        }
    }
    let disagreements = entries.iter().filter(|e| e.engine_disagrees()).count();
    if verbosity > 0 || disagreements > 0 {
        eprintln!(
            "access-undenied: {} event(s) from table {}, {disagreements} where AWS's evidence and the engine disagree",
            entries.len(),
            query.table
        );
    }
    Ok(ExitCode::SUCCESS)
}
