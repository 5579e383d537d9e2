//! The application flow's activities: the pre-flight team lookup (task queue `apps`) and the IaC
//! step with its compensation (task queue `apps-iac`, which the Python example worker can serve
//! instead: same names, same payloads).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use temporalio_macros::activities;
use temporalio_sdk::activities::{ActivityContext, ActivityError};
use temporalio_sdk::ApplicationFailure;

use crate::model::{
    DestroyFoundationResourcesResponse, GetTeamInformationRequest, ProvisionFoundationResourcesRequest,
    ProvisionFoundationResourcesResponse, TeamInformation,
};
use crate::teams::TeamDirectory;
use ordo_iac::heartbeat::{run_with_heartbeats, ChangeReport};
use ordo_iac::mask_outputs;
use ordo_iac::workspace;
use ordo_iac::{self as iac, pulumi, sim, ChangeSummary, Driver, DriverKind, IacError, ResourceEvent, Workspace};

/// The team is not in the directory (never retried).
pub const UNKNOWN_TEAM: &str = "UnknownTeam";
/// The IaC request itself is unusable: bad id, region, profile or stack (never retried).
pub const INVALID_FOUNDATION_REQUEST: &str = "InvalidFoundationRequest";
/// The IaC directory or tool setup is unusable (never retried).
pub const INVALID_WORKSPACE: &str = "InvalidWorkspace";
/// The IaC tool failed (retried).
pub const FOUNDATION_FAILED: &str = "FoundationFailed";
/// The stack is held by another operation (retried).
pub const FOUNDATION_LOCKED: &str = "FoundationLocked";
/// Failure types no retry can fix.
pub const NON_RETRYABLE: &[&str] = &[UNKNOWN_TEAM, INVALID_FOUNDATION_REQUEST, INVALID_WORKSPACE];

/// What `worker` says in the IaC results of this implementation.
pub const WORKER_NAME: &str = "rust";
/// The sim file of a stack directory.
const STACK_FILE: &str = "stack.json";

fn failure(type_name: &str, message: impl Into<String>) -> ActivityError {
    ApplicationFailure::builder(message.into())
        .type_name(type_name.to_owned())
        .non_retryable(NON_RETRYABLE.contains(&type_name))
        .build()
        .into()
}

fn from_iac(err: IacError) -> ActivityError {
    match &err {
        IacError::Invalid(_) => failure(INVALID_WORKSPACE, err.to_string()),
        IacError::Locked(_) => failure(FOUNDATION_LOCKED, err.to_string()),
        IacError::Cancelled => ActivityError::cancelled(),
        // A stale plan is retried: the next attempt plans again.
        IacError::StalePlan(_) | IacError::Failed { .. } | IacError::Io(_) => {
            failure(FOUNDATION_FAILED, err.to_string())
        }
    }
}

/// The pre-flight team lookup.
#[derive(Debug)]
pub struct ApplicationActivities {
    teams: TeamDirectory,
}

impl ApplicationActivities {
    /// Activities looking teams up in `teams`.
    pub fn new(teams: TeamDirectory) -> Self {
        Self { teams }
    }
}

#[activities]
impl ApplicationActivities {
    /// Looks the requesting team up (the seed's `GetTeamInformation`, which faked it); an unknown
    /// team fails without retrying, naming the team.
    #[activity(name = "GetTeamInformation")]
    #[tracing::instrument(name = "GetTeamInformation", skip_all, fields(workflow_id = ctx.info().workflow_id.as_deref(), attempt = ctx.info().attempt))]
    pub async fn get_team_information(
        self: Arc<Self>,
        ctx: ActivityContext,
        request: GetTeamInformationRequest,
    ) -> Result<TeamInformation, ActivityError> {
        self.teams.lookup(&request.team_id).ok_or_else(|| {
            failure(
                UNKNOWN_TEAM,
                format!(
                    "unknown team {:?}: it is not one of the teams in {} ({})",
                    request.team_id,
                    self.teams.source(),
                    self.teams.ids().join(", ")
                ),
            )
        })
    }
}

/// Worker-side settings of the IaC activities.
#[derive(Debug, Clone)]
pub struct FoundationConfig {
    /// Every stack directory must resolve inside this root.
    pub iac_root: PathBuf,
    /// Ordo's data directory: sim state under `sim/`, per-application sim workspaces under
    /// `applications/`.
    pub data_dir: PathBuf,
    /// The `pulumi` binary.
    pub pulumi_bin: PathBuf,
    /// What the tool's environment may hold beyond its base (the operator's allowed names).
    pub env: ordo_iac::env::EnvPolicy,
}

/// The directory an application's sim workspace lives in (its state is keyed by this directory).
pub fn sim_workspace_dir(data_dir: &Path, application_id: &str) -> PathBuf {
    data_dir.join("applications").join(application_id)
}

/// The IaC step and its compensation.
#[derive(Debug)]
pub struct FoundationActivities {
    config: FoundationConfig,
}

enum Operation {
    Provision,
    Destroy,
}

impl FoundationActivities {
    /// Activities over `config`.
    pub fn new(config: FoundationConfig) -> Self {
        Self { config }
    }

    /// Checks the request and prepares the driver and workspace. A sim application gets a
    /// workspace of its own (a copy of the stack file under the data directory), so applications
    /// never share state; a Pulumi application gets a stack of its own (named after its id) in the
    /// project directory.
    async fn prepare(
        &self,
        ctx: &ActivityContext,
        input: &ProvisionFoundationResourcesRequest,
        operation: Operation,
    ) -> Result<(Driver, Workspace), ActivityError> {
        check_request(input).map_err(|reason| failure(INVALID_FOUNDATION_REQUEST, reason))?;
        let info = ctx.info();
        let owner = format!(
            "{}/{}",
            info.workflow_id.as_deref().unwrap_or("standalone"),
            info.workflow_run_id.as_deref().unwrap_or("-")
        );
        let mut vars = std::collections::BTreeMap::new();
        let (driver, dir) = match input.driver {
            DriverKind::Sim => {
                let dir = sim_workspace_dir(&self.config.data_dir, &input.application_id);
                tokio::fs::create_dir_all(&dir).await.map_err(|e| from_iac(e.into()))?;
                if matches!(operation, Operation::Provision) {
                    let template = workspace::resolve(&self.config.iac_root, &input.stack).map_err(from_iac)?;
                    tokio::fs::copy(template.join(STACK_FILE), dir.join(STACK_FILE)).await.map_err(|e| {
                        failure(INVALID_WORKSPACE, format!("cannot use {}/{STACK_FILE}: {e}", input.stack))
                    })?;
                }
                let knobs = iac::SimKnobs { latency_ms: input.sim_latency_ms, failure_rate: None };
                for (name, value) in [
                    ("region", &input.region),
                    ("profile", &input.profile),
                    ("applicationId", &input.application_id),
                    ("applicationName", &input.application_name),
                    ("bucketName", &input.bucket_name),
                    ("teamId", &input.team_id),
                ] {
                    vars.insert(name.to_owned(), serde_json::Value::String(value.clone()));
                }
                (Driver::Sim(sim::SimDriver::new(self.config.data_dir.join("sim"), knobs)), dir)
            }
            DriverKind::Pulumi => {
                let dir = workspace::resolve(&self.config.iac_root, &input.stack).map_err(from_iac)?;
                // The seed's configuration: the provider's region and profile, the project's own keys.
                for (name, value) in [
                    ("aws:region", &input.region),
                    ("aws:profile", &input.profile),
                    ("applicationId", &input.application_id),
                    ("applicationName", &input.application_name),
                    ("bucketName", &input.bucket_name),
                    ("teamId", &input.team_id),
                ] {
                    vars.insert(name.to_owned(), serde_json::Value::String(value.clone()));
                }
                let driver = pulumi::PulumiDriver::new(self.config.pulumi_bin.clone(), input.application_id.clone());
                (Driver::Pulumi(driver), dir)
            }
            other => {
                return Err(failure(
                    INVALID_FOUNDATION_REQUEST,
                    format!("driver: applications are provisioned with sim or pulumi, not {}", other.as_str()),
                ))
            }
        };
        let env = self.config.env.tool_env(&Default::default()).map_err(from_iac)?;
        Ok((driver, Workspace { dir, env, vars, owner }))
    }
}

#[activities]
impl FoundationActivities {
    /// Provisions the application's foundation resources (the seed's bucket and page): init,
    /// plan, apply with heartbeats, outputs. Idempotent: a retry plans against what an earlier
    /// attempt left and applies only the rest.
    #[activity(name = "provisionFoundationResources")]
    #[tracing::instrument(name = "provisionFoundationResources", skip_all, fields(workflow_id = ctx.info().workflow_id.as_deref(), attempt = ctx.info().attempt))]
    pub async fn provision_foundation_resources(
        self: Arc<Self>,
        ctx: ActivityContext,
        input: ProvisionFoundationResourcesRequest,
    ) -> Result<ProvisionFoundationResourcesResponse, ActivityError> {
        let (driver, ws) = self.prepare(&ctx, &input, Operation::Provision).await?;
        driver.init(&ws).await.map_err(from_iac)?;
        let plan = driver.plan(&ws).await.map_err(from_iac)?;
        let (apply_driver, apply_ws, file) = (driver.clone(), ws.clone(), plan.file);
        let apply = move |progress| async move { apply_driver.apply(&apply_ws, &file, progress).await };
        let ChangeReport { changes, events } = run_with_heartbeats(&ctx, apply).await.map_err(from_iac)?;
        let outputs = driver.output(&ws).await.map_err(from_iac)?;
        let mut summary = describe(&events, &changes);
        if input.driver == DriverKind::Sim {
            summary.insert(0, "simulated: no cloud account was touched".to_owned());
        }
        tracing::info!(
            application = %input.application_id, added = changes.added, changed = changes.changed,
            "foundation resources provisioned"
        );
        Ok(ProvisionFoundationResourcesResponse {
            application_id: input.application_id,
            summary,
            completion_date_time: now(),
            region: input.region,
            outputs: mask_outputs(&outputs),
            driver: input.driver.as_str().to_owned(),
            worker: WORKER_NAME.to_owned(),
        })
    }

    /// Destroys everything the application's stack holds (the seed's compensation, which its
    /// TypeScript worker never implemented). Idempotent: destroying nothing succeeds.
    #[activity(name = "destroyFoundationResources")]
    #[tracing::instrument(name = "destroyFoundationResources", skip_all, fields(workflow_id = ctx.info().workflow_id.as_deref(), attempt = ctx.info().attempt))]
    pub async fn destroy_foundation_resources(
        self: Arc<Self>,
        ctx: ActivityContext,
        input: ProvisionFoundationResourcesRequest,
    ) -> Result<DestroyFoundationResourcesResponse, ActivityError> {
        let (driver, ws) = self.prepare(&ctx, &input, Operation::Destroy).await?;
        if input.driver == DriverKind::Pulumi {
            // Selects the stack and its configuration (the provider needs its region).
            driver.init(&ws).await.map_err(from_iac)?;
        }
        let ChangeReport { changes, events } =
            run_with_heartbeats(&ctx, move |progress| async move { driver.destroy(&ws, progress).await })
                .await
                .map_err(from_iac)?;
        tracing::info!(application = %input.application_id, destroyed = changes.destroyed, "foundation resources destroyed");
        Ok(DestroyFoundationResourcesResponse {
            application_id: input.application_id,
            summary: describe(&events, &changes),
            completion_date_time: now(),
            driver: input.driver.as_str().to_owned(),
            worker: WORKER_NAME.to_owned(),
        })
    }
}

/// Checks what reaches paths, stack names and the tool: the id names a directory and a stack,
/// region and profile become tool variables.
fn check_request(input: &ProvisionFoundationResourcesRequest) -> Result<(), String> {
    let id_like = |field: &str, value: &str, max: usize| {
        let ok = !value.is_empty()
            && value.len() <= max
            && value.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
            && value.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            && !value.contains("..");
        if ok {
            Ok(())
        } else {
            Err(format!("{field}: {value:?} is not a valid value"))
        }
    };
    id_like("applicationId", &input.application_id, 100)?;
    id_like("region", &input.region, 64)?;
    id_like("profile", &input.profile, 64)?;
    id_like("teamId", &input.team_id, 64)?;
    let bucket_ok = (3..=63).contains(&input.bucket_name.len())
        && input.bucket_name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !bucket_ok {
        return Err(format!("bucketName: {:?} is not a valid bucket name", input.bucket_name));
    }
    if input.application_name.chars().any(char::is_control) || input.application_name.len() > 400 {
        return Err("applicationName: must be printable text".to_owned());
    }
    Ok(())
}

/// The summary lines of an apply or destroy: one per finished resource, then the counts.
fn describe(events: &[ResourceEvent], changes: &ChangeSummary) -> Vec<String> {
    let mut lines: Vec<String> = events
        .iter()
        .filter(|e| e.state != "started")
        .map(|e| format!("{} {}: {}", e.action, e.address, e.state))
        .collect();
    lines.push(format!(
        "Resources: {} added, {} changed, {} destroyed.",
        changes.added, changes.changed, changes.destroyed
    ));
    lines
}

fn now() -> String {
    ordo_core::time::rfc3339(std::time::SystemTime::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> ProvisionFoundationResourcesRequest {
        ProvisionFoundationResourcesRequest {
            application_id: "checkout-0123456789".into(),
            region: "us-east-1".into(),
            profile: "iac".into(),
            team_id: "marketing".into(),
            application_name: "Checkout".into(),
            bucket_name: "app-checkout-marketing-0123456789".into(),
            driver: DriverKind::Sim,
            stack: "stacks/application".into(),
            sim_latency_ms: None,
        }
    }

    /// Values that would reach a path, a stack name or a tool argument are checked.
    #[test]
    fn requests_that_could_escape_are_refused() {
        assert!(check_request(&request()).is_ok());
        for (field, mutate) in [
            (
                "applicationId",
                Box::new(|r: &mut ProvisionFoundationResourcesRequest| r.application_id = "../x".into())
                    as Box<dyn Fn(&mut ProvisionFoundationResourcesRequest)>,
            ),
            ("region", Box::new(|r| r.region = "--yes".into())),
            ("profile", Box::new(|r| r.profile = String::new())),
            ("bucketName", Box::new(|r| r.bucket_name = "Bad_Bucket".into())),
        ] {
            let mut r = request();
            mutate(&mut r);
            let err = check_request(&r).unwrap_err();
            assert!(err.starts_with(field), "{field}: {err}");
        }
    }
}
