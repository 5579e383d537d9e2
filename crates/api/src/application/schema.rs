//! OpenAPI schemas for seed 000's types the API returns as they are (`ApplicationView`,
//! `ApplicationSummary`). Those live in `ordo-application`, which knows nothing of HTTP, so they
//! are described here; a test serialises the real types and checks that every field they produce
//! is described, so the two cannot drift apart silently.
#![allow(dead_code)]

use std::collections::BTreeMap;

use utoipa::ToSchema;

use crate::schema::OutputValueDoc;

/// An application request as seen from outside.
#[derive(ToSchema)]
#[schema(as = ApplicationView)]
pub(crate) struct ApplicationViewDoc {
    /// Workflow id, also the application id.
    workflow_id: String,
    /// Temporal execution status. A provisioned application's workflow stays `Running`: it holds
    /// the application until it is decommissioned (then `Canceled`).
    execution_status: String,
    /// The request's state (query `GetState`, in seed 000's casing).
    state: ProvisionApplicationStateDoc,
    /// True when no worker answered: `state` holds only the status visibility knows, and may lag.
    stale: bool,
}

/// Everything an application request knows (query `GetState`). The first three fields are seed
/// 000's `ProvisionApplicationState`; Ordo's additions use the same casing.
#[derive(ToSchema)]
#[schema(as = ProvisionApplicationState, rename_all = "PascalCase")]
pub(crate) struct ProvisionApplicationStateDoc {
    /// Nobody decided before the deadline.
    authorization_timed_out: bool,
    /// The decision acted upon.
    authorization: Option<AuthorizationReceivedResponseDoc>,
    /// What the IaC step provisioned.
    resources: Option<ProvisionFoundationResourcesResponseDoc>,
    /// `requested`, `checking_team`, `awaiting_authorization`, `provisioning`, `provisioned`,
    /// `rejected`, `authorization_expired`, `destroying`, `destroyed`, `cancelled` or `failed`.
    status: String,
    /// The application's id.
    application_id: String,
    /// The request as started.
    request: Option<ApplicationRequestDoc>,
    /// The team, once looked up.
    team: Option<TeamInformationDoc>,
    /// The bucket the IaC step creates.
    bucket_name: String,
    /// The authorization deadline (RFC 3339) while a decision is awaited.
    authorization_deadline: Option<String>,
    /// When the decision arrived (RFC 3339).
    authorized_at: Option<String>,
    /// What decommissioning destroyed.
    destroyed: Option<DestroyFoundationResourcesResponseDoc>,
    /// The error that ended the request.
    error: Option<String>,
    /// Decisions the workflow ignored, and why (most recent last).
    notes: Vec<String>,
}

/// An application request as the workflow received it (seed 000's request, camelCase).
#[derive(ToSchema)]
#[schema(as = ApplicationRequest, rename_all = "camelCase")]
pub(crate) struct ApplicationRequestDoc {
    /// What the team calls the application.
    application_name: String,
    /// The requesting team.
    team_id: String,
    /// Who must authorize the request.
    authorizer_id: String,
    /// How long the authorizer has, in seconds.
    authorization_timeout_seconds: u64,
    /// Who asked (the signed-in user, for requests made through the API).
    requester_id: Option<String>,
    /// The application's id.
    application_id: Option<String>,
    /// The IaC driver.
    driver: ApplicationDriverDoc,
    /// IaC directory inside the IaC worker's root.
    stack: String,
    /// Task queue of the IaC step, when not the default.
    iac_task_queue: Option<String>,
    /// Simulated latency per resource (sim only).
    sim_latency_ms: Option<u64>,
}

/// The IaC driver of an application. `sim` is a simulation (no real cloud).
#[derive(ToSchema)]
#[schema(as = ApplicationDriver, rename_all = "lowercase")]
pub(crate) enum ApplicationDriverDoc {
    Sim,
    Pulumi,
}

/// The authorizer's decision (signal `AuthorizationReceivedResponse`, seed 000's casing).
#[derive(ToSchema)]
#[schema(as = AuthorizationReceivedResponse, rename_all = "camelCase")]
pub(crate) struct AuthorizationReceivedResponseDoc {
    /// The application.
    application_id: String,
    /// Region to provision in.
    region: String,
    /// Cloud profile to provision with.
    profile: String,
    /// The team.
    team_id: String,
    /// Approved or rejected.
    is_approved: bool,
    /// Who decided (absent when an admin decided for the named authorizer: `reason` says so).
    authorizer_id: Option<String>,
    /// Why.
    reason: Option<String>,
}

/// A team from the workers' team directory (seed 000's Go names).
#[derive(ToSchema)]
#[schema(as = TeamInformation)]
pub(crate) struct TeamInformationDoc {
    /// Display name.
    #[schema(rename = "TeamName")]
    team_name: String,
    /// Contact address.
    #[schema(rename = "TeamEmail")]
    team_email: String,
    /// DNS subdomain of the team's applications.
    #[schema(rename = "Subdomain")]
    subdomain: String,
    /// The team's id.
    #[schema(rename = "TeamID")]
    team_id: String,
}

/// What the IaC step provisioned.
#[derive(ToSchema)]
#[schema(as = ProvisionFoundationResourcesResponse, rename_all = "camelCase")]
pub(crate) struct ProvisionFoundationResourcesResponseDoc {
    /// The application's id.
    application_id: String,
    /// What was done, line by line.
    summary: Vec<String>,
    /// When the IaC step finished (RFC 3339).
    completion_date_time: String,
    /// The region provisioned in.
    region: String,
    /// The stack's outputs; sensitive values are masked.
    outputs: BTreeMap<String, OutputValueDoc>,
    /// The driver that ran (`sim` is a simulation).
    driver: String,
    /// Which worker ran the IaC step: `rust` (`ordo worker`) or `python` (the example worker).
    worker: String,
}

/// What decommissioning destroyed.
#[derive(ToSchema)]
#[schema(as = DestroyFoundationResourcesResponse, rename_all = "camelCase")]
pub(crate) struct DestroyFoundationResourcesResponseDoc {
    /// The application's id.
    application_id: String,
    /// What was destroyed, line by line.
    summary: Vec<String>,
    /// When the destroy finished (RFC 3339).
    completion_date_time: String,
    /// The driver that ran.
    driver: String,
    /// Which worker ran it.
    worker: String,
}

/// A row of the application list (from Temporal visibility).
#[derive(ToSchema)]
#[schema(as = ApplicationSummary)]
pub(crate) struct ApplicationSummaryDoc {
    /// Workflow id, also the application id.
    workflow_id: String,
    /// Temporal execution status.
    execution_status: String,
    /// The request's status (`provisionStatus` search attribute).
    status: Option<String>,
    /// RFC 3339.
    started_at: Option<String>,
}

/// The status of an application request.
#[derive(ToSchema)]
#[schema(as = ApplicationStatus, rename_all = "snake_case")]
pub(crate) enum ApplicationStatusDoc {
    Requested,
    CheckingTeam,
    AwaitingAuthorization,
    Provisioning,
    Provisioned,
    Rejected,
    AuthorizationExpired,
    Destroying,
    Destroyed,
    Cancelled,
    Failed,
}

/// Every status of an application request, in the order of [`ApplicationStatusDoc`].
pub(crate) const APPLICATION_STATUSES: &[&str] = {
    use ordo_application::model::status::*;
    &[
        REQUESTED,
        CHECKING_TEAM,
        AWAITING_AUTHORIZATION,
        PROVISIONING,
        PROVISIONED,
        REJECTED,
        AUTHORIZATION_EXPIRED,
        DESTROYING,
        DESTROYED,
        CANCELLED,
        FAILED,
    ]
};

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use utoipa::openapi::schema::Schema;
    use utoipa::openapi::RefOr;
    use utoipa::PartialSchema;

    use super::*;

    fn object_fields<T: PartialSchema>() -> BTreeSet<String> {
        match T::schema() {
            RefOr::T(Schema::Object(object)) => object.properties.keys().cloned().collect(),
            _ => panic!("not an object schema"),
        }
    }

    fn json_fields(value: serde_json::Value) -> BTreeSet<String> {
        value.as_object().expect("an object").keys().cloned().collect()
    }

    /// The application types: every field the real types serialise (optional ones set) is
    /// described, and nothing else.
    #[test]
    fn documented_application_schemas_match_the_serialised_types() {
        use ordo_application::client::ApplicationSummary;
        use ordo_application::model::{
            ApplicationRequest, AuthorizationReceivedResponse, DestroyFoundationResourcesResponse,
            ProvisionApplicationState, ProvisionFoundationResourcesResponse, TeamInformation,
        };
        use ordo_application::ApplicationView;
        use ordo_iac::OutputValue;

        let mut request = ApplicationRequest::new("Checkout", "marketing", "alice");
        request.requester_id = Some("bob".into());
        request.application_id = Some("checkout-1".into());
        request.iac_task_queue = Some("apps-iac".into());
        request.sim_latency_ms = Some(0);
        let mut authorization = AuthorizationReceivedResponse::approve("us-east-1", "iac");
        authorization.authorizer_id = Some("alice".into());
        authorization.reason = Some("ok".into());
        let output = OutputValue { sensitive: false, ty: "string".into(), value: "b".into() };
        let resources = ProvisionFoundationResourcesResponse {
            outputs: [("bucketName".to_owned(), output)].into_iter().collect(),
            ..Default::default()
        };
        let state = ProvisionApplicationState {
            authorization: Some(authorization),
            resources: Some(resources),
            request: Some(request),
            team: Some(TeamInformation::default()),
            destroyed: Some(DestroyFoundationResourcesResponse::default()),
            ..Default::default()
        };
        let json = serde_json::to_value(&state).unwrap();
        assert_eq!(object_fields::<ProvisionApplicationStateDoc>(), json_fields(json.clone()));
        assert_eq!(object_fields::<ApplicationRequestDoc>(), json_fields(json["Request"].clone()));
        assert_eq!(object_fields::<AuthorizationReceivedResponseDoc>(), json_fields(json["Authorization"].clone()));
        assert_eq!(object_fields::<TeamInformationDoc>(), json_fields(json["Team"].clone()));
        assert_eq!(object_fields::<ProvisionFoundationResourcesResponseDoc>(), json_fields(json["Resources"].clone()));
        assert_eq!(object_fields::<OutputValueDoc>(), json_fields(json["Resources"]["outputs"]["bucketName"].clone()));
        assert_eq!(object_fields::<DestroyFoundationResourcesResponseDoc>(), json_fields(json["Destroyed"].clone()));
        let view = ApplicationView { workflow_id: "w".into(), execution_status: "Running".into(), state, stale: false };
        assert_eq!(object_fields::<ApplicationViewDoc>(), json_fields(serde_json::to_value(&view).unwrap()));
        let summary = ApplicationSummary {
            workflow_id: "w".into(),
            execution_status: "Running".into(),
            status: None,
            started_at: None,
        };
        assert_eq!(object_fields::<ApplicationSummaryDoc>(), json_fields(serde_json::to_value(&summary).unwrap()));
    }

    /// The documented application statuses are the ones the API accepts as a filter.
    #[test]
    fn documented_application_statuses_are_the_accepted_ones() {
        let RefOr::T(Schema::Object(object)) = ApplicationStatusDoc::schema() else { panic!("an enum schema") };
        let documented: Vec<String> =
            object.enum_values.unwrap_or_default().iter().map(|v| v.as_str().unwrap_or_default().to_owned()).collect();
        assert_eq!(documented, APPLICATION_STATUSES);
    }
}
