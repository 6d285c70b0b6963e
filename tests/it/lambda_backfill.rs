//! The function's backfill mode on moto: gzipped CloudTrail objects in an S3 bucket under the
//! trail's key layout, a batch of keys as Step Functions' Distributed Map sends it, every denial
//! stored in the DynamoDB table with the live path's idempotent writes and no alert; a missing
//! or corrupt object is one counted failure, never a lost batch. Policies come from the bundled
//! snapshot.

use std::sync::Arc;

use access_undenied::lambda::{Handler, PolicySources};
use access_undenied::sink::memory::MemoryNotifier;
use serde_json::{json, Value};

use crate::support::lambda::{
    backfill_handler, create_table, gz, kms_envelope, put_objects, scan, snapshot_source, TABLE,
};
use crate::support::{self, root};

const BUCKET: &str = "org-trail";
const KEY: &str = "AWSLogs/o-exampleorg/111122223333/CloudTrail/us-east-1/2026/11/20/111122223333_CloudTrail_us-east-1_20261120T1000Z_a.json.gz";

#[tokio::test]
async fn a_batch_is_stored_once_alerts_nobody_and_counts_its_failures() {
    let _env = support::moto().await;
    let config = support::config().await;
    let ddb = create_table(&config, TABLE).await;
    let s3 = support::s3(&config);
    s3.create_bucket().bucket(BUCKET).send().await.unwrap();
    let batch = std::fs::read_to_string(root().join("events/sample-batch.json")).unwrap();
    let corrupt =
        "AWSLogs/o-exampleorg/111122223333/CloudTrail/us-east-1/2026/11/20/corrupt.json.gz";
    put_objects(
        &s3,
        BUCKET,
        vec![
            (KEY.to_string(), gz(&batch)),
            // gzip's magic bytes, then nothing a decoder can read.
            (corrupt.to_string(), b"\x1f\x8b\x08\x00garbage".to_vec()),
        ],
    )
    .await;
    let (h, notifier) = backfill_handler(&config, &s3);

    // The live path saw one of the batch's events already, and alerted.
    h.handle(kms_envelope()).await.unwrap();
    assert_eq!(notifier.sent().len(), 1);

    let request = json!({"Backfill": {"Bucket": BUCKET, "Items": [
        {"Key": KEY, "Size": 1, "Etag": "\"e\"", "LastModified": "2026-11-20T10:05:00Z"},
        {"Key": "AWSLogs/o-exampleorg/111122223333/CloudTrail/us-east-1/2026/11/20/missing.json.gz"},
        {"Key": corrupt}
    ]}});
    let out = h.handle(request.clone()).await.unwrap();
    let c = &out["Backfill"];
    // sample-batch.json: 7 records, 6 access denials, one of them unreadable (no eventSource).
    assert_eq!(c["Objects"], 3, "{out:#}");
    assert_eq!(c["ObjectsFailed"], 2, "{out:#}");
    assert_eq!(c["Records"], 7);
    assert_eq!(c["Denials"], 5);
    assert_eq!(c["Unreadable"], 1);
    assert_eq!(
        c["Duplicates"], 1,
        "the live path's event is not written twice"
    );
    assert_eq!(
        c["Stored"].as_u64().unwrap() + c["Repeats"].as_u64().unwrap(),
        4,
        "{out:#}"
    );
    let by_result: u64 = c["ByResult"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(by_result, 5);
    let failed: Vec<&str> = c["Failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["Key"].as_str().unwrap())
        .collect();
    assert!(
        failed.iter().any(|k| k.ends_with("missing.json.gz")),
        "{out:#}"
    );
    assert!(failed.contains(&corrupt), "{out:#}");
    assert!(!c["TopFindings"].as_array().unwrap().is_empty());

    // No alert for the backfill; every event stored once.
    assert_eq!(notifier.sent().len(), 1);
    let items = scan(&ddb, TABLE).await;
    let events: Vec<&String> = items
        .keys()
        .filter(|k| k.starts_with("11111111-"))
        .collect();
    assert_eq!(events.len(), 5, "{:?}", items.keys().collect::<Vec<_>>());

    // Run again (a retried batch): nothing new is written.
    let again = h.handle(request).await.unwrap();
    assert_eq!(again["Backfill"]["Duplicates"], 5, "{again:#}");
    assert_eq!(again["Backfill"]["Stored"], 0);
    assert_eq!(scan(&ddb, TABLE).await.len(), items.len());
    assert_eq!(notifier.sent().len(), 1);
}

#[tokio::test]
async fn a_backfill_request_that_cannot_be_read_is_refused_with_why() {
    let h = Handler::new(
        PolicySources::Fixed(snapshot_source()),
        Arc::new(access_undenied::sink::memory::MemorySink::new(60)),
        Arc::new(MemoryNotifier::new()),
    );
    let out: Value = h
        .handle(json!({"Backfill": {"Keys": ["a"]}}))
        .await
        .unwrap();
    assert!(
        out["Backfill"]["Error"]
            .as_str()
            .unwrap()
            .contains("Bucket"),
        "{out:#}"
    );
    // Without an object reader (no S3 client), a batch is refused too.
    let out = h
        .handle(json!({"Backfill": {"Bucket": "b", "Keys": ["a"]}}))
        .await
        .unwrap();
    assert!(
        out["Backfill"]["Error"].as_str().unwrap().contains("S3"),
        "{out:#}"
    );
}

#[tokio::test]
async fn old_events_are_not_looked_up_in_access_troubleshooter() {
    use access_undenied::app::Pipeline;
    use access_undenied::core::event::reader::{Item, RecordReader};

    let text = std::fs::read_to_string(root().join("events/troubleshooter-denial.json")).unwrap();
    let items: Vec<Item> = RecordReader::new(text.as_bytes()).collect();
    let [Item::Denial(ev)] = items.as_slice() else {
        panic!("{items:?}")
    };
    let source = snapshot_source();
    // Live: AWS's recorded evaluation (captured in the bundled snapshot) is the evidence.
    let live = Pipeline::new(source.as_ref()).diagnose_event(ev).await;
    let live = serde_json::to_value(&live).unwrap();
    assert_eq!(
        live["Evidence"]["Source"], "AccessTroubleshooter",
        "{live:#}"
    );
    // Backfill: the event is older than the 24 hours AWS keeps it for at least; not asked.
    let old = Pipeline::new(source.as_ref())
        .with_recorded_max_age(access_undenied::lambda::backfill::TROUBLESHOOTER_RETENTION_SECS)
        .diagnose_event(ev)
        .await;
    let old = serde_json::to_value(&old).unwrap();
    assert_ne!(old["Evidence"]["Source"], "AccessTroubleshooter", "{old:#}");
    let notes = old["Evidence"]["Notes"].to_string();
    assert!(notes.contains("24 h at least"), "{notes}");
}
