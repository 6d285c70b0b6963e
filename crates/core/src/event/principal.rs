//! Who made the call: CloudTrail's `userIdentity` → the engine's [`Principal`].

use crate::eval::{arn_account, Principal, PrincipalError, PrincipalType, PrincipalWire};

use super::raw::{RawRecord, RawUserIdentity};
use super::EventError;

/// The caller as far as the event tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalInfo {
    Known(Principal),
    /// A caller from another account that CloudTrail shows only as `AWSAccount` with a unique
    /// id; the collection layer resolves it to an ARN.
    Unresolved {
        account: String,
        principal_id: String,
    },
}

/// The caller's partition when its identity shows no ARN: the record's region's.
fn partition_of_record(record: &RawRecord) -> &'static str {
    record.aws_region.as_deref().map_or(
        crate::arn::DEFAULT_PARTITION,
        crate::arn::partition_of_region,
    )
}

/// Why `userIdentity` names no caller the engine can evaluate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error("`userIdentity` has no `type`")]
    NoType,
    #[error("`{kind}` identity without `{field}`")]
    Missing { kind: String, field: &'static str },
    #[error(
        "principal type `{0}` is not supported (expected IAMUser, AssumedRole, Root, \
         FederatedUser, WebIdentityUser, SAMLUser, AWSService or AWSAccount)"
    )]
    Unsupported(String),
    #[error("`{field}` of a `{kind}` identity is not {expected}: `{value}`")]
    BadArn {
        kind: String,
        field: &'static str,
        expected: &'static str,
        value: String,
    },
    #[error(transparent)]
    Incomplete(#[from] PrincipalError),
}

/// The ARN a field must hold: its service, what its resource part starts with, in words.
type Shape = (&'static str, &'static [&'static str], &'static str);

/// `value` when it is an ARN of `service` whose resource starts with one of `resources`; otherwise the
/// record is malformed (an ARN the engine would otherwise look up or match as given).
fn checked_arn(
    kind: &str,
    field: &'static str,
    value: Option<String>,
    (service, resources, expected): Shape,
) -> Result<Option<String>, IdentityError> {
    let Some(value) = value else {
        return Ok(None);
    };
    let ok = crate::arn::Arn::parse(&value).is_some_and(|a| {
        a.service == service
            && resources.iter().any(|r| a.resource.starts_with(r))
            && !a.account.is_empty()
    });
    if ok {
        Ok(Some(value))
    } else {
        Err(IdentityError::BadArn {
            kind: kind.to_string(),
            field,
            expected,
            value,
        })
    }
}

const USER_ARN: Shape = ("iam", &["user/"], "an IAM user ARN");
const ROLE_ARN: Shape = ("iam", &["role/"], "an IAM role ARN");
const SESSION_ARN: Shape = ("sts", &["assumed-role/"], "a role-session ARN");
const FEDERATED_ARN: Shape = ("sts", &["federated-user/"], "a federated-user ARN");
/// `GetFederationToken` is called by an IAM user or by the root user.
const ISSUING_USER_ARN: Shape = ("iam", &["user/", "root"], "an IAM user or root ARN");
const ISSUER: &str = "sessionContext.sessionIssuer.arn";

fn missing(kind: &str, field: &'static str) -> IdentityError {
    IdentityError::Missing {
        kind: kind.to_string(),
        field,
    }
}

/// Reads `userIdentity`.
pub fn from_identity(
    id: &RawUserIdentity,
    record: &RawRecord,
) -> Result<PrincipalInfo, EventError> {
    let kind = id.kind.as_deref().unwrap_or("");
    let issuer = id
        .session_context
        .as_ref()
        .and_then(|s| s.session_issuer.as_ref());
    // Filled as the record shows it; `into_principal` then derives the rest.
    let mut p = PrincipalWire {
        principal_id: id.principal_id.clone().filter(|s| !s.is_empty()),
        account: id
            .account_id
            .clone()
            .filter(|a| !a.is_empty() && a != "anonymous"),
        ..PrincipalWire::default()
    };
    match kind {
        "IAMUser" => {
            p.kind = Some(PrincipalType::User);
            let arn = Some(id.arn.clone().ok_or_else(|| missing(kind, "arn"))?);
            p.arn = checked_arn(kind, "arn", arn, USER_ARN)?;
        }
        "AssumedRole" => {
            p.kind = Some(PrincipalType::AssumedRole);
            let arn = Some(id.arn.clone().ok_or_else(|| missing(kind, "arn"))?);
            p.arn = checked_arn(kind, "arn", arn, SESSION_ARN)?;
            p.role_arn = checked_arn(kind, ISSUER, issuer.and_then(|i| i.arn.clone()), ROLE_ARN)?;
        }
        "Root" => {
            p.kind = Some(PrincipalType::Root);
            let account = p
                .account
                .clone()
                .or_else(|| id.arn.as_deref().and_then(arn_account).map(str::to_string));
            p.arn = id.arn.clone().or_else(|| {
                let partition = partition_of_record(record);
                account.map(|a| crate::arn::iam_arn(partition, &a, "root"))
            });
        }
        "FederatedUser" => {
            p.kind = Some(PrincipalType::FederatedUser);
            let arn = Some(id.arn.clone().ok_or_else(|| missing(kind, "arn"))?);
            p.arn = checked_arn(kind, "arn", arn, FEDERATED_ARN)?;
            p.user_arn = checked_arn(
                kind,
                ISSUER,
                issuer.and_then(|i| i.arn.clone()),
                ISSUING_USER_ARN,
            )?;
        }
        "WebIdentityUser" => {
            p.kind = Some(PrincipalType::WebIdentityUser);
            let provider = id.identity_provider.clone();
            p.federated_provider = Some(provider.ok_or_else(|| missing(kind, "identityProvider"))?);
            p.account = None;
        }
        "SAMLUser" => {
            // `identityProvider` is the assertion's name qualifier (a hash); trust policies
            // name the provider by its ARN, which `AssumeRoleWithSAML` records as
            // `principalArn` (IAM User Guide, example SAML STS event).
            p.kind = Some(PrincipalType::SamlUser);
            let provider = saml_provider_arn(record)
                .or_else(|| id.identity_provider.clone().filter(|s| !s.is_empty()));
            p.federated_provider = Some(provider.ok_or_else(|| missing(kind, "identityProvider"))?);
            p.account = None;
        }
        "AWSService" => {
            p.kind = Some(PrincipalType::Service);
            p.service = Some(
                id.invoked_by
                    .clone()
                    .ok_or_else(|| missing(kind, "invokedBy"))?,
            );
            p.account = None;
        }
        "AWSAccount" => {
            let anonymous = id.account_id.as_deref() == Some("anonymous")
                || id
                    .principal_id
                    .as_deref()
                    .is_none_or(|s| s.is_empty() || s == "anonymous");
            if anonymous {
                p.kind = Some(PrincipalType::Anonymous);
                p.account = None;
                p.principal_id = None;
            } else {
                let account = p
                    .account
                    .clone()
                    .ok_or_else(|| missing(kind, "accountId"))?;
                let principal_id = p.principal_id.clone().unwrap_or_default();
                if principal_id.chars().all(|c| c.is_ascii_digit()) {
                    // The whole account (its root user) is the caller.
                    p.kind = Some(PrincipalType::Root);
                    let partition = partition_of_record(record);
                    p.arn = Some(crate::arn::iam_arn(partition, &account, "root"));
                } else {
                    return Ok(PrincipalInfo::Unresolved {
                        account,
                        principal_id,
                    });
                }
            }
        }
        "" => return Err(IdentityError::NoType.into()),
        other => return Err(IdentityError::Unsupported(other.to_string()).into()),
    }
    Ok(PrincipalInfo::Known(
        p.into_principal().map_err(IdentityError::from)?,
    ))
}

/// The SAML provider ARN of an `AssumeRoleWithSAML` record: `requestParameters.principalArn`,
/// else a `resources[]` entry of type `AWS::IAM::SAMLProvider`.
fn saml_provider_arn(record: &RawRecord) -> Option<String> {
    let is_provider = |a: &str| a.starts_with("arn:") && a.contains(":saml-provider/");
    record
        .request_parameters
        .as_ref()
        .and_then(|p| p.get("principalArn"))
        .and_then(|v| v.as_str())
        .filter(|a| is_provider(a))
        .map(str::to_string)
        .or_else(|| {
            record
                .resources
                .iter()
                .flatten()
                .filter(|r| r.kind.as_deref() == Some("AWS::IAM::SAMLProvider"))
                .filter_map(|r| r.arn.clone())
                .find(|a| is_provider(a))
        })
}
