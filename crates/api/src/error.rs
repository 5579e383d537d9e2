//! The one error type of the HTTP API and how it becomes a response.
//!
//! Every error body has the same shape, `{"error": kind, "field"?: name, "reason": text}`, so the
//! UI shows a field's message next to that field. 5xx bodies carry a fixed text: the cause goes to
//! the log (once, in [`log_server_errors`]), never to the client. Each domain module maps its own
//! client's errors onto [`ApiError`] (its `error.rs`); this module knows none of them.

use std::sync::Arc;

use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use ordo_core::RequestError;
use serde::Serialize;
use utoipa::ToSchema;

/// Everything a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No such item (run, application request…) or route.
    #[error("{0}")]
    NotFound(String),
    /// The request is valid but the item is not in a state that allows it.
    #[error("{0}")]
    Conflict(String),
    /// A field is missing or has a bad value (422), or the workflow's validator refused it.
    #[error("{field}: {reason}")]
    Validation {
        /// The offending field, as a dotted path into the request (`request.directory`).
        field: String,
        /// Why it is refused.
        reason: String,
    },
    /// The request cannot be read at all: malformed JSON, a body that is not an object (400).
    #[error("{reason}")]
    BadRequest {
        /// Why it cannot be read.
        reason: String,
    },
    /// The body is not `application/json` (415).
    #[error("the request body must be application/json")]
    UnsupportedMediaType,
    /// No valid session cookie or bearer token (401).
    #[error("{0}")]
    Unauthorized(String),
    /// Signed in, but the role or the item's access rules do not allow it (403).
    #[error("{0}")]
    Forbidden(String),
    /// Too many attempts (failed sign-ins) in a short time (429).
    #[error("{0}")]
    TooManyRequests(String),
    /// No worker answered in time; the request may succeed later (503).
    #[error("no worker answered for this run; try again when a worker is running")]
    Unavailable,
    /// Anything else; the cause is logged, never returned.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

/// The JSON body of every error response.
#[derive(Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct ErrorBody {
    /// Machine-readable kind: `not_found`, `conflict`, `validation`, `bad_request`,
    /// `unsupported_media_type`, `unauthorized`, `forbidden`, `too_many_requests`, `unavailable`,
    /// `internal`.
    pub error: String,
    /// The offending field, for `validation`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// A sentence for people.
    pub reason: String,
}

impl ApiError {
    /// A 422 for `field`.
    pub fn validation(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Validation { field: field.into(), reason: reason.into() }
    }

    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Validation { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Self::NotFound(_) => "not_found",
            Self::Conflict(_) => "conflict",
            Self::Validation { .. } => "validation",
            Self::BadRequest { .. } => "bad_request",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::Unauthorized(_) => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::TooManyRequests(_) => "too_many_requests",
            Self::Unavailable => "unavailable",
            Self::Internal(_) => "internal",
        }
    }

    fn body(&self) -> ErrorBody {
        let field = match self {
            Self::Validation { field, .. } => Some(field.clone()),
            _ => None,
        };
        let reason = match self {
            Self::Validation { reason, .. } => reason.clone(),
            Self::Internal(_) => "internal error; the server log has the details".to_owned(),
            other => other.to_string(),
        };
        ErrorBody { error: self.kind().to_owned(), field, reason }
    }
}

/// A domain check's refusal is a 422 naming the same field.
impl From<RequestError> for ApiError {
    fn from(err: RequestError) -> Self {
        Self::Validation { field: err.field, reason: err.reason }
    }
}

/// The error that produced a 5xx response, kept for [`log_server_errors`].
#[derive(Clone)]
struct LoggedCause(Arc<ApiError>);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut response = (status, Json(self.body())).into_response();
        if status.is_server_error() {
            response.extensions_mut().insert(LoggedCause(Arc::new(self)));
        }
        response
    }
}

/// Middleware: logs the cause of every 5xx once, with the request it answered.
pub(crate) async fn log_server_errors(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    if let Some(LoggedCause(cause)) = response.extensions().get::<LoggedCause>() {
        let chain = match cause.as_ref() {
            ApiError::Internal(source) => format!("{source:#}"),
            other => other.to_string(),
        };
        tracing::error!(%method, %path, status = response.status().as_u16(), error = %chain, "request failed");
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An internal error's body says nothing about its cause.
    #[test]
    fn internal_errors_hide_their_cause() {
        let body = ApiError::Internal(anyhow::anyhow!("password=hunter2 at db.internal:5432")).body();
        assert_eq!(body.error, "internal");
        assert!(!body.reason.contains("hunter2") && !body.reason.contains("db.internal"), "{}", body.reason);
    }

    /// A validation error names its field, and maps to 422.
    #[test]
    fn validation_errors_name_the_field() {
        let err = ApiError::validation("request.directory", "must not be empty");
        assert_eq!(err.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = err.body();
        assert_eq!(body.field.as_deref(), Some("request.directory"));
        assert_eq!(body.reason, "must not be empty");
    }
}
