//! Everything that crosses the Temporal boundary for lifecycle actions: named structs, outcomes as
//! values, fixed wire names.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::intent::{DigRef, HookIntent, HookType};
use crate::spec::WfTemporalSpec;

/// The task queue of the lifecycle workflows and their activities.
pub const TASK_QUEUE: &str = "ordo-hooks";
/// The task queue of the reference migration workflow.
pub const MIGRATE_TASK_QUEUE: &str = "ordo-hooks-migrate";
/// The lifecycle workflow's type.
pub const LIFECYCLE_WORKFLOW: &str = "HookLifecycle";
/// The reference migration workflow's type.
pub const MIGRATE_WORKFLOW: &str = "MigrateApp";
/// The `activityParams` entry the lifecycle fills in (the seed's README).
pub const EMCO_PARAMS: &str = "emco";
/// The most hooks one lifecycle action runs (before and after together).
pub const MAX_HOOKS: usize = 100;

/// A lifecycle action on a DIG.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LifecycleAction {
    /// Instantiate: pre-install hooks, the action, post-install hooks.
    Instantiate,
    /// Update: pre-update, the action, post-update.
    Update,
    /// Terminate: pre-termination, the action, post-termination.
    Terminate,
}

impl LifecycleAction {
    /// The hooks that run before the action.
    pub fn pre_hook(self) -> HookType {
        match self {
            Self::Instantiate => HookType::PreInstall,
            Self::Update => HookType::PreUpdate,
            Self::Terminate => HookType::PreTermination,
        }
    }

    /// The hooks that run after it.
    pub fn post_hook(self) -> HookType {
        match self {
            Self::Instantiate => HookType::PostInstall,
            Self::Update => HookType::PostUpdate,
            Self::Terminate => HookType::PostTermination,
        }
    }

    /// The DIG state the action leaves.
    pub fn resulting_state(self) -> &'static str {
        match self {
            Self::Instantiate => "Instantiated",
            Self::Update => "Updated",
            Self::Terminate => "Terminated",
        }
    }

    /// `instantiate`, `update`, `terminate`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Instantiate => "instantiate",
            Self::Update => "update",
            Self::Terminate => "terminate",
        }
    }
}

/// One hook as the lifecycle runs it: the intent's spec, parsed when the action was requested.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HookCall {
    /// The intent's name.
    pub intent: String,
    /// Its hook type.
    pub hook_type: HookType,
    /// Whether the action waits for the hook's workflow.
    pub blocking: bool,
    /// How long it waits, when blocking.
    pub blocking_timeout: Duration,
    /// What to start.
    pub spec: WfTemporalSpec,
    /// The workers (TAC's `workers` of the intent) that must be ready before the hook starts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub workers: Vec<WorkerCheck>,
}

/// A worker a hook needs: ready once its task queue has a live poller, awaited until its timeout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkerCheck {
    /// The worker intent's name.
    pub name: String,
    /// The task queue whose pollers make it ready.
    pub task_queue: String,
    /// How long readiness is awaited (its `startToCloseTimeout`), in milliseconds.
    pub timeout_ms: u64,
}

impl HookCall {
    /// The call for a stored intent (its spec parsed again: it was validated on the way in).
    pub fn from_intent(intent: &HookIntent) -> Result<Self, ordo_core::RequestError> {
        Ok(Self {
            intent: intent.name().to_owned(),
            hook_type: intent.spec.hook_type,
            blocking: intent.spec.hook_blocking,
            blocking_timeout: intent.blocking_timeout(),
            spec: intent.temporal()?,
            workers: Vec::new(),
        })
    }
}

/// The input of `HookLifecycle`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LifecycleRequest {
    /// The DIG acted on.
    pub dig: DigRef,
    /// The action.
    pub action: LifecycleAction,
    /// The app context this action creates (EMCO's `appcontextId`).
    pub app_context_id: String,
    /// The `emcoURL` hooks are told to call back (Ordo's API).
    pub emco_url: String,
    /// The pre hooks, in order.
    pub pre: Vec<HookCall>,
    /// The post hooks, in order.
    pub post: Vec<HookCall>,
}

impl LifecycleRequest {
    /// The `activityParams.emco` section every hook of this action receives.
    pub fn emco_params(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("emcoURL".to_owned(), self.emco_url.clone()),
            ("project".to_owned(), self.dig.project.clone()),
            ("compositeApp".to_owned(), self.dig.composite_app.clone()),
            ("compositeAppVersion".to_owned(), self.dig.composite_app_version.clone()),
            ("deploymentIntentGroup".to_owned(), self.dig.deployment_intent_group.clone()),
            ("appcontextId".to_owned(), self.app_context_id.clone()),
        ])
    }
}

/// What became of one hook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "status")]
pub enum HookOutcome {
    /// Started; a non-blocking hook is done here.
    Started,
    /// A blocking hook's workflow completed.
    Completed,
    /// A blocking hook's workflow failed, was cancelled or terminated, or timed out on its own.
    Failed {
        /// Why.
        reason: String,
    },
    /// A blocking hook's workflow did not finish within `hookBlockingTimeout`.
    TimedOut {
        /// The timeout, in milliseconds.
        timeout_ms: u64,
    },
    /// It could not be started.
    NotStarted {
        /// Why.
        reason: String,
    },
}

impl HookOutcome {
    /// Whether the lifecycle may go on after it.
    pub fn is_ok(&self) -> bool {
        matches!(self, HookOutcome::Started | HookOutcome::Completed)
    }
}

/// One hook's record in a lifecycle action's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HookRecord {
    /// The intent.
    pub intent: String,
    /// Its hook type.
    pub hook_type: HookType,
    /// Whether the action waited for it.
    pub blocking: bool,
    /// Its workflow, once started.
    pub workflow_id: Option<String>,
    /// Its run, once started.
    pub run_id: Option<String>,
    /// What became of it.
    pub outcome: HookOutcome,
}

/// How a lifecycle action ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "status")]
pub enum LifecycleOutcome {
    /// Every hook and the action succeeded.
    Succeeded,
    /// A hook or the action failed; later steps did not run.
    Failed {
        /// Which step failed and why.
        reason: String,
    },
}

/// A lifecycle action's history: the `history` query and the workflow's result.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LifecycleState {
    /// `pre-hooks`, `action`, `post-hooks`, `done`.
    pub phase: String,
    /// The hooks run so far, in order.
    pub hooks: Vec<HookRecord>,
    /// Whether the action itself was applied.
    pub action_applied: bool,
    /// Set when the action is over.
    pub outcome: Option<LifecycleOutcome>,
}

/// Input of `start_hook`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartHookRequest {
    /// The intent (for logs).
    pub intent: String,
    /// What to start, `emco` already filled in.
    pub spec: WfTemporalSpec,
}

/// Output of `start_hook`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "status")]
pub enum StartHookResult {
    /// Started (or already running, without error-when-already-started).
    Started {
        /// The workflow.
        workflow_id: String,
        /// Its run.
        run_id: String,
    },
    /// Refused by Temporal (id taken, unknown namespace…): retrying would not help.
    Rejected {
        /// Why.
        reason: String,
    },
}

/// Input of `await_hook`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AwaitHookRequest {
    /// The workflow.
    pub workflow_id: String,
    /// Its run.
    pub run_id: String,
    /// When to give up, in milliseconds since the Unix epoch (absolute, so a retried attempt does
    /// not wait the whole timeout again).
    pub deadline_ms: u64,
    /// The timeout the deadline came from, for the outcome.
    pub timeout_ms: u64,
}

/// Input of `apply_lifecycle_action`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplyActionRequest {
    /// The DIG.
    pub dig: DigRef,
    /// The action.
    pub action: LifecycleAction,
    /// Its app context.
    pub app_context_id: String,
}

/// Output of `apply_lifecycle_action`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplyActionResult {
    /// The DIG's state now.
    pub state: String,
}

/// The lifecycle workflow id of an action: business-keyed, one per app context.
pub fn lifecycle_workflow_id(dig: &DigRef, action: LifecycleAction, app_context_id: &str) -> String {
    format!("{}{}/{app_context_id}", lifecycle_id_prefix(dig), action.as_str())
}

/// The prefix every lifecycle workflow id of `dig` starts with.
pub fn lifecycle_id_prefix(dig: &DigRef) -> String {
    format!("hooks-lifecycle/{}/", dig.key())
}
