//! In-memory fakes of both ports, with the rules of the real adapters: [`MemorySink`]
//! (idempotent per `EventId`, repeats of a finding within the window counted on the first
//! event, the window rule of [`super::dedupe`]) and [`MemoryNotifier`] (records the alerts it
//! built; can be told to fail).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use access_undenied_core::explain::DiagnosisResult;
use async_trait::async_trait;
use serde_json::Value;

use super::dedupe::{self, OpenWindow};
use super::{now_secs, EventMeta, Finding, Notifier, ResultSink, SinkError, StoreOutcome};
use crate::render::alert::Alert;

/// One stored event.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub result: Value,
    pub meta: EventMeta,
    pub finding: Finding,
    /// `true` for the first event of its finding in the window.
    pub new_finding: bool,
    /// For repeats: the first event.
    pub first_event_id: Option<String>,
    pub notified: bool,
    /// When a delivery claimed the sending of the alert (epoch seconds), until released.
    pub alert_claimed_at: Option<i64>,
    /// Events of the finding counted on this (first) event.
    pub count: u64,
    pub last_seen: i64,
}

#[derive(Debug, Clone)]
struct FindingState {
    first_event_id: String,
    window_start: i64,
}

#[derive(Debug, Default)]
struct State {
    events: BTreeMap<String, StoredEvent>,
    findings: BTreeMap<String, FindingState>,
    /// `(account, hour start)` → alerts counted.
    budgets: BTreeMap<(String, i64), u64>,
}

/// The in-memory history.
#[derive(Debug, Default)]
pub struct MemorySink {
    dedupe_window_minutes: u32,
    state: Mutex<State>,
}

impl MemorySink {
    pub fn new(dedupe_window_minutes: u32) -> Self {
        MemorySink {
            dedupe_window_minutes,
            state: Mutex::default(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Every stored event, by `EventId`.
    pub fn events(&self) -> BTreeMap<String, StoredEvent> {
        self.lock().events.clone()
    }

    /// One stored event.
    pub fn event(&self, event_id: &str) -> Option<StoredEvent> {
        self.lock().events.get(event_id).cloned()
    }
}

#[async_trait]
impl ResultSink for MemorySink {
    async fn store(
        &self,
        result: &DiagnosisResult,
        meta: &EventMeta,
    ) -> Result<StoreOutcome, SinkError> {
        super::check_event_id(&meta.event_id)?;
        let value = serde_json::to_value(result).map_err(|e| SinkError::Encode {
            event_id: meta.event_id.clone(),
            message: e.to_string(),
        })?;
        let finding = Finding::of(result, meta);
        let t = dedupe::window_time(meta.event_epoch(), now_secs());
        let window = dedupe::window_secs(self.dedupe_window_minutes);
        let mut state = self.lock();
        if let Some(stored) = state.events.get(&meta.event_id) {
            return Ok(StoreOutcome::Duplicate {
                alert_pending: stored.new_finding && !stored.notified,
            });
        }
        let open = state.findings.get(&finding.key).map(|f| OpenWindow {
            first_event_id: &f.first_event_id,
            start: f.window_start,
        });
        let opens_window = dedupe::opens_window(open, t);
        let repeat_of = dedupe::repeat_of(window, open, &meta.event_id, t).map(str::to_string);
        let mut stored = StoredEvent {
            result: value,
            meta: meta.clone(),
            finding: finding.clone(),
            new_finding: repeat_of.is_none(),
            first_event_id: repeat_of.clone(),
            notified: false,
            alert_claimed_at: None,
            count: 1,
            last_seen: t,
        };
        let outcome = match repeat_of {
            Some(first) => {
                let count = match state.events.get_mut(&first) {
                    Some(first_event) => {
                        first_event.count += 1;
                        first_event.last_seen = first_event.last_seen.max(t);
                        first_event.count
                    }
                    None => 2,
                };
                stored.count = 0;
                StoreOutcome::Repeat {
                    first_event_id: first,
                    count,
                }
            }
            None => {
                // An event older than the finding's window leaves that window in place.
                if window > 0 && opens_window {
                    state.findings.insert(
                        finding.key.clone(),
                        FindingState {
                            first_event_id: meta.event_id.clone(),
                            window_start: t,
                        },
                    );
                }
                StoreOutcome::New
            }
        };
        state.events.insert(meta.event_id.clone(), stored);
        Ok(outcome)
    }

    async fn mark_notified(&self, event_id: &str) -> Result<(), SinkError> {
        match self.lock().events.get_mut(event_id) {
            Some(e) => {
                e.notified = true;
                Ok(())
            }
            None => Err(SinkError::Corrupt {
                event_id: event_id.to_string(),
                message: "the item to mark as notified does not exist".into(),
            }),
        }
    }

    async fn claim_alert(&self, event_id: &str, lease_secs: u64) -> Result<bool, SinkError> {
        let now = now_secs();
        let stale = now.saturating_sub(i64::try_from(lease_secs).unwrap_or(i64::MAX));
        match self.lock().events.get_mut(event_id) {
            Some(e) if e.notified => Ok(false),
            Some(e) if e.alert_claimed_at.is_some_and(|at| at > stale) => Ok(false),
            Some(e) => {
                e.alert_claimed_at = Some(now);
                Ok(true)
            }
            None => Err(SinkError::Corrupt {
                event_id: event_id.to_string(),
                message: "the item whose alert is claimed does not exist".into(),
            }),
        }
    }

    async fn release_alert(&self, event_id: &str) -> Result<(), SinkError> {
        if let Some(e) = self.lock().events.get_mut(event_id) {
            e.alert_claimed_at = None;
        }
        Ok(())
    }

    async fn count_alert(&self, account: &str, hour_start: i64) -> Result<u64, SinkError> {
        let mut state = self.lock();
        let n = state
            .budgets
            .entry((account.to_string(), hour_start))
            .or_insert(0);
        *n += 1;
        Ok(*n)
    }
}

/// The in-memory alert channel.
#[derive(Debug, Default)]
pub struct MemoryNotifier {
    sent: Mutex<Vec<(EventMeta, Alert)>>,
    failures_left: AtomicUsize,
    suppressed: Mutex<Vec<(String, u64, String)>>,
    summaries: Mutex<Vec<(String, String)>>,
}

impl MemoryNotifier {
    pub fn new() -> Self {
        Self::default()
    }

    /// A notifier whose next `failures` publishes fail (retryably), then succeed.
    pub fn failing(failures: usize) -> Self {
        MemoryNotifier {
            sent: Mutex::default(),
            failures_left: AtomicUsize::new(failures),
            suppressed: Mutex::default(),
            summaries: Mutex::default(),
        }
    }

    /// The alerts sent so far, in order.
    pub fn sent(&self) -> Vec<(EventMeta, Alert)> {
        self.sent.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The summaries sent so far: `(subject, text)`.
    pub fn summaries(&self) -> Vec<(String, String)> {
        self.summaries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The "alerts suppressed" notices sent so far: `(account, budget, hour)`.
    pub fn suppressed(&self) -> Vec<(String, u64, String)> {
        self.suppressed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

#[async_trait]
impl Notifier for MemoryNotifier {
    async fn notify_summary(
        &self,
        _cause: &str,
        subject: &str,
        text: &str,
    ) -> Result<String, SinkError> {
        let mut s = self.summaries.lock().unwrap_or_else(|p| p.into_inner());
        s.push((subject.to_string(), text.to_string()));
        Ok(format!("summary-{}", s.len()))
    }

    async fn notify_suppressed(
        &self,
        account: &str,
        budget: u64,
        hour: &str,
    ) -> Result<String, SinkError> {
        let mut s = self.suppressed.lock().unwrap_or_else(|p| p.into_inner());
        s.push((account.to_string(), budget, hour.to_string()));
        Ok(format!("suppressed-{}", s.len()))
    }

    async fn notify(
        &self,
        result: &DiagnosisResult,
        meta: &EventMeta,
    ) -> Result<String, SinkError> {
        let failing = self
            .failures_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if failing {
            return Err(SinkError::Publish {
                event_id: meta.event_id.clone(),
                message: "the in-memory notifier was told to fail".into(),
                retryable: true,
            });
        }
        let alert = crate::render::alert::build(result, meta)?;
        let mut sent = self.sent.lock().unwrap_or_else(|p| p.into_inner());
        sent.push((meta.clone(), alert));
        Ok(format!("memory-{}", sent.len()))
    }
}
