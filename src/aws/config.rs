//! The SDK configuration, loaded one way for the CLI, the Lambda and `history`: the standard
//! credential chain (a profile when given; `AWS_PROFILE`, `AWS_REGION`, `AWS_ENDPOINT_URL`, …
//! otherwise), rustls with ring, and a region even when none is configured.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_http_client::tls;

/// The region used when neither the environment nor the profile names one.
pub const DEFAULT_REGION: &str = "us-east-1";

/// Loads the standard chain (`profile` when given). Without a configured region the chain is
/// loaded again with [`DEFAULT_REGION`], so that credential providers which call STS have one.
pub async fn load_sdk_config(profile: Option<&str>) -> SdkConfig {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    let loader = || {
        let loader = aws_config::defaults(BehaviorVersion::latest()).http_client(http.clone());
        match profile {
            Some(p) => loader.profile_name(p),
            None => loader,
        }
    };
    let config = loader().load().await;
    if config.region().is_some() {
        return config;
    }
    loader()
        .region(Region::from_static(DEFAULT_REGION))
        .load()
        .await
}

/// `config` with [`DEFAULT_REGION`] when it names no region (a configuration built elsewhere).
pub fn with_default_region(config: SdkConfig) -> SdkConfig {
    if config.region().is_some() {
        config
    } else {
        config
            .to_builder()
            .region(Region::from_static(DEFAULT_REGION))
            .build()
    }
}

/// Whether S3 must be addressed by path (`http://endpoint/bucket`): with a custom endpoint
/// (moto, a local stand-in), virtual-host buckets do not resolve.
pub fn s3_path_style(config: &SdkConfig) -> bool {
    config.endpoint_url().is_some()
        || std::env::var_os("AWS_ENDPOINT_URL").is_some()
        || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some()
}
