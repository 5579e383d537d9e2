//! OpenAPI schemas for the provisioning types the API returns as they are (`RunView`,
//! `RunSummary`, `Scenario`, and seed 000's `ApplicationView` and `ApplicationSummary`). Those
//! live in `ordo-provision`, which knows nothing of HTTP, so they are described here; a test
//! serialises the real types and checks that every field they produce is described, so the two
//! cannot drift apart silently.
#![allow(dead_code)]

use std::collections::BTreeMap;

use utoipa::ToSchema;

/// A run as seen from outside: identity, Temporal's execution status and the run's own state.
#[derive(ToSchema)]
#[schema(as = RunView)]
pub(crate) struct RunViewDoc {
    /// Workflow id.
    workflow_id: String,
    /// `ProvisionInfraWorkflow` or `DeprovisionInfraWorkflow`.
    workflow_type: String,
    /// Temporal execution status: `Running`, `Completed`, `Failed`, `Canceled`, `Terminated`,
    /// `ContinuedAsNew`, `TimedOut`.
    execution_status: String,
    /// The run's state.
    state: ProvisionStateDoc,
    /// True when no worker answered and `state` was rebuilt from visibility: it may lag.
    stale: bool,
}

/// Everything a run knows about itself.
#[derive(ToSchema)]
#[schema(as = ProvisionState)]
pub(crate) struct ProvisionStateDoc {
    /// Seed 001 status string (`planning`, `awaiting approval decision`, `applied`, …).
    status: String,
    /// 0..=100.
    progress: i32,
    /// IaC driver (`terraform`, `tofu`, `sim`; `sim` is a simulation).
    driver: String,
    /// IaC directory.
    directory: String,
    /// Scenario key.
    scenario: Option<String>,
    /// Who started the run (the signed-in user), when known.
    requested_by: Option<String>,
    /// Human-readable plan.
    plan: String,
    /// Counts of planned changes.
    plan_summary: Option<PlanSummaryDoc>,
    /// SHA-256 of the saved plan an approval is bound to.
    plan_hash: Option<String>,
    /// Planned resource changes.
    resource_changes: Vec<ResourceChangeDoc>,
    /// Policy results of the current plan.
    policy_results: Vec<PolicyResultDoc>,
    /// The policy verdict of the current plan.
    verdict: Option<VerdictDoc>,
    /// Whether a human decision is awaited now.
    approval_pending: bool,
    /// Who may approve (empty: any approver).
    approvers: Vec<String>,
    /// Approval deadline, RFC 3339.
    approval_deadline: Option<String>,
    /// The decision, once made.
    approval: Option<ApprovalDoc>,
    /// Distinct approvals the current plan needs.
    approvals_required: u32,
    /// The approvals the current plan has so far.
    approvals: Vec<ApprovalDoc>,
    /// The last decision reason.
    reason: String,
    /// Resource events of the last apply or destroy.
    resource_events: Vec<ResourceEventDoc>,
    /// Apply or destroy summary.
    changes: Option<ChangeSummaryDoc>,
    /// Outputs by name; sensitive values are masked.
    outputs: BTreeMap<String, OutputValueDoc>,
    /// Destroy deadline of an ephemeral run, RFC 3339.
    destroy_at: Option<String>,
    /// Plans computed in this run.
    plan_attempts: u32,
    /// The error that ended the run.
    error: Option<String>,
    /// The last approval notification the webhook did not take (the run went on without it).
    notification_error: Option<String>,
}

/// What the policy check decided.
#[derive(ToSchema)]
#[schema(as = Verdict, rename_all = "snake_case")]
pub(crate) enum VerdictDoc {
    Pass,
    NeedsApproval,
    HardFail,
}

/// Counts of planned resource changes.
#[derive(ToSchema)]
#[schema(as = PlanSummary)]
pub(crate) struct PlanSummaryDoc {
    create: u32,
    update: u32,
    delete: u32,
    no_op: u32,
}

/// One planned resource change.
#[derive(ToSchema)]
#[schema(as = ResourceChange)]
pub(crate) struct ResourceChangeDoc {
    /// Resource address.
    address: String,
    /// Resource type.
    #[schema(rename = "type")]
    ty: String,
    /// `create`, `update`, `delete`, `no-op`, …
    actions: Vec<String>,
}

/// One policy message.
#[derive(ToSchema)]
#[schema(as = PolicyResult)]
pub(crate) struct PolicyResultDoc {
    /// Rego package.
    policy: String,
    /// `deny` or `warn`.
    rule: String,
    /// The message.
    message: String,
    /// How binding the policy is.
    level: LevelDoc,
}

/// How binding a policy is.
#[derive(ToSchema)]
#[schema(as = PolicyLevel, rename_all = "kebab-case")]
pub(crate) enum LevelDoc {
    Advisory,
    SoftMandatory,
    HardMandatory,
}

/// A seed-001 scenario key.
#[derive(ToSchema)]
#[schema(as = ScenarioKey, rename_all = "snake_case")]
pub(crate) enum ScenarioKeyDoc {
    HappyPath,
    AdvancedVisibility,
    HumanInTheLoopSignal,
    HumanInTheLoopUpdate,
    RecoverableFailure,
    NonRecoverableFailure,
    ApiFailure,
    Ephemeral,
    Destroy,
}

/// An IaC driver. `sim` is a simulation (no real cloud).
#[derive(ToSchema)]
#[schema(as = Driver, rename_all = "lowercase")]
pub(crate) enum DriverDoc {
    Terraform,
    Tofu,
    Sim,
}

/// A recorded decision.
#[derive(ToSchema)]
#[schema(as = Approval)]
pub(crate) struct ApprovalDoc {
    is_approved: bool,
    reason: String,
    /// The signed-in user who decided.
    approver: Option<String>,
    decided_at: Option<String>,
    plan_hash: String,
    /// `signal` or `update`.
    via: String,
}

/// A resource event.
#[derive(ToSchema)]
#[schema(as = ResourceEvent)]
pub(crate) struct ResourceEventDoc {
    address: String,
    action: String,
    state: String,
}

/// Apply or destroy counts.
#[derive(ToSchema)]
#[schema(as = ChangeSummary)]
pub(crate) struct ChangeSummaryDoc {
    added: u32,
    changed: u32,
    destroyed: u32,
}

/// An output value (`terraform output -json` shape).
#[derive(ToSchema)]
#[schema(as = OutputValue)]
pub(crate) struct OutputValueDoc {
    sensitive: bool,
    /// Terraform type expression.
    #[schema(rename = "type")]
    ty: serde_json::Value,
    /// The value, or `"<sensitive>"`.
    value: serde_json::Value,
}

/// A row of the run list (from Temporal visibility).
#[derive(ToSchema)]
#[schema(as = RunSummary)]
pub(crate) struct RunSummaryDoc {
    workflow_id: String,
    workflow_type: String,
    execution_status: String,
    /// `provisionStatus` search attribute.
    provision_status: Option<String>,
    scenario: Option<String>,
    directory: Option<String>,
    /// RFC 3339.
    started_at: Option<String>,
}

/// A runnable seed-001 scenario.
#[derive(ToSchema)]
#[schema(as = Scenario)]
pub(crate) struct ScenarioDoc {
    key: String,
    title: String,
    description: String,
    directory: String,
    /// Runs the destroy workflow instead of the provisioning one.
    destroy: bool,
}

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

    use ordo_provision::client::{RunSummary, RunView};
    use ordo_provision::model::{Approval, ProvisionState, ResourceChange};
    use ordo_provision::policy::{Level, PolicyResult};
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

    /// Every field the real types serialise is described, and nothing else.
    #[test]
    fn documented_schemas_match_the_serialised_types() {
        let state = ProvisionState {
            approval: Some(Approval {
                is_approved: true,
                reason: "ok".into(),
                approver: None,
                decided_at: None,
                plan_hash: String::new(),
                via: "update".into(),
            }),
            resource_changes: vec![ResourceChange { address: "a".into(), ty: "t".into(), actions: vec![] }],
            policy_results: vec![PolicyResult {
                policy: "p".into(),
                rule: "deny".into(),
                message: "m".into(),
                level: Level::SoftMandatory,
            }],
            ..ProvisionState::default()
        };
        let json = serde_json::to_value(&state).unwrap();
        assert_eq!(object_fields::<ProvisionStateDoc>(), json_fields(json.clone()));
        assert_eq!(object_fields::<ApprovalDoc>(), json_fields(json["approval"].clone()));
        assert_eq!(object_fields::<ResourceChangeDoc>(), json_fields(json["resource_changes"][0].clone()));
        assert_eq!(object_fields::<PolicyResultDoc>(), json_fields(json["policy_results"][0].clone()));
        let view = RunView {
            workflow_id: "w".into(),
            workflow_type: "t".into(),
            execution_status: "Running".into(),
            state,
            stale: false,
        };
        assert_eq!(object_fields::<RunViewDoc>(), json_fields(serde_json::to_value(&view).unwrap()));
        let summary = RunSummary {
            workflow_id: "w".into(),
            workflow_type: "t".into(),
            execution_status: "Running".into(),
            provision_status: None,
            scenario: None,
            directory: None,
            started_at: None,
        };
        assert_eq!(object_fields::<RunSummaryDoc>(), json_fields(serde_json::to_value(&summary).unwrap()));
        let scenario = serde_json::to_value(&ordo_provision::scenarios::SCENARIOS[0]).unwrap();
        assert_eq!(object_fields::<ScenarioDoc>(), json_fields(scenario));
    }

    /// The documented scenario keys are exactly the runnable ones.
    #[test]
    fn documented_scenario_keys_are_the_runnable_ones() {
        let RefOr::T(Schema::Object(object)) = ScenarioKeyDoc::schema() else { panic!("an enum schema") };
        let documented: Vec<String> =
            object.enum_values.unwrap_or_default().iter().map(|v| v.as_str().unwrap_or_default().to_owned()).collect();
        assert_eq!(documented, ordo_provision::scenarios::keys());
    }

    /// Options are optional, everything else required, so a response missing a field fails
    /// schema checks (schemathesis).
    #[test]
    fn non_optional_fields_are_required() {
        let RefOr::T(Schema::Object(object)) = ProvisionStateDoc::schema() else { panic!() };
        assert!(object.required.contains(&"status".to_owned()));
        assert!(!object.required.contains(&"scenario".to_owned()));
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
