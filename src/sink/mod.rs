//! Where diagnosed events go: the [`ResultSink`] port (the history, with idempotency and
//! dedupe) and the [`Notifier`] port (the alert), with their adapters.
//!
//! - [`dynamodb::DynamoDbSink`]: one item per `EventId` holding the full result, conditional
//!   writes so a redelivered event rewrites nothing, and a finding item per distinct finding
//!   that counts repeats within the dedupe window.
//! - [`sns::SnsNotifier`]: one publish per new finding (`MessageStructure=json`: the result for
//!   machines, readable text for email, AWS Chatbot's custom notification for Slack); the
//!   bodies are built by [`crate::render::alert`].
//! - [`memory::MemorySink`] / [`memory::MemoryNotifier`]: in-memory fakes with the same rules
//!   (the dedupe window is one pure rule for both sinks: [`dedupe`]).
//!
//! The alert is sent after the store and recorded on the item (`Notified`): a redelivery of an
//! event whose alert failed still alerts, exactly once.

pub mod dedupe;
pub mod dynamodb;
pub mod memory;
pub mod sns;

use std::time::{SystemTime, UNIX_EPOCH};

use access_undenied_core::event::{AccessDeniedEvent, PrincipalInfo};
use access_undenied_core::explain::DiagnosisResult;
use async_trait::async_trait;
use aws_smithy_types::date_time::Format;
use aws_smithy_types::DateTime;
use serde::Serialize;
use sha2::{Digest, Sha256};
use thiserror::Error;

/// What the event says about itself, beside the result: the fields the history is queried by
/// and the alert shows.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EventMeta {
    pub event_id: String,
    /// CloudTrail's `eventTime` (ISO 8601).
    pub event_time: Option<String>,
    /// `kms.amazonaws.com`.
    pub event_source: Option<String>,
    pub event_name: Option<String>,
    /// The account the denial was recorded in (`recipientAccountId`, else the envelope's
    /// `account`, else the caller's account).
    pub account_id: Option<String>,
    /// The caller as the event names it (ARN, or `<account>/<unique id>` when unresolved).
    pub principal: Option<String>,
    pub region: Option<String>,
    pub error_code: Option<String>,
}

impl EventMeta {
    /// The fields of a validated access-denied event.
    pub fn from_event(ev: &AccessDeniedEvent) -> EventMeta {
        let (principal, principal_account) = match &ev.principal {
            PrincipalInfo::Known(p) => (
                p.arn()
                    .or_else(|| p.federated_provider())
                    .or_else(|| p.service())
                    .map(str::to_string),
                p.account.clone(),
            ),
            PrincipalInfo::Unresolved {
                account,
                principal_id,
            } => (
                Some(format!("{account}/{principal_id}")),
                Some(account.clone()),
            ),
        };
        EventMeta {
            event_id: ev.event_id.clone(),
            event_time: ev.event_time.clone(),
            event_source: Some(ev.event_source.clone()),
            event_name: Some(ev.event_name.clone()),
            account_id: ev
                .recipient_account
                .clone()
                .filter(|a| !a.is_empty())
                .or(principal_account),
            principal,
            region: ev.region.clone(),
            error_code: Some(ev.error_code.clone()),
        }
    }

    /// `eventTime` in seconds since the epoch, when it parses.
    pub fn event_epoch(&self) -> Option<i64> {
        self.event_time.as_deref().and_then(parse_time)
    }
}

/// Refuses an event id in the findings' key namespace: event and finding items share the key
/// space, so such an id would overwrite a finding (and fail every later store of it). CloudTrail
/// ids are UUIDs. Both sinks call it before storing.
pub(crate) fn check_event_id(event_id: &str) -> Result<(), SinkError> {
    let prefix = dynamodb::FINDING_PREFIX;
    if event_id.starts_with(prefix) {
        return Err(SinkError::Encode {
            event_id: event_id.to_string(),
            message: format!("event id starts with `{prefix}`, the findings' key prefix"),
        });
    }
    Ok(())
}

/// Seconds since the epoch of an ISO 8601 / RFC 3339 time.
pub fn parse_time(text: &str) -> Option<i64> {
    DateTime::from_str(text, Format::DateTime)
        .ok()
        .map(|t| t.secs())
}

/// ISO 8601 of seconds since the epoch.
pub fn format_time(secs: i64) -> String {
    DateTime::from_secs(secs)
        .fmt(Format::DateTime)
        .unwrap_or_else(|_| secs.to_string())
}

/// The UTC day (`YYYY-MM-DD`) of seconds since the epoch.
pub fn format_day(secs: i64) -> String {
    format_time(secs).chars().take(10).collect()
}

/// Now, in seconds since the epoch.
pub fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// What makes two denials "the same finding": the account they were recorded in, the
/// principal, the action(s), the resource(s) and the `AssessmentResult`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Finding {
    pub principal: String,
    pub actions: Vec<String>,
    pub resources: Vec<String>,
    pub assessment_result: String,
    /// A hex SHA-256 (128 bits) of the above, the account included.
    pub key: String,
}

impl Finding {
    /// The finding of a result: the evaluated requests' principal, actions and resources;
    /// the event's caller and `<service>:<eventName>` when nothing was evaluated.
    pub fn of(result: &DiagnosisResult, meta: &EventMeta) -> Finding {
        let principal = result
            .request
            .iter()
            .find_map(|r| r.principal.clone())
            .or_else(|| meta.principal.clone())
            .unwrap_or_default();
        let mut actions: Vec<String> = result.request.iter().map(|r| r.action.clone()).collect();
        if actions.is_empty() {
            if let (Some(source), Some(name)) = (&meta.event_source, &meta.event_name) {
                let service = source.split('.').next().unwrap_or(source);
                actions.push(format!("{service}:{name}"));
            }
        }
        let mut resources: Vec<String> =
            result.request.iter().map(|r| r.resource.clone()).collect();
        actions.sort();
        actions.dedup();
        resources.sort();
        resources.dedup();
        let assessment_result = result.assessment_result.as_str().to_string();
        let mut hasher = Sha256::new();
        // Per source account: a finding of one account never counts as a repeat of another's.
        let account = meta.account_id.as_deref().unwrap_or("");
        for part in [
            account,
            principal.as_str(),
            &actions.join(","),
            &resources.join(","),
            &assessment_result,
        ] {
            hasher.update(part.as_bytes());
            hasher.update([0u8]);
        }
        let digest = hasher.finalize();
        let key = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
        Finding {
            principal,
            actions,
            resources,
            assessment_result,
            key,
        }
    }
}

/// What storing an event did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreOutcome {
    /// The first event of this finding (in the window): alert.
    New,
    /// This `EventId` was stored before: nothing was written. `alert_pending` is true when it
    /// was a new finding whose alert was never confirmed sent (send it now).
    Duplicate { alert_pending: bool },
    /// The same finding as `first_event_id` within the dedupe window: its `Count` (now
    /// `count`) and `LastSeen` were updated instead of raising a new alert.
    Repeat { first_event_id: String, count: u64 },
}

impl StoreOutcome {
    /// Whether an alert is due.
    pub fn should_alert(&self) -> bool {
        matches!(
            self,
            StoreOutcome::New
                | StoreOutcome::Duplicate {
                    alert_pending: true
                }
        )
    }

    /// `New`, `Duplicate` or `Repeat` (for logs).
    pub fn as_str(&self) -> &'static str {
        match self {
            StoreOutcome::New => "New",
            StoreOutcome::Duplicate { .. } => "Duplicate",
            StoreOutcome::Repeat { .. } => "Repeat",
        }
    }
}

/// Why a result could not be stored or published.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SinkError {
    #[error("cannot store event {event_id} in table {table}: {message}")]
    Store {
        event_id: String,
        table: String,
        message: String,
        retryable: bool,
    },
    #[error("cannot publish the alert of event {event_id}: {message}")]
    Publish {
        event_id: String,
        message: String,
        retryable: bool,
    },
    #[error("cannot encode the result of event {event_id}: {message}")]
    Encode { event_id: String, message: String },
    #[error("stored item of event {event_id} is malformed: {message}")]
    Corrupt { event_id: String, message: String },
}

impl SinkError {
    /// Whether trying again later can help (throttling, timeouts, 5xx, conflicts).
    pub fn retryable(&self) -> bool {
        match self {
            SinkError::Store { retryable, .. } | SinkError::Publish { retryable, .. } => *retryable,
            SinkError::Encode { .. } | SinkError::Corrupt { .. } => false,
        }
    }
}

/// The history port.
#[async_trait]
pub trait ResultSink: Send + Sync {
    /// Stores the result of one event: idempotent per `EventId`, counting repeats of a
    /// finding within the dedupe window on the first finding's item.
    async fn store(
        &self,
        result: &DiagnosisResult,
        meta: &EventMeta,
    ) -> Result<StoreOutcome, SinkError>;

    /// Records that the alert of `event_id` was sent.
    async fn mark_notified(&self, event_id: &str) -> Result<(), SinkError>;

    /// Claims the sending of `event_id`'s alert for `lease_secs` seconds: `true` when this
    /// delivery may send it — not sent yet, and no other delivery holds an unexpired claim.
    /// Two deliveries of one event running at once thus publish one alert between them.
    async fn claim_alert(&self, event_id: &str, lease_secs: u64) -> Result<bool, SinkError>;

    /// Gives a claim back after a failed publish, so that the retry need not wait for the
    /// lease to lapse.
    async fn release_alert(&self, event_id: &str) -> Result<(), SinkError>;

    /// Counts one alert of `account` in the hour starting at `hour_start` (epoch seconds) and
    /// returns how many that hour has counted, this one included; 0 when the sink keeps no
    /// count (no budget applies).
    async fn count_alert(&self, _account: &str, _hour_start: i64) -> Result<u64, SinkError> {
        Ok(0)
    }
}

/// The alert port.
#[async_trait]
pub trait Notifier: Send + Sync {
    /// Sends the alert of one new finding; returns the message id.
    async fn notify(&self, result: &DiagnosisResult, meta: &EventMeta)
        -> Result<String, SinkError>;

    /// Sends the one notice that `account` used its hourly alert budget (`budget` alerts in the
    /// hour from `hour`): its further findings that hour are stored and counted, not alerted.
    async fn notify_suppressed(
        &self,
        _account: &str,
        _budget: u64,
        _hour: &str,
    ) -> Result<String, SinkError> {
        Ok(String::new())
    }

    /// Sends one summary (a backfill's, a digest): `subject` and plain `text`; `cause` is the
    /// message's `Cause` attribute (`BackfillSummary`, `Digest`).
    async fn notify_summary(
        &self,
        _cause: &str,
        _subject: &str,
        _text: &str,
    ) -> Result<String, SinkError> {
        Ok(String::new())
    }
}

/// The message (with the HTTP status) and retryability of an SDK error, for a [`SinkError`].
pub(crate) fn describe_sdk_error<E>(
    err: &aws_smithy_runtime_api::client::result::SdkError<
        E,
        aws_smithy_runtime_api::client::orchestrator::HttpResponse,
    >,
) -> (String, bool)
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata
        + std::error::Error
        + Send
        + Sync
        + 'static,
{
    let failure = crate::aws::SdkFailure::from_sdk(err);
    (failure.describe_with_status(), failure.retryable())
}

#[cfg(test)]
mod tests {
    use super::*;
    use access_undenied_core::explain::DiagnosisResult;

    fn meta() -> EventMeta {
        EventMeta {
            event_id: "e-1".into(),
            event_time: Some("2026-11-20T10:00:00Z".into()),
            event_source: Some("kms.amazonaws.com".into()),
            event_name: Some("Decrypt".into()),
            principal: Some("arn:aws:iam::111122223333:user/bob".into()),
            ..EventMeta::default()
        }
    }

    #[test]
    fn finding_of_an_unevaluated_result_uses_the_event() {
        let r = DiagnosisResult::error("e-1", "boom");
        let f = Finding::of(&r, &meta());
        assert_eq!(f.principal, "arn:aws:iam::111122223333:user/bob");
        assert_eq!(f.actions, vec!["kms:Decrypt".to_string()]);
        assert!(f.resources.is_empty());
        assert_eq!(f.assessment_result, "Error");
        assert_eq!(f.key.len(), 32);
        let mut other = meta();
        other.event_id = "e-2".into();
        assert_eq!(
            Finding::of(&r, &other).key,
            f.key,
            "the event id is not part of it"
        );
        other.principal = Some("arn:aws:iam::111122223333:user/alice".into());
        assert_ne!(Finding::of(&r, &other).key, f.key);
        // The same denial recorded in another account is another finding.
        let mut elsewhere = meta();
        elsewhere.account_id = Some("444455556666".into());
        assert_ne!(Finding::of(&r, &elsewhere).key, f.key);
    }

    #[test]
    fn times_round_trip() {
        let t = parse_time("2026-11-20T10:00:00Z").unwrap();
        assert_eq!(t, 1_795_168_800);
        assert_eq!(format_time(t), "2026-11-20T10:00:00Z");
        assert_eq!(parse_time("yesterday"), None);
        assert!(meta().event_epoch().is_some());
    }
}
