//! One result as a few readable lines: `analyze --format text`.

use access_undenied_core::explain::DiagnosisResult;

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
    s
}
