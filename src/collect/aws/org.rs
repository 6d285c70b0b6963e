//! Organizations: an account's path from the root with the SCPs and RCPs of every level.

use aws_sdk_organizations::types::{ParentType, PolicyType, PolicyTypeStatus};
use futures::future::{try_join3, try_join_all};
use serde_json::Value;

use super::errors::{missing_field, AwsResult, OrCollect};
use super::iam::parse_policy_document;
use super::AwsSource;
use crate::collect::{CollectError, OrgData, OrgNode, PolicyDoc};

/// Deeper than any organization can be (the root, five levels of OUs, the account).
const MAX_DEPTH: usize = 10;

/// What is the same for every account of the organization.
#[derive(Debug, Clone)]
pub(super) struct OrgBase {
    id: String,
    management_account: String,
    root_id: String,
    root_arn: String,
    scps_enabled: bool,
    rcps_enabled: bool,
}

/// A node's parent.
#[derive(Debug, Clone)]
pub(super) struct ParentLink {
    id: String,
    is_root: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NodeKind {
    Root,
    Unit,
    Account,
}

impl AwsSource {
    /// `organization()` uncached.
    pub(super) async fn load_organization(
        &self,
        account: &str,
    ) -> Result<Option<OrgData>, CollectError> {
        let Some(base) = self.org_base().await? else {
            return Ok(None);
        };
        let org = self.org_client(&self.org_config().await?, None);
        // The account, then its parents up to the root.
        let mut chain = vec![(account.to_string(), NodeKind::Account)];
        let mut current = account.to_string();
        loop {
            if chain.len() > MAX_DEPTH {
                return Err(CollectError::Service {
                    what: format!("organizations:ListParents of account {account}"),
                    message: format!("no root found within {MAX_DEPTH} levels"),
                });
            }
            let parent = self.org_parent(&org, &current).await?;
            if parent.is_root {
                chain.push((parent.id, NodeKind::Root));
                break;
            }
            chain.push((parent.id.clone(), NodeKind::Unit));
            current = parent.id;
        }
        chain.reverse();
        let path = try_join_all(
            chain
                .iter()
                .map(|(id, kind)| self.org_node(&org, &base, id, *kind)),
        )
        .await?;
        Ok(Some(OrgData {
            organization_id: base.id,
            management_account: base.management_account,
            scps_enabled: base.scps_enabled,
            rcps_enabled: base.rcps_enabled,
            path,
        }))
    }

    /// Every account of the organization (`organizations:ListAccounts`, paginated), read with
    /// the management account role when one is configured; empty when the caller is in no
    /// organization. For `get-scps`.
    pub async fn organization_accounts(&self) -> Result<Vec<String>, CollectError> {
        if self.org_base().await?.is_none() {
            return Ok(Vec::new());
        }
        let org = self.org_client(&self.org_config().await?, None);
        let pages = org
            .list_accounts()
            .into_paginator()
            .send()
            .try_collect()
            .await
            .aws()
            .or_collect(|| "organizations:ListAccounts".to_string())?;
        Ok(pages
            .iter()
            .flat_map(|p| p.accounts())
            .filter_map(|a| a.id().map(str::to_string))
            .collect())
    }

    /// Refuses an account outside the caller's organization (`organizations:DescribeAccount`
    /// with the Organizations credentials says it is unknown), and any other account when the
    /// caller is in no organization. When membership cannot be read (no Organizations access
    /// from this account), the account is not refused here: the role grant's
    /// `aws:ResourceOrgID` condition in IAM still keeps non-members out.
    pub(super) async fn check_member(&self, account: &str) -> Result<(), CollectError> {
        let refuse = |message: String| {
            Err(CollectError::AssumeRole {
                account: account.to_string(),
                message,
            })
        };
        let base = match self.org_base().await {
            Ok(Some(base)) => base,
            Ok(None) => {
                return refuse(
                    "the function's account is in no organization, so only its own account is entered: no role is assumed"
                        .into(),
                )
            }
            Err(_) => return Ok(()),
        };
        let Ok(config) = self.org_config().await else {
            return Ok(());
        };
        match self
            .org_client(&config, None)
            .describe_account()
            .account_id(account)
            .send()
            .await
            .aws()
        {
            Err(e) if e.is_not_found() => refuse(format!(
                "not a member of organization {}: no role is assumed",
                base.id
            )),
            _ => Ok(()),
        }
    }

    /// The organization and its root (once); `None` when the caller is in no organization.
    async fn org_base(&self) -> Result<Option<OrgBase>, CollectError> {
        self.org_base
            .get_or_init(|| async {
                let org = self.org_client(&self.org_config().await?, None);
                let what = || "organizations:DescribeOrganization".to_string();
                let described = match org.describe_organization().send().await.aws() {
                    Ok(out) => out,
                    Err(e) if e.code() == "AWSOrganizationsNotInUseException" => return Ok(None),
                    Err(e) => return Err(e.into_collect(what())),
                };
                let organization = described
                    .organization()
                    .ok_or_else(|| missing_field(&what(), "Organization"))?;
                let id = organization
                    .id()
                    .ok_or_else(|| missing_field(&what(), "Organization.Id"))?;
                let management = organization
                    .master_account_id()
                    .ok_or_else(|| missing_field(&what(), "Organization.MasterAccountId"))?;
                let what = || "organizations:ListRoots".to_string();
                let pages = org
                    .list_roots()
                    .into_paginator()
                    .send()
                    .try_collect()
                    .await
                    .aws()
                    .or_collect(what)?;
                let root = pages
                    .iter()
                    .flat_map(|p| p.roots())
                    .next()
                    .ok_or_else(|| missing_field(&what(), "Roots"))?;
                let enabled = |kind: PolicyType| {
                    root.policy_types().iter().any(|t| {
                        t.r#type() == Some(&kind) && t.status() == Some(&PolicyTypeStatus::Enabled)
                    })
                };
                Ok(Some(OrgBase {
                    id: id.to_string(),
                    management_account: management.to_string(),
                    root_id: root
                        .id()
                        .ok_or_else(|| missing_field(&what(), "Root.Id"))?
                        .to_string(),
                    root_arn: root
                        .arn()
                        .ok_or_else(|| missing_field(&what(), "Root.Arn"))?
                        .to_string(),
                    scps_enabled: enabled(PolicyType::ServiceControlPolicy),
                    rcps_enabled: enabled(PolicyType::ResourceControlPolicy),
                }))
            })
            .await
            .clone()
    }

    /// The parent of an account or OU (cached).
    async fn org_parent(
        &self,
        org: &aws_sdk_organizations::Client,
        child: &str,
    ) -> Result<ParentLink, CollectError> {
        self.org_parents
            .get_or_init(child, || async {
                let what = || format!("organizations:ListParents {child}");
                let pages = org
                    .list_parents()
                    .child_id(child)
                    .into_paginator()
                    .send()
                    .try_collect()
                    .await
                    .aws()
                    .or_collect(what)?;
                let parent = pages.iter().flat_map(|p| p.parents()).next();
                let parent = parent.ok_or_else(|| missing_field(&what(), "Parents"))?;
                Ok(ParentLink {
                    id: parent
                        .id()
                        .ok_or_else(|| missing_field(&what(), "Parent.Id"))?
                        .to_string(),
                    is_root: parent.r#type() == Some(&ParentType::Root),
                })
            })
            .await
    }

    /// A node with its ARN, SCPs and RCPs (cached).
    async fn org_node(
        &self,
        org: &aws_sdk_organizations::Client,
        base: &OrgBase,
        id: &str,
        kind: NodeKind,
    ) -> Result<OrgNode, CollectError> {
        self.org_nodes
            .get_or_init(id, || async {
                let arn = async {
                    match kind {
                        NodeKind::Root if id == base.root_id => Ok(base.root_arn.clone()),
                        NodeKind::Root => Err(CollectError::Service {
                            what: format!("organizations:ListParents reached root {id}"),
                            message: format!("the organization's root is {}", base.root_id),
                        }),
                        NodeKind::Unit => {
                            let what = || format!("organizations:DescribeOrganizationalUnit {id}");
                            let out = org
                                .describe_organizational_unit()
                                .organizational_unit_id(id)
                                .send()
                                .await
                                .aws()
                                .or_collect(what)?;
                            let arn = out.organizational_unit().and_then(|u| u.arn());
                            arn.map(str::to_string)
                                .ok_or_else(|| missing_field(&what(), "OrganizationalUnit.Arn"))
                        }
                        NodeKind::Account => {
                            let what = || format!("organizations:DescribeAccount {id}");
                            let out = org
                                .describe_account()
                                .account_id(id)
                                .send()
                                .await
                                .aws()
                                .or_collect(what)?;
                            let arn = out.account().and_then(|a| a.arn());
                            arn.map(str::to_string)
                                .ok_or_else(|| missing_field(&what(), "Account.Arn"))
                        }
                    }
                };
                let (arn, scps, rcps) = try_join3(
                    arn,
                    self.target_policies(
                        org,
                        id,
                        PolicyType::ServiceControlPolicy,
                        base.scps_enabled,
                    ),
                    self.target_policies(
                        org,
                        id,
                        PolicyType::ResourceControlPolicy,
                        base.rcps_enabled,
                    ),
                )
                .await?;
                let attach = |docs: Vec<(String, String, Value)>| {
                    docs.into_iter()
                        .map(|(name, policy_arn, document)| PolicyDoc {
                            name,
                            arn: policy_arn,
                            attached_to: arn.clone(),
                            document,
                        })
                        .collect()
                };
                Ok(OrgNode {
                    id: id.to_string(),
                    scps: attach(scps),
                    rcps: attach(rcps),
                    arn,
                })
            })
            .await
    }

    /// `(name, arn, document)` of the policies of one type attached to a node; none when the
    /// type is not enabled.
    async fn target_policies(
        &self,
        org: &aws_sdk_organizations::Client,
        target: &str,
        kind: PolicyType,
        enabled: bool,
    ) -> Result<Vec<(String, String, Value)>, CollectError> {
        if !enabled {
            return Ok(Vec::new());
        }
        let what = || {
            format!(
                "organizations:ListPoliciesForTarget {target} {}",
                kind.as_str()
            )
        };
        let pages = org
            .list_policies_for_target()
            .target_id(target)
            .filter(kind.clone())
            .into_paginator()
            .send()
            .try_collect()
            .await
            .aws()
            .or_collect(what)?;
        try_join_all(pages.iter().flat_map(|p| p.policies()).map(|s| async move {
            let id = s
                .id()
                .ok_or_else(|| missing_field(&what(), "PolicySummary.Id"))?;
            let (name, arn) = (s.name().unwrap_or(id), s.arn().unwrap_or(id));
            let document = self.org_policy(org, id).await?;
            Ok((name.to_string(), arn.to_string(), document))
        }))
        .await
    }

    /// An SCP's or RCP's document by id, with the Organizations credentials `config`.
    pub(super) async fn org_policy_document(
        &self,
        config: &aws_config::SdkConfig,
        id: &str,
    ) -> Result<Value, CollectError> {
        self.org_policy(&self.org_client(config, None), id).await
    }

    /// An SCP's or RCP's document (cached by policy id).
    async fn org_policy(
        &self,
        org: &aws_sdk_organizations::Client,
        id: &str,
    ) -> Result<Value, CollectError> {
        self.org_policies
            .get_or_init(id, || async {
                let what = || format!("organizations:DescribePolicy {id}");
                let out = org
                    .describe_policy()
                    .policy_id(id)
                    .send()
                    .await
                    .aws()
                    .or_collect(what)?;
                let content = out
                    .policy()
                    .and_then(|p| p.content())
                    .ok_or_else(|| missing_field(&what(), "Content"))?;
                parse_policy_document(content, &what())
            })
            .await
    }
}
