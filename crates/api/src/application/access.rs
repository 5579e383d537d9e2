//! Who may authorize an application request: the access rule of seed 000 (roles themselves are
//! the platform's).

use crate::auth::{Role, User};
use crate::error::ApiError;

/// Fails with 403 unless `user` may authorize a request naming `authorizer`: an admin always;
/// otherwise only the named authorizer, and only with the approver role.
pub(crate) fn may_authorize(user: &User, authorizer: &str) -> Result<(), ApiError> {
    match user.role {
        Role::Admin => Ok(()),
        Role::Approver if user.name == authorizer => Ok(()),
        Role::Approver => Err(ApiError::Forbidden(format!(
            "{} is not the authorizer of this request: only {authorizer} or an admin may authorize it",
            user.name
        ))),
        Role::Requester => Err(ApiError::Forbidden(format!(
            "{} is a requester and may not authorize application requests: only {authorizer} or an admin may authorize this one",
            user.name
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Authorizing follows the request's named authorizer; admins authorize any, requesters none.
    #[test]
    fn only_the_named_authorizer_or_an_admin_may_authorize() {
        let alice = User { name: "alice".into(), role: Role::Approver };
        let bob = User { name: "bob".into(), role: Role::Requester };
        let admin = User { name: "admin".into(), role: Role::Admin };
        assert!(may_authorize(&alice, "alice").is_ok());
        assert!(matches!(may_authorize(&alice, "carol"), Err(ApiError::Forbidden(_))));
        assert!(matches!(may_authorize(&bob, "bob"), Err(ApiError::Forbidden(_))), "a requester never authorizes");
        assert!(may_authorize(&admin, "alice").is_ok());
    }
}
