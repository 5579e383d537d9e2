//! The chaos and crash suite: several `ordo worker` processes on one task queue; a controller
//! SIGKILLs a random one every few seconds and starts a replacement, and can stop and restart the
//! dev server on the same SQLite file and port, while provisioning runs execute with the sim driver
//! failing a share of its resource operations retryably.
//!
//! Each run gets its own copy of the namespace stack. That keeps the runs independent (the
//! workspace lock would otherwise serialise them), and it makes a double apply unambiguous: a
//! fresh directory must end with every resource applied exactly once. The witness is the sim's
//! effects journal (`ordo_iac::sim::effects`), an append-only log each resource operation writes
//! before it acts, apart from the state it changes: an address in it twice is a duplicate, and so
//! is an `apply_count` above 1 in the state.
//!
//! What the histories can and cannot say: Temporal records only the last attempt of a retried
//! activity, so `apply_attempts_failed` (attempts of `terraform_apply` beyond the first, summed) is
//! exact, but it includes attempts lost to a kill (heartbeat timeout) as well as the sim driver's
//! injected failures; the injected failures therefore lie between `apply_attempts_failed - kills`
//! and `apply_attempts_failed`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use ordo_core::devserver::{free_port, DevServer, DevServerOptions};
use ordo_provision::client::ProvisionClient;
use ordo_provision::model::status;
use ordo_provision::workflows::ProvisionInfraWorkflow;
use serde::{Deserialize, Serialize};
use temporalio_client::errors::WorkflowGetResultError;
use temporalio_client::{Client, WorkflowFetchHistoryOptions, WorkflowGetResultOptions};
use temporalio_common::protos::temporal::api::history::v1::history_event::Attributes;
use tokio::task::JoinSet;

use crate::machine::Machine;
use crate::process::Managed;
use crate::workspace::{IacRoot, NAMESPACE_STACK};
use crate::{BenchError, Xorshift};

/// How long the dev server stays down during a restart.
const SERVER_DOWN_FOR: Duration = Duration::from_secs(2);
/// Runs being started at once.
const START_CONCURRENCY: usize = 16;

/// One chaos run's settings.
#[derive(Debug, Clone)]
pub struct ChaosConfig {
    /// The `ordo` binary.
    pub ordo_bin: PathBuf,
    /// The Temporal CLI.
    pub temporal_bin: PathBuf,
    /// The repository's `examples/`.
    pub examples: PathBuf,
    /// Provisioning runs, each on its own directory.
    pub runs: usize,
    /// `ordo worker` processes.
    pub workers: usize,
    /// SIGKILL a random worker this often (and start a replacement); `None`: no kills.
    pub kill_every: Option<Duration>,
    /// Stop the dev server this long after the last run was started, and start it again on the
    /// same SQLite file and port; `None`: no restart.
    pub restart_server_after: Option<Duration>,
    /// Which worker a kill tick picks.
    pub kill_policy: KillPolicy,
    /// Stop killing after this many kills (`None`: kill until every run has ended).
    pub max_kills: Option<usize>,
    /// Share of sim resource operations that fail retryably.
    pub failure_rate: f64,
    /// Simulated latency per resource operation.
    pub latency_ms: u64,
    /// Seed of the kill order.
    pub seed: u64,
    /// Give up waiting for the runs after this long.
    pub deadline: Duration,
}

/// Which worker the controller kills on each tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KillPolicy {
    /// Any worker, whatever it is doing.
    #[default]
    Random,
    /// A worker that is running a `terraform_apply` attempt right now (from the runs' pending
    /// activities); the tick is skipped when none is. This is the case that could apply twice, and
    /// it avoids killing a worker in a short step, which in Ordo today costs that run the step's
    /// 300 s start-to-close timeout.
    WhileApplying,
}

/// What a chaos run did and found.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ChaosReport {
    /// When (UTC, RFC 3339).
    pub started_at: String,
    /// Where.
    pub machine: Machine,
    /// Runs started.
    pub runs: usize,
    /// Worker processes kept alive.
    pub workers: usize,
    /// Seconds between kills.
    pub kill_every_secs: Option<f64>,
    /// Which worker a kill picked.
    pub kill_policy: KillPolicy,
    /// Seconds after the starts at which the server was restarted.
    pub restart_server_after_secs: Option<f64>,
    /// Share of sim resource operations failing.
    pub failure_rate: f64,
    /// Simulated latency per resource operation.
    pub latency_ms: u64,
    /// Seed of the kill order.
    pub seed: u64,
    /// Workers SIGKILLed.
    pub kills: usize,
    /// Workers that exited on their own and were restarted.
    pub worker_exits: usize,
    /// Dev server stops and restarts.
    pub server_restarts: usize,
    /// Runs that had already ended when the server was stopped (fewer than `runs`: the restart
    /// happened mid-flight).
    pub ended_before_restart: Option<usize>,
    /// Runs that ended `applied`.
    pub completed: usize,
    /// Runs that failed or ended otherwise.
    pub failed: usize,
    /// Runs still going at the deadline.
    pub unfinished: usize,
    /// Resources applied more than once (sum over directories).
    pub duplicates: u64,
    /// Resource operations the sim's effects journals recorded, all directories.
    pub resources_applied: u64,
    /// Resource applies expected (directories × resources per stack).
    pub resources_expected: u64,
    /// `terraform_apply` attempts beyond the first (injected failures and attempts lost to kills).
    pub apply_attempts_failed: u64,
    /// Injected failures, lower bound (`apply_attempts_failed - kills`, at least 0).
    pub injected_failures_min: u64,
    /// Injected failures, upper bound (`apply_attempts_failed`).
    pub injected_failures_max: u64,
    /// Attempts beyond the first of every other activity (lost to kills or the server restart).
    pub other_attempts_failed: u64,
    /// From the first start until every run ended (or the deadline).
    pub wall_seconds: f64,
    /// Slowest run, start to end.
    pub slowest_run_seconds: f64,
    /// First few problems, for people.
    pub problems: Vec<String>,
}

impl ChaosReport {
    /// Every run completed, none failed, nothing applied twice.
    pub fn all_good(&self) -> bool {
        self.completed == self.runs && self.failed == 0 && self.unfinished == 0 && self.duplicates == 0
    }
}

/// The workers: one slot per worker, each holding its current incarnation.
struct Pool {
    slots: Vec<Option<Managed>>,
    incarnations: usize,
    config: ChaosConfig,
    address: String,
    task_queue: String,
    iac_root: PathBuf,
    data_dir: PathBuf,
    logs: PathBuf,
}

impl Pool {
    fn spawn(&mut self, slot: usize) -> Result<(), BenchError> {
        self.incarnations += 1;
        // Bound to this process: a chaos run killed itself leaves no worker behind.
        let mut command = tokio::process::Command::from(ordo_core::devserver::bound_command(&self.config.ordo_bin));
        command
            .arg("worker")
            .env("TEMPORAL_ADDRESS", &self.address)
            .env("TEMPORAL_NAMESPACE", "default")
            .env("TEMPORAL_TASK_QUEUE", &self.task_queue)
            .env("ORDO_IAC_ROOT", &self.iac_root)
            .env("ORDO_DATA_DIR", &self.data_dir)
            .env_remove("TEMPORAL_PROFILE");
        let log = self.logs.join(format!("worker-{slot}-{}.log", self.incarnations));
        self.slots[slot] = Some(Managed::spawn(command, format!("worker {slot}"), &log)?);
        Ok(())
    }

    async fn kill(&mut self, slot: usize) -> Result<(), BenchError> {
        if let Some(worker) = self.slots[slot].take() {
            worker.kill().await;
        }
        self.spawn(slot)
    }

    /// Restarts workers that exited on their own; returns how many.
    fn revive(&mut self) -> Result<usize, BenchError> {
        let mut revived = 0;
        for slot in 0..self.slots.len() {
            let dead = self.slots[slot].as_mut().is_none_or(Managed::exited);
            if dead {
                self.spawn(slot)?;
                revived += 1;
            }
        }
        Ok(revived)
    }

    async fn stop_all(&mut self) {
        for worker in self.slots.iter_mut().filter_map(Option::take) {
            worker.stop(Duration::from_secs(5)).await;
        }
    }
}

/// How one run ended.
enum Ending {
    Applied,
    Other(String),
}

/// Runs the chaos scenario and reports what happened; a report with `all_good() == false` is a
/// finding, not an error. Errors are setup failures (no server, no workers).
pub async fn run(config: ChaosConfig) -> Result<ChaosReport, BenchError> {
    if config.runs == 0 || config.workers == 0 {
        return Err(BenchError::Setup("--runs and --workers must be at least 1".into()));
    }
    let started_at = ordo_core::time::rfc3339(std::time::SystemTime::now());
    let root = IacRoot::new(&config.examples)?;
    let dirs = root.copies(NAMESPACE_STACK, "chaos", config.runs)?;
    let resources_per_stack = stack_resources(&config.examples)?;
    let scratch = tempfile::Builder::new()
        .prefix("ordo-chaos-")
        .tempdir()
        .map_err(|e| BenchError::io("creating a scratch directory", e))?;
    let data_dir = scratch.path().join("data");
    let logs = scratch.path().join("logs");
    for dir in [&data_dir, &logs] {
        std::fs::create_dir_all(dir).map_err(|e| BenchError::io(format!("creating {}", dir.display()), e))?;
    }
    // A fixed port and a SQLite file, so a restarted server is the same server to every client.
    let server_options = DevServerOptions {
        binary: config.temporal_bin.clone(),
        db_file: Some(scratch.path().join("temporal.sqlite")),
        port: free_port().map_err(|e| BenchError::io("finding a free port", e))?,
        ui_port: None,
        ui_codec_endpoint: None,
        namespace: "default".into(),
        log_file: Some(logs.join("server.log")),
    };
    let mut server = Some(start_server(&server_options).await?);
    let address = format!("127.0.0.1:{}", server_options.port);
    let temporal = ordo_core::TemporalArgs::at(address.clone());
    let client =
        ordo_core::connect(&temporal).await.map_err(|e| BenchError::temporal("connecting", format!("{e:#}")))?;
    ordo_core::search_attributes::register(&client, "default", ordo_provision::SEARCH_ATTRIBUTES)
        .await
        .map_err(|e| BenchError::temporal("registering search attributes", format!("{e:#}")))?;
    let task_queue = format!("chaos-{}", uuid::Uuid::new_v4().simple());
    let mut pool = Pool {
        slots: (0..config.workers).map(|_| None).collect(),
        incarnations: 0,
        config: config.clone(),
        address,
        task_queue: task_queue.clone(),
        iac_root: root.path().to_path_buf(),
        data_dir: data_dir.clone(),
        logs: logs.clone(),
    };
    pool.revive()?;

    let began = Instant::now();
    let deadline = began + config.deadline;
    let provision = ProvisionClient::new(client.clone(), task_queue);
    // Each run is started and awaited by a task of its own, so the controller kills workers from
    // the first start on; a channel tells the controller which runs have started.
    let (started_tx, mut started_rx) = tokio::sync::mpsc::unbounded_channel::<Option<String>>();
    let gate = std::sync::Arc::new(tokio::sync::Semaphore::new(START_CONCURRENCY));
    let mut waiters = JoinSet::new();
    for dir in dirs.clone() {
        let mut request = crate::provision::bench_request(dir.clone());
        request.sim.latency_ms = Some(config.latency_ms);
        request.sim.failure_rate = Some(config.failure_rate);
        let (provision, client, started, gate) = (provision.clone(), client.clone(), started_tx.clone(), gate.clone());
        waiters.spawn(async move {
            let t = Instant::now();
            let permit = gate.acquire_owned().await;
            let id = match provision.start(&request, false).await {
                Ok(id) => id,
                Err(e) => {
                    let _ = started.send(None);
                    return (dir, Ok(Ending::Other(format!("start failed: {e:#}"))), t.elapsed());
                }
            };
            drop(permit);
            let _ = started.send(Some(id.clone()));
            let ending = wait_for_end(&client, &id, deadline).await;
            (id, ending, t.elapsed())
        });
    }
    drop(started_tx);
    let mut ids = Vec::with_capacity(dirs.len());
    let mut starts = 0;

    let mut report = ChaosReport {
        started_at,
        machine: Machine::describe(&config.temporal_bin),
        runs: config.runs,
        workers: config.workers,
        kill_every_secs: config.kill_every.map(|d| d.as_secs_f64()),
        kill_policy: config.kill_policy,
        restart_server_after_secs: config.restart_server_after.map(|d| d.as_secs_f64()),
        failure_rate: config.failure_rate,
        latency_ms: config.latency_ms,
        seed: config.seed,
        ..ChaosReport::default()
    };
    let mut rng = Xorshift::new(config.seed);
    let mut kill_tick = config.kill_every.map(|every| {
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick
    });
    // The restart is timed from the moment every run has been started.
    let mut restart_at: Option<tokio::time::Instant> = None;
    let mut restarted = false;
    let mut health = tokio::time::interval(Duration::from_millis(500));
    let mut slowest = Duration::ZERO;
    let mut finished = 0;
    while finished < dirs.len() {
        tokio::select! {
            Some(started) = started_rx.recv() => {
                starts += 1;
                ids.extend(started);
                if starts == dirs.len() {
                    restart_at = config.restart_server_after.map(|after| tokio::time::Instant::now() + after);
                }
            }
            joined = waiters.join_next() => {
                let Some(joined) = joined else { break };
                finished += 1;
                let (id, ending, took) = joined.map_err(|e| BenchError::Process(format!("a waiter panicked: {e}")))?;
                slowest = slowest.max(took);
                match ending {
                    Ok(Ending::Applied) => report.completed += 1,
                    Ok(Ending::Other(why)) => {
                        report.failed += 1;
                        note(&mut report.problems, format!("{id}: {why}"));
                    }
                    Err(why) => {
                        report.unfinished += 1;
                        note(&mut report.problems, format!("{id}: {why}"));
                    }
                }
            }
            _ = async { kill_tick.as_mut().expect("guarded").tick().await }, if kill_tick.is_some()
                && config.max_kills.is_none_or(|max| report.kills < max) => {
                let slot = match config.kill_policy {
                    KillPolicy::Random => Some(rng.below(config.workers)),
                    KillPolicy::WhileApplying => {
                        let applying = applying_pids(&client, &ids).await;
                        let slots: Vec<usize> = (0..config.workers)
                            .filter(|s| pool.slots[*s].as_ref().is_some_and(|w| applying.contains(&w.pid())))
                            .collect();
                        (!slots.is_empty()).then(|| slots[rng.below(slots.len())])
                    }
                };
                if let Some(slot) = slot {
                    pool.kill(slot).await?;
                    report.kills += 1;
                }
            }
            _ = async { tokio::time::sleep_until(restart_at.expect("guarded")).await }, if restart_at.is_some() && !restarted => {
                restarted = true;
                report.ended_before_restart = Some(finished);
                if let Some(running) = server.take() {
                    running.stop().await.map_err(|e| BenchError::Process(format!("stopping the dev server: {e:#}")))?;
                }
                tokio::time::sleep(SERVER_DOWN_FOR).await;
                server = Some(start_server(&server_options).await?);
                report.server_restarts += 1;
            }
            _ = health.tick() => {
                report.worker_exits += pool.revive()?;
            }
        }
    }
    report.wall_seconds = began.elapsed().as_secs_f64();
    report.slowest_run_seconds = slowest.as_secs_f64();
    pool.stop_all().await;

    // The effects journal of every directory: each resource applied exactly once.
    let state_root = data_dir.join("sim");
    report.resources_expected = resources_per_stack * dirs.len() as u64;
    for dir in &dirs {
        let path = root.path().join(dir);
        let effects = ordo_iac::sim::effects(&state_root, &path)
            .map_err(|e| BenchError::Process(format!("reading the sim effects of {dir}: {e}")))?;
        let summary = ordo_iac::sim::state_summary(&state_root, &path)
            .map_err(|e| BenchError::Process(format!("reading the sim state of {dir}: {e}")))?;
        report.resources_applied += effects.len() as u64;
        let mut per_address: HashMap<&str, u64> = HashMap::new();
        for effect in &effects {
            *per_address.entry(effect.address.as_str()).or_default() += 1;
        }
        let journalled: u64 = per_address.values().map(|c| c.saturating_sub(1)).sum();
        let counted: u64 = summary.apply_counts.values().map(|c| c.saturating_sub(1)).sum();
        let duplicates = journalled.max(counted);
        if duplicates > 0 {
            note(&mut report.problems, format!("{dir}: {duplicates} duplicate applies ({summary:?})"));
        }
        report.duplicates += duplicates;
    }
    // Retries, from the histories (only when the server is still there to ask).
    for id in &ids {
        match attempts(&client, id).await {
            Ok((apply, other)) => {
                report.apply_attempts_failed += apply;
                report.other_attempts_failed += other;
            }
            Err(e) => note(&mut report.problems, format!("{id}: history: {e}")),
        }
    }
    report.injected_failures_max = report.apply_attempts_failed;
    report.injected_failures_min = report.apply_attempts_failed.saturating_sub(report.kills as u64);
    if let Some(server) = server {
        let _ = server.stop().await;
    }
    Ok(report)
}

fn note(problems: &mut Vec<String>, problem: String) {
    if problems.len() < 20 {
        problems.push(problem);
    }
}

async fn start_server(options: &DevServerOptions) -> Result<DevServer, BenchError> {
    DevServer::start(options.clone()).await.map_err(|e| BenchError::Process(format!("starting the dev server: {e:#}")))
}

/// The number of resources in the namespace stack.
fn stack_resources(examples: &std::path::Path) -> Result<u64, BenchError> {
    let path = examples.join(NAMESPACE_STACK).join("stack.json");
    let text = std::fs::read_to_string(&path).map_err(|e| BenchError::io(format!("reading {}", path.display()), e))?;
    let stack: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| BenchError::Setup(format!("{} is not JSON: {e}", path.display())))?;
    Ok(stack["resources"].as_array().map_or(0, Vec::len) as u64)
}

/// Waits for run `id` to end, riding out connection errors (server restarts) until `deadline`.
async fn wait_for_end(client: &Client, id: &str, deadline: Instant) -> Result<Ending, String> {
    let handle = client.get_workflow_handle::<ProvisionInfraWorkflow>(id);
    let mut last_error = String::new();
    while Instant::now() < deadline {
        let remaining = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(remaining, handle.get_result(WorkflowGetResultOptions::default())).await {
            Err(_) => break,
            Ok(Ok(result)) if result.status == status::APPLIED => return Ok(Ending::Applied),
            Ok(Ok(result)) => return Ok(Ending::Other(format!("ended {:?}", result.status))),
            Ok(Err(WorkflowGetResultError::Failed(f))) => {
                return Ok(Ending::Other(format!("failed: {}", f.failure().message)))
            }
            Ok(Err(e)) => {
                // Unavailable while the server restarts: ask again.
                last_error = e.to_string();
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
    Err(format!("not finished at the deadline (last error: {last_error})"))
}

/// Process ids of the workers running a `terraform_apply` attempt now, from the pending
/// activities of `ids` (the SDK's default worker identity is `<pid>@<host>`).
async fn applying_pids(client: &Client, ids: &[String]) -> Vec<u32> {
    use temporalio_client::WorkflowDescribeOptions;
    use temporalio_common::protos::temporal::api::enums::v1::PendingActivityState;
    let mut pids = Vec::new();
    for id in ids {
        let handle = client.get_workflow_handle::<ProvisionInfraWorkflow>(id.clone());
        let Ok(description) = handle.describe(WorkflowDescribeOptions::default()).await else {
            continue;
        };
        for activity in &description.raw().pending_activities {
            let applying = activity.activity_type.as_ref().is_some_and(|t| t.name == "terraform_apply")
                && activity.state == PendingActivityState::Started as i32;
            if let Some(pid) =
                applying.then(|| activity.last_worker_identity.split('@').next()).flatten().and_then(|p| p.parse().ok())
            {
                pids.push(pid);
            }
        }
    }
    pids
}

/// Attempts beyond the first: of `terraform_apply`, and of every other activity.
async fn attempts(client: &Client, id: &str) -> Result<(u64, u64), String> {
    let events = client
        .get_workflow_handle::<ProvisionInfraWorkflow>(id)
        .fetch_history(WorkflowFetchHistoryOptions::default())
        .into_events()
        .await
        .map_err(|e| e.to_string())?;
    let mut types: HashMap<i64, String> = HashMap::new();
    let (mut apply, mut other) = (0u64, 0u64);
    for event in &events {
        match &event.attributes {
            Some(Attributes::ActivityTaskScheduledEventAttributes(a)) => {
                types.insert(event.event_id, a.activity_type.as_ref().map(|t| t.name.clone()).unwrap_or_default());
            }
            Some(Attributes::ActivityTaskStartedEventAttributes(a)) => {
                let extra = u64::try_from(a.attempt.saturating_sub(1)).unwrap_or(0);
                if types.get(&a.scheduled_event_id).map(String::as_str) == Some("terraform_apply") {
                    apply += extra;
                } else {
                    other += extra;
                }
            }
            _ => {}
        }
    }
    Ok((apply, other))
}
