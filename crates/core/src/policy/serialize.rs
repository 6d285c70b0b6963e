//! Validated [`Policy`] → policy JSON, the inverse of parsing (up to string-or-list choices,
//! which are kept).

use serde_json::{json, Map, Value};

use super::{ActionBlock, Effect, Policy, PrincipalBlock, PrincipalSpec, ResourceBlock, Version};

pub(super) fn policy(p: &Policy) -> Value {
    let mut obj = Map::new();
    if p.version_given {
        let v = match p.version {
            Version::V2012_10_17 => "2012-10-17",
            Version::V2008_10_17 => "2008-10-17",
        };
        obj.insert("Version".into(), json!(v));
    }
    if let Some(id) = &p.id {
        obj.insert("Id".into(), json!(id));
    }
    let statements: Vec<Value> = p.statements.iter().map(statement).collect();
    obj.insert("Statement".into(), Value::Array(statements));
    Value::Object(obj)
}

fn list(items: Vec<String>) -> Value {
    if items.len() == 1 {
        items
            .into_iter()
            .next()
            .map(Value::String)
            .unwrap_or(Value::Null)
    } else {
        Value::Array(items.into_iter().map(Value::String).collect())
    }
}

fn principal(spec: &PrincipalSpec) -> Value {
    match spec {
        PrincipalSpec::Any => json!("*"),
        PrincipalSpec::Entries(entries) => {
            let mut m = Map::new();
            for e in entries {
                let v = if e.as_list {
                    Value::Array(e.values.iter().cloned().map(Value::String).collect())
                } else {
                    list(e.values.clone())
                };
                m.insert(e.kind.name().into(), v);
            }
            Value::Object(m)
        }
    }
}

fn statement(s: &super::Statement) -> Value {
    let mut m = Map::new();
    if let Some(sid) = &s.sid {
        m.insert("Sid".into(), json!(sid));
    }
    let effect = match s.effect {
        Effect::Allow => "Allow",
        Effect::Deny => "Deny",
    };
    m.insert("Effect".into(), json!(effect));
    match &s.principal {
        PrincipalBlock::Principal(p) => {
            m.insert("Principal".into(), principal(p));
        }
        PrincipalBlock::NotPrincipal(p) => {
            m.insert("NotPrincipal".into(), principal(p));
        }
        PrincipalBlock::Absent => {}
    }
    let (name, actions) = match &s.action {
        ActionBlock::Action(a) => ("Action", a),
        ActionBlock::NotAction(a) => ("NotAction", a),
    };
    m.insert(
        name.into(),
        list(actions.iter().map(|a| a.original.clone()).collect()),
    );
    match &s.resource {
        ResourceBlock::Resource(r) => {
            m.insert(
                "Resource".into(),
                list(r.iter().map(|p| p.original.clone()).collect()),
            );
        }
        ResourceBlock::NotResource(r) => {
            m.insert(
                "NotResource".into(),
                list(r.iter().map(|p| p.original.clone()).collect()),
            );
        }
        ResourceBlock::Absent => {}
    }
    if !s.conditions.is_empty() {
        let mut ops: Map<String, Value> = Map::new();
        for c in &s.conditions {
            let values: Vec<Value> = c.values.iter().map(|v| json!(v.original)).collect();
            let v = if c.values_as_list || values.len() != 1 {
                Value::Array(values)
            } else {
                values.into_iter().next().unwrap_or(Value::Null)
            };
            let entry = ops
                .entry(c.operator.name.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(keys) = entry {
                keys.insert(c.key.clone(), v);
            }
        }
        m.insert("Condition".into(), Value::Object(ops));
    }
    Value::Object(m)
}
