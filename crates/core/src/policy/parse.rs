//! Raw policy JSON → validated [`Policy`].

use serde_json::{Map, Value};

use super::condition::{Condition, Operator};
use super::matcher::{Matcher, ServiceSet};
use super::pattern::Pattern;
use super::principal::{PrincipalEntry, PrincipalKind, PrincipalSpec};
use super::{
    ActionBlock, ActionPattern, Effect, Policy, PolicyError, PrincipalBlock, ResourceBlock,
    Statement, Version,
};

const STATEMENT_KEYS: &[&str] = &[
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];

pub(super) fn policy(value: &Value) -> Result<Policy, PolicyError> {
    let obj = value.as_object().ok_or(PolicyError::NotAnObject)?;
    let (version, version_given) = match obj.get("Version") {
        None => (Version::V2008_10_17, false),
        Some(Value::String(v)) if v == "2012-10-17" => (Version::V2012_10_17, true),
        Some(Value::String(v)) if v == "2008-10-17" => (Version::V2008_10_17, true),
        Some(other) => return Err(PolicyError::BadVersion(text_of(other))),
    };
    let id = match obj.get("Id") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(PolicyError::BadId),
    };
    let raw_statements: Vec<&Value> = match obj.get("Statement") {
        None => return Err(PolicyError::MissingStatement),
        Some(Value::Array(items)) => items.iter().collect(),
        Some(v @ Value::Object(_)) => vec![v],
        Some(_) => return Err(PolicyError::BadStatementList),
    };
    let variables = version == Version::V2012_10_17;
    let statements = raw_statements
        .into_iter()
        .enumerate()
        .map(|(i, s)| statement(i, s, variables))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Policy {
        version,
        version_given,
        id,
        statements,
    })
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn statement(index: usize, value: &Value, variables: bool) -> Result<Statement, PolicyError> {
    let Some(obj) = value.as_object() else {
        return Err(PolicyError::at(
            index,
            None,
            "Statement",
            "must be a json object",
        ));
    };
    let sid = match obj.get("Sid") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(PolicyError::at(index, None, "Sid", "must be a string")),
    };
    let err = |element: &str, reason: &str| PolicyError::at(index, sid.as_deref(), element, reason);
    if let Some(k) = obj.keys().find(|k| !STATEMENT_KEYS.contains(&k.as_str())) {
        return Err(err(k, "unknown statement element"));
    }
    let effect = match obj.get("Effect") {
        Some(Value::String(e)) if e == "Allow" => Effect::Allow,
        Some(Value::String(e)) if e == "Deny" => Effect::Deny,
        Some(_) => return Err(err("Effect", "must be `Allow` or `Deny`")),
        None => return Err(err("Effect", "is missing")),
    };
    let principal = match (obj.get("Principal"), obj.get("NotPrincipal")) {
        (Some(_), Some(_)) => {
            return Err(err(
                "Principal",
                "`Principal` and `NotPrincipal` cannot both be present",
            ))
        }
        (Some(p), None) => {
            PrincipalBlock::Principal(principal(p).map_err(|r| err("Principal", &r))?)
        }
        (None, Some(p)) => {
            PrincipalBlock::NotPrincipal(principal(p).map_err(|r| err("NotPrincipal", &r))?)
        }
        (None, None) => PrincipalBlock::Absent,
    };
    let action = match (obj.get("Action"), obj.get("NotAction")) {
        (Some(_), Some(_)) => {
            return Err(err(
                "Action",
                "`Action` and `NotAction` cannot both be present",
            ))
        }
        (Some(a), None) => ActionBlock::Action(actions(a).map_err(|r| err("Action", &r))?),
        (None, Some(a)) => ActionBlock::NotAction(actions(a).map_err(|r| err("NotAction", &r))?),
        (None, None) => return Err(err("Action", "one of `Action` or `NotAction` is required")),
    };
    let resource = match (obj.get("Resource"), obj.get("NotResource")) {
        (Some(_), Some(_)) => {
            return Err(err(
                "Resource",
                "`Resource` and `NotResource` cannot both be present",
            ))
        }
        (Some(r), None) => {
            ResourceBlock::Resource(resources(r, variables).map_err(|e| err("Resource", &e))?)
        }
        (None, Some(r)) => {
            ResourceBlock::NotResource(resources(r, variables).map_err(|e| err("NotResource", &e))?)
        }
        (None, None) => ResourceBlock::Absent,
    };
    let conditions = match obj.get("Condition") {
        None => Vec::new(),
        Some(c) => conditions(c, variables).map_err(|e| err("Condition", &e))?,
    };
    let services = match &action {
        ActionBlock::Action(list) => {
            ServiceSet::of_actions(list.iter().map(|a| a.original.as_str()))
        }
        ActionBlock::NotAction(_) => ServiceSet::ALL,
    };
    Ok(Statement {
        index,
        sid,
        effect,
        principal,
        action,
        services,
        resource,
        conditions,
        raw: value.clone(),
    })
}

/// A string or a non-empty list of strings.
fn string_or_list(v: &Value) -> Result<(Vec<String>, bool), String> {
    match v {
        Value::String(s) => Ok((vec![s.clone()], false)),
        Value::Array(items) => {
            if items.is_empty() {
                return Err("must not be an empty list".into());
            }
            let strings = items
                .iter()
                .map(|i| match i {
                    Value::String(s) => Ok(s.clone()),
                    other => Err(format!("list items must be strings, found `{other}`")),
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok((strings, true))
        }
        other => Err(format!(
            "must be a string or a list of strings, found `{other}`"
        )),
    }
}

fn actions(v: &Value) -> Result<Vec<ActionPattern>, String> {
    let (items, _) = string_or_list(v)?;
    items
        .into_iter()
        .map(|a| {
            let valid = a == "*"
                || matches!(a.split_once(':'), Some((svc, name)) if !svc.is_empty() && !name.is_empty());
            if !valid {
                return Err(format!("`{a}` is not an action: expected `service:Action` or `*`"));
            }
            let parts = Pattern::parse(&a.to_ascii_lowercase(), false).parts;
            Ok(ActionPattern {
                matcher: Matcher::glob(&parts),
                parts,
                original: a,
            })
        })
        .collect()
}

fn resources(v: &Value, variables: bool) -> Result<Vec<Pattern>, String> {
    let (items, _) = string_or_list(v)?;
    Ok(items.iter().map(|r| Pattern::parse(r, variables)).collect())
}

fn principal(v: &Value) -> Result<PrincipalSpec, String> {
    match v {
        Value::String(s) if s == "*" => Ok(PrincipalSpec::Any),
        Value::String(s) => Err(format!(
            "`{s}`: a principal string must be `*`; use a map such as {{\"AWS\": ...}}"
        )),
        Value::Object(map) => {
            if map.is_empty() {
                return Err("must not be an empty map".into());
            }
            let mut entries = Vec::new();
            for (k, val) in map {
                let kind = PrincipalKind::from_name(k).ok_or_else(|| {
                    format!("unknown principal type `{k}`: expected AWS, Service, Federated or CanonicalUser")
                })?;
                let (values, as_list) = string_or_list(val).map_err(|e| format!("`{k}` {e}"))?;
                entries.push(PrincipalEntry {
                    kind,
                    values,
                    as_list,
                });
            }
            Ok(PrincipalSpec::Entries(entries))
        }
        other => Err(format!("must be `*` or a map, found `{other}`")),
    }
}

fn condition_value(v: &Value) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        other => Err(format!(
            "values must be strings, numbers or booleans, found `{other}`"
        )),
    }
}

fn conditions(v: &Value, variables: bool) -> Result<Vec<Condition>, String> {
    let map: &Map<String, Value> = v.as_object().ok_or("must be a json object")?;
    let mut out = Vec::new();
    for (op_name, block) in map {
        let operator = Operator::parse(op_name);
        let keys = block
            .as_object()
            .ok_or_else(|| format!("operator `{op_name}` must map condition keys to values"))?;
        if keys.is_empty() {
            return Err(format!("operator `{op_name}` has no condition keys"));
        }
        let substitute = variables && operator.op.takes_variables();
        for (key, values) in keys {
            let (texts, as_list) = match values {
                Value::Array(items) => (
                    items
                        .iter()
                        .map(condition_value)
                        .collect::<Result<Vec<_>, _>>(),
                    true,
                ),
                single => (condition_value(single).map(|s| vec![s]), false),
            };
            let texts = texts.map_err(|e| format!("`{op_name}` `{key}`: {e}"))?;
            out.push(Condition {
                operator: operator.clone(),
                key: key.clone(),
                key_lower: key.to_ascii_lowercase(),
                values: texts
                    .iter()
                    .map(|t| Pattern::parse(t, substitute))
                    .collect(),
                values_as_list: as_list,
            });
        }
    }
    Ok(out)
}
