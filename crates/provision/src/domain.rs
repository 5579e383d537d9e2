//! Provisioning as a host runs it: its worker settings ([`ProvisionArgs`]), its search attributes,
//! and its task queue with both workflows, the workspace lock and every activity registered.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use futures::FutureExt as _;
use ordo_core::{Domain, HostSettings, SearchAttributeSpec};
use ordo_iac::settings::IacSettings;
use temporalio_client::Client;
use temporalio_common::telemetry::metrics::CoreMeter;
use temporalio_sdk::WorkerOptions;

use crate::activities::{ProvisionActivities, WorkerConfig};
use crate::lock::{LockActivities, WorkspaceLockWorkflow};
use crate::model::{attribute, DEFAULT_TASK_QUEUE};
use crate::notify::NotifyConfig;
use crate::workflows::{DeprovisionInfraWorkflow, ProvisionInfraWorkflow};

/// The search attributes provisioning runs write (all Keyword: exact-match filters).
pub const SEARCH_ATTRIBUTES: &[SearchAttributeSpec] = &[
    SearchAttributeSpec::keyword(attribute::PROVISION_STATUS),
    SearchAttributeSpec::keyword(attribute::TF_DIRECTORY),
    SearchAttributeSpec::keyword(attribute::SCENARIO),
];

/// Provisioning's worker settings.
#[derive(Debug, Clone, clap::Args)]
pub struct ProvisionArgs {
    /// Task queue of the provisioning workflows (seed 001's `provision-infra`).
    #[arg(long, env = "TEMPORAL_TASK_QUEUE", default_value = DEFAULT_TASK_QUEUE)]
    pub task_queue: String,
    /// Seed 001's recoverable-failure "bug": every plan fails (retryably) until the worker is
    /// restarted without this switch.
    #[arg(long, env = "ORDO_INJECT_PLAN_BUG")]
    pub inject_plan_bug: bool,
    /// Webhook that notifications are POSTed to (approval requested, reminder, decided, expired;
    /// an ephemeral run's destroy coming up); a Slack or Mattermost incoming webhook shows their
    /// `text`. Off when unset.
    #[arg(long, env = "ORDO_NOTIFY_WEBHOOK")]
    pub notify_webhook: Option<String>,
    /// Base URL of Ordo's web UI, for links to runs in notifications.
    #[arg(long, env = "ORDO_PUBLIC_URL", default_value = "http://127.0.0.1:8080")]
    pub public_url: String,
}

impl ProvisionArgs {
    /// The domain over these settings, the host's and the shared IaC ones.
    pub fn domain(&self, host: &HostSettings, iac: &IacSettings) -> anyhow::Result<ProvisionDomain> {
        let notify = self
            .notify_webhook
            .as_deref()
            .map(|hook| NotifyConfig::new(hook, Some(self.public_url.clone())))
            .transpose()
            .map_err(|e| anyhow::anyhow!("--notify-webhook / ORDO_NOTIFY_WEBHOOK: {e}"))?;
        let mut drivers = iac.drivers.clone();
        drivers.data_dir.clone_from(&host.data_dir);
        Ok(ProvisionDomain {
            task_queue: self.task_queue.clone(),
            config: WorkerConfig {
                iac_root: iac.iac_root.clone(),
                drivers,
                inject_plan_bug: self.inject_plan_bug,
                notify,
            },
        })
    }
}

/// Provisioning, ready to host.
#[derive(Debug, Clone)]
pub struct ProvisionDomain {
    task_queue: String,
    config: WorkerConfig,
}

impl ProvisionDomain {
    /// The task queue it serves.
    pub fn task_queue(&self) -> &str {
        &self.task_queue
    }
}

impl Domain for ProvisionDomain {
    fn name(&self) -> &'static str {
        "provision"
    }

    fn search_attributes(&self) -> &'static [SearchAttributeSpec] {
        SEARCH_ATTRIBUTES
    }

    fn workers(&self) -> anyhow::Result<Vec<WorkerOptions>> {
        let options = WorkerOptions::new(&self.task_queue)
            // Heartbeats carry apply progress out and cancellation in: flush them every second
            // rather than at 80 % of the heartbeat timeout, so a cancel reaches the tool promptly.
            .max_heartbeat_throttle_interval(Duration::from_secs(1))
            .register_workflow::<ProvisionInfraWorkflow>()?
            .register_workflow::<DeprovisionInfraWorkflow>()?
            .register_workflow::<WorkspaceLockWorkflow>()?
            .register_activities(ProvisionActivities::new(self.config.clone()))
            .register_activities(LockActivities::new(self.config.iac_root.clone()))
            .build();
        // The workspace locks of `light-run` runs, on their own worker (see `lock_task_queue`).
        let locks = WorkerOptions::new(crate::lock::lock_task_queue(&self.task_queue))
            .max_cached_workflows(crate::lock::LOCK_CACHE_SIZE)
            .register_workflow::<WorkspaceLockWorkflow>()?
            .register_activities(LockActivities::new(self.config.iac_root.clone()))
            .build();
        Ok(vec![options, locks])
    }

    fn gauges(&self, client: Client, meter: Arc<dyn CoreMeter>, every: Duration) -> Option<BoxFuture<'static, ()>> {
        Some(crate::gauges::refresh_forever(client, meter, self.task_queue.clone(), every).boxed())
    }
}
