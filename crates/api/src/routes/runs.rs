//! `/api/runs…`: start (scenario or full request, provisioning or destroy), list from visibility,
//! show, approve / reject (update or seed 001's signal), re-plan, extend the TTL, reset to the
//! plan stage.

use std::future::Future;

use axum::extract::{Path, State};
use axum::http::header::LOCATION;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use ordo_core::RequestError;
use ordo_iac::DriverKind;
use ordo_provision::client::{self, ListFilter, RunError, RunSummary, RunView};
use ordo_provision::model::{ApplyDecision, ProvisionRequest, DEPROVISION_WORKFLOW, PROVISION_WORKFLOW};
use ordo_provision::scenarios;
use ordo_provision::workflows::ProvisionInfraWorkflow;
use serde::{Deserialize, Serialize};
use temporalio_client::grpc::WorkflowService as _;
use temporalio_client::tonic::Request;
use temporalio_client::{NamespacedClient as _, WorkflowDescribeOptions, WorkflowFetchHistoryOptions};
use temporalio_common::protos::temporal::api::common::v1::WorkflowExecution;
use temporalio_common::protos::temporal::api::enums::v1::ResetReapplyExcludeType;
use temporalio_common::protos::temporal::api::history::v1::history_event::Attributes;
use temporalio_common::protos::temporal::api::workflowservice::v1::ResetWorkflowExecutionRequest;
use utoipa::{IntoParams, ToSchema};

use super::decide::{admit, Decidable};
use super::params::{check_id, check_text, list_limit};
use crate::auth::{Role, User};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiQuery};
use crate::schema::{DriverDoc, RunSummaryDoc, RunViewDoc, ScenarioKeyDoc};
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
pub(crate) async fn start_run(
    State(state): State<AppState>,
    user: User,
    ApiJson(body): ApiJson<StartRun>,
) -> Result<impl IntoResponse, ApiError> {
    user.require(Role::Requester, "start runs")?;
    let (mut request, destroy) = body.into_request(&state)?;
    request.requested_by = Some(user.name.clone());
    let id = state.client().start(&request, destroy).await.map_err(ApiError::Internal)?;
    tracing::info!(workflow_id = %id, user = %user.name, destroy, "run started");
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
    let rows = state.client().list(&filter).await.map_err(ApiError::Internal)?;
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
pub(crate) async fn show_run(
    State(state): State<AppState>,
    _user: User,
    Path(id): Path<String>,
) -> Result<Json<RunView>, ApiError> {
    check_id(&id)?;
    Ok(Json(state.client().view(&id).await?))
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

async fn decide(
    State(state): State<AppState>,
    user: User,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DecisionBody>,
    approve: bool,
) -> Result<Json<Decided>, ApiError> {
    check_id(&id)?;
    check_reason(body.reason.as_deref())?;
    let view = state.client().view(&id).await?;
    admit(&view, &user)?;
    let decision = ApplyDecision {
        is_approved: approve,
        reason: body.reason,
        approver: Some(user.name.clone()),
        // The workflow lets an admin decide runs that list other approvers; the API vouches for the role.
        approver_role: (user.role == Role::Admin).then(|| "admin".to_owned()),
    };
    answered(&state, state.client().decide(&id, decision, body.via == Via::Signal)).await?.map_err(|e| match e {
        RunError::Rejected(why) => refusal(why),
        other => other.into(),
    })?;
    tracing::info!(workflow_id = %id, user = %user.name, approve, via = ?body.via, "decision sent");
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
        user.may_decide(&self.state.approvers)
    }

    fn not_awaited(&self) -> Option<String> {
        (!self.state.approval_pending).then(|| format!("no approval is pending (status is {:?})", self.state.status))
    }
}

/// Maps the workflow validator's refusal to a status: its messages are the only channel
/// (a validator failure carries no type), so match on the wording the workflow uses.
fn refusal(why: String) -> ApiError {
    if why.contains("no approval is pending") {
        ApiError::Conflict(why)
    } else if why.starts_with("approver:") {
        ApiError::Forbidden(why)
    } else {
        ApiError::validation("reason", why)
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
pub(crate) async fn replan(
    State(state): State<AppState>,
    user: User,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    check_id(&id)?;
    user.require(Role::Requester, "re-plan runs")?;
    let described = describe(&state, &id).await?;
    described.require_running_provision()?;
    state.client().replan(&id).await?;
    tracing::info!(workflow_id = %id, user = %user.name, "re-plan requested");
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
    describe(&state, &id).await?.require_running_provision()?;
    let destroy_at = answered(&state, state.client().extend_ttl(&id, body.seconds)).await?.map_err(|e| match e {
        RunError::Rejected(why) if why.starts_with("seconds") => ApiError::validation("seconds", why),
        RunError::Rejected(why) => ApiError::Conflict(why),
        other => other.into(),
    })?;
    tracing::info!(workflow_id = %id, user = %user.name, seconds = body.seconds, "TTL extended");
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
pub(crate) async fn reset(
    State(state): State<AppState>,
    user: User,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ResetBody>,
) -> Result<Json<ResetDone>, ApiError> {
    check_id(&id)?;
    user.require(Role::Admin, "reset runs")?;
    check_reason(body.reason.as_deref())?;
    let described = describe(&state, &id).await?;
    if described.workflow_type != PROVISION_WORKFLOW {
        return Err(ApiError::Conflict("only provisioning runs have a plan stage".into()));
    }
    let temporal = state.client().temporal();
    let events = temporal
        .get_workflow_handle::<ProvisionInfraWorkflow>(&id)
        .fetch_history(WorkflowFetchHistoryOptions::default())
        .into_events()
        .await
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("fetching the history of {id}: {e}")))?;
    let reset_to = events
        .iter()
        .rev()
        .find_map(|e| match &e.attributes {
            Some(Attributes::ActivityTaskScheduledEventAttributes(a))
                if a.activity_type.as_ref().is_some_and(|t| t.name == "terraform_plan") =>
            {
                Some(a.workflow_task_completed_event_id)
            }
            _ => None,
        })
        .ok_or_else(|| ApiError::Conflict("the run has not reached its plan stage yet".into()))?;
    let reason =
        format!("reset to the plan stage by {}: {}", user.name, body.reason.as_deref().unwrap_or("no reason given"));
    let response = temporal
        .clone()
        .reset_workflow_execution(Request::new(ResetWorkflowExecutionRequest {
            namespace: temporal.namespace(),
            workflow_execution: Some(WorkflowExecution { workflow_id: id.clone(), run_id: described.run_id }),
            reason,
            workflow_task_finish_event_id: reset_to,
            request_id: uuid::Uuid::new_v4().to_string(),
            reset_reapply_exclude_types: vec![
                ResetReapplyExcludeType::Signal as i32,
                ResetReapplyExcludeType::Update as i32,
            ],
            identity: format!("ordo-api/{}", user.name),
            ..Default::default()
        }))
        .await
        .map_err(|status| ApiError::Internal(anyhow::anyhow!("resetting {id}: {status}")))?
        .into_inner();
    tracing::info!(workflow_id = %id, user = %user.name, run_id = %response.run_id, "run reset to its plan stage");
    Ok(Json(ResetDone { workflow_id: id, run_id: response.run_id, reset_to_event_id: reset_to }))
}

/// What `describe` tells without asking a worker.
pub(crate) struct Described {
    pub(crate) workflow_type: String,
    pub(crate) status: String,
    pub(crate) run_id: String,
}

impl Described {
    fn require_running_provision(&self) -> Result<(), ApiError> {
        if self.workflow_type == DEPROVISION_WORKFLOW {
            return Err(ApiError::Conflict("this is a destroy run".into()));
        }
        if self.status != "Running" {
            return Err(ApiError::Conflict(format!("the run has ended ({})", self.status)));
        }
        Ok(())
    }
}

/// Describes the current run of a workflow id (no worker needed).
pub(crate) async fn describe(state: &AppState, id: &str) -> Result<Described, ApiError> {
    let description = state
        .client()
        .temporal()
        .get_workflow_handle::<ProvisionInfraWorkflow>(id)
        .describe(WorkflowDescribeOptions::default())
        .await
        .map_err(|e| {
            let message = e.to_string();
            if message.contains("not found") || message.contains("NotFound") {
                ApiError::NotFound(format!("no run with id {id:?}"))
            } else {
                ApiError::Internal(anyhow::anyhow!("describing {id}: {message}"))
            }
        })?;
    let run_id = description
        .raw()
        .workflow_execution_info
        .as_ref()
        .and_then(|i| i.execution.as_ref())
        .map(|e| e.run_id.clone())
        .unwrap_or_default();
    Ok(Described {
        workflow_type: description.workflow_type().to_owned(),
        status: format!("{:?}", description.status()),
        run_id,
    })
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
