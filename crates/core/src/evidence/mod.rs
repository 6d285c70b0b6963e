//! Where a verdict came from (`Evidence` in the result, CONTRACT §1b), and AWS's own evidence
//! about a denial: the evaluation IAM Access Troubleshooter recorded with the request
//! ([`troubleshooter`]), and what the error message itself says ([`from_message`]).
//!
//! The engine always evaluates; AWS's evidence decides *which* request and policies it
//! evaluates (the ones AWS captured at request time, when it has them) and is compared with
//! the engine's answer. A disagreement is a bug in one of them and is never hidden
//! (`EngineAgrees: false`). Pure: no I/O.

mod changes;
pub mod decoded;
mod named;
pub mod troubleshooter;
mod verdict;

pub use changes::changed_since;
pub use named::{check_named_policy, missing_named_policy};
pub use verdict::with_troubleshooter;

use serde::Serialize;

use crate::eval::GateKind;
use crate::event::{MessageHint, PolicyTypeHint};
use crate::explain::{Assessment, DiagnosisResult};

/// The richest source the verdict rests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub enum EvidenceSource {
    /// AWS's recorded evaluation, fetched by the message's authorization ID.
    AccessTroubleshooter,
    /// `sts:DecodeAuthorizationMessage` of the message's encoded blob.
    DecodedMessage,
    /// The policy type (and ARN) the error message names, checked against the policies read.
    ErrorMessage,
    /// Our reading of the policies as they are now.
    #[default]
    CurrentPolicies,
    /// An offline snapshot of the policies.
    Snapshot,
}

/// Which policies the verdict describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub enum PoliciesAsOf {
    /// The documents AWS captured with the request.
    EventTime,
    /// The documents as they are now (or in the snapshot).
    #[default]
    Now,
}

/// AWS's decision, when it said one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum AwsDecision {
    Allow,
    ExplicitDeny,
    ImplicitDeny,
}

/// A policy AWS names as denying (or, for an implicit deny, the type that lacked an allow).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AwsDenying {
    pub policy_arn: Option<String>,
    pub policy_type: GateKind,
    /// The `Sid`s of the denying statements AWS matched (empty when it did not say).
    pub sids: Vec<String>,
}

/// How a policy differs between the event and now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Change {
    /// Same policy, different document.
    Modified,
    /// Evaluated at request time, not attached now.
    Detached,
    /// Attached now, not evaluated at request time.
    Attached,
    /// Evaluated at request time, gone now.
    Deleted,
}

/// One policy that changed since the event.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyChange {
    pub policy_arn: String,
    pub change: Change,
}

/// `Evidence` of a result (CONTRACT §1b). Every field is always written.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Evidence {
    pub source: EvidenceSource,
    pub authorization_id: Option<String>,
    pub policies_as_of: PoliciesAsOf,
    pub aws_decision: Option<AwsDecision>,
    pub aws_denying: Vec<AwsDenying>,
    /// `Some` only when AWS gave a decision and the engine reached one.
    pub engine_agrees: Option<bool>,
    pub changed_since: Vec<PolicyChange>,
    pub fixed_since: bool,
    /// Why a richer source was not used, and any contradiction found.
    pub notes: Vec<String>,
}

impl Evidence {
    /// Evidence resting on the policies read now (`offline`: from a snapshot).
    pub fn current(offline: bool) -> Evidence {
        Evidence {
            source: if offline {
                EvidenceSource::Snapshot
            } else {
                EvidenceSource::CurrentPolicies
            },
            ..Evidence::default()
        }
    }
}

/// The gate a message's policy type names.
pub fn gate_of_hint(t: PolicyTypeHint) -> GateKind {
    match t {
        PolicyTypeHint::IdentityBased => GateKind::IdentityBased,
        PolicyTypeHint::ResourceBased | PolicyTypeHint::RoleTrustPolicy => GateKind::ResourceBased,
        PolicyTypeHint::PermissionsBoundary => GateKind::PermissionsBoundary,
        PolicyTypeHint::SessionPolicy => GateKind::Session,
        PolicyTypeHint::ServiceControlPolicy => GateKind::Scp,
        PolicyTypeHint::ResourceControlPolicy => GateKind::Rcp,
        PolicyTypeHint::VpcEndpointPolicy => GateKind::VpcEndpoint,
    }
}

/// Whether the engine reached a decision of its own (not `Error` / `Invalid action`).
fn engine_decided(result: &DiagnosisResult) -> bool {
    !matches!(
        result.assessment_result,
        Assessment::Error | Assessment::InvalidAction
    )
}

/// Evidence from what the error message says, checked against `result` (the engine's verdict
/// on the policies read now). Without a policy type in the message, the verdict rests on the
/// policies alone (`offline`: a snapshot's).
pub fn from_message(hint: &MessageHint, result: &DiagnosisResult, offline: bool) -> Evidence {
    let mut ev = Evidence::current(offline);
    let Some(t) = hint.policy_type else {
        return ev;
    };
    ev.source = EvidenceSource::ErrorMessage;
    ev.aws_decision = hint.explicit_deny.map(|explicit| {
        if explicit {
            AwsDecision::ExplicitDeny
        } else {
            AwsDecision::ImplicitDeny
        }
    });
    let gate = gate_of_hint(t);
    ev.aws_denying.push(AwsDenying {
        policy_arn: hint.policy_arn.clone(),
        policy_type: gate,
        sids: Vec::new(),
    });
    if !engine_decided(result) {
        return ev;
    }
    if result.assessment_result == Assessment::Allowed {
        ev.engine_agrees = Some(false);
        ev.notes.push(format!(
            "AWS's message names {} {}{}, but the policies read now allow the request: they changed since the event, or the denying policy could not be seen",
            if hint.explicit_deny == Some(true) { "an explicit deny in a" } else { "a" },
            gate_words(gate),
            hint.policy_arn.as_deref().map(|a| format!(" ({a})")).unwrap_or_default(),
        ));
        return ev;
    }
    ev.engine_agrees = Some(result.hint_disagreement.is_none());
    if let (Some(arn), Some(true)) = (&hint.policy_arn, hint.explicit_deny) {
        let quoted = result
            .result_details
            .explicit_deny_policies
            .iter()
            .any(|d| &d.policy_arn == arn);
        if !quoted {
            ev.notes.push(format!(
                "AWS's message names the denying policy {arn}, which is not among the denying statements found now (detached or changed since, or a policy that could not be listed)"
            ));
        }
    }
    ev
}

/// The words results use for a gate.
pub fn gate_words(g: GateKind) -> &'static str {
    match g {
        GateKind::Scp => "service control policy",
        GateKind::Rcp => "resource control policy",
        GateKind::VpcEndpoint => "VPC endpoint policy",
        GateKind::ResourceBased => "resource-based policy",
        GateKind::IdentityBased => "identity-based policy",
        GateKind::PermissionsBoundary => "permissions boundary",
        GateKind::Session => "session policy",
    }
}

#[cfg(test)]
mod tests;
