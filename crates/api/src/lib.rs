//! Ordo's HTTP face: provisioning runs and seed 000's application requests as a JSON REST API
//! (OpenAPI at `/api/openapi.json`), server-sent events per run, sign-in, and the web UI embedded
//! in the binary.
//!
//! It is thin on purpose: handlers parse and authorise, then call the domain clients (or the
//! Temporal client, for what those clients do not cover) and render. Temporal stays the source of
//! truth; the API keeps no state of its own beyond the per-run watchers of [`hub`](crate).
//!
//! Tests call [`app`] with `oneshot` (no socket); [`serve`] runs the same router on a listener.
//!
//! # Layout
//! - [`error`]: [`ApiError`], the one error type, and how it becomes a response (5xx details are
//!   logged, never returned).
//! - [`auth`]: users and roles from TOML, passwords (Argon2) and API tokens, signed session
//!   cookies, and the [`User`] extractor.
//! - `extract`: JSON body and query extractors whose rejections name the offending field.
//! - `routes`: one module per resource, each returning its own `Router`: `runs` (start, list,
//!   show, decide, re-plan, extend, reset), `applications` (request, list, show, authorize,
//!   decommission, the authorizer's pending authorizations), `events` (SSE), `session`
//!   (sign-in), `meta` (scenarios, inbox, info, health, OpenAPI), `web` (the embedded UI from
//!   `web/`).
//! - `hub`: one watcher task per followed run, shared by every SSE subscriber.
//! - `metrics`: request counts, errors and latency by route, on `GET /metrics`.
//! - `schema`: OpenAPI schemas of the domain types returned as they are.

pub mod auth;
pub mod error;
mod extract;
mod hub;
mod metrics;
mod routes;
mod schema;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use ordo_application::ApplicationClient;
use ordo_provision::client::ProvisionClient;

pub use auth::{Role, SessionKey, User, Users};
pub use error::ApiError;
pub use routes::openapi;

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

/// What every handler shares: the domain clients, the settings and the watchers.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    client: ProvisionClient,
    applications: ApplicationClient,
    config: AppConfig,
    hub: Arc<hub::Hub>,
    metrics: metrics::ApiMetrics,
    /// Becomes `true` when the server shuts down, so open event streams end.
    closing: tokio::sync::watch::Sender<bool>,
}

impl AppState {
    /// State for runs reached through `client` and application requests started through
    /// `applications` (on the task queue the workers serve the application flow on).
    pub fn new(client: ProvisionClient, applications: ApplicationClient, config: AppConfig) -> Self {
        let hub = Arc::new(hub::Hub::new(client.clone(), config.watch_interval));
        let (closing, _) = tokio::sync::watch::channel(false);
        let metrics = metrics::ApiMetrics::new();
        Self { inner: Arc::new(Inner { client, applications, config, hub, metrics, closing }) }
    }

    /// How many runs have a live watcher now (one per run, however many subscribers).
    pub fn active_watchers(&self) -> usize {
        self.inner.hub.active()
    }

    pub(crate) fn client(&self) -> &ProvisionClient {
        &self.inner.client
    }

    pub(crate) fn applications(&self) -> &ApplicationClient {
        &self.inner.applications
    }

    pub(crate) fn config(&self) -> &AppConfig {
        &self.inner.config
    }

    pub(crate) fn hub(&self) -> &Arc<hub::Hub> {
        &self.inner.hub
    }

    pub(crate) fn metrics(&self) -> &metrics::ApiMetrics {
        &self.inner.metrics
    }

    /// Resolves when the server starts shutting down.
    pub(crate) fn closing(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut closing = self.inner.closing.subscribe();
        async move {
            let _ = closing.wait_for(|c| *c).await;
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
    let closing = state.inner.closing.clone();
    let shutdown = async move {
        shutdown.await;
        closing.send_replace(true);
    };
    axum::serve(listener, app(state)).with_graceful_shutdown(shutdown).await
}
