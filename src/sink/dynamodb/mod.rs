//! The DynamoDB adapter of [`ResultSink`]: the queryable history of diagnosed events.
//!
//! One table, partition key `EventId` (string), two kinds of item, both mapped in [`item`]:
//!
//! - the **event item**, one per diagnosed event: `Result` (the full result JSON), and for
//!   queries `Principal`, `AccountId`, `AssessmentResult`, `EventTime` (the keys of the
//!   `ByPrincipal` and `ByAccount` indexes, sorted by `EventTime`), `EventSource`, `EventName`,
//!   `Region`, `ErrorCode`, `Actions`, `Resources`, `FindingKey`; `FindingState` (`New` or
//!   `Repeat`, with `FirstEventId`), `Notified` (the alert was sent), `AlertClaimedAt` (epoch
//!   seconds: a delivery is sending the alert; conditional, so two deliveries of one event
//!   running at once publish once), `Count` and `LastSeen`
//!   (repeats of its finding, on the first event), `StoredAt`, and `ExpiresAt` (the TTL
//!   attribute, `RETENTION_DAYS` after storing; absent when retention is 0);
//! - the **finding item** `FINDING#<FindingKey>`: the first event of the finding in the
//!   current window (`FirstEventId`, `WindowStart` in epoch seconds), `Count`, `LastSeen`
//!   (with `LastSeenAt` in epoch seconds: it only moves forward), `LastEventId` (the event
//!   of `LastSeen`). It expires a day after its window.
//!
//! Every write is one transaction: the event item is put with `attribute_not_exists(EventId)`
//! (a redelivered event writes nothing: [`StoreOutcome::Duplicate`]) together with either a new
//! finding item (conditioned on the finding item read just before, so two concurrent first
//! events cannot both win) or the repeat counters (conditioned on the same first event, so a
//! window that restarted meanwhile is seen), or — for an event a window or more before the
//! finding's window — a condition check that the finding item still holds that window. A lost
//! race (a `ConditionalCheckFailed` or `TransactionConflict` on the finding's part) is read
//! again and retried, [`ATTEMPTS`] times in all; then the store fails retryably, having
//! written nothing.
//!
//! The window is measured in event time (`eventTime`, else now), by the rule of
//! [`super::dedupe`]: a repeat is an event less than `DEDUPE_WINDOW_MINUTES` from the finding's
//! first event, after it or before it; counting it moves `LastSeen` only forward. An event a
//! window or more after the first event opens the next window (the finding item is replaced);
//! one a window or more before it is new (stored as `New`, alerts) but leaves the finding item
//! — the newer window, its start and its counts — untouched. 0 turns dedupe off.
//!
//! When the first event's item is gone (expired or deleted) while its window is open, a repeat
//! is still a repeat: it is counted on the finding item only, and the first event's item is not
//! recreated. Should the first event itself be redelivered, its item is stored again as the
//! window's first event with the window's `Count` and `LastSeen`, and the finding item is left
//! as it is; it is `New` (its `Notified` record went with the lost item, so it alerts again:
//! at least once).

pub mod item;

use access_undenied_core::explain::DiagnosisResult;
use async_trait::async_trait;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, Put, TransactWriteItem, Update};

use self::item::{attr, n, s, EventItem, FindingItem, FindingState, Item, StoredResult};
use super::dedupe::{self, OpenWindow};
use super::{
    describe_sdk_error, format_time, now_secs, EventMeta, Finding, ResultSink, SinkError,
    StoreOutcome,
};

pub use self::item::FINDING_PREFIX;

/// The name of the principal + time index.
pub const BY_PRINCIPAL_INDEX: &str = "ByPrincipal";
/// The name of the account + time index.
pub const BY_ACCOUNT_INDEX: &str = "ByAccount";
/// The attributes both indexes carry besides the keys (`history` filters on them).
pub const INDEX_ATTRIBUTES: &[&str] = &["AssessmentResult"];
/// Results larger than this are stored as a summary (`ResultTruncated`): items are limited to
/// 400 KB.
pub const MAX_RESULT_BYTES: usize = 300 * 1024;
/// How many times a write that lost a race on the finding item is tried in all.
pub const ATTEMPTS: usize = 4;
const DAY: i64 = 86_400;

/// The table and its rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DynamoDbSettings {
    pub table: String,
    /// Days an event item is kept (`ExpiresAt`); 0 keeps them forever.
    pub retention_days: u32,
    /// The dedupe window; 0 alerts on every event.
    pub dedupe_window_minutes: u32,
}

/// The DynamoDB history.
#[derive(Debug, Clone)]
pub struct DynamoDbSink {
    client: aws_sdk_dynamodb::Client,
    settings: DynamoDbSettings,
}

/// What the transaction will do with the finding.
enum Plan {
    /// This event starts the finding's window; `previous_first` is the first event of the
    /// expired window the finding item still holds.
    New { previous_first: Option<String> },
    /// A new event stored beside the finding's open window (whose first event is
    /// `current_first`), the finding item left as it is: an event a window or more before it
    /// (`count` 1, `last_seen` its own), or the first event itself redelivered after its item
    /// was lost (`count` and `last_seen` the window's).
    Beside {
        current_first: String,
        count: i64,
        last_seen: Option<String>,
    },
    /// A repeat of `first` (whose finding item counted `count` so far); `advance` when it is
    /// not older than the finding's `LastSeen`, which then moves to it.
    Repeat {
        first: String,
        count: i64,
        advance: bool,
    },
}

impl DynamoDbSink {
    pub fn new(client: aws_sdk_dynamodb::Client, settings: DynamoDbSettings) -> Self {
        DynamoDbSink { client, settings }
    }

    pub fn settings(&self) -> &DynamoDbSettings {
        &self.settings
    }

    fn store_error(&self, event_id: &str, message: String, retryable: bool) -> SinkError {
        SinkError::Store {
            event_id: event_id.to_string(),
            table: self.settings.table.clone(),
            message,
            retryable,
        }
    }

    /// The event item, before the finding's part is decided.
    fn event_item(
        &self,
        result: &DiagnosisResult,
        meta: &EventMeta,
        finding: &Finding,
        event_time: i64,
        now: i64,
    ) -> Result<EventItem, SinkError> {
        let encode = |e: serde_json::Error| SinkError::Encode {
            event_id: meta.event_id.clone(),
            message: e.to_string(),
        };
        let mut json = serde_json::to_string(result).map_err(encode)?;
        let result_truncated = json.len() > MAX_RESULT_BYTES;
        if result_truncated {
            json = crate::render::alert::summary(result, meta).to_string();
        }
        Ok(EventItem {
            event_id: meta.event_id.clone(),
            result: StoredResult::Json(json),
            result_truncated,
            assessment_result: Some(result.assessment_result.as_str().to_string()),
            principal: Some(finding.principal.clone())
                .filter(|p| !p.is_empty())
                .or_else(|| meta.principal.clone()),
            account_id: meta.account_id.clone(),
            event_time: Some(
                meta.event_time
                    .clone()
                    .unwrap_or_else(|| format_time(event_time)),
            ),
            event_source: meta.event_source.clone(),
            event_name: meta.event_name.clone(),
            region: meta.region.clone(),
            error_code: meta.error_code.clone(),
            actions: finding.actions.clone(),
            resources: finding.resources.clone(),
            finding_key: Some(finding.key.clone()),
            finding_state: None,
            first_event_id: None,
            notified: false,
            notified_at: None,
            alert_claimed_at: None,
            count: None,
            last_seen: None,
            stored_at: Some(format_time(now)),
            expires_at: (self.settings.retention_days > 0)
                .then(|| now + i64::from(self.settings.retention_days) * DAY),
        })
    }

    async fn get(&self, event_id: &str, key: &str) -> Result<Option<Item>, SinkError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.settings.table)
            .key(attr::EVENT_ID, s(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| {
                let (message, retryable) = describe_sdk_error(&e);
                self.store_error(event_id, message, retryable)
            })?;
        Ok(out.item().cloned())
    }

    /// The outcome for an event already stored.
    async fn duplicate(&self, event_id: &str) -> Result<StoreOutcome, SinkError> {
        let item = self.get(event_id, event_id).await?;
        let alert_pending = item.is_some_and(|item| {
            let stored = EventItem::from_item(&item);
            stored.finding_state == Some(FindingState::New) && !stored.notified
        });
        Ok(StoreOutcome::Duplicate { alert_pending })
    }

    fn window_secs(&self) -> i64 {
        dedupe::window_secs(self.settings.dedupe_window_minutes)
    }

    fn put(&self, item: Item, condition: &str, values: Option<Item>) -> Result<Put, String> {
        Put::builder()
            .table_name(&self.settings.table)
            .set_item(Some(item))
            .condition_expression(condition)
            .set_expression_attribute_values(values)
            .build()
            .map_err(|e| e.to_string())
    }

    /// The transaction of one plan.
    fn transaction(
        &self,
        mut event: EventItem,
        meta: &EventMeta,
        finding: &Finding,
        event_time: i64,
        plan: &Plan,
        mirror: bool,
    ) -> Result<Vec<TransactWriteItem>, String> {
        let finding_id = FindingItem::id_of(&finding.key);
        let seen = meta
            .event_time
            .clone()
            .unwrap_or_else(|| format_time(event_time));
        let not_stored = format!("attribute_not_exists({})", attr::EVENT_ID);
        let same_first = format!("{} = :first", attr::FIRST_EVENT_ID);
        let mut items = Vec::new();
        match plan {
            Plan::Beside {
                count, last_seen, ..
            } => {
                event.finding_state = Some(FindingState::New);
                event.count = Some(*count);
                event.last_seen = Some(last_seen.clone().unwrap_or_else(|| seen.clone()));
                items.push(self.put(event.to_item(), &not_stored, None)?);
            }
            Plan::New { previous_first } => {
                event.finding_state = Some(FindingState::New);
                event.count = Some(1);
                event.last_seen = Some(seen.clone());
                items.push(self.put(event.to_item(), &not_stored, None)?);
                let opened = FindingItem {
                    key: finding.key.clone(),
                    first_event_id: meta.event_id.clone(),
                    last_event_id: meta.event_id.clone(),
                    window_start: event_time,
                    first_seen: seen.clone(),
                    last_seen: seen.clone(),
                    last_seen_at: event_time,
                    count: 1,
                    assessment_result: finding.assessment_result.clone(),
                    expires_at: event_time + self.window_secs() + DAY,
                };
                let put = match previous_first {
                    None => self.put(opened.to_item(), &not_stored, None)?,
                    Some(prev) => self.put(
                        opened.to_item(),
                        &same_first,
                        Some(Item::from([(":first".to_string(), s(prev))])),
                    )?,
                };
                items.push(put);
            }
            Plan::Repeat { first, .. } => {
                event.finding_state = Some(FindingState::Repeat);
                event.first_event_id = Some(first.clone());
                items.push(self.put(event.to_item(), &not_stored, None)?);
            }
        }
        let mut tx: Vec<TransactWriteItem> = items
            .into_iter()
            .map(|p| TransactWriteItem::builder().put(p).build())
            .collect();
        if let Plan::Beside { current_first, .. } = plan {
            // Decided against this window: it must still be the finding's.
            let unchanged = ConditionCheck::builder()
                .table_name(&self.settings.table)
                .key(attr::EVENT_ID, s(&finding_id))
                .condition_expression(&same_first)
                .expression_attribute_values(":first", s(current_first))
                .build()
                .map_err(|e| e.to_string())?;
            tx.push(
                TransactWriteItem::builder()
                    .condition_check(unchanged)
                    .build(),
            );
        }
        if let Plan::Repeat { first, advance, .. } = plan {
            let counter = Update::builder()
                .table_name(&self.settings.table)
                .key(attr::EVENT_ID, s(&finding_id))
                .expression_attribute_names("#count", attr::COUNT)
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":first", s(first));
            let counter = if *advance {
                // LastSeen moves forward only: a later repeat stored meanwhile fails the
                // condition, and the retry counts this one without moving it.
                counter
                    .update_expression(format!(
                        "SET #count = #count + :one, {} = :seen, {} = :at, {} = :eid",
                        attr::LAST_SEEN,
                        attr::LAST_SEEN_AT,
                        attr::LAST_EVENT_ID
                    ))
                    .condition_expression(format!(
                        "{same_first} AND (attribute_not_exists({at}) OR {at} <= :at)",
                        at = attr::LAST_SEEN_AT
                    ))
                    .expression_attribute_values(":seen", s(&seen))
                    .expression_attribute_values(":at", n(event_time))
                    .expression_attribute_values(":eid", s(&meta.event_id))
            } else {
                counter
                    .update_expression("SET #count = #count + :one")
                    .condition_expression(&same_first)
            };
            let counter = counter.build().map_err(|e| e.to_string())?;
            tx.push(TransactWriteItem::builder().update(counter).build());
            if mirror {
                // The same counters on the first event's item, so the history shows them.
                let on_first = Update::builder()
                    .table_name(&self.settings.table)
                    .key(attr::EVENT_ID, s(first))
                    .condition_expression(format!("attribute_exists({})", attr::EVENT_ID))
                    .expression_attribute_names("#count", attr::COUNT)
                    .expression_attribute_values(":one", n(1));
                let on_first = if *advance {
                    on_first
                        .update_expression(format!(
                            "SET #count = if_not_exists(#count, :one) + :one, {} = :seen",
                            attr::LAST_SEEN
                        ))
                        .expression_attribute_values(":seen", s(&seen))
                } else {
                    on_first.update_expression("SET #count = if_not_exists(#count, :one) + :one")
                };
                let on_first = on_first.build().map_err(|e| e.to_string())?;
                tx.push(TransactWriteItem::builder().update(on_first).build());
            }
        }
        Ok(tx)
    }

    /// Without dedupe: one conditional put.
    async fn store_plain(
        &self,
        mut event: EventItem,
        meta: &EventMeta,
    ) -> Result<StoreOutcome, SinkError> {
        event.finding_state = Some(FindingState::New);
        let out = self
            .client
            .put_item()
            .table_name(&self.settings.table)
            .set_item(Some(event.to_item()))
            .condition_expression(format!("attribute_not_exists({})", attr::EVENT_ID))
            .send()
            .await;
        match out {
            Ok(_) => Ok(StoreOutcome::New),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_conditional_check_failed_exception()) =>
            {
                self.duplicate(&meta.event_id).await
            }
            Err(e) => {
                let (message, retryable) = describe_sdk_error(&e);
                Err(self.store_error(&meta.event_id, message, retryable))
            }
        }
    }
}

/// The cancellation reason codes of a cancelled transaction.
fn cancellation_codes(err: &TransactWriteItemsError) -> Option<Vec<String>> {
    match err {
        TransactWriteItemsError::TransactionCanceledException(e) => Some(
            e.cancellation_reasons()
                .iter()
                .map(|r| r.code().unwrap_or("None").to_string())
                .collect(),
        ),
        _ => None,
    }
}

#[async_trait]
impl ResultSink for DynamoDbSink {
    async fn store(
        &self,
        result: &DiagnosisResult,
        meta: &EventMeta,
    ) -> Result<StoreOutcome, SinkError> {
        super::check_event_id(&meta.event_id)?;
        let finding = Finding::of(result, meta);
        let now = now_secs();
        let event_time = dedupe::window_time(meta.event_epoch(), now);
        let event = self.event_item(result, meta, &finding, event_time, now)?;
        if self.settings.dedupe_window_minutes == 0 {
            return self.store_plain(event, meta).await;
        }
        let finding_id = FindingItem::id_of(&finding.key);
        let mut mirror = true;
        for _ in 0..ATTEMPTS {
            let current = self
                .get(&meta.event_id, &finding_id)
                .await?
                .map(|item| FindingItem::from_item(&item));
            let open = current.as_ref().map(|f| OpenWindow {
                first_event_id: &f.first_event_id,
                start: f.window_start,
            });
            let plan = match dedupe::repeat_of(self.window_secs(), open, &meta.event_id, event_time)
            {
                Some(first) => Plan::Repeat {
                    first: first.to_string(),
                    count: current.as_ref().map_or(1, |f| f.count),
                    advance: current
                        .as_ref()
                        .is_none_or(|f| event_time >= f.last_seen_at),
                },
                None => match current.as_ref() {
                    // The window's first event, redelivered after its item was lost: stored
                    // again, the window's counts kept (not a new window counted from 1).
                    Some(f) if f.first_event_id == meta.event_id => Plan::Beside {
                        current_first: f.first_event_id.clone(),
                        count: f.count,
                        last_seen: Some(f.last_seen.clone()).filter(|l| !l.is_empty()),
                    },
                    Some(f) if !dedupe::opens_window(open, event_time) => Plan::Beside {
                        current_first: f.first_event_id.clone(),
                        count: 1,
                        last_seen: None,
                    },
                    _ => Plan::New {
                        previous_first: current.as_ref().map(|f| f.first_event_id.clone()),
                    },
                },
            };
            let tx = self
                .transaction(event.clone(), meta, &finding, event_time, &plan, mirror)
                .map_err(|m| self.store_error(&meta.event_id, m, false))?;
            let sent = self
                .client
                .transact_write_items()
                .set_transact_items(Some(tx))
                .send()
                .await;
            let err = match sent {
                Ok(_) => {
                    return Ok(match plan {
                        Plan::New { .. } | Plan::Beside { .. } => StoreOutcome::New,
                        Plan::Repeat { first, count, .. } => StoreOutcome::Repeat {
                            first_event_id: first,
                            count: u64::try_from(count.saturating_add(1)).unwrap_or(0),
                        },
                    })
                }
                Err(e) => e,
            };
            let Some(codes) = err.as_service_error().and_then(cancellation_codes) else {
                let (message, retryable) = describe_sdk_error(&err);
                return Err(self.store_error(&meta.event_id, message, retryable));
            };
            let failed = |i: usize| codes.get(i).map(String::as_str);
            if failed(0) == Some("ConditionalCheckFailed") {
                return self.duplicate(&meta.event_id).await;
            }
            if failed(2) == Some("ConditionalCheckFailed") {
                // The first event's item is gone (expired or deleted): count on the finding
                // item only.
                mirror = false;
                continue;
            }
            if codes
                .iter()
                .any(|c| c == "ConditionalCheckFailed" || c == "TransactionConflict")
            {
                continue; // the finding item changed since it was read
            }
            return Err(self.store_error(
                &meta.event_id,
                format!("transaction cancelled: {}", codes.join(", ")),
                codes
                    .iter()
                    .any(|c| c == "ThrottlingError" || c == "ProvisionedThroughputExceeded"),
            ));
        }
        Err(self.store_error(
            &meta.event_id,
            format!("finding {} kept changing concurrently", finding.key),
            true,
        ))
    }

    async fn claim_alert(&self, event_id: &str, lease_secs: u64) -> Result<bool, SinkError> {
        let now = now_secs();
        let stale = now.saturating_sub(i64::try_from(lease_secs).unwrap_or(i64::MAX));
        let out = self
            .client
            .update_item()
            .table_name(&self.settings.table)
            .key(attr::EVENT_ID, s(event_id))
            .update_expression(format!("SET {} = :now", attr::ALERT_CLAIMED_AT))
            .condition_expression(format!(
                "attribute_exists({id}) AND {notified} = :no \
                 AND (attribute_not_exists({claimed}) OR {claimed} <= :stale)",
                id = attr::EVENT_ID,
                notified = attr::NOTIFIED,
                claimed = attr::ALERT_CLAIMED_AT
            ))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":no", AttributeValue::Bool(false))
            .expression_attribute_values(":stale", n(stale))
            .send()
            .await;
        match out {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => {
                let (message, retryable) = describe_sdk_error(&e);
                Err(self.store_error(event_id, format!("claim alert: {message}"), retryable))
            }
        }
    }

    async fn count_alert(&self, account: &str, hour_start: i64) -> Result<u64, SinkError> {
        let id = format!(
            "{FINDING_PREFIX}BUDGET#{account}#{}",
            format_time(hour_start)
        );
        let out = self
            .client
            .update_item()
            .table_name(&self.settings.table)
            .key(attr::EVENT_ID, s(&id))
            // `Count` is a reserved word in expressions: named through placeholders.
            .update_expression("ADD #count :one SET #expires = :expires")
            .expression_attribute_names("#count", attr::COUNT)
            .expression_attribute_names("#expires", attr::EXPIRES_AT)
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":expires", n(hour_start + 2 * DAY))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::UpdatedNew)
            .send()
            .await;
        match out {
            Ok(o) => Ok(o
                .attributes()
                .and_then(|a| a.get(attr::COUNT))
                .and_then(|v| v.as_n().ok())
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)),
            Err(e) => {
                let (message, retryable) = describe_sdk_error(&e);
                Err(self.store_error(&id, format!("count alert: {message}"), retryable))
            }
        }
    }

    async fn release_alert(&self, event_id: &str) -> Result<(), SinkError> {
        let out = self
            .client
            .update_item()
            .table_name(&self.settings.table)
            .key(attr::EVENT_ID, s(event_id))
            .update_expression(format!("REMOVE {}", attr::ALERT_CLAIMED_AT))
            .condition_expression(format!("attribute_exists({})", attr::EVENT_ID))
            .send()
            .await;
        match out {
            Ok(_) => Ok(()),
            Err(e) => {
                let (message, retryable) = describe_sdk_error(&e);
                Err(self.store_error(event_id, format!("release alert: {message}"), retryable))
            }
        }
    }

    async fn mark_notified(&self, event_id: &str) -> Result<(), SinkError> {
        let out = self
            .client
            .update_item()
            .table_name(&self.settings.table)
            .key(attr::EVENT_ID, s(event_id))
            .update_expression(format!(
                "SET {} = :yes, {} = :now",
                attr::NOTIFIED,
                attr::NOTIFIED_AT
            ))
            .condition_expression(format!("attribute_exists({})", attr::EVENT_ID))
            .expression_attribute_values(":yes", AttributeValue::Bool(true))
            .expression_attribute_values(":now", s(format_time(now_secs())))
            .send()
            .await;
        match out {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_conditional_check_failed_exception()) =>
            {
                Err(SinkError::Corrupt {
                    event_id: event_id.to_string(),
                    message: "the item to mark as notified does not exist".into(),
                })
            }
            Err(e) => {
                let (message, retryable) = describe_sdk_error(&e);
                Err(self.store_error(event_id, message, retryable))
            }
        }
    }
}
