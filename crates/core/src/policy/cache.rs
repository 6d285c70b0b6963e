//! Parsing each distinct policy document once: requests of a batch that meet the same document
//! share one parsed [`Policy`].

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use super::{Policy, PolicyError};

/// The most documents kept; past it the cache starts over (a long-lived Lambda stays bounded).
const MAX_ENTRIES: usize = 4096;

/// Parsed policies by document text.
#[derive(Debug, Default)]
pub struct PolicyCache {
    parsed: HashMap<String, Arc<Policy>>,
}

impl PolicyCache {
    /// The parsed form of `doc`, parsed on first sight only.
    pub fn parse(&mut self, doc: &Value) -> Result<Arc<Policy>, PolicyError> {
        let key = doc.to_string();
        if let Some(parsed) = self.parsed.get(&key) {
            return Ok(parsed.clone());
        }
        let parsed = Arc::new(Policy::from_value(doc)?);
        if self.parsed.len() >= MAX_ENTRIES {
            self.parsed.clear();
        }
        self.parsed.insert(key, parsed.clone());
        Ok(parsed)
    }

    /// How many distinct documents are held.
    pub fn len(&self) -> usize {
        self.parsed.len()
    }

    pub fn is_empty(&self) -> bool {
        self.parsed.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_parse_per_distinct_document() {
        let mut cache = PolicyCache::default();
        let doc =
            serde_json::json!({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}});
        let a = cache.parse(&doc).unwrap();
        let b = cache.parse(&doc.clone()).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(cache.len(), 1);
        assert!(cache.parse(&serde_json::json!({})).is_err());
        assert_eq!(cache.len(), 1);
    }
}
