//! Releases as a host runs them: the worker settings ([`ReleaseArgs`]), the search attributes,
//! and the task queue with both workflows and every activity registered.

use std::path::PathBuf;

use ordo_core::{Domain, HostSettings, SearchAttributeSpec};
use temporalio_sdk::WorkerOptions;

use crate::activities::{EnvironmentsConfig, ReleaseActivities, ReleaseConfig};
use crate::catalogue::Catalogue;
use crate::model::{RELEASE_ENVIRONMENT_ATTRIBUTE, RELEASE_KEY_ATTRIBUTE, TASK_QUEUE};
use crate::rules::MAX_ERROR_RATE;
use crate::store::ReleaseStore;
use crate::workflows::{DeployWorkflow, ReleaseWorkflow};

/// The search attributes releases write (Keyword: exact-match filters).
pub const SEARCH_ATTRIBUTES: &[SearchAttributeSpec] =
    &[SearchAttributeSpec::keyword(RELEASE_KEY_ATTRIBUTE), SearchAttributeSpec::keyword(RELEASE_ENVIRONMENT_ATTRIBUTE)];

/// The release domain's worker settings.
#[derive(Debug, Clone, clap::Args)]
pub struct ReleaseArgs {
    /// Task queue of the release workflows (seed 003's `release-task-queue`).
    #[arg(long, env = "ORDO_RELEASE_TASK_QUEUE", default_value = TASK_QUEUE)]
    pub release_task_queue: String,
    /// Release catalogue (JSON, see examples/releases/catalogue.json) that releases started
    /// without deploys are collected from; default: seed 003's six releases.
    #[arg(long, env = "ORDO_RELEASE_CATALOGUE")]
    pub release_catalogue: Option<PathBuf>,
    /// Health probes per environment (JSON: `{"PROD": {"health_url": "…"}, "QC": {"health_command":
    /// "…"}}`); without one, verification checks the artifact's checksum only.
    #[arg(long, env = "ORDO_RELEASE_ENVIRONMENTS")]
    pub release_environments: Option<PathBuf>,
    /// Seed 003's error injection: the chance (percent, 0..=90; the seed's knobs are 10, 30, 60)
    /// that each step attempt fails, for releases that do not set `error_rate` themselves.
    #[arg(long, env = "ORDO_RELEASE_ERROR_RATE", default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=i64::from(MAX_ERROR_RATE)))]
    pub release_error_rate: u8,
}

impl Default for ReleaseArgs {
    fn default() -> Self {
        Self {
            release_task_queue: TASK_QUEUE.to_owned(),
            release_catalogue: None,
            release_environments: None,
            release_error_rate: 0,
        }
    }
}

impl ReleaseArgs {
    /// The domain over these settings and the host's (artifacts and environments live under the
    /// data directory's `release/`).
    pub fn domain(&self, host: &HostSettings) -> anyhow::Result<ReleaseDomain> {
        let catalogue = match &self.release_catalogue {
            Some(path) => Catalogue::load(path)
                .map_err(|e| anyhow::anyhow!("--release-catalogue / ORDO_RELEASE_CATALOGUE {}: {e}", path.display()))?,
            None => Catalogue::built_in(),
        };
        let environments = match &self.release_environments {
            Some(path) => EnvironmentsConfig::load(path).map_err(|e| {
                anyhow::anyhow!("--release-environments / ORDO_RELEASE_ENVIRONMENTS {}: {e}", path.display())
            })?,
            None => EnvironmentsConfig::default(),
        };
        Ok(ReleaseDomain {
            task_queue: self.release_task_queue.clone(),
            config: ReleaseConfig {
                store: ReleaseStore::new(&host.data_dir),
                catalogue,
                environments,
                default_error_rate: self.release_error_rate,
            },
        })
    }
}

/// Releases, ready to host.
#[derive(Debug, Clone)]
pub struct ReleaseDomain {
    task_queue: String,
    config: ReleaseConfig,
}

impl ReleaseDomain {
    /// The task queue it serves.
    pub fn task_queue(&self) -> &str {
        &self.task_queue
    }

    /// The artifact store, environments and audit logs it acts on.
    pub fn store(&self) -> &ReleaseStore {
        &self.config.store
    }
}

impl Domain for ReleaseDomain {
    fn name(&self) -> &'static str {
        "release"
    }

    fn search_attributes(&self) -> &'static [SearchAttributeSpec] {
        SEARCH_ATTRIBUTES
    }

    fn workers(&self) -> anyhow::Result<Vec<WorkerOptions>> {
        Ok(vec![WorkerOptions::new(&self.task_queue)
            .register_workflow::<ReleaseWorkflow>()?
            .register_workflow::<DeployWorkflow>()?
            .register_activities(ReleaseActivities::new(self.config.clone()))
            .build()])
    }
}
