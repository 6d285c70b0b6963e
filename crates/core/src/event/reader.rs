//! Streams access-denied records out of any input form: one record, `{"Records": [...]}`
//! (CloudTrail log files and the console's download), an EventBridge envelope, LookupEvents
//! output (`{"Events": [{"CloudTrailEvent": "<json>"}]}`), a JSON list of any of these, or
//! NDJSON of any of these.
//!
//! The elements of a top-level `Records` / `Events` list are cut out one at a time, so memory
//! stays flat however large the file. Records that are not access denials are counted and
//! skipped, most without being parsed: a record without the text `errorCode` cannot be one
//! (unless it is a LookupEvents entry, `CloudTrailEvent`, or holds a `\u` escape, which may
//! spell either key); every other element is parsed strictly (duplicated keys refused), and that
//! parse alone decides.
//!
//! The fast path (module `scan`): an object or list element is delimited 64 bytes at a time.
//! Each block's bytes are classified at once (quote, backslash, bracket); a block without a
//! bracket only moves the string state on, in the others the bytes inside strings follow from
//! a prefix XOR of the quotes and only the brackets outside strings are visited; blocks with
//! backslashes work out the escapes from the runs of backslashes. The skip test looks at each
//! `C` of the element (`memchr`) for `errorCode` and `CloudTrailEvent`, and searches for `\u`
//! only when the scanner saw a backslash. An element that ends in the 256 KiB piece it starts
//! in is tested (and parsed) where it lies, not copied. The last bytes of each piece, strings
//! and scalars at the top level, and a block with a backslash outside a string (not JSON) go
//! through the byte-by-byte scanner the reader had before, which also remains as the fuzz
//! oracle ([`RecordReader::reference`], target `reader_fast_path`).
//!
//! A denial without `eventID` gets an id derived from its content ([`derived_event_id`]). A
//! record that cannot be read becomes an error item (naming the field of a wrong type); the
//! rest go on. In NDJSON a broken line (cut off, or not JSON at all)
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
    /// Where the current list element lies in `buf` when it was not copied into `element`
    /// (it ended in the piece it started in, as most do); copied before `buf` is refilled.
    element_in_buf: Option<(usize, usize)>,
    /// The fuzz oracle's mode (see [`RecordReader::reference`]).
    reference: bool,
    /// `false` when the block scanner saw every byte of `element` and no backslash in it: no
    /// `\u` escape to look for.
    suspect: bool,
    /// Called with each element skipped without a parse (see [`RecordReader::with_skip_probe`]).
    skip_probe: Option<fn(&[u8])>,
    unicode_escape: memchr::memmem::Finder<'static>,
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
        Self::with_buffer(input, vec![0; CHUNK])
    }

    fn with_buffer(input: R, buf: Vec<u8>) -> Self {
        RecordReader {
            input,
            buf,
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
            element_in_buf: None,
            reference: false,
            suspect: true,
            skip_probe: None,
            unicode_escape: memchr::memmem::Finder::new(b"\\u"),
        }
    }

    /// The fuzz oracle (target `reader_fast_path`), not for use: the same reader with the
    /// byte-by-byte scanner it had before the block scanner, and a plain substring search for
    /// the texts that decide whether an element is parsed. Its items and counts must equal
    /// [`RecordReader::new`]'s on every input.
    #[doc(hidden)]
    pub fn reference(input: R) -> Self {
        let mut r = Self::new(input);
        r.reference = true;
        r
    }

    /// For the fuzz target, not for use: a reader (fast, or the [`RecordReader::reference`])
    /// whose buffer holds `buffer` bytes (at most 256 KiB, the usual size): the same reads as
    /// [`RecordReader::new`] on an input shorter than `buffer`, without zeroing 256 KiB per
    /// reader (which bounded the fuzz target's executions per second).
    #[doc(hidden)]
    pub fn with_buffer_size(input: R, buffer: usize, reference: bool) -> Self {
        let mut r = Self::with_buffer(input, vec![0; buffer.clamp(1, CHUNK)]);
        r.reference = reference;
        r
    }

    /// For the fuzz oracle, not for use: `probe` sees every element skipped without a parse,
    /// so a test can check that the strict parse ([`parse_element`]) finds no denial in it.
    #[doc(hidden)]
    pub fn with_skip_probe(mut self, probe: fn(&[u8])) -> Self {
        self.skip_probe = Some(probe);
        self
    }

    fn fill(&mut self) -> Result<bool, EventError> {
        if self.pos < self.len {
            return Ok(true);
        }
        if self.eof {
            return Ok(false);
        }
        self.keep_element();
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

    /// Copies the current element out of `buf` (before `buf` changes).
    fn keep_element(&mut self) {
        if let Some((start, end)) = self.element_in_buf.take() {
            self.element.clear();
            self.element.extend_from_slice(&self.buf[start..end]);
        }
    }

    /// The current element.
    fn element(&self) -> &[u8] {
        match self.element_in_buf {
            Some((start, end)) => &self.buf[start..end],
            None => &self.element,
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
        self.keep_element();
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

    /// Copies one JSON value (object, list, string or scalar) into `out` (or skips it). Returns
    /// `false` when the value surely holds no backslash (see [`scan::State::suspect`]).
    /// With `in_place`, a value that ends in the piece it starts in is not copied: it is left
    /// in `buf` as the current element (`element_in_buf`).
    fn copy_value(
        &mut self,
        mut out: Option<&mut Vec<u8>>,
        in_place: bool,
    ) -> Result<bool, EventError> {
        let first = self
            .skip_ws()?
            .ok_or_else(|| EventError::Json("unexpected end of input".into()))?;
        let scalar = !matches!(first, b'{' | b'[' | b'"');
        let container = matches!(first, b'{' | b'[');
        let mut state = scan::State::default();
        let mut copied: usize = 0;
        loop {
            if !self.fill()? {
                if scalar && state.started {
                    return Ok(true);
                }
                return Err(EventError::Json(
                    "unexpected end of input inside a value (truncated?)".into(),
                ));
            }
            let chunk = &self.buf[self.pos..self.len];
            let (i, done) = if container && !self.reference {
                scan::container(&mut state, chunk)
            } else {
                scan::bytewise(&mut state, chunk, scalar)
            };
            if in_place && done && copied == 0 {
                self.element_in_buf = Some((self.pos, self.pos + i));
            } else if let Some(o) = out.as_deref_mut() {
                o.extend_from_slice(&chunk[..i]);
            }
            copied += i;
            self.pos += i;
            if done {
                return Ok(state.suspect || !container || self.reference);
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
        self.copy_value(Some(&mut raw), false)?;
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
                    self.element_in_buf = None;
                    self.element = whole;
                    self.suspect = true;
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
            self.copy_value(Some(&mut whole), false)?;
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
                    self.copy_value(None, false)?;
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
                    self.element_in_buf = None;
                    let mut el = std::mem::take(&mut self.element);
                    let r = self.copy_value(Some(&mut el), !self.reference);
                    self.element = el;
                    self.suspect = r?;
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

    /// Whether the element can be skipped without a parse: a record without the text
    /// `errorCode` is no denial. LookupEvents entries are always parsed: a `CloudTrailEvent`
    /// string that was cut off may have lost its `errorCode` and must be reported, not skipped.
    /// Nor is an element with a `\u` escape skipped: a key written `"error\u0043ode"` (or
    /// `"CloudTrail\u0045vent"`) is `errorCode` once decoded.
    fn can_skip(&self) -> bool {
        let el = self.element();
        if self.reference {
            return !contains(el, b"errorCode")
                && !contains(el, b"CloudTrailEvent")
                && !contains(el, b"\\u");
        }
        // An element the block scanner saw whole, without a backslash, holds no `\u`.
        !holds_a_key_text(el) && (!self.suspect || self.unicode_escape.find(el).is_none())
    }

    /// Classifies one element: skipped, a denial, or an error.
    fn classify(&mut self) {
        self.counts.records += 1;
        if self.can_skip() {
            self.counts.skipped += 1;
            if let Some(probe) = self.skip_probe {
                probe(self.element());
            }
            return;
        }
        self.parse_element();
    }

    /// The strict parse of `self.element` (one element, or one top-level object).
    fn parse_element(&mut self) {
        let value: Value = match crate::json::from_slice(self.element()) {
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

/// For the fuzz oracle, not for use: what the strict parse makes of one element (the items an
/// element that is not skipped yields).
#[doc(hidden)]
pub fn parse_element(element: &[u8]) -> (Vec<Item>, Counts) {
    let mut r = RecordReader::with_buffer(std::io::empty(), Vec::new());
    r.element = element.to_vec();
    r.parse_element();
    (r.pending.into_iter().collect(), r.counts)
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

/// Whether `hay` holds `errorCode` or `CloudTrailEvent`: one pass over the `C`s both have (a
/// few per record), instead of a search for each.
fn holds_a_key_text(hay: &[u8]) -> bool {
    memchr::memchr_iter(b'C', hay).any(|at| {
        hay[at..].starts_with(b"CloudTrailEvent")
            || at
                .checked_sub(5)
                .is_some_and(|start| hay[start..].starts_with(b"errorCode"))
    })
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

/// Finding where one JSON value ends in a piece of input: the byte-by-byte state machine (the
/// reference, and the scanner of strings, scalars and piece ends) and the block scanner of
/// objects and lists (the fast path). Both only delimit values; the strict parser decides
/// whether what they cut out is JSON.
mod scan {
    /// Where a scan stands between two pieces of input.
    #[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
    pub(super) struct State {
        /// Open objects and lists.
        pub(super) depth: usize,
        pub(super) in_string: bool,
        /// In a string, right after a backslash that escapes the next byte.
        pub(super) escaped: bool,
        /// A scalar (number, `true`, ...) has begun.
        pub(super) started: bool,
        /// The bytes may hold a `\u` escape: a backslash was seen, or bytes went through
        /// [`bytewise`], which does not look. While `false`, the value holds no backslash.
        pub(super) suspect: bool,
    }

    impl State {
        /// A bracket outside strings (`{`/`[` opens, `}`/`]` closes: bit 5 tells them apart);
        /// `true` when it closes the value.
        #[inline]
        fn bracket(&mut self, byte: u8) -> bool {
            if byte | 0x20 == b'{' {
                self.depth += 1;
                false
            } else {
                self.depth = self.depth.saturating_sub(1);
                self.depth == 0
            }
        }
    }

    /// The byte-by-byte scan (the reader's only one before the block scanner, kept as the
    /// reference the fuzz target `reader_fast_path` compares the block scanner with). Scans
    /// `chunk` from its start; returns how many bytes belong to the value and whether it ended.
    /// `scalar`: the value is a number or a literal (it ends before a delimiter).
    pub(super) fn bytewise(st: &mut State, chunk: &[u8], scalar: bool) -> (usize, bool) {
        let mut i = 0;
        while i < chunk.len() {
            let b = chunk[i];
            if st.in_string {
                if st.escaped {
                    st.escaped = false;
                } else if b == b'\\' {
                    st.escaped = true;
                } else if b == b'"' {
                    st.in_string = false;
                    if st.depth == 0 {
                        return (i + 1, true);
                    }
                }
            } else if scalar {
                if matches!(b, b',' | b']' | b'}') || b.is_ascii_whitespace() {
                    return (i, true);
                }
                st.started = true;
            } else {
                match b {
                    b'"' => st.in_string = true,
                    b'{' | b'[' => st.depth += 1,
                    b'}' | b']' => {
                        st.depth = st.depth.saturating_sub(1);
                        if st.depth == 0 {
                            return (i + 1, true);
                        }
                    }
                    _ => {}
                }
            }
            i += 1;
        }
        (i, false)
    }

    const BLOCK: usize = 64;

    /// The scan of an object or a list (the value's first byte is `{` or `[`): what [`bytewise`]
    /// does, 64 bytes at a time. Each block becomes flags of its quotes, backslashes and
    /// brackets; the escaped bytes follow from the runs of backslashes, the bytes inside
    /// strings from a prefix XOR of the unescaped quotes, and only the brackets outside strings
    /// are visited one by one. A block with a backslash outside a string (not JSON; the
    /// reference does not treat it as an escape) and the last bytes of the piece (fewer than
    /// 64) go through [`bytewise`].
    pub(super) fn container(st: &mut State, chunk: &[u8]) -> (usize, bool) {
        let mut at = 0;
        for block in chunk.chunks_exact(BLOCK) {
            let Some(block) = block.first_chunk::<BLOCK>() else {
                break;
            };
            if let Some(end) = block_step(st, block) {
                return (at + end, true);
            }
            at += BLOCK;
        }
        let (n, done) = bytewise(st, &chunk[at..], false);
        st.suspect |= n > 0;
        (at + n, done)
    }

    const ONES: u64 = 0x0101_0101_0101_0101;

    /// One block: `Some(n)` when the value ends after its first `n` bytes. The flags of 8 bytes
    /// are one `u64` (bit 0 of each byte: a quote, bit 1: a backslash, bit 2: a bracket). In
    /// the common case (no backslash in the block, none carried over), a block without a
    /// bracket only moves the string state on (by the parity of its quotes); otherwise the
    /// quote flags are gathered into a mask whose prefix XOR marks the bytes inside strings, and
    /// the brackets outside them are visited.
    fn block_step(st: &mut State, block: &[u8; BLOCK]) -> Option<usize> {
        let mut flags = [0u8; BLOCK];
        for (f, &b) in flags.iter_mut().zip(block) {
            let folded = b | 0x20;
            *f = u8::from(b == b'"')
                | (u8::from(b == b'\\') << 1)
                | (u8::from(folded == b'{' || folded == b'}') << 2);
        }
        let mut words = [0u64; 8];
        for (w, f) in words.iter_mut().zip(flags.chunks_exact(8)) {
            *w = u64::from_le_bytes([f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7]]);
        }
        let any = words.iter().fold(0, |a, w| a | w);
        if st.escaped || any & (ONES << 1) != 0 {
            return escaped_block_step(st, block);
        }
        if any & (ONES << 2) == 0 {
            // No bracket: only the string state moves on.
            let quotes = words.iter().fold(0, |a, w| a ^ w) & ONES;
            st.in_string ^= quotes.count_ones() & 1 == 1;
            return None;
        }
        let mut quotes = 0;
        for (k, w) in words.iter().enumerate() {
            quotes |= gather(*w) << (8 * k);
        }
        let mut inside = prefix_xor(quotes);
        if st.in_string {
            inside = !inside;
        }
        for (k, w) in words.iter().enumerate() {
            let mut brackets = (w >> 2) & ONES;
            while brackets != 0 {
                let i = 8 * k + (brackets.trailing_zeros() / 8) as usize;
                brackets &= brackets - 1;
                if inside >> i & 1 == 0 && st.bracket(block[i]) {
                    return Some(i + 1);
                }
            }
        }
        st.in_string = inside >> 63 == 1;
        None
    }

    /// One block with a backslash (or whose first byte is escaped): as bit masks, with the
    /// escapes worked out from the runs of backslashes.
    fn escaped_block_step(st: &mut State, block: &[u8; BLOCK]) -> Option<usize> {
        st.suspect = true;
        let (quotes, backslashes, brackets) = masks(block);
        let (escaped, next_escaped) = escapes(backslashes, st.escaped);
        let mut inside = prefix_xor(quotes & !escaped);
        if st.in_string {
            inside = !inside;
        }
        if backslashes & !inside != 0 {
            // A backslash outside a string: the byte-by-byte rules, which ignore it there.
            let (n, done) = bytewise(st, block, false);
            return done.then_some(n);
        }
        let mut outside = brackets & !inside;
        while outside != 0 {
            let i = outside.trailing_zeros() as usize;
            outside &= outside - 1;
            if st.bracket(block[i]) {
                return Some(i + 1);
            }
        }
        st.in_string = inside >> 63 == 1;
        st.escaped = next_escaped;
        None
    }

    /// Bit `i` of each mask is byte `i` of the block: `"`; `\`; `{`, `[`, `}` or `]`. Written
    /// as a byte-wise classification (which LLVM vectorizes) and a multiplication that gathers
    /// the low bits of 8 bytes into one byte (there is no portable movemask on stable Rust).
    pub(super) fn masks(block: &[u8; BLOCK]) -> (u64, u64, u64) {
        let mut flags = [0u8; BLOCK];
        for (f, &b) in flags.iter_mut().zip(block) {
            let folded = b | 0x20;
            *f = u8::from(b == b'"')
                | (u8::from(b == b'\\') << 1)
                | (u8::from(folded == b'{' || folded == b'}') << 2);
        }
        let (mut quotes, mut backslashes, mut brackets) = (0u64, 0u64, 0u64);
        for (k, w) in flags.chunks_exact(8).enumerate() {
            let w = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
            quotes |= gather(w) << (8 * k);
            backslashes |= gather(w >> 1) << (8 * k);
            brackets |= gather(w >> 2) << (8 * k);
        }
        (quotes, backslashes, brackets)
    }

    /// The low bit of each byte of `w`, as 8 bits (byte 0 → bit 0).
    #[inline(always)]
    fn gather(w: u64) -> u64 {
        ((w & 0x0101_0101_0101_0101).wrapping_mul(0x0102_0408_1020_4080)) >> 56
    }

    /// Bit `i` set when an odd number of bits `0..=i` of `x` are set.
    pub(super) fn prefix_xor(mut x: u64) -> u64 {
        x ^= x << 1;
        x ^= x << 2;
        x ^= x << 4;
        x ^= x << 8;
        x ^= x << 16;
        x ^= x << 32;
        x
    }

    const ODD_BITS: u64 = 0xAAAA_AAAA_AAAA_AAAA;

    /// The bytes escaped by a backslash (a backslash escapes the next byte unless it is itself
    /// escaped), given the backslash mask and whether the block's first byte is escaped by the
    /// previous block; and whether the next block's first byte is. Branch-free: a run of
    /// backslashes that starts on an even bit ends, after an odd count, on an odd one (the
    /// scheme of simdjson's escape scanner).
    pub(super) fn escapes(backslashes: u64, first_escaped: bool) -> (u64, bool) {
        let carried = u64::from(first_escaped);
        let potential = backslashes & !carried;
        let maybe_escaped = potential << 1;
        let codes = (maybe_escaped | ODD_BITS).wrapping_sub(potential) ^ ODD_BITS;
        let escaped = codes ^ (backslashes | carried);
        let escape = codes & backslashes;
        (escaped, escape >> 63 == 1)
    }
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
    use crate::event::pieces::Pieces;

    fn read(text: &str) -> (Vec<String>, Counts) {
        items(RecordReader::new(text.as_bytes()))
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

    fn items<R: Read>(mut r: RecordReader<R>) -> (Vec<String>, Counts) {
        let mut out = Vec::new();
        for item in r.by_ref() {
            match item {
                Item::Denial(e) => out.push(e.event_id.clone()),
                Item::Error { event_id, error } => out.push(format!("ERR {event_id}: {error}")),
            }
        }
        (out, r.counts)
    }

    /// `text` read whole, a byte at a time and in pieces around the block size, by the fast
    /// reader and the reference: the same items and counts every way.
    fn read_every_way(text: &str) -> (Vec<String>, Counts) {
        let data = text.as_bytes();
        let want = items(RecordReader::reference(data));
        assert_eq!(items(RecordReader::new(data)), want, "whole");
        for sizes in [&[1][..], &[63], &[64], &[65], &[63, 64, 65, 1, 127, 3]] {
            let fast = items(RecordReader::new(Pieces::new(data, sizes)));
            let slow = items(RecordReader::reference(Pieces::new(data, sizes)));
            assert_eq!(fast, slow, "pieces of {sizes:?}");
            if text.starts_with('\u{feff}') {
                // A byte order mark cut by a piece boundary is not recognized (as before).
                continue;
            }
            // Only how far the input was read after a break may depend on the pieces.
            let bytes = want.1.bytes;
            assert_eq!(fast.0, want.0, "pieces of {sizes:?}");
            assert_eq!(Counts { bytes, ..fast.1 }, want.1, "pieces of {sizes:?}");
        }
        want
    }

    /// Padding that moves what follows across block and piece boundaries.
    fn pad(n: usize) -> String {
        format!("\"pad\":\"{}\",", "p".repeat(n))
    }

    #[test]
    fn escaped_keys_are_parsed_not_skipped() {
        for pad_len in [0, 1, 30, 50, 57, 58, 63, 64, 120] {
            let p = pad(pad_len);
            let rec = format!(
                r#"{{{p}"eventID":"E1","eventSource":"s3.amazonaws.com","eventName":"GetObject","error\u0043ode":"AccessDenied","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/a","accountId":"111122223333"}}}}"#
            );
            let (out, counts) = read_every_way(&format!("{{\"Records\":[{rec},{{\"a\":1}}]}}"));
            assert_eq!(out, vec!["E1"], "pad {pad_len}");
            assert_eq!((counts.records, counts.skipped), (2, 1));
            // A LookupEvents entry whose key is escaped.
            let inner = serde_json::to_string(REC).unwrap();
            let le = format!(
                "{{\"Events\":[{{{p}\"EventId\":\"E1\",\"CloudTrail\\u0045vent\":{inner}}}]}}"
            );
            assert_eq!(read_every_way(&le).0, vec!["E1"], "pad {pad_len}");
        }
    }

    #[test]
    fn brackets_quotes_and_backslashes_inside_strings() {
        let tricky = [
            r#"{ [ } ] {{ ]]"#,
            r#"\" } \" ]"#,
            r#"\\"#,
            r#"\\\\"#,
            r#"\\\" } \\\\\" ]"#,
            r#"a\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\"#,
            r#"\u0022 }"#,
        ];
        for t in tricky {
            for pad_len in [0, 1, 40, 50, 55, 56, 57, 62, 63, 64, 65, 127] {
                let p = pad(pad_len);
                let denial = format!(
                    r#"{{{p}"eventID":"E1","note":"{t}","eventSource":"s3.amazonaws.com","eventName":"GetObject","errorCode":"AccessDenied","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/a"}}}}"#
                );
                let other = format!(r#"{{{p}"eventID":"x","k":["{t}",{{"{t}":"{t}"}}]}}"#);
                let text = format!("{{\"Records\":[{other},{denial},{other}]}}");
                let (out, counts) = read_every_way(&text);
                assert_eq!(out, vec!["E1"], "{t} with pad {pad_len}");
                assert_eq!((counts.records, counts.skipped), (3, 2), "{t}");
                // The same as NDJSON and as a list.
                read_every_way(&format!("{other}\n{denial}\n{other}\n"));
                read_every_way(&format!("[{other},\n{denial}]"));
            }
        }
    }

    #[test]
    fn broken_and_odd_inputs_read_as_before() {
        let cut = &REC[..60];
        let long = format!(r#"{{"eventID":"y","k":"{}"}}"#, "z".repeat(200));
        let cases = [
            format!("{{\"Records\": [{REC}, {long}, {{\"eventID\": \"E"),
            format!("{{\"Records\": [{long} {REC}]}}"),
            format!("{REC}\n{cut}\n{long}\nnot json\n{REC}\n{cut}"),
            format!("\u{feff}[{long},{REC}]"),
            format!("{{\"Records\": [{long}, \\ {{\"a\": \"\\\\\"}}, {REC}]}}"),
            format!("{{\"Records\": [{long}, 12, \"str\\\"ing\", true, [{REC}], {REC}]}}"),
            format!("{{\"Records\": [{long}, {{\"a\": [1, 2}}}}, {REC}]}}"),
            format!("{{\"Records\": [{long}, {{\"a\\\\\": \"b\\\\\\\"{{\"}}, {REC}]}}"),
        ];
        for text in &cases {
            read_every_way(text);
        }
    }

    /// The block scanner against the byte-by-byte scan on random bytes full of the characters
    /// that matter, from random states: the same end, the same state after a whole piece, and
    /// never "surely clean" for bytes holding a text the skip test looks for.
    #[test]
    fn block_scanner_matches_the_bytewise_scan() {
        const ALPHABET: &[u8] = b"\"\"\"\\\\{}[]aCrlE ,:u";
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for round in 0..20_000 {
            let len = (next() % 300) as usize;
            let mut bytes: Vec<u8> = (0..len)
                .map(|_| ALPHABET[(next() % ALPHABET.len() as u64) as usize])
                .collect();
            if round % 3 == 0 && len > 20 {
                let at = (next() as usize) % (len - 15);
                let word: &[u8] = match next() % 3 {
                    0 => b"errorCode",
                    1 => b"CloudTrailEvent",
                    _ => b"\\u0043",
                };
                bytes[at..at + word.len()].copy_from_slice(word);
            }
            let r = next();
            let start = scan::State {
                depth: 1 + (r % 3) as usize,
                in_string: r & 8 != 0,
                escaped: r & 24 == 24,
                started: false,
                suspect: false,
            };
            let (mut fast, mut slow) = (start, start);
            let (nf, df) = scan::container(&mut fast, &bytes);
            let (ns, ds) = scan::bytewise(&mut slow, &bytes, false);
            assert_eq!(
                (nf, df),
                (ns, ds),
                "{:?} from {start:?}",
                String::from_utf8_lossy(&bytes)
            );
            if !df {
                assert_eq!(
                    (fast.depth, fast.in_string, fast.escaped),
                    (slow.depth, slow.in_string, slow.escaped),
                    "{:?}",
                    String::from_utf8_lossy(&bytes)
                );
            }
            if !fast.suspect {
                let seen = &bytes[..nf];
                assert!(
                    !seen.contains(&b'\\'),
                    "{:?}",
                    String::from_utf8_lossy(seen)
                );
            }
        }
    }

    #[test]
    fn escapes_follow_the_runs_of_backslashes() {
        let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
        for round in 0..100_000u32 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            // Sparse and dense masks both.
            let bs = if round % 2 == 0 {
                seed
            } else {
                seed & (seed >> 3)
            };
            let carried = round % 4 < 2;
            let (mut want, mut escaped) = (0u64, carried);
            for i in 0..64 {
                if escaped {
                    want |= 1 << i;
                    escaped = false;
                } else if bs >> i & 1 == 1 {
                    escaped = true;
                }
            }
            assert_eq!(
                scan::escapes(bs, carried),
                (want, escaped),
                "{bs:064b} {carried}"
            );
        }
    }

    #[test]
    fn masks_and_prefix_xor() {
        let mut block = [b'a'; 64];
        block[0] = b'"';
        block[5] = b'\\';
        block[7] = b'{';
        block[8] = b'[';
        block[62] = b'}';
        block[63] = b']';
        assert_eq!(
            scan::masks(&block),
            (1, 1 << 5, (1 << 7) | (1 << 8) | (3 << 62))
        );
        assert_eq!(scan::prefix_xor(0b1001_0010), (!0 << 7) | 0b1110);
        assert_eq!(scan::prefix_xor(1 << 63), 1 << 63);
        assert_eq!(scan::prefix_xor(1), !0);
    }
}
