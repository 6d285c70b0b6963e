//! The digest's HTML page (`report --format html`) opened in headless Chromium (Debian's
//! package, installed by `scripts/setup-tools`): it renders — tables and the daily chart — from
//! the one self-contained file, with no network. The screenshot is compared with a blank page's.

use std::path::Path;
use std::process::Command;

use access_undenied::render::report::Digest;
use serde_json::Value;

use crate::support::lambda::{json_file, snapshot_source};
use crate::support::run::analyze_with;

/// A PNG screenshot of `page` (1200×1400, headless, no network, a fresh profile).
fn screenshot(page: &Path, out: &Path, profile: &Path) -> Vec<u8> {
    let status = Command::new("timeout")
        .arg("120")
        .arg("chromium")
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            "--disable-background-networking",
            "--window-size=1200,1400",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", out.display()))
        .arg(format!("file://{}", page.display()))
        .status()
        .expect("chromium (scripts/setup-tools installs Debian's package)");
    assert!(status.success(), "chromium: {status}");
    std::fs::read(out).unwrap()
}

#[tokio::test]
async fn the_html_report_renders_in_headless_chromium() {
    // The bundled batch spread over a week, so that the chart has several days.
    let batch = json_file("events/sample-batch.json");
    let mut records: Vec<Value> = Vec::new();
    for day in 14..=20u32 {
        for (i, r) in batch["Records"].as_array().unwrap().iter().enumerate() {
            if (i as u32 + day) % 3 == 0 {
                continue;
            }
            let mut r = r.clone();
            r["eventTime"] = Value::from(format!("2026-11-{day:02}T10:{i:02}:00Z"));
            r["eventID"] = Value::from(format!("{day:08}-0000-4000-8000-{i:012}"));
            records.push(r);
        }
    }
    let source = snapshot_source();
    let results = analyze_with(source.as_ref(), &records).await;
    let html = Digest::of(&results, None, None).html();
    assert!(!html.contains("<script"), "no scripts");
    for external in ["src=\"http", "href=\"http", "<link", "@import", "url("] {
        assert!(!html.contains(external), "nothing external: {external}");
    }

    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("report.html");
    let blank = dir.path().join("blank.html");
    std::fs::write(&page, &html).unwrap();
    std::fs::write(&blank, "<!doctype html><html><body></body></html>").unwrap();
    let shot = screenshot(
        &page,
        &dir.path().join("report.png"),
        &dir.path().join("p1"),
    );
    let empty = screenshot(
        &blank,
        &dir.path().join("blank.png"),
        &dir.path().join("p2"),
    );
    assert_eq!(&shot[..8], b"\x89PNG\r\n\x1a\n", "a PNG");
    // A rendered page of tables and bars compresses far worse than a blank one.
    assert!(
        shot.len() > 5 * empty.len(),
        "the report's screenshot ({} bytes) looks blank ({} bytes for a blank page)",
        shot.len(),
        empty.len()
    );
    // Kept for a person to look at.
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        let _ = std::fs::write(Path::new(&target).join("report-screenshot.png"), &shot);
    }
}
