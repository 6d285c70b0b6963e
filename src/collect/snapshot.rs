//! Offline capture: a snapshot file holds every answer a [`PolicySource`] gave (errors too), so
//! `analyze --snapshot FILE` replays a live analysis exactly. [`Recording`] wraps any source and
//! records its answers; [`SnapshotSource`] answers from a snapshot (and is the in-memory fake of
//! tests).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

use access_undenied_core::eval::ResourceKind;
use access_undenied_core::evidence::troubleshooter::CapturedAuthorization;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{CollectError, IdentityData, OrgData, PolicyDoc, PolicySource, ResourcePolicyData};

/// The snapshot file format (version 1).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Snapshot {
    pub version: u32,
    /// `<account>/<unique-id>` → user or role ARN.
    pub principals: BTreeMap<String, Result<String, CollectError>>,
    /// User or role ARN → policies, boundary, tags.
    pub identities: BTreeMap<String, Result<IdentityData, CollectError>>,
    /// Account → organization path (`null` outside an organization).
    pub organizations: BTreeMap<String, Result<Option<OrgData>, CollectError>>,
    /// `<Kind>|<holder-arn>` → resource policy.
    pub resource_policies: BTreeMap<String, Result<ResourcePolicyData, CollectError>>,
    /// `<account>|<region>|<vpce-id>` → endpoint policy.
    pub vpc_endpoints: BTreeMap<String, Result<PolicyDoc, CollectError>>,
    /// Authorization ID → AWS's recorded evaluation (IAM Access Troubleshooter).
    pub authorizations: BTreeMap<String, Result<CapturedAuthorization, CollectError>>,
    /// Encoded authorization message → `sts:DecodeAuthorizationMessage`'s `DecodedMessage`.
    pub decoded_messages: BTreeMap<String, Result<String, CollectError>>,
    /// Policy ARN named by an error message → the policy as read.
    pub named_policies: BTreeMap<String, Result<PolicyDoc, CollectError>>,
}

/// Why a snapshot file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("cannot read snapshot `{path}`: {message}")]
    Read { path: String, message: String },
    #[error("cannot write snapshot `{path}`: {message}")]
    Write { path: String, message: String },
}

fn unique_key(account: &str, unique_id: &str) -> String {
    format!(
        "{account}/{}",
        unique_id.split(':').next().unwrap_or(unique_id)
    )
}

fn resource_key(kind: ResourceKind, holder: &str) -> String {
    format!("{kind:?}|{holder}")
}

impl Snapshot {
    pub fn load(path: &Path) -> Result<Snapshot, SnapshotError> {
        let read = |message: String| SnapshotError::Read {
            path: path.display().to_string(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| read(e.to_string()))?;
        // Strictly (a duplicated key is an error), then into the typed form.
        let value = access_undenied_core::json::from_str(&text).map_err(|e| read(e.to_string()))?;
        serde_json::from_value(value).map_err(|e| read(e.to_string()))
    }

    pub fn save(&self, path: &Path) -> Result<(), SnapshotError> {
        let write = |message: String| SnapshotError::Write {
            path: path.display().to_string(),
            message,
        };
        let text = serde_json::to_string_pretty(self).map_err(|e| write(e.to_string()))?;
        std::fs::write(path, text).map_err(|e| write(e.to_string()))
    }

    /// Adds the organization data written by `get-scps`.
    pub fn merge_organizations(&mut self, orgs: BTreeMap<String, Option<OrgData>>) {
        for (account, org) in orgs {
            self.organizations.insert(account, Ok(org));
        }
    }
}

/// Answers from a snapshot.
pub struct SnapshotSource {
    pub snapshot: Snapshot,
}

fn missing(what: String) -> CollectError {
    CollectError::NotInSnapshot { what }
}

#[async_trait]
impl PolicySource for SnapshotSource {
    async fn principal_arn(&self, account: &str, unique_id: &str) -> Result<String, CollectError> {
        let key = unique_key(account, unique_id);
        self.snapshot
            .principals
            .get(&key)
            .cloned()
            .unwrap_or_else(|| Err(missing(format!("principal `{key}`"))))
    }

    async fn identity(&self, arn: &str) -> Result<IdentityData, CollectError> {
        self.snapshot
            .identities
            .get(arn)
            .cloned()
            .unwrap_or_else(|| Err(missing(format!("identity `{arn}`"))))
    }

    async fn organization(&self, account: &str) -> Result<Option<OrgData>, CollectError> {
        self.snapshot
            .organizations
            .get(account)
            .cloned()
            .unwrap_or_else(|| Err(missing(format!("organization data of account {account}"))))
    }

    async fn resource_policy(
        &self,
        holder_arn: &str,
        _account: &str,
        _region: &str,
        kind: ResourceKind,
    ) -> Result<ResourcePolicyData, CollectError> {
        let key = resource_key(kind, holder_arn);
        self.snapshot
            .resource_policies
            .get(&key)
            .cloned()
            .unwrap_or_else(|| Err(missing(format!("resource policy `{key}`"))))
    }

    async fn vpc_endpoint_policy(
        &self,
        account: &str,
        region: &str,
        endpoint_id: &str,
    ) -> Result<PolicyDoc, CollectError> {
        let key = format!("{account}|{region}|{endpoint_id}");
        self.snapshot
            .vpc_endpoints
            .get(&key)
            .cloned()
            .unwrap_or_else(|| Err(missing(format!("VPC endpoint `{key}`"))))
    }

    async fn authorization(
        &self,
        _account: &str,
        authorization_id: &str,
    ) -> Result<CapturedAuthorization, CollectError> {
        self.snapshot
            .authorizations
            .get(authorization_id)
            .cloned()
            .unwrap_or_else(|| {
                Err(missing(format!(
                    "authorization details `{authorization_id}`"
                )))
            })
    }

    async fn named_policy(&self, _account: &str, arn: &str) -> Result<PolicyDoc, CollectError> {
        self.snapshot
            .named_policies
            .get(arn)
            .cloned()
            .unwrap_or_else(|| Err(missing(format!("policy `{arn}`"))))
    }

    async fn decode_message(&self, _account: &str, encoded: &str) -> Result<String, CollectError> {
        self.snapshot
            .decoded_messages
            .get(encoded)
            .cloned()
            .unwrap_or_else(|| Err(missing("the decoded authorization message".to_string())))
    }

    fn offline(&self) -> bool {
        true
    }
}

/// Wraps a source and records every answer into a snapshot.
pub struct Recording<S> {
    pub inner: S,
    recorded: Mutex<Snapshot>,
}

impl<S> Recording<S> {
    pub fn new(inner: S) -> Self {
        Recording {
            inner,
            recorded: Mutex::new(Snapshot {
                version: 1,
                ..Snapshot::default()
            }),
        }
    }

    /// The answers recorded so far.
    pub fn snapshot(&self) -> Snapshot {
        self.recorded.lock().map(|s| s.clone()).unwrap_or_default()
    }

    fn record(&self, f: impl FnOnce(&mut Snapshot)) {
        if let Ok(mut s) = self.recorded.lock() {
            f(&mut s);
        }
    }
}

#[async_trait]
impl<S: PolicySource> PolicySource for Recording<S> {
    async fn principal_arn(&self, account: &str, unique_id: &str) -> Result<String, CollectError> {
        let r = self.inner.principal_arn(account, unique_id).await;
        self.record(|s| {
            s.principals
                .insert(unique_key(account, unique_id), r.clone());
        });
        r
    }

    async fn identity(&self, arn: &str) -> Result<IdentityData, CollectError> {
        let r = self.inner.identity(arn).await;
        self.record(|s| {
            s.identities.insert(arn.to_string(), r.clone());
        });
        r
    }

    async fn organization(&self, account: &str) -> Result<Option<OrgData>, CollectError> {
        let r = self.inner.organization(account).await;
        self.record(|s| {
            s.organizations.insert(account.to_string(), r.clone());
        });
        r
    }

    async fn resource_policy(
        &self,
        holder_arn: &str,
        account: &str,
        region: &str,
        kind: ResourceKind,
    ) -> Result<ResourcePolicyData, CollectError> {
        let r = self
            .inner
            .resource_policy(holder_arn, account, region, kind)
            .await;
        self.record(|s| {
            s.resource_policies
                .insert(resource_key(kind, holder_arn), r.clone());
        });
        r
    }

    async fn vpc_endpoint_policy(
        &self,
        account: &str,
        region: &str,
        endpoint_id: &str,
    ) -> Result<PolicyDoc, CollectError> {
        let r = self
            .inner
            .vpc_endpoint_policy(account, region, endpoint_id)
            .await;
        self.record(|s| {
            s.vpc_endpoints
                .insert(format!("{account}|{region}|{endpoint_id}"), r.clone());
        });
        r
    }

    async fn authorization(
        &self,
        account: &str,
        authorization_id: &str,
    ) -> Result<CapturedAuthorization, CollectError> {
        let r = self.inner.authorization(account, authorization_id).await;
        self.record(|s| {
            s.authorizations
                .insert(authorization_id.to_string(), r.clone());
        });
        r
    }

    async fn named_policy(&self, account: &str, arn: &str) -> Result<PolicyDoc, CollectError> {
        let r = self.inner.named_policy(account, arn).await;
        self.record(|s| {
            s.named_policies.insert(arn.to_string(), r.clone());
        });
        r
    }

    async fn decode_message(&self, account: &str, encoded: &str) -> Result<String, CollectError> {
        let r = self.inner.decode_message(account, encoded).await;
        self.record(|s| {
            s.decoded_messages.insert(encoded.to_string(), r.clone());
        });
        r
    }

    fn offline(&self) -> bool {
        self.inner.offline()
    }
}

/// The file `get-scps` writes and `analyze --scp-file` reads: each account's organization path
/// with its SCPs and RCPs.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ScpFile {
    pub organizations: BTreeMap<String, Option<OrgData>>,
}

impl ScpFile {
    pub fn load(path: &Path) -> Result<ScpFile, SnapshotError> {
        let read = |message: String| SnapshotError::Read {
            path: path.display().to_string(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| read(e.to_string()))?;
        // Strictly (a duplicated key is an error), then into the typed form.
        let value = access_undenied_core::json::from_str(&text).map_err(|e| read(e.to_string()))?;
        serde_json::from_value(value).map_err(|e| read(e.to_string()))
    }
}

/// A source whose organization answers come from a `get-scps` file first.
pub struct WithOrganizations<S> {
    pub inner: S,
    pub organizations: BTreeMap<String, Option<OrgData>>,
}

#[async_trait]
impl<S: PolicySource> PolicySource for WithOrganizations<S> {
    async fn principal_arn(&self, account: &str, unique_id: &str) -> Result<String, CollectError> {
        self.inner.principal_arn(account, unique_id).await
    }
    async fn identity(&self, arn: &str) -> Result<IdentityData, CollectError> {
        self.inner.identity(arn).await
    }
    async fn organization(&self, account: &str) -> Result<Option<OrgData>, CollectError> {
        match self.organizations.get(account) {
            Some(o) => Ok(o.clone()),
            None => self.inner.organization(account).await,
        }
    }
    async fn resource_policy(
        &self,
        holder_arn: &str,
        account: &str,
        region: &str,
        kind: ResourceKind,
    ) -> Result<ResourcePolicyData, CollectError> {
        self.inner
            .resource_policy(holder_arn, account, region, kind)
            .await
    }
    async fn vpc_endpoint_policy(
        &self,
        account: &str,
        region: &str,
        endpoint_id: &str,
    ) -> Result<PolicyDoc, CollectError> {
        self.inner
            .vpc_endpoint_policy(account, region, endpoint_id)
            .await
    }
    async fn authorization(
        &self,
        account: &str,
        authorization_id: &str,
    ) -> Result<CapturedAuthorization, CollectError> {
        self.inner.authorization(account, authorization_id).await
    }
    async fn decode_message(&self, account: &str, encoded: &str) -> Result<String, CollectError> {
        self.inner.decode_message(account, encoded).await
    }
    async fn named_policy(&self, account: &str, arn: &str) -> Result<PolicyDoc, CollectError> {
        self.inner.named_policy(account, arn).await
    }
    fn offline(&self) -> bool {
        self.inner.offline()
    }
}

#[async_trait]
impl PolicySource for Box<dyn PolicySource> {
    async fn principal_arn(&self, account: &str, unique_id: &str) -> Result<String, CollectError> {
        self.as_ref().principal_arn(account, unique_id).await
    }
    async fn identity(&self, arn: &str) -> Result<IdentityData, CollectError> {
        self.as_ref().identity(arn).await
    }
    async fn organization(&self, account: &str) -> Result<Option<OrgData>, CollectError> {
        self.as_ref().organization(account).await
    }
    async fn resource_policy(
        &self,
        holder_arn: &str,
        account: &str,
        region: &str,
        kind: ResourceKind,
    ) -> Result<ResourcePolicyData, CollectError> {
        self.as_ref()
            .resource_policy(holder_arn, account, region, kind)
            .await
    }
    async fn vpc_endpoint_policy(
        &self,
        account: &str,
        region: &str,
        endpoint_id: &str,
    ) -> Result<PolicyDoc, CollectError> {
        self.as_ref()
            .vpc_endpoint_policy(account, region, endpoint_id)
            .await
    }
    async fn authorization(
        &self,
        account: &str,
        authorization_id: &str,
    ) -> Result<CapturedAuthorization, CollectError> {
        self.as_ref().authorization(account, authorization_id).await
    }
    async fn decode_message(&self, account: &str, encoded: &str) -> Result<String, CollectError> {
        self.as_ref().decode_message(account, encoded).await
    }
    async fn named_policy(&self, account: &str, arn: &str) -> Result<PolicyDoc, CollectError> {
        self.as_ref().named_policy(account, arn).await
    }
    fn offline(&self) -> bool {
        self.as_ref().offline()
    }
}
