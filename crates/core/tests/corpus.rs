//! Fidelity of the event reader over real CloudTrail written by others: every record of every
//! file of `../shared/corpus/cloudtrail-realworld/` (beside the clone; see its README) is read
//! with [`RecordReader`] and [`read_event`], and each access denial is checked against the
//! record itself:
//!
//! - **principal**: the type and ARN (or account) `userIdentity` gives;
//! - **actions**: each exists in the IAM data and belongs to the call (the message's action,
//!   the event's own action, or one the SDK → IAM map or a documented rule adds); a companion
//!   action the IAM data lists as a *dependent* action of the call's own action must be
//!   justified by the request (a role or profile passed, a key named, tags sent);
//! - **resource**: an ARN of a resource type the action takes (`*` only where it takes none
//!   that is required), without `null`, placeholder or truncated segments;
//! - **context**: every key the event sets is derivable from the record (`aws:SourceIp` only
//!   from a valid IP literal in `sourceIPAddress`, `aws:SecureTransport` only from
//!   `tlsDetails`, S3's TLS `CipherSuite` in `additionalEventData`, or for a non-S3 service,
//!   which takes HTTPS only, …).
//!
//! A denial the reader cannot read gets a named [`Reason`]. The test prints a table of counts
//! (run `scripts/corpus-fidelity` to see it) and fails when a check fails for a record that is
//! not in [`KNOWN_GAPS`].

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::collections::BTreeMap;
use std::path::PathBuf;

use access_undenied_core::arn::Arn;
use access_undenied_core::eval::PrincipalType;
use access_undenied_core::event::reader::{Item, RecordReader};
use access_undenied_core::event::view::context_json;
use access_undenied_core::event::{
    is_access_denied_code, read_event, EventError, PrincipalInfo, Reading,
};
use access_undenied_core::iam_data;
use serde_json::Value;

/// Checks that fail for these records are known gaps, not regressions: `(record id, check,
/// why)`. A record id is `<file stem>#<index>` (the index in its file's `Records`). Keep this
/// list short: fix what is small and safe instead.
const KNOWN_GAPS: &[(&str, &str, &str)] = &[
    // The automated backup's ARN ends in its own id (`ab-…`), which the record does not give
    // (only the instance's `dbiResourceId`).
    (
        "panther-analysis-rule-tests#1",
        "error",
        "auto-backup id not in the record",
    ),
    // Cut-down identities: an `IAMUser` with only `userName` (no account, no path), and one
    // with only an account and a role's `AROA…` principal id. No ARN can be derived safely.
    (
        "panther-analysis-rule-tests#14",
        "error",
        "IAMUser identity without arn",
    ),
    (
        "panther-analysis-rule-tests#37",
        "error",
        "IAMUser identity without arn",
    ),
    // A sanitised record: no `requestParameters` (so no service name) and a placeholder
    // message (`iam:Action on resource: …:resource`); the role the call would create cannot
    // be named, and the map's `role/*` stands in for it.
    (
        "panther-analysis-rule-tests#16",
        "resource",
        "service-linked role not named by the record",
    ),
];

/// Why a denial could not be read (or was answered without requests).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Reason {
    /// The record has no `eventID`.
    NoEventId,
    /// Another required field is missing.
    MissingField,
    /// `userIdentity` names no caller the engine can evaluate.
    Principal,
    /// No resource could be found for an action that requires one.
    UnknownResource,
    /// The record is not JSON or has fields of the wrong type.
    Shape,
    /// Any other `EventError`.
    Unsupported,
    /// Answered `Invalid action` (the call is said to be no IAM action).
    InvalidAction,
}

impl Reason {
    fn of(e: &EventError) -> Reason {
        match e {
            EventError::Missing("eventID") => Reason::NoEventId,
            EventError::Missing(_) => Reason::MissingField,
            EventError::Principal(_) => Reason::Principal,
            EventError::Json(_) | EventError::Shape(_) => Reason::Shape,
            EventError::Unsupported(m) if m.contains("cannot determine the resource") => {
                Reason::UnknownResource
            }
            EventError::Unsupported(_) => Reason::Unsupported,
        }
    }
}

fn corpus_dir() -> PathBuf {
    // The directory at run time (cargo sets it): a binary built in another clone that shares the
    // target directory must not read that clone's files.
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
        .join("../../../shared/corpus/cloudtrail-realworld")
}

/// Tallies of the run.
#[derive(Default)]
struct Tally {
    records: u64,
    denials: u64,
    skipped: u64,
    read: u64,
    principal: u64,
    actions: u64,
    resource: u64,
    context: u64,
    reasons: BTreeMap<String, u64>,
}

/// One failed check: record id, check name, detail.
type Failure = (String, &'static str, String);

fn text(v: &Value, path: &[&str]) -> Option<String> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    match cur {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A strict IP literal: dotted-quad IPv4 without leading zeros, or IPv6.
fn ip_literal(s: &str) -> bool {
    if s.contains(':') {
        return s.parse::<std::net::Ipv6Addr>().is_ok();
    }
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 4
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.len() <= 3
                && p.bytes().all(|b| b.is_ascii_digit())
                && (p.len() == 1 || !p.starts_with('0'))
                && p.parse::<u16>().is_ok_and(|n| n <= 255)
        })
}

/// `arn:${Partition}:s3:::${BucketName}/${ObjectName}` matched against an ARN (each `${…}`
/// matches any text, as in IAM).
fn template_fits(tpl: &str, arn: &str) -> bool {
    let mut parts = Vec::new();
    let mut rest = tpl;
    while let Some(start) = rest.find("${") {
        parts.push(&rest[..start]);
        match rest[start..].find('}') {
            Some(end) => rest = &rest[start + end + 1..],
            None => break,
        }
    }
    parts.push(rest);
    glob(&parts, arn)
}

fn glob(parts: &[&str], s: &str) -> bool {
    match parts {
        [] => s.is_empty(),
        [only] => s == *only,
        [first, rest @ ..] => {
            let Some(tail) = s.strip_prefix(first) else {
                return false;
            };
            (0..=tail.len())
                .filter(|i| tail.is_char_boundary(*i))
                .any(|i| glob_after(rest, &tail[i..]))
        }
    }
}

/// After a wildcard: the next literal part must follow.
fn glob_after(parts: &[&str], s: &str) -> bool {
    match parts {
        [] => true,
        [last] => s.ends_with(last) && (last.is_empty() || !s.is_empty()),
        [next, ..] => s.starts_with(next) && glob(parts, s),
    }
}

/// Segments that mean the value was never filled in or was cut off.
fn bad_segment(arn: &str) -> Option<String> {
    let a = Arn::parse(arn)?;
    let resource = a.resource;
    if resource.is_empty() {
        return Some("empty resource part".into());
    }
    for seg in resource.split(['/', ':']) {
        let lower = seg.to_ascii_lowercase();
        if matches!(lower.as_str(), "null" | "undefined" | "none" | "nil")
            || seg.contains("${")
            || seg.contains('<')
            || seg.contains("...")
        {
            return Some(format!("placeholder segment `{seg}`"));
        }
    }
    if resource.ends_with('/') || resource.ends_with(':') {
        return Some("truncated resource part".into());
    }
    None
}

/// The service's own action for the event (`ec2:GetPasswordData`).
fn own_action(source: &str, name: &str) -> Option<&'static str> {
    let prefix = iam_data::service_prefix_for_event_source(source)
        .unwrap_or_else(|| source.split('.').next().unwrap_or(source));
    let trimmed = name.strip_suffix("v2").unwrap_or(name);
    let digits = trimmed.bytes().rev().take_while(u8::is_ascii_digit).count();
    let base = if digits == 8 {
        &trimmed[..trimmed.len() - 8]
    } else {
        name
    };
    iam_data::canonical_action(&format!("{prefix}:{base}"))
}

/// The dependent actions of an action, from the Service Authorization Reference table.
fn dependent_actions(action: &str) -> Vec<String> {
    let table = include_str!("../data/iam/actions.tsv");
    let Some((service, name)) = action.split_once(':') else {
        return Vec::new();
    };
    table
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split('\t').collect::<Vec<_>>())
        .find(|f| {
            f.len() >= 6 && f[0].eq_ignore_ascii_case(service) && f[1].eq_ignore_ascii_case(name)
        })
        .map(|f| {
            f[5].split(',')
                .map(|s| s.trim().to_ascii_lowercase())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// Whether the request shows what makes a dependent action needed.
fn dependent_justified(action: &str, params: &str) -> bool {
    let p = params.to_ascii_lowercase();
    let a = action.to_ascii_lowercase();
    if a == "iam:passrole" {
        return p.contains("role") || p.contains("instanceprofile");
    }
    if a.starts_with("kms:") {
        return p.contains("kms");
    }
    if a.ends_with("tags") || a.ends_with("tagging") || a.ends_with(":tagresource") {
        return p.contains("tag");
    }
    false
}

/// Documented extras the reader adds beyond the map (S3 versions, ACL and tagging headers;
/// STS session tags and source identity).
fn documented_extra(action: &str) -> bool {
    let a = action.to_ascii_lowercase();
    (a.starts_with("s3:")
        && (a.contains("version") || a.ends_with("acl") || a.ends_with("tagging")))
        || a == "sts:tagsession"
        || a == "sts:setsourceidentity"
}

fn check_principal(record: &Value, info: &PrincipalInfo) -> Result<(), String> {
    let id = record.get("userIdentity").unwrap_or(&Value::Null);
    let kind = text(id, &["type"]).unwrap_or_default();
    let arn = text(id, &["arn"]);
    let account = text(id, &["accountId"]);
    let p = match info {
        PrincipalInfo::Unresolved {
            account: a,
            principal_id,
        } => {
            return (kind == "AWSAccount"
                && Some(a) == account.as_ref()
                && Some(principal_id) == text(id, &["principalId"]).as_ref())
            .then_some(())
            .ok_or_else(|| format!("unresolved {a}/{principal_id} for a `{kind}` identity"));
        }
        PrincipalInfo::Known(p) => p,
    };
    let wire = p.to_wire();
    let expected = match kind.as_str() {
        "IAMUser" => PrincipalType::User,
        "AssumedRole" => PrincipalType::AssumedRole,
        "Root" => PrincipalType::Root,
        "FederatedUser" => PrincipalType::FederatedUser,
        "WebIdentityUser" => PrincipalType::WebIdentityUser,
        "SAMLUser" => PrincipalType::SamlUser,
        "AWSService" => PrincipalType::Service,
        "AWSAccount" => p.principal_type(),
        other => return Err(format!("identity type `{other}` read as a principal")),
    };
    if p.principal_type() != expected {
        return Err(format!(
            "type {:?}, the record says `{kind}`",
            p.principal_type()
        ));
    }
    if let Some(arn) = &arn {
        if p.arn() != Some(arn.as_str()) {
            return Err(format!("arn {:?}, the record says {arn}", p.arn()));
        }
    }
    if let (Some(a), Some(got)) = (&account, &wire.account) {
        if a != got && a != "anonymous" {
            return Err(format!("account {got}, the record says {a}"));
        }
    }
    if kind == "AssumedRole" {
        let issuer = text(id, &["sessionContext", "sessionIssuer", "arn"]);
        if issuer.is_some() && p.role_arn().map(str::to_string) != issuer {
            return Err(format!(
                "role {:?}, the record says {issuer:?}",
                p.role_arn()
            ));
        }
    }
    Ok(())
}

fn check_actions(
    record: &Value,
    hint_action: Option<&str>,
    actions: &[String],
) -> Result<(), String> {
    let source = text(record, &["eventSource"]).unwrap_or_default();
    let name = text(record, &["eventName"]).unwrap_or_default();
    let mapped = iam_data::actions_for_event(&source, &name).unwrap_or_default();
    // The call's own action: `<prefix>:<eventName>`, else the first the map names.
    let own = own_action(&source, &name)
        .or_else(|| mapped.first().and_then(|m| iam_data::canonical_action(m)));
    let params = record
        .get("requestParameters")
        .map(Value::to_string)
        .unwrap_or_default();
    let dependents = own.map(dependent_actions).unwrap_or_default();
    for a in actions {
        if iam_data::canonical_action(a) != Some(a.as_str()) {
            return Err(format!("`{a}` is not an IAM action"));
        }
        if let Some(h) = hint_action.filter(|h| iam_data::action_exists(h)) {
            if !h.eq_ignore_ascii_case(a) {
                return Err(format!("`{a}`, the message names `{h}`"));
            }
            continue;
        }
        let is_own = own.is_some_and(|o| o == a);
        let is_mapped = mapped.iter().any(|m| m.eq_ignore_ascii_case(a));
        if !is_own && !is_mapped && !documented_extra(a) {
            return Err(format!("`{a}` does not belong to `{source}` `{name}`"));
        }
        // `iam:PassRole` is needed only when a role is passed, whatever the call.
        let dependent =
            dependents.contains(&a.to_ascii_lowercase()) || a.eq_ignore_ascii_case("iam:PassRole");
        if !is_own && dependent && !dependent_justified(a, &params) {
            return Err(format!(
                "companion `{a}` (a dependent action of `{}`) the request does not need",
                own.unwrap_or("?")
            ));
        }
    }
    if actions.is_empty() {
        return Err("no action".into());
    }
    Ok(())
}

fn check_resource(record: &Value, action: &str, arn: &str) -> Result<(), String> {
    let types = iam_data::resource_types_for_action(action);
    if arn == "*" {
        return if types.iter().all(|t| !t.required) {
            Ok(())
        } else {
            Err(format!("`*` for `{action}`, which requires a resource"))
        };
    }
    if Arn::parse(arn).is_none() {
        return Err(format!("`{arn}` is not an ARN"));
    }
    // A wildcard is a placeholder unless the record itself names that ARN (EC2's messages
    // say `instance/*` for an instance being created).
    if arn.contains('*') && !record.to_string().contains(arn) {
        return Err(format!("`{arn}`: a wildcard the record does not write"));
    }
    if let Some(why) = bad_segment(arn) {
        return Err(format!("`{arn}`: {why}"));
    }
    let fits = types
        .iter()
        .flat_map(|t| t.arn_templates.iter())
        .any(|tpl| template_fits(tpl, arn));
    if !fits {
        return Err(format!("`{arn}` is of no resource type `{action}` takes"));
    }
    Ok(())
}

fn check_context(record: &Value, ctx: &serde_json::Map<String, Value>) -> Result<(), String> {
    let id = record.get("userIdentity").unwrap_or(&Value::Null);
    let field = |path: &[&str]| text(record, path);
    let source = field(&["eventSource"]).unwrap_or_default();
    let body = record.to_string();
    for (key, value) in ctx {
        let values: Vec<String> = match value {
            Value::Array(a) => a
                .iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect(),
            Value::String(s) => vec![s.clone()],
            other => vec![other.to_string()],
        };
        let one = values.first().cloned().unwrap_or_default();
        let ok = match key.as_str() {
            "aws:sourceip" | "aws:vpcsourceip" => {
                field(&["sourceIPAddress"]).as_deref() == Some(one.as_str()) && ip_literal(&one)
            }
            "aws:securetransport" => {
                let cipher = record
                    .pointer("/additionalEventData/CipherSuite")
                    .and_then(Value::as_str)
                    .is_some_and(|c| !c.trim().is_empty());
                one == "true"
                    && (record.get("tlsDetails").is_some_and(|t| !t.is_null())
                        || cipher
                        || !source.starts_with("s3."))
            }
            "aws:requestedregion" => field(&["awsRegion"]).as_deref() == Some(one.as_str()),
            "aws:currenttime" => field(&["eventTime"]).as_deref() == Some(one.as_str()),
            "aws:epochtime" => field(&["eventTime"]).is_some(),
            "aws:useragent" => field(&["userAgent"]).as_deref() == Some(one.as_str()),
            "aws:sourcevpce" => field(&["vpcEndpointId"]).as_deref() == Some(one.as_str()),
            "aws:tokenissuetime" => {
                text(id, &["sessionContext", "attributes", "creationDate"]).as_deref()
                    == Some(one.as_str())
            }
            "aws:multifactorauthpresent" | "aws:multifactorauthage" => {
                text(id, &["sessionContext", "attributes", "creationDate"]).is_some()
            }
            "aws:viaawsservice" => one == "false" || text(id, &["invokedBy"]).is_some(),
            "aws:rolesessionname" => {
                text(id, &["arn"]).is_some_and(|a| a.rsplit('/').next() == Some(one.as_str()))
            }
            "aws:sourceidentity" => {
                text(id, &["sessionContext", "sourceIdentity"]).as_deref() == Some(one.as_str())
            }
            _ => values.iter().all(|v| {
                v == "true" || v == "false" || v.parse::<f64>().is_ok() || body.contains(v.as_str())
            }),
        };
        if !ok {
            return Err(format!(
                "`{key}` = {value} is not derivable from the record"
            ));
        }
    }
    Ok(())
}

#[test]
fn corpus_fidelity() {
    let dir = corpus_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| {
            panic!(
                "the real-world CloudTrail corpus is missing at {} ({e}): it lives in \
                 `../shared/corpus/cloudtrail-realworld/` beside the clone",
                dir.display()
            )
        })
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no corpus files in {}", dir.display());

    let mut t = Tally::default();
    let mut failures: Vec<Failure> = Vec::new();
    for file in &files {
        let stem = file.file_stem().unwrap().to_string_lossy().to_string();
        let bytes = std::fs::read(file).unwrap();
        // The whole file through the reader: every record is counted once.
        let mut whole = RecordReader::new(bytes.as_slice());
        let whole_items = whole.by_ref().count() as u64;
        let doc: Value = serde_json::from_slice(&bytes).unwrap();
        let records = doc["Records"].as_array().cloned().unwrap_or_default();
        assert_eq!(
            whole.counts.records,
            records.len() as u64,
            "{stem}: records"
        );
        t.records += whole.counts.records;
        t.skipped += whole.counts.skipped;
        let denials = records
            .iter()
            .filter(|r| text(r, &["errorCode"]).is_some_and(|c| is_access_denied_code(&c)))
            .count() as u64;
        if whole_items != denials {
            failures.push((
                stem.clone(),
                "answers",
                format!("{denials} denials gave {whole_items} items"),
            ));
        }
        // Each record alone, so that each check is tied to its record.
        for (index, record) in records.iter().enumerate() {
            let rid = format!("{stem}#{index}");
            let code = text(record, &["errorCode"]);
            if !code.as_deref().is_some_and(is_access_denied_code) {
                continue;
            }
            t.denials += 1;
            let json = record.to_string();
            let items: Vec<Item> = RecordReader::new(json.as_bytes()).collect();
            let [item] = items.as_slice() else {
                failures.push((rid, "answers", format!("{} items", items.len())));
                continue;
            };
            let ev = match item {
                Item::Denial(ev) => ev,
                Item::Error { error, .. } => {
                    let reason = Reason::of(error);
                    *t.reasons.entry(format!("{reason:?}")).or_default() += 1;
                    failures.push((rid, "error", format!("{reason:?}: {error}")));
                    continue;
                }
            };
            t.read += 1;
            let mut fail = |check: &'static str, r: Result<(), String>| match r {
                Ok(()) => true,
                Err(e) => {
                    failures.push((rid.clone(), check, e));
                    false
                }
            };
            if fail("principal", check_principal(record, &ev.principal)) {
                t.principal += 1;
            }
            let requests = match read_event(ev, None) {
                Ok(Reading::Requests { requests, .. }) => requests,
                Ok(Reading::NeedsPrincipal(_)) => {
                    *t.reasons
                        .entry("NeedsPrincipal (not an error)".into())
                        .or_default() += 1;
                    continue;
                }
                Ok(Reading::InvalidAction(why)) => {
                    *t.reasons
                        .entry(format!("{:?}", Reason::InvalidAction))
                        .or_default() += 1;
                    // Right only when the IAM data has no action for the call.
                    let source = ev.event_source.as_str();
                    let real = own_action(source, &ev.event_name).is_some()
                        && !iam_data::is_permissionless(source, &ev.event_name)
                        && !ev.hint.malformed_request;
                    let r = if real {
                        Err(format!("`Invalid action` for a real IAM action: {why}"))
                    } else {
                        Ok(())
                    };
                    if fail("actions", r) {
                        t.actions += 1;
                        t.resource += 1;
                        t.context += 1;
                    }
                    continue;
                }
                Err(e) => {
                    let reason = Reason::of(&e);
                    *t.reasons.entry(format!("{reason:?}")).or_default() += 1;
                    fail("error", Err(format!("{reason:?}: {e}")));
                    continue;
                }
            };
            let actions: Vec<String> = requests.iter().map(|r| r.request.action.clone()).collect();
            if fail(
                "actions",
                check_actions(record, ev.hint.action.as_deref(), &actions),
            ) {
                t.actions += 1;
            }
            let resources = requests
                .iter()
                .try_for_each(|r| check_resource(record, &r.request.action, &r.request.resource));
            if fail("resource", resources) {
                t.resource += 1;
            }
            let context = requests
                .iter()
                .try_for_each(|r| check_context(record, &context_json(&r.event_context)));
            if fail("context", context) {
                t.context += 1;
            }
        }
    }

    let known = |f: &Failure| {
        KNOWN_GAPS
            .iter()
            .any(|(id, check, _)| *id == f.0 && *check == f.1)
    };
    let (allowed, unexpected): (Vec<&Failure>, Vec<&Failure>) =
        failures.iter().partition(|f| known(f));
    println!("corpus: {} ({} files)", dir.display(), files.len());
    println!("{:<28} {:>6}", "records", t.records);
    println!("{:<28} {:>6}", "skipped (not denials)", t.skipped);
    println!("{:<28} {:>6}", "access denials", t.denials);
    println!("{:<28} {:>6}", "denials read", t.read);
    println!("{:<28} {:>6}", "principal right", t.principal);
    println!("{:<28} {:>6}", "actions right", t.actions);
    println!("{:<28} {:>6}", "resource right", t.resource);
    println!("{:<28} {:>6}", "context right", t.context);
    for (reason, n) in &t.reasons {
        println!("{:<28} {:>6}", format!("by reason: {reason}"), n);
    }
    println!("known gaps hit: {}", allowed.len());
    for f in &allowed {
        println!("  known    {} [{}] {}", f.0, f.1, f.2);
    }
    for f in &unexpected {
        println!("  FAILED   {} [{}] {}", f.0, f.1, f.2);
    }
    let stale: Vec<&str> = KNOWN_GAPS
        .iter()
        .filter(|(id, check, _)| !failures.iter().any(|f| f.0 == *id && f.1 == *check))
        .map(|(id, _, _)| *id)
        .collect();
    assert!(
        stale.is_empty(),
        "known gaps that no longer fail (remove them): {stale:?}"
    );
    assert!(
        unexpected.is_empty(),
        "{} corpus check(s) failed outside the known gaps (see the table above)",
        unexpected.len()
    );
}

#[test]
fn ip_literals() {
    assert!(ip_literal("203.0.113.7"));
    assert!(ip_literal("2001:db8::1"));
    assert!(!ip_literal("010.001.002.003"));
    assert!(!ip_literal("255.18.064.253"));
    assert!(!ip_literal("AWS Internal"));
    assert!(!ip_literal("xxx.xxx.xxx.xxx"));
}

#[test]
fn templates() {
    let t = "arn:${Partition}:s3:::${BucketName}/${ObjectName}";
    assert!(template_fits(t, "arn:aws:s3:::b/k/x"));
    assert!(!template_fits(t, "arn:aws:s3:::b"));
    assert!(template_fits(
        "arn:${Partition}:s3:::${BucketName}",
        "arn:aws:s3:::b"
    ));
}
