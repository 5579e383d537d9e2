//! Seed 000's application requests over HTTP: `/api/applications…` (request, list, show,
//! authorize, decommission) and the authorizer's `/api/authorizations`.
//!
//! # Layout
//! - `routes`: the routes; `schema`: OpenAPI schemas of `ordo-application`'s types; `access`:
//!   who may authorize a request; `error`: `ApplicationError` as HTTP statuses.
//!
//! Handlers reach the client with `state.domain::<ApplicationClient>()`, registered by the host
//! with `AppState::builder(..).with(application_client)`.

mod access;
mod error;
mod routes;
mod schema;

use ordo_application::ApplicationClient;
use utoipa::OpenApi;

use crate::state::Hosted;
use crate::Domain;

/// The application flow's part of the API.
pub(crate) const DOMAIN: Domain = Domain { router: routes::router, openapi: Doc::openapi };

#[derive(OpenApi)]
#[openapi(
    paths(
        routes::request_application,
        routes::list_applications,
        routes::show_application,
        routes::authorize,
        routes::decommission,
        routes::pending_authorizations,
    ),
    tags((name = "applications", description = "Seed 000's application requests: request, authorize, decommission"))
)]
struct Doc;

/// Nothing to wire: application requests have no event stream (yet).
impl Hosted for ApplicationClient {}
