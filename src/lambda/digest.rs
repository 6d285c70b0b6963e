//! The function's digest mode, run by the template's weekly schedule: `{"Digest": {"Days": n}}`
//! reads the results of the last `n` days (today included, UTC) from the table, renders the
//! Markdown digest ([`crate::render::report::Digest`]) and publishes it to the alerts topic.

use serde::Deserialize;
use serde_json::Value;

use crate::history::ResultsReader;
use crate::render::report::Digest;
use crate::sink::{format_day, now_secs};

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
    /// The request of a `{"Digest": …}` payload, checked.
    pub fn from_value(value: Value) -> Result<DigestRequest, String> {
        let r: DigestRequest = super::payload::read_mode("Digest", value)?;
        if !(1..=MAX_DAYS).contains(&r.days) {
            return Err(format!("Days must be 1 to {MAX_DAYS}, not {}", r.days));
        }
        Ok(r)
    }

    /// `(since, until)` as `YYYY-MM-DD`: the last `days` days up to `now` (seconds).
    pub fn range(&self, now: i64) -> (String, String) {
        let back = i64::from(self.days.saturating_sub(1)) * 86_400;
        (format_day(now - back), format_day(now))
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
        use serde_json::json;
        let r = DigestRequest::from_value(json!({})).ok();
        assert_eq!(r.map(|r| r.days), Some(7));
        let r = DigestRequest::from_value(json!({"Days": 1})).ok();
        // 2026-12-03T10:00:00Z.
        let now = 1_796_292_000;
        assert_eq!(
            r.map(|r| r.range(now)),
            Some(("2026-12-03".to_string(), "2026-12-03".to_string()))
        );
        let week = DigestRequest { days: 7 }.range(now);
        assert_eq!(week, ("2026-11-27".to_string(), "2026-12-03".to_string()));
        for bad in [
            json!({"Days": 0}),
            json!({"Days": 999}),
            json!({"Weeks": 1}),
        ] {
            assert!(DigestRequest::from_value(bad.clone()).is_err(), "{bad}");
        }
    }
}
