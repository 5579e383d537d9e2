//! The routes. Status codes are the seed's: intents 201 (POST and PUT, echoing the intent), 200,
//! 204, 404, 409; a body that is empty is 400, one that is not JSON 422, one that breaks the schema
//! 400 naming the field. `/invoke` answers 204 (the seed's contract), or 201 with the workflow and
//! run ids when the caller accepts JSON; a taken id under error-when-already-started is 409.

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
use serde_json::Value;

use crate::auth::User;
use crate::error::ApiError;
use crate::AppState;

const BASE: &str = "/v2/projects/{project}/composite-apps/{compositeApp}/{compositeAppVersion}/deployment-intent-groups/{dig}/temporal-action-controller";
/// How long a status call with `waitForResult` waits at most.
const STATUS_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/invoke/{client}", post(invoke))
        .route(BASE, post(create_intent).get(list_intents))
        .route(&format!("{BASE}/{{intent}}"), get(get_intent).put(put_intent).delete(delete_intent))
        .route(&format!("{BASE}/{{intent}}/cancel"), post(cancel))
        .route(&format!("{BASE}/{{intent}}/status"), get(status).post(status))
        .route(&format!("{DIG}/{{action}}"), post(start_action))
        .route(&format!("{DIG}/lifecycle-actions"), get(list_actions))
        .route(&format!("{DIG}/lifecycle-actions/{{action}}/{{appContextId}}"), get(show_action))
}

const DIG: &str =
    "/v2/projects/{project}/composite-apps/{compositeApp}/{compositeAppVersion}/deployment-intent-groups/{dig}";

fn action(name: &str) -> Result<LifecycleAction, ApiError> {
    match name {
        "instantiate" => Ok(LifecycleAction::Instantiate),
        "update" => Ok(LifecycleAction::Update),
        "terminate" => Ok(LifecycleAction::Terminate),
        _ => Err(ApiError::NotFound(format!("no lifecycle action {name:?}: instantiate, update or terminate"))),
    }
}

/// `POST {dig}/instantiate|update|terminate`: starts the lifecycle action (its hooks read from
/// the store now); 202 with its workflow, run and app context ids.
async fn start_action(
    State(state): State<AppState>,
    _user: User,
    Path((project, app, version, d, name)): Path<(String, String, String, String, String)>,
) -> Result<(StatusCode, Json<ActionStarted>), ApiError> {
    let dig = dig(&(project, app, version, d))?;
    let action = action(&name)?;
    let started = state.domain::<HooksClient>()?.start_action(&dig, action).await.map_err(ApiError::Internal)?;
    Ok((StatusCode::ACCEPTED, Json(started)))
}

/// `GET {dig}/lifecycle-actions`: the DIG's lifecycle actions, from visibility.
async fn list_actions(
    State(state): State<AppState>,
    _user: User,
    Path(path): Path<DigPath>,
) -> Result<Json<Vec<ActionSummary>>, ApiError> {
    let dig = dig(&path)?;
    Ok(Json(state.domain::<HooksClient>()?.list_actions(&dig).await.map_err(ApiError::Internal)?))
}

/// `GET {dig}/lifecycle-actions/{action}/{appContextId}`: which hooks ran, their workflows and
/// outcomes.
async fn show_action(
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

type DigPath = (String, String, String, String);

fn dig((project, app, version, dig): &DigPath) -> Result<DigRef, ApiError> {
    Ok(DigRef::parse(project, app, version, dig)?)
}

/// The body as JSON: empty → 400, not JSON → 422 (the seed's codes).
fn body_json(body: &Bytes) -> Result<Value, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::BadRequest { reason: "the request body is empty".into() });
    }
    serde_json::from_slice(body).map_err(|e| ApiError::validation("input", format!("not JSON: {e}")))
}

/// A schema violation: 400 naming the field, as the seed's validator answered.
fn schema(err: RequestError) -> ApiError {
    ApiError::BadRequest { reason: format!("{}: {}", err.field, err.reason) }
}

fn store_error(err: StoreError) -> ApiError {
    match err {
        StoreError::Conflict => ApiError::Conflict("workflow hook intent already exists".into()),
        StoreError::NotFound => ApiError::NotFound("workflow hook not found".into()),
        other => ApiError::Internal(other.into()),
    }
}

fn control_error(err: ControlError) -> ApiError {
    match err {
        ControlError::NotFound => ApiError::NotFound("workflow not found".into()),
        other => ApiError::Internal(other.into()),
    }
}

/// `POST /invoke/{client}`: starts the body's `WfTemporalSpec` in-process.
async fn invoke(
    State(state): State<AppState>,
    _user: User,
    Path(client): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    check_client_name(&client)?;
    let spec = WfTemporalSpec::parse(&body_json(&body)?, "")?;
    let hooks = state.domain::<HooksClient>()?;
    match starter::start(hooks.temporal(), &spec).await {
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

async fn create_intent(
    State(state): State<AppState>,
    _user: User,
    Path(path): Path<DigPath>,
    body: Bytes,
) -> Result<(StatusCode, Json<HookIntent>), ApiError> {
    let dig = dig(&path)?;
    let intent = HookIntent::parse(&body_json(&body)?).map_err(schema)?;
    state.domain::<HooksClient>()?.store().create_intent(&dig, &intent).await.map_err(store_error)?;
    Ok((StatusCode::CREATED, Json(intent)))
}

async fn put_intent(
    State(state): State<AppState>,
    _user: User,
    Path((project, app, version, d, name)): Path<(String, String, String, String, String)>,
    body: Bytes,
) -> Result<(StatusCode, Json<HookIntent>), ApiError> {
    let dig = dig(&(project, app, version, d))?;
    let intent = HookIntent::parse(&body_json(&body)?).map_err(schema)?;
    if intent.name() != name {
        return Err(schema(RequestError::new("metadata.name", format!("must be the path's intent, {name:?}"))));
    }
    state.domain::<HooksClient>()?.store().put_intent(&dig, &intent).await.map_err(store_error)?;
    Ok((StatusCode::CREATED, Json(intent)))
}

async fn list_intents(
    State(state): State<AppState>,
    _user: User,
    Path(path): Path<DigPath>,
) -> Result<Json<Vec<HookIntent>>, ApiError> {
    let dig = dig(&path)?;
    Ok(Json(state.domain::<HooksClient>()?.store().list_intents(&dig, None).await.map_err(store_error)?))
}

async fn get_intent(
    State(state): State<AppState>,
    _user: User,
    Path((project, app, version, d, name)): Path<(String, String, String, String, String)>,
) -> Result<Json<HookIntent>, ApiError> {
    let dig = dig(&(project, app, version, d))?;
    Ok(Json(state.domain::<HooksClient>()?.store().get_intent(&dig, &name).await.map_err(store_error)?))
}

async fn delete_intent(
    State(state): State<AppState>,
    _user: User,
    Path((project, app, version, d, name)): Path<(String, String, String, String, String)>,
) -> Result<StatusCode, ApiError> {
    let dig = dig(&(project, app, version, d))?;
    state.domain::<HooksClient>()?.store().delete_intent(&dig, &name).await.map_err(store_error)?;
    Ok(StatusCode::NO_CONTENT)
}

/// `{intent}/cancel`: cancels (or terminates) the intent's workflow, or the body's `workflowID`.
async fn cancel(
    State(state): State<AppState>,
    _user: User,
    Path((project, app, version, d, name)): Path<(String, String, String, String, String)>,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let dig = dig(&(project, app, version, d))?;
    let request = CancelRequest::parse(&body_json(&body)?).map_err(schema)?;
    let hooks = state.domain::<HooksClient>()?;
    let intent = hooks.store().get_intent(&dig, &name).await.map_err(store_error)?;
    let default_id = intent.temporal().ok().and_then(|t| t.start.id).unwrap_or_default();
    if request.workflow_id.is_none() && default_id.is_empty() {
        return Err(schema(RequestError::new("spec.workflowID", "is required: the intent has no fixed workflow id")));
    }
    control::cancel(hooks.temporal(), &default_id, &request).await.map_err(control_error)?;
    Ok(StatusCode::NO_CONTENT)
}

/// `{intent}/status` (the seed's GET with a body, and POST): describe, history, query, result.
async fn status(
    State(state): State<AppState>,
    _user: User,
    Path(_path): Path<(String, String, String, String, String)>,
    body: Bytes,
) -> Result<Json<control::StatusResponse>, ApiError> {
    let query = StatusQuery::parse(&body_json(&body)?).map_err(schema)?;
    let hooks = state.domain::<HooksClient>()?;
    Ok(Json(control::status(hooks.temporal(), &query, STATUS_WAIT).await.map_err(control_error)?))
}
