//! The worker's Prometheus endpoint (`--metrics-addr`): the Temporal SDK's own metrics, named as
//! seed 001's Python worker exports them (`temporal_workflow_completed`,
//! `temporal_activity_execution_latency_bucket`, `temporal_request`, … — no `_total` or unit
//! suffixes, durations in milliseconds), plus Ordo's domain gauges read from visibility:
//!
//! | series | labels | meaning |
//! |---|---|---|
//! | `ordo_runs` | `task_queue`, `workflow_type`, `execution_status` | runs by Temporal execution status |
//! | `ordo_running_runs` | `task_queue`, `provision_status` | running runs by `provisionStatus` (`none`: not published) |
//! | `ordo_approvals_waiting` | `task_queue` | running runs waiting for a human decision |
//! | `ordo_domain_metrics_refresh_failures` | `task_queue` | visibility reads that failed |
//!
//! Every worker on a task queue exports the same domain gauges: aggregate them with `max`. The
//! workflows add the series of [`ordo_provision::metrics`] (policy results by level, time waiting
//! for approval), counted once by whichever worker saw the event: aggregate those with `sum`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use futures::StreamExt as _;
use ordo_provision::metrics;
use ordo_provision::model::{status, DEPROVISION_WORKFLOW, PROVISION_WORKFLOW};
use ordo_provision::workflows::PROVISION_STATUS;
use temporalio_client::{Client, WorkflowCountOptions, WorkflowListOptions};
use temporalio_common::telemetry::metrics::{
    CoreMeter, MetricAttributes, MetricKeyValue, MetricParameters, NewAttributes, TemporalMeter,
};
use temporalio_common::telemetry::{
    start_prometheus_metric_exporter, HistogramBucketOverrides, PrometheusExporterOptions, TaskQueueLabelStrategy,
    TelemetryOptions,
};
use temporalio_sdk::runtime::RuntimeOptions;
use temporalio_sdk::Runtime;

/// Temporal's execution statuses, as visibility names them.
const EXECUTION_STATUSES: &[&str] =
    &["Running", "Completed", "Failed", "Canceled", "Terminated", "ContinuedAsNew", "TimedOut"];

/// The SDK runtime of a worker, with the Prometheus exporter when asked for.
pub(crate) struct Telemetry {
    pub(crate) runtime: Runtime,
    meter: Option<Arc<dyn CoreMeter>>,
}

impl Telemetry {
    /// Starts the exporter on `addr` (when given) and the runtime reporting to it.
    pub(crate) fn start(addr: Option<SocketAddr>) -> anyhow::Result<Self> {
        let Some(addr) = addr else {
            let runtime =
                Runtime::from_current_tokio(RuntimeOptions::default()).context("starting the Temporal runtime")?;
            return Ok(Self { runtime, meter: None });
        };
        let buckets = HistogramBucketOverrides {
            overrides: [(metrics::APPROVAL_WAIT.to_owned(), metrics::APPROVAL_WAIT_BUCKETS_MS.to_vec())].into(),
        };
        let options =
            PrometheusExporterOptions::builder().socket_addr(addr).histogram_bucket_overrides(buckets).build();
        let exporter = start_prometheus_metric_exporter(options)
            .with_context(|| format!("starting the Prometheus endpoint on {addr}"))?;
        let meter: Arc<dyn CoreMeter> = exporter.meter.clone();
        metrics::install(meter.clone());
        let telemetry = TelemetryOptions::builder().metrics(meter.clone()).build();
        let options = RuntimeOptions::builder().telemetry_options(telemetry).build().map_err(anyhow::Error::msg)?;
        let runtime = Runtime::from_current_tokio(options).context("starting the Temporal runtime")?;
        eprintln!("metrics on http://{}/metrics", exporter.bound_addr);
        Ok(Self { runtime, meter: Some(meter) })
    }

    /// A meter for the client's RPC metrics (`temporal_request`, `temporal_request_latency`, …),
    /// which the connection records only when created with one.
    pub(crate) fn client_meter(&self) -> Option<TemporalMeter> {
        let meter = self.meter.clone()?;
        Some(TemporalMeter::new(
            Arc::new(Prefixed(meter)),
            NewAttributes::from([MetricKeyValue::new("service_name", "temporal-core-sdk")]),
            TaskQueueLabelStrategy::UseNormal,
        ))
    }

    /// Refreshes the domain gauges every `every` until the returned handle is dropped.
    pub(crate) fn spawn_domain_gauges(&self, client: Client, task_queue: &str, every: Duration) -> Option<AbortOnDrop> {
        let meter = self.meter.clone()?;
        if task_queue.contains('\'') {
            tracing::warn!(task_queue, "no domain metrics: the task queue name cannot be quoted in a visibility query");
            return None;
        }
        let gauges = DomainGauges::new(meter, task_queue);
        let task_queue = task_queue.to_owned();
        Some(AbortOnDrop(tokio::spawn(async move {
            loop {
                if let Err(error) = gauges.refresh(&client, &task_queue).await {
                    gauges.failures.add(1, &gauges.base);
                    tracing::warn!(error = format!("{error:#}"), "refreshing domain metrics");
                }
                tokio::time::sleep(every).await;
            }
        })))
    }
}

/// Aborts the task when dropped.
pub(crate) struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

struct DomainGauges {
    meter: Arc<dyn CoreMeter>,
    base: MetricAttributes,
    runs: temporalio_common::telemetry::metrics::Gauge,
    running: temporalio_common::telemetry::metrics::Gauge,
    approvals: temporalio_common::telemetry::metrics::Gauge,
    failures: temporalio_common::telemetry::metrics::Counter,
    /// Every `provision_status` label ever reported, so one that empties goes back to 0.
    seen: std::sync::Mutex<std::collections::BTreeSet<String>>,
}

impl DomainGauges {
    fn new(meter: Arc<dyn CoreMeter>, task_queue: &str) -> Self {
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

/// Prefixes metric names with `temporal_`, as the SDK runtime does for its own metrics.
#[derive(Debug)]
struct Prefixed(Arc<dyn CoreMeter>);

impl Prefixed {
    fn rename(params: MetricParameters) -> MetricParameters {
        MetricParameters { name: format!("temporal_{}", params.name).into(), ..params }
    }
}

impl CoreMeter for Prefixed {
    fn new_attributes(&self, attribs: NewAttributes) -> MetricAttributes {
        self.0.new_attributes(attribs)
    }
    fn extend_attributes(&self, existing: MetricAttributes, attribs: NewAttributes) -> MetricAttributes {
        self.0.extend_attributes(existing, attribs)
    }
    fn counter(&self, params: MetricParameters) -> temporalio_common::telemetry::metrics::Counter {
        self.0.counter(Self::rename(params))
    }
    fn histogram(&self, params: MetricParameters) -> temporalio_common::telemetry::metrics::Histogram {
        self.0.histogram(Self::rename(params))
    }
    fn histogram_f64(&self, params: MetricParameters) -> temporalio_common::telemetry::metrics::HistogramF64 {
        self.0.histogram_f64(Self::rename(params))
    }
    fn histogram_duration(&self, params: MetricParameters) -> temporalio_common::telemetry::metrics::HistogramDuration {
        self.0.histogram_duration(Self::rename(params))
    }
    fn gauge(&self, params: MetricParameters) -> temporalio_common::telemetry::metrics::Gauge {
        self.0.gauge(Self::rename(params))
    }
    fn gauge_f64(&self, params: MetricParameters) -> temporalio_common::telemetry::metrics::GaugeF64 {
        self.0.gauge_f64(Self::rename(params))
    }
    fn up_down_counter(&self, params: MetricParameters) -> temporalio_common::telemetry::metrics::UpDownCounter {
        self.0.up_down_counter(Self::rename(params))
    }
}
