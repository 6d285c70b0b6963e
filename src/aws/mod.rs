//! What every AWS adapter shares: the one loader of the SDK configuration ([`config`]) and the
//! one reading of an SDK error ([`error`]: its code, message, HTTP status, and whether it means
//! access denied, not found, or worth a retry).

pub mod config;
pub mod error;

pub use self::config::{load_sdk_config, DEFAULT_REGION};
pub use self::error::{FailureKind, SdkFailure};
