//! One sentence on where a verdict came from (`Evidence`), for the text output and the alerts:
//! the source, AWS's decision and whether the engine agrees, what changed since the event.

use access_undenied_core::evidence::{AwsDecision, Evidence, EvidenceSource, PoliciesAsOf};

/// `AWS Access Troubleshooter (authorization abc), policies as at the event: AWS said explicit
/// deny; the engine agrees. Changed since: … Fixed since the event.`
pub fn evidence_line(e: &Evidence) -> String {
    let mut s = match e.source {
        EvidenceSource::AccessTroubleshooter => "AWS Access Troubleshooter".to_string(),
        EvidenceSource::DecodedMessage => "AWS's decoded authorization message".to_string(),
        EvidenceSource::ErrorMessage => {
            "the error message, checked against today's policies".to_string()
        }
        EvidenceSource::CurrentPolicies => "today's policies".to_string(),
        EvidenceSource::Snapshot => "the snapshot's policies".to_string(),
    };
    if let Some(id) = &e.authorization_id {
        s.push_str(&format!(" (authorization {id})"));
    }
    if e.policies_as_of == PoliciesAsOf::EventTime {
        s.push_str(", policies as they were at the event");
    }
    if let Some(d) = e.aws_decision {
        let words = match d {
            AwsDecision::Allow => "allow",
            AwsDecision::ExplicitDeny => "explicit deny",
            AwsDecision::ImplicitDeny => "implicit deny",
        };
        s.push_str(&format!(": AWS said {words}"));
        match e.engine_agrees {
            Some(true) => s.push_str("; the engine agrees"),
            Some(false) => s.push_str("; THE ENGINE DISAGREES"),
            None => {}
        }
    }
    s.push('.');
    if !e.changed_since.is_empty() {
        let changes: Vec<String> = e
            .changed_since
            .iter()
            .map(|c| format!("{} ({:?})", c.policy_arn, c.change))
            .collect();
        s.push_str(&format!(" Changed since: {}.", changes.join(", ")));
    }
    if e.fixed_since {
        s.push_str(" Fixed since the event: today's policies allow the request.");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use access_undenied_core::evidence::{Change, PolicyChange};

    #[test]
    fn says_source_decision_agreement_and_changes() {
        let e = Evidence {
            source: EvidenceSource::AccessTroubleshooter,
            authorization_id: Some("abc".into()),
            policies_as_of: PoliciesAsOf::EventTime,
            aws_decision: Some(AwsDecision::ExplicitDeny),
            engine_agrees: Some(false),
            changed_since: vec![PolicyChange {
                policy_arn: "arn:aws:iam::1:policy/P".into(),
                change: Change::Modified,
            }],
            fixed_since: true,
            ..Evidence::default()
        };
        assert_eq!(
            evidence_line(&e),
            "AWS Access Troubleshooter (authorization abc), policies as they were at the event: AWS said explicit deny; THE ENGINE DISAGREES. Changed since: arn:aws:iam::1:policy/P (Modified). Fixed since the event: today's policies allow the request."
        );
        assert_eq!(evidence_line(&Evidence::default()), "today's policies.");
    }
}
