//! `/api/releases…`: seed 003's releases. Requesters start releases (from the catalogue by key,
//! or a full definition); approvers approve the release or its deploys, decide the gate before
//! PROD and pause / resume; admins abort. The approver recorded is always the signed-in user.
//!
//! Bodies are the seed's snake_case JSON. Bad input (unknown key or environment, duplicate deploy
//! keys, PROD without QC, out-of-bounds numbers) is a 422 naming the field; nothing starts.

use axum::extract::{Path, State};
use axum::http::header::LOCATION;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use ordo_release::catalogue::Catalogue;
use ordo_release::client::{ReleaseClient, ReleaseSummary, ReleaseView};
use ordo_release::model::{Approval, ApprovalRecord, Control, GateDecision, ReleaseInfo};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{Role, User};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiQuery};
use crate::params::{check_text, list_limit};
use crate::AppState;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/releases", post(start_release).get(list_releases))
        .route("/api/releases/catalogue", get(catalogue))
        .route("/api/releases/{key}", get(show_release))
        .route("/api/releases/{key}/approvals", post(approve))
        .route("/api/releases/{key}/gate", post(decide_gate))
        .route("/api/releases/{key}/pause", post(pause))
        .route("/api/releases/{key}/resume", post(resume))
        .route("/api/releases/{key}/abort", post(abort))
}

/// Longest reason accepted (the workflow takes 1000 characters).
const MAX_REASON_CHARS: usize = 1000;

/// A started release.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub(crate) struct ReleaseStarted {
    /// The release key.
    pub(crate) release_key: String,
    /// Its workflow id, `release-workflow:<release_key>`.
    pub(crate) workflow_id: String,
}

/// Starts a release: a body with only `release_key` (and options) releases what the catalogue has
/// for it; with `deploys`, the release as given. The rules are checked first (422 naming the
/// field), then the release waits for its approvals and goes through its environments.
#[utoipa::path(
    post, path = "/api/releases", tag = "releases",
    request_body(content = Object, description = "Seed 003's ReleaseInfo (snake_case), plus Ordo's optional fields",
        example = json!({"release_key": "RELEASE-NOV-23-INITIAL", "approved": false, "promotion_gate": {"approval": true}})),
    responses(
        (status = 201, description = "Started; `Location` is the release", body = ReleaseStarted),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 409, description = "A release with this key is running", body = ErrorBody),
        (status = 415, body = ErrorBody),
        (status = 422, description = "A rule or bound is broken; `field` names it", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
#[tracing::instrument(skip_all, fields(user = %user.name))]
pub(crate) async fn start_release(
    State(state): State<AppState>,
    user: User,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<impl IntoResponse, ApiError> {
    user.require(Role::Requester, "start releases")?;
    let release: ReleaseInfo = serde_json::from_value(body).map_err(ordo_core::RequestError::from_serde)?;
    let catalogue = state.domain::<Catalogue>()?;
    let workflow_id = state.domain::<ReleaseClient>()?.start(&release, catalogue).await?;
    tracing::info!(workflow_id = %workflow_id, "release started");
    let key = release.release_key;
    Ok((
        StatusCode::CREATED,
        [(LOCATION, format!("/api/releases/{key}"))],
        Json(ReleaseStarted { release_key: key, workflow_id }),
    ))
}

/// List filters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ReleaseListQuery {
    /// At most this many releases (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    limit: Option<String>,
}

/// Lists releases from Temporal visibility, newest first, with the environment each is in.
#[utoipa::path(
    get, path = "/api/releases", tag = "releases",
    params(ReleaseListQuery),
    responses((status = 200, body = Vec<Object>), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn list_releases(
    State(state): State<AppState>,
    _user: User,
    ApiQuery(query): ApiQuery<ReleaseListQuery>,
) -> Result<Json<Vec<ReleaseSummary>>, ApiError> {
    let limit = list_limit(query.limit.as_deref())?;
    Ok(Json(state.domain::<ReleaseClient>()?.list(limit).await?))
}

/// The release catalogue: what a release started by key deploys.
#[utoipa::path(
    get, path = "/api/releases/catalogue", tag = "releases",
    responses((status = 200, body = Object), (status = 401, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn catalogue(State(state): State<AppState>, _user: User) -> Result<Json<Catalogue>, ApiError> {
    Ok(Json(state.domain::<Catalogue>()?.clone()))
}

/// The release in the path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub(crate) struct ReleaseKey {
    /// The release key (1-128 characters: letters, digits, `-_.:@+`).
    #[param(min_length = 1, max_length = 128, pattern = r"^[A-Za-z0-9._:@+-]+$")]
    key: String,
}

pub(crate) fn check_key(key: &str) -> Result<(), ApiError> {
    ordo_release::rules::check_key("key", key).map_err(|r| ApiError::validation("key", r.message))
}

/// A release's state: status, the deploys × environments matrix with each cell's state, what
/// awaits approval (and until when), the approvals with who and why, notes and the result.
/// `stale` is true when no worker answered and only visibility's view is shown.
#[utoipa::path(
    get, path = "/api/releases/{key}", tag = "releases",
    params(ReleaseKey),
    responses((status = 200, body = Object), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
#[tracing::instrument(skip_all, fields(release_key = %key))]
pub(crate) async fn show_release(
    State(state): State<AppState>,
    _user: User,
    Path(key): Path<String>,
) -> Result<Json<ReleaseView>, ApiError> {
    check_key(&key)?;
    Ok(Json(state.domain::<ReleaseClient>()?.view(&key).await?))
}

/// An approval of the release (`target` absent or `release`) or of one deploy (its key).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ApprovalBody {
    /// `release` (default) or a deploy key.
    #[serde(default)]
    #[schema(max_length = 128)]
    target: Option<String>,
    /// Why (required; recorded in history).
    #[schema(min_length = 1, max_length = 1000)]
    reason: String,
    /// Approve (default) or refuse.
    #[serde(default)]
    approved: Option<bool>,
}

fn check_reason(reason: &str) -> Result<(), ApiError> {
    if reason.trim().is_empty() {
        return Err(ApiError::validation("reason", "required"));
    }
    check_text("reason", reason, MAX_REASON_CHARS)
}

/// Approves (or refuses) the release or one of its deploys, as the signed-in approver. The
/// workflow's validator refuses what is not pending (409) or an approver the release does not
/// list (403).
#[utoipa::path(
    post, path = "/api/releases/{key}/approvals", tag = "releases",
    params(ReleaseKey), request_body = ApprovalBody,
    responses(
        (status = 200, description = "Recorded", body = Object),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 415, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "Nothing of that is awaiting approval", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
#[tracing::instrument(skip_all, fields(release_key = %key, user = %user.name))]
pub(crate) async fn approve(
    State(state): State<AppState>,
    user: User,
    Path(key): Path<String>,
    ApiJson(body): ApiJson<ApprovalBody>,
) -> Result<Json<ApprovalRecord>, ApiError> {
    user.require(Role::Approver, "approve releases")?;
    check_key(&key)?;
    check_reason(&body.reason)?;
    let target = body.target.unwrap_or_else(|| "release".to_owned());
    check_text("target", &target, 128)?;
    let approval =
        Approval { target, approver: user.name.clone(), reason: body.reason, approved: body.approved.unwrap_or(true) };
    Ok(Json(state.domain::<ReleaseClient>()?.approve(&key, approval).await?))
}

/// The gate decision before PROD.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct GateBody {
    /// Promote to PROD (`true`) or stop before it.
    approved: bool,
    /// Why (required).
    #[schema(min_length = 1, max_length = 1000)]
    reason: String,
}

/// Decides the promotion gate before PROD, as the signed-in approver.
#[utoipa::path(
    post, path = "/api/releases/{key}/gate", tag = "releases",
    params(ReleaseKey), request_body = GateBody,
    responses(
        (status = 200, body = Object), (status = 400, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "The gate is not waiting", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
#[tracing::instrument(skip_all, fields(release_key = %key, user = %user.name))]
pub(crate) async fn decide_gate(
    State(state): State<AppState>,
    user: User,
    Path(key): Path<String>,
    ApiJson(body): ApiJson<GateBody>,
) -> Result<Json<ApprovalRecord>, ApiError> {
    user.require(Role::Approver, "decide promotion gates")?;
    check_key(&key)?;
    check_reason(&body.reason)?;
    let decision = GateDecision { approver: user.name.clone(), reason: body.reason, approved: body.approved };
    Ok(Json(state.domain::<ReleaseClient>()?.decide_gate(&key, decision).await?))
}

/// Why a release is paused, resumed or aborted.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ControlBody {
    /// Why (required).
    #[schema(min_length = 1, max_length = 1000)]
    reason: String,
}

/// The release's status after a control.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub(crate) struct Controlled {
    /// The release key.
    pub(crate) release_key: String,
    /// Its status when the control was accepted.
    pub(crate) status: String,
}

async fn control(
    state: &AppState,
    user: &User,
    key: &str,
    body: ControlBody,
    what: &str,
) -> Result<Json<Controlled>, ApiError> {
    check_key(key)?;
    check_reason(&body.reason)?;
    let control = Control { by: user.name.clone(), reason: body.reason };
    let client = state.domain::<ReleaseClient>()?;
    let status = match what {
        "pause" => client.pause(key, control).await?,
        "resume" => client.resume(key, control).await?,
        _ => client.abort(key, control).await?,
    };
    Ok(Json(Controlled { release_key: key.to_owned(), status }))
}

/// Holds the release before its next environment (deploys in flight finish). Approvers.
#[utoipa::path(
    post, path = "/api/releases/{key}/pause", tag = "releases", params(ReleaseKey), request_body = ControlBody,
    responses((status = 200, body = Controlled), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 415, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn pause(
    State(state): State<AppState>,
    user: User,
    Path(key): Path<String>,
    ApiJson(body): ApiJson<ControlBody>,
) -> Result<Json<Controlled>, ApiError> {
    user.require(Role::Approver, "pause releases")?;
    control(&state, &user, &key, body, "pause").await
}

/// Lets a paused release go on. Approvers.
#[utoipa::path(
    post, path = "/api/releases/{key}/resume", tag = "releases", params(ReleaseKey), request_body = ControlBody,
    responses((status = 200, body = Controlled), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 415, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn resume(
    State(state): State<AppState>,
    user: User,
    Path(key): Path<String>,
    ApiJson(body): ApiJson<ControlBody>,
) -> Result<Json<Controlled>, ApiError> {
    user.require(Role::Approver, "resume releases")?;
    control(&state, &user, &key, body, "resume").await
}

/// Aborts the release: deploys in flight roll their environment back, nothing else starts. Admins.
#[utoipa::path(
    post, path = "/api/releases/{key}/abort", tag = "releases", params(ReleaseKey), request_body = ControlBody,
    responses((status = 200, body = Controlled), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 415, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn abort(
    State(state): State<AppState>,
    user: User,
    Path(key): Path<String>,
    ApiJson(body): ApiJson<ControlBody>,
) -> Result<Json<Controlled>, ApiError> {
    user.require(Role::Admin, "abort releases")?;
    control(&state, &user, &key, body, "abort").await
}
