//! The exact IAM action(s) a call needed and the resource each acted on.
//!
//! Actions come from the error message when it names one, else from the CloudTrail event
//! through the committed SDK → IAM map (every action of a multi-action call), else
//! `<service>:<eventName>` when that is a real IAM action. Resources come from the message,
//! from `resources[]` (choosing the ARN whose type the action takes: the S3 object for object
//! actions), or are built from `requestParameters` with the map's ARN templates; `*` only for
//! actions without a resource type.

use serde_json::Value;

use crate::eval::arn_account;
use crate::iam_data;
use crate::policy::Pattern;

use super::{AccessDeniedEvent, ActionSource, EventError};

/// The actions of an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actions {
    Found(Vec<(String, ActionSource)>),
    /// Not explainable by IAM policies (the reason in one sentence).
    Invalid(String),
}

/// Finds the action(s) the call needed.
pub fn actions_of(event: &AccessDeniedEvent) -> Result<Actions, EventError> {
    if event.hint.malformed_request {
        return Ok(Actions::Invalid(format!(
            "the error message says the `{}` request itself was malformed, which no policy explains",
            event.event_name
        )));
    }
    if let Some(a) = event.hint.action.as_deref() {
        if let Some(canonical) = iam_data::canonical_action(a) {
            return Ok(Actions::Found(vec![(
                canonical.to_string(),
                ActionSource::Message,
            )]));
        }
    }
    if iam_data::is_permissionless(&event.event_source, &event.event_name) {
        return Ok(Actions::Invalid(format!(
            "`{}` needs no IAM permission, so no policy can deny it",
            event.event_name
        )));
    }
    if let Some(list) = iam_data::actions_for_event(&event.event_source, &event.event_name) {
        let found: Vec<(String, ActionSource)> = list
            .into_iter()
            .filter(|a| iam_data::action_exists(a))
            .map(|a| {
                (
                    iam_data::canonical_action(&a)
                        .map(str::to_string)
                        .unwrap_or(a),
                    ActionSource::EventMap,
                )
            })
            .collect();
        if !found.is_empty() {
            return Ok(Actions::Found(found));
        }
    }
    let prefix =
        iam_data::service_prefix_for_event_source(&event.event_source).unwrap_or(event.service());
    let guess = format!("{prefix}:{}", strip_version(&event.event_name));
    if let Some(canonical) = iam_data::canonical_action(&guess) {
        return Ok(Actions::Found(vec![(
            canonical.to_string(),
            ActionSource::EventName,
        )]));
    }
    if let Some(a) = event.hint.action.as_deref() {
        return Ok(Actions::Invalid(format!(
            "`{a}` named in the error message is not an IAM action"
        )));
    }
    Ok(Actions::Invalid(format!(
        "`{}` from `{}` does not correspond to any IAM action",
        event.event_name, event.event_source
    )))
}

/// `ListFunctions20150331` → `ListFunctions`, `GetFunction20150331v2` → `GetFunction`.
fn strip_version(name: &str) -> &str {
    let trimmed = name.strip_suffix("v2").unwrap_or(name);
    let digits = trimmed.bytes().rev().take_while(u8::is_ascii_digit).count();
    if digits == 8 {
        &trimmed[..trimmed.len() - 8]
    } else {
        name
    }
}

/// The resource of one action and the account that owns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub arn: String,
    pub account: Option<String>,
}

/// Finds the resource `action` acted on.
pub fn resource_for(event: &AccessDeniedEvent, action: &str) -> Result<Target, EventError> {
    let types = iam_data::resource_types_for_action(action);
    let listed_account = |arn: &str| {
        event
            .resources
            .iter()
            .find(|r| r.arn.as_deref() == Some(arn))
            .and_then(|r| r.account_id.clone())
    };
    let account_of = |arn: &str| -> Option<String> {
        arn_account(arn)
            .map(str::to_string)
            .or_else(|| listed_account(arn))
            .or_else(|| {
                // An S3 object belongs to its bucket's owner.
                let bucket = arn.strip_prefix("arn:aws:s3:::")?.split('/').next()?;
                listed_account(&format!("arn:aws:s3:::{bucket}"))
            })
            .or_else(|| event.recipient_account.clone())
    };
    let target = |arn: String| Target {
        account: account_of(&arn),
        arn,
    };
    // 1. The message names the resource of this action.
    let from_message = event
        .hint
        .action
        .as_deref()
        .is_some_and(|a| a.eq_ignore_ascii_case(action));
    if from_message {
        if let Some(r) = event
            .hint
            .resource
            .as_deref()
            .filter(|r| r.starts_with("arn:"))
        {
            return Ok(target(r.to_string()));
        }
    }
    if types.is_empty() {
        return Ok(Target {
            arn: "*".into(),
            account: event.recipient_account.clone(),
        });
    }
    let patterns: Vec<(bool, Pattern)> = types
        .iter()
        .flat_map(|t| {
            t.arn_templates
                .iter()
                .map(move |tpl| (t.required, template_glob(tpl)))
        })
        .collect();
    let fits = |arn: &str| {
        patterns
            .iter()
            .any(|(_, p)| crate::eval::arn_match(&p.parts, arn))
    };
    // 2. An ARN of `resources[]` of a type the action takes.
    if let Some(arn) = event
        .resources
        .iter()
        .filter_map(|r| r.arn.as_deref())
        .find(|a| fits(a))
    {
        return Ok(target(arn.to_string()));
    }
    // 2b. An ARN given as a request parameter.
    if let Some(obj) = event.request_parameters.as_object() {
        if let Some(arn) = obj
            .values()
            .filter_map(Value::as_str)
            .find(|v| v.starts_with("arn:") && fits(v))
        {
            return Ok(target(arn.to_string()));
        }
    }
    // 3. Built from requestParameters with the map's templates for this action.
    for m in iam_data::event_action_mappings(&event.event_source, &event.event_name) {
        if !m.action.eq_ignore_ascii_case(action) {
            continue;
        }
        for tpl in &m.arn_templates {
            if let Some(arn) = fill_template(tpl, event) {
                if arn != "*" && fits(&arn) {
                    return Ok(target(arn));
                }
            }
        }
    }
    // 4. The resource type's own template, filled from requestParameters (required types first).
    let mut ordered: Vec<_> = types.iter().collect();
    ordered.sort_by_key(|t| !t.required);
    for t in ordered {
        for tpl in &t.arn_templates {
            if let Some(arn) = fill_template(tpl, event) {
                return Ok(target(arn));
            }
        }
    }
    if types.iter().all(|t| !t.required) {
        return Ok(Target {
            arn: "*".into(),
            account: event.recipient_account.clone(),
        });
    }
    Err(EventError::Unsupported(format!(
        "cannot determine the resource of `{action}` from the event: neither the error message, `resources` nor `requestParameters` name it"
    )))
}

/// `arn:${Partition}:s3:::${BucketName}/${ObjectName}` → a glob with `*` for each variable.
fn template_glob(tpl: &str) -> Pattern {
    let mut out = String::new();
    let mut rest = tpl;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        match rest[start..].find('}') {
            Some(end) => {
                out.push('*');
                rest = &rest[start + end + 1..];
            }
            None => {
                rest = &rest[start..];
                break;
            }
        }
    }
    out.push_str(rest);
    Pattern::parse(&out, false)
}

fn partition(region: Option<&str>) -> &'static str {
    match region {
        Some(r) if r.starts_with("cn-") => "aws-cn",
        Some(r) if r.starts_with("us-gov-") => "aws-us-gov",
        _ => "aws",
    }
}

/// Fills `${...}` from the event: Partition, Region, Account, then `requestParameters` (keys
/// matched case-insensitively, with CloudTrail's S3 spellings). `None` when any stays unknown.
fn fill_template(tpl: &str, event: &AccessDeniedEvent) -> Option<String> {
    if tpl.contains("%%") {
        return None;
    }
    let mut out = String::new();
    let mut rest = tpl;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}')? + start;
        let name = &rest[start + 2..end];
        let value = match name {
            "Partition" => Some(partition(event.region.as_deref()).to_string()),
            "Region" => event.region.clone(),
            "Account" | "AccountId" => event.recipient_account.clone(),
            other => parameter(&event.request_parameters, other),
        }?;
        out.push_str(&value);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

fn parameter(params: &Value, name: &str) -> Option<String> {
    let obj = params.as_object()?;
    let aliases: &[&str] = match name.to_ascii_lowercase().as_str() {
        "bucket" | "bucketname" => &["bucketName", "bucket", "Bucket"],
        "key" | "objectname" => &["key", "Key"],
        _ => &[],
    };
    let found = obj
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
        .or_else(|| aliases.iter().find_map(|a| obj.get(*a)))?;
    match found {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(strip_version("ListFunctions20150331"), "ListFunctions");
        assert_eq!(
            strip_version("GetFunctionConfiguration20150331v2"),
            "GetFunctionConfiguration"
        );
        assert_eq!(strip_version("GetObject"), "GetObject");
    }

    #[test]
    fn template_globs() {
        let p = template_glob("arn:${Partition}:s3:::${BucketName}/${ObjectName}");
        assert!(crate::eval::arn_match(&p.parts, "arn:aws:s3:::b/k/x"));
        assert!(!crate::eval::arn_match(&p.parts, "arn:aws:s3:::b"));
    }
}
