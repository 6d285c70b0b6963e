//! `sts:DecodeAuthorizationMessage`: the JSON AWS encodes into EC2's (and others') denial
//! messages. It names the exact action and resource of the failed check (for
//! `ec2:RunInstances` with an instance profile, the `iam:PassRole` on the role) and the
//! condition context AWS evaluated, and says whether an explicit deny matched. The decoded
//! request replaces what the reader would guess from the event.

use serde::Deserialize;
use serde_json::Value;
use thiserror::Error;

use crate::event::{AccessDeniedEvent, EventRequest};

use super::{AwsDecision, Evidence, EvidenceSource};

/// Why a decoded message could not be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodedError {
    #[error("the decoded authorization message is not JSON: {0}")]
    NotJson(String),
    #[error("the decoded authorization message has no {0}")]
    Missing(&'static str),
}

/// What a decoded authorization message says.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedMessage {
    pub allowed: bool,
    pub explicit_deny: bool,
    pub action: String,
    pub resource: Option<String>,
    /// The condition keys and their values, as AWS listed them.
    pub conditions: Vec<(String, Vec<String>)>,
    /// The `statementId`s of the matched statements.
    pub matched_sids: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Items<T> {
    items: Vec<T>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Wire {
    allowed: bool,
    explicit_deny: bool,
    matched_statements: Items<Statement>,
    context: Option<WireContext>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Statement {
    statement_id: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WireContext {
    action: Option<String>,
    resource: Option<String>,
    conditions: Items<Condition>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Condition {
    key: String,
    values: Items<ConditionValue>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ConditionValue {
    value: Value,
}

impl DecodedMessage {
    /// Parses `DecodedMessage` (strict JSON: a duplicated key is an error).
    pub fn parse(text: &str) -> Result<DecodedMessage, DecodedError> {
        let value =
            crate::json::from_str(text).map_err(|e| DecodedError::NotJson(e.to_string()))?;
        let wire: Wire =
            serde_json::from_value(value).map_err(|e| DecodedError::NotJson(e.to_string()))?;
        let context = wire.context.ok_or(DecodedError::Missing("context"))?;
        let action = context
            .action
            .filter(|a| a.contains(':'))
            .ok_or(DecodedError::Missing("context.action"))?;
        Ok(DecodedMessage {
            allowed: wire.allowed,
            explicit_deny: wire.explicit_deny,
            action,
            resource: context.resource.filter(|r| !r.is_empty()),
            conditions: context
                .conditions
                .items
                .into_iter()
                .filter(|c| !c.key.is_empty())
                .map(|c| {
                    let values = c
                        .values
                        .items
                        .into_iter()
                        .map(|v| match v.value {
                            Value::String(s) => s,
                            other => other.to_string(),
                        })
                        .collect();
                    (c.key, values)
                })
                .collect(),
            matched_sids: wire
                .matched_statements
                .items
                .into_iter()
                .filter_map(|s| s.statement_id)
                .filter(|s| !s.is_empty())
                .collect(),
        })
    }

    /// The event with the decoded action and resource in place of the message's, so the reader
    /// builds the request AWS checked.
    pub fn event_with(&self, ev: &AccessDeniedEvent) -> AccessDeniedEvent {
        let mut ev = ev.clone();
        ev.hint.action = Some(self.action.clone());
        if let Some(r) = self.resource.as_ref().filter(|r| r.starts_with("arn:")) {
            ev.hint.resource = Some(r.clone());
        }
        ev
    }

    /// Adds the decoded condition keys to the requests of the decoded action (AWS's values win
    /// over what the event suggested).
    pub fn add_context(&self, requests: &mut [EventRequest]) {
        for er in requests
            .iter_mut()
            .filter(|er| er.request.action.eq_ignore_ascii_case(&self.action))
        {
            for (key, values) in &self.conditions {
                // EC2 lists `ec2:ResourceTag/<k>`, which its documentation makes the same key as
                // `aws:ResourceTag/<k>`: policies use either.
                let alias = key
                    .strip_prefix("ec2:ResourceTag/")
                    .map(|k| format!("aws:ResourceTag/{k}"))
                    .filter(|a| {
                        !self
                            .conditions
                            .iter()
                            .any(|(k, _)| k.eq_ignore_ascii_case(a))
                    });
                for key in std::iter::once(key.as_str()).chain(alias.as_deref()) {
                    for ctx in [&mut er.event_context, &mut er.request.context] {
                        match values.as_slice() {
                            [one] => ctx.set(key, one.clone()),
                            many => ctx.set_list(key, many.to_vec()),
                        }
                    }
                }
            }
        }
    }

    /// AWS's decision.
    pub fn decision(&self) -> AwsDecision {
        if self.allowed {
            AwsDecision::Allow
        } else if self.explicit_deny {
            AwsDecision::ExplicitDeny
        } else {
            AwsDecision::ImplicitDeny
        }
    }

    /// The evidence of a verdict reached on the decoded request, given the engine's decision on
    /// it (`None` when inconclusive or not evaluated).
    pub fn evidence(&self, engine: Option<crate::eval::Decision>) -> Evidence {
        let aws = self.decision();
        let mut ev = Evidence {
            source: EvidenceSource::DecodedMessage,
            aws_decision: Some(aws),
            engine_agrees: engine.map(|d| super::troubleshooter::agrees(aws, d)),
            ..Evidence::default()
        };
        if !self.matched_sids.is_empty() {
            ev.notes.push(format!(
                "AWS matched the statement(s) {} (the decoded message does not say which policy holds them)",
                self.matched_sids.join(", ")
            ));
        }
        if ev.engine_agrees == Some(false) {
            ev.notes.push(format!(
                "the decoded message says {} for {}; the engine, on the policies read now, disagrees",
                match aws {
                    AwsDecision::Allow => "allow",
                    AwsDecision::ExplicitDeny => "an explicit deny",
                    AwsDecision::ImplicitDeny => "an implicit deny",
                },
                self.action
            ));
        }
        ev
    }
}
