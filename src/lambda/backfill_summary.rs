//! The backfill's last step: `{"BackfillSummary": {"Bucket", "ManifestKey"}}` reads what the
//! Distributed Map's result writer wrote (its `manifest.json` and the `SUCCEEDED_*.json` files,
//! whose entries carry each batch's counts as their `Output`), adds the counts up, and publishes
//! one summary to the alerts topic: denials by `AssessmentResult`, the top findings, the failed
//! objects and batches, and where the full results are.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::backfill::{top, BackfillCounts, FindingCount, ObjectSource, TOP_FINDINGS};

/// The summary step's input.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SummaryRequest {
    /// The result writer's bucket.
    #[serde(rename = "Bucket")]
    pub bucket: String,
    /// Its `manifest.json` (`ResultWriterDetails.Key` of the map's output).
    #[serde(rename = "ManifestKey")]
    pub manifest_key: String,
}

impl SummaryRequest {
    /// The request of a `{"BackfillSummary": …}` payload.
    pub fn from_value(value: Value) -> Result<SummaryRequest, String> {
        super::payload::read_mode("BackfillSummary", value)
    }
}

/// The result writer's manifest (the parts read).
#[derive(Debug, Deserialize)]
struct Manifest {
    #[serde(rename = "ResultFiles", default)]
    result_files: ResultFiles,
}

#[derive(Debug, Default, Deserialize)]
struct ResultFiles {
    #[serde(rename = "SUCCEEDED", default)]
    succeeded: Vec<ResultFile>,
    #[serde(rename = "FAILED", default)]
    failed: Vec<ResultFile>,
}

#[derive(Debug, Deserialize)]
struct ResultFile {
    #[serde(rename = "Key")]
    key: String,
}

/// One child run in a result file.
#[derive(Debug, Deserialize)]
struct ChildRun {
    /// The batch's output as JSON text: the counts.
    #[serde(rename = "Output", default)]
    output: Option<String>,
}

/// The whole backfill.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct Summary {
    pub batches: u64,
    pub batches_failed: u64,
    /// Result entries whose output could not be read.
    pub unreadable_outputs: u64,
    pub counts: BackfillCounts,
    /// `s3://bucket/manifest.json`.
    pub results: String,
}

/// Reads the result writer's files and adds the batches' counts up.
pub async fn summarize(
    request: &SummaryRequest,
    objects: &dyn ObjectSource,
) -> Result<Summary, String> {
    let manifest = objects
        .get(&request.bucket, &request.manifest_key)
        .await
        .map_err(|e| format!("cannot read the result manifest: {e}"))?;
    let manifest: Manifest = serde_json::from_slice(&manifest)
        .map_err(|e| format!("the result manifest is not one: {e}"))?;
    let mut summary = Summary {
        results: format!("s3://{}/{}", request.bucket, request.manifest_key),
        ..Summary::default()
    };
    let mut findings: BTreeMap<(String, String, String, String), FindingCount> = BTreeMap::new();
    for (file, failed) in manifest
        .result_files
        .succeeded
        .iter()
        .map(|f| (f, false))
        .chain(manifest.result_files.failed.iter().map(|f| (f, true)))
    {
        let text = objects
            .get(&request.bucket, &file.key)
            .await
            .map_err(|e| format!("cannot read the result file {}: {e}", file.key))?;
        let runs: Vec<ChildRun> = serde_json::from_slice(&text)
            .map_err(|e| format!("the result file {} is not a list of runs: {e}", file.key))?;
        for run in runs {
            summary.batches += 1;
            if failed {
                summary.batches_failed += 1;
                continue;
            }
            let counts = run
                .output
                .as_deref()
                .and_then(|o| serde_json::from_str::<BackfillCounts>(o).ok());
            let Some(c) = counts else {
                summary.unreadable_outputs += 1;
                continue;
            };
            add(&mut summary.counts, &c);
            for f in c.top_findings {
                let key = (
                    f.principal.clone(),
                    f.action.clone(),
                    f.resource.clone(),
                    f.assessment_result.clone(),
                );
                match findings.get_mut(&key) {
                    Some(existing) => existing.count += f.count,
                    None => {
                        findings.insert(key, f);
                    }
                }
            }
        }
    }
    summary.counts.top_findings = top(findings.into_values(), TOP_FINDINGS);
    Ok(summary)
}

fn add(total: &mut BackfillCounts, c: &BackfillCounts) {
    total.objects += c.objects;
    total.objects_skipped += c.objects_skipped;
    total.objects_failed += c.objects_failed;
    total.records += c.records;
    total.denials += c.denials;
    total.unreadable += c.unreadable;
    total.stored += c.stored;
    total.duplicates += c.duplicates;
    total.repeats += c.repeats;
    total.store_failed += c.store_failed;
    for (k, v) in &c.by_result {
        *total.by_result.entry(k.clone()).or_default() += v;
    }
    // The summary keeps the first failures only; the result files hold them all.
    let room = 50usize.saturating_sub(total.failures.len());
    total.failures.extend(c.failures.iter().take(room).cloned());
}

/// The summary as the topic's subscribers read it: subject and text.
pub fn message(s: &Summary) -> (String, String) {
    let c = &s.counts;
    let subject = format!(
        "Access Undenied backfill: {} denials in {} objects",
        c.denials, c.objects
    );
    let mut text = String::new();
    let mut line = |l: String| {
        text.push_str(&l);
        text.push('\n');
    };
    line(format!(
        "Backfill finished: {} batches ({} failed), {} objects read ({} failed, {} outside the range), {} records, {} access denials.",
        s.batches, s.batches_failed, c.objects, c.objects_failed, c.objects_skipped, c.records, c.denials
    ));
    line(format!(
        "Stored: {} new, {} already stored, {} repeats of a finding; {} unreadable records; {} results not stored.",
        c.stored, c.duplicates, c.repeats, c.unreadable, c.store_failed
    ));
    line(String::new());
    line("Denials by AssessmentResult:".into());
    let mut by: Vec<(&String, &u64)> = c.by_result.iter().collect();
    by.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    for (k, v) in by {
        line(format!("  {v:>8}  {k}"));
    }
    line(String::new());
    line("Top findings (count, principal, action, resource, cause; the first event's result holds the fix):".into());
    for f in &c.top_findings {
        line(format!(
            "  {:>8}  {}  {}  {}  {}  (event {})",
            f.count, f.principal, f.action, f.resource, f.assessment_result, f.event_id
        ));
    }
    if !c.failures.is_empty() {
        line(String::new());
        line(format!("Failures (first {}):", c.failures.len()));
        for f in &c.failures {
            line(format!(
                "  {}{}: {}",
                f.key,
                f.event_id
                    .as_deref()
                    .map(|e| format!(" event {e}"))
                    .unwrap_or_default(),
                f.error
            ));
        }
    }
    line(String::new());
    line(format!(
        "Every batch's counts: {}. Every result: the results table (access-undenied history, access-undenied report).",
        s.results
    ));
    (subject, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Files(BTreeMap<String, Vec<u8>>);

    #[async_trait::async_trait]
    impl ObjectSource for Files {
        async fn get(&self, _bucket: &str, key: &str) -> Result<Vec<u8>, String> {
            self.0.get(key).cloned().ok_or_else(|| "NoSuchKey".into())
        }
    }

    fn counts(denials: u64, principal: &str) -> String {
        let c = BackfillCounts {
            objects: 2,
            records: 10,
            denials,
            stored: denials,
            by_result: [(
                "Missing allow in an identity-based policy".to_string(),
                denials,
            )]
            .into_iter()
            .collect(),
            top_findings: vec![FindingCount {
                principal: principal.into(),
                action: "s3:GetObject".into(),
                resource: "arn:aws:s3:::b/k".into(),
                assessment_result: "Missing allow in an identity-based policy".into(),
                count: denials,
                event_id: format!("ev-{principal}"),
            }],
            ..BackfillCounts::default()
        };
        serde_json::to_string(&c).unwrap_or_default()
    }

    #[tokio::test]
    async fn batches_are_added_up_and_read_as_a_message() {
        let runs = serde_json::json!([
            {"ExecutionArn": "a", "Status": "SUCCEEDED", "Output": counts(3, "arn:aws:iam::1:user/a")},
            {"ExecutionArn": "b", "Status": "SUCCEEDED", "Output": counts(2, "arn:aws:iam::1:user/a")},
            {"ExecutionArn": "c", "Status": "SUCCEEDED", "Output": "not json"}
        ]);
        let failed = serde_json::json!([{"ExecutionArn": "d", "Status": "FAILED", "Error": "States.TaskFailed"}]);
        let manifest = serde_json::json!({"DestinationBucket": "r", "MapRunArn": "m",
            "ResultFiles": {"SUCCEEDED": [{"Key": "run/SUCCEEDED_0.json", "Size": 1}],
                            "FAILED": [{"Key": "run/FAILED_0.json", "Size": 1}], "PENDING": []}});
        let files = Files(
            [
                (
                    "run/manifest.json".to_string(),
                    manifest.to_string().into_bytes(),
                ),
                (
                    "run/SUCCEEDED_0.json".to_string(),
                    runs.to_string().into_bytes(),
                ),
                (
                    "run/FAILED_0.json".to_string(),
                    failed.to_string().into_bytes(),
                ),
            ]
            .into_iter()
            .collect(),
        );
        let req = SummaryRequest {
            bucket: "r".into(),
            manifest_key: "run/manifest.json".into(),
        };
        let s = summarize(&req, &files).await.unwrap_or_default();
        assert_eq!(
            (s.batches, s.batches_failed, s.unreadable_outputs),
            (4, 1, 1)
        );
        assert_eq!(s.counts.denials, 5);
        assert_eq!(s.counts.objects, 4);
        assert_eq!(s.counts.top_findings.len(), 1);
        assert_eq!(s.counts.top_findings[0].count, 5);
        let (subject, text) = message(&s);
        assert_eq!(subject, "Access Undenied backfill: 5 denials in 4 objects");
        assert!(text.contains("s3://r/run/manifest.json"), "{text}");
        assert!(
            text.contains("Missing allow in an identity-based policy"),
            "{text}"
        );
        // A missing manifest is an error with why.
        let missing = SummaryRequest {
            bucket: "r".into(),
            manifest_key: "other/manifest.json".into(),
        };
        let err = summarize(&missing, &files).await.err().unwrap_or_default();
        assert!(err.contains("NoSuchKey"), "{err}");
    }
}
