//! Errors of policy parsing; each names where in the document the problem is.

use thiserror::Error;

/// Why a policy document could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PolicyError {
    #[error("policy is not valid json: {0}")]
    Json(String),
    #[error("policy must be a json object")]
    NotAnObject,
    #[error("policy has no `Statement` element")]
    MissingStatement,
    #[error("policy `Statement` must be an object or a list of objects")]
    BadStatementList,
    #[error("unsupported policy `Version` `{0}`: expected `2012-10-17` or `2008-10-17`")]
    BadVersion(String),
    #[error("policy `Id` must be a string")]
    BadId,
    #[error("statement {index}{sid}: element `{element}`: {reason}")]
    Statement {
        index: usize,
        /// ` (Sid "...")` or empty.
        sid: String,
        element: String,
        reason: String,
    },
}

impl PolicyError {
    pub(crate) fn at(
        index: usize,
        sid: Option<&str>,
        element: &str,
        reason: impl Into<String>,
    ) -> Self {
        PolicyError::Statement {
            index,
            sid: sid.map(|s| format!(" (Sid `{s}`)")).unwrap_or_default(),
            element: element.to_string(),
            reason: reason.into(),
        }
    }
}
