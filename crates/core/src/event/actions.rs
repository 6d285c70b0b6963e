//! The exact IAM action(s) a call needed and the resource each acted on.
//!
//! Actions come from the error message when it names one, else from the CloudTrail event
//! through the committed SDK → IAM map (every action of a multi-action call), else
//! `<service>:<eventName>` when that is a real IAM action. The map's conditions are checked
//! against `requestParameters` (`if VersionId Exists`, actions whose every resource is
//! `%%iftruthy%${Param}%...` when `Param` was not sent), and S3's documented extra permissions
//! are applied: the `*Version` actions when a `versionId` is given, `s3:PutObjectAcl` only
//! with an ACL header, `s3:PutObjectTagging` only with a tagging header. `iam:PassRole` is kept
//! only when the request names a role (its resource is that role, however deeply nested).
//! Another service's action that the map lists with a call is kept only when the Service
//! Authorization Reference names it among the dependent actions of the call's own actions,
//! and a same-service tagging action only when the request carries tags.
//!
//! Resources come from the message, from `resources[]` (choosing the ARN whose type the
//! action takes — by CloudTrail's `type` first, so `s3:ListBucket` gets the bucket and
//! `s3:GetObject` the object), or are built from `requestParameters` with the map's ARN
//! templates (an SQS `queueUrl` gives the queue's name and owner; a copy's reads act on the
//! `x-amz-copy-source` object; of several resources, `%%many%…%%`, the first the request
//! names); `*` only for actions without a resource type.

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
        // The map's rows, or `<prefix>:<eventName>` for an event the map does not know.
        let source =
            if iam_data::event_action_mappings(&event.event_source, &event.event_name).is_empty() {
                ActionSource::EventName
            } else {
                ActionSource::EventMap
            };
        let list = sts_permissions(event, s3_permissions(event, needed_actions(event, list)));
        let found: Vec<(String, ActionSource)> = list
            .into_iter()
            .filter(|a| iam_data::action_exists(a))
            .map(|a| {
                (
                    iam_data::canonical_action(&a)
                        .map(str::to_string)
                        .unwrap_or(a),
                    source,
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

/// Keeps the mapped actions the request needed: drops those whose map condition is false for
/// this request (`if VersionId Exists`, `if TaggingDirective NotEquals REPLACE`) and those
/// whose every resource is conditional on a parameter that was not sent
/// (`%%iftruthy%${IamInstanceProfile.Arn}%*%%%`). Conditions it cannot check keep the action;
/// if nothing would remain, the map's list is returned unchanged.
fn needed_actions(event: &AccessDeniedEvent, list: Vec<String>) -> Vec<String> {
    let mappings = iam_data::event_action_mappings(&event.event_source, &event.event_name);
    if mappings.is_empty() {
        return list;
    }
    let params = &event.request_parameters;
    let kept: Vec<String> = list
        .iter()
        .filter(|action| {
            let Some(m) = mappings
                .iter()
                .find(|m| m.action.eq_ignore_ascii_case(action))
            else {
                return true;
            };
            if m.notes.iter().any(|n| note_holds(n, params) == Some(false)) {
                return false;
            }
            // A request that names no role passes none (`DeleteBucketReplication`, a
            // `ModifyDBInstance` without `MonitoringRoleArn`); without parameters, unknown.
            if action.eq_ignore_ascii_case("iam:PassRole")
                && params.is_object()
                && !names_role(params)
            {
                return false;
            }
            let conditional: Vec<&str> = m
                .arn_templates
                .iter()
                .filter_map(|t| iftruthy_param(t))
                .collect();
            if !conditional.is_empty() && conditional.len() == m.arn_templates.len() {
                return conditional
                    .iter()
                    .any(|p| request_value(params, p).is_some_and(truthy));
            }
            true
        })
        .cloned()
        .collect();
    let kept = companions_needed(params, kept);
    if kept.is_empty() {
        list
    } else {
        kept
    }
}

/// Keeps a companion action (not the call's own, first action) only where the call needs it:
/// another service's action when the reference lists it among the dependent actions of one of
/// the call's own service's actions (the map also names actions a service performs with its
/// own role, or console reads), and a tagging action of the same service only when the request
/// carries tags. `iam:PassRole` is decided by [`names_role`]. Without parameters, kept.
fn companions_needed(params: &Value, list: Vec<String>) -> Vec<String> {
    let Some(primary) = list.first() else {
        return list;
    };
    if !params.is_object() {
        return list;
    }
    let service = |a: &str| a.split(':').next().unwrap_or_default().to_ascii_lowercase();
    let own = service(primary);
    let tagging = |a: &str| iam_data::access_level(a).is_some_and(|l| l.contains("Tagging"));
    let keep: Vec<bool> = list
        .iter()
        .enumerate()
        .map(|(i, action)| {
            if i == 0 || action.eq_ignore_ascii_case("iam:PassRole") {
                return true;
            }
            if service(action) != own {
                return list.iter().filter(|a| service(a) == own).any(|a| {
                    iam_data::dependent_actions(a).any(|d| d.eq_ignore_ascii_case(action))
                });
            }
            !tagging(action) || tagging(primary) || carries_tags(params)
        })
        .collect();
    list.into_iter()
        .zip(keep)
        .filter_map(|(a, k)| k.then_some(a))
        .collect()
}

/// Whether request parameters carry tags: a top-level key naming tags (`tags`, `tagList`,
/// `tagSpecificationSet`, `copyTags`, …) with a value.
fn carries_tags(params: &Value) -> bool {
    params.as_object().is_some_and(|o| {
        o.iter()
            .any(|(k, v)| k.to_ascii_lowercase().contains("tag") && truthy(v))
    })
}

/// Whether request parameters name a role to pass: a key naming a role or instance profile
/// (`roleArn`, `executionRoleArn`, `iamInstanceProfile`, `ReplicationConfiguration.Role`)
/// with a value, or a role ARN, at any depth.
fn names_role(params: &Value) -> bool {
    match params {
        Value::Object(o) => o.iter().any(|(k, v)| {
            let k = k.to_ascii_lowercase();
            ((k.contains("role") || k.contains("instanceprofile")) && truthy(v)) || names_role(v)
        }),
        Value::Array(a) => a.iter().any(names_role),
        Value::String(s) => is_role_arn(s),
        _ => false,
    }
}

fn is_role_arn(s: &str) -> bool {
    crate::arn::Arn::parse(s).is_some_and(|a| a.service == "iam" && a.resource.starts_with("role/"))
}

/// The first role ARN anywhere in `params` (the role a call passes may be nested:
/// `ReplicationConfiguration.Role`, `targets[].roleArn`).
fn nested_role_arn(params: &Value) -> Option<&str> {
    match params {
        Value::Object(o) => o.values().find_map(nested_role_arn),
        Value::Array(a) => a.iter().find_map(nested_role_arn),
        Value::String(s) => is_role_arn(s).then_some(s.as_str()),
        _ => None,
    }
}

/// `%%iftruthy%${Path}%...%%%` → `Path`.
fn iftruthy_param(template: &str) -> Option<&str> {
    let rest = template.strip_prefix("%%iftruthy%${")?;
    rest.split_once('}').map(|(path, _)| path)
}

/// Evaluates a map note `if <Param> <Op> [<Value>]` against `requestParameters`; `None` when
/// the note is not such a condition, uses an operator this reader does not check, or looks
/// into a list (`Delete.Objects[].VersionId`: some elements may have it, some not).
fn note_holds(note: &str, params: &Value) -> Option<bool> {
    let mut words = note.strip_prefix("if ")?.split_whitespace();
    let (param, op) = (words.next()?, words.next()?);
    if param.contains("[]") {
        return None;
    }
    let value = words.collect::<Vec<_>>().join(" ");
    let found = request_value(params, param).filter(|v| !v.is_null());
    let text = found.and_then(scalar_text);
    match op {
        "Exists" => Some(found.is_some()),
        "NotExists" => Some(found.is_none()),
        "Equals" => Some(text.is_some_and(|t| t.eq_ignore_ascii_case(&value))),
        "NotEquals" => Some(!text.is_some_and(|t| t.eq_ignore_ascii_case(&value))),
        _ => None,
    }
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null | Value::Bool(false) => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        _ => true,
    }
}

/// A request parameter by the SDK's name (`IamInstanceProfile.Arn`, `Delete.Objects[].Key`),
/// matched case-insensitively against CloudTrail's spelling; a `[]` segment looks into the
/// first element that has the rest. S3 header parameters are also found under their header
/// name (`TaggingDirective` → `x-amz-tagging-directive`), as CloudTrail records them.
fn request_value<'a>(params: &'a Value, path: &str) -> Option<&'a Value> {
    fn walk<'a>(v: &'a Value, segments: &[&str]) -> Option<&'a Value> {
        let Some((first, rest)) = segments.split_first() else {
            return Some(v);
        };
        let (name, list) = match first.strip_suffix("[]") {
            Some(n) => (n, true),
            None => (*first, false),
        };
        let child = if name.is_empty() {
            v
        } else {
            v.as_object()?
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, c)| c)?
        };
        if list {
            child.as_array()?.iter().find_map(|e| walk(e, rest))
        } else {
            walk(child, rest)
        }
    }
    let segments: Vec<&str> = path.split('.').collect();
    walk(params, &segments).or_else(|| {
        if segments.len() != 1 {
            return None;
        }
        let header = format!("x-amz-{}", kebab(path));
        params
            .as_object()?
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(&header))
            .map(|(_, v)| v)
    })
}

/// `TaggingDirective` → `tagging-directive`.
fn kebab(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('-');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// Whether `requestParameters` has a key (case-insensitive) for which `pred` holds.
fn has_param(event: &AccessDeniedEvent, pred: impl Fn(&str) -> bool) -> bool {
    event.request_parameters.as_object().is_some_and(|o| {
        o.iter()
            .any(|(k, v)| !v.is_null() && pred(&k.to_ascii_lowercase()))
    })
}

/// S3 object actions and the action needed instead when a version is named.
const S3_VERSIONED: &[(&str, &str)] = &[
    ("s3:GetObject", "s3:GetObjectVersion"),
    ("s3:GetObjectAcl", "s3:GetObjectVersionAcl"),
    ("s3:GetObjectTagging", "s3:GetObjectVersionTagging"),
    ("s3:PutObjectAcl", "s3:PutObjectVersionAcl"),
    ("s3:PutObjectTagging", "s3:PutObjectVersionTagging"),
    ("s3:DeleteObject", "s3:DeleteObjectVersion"),
    ("s3:DeleteObjectTagging", "s3:DeleteObjectVersionTagging"),
];

fn is_copy(event: &AccessDeniedEvent) -> bool {
    event.service() == "s3"
        && (event.event_name.eq_ignore_ascii_case("CopyObject")
            || event.event_name.eq_ignore_ascii_case("UploadPartCopy"))
}

/// The reads of a copy act on the source object (`x-amz-copy-source`), the writes on the
/// destination.
fn is_copy_read(action: &str) -> bool {
    let a = action.to_ascii_lowercase();
    a.starts_with("s3:getobject") || a == "s3:listbucket"
}

/// What the S3 API reference adds to the map for object writes and versioned requests
/// (`PutObject`: "to change the object's ACL ... `s3:PutObjectAcl`; to set the tag-set ...
/// `s3:PutObjectTagging`"; `GetObject` with a `versionId` needs `s3:GetObjectVersion`).
fn s3_permissions(event: &AccessDeniedEvent, mut list: Vec<String>) -> Vec<String> {
    if event.service() != "s3" {
        return list;
    }
    let name = event.event_name.to_ascii_lowercase();
    let writes = matches!(
        name.as_str(),
        "putobject" | "copyobject" | "createmultipartupload"
    );
    if writes {
        let acl = has_param(event, |k| k == "x-amz-acl" || k.starts_with("x-amz-grant-"));
        let tagging = has_param(event, |k| k == "x-amz-tagging");
        let replace_tags = request_value(&event.request_parameters, "TaggingDirective")
            .and_then(scalar_text)
            .is_some_and(|d| d.eq_ignore_ascii_case("REPLACE"));
        // A copy that keeps the source's tags (the default) may write them to the target.
        let tagging = tagging || (is_copy(event) && !replace_tags);
        list.retain(|a| {
            (acl || !a.eq_ignore_ascii_case("s3:PutObjectAcl"))
                && (tagging || !a.eq_ignore_ascii_case("s3:PutObjectTagging"))
        });
        for (needed, action) in [(acl, "s3:PutObjectAcl"), (tagging, "s3:PutObjectTagging")] {
            if needed && !list.iter().any(|a| a.eq_ignore_ascii_case(action)) {
                list.push(action.to_string());
            }
        }
    }
    let versioned_target =
        request_value(&event.request_parameters, "VersionId").is_some_and(truthy);
    let versioned_source =
        is_copy(event) && copy_source(event).is_some_and(|s| s.version.is_some());
    for a in list.iter_mut() {
        let versioned = if is_copy(event) && is_copy_read(a) {
            versioned_source
        } else {
            versioned_target
        };
        if !versioned {
            continue;
        }
        if let Some((_, v)) = S3_VERSIONED
            .iter()
            .find(|(plain, _)| a.eq_ignore_ascii_case(plain))
        {
            *a = v.to_string();
        }
    }
    let mut seen: Vec<String> = Vec::new();
    list.retain(|a| {
        let fresh = !seen.iter().any(|s| s.eq_ignore_ascii_case(a));
        seen.push(a.clone());
        fresh
    });
    list
}

/// What the IAM User Guide adds for role assumption: passing session tags (`tags`, or the
/// assertion's `principalTags`) needs `sts:TagSession`, setting a source identity needs
/// `sts:SetSourceIdentity`, both allowed by the role trust policy.
fn sts_permissions(event: &AccessDeniedEvent, mut list: Vec<String>) -> Vec<String> {
    let assume = list.iter().any(|a| {
        matches!(
            a.to_ascii_lowercase().as_str(),
            "sts:assumerole" | "sts:assumerolewithsaml" | "sts:assumerolewithwebidentity"
        )
    });
    if event.service() != "sts" || !assume {
        return list;
    }
    let params = &event.request_parameters;
    let tags = ["tags", "principalTags"]
        .iter()
        .any(|k| params.get(k).is_some_and(truthy));
    let source_identity = params.get("sourceIdentity").is_some_and(truthy);
    for (needed, action) in [
        (tags, "sts:TagSession"),
        (source_identity, "sts:SetSourceIdentity"),
    ] {
        if needed && !list.iter().any(|a| a.eq_ignore_ascii_case(action)) {
            list.push(action.to_string());
        }
    }
    list
}

/// The source of an S3 copy.
struct CopySource {
    /// `arn:aws:s3:::bucket/key`, or the access point object ARN as given.
    object: String,
    /// `arn:aws:s3:::bucket` or the access point ARN.
    bucket: String,
    version: Option<String>,
}

/// Reads `x-amz-copy-source` (`bucket/key`, `/bucket/key`, URL-encoded, `?versionId=...`, or
/// an access point ARN `arn:aws:s3:<region>:<account>:accesspoint/<name>/object/<key>`).
fn copy_source(event: &AccessDeniedEvent) -> Option<CopySource> {
    let raw = request_value(&event.request_parameters, "x-amz-copy-source")
        .or_else(|| request_value(&event.request_parameters, "CopySource"))?
        .as_str()?;
    let (path, query) = match raw.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (raw, None),
    };
    let version = query.and_then(|q| {
        q.split('&')
            .find_map(|kv| kv.strip_prefix("versionId="))
            .map(percent_decode)
    });
    let path = percent_decode(path);
    let path = path.trim_start_matches('/');
    if path.starts_with("arn:") {
        let (bucket, _) = path.split_once("/object/")?;
        return Some(CopySource {
            object: path.to_string(),
            bucket: bucket.to_string(),
            version,
        });
    }
    let (bucket, key) = path.split_once('/')?;
    if bucket.is_empty() || key.is_empty() {
        return None;
    }
    let partition = partition(event.region.as_deref());
    Some(CopySource {
        object: format!("arn:{partition}:s3:::{bucket}/{key}"),
        bucket: format!("arn:{partition}:s3:::{bucket}"),
        version,
    })
}

/// Decodes `%XX` escapes (invalid escapes are kept as written).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// An SQS queue URL (`https://sqs.us-east-1.amazonaws.com/111122223333/MyQueue`) → the owner
/// account and the queue name.
fn queue_url_parts(params: &Value) -> Option<(String, String)> {
    let url = request_value(params, "QueueUrl")?.as_str()?;
    let path = url.split_once("://").map_or(url, |(_, rest)| rest);
    let mut segments = path.split('/').skip(1).filter(|s| !s.is_empty());
    let (account, name) = (segments.next()?, segments.next()?);
    crate::arn::is_account_id(account).then(|| (account.to_string(), name.to_string()))
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
                let bucket = crate::arn::s3_bucket_of(arn)?;
                listed_account(&crate::arn::s3_bucket_arn(
                    crate::arn::partition_of(arn),
                    bucket,
                ))
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
    // 1b. The reads of an S3 copy act on its source.
    if is_copy(event) && is_copy_read(action) {
        if let Some(source) = copy_source(event) {
            let arn = if action.eq_ignore_ascii_case("s3:ListBucket") {
                source.bucket
            } else {
                source.object
            };
            return Ok(target(arn));
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
    // 2. An ARN of `resources[]` of a type the action takes: one whose CloudTrail `type`
    // names that type first (`AWS::S3::Bucket` for `s3:ListBucket`: the bucket template also
    // matches object ARNs), then one without a `type`.
    let named = |kind: &str| {
        let kind = normalize_type(kind.rsplit("::").next().unwrap_or(kind));
        types.iter().any(|t| normalize_type(t.name) == kind)
    };
    // A copy's writes act on the destination, never on the source `resources[]` also lists.
    let source: Vec<String> = match copy_source(event) {
        Some(s) if is_copy(event) => vec![s.object, s.bucket],
        _ => Vec::new(),
    };
    let listed = || {
        event
            .resources
            .iter()
            .filter(|r| r.arn.as_ref().is_some_and(|a| !source.contains(a)))
    };
    let typed = listed()
        .filter(|r| r.kind.as_deref().is_some_and(named))
        .filter_map(|r| r.arn.as_deref())
        .find(|a| fits(a));
    let untyped = || {
        listed()
            .filter(|r| r.kind.as_deref().is_none_or(|k| k.trim().is_empty()))
            .filter_map(|r| r.arn.as_deref())
            .find(|a| fits(a))
    };
    if let Some(arn) = typed.or_else(untyped) {
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
    // 2c. The role `iam:PassRole` passes, wherever the request names it.
    if action.eq_ignore_ascii_case("iam:PassRole") {
        if let Some(arn) = nested_role_arn(&event.request_parameters).filter(|a| fits(a)) {
            return Ok(target(arn.to_string()));
        }
    }
    // 3. Built from requestParameters with the map's templates for this action.
    for m in iam_data::event_action_mappings(&event.event_source, &event.event_name) {
        if !m.action.eq_ignore_ascii_case(action) {
            continue;
        }
        for tpl in &m.arn_templates {
            // Of a `%%many%…%%` template's alternatives, the first that fills and fits.
            if let Some(arn) = fill_alternatives(tpl, event)
                .into_iter()
                .find(|arn| arn != "*" && fits(arn))
            {
                return Ok(target(arn));
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
    // 5. An ARN of `resources[]` that fits although its `type` names another resource type
    // (CloudTrail's type names do not always follow the reference's).
    if let Some(arn) = listed().filter_map(|r| r.arn.as_deref()).find(|a| fits(a)) {
        return Ok(target(arn.to_string()));
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

/// `AWS::IAM::SAMLProvider` / `saml-provider` → `samlprovider`.
fn normalize_type(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
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
    region.map_or(
        crate::arn::DEFAULT_PARTITION,
        crate::arn::partition_of_region,
    )
}

/// Fills `${...}` from the event: Partition, Region, Account, then `requestParameters` (keys
/// matched case-insensitively, with CloudTrail's S3 spellings). `None` when any stays unknown.
/// A `%%many%<a>%<b>%%` part (the action acts on each of several resources: RDS's
/// `db:%%many%${DBInstanceIdentifier}%${NewDBInstanceIdentifier}%%`) gives the first
/// alternative that can be filled, the one the request is about.
fn fill_template(tpl: &str, event: &AccessDeniedEvent) -> Option<String> {
    fill_alternatives(tpl, event).into_iter().next()
}

/// Every way `tpl` fills from the request: one per alternative of a `%%many%A%B%%` directive
/// that the request names, in the map's order; at most one for a plain template.
fn fill_alternatives(tpl: &str, event: &AccessDeniedEvent) -> Vec<String> {
    if let Some((before, rest)) = tpl.split_once("%%many%") {
        let Some((body, after)) = rest.split_once("%%") else {
            return Vec::new();
        };
        return body
            .split('%')
            .filter(|alt| !alt.is_empty())
            .flat_map(|alt| fill_alternatives(&format!("{before}{alt}{after}"), event))
            .collect();
    }
    fill_plain(tpl, event).into_iter().collect()
}

/// A template without `%%many%`, filled from the request; `None` when a variable is missing or
/// another directive remains.
fn fill_plain(tpl: &str, event: &AccessDeniedEvent) -> Option<String> {
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
            // A queue URL names the queue's owner; ECR's registryId is the repository's account.
            "Account" | "AccountId" => queue_url_parts(&event.request_parameters)
                .map(|(account, _)| account)
                .or_else(|| parameter(&event.request_parameters, "registryId"))
                .or_else(|| event.recipient_account.clone()),
            other => parameter(&event.request_parameters, other),
        }?;
        out.push_str(&value);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

fn parameter(params: &Value, name: &str) -> Option<String> {
    if name.eq_ignore_ascii_case("QueueName") {
        if let Some((_, queue)) = queue_url_parts(params) {
            return Some(queue);
        }
    }
    let obj = params.as_object()?;
    if name.eq_ignore_ascii_case("InstanceId") {
        // EC2 lists instances as `instancesSet.items[].instanceId`.
        let first = obj
            .get("instancesSet")
            .and_then(|s| s.get("items"))
            .and_then(Value::as_array)
            .and_then(|items| items.first())
            .and_then(|i| i.get("instanceId"))
            .and_then(Value::as_str);
        if let Some(id) = first {
            return Some(id.to_string());
        }
    }
    if name.contains('.') || name.ends_with("[]") {
        return path_parameter(params, name);
    }
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

/// A template variable that is a path of the SDK's request shape (`A.B`, `Ids[]`: the first
/// member of a list), or, for a list EC2 logs in its own shape, `<list>Set.items[].<member>`
/// (`InstanceIds[]` → `instancesSet.items[].instanceId`).
fn path_parameter(params: &Value, name: &str) -> Option<String> {
    let non_empty = |v: String| (!v.is_empty()).then_some(v);
    if let Some(v) = request_value(params, name).and_then(scalar_text) {
        return non_empty(v);
    }
    let list = name.strip_suffix("[]").filter(|l| !l.contains('.'))?;
    let member = list.strip_suffix('s')?;
    params
        .as_object()?
        .iter()
        .filter(|(k, _)| k.len() > 3 && k.to_ascii_lowercase().ends_with("set"))
        .filter_map(|(_, v)| v.get("items")?.as_array()?.first())
        .find_map(|item| {
            item.as_object()?
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(member))
                .and_then(|(_, v)| scalar_text(v))
        })
        .and_then(non_empty)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_paths_in_the_sdks_shape_and_ec2s() {
        let params = serde_json::json!({
            "instanceSpecification": {"instanceId": "i-1"},
            "subnetIds": ["subnet-1", "subnet-2"],
            "spotFleetRequestIdSet": {"items": [{"spotFleetRequestId": "sfr-1"}]},
            "groupSet": {"items": [{"groupId": "sg-1"}]}
        });
        let p = |n: &str| parameter(&params, n);
        assert_eq!(
            p("InstanceSpecification.InstanceId").as_deref(),
            Some("i-1")
        );
        assert_eq!(p("SubnetIds[]").as_deref(), Some("subnet-1"));
        assert_eq!(p("SpotFleetRequestIds[]").as_deref(), Some("sfr-1"));
        assert_eq!(p("GroupIds[]").as_deref(), Some("sg-1"));
        assert_eq!(p("VolumeIds[]"), None);
    }

    #[test]
    fn versions() {
        assert_eq!(strip_version("ListFunctions20150331"), "ListFunctions");
        assert_eq!(
            strip_version("GetFunctionConfiguration20150331v2"),
            "GetFunctionConfiguration"
        );
        assert_eq!(strip_version("GetObject"), "GetObject");
    }

    fn event(json: &str) -> AccessDeniedEvent {
        let mut reader = super::super::reader::RecordReader::new(json.as_bytes());
        match reader.next() {
            Some(super::super::reader::Item::Denial(e)) => *e,
            _ => panic!("not a denial: {json}"),
        }
    }

    fn actions(json: &str) -> Vec<String> {
        match actions_of(&event(json)) {
            Ok(Actions::Found(list)) => list.into_iter().map(|(a, _)| a).collect(),
            other => panic!("{other:?}"),
        }
    }

    const USER: &str = r#""userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/a","accountId":"111122223333"},"errorCode":"AccessDenied","eventID":"e","awsRegion":"us-east-1","recipientAccountId":"111122223333""#;

    #[test]
    fn map_conditions() {
        let head = |params: &str| {
            actions(&format!(
                r#"{{{USER},"eventSource":"s3.amazonaws.com","eventName":"HeadObject","requestParameters":{params}}}"#
            ))
        };
        assert_eq!(
            head(r#"{"bucketName":"b","key":"k"}"#),
            vec!["s3:GetObject"]
        );
        assert_eq!(
            head(r#"{"bucketName":"b","key":"k","versionId":"v1"}"#),
            vec!["s3:GetObjectVersion"]
        );
        let run = |params: &str| {
            actions(&format!(
                r#"{{{USER},"eventSource":"ec2.amazonaws.com","eventName":"RunInstances","requestParameters":{params}}}"#
            ))
        };
        assert_eq!(
            run(r#"{"instanceType":"t3.micro"}"#),
            vec!["ec2:RunInstances"]
        );
        assert_eq!(
            run(r#"{"iamInstanceProfile":{"arn":"arn:aws:iam::111122223333:instance-profile/p"}}"#),
            vec!["ec2:RunInstances", "iam:PassRole"]
        );
    }

    #[test]
    fn s3_writes_and_versions() {
        let put = |params: &str| {
            actions(&format!(
                r#"{{{USER},"eventSource":"s3.amazonaws.com","eventName":"PutObject","requestParameters":{params}}}"#
            ))
        };
        assert_eq!(put(r#"{"bucketName":"b","key":"k"}"#), vec!["s3:PutObject"]);
        assert_eq!(
            put(
                r#"{"bucketName":"b","key":"k","x-amz-grant-read":"id=abc","x-amz-tagging":"a=1"}"#
            ),
            vec!["s3:PutObject", "s3:PutObjectAcl", "s3:PutObjectTagging"]
        );
        let delete = actions(&format!(
            r#"{{{USER},"eventSource":"s3.amazonaws.com","eventName":"DeleteObject","requestParameters":{{"bucketName":"b","key":"k","versionId":"v"}}}}"#
        ));
        assert_eq!(delete, vec!["s3:DeleteObjectVersion"]);
    }

    #[test]
    fn role_assumption_extras() {
        let assume = |params: &str| {
            actions(&format!(
                r#"{{{USER},"eventSource":"sts.amazonaws.com","eventName":"AssumeRole","requestParameters":{params}}}"#
            ))
        };
        let role = r#""roleArn":"arn:aws:iam::111122223333:role/r","roleSessionName":"s""#;
        assert_eq!(assume(&format!("{{{role}}}")), vec!["sts:AssumeRole"]);
        assert_eq!(
            assume(&format!(
                r#"{{{role},"tags":[{{"key":"k","value":"v"}}],"sourceIdentity":"me"}}"#
            )),
            vec!["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"]
        );
        let saml = actions(&format!(
            r#"{{"userIdentity":{{"type":"SAMLUser","identityProvider":"q"}},"errorCode":"AccessDenied","eventID":"e","eventSource":"sts.amazonaws.com","eventName":"AssumeRoleWithSAML","requestParameters":{{{role},"principalTags":{{"a":"b"}}}}}}"#
        ));
        assert_eq!(saml, vec!["sts:AssumeRoleWithSAML", "sts:TagSession"]);
    }

    #[test]
    fn copy_sources() {
        let ev = |src: &str| {
            event(&format!(
                r#"{{{USER},"eventSource":"s3.amazonaws.com","eventName":"CopyObject","requestParameters":{{"bucketName":"dst","key":"k","x-amz-copy-source":"{src}"}}}}"#
            ))
        };
        let s = copy_source(&ev("/src/a%2Fb%20c.txt?versionId=v%2B1"))
            .map(|s| (s.object, s.bucket, s.version));
        assert_eq!(
            s,
            Some((
                "arn:aws:s3:::src/a/b c.txt".to_string(),
                "arn:aws:s3:::src".to_string(),
                Some("v+1".to_string())
            ))
        );
        let ap = "arn:aws:s3:us-west-2:111122223333:accesspoint/my-ap/object/reports/jan.pdf";
        let s = copy_source(&ev(ap)).map(|s| (s.object, s.bucket));
        assert_eq!(
            s,
            Some((
                ap.to_string(),
                "arn:aws:s3:us-west-2:111122223333:accesspoint/my-ap".to_string()
            ))
        );
        assert!(copy_source(&ev("no-key")).is_none());
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%41"), "%zzA");
    }

    #[test]
    fn queue_urls() {
        let p = serde_json::json!({"queueUrl": "https://sqs.eu-west-1.amazonaws.com/444455556666/q.fifo"});
        assert_eq!(
            queue_url_parts(&p),
            Some(("444455556666".to_string(), "q.fifo".to_string()))
        );
        let p = serde_json::json!({"QueueUrl": "https://queue.amazonaws.com/not-an-account/q"});
        assert_eq!(queue_url_parts(&p), None);
    }

    #[test]
    fn template_globs() {
        let p = template_glob("arn:${Partition}:s3:::${BucketName}/${ObjectName}");
        assert!(crate::eval::arn_match(&p.parts, "arn:aws:s3:::b/k/x"));
        assert!(!crate::eval::arn_match(&p.parts, "arn:aws:s3:::b"));
    }
}
