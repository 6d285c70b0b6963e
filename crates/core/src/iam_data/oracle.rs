//! Test-only oracle: the run-time parse of the IAM TSVs that served the lookups before the
//! tables were built at compile time (`crates/core/build.rs`), kept as it was so the unit
//! tests can check, key by key, that the generated tables hold the same data.

use std::collections::{HashMap, HashSet};

use super::host_prefix;

pub(super) const ACTIONS_TSV: &str = include_str!("../../data/iam/actions.tsv");
pub(super) const RESOURCE_TYPES_TSV: &str = include_str!("../../data/iam/resource_types.tsv");
pub(super) const CONDITION_KEYS_TSV: &str = include_str!("../../data/iam/condition_keys.tsv");
pub(super) const EVENT_MAP_TSV: &str = include_str!("../../data/iam/event_map.tsv");
pub(super) const PERMISSIONLESS_TSV: &str = include_str!("../../data/iam/permissionless.tsv");
pub(super) const EVENT_SOURCE_PREFIXES_TSV: &str =
    include_str!("../../data/iam/event_source_prefixes.tsv");

pub(super) struct ActionInfo {
    /// `service:Action`; borrowed as `&'static str` through the static [`Tables`].
    pub(super) full: String,
    pub(super) service: &'static str,
    pub(super) access_level: &'static str,
    pub(super) resource_types: &'static str,
    /// The reference's dependent actions (comma-separated): other actions AWS says a call of
    /// this action may also need.
    pub(super) dependent_actions: &'static str,
}

pub(super) struct ResourceTypeInfo {
    pub(super) arns: &'static str,
    pub(super) keys: &'static str,
}

pub(super) struct EventRow {
    pub(super) rank: u8,
    pub(super) sdk_method: &'static str,
    pub(super) actions: &'static str,
    pub(super) arn_templates: &'static str,
    pub(super) notes: &'static str,
}

/// A templated condition key, split at its variables (`${...}` or `<...>`), lowercase.
pub(super) struct KeyTemplate {
    pub(super) parts: Vec<String>,
    pub(super) ty: &'static str,
}

impl KeyTemplate {
    pub(super) fn parse(key: &str, ty: &'static str) -> Option<Self> {
        let lower = key.to_ascii_lowercase();
        let mut parts = Vec::new();
        let mut rest = lower.as_str();
        let mut templated = false;
        loop {
            let dollar = rest.find("${");
            let angle = rest.find('<');
            let (start, close) = match (dollar, angle) {
                (Some(d), Some(a)) if a < d => (a, '>'),
                (Some(d), _) => (d, '}'),
                (None, Some(a)) => (a, '>'),
                (None, None) => break,
            };
            let Some(len) = rest[start..].find(close) else {
                break;
            };
            parts.push(rest[..start].to_string());
            rest = &rest[start + len + 1..];
            templated = true;
        }
        parts.push(rest.to_string());
        templated.then_some(Self { parts, ty })
    }

    /// Whether `key` (lowercase) matches, by the run-time matcher.
    pub(super) fn matches(&self, key: &str) -> bool {
        let parts: Vec<&str> = self.parts.iter().map(String::as_str).collect();
        super::template_matches(&parts, key)
    }

    fn literal_len(&self) -> usize {
        self.parts.iter().map(String::len).sum()
    }
}

pub(super) struct Tables {
    /// lowercase `prefix:action` → info.
    pub(super) actions: HashMap<String, ActionInfo>,
    /// lowercase IAM prefix → prefix.
    pub(super) services: HashMap<String, &'static str>,
    /// (prefix, resource type name) → info.
    pub(super) resource_types: HashMap<(&'static str, &'static str), ResourceTypeInfo>,
    pub(super) condition_exact: HashMap<String, &'static str>,
    /// Most specific (longest literal text) first.
    pub(super) condition_templates: Vec<KeyTemplate>,
    /// `source\teventname` (lowercase) → rows, in table order (rank ascending).
    pub(super) events: HashMap<String, Vec<EventRow>>,
    pub(super) permissionless: HashSet<String>,
    /// lowercase host prefix (`monitoring`) → IAM prefix.
    pub(super) sources: HashMap<String, &'static str>,
}

/// Data lines of a table: no header/comment lines, no blank lines.
fn rows(table: &'static str) -> impl Iterator<Item = Vec<&'static str>> {
    table
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| line.split('\t').collect())
}

fn field(cols: &[&'static str], i: usize) -> &'static str {
    cols.get(i).copied().unwrap_or("")
}

fn event_key(source: &str, event_name: &str) -> String {
    format!("{source}\t{}", event_name.to_ascii_lowercase())
}

impl Tables {
    pub(super) fn parse() -> Self {
        let mut actions = HashMap::new();
        let mut services = HashMap::new();
        for cols in rows(ACTIONS_TSV) {
            let (service, name) = (field(&cols, 0), field(&cols, 1));
            if service.is_empty() || name.is_empty() {
                continue;
            }
            services.insert(service.to_ascii_lowercase(), service);
            let full = format!("{service}:{name}");
            actions.insert(
                full.to_ascii_lowercase(),
                ActionInfo {
                    full,
                    service,
                    access_level: field(&cols, 2),
                    resource_types: field(&cols, 3),
                    dependent_actions: field(&cols, 5),
                },
            );
        }

        let mut resource_types = HashMap::new();
        for cols in rows(RESOURCE_TYPES_TSV) {
            let (service, name) = (field(&cols, 0), field(&cols, 1));
            if service.is_empty() || name.is_empty() {
                continue;
            }
            resource_types.insert(
                (service, name),
                ResourceTypeInfo {
                    arns: field(&cols, 2),
                    keys: field(&cols, 3),
                },
            );
        }

        let mut condition_exact = HashMap::new();
        let mut condition_templates = Vec::new();
        for cols in rows(CONDITION_KEYS_TSV) {
            let (key, ty) = (field(&cols, 0), field(&cols, 1));
            if key.is_empty() || ty.is_empty() {
                continue;
            }
            condition_exact.insert(key.to_ascii_lowercase(), ty);
            if let Some(tpl) = KeyTemplate::parse(key, ty) {
                condition_templates.push(tpl);
            }
        }
        condition_templates.sort_by_key(|t| std::cmp::Reverse(t.literal_len()));

        let mut events: HashMap<String, Vec<EventRow>> = HashMap::new();
        for cols in rows(EVENT_MAP_TSV) {
            let (source, name) = (field(&cols, 0), field(&cols, 1));
            let Ok(rank) = field(&cols, 2).parse::<u8>() else {
                continue;
            };
            if source.is_empty() || name.is_empty() {
                continue;
            }
            events
                .entry(event_key(&source.to_ascii_lowercase(), name))
                .or_default()
                .push(EventRow {
                    rank,
                    sdk_method: field(&cols, 3),
                    actions: field(&cols, 4),
                    arn_templates: field(&cols, 5),
                    notes: field(&cols, 6),
                });
        }
        for list in events.values_mut() {
            list.sort_by_key(|r| r.rank);
        }

        let mut permissionless = HashSet::new();
        for cols in rows(PERMISSIONLESS_TSV) {
            let (source, name) = (field(&cols, 0), field(&cols, 1));
            if !source.is_empty() && !name.is_empty() {
                permissionless.insert(event_key(&source.to_ascii_lowercase(), name));
            }
        }

        let mut sources = HashMap::new();
        for cols in rows(EVENT_SOURCE_PREFIXES_TSV) {
            let (host, prefix) = (field(&cols, 0), field(&cols, 1));
            let Some(host) = host_prefix(host) else {
                continue;
            };
            if !prefix.is_empty() {
                sources.insert(host, prefix);
            }
        }

        Self {
            actions,
            services,
            resource_types,
            condition_exact,
            condition_templates,
            events,
            permissionless,
            sources,
        }
    }
}
