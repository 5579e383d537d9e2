//! Ordo's HTTP face: each hosted domain's processes as a JSON REST API (OpenAPI at
//! `/api/openapi.json`), server-sent events per item, sign-in, and the web UI embedded in the
//! binary.
//!
//! It is thin on purpose: handlers parse and authorise, then call a domain's client and render.
//! Temporal stays the source of truth; the API keeps no state of its own beyond the watchers of
//! [`hub`](crate).
//!
//! Tests call [`app`] with `oneshot` (no socket); [`serve`] runs the same router on a listener.
//!
//! # Layout
//! Platform, shared by every domain:
//! - [`error`]: [`ApiError`], the one error type, and how it becomes a response (5xx details are
//!   logged, never returned).
//! - [`auth`]: users and roles from TOML, passwords (Argon2) and API tokens, signed session
//!   cookies, and the [`User`] extractor.
//! - [`state`]: [`AppState`], holding the hosted domains' clients by type ([`Hosted`]).
//! - `hub`: one watcher task per followed item, shared by its SSE subscribers, generic over what
//!   it watches (`Watch`).
//! - `extract`: JSON body and query extractors whose rejections name the offending field;
//!   `params`: shared parameter checks; `decide`: the order in which a decision is admitted.
//! - `metrics`: request counts, errors and latency by route, on `GET /metrics`.
//! - `routes`: `session` (sign-in), `meta` (info, health), `web` (the embedded UI from `web/`),
//!   and the OpenAPI document.
//! - `schema`: OpenAPI schemas of shared `ordo-iac` types.
//!
//! One module per domain, each with its routes, schemas, access rules and error mapping:
//! - `provision`: seed 001's runs (`/api/runs…`, `/api/scenarios`, `/api/inbox`).
//! - `application`: seed 000's requests (`/api/applications…`, `/api/authorizations`).
//! - `orders`: seed 002's pizza orders (`/orderPizza`, `/orderStatus`, `/api/orders…`).
//! - `release`: seed 003's releases (`/api/releases…`).
//! - `hooks`: seed 004's `/invoke/{client}` and TAC routes at the seed's `/v2/projects/…` paths.
//!
//! Adding a domain: a module like these (a `DOMAIN` with its router and OpenAPI document, and
//! `impl Hosted` for its client), one line in [`DOMAINS`], and `.with(client)` where the host
//! builds its [`AppState`].

mod application;
pub mod auth;
mod decide;
pub mod error;
mod extract;
mod hooks;
mod hub;
mod metrics;
mod orders;
mod params;
mod provision;
mod release;
mod routes;
mod schema;
pub mod state;

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use axum::Router;

pub use auth::{Role, SessionKey, User, Users};
pub use error::ApiError;
pub use hooks::OpenInvoke;
pub use routes::openapi;
pub use state::{AppState, AppStateBuilder, Hosted};

/// A domain's part of the API.
struct Domain {
    /// Its routes (URLs are absolute: `/api/runs…`).
    router: fn() -> Router<AppState>,
    /// Its OpenAPI paths, schemas and tag.
    openapi: fn() -> utoipa::openapi::OpenApi,
}

/// The domains the API serves, in the OpenAPI document's order. A host registers each one's
/// client with [`AppStateBuilder::with`].
const DOMAINS: [Domain; 5] = [provision::DOMAIN, application::DOMAIN, orders::DOMAIN, release::DOMAIN, hooks::DOMAIN];

/// Settings of the HTTP API.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// Who may sign in, with which role.
    pub users: Users,
    /// Signs session cookies.
    pub session_key: SessionKey,
    /// Mark the session cookie `Secure` (when served over HTTPS).
    pub secure_cookies: bool,
    /// IaC root for pre-start checks of directories and policy bundles; `None` when the API runs
    /// where the workers' IaC root is not visible (the worker checks again either way).
    pub iac_root: Option<PathBuf>,
    /// Base URL of the Temporal Web UI, for links to runs.
    pub temporal_ui_url: String,
    /// How often a run's watcher reads its state.
    pub watch_interval: Duration,
    /// How long to wait for a worker to accept an update (approve, reject, extend).
    pub worker_timeout: Duration,
}

impl AppConfig {
    /// Settings with these users, a random session key and the defaults.
    pub fn new(users: Users) -> Self {
        Self {
            users,
            session_key: SessionKey::random(),
            secure_cookies: false,
            iac_root: None,
            temporal_ui_url: "http://localhost:8233".to_owned(),
            watch_interval: Duration::from_millis(500),
            worker_timeout: Duration::from_secs(15),
        }
    }
}

/// The whole application: `/api/…`, the web UI and `/metrics`.
pub fn app(state: AppState) -> Router {
    routes::router()
        .route("/metrics", axum::routing::get(metrics::serve))
        .layer(axum::middleware::from_fn_with_state(state.clone(), metrics::record))
        .layer(axum::middleware::from_fn(error::log_server_errors))
        .with_state(state)
}

/// Serves [`app`] on `listener` until `shutdown` resolves, then finishes open requests (event
/// streams are closed).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let closing = state.clone();
    let shutdown = async move {
        shutdown.await;
        closing.close();
    };
    // The peer address reaches handlers (the per-client rate limit on placing orders).
    axum::serve(listener, app(state).into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}
