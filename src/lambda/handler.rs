//! One invocation: the payload read, each record diagnosed, stored, alerted on, and the
//! result returned; [`HandlerError`] says whether Lambda's retry can help.

use std::sync::Arc;
use std::time::{Duration, Instant};

use access_undenied_core::event::reader::{Item, RecordReader};
use access_undenied_core::explain::DiagnosisResult;
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::value::RawValue;
use serde_json::{json, Value};
use thiserror::Error;
use tracing::{debug, error, info, trace, warn};

use super::admission::{admit, OwnRoles};
use super::backfill::{self, BackfillRequest, ObjectSource};
use super::backfill_summary::{self, SummaryRequest};
use super::config::Config;
use super::digest::{self, DigestRequest};
use super::payload::{is_positional_label, Mode, Payload};
use super::sources::PolicySources;
use crate::app::diagnose_item;
use crate::collect::aws::in_event_session;
use crate::collect::{CallTally, PolicySource};
use crate::history::ResultsReader;
use crate::sink::dynamodb::DynamoDbSink;
use crate::sink::sns::SnsNotifier;
use crate::sink::{EventMeta, Notifier, ResultSink, SinkError};

/// How long a delivery's claim on sending an alert holds: longer than the function's timeout
/// (60 s in template.yaml), so a claim lapses only when its holder is gone.
pub const ALERT_LEASE_SECS: u64 = 90;

/// The most stored results one digest reads (a week of an organization's findings).
pub const DIGEST_LIMIT: usize = 100_000;

/// Why an invocation failed (the event is retried by Lambda, then sent to the on-failure
/// destination).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HandlerError {
    #[error(transparent)]
    Sink(#[from] SinkError),
}

impl HandlerError {
    /// Whether a retry can help.
    pub fn retryable(&self) -> bool {
        match self {
            HandlerError::Sink(e) => e.retryable(),
        }
    }

    /// Lambda's `errorType`: `AccessUndenied.<What>.<Retryable|Permanent>`.
    pub fn error_type(&self) -> String {
        let what = match self {
            HandlerError::Sink(SinkError::Store { .. }) => "StoreFailed",
            HandlerError::Sink(SinkError::Publish { .. }) => "PublishFailed",
            HandlerError::Sink(SinkError::Encode { .. }) => "EncodeFailed",
            HandlerError::Sink(SinkError::Corrupt { .. }) => "CorruptItem",
        };
        let kind = if self.retryable() {
            "Retryable"
        } else {
            "Permanent"
        };
        format!("AccessUndenied.{what}.{kind}")
    }
}

impl From<HandlerError> for Diagnostic {
    fn from(e: HandlerError) -> Diagnostic {
        Diagnostic {
            error_type: e.error_type(),
            error_message: e.to_string(),
        }
    }
}

/// The function.
pub struct Handler {
    sources: PolicySources,
    sink: Arc<dyn ResultSink>,
    notifier: Arc<dyn Notifier>,
    own: OwnRoles,
    /// Alerts per account and hour; 0: no budget.
    alert_budget: u64,
    /// Where the backfill mode reads CloudTrail objects from (`None`: no backfill).
    objects: Option<Arc<dyn ObjectSource>>,
    /// Where the digest mode reads stored results from (`None`: no digest).
    results: Option<Arc<dyn ResultsReader>>,
}

fn to_json(result: &DiagnosisResult) -> Value {
    serde_json::to_value(result)
        .unwrap_or_else(|e| json!({"EventId": result.event_id, "AssessmentResult": "Error", "ErrorMessage": e.to_string()}))
}

/// A duration in milliseconds to 0.01 ms (the warm diagnosis takes well under one).
/// When an event's processing started, how long its diagnosis took, and the AWS calls the
/// diagnosis made with the time spent waiting on them (`None` from a snapshot).
struct Timing {
    started: Instant,
    diagnosed: Duration,
    aws: Option<CallTally>,
}

fn millis(d: Duration) -> f64 {
    (d.as_secs_f64() * 100_000.0).round() / 100.0
}

impl Handler {
    pub fn new(
        sources: PolicySources,
        sink: Arc<dyn ResultSink>,
        notifier: Arc<dyn Notifier>,
    ) -> Handler {
        Handler {
            sources,
            sink,
            notifier,
            own: OwnRoles::default(),
            alert_budget: 0,
            objects: None,
            results: None,
        }
    }

    /// Enables the digest mode, reading stored results from `results` (the table).
    pub fn with_results(mut self, results: Arc<dyn ResultsReader>) -> Handler {
        self.results = Some(results);
        self
    }

    /// Enables the backfill mode, reading CloudTrail objects from `objects` (S3).
    pub fn with_objects(mut self, objects: Arc<dyn ObjectSource>) -> Handler {
        self.objects = Some(objects);
        self
    }

    /// At most `per_hour` alerts per account and hour (0: no budget): past it, findings are
    /// stored and counted, the account's one "alerts suppressed" notice goes out, no alert.
    pub fn with_alert_budget(mut self, per_hour: u64) -> Handler {
        self.alert_budget = per_hour;
        self
    }

    /// The function's own roles, whose denied calls are never diagnosed.
    pub fn with_own_roles(mut self, own: OwnRoles) -> Handler {
        self.own = own;
        self
    }

    /// The production wiring: one SDK configuration, DynamoDB and SNS clients, the AWS policy
    /// source — built once per container.
    pub async fn from_config(config: &Config) -> Handler {
        let sdk = crate::aws::load_sdk_config(None).await;
        let sink = DynamoDbSink::new(
            aws_sdk_dynamodb::Client::new(&sdk),
            config.dynamodb_settings(),
        );
        let notifier = SnsNotifier::new(
            aws_sdk_sns::Client::new(&sdk),
            config.alerts_topic_arn.clone(),
        );
        let objects = Arc::new(crate::input::s3::client(&sdk));
        let results = Arc::new(crate::history::TableReader {
            client: aws_sdk_dynamodb::Client::new(&sdk),
            table: config.dynamodb_settings().table,
            limit: DIGEST_LIMIT,
        });
        let sources = PolicySources::aws(
            sdk,
            config.aws_settings(),
            Duration::from_secs(config.policy_cache_seconds),
        );
        Handler::new(sources, Arc::new(sink), Arc::new(notifier))
            .with_own_roles(config.own_roles())
            .with_alert_budget(config.alert_budget_per_hour)
            .with_objects(objects)
            .with_results(results)
    }

    /// The runtime's entry point: the payload as Lambda delivered it, unparsed.
    pub async fn invoke(&self, event: LambdaEvent<Box<RawValue>>) -> Result<Value, HandlerError> {
        debug!(request_id = %event.context.request_id, "invocation");
        self.handle(event.payload).await
    }

    /// Handles one payload: an EventBridge envelope, a bare record, or anything the record
    /// reader accepts. The reader reads the payload's own text: a key named twice anywhere in
    /// a record makes that record an `Error`, never read last-key-wins.
    pub async fn handle(&self, payload: impl Into<Payload>) -> Result<Value, HandlerError> {
        let payload = payload.into();
        match Mode::of(&payload) {
            Some(Mode::Backfill(v)) => return self.backfill(BackfillRequest::from_value(v)).await,
            Some(Mode::BackfillSummary(v)) => {
                let made = self.backfill_summary(SummaryRequest::from_value(v)).await;
                return self.publish("BackfillSummary", made).await;
            }
            Some(Mode::Digest(v)) => {
                let made = self.digest(DigestRequest::from_value(v)).await;
                return self.publish("Digest", made).await;
            }
            None => {}
        }
        let mut reader = RecordReader::new(payload.as_bytes());
        let mut items: Vec<Item> = reader.by_ref().collect();
        let labels = payload.labels();
        if let [Item::Error { event_id, .. }] = items.as_mut_slice() {
            // One record the reader could not even name (e.g. unreadable JSON): answered under
            // the payload's own event id, so the answer and the log say which event it was.
            if is_positional_label(event_id) {
                if let Some(id) = labels.event_id() {
                    *event_id = id;
                }
            }
        }
        let envelope_account = labels.account();
        if let Err(why) = admit(&labels, items.len(), &self.own) {
            let event_id = labels
                .event_id()
                .unwrap_or_else(|| "unknown-event".to_string());
            warn!(event_id = %event_id, outcome = "Rejected", reason = %why, "payload rejected: not diagnosed, not stored, no alert");
            return Ok(json!({"EventId": event_id, "Rejected": why.to_string()}));
        }
        if items.is_empty() {
            let event_id = labels
                .event_id()
                .unwrap_or_else(|| "unknown-event".to_string());
            let message = format!(
                "no access-denied record in the event ({} record(s) read, {} not access denials): nothing to diagnose",
                reader.counts.records, reader.counts.skipped
            );
            warn!(event_id = %event_id, outcome = "Skipped", "{message}");
            return Ok(to_json(&DiagnosisResult::error(&event_id, message)));
        }
        let source = self.sources.current();
        let mut results = Vec::with_capacity(items.len());
        for item in &items {
            results.push(
                self.process(item, source.as_ref(), envelope_account.as_deref())
                    .await?,
            );
        }
        if results.len() == 1 {
            Ok(results.remove(0))
        } else {
            Ok(json!({ "Results": results }))
        }
    }

    /// A backfill batch (Step Functions' Distributed Map): stored, never alerted; the counts
    /// are the answer. A request that cannot be read is answered with why and not retried.
    async fn backfill(
        &self,
        request: Result<BackfillRequest, String>,
    ) -> Result<Value, HandlerError> {
        let request = match request {
            Ok(r) => r,
            Err(why) => {
                warn!(outcome = "Rejected", reason = %why, "backfill request refused");
                return Ok(json!({"Backfill": {"Error": why}}));
            }
        };
        let Some(objects) = &self.objects else {
            return Ok(
                json!({"Backfill": {"Error": "this handler reads no objects (no S3 client)"}}),
            );
        };
        let source = self.sources.current();
        let counts = backfill::run(&request, objects.as_ref(), source.as_ref(), self.sink.as_ref())
            .await
            .map_err(|e| {
                error!(error = %e, retryable = e.retryable(), "backfill: cannot store a result: the batch will be retried");
                HandlerError::from(e)
            })?;
        Ok(json!({ "Backfill": counts }))
    }

    /// The backfill's last step: the batches' counts added up, as `(subject, text, answer)`.
    async fn backfill_summary(
        &self,
        request: Result<SummaryRequest, String>,
    ) -> Result<(String, String, Value), String> {
        let request = request?;
        let objects = self
            .objects
            .as_ref()
            .ok_or("this handler reads no objects (no S3 client)")?;
        let summary = backfill_summary::summarize(&request, objects.as_ref()).await?;
        let (subject, text) = backfill_summary::message(&summary);
        let answer = serde_json::to_value(&summary).map_err(|e| e.to_string())?;
        Ok((subject, text, answer))
    }

    /// The scheduled digest of the last days' stored results, as `(subject, Markdown,
    /// answer)`.
    async fn digest(
        &self,
        request: Result<DigestRequest, String>,
    ) -> Result<(String, String, Value), String> {
        let request = request?;
        let results = self
            .results
            .as_ref()
            .ok_or("this handler reads no results table")?;
        let (subject, markdown, read) = digest::build(&request, results.as_ref()).await?;
        let answer = json!({"Subject": subject, "Results": read});
        Ok((subject, markdown, answer))
    }

    /// Publishes what a mode made (`BackfillSummary`, `Digest`) as one message to the topic and
    /// answers `{"<mode>": {…, "MessageId"}}`; what could not be made is answered with why
    /// (not retried), a failed publish fails the invocation (retried).
    async fn publish(
        &self,
        mode: &str,
        made: Result<(String, String, Value), String>,
    ) -> Result<Value, HandlerError> {
        let (subject, text, mut answer) = match made {
            Ok(m) => m,
            Err(why) => {
                warn!(mode, outcome = "Rejected", reason = %why, "not made");
                return Ok(json!({ mode: {"Error": why} }));
            }
        };
        let message_id = self
            .notifier
            .notify_summary(mode, &subject, &text)
            .await
            .map_err(|e| {
                error!(mode, error = %e, retryable = e.retryable(), "cannot publish");
                HandlerError::from(e)
            })?;
        info!(mode, "published");
        answer["MessageId"] = Value::from(message_id);
        Ok(json!({ mode: answer }))
    }

    /// One record: diagnose, store, alert.
    async fn process(
        &self,
        item: &Item,
        source: &dyn PolicySource,
        envelope_account: Option<&str>,
    ) -> Result<Value, HandlerError> {
        let started = Instant::now();
        let ev = match item {
            Item::Error { event_id, error } => {
                // A poison record: answered, logged, not stored and not retried.
                warn!(event_id = %event_id, error = %error, outcome = "Unreadable", "unreadable record: not diagnosed, not retried");
                return Ok(to_json(&DiagnosisResult::error(
                    event_id,
                    error.to_string(),
                )));
            }
            Item::Denial(ev) => ev,
        };
        let mut meta = EventMeta::from_event(ev);
        if meta.account_id.is_none() {
            meta.account_id = envelope_account.map(str::to_string);
        }
        // Every cross-account session this diagnosis opens is named after the event.
        let before = source.tally();
        let result = in_event_session(&meta.event_id, diagnose_item(item, source)).await;
        let timing = Timing {
            started,
            diagnosed: started.elapsed(),
            aws: source
                .tally()
                .zip(before)
                .map(|(now, then)| now.since(then)),
        };
        let outcome = self.sink.store(&result, &meta).await.map_err(|e| {
            error!(event_id = %meta.event_id, error = %e, retryable = e.retryable(), "cannot store the result");
            HandlerError::from(e)
        })?;
        let mut alerted = false;
        if outcome.should_alert() {
            // One sender per alert, even when EventBridge delivers the event twice at once.
            let claimed = self
                .sink
                .claim_alert(&meta.event_id, ALERT_LEASE_SECS)
                .await
                .map_err(|e| {
                    error!(event_id = %meta.event_id, error = %e, retryable = e.retryable(), "cannot claim the alert");
                    HandlerError::from(e)
                })?;
            if !claimed {
                // Another delivery is sending it: retried, so that the alert is not lost if
                // that delivery fails (its claim then lapses or is given back).
                warn!(event_id = %meta.event_id, "another delivery is sending this alert: retried later");
                return Err(HandlerError::from(SinkError::Publish {
                    event_id: meta.event_id.clone(),
                    message: "another delivery of this event is sending the alert".into(),
                    retryable: true,
                }));
            }
            if self.over_budget(&meta).await? {
                // Deliberately not sent: recorded as handled, so a redelivery does not send it.
                if let Err(e) = self.sink.mark_notified(&meta.event_id).await {
                    warn!(event_id = %meta.event_id, error = %e, "suppressed alert not recorded");
                }
                return Ok(self.finish(result, &meta, &outcome, false, &timing));
            }
            let sent = self.notifier.notify(&result, &meta).await;
            let message_id = match sent {
                Ok(id) => id,
                Err(e) => {
                    error!(event_id = %meta.event_id, error = %e, retryable = e.retryable(), "cannot publish the alert: the event will be retried");
                    if let Err(release) = self.sink.release_alert(&meta.event_id).await {
                        warn!(event_id = %meta.event_id, error = %release, "claim not given back: it lapses after {ALERT_LEASE_SECS} s");
                    }
                    return Err(HandlerError::from(e));
                }
            };
            alerted = true;
            debug!(event_id = %meta.event_id, message_id = %message_id, "alert published");
            if let Err(e) = self.sink.mark_notified(&meta.event_id).await {
                // Not retried: the alert went out; a retry would send it twice.
                warn!(event_id = %meta.event_id, error = %e, "alert sent but not recorded as sent");
            }
        }
        Ok(self.finish(result, &meta, &outcome, alerted, &timing))
    }

    /// Whether this alert is past its account's hourly budget; sends the account's one
    /// "alerts suppressed" notice when it is the first one past.
    async fn over_budget(&self, meta: &EventMeta) -> Result<bool, HandlerError> {
        let Some(account) = meta.account_id.as_deref().filter(|_| self.alert_budget > 0) else {
            return Ok(false);
        };
        let now = crate::sink::now_secs();
        let hour_start = now - now.rem_euclid(3600);
        let n = self
            .sink
            .count_alert(account, hour_start)
            .await
            .map_err(|e| {
                error!(event_id = %meta.event_id, error = %e, retryable = e.retryable(), "cannot count the alert");
                HandlerError::from(e)
            })?;
        if n <= self.alert_budget {
            return Ok(false);
        }
        if n == self.alert_budget + 1 {
            let hour = crate::sink::format_time(hour_start);
            match self
                .notifier
                .notify_suppressed(account, self.alert_budget, &hour)
                .await
            {
                Ok(_) => {
                    warn!(account_id = %account, budget = self.alert_budget, "alert budget reached: further alerts of this account this hour are suppressed")
                }
                Err(e) => {
                    warn!(account_id = %account, error = %e, "alert budget reached, and the notice could not be sent")
                }
            }
        }
        info!(event_id = %meta.event_id, account_id = %account, count = n, outcome = "AlertSuppressed", "alert suppressed by the account's hourly budget");
        Ok(true)
    }

    /// Logs the event's outcome and gives its result JSON.
    fn finish(
        &self,
        result: DiagnosisResult,
        meta: &EventMeta,
        outcome: &crate::sink::StoreOutcome,
        alerted: bool,
        timing: &Timing,
    ) -> Value {
        let (first_event_id, count) = match outcome {
            crate::sink::StoreOutcome::Repeat {
                first_event_id,
                count,
            } => (Some(first_event_id.as_str()), Some(*count)),
            _ => (None, None),
        };
        let action = result
            .request
            .first()
            .map(|r| r.action.as_str())
            .unwrap_or_default();
        info!(
            event_id = %meta.event_id,
            assessment_result = result.assessment_result.as_str(),
            outcome = outcome.as_str(),
            alerted,
            principal = meta.principal.as_deref().unwrap_or_default(),
            action,
            account_id = meta.account_id.as_deref().unwrap_or_default(),
            event_source = meta.event_source.as_deref().unwrap_or_default(),
            event_name = meta.event_name.as_deref().unwrap_or_default(),
            first_event_id,
            count,
            fix_verified = result.fix_verified,
            diagnose_ms = millis(timing.diagnosed),
            aws_calls = timing.aws.map(|t| t.calls),
            aws_wait_ms = timing.aws.map(|t| millis(t.waiting)),
            total_ms = millis(timing.started.elapsed()),
            "diagnosed"
        );
        let value = to_json(&result);
        // The full result quotes policy statements: only at `trace`, never at `debug` or above.
        trace!(event_id = %meta.event_id, result = %value, "result");
        value
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::collect::snapshot::{Snapshot, SnapshotSource};
    use crate::sink::memory::{MemoryNotifier, MemorySink};

    const ENVELOPE: &str = include_str!("../../events/eventbridge-kms-decrypt.json");
    const EVENT_ID: &str = "11111111-0000-4000-8000-000000000003";

    fn handler() -> (Handler, Arc<MemorySink>, Arc<MemoryNotifier>) {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("events/sample-snapshot.json");
        let snapshot = Snapshot::load(&path).unwrap();
        let sink = Arc::new(MemorySink::new(60));
        let notifier = Arc::new(MemoryNotifier::new());
        let handler = Handler::new(
            PolicySources::Fixed(Arc::new(SnapshotSource { snapshot })),
            sink.clone(),
            notifier.clone(),
        );
        (handler, sink, notifier)
    }

    #[tokio::test]
    async fn the_payload_is_read_as_delivered() {
        let (h, sink, notifier) = handler();
        let out = h.handle(ENVELOPE).await.unwrap();
        assert_eq!(
            out["AssessmentResult"], "Missing allow in a resource-based policy",
            "{out}"
        );
        assert_eq!(out["EventId"], EVENT_ID);
        assert!(sink.event(EVENT_ID).is_some());
        assert_eq!(notifier.sent().len(), 1);
    }

    #[tokio::test]
    async fn a_key_named_twice_in_the_payload_is_that_events_error() {
        let (h, sink, notifier) = handler();
        // Read last-key-wins this would be the Decrypt denial of the test above.
        let doubled = ENVELOPE.replacen(
            r#""eventName": "Decrypt","#,
            r#""eventName": "Encrypt", "eventName": "Decrypt","#,
            1,
        );
        assert_ne!(doubled, ENVELOPE);
        let out = h.handle(doubled.as_str()).await.unwrap();
        assert_eq!(out["AssessmentResult"], "Error", "{out}");
        let message = out["ErrorMessage"].as_str().unwrap();
        assert!(message.contains("duplicate key `eventName`"), "{message}");
        // Named after the event the payload carries, not a position in it.
        assert_eq!(out["EventId"], EVENT_ID);
        // A poison event: not stored, nobody alerted.
        assert!(sink.events().is_empty());
        assert!(notifier.sent().is_empty());

        // The runtime's own payload type keeps the duplicate too.
        let raw: Box<RawValue> = serde_json::from_str(&doubled).unwrap();
        let out = h.handle(raw).await.unwrap();
        assert_eq!(out["AssessmentResult"], "Error", "{out}");
        assert!(sink.events().is_empty());

        // What taking the payload as a parsed `Value` did: the last `eventName` won, and the
        // event was diagnosed as the Decrypt denial.
        let parsed: Value = serde_json::from_str(&doubled).unwrap();
        let out = h.handle(parsed).await.unwrap();
        assert_eq!(
            out["AssessmentResult"], "Missing allow in a resource-based policy",
            "{out}"
        );
    }
}
