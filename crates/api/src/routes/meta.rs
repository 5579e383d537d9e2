//! Server information and health (no sign-in needed).

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/api/info", get(info)).route("/api/health", get(health))
}

/// What the UI needs to know about this server.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub(crate) struct Info {
    /// Base URL of the Temporal Web UI; a run is at `{temporal_ui_url}/namespaces/{namespace}/workflows/{id}`.
    pub(crate) temporal_ui_url: String,
    /// Temporal namespace.
    pub(crate) namespace: String,
    /// Ordo's version.
    pub(crate) version: String,
    /// Whether the built-in demo users are active (`ORDO_USERS_FILE` unset).
    pub(crate) demo_users: bool,
}

/// Server information (no sign-in needed).
#[utoipa::path(get, path = "/api/info", tag = "meta", responses((status = 200, body = Info)))]
pub(crate) async fn info(State(state): State<AppState>) -> Json<Info> {
    Json(Info {
        temporal_ui_url: state.config().temporal_ui_url.trim_end_matches('/').to_owned(),
        namespace: state.namespace().to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        demo_users: state.config().users.is_demo(),
    })
}

/// Liveness.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub(crate) struct Health {
    /// Always `ok`.
    pub(crate) status: String,
}

/// Liveness (no sign-in needed).
#[utoipa::path(get, path = "/api/health", tag = "meta", responses((status = 200, body = Health)))]
pub(crate) async fn health() -> Json<Health> {
    Json(Health { status: "ok".to_owned() })
}
