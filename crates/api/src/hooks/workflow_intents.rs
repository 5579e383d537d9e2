//! The seed's workflowmgr routes, `{dig}/temporal-workflow-intents[/{name}]`: workflow intents (a
//! TAC intent without a hook type) created, read, listed and deleted with TAC's codes, and
//! `{name}/start` (the intent's `WfTemporalSpec` started in-process, as `/invoke`), `{name}/status`
//! (GET with a body, as the seed, and POST) and `{name}/cancel`, as TAC's.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use ordo_hooks::client::HooksClient;
use ordo_hooks::control::StatusResponse;
use ordo_hooks::intent::WorkflowIntent;

use super::routes::{
    body_json, cancel_workflow, dig, dig_item, schema, start_spec, store_error, workflow_status, DigParams, DigPath,
    ItemPath, DIG,
};
use crate::auth::User;
use crate::error::{ApiError, ErrorBody};
use crate::AppState;

const WORKFLOW_INTENT: &str = "workflow intent";

pub(super) fn router() -> Router<AppState> {
    let base = format!("{DIG}/temporal-workflow-intents");
    Router::new()
        .route(&base, post(create).get(list))
        .route(&format!("{base}/{{name}}"), get(show).delete(delete))
        .route(&format!("{base}/{{name}}/start"), post(start))
        .route(&format!("{base}/{{name}}/status"), get(status_with_body).post(status))
        .route(&format!("{base}/{{name}}/cancel"), post(cancel))
}

/// Creates a workflow intent; 201 echoing it.
#[utoipa::path(
    post, tag = "hooks",
    path = "/v2/projects/{project}/composite-apps/{compositeApp}/{compositeAppVersion}/deployment-intent-groups/{dig}/temporal-workflow-intents",
    params(DigParams),
    request_body(content = Object, description = "`{metadata: {name, …}, spec: {workflowClient, temporal: WfTemporalSpec}}`",
        example = json!(super::example_workflow_intent())),
    responses(
        (status = 201, description = "Created; the intent echoed", body = Object),
        (status = 400, description = "Empty, or breaks the schema (the reason names the field)", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 409, description = "Already exists", body = ErrorBody),
        (status = 413, description = "Body too large"), (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(super) async fn create(
    State(state): State<AppState>,
    _user: User,
    Path(path): Path<DigPath>,
    body: Bytes,
) -> Result<(StatusCode, Json<WorkflowIntent>), ApiError> {
    let dig = dig(&path)?;
    let intent = WorkflowIntent::parse(&body_json(&body)?).map_err(schema)?;
    let store = state.domain::<HooksClient>()?.store();
    store.create_workflow_intent(&dig, &intent).await.map_err(store_error(WORKFLOW_INTENT))?;
    Ok((StatusCode::CREATED, Json(intent)))
}

/// The DIG's workflow intents, in creation order.
#[utoipa::path(
    get, tag = "hooks",
    path = "/v2/projects/{project}/composite-apps/{compositeApp}/{compositeAppVersion}/deployment-intent-groups/{dig}/temporal-workflow-intents",
    params(DigParams),
    responses((status = 200, body = Vec<Object>), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub(super) async fn list(
    State(state): State<AppState>,
    _user: User,
    Path(path): Path<DigPath>,
) -> Result<Json<Vec<WorkflowIntent>>, ApiError> {
    let dig = dig(&path)?;
    let store = state.domain::<HooksClient>()?.store();
    Ok(Json(store.list_workflow_intents(&dig).await.map_err(store_error(WORKFLOW_INTENT))?))
}

/// One workflow intent.
#[utoipa::path(
    get, tag = "hooks",
    path = "/v2/projects/{project}/composite-apps/{compositeApp}/{compositeAppVersion}/deployment-intent-groups/{dig}/temporal-workflow-intents/{name}",
    params(DigParams, ("name" = String, Path, description = "The intent's name")),
    responses(
        (status = 200, body = Object), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(super) async fn show(
    State(state): State<AppState>,
    _user: User,
    Path(path): Path<ItemPath>,
) -> Result<Json<WorkflowIntent>, ApiError> {
    Ok(Json(intent(&state, path).await?))
}

async fn intent(state: &AppState, path: ItemPath) -> Result<WorkflowIntent, ApiError> {
    let (dig, name) = dig_item(path)?;
    let store = state.domain::<HooksClient>()?.store();
    store.get_workflow_intent(&dig, &name).await.map_err(store_error(WORKFLOW_INTENT))
}

/// Deletes a workflow intent; 204.
#[utoipa::path(
    delete, tag = "hooks",
    path = "/v2/projects/{project}/composite-apps/{compositeApp}/{compositeAppVersion}/deployment-intent-groups/{dig}/temporal-workflow-intents/{name}",
    params(DigParams, ("name" = String, Path, description = "The intent's name")),
    responses(
        (status = 204, description = "Deleted"), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(super) async fn delete(
    State(state): State<AppState>,
    _user: User,
    Path(path): Path<ItemPath>,
) -> Result<StatusCode, ApiError> {
    let (dig, name) = dig_item(path)?;
    let store = state.domain::<HooksClient>()?.store();
    store.delete_workflow_intent(&dig, &name).await.map_err(store_error(WORKFLOW_INTENT))?;
    Ok(StatusCode::NO_CONTENT)
}

/// Starts the intent's workflow in-process (as `/invoke` would): 204, or 201 with the workflow
/// and run ids for a caller accepting JSON; 409 when its id is taken under
/// error-when-already-started.
#[utoipa::path(
    post, tag = "hooks",
    path = "/v2/projects/{project}/composite-apps/{compositeApp}/{compositeAppVersion}/deployment-intent-groups/{dig}/temporal-workflow-intents/{name}/start",
    params(DigParams, ("name" = String, Path, description = "The intent's name")),
    responses(
        (status = 201, description = "Started (for a caller accepting JSON): `workflowId`, `runId`", body = Object),
        (status = 204, description = "Started"), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "The id is taken under error-when-already-started", body = ErrorBody),
        (status = 422, description = "Temporal refused the start options", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(super) async fn start(
    State(state): State<AppState>,
    _user: User,
    Path(path): Path<ItemPath>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let spec = intent(&state, path).await?.temporal()?;
    start_spec(state.domain::<HooksClient>()?, &spec, &headers).await
}

/// A workflow's status (the POST twin of the seed's GET-with-body), as TAC's `{intent}/status`.
#[utoipa::path(
    post, tag = "hooks",
    path = "/v2/projects/{project}/composite-apps/{compositeApp}/{compositeAppVersion}/deployment-intent-groups/{dig}/temporal-workflow-intents/{name}/status",
    params(DigParams, ("name" = String, Path, description = "The intent's name (not read, as in the seed)")),
    request_body(content = Object, description = "`{temporalServer, workflowID, runID?, waitForResult?, runDescribeWfExec?, getWfHistory?, queryType?, queryParams?}`",
        example = json!({"temporalServer": "in-process", "workflowID": "wf-1", "runDescribeWfExec": true})),
    responses(
        (status = 200, description = "`workflowID`, `runID` and what was asked for", body = Object),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, description = "No such workflow", body = ErrorBody), (status = 413, description = "Body too large"),
        (status = 422, body = ErrorBody),
        (status = 500, description = "Temporal failed, the workflow closed without a result, or the wait ran out", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(super) async fn status(
    State(state): State<AppState>,
    _user: User,
    Path(_path): Path<ItemPath>,
    body: Bytes,
) -> Result<Json<StatusResponse>, ApiError> {
    workflow_status(state.domain::<HooksClient>()?, &body).await
}

/// The seed's status route: a GET with the same JSON body as the POST.
#[utoipa::path(
    get, tag = "hooks",
    path = "/v2/projects/{project}/composite-apps/{compositeApp}/{compositeAppVersion}/deployment-intent-groups/{dig}/temporal-workflow-intents/{name}/status",
    params(DigParams, ("name" = String, Path, description = "The intent's name (not read, as in the seed)")),
    request_body(content = Object, description = "As the POST's"),
    responses(
        (status = 200, body = Object), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 413, description = "Body too large"), (status = 422, body = ErrorBody),
        (status = 500, body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(super) async fn status_with_body(
    state: State<AppState>,
    user: User,
    path: Path<ItemPath>,
    body: Bytes,
) -> Result<Json<StatusResponse>, ApiError> {
    status(state, user, path, body).await
}

/// Cancels (or terminates) the intent's workflow, or the body's `workflowID`.
#[utoipa::path(
    post, tag = "hooks",
    path = "/v2/projects/{project}/composite-apps/{compositeApp}/{compositeAppVersion}/deployment-intent-groups/{dig}/temporal-workflow-intents/{name}/cancel",
    params(DigParams, ("name" = String, Path, description = "The intent's name")),
    request_body(content = Object, description = "`{metadata?, spec: {temporalServer, workflowID?, runID?, terminate?, reason?, details?}}`",
        example = json!({"spec": {"temporalServer": "in-process", "terminate": true, "reason": "no longer needed"}})),
    responses(
        (status = 204, description = "Cancellation requested (or terminated)"),
        (status = 400, description = "Empty, or a field is wrong (the reason names it)", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 404, description = "No such intent or workflow", body = ErrorBody),
        (status = 413, description = "Body too large"), (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(super) async fn cancel(
    State(state): State<AppState>,
    _user: User,
    Path(path): Path<ItemPath>,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let intent = intent(&state, path).await?;
    cancel_workflow(state.domain::<HooksClient>()?, intent.temporal().ok().and_then(|t| t.start.id), &body).await
}
