//! `ordo-bench hooks`: seed 004's workflow client, `POST /invoke/{client}`, as Ordo serves it
//! (Ordo's API in this process, starting each workflow through the shared Temporal client) against
//! the seed's design on the same dev server: per request, the spec written to a temp file
//! (`/tmp/<client>.*.json`, mode 0444, as its HTTP server did) and one process exec'd to start it —
//! the Temporal CLI's `workflow start --input-file`, the closest stand-in here for the seed's
//! `/opt/emco/workflowclient -a <file>` (a Go binary that connects, starts, exits).
//!
//! Measured, side by side in one run: Ordo at a fixed rate (`--rate`, 200/s by default) for a fixed
//! count, its p50/p99, beside its floor: the Temporal client alone starting the same workflows
//! (no HTTP) at the same rate and count — the dev server's own start latency, which `/invoke`
//! cannot go under (the two interleaved in halves, Ordo, floor, floor, Ordo, so neither gets the
//! fresher server). Then both designs at the same concurrency for a fixed count each: requests/s
//! and p50/p99, with the Temporal client alone (the dev server's ceiling on this machine) as a
//! reference. Every workflow started is counted back from Temporal's visibility (one task queue
//! per subject and phase, polled by nobody: the workflows only need to start, as the seed's client
//! only starts).

use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ordo_api::auth::token_sha256;
use ordo_api::{AppConfig, AppState, Users};
use ordo_core::devserver::{DevServer, DevServerOptions};
use ordo_hooks::client::HooksClient;
use ordo_hooks::store::Store;
use serde::{Deserialize, Serialize};
use temporalio_client::grpc::WorkflowService as _;
use temporalio_client::tonic::Request;
use temporalio_common::protos::temporal::api::workflowservice::v1::CountWorkflowExecutionsRequest;

use crate::machine::Machine;
use crate::stats::{summarize, LatencySummary};
use crate::BenchError;

/// The bearer token the benchmark's API accepts.
const TOKEN: &str = "ordo-bench-hooks";

/// What to measure.
#[derive(Debug, Clone)]
pub struct HooksBenchConfig {
    /// The Temporal CLI: the dev server, and the per-process starter.
    pub temporal_bin: PathBuf,
    /// Requests sent to Ordo at `rate`.
    pub rate_requests: usize,
    /// Requests per second of the fixed-rate phase.
    pub rate: u32,
    /// Requests per subject in the throughput phase.
    pub requests: usize,
    /// Requests of the per-process design in the throughput phase (it is much slower).
    pub process_requests: usize,
    /// Requests in flight in the throughput phase, for both subjects.
    pub concurrency: usize,
}

/// One subject's numbers in one phase.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PhaseResult {
    /// `ordo-invoke` or `process-per-request`.
    pub subject: String,
    /// `fixed-rate` or `throughput`.
    pub phase: String,
    /// Requests sent.
    pub requests: usize,
    /// Requests in flight (throughput) or the rate (fixed-rate).
    pub load: String,
    /// Requests per second over the phase (first send to last answer).
    pub requests_per_sec: f64,
    /// Latency of the successful requests.
    pub latency: LatencySummary,
    /// Requests that failed (non-204 answers, non-zero exits).
    pub failed: usize,
    /// Workflows on the subject's task queue, counted back from visibility.
    pub workflows_started: u64,
    /// The p99 of each part, in the order they ran, when the phase ran in parts (the fixed-rate
    /// halves): how far the server drifted or the machine's load moved between them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts_p99_ms: Vec<f64>,
}

/// The report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HooksReport {
    /// When it started (RFC 3339).
    pub started_at: String,
    /// Where.
    pub machine: Machine,
    /// `/proc/loadavg` at start.
    pub load_average: String,
    /// What was run.
    pub invocation: String,
    /// Every phase.
    pub results: Vec<PhaseResult>,
    /// Ordo's throughput over the per-process design's, same concurrency.
    pub throughput_ratio: f64,
    /// Ordo's fixed-rate latency against its floor's.
    pub floor: FloorComparison,
    /// Whether Ordo's fixed-rate p99 is at most 20 ms.
    pub p99_goal_met: bool,
    /// Whether the throughput ratio is at least 50.
    pub ratio_goal_met: bool,
}

/// `/invoke` at the fixed rate against its floor, the Temporal client alone at the same rate and
/// count: how much of `/invoke`'s latency is the dev server's own start latency.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct FloorComparison {
    /// `/invoke`'s p50.
    pub invoke_p50_ms: f64,
    /// The floor's p50.
    pub floor_p50_ms: f64,
    /// `/invoke`'s p99.
    pub invoke_p99_ms: f64,
    /// The floor's p99.
    pub floor_p99_ms: f64,
    /// `/invoke`'s p99 minus the floor's: what Ordo (HTTP, the token, parsing) adds at p99.
    pub p99_over_floor_ms: f64,
    /// `/invoke`'s p99 over the floor's.
    pub p99_ratio: f64,
    /// The floor's p99 over `/invoke`'s: the share of `/invoke`'s p99 that is the server's own.
    pub floor_share_of_p99: f64,
    /// Whether the floor's own p99 is at most 20 ms (if not, no client of this server meets the
    /// p99 goal).
    pub floor_within_p99_goal: bool,
}

impl FloorComparison {
    /// Compares `invoke` with `floor`.
    pub fn new(invoke: &LatencySummary, floor: &LatencySummary) -> Self {
        Self {
            invoke_p50_ms: invoke.p50_ms,
            floor_p50_ms: floor.p50_ms,
            invoke_p99_ms: invoke.p99_ms,
            floor_p99_ms: floor.p99_ms,
            p99_over_floor_ms: invoke.p99_ms - floor.p99_ms,
            p99_ratio: invoke.p99_ms / floor.p99_ms,
            floor_share_of_p99: floor.p99_ms / invoke.p99_ms,
            floor_within_p99_goal: floor.p99_ms <= P99_GOAL_MS,
        }
    }
}

/// The goal for `/invoke`'s p99 at the fixed rate.
pub const P99_GOAL_MS: f64 = 20.0;

/// The goal for `/invoke`'s throughput over the per-process design's.
pub const RATIO_GOAL: f64 = 50.0;

/// The seed's body: a `WfTemporalSpec` with an id of its own, on `task_queue`.
fn spec(task_queue: &str, n: usize) -> serde_json::Value {
    serde_json::json!({
        "workflowClientName": "bench_workflowclient",
        "workflowStartOptions": {"ID": format!("{task_queue}-{n}"), "TaskQueue": task_queue,
                                 "RetryPolicy": {"MaximumAttempts": 2}},
        "workflowParams": {"activityParams": {"hello": {"name": format!("request {n}")}}},
    })
}

/// Runs the benchmark on a dev server of its own.
pub async fn run(config: HooksBenchConfig) -> Result<HooksReport, BenchError> {
    if config.requests == 0 || config.process_requests == 0 || config.concurrency == 0 || config.rate == 0 {
        return Err(BenchError::Setup("every count, the rate and the concurrency must be at least 1".into()));
    }
    let started_at = ordo_core::time::rfc3339(std::time::SystemTime::now());
    let machine = Machine::describe(&config.temporal_bin);
    let load_average = std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    let server = DevServer::start(DevServerOptions::ephemeral(config.temporal_bin.clone()))
        .await
        .map_err(|e| BenchError::Process(format!("starting the dev server: {e:#}")))?;
    let address = server.address().to_owned();
    let client = ordo_core::connect(&ordo_core::TemporalArgs::at(address.clone()))
        .await
        .map_err(|e| BenchError::temporal("connecting", format!("{e:#}")))?;

    // Ordo's API in this process, on a free loopback port, as `ordo serve` runs it.
    let data = tempfile::tempdir().map_err(|e| BenchError::io("creating a data directory", e))?;
    let store = Store::open(None, data.path()).await.map_err(|e| BenchError::Setup(format!("hooks store: {e}")))?;
    let users = Users::from_toml(&format!(
        "[[user]]\nname = \"bench\"\nrole = \"requester\"\ntoken_sha256 = \"{}\"\n",
        token_sha256(TOKEN)
    ))
    .map_err(|e| BenchError::Setup(format!("users: {e}")))?;
    let hooks = HooksClient::new(client.clone(), store, ordo_hooks::TASK_QUEUE, "http://127.0.0.1");
    let state = AppState::builder(&client, AppConfig::new(users)).with(hooks).build();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| BenchError::io("binding", e))?;
    let url = format!(
        "http://{}/invoke/bench_workflowclient",
        listener.local_addr().map_err(|e| BenchError::io("address", e))?
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(ordo_api::serve(listener, state, async {
        let _ = stopped.await;
    }));
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(config.concurrency.max(64))
        .build()
        .map_err(|e| BenchError::Setup(format!("HTTP client: {e}")))?;
    let invoke = Arc::new(Invoke { http, url });

    let mut results = Vec::new();
    // Warm-up (connections, the namespace's caches), not measured; both ways of starting.
    let direct = Arc::new(DirectStart { client: client.clone() });
    closed_loop(&invoke, &queue("warm"), 20, 4).await;
    closed_loop(&direct, &queue("warm-direct"), 20, 4).await;

    // `/invoke` and its floor at the same rate and count, interleaved in halves: Ordo, floor,
    // floor, Ordo (the server's history grows as it goes; neither subject gets only the fresh one).
    let (queue_rate, queue_floor) = (queue("ordo-rate"), queue("direct-rate"));
    let first = config.rate_requests.div_ceil(2);
    let halves = [0..first, first..config.rate_requests];
    eprintln!(
        "hooks: Ordo and the Temporal client alone at {}/s, {} requests each, in halves …",
        config.rate, config.rate_requests
    );
    let mut ordo_rate = Sent::default();
    let mut floor_rate = Sent::default();
    ordo_rate.add(fixed_rate(&invoke, &queue_rate, halves[0].clone(), config.rate).await);
    floor_rate.add(fixed_rate(&direct, &queue_floor, halves[0].clone(), config.rate).await);
    floor_rate.add(fixed_rate(&direct, &queue_floor, halves[1].clone(), config.rate).await);
    ordo_rate.add(fixed_rate(&invoke, &queue_rate, halves[1].clone(), config.rate).await);
    let rate_load = format!("{}/s", config.rate);
    for (subject, sent, task_queue) in
        [("ordo-invoke", ordo_rate, &queue_rate), ("temporal-client-alone", floor_rate, &queue_floor)]
    {
        let started = count(&client, task_queue).await?;
        results.push(phase(subject, "fixed-rate", config.rate_requests, rate_load.clone(), &sent, started));
    }

    let queue_ordo = queue("ordo-throughput");
    eprintln!("hooks: Ordo, {} requests at {} in flight …", config.requests, config.concurrency);
    let sent = closed_loop(&invoke, &queue_ordo, config.requests, config.concurrency).await;
    let in_flight = format!("{} in flight", config.concurrency);
    results.push(phase(
        "ordo-invoke",
        "throughput",
        config.requests,
        in_flight.clone(),
        &sent,
        count(&client, &queue_ordo).await?,
    ));

    // The ceiling: the same starts through the Temporal client alone, no HTTP (what the dev server
    // itself can take on this machine).
    let queue_direct = queue("direct");
    eprintln!("hooks: the Temporal client alone, {} starts at {} in flight …", config.requests, config.concurrency);
    let sent = closed_loop(&direct, &queue_direct, config.requests, config.concurrency).await;
    results.push(phase(
        "temporal-client-alone",
        "throughput",
        config.requests,
        in_flight.clone(),
        &sent,
        count(&client, &queue_direct).await?,
    ));

    let queue_process = queue("process");
    eprintln!(
        "hooks: a process per request, {} requests at {} in flight …",
        config.process_requests, config.concurrency
    );
    let starter = Arc::new(ProcessStarter { temporal_bin: config.temporal_bin.clone(), address });
    let sent = closed_loop(&starter, &queue_process, config.process_requests, config.concurrency).await;
    results.push(phase(
        "process-per-request",
        "throughput",
        config.process_requests,
        in_flight,
        &sent,
        count(&client, &queue_process).await?,
    ));

    let _ = stop.send(());
    let _ = serving.await;
    drop(client);
    server.stop().await.map_err(|e| BenchError::Process(format!("stopping the dev server: {e:#}")))?;

    let find = |subject: &str, phase: &str| {
        results.iter().find(|p| p.subject == subject && p.phase == phase).expect("every phase was measured")
    };
    let throughput_ratio =
        find("ordo-invoke", "throughput").requests_per_sec / find("process-per-request", "throughput").requests_per_sec;
    let (invoke_rate, floor_rate) = (find("ordo-invoke", "fixed-rate"), find("temporal-client-alone", "fixed-rate"));
    let floor = FloorComparison::new(&invoke_rate.latency, &floor_rate.latency);
    let p99_goal_met = invoke_rate.latency.p99_ms <= P99_GOAL_MS;
    Ok(HooksReport {
        started_at,
        machine,
        load_average,
        invocation: format!(
            "ordo-bench hooks --rate {} --rate-requests {} --requests {} --process-requests {} --concurrency {}",
            config.rate, config.rate_requests, config.requests, config.process_requests, config.concurrency
        ),
        floor,
        p99_goal_met,
        ratio_goal_met: throughput_ratio >= RATIO_GOAL,
        throughput_ratio,
        results,
    })
}

/// A task queue of its own for one phase.
fn queue(name: &str) -> String {
    format!("bench-hooks-{name}-{}", uuid::Uuid::new_v4().simple())
}

/// What one subject's sends came to: the latencies of the successes, the failures and the time
/// sending took (first send to last answer, summed over the parts of a phase).
#[derive(Debug, Default)]
struct Sent {
    latencies: Vec<Duration>,
    failed: usize,
    elapsed: Duration,
    /// Each added part's p99.
    parts_p99_ms: Vec<f64>,
}

impl Sent {
    /// Adds a part of the phase.
    fn add(&mut self, part: Sent) {
        self.parts_p99_ms.push(summarize(&part.latencies).p99_ms);
        self.latencies.extend(part.latencies);
        self.failed += part.failed;
        self.elapsed += part.elapsed;
    }

    fn from_outcomes(outcomes: Vec<(bool, Duration)>, elapsed: Duration) -> Self {
        let failed = outcomes.iter().filter(|(ok, _)| !ok).count();
        let latencies = outcomes.into_iter().filter(|(ok, _)| *ok).map(|(_, d)| d).collect();
        Self { latencies, failed, elapsed, parts_p99_ms: Vec::new() }
    }
}

fn phase(
    subject: &str,
    phase: &str,
    requests: usize,
    load: String,
    sent: &Sent,
    workflows_started: u64,
) -> PhaseResult {
    PhaseResult {
        subject: subject.into(),
        phase: phase.into(),
        requests,
        load,
        requests_per_sec: requests as f64 / sent.elapsed.as_secs_f64(),
        latency: summarize(&sent.latencies),
        failed: sent.failed,
        workflows_started,
        parts_p99_ms: sent.parts_p99_ms.clone(),
    }
}

/// How many workflows visibility lists on `task_queue` (waiting until the count settles:
/// visibility lags the starts a little).
async fn count(client: &temporalio_client::Client, task_queue: &str) -> Result<u64, BenchError> {
    let mut last = u64::MAX;
    for _ in 0..50 {
        let request = CountWorkflowExecutionsRequest {
            namespace: "default".into(),
            query: format!("TaskQueue = '{task_queue}'"),
        };
        let n = client
            .clone()
            .count_workflow_executions(Request::new(request))
            .await
            .map_err(|e| BenchError::temporal("counting workflows", e.to_string()))?
            .into_inner()
            .count as u64;
        if n == last {
            return Ok(n);
        }
        last = n;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    Ok(last)
}

/// Starts one workflow, the subject's way; whether it started.
trait Start: Send + Sync + 'static {
    fn start(&self, task_queue: &str, n: usize) -> impl std::future::Future<Output = bool> + Send;
}

/// Ordo: `POST /invoke/{client}` with a bearer token; 204 is a start.
struct Invoke {
    http: reqwest::Client,
    url: String,
}

impl Start for Invoke {
    async fn start(&self, task_queue: &str, n: usize) -> bool {
        let body = spec(task_queue, n).to_string();
        let sent = self
            .http
            .post(&self.url)
            .bearer_auth(TOKEN)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await;
        matches!(sent, Ok(response) if response.status() == reqwest::StatusCode::NO_CONTENT)
    }
}

/// The reference ceiling: the spec parsed and started through the Temporal client, no HTTP.
struct DirectStart {
    client: temporalio_client::Client,
}

impl Start for DirectStart {
    async fn start(&self, task_queue: &str, n: usize) -> bool {
        match ordo_hooks::spec::WfTemporalSpec::parse(&spec(task_queue, n), "") {
            Ok(parsed) => ordo_hooks::starter::start(&self.client, &parsed).await.is_ok(),
            Err(_) => false,
        }
    }
}

/// The seed's design: the spec to a read-only temp file, one process per request starting it.
struct ProcessStarter {
    temporal_bin: PathBuf,
    address: String,
}

impl Start for ProcessStarter {
    async fn start(&self, task_queue: &str, n: usize) -> bool {
        let spec = spec(task_queue, n);
        // The seed's http_server: os.CreateTemp("/tmp", "<client>.*.json"), written, chmod 0444.
        let Ok(file) = tempfile::Builder::new().prefix("bench_workflowclient.").suffix(".json").tempfile_in("/tmp")
        else {
            return false;
        };
        let params = spec["workflowParams"].to_string();
        if std::fs::write(file.path(), &params).is_err() {
            return false;
        }
        use std::os::unix::fs::PermissionsExt as _;
        let _ = std::fs::set_permissions(file.path(), std::fs::Permissions::from_mode(0o444));
        let status = tokio::process::Command::new(&self.temporal_bin)
            .args(["workflow", "start", "--address", &self.address, "--namespace", "default"])
            .args(["--task-queue", task_queue, "--type", task_queue])
            .args(["--workflow-id", spec["workflowStartOptions"]["ID"].as_str().unwrap_or_default()])
            .arg("--input-file")
            .arg(file.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .status()
            .await;
        matches!(status, Ok(s) if s.success())
    }
}

/// `requests` starts, `concurrency` at a time.
async fn closed_loop<S: Start>(subject: &Arc<S>, task_queue: &str, requests: usize, concurrency: usize) -> Sent {
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let began = Instant::now();
    let lanes: Vec<_> = (0..concurrency)
        .map(|_| {
            let (subject, next, task_queue) = (Arc::clone(subject), Arc::clone(&next), task_queue.to_owned());
            tokio::spawn(async move {
                let mut done = Vec::new();
                loop {
                    let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if n >= requests {
                        return done;
                    }
                    let sent = Instant::now();
                    let ok = subject.start(&task_queue, n).await;
                    done.push((ok, sent.elapsed()));
                }
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for lane in lanes {
        outcomes.extend(lane.await.unwrap_or_default());
    }
    Sent::from_outcomes(outcomes, began.elapsed())
}

/// Starts numbered `numbers`, sent at `rate` per second whatever the answers (an open
/// loop: a slow answer does not delay the next send).
async fn fixed_rate<S: Start>(subject: &Arc<S>, task_queue: &str, numbers: Range<usize>, rate: u32) -> Sent {
    let mut ticks = tokio::time::interval(Duration::from_secs(1) / rate);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let began = Instant::now();
    let mut sends = Vec::with_capacity(numbers.len());
    for n in numbers {
        ticks.tick().await;
        let (subject, task_queue) = (Arc::clone(subject), task_queue.to_owned());
        sends.push(tokio::spawn(async move {
            let sent = Instant::now();
            let ok = subject.start(&task_queue, n).await;
            (ok, sent.elapsed())
        }));
    }
    let mut outcomes = Vec::new();
    for send in sends {
        outcomes.extend(send.await.ok());
    }
    Sent::from_outcomes(outcomes, began.elapsed())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn latency(p50_ms: f64, p99_ms: f64) -> LatencySummary {
        LatencySummary { count: 100, p50_ms, p99_ms, max_ms: p99_ms, mean_ms: p50_ms }
    }

    /// `/invoke` at p99 60 ms over a floor at 50 ms: 10 ms over it, 1.2 ×, the floor 5/6 of it.
    #[test]
    fn the_floor_comparison_is_invoke_minus_and_over_the_floor() {
        let f = FloorComparison::new(&latency(12.0, 60.0), &latency(10.0, 50.0));
        assert_eq!((f.invoke_p50_ms, f.floor_p50_ms, f.invoke_p99_ms, f.floor_p99_ms), (12.0, 10.0, 60.0, 50.0));
        assert_eq!(f.p99_over_floor_ms, 10.0);
        assert!((f.p99_ratio - 1.2).abs() < 1e-9, "{f:?}");
        assert!((f.floor_share_of_p99 - 50.0 / 60.0).abs() < 1e-9, "{f:?}");
        assert!(!f.floor_within_p99_goal);
        assert!(FloorComparison::new(&latency(5.0, 30.0), &latency(4.0, 20.0)).floor_within_p99_goal);
    }
}
