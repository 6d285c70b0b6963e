//! The alert of one finding, in every form SNS delivers it (`MessageStructure=json`):
//! `default` — the result JSON, for machine subscribers (SQS, Lambda); `email` — readable text
//! ([`super::email`]): what was denied, why, the exact fix and the statements, quoted, no
//! links; `https` — AWS Chatbot's custom-notification JSON ([`super::chatbot`]), so a
//! Chatbot-subscribed topic posts a formatted Slack message. Plus a short `Subject` and message
//! attributes for subscription filters. Every form is rendered from the typed result.
//!
//! SNS takes at most 256 KiB per message: when the whole structure would be larger, `default`
//! becomes a summary (`"Truncated": true`, the full result stays in the table) and the email
//! text is cut.

use access_undenied_core::explain::DiagnosisResult;
use serde_json::{json, Value};

use super::chatbot::chatbot;
use super::email::email_text;
use super::trim::{cut, ellipsis, short_principal};
use crate::sink::{EventMeta, Finding, SinkError};

/// SNS's limit for one message (body and attributes together).
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;
/// What the JSON structure may take, leaving room for the subject and attributes.
const BODY_BUDGET: usize = MAX_MESSAGE_BYTES - 8 * 1024;
/// SNS subjects must be shorter than 100 characters.
pub const MAX_SUBJECT_CHARS: usize = 99;

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
    let finding = Finding::of(result, meta);
    let mut alert = Alert {
        subject: subject(&finding),
        default: serde_json::to_string(result).map_err(encode)?,
        email: email_text(result, meta, &finding),
        https: chatbot(result, meta, &finding).to_string(),
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
pub fn summary(result: &DiagnosisResult, meta: &EventMeta) -> Value {
    json!({
        "EventId": result.event_id,
        "AssessmentResult": result.assessment_result.as_str(),
        "Explanation": result.explanation.as_deref().map(|m| ellipsis(m, 2000)),
        "ErrorMessage": result.error_message.as_deref().map(|m| ellipsis(m, 2000)),
        "AccountId": meta.account_id,
        "EventSource": meta.event_source,
        "EventName": meta.event_name,
        "Evidence": {
            "Source": result.evidence.source,
            "AwsDecision": result.evidence.aws_decision,
            "EngineAgrees": result.evidence.engine_agrees,
            "FixedSince": result.evidence.fixed_since,
        },
        "Truncated": true,
    })
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
    out.push((
        "EvidenceSource".to_string(),
        format!("{:?}", result.evidence.source),
    ));
    if let Some(v) = result.evidence.engine_agrees {
        out.push(("EngineAgrees".to_string(), v.to_string()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::chatbot::MAX_CHATBOT_DESCRIPTION;
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
