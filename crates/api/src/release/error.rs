//! Seed 003's client errors as HTTP responses. The workflow's validators refuse with a message
//! that starts with the field at fault (`approver: …`, `reason: …`, `target: …`).

use ordo_release::client::ReleaseError;

use crate::error::ApiError;

impl From<ReleaseError> for ApiError {
    fn from(err: ReleaseError) -> Self {
        match err {
            ReleaseError::Invalid(e) => e.into(),
            ReleaseError::NotFound(key) => Self::NotFound(format!("no release {key:?}")),
            ReleaseError::AlreadyRunning(key) => Self::Conflict(format!("release {key:?} is already running")),
            ReleaseError::Rejected(why) => refusal(why),
            ReleaseError::Other(e) => Self::Internal(e),
        }
    }
}

/// A validator's refusal: a bad reason is the caller's input (422), an approver the release does
/// not list is forbidden (403), anything else is the release's state (409).
fn refusal(why: String) -> ApiError {
    match why.split_once(": ") {
        Some(("reason", reason)) => ApiError::validation("reason", reason),
        Some(("approver", _)) => ApiError::Forbidden(why),
        _ => ApiError::Conflict(why),
    }
}
