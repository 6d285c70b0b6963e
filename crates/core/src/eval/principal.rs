//! Who made the call: [`Principal`], one variant per kind of caller AWS distinguishes, with the
//! fields that kind has. Its JSON form ([`PrincipalWire`], the `Principal` object of `simulate`
//! input, of `events` output and of echoed requests) is separate, so the wire format does not
//! shape the domain type.

use serde::{Deserialize, Serialize};

use crate::arn::{role_arn_of_session, Arn};

/// The kind of caller, as AWS distinguishes them (the value of `aws:PrincipalType` follows it).
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

/// What kind of caller, with what that kind carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalKind {
    /// An IAM user.
    User { arn: String },
    /// A role session; `role_arn` is the role with its path when known.
    RoleSession {
        arn: String,
        role_arn: Option<String>,
        /// A service-linked role (path `/aws-service-role/`): exempt from SCPs and RCPs.
        service_linked: bool,
    },
    /// A `GetFederationToken` session; `user_arn` is the IAM user that created it.
    FederatedUser {
        arn: String,
        user_arn: Option<String>,
    },
    /// The account root user.
    Root { arn: Option<String> },
    /// An AWS service principal (`cloudtrail.amazonaws.com`).
    Service { name: String },
    /// An unauthenticated caller.
    Anonymous,
    /// A web identity session, by its identity provider.
    WebIdentity { provider: String },
    /// A SAML session, by its provider ARN.
    Saml { provider: String },
}

/// The caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub kind: PrincipalKind,
    /// The caller's account (none for services, web identity, SAML and anonymous callers).
    pub account: Option<String>,
    /// The unique id (`AIDA…`, `AROA…:session`).
    pub principal_id: Option<String>,
    /// An S3 canonical user id, when the caller is named that way.
    pub canonical_user: Option<String>,
}

impl Principal {
    /// A caller of `kind` with no account, unique id or canonical id.
    pub fn new(kind: PrincipalKind) -> Principal {
        Principal {
            kind,
            account: None,
            principal_id: None,
            canonical_user: None,
        }
    }

    /// An unauthenticated caller.
    pub fn anonymous() -> Principal {
        Principal::new(PrincipalKind::Anonymous)
    }

    /// The caller named by an ARN alone: its kind, account and role follow from the ARN.
    pub fn from_arn(arn: &str) -> Principal {
        PrincipalWire {
            arn: Some(arn.to_string()),
            ..PrincipalWire::default()
        }
        .into_principal()
        .unwrap_or_else(|_| Principal::anonymous())
    }

    /// The caller behind a unique id (`AIDA…`, `AROA…:session`) of `account`, from the user or
    /// role ARN the collection layer found for it: a role with a session part becomes that
    /// role's session, in the role's partition.
    pub fn resolved(arn: &str, account: &str, unique_id: &str) -> Principal {
        let session = unique_id.split_once(':').map(|(_, s)| s);
        let role = Arn::parse(arn).and_then(|a| {
            let path_name = a.resource.strip_prefix("role/")?;
            Some((
                a.partition,
                path_name.rsplit('/').next().unwrap_or(path_name),
            ))
        });
        let mut p = match (role, session) {
            (Some((partition, name)), Some(session)) => {
                Principal::new(PrincipalKind::RoleSession {
                    arn: format!("arn:{partition}:sts::{account}:assumed-role/{name}/{session}"),
                    role_arn: Some(arn.to_string()),
                    service_linked: arn.contains(":role/aws-service-role/"),
                })
            }
            _ => Principal::from_arn(arn),
        };
        p.account = Some(account.to_string());
        p.principal_id = Some(unique_id.to_string());
        p
    }

    /// The principal's type.
    pub fn principal_type(&self) -> PrincipalType {
        match &self.kind {
            PrincipalKind::User { .. } => PrincipalType::User,
            PrincipalKind::RoleSession { .. } => PrincipalType::AssumedRole,
            PrincipalKind::FederatedUser { .. } => PrincipalType::FederatedUser,
            PrincipalKind::Root { .. } => PrincipalType::Root,
            PrincipalKind::Service { .. } => PrincipalType::Service,
            PrincipalKind::Anonymous => PrincipalType::Anonymous,
            PrincipalKind::WebIdentity { .. } => PrincipalType::WebIdentityUser,
            PrincipalKind::Saml { .. } => PrincipalType::SamlUser,
        }
    }

    /// The caller's own ARN: the user, the session (`assumed-role/…`, `federated-user/…`) or
    /// the root user.
    pub fn arn(&self) -> Option<&str> {
        match &self.kind {
            PrincipalKind::User { arn }
            | PrincipalKind::RoleSession { arn, .. }
            | PrincipalKind::FederatedUser { arn, .. } => Some(arn),
            PrincipalKind::Root { arn } => arn.as_deref(),
            _ => None,
        }
    }

    /// The role behind a role session.
    pub fn role_arn(&self) -> Option<&str> {
        match &self.kind {
            PrincipalKind::RoleSession { role_arn, .. } => role_arn.as_deref(),
            _ => None,
        }
    }

    /// The IAM user behind a federated-user session.
    pub fn user_arn(&self) -> Option<&str> {
        match &self.kind {
            PrincipalKind::FederatedUser { user_arn, .. } => user_arn.as_deref(),
            _ => None,
        }
    }

    /// The service principal name of a service caller.
    pub fn service(&self) -> Option<&str> {
        match &self.kind {
            PrincipalKind::Service { name } => Some(name),
            _ => None,
        }
    }

    /// The identity provider of a web identity or SAML caller.
    pub fn federated_provider(&self) -> Option<&str> {
        match &self.kind {
            PrincipalKind::WebIdentity { provider } | PrincipalKind::Saml { provider } => {
                Some(provider)
            }
            _ => None,
        }
    }

    /// Whether the caller is a session of a service-linked role (exempt from SCPs and RCPs).
    pub fn service_linked(&self) -> bool {
        matches!(
            self.kind,
            PrincipalKind::RoleSession {
                service_linked: true,
                ..
            }
        )
    }

    /// The value of `aws:PrincipalArn`: the role ARN for role sessions.
    pub fn principal_arn(&self) -> Option<&str> {
        match &self.kind {
            PrincipalKind::RoleSession { arn, role_arn, .. } => role_arn.as_deref().or(Some(arn)),
            _ => self.arn(),
        }
    }

    /// The IAM user or role whose identity-based policies apply: the user, the role of a
    /// session, the user behind a federated-user session.
    pub fn identity_arn(&self) -> Option<&str> {
        match &self.kind {
            PrincipalKind::User { arn } => Some(arn),
            PrincipalKind::RoleSession { role_arn, .. } => role_arn.as_deref(),
            PrincipalKind::FederatedUser { user_arn, .. } => user_arn.as_deref(),
            _ => None,
        }
    }

    /// The JSON form.
    pub fn to_wire(&self) -> PrincipalWire {
        PrincipalWire {
            kind: Some(self.principal_type()),
            arn: self.arn().map(str::to_string),
            account: self.account.clone(),
            role_arn: self.role_arn().map(str::to_string),
            user_arn: self.user_arn().map(str::to_string),
            service: self.service().map(str::to_string),
            federated_provider: self.federated_provider().map(str::to_string),
            canonical_user: self.canonical_user.clone(),
            principal_id: self.principal_id.clone(),
            service_linked: self.service_linked(),
        }
    }
}

impl Serialize for Principal {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_wire().serialize(s)
    }
}

/// The `Principal` object as JSON carries it: a type (inferred from the other fields when
/// absent) and the fields of every kind, optional.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PrincipalWire {
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

/// Why a `Principal` object does not describe a caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrincipalError {
    #[error("a `{0:?}` principal needs `{1}`")]
    Missing(PrincipalType, &'static str),
}

impl PrincipalWire {
    /// The caller this object describes: the type given or inferred (a `Service` field makes
    /// a service, an ARN its kind, nothing an anonymous caller), the account from the ARN, the
    /// role from a session ARN, the service-linked flag from the role's path.
    pub fn into_principal(self) -> Result<Principal, PrincipalError> {
        let kind = self.kind.unwrap_or_else(|| {
            if self.service.is_some() {
                PrincipalType::Service
            } else {
                match self.arn.as_deref() {
                    Some(arn) => infer_type(arn).unwrap_or(PrincipalType::User),
                    None => PrincipalType::Anonymous,
                }
            }
        });
        let account = self.account.or_else(|| {
            self.arn
                .as_deref()
                .and_then(arn_account)
                .map(str::to_string)
        });
        let need = |v: Option<String>, field| v.ok_or(PrincipalError::Missing(kind, field));
        let kind = match kind {
            PrincipalType::User => PrincipalKind::User {
                arn: need(self.arn, "Arn")?,
            },
            PrincipalType::AssumedRole => {
                let arn = need(self.arn, "Arn")?;
                let role_arn = self.role_arn.or_else(|| role_arn_of_session(&arn));
                let service_linked = self.service_linked
                    || role_arn
                        .as_deref()
                        .is_some_and(|r| r.contains(":role/aws-service-role/"));
                PrincipalKind::RoleSession {
                    arn,
                    role_arn,
                    service_linked,
                }
            }
            PrincipalType::FederatedUser => PrincipalKind::FederatedUser {
                arn: need(self.arn, "Arn")?,
                user_arn: self.user_arn,
            },
            PrincipalType::Root => PrincipalKind::Root { arn: self.arn },
            PrincipalType::Service => PrincipalKind::Service {
                name: need(self.service, "Service")?,
            },
            PrincipalType::Anonymous => PrincipalKind::Anonymous,
            // A provider named only by its ARN (`saml-provider/…`, `oidc-provider/…`).
            PrincipalType::WebIdentityUser => PrincipalKind::WebIdentity {
                provider: need(self.federated_provider.or(self.arn), "FederatedProvider")?,
            },
            PrincipalType::SamlUser => PrincipalKind::Saml {
                provider: need(self.federated_provider.or(self.arn), "FederatedProvider")?,
            },
        };
        Ok(Principal {
            kind,
            account,
            principal_id: self.principal_id,
            canonical_user: self.canonical_user,
        })
    }
}

fn infer_type(arn: &str) -> Option<PrincipalType> {
    let resource = Arn::parse(arn)?.resource;
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
    Arn::parse(arn)?.account_id()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(v: serde_json::Value) -> Result<Principal, PrincipalError> {
        serde_json::from_value::<PrincipalWire>(v)
            .map_err(|e| panic!("{e}"))
            .and_then(PrincipalWire::into_principal)
    }

    #[test]
    fn the_kind_follows_from_the_arn_and_carries_what_it_derives() {
        let p = Principal::from_arn("arn:aws:sts::111122223333:assumed-role/AWSServiceRoleForX/s");
        assert_eq!(p.principal_type(), PrincipalType::AssumedRole);
        assert_eq!(p.account.as_deref(), Some("111122223333"));
        assert_eq!(
            p.role_arn(),
            Some("arn:aws:iam::111122223333:role/AWSServiceRoleForX")
        );
        assert_eq!(p.principal_arn(), p.role_arn());
        assert_eq!(p.identity_arn(), p.role_arn());
        let linked = wire(serde_json::json!({
            "Arn": "arn:aws:sts::111122223333:assumed-role/AWSServiceRoleForX/s",
            "RoleArn": "arn:aws:iam::111122223333:role/aws-service-role/x.amazonaws.com/AWSServiceRoleForX"
        }))
        .unwrap();
        assert!(linked.service_linked());
        assert_eq!(
            Principal::from_arn("arn:aws:iam::111122223333:root").principal_type(),
            PrincipalType::Root
        );
        assert_eq!(
            wire(serde_json::json!({"Service": "cloudtrail.amazonaws.com"}))
                .unwrap()
                .service(),
            Some("cloudtrail.amazonaws.com")
        );
        assert_eq!(wire(serde_json::json!({})).unwrap(), Principal::anonymous());
        let saml = Principal::from_arn("arn:aws:iam::111122223333:saml-provider/Okta");
        assert_eq!(
            saml.federated_provider(),
            Some("arn:aws:iam::111122223333:saml-provider/Okta")
        );
        assert_eq!(saml.principal_arn(), None);
    }

    #[test]
    fn a_kind_without_what_names_it_is_refused() {
        for (v, text) in [
            (
                serde_json::json!({"Type": "User"}),
                "a `User` principal needs `Arn`",
            ),
            (
                serde_json::json!({"Type": "AssumedRole"}),
                "a `AssumedRole` principal needs `Arn`",
            ),
            (
                serde_json::json!({"Type": "Service"}),
                "a `Service` principal needs `Service`",
            ),
            (
                serde_json::json!({"Type": "SamlUser"}),
                "a `SamlUser` principal needs `FederatedProvider`",
            ),
        ] {
            assert_eq!(wire(v).unwrap_err().to_string(), text);
        }
    }

    #[test]
    fn the_json_form_is_the_wire_shape_with_derived_fields_filled() {
        let p = Principal::resolved(
            "arn:aws-cn:iam::111122223333:role/app/Dev",
            "111122223333",
            "AROAX:s1",
        );
        assert_eq!(
            serde_json::to_value(&p).unwrap(),
            serde_json::json!({
                "Type": "AssumedRole",
                "Arn": "arn:aws-cn:sts::111122223333:assumed-role/Dev/s1",
                "Account": "111122223333",
                "RoleArn": "arn:aws-cn:iam::111122223333:role/app/Dev",
                "PrincipalId": "AROAX:s1"
            })
        );
        let back: PrincipalWire =
            serde_json::from_value(serde_json::to_value(&p).unwrap()).unwrap();
        assert_eq!(back.into_principal().unwrap(), p);
        let user = Principal::resolved("arn:aws:iam::111122223333:user/u", "111122223333", "AIDAX");
        assert_eq!(user.principal_type(), PrincipalType::User);
        assert_eq!(
            user.identity_arn(),
            Some("arn:aws:iam::111122223333:user/u")
        );
    }
}
