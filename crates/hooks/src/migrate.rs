//! `MigrateApp`: the seed's reference workflow, a stateless application moved between two clusters.
//!
//! **Clusters here are local directories** (`<clusters root>/<cluster>/<app>.json`), and routing is
//! a file (`<clusters root>/routing/<app>`): a stand-in for real clusters, labelled as such in every
//! result. The steps: deploy to the target, verify it there, switch routing to it, remove it from
//! the source. A failure after the deploy is compensated in reverse: routing switched back, the
//! target copy removed; the workflow then fails with the step that broke.
//!
//! Input: the seed's `workflowParams`. `activityParams.migrate` = `{app, sourceCluster,
//! targetCluster, failAt?}` (`failAt` = `verify` or `remove` makes that step fail, for drills);
//! `activityParams.emco` as the lifecycle fills it; `activityOptions.<step>` the seed's per-activity
//! options (`deploy_app`, `verify_app`, `switch_routing`, `remove_app`).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use temporalio_common::RetryPolicy;
use temporalio_macros::{activities, workflow, workflow_methods};
use temporalio_sdk::activities::{ActivityContext, ActivityError};
use temporalio_sdk::{ActivityOptions, ApplicationFailure, WorkflowContext, WorkflowResult};

use crate::intent::check_name;
use crate::spec::{activity_params, ActivityOptionsSpec, WfTemporalSpec};

/// What every result says the clusters are.
pub const CLUSTER_KIND: &str = "local directory (stand-in for a cluster)";
/// A step was asked to fail (`failAt`) or found the app missing: never retried.
pub const MIGRATION_STEP_FAILED: &str = "MigrationStepFailed";

/// One migration, parsed from `activityParams.migrate`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MigrationRequest {
    /// The application.
    pub app: String,
    /// Where it runs now.
    pub source_cluster: String,
    /// Where it goes.
    pub target_cluster: String,
    /// A step made to fail, for drills.
    pub fail_at: Option<String>,
}

impl MigrationRequest {
    /// Reads `activityParams.migrate` of `params`; errors name the field.
    pub fn from_params(params: &serde_json::Value) -> Result<Self, ordo_core::RequestError> {
        let all = activity_params(params);
        let migrate = all.get("migrate").cloned().unwrap_or_default();
        let get = |key: &str| -> Result<String, ordo_core::RequestError> {
            let field = format!("workflowParams.activityParams.migrate.{key}");
            let value = migrate.get(key).cloned().unwrap_or_default();
            check_name(&field, &value)?;
            Ok(value)
        };
        let request = Self {
            app: get("app")?,
            source_cluster: get("sourceCluster")?,
            target_cluster: get("targetCluster")?,
            fail_at: migrate.get("failAt").cloned(),
        };
        if request.source_cluster == request.target_cluster {
            return Err(ordo_core::RequestError::new(
                "workflowParams.activityParams.migrate.targetCluster",
                "is the source cluster",
            ));
        }
        Ok(request)
    }
}

/// One step's input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterStep {
    /// The application.
    pub app: String,
    /// The cluster (directory) acted on.
    pub cluster: String,
    /// Make this step fail.
    pub fail: bool,
}

/// What a migration did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MigrationReport {
    /// What the clusters are ([`CLUSTER_KIND`]).
    pub cluster_kind: String,
    /// The application.
    pub app: String,
    /// From where.
    pub source_cluster: String,
    /// To where.
    pub target_cluster: String,
    /// The steps done, in order (compensations as `undo …`).
    pub steps: Vec<String>,
}

/// The migration's steps on local-directory clusters.
#[derive(Debug)]
pub struct MigrateActivities {
    root: PathBuf,
}

impl MigrateActivities {
    /// Clusters are the directories under `root`.
    pub fn new(root: PathBuf) -> Self {
        Self { root }
    }

    fn app_file(&self, step: &ClusterStep) -> PathBuf {
        self.root.join(&step.cluster).join(format!("{}.json", step.app))
    }
}

fn step_failed(message: String) -> ActivityError {
    ApplicationFailure::builder(message).type_name(MIGRATION_STEP_FAILED.to_owned()).non_retryable(true).build().into()
}

fn io_failed(what: &str, err: std::io::Error) -> ActivityError {
    ApplicationFailure::builder(format!("{what}: {err}")).type_name("ClusterIo".to_owned()).build().into()
}

#[activities]
impl MigrateActivities {
    /// Deploys the app to a cluster (writes its manifest; idempotent).
    #[activity(name = "deploy_app")]
    pub async fn deploy_app(self: Arc<Self>, _ctx: ActivityContext, step: ClusterStep) -> Result<(), ActivityError> {
        let file = self.app_file(&step);
        if let Some(dir) = file.parent() {
            tokio::fs::create_dir_all(dir).await.map_err(|e| io_failed("creating the cluster directory", e))?;
        }
        let manifest = serde_json::json!({"app": step.app, "cluster": step.cluster, "kind": CLUSTER_KIND});
        tokio::fs::write(&file, manifest.to_string()).await.map_err(|e| io_failed("writing the manifest", e))
    }

    /// Checks the app is deployed on a cluster.
    #[activity(name = "verify_app")]
    pub async fn verify_app(self: Arc<Self>, _ctx: ActivityContext, step: ClusterStep) -> Result<(), ActivityError> {
        if step.fail {
            return Err(step_failed(format!("verify of {} on {} failed (failAt)", step.app, step.cluster)));
        }
        match tokio::fs::read(self.app_file(&step)).await {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Err(step_failed(format!("{} is not deployed on {}", step.app, step.cluster)))
            }
            Err(e) => Err(io_failed("reading the manifest", e)),
        }
    }

    /// Routes the app's traffic to a cluster; returns the cluster it was routed to before (empty
    /// when none), for the compensation.
    #[activity(name = "switch_routing")]
    pub async fn switch_routing(
        self: Arc<Self>,
        _ctx: ActivityContext,
        step: ClusterStep,
    ) -> Result<String, ActivityError> {
        let file = self.root.join("routing").join(&step.app);
        tokio::fs::create_dir_all(self.root.join("routing")).await.map_err(|e| io_failed("creating routing", e))?;
        let previous = tokio::fs::read_to_string(&file).await.unwrap_or_default();
        if step.cluster.is_empty() {
            let _ = tokio::fs::remove_file(&file).await;
        } else {
            tokio::fs::write(&file, &step.cluster).await.map_err(|e| io_failed("writing routing", e))?;
        }
        Ok(previous)
    }

    /// Removes the app from a cluster (idempotent).
    #[activity(name = "remove_app")]
    pub async fn remove_app(self: Arc<Self>, _ctx: ActivityContext, step: ClusterStep) -> Result<(), ActivityError> {
        if step.fail {
            return Err(step_failed(format!("removing {} from {} failed (failAt)", step.app, step.cluster)));
        }
        match tokio::fs::remove_file(self.app_file(&step)).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_failed("removing the manifest", e)),
        }
    }
}

/// The reference migration (type `MigrateApp`).
#[workflow]
#[derive(Default)]
pub struct MigrateAppWorkflow {
    report: MigrationReport,
}

#[workflow_methods]
impl MigrateAppWorkflow {
    /// Migrates one app; the input is the seed's `workflowParams`.
    #[run(name = "MigrateApp")]
    pub async fn run(ctx: &mut WorkflowContext<Self>, params: serde_json::Value) -> WorkflowResult<MigrationReport> {
        let request = MigrationRequest::from_params(&params)
            .map_err(|e| ApplicationFailure::non_retryable(format!("invalid migration: {e}")))?;
        let options = activity_options(&params);
        let opts = |name: &str| options.get(name).cloned().unwrap_or_else(default_options);
        let step = |cluster: &str, name: &str| ClusterStep {
            app: request.app.clone(),
            cluster: cluster.to_owned(),
            fail: request.fail_at.as_deref() == Some(name),
        };
        let mut report = MigrationReport {
            cluster_kind: CLUSTER_KIND.into(),
            app: request.app.clone(),
            source_cluster: request.source_cluster.clone(),
            target_cluster: request.target_cluster.clone(),
            steps: Vec::new(),
        };
        let target = &request.target_cluster;
        ctx.execute_activity(MigrateActivities::deploy_app, step(target, "deploy"), opts("deploy_app")).await?;
        report.steps.push(format!("deploy_app {target}"));
        if let Err(err) =
            ctx.execute_activity(MigrateActivities::verify_app, step(target, "verify"), opts("verify_app")).await
        {
            compensate(ctx, &mut report, &step(target, ""), None).await;
            return Err(ApplicationFailure::non_retryable(format!(
                "migration failed at verify_app: {err}; {}",
                report.steps.join(", ")
            ))
            .into());
        }
        report.steps.push(format!("verify_app {target}"));
        let previous = ctx
            .execute_activity(MigrateActivities::switch_routing, step(target, "switch"), opts("switch_routing"))
            .await?;
        report.steps.push(format!("switch_routing {target}"));
        let source = &request.source_cluster;
        if let Err(err) =
            ctx.execute_activity(MigrateActivities::remove_app, step(source, "remove"), opts("remove_app")).await
        {
            compensate(ctx, &mut report, &step(target, ""), Some(previous)).await;
            return Err(ApplicationFailure::non_retryable(format!(
                "migration failed at remove_app: {err}; {}",
                report.steps.join(", ")
            ))
            .into());
        }
        report.steps.push(format!("remove_app {source}"));
        ctx.state_mut(|s| s.report = report.clone());
        Ok(report)
    }
}

/// Undoes what was done, in reverse: routing back to `previous` (when switched), the target copy
/// removed.
async fn compensate(
    ctx: &mut WorkflowContext<MigrateAppWorkflow>,
    report: &mut MigrationReport,
    target: &ClusterStep,
    previous: Option<String>,
) {
    if let Some(previous) = previous {
        let back = ClusterStep { app: target.app.clone(), cluster: previous.clone(), fail: false };
        let ok = ctx.execute_activity(MigrateActivities::switch_routing, back, default_options()).await.is_ok();
        report.steps.push(format!("undo switch_routing → {previous:?}{}", if ok { "" } else { " (failed)" }));
    }
    let ok = ctx.execute_activity(MigrateActivities::remove_app, target.clone(), default_options()).await.is_ok();
    report.steps.push(format!("undo deploy_app {}{}", target.cluster, if ok { "" } else { " (failed)" }));
}

fn default_options() -> ActivityOptions {
    ActivityOptions::with_start_to_close_timeout(Duration::from_secs(30))
        .retry_policy(RetryPolicy::builder().maximum_attempts(3).build())
        .build()
}

/// The seed's per-activity options (`activityOptions.<step>`) as the SDK's.
fn activity_options(params: &serde_json::Value) -> BTreeMap<String, ActivityOptions> {
    let spec = WfTemporalSpec {
        workflow_client_name: String::new(),
        workflow_type: String::new(),
        start: Default::default(),
        params: params.clone(),
    };
    spec.activity_options().into_iter().map(|(name, o)| (name, to_sdk(&o))).collect()
}

fn to_sdk(o: &ActivityOptionsSpec) -> ActivityOptions {
    let mut options = match (o.start_to_close_timeout, o.schedule_to_close_timeout) {
        (Some(s2c), _) if !s2c.is_zero() => ActivityOptions::with_start_to_close_timeout(s2c).build(),
        (_, Some(s2c)) => ActivityOptions::with_schedule_to_close_timeout(s2c).build(),
        _ => default_options(),
    };
    options.heartbeat_timeout = o.heartbeat_timeout.filter(|d| !d.is_zero());
    options.task_queue = o.task_queue.clone().filter(|q| !q.is_empty());
    if let Some(r) = &o.retry_policy {
        options.retry_policy = Some(r.to_temporal());
    }
    options
}
