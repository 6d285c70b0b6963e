//! Test support: a local moto server (the AWS stand-in) and SDK fixtures built against it.
//!
//! One `moto_server` per test run: the single `it` binary starts it on first use, from
//! `.venv/bin/moto_server` (made by `scripts/setup-tools`), or uses the one at `MOTO_URL` when
//! set. Tests take [`moto()`]: a global lock (the SDK reads the process environment, so tests
//! that use moto or set variables run one at a time), a reset server, and the environment
//! pointed at it (`AWS_ENDPOINT_URL`, dummy credentials, `us-east-1`). [`Patched`] changes what
//! moto answers on the wire (faults, missing features).
//!
//! Also here: the CloudTrail records ([`events`]), the world built through the AWS APIs
//! ([`world`]) and the pipeline runner ([`run`]) of the end-to-end tests, the offline world
//! fixtures they record ([`worlds`]), and the fixtures of the Lambda, sink and history tests
//! ([`lambda`]).

pub mod events;
pub mod lambda;
mod moto;
mod patched;
pub mod run;
pub mod standin;
pub mod world;
pub mod worlds;

use std::path::{Path, PathBuf};

use access_undenied::collect::aws::{AwsSettings, AwsSource};
use aws_config::{BehaviorVersion, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use aws_smithy_http_client::tls;
use aws_smithy_runtime_api::client::http::SharedHttpClient;

pub use moto::{moto, EnvVars, TestEnv};
pub use patched::{Patched, Rule};
pub use standin::requests as standin_requests;

/// The repository's root (where `events/`, `tests/` and the templates are), as cargo gives it at
/// run time: a binary built in another clone sharing the target directory must not read that
/// clone's files.
pub fn root() -> &'static Path {
    static ROOT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    ROOT.get_or_init(|| {
        std::env::var_os("CARGO_MANIFEST_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
    })
}

/// moto's account for the dummy credentials.
pub const ACCOUNT: &str = "123456789012";
/// Another account, entered with `sts:AssumeRole` (moto takes the account from the role ARN).
pub const OTHER_ACCOUNT: &str = "222222222222";
pub const REGION: &str = "us-east-1";
/// The cross-account role name of the tests (moto does not check that it exists or trusts us).
pub const CROSS_ROLE: &str = "AccessUndeniedAudit";

/// The HTTP client of the project (rustls with ring).
pub fn http_client() -> SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
}

/// The fixtures' SDK configuration: the environment's (moto, dummy credentials).
pub async fn config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(http_client())
        .load()
        .await
}

/// A configuration acting in `account` (an assumed role: moto takes the account from it).
pub async fn config_for(account: &str) -> SdkConfig {
    let base = config().await;
    if account == ACCOUNT {
        return base;
    }
    let sts = aws_sdk_sts::Client::new(&base);
    let out = sts
        .assume_role()
        .role_arn(format!("arn:aws:iam::{account}:role/fixture-admin"))
        .role_session_name("fixtures")
        .send()
        .await
        .expect("assume the fixture role");
    let c = out.credentials().expect("credentials");
    let creds = Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_string()),
        None,
        "fixtures",
    );
    base.to_builder()
        .credentials_provider(SharedCredentialsProvider::new(creds))
        .build()
}

/// The S3 client of the fixtures (path-style: moto).
pub fn s3(config: &SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(config)
            .force_path_style(true)
            .build(),
    )
}

pub fn settings() -> AwsSettings {
    AwsSettings {
        cross_account_role_name: CROSS_ROLE.into(),
        ..AwsSettings::default()
    }
}

/// The adapter under test, from the environment.
pub async fn source() -> AwsSource {
    AwsSource::new(settings()).await.expect("AwsSource::new")
}

/// A one-statement policy document.
pub fn doc(effect: &str, action: &str, resource: &str) -> serde_json::Value {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": effect, "Action": action, "Resource": resource}]
    })
}

/// A one-statement resource policy allowing `principal` (an AWS principal ARN or account).
pub fn resource_doc(principal: &str, action: &str, resource: &str) -> serde_json::Value {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "Grant",
            "Effect": "Allow",
            "Principal": {"AWS": principal},
            "Action": action,
            "Resource": resource
        }]
    })
}
