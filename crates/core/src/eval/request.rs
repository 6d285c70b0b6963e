//! The request the engine evaluates: who (principal), what (action), on what (resource and its
//! account), and the context keys.

use crate::policy::ServiceSet;

use super::context::Context;
use super::principal::{arn_account, Principal, PrincipalType};

pub use crate::arn::role_arn_of_session;

/// The value of `aws:userid` (IAM User Guide, "Principal key values"): the unique id when
/// known; for the root user the account id, for a federated user `account:caller-specified-name`
/// (both follow from the ARN when no unique id is given), for an anonymous caller `anonymous`.
/// `None` when the value depends on a unique id the request does not carry.
fn user_id(p: &Principal) -> Option<String> {
    if let Some(id) = &p.principal_id {
        return Some(id.clone());
    }
    match p.principal_type() {
        PrincipalType::Anonymous => Some("anonymous".into()),
        PrincipalType::Root => p.account.clone(),
        PrincipalType::FederatedUser => {
            let name = crate::arn::Arn::parse(p.arn()?)?
                .resource
                .strip_prefix("federated-user/")?;
            Some(format!("{}:{name}", p.account.as_deref()?))
        }
        _ => None,
    }
}

/// The service prefix of an action (`s3` of `s3:getobject`).
fn service_of(action: &str) -> &str {
    match action.bytes().position(|b| b == b':') {
        Some(at) => action.get(..at).unwrap_or(action),
        None => action,
    }
}

/// One request to evaluate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub principal: Principal,
    /// The action as given (`s3:GetObject`).
    pub action: String,
    pub(crate) action_lower: String,
    /// The action's service, to pass over statements for other services.
    pub(crate) service_set: ServiceSet,
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
        // "Included in the request context for all requests, including anonymous requests"
        // (`anonymous` for those); a service, web identity or SAML caller has no account here.
        match (&principal.account, kind) {
            (Some(acct), _) => context.set_default("aws:PrincipalAccount", acct.clone()),
            (None, PrincipalType::Anonymous) => {
                context.set_default("aws:PrincipalAccount", "anonymous")
            }
            (None, _) if !context.contains("aws:PrincipalAccount") => {
                context.mark_unknown("aws:PrincipalAccount")
            }
            (None, _) => {}
        }
        // AWS documents the values `Account`, `User`, `FederatedUser`, `AssumedRole` and
        // `Anonymous`; for a service, web identity or SAML caller the value is not documented:
        // unknown, so a condition on it is reported rather than guessed.
        match kind {
            PrincipalType::Service | PrincipalType::WebIdentityUser | PrincipalType::SamlUser => {
                if !context.contains("aws:PrincipalType") {
                    context.mark_unknown("aws:PrincipalType");
                }
            }
            _ => context.set_default("aws:PrincipalType", kind.context_value()),
        }
        // Present "for all signed API requests": not for anonymous callers, nor for
        // `AssumeRoleWithWebIdentity` / `AssumeRoleWithSAML`, which are not signed.
        if !matches!(
            kind,
            PrincipalType::Anonymous | PrincipalType::WebIdentityUser | PrincipalType::SamlUser
        ) {
            context.set_default(
                "aws:PrincipalIsAWSService",
                if kind == PrincipalType::Service {
                    "true"
                } else {
                    "false"
                },
            );
        }
        if kind == PrincipalType::Service {
            if let Some(s) = principal.service() {
                context.set_default("aws:PrincipalServiceName", s);
            }
        }
        if kind == PrincipalType::User {
            if let Some(name) = principal.arn().and_then(|a| a.rsplit('/').next()) {
                context.set_default("aws:username", name);
            }
        }
        match user_id(&principal) {
            Some(id) => context.set_default("aws:userid", id),
            // AWS always sets it (every row of its table has a value), but here it would be an
            // IAM unique id (`AIDA…`, `AROA…:session`) the request does not carry: unknown, so a
            // condition on it is reported, never read as a missing key.
            None if !context.contains("aws:userid") => context.mark_unknown("aws:userid"),
            None => {}
        }
        if let Some(acct) = &resource_account {
            context.set_default("aws:ResourceAccount", acct.clone());
        }
        let action_lower = action.to_ascii_lowercase();
        let service_set = ServiceSet::of_service(service_of(&action_lower));
        Request {
            principal,
            service_set,
            action_lower,
            action: action.to_string(),
            resource: resource.to_string(),
            resource_account,
            context,
        }
    }

    /// The service prefix of the action (`s3` for `s3:GetObject`).
    pub fn service(&self) -> &str {
        service_of(&self.action_lower)
    }

    /// Whether the principal and the resource are in different accounts.
    pub fn is_cross_account(&self) -> bool {
        match (&self.principal.account, &self.resource_account) {
            (Some(p), Some(r)) => p != r,
            _ => false,
        }
    }
}
