//! Every policy that takes part in one request, grouped by the gate it belongs to.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::assemble::CollectError;
use crate::policy::{Policy, PolicyError, Statement};

use super::{GateKind, StatementRef};

/// A policy with the identity the results quote.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedPolicy {
    /// Policy name (managed or inline name; `S3BucketPolicy`-style placeholder for resource
    /// policies).
    pub name: String,
    /// Managed/SCP/RCP ARN, or `<holder-arn>/<name>` for inline and resource policies.
    pub arn: Option<String>,
    /// What the policy is attached to: user, group, role, resource, org node or endpoint ARN.
    pub attached_to: Option<String>,
    /// Shared: requests that involve the same document evaluate one parsed copy (a batch keeps
    /// its working set small); a fix being verified copies it on write.
    pub policy: Arc<Policy>,
}

/// One level of the organization tree (root, an OU, or the account) with its SCPs or RCPs.
#[derive(Debug, Clone, PartialEq)]
pub struct OrgLevel {
    /// `r-…`, `ou-…` or the 12-digit account id.
    pub node_id: String,
    /// `arn:aws:organizations::<mgmt>:root/<org>/<root>` and the like, when known.
    pub node_arn: Option<String>,
    pub policies: Vec<NamedPolicy>,
}

/// The kind of resource-based policy; it decides the placeholder name and whether the policy
/// must grant even within one account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResourceKind {
    S3Bucket,
    KmsKey,
    SecretsManagerSecret,
    SqsQueue,
    SnsTopic,
    LambdaFunction,
    EcrRepository,
    RoleTrust,
    Other,
}

impl ResourceKind {
    /// The kind of resource-based policy an action meets, from its service (`sts:AssumeRole*`,
    /// `sts:TagSession`, `sts:SetSourceIdentity` and `sts:SetContext` meet a role trust policy).
    pub fn for_action(action: &str) -> ResourceKind {
        let lower = action.to_ascii_lowercase();
        match lower.split(':').next().unwrap_or("") {
            "s3" => ResourceKind::S3Bucket,
            "kms" => ResourceKind::KmsKey,
            "secretsmanager" => ResourceKind::SecretsManagerSecret,
            "sqs" => ResourceKind::SqsQueue,
            "sns" => ResourceKind::SnsTopic,
            "lambda" => ResourceKind::LambdaFunction,
            "ecr" => ResourceKind::EcrRepository,
            "sts"
                if lower.starts_with("sts:assumerole")
                    || lower == "sts:tagsession"
                    || lower == "sts:setsourceidentity"
                    || lower == "sts:setcontext" =>
            {
                ResourceKind::RoleTrust
            }
            _ => ResourceKind::Other,
        }
    }

    /// KMS key policies and role trust policies must grant access even in the same account.
    pub fn must_grant(self) -> bool {
        matches!(self, ResourceKind::KmsKey | ResourceKind::RoleTrust)
    }

    /// The placeholder policy name results use for a resource policy (`S3BucketPolicy`, …).
    pub fn placeholder(self) -> &'static str {
        match self {
            ResourceKind::S3Bucket => "S3BucketPolicy",
            ResourceKind::KmsKey => "KMSKeyPolicy",
            ResourceKind::SecretsManagerSecret => "SecretResourcePolicy",
            ResourceKind::SqsQueue => "SQSQueuePolicy",
            ResourceKind::SnsTopic => "SNSTopicPolicy",
            ResourceKind::LambdaFunction => "LambdaFunctionResourcePolicy",
            ResourceKind::EcrRepository => "ECRRepositoryResourcePolicy",
            ResourceKind::RoleTrust => "RoleTrustPolicy",
            ResourceKind::Other => "ResourcePolicy",
        }
    }
}

/// The resource-based side of a request.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceSide {
    pub kind: ResourceKind,
    /// The policy; `None` when the resource has none.
    pub policy: Option<NamedPolicy>,
}

/// All policies of one request.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PolicySet {
    /// Identity-based policies of the user (with its groups) or role.
    pub identity: Vec<NamedPolicy>,
    pub permissions_boundary: Option<NamedPolicy>,
    /// Session policies (inline and managed) passed when the session was created.
    pub session: Vec<NamedPolicy>,
    /// SCP levels of the principal's account, root first; `None` when not in an organization.
    pub scps: Option<Vec<OrgLevel>>,
    /// RCP levels of the resource's account, root first; `None` when not in an organization.
    pub rcps: Option<Vec<OrgLevel>>,
    pub resource: Option<ResourceSide>,
    /// Policies of the VPC endpoint(s) the request went through.
    pub vpc_endpoints: Vec<NamedPolicy>,
    /// The organization's management account (exempt from SCPs and RCPs).
    pub management_account: Option<String>,
    /// Gates whose policies could not be read (with why): the engine treats them as possibly
    /// allowing and possibly denying, so the decision is inconclusive unless another gate
    /// decides for certain.
    pub unknown_gates: Vec<UnknownGate>,
    /// Session policies are not known (CloudTrail does not show them): a federated-user session
    /// is then not assumed to lack one.
    pub session_policies_unknown: bool,
}

impl PolicySet {
    /// The policy `r` points at (`None` when `r` is not a place in this set). A VPC endpoint, the
    /// resource and the permissions boundary have one policy each: their `r.policy` is not read.
    pub fn policy(&self, r: &StatementRef) -> Option<&NamedPolicy> {
        match r.gate {
            GateKind::Scp => self.scps.as_ref()?.get(r.level?)?.policies.get(r.policy),
            GateKind::Rcp => self.rcps.as_ref()?.get(r.level?)?.policies.get(r.policy),
            GateKind::VpcEndpoint => self.vpc_endpoints.get(r.level?),
            GateKind::ResourceBased => self.resource.as_ref()?.policy.as_ref(),
            GateKind::IdentityBased => self.identity.get(r.policy),
            GateKind::PermissionsBoundary => self.permissions_boundary.as_ref(),
            GateKind::Session => self.session.get(r.policy),
        }
    }

    /// The policy `r` points at, to change (the copy a fix is verified on).
    pub fn policy_mut(&mut self, r: &StatementRef) -> Option<&mut NamedPolicy> {
        match r.gate {
            GateKind::Scp => self
                .scps
                .as_mut()?
                .get_mut(r.level?)?
                .policies
                .get_mut(r.policy),
            GateKind::Rcp => self
                .rcps
                .as_mut()?
                .get_mut(r.level?)?
                .policies
                .get_mut(r.policy),
            GateKind::VpcEndpoint => self.vpc_endpoints.get_mut(r.level?),
            GateKind::ResourceBased => self.resource.as_mut()?.policy.as_mut(),
            GateKind::IdentityBased => self.identity.get_mut(r.policy),
            GateKind::PermissionsBoundary => self.permissions_boundary.as_mut(),
            GateKind::Session => self.session.get_mut(r.policy),
        }
    }

    /// The statement `r` points at, with its policy.
    pub fn statement(&self, r: &StatementRef) -> Option<(&NamedPolicy, &Statement)> {
        let np = self.policy(r)?;
        Some((np, np.policy.statements.get(r.statement)?))
    }
}

/// A gate whose policies could not be read, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct UnknownGate {
    pub gate: GateKind,
    pub why: Unreadable,
}

/// Why policies of a gate could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Unreadable {
    #[error("identity policies of {arn}: {error}")]
    IdentityPolicies { arn: String, error: CollectError },
    #[error("permissions boundary of {arn}: {error}")]
    PermissionsBoundary { arn: String, error: CollectError },
    #[error("organization of account {account}: {error}")]
    Organization {
        account: String,
        error: CollectError,
    },
    #[error("resource policy of {holder}: {error}")]
    ResourcePolicy { holder: String, error: CollectError },
    #[error("VPC endpoint policy of {endpoint_id}: {error}")]
    VpcEndpointPolicy {
        endpoint_id: String,
        error: CollectError,
    },
    /// A policy AWS captured with the request (IAM Access Troubleshooter) that could not be
    /// fetched.
    #[error("policy {uri} as captured with the request: {error}")]
    Captured { uri: String, error: CollectError },
    #[error("policy `{arn}`: {error}")]
    MalformedPolicy { arn: String, error: PolicyError },
    /// Given as text (simulate input).
    #[error("{0}")]
    Stated(String),
}

/// Services whose resources RCPs apply to (Organizations user guide, "Resource control policies",
/// list of supported services).
pub const RCP_SERVICES: &[&str] = &[
    "s3",
    "sts",
    "kms",
    "sqs",
    "secretsmanager",
    "cognito-identity",
    "logs",
    "dynamodb",
    "ecr",
    "aoss",
];
