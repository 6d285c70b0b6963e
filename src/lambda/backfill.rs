//! The function's backfill mode: a batch of CloudTrail log objects — the input Step Functions'
//! Distributed Map sends to each child run, `{"Backfill": {"Bucket": …, "Items": [{"Key": …},
//! …]}}` (or `"Keys": [...]`) — each object read, every denial diagnosed and stored with the live
//! path's idempotent writes (an event already stored is a `Duplicate`, never written twice),
//! **no** alert sent, and the counts returned for the map's result writer and the summary.
//!
//! Objects are fetched [`PREFETCH`] ahead, so that the wait on S3 overlaps the diagnoses; they
//! are processed in the batch's order. A missing or unreadable object is one counted failure;
//! the batch goes on. Only a store that
//! may succeed on retry fails the batch (the map retries it; the writes are idempotent). Events
//! older than the 24 hours AWS guarantees to keep authorization details for are not looked up
//! in IAM Access Troubleshooter (the note says so); the verdict rests on the policies read now.

use std::collections::BTreeMap;

use access_undenied_core::event::reader::{Item, RecordReader};
use futures::StreamExt as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tracing::{info, warn};

use crate::app::Pipeline;
use crate::collect::aws::in_event_session;
use crate::collect::PolicySource;
use crate::input::s3::{KeyFilter, S3InputError};
use crate::sink::{EventMeta, ResultSink, SinkError, StoreOutcome};

/// How long AWS keeps a denial's authorization details at least (IAM Toolbox API reference,
/// `GetRequestAuthorizationDetails`: "available for at least 24 hours after the denial").
pub const TROUBLESHOOTER_RETENTION_SECS: i64 = 24 * 3600;

/// Objects fetched ahead of the one being diagnosed (at most this many in memory at once).
pub const PREFETCH: usize = 4;

/// At most this many findings are returned per batch (the most frequent).
pub const TOP_FINDINGS: usize = 20;

/// One batch, as the map's item batcher (or a caller) gives it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackfillRequest {
    #[serde(rename = "Bucket")]
    pub bucket: String,
    /// Object keys.
    #[serde(rename = "Keys", default)]
    pub keys: Vec<String>,
    /// The Distributed Map's S3 items (`Key`, `Size`, `Etag`, `LastModified`, …).
    #[serde(rename = "Items", default)]
    pub items: Vec<S3Item>,
    /// Only keys of the CloudTrail layout from this day (`YYYY-MM-DD`; empty: no bound).
    #[serde(rename = "Since", default)]
    pub since: String,
    /// … to this day, inclusive.
    #[serde(rename = "Until", default)]
    pub until: String,
    /// Only these accounts' keys (empty: all).
    #[serde(rename = "Accounts", default)]
    pub accounts: Vec<String>,
    /// Only these regions' keys (empty: all).
    #[serde(rename = "Regions", default)]
    pub regions: Vec<String>,
}

/// An item of the Distributed Map's S3 `ListObjectsV2` reader.
#[derive(Debug, Clone, Deserialize)]
pub struct S3Item {
    #[serde(rename = "Key")]
    pub key: String,
}

impl BackfillRequest {
    /// The request of a `{"Backfill": …}` payload, checked (its dates too).
    pub fn from_value(value: Value) -> Result<BackfillRequest, String> {
        let r: BackfillRequest = super::payload::read_mode("Backfill", value)?;
        r.filter().map_err(|e| e.to_string())?;
        Ok(r)
    }

    /// The keys to read, by the CloudTrail layout (a key outside it is read only when no
    /// filter is set).
    pub fn filter(&self) -> Result<KeyFilter, S3InputError> {
        let day = |d: &str| (!d.is_empty()).then(|| KeyFilter::date(d)).transpose();
        Ok(KeyFilter {
            since: day(&self.since)?,
            until: day(&self.until)?,
            accounts: self.accounts.clone(),
            regions: self.regions.clone(),
        })
    }

    /// A batch of `keys` in `bucket`, with no filter.
    pub fn for_keys(bucket: &str, keys: Vec<String>) -> BackfillRequest {
        BackfillRequest {
            bucket: bucket.to_string(),
            keys,
            items: Vec::new(),
            since: String::new(),
            until: String::new(),
            accounts: Vec::new(),
            regions: Vec::new(),
        }
    }

    /// Every key of the batch, `Keys` first, in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.keys
            .iter()
            .map(String::as_str)
            .chain(self.items.iter().map(|i| i.key.as_str()))
    }
}

/// An object that could not be read, or an event that could not be stored.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct Failure {
    /// The object's key.
    pub key: String,
    /// The event, when the failure is one event's.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub event_id: Option<String>,
    pub error: String,
}

/// A finding of the batch and how many denials it had.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct FindingCount {
    pub principal: String,
    pub action: String,
    pub resource: String,
    pub assessment_result: String,
    pub count: u64,
    /// The first event of the finding in the batch (its stored result has the fix).
    pub event_id: String,
}

/// What a batch did.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct BackfillCounts {
    pub objects: u64,
    /// Keys outside the date range, accounts or regions asked for: not read.
    pub objects_skipped: u64,
    pub objects_failed: u64,
    /// CloudTrail records read, denials or not.
    pub records: u64,
    pub denials: u64,
    /// Denial records the reader could not read (not stored, like the live path's).
    pub unreadable: u64,
    /// Stored as a new result.
    pub stored: u64,
    /// Already stored (by the live path or an earlier run): nothing written.
    pub duplicates: u64,
    /// Counted on an earlier event of the same finding.
    pub repeats: u64,
    /// Events whose result could not be stored (a permanent failure).
    pub store_failed: u64,
    /// Results by `AssessmentResult`.
    pub by_result: BTreeMap<String, u64>,
    /// The most frequent findings (at most [`TOP_FINDINGS`]).
    pub top_findings: Vec<FindingCount>,
    pub failures: Vec<Failure>,
}

/// Reads objects for the backfill (the S3 adapter in production, a map in tests).
#[async_trait::async_trait]
pub trait ObjectSource: Send + Sync {
    async fn get(&self, bucket: &str, key: &str) -> Result<Vec<u8>, String>;
}

#[async_trait::async_trait]
impl ObjectSource for aws_sdk_s3::Client {
    async fn get(&self, bucket: &str, key: &str) -> Result<Vec<u8>, String> {
        crate::input::s3::get(self, bucket, key)
            .await
            .map_err(|e| e.to_string())
    }
}

/// Runs one batch: reads, diagnoses, stores; sends no alert. `Err` only for a store failure a
/// retry may mend.
pub async fn run(
    request: &BackfillRequest,
    objects: &dyn ObjectSource,
    source: &dyn PolicySource,
    sink: &dyn ResultSink,
) -> Result<BackfillCounts, SinkError> {
    let pipeline = Pipeline::new(source).with_recorded_max_age(TROUBLESHOOTER_RETENTION_SECS);
    let mut counts = BackfillCounts::default();
    let mut findings: BTreeMap<(String, String, String, String), FindingCount> = BTreeMap::new();
    let filter = request.filter().unwrap_or_default();
    let (wanted, skipped): (Vec<&str>, Vec<&str>) = request.keys().partition(|k| filter.matches(k));
    counts.objects_skipped = skipped.len() as u64;
    // The next objects are fetched while one is diagnosed: the wait on S3 overlaps the work.
    let mut fetched = futures::stream::iter(wanted)
        .map(|key| async move { (key, objects.get(&request.bucket, key).await) })
        .buffered(PREFETCH);
    while let Some((key, got)) = fetched.next().await {
        counts.objects += 1;
        let bytes = match got {
            Ok(b) => b,
            Err(error) => {
                warn!(key, error = %error, "backfill: object not read");
                counts.objects_failed += 1;
                counts.failures.push(Failure {
                    key: key.to_string(),
                    event_id: None,
                    error,
                });
                continue;
            }
        };
        let mut reader = RecordReader::new(crate::input::from_bytes(bytes));
        let items: Vec<Item> = reader.by_ref().collect();
        counts.records += reader.counts.records;
        if reader.counts.records == 0 {
            if let Some(Item::Error { error, .. }) = items.first() {
                // Not a CloudTrail log at all (corrupt gzip, not JSON): the object failed.
                counts.objects_failed += 1;
                counts.failures.push(Failure {
                    key: key.to_string(),
                    event_id: None,
                    error: error.to_string(),
                });
                continue;
            }
        }
        for item in &items {
            let ev = match item {
                Item::Error { .. } => {
                    counts.unreadable += 1;
                    continue;
                }
                Item::Denial(ev) => ev,
            };
            counts.denials += 1;
            let meta = EventMeta::from_event(ev);
            let result = in_event_session(&meta.event_id, pipeline.diagnose_event(ev)).await;
            let assessment = result.assessment_result.as_str().to_string();
            *counts.by_result.entry(assessment.clone()).or_default() += 1;
            match sink.store(&result, &meta).await {
                Ok(StoreOutcome::New) => counts.stored += 1,
                Ok(StoreOutcome::Duplicate { .. }) => counts.duplicates += 1,
                Ok(StoreOutcome::Repeat { .. }) => counts.repeats += 1,
                Err(e) if e.retryable() => return Err(e),
                Err(e) => {
                    counts.store_failed += 1;
                    counts.failures.push(Failure {
                        key: key.to_string(),
                        event_id: Some(meta.event_id.clone()),
                        error: e.to_string(),
                    });
                    continue;
                }
            }
            let request = result.request.first();
            let field = |f: fn(&access_undenied_core::explain::RequestSummary) -> &str| {
                request.map(f).unwrap_or_default().to_string()
            };
            let finding = (
                meta.principal.clone().unwrap_or_default(),
                field(|r| r.action.as_str()),
                field(|r| r.resource.as_str()),
                assessment,
            );
            findings
                .entry(finding.clone())
                .or_insert_with(|| FindingCount {
                    principal: finding.0,
                    action: finding.1,
                    resource: finding.2,
                    assessment_result: finding.3,
                    count: 0,
                    event_id: meta.event_id.clone(),
                })
                .count += 1;
        }
    }
    counts.top_findings = top(findings.into_values(), TOP_FINDINGS);
    info!(
        objects = counts.objects,
        objects_failed = counts.objects_failed,
        denials = counts.denials,
        stored = counts.stored,
        duplicates = counts.duplicates,
        "backfill batch done"
    );
    Ok(counts)
}

/// The `n` most frequent findings, most first (ties by principal, action, resource).
pub fn top(findings: impl Iterator<Item = FindingCount>, n: usize) -> Vec<FindingCount> {
    let mut all: Vec<FindingCount> = findings.collect();
    all.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| a.principal.cmp(&b.principal))
            .then_with(|| a.action.cmp(&b.action))
            .then_with(|| a.resource.cmp(&b.resource))
    });
    all.truncate(n);
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_in_both_shapes_and_refusals() {
        use serde_json::json;
        let r = BackfillRequest::from_value(json!({"Bucket": "trail", "Keys": ["a"],
            "Items": [{"Key": "b", "Size": 10, "Etag": "\"x\""}]}))
        .map(|r| {
            (
                r.bucket.clone(),
                r.keys().map(str::to_string).collect::<Vec<_>>(),
            )
        });
        assert_eq!(r, Ok(("trail".into(), vec!["a".into(), "b".into()])));
        // A backfill request that cannot be read: refused with why.
        let bad = BackfillRequest::from_value(json!({"Keys": ["a"]}));
        assert!(matches!(bad, Err(ref m) if m.contains("Bucket")), "{bad:?}");
        let bad = BackfillRequest::from_value(json!({"Bucket": "b", "Prefix": "x"}));
        assert!(bad.is_err(), "{bad:?}");
        let bad =
            BackfillRequest::from_value(json!({"Bucket": "b", "Keys": [], "Since": "last week"}));
        assert!(
            matches!(bad, Err(ref m) if m.contains("last week")),
            "{bad:?}"
        );
        let r =
            BackfillRequest::from_value(json!({"Bucket": "b", "Keys": [], "Since": "2026-11-01",
            "Until": "", "Accounts": ["111122223333"], "Regions": []}));
        let f = r.ok().and_then(|r| r.filter().ok());
        assert_eq!(
            f.map(|f| (f.since, f.until, f.accounts)),
            Some((Some("2026-11-01".into()), None, vec!["111122223333".into()]))
        );
    }

    /// Objects that take a while to arrive, counting how many are asked for at once.
    struct Slow {
        in_flight: std::sync::atomic::AtomicUsize,
        most: std::sync::atomic::AtomicUsize,
    }

    #[async_trait::async_trait]
    impl ObjectSource for Slow {
        async fn get(&self, _bucket: &str, key: &str) -> Result<Vec<u8>, String> {
            use std::sync::atomic::Ordering::SeqCst;
            let now = self.in_flight.fetch_add(1, SeqCst) + 1;
            self.most.fetch_max(now, SeqCst);
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            self.in_flight.fetch_sub(1, SeqCst);
            if key == "missing" {
                return Err("NoSuchKey".into());
            }
            // One record that is not a denial: read, counted, nothing to diagnose.
            Ok(br#"{"Records": [{"eventID": "e", "eventName": "GetObject"}]}"#.to_vec())
        }
    }

    #[tokio::test]
    async fn objects_are_fetched_ahead_and_kept_in_order() {
        let objects = Slow {
            in_flight: Default::default(),
            most: Default::default(),
        };
        let keys: Vec<String> = ["a", "missing", "b", "c", "d", "e", "f"]
            .iter()
            .map(|k| k.to_string())
            .collect();
        let request = BackfillRequest::for_keys("trail", keys);
        let source = crate::collect::snapshot::SnapshotSource {
            snapshot: Default::default(),
        };
        let sink = crate::sink::memory::MemorySink::new(60);
        let counts = run(&request, &objects, &source, &sink).await;
        let counts = counts.unwrap_or_default();
        assert_eq!(
            (counts.objects, counts.objects_failed, counts.records),
            (7, 1, 6)
        );
        assert_eq!(
            counts.failures.first().map(|f| f.key.as_str()),
            Some("missing")
        );
        let most = objects.most.load(std::sync::atomic::Ordering::SeqCst);
        assert_eq!(most, PREFETCH, "objects fetched at once");
    }

    #[test]
    fn top_findings_most_first() {
        let f = |p: &str, n: u64| FindingCount {
            principal: p.into(),
            action: "s3:GetObject".into(),
            resource: "r".into(),
            assessment_result: "x".into(),
            count: n,
            event_id: p.into(),
        };
        let t = top([f("a", 1), f("b", 3), f("c", 2)].into_iter(), 2);
        assert_eq!(
            t.iter().map(|x| x.principal.as_str()).collect::<Vec<_>>(),
            ["b", "c"]
        );
    }
}
