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

use crate::model::ProvisionRequest;
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
        let env = self.config.drivers.env.tool_env(&request.env_vars).map_err(error::from_iac)?;
        Ok((driver, Workspace { dir, env, vars: request.vars.clone(), owner }))
    }
}

#[activities]
impl ProvisionActivities {
    /// Prepares the workspace (`terraform init`).
    #[activity(name = "terraform_init")]
    #[tracing::instrument(name = "terraform_init", skip_all, fields(workflow_id = ctx.info().workflow_id.as_deref(), attempt = ctx.info().attempt))]
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
    #[tracing::instrument(name = "terraform_plan", skip_all, fields(workflow_id = ctx.info().workflow_id.as_deref(), attempt = ctx.info().attempt))]
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
    #[tracing::instrument(name = "policy_check", skip_all, fields(workflow_id = ctx.info().workflow_id.as_deref(), attempt = ctx.info().attempt))]
    pub async fn policy_check(
        self: Arc<Self>,
        ctx: ActivityContext,
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
    ) -> Result<ChangeReport, ActivityError> {
        if input.request.simulate_api_failure && ctx.info().attempt < 5 {
            return Err(failure(error::API_FAILURE, "Terraform cannot reach the API"));
        }
        if ordo_iac::sha256_hex(&input.plan.file) != input.approved_hash {
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
    #[tracing::instrument(name = "terraform_destroy", skip_all, fields(workflow_id = ctx.info().workflow_id.as_deref(), attempt = ctx.info().attempt))]
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

    /// Reads the outputs, sensitive values masked.
    #[activity(name = "terraform_output")]
    #[tracing::instrument(name = "terraform_output", skip_all, fields(workflow_id = ctx.info().workflow_id.as_deref(), attempt = ctx.info().attempt))]
    pub async fn terraform_output(
        self: Arc<Self>,
        ctx: ActivityContext,
        request: ProvisionRequest,
    ) -> Result<Outputs, ActivityError> {
        let (driver, ws) = self.workspace(&ctx, &request)?;
        // Masked here, before the result enters history: the Temporal Web UI and
        // `temporal workflow show` print activity results as they are.
        driver.output(&ws).await.map(|outputs| ordo_iac::mask_outputs(&outputs)).map_err(error::from_iac)
    }
}
