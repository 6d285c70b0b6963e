//! One result, or one event as read, as a few readable lines: `analyze --format text` and
//! `events --format text`.

use access_undenied_core::event::view::EventView;
use access_undenied_core::explain::DiagnosisResult;

/// A few readable lines for one event as the reader read it: its status, the caller, each
/// request with its context keys, the message's hint, or the error.
pub fn event_text(v: &EventView) -> String {
    let what = match (&v.event_source, &v.event_name) {
        (Some(source), Some(name)) => format!(" ({source} {name})"),
        _ => String::new(),
    };
    let mut s = format!("{}: {}{what}\n", v.event_id, v.status);
    if let Some(m) = &v.error_message {
        s.push_str(&format!("  {m}\n"));
    }
    if let Some(p) = &v.principal {
        let who = p
            .arn()
            .or_else(|| p.federated_provider())
            .or_else(|| p.service())
            .unwrap_or("(no ARN)");
        s.push_str(&format!("  principal: {who} ({:?})\n", p.principal_type()));
    }
    for r in &v.requests {
        s.push_str(&format!("  request: {} on {}\n", r.action, r.resource));
        let keys: Vec<String> = r.context.iter().map(|(k, v)| format!("{k}={v}")).collect();
        if !keys.is_empty() {
            s.push_str(&format!("    context: {}\n", keys.join(", ")));
        }
    }
    for a in &v.set_aside {
        s.push_str(&format!("  set aside: {a}\n"));
    }
    for n in &v.needs {
        s.push_str(&format!("  needs: {n:?}\n"));
    }
    if let Some(h) = &v.hint {
        if let Some(t) = h.policy_type {
            s.push_str(&format!("  message names: {t:?}\n"));
        }
    }
    s
}

/// A few readable lines for one result.
pub fn result_text(r: &DiagnosisResult) -> String {
    let mut s = format!("{}: {}\n", r.event_id, r.assessment_result.as_str());
    if let Some(m) = &r.error_message {
        s.push_str(&format!("  {m}\n"));
    }
    if let Some(e) = &r.explanation {
        s.push_str(&format!("  {e}\n"));
    }
    for d in &r.result_details.explicit_deny_policies {
        s.push_str(&format!(
            "  deny: {} ({}) on {}: {}\n",
            d.policy_name, d.policy_arn, d.attachment_target_arn, d.policy_statement
        ));
    }
    for p in &r.result_details.policies_to_add {
        s.push_str(&format!(
            "  add to {}: {}\n",
            p.attachment_target_arn, p.policy
        ));
    }
    if r.all_reasons.len() > 1 {
        let all: Vec<&str> = r.all_reasons.iter().map(|a| a.as_str()).collect();
        s.push_str(&format!("  all reasons: {}\n", all.join("; ")));
    }
    for u in &r.unevaluated {
        s.push_str(&format!("  not evaluated ({:?}): {}\n", u.gate, u.reason()));
    }
    if let Some(h) = &r.hint_disagreement {
        s.push_str(&format!("  note: {h}\n"));
    }
    s.push_str(&format!(
        "  evidence: {}\n",
        super::evidence::evidence_line(&r.evidence)
    ));
    s
}
