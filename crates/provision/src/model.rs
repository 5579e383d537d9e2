//! Everything that crosses the Temporal boundary. Field names are wire contracts: seed 001's
//! `TerraformRunDetails` names are kept as they are so its starters and the `temporal` CLI work.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::policy::{PolicyResult, Verdict};
use ordo_iac::{ChangeSummary, DriverKind, Outputs, PlanSummary, ResourceEvent, SimKnobs};

/// Workflow type of a provisioning run.
pub const PROVISION_WORKFLOW: &str = "ProvisionInfraWorkflow";
/// Workflow type of a destroy run.
pub const DEPROVISION_WORKFLOW: &str = "DeprovisionInfraWorkflow";
/// Default task queue (seed 001's).
pub const DEFAULT_TASK_QUEUE: &str = "provision-infra";

/// The bounds of every duration, count and size a request may carry. Checked where a request is
/// parsed (API, CLI and inside the workflow), so no value can overflow a timer or a deadline: a
/// workflow that panicked on its input would retry its task forever while holding the workspace.
pub mod limits {
    /// `apply_timeout_secs`: a week.
    pub const MAX_APPLY_TIMEOUT_SECS: u64 = 7 * 24 * 3600;
    /// `approval_timeout_secs`: thirty days.
    pub const MAX_APPROVAL_TIMEOUT_SECS: u64 = 30 * 24 * 3600;
    /// `ephemeral_ttl`, and one `extend_ttl`: thirty days.
    pub const MAX_TTL_SECS: u64 = 30 * 24 * 3600;
    /// How far out an ephemeral run's destroy may be pushed in all: a year.
    pub const MAX_DESTROY_HORIZON_SECS: u64 = 365 * 24 * 3600;
    /// `retry_initial_interval_ms`: an hour.
    pub const MAX_RETRY_INITIAL_INTERVAL_MS: u64 = 3_600_000;
    /// `sim.latency_ms`: a minute per resource.
    pub const MAX_SIM_LATENCY_MS: u64 = 60_000;
    /// `approvers` (and so `approvals_required`).
    pub const MAX_APPROVERS: usize = 50;
    /// `env_vars` entries, and `vars` entries.
    pub const MAX_ENV_VARS: usize = 64;
    /// `vars` entries.
    pub const MAX_VARS: usize = 256;
    /// Any one name or value of `env_vars`, in bytes.
    pub const MAX_ENV_VALUE_BYTES: usize = 4096;
    /// `vars` as JSON, in bytes.
    pub const MAX_VARS_BYTES: usize = 64 * 1024;
    /// `directory`, `policy`: a path.
    pub const MAX_PATH_CHARS: usize = 1024;
    /// `id`, `plan`, `scenario`, `requested_by`, an approver's name.
    pub const MAX_NAME_CHARS: usize = 256;
}

/// Names of the search attributes provisioning runs write (wire contracts).
pub mod attribute {
    /// The run's seed 001 status.
    pub const PROVISION_STATUS: &str = "provisionStatus";
    /// The run's IaC directory.
    pub const TF_DIRECTORY: &str = "tfDirectory";
    /// The seed 001 scenario a run was started from.
    pub const SCENARIO: &str = "scenario";
}

/// The input of both workflows: seed 001's `TerraformRunDetails` plus Ordo's own fields.
/// Unknown fields are rejected.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ProvisionRequest {
    /// IaC directory, relative to the worker's IaC root (or absolute inside it).
    pub directory: String,
    /// Caller's identifier for the run (seed field; informational).
    #[serde(default)]
    pub id: String,
    /// Seed field: the last plan text, carried across continue-as-new. Informational.
    #[serde(default)]
    pub plan: String,
    /// Extra environment variables for the IaC tool.
    #[serde(default)]
    pub env_vars: BTreeMap<String, String>,
    /// Start-to-close timeout of the apply activity.
    #[serde(default = "defaults::apply_timeout_secs")]
    pub apply_timeout_secs: u64,
    /// Upsert `provisionStatus` at every step.
    #[serde(default = "defaults::yes")]
    pub include_custom_search_attrs: bool,
    /// Destroy after `ephemeral_ttl` seconds.
    #[serde(default)]
    pub ephemeral: bool,
    /// Seconds between apply and destroy for ephemeral runs.
    #[serde(default = "defaults::ephemeral_ttl")]
    pub ephemeral_ttl: u64,
    /// Seconds before an ephemeral run's destroy to notify (through the worker's webhook), so
    /// someone can extend it; again after each extension. No reminder when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destroy_reminder_secs: Option<u64>,
    /// Turn soft policy failures into hard ones.
    #[serde(default)]
    pub hard_fail_policy: bool,
    /// Apply fails on attempts 1–4 and succeeds on the 5th.
    #[serde(default)]
    pub simulate_api_failure: bool,
    /// IaC driver.
    #[serde(default)]
    pub driver: DriverKind,
    /// Input variables for the IaC module.
    #[serde(default)]
    pub vars: BTreeMap<String, serde_json::Value>,
    /// Policy bundle directory on the worker (relative to the IaC root); the built-in bundle when absent.
    #[serde(default)]
    pub policy: Option<String>,
    /// Who may approve; empty means anyone.
    #[serde(default)]
    pub approvers: Vec<String>,
    /// Distinct approvals a plan needs before it is applied (one rejection is enough to stop it).
    #[serde(default = "defaults::one", skip_serializing_if = "defaults::is_one")]
    pub approvals_required: u32,
    /// Deadline for a human decision; expiry ends the run as `approval_expired`.
    #[serde(default = "defaults::approval_timeout_secs")]
    pub approval_timeout_secs: u64,
    /// Seconds after the approval gate opens to notify the approvers again if nobody has decided
    /// (must be shorter than `approval_timeout_secs`); no reminder when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_reminder_secs: Option<u64>,
    /// Scenario key this run was started from (also the `scenario` search attribute).
    #[serde(default)]
    pub scenario: Option<String>,
    /// First retry interval of the IaC activities, in milliseconds (seed: 3 s).
    #[serde(default = "defaults::retry_initial_interval_ms")]
    pub retry_initial_interval_ms: u64,
    /// Simulation knobs (sim driver only).
    #[serde(default)]
    pub sim: SimKnobs,
    /// Who asked for the run (set by the API from the signed-in user; informational).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_by: Option<String>,
}

/// What a tool step (init, plan, apply, output, destroy) needs of a request: the workspace, the
/// driver and what reaches the tool. Activities take this instead of the whole request, so each
/// step's input in history is a few dozen bytes; its fields are the request's own names, so a
/// step scheduled with a whole request (runs started before the `light-run` patch) reads the same.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ToolStep {
    /// The IaC directory, relative to the worker's IaC root.
    pub directory: String,
    /// Which tool runs.
    #[serde(default)]
    pub driver: DriverKind,
    /// Simulation knobs (the sim driver only).
    #[serde(default, skip_serializing_if = "SimKnobs::is_default")]
    pub sim: SimKnobs,
    /// Terraform variables.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub vars: BTreeMap<String, serde_json::Value>,
    /// Environment variables for the tool (checked against the worker's policy).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env_vars: BTreeMap<String, String>,
    /// Seed 001's API-failure scenario: apply fails its first attempts.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub simulate_api_failure: bool,
}

impl ProvisionRequest {
    /// The part of this request a tool step reads.
    pub fn tool_step(&self) -> ToolStep {
        ToolStep {
            directory: self.directory.clone(),
            driver: self.driver,
            sim: self.sim,
            vars: self.vars.clone(),
            env_vars: self.env_vars.clone(),
            simulate_api_failure: self.simulate_api_failure,
        }
    }
}

mod defaults {
    pub(super) fn yes() -> bool {
        true
    }
    pub(super) fn one() -> u32 {
        1
    }
    #[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if passes a reference
    pub(super) fn is_one(n: &u32) -> bool {
        *n == 1
    }
    pub(super) fn apply_timeout_secs() -> u64 {
        300
    }
    pub(super) fn ephemeral_ttl() -> u64 {
        15
    }
    pub(super) fn approval_timeout_secs() -> u64 {
        24 * 60 * 60
    }
    pub(super) fn retry_initial_interval_ms() -> u64 {
        3000
    }
}

pub use ordo_core::RequestError;

impl ProvisionRequest {
    /// A request for `directory` with every other field at its default.
    pub fn for_directory(directory: impl Into<String>) -> Self {
        Self::parse(serde_json::json!({ "directory": directory.into() })).expect("defaults are valid")
    }

    /// Parses and checks a request (the shape only; paths are checked by [`ordo_iac::workspace`]).
    pub fn parse(value: serde_json::Value) -> Result<Self, RequestError> {
        let request: Self = serde_json::from_value(value).map_err(RequestError::from_serde)?;
        request.check()?;
        Ok(request)
    }

    /// Field-level checks that serde cannot express.
    pub fn check(&self) -> Result<(), RequestError> {
        if self.directory.trim().is_empty() {
            return Err(RequestError::new("directory", "must not be empty"));
        }
        if self.driver == DriverKind::Pulumi {
            // Pulumi applies without a saved plan: what was approved could differ from what is
            // applied, which this workflow promises never happens.
            return Err(RequestError::new(
                "driver",
                "pulumi cannot provision here: it has no saved plan to bind an approval to (use terraform, tofu or sim)",
            ));
        }
        for (field, value, max) in [
            ("directory", self.directory.as_str(), limits::MAX_PATH_CHARS),
            ("policy", self.policy.as_deref().unwrap_or_default(), limits::MAX_PATH_CHARS),
            ("id", self.id.as_str(), limits::MAX_NAME_CHARS),
            ("plan", self.plan.as_str(), limits::MAX_NAME_CHARS),
            ("scenario", self.scenario.as_deref().unwrap_or_default(), limits::MAX_NAME_CHARS),
            ("requested_by", self.requested_by.as_deref().unwrap_or_default(), limits::MAX_NAME_CHARS),
        ] {
            if value.chars().count() > max {
                return Err(RequestError::new(field, format!("must be at most {max} characters")));
            }
        }
        within("apply_timeout_secs", self.apply_timeout_secs, limits::MAX_APPLY_TIMEOUT_SECS)?;
        within("approval_timeout_secs", self.approval_timeout_secs, limits::MAX_APPROVAL_TIMEOUT_SECS)?;
        if self.ephemeral || self.ephemeral_ttl > limits::MAX_TTL_SECS {
            within("ephemeral_ttl", self.ephemeral_ttl, limits::MAX_TTL_SECS)?;
        }
        within("retry_initial_interval_ms", self.retry_initial_interval_ms, limits::MAX_RETRY_INITIAL_INTERVAL_MS)?;
        if let Some(latency) = self.sim.latency_ms {
            if latency > limits::MAX_SIM_LATENCY_MS {
                return Err(RequestError::new(
                    "sim.latency_ms",
                    format!("must be at most {}", limits::MAX_SIM_LATENCY_MS),
                ));
            }
        }
        if self.approvers.len() > limits::MAX_APPROVERS {
            return Err(RequestError::new("approvers", format!("at most {} approvers", limits::MAX_APPROVERS)));
        }
        if let Some(long) = self.approvers.iter().find(|a| a.chars().count() > limits::MAX_NAME_CHARS) {
            return Err(RequestError::new(
                "approvers",
                format!(
                    "{:?}… is longer than {} characters",
                    long.chars().take(16).collect::<String>(),
                    limits::MAX_NAME_CHARS
                ),
            ));
        }
        if self.approvals_required == 0 || self.approvals_required as usize > limits::MAX_APPROVERS {
            return Err(RequestError::new(
                "approvals_required",
                format!("must be between 1 and {}", limits::MAX_APPROVERS),
            ));
        }
        if self.env_vars.len() > limits::MAX_ENV_VARS {
            return Err(RequestError::new("env_vars", format!("at most {} variables", limits::MAX_ENV_VARS)));
        }
        if let Some((name, _)) = self
            .env_vars
            .iter()
            .find(|(k, v)| k.len() > limits::MAX_ENV_VALUE_BYTES || v.len() > limits::MAX_ENV_VALUE_BYTES)
        {
            return Err(RequestError::new(
                "env_vars",
                format!(
                    "{:?}: names and values are at most {} bytes",
                    name.chars().take(32).collect::<String>(),
                    limits::MAX_ENV_VALUE_BYTES
                ),
            ));
        }
        if self.vars.len() > limits::MAX_VARS {
            return Err(RequestError::new("vars", format!("at most {} variables", limits::MAX_VARS)));
        }
        if serde_json::to_vec(&self.vars).map_or(usize::MAX, |v| v.len()) > limits::MAX_VARS_BYTES {
            return Err(RequestError::new("vars", format!("at most {} bytes of JSON", limits::MAX_VARS_BYTES)));
        }
        if !self.approvers.is_empty() && self.approvals_required as usize > self.approvers.len() {
            return Err(RequestError::new(
                "approvals_required",
                format!("must not exceed the number of approvers ({})", self.approvers.len()),
            ));
        }
        if let Some(reminder) = self.approval_reminder_secs {
            if reminder == 0 || reminder >= self.approval_timeout_secs {
                return Err(RequestError::new(
                    "approval_reminder_secs",
                    format!("must be between 1 and approval_timeout_secs - 1 ({})", self.approval_timeout_secs - 1),
                ));
            }
        }
        if let Some(before) = self.destroy_reminder_secs {
            if !self.ephemeral {
                return Err(RequestError::new("destroy_reminder_secs", "only ephemeral runs are destroyed"));
            }
            if before == 0 || before >= self.ephemeral_ttl {
                return Err(RequestError::new(
                    "destroy_reminder_secs",
                    format!("must be between 1 and ephemeral_ttl - 1 ({})", self.ephemeral_ttl.saturating_sub(1)),
                ));
            }
        }
        if let Some(rate) = self.sim.failure_rate {
            if !(0.0..=1.0).contains(&rate) {
                return Err(RequestError::new("sim.failure_rate", "must be between 0 and 1"));
            }
        }
        if let Some(name) = self.env_vars.keys().find(|k| k.is_empty() || k.contains('=') || k.contains('\0')) {
            return Err(RequestError::new("env_vars", format!("invalid variable name {name:?}")));
        }
        if let Some(name) = self.env_vars.keys().find(|k| ordo_iac::env::never_allowed(k)) {
            return Err(RequestError::new(
                "env_vars",
                format!("{name} can change which tool runs or how; it is never passed to a tool"),
            ));
        }
        if let Some(name) = self.vars.keys().find(|k| !is_identifier(k)) {
            return Err(RequestError::new("vars", format!("invalid variable name {name:?}")));
        }
        if self.approvers.iter().any(|a| a.trim().is_empty()) {
            return Err(RequestError::new("approvers", "must not contain empty names"));
        }
        Ok(())
    }
}

/// `value` is between 1 and `max`.
fn within(field: &str, value: u64, max: u64) -> Result<(), RequestError> {
    if (1..=max).contains(&value) {
        Ok(())
    } else {
        Err(RequestError::new(field, format!("must be between 1 and {max}")))
    }
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// A human decision on a pending plan (signal or update payload).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ApplyDecision {
    /// Apply (`true`) or reject (`false`).
    pub is_approved: bool,
    /// Why; required by the update, optional for the signal.
    #[serde(default)]
    pub reason: Option<String>,
    /// Who decided; must be one of the run's `approvers` when that list is not empty.
    #[serde(default)]
    pub approver: Option<String>,
    /// The decider's role as the caller (Ordo's API) established it. Recorded, not trusted: the
    /// workflow cannot check a role claim, so since the `decision-plan-hash` patch it grants nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approver_role: Option<String>,
    /// The SHA-256 of the plan the decider reviewed. A decision on another plan (re-planned since)
    /// is refused; required where the run lists its approvers. Ordo's API, CLI and UI always send
    /// it; seed 001's own commands, without it, still decide runs that list no approvers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_hash: Option<String>,
}

/// `extend_ttl` update payload.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ExtendTtl {
    /// Seconds to add to the destroy deadline.
    pub seconds: u64,
}

/// Why a run refused a request (an update's validator, or the client before it asks): data, so
/// callers act on [`RefusalKind`] and show [`Refusal::message`], never read the wording.
///
/// A validator's error reaches the caller only as a failure message (no type), so a refusal
/// crosses the workflow boundary in one documented text form, written by [`Refusal::to_message`]
/// and read by [`Refusal::from_message`] (nowhere else):
///
/// ```text
/// <kind>: <message>        kind = not_pending | approver_required | not_an_approver
///                                 | already_approved | no_ttl | no_plan_stage | invalid.<field>
/// ```
///
/// e.g. `invalid.reason: Update apply decision must include a reason.` — still a sentence for
/// someone using the `temporal` CLI. `Display` is that form too, so a refusal turned into any
/// boxed error keeps its kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.to_message())]
pub struct Refusal {
    /// What kind of refusal, for the caller to act on.
    pub kind: RefusalKind,
    /// A sentence for people.
    pub message: String,
}

/// The refusals a run makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefusalKind {
    /// No approval is pending: not asked yet, already decided, or the run is past its gate.
    NotPending,
    /// The decision names nobody, and the run needs a named approver (it lists its approvers, or
    /// asks for several distinct approvals).
    ApproverRequired,
    /// The named approver is not one of the run's approvers.
    NotAnApprover,
    /// This approver has already approved this plan (four eyes need a different one).
    AlreadyApproved,
    /// No TTL is running, so there is no destroy to push out.
    NoTtl,
    /// The run has no plan stage to reset to (a destroy run, or it never planned).
    NoPlanStage,
    /// The decision names a plan that is no longer the one waiting (re-planned since it was shown).
    PlanChanged,
    /// The run has given its workspace back, so a reset would run without holding it.
    WorkspaceReleased,
    /// A field of the request has a bad value.
    Invalid {
        /// The field, as the request names it (`reason`, `seconds`).
        field: String,
    },
}

impl RefusalKind {
    /// Every kind, for tests and docs (`Invalid` with a sample field).
    pub fn all() -> Vec<Self> {
        vec![
            Self::NotPending,
            Self::ApproverRequired,
            Self::NotAnApprover,
            Self::AlreadyApproved,
            Self::NoTtl,
            Self::NoPlanStage,
            Self::PlanChanged,
            Self::WorkspaceReleased,
            Self::Invalid { field: "reason".into() },
        ]
    }

    fn tag(&self) -> String {
        match self {
            Self::NotPending => "not_pending".into(),
            Self::ApproverRequired => "approver_required".into(),
            Self::NotAnApprover => "not_an_approver".into(),
            Self::AlreadyApproved => "already_approved".into(),
            Self::NoTtl => "no_ttl".into(),
            Self::NoPlanStage => "no_plan_stage".into(),
            Self::PlanChanged => "plan_changed".into(),
            Self::WorkspaceReleased => "workspace_released".into(),
            Self::Invalid { field } => format!("invalid.{field}"),
        }
    }

    fn from_tag(tag: &str) -> Option<Self> {
        Some(match tag {
            "not_pending" => Self::NotPending,
            "approver_required" => Self::ApproverRequired,
            "not_an_approver" => Self::NotAnApprover,
            "already_approved" => Self::AlreadyApproved,
            "no_ttl" => Self::NoTtl,
            "no_plan_stage" => Self::NoPlanStage,
            "plan_changed" => Self::PlanChanged,
            "workspace_released" => Self::WorkspaceReleased,
            other => {
                let field = other.strip_prefix("invalid.")?;
                let valid =
                    !field.is_empty() && field.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.');
                return valid.then(|| Self::Invalid { field: field.to_owned() });
            }
        })
    }
}

impl Refusal {
    /// A refusal of `kind`, explained by `message`.
    pub fn new(kind: RefusalKind, message: impl Into<String>) -> Self {
        Self { kind, message: message.into() }
    }

    /// A refusal of `field`'s value.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::new(RefusalKind::Invalid { field: field.to_owned() }, message)
    }

    /// The text form a validator fails with: `<kind>: <message>`.
    pub fn to_message(&self) -> String {
        format!("{}: {}", self.kind.tag(), self.message)
    }

    /// Reads [`Refusal::to_message`]'s form back; `None` for any other text (a failure that is
    /// not one of the run's refusals).
    pub fn from_message(text: &str) -> Option<Self> {
        let (tag, message) = text.split_once(": ")?;
        Some(Self { kind: RefusalKind::from_tag(tag)?, message: message.to_owned() })
    }
}

/// A decision as recorded by the workflow.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Approval {
    /// Approved or rejected.
    pub is_approved: bool,
    /// The reason given ("" when none).
    pub reason: String,
    /// Who decided, when known.
    pub approver: Option<String>,
    /// Workflow time of the decision, RFC 3339.
    pub decided_at: Option<String>,
    /// The plan hash the decision applies to.
    pub plan_hash: String,
    /// `signal` or `update`.
    pub via: String,
}

/// Everything a run knows about itself (query `get_state`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ProvisionState {
    /// Seed status string.
    pub status: String,
    /// 0..=100.
    pub progress: i32,
    /// Driver in use.
    pub driver: String,
    /// IaC directory as requested.
    pub directory: String,
    /// Scenario key, if any.
    pub scenario: Option<String>,
    /// Who asked for the run, when known.
    #[serde(default)]
    pub requested_by: Option<String>,
    /// Human-readable plan.
    pub plan: String,
    /// Resource change counts of the current plan.
    pub plan_summary: Option<PlanSummary>,
    /// SHA-256 of the current saved plan.
    pub plan_hash: Option<String>,
    /// The resource changes of the current plan (`resource_changes` of the plan JSON, trimmed).
    pub resource_changes: Vec<ResourceChange>,
    /// Every policy result of the current plan.
    pub policy_results: Vec<PolicyResult>,
    /// The policy verdict of the current plan.
    pub verdict: Option<Verdict>,
    /// Whether a decision is awaited now.
    pub approval_pending: bool,
    /// Who may approve (empty = anyone).
    pub approvers: Vec<String>,
    /// Approval deadline, RFC 3339, while one is pending.
    pub approval_deadline: Option<String>,
    /// The decision, once made.
    pub approval: Option<Approval>,
    /// Distinct approvals the current plan needs.
    #[serde(default = "defaults::one")]
    pub approvals_required: u32,
    /// The approvals the current plan has so far (the last one completes the decision).
    #[serde(default)]
    pub approvals: Vec<Approval>,
    /// The last reason received (seed `get_reason`).
    pub reason: String,
    /// Resource events of the last apply / destroy.
    pub resource_events: Vec<ResourceEvent>,
    /// Apply / destroy summary.
    pub changes: Option<ChangeSummary>,
    /// Outputs, sensitive values masked.
    pub outputs: Outputs,
    /// Destroy deadline for ephemeral runs, RFC 3339.
    pub destroy_at: Option<String>,
    /// How many times the plan has been computed in this run (re-plans after a stale plan).
    pub plan_attempts: u32,
    /// The error that ended the run, if one did.
    pub error: Option<String>,
    /// The last approval notification that could not be delivered (the run went on without it).
    #[serde(default)]
    pub notification_error: Option<String>,
}

/// One planned resource change, as shown to people.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ResourceChange {
    /// Resource address.
    pub address: String,
    /// Resource type.
    #[serde(rename = "type")]
    pub ty: String,
    /// Actions (`create`, `update`, `delete`, `no-op`, …).
    pub actions: Vec<String>,
}

impl ResourceChange {
    /// A plan document's resource changes, for people (`get_state`, the CLI and the UI).
    pub fn from_plan(plan: &serde_json::Value) -> Vec<ResourceChange> {
        plan.get("resource_changes")
            .and_then(|v| v.as_array())
            .map(|changes| {
                changes
                    .iter()
                    .map(|c| ResourceChange {
                        address: c["address"].as_str().unwrap_or_default().to_owned(),
                        ty: c["type"].as_str().unwrap_or_default().to_owned(),
                        actions: c["change"]["actions"]
                            .as_array()
                            .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect())
                            .unwrap_or_default(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// What a provisioning run ended with.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ProvisionResult {
    /// Final seed status (`applied`, `destroyed`, `rejected`, `policy_hard_failed`, `approval_expired`).
    pub status: String,
    /// Outputs, sensitive values masked.
    pub outputs: Outputs,
    /// The hash of the plan that was applied, if any.
    pub applied_plan_hash: Option<String>,
}

pub use ordo_iac::{mask_outputs, SENSITIVE_MASK};

/// Seed 001 status strings and their progress values.
pub mod status {
    /// Before anything ran.
    pub const UNINITIALIZED: &str = "uninitialized";
    /// Queued behind another run on the same directory (Ordo's own).
    pub const WAITING_FOR_WORKSPACE: &str = "waiting for workspace";
    /// `terraform init` running.
    pub const INITIALIZING: &str = "initializing";
    /// Init done.
    pub const INITIALIZED: &str = "initialized";
    /// Plan running.
    pub const PLANNING: &str = "planning";
    /// Plan done.
    pub const PLANNED: &str = "planned";
    /// Policy check running.
    pub const CHECKING_POLICY: &str = "checking policy";
    /// Policy check done.
    pub const POLICY_CHECKED: &str = "policy checked";
    /// Waiting for a human.
    pub const AWAITING_APPROVAL: &str = "awaiting approval decision";
    /// Apply running.
    pub const APPLYING: &str = "applying";
    /// Apply done.
    pub const APPLIED: &str = "applied";
    /// Ephemeral run waiting for its TTL.
    pub const WAITING_FOR_DESTROY: &str = "waiting for destroy";
    /// Destroy running.
    pub const DESTROYING: &str = "destroying";
    /// Destroy done.
    pub const DESTROYED: &str = "destroyed";
    /// A human rejected the plan.
    pub const REJECTED: &str = "rejected";
    /// A hard-mandatory policy failed.
    pub const POLICY_HARD_FAILED: &str = "policy_hard_failed";
    /// Nobody decided before the deadline (Ordo's own).
    pub const APPROVAL_EXPIRED: &str = "approval_expired";
    /// The run failed (Ordo's own; the workflow also fails).
    pub const FAILED: &str = "failed";

    /// The value written to the `provisionStatus` search attribute for a status (seed 001 uses
    /// snake_case there for the policy and approval steps).
    pub fn search_attribute_value(status: &str) -> &str {
        match status {
            CHECKING_POLICY => "policy_checking",
            POLICY_CHECKED => "policy_checked",
            AWAITING_APPROVAL => "awaiting_approval",
            WAITING_FOR_DESTROY => "waiting_for_destroy",
            WAITING_FOR_WORKSPACE => "waiting_for_workspace",
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use serde_json::{json, Map, Value};

    use super::*;

    /// The request's fields, so generated inputs hit them (and some unknown ones).
    const FIELDS: &[&str] = &[
        "directory",
        "id",
        "plan",
        "env_vars",
        "apply_timeout_secs",
        "include_custom_search_attrs",
        "ephemeral",
        "ephemeral_ttl",
        "destroy_reminder_secs",
        "hard_fail_policy",
        "simulate_api_failure",
        "driver",
        "vars",
        "policy",
        "approvers",
        "approvals_required",
        "approval_timeout_secs",
        "approval_reminder_secs",
        "scenario",
        "retry_initial_interval_ms",
        "sim",
        "requested_by",
        "latency_ms",
        "failure_rate",
    ];

    fn any_number(rng: &mut fastrand::Rng) -> Value {
        match rng.u8(0..8) {
            0 => json!(0),
            1 => json!(1),
            2 => json!(u64::MAX),
            3 => json!(i64::MIN),
            4 => json!(rng.f64() * 1e300),
            5 => json!(-rng.f64()),
            6 => json!(rng.u64(..)),
            _ => json!(rng.u64(0..100_000)),
        }
    }

    fn any_string(rng: &mut fastrand::Rng) -> Value {
        match rng.u8(0..6) {
            0 => json!(""),
            1 => json!("stacks/tcloud_namespace"),
            2 => json!("x".repeat(rng.usize(0..5000))),
            3 => json!("a\0b=c"),
            4 => json!(["terraform", "tofu", "sim", "pulumi"][rng.usize(0..4)]),
            _ => json!("é🙂".repeat(rng.usize(0..300))),
        }
    }

    fn any_value(rng: &mut fastrand::Rng, depth: u8) -> Value {
        match rng.u8(0..if depth > 2 { 5 } else { 7 }) {
            0 => Value::Null,
            1 => json!(rng.bool()),
            2 | 3 => any_number(rng),
            4 => any_string(rng),
            5 => Value::Array((0..rng.usize(0..70)).map(|_| any_value(rng, depth + 1)).collect()),
            _ => any_object(rng, depth + 1),
        }
    }

    fn any_object(rng: &mut fastrand::Rng, depth: u8) -> Value {
        let mut object = Map::new();
        for _ in 0..rng.usize(0..12) {
            let key = if rng.u8(0..10) == 0 {
                format!("k{}", rng.u32(..))
            } else {
                FIELDS[rng.usize(0..FIELDS.len())].to_owned()
            };
            object.insert(key, any_value(rng, depth));
        }
        Value::Object(object)
    }

    /// Arbitrary JSON never panics the parser the workflow runs first, and whatever it accepts is
    /// within every bound — so no accepted request can overflow a timer, a deadline or a count
    /// inside the workflow (which would retry its task forever, holding the workspace).
    #[test]
    fn the_input_parser_accepts_only_bounded_requests_and_never_panics() {
        let mut rng = fastrand::Rng::with_seed(0x0dd0);
        let far_future = SystemTime::UNIX_EPOCH + Duration::from_secs(100 * 365 * 24 * 3600);
        let mut accepted = 0;
        for case in 0..5_000 {
            let mut input = any_object(&mut rng, 0);
            if rng.bool() {
                input["directory"] = json!("stacks/tcloud_namespace");
            }
            let Ok(request) = ProvisionRequest::parse(input.clone()) else { continue };
            accepted += 1;
            let context = format!("case {case}: {input}");
            assert!(request.apply_timeout_secs <= limits::MAX_APPLY_TIMEOUT_SECS, "{context}");
            assert!(request.approval_timeout_secs <= limits::MAX_APPROVAL_TIMEOUT_SECS, "{context}");
            assert!(request.ephemeral_ttl <= limits::MAX_TTL_SECS, "{context}");
            assert!(request.retry_initial_interval_ms <= limits::MAX_RETRY_INITIAL_INTERVAL_MS, "{context}");
            assert!(request.approvals_required as usize <= limits::MAX_APPROVERS, "{context}");
            assert!(request.approvers.len() <= limits::MAX_APPROVERS, "{context}");
            assert!(request.env_vars.len() <= limits::MAX_ENV_VARS, "{context}");
            assert!(request.sim.latency_ms.unwrap_or(0) <= limits::MAX_SIM_LATENCY_MS, "{context}");
            for secs in [request.apply_timeout_secs, request.approval_timeout_secs, request.ephemeral_ttl] {
                assert!(far_future.checked_add(Duration::from_secs(secs)).is_some(), "{context}");
                assert!(secs.checked_mul(1000).is_some(), "{context}");
            }
        }
        assert!(accepted > 25, "the generator also produces valid requests ({accepted} accepted)");
    }

    /// Each bound is enforced with an error naming its field.
    #[test]
    fn values_past_a_bound_are_refused_naming_the_field() {
        let base = json!({"directory": "stacks/x"});
        for (field, value) in [
            ("apply_timeout_secs", json!(limits::MAX_APPLY_TIMEOUT_SECS + 1)),
            ("approval_timeout_secs", json!(u64::MAX)),
            ("ephemeral_ttl", json!(u64::MAX)),
            ("retry_initial_interval_ms", json!(u64::MAX)),
            ("approvals_required", json!(u32::MAX)),
            ("directory", json!("d".repeat(limits::MAX_PATH_CHARS + 1))),
        ] {
            let mut input = base.clone();
            input[field] = value;
            let err = ProvisionRequest::parse(input).expect_err(field);
            assert_eq!(err.field, field, "{err}");
        }
        let mut input = base.clone();
        input["driver"] = json!("pulumi");
        assert_eq!(ProvisionRequest::parse(input).unwrap_err().field, "driver");
        let mut input = base.clone();
        input["sim"] = json!({"latency_ms": u64::MAX});
        assert_eq!(ProvisionRequest::parse(input).unwrap_err().field, "sim.latency_ms");
    }

    /// Every refusal kind survives the text form a validator fails with, message included.
    #[test]
    fn every_refusal_kind_round_trips_through_its_message_form() {
        for kind in RefusalKind::all() {
            let refusal = Refusal::new(kind, "no: really, \"alice\" may not: see why");
            let text = refusal.to_message();
            assert_eq!(Refusal::from_message(&text).as_ref(), Some(&refusal), "{text}");
            assert_eq!(refusal.to_string(), text, "Display is the wire form, so boxing keeps the kind");
        }
        let seconds = Refusal::invalid("seconds", "must be at least 1");
        assert_eq!(seconds.to_message(), "invalid.seconds: must be at least 1");
    }

    /// Text that is not a refusal (another failure, an unknown kind) reads as none.
    #[test]
    fn other_failure_messages_are_not_refusals() {
        for text in ["", "panicked", "unknown_kind: x", "invalid.: x", "invalid.a b: x", "not_pending:x"] {
            assert_eq!(Refusal::from_message(text), None, "{text:?}");
        }
    }
}
