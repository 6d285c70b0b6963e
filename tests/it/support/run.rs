//! Running the real pipeline over records: the reader, then `diagnose_item` with a policy source.

use std::io::Cursor;

use access_undenied::app::diagnose_item;
use access_undenied::collect::PolicySource;
use access_undenied::core::event::reader::{Item, RecordReader};
use serde_json::{json, Value};

/// The records as the reader yields them from a `{"Records": [...]}` file.
pub fn items(records: &[Value]) -> Vec<Item> {
    let body = json!({ "Records": records }).to_string();
    RecordReader::new(Cursor::new(body.into_bytes())).collect()
}

/// Diagnoses every access-denied record with `source`; the results as JSON.
pub async fn analyze_with(source: &dyn PolicySource, records: &[Value]) -> Vec<Value> {
    let mut out = Vec::new();
    for item in &items(records) {
        out.push(serde_json::to_value(diagnose_item(item, source).await).unwrap());
    }
    out
}

/// An identity-policy `Allow` statement.
pub fn allow(action: &str, resource: &str) -> Value {
    json!({"Effect": "Allow", "Action": action, "Resource": resource})
}

/// Results as an offline replay of the same answers gives them: identical, except that a
/// verdict resting on the policies read now says it rests on the snapshot.
pub fn as_replayed(results: &[Value]) -> Vec<Value> {
    results
        .iter()
        .map(|r| {
            let mut r = r.clone();
            if r["Evidence"]["Source"] == "CurrentPolicies" {
                r["Evidence"]["Source"] = Value::from("Snapshot");
            }
            r
        })
        .collect()
}
