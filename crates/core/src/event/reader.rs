//! Streams access-denied records out of any input form: one record, `{"Records": [...]}`
//! (CloudTrail log files and the console's download), an EventBridge envelope, LookupEvents
//! output (`{"Events": [{"CloudTrailEvent": "<json>"}]}`), a JSON list of any of these, or
//! NDJSON of any of these.
//!
//! The input is scanned byte by byte: the elements of a top-level `Records` / `Events` list are
//! cut out one at a time, so memory stays flat however large the file. Records that are not
//! access denials are counted and skipped (most without being parsed: a record without the text
//! `errorCode` cannot be one). A denial without `eventID` gets an id derived from its content
//! ([`derived_event_id`]). A record that cannot be read becomes an error item (naming the
//! field of a wrong type); the rest go on. In NDJSON a broken line (cut off, or not JSON at all)
//! is one error and reading resumes at the next line; a cut-off list or object elsewhere ends
//! the read with one error, since nothing after the break can be located reliably.

use std::io::Read;

use serde::Deserialize;
use serde_json::Value;

use super::raw::RawRecord;
use super::{is_access_denied_code, AccessDeniedEvent, EventError};

/// What the reader yields.
#[derive(Debug)]
pub enum Item {
    Denial(Box<AccessDeniedEvent>),
    /// A record (or piece of input) that could not be read: its `eventID` when known, else
    /// `record-<n>`, and why.
    Error {
        event_id: String,
        error: EventError,
    },
}

/// Counters of one read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Records seen (every element, readable or not).
    pub records: u64,
    pub denials: u64,
    /// Records that are not access denials.
    pub skipped: u64,
    pub errors: u64,
    pub bytes: u64,
}

const CHUNK: usize = 256 * 1024;
/// The largest single record accepted (CloudTrail records are at most a few hundred KB).
pub const MAX_RECORD_BYTES: usize = 32 * 1024 * 1024;

#[derive(Debug, PartialEq, Eq)]
enum Frame {
    /// Between top-level values.
    Top,
    /// Inside a top-level list, or the `Records`/`Events` list of a top-level object (`true`:
    /// the rest of that object must be skipped after the list).
    List { in_object: bool },
}

/// The streaming reader.
pub struct RecordReader<R: Read> {
    input: R,
    buf: Vec<u8>,
    pos: usize,
    len: usize,
    eof: bool,
    frame: Frame,
    element: Vec<u8>,
    pending: std::collections::VecDeque<Item>,
    pub counts: Counts,
    failed: bool,
    /// While a top-level object is scanned: every byte consumed since it started (so an
    /// NDJSON line that turns out broken can be cut off and the lines after it re-read).
    tap: Option<Vec<u8>>,
    /// Where in `buf` the tap continues.
    tap_from: usize,
    /// A break in the input found right after a complete element: reported after that
    /// element, so the element itself is not lost.
    broken: Option<EventError>,
}

enum Scan {
    Value,
    End,
}

/// Record types that are a caller's request (CloudTrail User Guide, "CloudTrail record
/// contents", `eventType`). Insights records (`AwsCloudTrailInsight`), service events
/// (`AwsServiceEvent`) and other non-request records carry no request to diagnose, even when an
/// `errorCode` appears in them: they are skipped, not errors. A record without `eventType` (older
/// or hand-written ones) counts as a call.
const API_CALL_EVENT_TYPES: &[&str] = &[
    "AwsApiCall",
    "AwsConsoleAction",
    "AwsConsoleSignIn",
    "AwsVpceEvent",
];

fn is_api_call(record: &Value) -> bool {
    match record.get("eventType") {
        None | Some(Value::Null) => true,
        Some(Value::String(t)) => API_CALL_EVENT_TYPES.contains(&t.as_str()),
        Some(_) => true,
    }
}

impl<R: Read> RecordReader<R> {
    pub fn new(input: R) -> Self {
        RecordReader {
            input,
            buf: vec![0; CHUNK],
            pos: 0,
            len: 0,
            eof: false,
            frame: Frame::Top,
            element: Vec::new(),
            pending: Default::default(),
            counts: Counts::default(),
            failed: false,
            tap: None,
            tap_from: 0,
            broken: None,
        }
    }

    fn fill(&mut self) -> Result<bool, EventError> {
        if self.pos < self.len {
            return Ok(true);
        }
        if self.eof {
            return Ok(false);
        }
        if let Some(t) = self.tap.as_mut() {
            t.extend_from_slice(&self.buf[self.tap_from..self.len]);
            self.tap_from = self.len;
            // The tap also holds whitespace between keys, which `copy_value` does not count:
            // bound it too, so an endless object (a gzip bomb) cannot exhaust memory.
            if t.len() > MAX_RECORD_BYTES {
                self.tap = None;
                return Err(too_large());
            }
        }
        loop {
            match self.input.read(&mut self.buf) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.pos = 0;
                    self.len = n;
                    self.tap_from = 0;
                    self.counts.bytes += n as u64;
                    return Ok(true);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(EventError::Shape(format!("cannot read input: {e}"))),
            }
        }
    }

    fn start_tap(&mut self) {
        self.tap = Some(Vec::new());
        self.tap_from = self.pos;
    }

    fn stop_tap(&mut self) -> Vec<u8> {
        let mut t = self.tap.take().unwrap_or_default();
        t.extend_from_slice(&self.buf[self.tap_from.min(self.pos)..self.pos]);
        t
    }

    /// Puts `bytes` back in front of the unread input.
    fn push_back(&mut self, bytes: &[u8]) {
        let mut buf = bytes.to_vec();
        buf.extend_from_slice(&self.buf[self.pos..self.len]);
        let valid = buf.len();
        if buf.len() < CHUNK {
            buf.resize(CHUNK, 0);
        }
        self.buf = buf;
        self.pos = 0;
        self.len = valid;
    }

    /// Consumes the input up to and including the next line break, keeping what it skipped
    /// (up to [`MAX_RECORD_BYTES`]) in `out`.
    fn skip_line(&mut self, mut out: Option<&mut Vec<u8>>) -> Result<(), EventError> {
        while self.fill()? {
            let chunk = &self.buf[self.pos..self.len];
            let (end, done) = match chunk.iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (chunk.len(), false),
            };
            if let Some(o) = out.as_deref_mut() {
                if o.len() < MAX_RECORD_BYTES {
                    o.extend_from_slice(&chunk[..end]);
                }
            }
            self.pos += end;
            if done {
                return Ok(());
            }
        }
        Ok(())
    }

    /// After a top-level value that failed, decides whether the input is NDJSON and, if so,
    /// resumes at the line after the one the value started on. `tapped` is everything consumed
    /// since that value started. Returns the text of the broken line when it resumed.
    fn resume_after_line(&mut self, tapped: &[u8]) -> Result<Option<Vec<u8>>, EventError> {
        let line = match tapped.iter().position(|&b| b == b'\n') {
            Some(nl) => {
                let rest = &tapped[nl + 1..];
                let next = rest.iter().find(|b| !b.is_ascii_whitespace()).copied();
                // A lone `{` on its line is pretty-printed JSON, not NDJSON.
                let line = tapped[..nl].trim_ascii();
                let next = next.or_else(|| {
                    self.buf[self.pos..self.len]
                        .iter()
                        .find(|b| !b.is_ascii_whitespace())
                        .copied()
                });
                if line.len() <= 1 || !matches!(next, Some(b'{' | b'[') | None) {
                    return Ok(None);
                }
                let line = line.to_vec();
                self.push_back(rest);
                line
            }
            None => {
                // The value broke on its first line: the rest of that line goes too.
                let mut line = tapped.to_vec();
                self.skip_line(Some(&mut line))?;
                if !matches!(self.skip_ws()?, Some(b'{' | b'[') | None) {
                    return Ok(None);
                }
                line.trim_ascii().to_vec()
            }
        };
        Ok(Some(line))
    }

    /// Skips a run of lines that are not JSON values (up to a line starting with `{` or `[`).
    fn skip_garbage_lines(&mut self) -> Result<(), EventError> {
        loop {
            self.skip_line(None)?;
            if matches!(self.skip_ws()?, Some(b'{' | b'[') | None) {
                return Ok(());
            }
        }
    }

    /// One broken line of NDJSON: counted as a record that could not be read.
    fn line_error(&mut self, line: &[u8], fallback: EventError) {
        self.counts.records += 1;
        let error = match serde_json::from_slice::<serde::de::IgnoredAny>(line) {
            Err(e) => {
                EventError::Json(format!("{e} (one line of NDJSON; the next lines are read)"))
            }
            Ok(_) => fallback,
        };
        let id = self.record_label();
        self.push_error(id, error);
    }

    fn skip_ws(&mut self) -> Result<Option<u8>, EventError> {
        while self.fill()? {
            let b = self.buf[self.pos];
            if b.is_ascii_whitespace() {
                self.pos += 1;
            } else {
                return Ok(Some(b));
            }
        }
        Ok(None)
    }

    fn expect(&mut self, want: u8) -> Result<(), EventError> {
        match self.skip_ws()? {
            Some(b) if b == want => {
                self.pos += 1;
                Ok(())
            }
            Some(b) => Err(EventError::Json(format!(
                "expected `{}`, found `{}`",
                want as char, b as char
            ))),
            None => Err(EventError::Json(format!(
                "unexpected end of input, expected `{}`",
                want as char
            ))),
        }
    }

    /// Copies one JSON value (object, list, string or scalar) into `out` (or skips it).
    fn copy_value(&mut self, mut out: Option<&mut Vec<u8>>) -> Result<(), EventError> {
        let first = self
            .skip_ws()?
            .ok_or_else(|| EventError::Json("unexpected end of input".into()))?;
        let mut depth: usize = 0;
        let mut in_string = false;
        let mut escaped = false;
        let scalar = !matches!(first, b'{' | b'[' | b'"');
        let mut started = false;
        let mut copied: usize = 0;
        loop {
            if !self.fill()? {
                if scalar && started {
                    return Ok(());
                }
                return Err(EventError::Json(
                    "unexpected end of input inside a value (truncated?)".into(),
                ));
            }
            let chunk = &self.buf[self.pos..self.len];
            let mut i = 0;
            let mut done = false;
            while i < chunk.len() {
                let b = chunk[i];
                if in_string {
                    if escaped {
                        escaped = false;
                    } else if b == b'\\' {
                        escaped = true;
                    } else if b == b'"' {
                        in_string = false;
                        if depth == 0 {
                            i += 1;
                            done = true;
                            break;
                        }
                    }
                } else if scalar {
                    if matches!(b, b',' | b']' | b'}') || b.is_ascii_whitespace() {
                        done = true;
                        break;
                    }
                    started = true;
                } else {
                    match b {
                        b'"' => in_string = true,
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth = depth.saturating_sub(1);
                            if depth == 0 {
                                i += 1;
                                done = true;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                i += 1;
            }
            if let Some(o) = out.as_deref_mut() {
                o.extend_from_slice(&chunk[..i]);
            }
            copied += i;
            self.pos += i;
            if done {
                return Ok(());
            }
            if copied > MAX_RECORD_BYTES {
                return Err(too_large());
            }
        }
    }

    /// Reads a JSON string key (returns its raw text without quotes).
    fn read_key(&mut self) -> Result<Vec<u8>, EventError> {
        let mut raw = Vec::new();
        if self.skip_ws()? != Some(b'"') {
            return Err(EventError::Json("expected an object key".into()));
        }
        self.copy_value(Some(&mut raw))?;
        if raw.len() >= 2 {
            raw.remove(0);
            raw.pop();
        }
        Ok(raw)
    }

    /// Scans a top-level object: streams its `Records` / `Events` list, or returns the whole
    /// object (a single record or an envelope) in `self.element`.
    fn top_object(&mut self) -> Result<Scan, EventError> {
        self.expect(b'{')?;
        let mut whole = b"{".to_vec();
        let mut first = true;
        loop {
            match self.skip_ws()? {
                Some(b'}') => {
                    self.pos += 1;
                    whole.push(b'}');
                    self.element = whole;
                    return Ok(Scan::Value);
                }
                Some(b',') if !first => {
                    self.pos += 1;
                    whole.push(b',');
                }
                Some(_) if first => {}
                Some(b) => {
                    return Err(EventError::Json(format!(
                        "expected `,` or `}}`, found `{}`",
                        b as char
                    )))
                }
                None => {
                    return Err(EventError::Json(
                        "unexpected end of input inside an object (truncated?)".into(),
                    ))
                }
            }
            first = false;
            let key = self.read_key()?;
            self.expect(b':')?;
            let next = self.skip_ws()?;
            if (key == b"Records" || key == b"Events") && next == Some(b'[') {
                self.pos += 1;
                self.frame = Frame::List { in_object: true };
                return Ok(Scan::End);
            }
            whole.push(b'"');
            whole.extend_from_slice(&key);
            whole.extend_from_slice(b"\":");
            self.copy_value(Some(&mut whole))?;
            // Each value is bounded by `copy_value`; the object as a whole must be too.
            if whole.len() > MAX_RECORD_BYTES {
                return Err(too_large());
            }
        }
    }

    /// Skips the rest of an object after its streamed list.
    fn finish_object(&mut self) -> Result<(), EventError> {
        loop {
            match self.skip_ws()? {
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(b',') => {
                    self.pos += 1;
                    self.read_key()?;
                    self.expect(b':')?;
                    self.copy_value(None)?;
                }
                Some(b) => {
                    return Err(EventError::Json(format!(
                        "expected `,` or `}}`, found `{}`",
                        b as char
                    )))
                }
                None => {
                    return Err(EventError::Json(
                        "unexpected end of input (truncated?)".into(),
                    ))
                }
            }
        }
    }

    /// Produces the next raw element into `self.element`; `Ok(false)` at the end of input.
    fn next_element(&mut self) -> Result<bool, EventError> {
        if let Some(e) = self.broken.take() {
            return Err(e);
        }
        loop {
            match self.frame {
                Frame::Top => match self.skip_ws()? {
                    None => return Ok(false),
                    Some(b'[') => {
                        self.pos += 1;
                        self.frame = Frame::List { in_object: false };
                        // An empty list.
                        if self.skip_ws()? == Some(b']') {
                            self.pos += 1;
                            self.frame = Frame::Top;
                        }
                    }
                    Some(b'{') => {
                        self.start_tap();
                        let scanned = self.top_object();
                        let tapped = self.stop_tap();
                        match scanned {
                            Ok(Scan::Value) => {
                                // A value spread over lines that is not valid JSON may be a
                                // broken NDJSON line that swallowed the lines after it.
                                let broken = tapped.contains(&b'\n')
                                    && serde_json::from_slice::<serde::de::IgnoredAny>(
                                        &self.element,
                                    )
                                    .is_err();
                                if broken {
                                    if let Some(line) = self.resume_after_line(&tapped)? {
                                        let e = EventError::Json("a line is not valid json".into());
                                        self.line_error(&line, e);
                                        continue;
                                    }
                                }
                                return Ok(true);
                            }
                            Ok(Scan::End) => {}
                            // Too large: stop rather than scan on (the rest may be a bomb).
                            Err(e) if is_too_large(&e) => return Err(e),
                            Err(e) => match self.resume_after_line(&tapped)? {
                                Some(line) => {
                                    self.line_error(&line, e);
                                    continue;
                                }
                                None => return Err(e),
                            },
                        }
                        if self.skip_ws()? == Some(b']') {
                            self.pos += 1;
                            self.frame = Frame::Top;
                            self.finish_object()?;
                        }
                    }
                    Some(0xEF) if self.buf[self.pos..self.len].starts_with(&[0xEF, 0xBB, 0xBF]) => {
                        // A UTF-8 byte order mark.
                        self.pos += 3;
                    }
                    Some(b) => {
                        // Not JSON: skip to the next line that starts a value (NDJSON with a
                        // stray line, or a header), reporting the run once.
                        self.skip_garbage_lines()?;
                        self.counts.records += 1;
                        let id = self.record_label();
                        self.push_error(
                            id,
                            EventError::Json(format!(
                                "unexpected `{}` where a JSON value should start; skipped to the next line that starts one",
                                (b as char).escape_default()
                            )),
                        );
                    }
                },
                Frame::List { in_object } => {
                    self.element.clear();
                    let mut el = std::mem::take(&mut self.element);
                    let r = self.copy_value(Some(&mut el));
                    self.element = el;
                    r?;
                    match self.skip_ws()? {
                        Some(b',') => self.pos += 1,
                        Some(b']') => {
                            self.pos += 1;
                            self.frame = Frame::Top;
                            if in_object {
                                self.finish_object()?;
                            }
                        }
                        // The element itself is complete: it is still read, and the break
                        // is reported after it.
                        Some(b) => {
                            self.broken = Some(EventError::Json(format!(
                                "expected `,` or `]` between records, found `{}`",
                                (b as char).escape_default()
                            )))
                        }
                        None => {
                            self.broken = Some(EventError::Json(
                                "unexpected end of input inside a list (truncated?)".into(),
                            ))
                        }
                    }
                    return Ok(true);
                }
            }
        }
    }

    fn record_label(&self) -> String {
        format!("record-{}", self.counts.records)
    }

    /// Classifies one element: skipped, a denial, or an error.
    fn classify(&mut self) {
        self.counts.records += 1;
        // LookupEvents entries are always parsed: a `CloudTrailEvent` string that was cut off
        // may have lost its `errorCode` and must be reported, not skipped.
        if !contains(&self.element, b"errorCode") && !contains(&self.element, b"CloudTrailEvent") {
            self.counts.skipped += 1;
            return;
        }
        let value: Value = match crate::json::from_slice(&self.element) {
            Ok(v) => v,
            Err(e) => {
                let id = self.record_label();
                self.push_error(id, EventError::Json(e.to_string()));
                return;
            }
        };
        let mut records = Vec::new();
        let label = envelope_event_id(&value);
        if let Err(e) = unwrap_envelopes(value, &mut records, 0) {
            let id = label.unwrap_or_else(|| self.record_label());
            self.push_error(id, e);
            return;
        }
        for r in records {
            self.record(r);
        }
    }

    fn record(&mut self, value: Value) {
        let code = value.get("errorCode").and_then(Value::as_str).unwrap_or("");
        if !is_access_denied_code(code) || !is_api_call(&value) {
            self.counts.skipped += 1;
            return;
        }
        let id = value
            .get("eventID")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| self.record_label());
        let mut raw = match RawRecord::deserialize(&value) {
            Ok(r) => r,
            Err(e) => {
                let detail = shape::describe(&value).unwrap_or_else(|| e.to_string());
                return self.push_error(id, EventError::Shape(detail));
            }
        };
        if raw.event_id.is_none() {
            raw.event_id = Some(derived_event_id(&value));
        }
        match AccessDeniedEvent::from_raw(raw) {
            Ok(ev) => {
                self.counts.denials += 1;
                self.pending.push_back(Item::Denial(Box::new(ev)));
            }
            Err(e) => self.push_error(id, e),
        }
    }

    fn push_error(&mut self, event_id: String, error: EventError) {
        self.counts.errors += 1;
        self.pending.push_back(Item::Error { event_id, error });
    }
}

/// The id of a record without `eventID` (records pasted into rule tests and tickets often lose
/// it): `derived-` and the FNV-1a 64 hash of the record's JSON as read, in hex, so the same
/// record gets the same id on every read and different records (almost surely) different ones.
pub fn derived_event_id(record: &Value) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in record.to_string().bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("derived-{hash:016x}")
}

/// EventBridge envelopes, LookupEvents entries and nested `Records` → plain records.
fn unwrap_envelopes(value: Value, out: &mut Vec<Value>, depth: usize) -> Result<(), EventError> {
    if depth > 3 {
        return Err(EventError::Shape("envelopes nested too deeply".into()));
    }
    let Value::Object(mut obj) = value else {
        return Err(EventError::Shape("a record must be a json object".into()));
    };
    if let Some(detail) = obj.remove("detail") {
        let dt = obj.get("detail-type").and_then(Value::as_str).unwrap_or("");
        if dt != "AWS API Call via CloudTrail" {
            return Err(EventError::Shape(format!(
                "EventBridge event with detail-type `{dt}`: only `AWS API Call via CloudTrail` is accepted"
            )));
        }
        return unwrap_envelopes(detail, out, depth + 1);
    }
    match obj.remove("CloudTrailEvent") {
        Some(Value::String(inner)) => {
            let v: Value = crate::json::from_str(&inner)
                .map_err(|e| EventError::Json(format!("`CloudTrailEvent`: {e}")))?;
            return unwrap_envelopes(v, out, depth + 1);
        }
        // Tools that re-serialize LookupEvents output may have parsed it already.
        Some(v @ Value::Object(_)) => return unwrap_envelopes(v, out, depth + 1),
        Some(other) => {
            return Err(EventError::Shape(format!(
                "`CloudTrailEvent` must be a JSON string, found {}",
                shape::kind(&other)
            )))
        }
        None => {}
    }
    if let Some(Value::Array(items)) = obj.remove("Records") {
        for i in items {
            unwrap_envelopes(i, out, depth + 1)?;
        }
        return Ok(());
    }
    out.push(Value::Object(obj));
    Ok(())
}

/// The event id an envelope carries (`eventID`, EventBridge's `detail.eventID`, LookupEvents'
/// `EventId`), to label an error in it.
fn envelope_event_id(v: &Value) -> Option<String> {
    v.get("eventID")
        .or_else(|| v.get("detail").and_then(|d| d.get("eventID")))
        .or_else(|| v.get("EventId"))
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// Says which field of a record has the wrong type (serde's own message does not name it).
mod shape {
    use serde::Deserialize;
    use serde_json::{Map, Value};

    use super::super::raw::{
        RawRecord, RawResource, RawSessionAttributes, RawSessionContext, RawSessionIssuer,
        RawUserIdentity, RawWebIdFederation,
    };

    #[derive(Clone, Copy)]
    enum Kind {
        Record,
        Identity,
        Session,
        Issuer,
        Attributes,
        WebId,
        Resource,
    }

    fn check(kind: Kind, v: &Value) -> Result<(), serde_json::Error> {
        match kind {
            Kind::Record => RawRecord::deserialize(v).map(drop),
            Kind::Identity => RawUserIdentity::deserialize(v).map(drop),
            Kind::Session => RawSessionContext::deserialize(v).map(drop),
            Kind::Issuer => RawSessionIssuer::deserialize(v).map(drop),
            Kind::Attributes => RawSessionAttributes::deserialize(v).map(drop),
            Kind::WebId => RawWebIdFederation::deserialize(v).map(drop),
            Kind::Resource => RawResource::deserialize(v).map(drop),
        }
    }

    /// The structured child fields of each kind.
    fn child(kind: Kind, key: &str) -> Option<(Kind, bool)> {
        match (kind, key) {
            (Kind::Record, "userIdentity") => Some((Kind::Identity, false)),
            (Kind::Record, "resources") => Some((Kind::Resource, true)),
            (Kind::Identity, "sessionContext") => Some((Kind::Session, false)),
            (Kind::Session, "sessionIssuer") => Some((Kind::Issuer, false)),
            (Kind::Session, "attributes") => Some((Kind::Attributes, false)),
            (Kind::Session, "webIdFederationData") => Some((Kind::WebId, false)),
            _ => None,
        }
    }

    /// `a JSON object`, `a number`, ...
    pub(super) fn kind(v: &Value) -> &'static str {
        match v {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "a list",
            Value::Object(_) => "a JSON object",
        }
    }

    /// Why `record` does not fit the record shape, naming the field (`userIdentity.type`).
    pub(super) fn describe(record: &Value) -> Option<String> {
        locate(Kind::Record, record, "")
    }

    fn locate(kind: Kind, v: &Value, path: &str) -> Option<String> {
        let Value::Object(obj) = v else {
            let name = if path.is_empty() { "the record" } else { path };
            return Some(format!(
                "`{name}` must be a JSON object, found {}",
                self::kind(v)
            ));
        };
        for (k, field) in obj {
            let single = Value::Object(Map::from_iter([(k.clone(), field.clone())]));
            let Err(e) = check(kind, &single) else {
                continue;
            };
            let here = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            let nested = match (child(kind, k), field) {
                (Some((inner, true)), Value::Array(items)) => items
                    .iter()
                    .enumerate()
                    .find_map(|(i, item)| locate(inner, item, &format!("{here}[{i}]"))),
                (Some((_, true)), other) => Some(format!(
                    "`{here}` must be a list, found {}",
                    self::kind(other)
                )),
                (Some((inner, false)), item) => locate(inner, item, &here),
                (None, _) => None,
            };
            return Some(nested.unwrap_or_else(|| format!("`{here}`: {e}")));
        }
        None
    }
}

fn too_large() -> EventError {
    EventError::Shape(format!(
        "a single record is larger than {MAX_RECORD_BYTES} bytes (the input limit); reading stops here"
    ))
}

fn is_too_large(e: &EventError) -> bool {
    matches!(e, EventError::Shape(m) if m.starts_with("a single record is larger than"))
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    let Some((&first, rest)) = needle.split_first() else {
        return true;
    };
    let mut start = 0;
    while let Some(i) = hay[start..].iter().position(|&b| b == first) {
        let at = start + i;
        if hay[at + 1..].starts_with(rest) {
            return true;
        }
        start = at + 1;
    }
    false
}

impl<R: Read> Iterator for RecordReader<R> {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        loop {
            if let Some(item) = self.pending.pop_front() {
                return Some(item);
            }
            if self.failed {
                return None;
            }
            match self.next_element() {
                Ok(true) => self.classify(),
                // Errors found while looking for the next element may still be queued.
                Ok(false) => return self.pending.pop_front(),
                Err(e) => {
                    // The input's structure is broken: report once, after any errors already
                    // queued, and stop (nothing after the break can be located reliably).
                    self.failed = true;
                    self.counts.errors += 1;
                    let id = format!("input-after-record-{}", self.counts.records);
                    self.pending.push_back(Item::Error {
                        event_id: id,
                        error: e,
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> (Vec<String>, Counts) {
        let mut r = RecordReader::new(text.as_bytes());
        let mut out = Vec::new();
        for item in r.by_ref() {
            match item {
                Item::Denial(e) => out.push(e.event_id.clone()),
                Item::Error { event_id, error } => out.push(format!("ERR {event_id}: {error}")),
            }
        }
        (out, r.counts)
    }

    const REC: &str = r#"{"eventID":"E1","eventSource":"s3.amazonaws.com","eventName":"GetObject","errorCode":"AccessDenied","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/a","accountId":"111122223333"}}"#;

    #[test]
    fn forms() {
        let ok = |t: &str| read(t).0;
        assert_eq!(ok(REC), vec!["E1"]);
        assert_eq!(
            ok(&format!("{{\"Records\": [{REC}, {{\"eventID\":\"x\"}}]}}")),
            vec!["E1"]
        );
        assert_eq!(ok(&format!("[{REC},{REC}]")), vec!["E1", "E1"]);
        assert_eq!(ok(&format!("{REC}\n{REC}\n")), vec!["E1", "E1"]);
        let eb = format!("{{\"detail-type\":\"AWS API Call via CloudTrail\",\"source\":\"aws.s3\",\"detail\":{REC}}}");
        assert_eq!(ok(&eb), vec!["E1"]);
        let le =
            serde_json::json!({"Events": [{"EventId": "E1", "CloudTrailEvent": REC}]}).to_string();
        assert_eq!(ok(&le), vec!["E1"]);
        assert_eq!(
            ok(&format!(
                "{{\"Other\": 1, \"Records\": [{REC}], \"Trailer\": {{\"a\": [1]}}}}"
            )),
            vec!["E1"]
        );
    }

    #[test]
    fn broken_records_do_not_stop_the_batch() {
        let text = format!("{{\"Records\": [{REC}, {{\"eventID\":\"E2\",\"errorCode\":\"AccessDenied\"}}, {REC}]}}");
        let (out, counts) = read(&text);
        assert_eq!(out.len(), 3);
        assert!(out[1].starts_with("ERR E2"), "{out:?}");
        assert_eq!(counts.denials, 2);
        let (out, _) = read(&format!(
            "{REC}\n{{\"eventID\": \"E3\", \"errorCode\": \"AccessDenied\", oops}}\n"
        ));
        assert!(out[1].starts_with("ERR"), "{out:?}");
    }

    #[test]
    fn ndjson_broken_lines_are_skipped() {
        let cut = &REC[..60];
        let text = format!("{REC}\n{cut}\n{REC}\nnot json\nstill not\n{REC}\n{cut}");
        let (out, counts) = read(&text);
        assert_eq!(out.len(), 6, "{out:?}");
        assert_eq!(out[0], "E1");
        assert!(
            out[1].starts_with("ERR record-2") && out[1].contains("EOF"),
            "{out:?}"
        );
        assert_eq!(out[2], "E1");
        assert!(out[3].contains("unexpected `n`"), "{out:?}");
        assert_eq!(out[4], "E1");
        assert!(out[5].starts_with("ERR"), "{out:?}");
        assert_eq!((counts.denials, counts.errors), (3, 3));
    }

    #[test]
    fn pretty_printed_records() {
        let pretty = "\u{feff}{\n  \"eventID\": \"E1\",\n  \"eventSource\": \"s3.amazonaws.com\",\n  \"eventName\": \"GetObject\",\n  \"errorCode\": \"AccessDenied\",\n  \"userIdentity\": {\"type\": \"IAMUser\", \"arn\": \"arn:aws:iam::111122223333:user/a\"}\n}\n";
        assert_eq!(read(pretty).0, vec!["E1"]);
        // A broken pretty-printed record is one error, not one per line.
        let broken = pretty.replace("\"GetObject\",", "\"GetObject\" oops,");
        let (out, counts) = read(&broken);
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(counts.errors, 1);
    }

    #[test]
    fn shape_errors_name_the_field() {
        let bad = REC.replace(
            "\"accountId\":\"111122223333\"",
            "\"accountId\":111122223333",
        );
        let (out, _) = read(&bad);
        assert!(out[0].contains("`userIdentity.accountId`"), "{out:?}");
    }

    #[test]
    fn the_record_before_a_break_is_kept() {
        let (out, counts) = read(&format!("{{\"Records\": [{REC} {REC}]}}"));
        assert_eq!(out[0], "E1");
        assert!(out[1].contains("expected `,` or `]`"), "{out:?}");
        assert_eq!((counts.denials, counts.errors), (1, 1));
        let (out, _) = read(&format!("{{\"Records\": [{REC}"));
        assert_eq!(out[0], "E1");
        assert!(out[1].contains("truncated"), "{out:?}");
    }

    #[test]
    fn endless_objects_are_cut_off() {
        // Many small keys, then whitespace: each bounded by the record limit, not only values.
        let keys = ",\"k\":1".repeat(MAX_RECORD_BYTES / 6 + 1);
        let (out, _) = read(&format!("{{\"errorCode\":\"AccessDenied\"{keys}}}"));
        assert!(out[0].contains("larger than"), "{}", out[0].len());
        let spaces = " ".repeat(MAX_RECORD_BYTES + 2 * CHUNK);
        let (out, _) = read(&format!(
            "{{\"errorCode\":\"AccessDenied\",{spaces}\"a\":1}}"
        ));
        assert!(out[0].contains("larger than"), "{}", out[0].len());
    }

    #[test]
    fn truncated_input_is_an_error() {
        let (out, _) = read(&format!("{{\"Records\": [{REC}, {{\"eventID\": \"E"));
        assert_eq!(out[0], "E1");
        assert!(out[1].contains("truncated"), "{out:?}");
    }
}
