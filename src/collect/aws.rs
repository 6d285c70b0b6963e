//! The AWS adapter of [`PolicySource`]: the AWS SDK for Rust with the standard credential
//! chain, `sts:AssumeRole` into each other account involved, every list paginated, answers
//! cached for the whole batch. (Being implemented.)

use access_undenied_core::eval::ResourceKind;
use async_trait::async_trait;

use super::{CollectError, IdentityData, OrgData, PolicyDoc, PolicySource, ResourcePolicyData};

/// How to reach AWS.
#[derive(Debug, Clone, Default)]
pub struct AwsSettings {
    /// `--profile`.
    pub profile: Option<String>,
    /// The role assumed in every other account (`--cross-account-role-name`).
    pub cross_account_role_name: String,
    /// The role assumed for Organizations (`--management-account-role-arn`).
    pub management_account_role_arn: Option<String>,
    /// Optional `sts:ExternalId` for the cross-account role.
    pub external_id: Option<String>,
}

/// The AWS adapter.
pub struct AwsSource {
    pub settings: AwsSettings,
}

impl AwsSource {
    /// Loads the credential chain and prepares clients.
    pub async fn new(settings: AwsSettings) -> Result<Self, CollectError> {
        Ok(AwsSource { settings })
    }
}

fn todo(what: &str) -> CollectError {
    CollectError::Unsupported {
        what: what.to_string(),
        why: "the AWS adapter is not implemented yet".into(),
    }
}

#[async_trait]
impl PolicySource for AwsSource {
    async fn principal_arn(
        &self,
        _account: &str,
        _unique_id: &str,
    ) -> Result<String, CollectError> {
        Err(todo("principal lookup"))
    }
    async fn identity(&self, _arn: &str) -> Result<IdentityData, CollectError> {
        Err(todo("identity"))
    }
    async fn organization(&self, _account: &str) -> Result<Option<OrgData>, CollectError> {
        Err(todo("organization"))
    }
    async fn resource_policy(
        &self,
        _holder_arn: &str,
        _account: &str,
        _region: &str,
        _kind: ResourceKind,
    ) -> Result<ResourcePolicyData, CollectError> {
        Err(todo("resource policy"))
    }
    async fn vpc_endpoint_policy(
        &self,
        _account: &str,
        _region: &str,
        _endpoint_id: &str,
    ) -> Result<PolicyDoc, CollectError> {
        Err(todo("vpc endpoint policy"))
    }
}
