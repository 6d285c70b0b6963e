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
