//! The AWS flags `analyze` and `snapshot` share (`--profile` is global, on [`super::Cli`]).

use access_undenied::collect::aws::AwsSettings;
use access_undenied::lambda::DEFAULT_CROSS_ACCOUNT_ROLE_NAME;

#[derive(clap::Args)]
pub(super) struct AwsArgs {
    /// Role assumed to read Organizations.
    #[arg(long)]
    management_account_role_arn: Option<String>,
    /// Role assumed in every other account involved.
    #[arg(long, default_value = DEFAULT_CROSS_ACCOUNT_ROLE_NAME)]
    cross_account_role_name: String,
    /// `sts:ExternalId` for the cross-account role.
    #[arg(long)]
    external_id: Option<String>,
}

impl AwsArgs {
    /// The policy source's settings, with the global `--profile`.
    pub(super) fn settings(&self, profile: Option<String>) -> AwsSettings {
        AwsSettings {
            profile,
            cross_account_role_name: self.cross_account_role_name.clone(),
            management_account_role_arn: self.management_account_role_arn.clone(),
            external_id: self.external_id.clone(),
            call_timeout: None,
            member_accounts_only: false,
        }
    }
}
