//! Who may decide a run: the access rule of provisioning (roles themselves are the platform's).

use crate::auth::{Role, User};
use crate::error::ApiError;

/// Fails with 403 unless `user` may approve or reject a run listing `approvers`: an approver or an
/// admin when listed, or when the run lists nobody. An admin is not above a run's list: the
/// workflow checks the list itself and cannot check a role, so the API does not claim one.
pub(crate) fn may_decide(user: &User, approvers: &[String]) -> Result<(), ApiError> {
    match user.role {
        Role::Admin | Role::Approver if approvers.is_empty() || approvers.iter().any(|a| a == &user.name) => Ok(()),
        Role::Admin | Role::Approver => Err(ApiError::Forbidden(format!(
            "{} is not an approver of this run (its approvers: {})",
            user.name,
            approvers.join(", ")
        ))),
        Role::Requester => Err(ApiError::Forbidden(format!(
            "{} is a requester; only approvers may approve or reject plans",
            user.name
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deciding follows the run's approver list, for admins too; requesters decide none.
    #[test]
    fn approver_lists_decide_who_may_approve() {
        let alice = User { name: "alice".into(), role: Role::Approver };
        let bob = User { name: "bob".into(), role: Role::Requester };
        let admin = User { name: "admin".into(), role: Role::Admin };
        assert!(may_decide(&alice, &[]).is_ok());
        assert!(may_decide(&alice, &["alice".into()]).is_ok());
        assert!(matches!(may_decide(&alice, &["carol".into()]), Err(ApiError::Forbidden(_))));
        assert!(matches!(may_decide(&bob, &[]), Err(ApiError::Forbidden(_))));
        assert!(may_decide(&admin, &[]).is_ok());
        assert!(may_decide(&admin, &["admin".into()]).is_ok());
        assert!(matches!(may_decide(&admin, &["carol".into()]), Err(ApiError::Forbidden(_))));
    }
}
