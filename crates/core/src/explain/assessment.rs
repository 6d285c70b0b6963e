//! The exact `AssessmentResult` strings (README, "Result") and how blocking gates map to them.

use serde::{Serialize, Serializer};

use crate::eval::GateKind;

/// One `AssessmentResult` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Assessment {
    Allowed,
    MissingAllowsCrossAccount,
    ExplicitDenyIdentity,
    MissingAllowIdentity,
    ExplicitDenyBoundary,
    MissingAllowBoundary,
    ExplicitDenyResource,
    MissingAllowResourceCrossAccount,
    ExplicitDenyScp,
    MissingAllowScp,
    InvalidAction,
    Error,
    ExplicitDenyRcp,
    ExplicitDenySession,
    MissingAllowSession,
    ExplicitDenyVpce,
    MissingAllowVpce,
    MissingAllowResource,
    /// Added by this project: an RCP level without an allow (only possible when
    /// `RCPFullAWSAccess` was replaced, e.g. in a snapshot or simulation).
    MissingAllowRcp,
}

impl Assessment {
    /// The exact contract string.
    pub fn as_str(self) -> &'static str {
        use Assessment::*;
        match self {
            Allowed => "Allowed",
            MissingAllowsCrossAccount => {
                "Missing allows in an identity-based and a resource-based policy in cross-account access"
            }
            ExplicitDenyIdentity => "Explicit deny in an identity-based policy",
            MissingAllowIdentity => "Missing allow in an identity-based policy",
            ExplicitDenyBoundary => "Explicit deny in a permissions boundary policy",
            MissingAllowBoundary => "Missing allow in a permissions boundary policy",
            ExplicitDenyResource => "Explicit deny in a resource-based policy",
            MissingAllowResourceCrossAccount => "Missing allow in a resource-based policy in cross-account access",
            ExplicitDenyScp => "Explicit deny in a service-control policy",
            MissingAllowScp => "Missing allow in a service-control policy",
            InvalidAction => "Invalid action",
            Error => "Error",
            ExplicitDenyRcp => "Explicit deny in a resource control policy",
            ExplicitDenySession => "Explicit deny in a session policy",
            MissingAllowSession => "Missing allow in a session policy",
            ExplicitDenyVpce => "Explicit deny in a VPC endpoint policy",
            MissingAllowVpce => "Missing allow in a VPC endpoint policy",
            MissingAllowResource => "Missing allow in a resource-based policy",
            MissingAllowRcp => "Missing allow in a resource control policy",
        }
    }

    /// The assessment for an explicit deny at `gate`.
    pub fn deny(gate: GateKind) -> Assessment {
        match gate {
            GateKind::Scp => Assessment::ExplicitDenyScp,
            GateKind::Rcp => Assessment::ExplicitDenyRcp,
            GateKind::VpcEndpoint => Assessment::ExplicitDenyVpce,
            GateKind::ResourceBased => Assessment::ExplicitDenyResource,
            GateKind::IdentityBased => Assessment::ExplicitDenyIdentity,
            GateKind::PermissionsBoundary => Assessment::ExplicitDenyBoundary,
            GateKind::Session => Assessment::ExplicitDenySession,
        }
    }

    /// The assessment for a missing allow at `gate`; `cross_account` and `both` (identity and
    /// resource both missing) pick among the resource/identity variants.
    pub fn missing(gate: GateKind, cross_account: bool, both: bool) -> Assessment {
        match gate {
            GateKind::Scp => Assessment::MissingAllowScp,
            GateKind::Rcp => Assessment::MissingAllowRcp,
            GateKind::VpcEndpoint => Assessment::MissingAllowVpce,
            GateKind::ResourceBased | GateKind::IdentityBased if cross_account && both => {
                Assessment::MissingAllowsCrossAccount
            }
            GateKind::ResourceBased if cross_account => {
                Assessment::MissingAllowResourceCrossAccount
            }
            GateKind::ResourceBased => Assessment::MissingAllowResource,
            GateKind::IdentityBased => Assessment::MissingAllowIdentity,
            GateKind::PermissionsBoundary => Assessment::MissingAllowBoundary,
            GateKind::Session => Assessment::MissingAllowSession,
        }
    }
}

impl Serialize for Assessment {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}
