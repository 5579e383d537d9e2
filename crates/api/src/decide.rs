//! The rules a decision sent to a waiting workflow goes through (a run's approval or rejection, an
//! application's authorization), so every decision route answers the same states with the same
//! status codes. Each resource says in its own words why a decision cannot be taken; [`admit`]
//! decides what that means for the response.

use crate::auth::User;
use crate::error::ApiError;

/// A workflow's state as a decision route reads it.
pub(crate) trait Decidable {
    /// Why the workflow takes no decision at all: it has ended, or it never asks for one.
    fn closed(&self) -> Option<String>;
    /// Whether no worker answered, so the state holds only what visibility knows.
    fn stale(&self) -> bool;
    /// Fails unless `user` may decide: 403, or 409 while the workflow cannot tell yet who may.
    fn check_decider(&self, user: &User) -> Result<(), ApiError>;
    /// Why no decision is awaited right now (already decided, not yet asking).
    fn not_awaited(&self) -> Option<String>;
}

/// Whether `user` may send a decision to the workflow `view` shows, checked in this order: a closed
/// workflow is a 409; a stale view a 503 (without a worker who may decide is unknown, and nothing
/// would record the decision); then the user's right to decide; then a decision must be awaited
/// (409 otherwise).
pub(crate) fn admit(view: &impl Decidable, user: &User) -> Result<(), ApiError> {
    if let Some(why) = view.closed() {
        return Err(ApiError::Conflict(why));
    }
    if view.stale() {
        return Err(ApiError::Unavailable);
    }
    view.check_decider(user)?;
    match view.not_awaited() {
        Some(why) => Err(ApiError::Conflict(why)),
        None => Ok(()),
    }
}
