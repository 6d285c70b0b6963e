//! The Lambda form: EventBridge → diagnose → DynamoDB + SNS.
//!
//! [`Config`] reads and validates the environment once, at start; [`Handler`] holds everything
//! built once per container (the SDK configuration and its HTTP client, the DynamoDB and SNS
//! clients, the policy source with its caches) and handles one event per invocation:
//!
//! 1. the payload (an EventBridge envelope, or a bare CloudTrail record for manual invocation)
//!    goes through the record reader; a payload with no access-denied record, or one that
//!    cannot be read, is answered with an `Error` result and logged — not stored, not retried
//!    (a poison event must not loop);
//! 2. each record is diagnosed ([`crate::app::diagnose_item`]);
//! 3. the result is stored ([`ResultSink`]): a redelivered event writes nothing, a repeat of a
//!    recent finding is counted on the first one;
//! 4. new findings are published ([`Notifier`]), then marked `Notified` on their item, so a
//!    redelivery after a failed publish alerts exactly once;
//! 5. the result JSON is returned (`{"Results": [...]}` when the payload held several records).
//!
//! A failure of the store or the publish returns an error (Lambda retries the event, then sends
//! it to the on-failure destination); its `errorType` says whether a retry can help.
//!
//! Policies are read through [`AwsSource`], whose answers are cached; the cache is dropped
//! after `POLICY_CACHE_SECONDS` so a warm container sees policy changes (and does not keep a
//! transient read error).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use access_undenied_core::event::reader::{Item, RecordReader};
use access_undenied_core::explain::DiagnosisResult;
use aws_config::SdkConfig;
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::{json, Value};
use thiserror::Error;
use tracing::{debug, error, info, warn};

use crate::app::diagnose_item;
use crate::collect::aws::{AwsSettings, AwsSource};
use crate::collect::PolicySource;
use crate::sink::dynamodb::{DynamoDbSettings, DynamoDbSink};
use crate::sink::sns::SnsNotifier;
use crate::sink::{EventMeta, Notifier, ResultSink, SinkError};

/// The default of `CROSS_ACCOUNT_ROLE_NAME`.
pub const DEFAULT_CROSS_ACCOUNT_ROLE_NAME: &str = "AccessUndeniedRole";
/// The default of `RETENTION_DAYS`.
pub const DEFAULT_RETENTION_DAYS: u32 = 90;
/// The default of `DEDUPE_WINDOW_MINUTES`.
pub const DEFAULT_DEDUPE_WINDOW_MINUTES: u32 = 60;
/// The default of `POLICY_CACHE_SECONDS`.
pub const DEFAULT_POLICY_CACHE_SECONDS: u64 = 300;
/// How long a delivery's claim on sending an alert holds: longer than the function's timeout
/// (60 s in template.yaml), so a claim lapses only when its holder is gone.
pub const ALERT_LEASE_SECS: u64 = 90;
/// Every variable [`Config`] reads (`RUST_LOG` is read by [`init_logging`]).
pub const ENV_VARS: &[&str] = &[
    "RESULTS_TABLE",
    "ALERTS_TOPIC_ARN",
    "CROSS_ACCOUNT_ROLE_NAME",
    "MANAGEMENT_ACCOUNT_ROLE_ARN",
    "EXTERNAL_ID",
    "RETENTION_DAYS",
    "DEDUPE_WINDOW_MINUTES",
    "POLICY_CACHE_SECONDS",
];

/// The function's settings, from the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `RESULTS_TABLE`: the DynamoDB table (required).
    pub results_table: String,
    /// `ALERTS_TOPIC_ARN`: the SNS topic (required).
    pub alerts_topic_arn: String,
    /// `CROSS_ACCOUNT_ROLE_NAME`: assumed in every other account.
    pub cross_account_role_name: String,
    /// `MANAGEMENT_ACCOUNT_ROLE_ARN`: assumed to read Organizations (optional).
    pub management_account_role_arn: Option<String>,
    /// `EXTERNAL_ID`: `sts:ExternalId` of the cross-account role (optional).
    pub external_id: Option<String>,
    /// `RETENTION_DAYS`: days results are kept (TTL); 0 keeps them forever.
    pub retention_days: u32,
    /// `DEDUPE_WINDOW_MINUTES`: repeats of a finding within it raise no new alert; 0 = off.
    pub dedupe_window_minutes: u32,
    /// `POLICY_CACHE_SECONDS`: how long a warm container reuses the policies it read.
    pub policy_cache_seconds: u64,
}

/// Why the environment was rejected (every problem at once).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConfigError {
    #[error("invalid lambda configuration: {}", .0.join("; "))]
    Invalid(Vec<String>),
}

fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// `arn:<partition>:<service>:<region>:<account>:<rest>` split, when it has that shape.
fn arn_fields(arn: &str) -> Option<[&str; 6]> {
    let f: Vec<&str> = arn.splitn(6, ':').collect();
    match f.as_slice() {
        ["arn", p, s, r, a, rest] if !p.is_empty() && !rest.is_empty() => {
            Some(["arn", p, s, r, a, rest])
        }
        _ => None,
    }
}

fn role_name_ok(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    /// Reads the settings through `get` (an empty value counts as unset).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let get = |key: &str| {
            get(key)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let mut problems = Vec::new();

        let results_table = get("RESULTS_TABLE").unwrap_or_default();
        if results_table.is_empty() {
            problems.push("RESULTS_TABLE is required (the DynamoDB table name)".to_string());
        } else if !(3..=255).contains(&results_table.len())
            || !results_table
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
        {
            problems.push(format!(
                "RESULTS_TABLE `{results_table}` is not a DynamoDB table name (3-255 of a-z A-Z 0-9 _ . -)"
            ));
        }

        let alerts_topic_arn = get("ALERTS_TOPIC_ARN").unwrap_or_default();
        if alerts_topic_arn.is_empty() {
            problems.push("ALERTS_TOPIC_ARN is required (the SNS topic ARN)".to_string());
        } else {
            match arn_fields(&alerts_topic_arn) {
                Some([_, _, "sns", region, account, name])
                    if !region.is_empty() && is_account(account) && !name.contains(':') => {}
                _ => problems.push(format!(
                    "ALERTS_TOPIC_ARN `{alerts_topic_arn}` is not an SNS topic ARN (arn:aws:sns:<region>:<account>:<topic>)"
                )),
            }
        }

        let cross_account_role_name = get("CROSS_ACCOUNT_ROLE_NAME")
            .unwrap_or_else(|| DEFAULT_CROSS_ACCOUNT_ROLE_NAME.to_string());
        if !role_name_ok(&cross_account_role_name) {
            problems.push(format!(
                "CROSS_ACCOUNT_ROLE_NAME `{cross_account_role_name}` is not an IAM role name (1-64 of a-z A-Z 0-9 + = , . @ _ -; a name, not an ARN)"
            ));
        }

        let management_account_role_arn = get("MANAGEMENT_ACCOUNT_ROLE_ARN");
        if let Some(arn) = &management_account_role_arn {
            let ok = matches!(
                arn_fields(arn),
                Some([_, _, "iam", "", account, rest]) if is_account(account) && rest.starts_with("role/") && rest.len() > 5
            );
            if !ok {
                problems.push(format!(
                    "MANAGEMENT_ACCOUNT_ROLE_ARN `{arn}` is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)"
                ));
            }
        }

        let external_id = get("EXTERNAL_ID");
        if let Some(id) = &external_id {
            let ok = (2..=1224).contains(&id.len())
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+=,.@:/_-".contains(c));
            if !ok {
                problems.push(
                    "EXTERNAL_ID must be 2-1224 of a-z A-Z 0-9 + = , . @ : / _ -".to_string(),
                );
            }
        }

        let mut number = |key: &str, default: u64, max: u64| -> u64 {
            match get(key) {
                None => default,
                Some(v) => match v.parse::<u64>() {
                    Ok(n) if n <= max => n,
                    _ => {
                        problems.push(format!(
                            "{key} `{v}` must be a whole number from 0 to {max}"
                        ));
                        default
                    }
                },
            }
        };
        let retention_days = number("RETENTION_DAYS", u64::from(DEFAULT_RETENTION_DAYS), 36_500);
        let dedupe_window_minutes = number(
            "DEDUPE_WINDOW_MINUTES",
            u64::from(DEFAULT_DEDUPE_WINDOW_MINUTES),
            43_200,
        );
        let policy_cache_seconds =
            number("POLICY_CACHE_SECONDS", DEFAULT_POLICY_CACHE_SECONDS, 86_400);

        if !problems.is_empty() {
            return Err(ConfigError::Invalid(problems));
        }
        Ok(Config {
            results_table,
            alerts_topic_arn,
            cross_account_role_name,
            management_account_role_arn,
            external_id,
            retention_days: u32::try_from(retention_days).unwrap_or(DEFAULT_RETENTION_DAYS),
            dedupe_window_minutes: u32::try_from(dedupe_window_minutes)
                .unwrap_or(DEFAULT_DEDUPE_WINDOW_MINUTES),
            policy_cache_seconds,
        })
    }

    /// The policy source's settings.
    pub fn aws_settings(&self) -> AwsSettings {
        AwsSettings {
            profile: None,
            cross_account_role_name: self.cross_account_role_name.clone(),
            management_account_role_arn: self.management_account_role_arn.clone(),
            external_id: self.external_id.clone(),
            call_timeout: None,
        }
    }

    /// The table's settings.
    pub fn dynamodb_settings(&self) -> DynamoDbSettings {
        DynamoDbSettings {
            table: self.results_table.clone(),
            retention_days: self.retention_days,
            dedupe_window_minutes: self.dedupe_window_minutes,
        }
    }
}

/// Structured JSON logs on stdout (CloudWatch Logs Insights reads the fields). The level comes
/// from `RUST_LOG` (`info`, `debug`, or `info,access_undenied=debug`…), else from Lambda's
/// `AWS_LAMBDA_LOG_LEVEL`, else `info`; the SDK's own chatter is kept at `warn`. At `info`
/// the logs carry ids, principals, actions and outcomes — never policy documents or
/// credentials; `debug` adds the result JSON.
pub fn init_logging() {
    use tracing_subscriber::util::SubscriberInitExt;
    // A second initialisation (tests) keeps the first subscriber.
    let _ = log_subscriber(&log_level_from_env(), std::io::stdout).try_init();
}

/// The level spec [`init_logging`] uses: `RUST_LOG`, else `AWS_LAMBDA_LOG_LEVEL`, else `info`.
pub fn log_level_from_env() -> String {
    std::env::var("RUST_LOG")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .or_else(|| {
            std::env::var("AWS_LAMBDA_LOG_LEVEL")
                .ok()
                .map(|v| v.to_ascii_lowercase())
        })
        .unwrap_or_else(|| "info".to_string())
}

/// The function's log subscriber for a level spec (`info`, `debug`, or a full
/// `target=level,…` list), writing JSON lines to `writer`.
pub fn log_subscriber<W>(level: &str, writer: W) -> impl tracing::Subscriber + Send + Sync
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    use tracing_subscriber::layer::SubscriberExt;
    let spec = if level.contains('=') {
        level.to_string()
    } else {
        format!(
            "warn,access_undenied={level},access_undenied_lambda={level},lambda_runtime={level}"
        )
    };
    let targets: tracing_subscriber::filter::Targets = spec.parse().unwrap_or_else(|_| {
        tracing_subscriber::filter::Targets::new()
            .with_default(tracing::Level::WARN)
            .with_target("access_undenied", tracing::Level::INFO)
    });
    let fmt = tracing_subscriber::fmt::layer()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .with_writer(writer);
    tracing_subscriber::registry().with(targets).with(fmt)
}

/// The AWS adapter, rebuilt (caches dropped) when older than `max_age`.
pub struct AwsSources {
    sdk: SdkConfig,
    settings: AwsSettings,
    max_age: Duration,
    current: Mutex<Option<(Instant, Arc<AwsSource>)>>,
}

/// Where policies come from.
pub enum PolicySources {
    /// One source for every invocation (tests: a snapshot).
    Fixed(Arc<dyn PolicySource>),
    Aws(Box<AwsSources>),
}

impl PolicySources {
    /// The AWS adapter over `sdk`, built now so the first invocation finds it ready.
    pub fn aws(sdk: SdkConfig, settings: AwsSettings, max_age: Duration) -> PolicySources {
        let first = Arc::new(AwsSource::from_sdk_config(settings.clone(), sdk.clone()));
        PolicySources::Aws(Box::new(AwsSources {
            sdk,
            settings,
            max_age,
            current: Mutex::new(Some((Instant::now(), first))),
        }))
    }

    /// The source for this invocation.
    pub fn current(&self) -> Arc<dyn PolicySource> {
        match self {
            PolicySources::Fixed(source) => source.clone(),
            PolicySources::Aws(aws) => {
                let mut slot = aws.current.lock().unwrap_or_else(|p| p.into_inner());
                if let Some((built, source)) = slot.as_ref() {
                    if built.elapsed() < aws.max_age {
                        return source.clone();
                    }
                    debug!(
                        calls = source.calls(),
                        "policy cache expired: reading policies afresh"
                    );
                }
                let source = Arc::new(AwsSource::from_sdk_config(
                    aws.settings.clone(),
                    aws.sdk.clone(),
                ));
                *slot = Some((Instant::now(), source.clone()));
                source
            }
        }
    }
}

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
}

/// The event id of a payload the reader could not use, for the log and the answer.
fn payload_event_id(event: &Value) -> String {
    event
        .pointer("/detail/eventID")
        .or_else(|| event.get("eventID"))
        .or_else(|| event.get("id"))
        .and_then(Value::as_str)
        .unwrap_or("unknown-event")
        .to_string()
}

fn to_json(result: &DiagnosisResult) -> Value {
    serde_json::to_value(result)
        .unwrap_or_else(|e| json!({"EventId": result.event_id, "AssessmentResult": "Error", "ErrorMessage": e.to_string()}))
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
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
        }
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
        let sources = PolicySources::aws(
            sdk,
            config.aws_settings(),
            Duration::from_secs(config.policy_cache_seconds),
        );
        Handler::new(sources, Arc::new(sink), Arc::new(notifier))
    }

    /// The runtime's entry point.
    pub async fn invoke(&self, event: LambdaEvent<Value>) -> Result<Value, HandlerError> {
        debug!(request_id = %event.context.request_id, "invocation");
        self.handle(event.payload).await
    }

    /// Handles one payload: an EventBridge envelope, a bare record, or anything the record
    /// reader accepts.
    pub async fn handle(&self, event: Value) -> Result<Value, HandlerError> {
        let bytes = event.to_string().into_bytes();
        let mut reader = RecordReader::new(bytes.as_slice());
        let items: Vec<Item> = reader.by_ref().collect();
        let envelope_account = event
            .get("account")
            .and_then(Value::as_str)
            .filter(|a| is_account(a))
            .map(str::to_string);
        if items.is_empty() {
            let event_id = payload_event_id(&event);
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
        let result = diagnose_item(item, source).await;
        let diagnosed = started.elapsed();
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
        let (first_event_id, count) = match &outcome {
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
            diagnose_ms = millis(diagnosed),
            total_ms = millis(started.elapsed()),
            "diagnosed"
        );
        let value = to_json(&result);
        debug!(event_id = %meta.event_id, result = %value, "result");
        Ok(value)
    }
}
