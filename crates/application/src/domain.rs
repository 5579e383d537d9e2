//! Seed 000's flow as a host runs it: its worker settings ([`ApplicationArgs`]), its search
//! attribute, the workflow and team lookup on the apps task queue and, unless another worker
//! serves it, the IaC step on its own task queue.

use std::path::PathBuf;
use std::time::Duration;

use ordo_core::{Domain, HostSettings, SearchAttributeSpec};
use ordo_iac::settings::IacSettings;
use temporalio_sdk::WorkerOptions;

use crate::activities::{ApplicationActivities, FoundationActivities, FoundationConfig};
use crate::model::{default_iac_task_queue, DEFAULT_TASK_QUEUE, PROVISION_STATUS_ATTRIBUTE};
use crate::teams::TeamDirectory;
use crate::workflows::ProvisionApplicationWorkflow;

/// The search attribute application requests write.
pub const SEARCH_ATTRIBUTES: &[SearchAttributeSpec] = &[SearchAttributeSpec::keyword(PROVISION_STATUS_ATTRIBUTE)];

/// The application flow's worker settings.
#[derive(Debug, Clone, clap::Args)]
pub struct ApplicationArgs {
    /// Task queue of seed 000's application flow (`ProvisionApplication` and its team lookup).
    #[arg(long, env = "ORDO_APPS_TASK_QUEUE", default_value = DEFAULT_TASK_QUEUE)]
    pub apps_task_queue: String,
    /// Task queue of the application flow's IaC step (default: the apps task queue + `-iac`).
    #[arg(long, env = "ORDO_APPS_IAC_TASK_QUEUE")]
    pub apps_iac_task_queue: Option<String>,
    /// Don't serve the application flow's IaC task queue: another worker does (e.g. the Python
    /// worker in examples/python-iac-worker).
    #[arg(long, env = "ORDO_NO_APPS_IAC")]
    pub no_apps_iac: bool,
    /// Teams for the application flow's pre-flight check, as JSON (see examples/teams.json);
    /// default: the built-in demo teams.
    #[arg(long, env = "ORDO_TEAMS_FILE")]
    pub teams_file: Option<PathBuf>,
}

impl ApplicationArgs {
    /// The domain over these settings, the host's and the shared IaC ones.
    pub fn domain(&self, host: &HostSettings, iac: &IacSettings) -> anyhow::Result<ApplicationDomain> {
        let teams = match &self.teams_file {
            Some(path) => TeamDirectory::load(path)?,
            None => TeamDirectory::demo(),
        };
        let iac_task_queue = (!self.no_apps_iac)
            .then(|| self.apps_iac_task_queue.clone().unwrap_or_else(|| default_iac_task_queue(&self.apps_task_queue)));
        Ok(ApplicationDomain {
            task_queue: self.apps_task_queue.clone(),
            iac_task_queue,
            teams,
            foundation: FoundationConfig {
                iac_root: iac.iac_root.clone(),
                data_dir: host.data_dir.clone(),
                pulumi_bin: iac.pulumi_bin.clone(),
                env: iac.drivers.env.clone(),
            },
        })
    }
}

/// The application flow, ready to host.
#[derive(Debug, Clone)]
pub struct ApplicationDomain {
    task_queue: String,
    /// `None`: another worker serves the IaC step.
    iac_task_queue: Option<String>,
    teams: TeamDirectory,
    foundation: FoundationConfig,
}

impl ApplicationDomain {
    /// The task queue of the workflow.
    pub fn task_queue(&self) -> &str {
        &self.task_queue
    }

    /// The task queue of the IaC step, when this worker serves it.
    pub fn iac_task_queue(&self) -> Option<&str> {
        self.iac_task_queue.as_deref()
    }
}

impl Domain for ApplicationDomain {
    fn name(&self) -> &'static str {
        "application"
    }

    fn search_attributes(&self) -> &'static [SearchAttributeSpec] {
        SEARCH_ATTRIBUTES
    }

    fn workers(&self) -> anyhow::Result<Vec<WorkerOptions>> {
        let mut workers = vec![WorkerOptions::new(&self.task_queue)
            .register_workflow::<ProvisionApplicationWorkflow>()?
            .register_activities(ApplicationActivities::new(self.teams.clone()))
            .build()];
        if let Some(queue) = &self.iac_task_queue {
            workers.push(
                WorkerOptions::new(queue)
                    // Heartbeats are flushed every second so a cancellation reaches the tool promptly.
                    .max_heartbeat_throttle_interval(Duration::from_secs(1))
                    .register_activities(FoundationActivities::new(self.foundation.clone()))
                    .build(),
            );
        }
        Ok(workers)
    }
}
