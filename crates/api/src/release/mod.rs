//! Seed 003's releases over HTTP: `/api/releases…` (start from the catalogue or a definition,
//! list, show with the matrix, approve the release or a deploy, decide the gate, pause / resume /
//! abort) and `/api/releases/catalogue`.
//!
//! # Layout
//! - `routes`: the routes (requesters start, approvers approve and pause, admins abort, as runs);
//!   `error`: `ReleaseError` and the workflow's refusals as HTTP statuses.
//!
//! Handlers reach the client with `state.domain::<ReleaseClient>()` and the catalogue the API
//! checks starts against with `state.domain::<Catalogue>()`, both registered by the host with
//! `AppState::builder(..).with(release_client).with(catalogue)`.

mod error;
mod routes;

use ordo_release::catalogue::Catalogue;
use ordo_release::client::ReleaseClient;
use utoipa::OpenApi;

use crate::state::Hosted;
use crate::Domain;

/// The release domain's part of the API.
pub(crate) const DOMAIN: Domain = Domain { router: routes::router, openapi: Doc::openapi };

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
    ),
    tags((name = "releases", description = "Seed 003's releases: DEV → TEST → QC → PROD with approvals, a gate and rollback"))
)]
struct Doc;

/// Nothing to wire: releases have no event stream (yet).
impl Hosted for ReleaseClient {}

/// The catalogue starts are checked against (the workers' own).
impl Hosted for Catalogue {}
