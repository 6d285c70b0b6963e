//! IAM: users and roles with their inline, attached and group policies, boundaries and tags;
//! unique ids to ARNs; managed policy documents.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use access_undenied_core::arn::Arn;
use futures::future::{try_join, try_join4, try_join_all};
use percent_encoding::percent_decode_str;
use serde_json::Value;

use super::errors::{missing_field, AwsResult, OrCollect};
use super::AwsSource;
use crate::collect::{CollectError, IdentityData, PolicyDoc};

/// Parses a policy document as IAM returns it: URL-encoded JSON (real IAM, and moto for inline
/// and trust policies), or plain JSON (moto's `GetPolicyVersion`, Organizations, resource
/// policies).
pub fn parse_policy_document(raw: &str, what: &str) -> Result<Value, CollectError> {
    let text: Cow<'_, str> = if raw.trim_start().starts_with('{') {
        Cow::Borrowed(raw)
    } else {
        percent_decode_str(raw)
            .decode_utf8()
            .map_err(|e| CollectError::Service {
                what: what.to_string(),
                message: format!("the policy document is not valid URL-encoded UTF-8: {e}"),
            })?
    };
    access_undenied_core::json::from_str(&text).map_err(|e| CollectError::Service {
        what: what.to_string(),
        message: format!("the policy document is not valid JSON: {e}"),
    })
}

/// The kind and name of an IAM principal ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Entity {
    User { account: String, name: String },
    Role { account: String, name: String },
}

impl Entity {
    /// `arn:aws:iam::<account>:user/<path/>name`, `…:role/<path/>name`, or an STS
    /// `…:assumed-role/<name>/<session>` (read as its role).
    pub fn parse(arn: &str) -> Option<Entity> {
        let Arn {
            service,
            account,
            resource,
            ..
        } = Arn::parse(arn)?;
        let account = account.to_string();
        let last = |rest: &str| {
            rest.rsplit('/')
                .next()
                .filter(|n| !n.is_empty())
                .map(str::to_string)
        };
        match (service, resource.split_once('/')) {
            ("iam", Some(("user", rest))) => Some(Entity::User {
                account,
                name: last(rest)?,
            }),
            ("iam", Some(("role", rest))) => Some(Entity::Role {
                account,
                name: last(rest)?,
            }),
            ("sts", Some(("assumed-role", rest))) => {
                let name = rest.split('/').next().filter(|n| !n.is_empty())?;
                Some(Entity::Role {
                    account,
                    name: name.to_string(),
                })
            }
            _ => None,
        }
    }
}

/// The last segment of a policy ARN: its name.
fn policy_name(arn: &str) -> String {
    arn.rsplit('/').next().unwrap_or(arn).to_string()
}

fn tags<'a>(
    tags: impl IntoIterator<Item = &'a aws_sdk_iam::types::Tag>,
) -> BTreeMap<String, String> {
    tags.into_iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PrincipalKind {
    Users,
    Roles,
}

impl AwsSource {
    /// `identity()` uncached.
    pub(super) async fn load_identity(&self, arn: &str) -> Result<IdentityData, CollectError> {
        let entity = Entity::parse(arn).ok_or_else(|| CollectError::Unsupported {
            what: format!("identity `{arn}`"),
            why: "only IAM user and role ARNs (and assumed-role sessions) have identity policies to read".into(),
        })?;
        match entity {
            Entity::User { account, name } => {
                let iam = self.iam_client(&self.account_config(&account).await?, None);
                self.user_identity(&iam, arn, &name).await
            }
            Entity::Role { account, name } => {
                let iam = self.iam_client(&self.account_config(&account).await?, None);
                self.role_identity(&iam, arn, &name).await
            }
        }
    }

    async fn user_identity(
        &self,
        iam: &aws_sdk_iam::Client,
        arn: &str,
        name: &str,
    ) -> Result<IdentityData, CollectError> {
        let what = || format!("iam:GetUser {arn}");
        let out = iam
            .get_user()
            .user_name(name)
            .send()
            .await
            .aws()
            .or_collect(what)?;
        let user = out.user().ok_or_else(|| missing_field(&what(), "User"))?;
        let user_arn = user.arn().to_string();
        let boundary_arn = user
            .permissions_boundary()
            .and_then(|b| b.permissions_boundary_arn());
        let (inline, attached, groups, boundary) = try_join4(
            self.user_inline(iam, &user_arn, name),
            self.user_attached(iam, &user_arn, name),
            self.user_groups(iam, &user_arn, name),
            self.boundary(iam, &user_arn, boundary_arn),
        )
        .await?;
        Ok(IdentityData {
            arn: user_arn,
            policies: inline.into_iter().chain(attached).chain(groups).collect(),
            boundary,
            tags: tags(user.tags()),
        })
    }

    async fn role_identity(
        &self,
        iam: &aws_sdk_iam::Client,
        arn: &str,
        name: &str,
    ) -> Result<IdentityData, CollectError> {
        let what = || format!("iam:GetRole {arn}");
        let out = iam
            .get_role()
            .role_name(name)
            .send()
            .await
            .aws()
            .or_collect(what)?;
        let role = out.role().ok_or_else(|| missing_field(&what(), "Role"))?;
        let role_arn = role.arn().to_string();
        let boundary_arn = role
            .permissions_boundary()
            .and_then(|b| b.permissions_boundary_arn());
        let (inline, attached, boundary) = futures::future::try_join3(
            self.role_inline(iam, &role_arn, name),
            self.role_attached(iam, &role_arn, name),
            self.boundary(iam, &role_arn, boundary_arn),
        )
        .await?;
        Ok(IdentityData {
            arn: role_arn,
            policies: inline.into_iter().chain(attached).collect(),
            boundary,
            tags: tags(role.tags()),
        })
    }

    async fn boundary(
        &self,
        iam: &aws_sdk_iam::Client,
        entity_arn: &str,
        boundary_arn: Option<&str>,
    ) -> Result<Option<PolicyDoc>, CollectError> {
        let Some(arn) = boundary_arn else {
            return Ok(None);
        };
        Ok(Some(PolicyDoc {
            name: policy_name(arn),
            arn: arn.to_string(),
            attached_to: entity_arn.to_string(),
            document: self.managed_document(iam, arn).await?,
        }))
    }

    async fn user_inline(
        &self,
        iam: &aws_sdk_iam::Client,
        user_arn: &str,
        name: &str,
    ) -> Result<Vec<PolicyDoc>, CollectError> {
        let names = iam
            .list_user_policies()
            .user_name(name)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .aws()
            .or_collect(|| format!("iam:ListUserPolicies {user_arn}"))?;
        try_join_all(names.into_iter().map(|policy| async move {
            let what = || format!("iam:GetUserPolicy {user_arn} {policy}");
            let out = iam
                .get_user_policy()
                .user_name(name)
                .policy_name(&policy)
                .send()
                .await
                .aws()
                .or_collect(what)?;
            inline_doc(user_arn, policy.clone(), out.policy_document(), &what())
        }))
        .await
    }

    async fn user_attached(
        &self,
        iam: &aws_sdk_iam::Client,
        user_arn: &str,
        name: &str,
    ) -> Result<Vec<PolicyDoc>, CollectError> {
        let attached = iam
            .list_attached_user_policies()
            .user_name(name)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .aws()
            .or_collect(|| format!("iam:ListAttachedUserPolicies {user_arn}"))?;
        self.attached_docs(iam, user_arn, &attached).await
    }

    async fn user_groups(
        &self,
        iam: &aws_sdk_iam::Client,
        user_arn: &str,
        name: &str,
    ) -> Result<Vec<PolicyDoc>, CollectError> {
        let groups = iam
            .list_groups_for_user()
            .user_name(name)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .aws()
            .or_collect(|| format!("iam:ListGroupsForUser {user_arn}"))?;
        let per_group = try_join_all(
            groups
                .iter()
                .map(|g| self.group_policies(iam, g.arn(), g.group_name())),
        )
        .await?;
        Ok(per_group.into_iter().flatten().collect())
    }

    /// A group's inline, then attached policies (attached to the group ARN).
    async fn group_policies(
        &self,
        iam: &aws_sdk_iam::Client,
        group_arn: &str,
        group: &str,
    ) -> Result<Vec<PolicyDoc>, CollectError> {
        let inline = async {
            let names = iam
                .list_group_policies()
                .group_name(group)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .aws()
                .or_collect(|| format!("iam:ListGroupPolicies {group_arn}"))?;
            try_join_all(names.into_iter().map(|policy| async move {
                let what = || format!("iam:GetGroupPolicy {group_arn} {policy}");
                let out = iam
                    .get_group_policy()
                    .group_name(group)
                    .policy_name(&policy)
                    .send()
                    .await
                    .aws()
                    .or_collect(what)?;
                inline_doc(group_arn, policy.clone(), out.policy_document(), &what())
            }))
            .await
        };
        let attached = async {
            let attached = iam
                .list_attached_group_policies()
                .group_name(group)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .aws()
                .or_collect(|| format!("iam:ListAttachedGroupPolicies {group_arn}"))?;
            self.attached_docs(iam, group_arn, &attached).await
        };
        let (inline, attached) = try_join(inline, attached).await?;
        Ok(inline.into_iter().chain(attached).collect())
    }

    async fn role_inline(
        &self,
        iam: &aws_sdk_iam::Client,
        role_arn: &str,
        name: &str,
    ) -> Result<Vec<PolicyDoc>, CollectError> {
        let names = iam
            .list_role_policies()
            .role_name(name)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .aws()
            .or_collect(|| format!("iam:ListRolePolicies {role_arn}"))?;
        try_join_all(names.into_iter().map(|policy| async move {
            let what = || format!("iam:GetRolePolicy {role_arn} {policy}");
            let out = iam
                .get_role_policy()
                .role_name(name)
                .policy_name(&policy)
                .send()
                .await
                .aws()
                .or_collect(what)?;
            inline_doc(role_arn, policy.clone(), out.policy_document(), &what())
        }))
        .await
    }

    async fn role_attached(
        &self,
        iam: &aws_sdk_iam::Client,
        role_arn: &str,
        name: &str,
    ) -> Result<Vec<PolicyDoc>, CollectError> {
        let attached = iam
            .list_attached_role_policies()
            .role_name(name)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .aws()
            .or_collect(|| format!("iam:ListAttachedRolePolicies {role_arn}"))?;
        self.attached_docs(iam, role_arn, &attached).await
    }

    async fn attached_docs(
        &self,
        iam: &aws_sdk_iam::Client,
        attached_to: &str,
        attached: &[aws_sdk_iam::types::AttachedPolicy],
    ) -> Result<Vec<PolicyDoc>, CollectError> {
        try_join_all(
            attached
                .iter()
                .filter_map(|p| p.policy_arn().map(|arn| (arn, p.policy_name())))
                .map(|(arn, name)| async move {
                    Ok(PolicyDoc {
                        name: name.map(str::to_string).unwrap_or_else(|| policy_name(arn)),
                        arn: arn.to_string(),
                        attached_to: attached_to.to_string(),
                        document: self.managed_document(iam, arn).await?,
                    })
                }),
        )
        .await
    }

    /// The default version of a managed policy (cached by ARN).
    async fn managed_document(
        &self,
        iam: &aws_sdk_iam::Client,
        arn: &str,
    ) -> Result<Value, CollectError> {
        self.managed
            .get_or_init(arn, || async {
                let what = || format!("iam:GetPolicy {arn}");
                let out = iam
                    .get_policy()
                    .policy_arn(arn)
                    .send()
                    .await
                    .aws()
                    .or_collect(what)?;
                let version = out
                    .policy()
                    .and_then(|p| p.default_version_id())
                    .ok_or_else(|| missing_field(&what(), "DefaultVersionId"))?;
                let what = || format!("iam:GetPolicyVersion {arn} {version}");
                let out = iam
                    .get_policy_version()
                    .policy_arn(arn)
                    .version_id(version)
                    .send()
                    .await
                    .aws()
                    .or_collect(what)?;
                let document = out
                    .policy_version()
                    .and_then(|v| v.document())
                    .ok_or_else(|| missing_field(&what(), "Document"))?;
                parse_policy_document(document, &what())
            })
            .await
    }

    /// A policy by the ARN an error message names: an IAM managed policy (in `account`, or
    /// AWS-managed) or an SCP/RCP (through the Organizations credentials).
    pub(super) async fn load_named_policy(
        &self,
        account: &str,
        arn: &str,
    ) -> Result<PolicyDoc, CollectError> {
        let parsed = access_undenied_core::arn::Arn::parse(arn).ok_or_else(|| {
            CollectError::Unsupported {
                what: format!("policy {arn}"),
                why: "not an ARN".into(),
            }
        })?;
        let document = match parsed.service {
            "iam" if parsed.resource.starts_with("policy/") => {
                let owner = if parsed.account == "aws" {
                    account
                } else {
                    parsed.account
                };
                let config = self.account_config(owner).await?;
                self.managed_document(&self.iam_client(&config, None), arn)
                    .await?
            }
            "organizations" if parsed.resource.starts_with("policy/") => {
                let id = parsed.resource.rsplit('/').next().unwrap_or_default();
                let config = self.org_config().await?;
                self.org_policy_document(&config, id).await?
            }
            _ => {
                return Err(CollectError::Unsupported {
                    what: format!("policy {arn}"),
                    why: "only IAM managed policies, SCPs and RCPs are read by ARN".into(),
                })
            }
        };
        Ok(PolicyDoc {
            name: policy_name(arn),
            arn: arn.to_string(),
            attached_to: String::new(),
            document,
        })
    }

    /// `principal_arn()`: a unique id (`AIDA…`, `AROA…`, optionally `:session`) in `account`.
    pub(super) async fn lookup_principal(
        &self,
        account: &str,
        unique_id: &str,
    ) -> Result<String, CollectError> {
        let id = unique_id.split(':').next().unwrap_or(unique_id);
        let kinds: &[PrincipalKind] = if id.starts_with("AIDA") {
            &[PrincipalKind::Users]
        } else if id.starts_with("AROA") {
            &[PrincipalKind::Roles]
        } else {
            &[PrincipalKind::Users, PrincipalKind::Roles]
        };
        for &kind in kinds {
            if let Some(arn) = self.principal_map(account, kind).await?.get(id) {
                return Ok(arn.clone());
            }
        }
        Err(CollectError::NotFound {
            what: format!("principal with unique id {id} in account {account}"),
        })
    }

    /// Unique id → ARN of every user or role of `account` (cached per account).
    async fn principal_map(
        &self,
        account: &str,
        kind: PrincipalKind,
    ) -> Result<Arc<HashMap<String, String>>, CollectError> {
        let key = format!("{account}|{kind:?}");
        self.principals
            .get_or_init(&key, || async {
                let iam = self.iam_client(&self.account_config(account).await?, None);
                let map: HashMap<String, String> = match kind {
                    PrincipalKind::Users => iam
                        .list_users()
                        .into_paginator()
                        .items()
                        .send()
                        .try_collect()
                        .await
                        .aws()
                        .or_collect(|| format!("iam:ListUsers in account {account}"))?
                        .into_iter()
                        .map(|u| (u.user_id().to_string(), u.arn().to_string()))
                        .collect(),
                    PrincipalKind::Roles => iam
                        .list_roles()
                        .into_paginator()
                        .items()
                        .send()
                        .try_collect()
                        .await
                        .aws()
                        .or_collect(|| format!("iam:ListRoles in account {account}"))?
                        .into_iter()
                        .map(|r| (r.role_id().to_string(), r.arn().to_string()))
                        .collect(),
                };
                Ok(Arc::new(map))
            })
            .await
    }
}

/// An inline policy of `holder` (user, group or role): ARN `<holder-arn>/<name>`.
fn inline_doc(
    holder: &str,
    name: String,
    raw: &str,
    what: &str,
) -> Result<PolicyDoc, CollectError> {
    Ok(PolicyDoc {
        arn: format!("{holder}/{name}"),
        name,
        attached_to: holder.to_string(),
        document: parse_policy_document(raw, what)?,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn parses_plain_and_url_encoded_documents() {
        let plain = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C\
                       %22Action%22%3A%22s3%3A%2A%22%2C%22Resource%22%3A%22%2A%22%7D%5D%7D";
        let expected = json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]});
        assert_eq!(
            parse_policy_document(plain, "p").ok(),
            Some(expected.clone())
        );
        assert_eq!(parse_policy_document(encoded, "p").ok(), Some(expected));
        // A plain document keeps its `%` (e.g. in a condition value) untouched.
        let with_percent = r#"{"Statement":[{"Condition":{"StringLike":{"s3:prefix":"a%2Fb"}}}]}"#;
        let v = parse_policy_document(with_percent, "p").ok();
        assert_eq!(
            v.as_ref()
                .and_then(|v| v.pointer("/Statement/0/Condition/StringLike/s3:prefix")),
            Some(&json!("a%2Fb"))
        );
        assert!(matches!(
            parse_policy_document("%7Bnot json", "p"),
            Err(CollectError::Service { .. })
        ));
    }

    #[test]
    fn parses_entity_arns() {
        assert_eq!(
            Entity::parse("arn:aws:iam::111122223333:user/dev/team/alice"),
            Some(Entity::User {
                account: "111122223333".into(),
                name: "alice".into()
            })
        );
        assert_eq!(
            Entity::parse("arn:aws:iam::111122223333:role/service-role/Runner"),
            Some(Entity::Role {
                account: "111122223333".into(),
                name: "Runner".into()
            })
        );
        assert_eq!(
            Entity::parse("arn:aws:sts::111122223333:assumed-role/Runner/session-1"),
            Some(Entity::Role {
                account: "111122223333".into(),
                name: "Runner".into()
            })
        );
        assert_eq!(Entity::parse("arn:aws:iam::111122223333:group/devs"), None);
        assert_eq!(Entity::parse("arn:aws:iam::111122223333:user/"), None);
        assert_eq!(Entity::parse("not-an-arn"), None);
    }
}
