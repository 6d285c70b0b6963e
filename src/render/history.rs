//! `history`'s output: one stored event as a JSON line (the stored result plus the finding's
//! `Count` and `LastSeen`) or as one readable line (time, assessment, principal, action(s) on
//! resource(s), count, event id, and a mark when AWS's evidence and the engine disagreed).

use serde_json::{Map, Value};

use crate::history::HistoryEntry;

impl HistoryEntry {
    /// The JSON line: the stored result, plus `Count` and `LastSeen` when present.
    pub fn to_json(&self) -> Value {
        let mut out = match &self.result {
            Value::Object(m) => m.clone(),
            other => {
                let mut m = Map::new();
                m.insert("Result".into(), other.clone());
                m
            }
        };
        if let Some(count) = self.count {
            out.insert("Count".into(), Value::from(count));
        }
        if let Some(seen) = &self.last_seen {
            out.insert("LastSeen".into(), Value::from(seen.clone()));
        }
        Value::Object(out)
    }

    /// The text line: time, assessment, principal, action(s) on resource(s), count, event id.
    pub fn to_text(&self) -> String {
        let requests: Vec<&Map<String, Value>> = self.result["Request"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_object).collect())
            .unwrap_or_default();
        let field = |m: &Map<String, Value>, key: &str| {
            m.get(key)
                .and_then(Value::as_str)
                .unwrap_or("-")
                .to_string()
        };
        let what = if !requests.is_empty() {
            requests
                .iter()
                .map(|r| format!("{} on {}", field(r, "Action"), field(r, "Resource")))
                .collect::<Vec<_>>()
                .join(", ")
        } else if self.actions.is_empty() {
            "-".to_string()
        } else if self.resources.is_empty() {
            self.actions.join(",")
        } else {
            format!("{} on {}", self.actions.join(","), self.resources.join(","))
        };
        let principal = self
            .principal
            .clone()
            .or_else(|| {
                requests
                    .iter()
                    .find_map(|r| r.get("Principal").and_then(Value::as_str))
                    .map(str::to_string)
            })
            .unwrap_or_else(|| "-".to_string());
        let assessment = self
            .assessment_result
            .as_deref()
            .or_else(|| self.result["AssessmentResult"].as_str())
            .unwrap_or("-");
        let count = self
            .count
            .map_or_else(|| "-".to_string(), |c| c.to_string());
        let disagrees = if self.engine_disagrees() {
            "  AWS AND ENGINE DISAGREE"
        } else {
            ""
        };
        format!(
            "{}  {}  {}  {}  count {}  {}{disagrees}",
            self.event_time.as_deref().unwrap_or("-"),
            assessment,
            principal,
            what,
            count,
            self.event_id
        )
    }

    /// Whether AWS's evidence and the engine disagreed on this event (`Evidence.EngineAgrees`
    /// is `false`).
    pub fn engine_disagrees(&self) -> bool {
        self.result["Evidence"]["EngineAgrees"] == Value::Bool(false)
    }
}
