//! The function's digest mode, run by the template's weekly schedule: `{"Digest": {"Days": n}}`
//! reads the results of the last `n` days (today included, UTC) from the table, renders the
//! Markdown digest ([`crate::render::report::Digest`]) and publishes it to the alerts topic.

use serde::Deserialize;
use serde_json::Value;

use crate::history::ResultsReader;
use crate::render::report::Digest;
use crate::sink::{format_time, now_secs};

/// The most days one digest covers.
pub const MAX_DAYS: u32 = 366;

/// The digest's input.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DigestRequest {
    #[serde(rename = "Days", default = "week")]
    pub days: u32,
}

fn week() -> u32 {
    7
}

impl DigestRequest {
    /// The payload's digest request: `None` when it is not one.
    pub fn from_payload(text: &[u8]) -> Option<Result<DigestRequest, String>> {
        #[derive(Deserialize)]
        struct Envelope {
            #[serde(rename = "Digest")]
            digest: Option<Value>,
        }
        let envelope: Envelope = serde_json::from_slice(text).ok()?;
        let value = envelope.digest?;
        Some(
            serde_json::from_value::<DigestRequest>(value)
                .map_err(|e| format!("not a digest request: {e}"))
                .and_then(|r| {
                    if (1..=MAX_DAYS).contains(&r.days) {
                        Ok(r)
                    } else {
                        Err(format!("Days must be 1 to {MAX_DAYS}, not {}", r.days))
                    }
                }),
        )
    }

    /// `(since, until)` as `YYYY-MM-DD`: the last `days` days up to `now` (seconds).
    pub fn range(&self, now: i64) -> (String, String) {
        let day = |secs: i64| format_time(secs).chars().take(10).collect::<String>();
        let back = i64::from(self.days.saturating_sub(1)) * 86_400;
        (day(now - back), day(now))
    }
}

/// The digest of the range: `(subject, Markdown, results read)`.
pub async fn build(
    request: &DigestRequest,
    reader: &dyn ResultsReader,
) -> Result<(String, String, usize), String> {
    let (since, until) = request.range(now_secs());
    let results = reader.results_of_days(&since, &until).await?;
    let digest = Digest::of(&results, Some(&since), Some(&until));
    let subject = format!("Access Undenied digest: {since} to {until}");
    Ok((subject, digest.markdown(), results.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_ranges() {
        let r = DigestRequest::from_payload(br#"{"Digest": {}}"#).and_then(Result::ok);
        assert_eq!(r.map(|r| r.days), Some(7));
        let r = DigestRequest::from_payload(br#"{"Digest": {"Days": 1}}"#).and_then(Result::ok);
        // 2026-12-03T10:00:00Z.
        let now = 1_796_292_000;
        assert_eq!(
            r.map(|r| r.range(now)),
            Some(("2026-12-03".to_string(), "2026-12-03".to_string()))
        );
        let week = DigestRequest { days: 7 }.range(now);
        assert_eq!(week, ("2026-11-27".to_string(), "2026-12-03".to_string()));
        for bad in [
            r#"{"Digest": {"Days": 0}}"#,
            r#"{"Digest": {"Days": 999}}"#,
            r#"{"Digest": {"Weeks": 1}}"#,
        ] {
            assert!(
                matches!(DigestRequest::from_payload(bad.as_bytes()), Some(Err(_))),
                "{bad}"
            );
        }
        assert!(DigestRequest::from_payload(br#"{"detail": {}}"#).is_none());
    }
}
