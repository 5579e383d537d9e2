//! The one place that decides which failures are retryable. Type names are wire contracts: the
//! workflows' retry policies list the non-retryable ones by name.

use temporalio_sdk::activities::ActivityError;
use temporalio_sdk::ApplicationFailure;

use crate::store::StoreError;

/// The seed's injected error (retryable: the retry finds what the failed attempt did).
pub const INJECTED: &str = "InjectedError";
/// A file operation failed (retryable).
pub const STORE_FAILED: &str = "StoreFailed";
/// The artifact to deploy is not in the store (a bug in the orchestration; never retried).
pub const NOT_BUILT: &str = "ArtifactNotBuilt";
/// The step was called with an unusable input (never retried).
pub const INVALID_STEP: &str = "InvalidStep";

/// Types that no retry can fix.
pub const NON_RETRYABLE: &[&str] = &[NOT_BUILT, INVALID_STEP];

/// An application failure of the given type; retryable unless listed in [`NON_RETRYABLE`].
pub fn failure(type_name: &str, message: impl Into<String>) -> ActivityError {
    ApplicationFailure::builder(message.into())
        .type_name(type_name.to_owned())
        .non_retryable(NON_RETRYABLE.contains(&type_name))
        .build()
        .into()
}

/// A store error as the activity failure the retry policies expect.
pub fn from_store(err: StoreError) -> ActivityError {
    let message = chain(&err);
    match err {
        StoreError::Io { .. } => failure(STORE_FAILED, message),
        StoreError::NotBuilt { .. } => failure(NOT_BUILT, message),
        StoreError::NoEnvironment => failure(INVALID_STEP, message),
    }
}

/// The error's message with its sources, as one line.
fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
