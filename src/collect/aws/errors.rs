//! SDK errors → [`CollectError`], keeping the AWS error code and message.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::collect::CollectError;

/// What an AWS call failed with.
#[derive(Debug, Clone)]
pub(super) struct AwsError {
    /// The AWS error code (`NoSuchEntity`, `AccessDenied`, …); `None` when the call did not get
    /// an error response (network, timeout, unparseable answer).
    pub code: Option<String>,
    pub message: String,
    /// S3's `x-amz-bucket-region` header, when the answer carried one.
    pub bucket_region: Option<String>,
}

impl AwsError {
    pub fn from_sdk<E>(err: SdkError<E, HttpResponse>) -> AwsError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let bucket_region = err
            .raw_response()
            .and_then(|r| r.headers().get("x-amz-bucket-region"))
            .map(str::to_string);
        match err.code() {
            Some(code) => AwsError {
                code: Some(code.to_string()),
                message: err.message().unwrap_or_default().to_string(),
                bucket_region,
            },
            None => AwsError {
                code: None,
                message: match &err {
                    SdkError::TimeoutError(_) => {
                        format!("timed out ({})", DisplayErrorContext(&err))
                    }
                    _ => DisplayErrorContext(&err).to_string(),
                },
                bucket_region,
            },
        }
    }

    pub fn code(&self) -> &str {
        self.code.as_deref().unwrap_or("")
    }

    /// `Code: message`.
    pub fn describe(&self) -> String {
        match &self.code {
            Some(code) if self.message.is_empty() => code.clone(),
            Some(code) => format!("{code}: {}", self.message),
            None => self.message.clone(),
        }
    }

    /// Classifies the failure of reading `what` (e.g. `iam:GetRole arn:…`).
    pub fn into_collect(self, what: impl Into<String>) -> CollectError {
        let what = what.into();
        let code = self.code();
        if is_access_denied(code) {
            CollectError::AccessDenied {
                what,
                message: self.describe(),
            }
        } else if is_not_found(code) {
            CollectError::NotFound {
                what: format!("{what} ({})", self.describe()),
            }
        } else {
            CollectError::Service {
                what,
                message: self.describe(),
            }
        }
    }
}

/// `.aws()` on an SDK result: the error as an [`AwsError`].
pub(super) trait AwsResult<T> {
    fn aws(self) -> Result<T, AwsError>;
}

impl<T, E> AwsResult<T> for Result<T, SdkError<E, HttpResponse>>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    fn aws(self) -> Result<T, AwsError> {
        self.map_err(AwsError::from_sdk)
    }
}

/// `.or_collect(what)` on an [`AwsError`] result.
pub(super) trait OrCollect<T> {
    fn or_collect(self, what: impl FnOnce() -> String) -> Result<T, CollectError>;
}

impl<T> OrCollect<T> for Result<T, AwsError> {
    fn or_collect(self, what: impl FnOnce() -> String) -> Result<T, CollectError> {
        self.map_err(|e| e.into_collect(what()))
    }
}

pub(super) fn is_access_denied(code: &str) -> bool {
    code.starts_with("AccessDenied")
        || matches!(
            code,
            "AuthorizationError"
                | "UnauthorizedOperation"
                | "UnauthorizedException"
                | "AuthorizationErrorException"
        )
}

pub(super) fn is_not_found(code: &str) -> bool {
    code.starts_with("NoSuch")
        || code.ends_with("NotFound")
        || code.ends_with("NotFoundException")
        || code.contains("NonExistent")
        || code.contains("DoesNotExist")
}

/// A required field missing from an answer.
pub(super) fn missing_field(what: &str, field: &str) -> CollectError {
    CollectError::Service {
        what: what.to_string(),
        message: format!("the answer has no {field}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(code: &str) -> AwsError {
        AwsError {
            code: Some(code.into()),
            message: "msg".into(),
            bucket_region: None,
        }
    }

    #[test]
    fn classifies_codes() {
        for code in [
            "AccessDenied",
            "AccessDeniedException",
            "AuthorizationError",
            "UnauthorizedOperation",
        ] {
            assert!(
                matches!(
                    err(code).into_collect("x"),
                    CollectError::AccessDenied { .. }
                ),
                "{code}"
            );
        }
        for code in [
            "NoSuchEntity",
            "NoSuchBucket",
            "NotFoundException",
            "ResourceNotFoundException",
            "RepositoryNotFoundException",
            "ChildNotFoundException",
            "AWS.SimpleQueueService.NonExistentQueue",
            "QueueDoesNotExist",
            "NotFound",
        ] {
            assert!(
                matches!(err(code).into_collect("x"), CollectError::NotFound { .. }),
                "{code}"
            );
        }
        let e = err("Throttling").into_collect("iam:GetRole r");
        assert_eq!(
            e,
            CollectError::Service {
                what: "iam:GetRole r".into(),
                message: "Throttling: msg".into()
            }
        );
        let none = AwsError {
            code: None,
            message: "dispatch failure".into(),
            bucket_region: None,
        };
        assert!(
            matches!(none.into_collect("x"), CollectError::Service { message, .. } if message == "dispatch failure")
        );
    }
}
