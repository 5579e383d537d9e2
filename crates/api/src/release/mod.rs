//! Seed 003's releases over HTTP: `/api/releases…` (start from the catalogue or a definition,
//! list, show with the matrix, approve the release or a deploy, decide the gate, pause / resume /
//! abort, a board's server-sent events) and `/api/releases/catalogue`.
//!
//! # Layout
//! - `routes`: the routes (requesters start, approvers approve and pause, admins abort, as runs);
//!   `events`: a release's server-sent events (its [`ReleaseWatch`](events::ReleaseWatch) hub);
//!   `error`: `ReleaseError` and the workflow's refusals as HTTP statuses.
//!
//! Handlers reach the client with `state.domain::<ReleaseClient>()` and the catalogue the API
//! checks starts against with `state.domain::<Catalogue>()`, both registered by the host with
//! `AppState::builder(..).with(release_client).with(catalogue)`.

mod error;
mod events;
mod routes;

use axum::Router;
use ordo_release::catalogue::Catalogue;
use ordo_release::client::ReleaseClient;
use utoipa::OpenApi;

use crate::state::{Hosted, Wiring};
use crate::{AppState, Domain};

/// The release domain's part of the API.
pub(crate) const DOMAIN: Domain = Domain { router, openapi: Doc::openapi };

fn router() -> Router<AppState> {
    Router::new().merge(routes::router()).merge(events::router())
}

#[derive(OpenApi)]
#[openapi(
    paths(
        routes::start_release,
        routes::list_releases,
        routes::show_release,
        routes::catalogue,
        routes::approve,
        routes::decide_gate,
        routes::pause,
        routes::resume,
        routes::abort,
        events::release_events,
    ),
    tags((name = "releases", description = "Seed 003's releases: DEV → TEST → QC → PROD with approvals, a gate and rollback"))
)]
struct Doc;

impl Hosted for ReleaseClient {
    fn wire(&self, wiring: &mut Wiring<'_>) {
        wiring.hub(events::ReleaseWatch(self.clone()));
    }
}

/// The catalogue starts are checked against (the workers' own).
impl Hosted for Catalogue {}
