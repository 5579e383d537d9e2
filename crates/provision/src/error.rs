//! The one place that decides which failures are retryable: each failure carries its own
//! non-retryable flag. Type names are wire contracts (the workflow branches on some of them).

use temporalio_sdk::activities::ActivityError;
use temporalio_sdk::ApplicationFailure;

use crate::policy::PolicyError;
use ordo_iac::IacError;

/// The saved plan no longer matches the state: the workflow re-plans and re-gates.
pub const STALE_PLAN: &str = "StalePlan";
/// The IaC directory or driver setup is unusable.
pub const INVALID_WORKSPACE: &str = "InvalidWorkspace";
/// The plan offered to apply is not the one that was approved.
pub const PLAN_HASH_MISMATCH: &str = "PlanHashMismatch";
/// Apply was sent no plan bytes and this worker holds no copy: the workflow sends the bytes.
pub const PLAN_NOT_LOCAL: &str = "PlanNotLocal";
/// A policy bundle failed to load or evaluate.
pub const POLICY_ERROR: &str = "PolicyCheckError";
/// Another run holds the workspace (retryable).
pub const WORKSPACE_LOCKED: &str = "WorkspaceLocked";
/// The IaC tool failed (retryable).
pub const IAC_FAILED: &str = "IacCommandFailed";
/// Seed 001's injected "bug in code" (retryable).
pub const RECOVERABLE: &str = "TerraformRecoverableError";
/// Seed 001's simulated API failure (retryable).
pub const API_FAILURE: &str = "TerraformAPIFailureError";

/// Types that no retry can fix.
pub const NON_RETRYABLE: &[&str] = &[STALE_PLAN, INVALID_WORKSPACE, PLAN_HASH_MISMATCH, PLAN_NOT_LOCAL, POLICY_ERROR];

/// An application failure of the given type; retryable unless the type is listed in [`NON_RETRYABLE`].
pub fn failure(type_name: &str, message: impl Into<String>) -> ActivityError {
    let message: String = message.into();
    ApplicationFailure::builder(message)
        .type_name(type_name.to_owned())
        .non_retryable(NON_RETRYABLE.contains(&type_name))
        .build()
        .into()
}

/// Maps a driver error to the activity failure the retry policies expect. (A function, not a
/// `From` impl: the SDK's blanket conversion from any error would make everything retryable.)
pub fn from_iac(err: IacError) -> ActivityError {
    match &err {
        IacError::StalePlan(_) => failure(STALE_PLAN, err.to_string()),
        IacError::Invalid(_) => failure(INVALID_WORKSPACE, err.to_string()),
        IacError::Locked(_) => failure(WORKSPACE_LOCKED, err.to_string()),
        IacError::Cancelled => ActivityError::cancelled(),
        IacError::Failed { .. } | IacError::Io(_) => failure(IAC_FAILED, err.to_string()),
    }
}

/// Policy errors are never retried: a broken policy stays broken.
pub fn from_policy(err: PolicyError) -> ActivityError {
    failure(POLICY_ERROR, err.to_string())
}
