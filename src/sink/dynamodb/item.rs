//! The results table's items, mapped both ways in one place: every attribute name, the event
//! item ([`EventItem`]) and the finding item ([`FindingItem`]). The sink writes them with
//! `to_item`, the sink and `history` read them back with `from_item`; reading is lenient (an
//! attribute missing or of the wrong type reads as absent), so an old or damaged item still
//! shows what it holds.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

/// One DynamoDB item.
pub type Item = HashMap<String, AttributeValue>;

/// The prefix of finding items' keys.
pub const FINDING_PREFIX: &str = "FINDING#";

/// The attribute names.
pub mod attr {
    /// The partition key: the CloudTrail `eventID`, or `FINDING#<FindingKey>`.
    pub const EVENT_ID: &str = "EventId";
    /// `Event` or `Finding`.
    pub const KIND: &str = "Kind";
    pub const RESULT: &str = "Result";
    pub const RESULT_TRUNCATED: &str = "ResultTruncated";
    pub const ASSESSMENT_RESULT: &str = "AssessmentResult";
    pub const PRINCIPAL: &str = "Principal";
    pub const ACCOUNT_ID: &str = "AccountId";
    pub const EVENT_TIME: &str = "EventTime";
    pub const EVENT_SOURCE: &str = "EventSource";
    pub const EVENT_NAME: &str = "EventName";
    pub const REGION: &str = "Region";
    pub const ERROR_CODE: &str = "ErrorCode";
    pub const ACTIONS: &str = "Actions";
    pub const RESOURCES: &str = "Resources";
    pub const FINDING_KEY: &str = "FindingKey";
    pub const FINDING_STATE: &str = "FindingState";
    pub const FIRST_EVENT_ID: &str = "FirstEventId";
    pub const LAST_EVENT_ID: &str = "LastEventId";
    pub const NOTIFIED: &str = "Notified";
    pub const NOTIFIED_AT: &str = "NotifiedAt";
    pub const ALERT_CLAIMED_AT: &str = "AlertClaimedAt";
    pub const COUNT: &str = "Count";
    pub const FIRST_SEEN: &str = "FirstSeen";
    pub const LAST_SEEN: &str = "LastSeen";
    /// `LastSeen` in epoch seconds, on the finding item: it only moves forward.
    pub const LAST_SEEN_AT: &str = "LastSeenAt";
    pub const WINDOW_START: &str = "WindowStart";
    pub const STORED_AT: &str = "StoredAt";
    /// The TTL attribute (epoch seconds).
    pub const EXPIRES_AT: &str = "ExpiresAt";
}

/// Whether an event item starts its finding's window or repeats it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindingState {
    New,
    Repeat,
}

impl FindingState {
    fn as_str(self) -> &'static str {
        match self {
            FindingState::New => "New",
            FindingState::Repeat => "Repeat",
        }
    }

    fn parse(text: &str) -> Option<FindingState> {
        match text {
            "New" => Some(FindingState::New),
            "Repeat" => Some(FindingState::Repeat),
            _ => None,
        }
    }
}

/// The `Result` attribute as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredResult {
    /// The result JSON (or its summary when `ResultTruncated`).
    Json(String),
    /// The attribute is there but not a string.
    NotAString,
    /// The item has no `Result`.
    Missing,
}

/// One diagnosed event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventItem {
    pub event_id: String,
    pub result: StoredResult,
    /// `Result` holds a summary: the whole result was too large for an item.
    pub result_truncated: bool,
    pub assessment_result: Option<String>,
    /// The key of the `ByPrincipal` index (left out when unknown: index keys cannot be empty).
    pub principal: Option<String>,
    /// The key of the `ByAccount` index.
    pub account_id: Option<String>,
    /// The sort key of both indexes (ISO 8601, UTC).
    pub event_time: Option<String>,
    pub event_source: Option<String>,
    pub event_name: Option<String>,
    pub region: Option<String>,
    pub error_code: Option<String>,
    /// The finding's actions and resources (always written, possibly empty).
    pub actions: Vec<String>,
    pub resources: Vec<String>,
    pub finding_key: Option<String>,
    pub finding_state: Option<FindingState>,
    /// For a repeat: the first event of its finding's window.
    pub first_event_id: Option<String>,
    /// The alert was sent.
    pub notified: bool,
    pub notified_at: Option<String>,
    /// Epoch seconds: a delivery is sending the alert.
    pub alert_claimed_at: Option<i64>,
    /// On a finding's first event: the events of its window so far.
    pub count: Option<i64>,
    pub last_seen: Option<String>,
    pub stored_at: Option<String>,
    /// TTL, epoch seconds; `None` keeps the item.
    pub expires_at: Option<i64>,
}

/// The first event of a finding in the current dedupe window, and its repeats' counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingItem {
    /// The finding's key (the item's `EventId` is `FINDING#<key>`).
    pub key: String,
    pub first_event_id: String,
    pub last_event_id: String,
    /// Epoch seconds (event time) of the first event.
    pub window_start: i64,
    pub first_seen: String,
    pub last_seen: String,
    /// `last_seen` in epoch seconds (event time): the latest event counted.
    pub last_seen_at: i64,
    pub count: i64,
    pub assessment_result: String,
    pub expires_at: i64,
}

/// A string attribute.
pub(super) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

/// A number attribute.
pub(super) fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn get_s(item: &Item, key: &str) -> Option<String> {
    item.get(key).and_then(|v| v.as_s().ok()).cloned()
}

fn get_n(item: &Item, key: &str) -> Option<i64> {
    item.get(key)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
}

fn get_list(item: &Item, key: &str) -> Vec<String> {
    item.get(key)
        .and_then(|v| v.as_l().ok())
        .map(|l| l.iter().filter_map(|v| v.as_s().ok().cloned()).collect())
        .unwrap_or_default()
}

fn put_s(item: &mut Item, key: &str, value: &Option<String>) {
    if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
        item.insert(key.into(), s(v));
    }
}

fn put_n(item: &mut Item, key: &str, value: Option<i64>) {
    if let Some(v) = value {
        item.insert(key.into(), n(v));
    }
}

impl EventItem {
    /// The item: optional attributes left out when absent or empty.
    pub fn to_item(&self) -> Item {
        let mut item = Item::new();
        item.insert(attr::EVENT_ID.into(), s(&self.event_id));
        item.insert(attr::KIND.into(), s("Event"));
        if let StoredResult::Json(text) = &self.result {
            item.insert(attr::RESULT.into(), s(text));
        }
        if self.result_truncated {
            item.insert(attr::RESULT_TRUNCATED.into(), AttributeValue::Bool(true));
        }
        for (key, value) in [
            (attr::ASSESSMENT_RESULT, &self.assessment_result),
            (attr::PRINCIPAL, &self.principal),
            (attr::ACCOUNT_ID, &self.account_id),
            (attr::EVENT_TIME, &self.event_time),
            (attr::EVENT_SOURCE, &self.event_source),
            (attr::EVENT_NAME, &self.event_name),
            (attr::REGION, &self.region),
            (attr::ERROR_CODE, &self.error_code),
            (attr::FINDING_KEY, &self.finding_key),
            (attr::FIRST_EVENT_ID, &self.first_event_id),
            (attr::NOTIFIED_AT, &self.notified_at),
            (attr::LAST_SEEN, &self.last_seen),
            (attr::STORED_AT, &self.stored_at),
        ] {
            put_s(&mut item, key, value);
        }
        item.insert(
            attr::ACTIONS.into(),
            AttributeValue::L(self.actions.iter().map(s).collect()),
        );
        item.insert(
            attr::RESOURCES.into(),
            AttributeValue::L(self.resources.iter().map(s).collect()),
        );
        if let Some(state) = self.finding_state {
            item.insert(attr::FINDING_STATE.into(), s(state.as_str()));
        }
        item.insert(attr::NOTIFIED.into(), AttributeValue::Bool(self.notified));
        put_n(&mut item, attr::ALERT_CLAIMED_AT, self.alert_claimed_at);
        put_n(&mut item, attr::COUNT, self.count);
        put_n(&mut item, attr::EXPIRES_AT, self.expires_at);
        item
    }

    /// Reads an event item.
    pub fn from_item(item: &Item) -> EventItem {
        let result = match item.get(attr::RESULT).map(AttributeValue::as_s) {
            Some(Ok(text)) => StoredResult::Json(text.clone()),
            Some(Err(_)) => StoredResult::NotAString,
            None => StoredResult::Missing,
        };
        EventItem {
            event_id: get_s(item, attr::EVENT_ID).unwrap_or_default(),
            result,
            result_truncated: matches!(
                item.get(attr::RESULT_TRUNCATED),
                Some(AttributeValue::Bool(true))
            ),
            assessment_result: get_s(item, attr::ASSESSMENT_RESULT),
            principal: get_s(item, attr::PRINCIPAL),
            account_id: get_s(item, attr::ACCOUNT_ID),
            event_time: get_s(item, attr::EVENT_TIME),
            event_source: get_s(item, attr::EVENT_SOURCE),
            event_name: get_s(item, attr::EVENT_NAME),
            region: get_s(item, attr::REGION),
            error_code: get_s(item, attr::ERROR_CODE),
            actions: get_list(item, attr::ACTIONS),
            resources: get_list(item, attr::RESOURCES),
            finding_key: get_s(item, attr::FINDING_KEY),
            finding_state: get_s(item, attr::FINDING_STATE)
                .as_deref()
                .and_then(FindingState::parse),
            first_event_id: get_s(item, attr::FIRST_EVENT_ID),
            notified: matches!(item.get(attr::NOTIFIED), Some(AttributeValue::Bool(true))),
            notified_at: get_s(item, attr::NOTIFIED_AT),
            alert_claimed_at: get_n(item, attr::ALERT_CLAIMED_AT),
            count: get_n(item, attr::COUNT),
            last_seen: get_s(item, attr::LAST_SEEN),
            stored_at: get_s(item, attr::STORED_AT),
            expires_at: get_n(item, attr::EXPIRES_AT),
        }
    }
}

impl FindingItem {
    /// The item's `EventId`: `FINDING#<key>`.
    pub fn id_of(key: &str) -> String {
        format!("{FINDING_PREFIX}{key}")
    }

    pub fn to_item(&self) -> Item {
        Item::from([
            (attr::EVENT_ID.to_string(), s(Self::id_of(&self.key))),
            (attr::KIND.to_string(), s("Finding")),
            (attr::FINDING_KEY.to_string(), s(&self.key)),
            (attr::FIRST_EVENT_ID.to_string(), s(&self.first_event_id)),
            (attr::LAST_EVENT_ID.to_string(), s(&self.last_event_id)),
            (attr::WINDOW_START.to_string(), n(self.window_start)),
            (attr::FIRST_SEEN.to_string(), s(&self.first_seen)),
            (attr::LAST_SEEN.to_string(), s(&self.last_seen)),
            (attr::LAST_SEEN_AT.to_string(), n(self.last_seen_at)),
            (attr::COUNT.to_string(), n(self.count)),
            (
                attr::ASSESSMENT_RESULT.to_string(),
                s(&self.assessment_result),
            ),
            (attr::EXPIRES_AT.to_string(), n(self.expires_at)),
        ])
    }

    /// Reads a finding item. What a damaged item lacks reads as a window long closed
    /// (`WindowStart` the earliest time) counted once; an item written before `LastSeenAt`
    /// reads it from `LastSeen`, else from `WindowStart`.
    pub fn from_item(item: &Item) -> FindingItem {
        let id = get_s(item, attr::EVENT_ID).unwrap_or_default();
        let window_start = get_n(item, attr::WINDOW_START).unwrap_or(i64::MIN);
        let last_seen = get_s(item, attr::LAST_SEEN).unwrap_or_default();
        let last_seen_at = get_n(item, attr::LAST_SEEN_AT)
            .or_else(|| crate::sink::parse_time(&last_seen))
            .unwrap_or(window_start);
        FindingItem {
            key: get_s(item, attr::FINDING_KEY)
                .unwrap_or_else(|| id.strip_prefix(FINDING_PREFIX).unwrap_or(&id).to_string()),
            first_event_id: get_s(item, attr::FIRST_EVENT_ID).unwrap_or_default(),
            last_event_id: get_s(item, attr::LAST_EVENT_ID).unwrap_or_default(),
            window_start,
            first_seen: get_s(item, attr::FIRST_SEEN).unwrap_or_default(),
            last_seen,
            last_seen_at,
            count: get_n(item, attr::COUNT).unwrap_or(1),
            assessment_result: get_s(item, attr::ASSESSMENT_RESULT).unwrap_or_default(),
            expires_at: get_n(item, attr::EXPIRES_AT).unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event() -> EventItem {
        EventItem {
            event_id: "e-1".into(),
            result: StoredResult::Json(r#"{"EventId":"e-1"}"#.into()),
            result_truncated: false,
            assessment_result: Some("Error".into()),
            principal: Some("arn:aws:iam::111122223333:user/bob".into()),
            account_id: Some("111122223333".into()),
            event_time: Some("2026-11-20T10:00:00Z".into()),
            event_source: Some("kms.amazonaws.com".into()),
            event_name: Some("Decrypt".into()),
            region: None,
            error_code: Some(String::new()),
            actions: vec!["kms:Decrypt".into()],
            resources: vec![],
            finding_key: Some("abc".into()),
            finding_state: Some(FindingState::New),
            first_event_id: None,
            notified: false,
            notified_at: None,
            alert_claimed_at: None,
            count: Some(1),
            last_seen: Some("2026-11-20T10:00:00Z".into()),
            stored_at: Some("2026-11-20T10:00:05Z".into()),
            expires_at: Some(1_800_000_000),
        }
    }

    #[test]
    fn an_event_item_reads_back_as_written() {
        let e = event();
        let item = e.to_item();
        assert_eq!(item[attr::KIND], s("Event"));
        assert!(!item.contains_key(attr::REGION), "absent: left out");
        assert!(!item.contains_key(attr::ERROR_CODE), "empty: left out");
        assert!(!item.contains_key(attr::RESULT_TRUNCATED));
        assert_eq!(item[attr::RESOURCES], AttributeValue::L(vec![]));
        let mut back = EventItem::from_item(&item);
        assert_eq!(back.error_code, None);
        back.error_code = Some(String::new());
        assert_eq!(back, e);
    }

    #[test]
    fn a_damaged_item_reads_leniently() {
        let item = Item::from([
            (attr::EVENT_ID.to_string(), s("e-2")),
            (attr::RESULT.to_string(), n(3)),
            (attr::COUNT.to_string(), s("many")),
            (attr::FINDING_STATE.to_string(), s("Maybe")),
        ]);
        let e = EventItem::from_item(&item);
        assert_eq!(e.result, StoredResult::NotAString);
        assert_eq!(e.count, None);
        assert_eq!(e.finding_state, None);
        assert!(!e.notified);
        assert_eq!(
            EventItem::from_item(&Item::new()).result,
            StoredResult::Missing
        );
    }

    #[test]
    fn a_finding_item_reads_back_as_written() {
        let f = FindingItem {
            key: "abc".into(),
            first_event_id: "e-1".into(),
            last_event_id: "e-3".into(),
            window_start: 1_795_168_800,
            first_seen: "2026-11-20T10:00:00Z".into(),
            last_seen: "2026-11-20T10:20:00Z".into(),
            last_seen_at: 1_795_170_000,
            count: 3,
            assessment_result: "Error".into(),
            expires_at: 1_795_258_800,
        };
        let item = f.to_item();
        assert_eq!(item[attr::EVENT_ID], s("FINDING#abc"));
        assert_eq!(FindingItem::from_item(&item), f);
        let damaged = FindingItem::from_item(&Item::from([(
            attr::EVENT_ID.to_string(),
            s("FINDING#xyz"),
        )]));
        assert_eq!(damaged.key, "xyz");
        assert_eq!(damaged.window_start, i64::MIN);
        assert_eq!(damaged.last_seen_at, i64::MIN);
        assert_eq!(damaged.count, 1);
        // Written before LastSeenAt: read from LastSeen.
        let mut older = f.to_item();
        older.remove(attr::LAST_SEEN_AT);
        assert_eq!(FindingItem::from_item(&older).last_seen_at, 1_795_170_000);
    }
}
