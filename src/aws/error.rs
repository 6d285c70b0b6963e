//! An SDK error read once, in one place: what kind of failure it was, the AWS error code and
//! message, the HTTP status, and what that means — access denied, not found, or worth a retry.
//! The policy source turns it into a [`crate::collect::CollectError`], the sinks into a
//! [`crate::sink::SinkError`], `history` into its query error.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// What kind of failure an SDK call ended in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// AWS answered with an error response.
    Service,
    /// The attempt or the whole call ran out of time.
    Timeout,
    /// The request could not be sent (connection, DNS, TLS).
    Dispatch,
    /// An answer came but could not be read.
    Response,
    /// Anything else (the request could not be built, or a failure found outside the SDK).
    Other,
}

/// One failed AWS call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdkFailure {
    pub kind: FailureKind,
    /// The AWS error code (`NoSuchEntity`, `AccessDenied`, …), when the error response named one.
    pub code: Option<String>,
    /// AWS's own message, when the error response carried one.
    pub aws_message: Option<String>,
    /// The HTTP status of the answer, when there was one.
    pub status: Option<u16>,
    /// S3's `x-amz-bucket-region` header, when the answer carried one.
    pub bucket_region: Option<String>,
    /// The SDK's whole account of the failure, causes included.
    pub detail: String,
}

/// The error codes (and HTTP statuses: 5xx, 429) after which trying again can help.
const RETRYABLE_CODES: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    "RequestLimitExceeded",
    "ProvisionedThroughputExceededException",
    "TransactionConflictException",
    "TransactionInProgressException",
    "InternalServerError",
    "InternalFailure",
    "InternalError",
    "ServiceUnavailable",
    "KMSThrottlingException",
    "KMSThrottling",
    "RequestTimeout",
    "RequestTimeoutException",
];

/// Whether an AWS error code (or HTTP status) says that a retry can help.
pub fn retryable_code(code: Option<&str>, status: Option<u16>) -> bool {
    code.is_some_and(|c| RETRYABLE_CODES.contains(&c))
        || status.is_some_and(|s| s >= 500 || s == 429)
}

/// Whether an AWS error code means the caller may not do it.
pub fn is_access_denied(code: &str) -> bool {
    code.starts_with("AccessDenied")
        || matches!(
            code,
            "AuthorizationError"
                | "UnauthorizedOperation"
                | "UnauthorizedException"
                | "AuthorizationErrorException"
        )
}

/// Whether an AWS error code means the thing asked for does not exist.
pub fn is_not_found(code: &str) -> bool {
    code.starts_with("NoSuch")
        || code.ends_with("NotFound")
        || code.ends_with("NotFoundException")
        || code.contains("NonExistent")
        || code.contains("DoesNotExist")
}

impl SdkFailure {
    /// Reads an SDK error.
    pub fn from_sdk<E>(err: &SdkError<E, HttpResponse>) -> SdkFailure
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let kind = match err {
            SdkError::ServiceError(_) => FailureKind::Service,
            SdkError::TimeoutError(_) => FailureKind::Timeout,
            SdkError::DispatchFailure(_) => FailureKind::Dispatch,
            SdkError::ResponseError(_) => FailureKind::Response,
            _ => FailureKind::Other,
        };
        let raw = err.raw_response();
        SdkFailure {
            kind,
            code: err.code().map(str::to_string),
            aws_message: err.message().map(str::to_string),
            status: raw.map(|r| r.status().as_u16()),
            bucket_region: raw
                .and_then(|r| r.headers().get("x-amz-bucket-region"))
                .map(str::to_string),
            detail: DisplayErrorContext(err).to_string(),
        }
    }

    /// A failure found outside the SDK (e.g. an answer missing what it must hold).
    pub fn other(message: impl Into<String>) -> SdkFailure {
        SdkFailure {
            kind: FailureKind::Other,
            code: None,
            aws_message: None,
            status: None,
            bucket_region: None,
            detail: message.into(),
        }
    }

    /// The AWS error code, or `""`.
    pub fn code(&self) -> &str {
        self.code.as_deref().unwrap_or("")
    }

    /// What went wrong: AWS's message when it named an error code, else the SDK's account
    /// (`timed out (…)` for a timeout).
    pub fn message(&self) -> String {
        match (&self.code, self.kind) {
            (Some(_), _) => self.aws_message.clone().unwrap_or_default(),
            (None, FailureKind::Timeout) => format!("timed out ({})", self.detail),
            (None, _) => self.detail.clone(),
        }
    }

    /// `Code: message` (the code alone when AWS gave no message; the message alone when there
    /// is no code): how results and unevaluated gates quote a failed read.
    pub fn describe(&self) -> String {
        let message = self.message();
        match &self.code {
            Some(code) if message.is_empty() => code.clone(),
            Some(code) => format!("{code}: {message}"),
            None => message,
        }
    }

    /// `Code: message (http 400)` for an error response, else the SDK's account: how a failed
    /// store, publish or query is logged.
    pub fn describe_with_status(&self) -> String {
        match self.kind {
            FailureKind::Service => format!(
                "{}: {} (http {})",
                self.code.as_deref().unwrap_or("unknown error"),
                self.aws_message.as_deref().unwrap_or("no message"),
                self.status.unwrap_or_default()
            ),
            _ => self.detail.clone(),
        }
    }

    /// Whether trying again later can help: throttling, conflicts, 5xx and 429 answers,
    /// timeouts, connection failures and unreadable answers.
    pub fn retryable(&self) -> bool {
        match self.kind {
            FailureKind::Service => retryable_code(self.code.as_deref(), self.status),
            FailureKind::Timeout | FailureKind::Dispatch | FailureKind::Response => true,
            FailureKind::Other => false,
        }
    }

    /// Whether AWS refused the caller.
    pub fn is_access_denied(&self) -> bool {
        is_access_denied(self.code())
    }

    /// Whether what was asked for does not exist.
    pub fn is_not_found(&self) -> bool {
        is_not_found(self.code())
    }

    /// Whether AWS throttled the call (after the SDK's own retries).
    pub fn is_throttled(&self) -> bool {
        self.status == Some(429)
            || matches!(
                self.code(),
                "Throttling"
                    | "ThrottlingException"
                    | "ThrottledException"
                    | "TooManyRequestsException"
                    | "RequestLimitExceeded"
                    | "RequestThrottled"
                    | "SlowDown"
            )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(code: &str, status: u16) -> SdkFailure {
        SdkFailure {
            kind: FailureKind::Service,
            code: Some(code.into()),
            aws_message: Some("msg".into()),
            status: Some(status),
            bucket_region: None,
            detail: "service error".into(),
        }
    }

    #[test]
    fn retryable_codes() {
        assert!(retryable_code(Some("ThrottlingException"), Some(400)));
        assert!(retryable_code(None, Some(503)));
        assert!(!retryable_code(
            Some("ResourceNotFoundException"),
            Some(400)
        ));
        assert!(!retryable_code(Some("AuthorizationError"), Some(403)));
        assert!(service("Throttling", 400).retryable());
        assert!(!service("ValidationException", 400).retryable());
        let mut timeout = SdkFailure::other("slow");
        timeout.kind = FailureKind::Timeout;
        assert!(timeout.retryable());
        assert!(!SdkFailure::other("no credentials in the answer").retryable());
    }

    #[test]
    fn renderings() {
        let e = service("Throttling", 400);
        assert_eq!(e.describe(), "Throttling: msg");
        assert_eq!(e.describe_with_status(), "Throttling: msg (http 400)");
        let mut bare = service("NoSuchEntity", 404);
        bare.aws_message = None;
        assert_eq!(bare.describe(), "NoSuchEntity");
        assert_eq!(
            bare.describe_with_status(),
            "NoSuchEntity: no message (http 404)"
        );
        let mut timeout = SdkFailure::other("operation timeout (all attempts) occurred");
        timeout.kind = FailureKind::Timeout;
        assert_eq!(
            timeout.describe(),
            "timed out (operation timeout (all attempts) occurred)"
        );
        assert_eq!(
            timeout.describe_with_status(),
            "operation timeout (all attempts) occurred"
        );
        assert_eq!(
            SdkFailure::other("dispatch failure").describe(),
            "dispatch failure"
        );
    }

    #[test]
    fn access_denied_and_not_found_codes() {
        for code in [
            "AccessDenied",
            "AccessDeniedException",
            "AuthorizationError",
            "UnauthorizedOperation",
        ] {
            assert!(service(code, 403).is_access_denied(), "{code}");
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
            assert!(service(code, 404).is_not_found(), "{code}");
        }
        assert!(!service("Throttling", 400).is_not_found());
        assert!(!SdkFailure::other("x").is_access_denied());
    }
}
