//! `/api/session`: sign in (a session cookie for the UI), see who is signed in, sign out.

use std::time::SystemTime;

use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::{clear_session_cookie, session_cookie, session_cookie_value, User, SESSION_TTL};
use crate::error::{ApiError, ErrorBody};
use crate::extract::ApiJson;
use crate::AppState;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/api/session", post(sign_in).get(whoami).delete(sign_out))
}

/// Credentials for the sign-in page.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SignIn {
    /// User name.
    #[schema(max_length = 64)]
    name: String,
    /// Password.
    #[schema(max_length = 1024)]
    password: String,
}

/// Signs in; the response sets the `ordo_session` cookie (HttpOnly, SameSite=Strict).
#[utoipa::path(
    post, path = "/api/session", tag = "session",
    request_body = SignIn,
    responses(
        (status = 200, description = "Signed in", body = User),
        (status = 400, body = ErrorBody),
        (status = 401, description = "Unknown user or wrong password", body = ErrorBody),
        (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody),
        (status = 429, description = "Too many failed sign-ins for this name lately", body = ErrorBody),
    )
)]
pub(crate) async fn sign_in(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<SignIn>,
) -> Result<impl IntoResponse, ApiError> {
    if body.name.len() > 64 || body.password.len() > 1024 {
        return Err(ApiError::Unauthorized("unknown user or wrong password".into()));
    }
    state.sessions().admit_sign_in(&body.name)?;
    let users = state.config().users.clone();
    let SignIn { name, password } = body;
    let tried = name.clone();
    // Argon2 is slow on purpose; keep it off the async workers.
    let user = tokio::task::spawn_blocking(move || users.verify_password(&name, &password))
        .await
        .map_err(|e| ApiError::Internal(e.into()))?;
    let Some(user) = user else {
        state.sessions().failed_sign_in(&tried);
        return Err(ApiError::Unauthorized("unknown user or wrong password".into()));
    };
    state.sessions().signed_in(&user.name);
    let value = state.config().session_key.issue(&user.name, SystemTime::now(), SESSION_TTL);
    tracing::info!(user = %user.name, "signed in");
    Ok(([(SET_COOKIE, session_cookie(&value, state.config().secure_cookies))], Json(user)))
}

/// Who is signed in (by cookie or bearer token).
#[utoipa::path(
    get, path = "/api/session", tag = "session",
    responses((status = 200, body = User), (status = 401, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn whoami(user: User) -> Json<User> {
    Json(user)
}

/// Signs out: clears the cookie, and this server refuses it from now on (a copy kept elsewhere
/// included).
#[utoipa::path(
    delete, path = "/api/session", tag = "session",
    responses((status = 204, description = "Signed out"))
)]
pub(crate) async fn sign_out(State(state): State<AppState>, headers: axum::http::HeaderMap) -> impl IntoResponse {
    if let Some(cookie) = session_cookie_value(&headers) {
        state.sessions().revoke(&cookie, SystemTime::now());
    }
    (StatusCode::NO_CONTENT, [(SET_COOKIE, clear_session_cookie(state.config().secure_cookies))])
}
