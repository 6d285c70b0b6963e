//! One invocation's payload as Lambda delivered it: the original text, so that the record
//! reader — which refuses an object naming a key twice — sees exactly what was sent, and the
//! few labels the handler needs before any record is read.

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use super::config::is_account;

/// The payload's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload(String);

impl Payload {
    /// The text, as the record reader reads it.
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }

    /// What the handler needs to know about the payload as a whole.
    pub(super) fn labels(&self) -> Labels {
        // Labels only name what an answer or a log line is about; they are never diagnosed, so
        // a payload that cannot be read for them simply has none.
        serde_json::from_str(&self.0).unwrap_or_default()
    }
}

/// The runtime's payload: untouched.
impl From<Box<RawValue>> for Payload {
    fn from(raw: Box<RawValue>) -> Payload {
        Payload(Box::<str>::from(raw).into_string())
    }
}

impl From<String> for Payload {
    fn from(text: String) -> Payload {
        Payload(text)
    }
}

impl From<&str> for Payload {
    fn from(text: &str) -> Payload {
        Payload(text.to_string())
    }
}

/// A payload another Rust caller already parsed (tests, manual wiring). Serialised back to
/// text; a key it named twice was already resolved by whoever parsed it.
impl From<Value> for Payload {
    fn from(value: Value) -> Payload {
        Payload(value.to_string())
    }
}

/// What the handler reads of the payload as a whole, in one parse: the labels that name it (the
/// envelope's `account` and `id`, the record's `eventID`) and what admission checks (`source`,
/// `detail-type`, `recipientAccountId`, a `Records` list, the caller's ARNs).
#[derive(Debug, Default, Deserialize)]
pub(super) struct Labels {
    pub(super) source: Option<Value>,
    #[serde(rename = "detail-type")]
    pub(super) detail_type: Option<Value>,
    pub(super) account: Option<Value>,
    id: Option<Value>,
    #[serde(rename = "eventID")]
    pub(super) event_id: Option<Value>,
    #[serde(rename = "userIdentity")]
    pub(super) user_identity: Option<Identity>,
    pub(super) detail: Option<Detail>,
}

/// The envelope's `detail`: the record.
#[derive(Debug, Default, Deserialize)]
pub(super) struct Detail {
    #[serde(rename = "eventID")]
    pub(super) event_id: Option<Value>,
    #[serde(rename = "recipientAccountId")]
    pub(super) recipient_account_id: Option<Value>,
    #[serde(rename = "Records")]
    pub(super) records: Option<Value>,
    #[serde(rename = "userIdentity")]
    pub(super) user_identity: Option<Identity>,
}

/// A record's `userIdentity`, as far as admission reads it.
#[derive(Debug, Default, Deserialize)]
pub(super) struct Identity {
    pub(super) arn: Option<Value>,
    #[serde(rename = "sessionContext")]
    pub(super) session_context: Option<SessionContext>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct SessionContext {
    #[serde(rename = "sessionIssuer")]
    pub(super) session_issuer: Option<Issuer>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct Issuer {
    pub(super) arn: Option<Value>,
}

impl Labels {
    /// The envelope's `account`, when it is an account id.
    pub(super) fn account(&self) -> Option<String> {
        self.account
            .as_ref()
            .and_then(Value::as_str)
            .filter(|a| is_account(a))
            .map(str::to_string)
    }

    /// The payload's event id: `detail.eventID`, else `eventID`, else the envelope's `id`.
    pub(super) fn event_id(&self) -> Option<String> {
        [
            self.detail.as_ref().and_then(|d| d.event_id.as_ref()),
            self.event_id.as_ref(),
            self.id.as_ref(),
        ]
        .into_iter()
        .flatten()
        .find_map(Value::as_str)
        .map(str::to_string)
    }
}

/// Whether an event id is the reader's label for a record it could not name (`record-<n>`).
pub(super) fn is_positional_label(event_id: &str) -> bool {
    event_id
        .strip_prefix("record-")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_runtimes_payload_keeps_its_text() {
        let text = r#"{"detail": {"eventID": "e-1", "eventID": "e-2"}, "account": "111122223333"}"#;
        let raw: Box<RawValue> = serde_json::from_str(text).unwrap();
        let payload = Payload::from(raw);
        assert_eq!(
            payload.as_bytes(),
            text.as_bytes(),
            "nothing resolved, nothing reordered"
        );
    }

    #[test]
    fn labels() {
        let p = Payload::from(
            r#"{"id": "env-1", "account": "111122223333", "detail": {"eventID": "e-1"}}"#,
        );
        assert_eq!(p.labels().event_id().as_deref(), Some("e-1"));
        assert_eq!(p.labels().account().as_deref(), Some("111122223333"));
        let p = Payload::from(r#"{"id": "env-1", "account": "me", "detail": {}}"#);
        assert_eq!(p.labels().event_id().as_deref(), Some("env-1"));
        assert_eq!(p.labels().account(), None);
        let p = Payload::from(r#"{"eventID": 7, "id": "env-2"}"#);
        assert_eq!(p.labels().event_id().as_deref(), Some("env-2"));
        assert_eq!(Payload::from("\"just a string\"").labels().event_id(), None);
        assert_eq!(Payload::from("{not json").labels().event_id(), None);
    }

    #[test]
    fn positional_labels() {
        assert!(is_positional_label("record-1"));
        assert!(is_positional_label("record-12"));
        assert!(!is_positional_label("record-"));
        assert!(!is_positional_label("input-after-record-1"));
        assert!(!is_positional_label("5ac7912b-fd5d-436a-b60c-8a4ec1f61cdc"));
    }
}

/// A payload asking for one of the function's other modes rather than a diagnosis: a backfill
/// batch, a backfill's summary, or the digest (`{"<Mode>": {...}}`), with the mode's value.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Mode {
    Backfill(Value),
    BackfillSummary(Value),
    Digest(Value),
}

impl Mode {
    /// The mode the payload asks for; `None` for everything else (read as records).
    pub(super) fn of(payload: &Payload) -> Option<Mode> {
        #[derive(Deserialize)]
        struct Keys {
            #[serde(rename = "Backfill")]
            backfill: Option<Value>,
            #[serde(rename = "BackfillSummary")]
            backfill_summary: Option<Value>,
            #[serde(rename = "Digest")]
            digest: Option<Value>,
        }
        let keys: Keys = serde_json::from_slice(payload.as_bytes()).ok()?;
        keys.backfill
            .map(Mode::Backfill)
            .or_else(|| keys.backfill_summary.map(Mode::BackfillSummary))
            .or_else(|| keys.digest.map(Mode::Digest))
    }
}

/// A mode's request read from its value; why not, naming the mode.
pub(crate) fn read_mode<T: DeserializeOwned>(mode: &str, value: Value) -> Result<T, String> {
    serde_json::from_value(value).map_err(|e| format!("not a {mode} request: {e}"))
}

#[cfg(test)]
mod mode_tests {
    use super::*;

    #[test]
    fn modes_are_told_from_events() {
        let mode = |text: &str| Mode::of(&Payload::from(text));
        assert_eq!(
            mode(r#"{"Backfill": {"Bucket": "b"}}"#),
            Some(Mode::Backfill(serde_json::json!({"Bucket": "b"})))
        );
        assert!(matches!(
            mode(r#"{"BackfillSummary": {}}"#),
            Some(Mode::BackfillSummary(_))
        ));
        assert!(matches!(
            mode(r#"{"Digest": {"Days": 7}}"#),
            Some(Mode::Digest(_))
        ));
        for other in [
            r#"{"detail-type": "x", "detail": {}}"#,
            r#"{"Records": []}"#,
            "not json",
            "[]",
        ] {
            assert_eq!(mode(other), None, "{other}");
        }
    }
}
