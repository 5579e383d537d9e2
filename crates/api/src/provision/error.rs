//! Provisioning's errors as HTTP responses. A run's refusal is mapped by its kind, never by its
//! wording: the message is shown as it is.

use ordo_provision::client::RunError;
use ordo_provision::model::{Refusal, RefusalKind};

use crate::error::ApiError;

impl From<RunError> for ApiError {
    fn from(err: RunError) -> Self {
        match err {
            RunError::NotFound(id) => Self::NotFound(format!("no run with id {id:?}")),
            RunError::Refused(refusal) => refusal.into(),
            RunError::Other(e) => Self::Internal(e),
        }
    }
}

/// A run's refusal: 409 when the run is not in a state for it (or the plan changed), 403 when this approver may not
/// decide, 422 naming the field of a bad value.
impl From<Refusal> for ApiError {
    fn from(Refusal { kind, message }: Refusal) -> Self {
        match kind {
            RefusalKind::NotPending
            | RefusalKind::NoTtl
            | RefusalKind::NoPlanStage
            | RefusalKind::PlanChanged
            | RefusalKind::WorkspaceReleased => Self::Conflict(message),
            RefusalKind::ApproverRequired | RefusalKind::NotAnApprover | RefusalKind::AlreadyApproved => {
                Self::Forbidden(message)
            }
            RefusalKind::Invalid { field } => Self::Validation { field, reason: message },
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;

    use super::*;

    /// Each refusal kind answers with its status, and the body shows the message, not the wire
    /// form.
    #[test]
    fn refusals_map_to_statuses_by_kind() {
        for kind in RefusalKind::all() {
            let expected = match &kind {
                RefusalKind::NotPending
                | RefusalKind::NoTtl
                | RefusalKind::NoPlanStage
                | RefusalKind::PlanChanged
                | RefusalKind::WorkspaceReleased => StatusCode::CONFLICT,
                RefusalKind::ApproverRequired | RefusalKind::NotAnApprover | RefusalKind::AlreadyApproved => {
                    StatusCode::FORBIDDEN
                }
                RefusalKind::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            };
            let err = ApiError::from(RunError::Refused(Refusal::new(kind.clone(), "why")));
            assert_eq!(err.status(), expected, "{kind:?}");
            assert_eq!(err.to_string().rsplit(": ").next(), Some("why"), "{kind:?}");
        }
        let invalid = ApiError::from(Refusal::invalid("seconds", "must be at least 1"));
        assert!(matches!(invalid, ApiError::Validation { ref field, .. } if field == "seconds"), "{invalid:?}");
    }
}
