//! `access-undenied simulate`: a request plus policies by type in one JSON document, evaluated
//! by the engine, answered with the decision, each gate's outcome, the deciding statements and
//! what could not be evaluated. The document format is described in the README.

use crate::policy::scalar_text as scalar;
use serde::Serialize;
use serde_json::{Map, Value};
use thiserror::Error;

use crate::eval::{
    evaluate, Context, NamedPolicy, OrgLevel, PolicySet, Principal, PrincipalWire, Report, Request,
    ResourceKind, ResourceSide,
};
use crate::policy::PolicyError;

/// Why a simulation document could not be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SimulateError {
    #[error("input is not valid json: {0}")]
    Json(String),
    #[error("`{0}` is missing")]
    Missing(&'static str),
    #[error("`{field}`: {reason}")]
    Field { field: String, reason: String },
    #[error("policy `{policy}`: {source}")]
    Policy { policy: String, source: PolicyError },
}

fn field(field: impl Into<String>, reason: impl Into<String>) -> SimulateError {
    SimulateError::Field {
        field: field.into(),
        reason: reason.into(),
    }
}

/// A parsed simulation case.
#[derive(Debug, Clone)]
pub struct Case {
    pub name: Option<String>,
    pub request: Request,
    pub policies: PolicySet,
}

/// The output for one case.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Outcome {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<RequestEcho>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub report: Option<Report>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What `analyze` would report for this request: `AssessmentResult`, `ResultDetails`
    /// (denying statements, verified least-privilege fix), `AllReasons`, `Explanation`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diagnosis: Option<crate::explain::DiagnosisResult>,
}

/// What was evaluated.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RequestEcho {
    pub principal: Principal,
    pub action: String,
    pub resource: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_account: Option<String>,
}

pub use crate::policy::PolicyCache;

/// Parses one simulation document.
pub fn parse_case(value: &Value) -> Result<Case, SimulateError> {
    parse_case_shared(value, &mut PolicyCache::default())
}

/// Parses one simulation document, sharing parsed policies with the other documents parsed
/// through `cache`.
pub fn parse_case_shared(value: &Value, cache: &mut PolicyCache) -> Result<Case, SimulateError> {
    let obj = value
        .as_object()
        .ok_or_else(|| field("(document)", "must be a json object"))?;
    let name = obj.get("Name").and_then(Value::as_str).map(str::to_string);
    let req = obj
        .get("Request")
        .ok_or(SimulateError::Missing("Request"))?;
    let request = parse_request(req)?;
    let policies = match obj.get("Policies") {
        None => PolicySet::default(),
        Some(p) => parse_policies(p, &request, cache)?,
    };
    Ok(Case {
        name,
        request,
        policies,
    })
}

/// The outcome of a document that could not be used.
pub fn failed(name: Option<String>, error: &SimulateError) -> Outcome {
    Outcome {
        name,
        request: None,
        report: None,
        error: Some(error.to_string()),
        diagnosis: None,
    }
}

/// Parses and evaluates one document; errors become an `Error` outcome.
pub fn run_value(value: &Value) -> Outcome {
    let name = value
        .get("Name")
        .and_then(Value::as_str)
        .map(str::to_string);
    match parse_case(value) {
        Ok(case) => run_case(&case),
        Err(e) => failed(name, &e),
    }
}

/// Evaluates a parsed case.
pub fn run_case(case: &Case) -> Outcome {
    let evaluation = evaluate(&case.request, &case.policies);
    let report = evaluation.report(&case.policies);
    // The diagnosis explains the same evaluation (no second evaluation, no copies of the case).
    let evaluated = crate::explain::Evaluated {
        request: &case.request,
        set: &case.policies,
        evaluation,
    };
    let name = case.name.as_deref().unwrap_or("simulation");
    Outcome {
        name: case.name.clone(),
        request: Some(RequestEcho {
            principal: case.request.principal.clone(),
            action: case.request.action.clone(),
            resource: case.request.resource.clone(),
            resource_account: case.request.resource_account.clone(),
        }),
        report: Some(report),
        error: None,
        diagnosis: Some(crate::explain::explain(name, &[evaluated], None)),
    }
}

/// Splits input text into documents: one JSON value, a JSON list of documents, or NDJSON. A
/// line of NDJSON that is not JSON is that document's error; the others go on.
pub fn documents(text: &str) -> Result<Vec<Result<Value, SimulateError>>, SimulateError> {
    match crate::json::from_str(text) {
        Ok(Value::Array(items)) => Ok(items.into_iter().map(Ok).collect()),
        Ok(v) => Ok(vec![Ok(v)]),
        Err(whole) => {
            let mut out = Vec::new();
            for (i, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                match crate::json::from_str(line) {
                    Ok(v) => out.push(Ok(v)),
                    Err(e) if out.is_empty() && i == 0 => {
                        return Err(SimulateError::Json(format!(
                            "{whole}; as ndjson, line 1: {e}"
                        )))
                    }
                    Err(e) => out.push(Err(SimulateError::Json(format!("line {}: {e}", i + 1)))),
                }
            }
            Ok(out)
        }
    }
}

fn parse_principal(v: &Value) -> Result<Principal, SimulateError> {
    let wire = match v {
        Value::String(arn) => PrincipalWire {
            arn: Some(arn.clone()),
            ..PrincipalWire::default()
        },
        Value::Object(_) => serde_json::from_value::<PrincipalWire>(v.clone())
            .map_err(|e| field("Request.Principal", e.to_string()))?,
        _ => {
            return Err(field(
                "Request.Principal",
                "must be an ARN string or an object",
            ))
        }
    };
    wire.into_principal()
        .map_err(|e| field("Request.Principal", e.to_string()))
}

fn parse_request(v: &Value) -> Result<Request, SimulateError> {
    let obj = v
        .as_object()
        .ok_or_else(|| field("Request", "must be a json object"))?;
    let principal = match obj.get("Principal") {
        Some(p) => parse_principal(p)?,
        None => Principal::anonymous(),
    };
    let action = obj
        .get("Action")
        .and_then(Value::as_str)
        .ok_or(SimulateError::Missing("Request.Action"))?;
    if !action.contains(':') {
        return Err(field(
            "Request.Action",
            format!("`{action}` is not `service:Action`"),
        ));
    }
    let resource = obj.get("Resource").and_then(Value::as_str).unwrap_or("*");
    let resource_account = obj
        .get("ResourceAccount")
        .and_then(Value::as_str)
        .map(str::to_string);
    let mut context = Context::new();
    if let Some(c) = obj.get("Context") {
        let map = c
            .as_object()
            .ok_or_else(|| field("Request.Context", "must be a json object"))?;
        for (k, val) in map {
            match val {
                Value::Array(items) => {
                    let values = items
                        .iter()
                        .map(scalar)
                        .collect::<Option<Vec<_>>>()
                        .ok_or_else(|| {
                            field(
                                format!("Request.Context.{k}"),
                                "list items must be strings, numbers or booleans",
                            )
                        })?;
                    context.set_list(k, values);
                }
                other => {
                    let s = scalar(other).ok_or_else(|| {
                        field(
                            format!("Request.Context.{k}"),
                            "must be a string, number, boolean or list",
                        )
                    })?;
                    context.set(k, s);
                }
            }
        }
    }
    for (key, absent) in [("UnknownContextKeys", false), ("AbsentContextKeys", true)] {
        if let Some(list) = obj.get(key) {
            let items = list
                .as_array()
                .ok_or_else(|| field(format!("Request.{key}"), "must be a list"))?;
            for item in items {
                let s = item
                    .as_str()
                    .ok_or_else(|| field(format!("Request.{key}"), "items must be strings"))?;
                if absent {
                    context.mark_absent(s);
                } else {
                    context.mark_unknown(s);
                }
            }
        }
    }
    Ok(Request::new(
        principal,
        action,
        resource,
        resource_account,
        context,
    ))
}

/// A policy given either as a bare document or as `{Name, Arn, AttachedTo, Document}`.
fn parse_named(
    v: &Value,
    default_name: String,
    where_: &str,
    cache: &mut PolicyCache,
) -> Result<NamedPolicy, SimulateError> {
    let obj = v
        .as_object()
        .ok_or_else(|| field(where_, "a policy must be a json object"))?;
    let (doc, meta): (Value, Option<&Map<String, Value>>) = match obj.get("Document") {
        Some(Value::String(text)) => (
            crate::json::from_str(text)
                .map_err(|e| field(format!("{where_}.Document"), e.to_string()))?,
            Some(obj),
        ),
        Some(d) => (d.clone(), Some(obj)),
        None => (v.clone(), None),
    };
    let get = |k: &str| {
        meta.and_then(|m| m.get(k))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let name = get("Name").unwrap_or(default_name);
    let policy = cache.parse(&doc).map_err(|source| SimulateError::Policy {
        policy: name.clone(),
        source,
    })?;
    Ok(NamedPolicy {
        arn: get("Arn"),
        attached_to: get("AttachedTo"),
        name,
        policy,
    })
}

fn list<'a>(v: &'a Value, where_: &str) -> Result<Vec<&'a Value>, SimulateError> {
    match v {
        Value::Array(items) => Ok(items.iter().collect()),
        Value::Object(_) => Ok(vec![v]),
        _ => Err(field(where_, "must be a policy or a list of policies")),
    }
}

fn parse_levels(
    v: &Value,
    where_: &str,
    cache: &mut PolicyCache,
) -> Result<Vec<OrgLevel>, SimulateError> {
    let items = v
        .as_array()
        .ok_or_else(|| field(where_, "must be a list of levels, root first"))?;
    items
        .iter()
        .enumerate()
        .map(|(i, level)| {
            let at = format!("{where_}[{i}]");
            let node_id = level
                .get("Node")
                .and_then(Value::as_str)
                .ok_or_else(|| field(&at, "`Node` (root, OU or account id) is missing"))?
                .to_string();
            let node_arn = level
                .get("NodeArn")
                .and_then(Value::as_str)
                .map(str::to_string);
            let policies = match level.get("Policies") {
                None => Vec::new(),
                Some(p) => list(p, &at)?
                    .into_iter()
                    .enumerate()
                    .map(|(j, p)| {
                        let mut np = parse_named(p, format!("{node_id}-policy-{j}"), &at, cache)?;
                        if np.attached_to.is_none() {
                            np.attached_to = node_arn.clone().or_else(|| Some(node_id.clone()));
                        }
                        Ok(np)
                    })
                    .collect::<Result<Vec<_>, SimulateError>>()?,
            };
            Ok(OrgLevel {
                node_id,
                node_arn,
                policies,
            })
        })
        .collect()
}

fn parse_policies(
    v: &Value,
    req: &Request,
    cache: &mut PolicyCache,
) -> Result<PolicySet, SimulateError> {
    let obj = v
        .as_object()
        .ok_or_else(|| field("Policies", "must be a json object"))?;
    let known = [
        "Identity",
        "PermissionsBoundary",
        "Session",
        "Scps",
        "Rcps",
        "Resource",
        "VpcEndpoints",
        "ManagementAccount",
    ];
    if let Some(k) = obj.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(field(
            format!("Policies.{k}"),
            format!("unknown policy type; expected one of {}", known.join(", ")),
        ));
    }
    let holder = req.principal.principal_arn().map(str::to_string);
    let mut set = PolicySet::default();
    if let Some(p) = obj.get("Identity") {
        for (i, item) in list(p, "Policies.Identity")?.into_iter().enumerate() {
            let mut np = parse_named(
                item,
                format!("IdentityPolicy{i}"),
                "Policies.Identity",
                cache,
            )?;
            if np.attached_to.is_none() {
                np.attached_to = holder.clone();
            }
            set.identity.push(np);
        }
    }
    if let Some(p) = obj.get("PermissionsBoundary") {
        let mut np = parse_named(
            p,
            "PermissionsBoundary".into(),
            "Policies.PermissionsBoundary",
            cache,
        )?;
        if np.attached_to.is_none() {
            np.attached_to = holder.clone();
        }
        set.permissions_boundary = Some(np);
    }
    if let Some(p) = obj.get("Session") {
        for (i, item) in list(p, "Policies.Session")?.into_iter().enumerate() {
            let mut np = parse_named(item, format!("SessionPolicy{i}"), "Policies.Session", cache)?;
            if np.attached_to.is_none() {
                np.attached_to = req.principal.arn().map(str::to_string);
            }
            set.session.push(np);
        }
    }
    if let Some(p) = obj.get("Scps") {
        set.scps = Some(parse_levels(p, "Policies.Scps", cache)?);
    }
    if let Some(p) = obj.get("Rcps") {
        set.rcps = Some(parse_levels(p, "Policies.Rcps", cache)?);
    }
    if let Some(r) = obj.get("Resource") {
        let ro = r
            .as_object()
            .ok_or_else(|| field("Policies.Resource", "must be a json object"))?;
        let kind: ResourceKind = match ro.get("Kind") {
            None => ResourceKind::for_action(&req.action),
            Some(k) => serde_json::from_value(k.clone())
                .map_err(|e| field("Policies.Resource.Kind", e.to_string()))?,
        };
        let arn = ro
            .get("Arn")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| req.resource.clone());
        let policy = match ro.get("Policy") {
            None | Some(Value::Null) => None,
            Some(p) => {
                let mut np = parse_named(
                    p,
                    kind.placeholder().into(),
                    "Policies.Resource.Policy",
                    cache,
                )?;
                if np.arn.is_none() {
                    np.arn = Some(format!("{arn}/{}", kind.placeholder()));
                }
                if np.attached_to.is_none() {
                    np.attached_to = Some(arn.clone());
                }
                Some(np)
            }
        };
        set.resource = Some(ResourceSide { kind, policy });
    }
    if let Some(p) = obj.get("VpcEndpoints") {
        for (i, item) in list(p, "Policies.VpcEndpoints")?.into_iter().enumerate() {
            let mut np = parse_named(
                item,
                "VPCEndpointPolicy".into(),
                "Policies.VpcEndpoints",
                cache,
            )?;
            if np.attached_to.is_none() {
                np.attached_to = Some(format!("vpc-endpoint-{i}"));
            }
            if np.arn.is_none() {
                np.arn = np
                    .attached_to
                    .as_ref()
                    .map(|a| format!("{a}/VPCEndpointPolicy"));
            }
            set.vpc_endpoints.push(np);
        }
    }
    set.management_account = obj
        .get("ManagementAccount")
        .and_then(Value::as_str)
        .map(str::to_string);
    Ok(set)
}

/// Renders an outcome for people.
pub fn to_text(o: &Outcome) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    if let Some(n) = &o.name {
        let _ = writeln!(s, "== {n}");
    }
    if let Some(e) = &o.error {
        let _ = writeln!(s, "Error: {e}");
        return s;
    }
    if let Some(r) = &o.request {
        let who = r
            .principal
            .arn()
            .or_else(|| r.principal.service())
            .unwrap_or("anonymous");
        let _ = writeln!(s, "Request: {who} -> {} on {}", r.action, r.resource);
    }
    let Some(rep) = &o.report else { return s };
    if let Some(d) = &o.diagnosis {
        let _ = writeln!(s, "AssessmentResult: {}", d.assessment_result.as_str());
        for p in &d.result_details.policies_to_add {
            let _ = writeln!(s, "  fix: add to {}: {}", p.attachment_target_arn, p.policy);
        }
        for p in &d.result_details.explicit_deny_policies {
            let _ = writeln!(
                s,
                "  fix: remove or narrow in {} ({}): {}",
                p.policy_name, p.policy_arn, p.policy_statement
            );
        }
    }
    let conclusive = if rep.conclusive {
        ""
    } else {
        " (inconclusive)"
    };
    let _ = writeln!(s, "Decision: {:?}{conclusive}", rep.decision);
    if let Some((lo, hi)) = rep.possible_decisions {
        let _ = writeln!(
            s,
            "  could be {lo:?} or {hi:?} depending on the unevaluated statements"
        );
    }
    let _ = writeln!(s, "Gates:");
    for g in &rep.gates {
        let node = g
            .node
            .as_deref()
            .map(|n| format!(" {n}"))
            .unwrap_or_default();
        let blocking = if g.blocking { "  <- blocking" } else { "" };
        let note = g
            .note
            .as_deref()
            .map(|n| format!(" ({n})"))
            .unwrap_or_default();
        let _ = writeln!(s, "  {:?}{node}: {:?}{note}{blocking}", g.gate, g.outcome);
    }
    if !rep.deciding_statements.is_empty() {
        let _ = writeln!(s, "Deciding statements:");
        for st in &rep.deciding_statements {
            let sid = st
                .sid
                .as_deref()
                .map(|x| format!(" Sid {x}"))
                .unwrap_or_default();
            let _ = writeln!(
                s,
                "  {:?} {} statement {}{sid}: {}",
                st.gate, st.policy_name, st.statement_index, st.statement
            );
        }
    }
    if !rep.unevaluated.is_empty() {
        let _ = writeln!(s, "Not evaluated:");
        for u in &rep.unevaluated {
            let Some(st) = &u.statement else { continue };
            let sid = st
                .sid
                .as_deref()
                .map(|x| format!(" Sid {x}"))
                .unwrap_or_default();
            let _ = writeln!(
                s,
                "  {:?} {} statement {}{sid}: {}",
                st.gate,
                st.policy_name,
                st.statement_index,
                u.reasons.join("; ")
            );
        }
    }
    s
}

#[cfg(test)]
mod document_tests {
    use super::*;

    /// A bad NDJSON line is a typed error of that document; a document that happens to be a
    /// JSON string is read as the (wrong) document it is, not mistaken for a bad line.
    #[test]
    fn bad_lines_are_typed_errors_and_strings_are_documents() {
        let text = "{\"Request\": {\"Action\": \"s3:GetObject\"}}\n{not json\n\"just text\"\n";
        let docs = documents(text).unwrap();
        assert_eq!(docs.len(), 3);
        assert!(docs[0].is_ok());
        assert!(
            matches!(&docs[1], Err(SimulateError::Json(m)) if m.starts_with("line 2: ")),
            "{:?}",
            docs[1]
        );
        let third = run_value(docs[2].as_ref().unwrap());
        assert_eq!(
            third.error.as_deref(),
            Some("`(document)`: must be a json object")
        );
        let second = failed(None, docs[1].as_ref().unwrap_err());
        assert!(second
            .error
            .as_deref()
            .is_some_and(|e| e.starts_with("input is not valid json: line 2: ")));
    }
}
