//! The IAM policy model: raw policy JSON of every kind (identity, resource, trust, boundary,
//! SCP, RCP, session, VPC endpoint) parsed once into validated types.
//!
//! Parsing never panics; a malformed policy yields a [`PolicyError`] naming the statement (index
//! and `Sid`) and the element. Each statement keeps its original JSON so results can quote it
//! exactly as written.

mod cache;
mod condition;
mod error;
mod matcher;
mod parse;
mod pattern;
mod principal;
mod serialize;

pub use cache::PolicyCache;
pub use condition::{Condition, ConditionOp, Operator, SetQualifier};
pub use error::PolicyError;
pub use matcher::{Matcher, ServiceSet};
pub use pattern::{Pattern, PatternPart, Piece, Variable};
pub use principal::{PrincipalEntry, PrincipalKind, PrincipalSpec};

use serde_json::Value;

/// The policy language version; variables are substituted only in `2012-10-17` policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// `2012-10-17`: policy variables are resolved.
    V2012_10_17,
    /// `2008-10-17` or no `Version`: `${...}` is literal text.
    V2008_10_17,
}

/// `Allow` or `Deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Effect {
    Allow,
    Deny,
}

/// An action pattern such as `s3:Get*`, kept lowercase for case-insensitive matching.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionPattern {
    /// The pattern as written.
    pub original: String,
    /// The pattern lowercased and parsed into wildcard parts.
    pub parts: Vec<PatternPart>,
    /// The cheapest test the lowercase pattern allows, compiled once from `parts`.
    pub matcher: Matcher,
}

/// `Action` or `NotAction`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionBlock {
    Action(Vec<ActionPattern>),
    NotAction(Vec<ActionPattern>),
}

/// `Resource`, `NotResource`, or neither (role trust policies).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceBlock {
    Resource(Vec<Pattern>),
    NotResource(Vec<Pattern>),
    Absent,
}

/// `Principal`, `NotPrincipal`, or neither (identity policies, SCPs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalBlock {
    Principal(PrincipalSpec),
    NotPrincipal(PrincipalSpec),
    Absent,
}

/// One validated statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// Position in the policy's `Statement` list (0-based).
    pub index: usize,
    pub sid: Option<String>,
    pub effect: Effect,
    pub principal: PrincipalBlock,
    pub action: ActionBlock,
    /// The services `action` may name (every service for `NotAction`), to pass over a
    /// statement for another service without reading its patterns.
    pub services: ServiceSet,
    pub resource: ResourceBlock,
    pub conditions: Vec<Condition>,
    /// The statement exactly as written (key order preserved).
    pub raw: Value,
}

/// One validated policy document.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub version: Version,
    /// Whether the document carried a `Version` element at all.
    pub version_given: bool,
    pub id: Option<String>,
    pub statements: Vec<Statement>,
}

impl Policy {
    /// Parses a policy document from JSON text (URL-decoding is the caller's concern).
    pub fn parse_str(text: &str) -> Result<Self, PolicyError> {
        let value = crate::json::from_str(text).map_err(|e| PolicyError::Json(e.to_string()))?;
        Self::from_value(&value)
    }

    /// Parses a policy document from an already-decoded JSON value.
    pub fn from_value(value: &Value) -> Result<Self, PolicyError> {
        parse::policy(value)
    }

    /// Serializes the validated model back to policy JSON (used by round-trip tests and fixes).
    pub fn to_value(&self) -> Value {
        serialize::policy(self)
    }
}

pub use pattern::glob_match as pattern_glob;
pub use pattern::glob_pieces;
pub use pattern::render as pattern_render;
pub use pattern::split_arn;

/// The text of a JSON string, number or boolean (how IAM reads condition and context values).
pub fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}
