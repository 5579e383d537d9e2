//! The worker's Prometheus endpoint (`--metrics-addr`): the Temporal SDK's own metrics, named as
//! seed 001's Python worker exports them (`temporal_workflow_completed`,
//! `temporal_activity_execution_latency_bucket`, `temporal_request`, … — no `_total` or unit
//! suffixes, durations in milliseconds), plus each hosted domain's series (its gauges and what
//! its workflows record through [`ordo_core::metrics`]).

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use temporalio_common::telemetry::metrics::{
    CoreMeter, MetricAttributes, MetricKeyValue, MetricParameters, NewAttributes, TemporalMeter,
};
use temporalio_common::telemetry::{
    start_prometheus_metric_exporter, HistogramBucketOverrides, PrometheusExporterOptions, TaskQueueLabelStrategy,
    TelemetryOptions,
};
use temporalio_sdk_core::{CoreRuntime, RuntimeOptions};

/// The Temporal core runtime of a worker, with the Prometheus exporter when asked for. Core's own,
/// not the SDK's `Runtime` wrapper: the worker builds its core workers itself, to keep a handle on
/// each for idle-run eviction (see [`super::idle`]).
pub(crate) struct Telemetry {
    pub(crate) runtime: CoreRuntime,
    meter: Option<Arc<dyn CoreMeter>>,
}

impl Telemetry {
    /// Starts the exporter on `addr` (when given) and the runtime reporting to it.
    /// `buckets` are the hosted domains' histogram boundaries, by series name.
    pub(crate) fn start(addr: Option<SocketAddr>, buckets: Vec<(String, Vec<f64>)>) -> anyhow::Result<Self> {
        let Some(addr) = addr else {
            let options = RuntimeOptions::builder().build().map_err(anyhow::Error::msg)?;
            let runtime = CoreRuntime::new_assume_tokio(options).context("starting the Temporal runtime")?;
            return Ok(Self { runtime, meter: None });
        };
        let mut overrides =
            vec![(ordo_core::metrics::APPROVAL_WAIT.to_owned(), ordo_core::metrics::APPROVAL_WAIT_BUCKETS_MS.to_vec())];
        overrides.extend(buckets);
        let buckets = HistogramBucketOverrides { overrides: overrides.into_iter().collect() };
        let options =
            PrometheusExporterOptions::builder().socket_addr(addr).histogram_bucket_overrides(buckets).build();
        let exporter = start_prometheus_metric_exporter(options)
            .with_context(|| format!("starting the Prometheus endpoint on {addr}"))?;
        let meter: Arc<dyn CoreMeter> = exporter.meter.clone();
        ordo_core::metrics::install(meter.clone());
        let telemetry = TelemetryOptions::builder().metrics(meter.clone()).build();
        let options = RuntimeOptions::builder().telemetry_options(telemetry).build().map_err(anyhow::Error::msg)?;
        let runtime = CoreRuntime::new_assume_tokio(options).context("starting the Temporal runtime")?;
        eprintln!("metrics on http://{}/metrics", exporter.bound_addr);
        Ok(Self { runtime, meter: Some(meter) })
    }

    /// The Prometheus meter, when metrics are on.
    pub(crate) fn meter(&self) -> Option<Arc<dyn CoreMeter>> {
        self.meter.clone()
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
}

/// A background task, aborted when dropped.
pub(crate) struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl AbortOnDrop {
    /// Spawns `task`.
    pub(crate) fn spawn(task: futures::future::BoxFuture<'static, ()>) -> Self {
        Self(tokio::spawn(task))
    }
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
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
