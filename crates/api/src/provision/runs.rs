//! `/api/runs…`: start (scenario or full request, provisioning or destroy), list from visibility,
//! show, approve / reject (update or seed 001's signal), re-plan, extend the TTL, reset to the
//! plan stage. Refusals of the run come back typed and map to statuses in `error.rs`.

use std::future::Future;

use axum::extract::{Path, State};
use axum::http::header::LOCATION;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use ordo_core::RequestError;
use ordo_iac::DriverKind;
use ordo_provision::client::{self, Described, ListFilter, ProvisionClient, RunSummary, RunView};
use ordo_provision::model::{ApplyDecision, ProvisionRequest, DEPROVISION_WORKFLOW, PROVISION_WORKFLOW};
use ordo_provision::scenarios;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::access::may_decide;
use super::schema::{DriverDoc, RunSummaryDoc, RunViewDoc, ScenarioKeyDoc};
use crate::auth::{Role, User};
use crate::decide::{admit, Decidable};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiQuery};
use crate::params::{check_id, check_text, list_limit};
use crate::AppState;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/runs", post(start_run).get(list_runs))
        .route("/api/runs/{id}", get(show_run))
        .route("/api/runs/{id}/approve", post(approve))
        .route("/api/runs/{id}/reject", post(reject))
        .route("/api/runs/{id}/replan", post(replan))
        .route("/api/runs/{id}/extend", post(extend))
        .route("/api/runs/{id}/reset", post(reset))
}

/// The longest TTL a scenario start accepts, and the most one extension adds: 30 days.
const MAX_TTL_SECS: u64 = 30 * 24 * 60 * 60;
/// Longest decision reason accepted.
const MAX_REASON_CHARS: usize = 2000;

/// Start a run from a scenario key, or from a full request. Exactly one of `scenario` and
/// `request`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StartRun {
    /// A seed-001 scenario key (`GET /api/scenarios`).
    #[serde(default)]
    #[schema(value_type = Option<ScenarioKeyDoc>)]
    scenario: Option<String>,
    /// For the `ephemeral` scenario: seconds between apply and destroy.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 2592000)]
    ttl: Option<u64>,
    /// For a scenario: the IaC driver (default `sim`, which the shipped stacks are written for).
    #[serde(default)]
    #[schema(value_type = Option<DriverDoc>)]
    driver: Option<DriverKind>,
    /// For a scenario: who may approve (configured approvers or admins). Empty: any approver.
    #[serde(default)]
    approvers: Vec<String>,
    /// A full provisioning request (seed 001's `TerraformRunDetails` plus Ordo's fields:
    /// `directory` is required, everything else has a default).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    request: Option<serde_json::Value>,
    /// With `request`: run the destroy workflow on its directory instead of provisioning it.
    #[serde(default)]
    destroy: bool,
}

/// A started run.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub(crate) struct Started {
    /// Workflow id (`provision-infra-<uuid>` or `deprovision-infra-<uuid>`).
    pub(crate) workflow_id: String,
    /// Whether this is a destroy run.
    pub(crate) destroy: bool,
}

impl StartRun {
    /// The request to start, and whether it is a destroy, checked field by field.
    fn into_request(self, state: &AppState) -> Result<(ProvisionRequest, bool), ApiError> {
        let prefix = if self.request.is_some() { "request." } else { "" };
        let (mut request, destroy) = match (self.scenario, self.request) {
            (Some(_), Some(_)) => {
                return Err(ApiError::validation("request", "give either scenario or request, not both"))
            }
            (None, None) => return Err(ApiError::validation("scenario", "give a scenario key or a request")),
            (Some(key), None) => {
                let scenario = scenarios::find(&key).ok_or_else(|| {
                    ApiError::validation(
                        "scenario",
                        format!("unknown scenario {key:?}; expected one of: {}", scenarios::keys().join(", ")),
                    )
                })?;
                if self.destroy && !scenario.destroy {
                    return Err(ApiError::validation(
                        "destroy",
                        "a scenario decides this itself; use the destroy scenario",
                    ));
                }
                if let Some(ttl) = self.ttl {
                    if scenario.key != "ephemeral" {
                        return Err(ApiError::validation("ttl", "only the ephemeral scenario has a TTL"));
                    }
                    if !(1..=MAX_TTL_SECS).contains(&ttl) {
                        return Err(ApiError::validation(
                            "ttl",
                            format!("must be between 1 and {MAX_TTL_SECS} seconds"),
                        ));
                    }
                }
                let mut request = scenario.request(self.driver.unwrap_or(DriverKind::Sim), self.ttl);
                request.approvers = self.approvers;
                (request, scenario.destroy)
            }
            (None, Some(value)) => {
                for (field, given) in [
                    ("ttl", self.ttl.is_some()),
                    ("driver", self.driver.is_some()),
                    ("approvers", !self.approvers.is_empty()),
                ] {
                    if given {
                        return Err(ApiError::validation(
                            field,
                            format!("with a request, set request.{field} instead"),
                        ));
                    }
                }
                if !value.is_object() {
                    return Err(ApiError::validation("request", "must be a JSON object"));
                }
                let request = ProvisionRequest::parse(value).map_err(|e| prefixed("request.", e))?;
                (request, self.destroy)
            }
        };
        for name in &request.approvers {
            match state.config().users.get(name) {
                Some(user) if user.role >= Role::Approver => {}
                Some(_) => {
                    return Err(ApiError::validation(
                        format!("{prefix}approvers"),
                        format!("{name} is not an approver"),
                    ))
                }
                None => {
                    return Err(ApiError::validation(
                        format!("{prefix}approvers"),
                        format!("{name} is not a configured user"),
                    ))
                }
            }
        }
        request.approvers.sort();
        request.approvers.dedup();
        match &state.config().iac_root {
            Some(root) => client::validate(&request, root),
            None => request.check(),
        }
        .map_err(|e| prefixed(prefix, e))?;
        Ok((request, destroy))
    }
}

fn prefixed(prefix: &str, err: RequestError) -> ApiError {
    ApiError::validation(format!("{prefix}{}", err.field), err.reason)
}

/// Fails with 422 on `reason` when it is longer than [`MAX_REASON_CHARS`].
fn check_reason(reason: Option<&str>) -> Result<(), ApiError> {
    match reason {
        Some(reason) if reason.chars().count() > MAX_REASON_CHARS => {
            Err(ApiError::validation("reason", format!("at most {MAX_REASON_CHARS} characters")))
        }
        _ => Ok(()),
    }
}

/// What `call` gives back, or a 503 when it has not finished within the worker timeout (no worker
/// answered).
async fn answered<T>(state: &AppState, call: impl Future<Output = T>) -> Result<T, ApiError> {
    tokio::time::timeout(state.config().worker_timeout, call).await.map_err(|_| ApiError::Unavailable)
}

/// Starts a provisioning or destroy run.
#[utoipa::path(
    post, path = "/api/runs", tag = "runs",
    request_body = StartRun,
    responses(
        (status = 201, description = "Started; `Location` is the run", body = Started),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 415, body = ErrorBody),
        (status = 422, description = "A field is missing or wrong; `field` names it", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
#[tracing::instrument(skip_all, fields(user = %user.name))]
pub(crate) async fn start_run(
    State(state): State<AppState>,
    user: User,
    ApiJson(body): ApiJson<StartRun>,
) -> Result<impl IntoResponse, ApiError> {
    user.require(Role::Requester, "start runs")?;
    let (mut request, destroy) = body.into_request(&state)?;
    request.requested_by = Some(user.name.clone());
    let id = state.domain::<ProvisionClient>()?.start(&request, destroy).await.map_err(ApiError::Internal)?;
    tracing::info!(workflow_id = %id, destroy, "run started");
    Ok((StatusCode::CREATED, [(LOCATION, format!("/api/runs/{id}"))], Json(Started { workflow_id: id, destroy })))
}

/// Filters for the run list; all optional, combined with AND.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    /// `provisionStatus` equals (e.g. `awaiting_approval`, `applied`).
    #[param(min_length = 1, max_length = 256, pattern = r"^[^\x00-\x1f\x7f-\x9f\\]+$")]
    status: Option<String>,
    /// `scenario` equals.
    #[param(min_length = 1, max_length = 256, pattern = r"^[^\x00-\x1f\x7f-\x9f\\]+$")]
    scenario: Option<String>,
    /// `tfDirectory` equals.
    #[param(min_length = 1, max_length = 256, pattern = r"^[^\x00-\x1f\x7f-\x9f\\]+$")]
    directory: Option<String>,
    /// At most this many runs (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    limit: Option<String>,
}

/// Lists runs from Temporal visibility, newest first.
#[utoipa::path(
    get, path = "/api/runs", tag = "runs",
    params(ListQuery),
    responses(
        (status = 200, body = Vec<RunSummaryDoc>),
        (status = 401, body = ErrorBody),
        (status = 422, description = "A bad filter; `field` names it", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn list_runs(
    State(state): State<AppState>,
    _user: User,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<Vec<RunSummary>>, ApiError> {
    let limit = list_limit(query.limit.as_deref())?;
    for (field, value) in [("status", &query.status), ("scenario", &query.scenario), ("directory", &query.directory)] {
        if let Some(value) = value {
            check_text(field, value, 256)?;
            // `ListFilter::query` doubles quotes but not backslashes, and a backslash escapes the
            // closing quote in Temporal's query syntax.
            if value.contains('\\') {
                return Err(ApiError::validation(field, "backslashes are not supported in filters"));
            }
        }
    }
    let filter =
        ListFilter { status: query.status, scenario: query.scenario, directory: query.directory, limit: Some(limit) };
    let rows = state.domain::<ProvisionClient>()?.list(&filter).await.map_err(ApiError::Internal)?;
    Ok(Json(rows))
}

/// A run's full state: status, progress, plan, policy results, approval, outputs (sensitive
/// values masked). `stale` is true when no worker answered and the state comes from visibility.
#[utoipa::path(
    get, path = "/api/runs/{id}", tag = "runs",
    params(RunId),
    responses(
        (status = 200, body = RunViewDoc),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
#[tracing::instrument(skip_all, fields(workflow_id = %id))]
pub(crate) async fn show_run(
    State(state): State<AppState>,
    _user: User,
    Path(id): Path<String>,
) -> Result<Json<RunView>, ApiError> {
    check_id(&id)?;
    Ok(Json(state.domain::<ProvisionClient>()?.view(&id).await?))
}

/// How a decision reaches the run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Via {
    /// The `update_apply_decision` update: validated by the workflow (a reason is required), and
    /// answered only once recorded.
    #[default]
    Update,
    /// Seed 001's `signal_apply_decision` signal: fire and forget; the reason is optional.
    Signal,
}

/// An approval or rejection.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DecisionBody {
    /// Why. Required by the update (the workflow's validator refuses an empty one).
    #[serde(default)]
    #[schema(max_length = 2000)]
    reason: Option<String>,
    /// `update` (default) or `signal`.
    #[serde(default)]
    via: Via,
    /// The SHA-256 of the plan you reviewed (`state.plan_hash` of the run you were shown). A
    /// decision on a plan that has changed since is refused with 409.
    #[serde(default)]
    #[schema(min_length = 64, max_length = 64)]
    plan_hash: Option<String>,
}

/// A recorded (update) or sent (signal) decision.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub(crate) struct Decided {
    /// Workflow id.
    pub(crate) workflow_id: String,
    /// Approved or rejected.
    pub(crate) approved: bool,
    /// The signed-in user recorded as the approver.
    pub(crate) approver: String,
    /// How it was delivered.
    pub(crate) via: Via,
}

/// Approves the pending plan. Only an approver listed on the run (any approver when it lists
/// none) or an admin; the workflow checks the approver again.
#[utoipa::path(
    post, path = "/api/runs/{id}/approve", tag = "runs",
    params(RunId),
    request_body = DecisionBody,
    responses(
        (status = 200, body = Decided),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Not an approver of this run", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "No approval is pending", body = ErrorBody),
        (status = 415, body = ErrorBody),
        (status = 422, description = "Refused by the workflow's validator (e.g. an empty reason)", body = ErrorBody),
        (status = 503, description = "No worker answered", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn approve(
    state: State<AppState>,
    user: User,
    id: Path<String>,
    body: ApiJson<DecisionBody>,
) -> Result<Json<Decided>, ApiError> {
    decide(state, user, id, body, true).await
}

/// Rejects the pending plan; the same rules as approving.
#[utoipa::path(
    post, path = "/api/runs/{id}/reject", tag = "runs",
    params(RunId),
    request_body = DecisionBody,
    responses(
        (status = 200, body = Decided),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody),
        (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody),
        (status = 503, body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn reject(
    state: State<AppState>,
    user: User,
    id: Path<String>,
    body: ApiJson<DecisionBody>,
) -> Result<Json<Decided>, ApiError> {
    decide(state, user, id, body, false).await
}

#[tracing::instrument(skip_all, fields(workflow_id = %id, user = %user.name, approve))]
async fn decide(
    State(state): State<AppState>,
    user: User,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DecisionBody>,
    approve: bool,
) -> Result<Json<Decided>, ApiError> {
    check_id(&id)?;
    check_reason(body.reason.as_deref())?;
    let runs = state.domain::<ProvisionClient>()?;
    let view = runs.view(&id).await?;
    admit(&view, &user)?;
    // Checked after who and what: a requester or an unknown run hears that first.
    let plan_hash = match body.plan_hash {
        Some(hash) if hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => hash,
        Some(_) => return Err(ApiError::validation("plan_hash", "must be the 64 hex digits of a plan's SHA-256")),
        None => {
            return Err(ApiError::validation(
                "plan_hash",
                "required: the hash of the plan you reviewed (state.plan_hash of GET /api/runs/{id})",
            ))
        }
    };
    let decision = ApplyDecision {
        is_approved: approve,
        reason: body.reason,
        approver: Some(user.name.clone()),
        // Recorded in history; the workflow grants a role claim nothing (it cannot check it).
        approver_role: (user.role == Role::Admin).then(|| "admin".to_owned()),
        plan_hash: Some(plan_hash),
    };
    // A refusal of the workflow's validator maps by its kind (`provision/error.rs`).
    answered(&state, runs.decide(&id, decision, body.via == Via::Signal)).await??;
    tracing::info!(via = ?body.via, "decision sent");
    Ok(Json(Decided { workflow_id: id, approved: approve, approver: user.name, via: body.via }))
}

impl Decidable for RunView {
    fn closed(&self) -> Option<String> {
        if self.workflow_type != PROVISION_WORKFLOW {
            Some("destroy runs have no approval step".into())
        } else if self.execution_status != "Running" {
            Some(format!("the run has ended ({})", self.execution_status))
        } else {
            None
        }
    }

    fn stale(&self) -> bool {
        self.stale
    }

    fn check_decider(&self, user: &User) -> Result<(), ApiError> {
        may_decide(user, &self.state.approvers)
    }

    fn not_awaited(&self) -> Option<String> {
        (!self.state.approval_pending).then(|| format!("no approval is pending (status is {:?})", self.state.status))
    }
}

/// Accepted and passed on.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub(crate) struct Accepted {
    /// Workflow id.
    pub(crate) workflow_id: String,
}

/// Asks for a fresh plan: the run continues as new with the same input, re-plans and re-checks
/// policy (seed 001's `request_continue_as_new` signal).
#[utoipa::path(
    post, path = "/api/runs/{id}/replan", tag = "runs",
    params(RunId),
    responses(
        (status = 202, body = Accepted),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "The run has ended, or is a destroy", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
#[tracing::instrument(skip_all, fields(workflow_id = %id, user = %user.name))]
pub(crate) async fn replan(
    State(state): State<AppState>,
    user: User,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    check_id(&id)?;
    user.require(Role::Requester, "re-plan runs")?;
    let runs = state.domain::<ProvisionClient>()?;
    require_running_provision(&runs.describe(&id).await?)?;
    runs.replan(&id).await?;
    tracing::info!("re-plan requested");
    Ok((StatusCode::ACCEPTED, Json(Accepted { workflow_id: id })))
}

/// How long to push an ephemeral run's destroy out.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExtendBody {
    /// Seconds to add to the destroy deadline.
    #[schema(minimum = 1, maximum = 2592000)]
    seconds: u64,
}

/// The new destroy deadline.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub(crate) struct Extended {
    /// Workflow id.
    pub(crate) workflow_id: String,
    /// RFC 3339.
    pub(crate) destroy_at: String,
}

/// Pushes an ephemeral run's destroy out (update `extend_ttl`).
#[utoipa::path(
    post, path = "/api/runs/{id}/extend", tag = "runs",
    params(RunId),
    request_body = ExtendBody,
    responses(
        (status = 200, body = Extended),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "No TTL is running", body = ErrorBody),
        (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody),
        (status = 503, body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
#[tracing::instrument(skip_all, fields(workflow_id = %id, user = %user.name))]
pub(crate) async fn extend(
    State(state): State<AppState>,
    user: User,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ExtendBody>,
) -> Result<Json<Extended>, ApiError> {
    check_id(&id)?;
    user.require(Role::Requester, "extend TTLs")?;
    if !(1..=MAX_TTL_SECS).contains(&body.seconds) {
        return Err(ApiError::validation("seconds", format!("must be between 1 and {MAX_TTL_SECS}")));
    }
    let runs = state.domain::<ProvisionClient>()?;
    require_running_provision(&runs.describe(&id).await?)?;
    let destroy_at = answered(&state, runs.extend_ttl(&id, body.seconds)).await??;
    tracing::info!(seconds = body.seconds, "TTL extended");
    Ok(Json(Extended { workflow_id: id, destroy_at }))
}

/// Why a run is reset.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResetBody {
    /// Recorded in the run's history with the user's name.
    #[serde(default)]
    #[schema(max_length = 2000)]
    reason: Option<String>,
}

/// The run that continues after a reset.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub(crate) struct ResetDone {
    /// Workflow id (unchanged).
    pub(crate) workflow_id: String,
    /// The new run's id.
    pub(crate) run_id: String,
    /// The workflow task the run was reset to (the one that scheduled the last plan).
    pub(crate) reset_to_event_id: i64,
}

/// Resets the run to its plan stage (admins only): the current run is terminated and a new one
/// re-plans from the workflow task that scheduled the last plan. Earlier decisions and re-plan
/// requests are not re-applied: the new plan needs a new approval.
#[utoipa::path(
    post, path = "/api/runs/{id}/reset", tag = "runs",
    params(RunId),
    request_body = ResetBody,
    responses(
        (status = 200, body = ResetDone),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "A destroy, or the run never planned", body = ErrorBody),
        (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
#[tracing::instrument(skip_all, fields(workflow_id = %id, user = %user.name))]
pub(crate) async fn reset(
    State(state): State<AppState>,
    user: User,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ResetBody>,
) -> Result<Json<ResetDone>, ApiError> {
    check_id(&id)?;
    user.require(Role::Admin, "reset runs")?;
    check_reason(body.reason.as_deref())?;
    let reason =
        format!("reset to the plan stage by {}: {}", user.name, body.reason.as_deref().unwrap_or("no reason given"));
    let identity = format!("ordo-api/{}", user.name);
    let reset = state.domain::<ProvisionClient>()?.reset(&id, &reason, &identity).await?;
    tracing::info!(run_id = %reset.run_id, "run reset to its plan stage");
    Ok(Json(ResetDone { workflow_id: id, run_id: reset.run_id, reset_to_event_id: reset.reset_to_event_id }))
}

/// Fails with 409 unless `run` is a provisioning run that is still running (what re-plan and
/// extend need).
fn require_running_provision(run: &Described) -> Result<(), ApiError> {
    if run.workflow_type == DEPROVISION_WORKFLOW {
        return Err(ApiError::Conflict("this is a destroy run".into()));
    }
    if run.execution_status != "Running" {
        return Err(ApiError::Conflict(format!("the run has ended ({})", run.execution_status)));
    }
    Ok(())
}

/// The run in the path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub(crate) struct RunId {
    /// Workflow id (1-200 characters, no control characters).
    #[param(min_length = 1, max_length = 200, pattern = r"^[^\x00-\x1f\x7f-\x9f]+$")]
    id: String,
}
