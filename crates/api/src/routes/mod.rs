//! The platform's routes (sign-in, info, health, the web UI) and every hosted domain's, merged
//! into one router; and the OpenAPI document: the platform's, with each domain's merged in.

mod meta;
mod session;
mod web;

use axum::http::{Method, Uri};
use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::error::ApiError;
use crate::AppState;

pub(crate) fn router() -> Router<AppState> {
    let domains = crate::DOMAINS.iter().fold(Router::new(), |router, domain| router.merge((domain.router)()));
    domains
        .merge(session::router())
        .merge(meta::router())
        .merge(web::router())
        .route("/api/openapi.json", get(|| async { Json(openapi()) }))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
}

async fn not_found(uri: Uri) -> ApiError {
    ApiError::NotFound(format!("no such route: {}", uri.path()))
}

async fn method_not_allowed(method: Method, uri: Uri) -> (axum::http::StatusCode, Json<crate::error::ErrorBody>) {
    (
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        Json(crate::error::ErrorBody {
            error: "method_not_allowed".into(),
            field: None,
            reason: format!("{method} is not allowed on {}", uri.path()),
        }),
    )
}

/// The document's head: title, description, shared schemas and the security schemes.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Ordo API",
        description = "Infrastructure provisioning runs as durable Temporal workflows: start, follow, approve, re-plan, extend, destroy, reset; and seed 000's application requests: request, authorize, follow, decommission.\n\nAuthenticate with `Authorization: Bearer <token>` (tokens come from the users file) or with the session cookie set by `POST /api/session`. Errors are `{error, field?, reason}`."
    ),
    components(schemas(crate::error::ErrorBody, crate::auth::Role)),
    modifiers(&Security)
)]
struct ApiDoc;

/// The platform's own paths, after the domains'.
#[derive(OpenApi)]
#[openapi(
    paths(session::sign_in, session::whoami, session::sign_out, meta::info, meta::health),
    tags(
        (name = "session", description = "Sign-in for the web UI"),
        (name = "meta", description = "Server information"),
    )
)]
struct PlatformDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API token from the users file"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::auth::SESSION_COOKIE,
                "Set by POST /api/session",
            ))),
        );
    }
}

/// The OpenAPI 3.1 document of the API, as served at `/api/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    for domain in &crate::DOMAINS {
        doc.merge((domain.openapi)());
    }
    doc.merge(PlatformDoc::openapi());
    doc
}
