//! The email form of an alert: readable text — who was denied what and where, why, the exact
//! fix with the statements quoted, what could not be evaluated — and no links.

use std::fmt::Write as _;

use access_undenied_core::explain::DiagnosisResult;
use serde_json::Value;

use crate::sink::{EventMeta, Finding};

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The email body.
pub(super) fn email_text(result: &DiagnosisResult, meta: &EventMeta, finding: &Finding) -> String {
    let mut t = String::new();
    let who = if finding.principal.is_empty() {
        "an unknown caller"
    } else {
        finding.principal.as_str()
    };
    let _ = writeln!(t, "ACCESS DENIED");
    let _ = writeln!(t);
    let _ = writeln!(t, "Who:       {who}");
    for a in &finding.actions {
        let _ = writeln!(t, "Action:    {a}");
    }
    for r in &finding.resources {
        let _ = writeln!(t, "Resource:  {r}");
    }
    let mut place = Vec::new();
    if let Some(a) = &meta.account_id {
        place.push(format!("account {a}"));
    }
    if let Some(r) = &meta.region {
        place.push(r.clone());
    }
    if let Some(time) = &meta.event_time {
        place.push(time.clone());
    }
    if !place.is_empty() {
        let _ = writeln!(t, "Where:     {}", place.join(", "));
    }
    let call = match (&meta.event_source, &meta.event_name) {
        (Some(s), Some(n)) => format!("{s} {n}"),
        (None, Some(n)) => n.clone(),
        (Some(s), None) => s.clone(),
        (None, None) => String::new(),
    };
    let code = meta
        .error_code
        .as_deref()
        .map(|c| format!(" ({c})"))
        .unwrap_or_default();
    let _ = writeln!(t, "Event:     {call}{code}, event id {}", meta.event_id);

    let _ = writeln!(t);
    let _ = writeln!(t, "WHY");
    let _ = writeln!(t, "{}", result.assessment_result.as_str());
    if result.all_reasons.len() > 1 {
        let others: Vec<&str> = result.all_reasons[1..].iter().map(|a| a.as_str()).collect();
        let _ = writeln!(t, "Also blocking: {}", others.join("; "));
    }
    if let Some(e) = &result.explanation {
        let _ = writeln!(t, "{e}");
    }
    if let Some(e) = &result.error_message {
        let _ = writeln!(t, "{e}");
    }
    if let Some(h) = &result.hint_disagreement {
        let _ = writeln!(t, "Note: {h}");
    }
    let _ = writeln!(
        t,
        "Evidence: {}",
        super::evidence::evidence_line(&result.evidence)
    );
    for n in &result.evidence.notes {
        let _ = writeln!(t, "  - {n}");
    }

    let adds = &result.result_details.policies_to_add;
    let denies = &result.result_details.explicit_deny_policies;
    if !adds.is_empty() || !denies.is_empty() {
        let _ = writeln!(t);
        let _ = writeln!(t, "THE FIX");
        for add in adds {
            let _ = writeln!(t, "Add this policy to {}:", add.attachment_target_arn);
            let _ = writeln!(t, "{}", indent(&pretty(&add.policy)));
        }
        for deny in denies {
            let _ = writeln!(
                t,
                "Remove or narrow this statement of {} ({}), attached to {}:",
                deny.policy_name, deny.policy_arn, deny.attachment_target_arn
            );
            let _ = writeln!(t, "{}", indent(&pretty(&deny.policy_statement)));
        }
        match result.fix_verified {
            Some(true) => {
                let _ = writeln!(
                    t,
                    "Checked: with this change the engine allows the request."
                );
            }
            Some(false) => {
                let rest: Vec<&str> = result.fix_remaining.iter().map(|a| a.as_str()).collect();
                let _ = writeln!(
                    t,
                    "Not enough on its own: still blocking after this change: {}",
                    rest.join("; ")
                );
            }
            None => {}
        }
    }
    if !result.unevaluated.is_empty() {
        let _ = writeln!(t);
        let _ = writeln!(t, "NOT EVALUATED");
        for u in &result.unevaluated {
            let name = u.policy_name().map(|n| format!(" {n}")).unwrap_or_default();
            let _ = writeln!(t, "- {:?}{name}: {}", u.gate, u.reason());
        }
    }
    let _ = writeln!(t);
    let _ = writeln!(
        t,
        "-- Access Undenied. The full result is stored under event id {}.",
        meta.event_id
    );
    t
}
