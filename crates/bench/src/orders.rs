//! `ordo-bench orders`: seed 002's pizza orders, on one dev server.
//!
//! **Throughput.** Ordo's `PizzaWorkflow` (an `ordo worker --domains orders` process, every
//! kitchen step 0 ms, no failures) against the skeleton reference with the same commands (the
//! upserts and activities of a real order's history, counted by [`crate::shape`]; no-op
//! activities), each on a fresh worker process and task queue, in interleaved rounds: orders/s,
//! end-to-end latency (place → result), worker CPU per order, ratios.
//!
//! **Chaos.** Checkpoint 2 at size: `ordo_orders::chaos` runs N `ordo worker --domains orders`
//! processes, SIGKILLs a random one every so often and starts a replacement, with a share of
//! kitchen steps failing retryably; a stream of orders goes through it. Reported: delivered,
//! rejected, failed (must be 0), unfinished, kills, injected failures, the effects ledger's
//! evidence (each step of each make applied once; attempts that found their effect applied and
//! skipped it; orders whose steps ran on more than one worker), orders/s and order time p99.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use ordo_core::devserver::{DevServer, DevServerOptions};
use ordo_orders::chaos::{ChaosOptions, ChaosReport};
use ordo_orders::effects::Ledger;
use ordo_orders::stream::StreamOptions;
use ordo_orders::{Kitchen, OrderStatus, OrdersClient, PizzaWorkflow};
use serde::{Deserialize, Serialize};
use temporalio_client::{Client, WorkflowFetchHistoryOptions, WorkflowGetResultOptions, WorkflowStartOptions};
use temporalio_common::search_attributes::SearchAttributes;

use crate::machine::Machine;
use crate::process::Managed;
use crate::provision::{drive, first_id, Measured, Ratios, RunFuture, Subject, SubjectResult, STOP_GRACE};
use crate::reference::{Shape, SkeletonWorkflow};
use crate::shape::{self, HistoryCounts};
use crate::BenchError;

/// What to measure.
#[derive(Debug, Clone)]
pub struct OrdersBenchConfig {
    /// The `ordo` binary (`ordo worker --domains orders`).
    pub ordo_bin: PathBuf,
    /// The `ordo-bench` binary (the skeleton worker).
    pub bench_bin: PathBuf,
    /// The Temporal CLI.
    pub temporal_bin: PathBuf,
    /// Measured orders per subject (over all rounds).
    pub orders: usize,
    /// Orders in flight.
    pub concurrency: usize,
    /// Rounds, the subjects interleaved.
    pub rounds: usize,
    /// Upper bound on one order's end-to-end time.
    pub order_timeout: Duration,
    /// The chaos run; `None` skips it.
    pub chaos: Option<OrdersChaosConfig>,
}

/// The chaos run's settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrdersChaosConfig {
    /// Orders streamed through it.
    pub orders: u64,
    /// Orders placed per second.
    pub rate: f64,
    /// Worker processes.
    pub workers: usize,
    /// Mean time between SIGKILLs, s.
    pub kill_every_secs: f64,
    /// Share of kitchen steps that fail retryably, on any attempt.
    pub failure_rate: f64,
    /// Every kitchen step takes this long, ms.
    pub step_ms: u64,
    /// Give up waiting for the orders after this long, s.
    pub deadline_secs: u64,
}

/// How the chaos run went.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrdersChaosResult {
    /// Its settings.
    pub config: OrdersChaosConfig,
    /// Workers started and SIGKILLed.
    pub controller: ChaosReport,
    /// Orders placed.
    pub placed: u64,
    /// Delivered.
    pub delivered: u64,
    /// Rejected for a business reason.
    pub rejected: u64,
    /// Over without being delivered or rejected: must be 0.
    pub failed: u64,
    /// Still running (or not in visibility) at the deadline: must be 0.
    pub unfinished: u64,
    /// Kitchen steps failed on purpose.
    pub injected_failures: u64,
    /// Delivered orders missing a step's effect (prepare, bake or deliver of some make): must be 0.
    pub effects_missing: u64,
    /// Step effects applied more than once: each is a marker file created exclusively, so an
    /// attempt that finds it applies nothing; counted as markers beyond one per step and make.
    pub effects_applied_twice: u64,
    /// Attempts that found their step's effect already applied (a worker died after applying it,
    /// before reporting it) and did not apply it again.
    pub repeats_skipped: u64,
    /// Orders whose effects were applied by more than one worker process.
    pub orders_moved_between_workers: u64,
    /// From the first placement until every order was over, s.
    pub wall_seconds: f64,
    /// Orders over (delivered or rejected) per second of `wall_seconds`.
    pub orders_per_second: f64,
    /// Order time (visibility: start → close) p50, ms.
    pub p50_ms: Option<u64>,
    /// Order time p99, ms.
    pub p99_ms: Option<u64>,
}

impl OrdersChaosResult {
    /// No order failed or was left unfinished, no effect is missing or doubled.
    pub fn all_good(&self) -> bool {
        self.failed == 0 && self.unfinished == 0 && self.effects_missing == 0 && self.effects_applied_twice == 0
    }
}

/// The report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrdersReport {
    /// When it started (RFC 3339).
    pub started_at: String,
    /// Where.
    pub machine: Machine,
    /// `/proc/loadavg` at the start.
    pub load_average: String,
    /// Measured orders per subject.
    pub orders: usize,
    /// In flight.
    pub concurrency: usize,
    /// Rounds.
    pub rounds: usize,
    /// What one Ordo order's history holds.
    pub ordo_history: HistoryCounts,
    /// The skeleton's shape, from that history.
    pub skeleton_shape: Shape,
    /// Ordo, then the skeleton.
    pub subjects: Vec<SubjectResult>,
    /// Ordo / skeleton.
    pub ordo_vs_skeleton: Ratios,
    /// The chaos run, if any.
    pub chaos: Option<OrdersChaosResult>,
    /// What to know when reading the numbers.
    pub notes: Vec<String>,
}

/// Runs the benchmark.
pub async fn run(config: OrdersBenchConfig) -> Result<OrdersReport, BenchError> {
    if config.orders == 0 || config.concurrency == 0 {
        return Err(BenchError::Setup("--orders and --concurrency must be at least 1".into()));
    }
    let started_at = ordo_core::time::rfc3339(std::time::SystemTime::now());
    let machine = Machine::describe(&config.temporal_bin);
    let load_average = std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    let server = DevServer::start(DevServerOptions::ephemeral(config.temporal_bin.clone()))
        .await
        .map_err(|e| BenchError::Process(format!("starting the dev server: {e:#}")))?;
    let result = Bench::new(config, &server).await?.measure().await;
    let _ = server.stop().await;
    let (subjects, ratios, history, shape, chaos, config) = result?;
    Ok(OrdersReport {
        started_at,
        machine,
        load_average,
        orders: config.orders,
        concurrency: config.concurrency,
        rounds: config.rounds.max(1),
        ordo_history: history,
        skeleton_shape: shape,
        subjects,
        ordo_vs_skeleton: ratios,
        chaos,
        notes: vec![
            "worker CPU is the worker process alone (utime+stime from /proc/<pid>/stat); the dev server's \
             CPU is reported separately"
                .into(),
            "throughput orders use 0-ms kitchen steps and no failures, so both subjects measure the \
             orchestration alone"
                .into(),
        ],
    })
}

type Measurement = (Vec<SubjectResult>, Ratios, HistoryCounts, Shape, Option<OrdersChaosResult>, OrdersBenchConfig);

struct Bench {
    config: OrdersBenchConfig,
    address: String,
    server_pid: u32,
    client: Client,
    data: tempfile::TempDir,
    logs: tempfile::TempDir,
}

impl Bench {
    async fn new(config: OrdersBenchConfig, server: &DevServer) -> Result<Self, BenchError> {
        let temporal = ordo_core::TemporalArgs::at(server.address());
        let client =
            ordo_core::connect(&temporal).await.map_err(|e| BenchError::temporal("connecting", format!("{e:#}")))?;
        // The skeleton upserts provisioning's keyword attribute; orders write `orderStatus`.
        for attributes in [ordo_orders::SEARCH_ATTRIBUTES, ordo_provision::SEARCH_ATTRIBUTES] {
            ordo_core::search_attributes::register(&client, "default", attributes)
                .await
                .map_err(|e| BenchError::temporal("registering search attributes", format!("{e:#}")))?;
        }
        let temp = |prefix: &str| {
            tempfile::Builder::new().prefix(prefix).tempdir().map_err(|e| BenchError::io("creating a temp dir", e))
        };
        Ok(Self {
            address: server.address().to_owned(),
            server_pid: server.pid().ok_or_else(|| BenchError::Process("the dev server has no pid".into()))?,
            client,
            data: temp("ordo-bench-orders-data-")?,
            logs: temp("ordo-bench-orders-logs-")?,
            config,
        })
    }

    async fn measure(self) -> Result<Measurement, BenchError> {
        let rounds = self.config.rounds.max(1);
        let (history, shape) = self.ordo_shape().await?;
        eprintln!(
            "bench: an order is {} events ({} activities, {} upserts, {} timers, {} workflow tasks)",
            history.events, history.activities, history.upserts, history.timers, history.workflow_tasks
        );
        let (mut ordo, mut skeleton) = (Measured::default(), Measured::default());
        for round in 0..rounds {
            let orders = self.config.orders / rounds + usize::from(round < self.config.orders % rounds);
            eprintln!("bench: round {}/{rounds}: {orders} orders per subject …", round + 1);
            ordo.add(self.batch(Subject::Ordo, orders, &shape).await?);
            skeleton.add(self.batch(Subject::Skeleton, orders, &shape).await?);
        }
        let (ordo, skeleton) = (ordo.result(Subject::Ordo), skeleton.result(Subject::Skeleton));
        let ratios = Ratios::of(&ordo, &skeleton);
        let chaos = match self.config.chaos.clone() {
            Some(chaos) => Some(self.chaos(chaos).await?),
            None => None,
        };
        Ok((vec![ordo, skeleton], ratios, history, shape, chaos, self.config))
    }

    /// `ordo worker --domains orders` (Ordo) or `ordo-bench worker skeleton` on `task_queue`.
    fn spawn_worker(&self, subject: Subject, task_queue: &str, failure_rate: f64) -> Result<Managed, BenchError> {
        let program = if subject == Subject::Ordo { &self.config.ordo_bin } else { &self.config.bench_bin };
        let mut command = tokio::process::Command::new(program);
        command
            .env("TEMPORAL_ADDRESS", &self.address)
            .env("TEMPORAL_NAMESPACE", "default")
            .env_remove("TEMPORAL_PROFILE")
            .env_remove("ORDO_METRICS_ADDR");
        if subject == Subject::Ordo {
            command
                .args(["worker", "--domains", "orders"])
                .env("ORDO_ORDERS_TASK_QUEUE", task_queue)
                .env("ORDO_ORDERS_FAILURE_RATE", failure_rate.to_string())
                .env("ORDO_DATA_DIR", self.data.path());
        } else {
            command.args(["worker", "skeleton", "--task-queue", task_queue]);
        }
        let log = self.logs.path().join(format!("{task_queue}-{}.log", uuid::Uuid::new_v4().simple()));
        Managed::spawn(command, format!("{} worker", subject.as_str()), &log)
    }

    /// One Ordo order's history and the skeleton shape it makes.
    async fn ordo_shape(&self) -> Result<(HistoryCounts, Shape), BenchError> {
        let task_queue = queue("shape");
        let worker = self.spawn_worker(Subject::Ordo, &task_queue, 0.0)?;
        let placed = place_and_wait(&self.client, &task_queue, 0).await;
        let tail = worker.log_tail();
        worker.stop(STOP_GRACE).await;
        placed.map_err(|e| BenchError::Process(format!("the first order failed: {e}\nworker log:\n{tail}")))?;
        let id =
            first_id(&self.client, &format!("WorkflowType = 'PizzaWorkflow' AND TaskQueue = '{task_queue}'")).await?;
        let events = self
            .client
            .get_workflow_handle::<PizzaWorkflow>(id)
            .fetch_history(WorkflowFetchHistoryOptions::default())
            .into_events()
            .await
            .map_err(|e| BenchError::temporal("fetching an order's history", e))?;
        Ok((shape::count(&events), shape::shape_of(&events)))
    }

    /// A warm-up and `orders` measured orders of `subject` on a fresh worker and task queue.
    async fn batch(&self, subject: Subject, orders: usize, shape: &Shape) -> Result<Measured, BenchError> {
        let task_queue = queue(subject.as_str());
        let mut worker = self.spawn_worker(subject, &task_queue, 0.0)?;
        let starter = |i: usize| -> RunFuture {
            let (client, task_queue, shape) = (self.client.clone(), task_queue.clone(), shape.clone());
            Box::pin(async move {
                match subject {
                    Subject::Ordo => place_and_wait(&client, &task_queue, i).await,
                    _ => skeleton_and_wait(&client, &task_queue, i, shape).await,
                }
            })
        };
        let warmup = self.config.concurrency.clamp(1, 20);
        let warm = drive(warmup, warmup, self.config.order_timeout, starter).await;
        if let Some(first) = warm.failures.first() {
            let tail = worker.log_tail();
            worker.stop(STOP_GRACE).await;
            return Err(BenchError::Process(format!(
                "{} warm-up failed: {first}\nworker log:\n{tail}",
                subject.as_str()
            )));
        }
        let sample = |pid| crate::proc::sample(pid).map_err(|e| BenchError::Process(e.to_string()));
        let (worker_before, server_before) = (worker.sample()?, sample(self.server_pid)?);
        let batch = drive(orders, self.config.concurrency, self.config.order_timeout, starter).await;
        let (worker_after, server_after) = (worker.sample()?, sample(self.server_pid)?);
        if worker.exited() {
            return Err(BenchError::Process(format!("the {} worker exited:\n{}", subject.as_str(), worker.log_tail())));
        }
        worker.stop(STOP_GRACE).await;
        Ok(Measured {
            latencies: batch.latencies,
            failures: batch.failures,
            wall: batch.wall.as_secs_f64(),
            worker_cpu: worker_after.cpu_seconds - worker_before.cpu_seconds,
            server_cpu: server_after.cpu_seconds - server_before.cpu_seconds,
            peak_rss_kib: worker_after.hwm_kib,
        })
    }

    /// Streams the orders through the chaos controller's workers and checks how they ended.
    async fn chaos(&self, config: OrdersChaosConfig) -> Result<OrdersChaosResult, BenchError> {
        eprintln!(
            "bench: chaos: {} orders at {}/s, {} workers, a kill every {} s, {} % of steps failing …",
            config.orders,
            config.rate,
            config.workers,
            config.kill_every_secs,
            config.failure_rate * 100.0
        );
        let task_queue = queue("chaos");
        let options = ChaosOptions {
            workers: config.workers,
            kill_every: (config.kill_every_secs > 0.0).then(|| Duration::from_secs_f64(config.kill_every_secs)),
            restart_after: Duration::from_millis(500),
            failure_rate: config.failure_rate,
        };
        let stream = StreamOptions {
            count: Some(config.orders),
            rate: Some(config.rate),
            first: 0,
            kitchen: Some(Kitchen::quick(config.step_ms)),
        };
        options.check().map_err(|e| BenchError::Setup(e.to_string()))?;
        stream.check().map_err(|e| BenchError::Setup(e.to_string()))?;
        let orders = OrdersClient::new(self.client.clone(), task_queue.clone());
        let ledger = Ledger::new(ordo_orders::domain::ledger_dir(self.data.path()));
        let (injected_before, repeated_before) = (ledger.injected(), ledger.repeated());
        let launch = |rate: f64| {
            let mut command = tokio::process::Command::from(ordo_core::devserver::bound_command(&self.config.ordo_bin));
            command
                .args(["worker", "--domains", "orders"])
                .env("TEMPORAL_ADDRESS", &self.address)
                .env("ORDO_ORDERS_TASK_QUEUE", &task_queue)
                .env("ORDO_ORDERS_FAILURE_RATE", rate.to_string())
                .env("ORDO_DATA_DIR", self.data.path())
                .env_remove("TEMPORAL_PROFILE")
                .env_remove("ORDO_METRICS_ADDR")
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .kill_on_drop(true);
            command.spawn()
        };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let controller = ordo_orders::chaos::run(&options, launch, |_| {}, async {
            let _ = stopped.await;
        });
        let began = Instant::now();
        let driver = async {
            let mut ids = Vec::new();
            let placed =
                ordo_orders::stream::run(&orders, &stream, |s| ids.push(s.order.id), std::future::pending()).await;
            let tally = match placed {
                Ok(_) => {
                    let limit = Duration::from_secs(config.deadline_secs);
                    ordo_orders::stream::settle(&orders, &ids, Duration::from_millis(250), limit).await
                }
                Err(e) => Err(e),
            };
            let wall = began.elapsed();
            let _ = stop.send(());
            tally.map(|tally| (ids, tally, wall))
        };
        let (report, outcome) = tokio::join!(controller, driver);
        let controller = report.map_err(|e| BenchError::Process(format!("the chaos controller: {e:#}")))?;
        let (ids, tally, wall) = outcome.map_err(|e| BenchError::temporal("streaming orders", format!("{e:#}")))?;

        let (mut times, mut missing, mut twice, mut moved) = (Vec::new(), 0, 0, 0);
        for chunk in ids.chunks(ordo_orders::client::MAX_BATCH) {
            for row in
                orders.batch_status(chunk).await.map_err(|e| BenchError::temporal("batch status", format!("{e:#}")))?
            {
                if let (Some(start), Some(close)) = (&row.started_at, &row.closed_at) {
                    if let (Ok(start), Ok(close)) =
                        (chrono::DateTime::parse_from_rfc3339(start), chrono::DateTime::parse_from_rfc3339(close))
                    {
                        times.push((close - start).num_milliseconds().max(0) as u64);
                    }
                }
                let applied = ledger.applied(&row.workflow_id).unwrap_or_default();
                let makes = applied.iter().map(|(_, make)| *make).max().map_or(0, |m| m + 1);
                if row.status == Some(OrderStatus::Delivered) {
                    let expected = makes as usize * 3;
                    let distinct: std::collections::BTreeSet<_> = applied.iter().collect();
                    missing += u64::from(distinct.len() < expected || makes == 0);
                    twice += (applied.len() - distinct.len()) as u64;
                }
                let mut pids = ledger.appliers(&row.workflow_id).unwrap_or_default();
                pids.sort_unstable();
                pids.dedup();
                moved += u64::from(pids.len() > 1);
            }
        }
        times.sort_unstable();
        let over = tally.delivered + tally.rejected;
        Ok(OrdersChaosResult {
            placed: ids.len() as u64,
            delivered: tally.delivered,
            rejected: tally.rejected,
            failed: tally.failed,
            unfinished: tally.running + tally.missing,
            injected_failures: ledger.injected() - injected_before,
            effects_missing: missing,
            effects_applied_twice: twice,
            repeats_skipped: ledger.repeated() - repeated_before,
            orders_moved_between_workers: moved,
            wall_seconds: wall.as_secs_f64(),
            orders_per_second: over as f64 / wall.as_secs_f64().max(f64::EPSILON),
            p50_ms: ordo_orders::stats::quantile(&times, 0.5),
            p99_ms: ordo_orders::stats::quantile(&times, 0.99),
            controller,
            config,
        })
    }
}

/// A task queue of its own.
fn queue(what: &str) -> String {
    format!("bench-orders-{what}-{}", &uuid::Uuid::new_v4().simple().to_string()[..8])
}

/// Places order `i` (0-ms kitchen) and waits until it is delivered.
async fn place_and_wait(client: &Client, task_queue: &str, i: usize) -> Result<(), String> {
    let orders = OrdersClient::new(client.clone(), task_queue);
    let order = ordo_orders::stream::random_order(i as u64);
    let placed = orders.place(&order, Some(Kitchen::quick(0))).await.map_err(|e| format!("place: {e:#}"))?;
    let end = orders.wait(&placed.order.id).await.map_err(|e| format!("{e:#}"))?;
    if end.status != OrderStatus::Delivered {
        return Err(format!("{} ended {}", placed.order.id, end.status));
    }
    Ok(())
}

/// Starts skeleton run `i` with `shape` (and a start attribute, as an order has) and waits.
async fn skeleton_and_wait(client: &Client, task_queue: &str, i: usize, shape: Shape) -> Result<(), String> {
    let id = format!("skeleton-{}-{i}", uuid::Uuid::new_v4().simple());
    let attributes =
        SearchAttributes::new([ordo_provision::workflows::PROVISION_STATUS.value_set("received".to_owned())]);
    let options = WorkflowStartOptions::new(task_queue.to_owned(), id).search_attributes(attributes).build();
    client
        .start_workflow(SkeletonWorkflow::run, shape, options)
        .await
        .map_err(|e| format!("start: {e}"))?
        .get_result(WorkflowGetResultOptions::default())
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}
