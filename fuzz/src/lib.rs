//! The fuzz targets' bodies, as plain functions: `fuzz_targets/*.rs` wrap them for libFuzzer,
//! and `cargo test` here runs them over the seed corpora without libFuzzer or nightly.
//! Each panics only on a crash of the code under test or a broken invariant.

use access_undenied_core::eval::{evaluate, Decision, PrincipalType};
use access_undenied_core::event::parse_message;
use access_undenied_core::event::pieces::Pieces;
use access_undenied_core::event::reader::{parse_element, Counts, Item, RecordReader};
use access_undenied_core::policy::Policy;
use access_undenied_core::simulate;
use serde_json::{json, Value};

/// The streaming reader over the raw bytes and over every envelope wrapped around them.
pub fn event_reader(data: &[u8]) {
    read_all(data);
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for w in wrapped(text) {
        read_all(w.as_bytes());
    }
}

/// `text` in every envelope the reader accepts.
fn wrapped(text: &str) -> [String; 5] {
    [
        format!("{{\"Records\": [{text}]}}"),
        format!("[{text}]"),
        format!("{{\"detail-type\":\"AWS API Call via CloudTrail\",\"detail\":{text}}}"),
        json!({"Events": [{"EventId": "x", "CloudTrailEvent": text}]}).to_string(),
        format!("{text}\n{text}\n"),
    ]
}

/// The reader's fast path (the block scanner and the skip test without a substring search)
/// against its oracle, `RecordReader::reference` (the byte-by-byte scanner and the plain
/// search of the reader before it): over the raw bytes and every envelope, read whole, and
/// the raw bytes also in pieces of sizes taken from the input (block and piece boundaries
/// anywhere), the same items and the same counts. And every element the fast reader skips
/// without a parse yields no denial when parsed strictly. The readers' buffers are sized to
/// the input (`with_buffer_size`: the same reads, without zeroing 256 KiB per reader).
pub fn reader_fast_path(data: &[u8]) {
    same_reads(data, true);
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for w in wrapped(text) {
        same_reads(w.as_bytes(), false);
    }
}

fn same_reads(data: &[u8], in_pieces: bool) {
    let size = data.len() + 1;
    let want = outcome(RecordReader::with_buffer_size(data, size, true));
    let got = outcome(
        RecordReader::with_buffer_size(data, size, false).with_skip_probe(skipped_is_no_denial),
    );
    assert_eq!(got, want, "fast reader and reference differ");
    if !in_pieces {
        return;
    }
    let first = 1 + data
        .iter()
        .fold(0usize, |a, &b| a.wrapping_mul(31) ^ usize::from(b))
        % 130;
    let sizes = [first, 64, 63, 1, 65, 7];
    let pieces = || Pieces::new(data, &sizes);
    let want = outcome(RecordReader::with_buffer_size(pieces(), size, true));
    let got = outcome(
        RecordReader::with_buffer_size(pieces(), size, false).with_skip_probe(skipped_is_no_denial),
    );
    assert_eq!(
        got, want,
        "fast reader and reference differ in pieces of {sizes:?}"
    );
}

/// The items (a denial's event id; an error's id and message) and the counts of one read.
fn outcome<R: std::io::Read>(mut reader: RecordReader<R>) -> (Vec<String>, Counts) {
    let items = reader.by_ref().map(|item| describe(&item)).collect();
    (items, reader.counts)
}

fn describe(item: &Item) -> String {
    match item {
        Item::Denial(e) => format!("denial {}", e.event_id),
        Item::Error { event_id, error } => format!("error {event_id}: {error}"),
    }
}

/// The skip probe: an element skipped without a parse must hold no denial.
fn skipped_is_no_denial(element: &[u8]) {
    let (items, _) = parse_element(element);
    if let Some(d) = items.iter().find(|i| matches!(i, Item::Denial(_))) {
        panic!(
            "skipped without a parse, but the strict parse finds {}: {}",
            describe(d),
            String::from_utf8_lossy(element)
        );
    }
}

fn read_all(data: &[u8]) {
    let mut reader = RecordReader::new(data);
    let mut denials = 0;
    let mut errors = 0;
    for item in reader.by_ref() {
        match &item {
            Item::Denial(_) => denials += 1,
            Item::Error { .. } => errors += 1,
        }
        // What the pipeline does next (actions, resources, context, request) must not crash.
        let _ = access_undenied_core::event::view::view(&item);
    }
    let c = reader.counts;
    assert_eq!(c.denials, denials, "counted denials");
    assert_eq!(c.errors, errors, "counted errors");
    assert!(c.records >= c.denials.min(c.records), "counts");
    assert_eq!(c.bytes, data.len() as u64, "every byte read");
}

/// The policy parser; a parsed policy serializes back to a document that parses again.
pub fn policy_parser(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(policy) = Policy::parse_str(text) else {
        return;
    };
    let back = policy.to_value();
    if let Err(e) = Policy::from_value(&back) {
        panic!("round trip failed: {e}\n{back}");
    }
}

/// The error-message parser.
pub fn message_parser(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = parse_message(&text);
}

/// A simulate document: parses and evaluates; then the invariants: no gate's outcome contradicts
/// its blocking flags, a matching unconditional explicit deny always wins, and adding an Allow
/// never turns an Allowed request into a denial.
pub fn engine(data: &[u8]) {
    let Ok(doc) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    if let Value::Array(docs) = &doc {
        // A list of documents (as the scenario files hold them).
        for d in docs.iter().take(64) {
            engine_doc(d);
        }
        return;
    }
    engine_doc(&doc);
}

fn engine_doc(doc: &Value) {
    let doc = doc.clone();
    let _ = simulate::run_value(&doc);
    let Ok(case) = simulate::parse_case(&doc) else {
        return;
    };
    let base = evaluate(&case.request, &case.policies);
    for g in &base.gates {
        assert!(
            g.is_consistent(),
            "gate {:?} has outcome {:?} with blocking {} / missing allow {}",
            g.kind,
            g.outcome,
            g.blocking,
            g.missing_allow
        );
    }

    let deny = with_identity_statement(
        &doc,
        json!({"Effect": "Deny", "Action": "*", "Resource": "*"}),
    );
    // Identity policies apply to IAM users and role sessions (not to the root user, services,
    // anonymous callers): there an unconditional identity Deny must decide.
    let identity_applies = matches!(
        case.request.principal.principal_type(),
        PrincipalType::User | PrincipalType::AssumedRole
    );
    if let Some(denied) = deny
        .as_ref()
        .filter(|_| identity_applies)
        .and_then(|d| simulate::parse_case(d).ok())
    {
        let e = evaluate(&denied.request, &denied.policies);
        assert_eq!(
            e.decision,
            Decision::ExplicitDeny,
            "an unconditional Deny */* did not win (was {:?})",
            base.decision
        );
    }
    if base.decision == Decision::Allowed && base.conclusive {
        let allow = with_identity_statement(
            &doc,
            json!({"Effect": "Allow", "Action": "*", "Resource": "*"}),
        );
        if let Some(allowed) = allow.as_ref().and_then(|d| simulate::parse_case(d).ok()) {
            let e = evaluate(&allowed.request, &allowed.policies);
            assert_eq!(
                e.decision,
                Decision::Allowed,
                "adding an Allow denied the request"
            );
        }
    }
}

/// `doc` with one more identity policy holding `statement`.
fn with_identity_statement(doc: &Value, statement: Value) -> Option<Value> {
    let mut doc = doc.clone();
    let obj = doc.as_object_mut()?;
    let policies = obj
        .entry("Policies")
        .or_insert_with(|| json!({}))
        .as_object_mut()?;
    let identity = policies
        .entry("Identity")
        .or_insert_with(|| json!([]))
        .as_array_mut()?;
    identity.push(json!({"Name": "fuzz-added", "Document": {"Version": "2012-10-17", "Statement": [statement]}}));
    Some(doc)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    fn each_file(dir: &Path, f: &dyn Fn(&[u8])) -> usize {
        let mut n = 0;
        let Ok(entries) = std::fs::read_dir(dir) else {
            return 0;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                n += each_file(&p, f);
            } else if let Ok(bytes) = std::fs::read(&p) {
                f(&bytes);
                n += 1;
            }
        }
        n
    }

    /// Every target over its seed corpus (fuzz/corpus/<target>, filled by scripts/fuzz) and
    /// over the fixtures and the bad-input corpus directly.
    #[test]
    fn seeds_do_not_crash() {
        // The directory at run time: a binary built in another clone sharing the target
        // directory must not read that clone's files.
        let root = std::env::var_os("CARGO_MANIFEST_DIR")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")))
            .join("..");
        let fixtures = [
            root.join("tests/events"),
            root.join("tests/bad_inputs"),
            root.join("tests/scenarios"),
        ];
        for dir in &fixtures {
            let n = each_file(dir, &super::event_reader);
            each_file(dir, &super::reader_fast_path);
            assert!(
                n > 0,
                "no inputs under {}: the test would pass on nothing",
                dir.display()
            );
            each_file(dir, &super::policy_parser);
            each_file(dir, &super::message_parser);
            each_file(dir, &super::engine);
        }
        let mut regressions = 0;
        for (t, f) in [
            ("event_reader", super::event_reader as fn(&[u8])),
            ("reader_fast_path", super::reader_fast_path),
            ("policy_parser", super::policy_parser),
            ("message_parser", super::message_parser),
            ("engine", super::engine),
        ] {
            each_file(&root.join("fuzz/corpus").join(t), &f);
            regressions += each_file(&root.join("fuzz/regressions").join(t), &f);
        }
        assert!(regressions > 0, "the regression files were not found");
    }
}
