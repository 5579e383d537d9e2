//! OpenAPI schemas for the provisioning types the API returns as they are (`RunView`,
//! `RunSummary`, `Scenario`). Those live in `ordo-provision`, which knows nothing of HTTP, so they
//! are described here; a test serialises the real types and checks that every field they produce
//! is described, so the two cannot drift apart silently.
#![allow(dead_code)]

use std::collections::BTreeMap;

use utoipa::ToSchema;

use crate::schema::OutputValueDoc;

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
}
