//! Where the function's policies come from: one fixed source (tests), or the AWS adapter,
//! rebuilt with empty caches once it is older than `POLICY_CACHE_SECONDS`, so a warm container
//! sees policy changes and does not keep a transient read error.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use tracing::debug;

use crate::collect::aws::{AwsSettings, AwsSource};
use crate::collect::PolicySource;

/// The AWS adapter, rebuilt (caches dropped) when older than `max_age`.
pub struct AwsSources {
    sdk: SdkConfig,
    settings: AwsSettings,
    max_age: Duration,
    current: Mutex<Option<(Instant, Arc<AwsSource>)>>,
}

/// Where policies come from.
pub enum PolicySources {
    /// One source for every invocation (tests: a snapshot).
    Fixed(Arc<dyn PolicySource>),
    Aws(Box<AwsSources>),
}

impl PolicySources {
    /// The AWS adapter over `sdk`, built now so the first invocation finds it ready.
    pub fn aws(sdk: SdkConfig, settings: AwsSettings, max_age: Duration) -> PolicySources {
        let first = Arc::new(AwsSource::from_sdk_config(settings.clone(), sdk.clone()));
        PolicySources::Aws(Box::new(AwsSources {
            sdk,
            settings,
            max_age,
            current: Mutex::new(Some((Instant::now(), first))),
        }))
    }

    /// The source for this invocation.
    pub fn current(&self) -> Arc<dyn PolicySource> {
        match self {
            PolicySources::Fixed(source) => source.clone(),
            PolicySources::Aws(aws) => {
                let mut slot = aws.current.lock().unwrap_or_else(|p| p.into_inner());
                if let Some((built, source)) = slot.as_ref() {
                    if built.elapsed() < aws.max_age {
                        return source.clone();
                    }
                    debug!(
                        calls = source.calls(),
                        "policy cache expired: reading policies afresh"
                    );
                }
                let source = Arc::new(AwsSource::from_sdk_config(
                    aws.settings.clone(),
                    aws.sdk.clone(),
                ));
                *slot = Some((Instant::now(), source.clone()));
                source
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    fn sources(max_age: Duration) -> PolicySources {
        let sdk = SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .build();
        PolicySources::aws(sdk, AwsSettings::default(), max_age)
    }

    #[test]
    fn a_source_younger_than_the_cache_age_is_reused() {
        let s = sources(Duration::from_secs(3600));
        let (a, b) = (s.current(), s.current());
        assert!(Arc::ptr_eq(&a, &b), "the same adapter (and its caches)");
    }

    #[test]
    fn an_expired_source_is_rebuilt_with_empty_caches() {
        // Age 0: every invocation reads policies afresh (POLICY_CACHE_SECONDS=0).
        let s = sources(Duration::ZERO);
        let (a, b) = (s.current(), s.current());
        assert!(
            !Arc::ptr_eq(&a, &b),
            "a new adapter once the old one expired"
        );
        // And the rebuilt one is then kept while it is young.
        // A source built two hours ago under a one-hour age: replaced once, then reused.
        let s = sources(Duration::from_secs(3600));
        let first = s.current();
        if let PolicySources::Aws(aws) = &s {
            let mut slot = aws.current.lock().unwrap();
            let (_, source) = slot.take().unwrap();
            let built = Instant::now()
                .checked_sub(Duration::from_secs(7200))
                .expect("the clock is past two hours");
            *slot = Some((built, source));
        }
        let (a, b) = (s.current(), s.current());
        assert!(!Arc::ptr_eq(&first, &a), "the expired adapter is replaced");
        assert!(Arc::ptr_eq(&a, &b), "and the new one is reused while young");
    }
}
