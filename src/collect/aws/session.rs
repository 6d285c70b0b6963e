//! Credentials per account: the caller's own, or an `sts:AssumeRole` session (refreshed before
//! it expires), and the service clients built on them. Every client counts and times its calls
//! ([`super::meter`]).
//!
//! A session is named `access-undenied`, or, inside [`in_event_session`] (the Lambda wraps each
//! diagnosis in it), `access-undenied-<eventID>`: a member account's CloudTrail then shows
//! which denial caused each read (`userIdentity.arn` ends in the session name).

use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use access_undenied_core::arn::Arn;
use aws_config::{Region, SdkConfig};
use aws_credential_types::provider::{
    self, error::CredentialsError, ProvideCredentials, SharedCredentialsProvider,
};
use aws_credential_types::Credentials;

use super::errors::{AwsError, AwsResult};
use super::AwsSource;
use crate::collect::CollectError;

/// The session name of every assumed role outside [`in_event_session`], and the prefix of the
/// names inside it.
pub const SESSION_NAME: &str = "access-undenied";

/// `sts:AssumeRole` accepts session names of at most 64 characters.
const MAX_SESSION_NAME: usize = 64;

tokio::task_local! {
    /// The session name of the diagnosis being polled, set by [`in_event_session`].
    static EVENT_SESSION: String;
}

/// Runs `diagnosis` with every session it opens named after `event_id`
/// (`access-undenied-<eventID>`), so that a member account's CloudTrail ties each read to the
/// denial that caused it. A session costs one `sts:AssumeRole` per event and account whose
/// reads are not already cached; reads answered from the cache open none.
pub async fn in_event_session<F: Future>(event_id: &str, diagnosis: F) -> F::Output {
    EVENT_SESSION.scope(session_name(event_id), diagnosis).await
}

/// `access-undenied-<eventID>`: the event id keeps only the characters `sts:AssumeRole` allows
/// (`[\w+=,.@-]`) and is cut to fit 64 characters; `access-undenied` when none is left.
pub fn session_name(event_id: &str) -> String {
    let room = MAX_SESSION_NAME - SESSION_NAME.len() - 1;
    let id: String = event_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(*c))
        .take(room)
        .collect();
    if id.is_empty() {
        SESSION_NAME.to_string()
    } else {
        format!("{SESSION_NAME}-{id}")
    }
}

/// The name of a session opened now.
fn current_session_name() -> String {
    EVENT_SESSION
        .try_with(String::clone)
        .unwrap_or_else(|_| SESSION_NAME.to_string())
}

/// An assumed session is renewed when it has less than this left.
const RENEW_BEFORE: Duration = Duration::from_secs(300);

/// Who the loaded credentials are.
#[derive(Debug, Clone)]
pub(super) struct Caller {
    pub account: String,
    pub partition: String,
}

/// Credentials of an assumed role: the session obtained up front, renewed by `sts:AssumeRole`
/// when it nears its expiry (the SDK's identity cache asks again shortly before expiry).
#[derive(Debug)]
struct AssumedRole {
    sts: aws_sdk_sts::Client,
    role_arn: String,
    session_name: String,
    external_id: Option<String>,
    current: Mutex<Credentials>,
}

impl AssumedRole {
    fn fresh(&self) -> Option<Credentials> {
        let current = self
            .current
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        match current.expiry() {
            Some(expiry) if expiry <= SystemTime::now() + RENEW_BEFORE => None,
            _ => Some(current),
        }
    }

    async fn renew(&self) -> Result<Credentials, AwsError> {
        let creds = assume_role(
            &self.sts,
            &self.role_arn,
            &self.session_name,
            self.external_id.as_deref(),
        )
        .await?;
        *self.current.lock().unwrap_or_else(|p| p.into_inner()) = creds.clone();
        Ok(creds)
    }
}

impl ProvideCredentials for AssumedRole {
    fn provide_credentials<'a>(&'a self) -> provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        provider::future::ProvideCredentials::new(async move {
            if let Some(creds) = self.fresh() {
                return Ok(creds);
            }
            self.renew().await.map_err(|e| {
                CredentialsError::provider_error(format!(
                    "sts:AssumeRole {}: {}",
                    self.role_arn,
                    e.describe()
                ))
            })
        })
    }
}

async fn assume_role(
    sts: &aws_sdk_sts::Client,
    role_arn: &str,
    session_name: &str,
    external_id: Option<&str>,
) -> Result<Credentials, AwsError> {
    let out = sts
        .assume_role()
        .role_arn(role_arn)
        .role_session_name(session_name)
        .set_external_id(external_id.map(str::to_string))
        .send()
        .await
        .aws()?;
    let Some(c) = out.credentials() else {
        return Err(AwsError::other("the answer has no credentials"));
    };
    let expiry = SystemTime::try_from(*c.expiration()).ok();
    Ok(Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_string()),
        expiry,
        "access-undenied-assume-role",
    ))
}

/// `arn:aws:iam::123456789012:user/x` → `aws`.
fn partition_of(arn: &str) -> Option<&str> {
    Arn::parse(arn)
        .map(|a| a.partition)
        .filter(|p| !p.is_empty())
}

/// The account id in a role ARN.
fn account_of(arn: &str) -> Option<&str> {
    Arn::parse(arn).map(|a| a.account).filter(|a| !a.is_empty())
}

macro_rules! client {
    ($name:ident, $sdk:ident) => {
        /// A client on `config`, in `region` when given (else the configuration's region).
        pub(super) fn $name(&self, config: &SdkConfig, region: Option<&str>) -> $sdk::Client {
            let mut builder = $sdk::config::Builder::from(config).interceptor(self.meter.clone());
            if let Some(region) = region.filter(|r| !r.is_empty()) {
                builder = builder.region(Region::new(region.to_string()));
            }
            $sdk::Client::from_conf(builder.build())
        }
    };
}

impl AwsSource {
    client!(iam_client, aws_sdk_iam);
    client!(sts_client, aws_sdk_sts);
    client!(org_client, aws_sdk_organizations);
    client!(kms_client, aws_sdk_kms);
    client!(secrets_client, aws_sdk_secretsmanager);
    client!(sqs_client, aws_sdk_sqs);
    client!(sns_client, aws_sdk_sns);
    client!(lambda_client, aws_sdk_lambda);
    client!(ecr_client, aws_sdk_ecr);
    client!(ec2_client, aws_sdk_ec2);

    /// An S3 client in `region`, path-style when a custom endpoint is configured.
    pub(super) fn s3_client(&self, config: &SdkConfig, region: &str) -> aws_sdk_s3::Client {
        let mut builder = aws_sdk_s3::config::Builder::from(config).interceptor(self.meter.clone());
        if !region.is_empty() {
            builder = builder.region(Region::new(region.to_string()));
        }
        if self.s3_path_style {
            builder = builder.force_path_style(true);
        }
        aws_sdk_s3::Client::from_conf(builder.build())
    }

    /// The caller's account and partition (`sts:GetCallerIdentity`, once).
    pub(super) async fn caller(&self) -> Result<Caller, CollectError> {
        self.caller
            .get_or_init(|| async {
                let what = "sts:GetCallerIdentity (the loaded credentials)";
                let out = self
                    .sts_client(&self.base, None)
                    .get_caller_identity()
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk(&e).into_collect(what))?;
                let account = out
                    .account()
                    .ok_or_else(|| super::errors::missing_field(what, "Account"))?;
                let partition = out.arn().and_then(partition_of).unwrap_or("aws");
                Ok(Caller {
                    account: account.to_string(),
                    partition: partition.to_string(),
                })
            })
            .await
            .clone()
    }

    /// The configuration whose credentials read `account`: the caller's own, or the
    /// cross-account role's session.
    pub(super) async fn account_config(&self, account: &str) -> Result<SdkConfig, CollectError> {
        let caller = self.caller().await?;
        if account.is_empty() || account == caller.account {
            return Ok(self.base.clone());
        }
        // The account comes from event data: only a 12-digit id may become part of a role ARN.
        if !access_undenied_core::arn::is_account_id(account) {
            return Err(CollectError::AssumeRole {
                account: account.chars().take(64).collect(),
                message: "not an AWS account id (12 digits): no role is assumed".into(),
            });
        }
        let role_name = self.settings.cross_account_role_name.trim_matches('/');
        if role_name.is_empty() {
            return Err(CollectError::AssumeRole {
                account: account.to_string(),
                message: "no cross-account role name is configured (--cross-account-role-name)"
                    .into(),
            });
        }
        if self.settings.member_accounts_only {
            self.members
                .get_or_init(account, || self.check_member(account))
                .await?;
        }
        let role_arn = format!("arn:{}:iam::{account}:role/{role_name}", caller.partition);
        self.role_config(&role_arn).await
    }

    /// The configuration for Organizations calls.
    pub(super) async fn org_config(&self) -> Result<SdkConfig, CollectError> {
        match &self.settings.management_account_role_arn {
            Some(role_arn) if !role_arn.is_empty() => self.role_config(role_arn).await,
            _ => Ok(self.base.clone()),
        }
    }

    /// A session of `role_arn` under the current session name (assumed once per name, then
    /// renewed as needed).
    async fn role_config(&self, role_arn: &str) -> Result<SdkConfig, CollectError> {
        let session_name = current_session_name();
        self.sessions
            .get_or_init(&format!("{role_arn}|{session_name}"), || async {
                let sts = self.sts_client(&self.base, None);
                let external_id = self.settings.external_id.clone().filter(|e| !e.is_empty());
                let first = assume_role(&sts, role_arn, &session_name, external_id.as_deref())
                    .await
                    .map_err(|e| CollectError::AssumeRole {
                        account: account_of(role_arn).unwrap_or(role_arn).to_string(),
                        message: format!("sts:AssumeRole {role_arn}: {}", e.describe()),
                    })?;
                let provider = AssumedRole {
                    sts,
                    role_arn: role_arn.to_string(),
                    session_name: session_name.clone(),
                    external_id,
                    current: Mutex::new(first),
                };
                Ok(self
                    .base
                    .to_builder()
                    .credentials_provider(SharedCredentialsProvider::new(provider))
                    .build())
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arn_parts() {
        assert_eq!(partition_of("arn:aws-cn:iam::1:user/x"), Some("aws-cn"));
        assert_eq!(
            account_of("arn:aws:iam::123456789012:role/r"),
            Some("123456789012")
        );
        assert_eq!(account_of("bogus"), None);
    }

    #[test]
    fn session_names_carry_the_event_id_within_stss_limits() {
        assert_eq!(
            session_name("3f0c5b8e-6a4d-4e0b-9c1a-2b7d8e9f0a11"),
            "access-undenied-3f0c5b8e-6a4d-4e0b-9c1a-2b7d8e9f0a11"
        );
        // Characters AssumeRole refuses are dropped; the name is cut to 64 characters.
        assert_eq!(session_name("a b/c:d"), "access-undenied-abcd");
        assert_eq!(session_name(&"x".repeat(100)).len(), 64);
        assert_eq!(session_name("/ :"), "access-undenied");
        assert_eq!(session_name(""), "access-undenied");
    }

    #[tokio::test]
    async fn the_name_holds_inside_the_event_session_only() {
        assert_eq!(current_session_name(), "access-undenied");
        let inside = in_event_session("ev-1", async { current_session_name() }).await;
        assert_eq!(inside, "access-undenied-ev-1");
        assert_eq!(current_session_name(), "access-undenied");
    }
}
