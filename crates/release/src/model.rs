//! Everything that crosses the Temporal boundary. `ReleaseInfo` and `DeployInfo` are seed 003's
//! dataclasses (snake_case JSON, so the seed's own starter works against Ordo); what Ordo adds is
//! optional, so a seed-shaped payload is a complete request.

use serde::{Deserialize, Serialize};

/// The task queue (seed 003's).
pub const TASK_QUEUE: &str = "release-task-queue";
/// The parent workflow's type.
pub const RELEASE_WORKFLOW: &str = "ReleaseWorkflow";
/// The child workflow's type.
pub const DEPLOY_WORKFLOW: &str = "DeployWorkflow";
/// `releaseKey` search attribute (Keyword), on the release and its deploys.
pub const RELEASE_KEY_ATTRIBUTE: &str = "releaseKey";
/// `releaseEnvironment` search attribute (Keyword): the environment being released to.
pub const RELEASE_ENVIRONMENT_ATTRIBUTE: &str = "releaseEnvironment";

/// The parent's workflow id (seed 003's).
pub fn release_workflow_id(release_key: &str) -> String {
    format!("release-workflow:{release_key}")
}

/// A child's workflow id (seed 003's; the deploy key carries the release key).
pub fn deploy_workflow_id(deploy_key: &str) -> String {
    format!("deploy-workflow-{deploy_key}")
}

/// The environments, in promotion order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Environment {
    /// Development: where builds land first.
    #[serde(rename = "DEV")]
    Dev,
    /// Testing.
    #[serde(rename = "TEST")]
    Test,
    /// Quality control: the last stop before production.
    #[serde(rename = "QC")]
    Qc,
    /// Production.
    #[serde(rename = "PROD")]
    Prod,
}

impl Environment {
    /// All of them, in promotion order.
    pub const ALL: [Environment; 4] = [Environment::Dev, Environment::Test, Environment::Qc, Environment::Prod];

    /// The seed's name (`DEV`, `TEST`, `QC`, `PROD`).
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Dev => "DEV",
            Environment::Test => "TEST",
            Environment::Qc => "QC",
            Environment::Prod => "PROD",
        }
    }

    /// Parses a seed name (exact, upper case).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == name)
    }
}

impl std::fmt::Display for Environment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What happens to deploys that are not approved (seed 003's `config_unapproved_deploys_behavior`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnapprovedBehavior {
    /// Release what is approved; the others are skipped (the seed's default, which it logged but
    /// did not do).
    #[default]
    ReleaseApproved,
    /// Stop the release before anything is deployed.
    Stop,
    /// Wait for each unapproved deploy to be approved (update `approve`), up to the deadline.
    Wait,
}

/// What a deploy to DEV plus other environments does (seed 003's `config_dev_deploy_behavior`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DevDeployBehavior {
    /// Allowed (the seed's default).
    #[default]
    Allow,
    /// Allowed, with a warning in the release's notes.
    Warn,
    /// A deploy to DEV must go to DEV only: anything else is rejected (rule `dev-only`).
    OnlyDev,
}

/// Error injection and timings of the steps (the seed's 10 / 30 / 60 % knobs).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepKnobs {
    /// Chance, in percent (0..=90), that each step attempt fails; `None`: the worker's setting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_rate: Option<u8>,
    /// First retry interval in ms (10..=60000; default 1000); retries back off to 5×.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_initial_ms: Option<u64>,
    /// Start-to-close timeout of one step attempt in seconds (1..=3600; default 30): a worker lost
    /// mid-step is noticed after this long.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_timeout_secs: Option<u64>,
}

/// A UTC time-of-day window, `HH:MM`–`HH:MM` (may wrap midnight).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UtcWindow {
    /// Opens at (`HH:MM`, UTC).
    pub from: String,
    /// Closes at (`HH:MM`, UTC, exclusive).
    pub to: String,
}

/// The gate before PROD.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromotionGate {
    /// PROD waits for a gate decision (update `decide_gate`) until the approval deadline.
    #[serde(default)]
    pub approval: bool,
    /// PROD starts only inside this UTC window (waits for it to open).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<UtcWindow>,
}

/// One thing to deploy (seed 003's `DeployInfo`, plus Ordo's step knobs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployInfo {
    /// Unique key, by convention `<release_key>:<name>`.
    pub deploy_key: String,
    /// The container (artifact name).
    pub container_id: String,
    /// The version to deploy.
    pub container_version: String,
    /// Where its source and config live.
    #[serde(default)]
    pub git_url: String,
    /// Approved for release.
    #[serde(default)]
    pub approved: bool,
    /// By whom.
    #[serde(default)]
    pub approved_by: String,
    /// Environments, any order; deployed in promotion order.
    #[serde(default)]
    pub envs: Vec<String>,
    /// The release it belongs to.
    #[serde(default)]
    pub release_key: String,
    /// Ordo: error injection and timings (the parent passes its own down).
    #[serde(flatten)]
    pub knobs: StepKnobs,
}

/// A release (seed 003's `ReleaseInfo`, plus Ordo's options, all optional).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseInfo {
    /// The release's key (the workflow id is `release-workflow:<key>`).
    pub release_key: String,
    /// Planned date (informational).
    #[serde(default)]
    pub release_date: String,
    /// The release itself is approved; if not, it waits for an `approve` update.
    #[serde(default)]
    pub approved: bool,
    /// By whom.
    #[serde(default)]
    pub approved_by: String,
    /// What to deploy; empty: collected from the catalogue by release key, as the seed does.
    #[serde(default)]
    pub deploys: Vec<DeployInfo>,
    /// Ordo: what happens to unapproved deploys.
    #[serde(default)]
    pub unapproved_deploys_behavior: UnapprovedBehavior,
    /// Ordo: the DEV rule.
    #[serde(default)]
    pub dev_deploy_behavior: DevDeployBehavior,
    /// Ordo: who may approve (empty: anyone named).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub approvers: Vec<String>,
    /// Ordo: how long each approval (release, deploys, gate) may take, in seconds (1..=2592000;
    /// default one day).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_timeout_secs: Option<u64>,
    /// Ordo: the gate before PROD.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promotion_gate: Option<PromotionGate>,
    /// Ordo: error injection and timings of every step.
    #[serde(flatten)]
    pub knobs: StepKnobs,
}

impl ReleaseInfo {
    /// A seed-shaped release: collected from the catalogue, approved.
    pub fn from_catalogue(release_key: &str) -> Self {
        Self {
            release_key: release_key.to_owned(),
            release_date: String::new(),
            approved: true,
            approved_by: String::new(),
            deploys: Vec::new(),
            unapproved_deploys_behavior: UnapprovedBehavior::default(),
            dev_deploy_behavior: DevDeployBehavior::default(),
            approvers: Vec::new(),
            approval_timeout_secs: None,
            promotion_gate: None,
            knobs: StepKnobs::default(),
        }
    }
}

/// A rule a release broke: the outcome "rejected", named.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    /// The rule (`no-environments`, `prod-without-qc`, `dev-only`, …).
    pub rule: String,
    /// The field at fault (`deploys[1].envs`, …).
    pub field: String,
    /// Why, for people.
    pub message: String,
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}: {}", self.rule, self.field, self.message)
    }
}

/// A cell of the deploys × environments matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CellState {
    /// Not started.
    Pending,
    /// Waiting for the deploy's approval.
    WaitingForApproval,
    /// The artifact is being built.
    Building,
    /// Being deployed (artifact, config).
    Deploying,
    /// Being verified.
    Verifying,
    /// Deployed and verified.
    Done,
    /// Failed.
    Failed,
    /// Verification failed (or the release was aborted) and the environment was put back.
    RolledBack,
    /// Not deployed (unapproved, or the promotion stopped before it).
    Skipped,
}

/// One cell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cell {
    /// The deploy.
    pub deploy_key: String,
    /// The environment.
    pub env: Environment,
    /// Its state.
    pub state: CellState,
    /// What happened, when there is something to say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Release statuses.
pub mod status {
    /// Collecting deploys from the catalogue.
    pub const COLLECTING: &str = "collecting";
    /// Waiting for the release's approval.
    pub const WAITING_FOR_RELEASE_APPROVAL: &str = "waiting_for_release_approval";
    /// Waiting for deploys' approval.
    pub const WAITING_FOR_DEPLOY_APPROVAL: &str = "waiting_for_deploy_approval";
    /// Deploying to `current_env`.
    pub const DEPLOYING: &str = "deploying";
    /// Paused between environments.
    pub const PAUSED: &str = "paused";
    /// Waiting for the gate decision before PROD.
    pub const WAITING_FOR_GATE: &str = "waiting_for_gate";
    /// Waiting for the gate's UTC window to open.
    pub const WAITING_FOR_WINDOW: &str = "waiting_for_window";
    /// Every approved deploy reached every environment.
    pub const SUCCEEDED: &str = "succeeded";
    /// A rule rejected it before anything was deployed.
    pub const REJECTED: &str = "rejected";
    /// Stopped on approvals (refused, expired, unapproved with `stop`).
    pub const HALTED: &str = "halted";
    /// A verification failed; that environment was rolled back and the promotion stopped.
    pub const ROLLED_BACK: &str = "rolled_back";
    /// Aborted; what was half-done was rolled back.
    pub const ABORTED: &str = "aborted";
}

/// A recorded approval or gate decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalRecord {
    /// `release`, `gate` or a deploy key.
    pub target: String,
    /// Approved (false: refused).
    pub approved: bool,
    /// Who.
    pub approver: String,
    /// Why.
    pub reason: String,
    /// When (workflow time, RFC 3339).
    pub at: Option<String>,
}

/// Everything a release knows (query `get_state`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseState {
    /// The release key.
    pub release_key: String,
    /// One of [`status`].
    pub status: String,
    /// The environments involved, in promotion order.
    pub environments: Vec<Environment>,
    /// The deploys (with their environments), as collected.
    pub deploys: Vec<DeployInfo>,
    /// The matrix.
    pub cells: Vec<Cell>,
    /// The environment being released to.
    pub current_env: Option<Environment>,
    /// Paused (takes effect between environments).
    pub paused: bool,
    /// What awaits approval: `release`, `gate` or deploy keys.
    pub pending: Vec<String>,
    /// Deadline of the current approval wait (RFC 3339).
    pub approval_deadline: Option<String>,
    /// Approvals and gate decisions, in order.
    pub approvals: Vec<ApprovalRecord>,
    /// When the release was rejected by a rule.
    pub rejection: Option<Rejection>,
    /// Notes (warnings, why it halted, stopped or was aborted).
    pub notes: Vec<String>,
    /// The result, once finished.
    pub result: Option<String>,
}

impl ReleaseState {
    /// The cell of `deploy_key` in `env`.
    pub fn cell(&self, deploy_key: &str, env: Environment) -> Option<&Cell> {
        self.cells.iter().find(|c| c.deploy_key == deploy_key && c.env == env)
    }

    /// Sets a cell's state (and detail).
    pub fn set_cell(&mut self, deploy_key: &str, env: Environment, state: CellState, detail: Option<String>) {
        if let Some(cell) = self.cells.iter_mut().find(|c| c.deploy_key == deploy_key && c.env == env) {
            cell.state = state;
            cell.detail = detail;
        }
    }
}

/// The deploys × environments matrix (query `get_matrix`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Matrix {
    /// The release.
    pub release_key: String,
    /// One of [`status`].
    pub status: String,
    /// Columns, in promotion order.
    pub environments: Vec<Environment>,
    /// Rows (deploy keys).
    pub deploys: Vec<String>,
    /// Cells (only where a deploy goes to an environment).
    pub cells: Vec<Cell>,
}

/// What a `DeployWorkflow` is doing (query `get_state`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployState {
    /// The deploy.
    pub deploy_key: String,
    /// The environment it is in.
    pub env: Option<Environment>,
    /// The step it is at.
    pub step: Option<CellState>,
    /// Per environment, as finished.
    pub outcomes: Vec<EnvOutcome>,
}

/// An approval (update `approve`) of the release or of one deploy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    /// `release` or a deploy key.
    pub target: String,
    /// Who approves (must be one of the release's approvers when it lists them).
    pub approver: String,
    /// Why (required).
    pub reason: String,
    /// Approve (default) or refuse.
    #[serde(default = "yes")]
    pub approved: bool,
}

fn yes() -> bool {
    true
}

/// A decision at the promotion gate before PROD (update `decide_gate`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateDecision {
    /// Who decides.
    pub approver: String,
    /// Why (required).
    pub reason: String,
    /// Promote (true) or stop before PROD.
    pub approved: bool,
}

/// `pause`, `resume` and `abort` carry who and why.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Control {
    /// Who.
    #[serde(default)]
    pub by: String,
    /// Why.
    #[serde(default)]
    pub reason: String,
}

/// A deploy's outcome in one environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvOutcome {
    /// The environment.
    pub env: Environment,
    /// `done`, `rolled_back` or `failed`.
    pub state: CellState,
    /// What happened.
    pub detail: String,
}

/// What a `DeployWorkflow` returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployResult {
    /// The deploy.
    pub deploy_key: String,
    /// The seed's `Deploy Success: <key>!`, or what went wrong.
    pub message: String,
    /// Per environment, in order.
    pub outcomes: Vec<EnvOutcome>,
    /// Rejected by a rule before anything was deployed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejection: Option<Rejection>,
}

/// Input of the step activities.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepInput {
    /// The release.
    pub release_key: String,
    /// The deploy.
    pub deploy_key: String,
    /// The container.
    pub container_id: String,
    /// Its version.
    pub container_version: String,
    /// Its source.
    pub git_url: String,
    /// The environment (`None` for the build).
    pub env: Option<Environment>,
    /// Injected failure chance, percent.
    pub error_rate: Option<u8>,
}

/// What a step did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepOutcome {
    /// False when validation found the effect already held, so nothing was done.
    pub acted: bool,
    /// The artifact's SHA-256.
    pub checksum: String,
    /// For a deploy: the version it replaced; for a rollback: the version restored.
    pub previous_version: Option<String>,
}

/// What verification found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    /// Checksum matches and the health probe passed.
    pub healthy: bool,
    /// What was checked, or what failed.
    pub detail: String,
}

/// Input of `collect_deploys`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectInput {
    /// The release key to look up.
    pub release_key: String,
    /// Injected failure chance, percent.
    pub error_rate: Option<u8>,
}

/// Output of `collect_deploys`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Collected {
    /// The deploys; `None`: the key is not in the catalogue.
    pub deploys: Option<Vec<DeployInfo>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The seed starter's payload (compact, sorted keys) parses as a complete request.
    #[test]
    fn seed_payload_parses() {
        let json = r#"{"approved":true,"approved_by":"Joshua Smith","deploys":[],"release_date":"2023-11-15","release_key":"RELEASE-NOV-23-INITIAL"}"#;
        let info: ReleaseInfo = serde_json::from_str(json).unwrap();
        assert_eq!(info.release_key, "RELEASE-NOV-23-INITIAL");
        assert_eq!(info.unapproved_deploys_behavior, UnapprovedBehavior::ReleaseApproved);
        assert_eq!(info.knobs, StepKnobs::default());
    }

    /// A seed-shaped deploy round-trips without Ordo's fields appearing.
    #[test]
    fn deploy_round_trips_in_seed_shape() {
        let json = r#"{"approved":true,"approved_by":"Bob Johnson","container_id":"sbstore","container_version":"1.7","deploy_key":"R:sbstore","envs":["PROD"],"git_url":"https://github.com/mybiz/sbstore.git","release_key":"R"}"#;
        let deploy: DeployInfo = serde_json::from_str(json).unwrap();
        let back: serde_json::Value = serde_json::to_value(&deploy).unwrap();
        assert_eq!(back, serde_json::from_str::<serde_json::Value>(json).unwrap());
    }
}
