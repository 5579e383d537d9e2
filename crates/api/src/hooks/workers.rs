//! TAC's `workers` sub-resource, `{intent}/workers[/{worker}]`: the workers a hook's workflow needs,
//! with the seed's codes (201 echoing the worker, 200, 204, 404 "worker not found", 409 "worker
//! already exists"), and `{worker}/status`: whether the worker is ready, judged the Temporal way
//! (its task queue has live pollers), checked until its `startToCloseTimeout` (at most
//! [`READY_WAIT`] per call).

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use ordo_core::RequestError;
use ordo_hooks::client::HooksClient;
use ordo_hooks::workers::{readiness, WorkerIntent};
use serde::Serialize;

use super::routes::{body_json, dig, schema, store_error, DigParams, BASE};
use crate::auth::User;
use crate::error::{ApiError, ErrorBody};
use crate::AppState;

/// The longest a readiness call waits; a caller polls again for longer timeouts.
pub(super) const READY_WAIT: Duration = Duration::from_secs(10);

const WORKER: &str = "worker";

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route(&format!("{BASE}/{{intent}}/workers"), post(create_worker).get(list_workers))
        .route(&format!("{BASE}/{{intent}}/workers/{{worker}}"), get(get_worker).put(put_worker).delete(delete_worker))
        .route(&format!("{BASE}/{{intent}}/workers/{{worker}}/status"), get(worker_status))
}

/// A DIG's path segments, the hook intent's name.
type IntentPath = (String, String, String, String, String);
/// … and the worker's.
type WorkerPath = (String, String, String, String, String, String);

/// Whether a worker is ready.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct WorkerStatus {
    /// The worker intent.
    name: String,
    /// The task queue checked: the worker's `spec.taskQueue`, else its hook's.
    task_queue: String,
    /// Whether the task queue had a live poller within the wait.
    ready: bool,
    /// The longest this call waited, in ms (its `startToCloseTimeout`, at most 10 s).
    wait_ms: u64,
}

/// Adds a worker intent to a TAC intent; 201 echoing it.
#[utoipa::path(
    post, tag = "hooks",
    path = "/v2/projects/{project}/composite-apps/{compositeApp}/{compositeAppVersion}/deployment-intent-groups/{dig}/temporal-action-controller/{intent}/workers",
    params(DigParams, ("intent" = String, Path, description = "The TAC intent's name")),
    request_body(content = Object, description = "`{metadata: {name}, spec: {startToCloseTimeout? (ms), deploymentIntentGroup?, compositeApp?, compositeAppVersion?, taskQueue?}}`",
        example = json!(super::example_worker())),
    responses(
        (status = 201, description = "Created; the worker echoed", body = Object),
        (status = 400, description = "Empty, or breaks the schema (the reason names the field)", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 404, description = "No such TAC intent", body = ErrorBody),
        (status = 409, description = "The worker already exists", body = ErrorBody),
        (status = 413, description = "Body too large"), (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(super) async fn create_worker(
    State(state): State<AppState>,
    _user: User,
    Path((project, app, version, d, intent)): Path<IntentPath>,
    body: Bytes,
) -> Result<(StatusCode, Json<WorkerIntent>), ApiError> {
    let dig = dig(&(project, app, version, d))?;
    let worker = WorkerIntent::parse(&body_json(&body)?).map_err(schema)?;
    state.domain::<HooksClient>()?.store().create_worker(&dig, &intent, &worker).await.map_err(store_error(WORKER))?;
    Ok((StatusCode::CREATED, Json(worker)))
}

/// Creates or overwrites a worker intent (its `metadata.name` must be the path's); 201 echoing it.
#[utoipa::path(
    put, tag = "hooks",
    path = "/v2/projects/{project}/composite-apps/{compositeApp}/{compositeAppVersion}/deployment-intent-groups/{dig}/temporal-action-controller/{intent}/workers/{worker}",
    params(DigParams, ("intent" = String, Path, description = "The TAC intent's name"), ("worker" = String, Path, description = "The worker's name")),
    request_body(content = Object, description = "As the POST's", example = json!(super::example_worker())),
    responses(
        (status = 201, description = "Created or overwritten; the worker echoed", body = Object),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, description = "No such TAC intent", body = ErrorBody),
        (status = 413, description = "Body too large"), (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(super) async fn put_worker(
    State(state): State<AppState>,
    _user: User,
    Path((project, app, version, d, intent, name)): Path<WorkerPath>,
    body: Bytes,
) -> Result<(StatusCode, Json<WorkerIntent>), ApiError> {
    let dig = dig(&(project, app, version, d))?;
    let worker = WorkerIntent::parse(&body_json(&body)?).map_err(schema)?;
    if worker.name() != name {
        return Err(schema(RequestError::new("metadata.name", format!("must be the path's worker, {name:?}"))));
    }
    state.domain::<HooksClient>()?.store().put_worker(&dig, &intent, &worker).await.map_err(store_error(WORKER))?;
    Ok((StatusCode::CREATED, Json(worker)))
}

/// The TAC intent's worker intents, in creation order.
#[utoipa::path(
    get, tag = "hooks",
    path = "/v2/projects/{project}/composite-apps/{compositeApp}/{compositeAppVersion}/deployment-intent-groups/{dig}/temporal-action-controller/{intent}/workers",
    params(DigParams, ("intent" = String, Path, description = "The TAC intent's name")),
    responses((status = 200, body = Vec<Object>), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub(super) async fn list_workers(
    State(state): State<AppState>,
    _user: User,
    Path((project, app, version, d, intent)): Path<IntentPath>,
) -> Result<Json<Vec<WorkerIntent>>, ApiError> {
    let dig = dig(&(project, app, version, d))?;
    Ok(Json(state.domain::<HooksClient>()?.store().list_workers(&dig, &intent).await.map_err(store_error(WORKER))?))
}

/// One worker intent.
#[utoipa::path(
    get, tag = "hooks",
    path = "/v2/projects/{project}/composite-apps/{compositeApp}/{compositeAppVersion}/deployment-intent-groups/{dig}/temporal-action-controller/{intent}/workers/{worker}",
    params(DigParams, ("intent" = String, Path, description = "The TAC intent's name"), ("worker" = String, Path, description = "The worker's name")),
    responses(
        (status = 200, body = Object), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(super) async fn get_worker(
    State(state): State<AppState>,
    _user: User,
    Path((project, app, version, d, intent, name)): Path<WorkerPath>,
) -> Result<Json<WorkerIntent>, ApiError> {
    let dig = dig(&(project, app, version, d))?;
    let store = state.domain::<HooksClient>()?.store();
    Ok(Json(store.get_worker(&dig, &intent, &name).await.map_err(store_error(WORKER))?))
}

/// Deletes a worker intent; 204.
#[utoipa::path(
    delete, tag = "hooks",
    path = "/v2/projects/{project}/composite-apps/{compositeApp}/{compositeAppVersion}/deployment-intent-groups/{dig}/temporal-action-controller/{intent}/workers/{worker}",
    params(DigParams, ("intent" = String, Path, description = "The TAC intent's name"), ("worker" = String, Path, description = "The worker's name")),
    responses(
        (status = 204, description = "Deleted"), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(super) async fn delete_worker(
    State(state): State<AppState>,
    _user: User,
    Path((project, app, version, d, intent, name)): Path<WorkerPath>,
) -> Result<StatusCode, ApiError> {
    let dig = dig(&(project, app, version, d))?;
    let store = state.domain::<HooksClient>()?.store();
    store.delete_worker(&dig, &intent, &name).await.map_err(store_error(WORKER))?;
    Ok(StatusCode::NO_CONTENT)
}

/// Whether the worker is ready: its task queue (`spec.taskQueue`, else the hook's) has a live
/// poller, checked until its `startToCloseTimeout`, at most 10 s per call (poll again for longer).
#[utoipa::path(
    get, tag = "hooks",
    path = "/v2/projects/{project}/composite-apps/{compositeApp}/{compositeAppVersion}/deployment-intent-groups/{dig}/temporal-action-controller/{intent}/workers/{worker}/status",
    params(DigParams, ("intent" = String, Path, description = "The TAC intent's name"), ("worker" = String, Path, description = "The worker's name")),
    responses(
        (status = 200, body = WorkerStatus), (status = 401, body = ErrorBody),
        (status = 404, description = "No such TAC intent or worker", body = ErrorBody), (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(super) async fn worker_status(
    State(state): State<AppState>,
    _user: User,
    Path((project, app, version, d, intent, name)): Path<WorkerPath>,
) -> Result<Json<WorkerStatus>, ApiError> {
    let dig = dig(&(project, app, version, d))?;
    let hooks = state.domain::<HooksClient>()?;
    let worker = hooks.store().get_worker(&dig, &intent, &name).await.map_err(store_error(WORKER))?;
    // The hook's task queue is only read when the worker names none.
    let hook_queue = match &worker.spec.task_queue {
        Some(_) => String::new(),
        None => {
            let hook = hooks.store().get_intent(&dig, &intent).await.map_err(store_error("workflow hook intent"))?;
            hook.temporal().map_err(ApiError::from)?.start.task_queue
        }
    };
    let r = readiness(hooks.temporal(), &worker, &hook_queue, READY_WAIT).await.map_err(ApiError::Internal)?;
    Ok(Json(WorkerStatus { name: r.name, task_queue: r.task_queue, ready: r.ready, wait_ms: r.wait_ms }))
}
