//! Collecting the policies of a request: the [`PolicySource`] port. Its answers are the core's
//! plain fact types (`access_undenied_core::assemble`), re-exported here.
//!
//! Adapters: [`aws::AwsSource`] (the AWS SDK, cross-account `AssumeRole`, cached for a batch)
//! and [`snapshot::SnapshotSource`] (an offline capture, also used as the in-memory fake in
//! tests). Every answer is plain data that serializes into a snapshot file, so what the AWS
//! adapter read can be replayed offline with identical results.

pub mod aws;
pub mod snapshot;

use access_undenied_core::eval::ResourceKind;
use access_undenied_core::evidence::troubleshooter::CapturedAuthorization;
use std::time::Duration;

use async_trait::async_trait;

pub use access_undenied_core::assemble::{
    CollectError, IdentityData, OrgData, OrgNode, PolicyDoc, ResourcePolicyData,
};

/// The port: everything the diagnosis needs from AWS.
#[async_trait]
pub trait PolicySource: Send + Sync {
    /// Resolves a unique id (`AIDA…`, `AROA…`, optionally `:session`) in `account` to the
    /// user or role ARN.
    async fn principal_arn(&self, account: &str, unique_id: &str) -> Result<String, CollectError>;
    /// The policies, boundary and tags of a user (`:user/`) or role (`:role/`) ARN.
    async fn identity(&self, arn: &str) -> Result<IdentityData, CollectError>;
    /// The account's organization path with SCPs and RCPs; `None` outside an organization.
    async fn organization(&self, account: &str) -> Result<Option<OrgData>, CollectError>;
    /// The resource-based policy of a resource (`holder_arn`: the bucket, key, role, …).
    async fn resource_policy(
        &self,
        holder_arn: &str,
        account: &str,
        region: &str,
        kind: ResourceKind,
    ) -> Result<ResourcePolicyData, CollectError>;
    /// The policy of a VPC endpoint.
    async fn vpc_endpoint_policy(
        &self,
        account: &str,
        region: &str,
        endpoint_id: &str,
    ) -> Result<PolicyDoc, CollectError>;
    /// AWS's recorded evaluation of a denial (IAM Access Troubleshooter) by the authorization
    /// ID of its message, with every policy document as captured; `account` is the principal's.
    async fn authorization(
        &self,
        account: &str,
        authorization_id: &str,
    ) -> Result<CapturedAuthorization, CollectError>;
    /// `sts:DecodeAuthorizationMessage` of an encoded denial message, with `account`'s
    /// credentials (the principal's: the message is decodable in the account it was issued in).
    async fn decode_message(&self, account: &str, encoded: &str) -> Result<String, CollectError>;
    /// A policy by the ARN an error message names (IAM managed policy, SCP or RCP), read with
    /// `account`'s credentials (the principal's) or the Organizations ones.
    async fn named_policy(&self, account: &str, arn: &str) -> Result<PolicyDoc, CollectError>;
    /// The AWS calls made so far and the time spent waiting on them; `None` when the source
    /// calls nothing (a snapshot).
    fn tally(&self) -> Option<CallTally> {
        None
    }
    /// Whether the answers come from an offline snapshot rather than from AWS now.
    fn offline(&self) -> bool {
        false
    }
}

/// The calls made so far and the time spent waiting on them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallTally {
    /// Operations started (retries not counted).
    pub calls: u64,
    /// Time during which at least one attempt was in flight.
    pub waiting: Duration,
}

impl CallTally {
    /// What happened between `earlier` and `self`.
    pub fn since(self, earlier: CallTally) -> CallTally {
        CallTally {
            calls: self.calls.saturating_sub(earlier.calls),
            waiting: self.waiting.saturating_sub(earlier.waiting),
        }
    }
}
