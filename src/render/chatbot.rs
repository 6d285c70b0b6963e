//! The Slack form of an alert: AWS Chatbot's custom-notification JSON (`client-markdown`), so
//! a Chatbot-subscribed topic posts a formatted message — the cause, the principal and
//! resources, the fix, and the finding as the thread.

use std::fmt::Write as _;

use access_undenied_core::explain::DiagnosisResult;
use serde_json::{json, Value};

use super::alert::cause_kind;
use super::trim::{ellipsis, short_principal};
use crate::sink::{EventMeta, Finding};

/// Kept short so Slack shows the whole message without "see more".
pub const MAX_CHATBOT_DESCRIPTION: usize = 3500;
const MAX_CHATBOT_TITLE: usize = 250;

/// AWS Chatbot's custom notification (`client-markdown`).
pub(super) fn chatbot(result: &DiagnosisResult, meta: &EventMeta, finding: &Finding) -> Value {
    let who = if finding.principal.is_empty() {
        "unknown caller".to_string()
    } else {
        short_principal(&finding.principal).to_string()
    };
    let title = ellipsis(
        &format!(
            ":no_entry: Access denied: {} by {who}",
            if finding.actions.is_empty() {
                "an action".to_string()
            } else {
                finding.actions.join(", ")
            }
        ),
        MAX_CHATBOT_TITLE,
    );
    let mut d = String::new();
    let _ = writeln!(d, "*{}*", result.assessment_result.as_str());
    if let Some(e) = result
        .explanation
        .as_ref()
        .or(result.error_message.as_ref())
    {
        let _ = writeln!(d, "{e}");
    }
    let _ = writeln!(
        d,
        "_Evidence:_ {}",
        super::evidence::evidence_line(&result.evidence)
    );
    if !finding.principal.is_empty() {
        let _ = writeln!(d, "*Principal:* `{}`", finding.principal);
    }
    for r in &finding.resources {
        let _ = writeln!(d, "*Resource:* `{r}`");
    }
    let mut place = Vec::new();
    if let Some(a) = &meta.account_id {
        place.push(format!("*Account:* {a}"));
    }
    if let Some(r) = &meta.region {
        place.push(format!("*Region:* {r}"));
    }
    if let Some(time) = &meta.event_time {
        place.push(format!("*Time:* {time}"));
    }
    if !place.is_empty() {
        let _ = writeln!(d, "{}", place.join("  "));
    }
    let mut next_steps = Vec::new();
    for add in &result.result_details.policies_to_add {
        let target = &add.attachment_target_arn;
        let _ = writeln!(d, "*Fix:* add to `{target}`");
        let _ = writeln!(d, "```{}```", add.policy);
        next_steps.push(ellipsis(
            &format!("Add the policy in PoliciesToAdd to {target}"),
            300,
        ));
    }
    for deny in &result.result_details.explicit_deny_policies {
        let name = &deny.policy_name;
        let target = &deny.attachment_target_arn;
        let _ = writeln!(d, "*Denied by* `{name}` on `{target}`:");
        let _ = writeln!(d, "```{}```", deny.policy_statement);
        next_steps.push(ellipsis(
            &format!("Remove or narrow the denying statement of {name}"),
            300,
        ));
    }
    let _ = write!(d, "_Event_ `{}`", meta.event_id);
    let mut description = d;
    if description.chars().count() > MAX_CHATBOT_DESCRIPTION {
        description = ellipsis(&description, MAX_CHATBOT_DESCRIPTION - 40);
        description.push_str("\n_(cut: full result in the table)_");
    }
    let mut keywords = vec![cause_kind(result.assessment_result.as_str()).to_string()];
    keywords.extend(meta.account_id.clone());
    keywords.extend(
        meta.event_source
            .as_deref()
            .map(|s| s.split('.').next().unwrap_or(s).to_string()),
    );
    json!({
        "version": "1.0",
        "source": "custom",
        "id": meta.event_id,
        "content": {
            "textType": "client-markdown",
            "title": title,
            "description": description,
            "nextSteps": next_steps,
            "keywords": keywords,
        },
        "metadata": {
            "threadId": finding.key,
            "summary": ellipsis(&format!("Access denied: {}", result.assessment_result.as_str()), 250),
            "eventType": "AccessDenied",
            "relatedResources": finding.resources,
            "additionalContext": {
                "EventId": meta.event_id,
                "AssessmentResult": result.assessment_result.as_str(),
                "AccountId": meta.account_id.clone().unwrap_or_default(),
            },
        },
    })
}
