//! The request the engine evaluates: who (principal), what (action), on what (resource and its
//! account), and the context keys.

use serde::{Deserialize, Serialize};

use super::context::Context;

/// The kind of caller, as AWS distinguishes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PrincipalType {
    /// An IAM user.
    User,
    /// An IAM role session (`arn:aws:sts::…:assumed-role/…`), including Identity Center users.
    AssumedRole,
    /// A session from `GetFederationToken` (`arn:aws:sts::…:federated-user/…`).
    FederatedUser,
    /// The account root user.
    Root,
    /// An AWS service principal such as `cloudtrail.amazonaws.com`.
    Service,
    /// An unauthenticated caller.
    Anonymous,
    /// A caller of `AssumeRoleWithWebIdentity` (identified by its identity provider).
    WebIdentityUser,
    /// A caller of `AssumeRoleWithSAML` (identified by its SAML provider).
    SamlUser,
}

impl PrincipalType {
    /// Whether the principal is an IAM identity with identity-based policies, boundaries,
    /// session policies and SCPs (users, role sessions, federated users, root).
    pub fn has_identity_side(self) -> bool {
        matches!(
            self,
            PrincipalType::User
                | PrincipalType::AssumedRole
                | PrincipalType::FederatedUser
                | PrincipalType::Root
        )
    }

    /// The value of `aws:PrincipalType`.
    pub fn context_value(self) -> &'static str {
        match self {
            PrincipalType::User => "User",
            PrincipalType::AssumedRole => "AssumedRole",
            PrincipalType::FederatedUser => "FederatedUser",
            PrincipalType::Root => "Account",
            PrincipalType::Service => "Service",
            PrincipalType::Anonymous => "Anonymous",
            PrincipalType::WebIdentityUser => "WebIdentityUser",
            PrincipalType::SamlUser => "SAMLUser",
        }
    }
}

/// The caller.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Principal {
    #[serde(rename = "Type")]
    pub kind: Option<PrincipalType>,
    /// User ARN, role-session ARN, federated-user ARN or root ARN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// The role behind a session, with its path (`arn:aws:iam::…:role/path/name`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// The IAM user behind a federated-user session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_arn: Option<String>,
    /// The service principal name (`Service` callers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// The identity provider (`WebIdentityUser` / `SamlUser` callers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub federated_provider: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub canonical_user: Option<String>,
    /// The unique id (`AIDA…`, `AROA…:session`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal_id: Option<String>,
    /// A service-linked role (path `/aws-service-role/`): exempt from SCPs and RCPs.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub service_linked: bool,
}

impl Principal {
    /// The principal's type, inferred from its fields when not given.
    pub fn principal_type(&self) -> PrincipalType {
        if let Some(k) = self.kind {
            return k;
        }
        if self.service.is_some() {
            return PrincipalType::Service;
        }
        match self.arn.as_deref() {
            Some(arn) => infer_type(arn).unwrap_or(PrincipalType::User),
            None => PrincipalType::Anonymous,
        }
    }

    /// Fills the derivable fields (type, account, role ARN, service-linked flag) from the ARN.
    pub fn normalized(mut self) -> Principal {
        let kind = self.principal_type();
        self.kind = Some(kind);
        if self.account.is_none() {
            self.account = self
                .arn
                .as_deref()
                .and_then(arn_account)
                .map(str::to_string);
        }
        if kind == PrincipalType::AssumedRole && self.role_arn.is_none() {
            self.role_arn = self.arn.as_deref().and_then(role_arn_of_session);
        }
        if let Some(role) = &self.role_arn {
            if role.contains(":role/aws-service-role/") {
                self.service_linked = true;
            }
        }
        self
    }

    /// The caller behind a unique id (`AIDA…`, `AROA…:session`) of `account`, from the user or
    /// role ARN the collection layer found for it: a role with a session part becomes that
    /// role's session, in the role's partition.
    pub fn resolved(arn: &str, account: &str, unique_id: &str) -> Principal {
        let session = unique_id.split_once(':').map(|(_, s)| s.to_string());
        let mut p = Principal {
            account: Some(account.to_string()),
            principal_id: Some(unique_id.to_string()),
            ..Principal::default()
        };
        let role_name = crate::arn::Arn::parse(arn)
            .and_then(|a| a.resource.strip_prefix("role/"))
            .map(|path_name| path_name.rsplit('/').next().unwrap_or(path_name));
        match (role_name, session) {
            (Some(name), Some(session)) => {
                let partition = crate::arn::partition_of(arn);
                p.kind = Some(PrincipalType::AssumedRole);
                p.arn = Some(format!(
                    "arn:{partition}:sts::{account}:assumed-role/{name}/{session}"
                ));
                p.role_arn = Some(arn.to_string());
            }
            _ => p.arn = Some(arn.to_string()),
        }
        p.normalized()
    }

    /// The value of `aws:PrincipalArn`: the role ARN for role sessions.
    pub fn principal_arn(&self) -> Option<&str> {
        match self.principal_type() {
            PrincipalType::AssumedRole => self.role_arn.as_deref().or(self.arn.as_deref()),
            _ => self.arn.as_deref(),
        }
    }
}

fn infer_type(arn: &str) -> Option<PrincipalType> {
    let resource = crate::arn::Arn::parse(arn)?.resource;
    if resource == "root" {
        Some(PrincipalType::Root)
    } else if resource.starts_with("user/") {
        Some(PrincipalType::User)
    } else if resource.starts_with("assumed-role/") {
        Some(PrincipalType::AssumedRole)
    } else if resource.starts_with("federated-user/") {
        Some(PrincipalType::FederatedUser)
    } else if resource.starts_with("saml-provider/") {
        Some(PrincipalType::SamlUser)
    } else if resource.starts_with("oidc-provider/") {
        Some(PrincipalType::WebIdentityUser)
    } else {
        None
    }
}

/// The account field of an ARN, when it is a 12-digit account id.
pub fn arn_account(arn: &str) -> Option<&str> {
    crate::arn::Arn::parse(arn)?.account_id()
}

pub use crate::arn::role_arn_of_session;

/// One request to evaluate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub principal: Principal,
    /// The action as given (`s3:GetObject`).
    pub action: String,
    pub(crate) action_lower: String,
    /// The resource ARN, or `*` for actions without a resource type.
    pub resource: String,
    /// The account that owns the resource (from the ARN, or given for S3 buckets).
    pub resource_account: Option<String>,
    pub context: Context,
}

impl Request {
    /// Builds a request and derives the context keys AWS always sets from the principal and
    /// resource (`aws:PrincipalArn`, `aws:PrincipalAccount`, `aws:PrincipalType`,
    /// `aws:username`, `aws:userid`, `aws:ResourceAccount`, `aws:PrincipalIsAWSService`),
    /// without overriding keys already given.
    pub fn new(
        principal: Principal,
        action: &str,
        resource: &str,
        resource_account: Option<String>,
        mut context: Context,
    ) -> Request {
        let principal = principal.normalized();
        let kind = principal.principal_type();
        let resource_account = resource_account
            .or_else(|| arn_account(resource).map(str::to_string))
            .or_else(|| {
                // Resources without an account in their ARN (S3) default to the caller's.
                if kind.has_identity_side() {
                    principal.account.clone()
                } else {
                    None
                }
            });
        if let Some(arn) = principal.principal_arn() {
            context.set_default("aws:PrincipalArn", arn);
        }
        if let Some(acct) = &principal.account {
            context.set_default("aws:PrincipalAccount", acct.clone());
        }
        context.set_default("aws:PrincipalType", kind.context_value());
        context.set_default(
            "aws:PrincipalIsAWSService",
            if kind == PrincipalType::Service {
                "true"
            } else {
                "false"
            },
        );
        if kind == PrincipalType::Service {
            if let Some(s) = &principal.service {
                context.set_default("aws:PrincipalServiceName", s.clone());
            }
        }
        if kind == PrincipalType::User {
            if let Some(name) = principal.arn.as_deref().and_then(|a| a.rsplit('/').next()) {
                context.set_default("aws:username", name);
            }
        }
        if let Some(id) = &principal.principal_id {
            context.set_default("aws:userid", id.clone());
        }
        if let Some(acct) = &resource_account {
            context.set_default("aws:ResourceAccount", acct.clone());
        }
        Request {
            principal,
            action_lower: action.to_ascii_lowercase(),
            action: action.to_string(),
            resource: resource.to_string(),
            resource_account,
            context,
        }
    }

    /// The service prefix of the action (`s3` for `s3:GetObject`).
    pub fn service(&self) -> &str {
        self.action_lower.split(':').next().unwrap_or("")
    }

    /// Whether the principal and the resource are in different accounts.
    pub fn is_cross_account(&self) -> bool {
        match (&self.principal.account, &self.resource_account) {
            (Some(p), Some(r)) => p != r,
            _ => false,
        }
    }
}
