//! `access-undenied history`: reads back the results table written by the DynamoDB sink
//! ([`crate::sink::dynamodb`]).
//!
//! Three ways in, by what the caller knows:
//!
//! - `--principal ARN`: a query of the `ByPrincipal` index (`Principal` + `EventTime`);
//! - `--account ID`: a query of the `ByAccount` index (`AccountId` + `EventTime`);
//! - neither: a scan of the table, finding items (`FINDING#…`) left out.
//!
//! `--since` / `--until` (RFC 3339, any offset; normalised to the UTC `…Z` form the sink
//! stores, whole seconds) bound `EventTime`: a key condition on the indexes, a filter on a
//! scan. `--result` filters on `AssessmentResult` (the exact string, as in the results). Pages are
//! followed until `limit` items matched or the table is exhausted; entries come newest first
//! (a scan reads every page and keeps the newest `limit`).
//!
//! Each entry renders as one JSON line or one text line ([`crate::render::history`]).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use aws_smithy_types::date_time::Format;
use aws_smithy_types::DateTime;
use serde_json::{Map, Value};
use thiserror::Error;

use crate::sink::describe_sdk_error;
use crate::sink::dynamodb::item::{attr, EventItem, Item, StoredResult};
use crate::sink::dynamodb::{BY_ACCOUNT_INDEX, BY_PRINCIPAL_INDEX, FINDING_PREFIX};

/// The environment variable naming the table when `--table` is not given (the Lambda's).
pub const TABLE_ENV: &str = "RESULTS_TABLE";
/// Entries returned when no limit is given.
pub const DEFAULT_LIMIT: usize = 100;

/// Why the history cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HistoryError {
    #[error("no results table: pass --table or set {TABLE_ENV}")]
    NoTable,
    #[error("--principal and --account cannot be combined: pass one of them")]
    ConflictingScope,
    #[error("--{flag} `{value}` is not an RFC 3339 time (e.g. 2026-11-20T10:00:00Z)")]
    InvalidTime { flag: &'static str, value: String },
    #[error("--since {since} is after --until {until}")]
    EmptyRange { since: String, until: String },
    #[error("--limit must be at least 1")]
    InvalidLimit,
    #[error("--{flag} cannot be empty")]
    Empty { flag: &'static str },
    #[error("cannot read table {table}: {message}")]
    Query { table: String, message: String },
}

/// What the command line asked for, unchecked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryArgs {
    /// `--table`; [`TABLE_ENV`] when absent.
    pub table: Option<String>,
    pub principal: Option<String>,
    pub account: Option<String>,
    /// An `AssessmentResult` string.
    pub result: Option<String>,
    /// RFC 3339.
    pub since: Option<String>,
    /// RFC 3339.
    pub until: Option<String>,
    /// The most entries returned (at least 1).
    pub limit: usize,
}

impl Default for HistoryArgs {
    fn default() -> Self {
        HistoryArgs {
            table: None,
            principal: None,
            account: None,
            result: None,
            since: None,
            until: None,
            limit: DEFAULT_LIMIT,
        }
    }
}

/// Which items are read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// The `ByPrincipal` index.
    Principal(String),
    /// The `ByAccount` index.
    Account(String),
    /// The whole table.
    All,
}

/// A checked query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryQuery {
    pub table: String,
    pub scope: Scope,
    pub result: Option<String>,
    /// `EventTime` lower bound (inclusive), as the sink stores times (`…Z`).
    pub since: Option<String>,
    /// `EventTime` upper bound (inclusive).
    pub until: Option<String>,
    pub limit: usize,
    /// Items DynamoDB evaluates per request (`Limit`); `None` lets it fill 1 MB pages.
    pub page_size: Option<i32>,
}

impl HistoryQuery {
    /// Checks the arguments; the table defaults to `$RESULTS_TABLE`.
    pub fn from_args(args: HistoryArgs) -> Result<HistoryQuery, HistoryError> {
        let env_table = std::env::var(TABLE_ENV).ok();
        Self::from_args_with_env(args, env_table)
    }

    /// [`HistoryQuery::from_args`] with the value of `$RESULTS_TABLE` given.
    pub fn from_args_with_env(
        args: HistoryArgs,
        env_table: Option<String>,
    ) -> Result<HistoryQuery, HistoryError> {
        let table = args
            .table
            .or(env_table)
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .ok_or(HistoryError::NoTable)?;
        let non_empty = |flag: &'static str, value: Option<String>| match value {
            Some(v) if v.trim().is_empty() => Err(HistoryError::Empty { flag }),
            Some(v) => Ok(Some(v.trim().to_string())),
            None => Ok(None),
        };
        let principal = non_empty("principal", args.principal)?;
        let account = non_empty("account", args.account)?;
        let result = non_empty("result", args.result)?;
        let scope = match (principal, account) {
            (Some(_), Some(_)) => return Err(HistoryError::ConflictingScope),
            (Some(p), None) => Scope::Principal(p),
            (None, Some(a)) => Scope::Account(a),
            (None, None) => Scope::All,
        };
        let since = args
            .since
            .as_deref()
            .map(|t| stored_time("since", t, true))
            .transpose()?;
        let until = args
            .until
            .as_deref()
            .map(|t| stored_time("until", t, false))
            .transpose()?;
        if let (Some(s), Some(u)) = (&since, &until) {
            if s > u {
                return Err(HistoryError::EmptyRange {
                    since: s.clone(),
                    until: u.clone(),
                });
            }
        }
        if args.limit == 0 {
            return Err(HistoryError::InvalidLimit);
        }
        Ok(HistoryQuery {
            table,
            scope,
            result,
            since,
            until,
            limit: args.limit,
            page_size: None,
        })
    }
}

/// An RFC 3339 time as the sink stores `EventTime` (UTC, whole seconds, `Z`), so that string
/// order is time order. A fraction of a second rounds inwards: up for a lower bound, down for
/// an upper one.
fn stored_time(flag: &'static str, text: &str, lower: bool) -> Result<String, HistoryError> {
    let invalid = || HistoryError::InvalidTime {
        flag,
        value: text.to_string(),
    };
    let t = DateTime::from_str(text.trim(), Format::DateTimeWithOffset).map_err(|_| invalid())?;
    let secs = if lower && t.has_subsec_nanos() {
        t.secs().saturating_add(1)
    } else {
        t.secs()
    };
    DateTime::from_secs(secs)
        .fmt(Format::DateTime)
        .map_err(|_| invalid())
}

/// One stored event.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEntry {
    pub event_id: String,
    pub event_time: Option<String>,
    pub assessment_result: Option<String>,
    pub principal: Option<String>,
    pub account_id: Option<String>,
    /// The finding's repeats, on its first event.
    pub count: Option<i64>,
    pub last_seen: Option<String>,
    /// The item's `Actions` and `Resources` (the finding's; used when the result has no
    /// `Request`, e.g. an error or a truncated result).
    pub actions: Vec<String>,
    pub resources: Vec<String>,
    /// The stored `Result` JSON; when it cannot be read, the item's attributes with
    /// `ResultUnreadable` saying why.
    pub result: Value,
}

impl HistoryEntry {
    /// The entry of one event item.
    pub fn from_item(item: &Item) -> HistoryEntry {
        HistoryEntry::from(EventItem::from_item(item))
    }
}

impl From<EventItem> for HistoryEntry {
    fn from(item: EventItem) -> HistoryEntry {
        let parsed = match &item.result {
            StoredResult::Json(text) => match access_undenied_core::json::from_str(text) {
                Ok(v) if v.is_object() => Ok(v),
                Ok(_) => Err("the Result attribute is not a JSON object".to_string()),
                Err(e) => Err(format!("the Result attribute is not JSON: {e}")),
            },
            StoredResult::NotAString => Err("the Result attribute is not a string".to_string()),
            StoredResult::Missing => Err("the item has no Result attribute".to_string()),
        };
        let result = parsed.unwrap_or_else(|why| {
            let mut m = Map::new();
            m.insert("EventId".into(), Value::from(item.event_id.clone()));
            for (key, value) in [
                ("AssessmentResult", &item.assessment_result),
                ("EventTime", &item.event_time),
                ("Principal", &item.principal),
                ("AccountId", &item.account_id),
                ("EventSource", &item.event_source),
                ("EventName", &item.event_name),
            ] {
                if let Some(v) = value {
                    m.insert(key.into(), Value::from(v.clone()));
                }
            }
            m.insert("ResultUnreadable".into(), Value::from(why));
            Value::Object(m)
        });
        HistoryEntry {
            event_id: item.event_id,
            event_time: item.event_time,
            assessment_result: item.assessment_result,
            principal: item.principal,
            account_id: item.account_id,
            count: item.count,
            last_seen: item.last_seen,
            actions: item.actions,
            resources: item.resources,
            result,
        }
    }
}

/// The expressions of a query or scan.
#[derive(Default)]
struct Expressions {
    key: Vec<String>,
    filter: Vec<String>,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl Expressions {
    fn of(q: &HistoryQuery) -> Expressions {
        let mut e = Expressions::default();
        let time_on_key = match &q.scope {
            Scope::Principal(p) => {
                e.key_equals(attr::PRINCIPAL, p);
                true
            }
            Scope::Account(a) => {
                e.key_equals(attr::ACCOUNT_ID, a);
                true
            }
            Scope::All => {
                e.names.insert("#id".into(), attr::EVENT_ID.into());
                e.values
                    .insert(":finding".into(), AttributeValue::S(FINDING_PREFIX.into()));
                e.filter.push("NOT begins_with(#id, :finding)".into());
                false
            }
        };
        let time = match (&q.since, &q.until) {
            (Some(s), Some(u)) => {
                e.values
                    .insert(":since".into(), AttributeValue::S(s.clone()));
                e.values
                    .insert(":until".into(), AttributeValue::S(u.clone()));
                Some("#t BETWEEN :since AND :until")
            }
            (Some(s), None) => {
                e.values
                    .insert(":since".into(), AttributeValue::S(s.clone()));
                Some("#t >= :since")
            }
            (None, Some(u)) => {
                e.values
                    .insert(":until".into(), AttributeValue::S(u.clone()));
                Some("#t <= :until")
            }
            (None, None) => None,
        };
        if let Some(time) = time {
            e.names.insert("#t".into(), attr::EVENT_TIME.into());
            if time_on_key {
                e.key.push(time.into());
            } else {
                e.filter.push(time.into());
            }
        }
        if let Some(r) = &q.result {
            e.names.insert("#ar".into(), attr::ASSESSMENT_RESULT.into());
            e.values.insert(":ar".into(), AttributeValue::S(r.clone()));
            e.filter.push("#ar = :ar".into());
        }
        e
    }

    fn key_equals(&mut self, attribute: &str, value: &str) {
        self.names.insert("#pk".into(), attribute.into());
        self.values
            .insert(":pk".into(), AttributeValue::S(value.into()));
        self.key.push("#pk = :pk".into());
    }

    fn filter(&self) -> Option<String> {
        (!self.filter.is_empty()).then(|| self.filter.join(" AND "))
    }
}

/// The table's items for index items (by `EventId`, `BatchGetItem` in chunks of 100 with its
/// unprocessed keys retried), in the order given; an item gone since the query is left out.
async fn whole_items(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    index_items: &[Item],
) -> Result<Vec<Item>, String> {
    use aws_sdk_dynamodb::types::KeysAndAttributes;
    let ids: Vec<String> = index_items
        .iter()
        .filter_map(|i| match i.get("EventId") {
            Some(AttributeValue::S(id)) => Some(id.clone()),
            _ => None,
        })
        .collect();
    let mut found: HashMap<String, Item> = HashMap::new();
    for chunk in ids.chunks(100) {
        let keys: Vec<Item> = chunk
            .iter()
            .map(|id| HashMap::from([("EventId".to_string(), AttributeValue::S(id.clone()))]))
            .collect();
        let mut request = KeysAndAttributes::builder()
            .set_keys(Some(keys))
            .build()
            .map_err(|e| e.to_string())?;
        for _attempt in 0..10 {
            let out = client
                .batch_get_item()
                .request_items(table, request.clone())
                .send()
                .await
                .map_err(|err| describe_sdk_error(&err).0)?;
            for item in out
                .responses()
                .and_then(|r| r.get(table))
                .into_iter()
                .flatten()
            {
                if let Some(AttributeValue::S(id)) = item.get("EventId") {
                    found.insert(id.clone(), item.clone());
                }
            }
            match out.unprocessed_keys().and_then(|u| u.get(table)) {
                Some(rest) if !rest.keys().is_empty() => request = rest.clone(),
                _ => break,
            }
        }
    }
    Ok(ids.into_iter().filter_map(|id| found.remove(&id)).collect())
}

/// Newest first; the same time by event id.
fn newest_first(a: &HistoryEntry, b: &HistoryEntry) -> std::cmp::Ordering {
    b.event_time
        .cmp(&a.event_time)
        .then_with(|| a.event_id.cmp(&b.event_id))
}

/// Runs the query: at most `q.limit` entries, newest first.
pub async fn query(
    client: &aws_sdk_dynamodb::Client,
    q: &HistoryQuery,
) -> Result<Vec<HistoryEntry>, HistoryError> {
    let e = Expressions::of(q);
    let filter = e.filter();
    let fail = |message: String| HistoryError::Query {
        table: q.table.clone(),
        message,
    };
    let mut entries: Vec<HistoryEntry> = Vec::new();
    let mut start: Option<Item> = None;
    let index = match &q.scope {
        Scope::Principal(_) => Some(BY_PRINCIPAL_INDEX),
        Scope::Account(_) => Some(BY_ACCOUNT_INDEX),
        Scope::All => None,
    };
    loop {
        let (items, next) = match index {
            Some(index) => {
                // Without a filter every item read is kept: read no more than still needed.
                let remaining = q.limit.saturating_sub(entries.len());
                let page_limit = match (&filter, q.page_size) {
                    (None, size) => {
                        let remaining = i32::try_from(remaining).unwrap_or(i32::MAX);
                        Some(size.map_or(remaining, |s| s.min(remaining)))
                    }
                    (Some(_), size) => size,
                };
                let out = client
                    .query()
                    .table_name(&q.table)
                    .index_name(index)
                    .key_condition_expression(e.key.join(" AND "))
                    .set_filter_expression(filter.clone())
                    .set_expression_attribute_names(Some(e.names.clone()))
                    .set_expression_attribute_values(Some(e.values.clone()))
                    .scan_index_forward(false)
                    .set_limit(page_limit)
                    .set_exclusive_start_key(start.take())
                    .send()
                    .await
                    .map_err(|err| fail(describe_sdk_error(&err).0))?;
                (
                    out.items().to_vec(),
                    out.last_evaluated_key().cloned().filter(|k| !k.is_empty()),
                )
            }
            None => {
                let out = client
                    .scan()
                    .table_name(&q.table)
                    .set_filter_expression(filter.clone())
                    .set_expression_attribute_names(Some(e.names.clone()))
                    .set_expression_attribute_values(Some(e.values.clone()))
                    .set_limit(q.page_size)
                    .set_exclusive_start_key(start.take())
                    .send()
                    .await
                    .map_err(|err| fail(describe_sdk_error(&err).0))?;
                (
                    out.items().to_vec(),
                    out.last_evaluated_key().cloned().filter(|k| !k.is_empty()),
                )
            }
        };
        let items = match index {
            // The indexes carry keys and `AssessmentResult` only: the whole items (their
            // results) come from the table, in the index's order.
            Some(_) => whole_items(client, &q.table, &items).await.map_err(fail)?,
            None => items,
        };
        entries.extend(items.iter().map(HistoryEntry::from_item));
        if index.is_none() {
            // A scan is in no order: keep the newest `limit` seen so far.
            entries.sort_by(newest_first);
        }
        entries.truncate(q.limit);
        match next {
            Some(key) if index.is_none() || entries.len() < q.limit => start = Some(key),
            _ => break,
        }
    }
    Ok(entries)
}

/// The results stored for the events of whole days `since`..=`until` (`YYYY-MM-DD`, by
/// `EventTime`), at most `limit`, newest first: what the digest reads. A scan of the table
/// (filtered by time): its cost grows with the table, fine for a weekly digest.
pub async fn results_of_days(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    since: &str,
    until: &str,
    limit: usize,
) -> Result<Vec<Value>, HistoryError> {
    let q = HistoryQuery::from_args_with_env(
        HistoryArgs {
            table: Some(table.to_string()),
            since: Some(format!("{since}T00:00:00Z")),
            until: Some(format!("{until}T23:59:59Z")),
            limit: limit.max(1),
            ..HistoryArgs::default()
        },
        None,
    )?;
    Ok(query(client, &q)
        .await?
        .into_iter()
        .map(|e| e.result)
        .collect())
}

/// Reads the stored results of a range of days (the Lambda's digest mode).
#[async_trait::async_trait]
pub trait ResultsReader: Send + Sync {
    async fn results_of_days(&self, since: &str, until: &str) -> Result<Vec<Value>, String>;
}

/// The results table as a [`ResultsReader`].
pub struct TableReader {
    pub client: aws_sdk_dynamodb::Client,
    pub table: String,
    /// The most results one digest reads.
    pub limit: usize,
}

#[async_trait::async_trait]
impl ResultsReader for TableReader {
    async fn results_of_days(&self, since: &str, until: &str) -> Result<Vec<Value>, String> {
        results_of_days(&self.client, &self.table, since, until, self.limit)
            .await
            .map_err(|e| e.to_string())
    }
}
