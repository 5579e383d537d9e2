//! Thin adapters from the workflow to the world. Activity names are seed 001's (`terraform_init`,
//! `terraform_plan`, `policy_check`, …) so histories read the same whichever driver ran.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use temporalio_macros::activities;
use temporalio_sdk::activities::{ActivityContext, ActivityError};
use tokio::sync::{mpsc, watch};

use crate::error::{self, failure};
use crate::iac::{
    self, ChangeSummary, Driver, DriverConfig, Outputs, PlanArtifact, Progress, ResourceEvent, Workspace,
};
use crate::lock::{LockRequest, LockState, WorkspaceLockWorkflow};
use crate::model::ProvisionRequest;
use crate::notify::{Notification, NotifyConfig};
use crate::policy::{PolicyBundle, PolicyResult};
use crate::workspace;

/// Worker-side configuration shared by every activity.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Every IaC directory and policy bundle must resolve inside this root.
    pub iac_root: PathBuf,
    /// Binaries and the data directory.
    pub drivers: DriverConfig,
    /// Seed 001's "bug in code": plan fails retryably while this is on (recoverable-failure scenario).
    pub inject_plan_bug: bool,
    /// Where approval notifications go; none: they are not sent.
    pub notify: Option<NotifyConfig>,
}

/// Input of `terraform_apply`: the run and exactly the plan that was approved.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApplyInput {
    /// The run's request.
    pub request: ProvisionRequest,
    /// The saved plan (file bytes and the hash the approval was bound to).
    pub plan: PlanArtifact,
    /// The hash the workflow approved; apply refuses a plan whose bytes hash differently.
    pub approved_hash: String,
}

/// Input of `policy_check`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PolicyInput {
    /// Policy bundle directory (inside the IaC root); the built-in bundle when `None`.
    pub policy: Option<String>,
    /// The plan document (`terraform show -json`).
    pub plan: serde_json::Value,
}

/// Result of `terraform_apply` / `terraform_destroy`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ChangeReport {
    /// Counts of what changed.
    pub changes: ChangeSummary,
    /// Resource-level events, in order.
    pub events: Vec<ResourceEvent>,
}

/// Heartbeat details of apply / destroy: the resource events so far.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ApplyHeartbeat {
    /// Events reported so far in this attempt.
    pub events: Vec<ResourceEvent>,
}

/// The provisioning activities.
#[derive(Debug)]
pub struct ProvisionActivities {
    config: WorkerConfig,
}

impl ProvisionActivities {
    /// Activities over `config`.
    pub fn new(config: WorkerConfig) -> Self {
        Self { config }
    }

    fn workspace(
        &self,
        ctx: &ActivityContext,
        request: &ProvisionRequest,
    ) -> Result<(Driver, Workspace), ActivityError> {
        let dir = workspace::resolve(&self.config.iac_root, &request.directory).map_err(error::from_iac)?;
        let info = ctx.info();
        let owner = format!(
            "{}/{}",
            info.workflow_id.as_deref().unwrap_or("standalone"),
            info.workflow_run_id.as_deref().unwrap_or("-")
        );
        let driver = Driver::new(request.driver, &self.config.drivers, request.sim);
        Ok((driver, Workspace { dir, env: request.env_vars.clone(), vars: request.vars.clone(), owner }))
    }
}

#[activities]
impl ProvisionActivities {
    /// Prepares the workspace (`terraform init`).
    #[activity(name = "terraform_init")]
    pub async fn terraform_init(
        self: Arc<Self>,
        ctx: ActivityContext,
        request: ProvisionRequest,
    ) -> Result<(), ActivityError> {
        let (driver, ws) = self.workspace(&ctx, &request)?;
        with_liveness_heartbeats(&ctx, driver.init(&ws)).await.map_err(error::from_iac)
    }

    /// Computes and saves a plan.
    #[activity(name = "terraform_plan")]
    pub async fn terraform_plan(
        self: Arc<Self>,
        ctx: ActivityContext,
        request: ProvisionRequest,
    ) -> Result<PlanArtifact, ActivityError> {
        if self.config.inject_plan_bug {
            // Seed 001's recoverable-failure scenario: a worker started with the "bug" switch fails
            // here on every attempt; a worker restarted without it lets the same run continue.
            return Err(failure(
                error::RECOVERABLE,
                "injected bug in terraform_plan (worker started with --inject-plan-bug)",
            ));
        }
        let (driver, ws) = self.workspace(&ctx, &request)?;
        let plan = async {
            driver.init(&ws).await?;
            driver.plan(&ws).await
        };
        with_liveness_heartbeats(&ctx, plan).await.map_err(error::from_iac)
    }

    /// Evaluates the policy bundle on the plan.
    #[activity(name = "policy_check")]
    pub async fn policy_check(
        self: Arc<Self>,
        _ctx: ActivityContext,
        input: PolicyInput,
    ) -> Result<Vec<PolicyResult>, ActivityError> {
        let bundle = match &input.policy {
            None => PolicyBundle::default_bundle(),
            Some(dir) => {
                let dir = workspace::resolve(&self.config.iac_root, dir).map_err(error::from_iac)?;
                PolicyBundle::load(&dir).map_err(error::from_policy)?
            }
        };
        bundle.evaluate(&input.plan).map_err(error::from_policy)
    }

    /// POSTs an approval notification to the worker's webhook; `false` when none is configured.
    #[activity(name = "notify_webhook")]
    pub async fn notify_webhook(
        self: Arc<Self>,
        _ctx: ActivityContext,
        notification: Notification,
    ) -> Result<bool, ActivityError> {
        let Some(notify) = &self.config.notify else { return Ok(false) };
        notify.send(&notification).await?;
        Ok(true)
    }

    /// Applies exactly the approved saved plan, heartbeating resource progress.
    #[activity(name = "terraform_apply")]
    pub async fn terraform_apply(
        self: Arc<Self>,
        ctx: ActivityContext,
        input: ApplyInput,
    ) -> Result<ChangeReport, ActivityError> {
        if input.request.simulate_api_failure && ctx.info().attempt < 5 {
            return Err(failure(error::API_FAILURE, "Terraform cannot reach the API"));
        }
        if iac::sha256_hex(&input.plan.file) != input.approved_hash {
            return Err(failure(error::PLAN_HASH_MISMATCH, "the plan offered for apply is not the approved plan"));
        }
        let (driver, ws) = self.workspace(&ctx, &input.request)?;
        driver.init(&ws).await.map_err(error::from_iac)?;
        let plan_file = input.plan.file;
        run_with_heartbeats(&ctx, move |progress| async move { driver.apply(&ws, &plan_file, progress).await })
            .await
            .map_err(error::from_iac)
    }

    /// Destroys everything the workspace manages, heartbeating resource progress.
    #[activity(name = "terraform_destroy")]
    pub async fn terraform_destroy(
        self: Arc<Self>,
        ctx: ActivityContext,
        request: ProvisionRequest,
    ) -> Result<ChangeReport, ActivityError> {
        let (driver, ws) = self.workspace(&ctx, &request)?;
        driver.init(&ws).await.map_err(error::from_iac)?;
        run_with_heartbeats(&ctx, move |progress| async move { driver.destroy(&ws, progress).await })
            .await
            .map_err(error::from_iac)
    }

    /// Queues this run for the workspace's lock (signal-with-start of the lock workflow on this
    /// task queue); returns the lock's workflow id. The grant arrives later as a signal.
    #[activity(name = "request_workspace_lock")]
    pub async fn request_workspace_lock(
        self: Arc<Self>,
        ctx: ActivityContext,
        request: ProvisionRequest,
    ) -> Result<String, ActivityError> {
        let dir = workspace::resolve(&self.config.iac_root, &request.directory).map_err(error::from_iac)?;
        let lock_id = format!("workspace-lock-{}", &iac::sha256_hex(dir.to_string_lossy().as_bytes())[..16]);
        let info = ctx.info();
        let requester = info.workflow_id.clone().unwrap_or_default();
        let options = temporalio_client::WorkflowStartOptions::new(info.task_queue.clone(), lock_id.clone()).build();
        let initial = LockState { directory: dir.display().to_string(), ..LockState::default() };
        ctx.client()
            .signal_with_start_workflow(
                WorkspaceLockWorkflow::run,
                initial,
                WorkspaceLockWorkflow::acquire_workspace,
                LockRequest { requester },
                options,
            )
            .await
            .map_err(|e| failure(error::WORKSPACE_LOCKED, format!("could not queue for the workspace lock: {e}")))?;
        Ok(lock_id)
    }

    /// Whether a workflow is still running (the lock's check on its holder).
    #[activity(name = "check_run_open")]
    pub async fn check_run_open(
        self: Arc<Self>,
        ctx: ActivityContext,
        workflow_id: String,
    ) -> Result<bool, ActivityError> {
        let handle = ctx.client().get_workflow_handle::<crate::workflows::ProvisionInfraWorkflow>(workflow_id);
        match handle.describe(temporalio_client::WorkflowDescribeOptions::default()).await {
            Ok(description) => Ok(description.status() == temporalio_client::WorkflowExecutionStatus::Running),
            Err(e) if e.to_string().to_lowercase().contains("not found") => Ok(false),
            Err(e) => Err(failure(error::IAC_FAILED, format!("describing {e}"))),
        }
    }

    /// Reads the outputs (sensitive values included: they are masked before anything shows them).
    #[activity(name = "terraform_output")]
    pub async fn terraform_output(
        self: Arc<Self>,
        ctx: ActivityContext,
        request: ProvisionRequest,
    ) -> Result<Outputs, ActivityError> {
        let (driver, ws) = self.workspace(&ctx, &request)?;
        driver.output(&ws).await.map_err(error::from_iac)
    }
}

/// Runs a driver step that reports no progress (init, plan), heartbeating every second, so a
/// worker lost mid-step is noticed within the heartbeat timeout rather than the step's whole
/// start-to-close timeout. Cancellation is not forwarded: the step ends on its own.
async fn with_liveness_heartbeats<T>(ctx: &ActivityContext, step: impl std::future::Future<Output = T>) -> T {
    tokio::pin!(step);
    let mut ticker = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            result = &mut step => return result,
            _ = ticker.tick() => {
                let _ = ctx.record_heartbeat(()).await;
            }
        }
    }
}

/// Runs a long driver operation, heartbeating its resource events every second
/// ([`ApplyHeartbeat`]) and forwarding the activity's cancellation to the driver (which interrupts
/// the tool and lets it save state). The driver's error is returned as it is: each activity maps it
/// to its own failure types.
pub(crate) async fn run_with_heartbeats<F, Fut>(
    ctx: &ActivityContext,
    operation: F,
) -> Result<ChangeReport, iac::IacError>
where
    F: FnOnce(Progress) -> Fut,
    Fut: std::future::Future<Output = Result<ChangeSummary, iac::IacError>>,
{
    let (events_tx, mut events_rx) = mpsc::unbounded_channel();
    let (cancel_tx, cancel_rx) = watch::channel(false);
    let work = operation(Progress { events: events_tx, cancel: cancel_rx });
    tokio::pin!(work);
    let mut events = Vec::new();
    let mut ticker = tokio::time::interval(Duration::from_secs(1));
    let result = loop {
        tokio::select! {
            result = &mut work => break result,
            Some(event) = events_rx.recv() => events.push(event),
            _ = ctx.cancelled(), if !*cancel_tx.borrow() => {
                let _ = cancel_tx.send(true);
            }
            _ = ticker.tick() => {
                let _ = ctx.record_heartbeat(ApplyHeartbeat { events: events.clone() }).await;
            }
        }
    };
    while let Ok(event) = events_rx.try_recv() {
        events.push(event);
    }
    Ok(ChangeReport { changes: result?, events })
}
