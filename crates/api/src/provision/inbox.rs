//! Everything around runs: seed 001's scenario catalogue and the approver's inbox.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use ordo_provision::client::{ListFilter, ProvisionClient, RunView};
use ordo_provision::model::status;
use ordo_provision::scenarios::{self, Scenario};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::access::may_decide;
use super::schema::{RunViewDoc, ScenarioDoc};
use crate::auth::User;
use crate::error::{ApiError, ErrorBody};
use crate::AppState;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/api/scenarios", get(list_scenarios)).route("/api/inbox", get(inbox))
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
#[tracing::instrument(skip_all, fields(user = %user.name))]
pub(crate) async fn inbox(State(state): State<AppState>, user: User) -> Result<Json<Vec<InboxItem>>, ApiError> {
    let runs = state.domain::<ProvisionClient>()?;
    let filter = ListFilter {
        status: Some(status::search_attribute_value(status::AWAITING_APPROVAL).to_owned()),
        limit: Some(50),
        ..ListFilter::default()
    };
    let rows = runs.list(&filter).await.map_err(ApiError::Internal)?;
    let views = futures::future::join_all(
        rows.iter().filter(|r| r.execution_status == "Running").map(|r| runs.view(&r.workflow_id)),
    )
    .await;
    let items = views
        .into_iter()
        .filter_map(Result::ok)
        // Visibility lags: keep only runs that still wait, by their own account.
        .filter(|view| view.state.approval_pending)
        .map(|run| InboxItem { can_decide: may_decide(&user, &run.state.approvers).is_ok(), run })
        .collect();
    Ok(Json(items))
}
