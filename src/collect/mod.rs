//! Collecting the policies of a request: the [`PolicySource`] port and its answers.
//!
//! Adapters: [`aws::AwsSource`] (the AWS SDK, cross-account `AssumeRole`, cached for a batch)
//! and [`snapshot::SnapshotSource`] (an offline capture, also used as the in-memory fake in
//! tests). Every answer is plain data that serializes into a snapshot file, so what the AWS
//! adapter read can be replayed offline with identical results.

pub mod aws;
pub mod snapshot;

use std::collections::BTreeMap;

use access_undenied_core::eval::{NamedPolicy, ResourceKind};
use access_undenied_core::policy::Policy;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use thiserror::Error;

/// Why something could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize, Deserialize)]
pub enum CollectError {
    #[error("access denied while reading {what}: {message}")]
    AccessDenied { what: String, message: String },
    #[error("cannot enter account {account}: {message}")]
    AssumeRole { account: String, message: String },
    #[error("{what} not found")]
    NotFound { what: String },
    #[error("{what} is not in the snapshot")]
    NotInSnapshot { what: String },
    #[error("{what} is not supported: {why}")]
    Unsupported { what: String, why: String },
    #[error("aws call failed while reading {what}: {message}")]
    Service { what: String, message: String },
}

/// A policy document with what the results quote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyDoc {
    pub name: String,
    /// Managed/SCP/RCP ARN, or `<holder-arn>/<name>` for inline and resource policies.
    pub arn: String,
    /// The user, group, role, resource, org node or endpoint ARN it is attached to.
    pub attached_to: String,
    pub document: Value,
}

impl PolicyDoc {
    /// Parses into the engine's model; `None` (with the reason) when the document is malformed.
    pub fn to_named(&self) -> Result<NamedPolicy, String> {
        let policy = Policy::from_value(&self.document)
            .map_err(|e| format!("policy `{}`: {e}", self.arn))?;
        Ok(NamedPolicy {
            name: self.name.clone(),
            arn: Some(self.arn.clone()),
            attached_to: Some(self.attached_to.clone()),
            policy: std::sync::Arc::new(policy),
        })
    }
}

/// The identity side of a user or role.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IdentityData {
    pub arn: String,
    /// Inline and attached policies of the entity and of the user's groups.
    pub policies: Vec<PolicyDoc>,
    pub boundary: Option<PolicyDoc>,
    pub tags: BTreeMap<String, String>,
}

/// One level of the organization tree.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OrgNode {
    /// `r-…`, `ou-…` or the account id.
    pub id: String,
    pub arn: String,
    pub scps: Vec<PolicyDoc>,
    pub rcps: Vec<PolicyDoc>,
}

/// An account's place in its organization.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OrgData {
    pub organization_id: String,
    pub management_account: String,
    pub scps_enabled: bool,
    pub rcps_enabled: bool,
    /// Root first, the account last.
    pub path: Vec<OrgNode>,
}

impl OrgData {
    /// `aws:PrincipalOrgPaths`: `o-…/r-…/ou-…/` (the account itself is not part of the path).
    pub fn org_path(&self) -> String {
        let mut s = format!("{}/", self.organization_id);
        for n in self
            .path
            .iter()
            .filter(|n| !n.id.chars().all(|c| c.is_ascii_digit()))
        {
            s.push_str(&n.id);
            s.push('/');
        }
        s
    }
}

/// The resource-based policy of a resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResourcePolicyData {
    /// The ARN of the resource holding the policy (the bucket for S3 objects, the key ARN for
    /// KMS aliases).
    pub holder_arn: String,
    pub kind: ResourceKind,
    pub policy: Option<PolicyDoc>,
}

/// The port: everything the diagnosis needs from AWS.
#[async_trait]
pub trait PolicySource: Send + Sync {
    /// Resolves a unique id (`AIDA…`, `AROA…`, optionally `:session`) in `account` to the
    /// user or role ARN.
    async fn principal_arn(&self, account: &str, unique_id: &str) -> Result<String, CollectError>;
    /// The policies, boundary and tags of a user (`:user/`) or role (`:role/`) ARN.
    async fn identity(&self, arn: &str) -> Result<IdentityData, CollectError>;
    /// The account's organization path with SCPs and RCPs; `None` outside an organization.
    async fn organization(&self, account: &str) -> Result<Option<OrgData>, CollectError>;
    /// The resource-based policy of a resource (`holder_arn`: the bucket, key, role, …).
    async fn resource_policy(
        &self,
        holder_arn: &str,
        account: &str,
        region: &str,
        kind: ResourceKind,
    ) -> Result<ResourcePolicyData, CollectError>;
    /// The policy of a VPC endpoint.
    async fn vpc_endpoint_policy(
        &self,
        account: &str,
        region: &str,
        endpoint_id: &str,
    ) -> Result<PolicyDoc, CollectError>;
}
