//! The CloudTrail record as it arrives, in serde types that accept every shape CloudTrail
//! writes; validation into [`super::AccessDeniedEvent`] happens in one place afterwards.

use serde::Deserialize;
use serde_json::Value;

/// `userIdentity.sessionContext.sessionIssuer`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RawSessionIssuer {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub principal_id: Option<String>,
    pub arn: Option<String>,
    pub account_id: Option<String>,
    pub user_name: Option<String>,
}

/// `userIdentity.sessionContext.attributes`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RawSessionAttributes {
    pub creation_date: Option<String>,
    /// `"true"` / `"false"` (CloudTrail writes a string).
    pub mfa_authenticated: Option<Value>,
}

/// `userIdentity.sessionContext.webIdFederationData`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RawWebIdFederation {
    pub federated_provider: Option<String>,
}

/// `userIdentity.sessionContext`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RawSessionContext {
    pub session_issuer: Option<RawSessionIssuer>,
    pub attributes: Option<RawSessionAttributes>,
    pub web_id_federation_data: Option<RawWebIdFederation>,
    pub source_identity: Option<String>,
}

/// `userIdentity`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RawUserIdentity {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub principal_id: Option<String>,
    pub arn: Option<String>,
    pub account_id: Option<String>,
    pub access_key_id: Option<String>,
    pub user_name: Option<String>,
    pub invoked_by: Option<String>,
    pub identity_provider: Option<String>,
    pub session_context: Option<RawSessionContext>,
    pub credential_id: Option<String>,
}

/// One entry of `resources[]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct RawResource {
    #[serde(rename = "ARN", alias = "arn")]
    pub arn: Option<String>,
    #[serde(rename = "accountId")]
    pub account_id: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

/// A CloudTrail record (management or data event).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RawRecord {
    pub event_version: Option<String>,
    #[serde(rename = "eventID")]
    pub event_id: Option<String>,
    pub event_time: Option<String>,
    pub event_source: Option<String>,
    pub event_name: Option<String>,
    pub aws_region: Option<String>,
    #[serde(rename = "sourceIPAddress")]
    pub source_ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub user_identity: Option<RawUserIdentity>,
    pub request_parameters: Option<Value>,
    pub additional_event_data: Option<Value>,
    pub resources: Option<Vec<RawResource>>,
    pub recipient_account_id: Option<String>,
    pub vpc_endpoint_id: Option<String>,
    pub vpc_endpoint_account_id: Option<String>,
    pub event_type: Option<String>,
    pub tls_details: Option<Value>,
    pub shared_event_id: Option<String>,
}
