//! The digest read from the results table on moto: the Lambda's scheduled digest mode publishes
//! the Markdown digest of the last days' stored results to the alerts topic, and
//! `access-undenied report --table` prints the same digest for a range of days.

use std::process::Command;
use std::sync::Arc;

use access_undenied::history::TableReader;
use access_undenied::lambda::{Handler, PolicySources};
use access_undenied::sink::memory::MemoryNotifier;
use serde_json::json;

use crate::support;
use crate::support::lambda::{create_table, kms_envelope, snapshot_source, table_sink, TABLE};

#[tokio::test]
async fn the_scheduled_digest_and_the_report_read_the_table() {
    let _env = support::moto().await;
    let config = support::config().await;
    let ddb = create_table(&config, TABLE).await;
    let notifier = Arc::new(MemoryNotifier::new());
    let sink = table_sink(&config, 60);
    let h = Handler::new(
        PolicySources::Fixed(snapshot_source()),
        sink,
        notifier.clone(),
    )
    .with_results(Arc::new(TableReader {
        client: ddb.clone(),
        table: TABLE.into(),
        limit: 1000,
    }));
    // One stored event (2026-11-20), alerted as usual.
    h.handle(kms_envelope()).await.unwrap();
    assert_eq!(notifier.sent().len(), 1);

    // The schedule's input, widened to reach the bundled event's day.
    let out = h.handle(json!({"Digest": {"Days": 366}})).await.unwrap();
    assert_eq!(out["Digest"]["Results"], 1, "{out:#}");
    let summaries = notifier.summaries();
    assert_eq!(summaries.len(), 1);
    assert!(
        summaries[0].0.starts_with("Access Undenied digest: "),
        "{}",
        summaries[0].0
    );
    assert!(summaries[0].1.contains("kms:Decrypt"), "{}", summaries[0].1);
    // A digest request it cannot read is refused with why, and publishes nothing.
    let out = h.handle(json!({"Digest": {"Days": 0}})).await.unwrap();
    assert!(
        out["Digest"]["Error"].as_str().unwrap().contains("Days"),
        "{out:#}"
    );
    assert_eq!(notifier.summaries().len(), 1);

    // The command line, from the same table.
    let report = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_access-undenied"))
            .arg("report")
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, stdout, stderr) = report(&[
        "--table",
        TABLE,
        "--since",
        "2026-11-01",
        "--until",
        "2026-11-30",
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("kms:Decrypt"), "{stdout}");
    let (code, stdout, _) = report(&[
        "--table",
        TABLE,
        "--since",
        "2026-11-21",
        "--until",
        "2026-11-30",
    ]);
    assert_eq!(code, Some(0));
    assert!(!stdout.contains("kms:Decrypt"), "{stdout}");
    // --table needs a range; a file and a table cannot be combined.
    let (code, _, stderr) = report(&["--table", TABLE]);
    assert_eq!(code, Some(2), "{stderr}");
    let (code, _, _) = report(&[
        "--table",
        TABLE,
        "--since",
        "2026-11-01",
        "--results-file",
        "x.json",
    ]);
    assert_eq!(code, Some(2));
}
