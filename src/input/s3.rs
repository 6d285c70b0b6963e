//! Event input straight from S3 (`analyze --events-file s3://bucket/prefix/`): the objects under
//! a prefix (or one key), listed page by page and read one at a time, so memory holds one page
//! of keys and one object whatever the size of the trail. Keys in the standard CloudTrail
//! layout (`AWSLogs/[<org-id>/]<account>/CloudTrail/<region>/YYYY/MM/DD/<file>`) can be
//! filtered by date range, accounts and regions before anything is downloaded.

use aws_sdk_s3::Client;
use thiserror::Error;

use crate::aws::SdkFailure;

/// Why S3 input failed.
#[derive(Debug, Error)]
pub enum S3InputError {
    #[error("`{0}` is not an s3:// URL with a bucket (s3://bucket/prefix/ or s3://bucket/key)")]
    Url(String),
    #[error("`{0}` is not a date (YYYY-MM-DD)")]
    Date(String),
    #[error("cannot list s3://{bucket}/{prefix}: {message}")]
    List {
        bucket: String,
        prefix: String,
        message: String,
    },
    #[error("cannot read s3://{bucket}/{key}: {message}")]
    Get {
        bucket: String,
        key: String,
        message: String,
    },
}

/// `s3://bucket/prefix`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    pub bucket: String,
    /// A key prefix (possibly empty) or one key.
    pub prefix: String,
}

impl S3Location {
    /// Parses `s3://bucket[/prefix]`; `None` when `url` is not an `s3://` URL at all.
    pub fn parse(url: &str) -> Option<Result<S3Location, S3InputError>> {
        let rest = url.strip_prefix("s3://")?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Some(Err(S3InputError::Url(url.to_string())));
        }
        Some(Ok(S3Location {
            bucket: bucket.to_string(),
            prefix: prefix.to_string(),
        }))
    }
}

/// Which objects to read, by the CloudTrail key layout.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyFilter {
    /// First day (`YYYY-MM-DD`), inclusive.
    pub since: Option<String>,
    /// Last day (`YYYY-MM-DD`), inclusive.
    pub until: Option<String>,
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
}

/// A key's place in the CloudTrail layout: (account, region, `YYYY-MM-DD`).
fn layout(key: &str) -> Option<(&str, &str, String)> {
    let parts: Vec<&str> = key.split('/').collect();
    let at = parts.iter().position(|p| *p == "CloudTrail")?;
    let account = *parts.get(at.checked_sub(1)?)?;
    let region = *parts.get(at + 1)?;
    let (y, m, d) = (parts.get(at + 2)?, parts.get(at + 3)?, parts.get(at + 4)?);
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    if !(digits(y, 4) && digits(m, 2) && digits(d, 2)) {
        return None;
    }
    Some((account, region, format!("{y}-{m}-{d}")))
}

impl KeyFilter {
    /// Checks a `YYYY-MM-DD` date given on the command line.
    pub fn date(text: &str) -> Result<String, S3InputError> {
        let b = text.as_bytes();
        let ok = b.len() == 10
            && b[4] == b'-'
            && b[7] == b'-'
            && b.iter()
                .enumerate()
                .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
        ok.then(|| text.to_string())
            .ok_or_else(|| S3InputError::Date(text.to_string()))
    }

    fn is_empty(&self) -> bool {
        self.since.is_none()
            && self.until.is_none()
            && self.accounts.is_empty()
            && self.regions.is_empty()
    }

    /// Whether `key` is read: every object when no filter is set; otherwise only keys in the
    /// CloudTrail layout that pass every filter given (digest files and other objects are not
    /// read).
    pub fn matches(&self, key: &str) -> bool {
        if key.ends_with('/') || key.contains("/CloudTrail-Digest/") {
            return false;
        }
        if self.is_empty() {
            return true;
        }
        let Some((account, region, day)) = layout(key) else {
            return false;
        };
        self.since.as_deref().is_none_or(|s| day.as_str() >= s)
            && self.until.as_deref().is_none_or(|u| day.as_str() <= u)
            && (self.accounts.is_empty() || self.accounts.iter().any(|a| a == account))
            && (self.regions.is_empty() || self.regions.iter().any(|r| r == region))
    }
}

/// An S3 client of the loaded configuration, path-style when a custom endpoint is set (moto).
pub fn client(config: &aws_config::SdkConfig) -> Client {
    Client::from_conf(
        aws_sdk_s3::config::Builder::from(config)
            .force_path_style(crate::aws::config::s3_path_style(config))
            .build(),
    )
}

/// Lists the objects under a location, one page (up to 1,000 keys) at a time: `(key, size)`.
pub struct Listing {
    client: Client,
    location: S3Location,
    token: Option<String>,
    done: bool,
}

impl Listing {
    pub fn new(client: &Client, location: &S3Location) -> Listing {
        Listing {
            client: client.clone(),
            location: location.clone(),
            token: None,
            done: false,
        }
    }

    /// The next page of keys, `None` after the last.
    pub async fn next_page(&mut self) -> Option<Result<Vec<(String, i64)>, S3InputError>> {
        if self.done {
            return None;
        }
        let page = self
            .client
            .list_objects_v2()
            .bucket(&self.location.bucket)
            .prefix(&self.location.prefix)
            .set_continuation_token(self.token.take())
            .send()
            .await;
        let page = match page {
            Ok(p) => p,
            Err(e) => {
                self.done = true;
                return Some(Err(S3InputError::List {
                    bucket: self.location.bucket.clone(),
                    prefix: self.location.prefix.clone(),
                    message: SdkFailure::from_sdk(&e).describe(),
                }));
            }
        };
        self.token = page
            .next_continuation_token()
            .filter(|t| !t.is_empty() && page.is_truncated() == Some(true))
            .map(str::to_string);
        self.done = self.token.is_none();
        Some(Ok(page
            .contents()
            .iter()
            .filter_map(|o| o.key().map(|k| (k.to_string(), o.size().unwrap_or(0))))
            .collect()))
    }
}

/// One object's bytes (gzip is undone by the reader's input, by its magic bytes).
pub async fn get(client: &Client, bucket: &str, key: &str) -> Result<Vec<u8>, S3InputError> {
    let fail = |message: String| S3InputError::Get {
        bucket: bucket.to_string(),
        key: key.to_string(),
        message,
    };
    let out = client
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| fail(SdkFailure::from_sdk(&e).describe()))?;
    let bytes = out.body.collect().await.map_err(|e| fail(e.to_string()))?;
    Ok(bytes.into_bytes().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "AWSLogs/o-abc123/111122223333/CloudTrail/eu-west-1/2026/11/20/111122223333_CloudTrail_eu-west-1_20261120T1005Z_x.json.gz";

    #[test]
    fn urls() {
        assert_eq!(S3Location::parse("/tmp/x.json").map(|r| r.is_ok()), None);
        let l = S3Location::parse("s3://trail/AWSLogs/").unwrap().unwrap();
        assert_eq!(
            (l.bucket.as_str(), l.prefix.as_str()),
            ("trail", "AWSLogs/")
        );
        let l = S3Location::parse("s3://trail").unwrap().unwrap();
        assert_eq!(l.prefix, "");
        assert!(S3Location::parse("s3:///x").unwrap().is_err());
    }

    #[test]
    fn layout_filters() {
        let all = KeyFilter::default();
        assert!(all.matches(KEY));
        assert!(all.matches("anything.json"));
        assert!(
            !all.matches("AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/2026/11/20/d.json.gz")
        );
        let f = |since: &str, until: &str, accounts: &[&str], regions: &[&str]| KeyFilter {
            since: (!since.is_empty()).then(|| since.to_string()),
            until: (!until.is_empty()).then(|| until.to_string()),
            accounts: accounts.iter().map(|s| s.to_string()).collect(),
            regions: regions.iter().map(|s| s.to_string()).collect(),
        };
        assert!(f("2026-11-20", "2026-11-20", &[], &[]).matches(KEY));
        assert!(!f("2026-11-21", "", &[], &[]).matches(KEY));
        assert!(!f("", "2026-11-19", &[], &[]).matches(KEY));
        assert!(f("", "", &["111122223333"], &["eu-west-1"]).matches(KEY));
        assert!(!f("", "", &["444455556666"], &[]).matches(KEY));
        assert!(!f("", "", &[], &["us-east-1"]).matches(KEY));
        // Without an organization id in the path, too.
        assert!(f("", "", &["111122223333"], &[])
            .matches("AWSLogs/111122223333/CloudTrail/eu-west-1/2026/11/20/f.json.gz"));
        // With a filter, keys outside the layout are not read.
        assert!(!f("2026-01-01", "", &[], &[]).matches("exports/f.json"));
    }

    #[test]
    fn dates() {
        assert_eq!(KeyFilter::date("2026-11-20").unwrap(), "2026-11-20");
        for bad in ["2026-1-20", "20261120", "2026/11/20", "yesterday"] {
            assert!(KeyFilter::date(bad).is_err(), "{bad}");
        }
    }
}
