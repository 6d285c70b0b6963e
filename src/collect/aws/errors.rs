//! SDK errors → [`CollectError`], keeping the AWS error code and message.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::collect::CollectError;

/// What an AWS call failed with: the shared reading of SDK errors.
pub(super) type AwsError = crate::aws::SdkFailure;

impl AwsError {
    /// Classifies the failure of reading `what` (e.g. `iam:GetRole arn:…`).
    pub(crate) fn into_collect(self, what: impl Into<String>) -> CollectError {
        let what = what.into();
        if self.is_access_denied() {
            CollectError::AccessDenied {
                what,
                message: self.describe(),
            }
        } else if self.is_throttled() {
            CollectError::Throttled {
                what,
                message: self.describe(),
            }
        } else if self.is_not_found() {
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
        self.map_err(|e| AwsError::from_sdk(&e))
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
            kind: crate::aws::FailureKind::Service,
            code: Some(code.into()),
            aws_message: Some("msg".into()),
            status: Some(400),
            bucket_region: None,
            detail: "service error".into(),
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
            CollectError::Throttled {
                what: "iam:GetRole r".into(),
                message: "Throttling: msg".into()
            }
        );
        let none = AwsError::other("dispatch failure");
        assert!(
            matches!(none.into_collect("x"), CollectError::Service { message, .. } if message == "dispatch failure")
        );
    }
}
