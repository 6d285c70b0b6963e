//! `get-scps`: every account of the organization → its organization data, as an `ScpFile` for
//! `analyze --scp-file`.

use std::path::PathBuf;
use std::process::ExitCode;

use access_undenied::collect::aws::{AwsSettings, AwsSource};
use access_undenied::collect::snapshot::ScpFile;
use access_undenied::collect::PolicySource as _;
use anyhow::Context as _;
use futures::StreamExt as _;

use super::exit_status;

#[derive(clap::Args)]
pub(super) struct GetScpsArgs {
    /// The file to write.
    #[arg(long, default_value = "scp_data.json")]
    output_file: PathBuf,
    /// Role assumed to read Organizations (default: the caller's credentials).
    #[arg(long)]
    management_account_role_arn: Option<String>,
}

pub(super) async fn run(
    profile: Option<String>,
    verbosity: u8,
    args: GetScpsArgs,
) -> anyhow::Result<ExitCode> {
    let GetScpsArgs {
        output_file,
        management_account_role_arn,
    } = args;
    let source = AwsSource::new(AwsSettings {
        profile,
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
    Ok(exit_status(failed))
}
