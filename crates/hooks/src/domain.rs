//! Lifecycle hooks as a host runs them: their settings ([`HooksArgs`]), the lifecycle task queue
//! (workflow + activities) and the reference migration's task queue.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use futures::FutureExt as _;
use temporalio_client::Client;
use temporalio_common::telemetry::metrics::CoreMeter;

use ordo_core::{Domain, HostSettings, SearchAttributeSpec};
use temporalio_sdk::WorkerOptions;

use crate::activities::{HookActivities, StoreSource};
use crate::migrate::{MigrateActivities, MigrateAppWorkflow};
use crate::model::{MIGRATE_TASK_QUEUE, TASK_QUEUE};
use crate::workflows::HookLifecycleWorkflow;

/// Lifecycle hooks write no custom search attribute (actions are found by workflow id prefix).
pub const SEARCH_ATTRIBUTES: &[SearchAttributeSpec] = &[];

/// The hooks domain's settings.
#[derive(Debug, Clone, clap::Args)]
pub struct HooksArgs {
    /// Task queue of the lifecycle workflows (`HookLifecycle`) and their activities.
    #[arg(long, env = "ORDO_HOOKS_TASK_QUEUE", default_value = TASK_QUEUE)]
    pub hooks_task_queue: String,
    /// Task queue of the reference migration workflow (`MigrateApp`); the example intents use it.
    #[arg(long, env = "ORDO_HOOKS_MIGRATE_TASK_QUEUE", default_value = MIGRATE_TASK_QUEUE)]
    pub hooks_migrate_task_queue: String,
    /// Don't serve the reference migration workflow (another worker does, or none is wanted).
    #[arg(long, env = "ORDO_HOOKS_NO_MIGRATE")]
    pub hooks_no_migrate: bool,
    /// Where the migration's clusters live: one directory per cluster (local stand-ins, not real
    /// clusters); default `<data dir>/clusters`.
    #[arg(long, env = "ORDO_HOOKS_CLUSTERS_DIR")]
    pub hooks_clusters_dir: Option<PathBuf>,
    /// The `emcoURL` hooks receive in `activityParams.emco` (Ordo's API).
    #[arg(long, env = "ORDO_HOOKS_EMCO_URL", default_value = "http://127.0.0.1:8080")]
    pub hooks_emco_url: String,
    /// The intent store: `postgres://user@host/db` for PostgreSQL, `sqlite://path` for a SQLite
    /// file; default `<data dir>/hooks.db`.
    #[arg(long = "hooks-database-url", env = "DATABASE_URL")]
    pub database_url: Option<String>,
}

impl HooksArgs {
    /// The client the API and CLI drive lifecycle actions with: the store opened (and migrated)
    /// under `data_dir` unless `DATABASE_URL` names one.
    pub async fn client(
        &self,
        temporal: temporalio_client::Client,
        data_dir: &std::path::Path,
    ) -> anyhow::Result<crate::client::HooksClient> {
        std::fs::create_dir_all(data_dir)?;
        let store = crate::store::Store::open(self.database_url.as_deref(), data_dir).await?;
        Ok(crate::client::HooksClient::new(temporal, store, self.hooks_task_queue.clone(), self.hooks_emco_url.clone()))
    }

    /// The domain over these settings and the host's.
    pub fn domain(&self, host: &HostSettings) -> HooksDomain {
        HooksDomain {
            task_queue: self.hooks_task_queue.clone(),
            migrate_task_queue: (!self.hooks_no_migrate).then(|| self.hooks_migrate_task_queue.clone()),
            clusters_dir: self.hooks_clusters_dir.clone().unwrap_or_else(|| host.data_dir.join("clusters")),
            store: Arc::new(StoreSource::new(self.database_url.clone(), host.data_dir.clone())),
        }
    }
}

/// Lifecycle hooks, ready to host.
#[derive(Debug, Clone)]
pub struct HooksDomain {
    task_queue: String,
    migrate_task_queue: Option<String>,
    clusters_dir: PathBuf,
    store: Arc<StoreSource>,
}

impl HooksDomain {
    /// A domain on explicit queues and store (tests, embedding).
    pub fn new(
        task_queue: &str,
        migrate_task_queue: Option<&str>,
        clusters_dir: PathBuf,
        store: Arc<StoreSource>,
    ) -> Self {
        Self {
            task_queue: task_queue.to_owned(),
            migrate_task_queue: migrate_task_queue.map(str::to_owned),
            clusters_dir,
            store,
        }
    }

    /// The lifecycle task queue.
    pub fn task_queue(&self) -> &str {
        &self.task_queue
    }
}

impl Domain for HooksDomain {
    fn name(&self) -> &'static str {
        "hooks"
    }

    fn search_attributes(&self) -> &'static [SearchAttributeSpec] {
        SEARCH_ATTRIBUTES
    }

    fn workers(&self) -> anyhow::Result<Vec<WorkerOptions>> {
        let mut workers = vec![WorkerOptions::new(&self.task_queue)
            .register_workflow::<HookLifecycleWorkflow>()?
            .register_activities(HookActivities::new(self.store.clone()))
            .build()];
        if let Some(queue) = &self.migrate_task_queue {
            workers.push(
                WorkerOptions::new(queue)
                    .register_workflow::<MigrateAppWorkflow>()?
                    .register_activities(MigrateActivities::new(self.clusters_dir.clone()))
                    .build(),
            );
        }
        Ok(workers)
    }

    fn gauges(&self, _client: Client, meter: Arc<dyn CoreMeter>, every: Duration) -> Option<BoxFuture<'static, ()>> {
        Some(crate::gauges::refresh_forever(self.store.clone(), meter, every).boxed())
    }
}
