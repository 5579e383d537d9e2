//! Seed 000's client errors as HTTP responses.

use ordo_application::ApplicationError;

use crate::error::ApiError;

impl From<ApplicationError> for ApiError {
    fn from(err: ApplicationError) -> Self {
        match err {
            ApplicationError::Invalid(e) => e.into(),
            ApplicationError::NotFound(id) => Self::NotFound(format!("no application request with id {id:?}")),
            ApplicationError::Conflict(why) => Self::Conflict(why),
            ApplicationError::Other(e) => Self::Internal(e),
        }
    }
}
