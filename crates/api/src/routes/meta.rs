//! Everything around runs: the scenario catalogue, the approver's inbox, server info and health.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use ordo_provision::client::{ListFilter, RunView};
use ordo_provision::model::status;
use ordo_provision::scenarios::{self, Scenario};
use serde::{Deserialize, Serialize};
use temporalio_client::NamespacedClient as _;
use utoipa::ToSchema;

use crate::auth::User;
use crate::error::{ApiError, ErrorBody};
use crate::schema::{RunViewDoc, ScenarioDoc};
use crate::AppState;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/scenarios", get(list_scenarios))
        .route("/api/inbox", get(inbox))
        .route("/api/info", get(info))
        .route("/api/health", get(health))
}

/// Seed 001's scenarios, in its order.
#[utoipa::path(
    get, path = "/api/scenarios", tag = "runs",
    responses((status = 200, body = Vec<ScenarioDoc>), (status = 401, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn list_scenarios(_user: User) -> Json<&'static [Scenario]> {
    Json(scenarios::SCENARIOS)
}

/// A run waiting for a plan decision.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub(crate) struct InboxItem {
    /// The run, with its plan, policy results, approvers and deadline.
    #[schema(value_type = RunViewDoc)]
    pub(crate) run: RunView,
    /// Whether the signed-in user may decide it.
    pub(crate) can_decide: bool,
}

/// Plans waiting for a decision (newest first, at most 50), each with what is needed to decide.
#[utoipa::path(
    get, path = "/api/inbox", tag = "runs",
    responses((status = 200, body = Vec<InboxItem>), (status = 401, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn inbox(State(state): State<AppState>, user: User) -> Result<Json<Vec<InboxItem>>, ApiError> {
    let filter = ListFilter {
        status: Some(status::search_attribute_value(status::AWAITING_APPROVAL).to_owned()),
        limit: Some(50),
        ..ListFilter::default()
    };
    let rows = state.client().list(&filter).await.map_err(ApiError::Internal)?;
    let views = futures::future::join_all(
        rows.iter().filter(|r| r.execution_status == "Running").map(|r| state.client().view(&r.workflow_id)),
    )
    .await;
    let items = views
        .into_iter()
        .filter_map(Result::ok)
        // Visibility lags: keep only runs that still wait, by their own account.
        .filter(|view| view.state.approval_pending)
        .map(|run| InboxItem { can_decide: user.may_decide(&run.state.approvers).is_ok(), run })
        .collect();
    Ok(Json(items))
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
        namespace: state.client().temporal().namespace(),
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
