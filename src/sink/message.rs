//! The alert of one finding, in every form SNS delivers it (`MessageStructure=json`):
//! `default` — the result JSON, for machine subscribers (SQS, Lambda); `email` — readable text:
//! what was denied, why, the exact fix and the statements, quoted, no links; `https` — AWS
//! Chatbot's custom-notification JSON, so a Chatbot-subscribed topic posts a formatted Slack
//! message. Plus a short `Subject` and message attributes for subscription filters.
//!
//! SNS takes at most 256 KiB per message: when the whole structure would be larger, `default`
//! becomes a summary (`"Truncated": true`, the full result stays in the table) and the email
//! text is cut.

use std::fmt::Write as _;

use access_undenied_core::explain::DiagnosisResult;
use serde_json::{json, Value};

use super::{EventMeta, Finding, SinkError};

/// SNS's limit for one message (body and attributes together).
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;
/// What the JSON structure may take, leaving room for the subject and attributes.
const BODY_BUDGET: usize = MAX_MESSAGE_BYTES - 8 * 1024;
/// SNS subjects must be shorter than 100 characters.
pub const MAX_SUBJECT_CHARS: usize = 99;
/// Kept short so Slack shows the whole message without "see more".
const MAX_CHATBOT_DESCRIPTION: usize = 3500;
const MAX_CHATBOT_TITLE: usize = 250;

/// One alert, ready to publish.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub subject: String,
    /// The result JSON (or its summary when too large).
    pub default: String,
    pub email: String,
    /// AWS Chatbot's custom notification.
    pub https: String,
    /// Message attributes (all of type `String`), for subscription filter policies.
    pub attributes: Vec<(String, String)>,
}

impl Alert {
    /// The `Message` of a `MessageStructure=json` publish.
    pub fn message(&self) -> String {
        json!({"default": self.default, "email": self.email, "https": self.https}).to_string()
    }
}

/// `ExplicitDeny`, `MissingAllow`, `Error`, `InvalidAction` or `Allowed`: the kind of cause,
/// a coarser filter than `AssessmentResult`.
pub fn cause_kind(assessment: &str) -> &'static str {
    if assessment.starts_with("Explicit deny") {
        "ExplicitDeny"
    } else if assessment.starts_with("Missing allow") {
        "MissingAllow"
    } else if assessment == "Invalid action" {
        "InvalidAction"
    } else if assessment == "Allowed" {
        "Allowed"
    } else {
        "Error"
    }
}

/// Builds the alert of a result.
pub fn build(result: &DiagnosisResult, meta: &EventMeta) -> Result<Alert, SinkError> {
    let encode = |e: serde_json::Error| SinkError::Encode {
        event_id: meta.event_id.clone(),
        message: e.to_string(),
    };
    let value = serde_json::to_value(result).map_err(encode)?;
    let finding = Finding::of(result, meta);
    let mut alert = Alert {
        subject: subject(&finding),
        default: value.to_string(),
        email: email_text(result, meta, &finding, &value),
        https: chatbot(result, meta, &finding, &value).to_string(),
        attributes: attributes(result, meta),
    };
    if alert.message().len() > BODY_BUDGET {
        alert.default = summary(result, meta).to_string();
        let room = BODY_BUDGET
            .saturating_sub(alert.default.len() + alert.https.len())
            .saturating_sub(1024)
            / 2; // JSON escaping can double the text
        if alert.email.len() > room {
            alert.email = cut(&alert.email, room);
            alert.email.push_str(
                "\n\n[cut: the alert was too large for SNS; the full result is stored under this event id]\n",
            );
        }
    }
    Ok(alert)
}

/// A short result for a message too large to carry the whole one.
pub(crate) fn summary(result: &DiagnosisResult, meta: &EventMeta) -> Value {
    json!({
        "EventId": result.event_id,
        "AssessmentResult": result.assessment_result.as_str(),
        "Explanation": result.explanation.as_deref().map(|m| ellipsis(m, 2000)),
        "ErrorMessage": result.error_message.as_deref().map(|m| ellipsis(m, 2000)),
        "AccountId": meta.account_id,
        "EventSource": meta.event_source,
        "EventName": meta.event_name,
        "Truncated": true,
    })
}

/// The last segment of an ARN (`user/bob`, `assumed-role/Dev/alice`), or the text.
fn short_principal(principal: &str) -> &str {
    if principal.starts_with("arn:") {
        principal.splitn(6, ':').nth(5).unwrap_or(principal)
    } else {
        principal
    }
}

/// Cuts `text` to at most `max` bytes on a character boundary.
fn cut(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while end > 0 && !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

/// Cuts to `max` characters, ending in `...` when cut.
fn ellipsis(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut s: String = text.chars().take(max.saturating_sub(3)).collect();
    s.push_str("...");
    s
}

/// `Missing allow in a resource-based policy: kms:Decrypt by user/bob` — the cause first (a
/// long subject is cut), ASCII, one line, under 100 characters.
pub fn subject(finding: &Finding) -> String {
    let action = match finding.actions.as_slice() {
        [] => "an action".to_string(),
        [one] => one.clone(),
        [first, rest @ ..] => format!("{first} (+{})", rest.len()),
    };
    let who = if finding.principal.is_empty() {
        "unknown caller"
    } else {
        let short = short_principal(&finding.principal);
        short.strip_prefix("assumed-role/").unwrap_or(short)
    };
    let text = format!("{}: {action} by {who}", finding.assessment_result);
    let ascii: String = text
        .chars()
        .map(|c| {
            if c.is_ascii() && !c.is_ascii_control() {
                c
            } else {
                '?'
            }
        })
        .collect();
    ellipsis(&ascii, MAX_SUBJECT_CHARS)
}

fn attributes(result: &DiagnosisResult, meta: &EventMeta) -> Vec<(String, String)> {
    let assessment = result.assessment_result.as_str();
    let mut out = vec![
        ("AssessmentResult".to_string(), assessment.to_string()),
        ("Cause".to_string(), cause_kind(assessment).to_string()),
    ];
    for (name, value) in [
        ("AccountId", &meta.account_id),
        ("EventSource", &meta.event_source),
        ("EventName", &meta.event_name),
        ("Region", &meta.region),
    ] {
        if let Some(v) = value.as_deref().filter(|v| !v.trim().is_empty()) {
            out.push((name.to_string(), v.to_string()));
        }
    }
    if let Some(v) = result.fix_verified {
        out.push(("FixVerified".to_string(), v.to_string()));
    }
    out
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn str_field<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or("")
}

/// The email body.
fn email_text(
    result: &DiagnosisResult,
    meta: &EventMeta,
    finding: &Finding,
    value: &Value,
) -> String {
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

    let details = value.get("ResultDetails");
    let adds = details
        .and_then(|d| d.get("PoliciesToAdd"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let denies = details
        .and_then(|d| d.get("ExplicitDenyPolicies"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if !adds.is_empty() || !denies.is_empty() {
        let _ = writeln!(t);
        let _ = writeln!(t, "THE FIX");
        for add in &adds {
            let _ = writeln!(
                t,
                "Add this policy to {}:",
                str_field(add, "AttachmentTargetArn")
            );
            let _ = writeln!(
                t,
                "{}",
                indent(&pretty(add.get("Policy").unwrap_or(&Value::Null)))
            );
        }
        for deny in &denies {
            let _ = writeln!(
                t,
                "Remove or narrow this statement of {} ({}), attached to {}:",
                str_field(deny, "PolicyName"),
                str_field(deny, "PolicyArn"),
                str_field(deny, "AttachmentTargetArn")
            );
            let _ = writeln!(
                t,
                "{}",
                indent(&pretty(deny.get("PolicyStatement").unwrap_or(&Value::Null)))
            );
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
            let name = u
                .policy_name
                .as_deref()
                .map(|n| format!(" {n}"))
                .unwrap_or_default();
            let _ = writeln!(t, "- {:?}{name}: {}", u.gate, u.reason);
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

/// AWS Chatbot's custom notification (`client-markdown`).
fn chatbot(result: &DiagnosisResult, meta: &EventMeta, finding: &Finding, value: &Value) -> Value {
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
    let details = value.get("ResultDetails");
    let mut next_steps = Vec::new();
    for add in details
        .and_then(|x| x.get("PoliciesToAdd"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let target = str_field(add, "AttachmentTargetArn");
        let _ = writeln!(d, "*Fix:* add to `{target}`");
        let _ = writeln!(
            d,
            "```{}```",
            add.get("Policy").map(Value::to_string).unwrap_or_default()
        );
        next_steps.push(ellipsis(
            &format!("Add the policy in PoliciesToAdd to {target}"),
            300,
        ));
    }
    for deny in details
        .and_then(|x| x.get("ExplicitDenyPolicies"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let name = str_field(deny, "PolicyName");
        let target = str_field(deny, "AttachmentTargetArn");
        let _ = writeln!(d, "*Denied by* `{name}` on `{target}`:");
        let _ = writeln!(
            d,
            "```{}```",
            deny.get("PolicyStatement")
                .map(Value::to_string)
                .unwrap_or_default()
        );
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

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> EventMeta {
        EventMeta {
            event_id: "e-1".into(),
            event_time: Some("2026-11-20T10:00:00Z".into()),
            event_source: Some("kms.amazonaws.com".into()),
            event_name: Some("Decrypt".into()),
            account_id: Some("111122223333".into()),
            principal: Some("arn:aws:iam::111122223333:user/bob".into()),
            region: Some("us-east-1".into()),
            error_code: Some("AccessDeniedException".into()),
        }
    }

    #[test]
    fn subject_is_short_ascii_one_line() {
        let mut m = meta();
        m.principal = Some(format!(
            "arn:aws:sts::111122223333:assumed-role/{}/s\u{e9}ssion\n",
            "R".repeat(120)
        ));
        let r = DiagnosisResult::error("e-1", "boom");
        let s = subject(&Finding::of(&r, &m));
        assert!(s.chars().count() <= MAX_SUBJECT_CHARS, "{s}");
        assert!(s.is_ascii() && !s.contains('\n'), "{s}");
        assert!(s.starts_with("Error: kms:Decrypt by RRR"), "{s}");
        assert!(s.ends_with("..."));
    }

    #[test]
    fn error_result_alert_has_every_form() {
        let r = DiagnosisResult::error("e-1", "cannot read the role");
        let a = build(&r, &meta()).unwrap();
        let msg: Value = serde_json::from_str(&a.message()).unwrap();
        let default: Value = serde_json::from_str(msg["default"].as_str().unwrap()).unwrap();
        assert_eq!(default["AssessmentResult"], "Error");
        assert!(msg["email"]
            .as_str()
            .unwrap()
            .contains("cannot read the role"));
        let https: Value = serde_json::from_str(msg["https"].as_str().unwrap()).unwrap();
        assert_eq!(https["version"], "1.0");
        assert_eq!(https["source"], "custom");
        assert_eq!(https["content"]["textType"], "client-markdown");
        assert!(a
            .attributes
            .contains(&("AccountId".to_string(), "111122223333".to_string())));
        assert!(a
            .attributes
            .contains(&("Cause".to_string(), "Error".to_string())));
    }

    #[test]
    fn oversized_results_are_summarised() {
        let huge = "x".repeat(400 * 1024);
        let r = DiagnosisResult::error("e-1", huge);
        let a = build(&r, &meta()).unwrap();
        assert!(a.message().len() + a.subject.len() < MAX_MESSAGE_BYTES);
        let default: Value = serde_json::from_str(&a.default).unwrap();
        assert_eq!(default["Truncated"], true);
        assert!(a.email.contains("[cut:"));
        let https: Value = serde_json::from_str(&a.https).unwrap();
        assert!(
            https["content"]["description"]
                .as_str()
                .unwrap()
                .chars()
                .count()
                <= MAX_CHATBOT_DESCRIPTION
        );
    }

    #[test]
    fn cause_kinds() {
        assert_eq!(
            cause_kind("Explicit deny in a service-control policy"),
            "ExplicitDeny"
        );
        assert_eq!(
            cause_kind("Missing allow in an identity-based policy"),
            "MissingAllow"
        );
        assert_eq!(
            cause_kind("Missing allows in an identity-based and a resource-based policy in cross-account access"),
            "MissingAllow"
        );
        assert_eq!(cause_kind("Error"), "Error");
    }
}
