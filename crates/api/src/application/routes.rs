//! `/api/applications…` and `/api/authorizations`: seed 000's application requests. A signed-in
//! user requests an application for a team, naming its authorizer; the authorizer (or an admin)
//! approves it with a region and a profile, or rejects it; deleting a request withdraws it, or
//! decommissions a provisioned application (the workflow destroys what it created first).
//!
//! Bodies use the seed's camelCase names. The requester and the authorizer are never taken from
//! a body: they are the signed-in user.

use axum::extract::{Path, State};
use axum::http::header::LOCATION;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use ordo_application::client::ApplicationSummary;
use ordo_application::model::status;
use ordo_application::{ApplicationClient, ApplicationRequest, ApplicationView, AuthorizationReceivedResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::access::may_authorize;
use super::schema::{ApplicationStatusDoc, ApplicationSummaryDoc, ApplicationViewDoc, APPLICATION_STATUSES};
use crate::auth::{Role, User};
use crate::decide::{admit, Decidable};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiQuery};
use crate::params::{check_id, list_limit};
use crate::AppState;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/applications", post(request_application).get(list_applications))
        .route("/api/applications/{id}", get(show_application).delete(decommission))
        .route("/api/applications/{id}/authorization", post(authorize))
        .route("/api/authorizations", get(pending_authorizations))
}

/// Longest reason accepted with a decision. The workflow takes 1000 characters; the rest is room
/// for the note an admin's decision carries.
const MAX_REASON_CHARS: usize = 900;

/// A new application request (seed 000's `ProvisionApplicationRequest`). The requester is the
/// signed-in user.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"applicationName": "Checkout", "teamId": "marketing", "authorizerId": "alice"}))]
pub(crate) struct NewApplication {
    /// What the team calls the application.
    #[schema(min_length = 1, max_length = 100)]
    application_name: String,
    /// The requesting team, checked against the workers' team directory before anything else
    /// (an unknown team fails the request, naming the team).
    #[schema(min_length = 1, max_length = 64, pattern = r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    team_id: String,
    /// Who must authorize the request: a configured approver or admin.
    #[schema(min_length = 1, max_length = 64)]
    authorizer_id: String,
    /// How long the authorizer has, in seconds (default 120).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 31536000)]
    authorization_timeout_seconds: Option<u64>,
}

/// A started application request.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ApplicationRequested {
    /// The application's id (also its workflow id): the name's letters and digits and a random
    /// suffix.
    pub(crate) application_id: String,
}

/// Fails with 422 on `authorizerId` unless `name` is a configured user who may authorize.
fn check_authorizer(state: &AppState, name: &str) -> Result<(), ApiError> {
    match state.config().users.get(name) {
        Some(user) if user.role >= Role::Approver => Ok(()),
        Some(user) => Err(ApiError::validation(
            "authorizerId",
            format!("{name} is a {}; the authorizer must be an approver or an admin", user.role),
        )),
        None => Err(ApiError::validation("authorizerId", format!("{name} is not a configured user"))),
    }
}

/// Requests an application: the team is checked, then the request waits for its authorizer (until
/// the deadline), then the application's foundation resources are provisioned with the region and
/// profile the authorizer chose.
#[utoipa::path(
    post, path = "/api/applications", tag = "applications",
    request_body = NewApplication,
    responses(
        (status = 201, description = "Started; `Location` is the application", body = ApplicationRequested),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 415, body = ErrorBody),
        (status = 422, description = "A field is missing or wrong; `field` names it", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
#[tracing::instrument(skip_all, fields(user = %user.name))]
pub(crate) async fn request_application(
    State(state): State<AppState>,
    user: User,
    ApiJson(body): ApiJson<NewApplication>,
) -> Result<impl IntoResponse, ApiError> {
    user.require(Role::Requester, "request applications")?;
    let mut request = ApplicationRequest::new(&body.application_name, &body.team_id, &body.authorizer_id);
    if let Some(seconds) = body.authorization_timeout_seconds {
        request.authorization_timeout_seconds = seconds;
    }
    request.requester_id = Some(user.name.clone());
    request.check()?;
    check_authorizer(&state, &request.authorizer_id)?;
    let id = state.domain::<ApplicationClient>()?.request(&request).await?;
    tracing::info!(workflow_id = %id, authorizer = %request.authorizer_id, "application requested");
    Ok((
        StatusCode::CREATED,
        [(LOCATION, format!("/api/applications/{id}"))],
        Json(ApplicationRequested { application_id: id }),
    ))
}

/// Filters for the application list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ApplicationListQuery {
    /// Only requests with this status.
    #[param(value_type = Option<ApplicationStatusDoc>, inline)]
    status: Option<String>,
    /// At most this many requests (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    limit: Option<String>,
}

/// Lists application requests from Temporal visibility, newest first.
#[utoipa::path(
    get, path = "/api/applications", tag = "applications",
    params(ApplicationListQuery),
    responses(
        (status = 200, body = Vec<ApplicationSummaryDoc>),
        (status = 401, body = ErrorBody),
        (status = 422, description = "A bad filter; `field` names it", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn list_applications(
    State(state): State<AppState>,
    _user: User,
    ApiQuery(query): ApiQuery<ApplicationListQuery>,
) -> Result<Json<Vec<ApplicationSummary>>, ApiError> {
    let limit = list_limit(query.limit.as_deref())?;
    // Only known statuses reach the visibility query.
    if let Some(wanted) = &query.status {
        if !APPLICATION_STATUSES.contains(&wanted.as_str()) {
            return Err(ApiError::validation(
                "status",
                format!("unknown status {wanted:?}; expected one of: {}", APPLICATION_STATUSES.join(", ")),
            ));
        }
    }
    Ok(Json(state.domain::<ApplicationClient>()?.list(query.status.as_deref(), limit).await?))
}

/// The application in the path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub(crate) struct ApplicationId {
    /// The application's id (1-200 characters, no control characters).
    #[param(min_length = 1, max_length = 200, pattern = r"^[^\x00-\x1f\x7f-\x9f]+$")]
    id: String,
}

/// An application request's full state: the request, its team, the authorization deadline, the
/// decision, what was provisioned (with the worker that ran the IaC step) and what was destroyed.
/// `stale` is true when no worker answered and the state holds only what visibility knows.
#[utoipa::path(
    get, path = "/api/applications/{id}", tag = "applications",
    params(ApplicationId),
    responses(
        (status = 200, body = ApplicationViewDoc),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
#[tracing::instrument(skip_all, fields(workflow_id = %id))]
pub(crate) async fn show_application(
    State(state): State<AppState>,
    _user: User,
    Path(id): Path<String>,
) -> Result<Json<ApplicationView>, ApiError> {
    check_id(&id)?;
    Ok(Json(state.domain::<ApplicationClient>()?.view(&id).await?))
}

/// An application request waiting for a decision.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub(crate) struct AuthorizationItem {
    /// The request, with what is needed to decide: the application, its team, the requester,
    /// the deadline.
    #[schema(value_type = ApplicationViewDoc)]
    pub(crate) application: ApplicationView,
    /// Whether the signed-in user may decide it.
    pub(crate) can_decide: bool,
}

/// Application requests waiting for the signed-in user's decision (every pending one for an
/// admin), newest first.
#[utoipa::path(
    get, path = "/api/authorizations", tag = "applications",
    responses((status = 200, body = Vec<AuthorizationItem>), (status = 401, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
#[tracing::instrument(skip_all, fields(user = %user.name))]
pub(crate) async fn pending_authorizations(
    State(state): State<AppState>,
    user: User,
) -> Result<Json<Vec<AuthorizationItem>>, ApiError> {
    let addressed_to = (user.role != Role::Admin).then_some(user.name.as_str());
    let views = state.domain::<ApplicationClient>()?.pending_authorizations(addressed_to).await?;
    let items = views
        .into_iter()
        .map(|application| {
            let authorizer = application.state.request.as_ref().map(|r| r.authorizer_id.as_str());
            let can_decide = !application.stale && authorizer.is_some_and(|a| may_authorize(&user, a).is_ok());
            AuthorizationItem { application, can_decide }
        })
        .collect();
    Ok(Json(items))
}

/// The authorizer's decision. The authorizer recorded is the signed-in user.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"isApproved": true, "region": "us-east-1", "profile": "iac", "reason": "within budget"}))]
pub(crate) struct AuthorizationDecision {
    /// Approve (`true`) or reject (`false`).
    is_approved: bool,
    /// Region to provision in; required to approve.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 64, pattern = r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    region: Option<String>,
    /// Cloud profile to provision with; required to approve.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 64, pattern = r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    profile: Option<String>,
    /// Why (optional; recorded in the workflow's history).
    #[serde(default)]
    #[schema(max_length = 900)]
    reason: Option<String>,
}

/// A decision sent to the request.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AuthorizationSent {
    /// The application's id.
    pub(crate) application_id: String,
    /// Approved or rejected.
    pub(crate) is_approved: bool,
    /// The signed-in user who decided.
    pub(crate) decided_by: String,
}

/// Approves (with a region and a profile) or rejects an application request. Only the request's
/// authorizer (an approver) or an admin may decide. The decision is the seed's signal: the
/// workflow acts on it at once (`provisioning`, or `rejected`).
#[utoipa::path(
    post, path = "/api/applications/{id}/authorization", tag = "applications",
    params(ApplicationId),
    request_body = AuthorizationDecision,
    responses(
        (status = 202, description = "Sent to the workflow", body = AuthorizationSent),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Not the request's authorizer (nor an admin)", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "No decision is awaited: already decided, over, or not yet asking", body = ErrorBody),
        (status = 415, body = ErrorBody),
        (status = 422, description = "A field is missing or wrong (an approval needs `region` and `profile`)", body = ErrorBody),
        (status = 503, description = "No worker answered, so the authorizer cannot be checked", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
#[tracing::instrument(skip_all, fields(workflow_id = %id, user = %user.name))]
pub(crate) async fn authorize(
    State(state): State<AppState>,
    user: User,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AuthorizationDecision>,
) -> Result<(StatusCode, Json<AuthorizationSent>), ApiError> {
    check_id(&id)?;
    if body.reason.as_ref().is_some_and(|r| r.chars().count() > MAX_REASON_CHARS) {
        return Err(ApiError::validation("reason", format!("must be at most {MAX_REASON_CHARS} characters")));
    }
    let reason = body.reason.as_deref().map(str::trim).filter(|r| !r.is_empty()).map(str::to_owned);
    let mut decision = if body.is_approved {
        AuthorizationReceivedResponse::approve(
            body.region.as_deref().unwrap_or_default(),
            body.profile.as_deref().unwrap_or_default(),
        )
    } else {
        AuthorizationReceivedResponse::reject()
    };
    decision.check()?;

    let applications = state.domain::<ApplicationClient>()?;
    let view = applications.view(&id).await?;
    admit(&view, &user)?;
    let request = started_request(&view)?;

    decision.application_id = id.clone();
    decision.team_id = request.team_id.clone();
    if user.name == request.authorizer_id {
        decision.authorizer_id = Some(user.name.clone());
        decision.reason = reason;
    } else {
        // An admin deciding for someone else: the workflow accepts only the named authorizer or
        // an anonymous decision, so the admin's name goes on record in the reason.
        let note = format!("decided by admin {} for {}", user.name, request.authorizer_id);
        decision.reason = Some(match reason {
            Some(reason) => format!("{note}: {reason}"),
            None => note,
        });
    }
    applications.authorize(&id, &decision).await?;
    tracing::info!(approved = decision.is_approved, "authorization sent");
    Ok((
        StatusCode::ACCEPTED,
        Json(AuthorizationSent { application_id: id, is_approved: decision.is_approved, decided_by: user.name }),
    ))
}

/// The request the workflow holds: a 409 until the workflow has recorded it.
fn started_request(view: &ApplicationView) -> Result<&ApplicationRequest, ApiError> {
    view.state
        .request
        .as_ref()
        .ok_or_else(|| ApiError::Conflict("the application request is still starting; try again in a moment".into()))
}

impl Decidable for ApplicationView {
    fn closed(&self) -> Option<String> {
        (self.execution_status != "Running").then(|| {
            format!("the application request is over ({}, status {})", self.execution_status, self.state.status)
        })
    }

    fn stale(&self) -> bool {
        self.stale
    }

    fn check_decider(&self, user: &User) -> Result<(), ApiError> {
        may_authorize(user, &started_request(self)?.authorizer_id)
    }

    fn not_awaited(&self) -> Option<String> {
        (self.state.status != status::AWAITING_AUTHORIZATION).then(|| {
            if self.state.authorization.is_some() {
                "the application request was already decided".to_owned()
            } else {
                format!("no authorization is awaited (status is {})", self.state.status)
            }
        })
    }
}

/// A withdrawal or decommissioning under way.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Decommissioning {
    /// The application's id.
    pub(crate) application_id: String,
}

/// Decommissions an application: the request is cancelled, and once anything was provisioned the
/// workflow destroys it first (`destroying`, then `destroyed`); a request still waiting is just
/// withdrawn (`cancelled`).
#[utoipa::path(
    delete, path = "/api/applications/{id}", tag = "applications",
    params(ApplicationId),
    responses(
        (status = 202, description = "Cancellation requested; follow the status", body = Decommissioning),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "Already over, or already being decommissioned", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
#[tracing::instrument(skip_all, fields(workflow_id = %id, user = %user.name))]
pub(crate) async fn decommission(
    State(state): State<AppState>,
    user: User,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Decommissioning>), ApiError> {
    check_id(&id)?;
    user.require(Role::Requester, "decommission applications")?;
    let applications = state.domain::<ApplicationClient>()?;
    let view = applications.view(&id).await?;
    if view.state.status == status::DESTROYING {
        return Err(ApiError::Conflict("the application is already being decommissioned".into()));
    }
    let reason = format!("decommissioned by {} through the API", user.name);
    // Temporal takes a repeated cancellation as the same one, so a racing second request is
    // accepted too.
    applications.cancel(&id, &reason).await?;
    tracing::info!("application decommissioning requested");
    Ok((StatusCode::ACCEPTED, Json(Decommissioning { application_id: id })))
}
