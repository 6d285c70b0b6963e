//! The verdict of an event AWS recorded an evaluation for: the engine evaluates the requests
//! and policies AWS captured, its decision is compared with AWS's, the cause is quoted as it
//! was at request time, and the fix is computed (and verified) on the policies as they are now.

use crate::eval::{evaluate, Decision, GateKind, PolicySet, Principal, Request};
use crate::event::MessageHint;
use crate::explain::{diagnose, explain, Assessment, DiagnosisResult, Evaluated};
use crate::policy::PolicyCache;

use super::changes::changed_since;
use super::troubleshooter::{agrees, aws_decision, CapturedAuthorization};
use super::{AwsDecision, Evidence, EvidenceSource, PoliciesAsOf};

/// The verdict from AWS's recorded evaluation (`captured`, read for `authorization_id`) and the
/// engine, given the requests and policy sets read now (`current`).
pub fn with_troubleshooter(
    event_id: &str,
    authorization_id: &str,
    captured: &CapturedAuthorization,
    principal: &Principal,
    current: &[(Request, PolicySet)],
    hint: Option<&MessageHint>,
    cache: &mut PolicyCache,
) -> DiagnosisResult {
    let now = diagnose(event_id, current, hint);
    let evaluations = &captured.details.evaluations;
    if evaluations.is_empty() {
        let mut result = now;
        result.evidence.authorization_id = Some(authorization_id.to_string());
        result.evidence.notes.push(
            "AWS's authorization details list no evaluation: the verdict rests on the policies read now"
                .into(),
        );
        return result;
    }
    let then: Vec<(Request, PolicySet)> = evaluations
        .iter()
        .map(|e| {
            (
                captured.request(principal, e),
                captured.policy_set(e, cache),
            )
        })
        .collect();
    // Evaluated once: the explanation and the comparison with AWS read the same evaluations.
    let evaluated: Vec<Evaluated<'_>> = then
        .iter()
        .map(|(request, set)| Evaluated {
            request,
            set,
            evaluation: evaluate(request, set),
        })
        .collect();
    let at_event = explain(event_id, &evaluated, hint);

    let mut evidence = Evidence {
        source: EvidenceSource::AccessTroubleshooter,
        authorization_id: Some(authorization_id.to_string()),
        ..Evidence::default()
    };
    let mut agree = Some(true);
    // Gates that blocked at request time but that today's reading cannot see (session policies
    // come with the session; a VPC endpoint policy only with the endpoint).
    let mut unseen: Vec<GateKind> = Vec::new();
    for (e, done) in evaluations.iter().zip(&evaluated) {
        let Some(aws) = aws_decision(e) else {
            agree = agree.and(None);
            continue;
        };
        evidence.aws_decision = Some(match (evidence.aws_decision, aws) {
            (Some(AwsDecision::ExplicitDeny), _) | (_, AwsDecision::ExplicitDeny) => {
                AwsDecision::ExplicitDeny
            }
            (Some(AwsDecision::ImplicitDeny), _) | (_, AwsDecision::ImplicitDeny) => {
                AwsDecision::ImplicitDeny
            }
            _ => AwsDecision::Allow,
        });
        for d in captured.denying(e) {
            if !evidence.aws_denying.contains(&d) {
                evidence.aws_denying.push(d);
            }
        }
        let engine = &done.evaluation;
        for g in engine.gates.iter().filter(|g| g.blocking) {
            let visible_now = match g.kind {
                GateKind::Session => current.iter().any(|(_, s)| !s.session.is_empty()),
                GateKind::VpcEndpoint => current.iter().any(|(_, s)| !s.vpc_endpoints.is_empty()),
                _ => true,
            };
            if !visible_now && !unseen.contains(&g.kind) {
                unseen.push(g.kind);
            }
        }
        if !engine.conclusive {
            if agree == Some(true) {
                agree = None;
            }
            continue;
        }
        if !agrees(aws, engine.decision) {
            agree = Some(false);
            evidence.notes.push(format!(
                "AWS recorded {} for {} on {}; the engine, on the same captured policies, decides {}",
                decision_words(aws),
                e.action,
                e.resource,
                match engine.decision {
                    Decision::Allowed => "allow",
                    Decision::ExplicitDeny => "an explicit deny",
                    Decision::ImplicitDeny => "an implicit deny",
                }
            ));
        }
    }
    evidence.engine_agrees = agree;

    // The cause as AWS evaluated it, when the engine finds one in the captured set.
    let denied_then = !matches!(
        at_event.assessment_result,
        Assessment::Allowed | Assessment::Error | Assessment::InvalidAction
    );
    let mut result = if denied_then {
        evidence.policies_as_of = PoliciesAsOf::EventTime;
        at_event
    } else {
        evidence.notes.push(
            "the engine finds no denial in the policies AWS captured: the cause below describes the policies read now"
                .into(),
        );
        now.clone()
    };

    for (r, set) in &then {
        let counterpart = current
            .iter()
            .find(|(c, _)| c.action.eq_ignore_ascii_case(&r.action))
            .or(current.first());
        if let Some((_, now_set)) = counterpart {
            for c in changed_since(set, now_set) {
                if !evidence.changed_since.contains(&c) {
                    evidence.changed_since.push(c);
                }
            }
        }
    }
    evidence.changed_since.sort();

    // The fix is what must change now.
    if !unseen.is_empty() && denied_then {
        let words: Vec<&str> = unseen.iter().map(|g| super::gate_words(*g)).collect();
        evidence.notes.push(format!(
            "the {} that blocked at request time cannot be read now (it comes with the session or the endpoint, not with the principal): the denial holds wherever it applies, so it is not reported as fixed since",
            words.join(" and ")
        ));
        result.result_details.policies_to_add = now.result_details.policies_to_add.clone();
    } else if now.assessment_result == Assessment::Allowed && denied_then {
        evidence.fixed_since = true;
        result.result_details.policies_to_add.clear();
        result.fix_verified = None;
        result.fix_remaining.clear();
        let mut text = result.explanation.take().unwrap_or_default();
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(
            "The policies as they are now already allow the request: fixed since the event.",
        );
        result.explanation = Some(text);
    } else if denied_then && now.assessment_result != Assessment::Error {
        result.result_details.policies_to_add = now.result_details.policies_to_add.clone();
        result.fix_verified = now.fix_verified;
        result.fix_remaining = now.fix_remaining.clone();
    }
    result.evidence = evidence;
    result
}

fn decision_words(d: AwsDecision) -> &'static str {
    match d {
        AwsDecision::Allow => "allow",
        AwsDecision::ExplicitDeny => "an explicit deny",
        AwsDecision::ImplicitDeny => "an implicit deny",
    }
}
