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
    #[error(transparent)]
    Incomplete(#[from] PrincipalError),
}

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
            p.arn = Some(id.arn.clone().ok_or_else(|| missing(kind, "arn"))?);
        }
        "AssumedRole" => {
            p.kind = Some(PrincipalType::AssumedRole);
            p.arn = Some(id.arn.clone().ok_or_else(|| missing(kind, "arn"))?);
            p.role_arn = issuer.and_then(|i| i.arn.clone());
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
            p.arn = Some(id.arn.clone().ok_or_else(|| missing(kind, "arn"))?);
            p.user_arn = issuer.and_then(|i| i.arn.clone());
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
