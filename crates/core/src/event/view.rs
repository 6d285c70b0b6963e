//! A serializable view of what reading one event gave (used by `access-undenied events` and the
//! event fixtures): the principal, each request's action, resource and context, the message
//! hint, and what must be looked up.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::eval::{Context, Principal, Request};

use super::reader::Item;
use super::{read_event, ActionSource, MessageHint, Reading};
use crate::assemble::Lookup;

/// One request as evaluated.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RequestView {
    pub action: String,
    pub action_source: ActionSource,
    pub resource: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_account: Option<String>,
    /// Every present context key (lowercase) and its value(s).
    pub context: Map<String, Value>,
}

impl RequestView {
    pub fn of(request: &Request, source: ActionSource) -> Self {
        let context = context_json(&request.context);
        RequestView {
            action: request.action.clone(),
            action_source: source,
            resource: request.resource.clone(),
            resource_account: request.resource_account.clone(),
            context,
        }
    }
}

/// Every present context key (lowercase) and its value, or its list for multivalued keys.
pub fn context_json(ctx: &Context) -> Map<String, Value> {
    let mut out = Map::new();
    for (k, v) in ctx.entries() {
        let value = if v.multi {
            Value::Array(v.values.iter().cloned().map(Value::String).collect())
        } else {
            v.values
                .first()
                .cloned()
                .map(Value::String)
                .unwrap_or(Value::Null)
        };
        out.insert(k.to_string(), value);
    }
    out
}

/// One event as read.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EventView {
    pub event_id: String,
    /// `Requests`, `InvalidAction`, `NeedsPrincipal` or `Error`.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal: Option<Principal>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub requests: Vec<RequestView>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub needs: Vec<Lookup>,
    /// Companion actions the call needs that are not evaluated, each with why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub set_aside: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<MessageHint>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}

/// Reads one item of the reader into a view (no AWS lookups: unresolved callers stay so).
pub fn view(item: &Item) -> EventView {
    let ev = match item {
        Item::Error { event_id, error } => {
            return EventView {
                event_id: event_id.clone(),
                status: "Error",
                event_source: None,
                event_name: None,
                principal: None,
                requests: Vec::new(),
                needs: Vec::new(),
                set_aside: Vec::new(),
                hint: None,
                error_message: Some(error.to_string()),
            }
        }
        Item::Denial(ev) => ev,
    };
    let mut v = EventView {
        event_id: ev.event_id.clone(),
        status: "Requests",
        event_source: Some(ev.event_source.clone()),
        event_name: Some(ev.event_name.clone()),
        principal: match &ev.principal {
            super::PrincipalInfo::Known(p) => Some(p.clone()),
            super::PrincipalInfo::Unresolved { .. } => None,
        },
        requests: Vec::new(),
        needs: Vec::new(),
        set_aside: Vec::new(),
        hint: Some(ev.hint.clone()),
        error_message: None,
    };
    match read_event(ev, None) {
        Ok(Reading::Requests {
            requests,
            lookups,
            set_aside,
        }) => {
            v.requests = requests
                .iter()
                .map(|r| RequestView::of(&r.request, r.action_source))
                .collect();
            v.needs = lookups;
            v.set_aside = set_aside;
        }
        Ok(Reading::InvalidAction(why)) => {
            v.status = "InvalidAction";
            v.error_message = Some(why);
        }
        Ok(Reading::NeedsPrincipal(need)) => {
            v.status = "NeedsPrincipal";
            v.needs = vec![need];
        }
        Err(e) => {
            v.status = "Error";
            v.error_message = Some(e.to_string());
        }
    }
    v
}
