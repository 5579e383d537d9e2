//! The routes. Status codes are the seed's: intents 201 (POST and PUT, echoing the intent), 200,
//! 204, 404, 409; a body that is empty is 400, one that is not JSON 422, one that breaks the schema
//! 400 naming the field. `/invoke` answers 204 (the seed's contract), or 201 with the workflow and
//! run ids when the caller accepts JSON; a taken id under error-when-already-started is 409.
//!
//! The OpenAPI paths are literals (utoipa wants them so); `BASE` and `DIG` are the same strings.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::header::ACCEPT;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use ordo_core::RequestError;
use ordo_hooks::client::{ActionStarted, ActionSummary, HooksClient};
use ordo_hooks::control::{self, CancelRequest, ControlError, StatusQuery};
use ordo_hooks::intent::{DigRef, HookIntent};
use ordo_hooks::model::{lifecycle_workflow_id, LifecycleAction, LifecycleState};
use ordo_hooks::spec::{check_client_name, WfTemporalSpec};
use ordo_hooks::starter::{self, StartError};
use ordo_hooks::store::StoreError;
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;

use super::OpenInvoke;
use crate::auth::User;
use crate::error::{ApiError, ErrorBody};
use crate::AppState;

/// TAC's base path.
pub(super) const BASE: &str = "/v2/projects/{project}/composite-apps/{compositeApp}/{compositeAppVersion}/deployment-intent-groups/{dig}/temporal-action-controller";
/// A DIG's path.
pub(super) const DIG: &str =
    "/v2/projects/{project}/composite-apps/{compositeApp}/{compositeAppVersion}/deployment-intent-groups/{dig}";
/// How long a status call with `waitForResult` waits at most.
const STATUS_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/invoke/{client}", post(invoke))
        .route(BASE, post(create_intent).get(list_intents))
        .route(&format!("{BASE}/{{intent}}"), get(get_intent).put(put_intent).delete(delete_intent))
        .route(&format!("{BASE}/{{intent}}/cancel"), post(cancel))
        .route(&format!("{BASE}/{{intent}}/status"), get(status_with_body).post(status))
        .route(&format!("{DIG}/{{action}}"), post(start_action))
        .route(&format!("{DIG}/lifecycle-actions"), get(list_actions))
        .route(&format!("{DIG}/lifecycle-actions/{{action}}/{{appContextId}}"), get(show_action))
        .merge(super::workers::router())
        .merge(super::workflow_intents::router())
}

/// The DIG in the path: each segment follows the seed's name rule (else 422 naming it).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub(super) struct DigParams {
    /// The project.
    #[param(min_length = 1, max_length = 128, pattern = r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")]
    project: String,
    /// The composite app.
    #[serde(rename = "compositeApp")]
    #[param(min_length = 1, max_length = 128, pattern = r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")]
    composite_app: String,
    /// Its version.
    #[serde(rename = "compositeAppVersion")]
    #[param(min_length = 1, max_length = 128, pattern = r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")]
    composite_app_version: String,
    /// The deployment intent group.
    #[param(min_length = 1, max_length = 128, pattern = r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")]
    dig: String,
}

fn action(name: &str) -> Result<LifecycleAction, ApiError> {
    match name {
        "instantiate" => Ok(LifecycleAction::Instantiate),
        "update" => Ok(LifecycleAction::Update),
        "terminate" => Ok(LifecycleAction::Terminate),
        _ => Err(ApiError::NotFound(format!("no lifecycle action {name:?}: instantiate, update or terminate"))),
    }
}

/// Starts a lifecycle action on the DIG (`instantiate`, `update` or `terminate`): its pre and post
/// hooks are read from the store now; 202 with its workflow, run and app context ids.
#[utoipa::path(
    post, tag = "hooks",
    path = "/v2/projects/{project}/composite-apps/{compositeApp}/{compositeAppVersion}/deployment-intent-groups/{dig}/{action}",
    params(DigParams, ("action" = String, Path, description = "`instantiate`, `update` or `terminate`")),
    responses(
        (status = 202, description = "Started: `workflowId`, `runId`, `appContextId`", body = Object),
        (status = 401, body = ErrorBody), (status = 404, description = "No such action", body = ErrorBody),
        (status = 422, description = "A path segment breaks the name rule", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(super) async fn start_action(
    State(state): State<AppState>,
    _user: User,
    Path((project, app, version, d, name)): Path<(String, String, String, String, String)>,
) -> Result<(StatusCode, Json<ActionStarted>), ApiError> {
    let dig = dig(&(project, app, version, d))?;
    let action = action(&name)?;
    let started = state.domain::<HooksClient>()?.start_action(&dig, action).await.map_err(ApiError::Internal)?;
    Ok((StatusCode::ACCEPTED, Json(started)))
}

/// The DIG's lifecycle actions, from visibility, newest first.
#[utoipa::path(
    get, tag = "hooks",
    path = "/v2/projects/{project}/composite-apps/{compositeApp}/{compositeAppVersion}/deployment-intent-groups/{dig}/lifecycle-actions",
    params(DigParams),
    responses(
        (status = 200, description = "`workflowId`, `runId`, `status` of each", body = Vec<Object>),
        (status = 401, body = ErrorBody), (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(super) async fn list_actions(
    State(state): State<AppState>,
    _user: User,
    Path(path): Path<DigPath>,
) -> Result<Json<Vec<ActionSummary>>, ApiError> {
    let dig = dig(&path)?;
    Ok(Json(state.domain::<HooksClient>()?.list_actions(&dig).await.map_err(ApiError::Internal)?))
}

/// A lifecycle action's history: its phase, which hooks ran, their workflow ids and outcomes.
#[utoipa::path(
    get, tag = "hooks",
    path = "/v2/projects/{project}/composite-apps/{compositeApp}/{compositeAppVersion}/deployment-intent-groups/{dig}/lifecycle-actions/{action}/{appContextId}",
    params(
        DigParams,
        ("action" = String, Path, description = "`instantiate`, `update` or `terminate`"),
        ("appContextId" = String, Path, description = "The app context id the action was started with", pattern = r"^[0-9]{1,40}$"),
    ),
    responses(
        (status = 200, description = "`phase`, `hooks`, `actionApplied`, `outcome`", body = Object),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(super) async fn show_action(
    State(state): State<AppState>,
    _user: User,
    Path((project, app, version, d, name, context)): Path<(String, String, String, String, String, String)>,
) -> Result<Json<LifecycleState>, ApiError> {
    let dig = dig(&(project, app, version, d))?;
    let action = action(&name)?;
    if context.is_empty() || context.len() > 40 || !context.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::validation("appContextId", "must be a decimal app context id"));
    }
    let id = lifecycle_workflow_id(&dig, action, &context);
    match state.domain::<HooksClient>()?.history(&id).await {
        Ok(history) => Ok(Json(history)),
        Err(e) if ordo_core::errors::is_not_found(&format!("{e:#}")) => {
            Err(ApiError::NotFound(format!("no {} with app context {context}", action.as_str())))
        }
        Err(e) => Err(ApiError::Internal(e)),
    }
}

/// The DIG's four path segments.
pub(super) type DigPath = (String, String, String, String);
/// A DIG's path segments and an item's name.
pub(super) type ItemPath = (String, String, String, String, String);

/// The DIG named by the path (422 naming the segment that breaks the name rule).
pub(super) fn dig((project, app, version, dig): &DigPath) -> Result<DigRef, ApiError> {
    Ok(DigRef::parse(project, app, version, dig)?)
}

/// The DIG and the item name of an item's path.
pub(super) fn dig_item((project, app, version, d, name): ItemPath) -> Result<(DigRef, String), ApiError> {
    Ok((dig(&(project, app, version, d))?, name))
}

/// The body as JSON: empty → 400, not JSON → 422 (the seed's codes).
pub(super) fn body_json(body: &Bytes) -> Result<Value, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::BadRequest { reason: "the request body is empty".into() });
    }
    serde_json::from_slice(body).map_err(|e| ApiError::validation("input", format!("not JSON: {e}")))
}

/// A schema violation: 400 naming the field, as the seed's validator answered.
pub(super) fn schema(err: RequestError) -> ApiError {
    ApiError::BadRequest { reason: format!("{}: {}", err.field, err.reason) }
}

/// The store's refusals in the words of the resource (`what`: "workflow hook", "worker", …).
pub(super) fn store_error(what: &'static str) -> impl Fn(StoreError) -> ApiError {
    move |err| match err {
        StoreError::Conflict => ApiError::Conflict(format!("{what} already exists")),
        StoreError::NotFound => ApiError::NotFound(format!("{what} not found")),
        other => ApiError::Internal(other.into()),
    }
}

fn control_error(err: ControlError) -> ApiError {
    match err {
        ControlError::NotFound => ApiError::NotFound("workflow not found".into()),
        other => ApiError::Internal(other.into()),
    }
}

/// Starts `spec` in-process: 204 (the seed's contract), or 201 with the ids when the caller
/// accepts JSON; 409 when the id is taken; 422 when Temporal refuses the options.
pub(super) async fn start_spec(
    hooks: &HooksClient,
    spec: &WfTemporalSpec,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    match starter::start(hooks.temporal(), spec).await {
        Ok(started) => {
            let wants_json =
                headers.get(ACCEPT).and_then(|a| a.to_str().ok()).is_some_and(|a| a.contains("application/json"));
            Ok(if wants_json {
                (StatusCode::CREATED, Json(started)).into_response()
            } else {
                StatusCode::NO_CONTENT.into_response()
            })
        }
        Err(err @ StartError::Conflict { .. }) => Err(ApiError::Conflict(err.to_string())),
        Err(StartError::Invalid { reason, .. }) => Err(ApiError::validation("workflowStartOptions", reason)),
        Err(err @ StartError::Temporal { .. }) => Err(ApiError::Internal(err.into())),
    }
}

/// Cancels (or terminates) the body's `workflowID`, else `default_id` (the intent's fixed id).
pub(super) async fn cancel_workflow(
    hooks: &HooksClient,
    default_id: Option<String>,
    body: &Bytes,
) -> Result<StatusCode, ApiError> {
    let request = CancelRequest::parse(&body_json(body)?).map_err(schema)?;
    let default_id = default_id.unwrap_or_default();
    if request.workflow_id.is_none() && default_id.is_empty() {
        return Err(schema(RequestError::new("spec.workflowID", "is required: the intent has no fixed workflow id")));
    }
    control::cancel(hooks.temporal(), &default_id, &request).await.map_err(control_error)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Answers the body's status query (describe, history, query passthrough, result).
pub(super) async fn workflow_status(
    hooks: &HooksClient,
    body: &Bytes,
) -> Result<Json<control::StatusResponse>, ApiError> {
    let query = StatusQuery::parse(&body_json(body)?).map_err(schema)?;
    Ok(Json(control::status(hooks.temporal(), &query, STATUS_WAIT).await.map_err(control_error)?))
}

/// Starts the body's `WfTemporalSpec` in-process (the seed's workflow client, without its temp file
/// and process per request). It needs a bearer token unless the server was started with
/// `--hooks-open-invoke` (a trusted network's EMCO calling it as the seed's did).
#[utoipa::path(
    post, path = "/invoke/{client}", tag = "hooks",
    params(("client" = String, Path, description = "The workflow client's name (informational)", pattern = r"^[A-Za-z0-9_-]{1,128}$")),
    request_body(content = Object, description = "Seed 004's WfTemporalSpec (keys case-insensitive, durations in ns or \"60s\")",
        example = json!({"workflowClientName": "migrate_workflowclient",
                         "workflowStartOptions": {"TaskQueue": "GREETING_TASK_QUEUE", "RetryPolicy": {"MaximumAttempts": 2}},
                         "workflowParams": {"activityParams": {"a": {"k": "v"}}}})),
    responses(
        (status = 201, description = "Started (for a caller accepting JSON): `workflowId`, `runId`", body = Object),
        (status = 204, description = "Started (the seed's answer)"),
        (status = 400, description = "Empty body", body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 409, description = "The id is taken under error-when-already-started", body = ErrorBody),
        (status = 413, description = "Body too large"),
        (status = 422, description = "Not JSON, or a field is wrong; `field` names it", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(super) async fn invoke(
    State(state): State<AppState>,
    user: Result<User, ApiError>,
    Path(client): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    if state.domain::<OpenInvoke>().is_err() {
        user?;
    }
    check_client_name(&client)?;
    let spec = WfTemporalSpec::parse(&body_json(&body)?, "")?;
    start_spec(state.domain::<HooksClient>()?, &spec, &headers).await
}

const HOOK: &str = "workflow hook intent";

/// Creates a TAC intent; 201 echoing it.
#[utoipa::path(
    post, tag = "hooks",
    path = "/v2/projects/{project}/composite-apps/{compositeApp}/{compositeAppVersion}/deployment-intent-groups/{dig}/temporal-action-controller",
    params(DigParams),
    request_body(content = Object, description = "Seed 004's WorkflowHookIntent", example = json!(super::example_intent())),
    responses(
        (status = 201, description = "Created; the intent echoed", body = Object),
        (status = 400, description = "Empty, or breaks the schema (the reason names the field)", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 409, description = "Already exists", body = ErrorBody),
        (status = 413, description = "Body too large"),
        (status = 422, description = "Not JSON, or a bad path segment", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(super) async fn create_intent(
    State(state): State<AppState>,
    _user: User,
    Path(path): Path<DigPath>,
    body: Bytes,
) -> Result<(StatusCode, Json<HookIntent>), ApiError> {
    let dig = dig(&path)?;
    let intent = HookIntent::parse(&body_json(&body)?).map_err(schema)?;
    state.domain::<HooksClient>()?.store().create_intent(&dig, &intent).await.map_err(store_error(HOOK))?;
    Ok((StatusCode::CREATED, Json(intent)))
}

/// Creates or overwrites the TAC intent (its `metadata.name` must be the path's); 201 echoing it.
#[utoipa::path(
    put, tag = "hooks",
    path = "/v2/projects/{project}/composite-apps/{compositeApp}/{compositeAppVersion}/deployment-intent-groups/{dig}/temporal-action-controller/{intent}",
    params(DigParams, ("intent" = String, Path, description = "The intent's name")),
    request_body(content = Object, description = "Seed 004's WorkflowHookIntent", example = json!(super::example_intent())),
    responses(
        (status = 201, description = "Created or overwritten; the intent echoed", body = Object),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 413, description = "Body too large"),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(super) async fn put_intent(
    State(state): State<AppState>,
    _user: User,
    Path(path): Path<ItemPath>,
    body: Bytes,
) -> Result<(StatusCode, Json<HookIntent>), ApiError> {
    let (dig, name) = dig_item(path)?;
    let intent = HookIntent::parse(&body_json(&body)?).map_err(schema)?;
    if intent.name() != name {
        return Err(schema(RequestError::new("metadata.name", format!("must be the path's intent, {name:?}"))));
    }
    state.domain::<HooksClient>()?.store().put_intent(&dig, &intent).await.map_err(store_error(HOOK))?;
    Ok((StatusCode::CREATED, Json(intent)))
}

/// The DIG's TAC intents, in creation order.
#[utoipa::path(
    get, tag = "hooks",
    path = "/v2/projects/{project}/composite-apps/{compositeApp}/{compositeAppVersion}/deployment-intent-groups/{dig}/temporal-action-controller",
    params(DigParams),
    responses((status = 200, body = Vec<Object>), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub(super) async fn list_intents(
    State(state): State<AppState>,
    _user: User,
    Path(path): Path<DigPath>,
) -> Result<Json<Vec<HookIntent>>, ApiError> {
    let dig = dig(&path)?;
    Ok(Json(state.domain::<HooksClient>()?.store().list_intents(&dig, None).await.map_err(store_error(HOOK))?))
}

/// One TAC intent.
#[utoipa::path(
    get, tag = "hooks",
    path = "/v2/projects/{project}/composite-apps/{compositeApp}/{compositeAppVersion}/deployment-intent-groups/{dig}/temporal-action-controller/{intent}",
    params(DigParams, ("intent" = String, Path, description = "The intent's name")),
    responses(
        (status = 200, body = Object), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(super) async fn get_intent(
    State(state): State<AppState>,
    _user: User,
    Path(path): Path<ItemPath>,
) -> Result<Json<HookIntent>, ApiError> {
    let (dig, name) = dig_item(path)?;
    Ok(Json(state.domain::<HooksClient>()?.store().get_intent(&dig, &name).await.map_err(store_error(HOOK))?))
}

/// Deletes a TAC intent (and its worker intents); 204.
#[utoipa::path(
    delete, tag = "hooks",
    path = "/v2/projects/{project}/composite-apps/{compositeApp}/{compositeAppVersion}/deployment-intent-groups/{dig}/temporal-action-controller/{intent}",
    params(DigParams, ("intent" = String, Path, description = "The intent's name")),
    responses(
        (status = 204, description = "Deleted"), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(super) async fn delete_intent(
    State(state): State<AppState>,
    _user: User,
    Path(path): Path<ItemPath>,
) -> Result<StatusCode, ApiError> {
    let (dig, name) = dig_item(path)?;
    state.domain::<HooksClient>()?.store().delete_intent(&dig, &name).await.map_err(store_error(HOOK))?;
    Ok(StatusCode::NO_CONTENT)
}

/// Cancels (or, with `terminate`, terminates) the intent's workflow, or the body's `workflowID`.
#[utoipa::path(
    post, tag = "hooks",
    path = "/v2/projects/{project}/composite-apps/{compositeApp}/{compositeAppVersion}/deployment-intent-groups/{dig}/temporal-action-controller/{intent}/cancel",
    params(DigParams, ("intent" = String, Path, description = "The intent's name")),
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
    let (dig, name) = dig_item(path)?;
    let hooks = state.domain::<HooksClient>()?;
    let intent = hooks.store().get_intent(&dig, &name).await.map_err(store_error(HOOK))?;
    cancel_workflow(hooks, intent.temporal().ok().and_then(|t| t.start.id), &body).await
}

/// A workflow's status (the POST twin of the seed's GET-with-body): describe, history, query
/// passthrough and, with `waitForResult`, the result (waiting at most a minute).
#[utoipa::path(
    post, tag = "hooks",
    path = "/v2/projects/{project}/composite-apps/{compositeApp}/{compositeAppVersion}/deployment-intent-groups/{dig}/temporal-action-controller/{intent}/status",
    params(DigParams, ("intent" = String, Path, description = "The intent's name (not read, as in the seed)")),
    request_body(content = Object, description = "`{temporalServer, workflowID, runID?, waitForResult?, runDescribeWfExec?, getWfHistory?, queryType?, queryParams?}`",
        example = json!({"temporalServer": "in-process", "workflowID": "pre-install-1", "runDescribeWfExec": true})),
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
) -> Result<Json<control::StatusResponse>, ApiError> {
    workflow_status(state.domain::<HooksClient>()?, &body).await
}

/// The seed's status route: a GET with the same JSON body as the POST.
#[utoipa::path(
    get, tag = "hooks",
    path = "/v2/projects/{project}/composite-apps/{compositeApp}/{compositeAppVersion}/deployment-intent-groups/{dig}/temporal-action-controller/{intent}/status",
    params(DigParams, ("intent" = String, Path, description = "The intent's name (not read, as in the seed)")),
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
) -> Result<Json<control::StatusResponse>, ApiError> {
    status(state, user, path, body).await
}
