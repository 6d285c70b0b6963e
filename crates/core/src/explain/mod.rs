//! From the engine's answer to the result users read (the result JSON the README documents):
//! the `AssessmentResult` chosen by the contract's ordering rule, every blocking gate in `AllReasons`, the denying
//! statements quoted as written, least-privilege `PoliciesToAdd` for every missing allow, a short
//! `Explanation`, the evaluated `Request`, and what could not be evaluated.
//!
//! The fix is checked before it is claimed: every policy to add is applied and every denying
//! statement dropped in a copy of the policy set, the request is evaluated again, and
//! `FixVerified` says whether the engine then allows it.

mod assessment;
mod fix;

pub use assessment::Assessment;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::eval::{
    evaluate, Decision, Evaluation, GateKind, GateOutcome, PolicySet, PrincipalType, Request,
    UnevaluatedReport,
};
use crate::event::MessageHint;
use crate::evidence::{gate_of_hint, gate_words, Evidence};

/// One denying statement (`ResultDetails.ExplicitDenyPolicies[]`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DenyPolicy {
    pub attachment_target_arn: String,
    pub policy_arn: String,
    pub policy_name: String,
    pub policy_statement: Value,
}

/// One missing allow (`ResultDetails.PoliciesToAdd[]`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyToAdd {
    pub attachment_target_arn: String,
    pub policy: Value,
}

/// `ResultDetails`.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResultDetails {
    pub explicit_deny_policies: Vec<DenyPolicy>,
    pub policies_to_add: Vec<PolicyToAdd>,
}

/// A request as evaluated (`Request[]`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RequestSummary {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    pub principal_type: PrincipalType,
    pub action: String,
    pub resource: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_account: Option<String>,
    pub decision: Decision,
    pub context: Map<String, Value>,
}

/// The result of one event.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DiagnosisResult {
    pub event_id: String,
    pub assessment_result: Assessment,
    pub result_details: ResultDetails,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub all_reasons: Vec<Assessment>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub request: Vec<RequestSummary>,
    /// What could not be evaluated (`Unevaluated[]`, in [`UnevaluatedReport::brief`]'s shape).
    #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "briefly")]
    pub unevaluated: Vec<UnevaluatedReport>,
    /// Whether applying `PoliciesToAdd` and removing `ExplicitDenyPolicies` makes the engine
    /// allow every request of the event (absent when there is nothing to fix).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix_verified: Option<bool>,
    /// What still blocks after the fix, when it does not suffice.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fix_remaining: Vec<Assessment>,
    /// Set when the error message's hint disagrees with the engine.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint_disagreement: Option<String>,
    /// Anything else worth knowing (e.g. an encoded authorization message to decode).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Where the verdict came from (CONTRACT §1b): AWS's recorded evaluation, the error
    /// message, or the policies read now.
    pub evidence: Evidence,
}

fn briefly<S: serde::Serializer>(list: &[UnevaluatedReport], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(list.iter().map(UnevaluatedReport::brief))
}

impl DiagnosisResult {
    fn bare(event_id: &str, a: Assessment, message: Option<String>) -> Self {
        DiagnosisResult {
            event_id: event_id.to_string(),
            assessment_result: a,
            result_details: ResultDetails::default(),
            error_message: message,
            all_reasons: Vec::new(),
            explanation: None,
            request: Vec::new(),
            unevaluated: Vec::new(),
            fix_verified: None,
            fix_remaining: Vec::new(),
            hint_disagreement: None,
            notes: Vec::new(),
            evidence: Evidence::default(),
        }
    }

    /// An `Error` result.
    pub fn error(event_id: &str, message: impl Into<String>) -> Self {
        Self::bare(event_id, Assessment::Error, Some(message.into()))
    }

    /// An `Invalid action` result.
    pub fn invalid_action(event_id: &str, message: impl Into<String>) -> Self {
        Self::bare(event_id, Assessment::InvalidAction, Some(message.into()))
    }
}

/// One evaluated request with its policies.
pub struct Evaluated<'a> {
    pub request: &'a Request,
    pub set: &'a PolicySet,
    pub evaluation: Evaluation,
}

/// A blocking gate of one request, with its assessment.
#[derive(Debug, Clone)]
pub(crate) struct Blocker {
    pub request: usize,
    pub gate: usize,
    pub assessment: Assessment,
    pub deny: bool,
}

fn rank(a: Assessment) -> (u8, u8) {
    use Assessment::*;
    match a {
        ExplicitDenyScp => (0, 0),
        ExplicitDenyRcp => (0, 1),
        ExplicitDenyVpce => (0, 2),
        ExplicitDenyResource => (0, 3),
        ExplicitDenyIdentity => (0, 4),
        ExplicitDenyBoundary => (0, 5),
        ExplicitDenySession => (0, 6),
        MissingAllowScp => (1, 0),
        MissingAllowRcp => (1, 1),
        MissingAllowVpce => (1, 2),
        MissingAllowsCrossAccount => (1, 3),
        MissingAllowIdentity => (1, 3),
        MissingAllowResourceCrossAccount | MissingAllowResource => (1, 3),
        MissingAllowBoundary => (1, 4),
        MissingAllowSession => (1, 5),
        Allowed | InvalidAction | Error => (2, 0),
    }
}

fn blockers(evals: &[Evaluated<'_>]) -> Vec<Blocker> {
    let mut out = Vec::new();
    for (ri, e) in evals.iter().enumerate() {
        if e.evaluation.decision == Decision::Allowed {
            continue;
        }
        let gates = &e.evaluation.gates;
        let blocked = |k: GateKind| {
            gates
                .iter()
                .any(|g| g.missing_allow && g.kind == k && g.outcome != GateOutcome::Unknown)
        };
        let both = blocked(GateKind::IdentityBased) && blocked(GateKind::ResourceBased);
        let cross = e.request.is_cross_account();
        for (gi, g) in gates.iter().enumerate().filter(|(_, g)| g.blocking) {
            if g.outcome == GateOutcome::ExplicitDeny {
                out.push(Blocker {
                    request: ri,
                    gate: gi,
                    assessment: Assessment::deny(g.kind),
                    deny: true,
                });
            }
            // A gate whose policies could not be read is listed in `Unevaluated`, never as a cause.
            if g.missing_allow && g.outcome != GateOutcome::Unknown {
                out.push(Blocker {
                    request: ri,
                    gate: gi,
                    assessment: Assessment::missing(g.kind, cross, both),
                    deny: false,
                });
            }
        }
    }
    out.sort_by_key(|b| rank(b.assessment));
    out
}

/// Explains the evaluations of one event.
pub fn explain(
    event_id: &str,
    evals: &[Evaluated<'_>],
    hint: Option<&MessageHint>,
) -> DiagnosisResult {
    let mut result = DiagnosisResult::bare(event_id, Assessment::Allowed, None);
    result.notes = hint.map(hint_notes).unwrap_or_default();
    result.request = evals.iter().map(summary).collect();
    result.unevaluated = evals.iter().flat_map(unevaluated).collect();
    let denied: Vec<&Evaluated<'_>> = evals
        .iter()
        .filter(|e| e.evaluation.decision != Decision::Allowed)
        .collect();
    let maybe_allowed = evals
        .iter()
        .any(|e| e.evaluation.decision_range.1 == Decision::Allowed && !e.evaluation.conclusive);
    let all_maybe = !denied.is_empty()
        && denied
            .iter()
            .all(|e| e.evaluation.decision_range.1 == Decision::Allowed);
    if denied.is_empty() || all_maybe {
        if maybe_allowed {
            result.assessment_result = Assessment::Error;
            let reasons = result
                .unevaluated
                .iter()
                .map(UnevaluatedReport::reason)
                .collect::<Vec<_>>()
                .join("; ");
            result.error_message = Some(format!(
                "inconclusive: the request may be allowed or denied depending on what could not be evaluated: {reasons}"
            ));
            result.all_reasons = blockers(evals).into_iter().map(|b| b.assessment).collect();
            dedupe(&mut result.all_reasons);
            return result;
        }
        result.error_message = Some(
            "the policies as they are now allow this request: they changed since the event, or the denial came from something not modelled (S3 ACLs or Block Public Access, KMS grants, a session policy the event does not show)"
                .into(),
        );
        return result;
    }
    let blocks = blockers(evals);
    let Some(first) = blocks.first() else {
        return DiagnosisResult::error(
            event_id,
            "the engine denied the request without a blocking gate",
        );
    };
    result.assessment_result = first.assessment;
    result.all_reasons = blocks.iter().map(|b| b.assessment).collect();
    dedupe(&mut result.all_reasons);
    result.result_details.explicit_deny_policies = fix::deny_policies(evals, &blocks);
    let additions = fix::policies_to_add(evals, &blocks);
    result.result_details.policies_to_add = additions.iter().map(|a| a.public.clone()).collect();
    let (verified, remaining) = fix::verify(evals, &blocks, &additions);
    let unknown = evals.iter().any(|e| !e.set.unknown_gates.is_empty());
    result.fix_verified = Some(verified || (unknown && remaining.is_empty()));
    if unknown {
        result.notes.push(
            "some policies could not be read (see Unevaluated): the cause and the fix cover only what could be read"
                .into(),
        );
    }
    result.fix_remaining = remaining;
    result.explanation = Some(explanation(evals, &blocks, &result));
    result.hint_disagreement = hint.and_then(|h| disagreement(h, &blocks));
    result
}

/// Notes about the error message that the result should carry.
fn hint_notes(hint: &MessageHint) -> Vec<String> {
    let mut notes = Vec::new();
    if hint.encoded_message.is_some() {
        let mut n = "the error message carries an encoded authorization message; `aws sts decode-authorization-message` shows AWS's own view of the failed check".to_string();
        if hint.encoded_truncated {
            n.push_str(
                " (CloudTrail truncated it: decode the message the caller received instead)",
            );
        }
        notes.push(n);
    }
    if let Some(r) = &hint.unusable_resource {
        notes.push(format!(
            "the error message names the resource {r}, so it is not used: the resource comes from the event"
        ));
    }
    notes
}

fn dedupe(v: &mut Vec<Assessment>) {
    let mut seen = Vec::new();
    v.retain(|a| {
        if seen.contains(a) {
            false
        } else {
            seen.push(*a);
            true
        }
    });
}

fn summary(e: &Evaluated<'_>) -> RequestSummary {
    RequestSummary {
        principal: e
            .request
            .principal
            .arn()
            .or_else(|| e.request.principal.service())
            .or_else(|| e.request.principal.federated_provider())
            .map(str::to_string),
        principal_type: e.request.principal.principal_type(),
        action: e.request.action.clone(),
        resource: e.request.resource.clone(),
        resource_account: e.request.resource_account.clone(),
        decision: e.evaluation.decision,
        context: crate::event::view::context_json(&e.request.context),
    }
}

/// What could not be evaluated for one request: its statements, then the gates whose policies
/// could not be read.
fn unevaluated(e: &Evaluated<'_>) -> Vec<UnevaluatedReport> {
    e.evaluation
        .unevaluated
        .iter()
        .map(|u| UnevaluatedReport::new(u, e.set))
        .chain(
            e.set
                .unknown_gates
                .iter()
                .map(UnevaluatedReport::unknown_gate),
        )
        .collect()
}

fn explanation(evals: &[Evaluated<'_>], blocks: &[Blocker], result: &DiagnosisResult) -> String {
    let mut s = String::new();
    if let Some(first) = blocks.first() {
        let e = &evals[first.request];
        let who = e
            .request
            .principal
            .arn()
            .map(str::to_string)
            .unwrap_or_else(|| format!("{:?}", e.request.principal.principal_type()));
        s.push_str(&format!(
            "{who} was denied {} on {}. ",
            e.request.action, e.request.resource
        ));
        let g = &e.evaluation.gates[first.gate];
        if first.deny {
            let deny = result.result_details.explicit_deny_policies.first();
            match deny {
                Some(d) => s.push_str(&format!(
                    "The {} {} attached to {} explicitly denies it",
                    gate_words(g.kind),
                    d.policy_name,
                    d.attachment_target_arn
                )),
                None => s.push_str(&format!("A {} explicitly denies it", gate_words(g.kind))),
            }
        } else {
            s.push_str(&format!("No {} allows it", gate_words(g.kind)));
        }
        let others = result.all_reasons.len().saturating_sub(1);
        if others > 0 {
            s.push_str(&format!(
                ", and {others} more gate(s) also block it (see AllReasons)"
            ));
        }
        s.push_str(". ");
    }
    let deny_count = result.result_details.explicit_deny_policies.len();
    let add_count = result.result_details.policies_to_add.len();
    match (deny_count, add_count) {
        (0, 0) => {}
        (d, 0) => s.push_str(&format!("Remove or narrow the {d} denying statement(s) in ExplicitDenyPolicies.")),
        (0, a) => s.push_str(&format!("Add the {a} policy statement(s) in PoliciesToAdd.")),
        (d, a) => s.push_str(&format!(
            "Remove or narrow the {d} denying statement(s) and add the {a} policy statement(s) in PoliciesToAdd."
        )),
    }
    if result.fix_verified == Some(false) {
        s.push_str(" That alone does not make the request allowed (see FixRemaining).");
    }
    s.trim().to_string()
}

fn gate_of(a: Assessment) -> Option<GateKind> {
    use Assessment::*;
    Some(match a {
        ExplicitDenyScp | MissingAllowScp => GateKind::Scp,
        ExplicitDenyRcp | MissingAllowRcp => GateKind::Rcp,
        ExplicitDenyVpce | MissingAllowVpce => GateKind::VpcEndpoint,
        ExplicitDenyResource | MissingAllowResource | MissingAllowResourceCrossAccount => {
            GateKind::ResourceBased
        }
        ExplicitDenyIdentity | MissingAllowIdentity => GateKind::IdentityBased,
        ExplicitDenyBoundary | MissingAllowBoundary => GateKind::PermissionsBoundary,
        ExplicitDenySession | MissingAllowSession => GateKind::Session,
        MissingAllowsCrossAccount => GateKind::IdentityBased,
        Allowed | InvalidAction | Error => return None,
    })
}

fn disagreement(hint: &MessageHint, blocks: &[Blocker]) -> Option<String> {
    let t = hint.policy_type?;
    let wanted = gate_of_hint(t);
    let explicit = hint.explicit_deny;
    let matches = blocks.iter().any(|b| {
        let gate_ok = gate_of(b.assessment) == Some(wanted)
            || (b.assessment == Assessment::MissingAllowsCrossAccount
                && wanted == GateKind::ResourceBased);
        gate_ok && explicit.is_none_or(|x| x == b.deny)
    });
    if matches {
        return None;
    }
    let kind = match explicit {
        Some(true) => "an explicit deny in",
        Some(false) => "a missing allow in",
        None => "",
    };
    let now = blocks
        .iter()
        .map(|b| b.assessment.as_str())
        .collect::<Vec<_>>()
        .join("; ");
    Some(format!(
        "the error message blames {kind} a {}, but the current policies show: {now} (the policies may have changed since the event)",
        gate_words(wanted)
    ))
}

/// Evaluates and explains in one call (for callers that hold requests and sets).
pub fn diagnose(
    event_id: &str,
    items: &[(Request, PolicySet)],
    hint: Option<&MessageHint>,
) -> DiagnosisResult {
    let evals: Vec<Evaluated<'_>> = items
        .iter()
        .map(|(r, s)| Evaluated {
            request: r,
            set: s,
            evaluation: evaluate(r, s),
        })
        .collect();
    explain(event_id, &evals, hint)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resource_the_message_names_unusably_is_noted_not_used() {
        let hint = crate::event::parse_message(
            "User: arn:aws:iam::111122223333:user/a is not authorized to perform: \
             lambda:GetFunction on resource: arn:aws:lambda:us-east-1:111122223333:function:null \
             because no identity-based policy allows the lambda:GetFunction action",
        );
        let notes = hint_notes(&hint);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(
            notes[0].contains(
                "`arn:aws:lambda:us-east-1:111122223333:function:null`: a literal null segment"
            ),
            "{notes:?}"
        );
    }
}
