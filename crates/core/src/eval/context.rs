//! The request context: condition keys and their values, plus which keys are unknown.
//!
//! A key is *present* (with one value or a list), *absent* (the request certainly does not carry
//! it), or *unknown* (the caller could not find out, e.g. principal tags not read from IAM).
//! Unknown keys make the statements that need them unevaluable instead of silently false.

use crate::policy::{Pattern, PatternPart};

/// The values of one context key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextValue {
    pub values: Vec<String>,
    /// Whether the key is multivalued (given as a list), which matters for set operators and
    /// makes it unusable as a policy variable.
    pub multi: bool,
}

/// What a lookup found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup<'a> {
    Present(&'a ContextValue),
    Absent,
    Unknown,
}

/// A key's length and last eight bytes in one word: condition keys mostly share their start
/// (`aws:`) and differ at the end, so unequal keys almost always differ here.
fn fingerprint(key: &str) -> u64 {
    let bytes = key.as_bytes();
    let tail = bytes
        .iter()
        .rev()
        .take(8)
        .fold(0_u64, |acc, b| (acc << 8) | u64::from(*b));
    tail ^ (bytes.len() as u64).rotate_right(8)
}

/// Condition keys of one request; keys are case-insensitive.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    /// Each present key (lowercase) and its values.
    entries: Vec<(String, ContextValue)>,
    /// The [`fingerprint`] of each key of `entries`, in the same order and kept apart: a lookup
    /// reads this short list and compares the text of a key only when its fingerprint matches.
    prints: Vec<u64>,
    unknown: Vec<Vec<PatternPart>>,
    absent: Vec<Vec<PatternPart>>,
}

impl Context {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a single-valued key (replacing an earlier value).
    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        self.insert(
            key,
            ContextValue {
                values: vec![value.into()],
                multi: false,
            },
        );
    }

    /// Sets a multivalued key.
    pub fn set_list(&mut self, key: &str, values: Vec<String>) {
        self.insert(
            key,
            ContextValue {
                values,
                multi: true,
            },
        );
    }

    /// Sets a key only if it has no value yet.
    pub fn set_default(&mut self, key: &str, value: impl Into<String>) {
        if !self.contains(key) {
            self.set(key, value);
        }
    }

    fn insert(&mut self, key: &str, value: ContextValue) {
        let lower = key.to_ascii_lowercase();
        match self.position(&lower) {
            Some(i) => {
                if let Some(slot) = self.entries.get_mut(i) {
                    slot.1 = value;
                }
            }
            None => {
                self.prints.push(fingerprint(&lower));
                self.entries.push((lower, value));
            }
        }
    }

    /// Where a lowercase key is in `entries`.
    fn position(&self, key_lower: &str) -> Option<usize> {
        let print = fingerprint(key_lower);
        self.prints
            .iter()
            .enumerate()
            .filter(|(_, p)| **p == print)
            .map(|(i, _)| i)
            .find(|i| self.entries.get(*i).is_some_and(|(k, _)| k == key_lower))
    }

    /// The values of a lowercase key.
    fn find(&self, key_lower: &str) -> Option<&ContextValue> {
        self.entries.get(self.position(key_lower)?).map(|(_, v)| v)
    }

    /// Whether `key` has a value.
    pub fn contains(&self, key: &str) -> bool {
        self.find(&key.to_ascii_lowercase()).is_some()
    }

    /// Declares keys (wildcards allowed, e.g. `aws:PrincipalTag/*`) whose values are unknown.
    pub fn mark_unknown(&mut self, pattern: &str) {
        self.unknown
            .push(Pattern::parse(&pattern.to_ascii_lowercase(), false).parts);
    }

    /// Declares keys known to be absent even when they also match an unknown pattern.
    pub fn mark_absent(&mut self, pattern: &str) {
        self.absent
            .push(Pattern::parse(&pattern.to_ascii_lowercase(), false).parts);
    }

    /// Looks up a lowercase key.
    pub fn lookup(&self, key_lower: &str) -> Lookup<'_> {
        if let Some(v) = self.find(key_lower) {
            return Lookup::Present(v);
        }
        if self.unknown.is_empty() {
            return Lookup::Absent;
        }
        let glob = crate::policy::pattern_glob;
        if self.absent.iter().any(|p| glob(p, key_lower)) {
            return Lookup::Absent;
        }
        if self.unknown.iter().any(|p| glob(p, key_lower)) {
            return Lookup::Unknown;
        }
        Lookup::Absent
    }

    /// Every present key (lowercase) and its values.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &ContextValue)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The unknown-key patterns as text.
    pub fn unknown_patterns(&self) -> Vec<String> {
        self.unknown
            .iter()
            .map(|p| crate::policy::pattern_render(p))
            .collect()
    }
}
