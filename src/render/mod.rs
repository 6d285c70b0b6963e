//! Everything written for people or subscribers, from the typed result: the text lines of
//! `analyze --format text` ([`text`]), the alert SNS publishes ([`alert`], with its [`email`]
//! and [`chatbot`] forms, each saying where the verdict came from ([`evidence`])), and the lines
//! `history` prints ([`history`]), and the digest of `report` ([`report`]).

pub mod alert;
pub mod chatbot;
pub mod email;
pub mod evidence;
pub mod history;
pub mod report;
pub mod text;
mod trim;
