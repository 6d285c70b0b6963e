//! Temporary stub of the error-message hint parser (being written).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum PolicyTypeHint {
    IdentityBased,
    ResourceBased,
    PermissionsBoundary,
    SessionPolicy,
    ServiceControlPolicy,
    ResourceControlPolicy,
    VpcEndpointPolicy,
    RoleTrustPolicy,
}
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MessageHint {
    pub principal_arn: Option<String>,
    pub action: Option<String>,
    pub resource: Option<String>,
    pub policy_type: Option<PolicyTypeHint>,
    pub explicit_deny: Option<bool>,
    pub policy_arn: Option<String>,
    pub encoded_message: Option<String>,
    pub encoded_truncated: bool,
    pub malformed_request: bool,
}
pub fn parse_message(_message: &str) -> MessageHint {
    MessageHint::default()
}
