//! The Lambda form: EventBridge → diagnose → DynamoDB + SNS.
//!
//! [`Config`] reads and validates the environment once, at start; [`Handler`] holds everything
//! built once per container (the SDK configuration and its HTTP client, the DynamoDB and SNS
//! clients, the policy source with its caches) and handles one event per invocation:
//!
//! 0. the payload is admitted or rejected before any AWS call ([`admission`]): an envelope must
//!    come from an AWS source, for the account of its one record, and no denial of the
//!    function's own sessions is diagnosed; a rejected payload is logged, stored nowhere and
//!    alerts nobody;
//! 1. the payload (an EventBridge envelope, or a bare CloudTrail record for manual invocation)
//!    goes, as the text Lambda delivered ([`payload`]), through the record reader; a payload
//!    with no access-denied record, or one that cannot be read, is answered with an `Error`
//!    result and logged — not stored, not retried (a poison event must not loop);
//! 2. each record is diagnosed ([`crate::app::diagnose_item`]);
//! 3. the result is stored ([`crate::sink::ResultSink`]): a redelivered event writes nothing,
//!    a repeat of a recent finding is counted on the first one;
//! 4. new findings are published ([`crate::sink::Notifier`]), then marked `Notified` on their
//!    item, so a redelivery after a failed publish alerts exactly once;
//! 5. the result JSON is returned (`{"Results": [...]}` when the payload held several records).
//!
//! A failure of the store or the publish returns an error (Lambda retries the event, then sends
//! it to the on-failure destination); its `errorType` says whether a retry can help.
//!
//! Policies are read through [`crate::collect::aws::AwsSource`], whose answers are cached; the
//! cache is dropped after `POLICY_CACHE_SECONDS` so a warm container sees policy changes (and
//! does not keep a transient read error).
//!
//! A payload `{"Backfill": {...}}` is a batch of CloudTrail log objects from the backfill
//! state machine ([`backfill`]): stored like live events, alerting nobody, answered with counts;
//! `{"BackfillSummary": {...}}` adds a finished backfill's counts up and publishes one summary
//! ([`backfill_summary`]); `{"Digest": {"Days": n}}` (the weekly schedule) publishes the
//! Markdown digest of the last days' stored results ([`digest`]).
//!
//! The parts: [`admission`] (which payloads are acted on), [`backfill`] (a batch of log objects), [`config`] (the environment, validated), [`logging`] (JSON logs for CloudWatch),
//! [`payload`] (the invocation's text and labels), [`sources`] (the policy source and its cache
//! lifetime), [`handler`] (one invocation).

pub mod admission;
pub mod backfill;
pub mod backfill_summary;
pub mod config;
pub mod digest;
pub mod handler;
pub mod logging;
pub mod payload;
pub mod sources;

pub use self::admission::{OwnRoles, Rejection};
pub use self::config::{
    Config, ConfigError, DEFAULT_ALERT_BUDGET_PER_HOUR, DEFAULT_CROSS_ACCOUNT_ROLE_NAME,
    DEFAULT_DEDUPE_WINDOW_MINUTES, DEFAULT_POLICY_CACHE_SECONDS, DEFAULT_RETENTION_DAYS, ENV_VARS,
};
pub use self::handler::{Handler, HandlerError, ALERT_LEASE_SECS};
pub use self::logging::{init_logging, log_level_from_env, log_subscriber};
pub use self::payload::Payload;
pub use self::sources::{AwsSources, PolicySources};
