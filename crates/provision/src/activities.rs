//! Thin adapters from the workflow to the world. Activity names are seed 001's (`terraform_init`,
//! `terraform_plan`, `policy_check`, …) so histories read the same whichever driver ran.

use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use temporalio_macros::activities;
use temporalio_sdk::activities::{ActivityContext, ActivityError};

use crate::error::{self, failure};
use ordo_iac::heartbeat::{run_with_heartbeats, with_liveness_heartbeats, ChangeReport};
use ordo_iac::{self, Driver, DriverConfig, Outputs, PlanArtifact, Workspace};

use crate::model::{ResourceChange, ToolStep};
use crate::notify::{Notification, NotifyConfig};
use crate::policy::{PolicyBundle, PolicyResult};
use ordo_iac::workspace;

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

/// Input of `terraform_plan`: the step, and whether to check the policy where the plan is.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlanInput {
    /// The workspace and tool. Flattened: runs before the `light-run` patch sent a whole request
    /// here, which reads as a step that checks no policy.
    #[serde(flatten)]
    pub step: ToolStep,
    /// Evaluate the policy bundle on the plan before returning it (the plan document then stays
    /// on the worker).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub check_policy: bool,
    /// Policy bundle directory (inside the IaC root); the built-in bundle when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
}

/// What `terraform_plan` returns: the saved plan and, when asked, its policy results and resource
/// changes (then without the plan document, which only they needed).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlanOutcome {
    /// The saved plan.
    #[serde(flatten)]
    pub plan: PlanArtifact,
    /// The policy bundle's results, when the policy was checked here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_results: Option<Vec<PolicyResult>>,
    /// The plan's resource changes, when the plan document stayed on the worker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_changes: Option<Vec<ResourceChange>>,
}

/// Input of `terraform_apply`: the step and exactly the plan that was approved.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApplyInput {
    /// The workspace and tool (runs before `light-run` sent the whole request: same names).
    pub request: ToolStep,
    /// The hash the workflow approved; apply refuses a plan whose bytes hash differently.
    pub approved_hash: String,
    /// The saved plan's bytes. Left out when the worker that planned keeps a copy; a worker
    /// without one fails with [`error::PLAN_NOT_LOCAL`] and the workflow sends the bytes.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "ordo_iac::b64::option")]
    pub file: Option<Vec<u8>>,
    /// The whole plan artifact, as runs before `light-run` sent it (only its file is read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<PlanArtifact>,
    /// Read the outputs once applied, in this activity (`apply-outputs`; earlier runs read them in
    /// `terraform_output`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub outputs: bool,
}

/// Result of `terraform_apply`: what changed and, when asked for, the outputs (sensitive values
/// masked). Without `outputs` it is exactly the [`ChangeReport`] earlier runs recorded.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApplyOutcome {
    /// What the apply changed.
    #[serde(flatten)]
    pub report: ChangeReport,
    /// The outputs, when the input asked for them and reading them worked; `None` tells the
    /// workflow to read them with `terraform_output` (never a reason to apply again).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outputs: Option<Outputs>,
}

/// Input of `policy_check` (runs before `light-run`; newer runs check the policy in `terraform_plan`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PolicyInput {
    /// Policy bundle directory (inside the IaC root); the built-in bundle when `None`.
    pub policy: Option<String>,
    /// The plan document (`terraform show -json`).
    pub plan: serde_json::Value,
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

    fn workspace(&self, ctx: &ActivityContext, request: &ToolStep) -> Result<(Driver, Workspace), ActivityError> {
        let dir = workspace::resolve(&self.config.iac_root, &request.directory).map_err(error::from_iac)?;
        let info = ctx.info();
        let owner = format!(
            "{}/{}",
            info.workflow_id.as_deref().unwrap_or("standalone"),
            info.workflow_run_id.as_deref().unwrap_or("-")
        );
        let driver = Driver::new(request.driver, &self.config.drivers, request.sim);
        let env = self.config.drivers.env.tool_env(&request.env_vars).map_err(error::from_iac)?;
        Ok((driver, Workspace { dir, env, vars: request.vars.clone(), owner }))
    }

    /// The policy bundle at `dir` (inside the IaC root), or the built-in one.
    fn policy(&self, dir: Option<&str>) -> Result<PolicyBundle, ActivityError> {
        match dir {
            None => Ok(PolicyBundle::default_bundle()),
            Some(dir) => {
                let dir = workspace::resolve(&self.config.iac_root, dir).map_err(error::from_iac)?;
                PolicyBundle::load(&dir).map_err(error::from_policy)
            }
        }
    }

    fn plans(&self) -> PlanCache {
        PlanCache { dir: self.config.drivers.data_dir.join("plans") }
    }
}

/// Saved plans this worker made, by hash, so an apply on the same worker needs no bytes from
/// history. Best effort: a plan that cannot be kept is sent by the workflow instead.
struct PlanCache {
    dir: PathBuf,
}

impl PlanCache {
    /// A kept plan older than this was never applied (rejected, expired, abandoned): dropped.
    const MAX_AGE: std::time::Duration =
        std::time::Duration::from_secs(crate::model::limits::MAX_APPROVAL_TIMEOUT_SECS + 24 * 3600);

    fn path(&self, hash: &str) -> Option<PathBuf> {
        // A hash is 64 hex digits; anything else never names a file.
        (hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit())).then(|| self.dir.join(hash))
    }

    async fn keep(&self, hash: &str, file: &[u8]) {
        let Some(path) = self.path(hash) else { return };
        let kept = async {
            tokio::fs::create_dir_all(&self.dir).await?;
            let partial = self.dir.join(format!(".{hash}.{}", uuid::Uuid::new_v4().simple()));
            tokio::fs::write(&partial, file).await?;
            tokio::fs::rename(&partial, &path).await
        };
        if let Err(e) = kept.await {
            tracing::warn!(error = %e, "could not keep the plan on this worker; the apply will carry it");
        }
        self.prune().await;
    }

    /// The kept plan with this hash, if this worker has it intact.
    async fn take(&self, hash: &str) -> Option<Vec<u8>> {
        let bytes = tokio::fs::read(self.path(hash)?).await.ok()?;
        (ordo_iac::sha256_hex(&bytes) == hash).then_some(bytes)
    }

    async fn forget(&self, hash: &str) {
        if let Some(path) = self.path(hash) {
            let _ = tokio::fs::remove_file(path).await;
        }
    }

    /// Drops kept plans older than [`Self::MAX_AGE`] (at most once an hour per worker process).
    async fn prune(&self) {
        static LAST_PRUNE_SECS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let last = LAST_PRUNE_SECS.load(std::sync::atomic::Ordering::Relaxed);
        if now.saturating_sub(last) < 3600
            || LAST_PRUNE_SECS
                .compare_exchange(last, now, std::sync::atomic::Ordering::Relaxed, std::sync::atomic::Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        let Ok(mut entries) = tokio::fs::read_dir(&self.dir).await else { return };
        while let Ok(Some(entry)) = entries.next_entry().await {
            let old = entry
                .metadata()
                .await
                .and_then(|m| m.modified())
                .is_ok_and(|at| at.elapsed().is_ok_and(|age| age > Self::MAX_AGE));
            if old {
                let _ = tokio::fs::remove_file(entry.path()).await;
            }
        }
    }
}

#[activities]
impl ProvisionActivities {
    /// Prepares the workspace (`terraform init`).
    #[activity(name = "terraform_init")]
    #[tracing::instrument(name = "terraform_init", skip_all, fields(workflow_id = ctx.info().workflow_id.as_deref(), attempt = ctx.info().attempt))]
    pub async fn terraform_init(self: Arc<Self>, ctx: ActivityContext, request: ToolStep) -> Result<(), ActivityError> {
        let (driver, ws) = self.workspace(&ctx, &request)?;
        with_liveness_heartbeats(&ctx, driver.init(&ws)).await.map_err(error::from_iac)
    }

    /// Computes and saves a plan; with `check_policy`, also evaluates the policy bundle on it and
    /// keeps the plan's bytes on this worker for the apply.
    #[activity(name = "terraform_plan")]
    #[tracing::instrument(name = "terraform_plan", skip_all, fields(workflow_id = ctx.info().workflow_id.as_deref(), attempt = ctx.info().attempt))]
    pub async fn terraform_plan(
        self: Arc<Self>,
        ctx: ActivityContext,
        input: PlanInput,
    ) -> Result<PlanOutcome, ActivityError> {
        if self.config.inject_plan_bug {
            // Seed 001's recoverable-failure scenario: a worker started with the "bug" switch fails
            // here on every attempt; a worker restarted without it lets the same run continue.
            return Err(failure(
                error::RECOVERABLE,
                "injected bug in terraform_plan (worker started with --inject-plan-bug)",
            ));
        }
        let (driver, ws) = self.workspace(&ctx, &input.step)?;
        let plan = async {
            driver.init(&ws).await?;
            driver.plan(&ws).await
        };
        let mut plan = with_liveness_heartbeats(&ctx, plan).await.map_err(error::from_iac)?;
        if !input.check_policy {
            return Ok(PlanOutcome { plan, policy_results: None, resource_changes: None });
        }
        let results = self.policy(input.policy.as_deref())?.evaluate(&plan.json).map_err(error::from_policy)?;
        let changes = ResourceChange::from_plan(&plan.json);
        plan.json = serde_json::Value::Null;
        self.plans().keep(&plan.hash, &plan.file).await;
        Ok(PlanOutcome { plan, policy_results: Some(results), resource_changes: Some(changes) })
    }

    /// Evaluates the policy bundle on the plan.
    #[activity(name = "policy_check")]
    #[tracing::instrument(name = "policy_check", skip_all, fields(workflow_id = ctx.info().workflow_id.as_deref(), attempt = ctx.info().attempt))]
    pub async fn policy_check(
        self: Arc<Self>,
        ctx: ActivityContext,
        input: PolicyInput,
    ) -> Result<Vec<PolicyResult>, ActivityError> {
        self.policy(input.policy.as_deref())?.evaluate(&input.plan).map_err(error::from_policy)
    }

    /// POSTs an approval notification to the worker's webhook; `false` when none is configured.
    #[activity(name = "notify_webhook")]
    #[tracing::instrument(name = "notify_webhook", skip_all, fields(workflow_id = ctx.info().workflow_id.as_deref(), attempt = ctx.info().attempt))]
    pub async fn notify_webhook(
        self: Arc<Self>,
        ctx: ActivityContext,
        notification: Notification,
    ) -> Result<bool, ActivityError> {
        let Some(notify) = &self.config.notify else { return Ok(false) };
        notify.send(&notification).await?;
        Ok(true)
    }

    /// Applies exactly the approved saved plan, heartbeating resource progress.
    #[activity(name = "terraform_apply")]
    #[tracing::instrument(name = "terraform_apply", skip_all, fields(workflow_id = ctx.info().workflow_id.as_deref(), attempt = ctx.info().attempt))]
    pub async fn terraform_apply(
        self: Arc<Self>,
        ctx: ActivityContext,
        input: ApplyInput,
    ) -> Result<ApplyOutcome, ActivityError> {
        if input.request.simulate_api_failure && ctx.info().attempt < 5 {
            return Err(failure(error::API_FAILURE, "Terraform cannot reach the API"));
        }
        let plans = self.plans();
        let plan_file = match input.file.or(input.plan.map(|p| p.file)) {
            Some(file) => file,
            None => plans.take(&input.approved_hash).await.ok_or_else(|| {
                failure(error::PLAN_NOT_LOCAL, "this worker does not hold the approved plan; send its bytes")
            })?,
        };
        if ordo_iac::sha256_hex(&plan_file) != input.approved_hash {
            return Err(failure(error::PLAN_HASH_MISMATCH, "the plan offered for apply is not the approved plan"));
        }
        let (driver, ws) = self.workspace(&ctx, &input.request)?;
        driver.init(&ws).await.map_err(error::from_iac)?;
        let applied =
            run_with_heartbeats(&ctx, move |progress| async move { driver.apply(&ws, &plan_file, progress).await })
                .await;
        if matches!(&applied, Ok(_) | Err(ordo_iac::IacError::StalePlan(_))) {
            // Applied or stale: nobody will apply this plan again.
            plans.forget(&input.approved_hash).await;
        }
        let report = applied.map_err(error::from_iac)?;
        let outputs = match input.outputs {
            // The apply is done: a failure to read the outputs must not fail (and so retry) it.
            true => self.read_outputs(&ctx, &input.request).await.map(Some).inspect_err(|e| {
                tracing::warn!(error = ?e, "reading the outputs after apply failed; the workflow reads them again");
            }),
            false => Ok(None),
        };
        Ok(ApplyOutcome { report, outputs: outputs.ok().flatten() })
    }

    /// The workspace's outputs, sensitive values masked (before they enter history: the Temporal
    /// Web UI and `temporal workflow show` print activity results as they are).
    async fn read_outputs(&self, ctx: &ActivityContext, step: &ToolStep) -> Result<Outputs, ActivityError> {
        let (driver, ws) = self.workspace(ctx, step)?;
        driver.output(&ws).await.map(|outputs| ordo_iac::mask_outputs(&outputs)).map_err(error::from_iac)
    }

    /// Destroys everything the workspace manages, heartbeating resource progress.
    #[activity(name = "terraform_destroy")]
    #[tracing::instrument(name = "terraform_destroy", skip_all, fields(workflow_id = ctx.info().workflow_id.as_deref(), attempt = ctx.info().attempt))]
    pub async fn terraform_destroy(
        self: Arc<Self>,
        ctx: ActivityContext,
        request: ToolStep,
    ) -> Result<ChangeReport, ActivityError> {
        let (driver, ws) = self.workspace(&ctx, &request)?;
        driver.init(&ws).await.map_err(error::from_iac)?;
        run_with_heartbeats(&ctx, move |progress| async move { driver.destroy(&ws, progress).await })
            .await
            .map_err(error::from_iac)
    }

    /// Reads the outputs, sensitive values masked.
    #[activity(name = "terraform_output")]
    #[tracing::instrument(name = "terraform_output", skip_all, fields(workflow_id = ctx.info().workflow_id.as_deref(), attempt = ctx.info().attempt))]
    pub async fn terraform_output(
        self: Arc<Self>,
        ctx: ActivityContext,
        request: ToolStep,
    ) -> Result<Outputs, ActivityError> {
        self.read_outputs(&ctx, &request).await
    }
}
