//! Provisioning's gauges, read from visibility every few seconds by each worker that hosts the
//! domain (every worker on a task queue exports the same values: aggregate them with `max`):
//!
//! | series | labels | meaning |
//! |---|---|---|
//! | `ordo_runs` | `task_queue`, `workflow_type`, `execution_status` | runs by Temporal execution status |
//! | `ordo_running_runs` | `task_queue`, `provision_status` | running runs by `provisionStatus` (`none`: not published) |
//! | `ordo_approvals_waiting` | `task_queue` | running runs waiting for a human decision |
//! | `ordo_domain_metrics_refresh_failures` | `task_queue` | visibility reads that failed |

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use futures::StreamExt as _;
use temporalio_client::{Client, WorkflowCountOptions, WorkflowListOptions};
use temporalio_common::telemetry::metrics::{
    CoreMeter, MetricAttributes, MetricKeyValue, MetricParameters, NewAttributes,
};

use crate::model::{status, DEPROVISION_WORKFLOW, PROVISION_WORKFLOW};
use crate::workflows::PROVISION_STATUS;

/// Temporal's execution statuses, as visibility names them.
const EXECUTION_STATUSES: &[&str] =
    &["Running", "Completed", "Failed", "Canceled", "Terminated", "ContinuedAsNew", "TimedOut"];

/// Refreshes the gauges of the runs on `task_queue` every `every`, forever.
pub(crate) async fn refresh_forever(client: Client, meter: Arc<dyn CoreMeter>, task_queue: String, every: Duration) {
    if task_queue.contains('\'') {
        tracing::warn!(task_queue, "no domain metrics: the task queue name cannot be quoted in a visibility query");
        return;
    }
    let gauges = Gauges::new(meter, &task_queue);
    loop {
        if let Err(error) = gauges.refresh(&client, &task_queue).await {
            gauges.failures.add(1, &gauges.base);
            tracing::warn!(error = format!("{error:#}"), "refreshing domain metrics");
        }
        tokio::time::sleep(every).await;
    }
}

pub(crate) struct Gauges {
    meter: Arc<dyn CoreMeter>,
    base: MetricAttributes,
    runs: temporalio_common::telemetry::metrics::Gauge,
    running: temporalio_common::telemetry::metrics::Gauge,
    approvals: temporalio_common::telemetry::metrics::Gauge,
    failures: temporalio_common::telemetry::metrics::Counter,
    /// Every `provision_status` label ever reported, so one that empties goes back to 0.
    seen: std::sync::Mutex<std::collections::BTreeSet<String>>,
}

impl Gauges {
    pub(crate) fn new(meter: Arc<dyn CoreMeter>, task_queue: &str) -> Self {
        let param = |name: &'static str, description: &'static str| {
            MetricParameters::builder().name(name).description(description).build()
        };
        Self {
            base: meter.new_attributes(NewAttributes::from([MetricKeyValue::new("task_queue", task_queue.to_owned())])),
            runs: meter.gauge(param("ordo_runs", "Provisioning runs by Temporal execution status")),
            running: meter.gauge(param("ordo_running_runs", "Running provisioning runs by provisionStatus")),
            approvals: meter.gauge(param("ordo_approvals_waiting", "Runs waiting for a human approval decision")),
            failures: meter
                .counter(param("ordo_domain_metrics_refresh_failures", "Failed visibility reads for domain metrics")),
            seen: Default::default(),
            meter,
        }
    }

    fn labelled(&self, labels: &[(&str, &str)]) -> MetricAttributes {
        let labels = labels.iter().map(|(k, v)| MetricKeyValue::new(*k, (*v).to_owned()));
        self.meter.extend_attributes(self.base.clone(), NewAttributes::from(labels))
    }

    async fn refresh(&self, client: &Client, task_queue: &str) -> anyhow::Result<()> {
        for workflow_type in [PROVISION_WORKFLOW, DEPROVISION_WORKFLOW] {
            let query =
                format!("TaskQueue = '{task_queue}' AND WorkflowType = '{workflow_type}' GROUP BY ExecutionStatus");
            let counts = client
                .count_workflows(query, WorkflowCountOptions::default())
                .await
                .context("counting runs by execution status")?;
            let mut by_execution: BTreeMap<String, u64> =
                EXECUTION_STATUSES.iter().map(|s| ((*s).to_owned(), 0)).collect();
            for group in counts.groups() {
                if let Some(name) = group.get::<String>(0) {
                    *by_execution.entry(name).or_default() += group.count() as u64;
                }
            }
            for (name, count) in &by_execution {
                self.runs
                    .record(*count, &self.labelled(&[("workflow_type", workflow_type), ("execution_status", name)]));
            }
        }

        // Running provisioning runs (not the workspace-lock entities) by their published stage.
        let mut by_status: BTreeMap<String, u64> = BTreeMap::new();
        let mut running = client.list_workflows(
            format!(
                "TaskQueue = '{task_queue}' AND ExecutionStatus = 'Running' AND \
                 (WorkflowType = '{PROVISION_WORKFLOW}' OR WorkflowType = '{DEPROVISION_WORKFLOW}')"
            ),
            WorkflowListOptions::default(),
        );
        while let Some(run) = running.next().await {
            let run = run.context("listing running runs")?;
            let value = run.search_attributes().get(&PROVISION_STATUS).filter(|s| !s.is_empty());
            *by_status.entry(value.unwrap_or_else(|| "none".to_owned())).or_default() += 1;
        }
        let mut seen = self.seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        seen.extend(by_status.keys().cloned());
        for label in seen.iter() {
            self.running
                .record(by_status.get(label).copied().unwrap_or(0), &self.labelled(&[("provision_status", label)]));
        }
        let waiting = by_status.get(status::search_attribute_value(status::AWAITING_APPROVAL)).copied().unwrap_or(0);
        self.approvals.record(waiting, &self.base);
        Ok(())
    }
}
