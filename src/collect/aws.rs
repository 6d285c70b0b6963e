//! The AWS adapter of [`PolicySource`]: the AWS SDK for Rust with the standard credential
//! chain, `sts:AssumeRole` into each other account involved, every list paginated, answers
//! cached for the whole batch.
//!
//! Which credentials read what:
//! - identities (users, roles, their groups and managed policies): the principal's account;
//! - resource policies: the resource's account;
//! - Organizations: `--management-account-role-arn` when given, else the caller;
//! - VPC endpoint policies (`ec2:DescribeVpcEndpoints`) and AWS's evidence (IAM Access
//!   Troubleshooter, `sts:DecodeAuthorizationMessage`): the principal's account.
//!
//! The caller's own account uses the loaded credentials; any other account is entered with
//! `sts:AssumeRole` into `arn:<partition>:iam::<account>:role/<cross_account_role_name>`
//! (session name `access-undenied`, optional external id), once per account per batch and
//! refreshed when the session nears its expiry.
//!
//! Every answer (errors included) is cached for the life of the [`AwsSource`], so a batch of
//! events reads each policy once; [`AwsSource::calls`] counts the AWS API calls made, and
//! [`PolicySource::tally`] also gives the time spent waiting on them.

mod cache;
mod errors;
mod iam;
mod meter;
mod org;
mod resources;
mod session;
mod troubleshooter;

use std::sync::Arc;

use access_undenied_core::eval::ResourceKind;
use access_undenied_core::evidence::troubleshooter::CapturedAuthorization;
use async_trait::async_trait;
use aws_config::SdkConfig;
use serde_json::Value;
use tokio::sync::OnceCell;

use self::cache::OnceMap;
use self::meter::CallMeter;
use self::org::{OrgBase, ParentLink};
use self::session::Caller;
use super::{
    CallTally, CollectError, IdentityData, OrgData, OrgNode, PolicyDoc, PolicySource,
    ResourcePolicyData,
};

pub use self::iam::parse_policy_document;
pub use self::session::in_event_session;

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
    /// How long one attempt of one AWS call may take ([`DEFAULT_CALL_TIMEOUT`] when `None`); the
    /// whole call, retries included, gets three times as long. A call that runs out is reported
    /// as timed out, naming the call, and the batch goes on.
    pub call_timeout: Option<std::time::Duration>,
    /// Enter only accounts of the caller's organization: before any `sts:AssumeRole`, the
    /// account's membership is checked (`organizations:DescribeAccount`); a non-member (or any
    /// other account when the caller is in no organization) is refused with the reason, and its
    /// gates become unknown. The Lambda sets it: account ids come from event data, which an
    /// outsider's denied call can carry.
    pub member_accounts_only: bool,
}

/// Per-attempt timeout of an AWS call when [`AwsSettings::call_timeout`] is not set.
pub const DEFAULT_CALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The AWS adapter.
pub struct AwsSource {
    pub settings: AwsSettings,
    /// The loaded configuration: the caller's credentials, region, endpoint, retries.
    base: SdkConfig,
    /// S3 addressed by path (`http://endpoint/bucket`): needed with a custom endpoint (moto).
    s3_path_style: bool,
    meter: CallMeter,
    caller: OnceCell<Result<Caller, CollectError>>,
    /// Role ARN → configuration carrying that role's session.
    sessions: OnceMap<Result<SdkConfig, CollectError>>,
    /// `<account>|<users|roles>` → unique id → ARN.
    principals: OnceMap<Result<Arc<std::collections::HashMap<String, String>>, CollectError>>,
    /// Managed policy ARN → its default version's document.
    managed: OnceMap<Result<Value, CollectError>>,
    identities: OnceMap<Result<IdentityData, CollectError>>,
    org_base: OnceCell<Result<Option<OrgBase>, CollectError>>,
    /// Child id → its parent.
    org_parents: OnceMap<Result<ParentLink, CollectError>>,
    /// Node id (root, OU, account) → the node with its SCPs and RCPs.
    org_nodes: OnceMap<Result<OrgNode, CollectError>>,
    /// SCP/RCP id → document.
    org_policies: OnceMap<Result<Value, CollectError>>,
    organizations: OnceMap<Result<Option<OrgData>, CollectError>>,
    /// `<Kind>|<holder-arn>` → resource policy.
    resources: OnceMap<Result<ResourcePolicyData, CollectError>>,
    /// `<account>|<region>|<vpce-id>` → endpoint policy.
    vpc_endpoints: OnceMap<Result<PolicyDoc, CollectError>>,
    /// Account → membership of the caller's organization (`member_accounts_only`).
    members: OnceMap<Result<(), CollectError>>,
    /// Authorization ID → AWS's recorded evaluation.
    authorizations: OnceMap<Result<CapturedAuthorization, CollectError>>,
    /// Encoded message → decoded JSON text.
    decoded: OnceMap<Result<String, CollectError>>,
}

impl AwsSource {
    /// Loads the credential chain (`settings.profile` when given) and prepares clients.
    ///
    /// Nothing is called yet: the first call resolves the caller's identity.
    pub async fn new(settings: AwsSettings) -> Result<Self, CollectError> {
        let config = crate::aws::load_sdk_config(settings.profile.as_deref()).await;
        Ok(Self::from_sdk_config(settings, config))
    }

    /// Uses an already loaded SDK configuration (its credentials are the caller's).
    pub fn from_sdk_config(settings: AwsSettings, config: SdkConfig) -> Self {
        let config = with_call_timeouts(
            crate::aws::config::with_default_region(config),
            settings.call_timeout,
        );
        let s3_path_style = crate::aws::config::s3_path_style(&config);
        AwsSource {
            settings,
            base: config,
            s3_path_style,
            meter: CallMeter::default(),
            caller: OnceCell::new(),
            sessions: OnceMap::default(),
            principals: OnceMap::default(),
            managed: OnceMap::default(),
            identities: OnceMap::default(),
            org_base: OnceCell::new(),
            org_parents: OnceMap::default(),
            org_nodes: OnceMap::default(),
            org_policies: OnceMap::default(),
            organizations: OnceMap::default(),
            resources: OnceMap::default(),
            vpc_endpoints: OnceMap::default(),
            members: OnceMap::default(),
            authorizations: OnceMap::default(),
            decoded: OnceMap::default(),
        }
    }

    /// The number of AWS API calls made so far (each operation once, retries not counted).
    pub fn calls(&self) -> u64 {
        self.meter.tally().calls
    }

    /// The account of the loaded credentials (`sts:GetCallerIdentity`, cached).
    pub async fn caller_account(&self) -> Result<String, CollectError> {
        Ok(self.caller().await?.account)
    }
}

#[async_trait]
impl PolicySource for AwsSource {
    async fn principal_arn(&self, account: &str, unique_id: &str) -> Result<String, CollectError> {
        self.lookup_principal(account, unique_id).await
    }

    async fn identity(&self, arn: &str) -> Result<IdentityData, CollectError> {
        self.identities
            .get_or_init(arn, || self.load_identity(arn))
            .await
    }

    async fn organization(&self, account: &str) -> Result<Option<OrgData>, CollectError> {
        self.organizations
            .get_or_init(account, || self.load_organization(account))
            .await
    }

    async fn resource_policy(
        &self,
        holder_arn: &str,
        account: &str,
        region: &str,
        kind: ResourceKind,
    ) -> Result<ResourcePolicyData, CollectError> {
        let key = format!("{kind:?}|{holder_arn}");
        self.resources
            .get_or_init(&key, || {
                self.load_resource_policy(holder_arn, account, region, kind)
            })
            .await
    }

    async fn vpc_endpoint_policy(
        &self,
        account: &str,
        region: &str,
        endpoint_id: &str,
    ) -> Result<PolicyDoc, CollectError> {
        let key = format!("{account}|{region}|{endpoint_id}");
        self.vpc_endpoints
            .get_or_init(&key, || {
                self.load_vpc_endpoint_policy(account, region, endpoint_id)
            })
            .await
    }

    async fn authorization(
        &self,
        account: &str,
        authorization_id: &str,
    ) -> Result<CapturedAuthorization, CollectError> {
        self.authorizations
            .get_or_init(authorization_id, || {
                self.load_authorization(account, authorization_id)
            })
            .await
    }

    async fn named_policy(&self, account: &str, arn: &str) -> Result<PolicyDoc, CollectError> {
        self.load_named_policy(account, arn).await
    }

    async fn decode_message(&self, account: &str, encoded: &str) -> Result<String, CollectError> {
        self.decoded
            .get_or_init(encoded, || self.load_decoded(account, encoded))
            .await
    }

    fn tally(&self) -> Option<CallTally> {
        Some(self.meter.tally())
    }
}

/// The configuration with per-attempt and per-call timeouts: `call_timeout` when given, else the
/// configuration's own operation timeouts when it has some, else [`DEFAULT_CALL_TIMEOUT`]. Without
/// them a call to an endpoint that accepts the connection but never answers waits forever.
fn with_call_timeouts(config: SdkConfig, call_timeout: Option<std::time::Duration>) -> SdkConfig {
    use aws_config::timeout::TimeoutConfig;
    let current = config.timeout_config().cloned();
    let has_own = current.as_ref().is_some_and(|t| {
        t.operation_attempt_timeout().is_some() || t.operation_timeout().is_some()
    });
    if call_timeout.is_none() && has_own {
        return config;
    }
    let attempt = call_timeout.unwrap_or(DEFAULT_CALL_TIMEOUT);
    let mut timeouts = TimeoutConfig::builder()
        .operation_attempt_timeout(attempt)
        .operation_timeout(attempt * 3);
    if let Some(connect) = current.as_ref().and_then(TimeoutConfig::connect_timeout) {
        timeouts = timeouts.connect_timeout(connect);
    }
    if let Some(read) = current.as_ref().and_then(TimeoutConfig::read_timeout) {
        timeouts = timeouts.read_timeout(read);
    }
    config.to_builder().timeout_config(timeouts.build()).build()
}
