//! `ordo bench provision`: Ordo's provisioning run against the references, on one dev server.
//!
//! For each mode (shared cores, and with `pin` also server and worker pinned to separate cores),
//! each subject gets a fresh worker process on a task queue of its own, a warm-up, and then `runs`
//! runs at `concurrency` in flight, started and awaited by this process. Measured per subject:
//! runs/s over the whole batch, end-to-end latency per run (start request → result), the worker
//! process's CPU seconds over the batch (from `/proc/<pid>/stat`) and its peak RSS (`VmHWM`), and
//! the dev server's CPU over the batch. The parked mode starts runs that wait for approval and
//! reads the worker's RSS once they all wait.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use ordo_core::devserver::{DevServer, DevServerOptions};
use ordo_iac::DriverKind;
use ordo_provision::client::ProvisionClient;
use ordo_provision::lock::WorkspaceLockWorkflow;
use ordo_provision::model::{status, ProvisionRequest};
use ordo_provision::workflows::{ProvisionInfraWorkflow, PROVISION_STATUS, TF_DIRECTORY};
use serde::{Deserialize, Serialize};
use temporalio_client::{
    Client, ClientOptions, WorkflowCountOptions, WorkflowFetchHistoryOptions, WorkflowGetResultOptions,
    WorkflowListOptions, WorkflowStartOptions,
};
use temporalio_common::search_attributes::SearchAttributes;
use temporalio_common::{HasWorkflowDefinition, WorkflowDefinition};

use crate::machine::Machine;
use crate::process::{self, Managed};
use crate::reference::{Shape, SkeletonWorkflow, TrivialWorkflow};
use crate::shape::{self, HistoryCounts};
use crate::stats::{self, LatencySummary};
use crate::workspace::{IacRoot, ADMIN_STACK, NAMESPACE_STACK};
use crate::BenchError;

/// CPU the dev server (and this driver) run on when pinned.
const SERVER_CPUS: &str = "0";
/// CPU the worker under measurement runs on when pinned.
const WORKER_CPUS: &str = "1";
/// How long a worker gets to shut down gracefully before SIGKILL.
pub(crate) const STOP_GRACE: Duration = Duration::from_secs(10);

/// What to measure.
#[derive(Debug, Clone)]
pub struct ProvisionBenchConfig {
    /// The `ordo` binary (`ordo worker`, `ordo bench worker <kind>`).
    pub ordo_bin: PathBuf,
    /// The `ordo-bench` binary, which runs the skeleton and trivial reference workers.
    pub bench_bin: PathBuf,
    /// The Temporal CLI.
    pub temporal_bin: PathBuf,
    /// The repository's `examples/` (the stacks are copied from there).
    pub examples: PathBuf,
    /// A Python interpreter with `temporalio` installed; `None` skips the peer.
    pub python: Option<PathBuf>,
    /// `bench/peers/python`.
    pub peer_dir: PathBuf,
    /// Measured runs per subject.
    pub runs: usize,
    /// Runs in flight.
    pub concurrency: usize,
    /// Also measure with the server and the worker on separate cores.
    pub pin: bool,
    /// Start this many runs that wait for approval and report worker RSS (Ordo and the peer).
    pub parked: Option<usize>,
    /// After all parked runs wait, keep them this long and sample again (Ordo's workspace locks
    /// check their holder every 30 s, so this shows the steady state).
    pub parked_hold: Duration,
    /// Upper bound on one run's end-to-end time.
    pub run_timeout: Duration,
    /// Split each subject's runs into this many rounds, interleaving the subjects; each round has
    /// its own fresh worker process and warm-up. Sums over rounds are reported.
    pub rounds: usize,
    /// Measure only these subjects (all when empty; Ordo is always measured first when listed,
    /// and the skeleton needs Ordo's history).
    pub only: Vec<Subject>,
    /// When set, record each worker with `perf record -g` during its measured batch into
    /// `<dir>/<mode>-<subject>.perf.data` (the numbers of a profiled batch carry perf's overhead).
    pub perf_dir: Option<PathBuf>,
    /// Another `ordo` binary, measured as [`Subject::OrdoBaseline`] in the same rounds.
    pub baseline_bin: Option<PathBuf>,
}

/// Who is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Subject {
    /// `ordo worker` running `ProvisionInfraWorkflow` with the sim driver.
    Ordo,
    /// The same with every payload encrypted (`ENCRYPT_PAYLOADS=true`, AES-256-GCM, a key of the
    /// bench's own), the driver's client encrypting too: what encryption costs.
    OrdoEncrypted,
    /// Ordo from another binary (`--baseline-bin`, say the build before a change), measured in the
    /// same rounds as Ordo.
    OrdoBaseline,
    /// The skeleton reference (Ordo's shape, no-op activities).
    Skeleton,
    /// The skeleton without the workspace lock's workflow: what the lock costs.
    SkeletonUnlocked,
    /// The skeleton with its lock as a key in a long-lived shard workflow (a design sketch).
    SkeletonSharedLock,
    /// The trivial reference (one no-op activity).
    Trivial,
    /// The Python peer (official Python SDK).
    Python,
}

impl Subject {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ordo => "ordo",
            Self::OrdoEncrypted => "ordo-encrypted",
            Self::OrdoBaseline => "ordo-baseline",
            Self::Skeleton => "skeleton",
            Self::SkeletonUnlocked => "skeleton-unlocked",
            Self::SkeletonSharedLock => "skeleton-shared-lock",
            Self::Trivial => "trivial",
            Self::Python => "python",
        }
    }

    /// Ordo's own worker, plain or encrypted.
    pub fn is_ordo(self) -> bool {
        matches!(self, Self::Ordo | Self::OrdoEncrypted | Self::OrdoBaseline)
    }
}

/// Whether server and worker share the cores or are pinned apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// No pinning: server, worker and driver compete for every core.
    Shared,
    /// Server and driver on CPU 0, worker on CPU 1 (`taskset`).
    Pinned,
}

impl Mode {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Shared => "shared",
            Self::Pinned => "pinned",
        }
    }
}

/// One subject's numbers in one mode.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SubjectResult {
    /// Who.
    pub subject: Subject,
    /// Measured runs.
    pub runs: usize,
    /// Runs that did not end as expected (failed, timed out, wrong status).
    pub failed: usize,
    /// First few failure messages.
    pub failures: Vec<String>,
    /// Wall time of the batches (summed over rounds).
    pub wall_seconds: f64,
    /// Completed runs per second over the batch.
    pub runs_per_second: f64,
    /// End-to-end latency per run.
    pub latency: LatencySummary,
    /// Worker CPU seconds over the batch.
    pub worker_cpu_seconds: f64,
    /// Worker CPU milliseconds per run.
    pub worker_cpu_ms_per_run: f64,
    /// Worker peak RSS (`VmHWM` over the whole life of the process: start-up, warm-up and batch;
    /// the largest of the rounds), MiB.
    pub worker_peak_rss_mib: f64,
    /// Dev server CPU seconds over the batch.
    pub server_cpu_seconds: f64,
    /// Dev server CPU milliseconds per run.
    pub server_cpu_ms_per_run: f64,
}

/// Ordo divided by a reference.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Ratios {
    /// Runs/s (higher is better for Ordo).
    pub runs_per_second: f64,
    /// Worker CPU per run (lower is better for Ordo).
    pub worker_cpu_per_run: f64,
    /// Worker peak RSS (lower is better for Ordo).
    pub worker_peak_rss: f64,
}

impl Ratios {
    pub(crate) fn of(ordo: &SubjectResult, reference: &SubjectResult) -> Self {
        Self {
            runs_per_second: ratio(ordo.runs_per_second, reference.runs_per_second),
            worker_cpu_per_run: ratio(ordo.worker_cpu_ms_per_run, reference.worker_cpu_ms_per_run),
            worker_peak_rss: ratio(ordo.worker_peak_rss_mib, reference.worker_peak_rss_mib),
        }
    }
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        f64::NAN
    }
}

/// Every subject in one mode.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModeResult {
    /// Shared or pinned.
    pub mode: Mode,
    /// In measuring order.
    pub subjects: Vec<SubjectResult>,
    /// Ordo / skeleton.
    pub ordo_vs_skeleton: Option<Ratios>,
    /// Ordo / the skeleton without the workspace lock.
    #[serde(default)]
    pub ordo_vs_skeleton_unlocked: Option<Ratios>,
    /// Ordo / the skeleton with its lock in a shared shard workflow.
    #[serde(default)]
    pub ordo_vs_skeleton_shared_lock: Option<Ratios>,
    /// Ordo / trivial.
    pub ordo_vs_trivial: Option<Ratios>,
    /// Ordo / Python peer.
    pub ordo_vs_python: Option<Ratios>,
    /// Ordo with encrypted payloads / Ordo.
    #[serde(default)]
    pub encrypted_vs_ordo: Option<Ratios>,
    /// Ordo / Ordo from the baseline binary.
    #[serde(default)]
    pub ordo_vs_baseline: Option<Ratios>,
}

impl ModeResult {
    /// The result of `subject`, if it was measured.
    pub fn get(&self, subject: Subject) -> Option<&SubjectResult> {
        self.subjects.iter().find(|s| s.subject == subject)
    }
}

/// Memory with runs parked at the approval gate.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ParkedResult {
    /// Who.
    pub subject: Subject,
    /// Runs waiting for approval.
    pub parked: usize,
    /// From the first start until visibility counted every run as awaiting approval.
    pub seconds_to_park: f64,
    /// Worker RSS right then, MiB.
    pub rss_mib: f64,
    /// Worker RSS after the hold, MiB.
    pub rss_after_hold_mib: f64,
    /// Worker peak RSS over its life, MiB.
    pub peak_rss_mib: f64,
    /// Worker CPU seconds over its life.
    pub worker_cpu_seconds: f64,
    /// Seconds held before the second sample.
    pub hold_seconds: f64,
}

/// What one Ordo run is made of, from its recorded history.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrdoHistory {
    /// `ProvisionInfraWorkflow`.
    pub run: HistoryCounts,
    /// Its `WorkspaceLockWorkflow`.
    pub lock: HistoryCounts,
    /// Both.
    pub total: HistoryCounts,
}

/// Everything `ordo bench provision` measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProvisionReport {
    /// When (UTC, RFC 3339).
    pub started_at: String,
    /// Where.
    pub machine: Machine,
    /// Measured runs per subject.
    pub runs: usize,
    /// Runs in flight.
    pub concurrency: usize,
    /// Rounds the runs were split into (subjects interleaved).
    pub rounds: usize,
    /// Ordo's run, counted from a real history.
    pub ordo_history: Option<OrdoHistory>,
    /// The skeleton's shape (from that history).
    pub skeleton_shape: Option<Shape>,
    /// A skeleton run, counted from its history the same way (it should match `ordo_history`).
    pub skeleton_history: Option<OrdoHistory>,
    /// A Python peer run, counted the same way (one workflow, no lock).
    pub python_history: Option<HistoryCounts>,
    /// `/proc/loadavg` when the benchmark started (other work on the machine skews every number).
    pub load_average: String,
    /// Per mode.
    pub modes: Vec<ModeResult>,
    /// Parked runs, when asked.
    pub parked: Vec<ParkedResult>,
    /// What was skipped or should be known when reading the numbers.
    pub notes: Vec<String>,
}

/// The Python peer's workflow, started by type name (seed 001's name, on its own task queue).
#[derive(Debug, Clone, Copy, Default)]
pub struct PythonPeerWorkflow;

impl WorkflowDefinition for PythonPeerWorkflow {
    type Input = serde_json::Value;
    type Output = serde_json::Value;
    fn name(&self) -> &str {
        "ProvisionInfraWorkflow"
    }
}

impl HasWorkflowDefinition for PythonPeerWorkflow {
    type Run = Self;
}

/// One subject's raw measurements, summed over rounds.
#[derive(Debug, Default)]
pub(crate) struct Measured {
    pub(crate) latencies: Vec<Duration>,
    pub(crate) failures: Vec<String>,
    pub(crate) wall: f64,
    pub(crate) worker_cpu: f64,
    pub(crate) server_cpu: f64,
    pub(crate) peak_rss_kib: u64,
}

impl Measured {
    pub(crate) fn add(&mut self, other: Self) {
        self.latencies.extend(other.latencies);
        self.failures.extend(other.failures);
        self.wall += other.wall;
        self.worker_cpu += other.worker_cpu;
        self.server_cpu += other.server_cpu;
        self.peak_rss_kib = self.peak_rss_kib.max(other.peak_rss_kib);
    }

    pub(crate) fn result(self, subject: Subject) -> SubjectResult {
        let completed = self.latencies.len();
        let per_run = |cpu: f64| if completed > 0 { cpu * 1000.0 / completed as f64 } else { f64::NAN };
        SubjectResult {
            subject,
            runs: completed + self.failures.len(),
            failed: self.failures.len(),
            failures: self.failures.iter().take(5).cloned().collect(),
            wall_seconds: self.wall,
            runs_per_second: if self.wall > 0.0 { completed as f64 / self.wall } else { 0.0 },
            latency: stats::summarize(&self.latencies),
            worker_cpu_seconds: self.worker_cpu,
            worker_cpu_ms_per_run: per_run(self.worker_cpu),
            worker_peak_rss_mib: self.peak_rss_kib as f64 / 1024.0,
            server_cpu_seconds: self.server_cpu,
            server_cpu_ms_per_run: per_run(self.server_cpu),
        }
    }
}

pub(crate) type RunFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

/// A measured batch.
pub(crate) struct Batch {
    pub(crate) latencies: Vec<Duration>,
    pub(crate) failures: Vec<String>,
    pub(crate) wall: Duration,
}

/// Runs `count` runs at `concurrency` in flight; `start(i)` starts run `i` and awaits its end.
pub(crate) async fn drive(
    count: usize,
    concurrency: usize,
    timeout: Duration,
    start: impl Fn(usize) -> RunFuture,
) -> Batch {
    let began = Instant::now();
    let outcomes: Vec<(Duration, Result<(), String>)> = futures::stream::iter(0..count)
        .map(|i| {
            let run = start(i);
            async move {
                let t = Instant::now();
                let outcome = match tokio::time::timeout(timeout, run).await {
                    Ok(r) => r,
                    Err(_) => Err(format!("run {i} did not finish within {timeout:?}")),
                };
                (t.elapsed(), outcome)
            }
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    let wall = began.elapsed();
    let mut latencies = Vec::new();
    let mut failures = Vec::new();
    for (latency, outcome) in outcomes {
        match outcome {
            Ok(()) => latencies.push(latency),
            Err(e) => failures.push(e),
        }
    }
    Batch { latencies, failures, wall }
}

/// The benchmark: one dev server, a scratch IaC root and data directory, and the worker logs.
struct Bench {
    config: ProvisionBenchConfig,
    server: DevServer,
    client: Client,
    /// What [`Subject::OrdoEncrypted`] runs with.
    encrypted: Encrypted,
    root: IacRoot,
    data: tempfile::TempDir,
    logs: tempfile::TempDir,
    shape: Option<Shape>,
    history: Option<OrdoHistory>,
    skeleton_history: Option<OrdoHistory>,
    python_history: Option<HistoryCounts>,
}

/// Id of the bench's payload key.
const BENCH_KEY_ID: &str = "bench";

/// The encrypted subject's driver client and its worker's key, both under one fresh key.
struct Encrypted {
    /// A client on the plain client's connection whose payloads are encrypted.
    client: Client,
    /// The key as `ORDO_CODEC_KEYS` holds it (`id:base64`), for the worker.
    keys: String,
}

/// [`Encrypted`] on `plain`'s connection.
fn encrypted_client(plain: &Client) -> Result<Encrypted, BenchError> {
    let key = ordo_codec::keys::Key::generate();
    let keys = format!("{BENCH_KEY_ID}:{}", key.to_base64());
    let keyring = ordo_codec::Keyring::new([(BENCH_KEY_ID.to_owned(), key)], Some(BENCH_KEY_ID))
        .map_err(|e| BenchError::Setup(format!("the bench's key: {e}")))?;
    let codec = ordo_codec::CodecConfig { encrypt: true, keyring: Some(keyring), ..Default::default() };
    let options = ClientOptions::new("default").data_converter(codec.data_converter()).build();
    let client = Client::new(plain.connection().clone(), options)
        .map_err(|e| BenchError::temporal("creating the encrypting client", e))?;
    Ok(Encrypted { client, keys })
}

/// The id of a workflow matching `query` (visibility may lag the run's end by a moment).
pub(crate) async fn first_id(client: &Client, query: &str) -> Result<String, BenchError> {
    for _ in 0..100 {
        let mut stream = client.list_workflows(query.to_owned(), WorkflowListOptions::builder().limit(1).build());
        if let Some(execution) = stream.next().await {
            let execution = execution.map_err(|e| BenchError::temporal("listing workflows", e))?;
            return Ok(execution.id().to_owned());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(BenchError::Timeout(format!("no workflow matches {query}")))
}

/// Runs the whole benchmark and returns its report.
pub async fn run(config: ProvisionBenchConfig) -> Result<ProvisionReport, BenchError> {
    if config.runs == 0 || config.concurrency == 0 {
        return Err(BenchError::Setup("--runs and --concurrency must be at least 1".into()));
    }
    if config.pin && !process::taskset_available() {
        return Err(BenchError::Setup("--pin needs taskset (Debian package util-linux)".into()));
    }
    let started_at = ordo_core::time::rfc3339(std::time::SystemTime::now());
    let machine = Machine::describe(&config.temporal_bin);
    let load_average = std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    let mut notes = Vec::new();
    let mut config = config;
    if !config.only.is_empty() && !config.only.contains(&Subject::Python) {
        config.python = None;
    }
    if let Some(python) = config.python.clone() {
        if let Err(why) = python_ready(&python, &config.peer_dir) {
            notes.push(format!("Python peer skipped: {why}"));
            config.python = None;
        }
    } else {
        notes.push("Python peer not measured in this invocation".into());
    }

    let server = DevServer::start(DevServerOptions::ephemeral(config.temporal_bin.clone()))
        .await
        .map_err(|e| BenchError::Process(format!("starting the dev server: {e:#}")))?;
    let temporal = ordo_core::TemporalArgs::at(server.address());
    let client =
        ordo_core::connect(&temporal).await.map_err(|e| BenchError::temporal("connecting", format!("{e:#}")))?;
    ordo_core::search_attributes::register(&client, "default", ordo_provision::SEARCH_ATTRIBUTES)
        .await
        .map_err(|e| BenchError::temporal("registering search attributes", format!("{e:#}")))?;
    let encrypted = encrypted_client(&client)?;
    let mut bench = Bench {
        encrypted,
        root: IacRoot::new(&config.examples)?,
        data: tempdir("ordo-bench-data-")?,
        logs: tempdir("ordo-bench-logs-")?,
        config,
        server,
        client,
        shape: None,
        history: None,
        skeleton_history: None,
        python_history: None,
    };

    let mut modes = vec![Mode::Shared];
    if bench.config.pin {
        modes.push(Mode::Pinned);
    }
    let mut mode_results = Vec::new();
    for mode in modes {
        let result = bench.measure_mode(mode).await;
        bench.unpin_all();
        mode_results.push(result?);
    }
    let mut parked = Vec::new();
    if let Some(count) = bench.config.parked {
        let only = bench.config.only.clone();
        let wanted = |s: Subject| only.is_empty() || only.contains(&s);
        for subject in [Subject::Ordo, Subject::Skeleton] {
            if wanted(subject) {
                parked.push(bench.parked(subject, count).await?);
            }
        }
        if bench.config.python.is_some() {
            parked.push(bench.parked(Subject::Python, count).await?);
        }
    }
    notes.push(
        "worker CPU and RSS are the worker process alone (utime+stime from /proc/<pid>/stat, VmHWM); \
         the dev server's CPU is reported separately"
            .into(),
    );
    let report = ProvisionReport {
        started_at,
        machine,
        runs: bench.config.runs,
        concurrency: bench.config.concurrency,
        rounds: bench.config.rounds.max(1),
        ordo_history: bench.history.clone(),
        skeleton_shape: bench.shape.clone(),
        skeleton_history: bench.skeleton_history.clone(),
        python_history: bench.python_history,
        load_average,
        modes: mode_results,
        parked,
        notes,
    };
    let Bench { server, .. } = bench;
    let _ = server.stop().await;
    Ok(report)
}

fn tempdir(prefix: &str) -> Result<tempfile::TempDir, BenchError> {
    tempfile::Builder::new().prefix(prefix).tempdir().map_err(|e| BenchError::io("creating a temporary directory", e))
}

/// Checks that `python` can import `temporalio` and that the peer's files are there.
fn python_ready(python: &Path, peer_dir: &Path) -> Result<(), String> {
    if !peer_dir.join("worker.py").is_file() {
        return Err(format!("{} not found", peer_dir.join("worker.py").display()));
    }
    let out = std::process::Command::new(python)
        .args(["-c", "import temporalio"])
        .output()
        .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
    if !out.status.success() {
        return Err(format!("{} cannot import temporalio (pip install -r scripts/requirements.txt)", python.display()));
    }
    Ok(())
}

impl Bench {
    fn address(&self) -> &str {
        self.server.address()
    }

    fn server_pid(&self) -> Result<u32, BenchError> {
        self.server.pid().ok_or_else(|| BenchError::Process("the dev server has exited".into()))
    }

    fn unpin_all(&self) {
        let all = format!("0-{}", Machine::describe(&self.config.temporal_bin).nproc.max(1) - 1);
        if let Ok(pid) = self.server_pid() {
            let _ = process::pin(pid, &all);
        }
        let _ = process::pin(std::process::id(), &all);
    }

    async fn measure_mode(&mut self, mode: Mode) -> Result<ModeResult, BenchError> {
        if mode == Mode::Pinned {
            process::pin(self.server_pid()?, SERVER_CPUS)?;
            process::pin(std::process::id(), SERVER_CPUS)?;
        }
        let mut subjects = vec![
            Subject::Ordo,
            Subject::OrdoEncrypted,
            Subject::Skeleton,
            Subject::SkeletonUnlocked,
            Subject::SkeletonSharedLock,
            Subject::Trivial,
        ];
        if self.config.baseline_bin.is_some() {
            subjects.insert(1, Subject::OrdoBaseline);
        }
        if self.config.python.is_some() {
            subjects.push(Subject::Python);
        }
        if !self.config.only.is_empty() {
            subjects.retain(|s| {
                self.config.only.contains(s)
                    || *s == Subject::OrdoBaseline
                    || (*s == Subject::Ordo
                        && (self.config.only.contains(&Subject::Skeleton)
                            || self.config.only.contains(&Subject::SkeletonUnlocked)
                            || self.config.only.contains(&Subject::SkeletonSharedLock)))
            });
        }
        let rounds = self.config.rounds.max(1);
        let mut measured: Vec<(Subject, Measured)> = subjects.iter().map(|s| (*s, Measured::default())).collect();
        for round in 0..rounds {
            // Rounds interleave the subjects, so load from elsewhere on the machine falls on all of them.
            let runs = self.config.runs / rounds + usize::from(round < self.config.runs % rounds);
            for (subject, total) in &mut measured {
                eprintln!("bench: {} / {} (round {}/{rounds}) …", mode.as_str(), subject.as_str(), round + 1);
                let part = self.measure(*subject, mode, runs, round).await?;
                total.add(part);
            }
        }
        let mut results = Vec::new();
        for (subject, total) in measured {
            let result = total.result(subject);
            eprintln!(
                "bench: {} / {}: {:.1} runs/s, p50 {:.0} ms, p99 {:.0} ms, worker {:.2} ms CPU/run, peak RSS {:.1} MiB{}",
                mode.as_str(),
                subject.as_str(),
                result.runs_per_second,
                result.latency.p50_ms,
                result.latency.p99_ms,
                result.worker_cpu_ms_per_run,
                result.worker_peak_rss_mib,
                if result.failed > 0 {
                    format!(", {} FAILED", result.failed)
                } else {
                    String::new()
                }
            );
            results.push(result);
        }
        let find = |s: Subject| results.iter().find(|r| r.subject == s);
        let ordo = find(Subject::Ordo);
        let vs = |s: Subject| ordo.zip(find(s)).map(|(o, r)| Ratios::of(o, r));
        Ok(ModeResult {
            mode,
            ordo_vs_skeleton: vs(Subject::Skeleton),
            ordo_vs_skeleton_unlocked: vs(Subject::SkeletonUnlocked),
            ordo_vs_skeleton_shared_lock: vs(Subject::SkeletonSharedLock),
            ordo_vs_trivial: vs(Subject::Trivial),
            ordo_vs_python: vs(Subject::Python),
            encrypted_vs_ordo: find(Subject::OrdoEncrypted).zip(ordo).map(|(e, o)| Ratios::of(e, o)),
            ordo_vs_baseline: vs(Subject::OrdoBaseline),
            subjects: results,
        })
    }

    fn spawn_worker(&self, subject: Subject, task_queue: &str, cpus: Option<&str>) -> Result<Managed, BenchError> {
        let program = match subject {
            Subject::Python => self.config.python.clone().unwrap_or_else(|| "python3".into()),
            Subject::Ordo | Subject::OrdoEncrypted => self.config.ordo_bin.clone(),
            Subject::OrdoBaseline => self.config.baseline_bin.clone().unwrap_or_else(|| self.config.ordo_bin.clone()),
            Subject::Skeleton | Subject::SkeletonUnlocked | Subject::SkeletonSharedLock | Subject::Trivial => {
                self.config.bench_bin.clone()
            }
        };
        let mut command = process::command_on(cpus, &program);
        command
            .env("TEMPORAL_ADDRESS", self.address())
            .env("TEMPORAL_NAMESPACE", "default")
            .env("TEMPORAL_TASK_QUEUE", task_queue)
            .env_remove("TEMPORAL_PROFILE");
        match subject {
            Subject::Ordo | Subject::OrdoEncrypted | Subject::OrdoBaseline => {
                command.arg("worker").env("ORDO_IAC_ROOT", self.root.path()).env("ORDO_DATA_DIR", self.data.path());
            }
            Subject::Skeleton | Subject::SkeletonUnlocked | Subject::SkeletonSharedLock => {
                command.args(["worker", Subject::Skeleton.as_str(), "--task-queue", task_queue]);
            }
            Subject::Trivial => {
                command.args(["worker", subject.as_str(), "--task-queue", task_queue]);
            }
            Subject::Python => {
                command.arg(self.config.peer_dir.join("worker.py"));
            }
        }
        if subject == Subject::OrdoEncrypted {
            command
                .env(ordo_codec::config::ENCRYPT_ENV, "true")
                .env(ordo_codec::keys::KEYS_ENV, &self.encrypted.keys)
                .env(ordo_codec::keys::ACTIVE_KEY_ENV, BENCH_KEY_ID);
        }
        let log = self.logs.path().join(format!("{task_queue}.log"));
        Managed::spawn(command, format!("{} worker", subject.as_str()), &log)
    }

    /// A function that starts run `i` of `subject` on `task_queue` and awaits its end.
    fn starter(&self, subject: Subject, task_queue: &str, dirs: Vec<String>) -> impl Fn(usize) -> RunFuture {
        let client =
            if subject == Subject::OrdoEncrypted { self.encrypted.client.clone() } else { self.client.clone() };
        let task_queue = task_queue.to_owned();
        let shape = self.shape.clone().unwrap_or_default();
        move |i| {
            let client = client.clone();
            let task_queue = task_queue.clone();
            let shape = shape.clone();
            let directory = dirs.get(i).cloned().unwrap_or_else(|| format!("{}/r{i:05}", subject.as_str()));
            Box::pin(async move { start_and_wait(&client, subject, &task_queue, i, directory, shape).await })
        }
    }

    async fn measure(
        &mut self,
        subject: Subject,
        mode: Mode,
        runs: usize,
        round: usize,
    ) -> Result<Measured, BenchError> {
        let config = self.config.clone();
        let task_queue =
            format!("bench-{}-{}-{}", mode.as_str(), subject.as_str(), &uuid::Uuid::new_v4().simple().to_string()[..8]);
        let cpus = (mode == Mode::Pinned).then_some(WORKER_CPUS);
        let mut worker = self.spawn_worker(subject, &task_queue, cpus)?;
        let warmup = config.concurrency.clamp(1, 20);
        let prefix = format!("{}/{}/{round}", mode.as_str(), subject.as_str());
        let (warm_dirs, dirs) = if subject.is_ordo() {
            (
                self.root.copies(NAMESPACE_STACK, &format!("{prefix}/warmup"), warmup)?,
                self.root.copies(NAMESPACE_STACK, &prefix, runs)?,
            )
        } else {
            (Vec::new(), Vec::new())
        };
        let warm = drive(warmup, warmup, config.run_timeout, self.starter(subject, &task_queue, warm_dirs)).await;
        if let Some(first) = warm.failures.first() {
            let tail = worker.log_tail();
            worker.stop(STOP_GRACE).await;
            return Err(BenchError::Process(format!(
                "{} warm-up failed: {first}\nworker log:\n{tail}",
                subject.as_str()
            )));
        }
        if subject == Subject::Skeleton && self.skeleton_history.is_none() {
            let lock = match self.shape.as_ref().is_some_and(|s| s.dormant_lock) {
                true => crate::reference::DORMANT_LOCK_WORKFLOW,
                false => crate::reference::SKELETON_LOCK_WORKFLOW,
            };
            let (_, counts) = self.history_of(&task_queue, crate::reference::SKELETON_WORKFLOW, Some(lock)).await?;
            self.skeleton_history = Some(counts);
        }
        if subject == Subject::Python && self.python_history.is_none() {
            let (_, counts) = self.history_of(&task_queue, "ProvisionInfraWorkflow", None).await?;
            self.python_history = Some(counts.run);
        }
        if subject == Subject::OrdoEncrypted {
            self.check_encrypted(&task_queue).await?;
        }
        if subject == Subject::Ordo && self.shape.is_none() {
            let history = self.history_of(&task_queue, "ProvisionInfraWorkflow", Some("WorkspaceLockWorkflow")).await?;
            let (shape, counts) = history;
            eprintln!(
                "bench: an Ordo run is {} events ({} activities, {} upserts, {} timers, {} workflow tasks) plus a lock workflow of {} events",
                counts.run.events, counts.run.activities, counts.run.upserts, counts.run.timers,
                counts.run.workflow_tasks, counts.lock.events
            );
            self.shape = Some(shape);
            self.history = Some(counts);
        }
        let server_pid = self.server_pid()?;
        let worker_before = worker.sample()?;
        let server_before = crate::proc::sample(server_pid).map_err(|e| BenchError::Process(e.to_string()))?;
        let perf = match &config.perf_dir {
            Some(dir) if round == 0 => Some(self.perf_record(dir, &worker, subject, mode)?),
            _ => None,
        };
        let batch = drive(runs, config.concurrency, config.run_timeout, self.starter(subject, &task_queue, dirs)).await;
        if let Some(perf) = perf {
            perf.interrupt(STOP_GRACE).await;
        }
        let worker_after = worker.sample()?;
        let server_after = crate::proc::sample(server_pid).map_err(|e| BenchError::Process(e.to_string()))?;
        if worker.exited() {
            return Err(BenchError::Process(format!(
                "the {} worker exited during the batch:\n{}",
                subject.as_str(),
                worker.log_tail()
            )));
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

    /// Starts `perf record` on `worker` (stopped with SIGINT, which makes perf write its file).
    fn perf_record(&self, dir: &Path, worker: &Managed, subject: Subject, mode: Mode) -> Result<Managed, BenchError> {
        std::fs::create_dir_all(dir).map_err(|e| BenchError::io(format!("creating {}", dir.display()), e))?;
        let output = dir.join(format!("{}-{}.perf.data", mode.as_str(), subject.as_str()));
        let mut command = tokio::process::Command::new("perf");
        command
            .args(["record", "-e", "cpu-clock", "-F", "999", "-g", "-o"])
            .arg(&output)
            .args(["-p", &worker.pid().to_string()]);
        let log = self.logs.path().join(format!("perf-{}-{}.log", mode.as_str(), subject.as_str()));
        let perf = Managed::spawn(command, "perf record", &log)?;
        eprintln!("bench: perf record → {}", output.display());
        Ok(perf)
    }

    /// Counts one warm-up run's history and its lock's; returns the run's skeleton shape too.
    async fn history_of(
        &self,
        task_queue: &str,
        run_type: &str,
        lock_type: Option<&str>,
    ) -> Result<(Shape, OrdoHistory), BenchError> {
        let run_id = self.first_id(&format!("WorkflowType = '{run_type}' AND TaskQueue = '{task_queue}'")).await?;
        let run_events = self
            .client
            .get_workflow_handle::<ProvisionInfraWorkflow>(run_id)
            .fetch_history(WorkflowFetchHistoryOptions::default())
            .into_events()
            .await
            .map_err(|e| BenchError::temporal("fetching an Ordo history", e))?;
        let lock_events = match lock_type {
            Some(lock_type) => {
                // Locks of `light-run` runs have a task queue of their own. A closed one: a lock
                // ends a little after its run, and a history read before would miss its last task.
                let lock_queue = ordo_provision::lock::lock_task_queue(task_queue);
                let query = format!(
                    "WorkflowType = '{lock_type}' AND ExecutionStatus != 'Running' \
                     AND (TaskQueue = '{task_queue}' OR TaskQueue = '{lock_queue}')"
                );
                let lock_id = self.first_id(&query).await?;
                self.client
                    .get_workflow_handle::<WorkspaceLockWorkflow>(lock_id)
                    .fetch_history(WorkflowFetchHistoryOptions::default())
                    .into_events()
                    .await
                    .map_err(|e| BenchError::temporal("fetching a lock history", e))?
            }
            None => Vec::new(),
        };
        let run = shape::count(&run_events);
        let lock = shape::count(&lock_events);
        Ok((shape::shape_of(&run_events), OrdoHistory { run, lock, total: run + lock }))
    }

    /// Refuses to measure an "encrypted" worker whose runs' input and result are not encrypted in
    /// history (the subject would measure nothing).
    async fn check_encrypted(&self, task_queue: &str) -> Result<(), BenchError> {
        use temporalio_common::protos::temporal::api::history::v1::history_event::Attributes;
        let run_id =
            self.first_id(&format!("WorkflowType = 'ProvisionInfraWorkflow' AND TaskQueue = '{task_queue}'")).await?;
        let events = self
            .client
            .get_workflow_handle::<ProvisionInfraWorkflow>(run_id.clone())
            .fetch_history(WorkflowFetchHistoryOptions::default())
            .into_events()
            .await
            .map_err(|e| BenchError::temporal("fetching an encrypted run's history", e))?;
        let payloads = events.iter().filter_map(|e| match &e.attributes {
            Some(Attributes::WorkflowExecutionStartedEventAttributes(a)) => a.input.as_ref(),
            Some(Attributes::WorkflowExecutionCompletedEventAttributes(a)) => a.result.as_ref(),
            _ => None,
        });
        let encodings: Vec<_> = payloads.flat_map(|p| &p.payloads).map(ordo_codec::encoding_of).collect();
        let sealed = encodings.iter().all(|e| *e == Some(ordo_codec::encryption::ENCRYPTED_ENCODING));
        if encodings.len() < 2 || !sealed {
            return Err(BenchError::Process(format!(
                "ordo-encrypted: run {run_id}'s input and result are not encrypted in history ({encodings:?})"
            )));
        }
        Ok(())
    }

    async fn first_id(&self, query: &str) -> Result<String, BenchError> {
        first_id(&self.client, query).await
    }

    /// Starts `count` runs that stop at the approval gate and samples the worker once all wait.
    async fn parked(&mut self, subject: Subject, count: usize) -> Result<ParkedResult, BenchError> {
        eprintln!("bench: parking {count} {} runs at the approval gate …", subject.as_str());
        let task_queue =
            format!("bench-parked-{}-{}", subject.as_str(), &uuid::Uuid::new_v4().simple().to_string()[..8]);
        let mut worker = self.spawn_worker(subject, &task_queue, None)?;
        let dirs = match subject {
            // Distinct directories: with one directory, the workspace lock would let one run
            // reach the gate and queue the rest as `waiting for workspace`.
            Subject::Ordo => self.root.copies(ADMIN_STACK, &format!("parked/{}", subject.as_str()), count)?,
            _ => vec![ADMIN_STACK.to_owned(); count],
        };
        let began = Instant::now();
        let client = self.client.clone();
        let shape = self.shape.clone().unwrap_or_default();
        let starts: Vec<Result<(), String>> = futures::stream::iter(dirs.into_iter().enumerate())
            .map(|(i, dir)| {
                let client = client.clone();
                let task_queue = task_queue.clone();
                let shape = shape.clone();
                async move { start_only(&client, subject, &task_queue, i, dir, shape).await }
            })
            .buffer_unordered(32)
            .collect()
            .await;
        if let Some(Err(e)) = starts.iter().find(|r| r.is_err()) {
            worker.stop(STOP_GRACE).await;
            return Err(BenchError::Temporal(format!("starting parked runs: {e}")));
        }
        let query = format!(
            "TaskQueue = '{task_queue}' AND provisionStatus = 'awaiting_approval' AND ExecutionStatus = 'Running'"
        );
        let deadline = began + Duration::from_secs(30 * 60);
        loop {
            let waiting = self
                .client
                .count_workflows(query.clone(), WorkflowCountOptions::default())
                .await
                .map_err(|e| BenchError::temporal("counting parked runs", e))?
                .count();
            if waiting >= count {
                break;
            }
            if worker.exited() {
                return Err(BenchError::Process(format!("the worker exited:\n{}", worker.log_tail())));
            }
            if Instant::now() > deadline {
                worker.stop(STOP_GRACE).await;
                return Err(BenchError::Timeout(format!("only {waiting} of {count} runs parked after 30 min")));
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        let seconds_to_park = began.elapsed().as_secs_f64();
        let at_park = worker.sample()?;
        eprintln!(
            "bench: {count} {} runs parked in {seconds_to_park:.0} s; worker RSS {:.1} MiB; holding {:?} …",
            subject.as_str(),
            at_park.rss_kib as f64 / 1024.0,
            self.config.parked_hold
        );
        tokio::time::sleep(self.config.parked_hold).await;
        let after = worker.sample()?;
        worker.stop(STOP_GRACE).await;
        Ok(ParkedResult {
            subject,
            parked: count,
            seconds_to_park,
            rss_mib: at_park.rss_kib as f64 / 1024.0,
            rss_after_hold_mib: after.rss_kib as f64 / 1024.0,
            peak_rss_mib: after.hwm_kib as f64 / 1024.0,
            worker_cpu_seconds: after.cpu_seconds,
            hold_seconds: self.config.parked_hold.as_secs_f64(),
        })
    }
}

/// The request Ordo's benchmark runs: sim driver, no simulated latency, policy passes (namespace
/// stack) or needs approval (admin stack), `provisionStatus` published at every step.
pub fn bench_request(directory: String) -> ProvisionRequest {
    let mut request = ProvisionRequest::for_directory(directory);
    request.driver = DriverKind::Sim;
    request.sim.latency_ms = Some(0);
    request.include_custom_search_attrs = true;
    request.retry_initial_interval_ms = 100;
    request
}

fn python_input(directory: &str) -> serde_json::Value {
    serde_json::json!({ "directory": directory, "include_custom_search_attrs": true })
}

fn start_attributes(directory: &str) -> SearchAttributes {
    SearchAttributes::new([PROVISION_STATUS.value_set(String::new()), TF_DIRECTORY.value_set(directory.to_owned())])
}

fn options(task_queue: &str, subject: Subject, i: usize, directory: &str) -> WorkflowStartOptions {
    let id = format!("{}-{}-{i}", subject.as_str(), uuid::Uuid::new_v4().simple());
    let builder = WorkflowStartOptions::new(task_queue.to_owned(), id);
    match subject {
        Subject::Trivial => builder.build(),
        _ => builder.search_attributes(start_attributes(directory)).build(),
    }
}

/// Starts run `i` of `subject` and waits for its result.
async fn start_and_wait(
    client: &Client,
    subject: Subject,
    task_queue: &str,
    i: usize,
    directory: String,
    shape: Shape,
) -> Result<(), String> {
    match subject {
        Subject::Ordo | Subject::OrdoEncrypted | Subject::OrdoBaseline => {
            let provision = ProvisionClient::new(client.clone(), task_queue);
            let id = provision.start(&bench_request(directory), false).await.map_err(|e| format!("start: {e:#}"))?;
            let result = provision.result(&id).await.map_err(|e| e.to_string())?;
            if result.status != status::APPLIED {
                return Err(format!("{id} ended {:?}", result.status));
            }
        }
        Subject::Skeleton | Subject::SkeletonUnlocked | Subject::SkeletonSharedLock => {
            let shape = match subject {
                Subject::SkeletonUnlocked => shape.without_lock(),
                Subject::SkeletonSharedLock => shape.with_shared_lock(),
                _ => shape,
            };
            client
                .start_workflow(SkeletonWorkflow::run, shape, options(task_queue, subject, i, &directory))
                .await
                .map_err(|e| format!("start: {e}"))?
                .get_result(WorkflowGetResultOptions::default())
                .await
                .map_err(|e| e.to_string())?;
        }
        Subject::Trivial => {
            client
                .start_workflow(TrivialWorkflow::run, i as u32, options(task_queue, subject, i, &directory))
                .await
                .map_err(|e| format!("start: {e}"))?
                .get_result(WorkflowGetResultOptions::default())
                .await
                .map_err(|e| e.to_string())?;
        }
        Subject::Python => {
            let result = client
                .start_workflow(
                    PythonPeerWorkflow,
                    python_input(&directory),
                    options(task_queue, subject, i, &directory),
                )
                .await
                .map_err(|e| format!("start: {e}"))?
                .get_result(WorkflowGetResultOptions::default())
                .await
                .map_err(|e| e.to_string())?;
            if result["status"] != status::APPLIED {
                return Err(format!("the Python peer's run ended {}", result["status"]));
            }
        }
    }
    Ok(())
}

/// Starts run `i` of `subject` without waiting (the parked mode).
async fn start_only(
    client: &Client,
    subject: Subject,
    task_queue: &str,
    i: usize,
    directory: String,
    shape: Shape,
) -> Result<(), String> {
    match subject {
        Subject::Ordo | Subject::OrdoEncrypted | Subject::OrdoBaseline => {
            ProvisionClient::new(client.clone(), task_queue)
                .start(&bench_request(directory), false)
                .await
                .map(|_| ())
                .map_err(|e| format!("{e:#}"))
        }
        Subject::Python => client
            .start_workflow(PythonPeerWorkflow, python_input(&directory), options(task_queue, subject, i, &directory))
            .await
            .map(|_| ())
            .map_err(|e| e.to_string()),
        Subject::Skeleton => {
            // Ordo's shape up to its approval gate (before `terraform_apply`), then parked.
            let mut shape = shape;
            shape.park_before = shape.upserts_before.len().checked_sub(2);
            client
                .start_workflow(SkeletonWorkflow::run, shape, options(task_queue, subject, i, &directory))
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        }
        Subject::SkeletonUnlocked | Subject::SkeletonSharedLock | Subject::Trivial => {
            Err(format!("{} is not parked", subject.as_str()))
        }
    }
}
