//! Facts: what the collection layer read from AWS for a request, as plain serde data (a
//! snapshot file holds the same types). Failures are facts too: each answer is a `Result`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use thiserror::Error;

use crate::eval::ResourceKind;
use crate::evidence::troubleshooter::CapturedAuthorization;

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
    #[error("throttled while reading {what} (retries exhausted): {message}")]
    Throttled { what: String, message: String },
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
            .filter(|n| !crate::arn::is_account_id(&n.id))
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

/// Every answer the collection layer gave for one event's lookups, by lookup key.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Facts {
    /// User or role ARN → policies, boundary, tags.
    pub identities: BTreeMap<String, Result<IdentityData, CollectError>>,
    /// Account → organization path (`None` outside an organization).
    pub organizations: BTreeMap<String, Result<Option<OrgData>, CollectError>>,
    /// Holder ARN → resource policy.
    pub resource_policies: BTreeMap<String, Result<ResourcePolicyData, CollectError>>,
    /// VPC endpoint id → endpoint policy.
    pub vpc_endpoints: BTreeMap<String, Result<PolicyDoc, CollectError>>,
    /// Authorization ID → AWS's recorded evaluation (IAM Access Troubleshooter).
    pub authorizations: BTreeMap<String, Result<CapturedAuthorization, CollectError>>,
}
