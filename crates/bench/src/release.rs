//! `ordo-bench release`: one release of seed 003 (deploys × environments, injected errors) run by
//! `ordo worker --domains release`, against a no-op skeleton of the same shape, on one dev server.
//!
//! The skeleton ([`ReleaseSkeletonWorkflow`]) has the release's commands: the parent upserts the
//! release key, then per environment in order upserts the environment and fans out one child per
//! deploy ([`DeploySkeletonWorkflow`]: upsert, build, upsert, deploy, config, verify); every step
//! is a no-op that fails at the same rate, with the same retry policy, as Ordo's steps. So the
//! ratio prices what Ordo's steps do (artifacts, checksums, audit logs) and its bookkeeping, not
//! the retries both pay. Both histories are counted and reported side by side as the proof of
//! "the same shape".
//!
//! Each round gives each subject a fresh worker process on a task queue of its own (and Ordo a
//! fresh data directory), a warm-up release of one deploy, then the measured release. Measured:
//! wall time from the start request to the result, the worker's CPU seconds over it, and from
//! Ordo's audit logs the steps logged more than once.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ordo_core::devserver::{DevServer, DevServerOptions};
use ordo_release::catalogue::Catalogue;
use ordo_release::client::ReleaseClient;
use ordo_release::model::{deploy_workflow_id, release_workflow_id, DeployInfo, Environment, ReleaseInfo, StepKnobs};
use ordo_release::store::{ReleaseStore, ARTIFACTORY};
use ordo_release::workflows::{ReleaseWorkflow, RELEASE_ENVIRONMENT, RELEASE_KEY};
use serde::{Deserialize, Serialize};
use temporalio_client::{Client, WorkflowFetchHistoryOptions, WorkflowGetResultOptions, WorkflowStartOptions};
use temporalio_common::search_attributes::SearchAttributes;
use temporalio_common::RetryPolicy;
use temporalio_macros::{activities, workflow, workflow_methods};
use temporalio_sdk::activities::{ActivityContext, ActivityError};
use temporalio_sdk::{
    ActivityOptions, ApplicationFailure, ChildWorkflowOptions, WorkflowContext, WorkflowResult, WorkflowTermination,
};

use crate::machine::Machine;
use crate::process::{self, Managed};
use crate::shape::{self, HistoryCounts};
use crate::BenchError;

/// Workflow type of the release skeleton.
pub const RELEASE_SKELETON_WORKFLOW: &str = "BenchReleaseSkeletonWorkflow";
/// Workflow type of the deploy skeleton.
pub const DEPLOY_SKELETON_WORKFLOW: &str = "BenchDeploySkeletonWorkflow";
/// How long a worker gets to shut down gracefully before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// The shape of a skeleton release.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseShape {
    /// The release key (upserted as `releaseKey`).
    pub release_key: String,
    /// Deploys, each a child per environment.
    pub deploys: u32,
    /// Environments, in promotion order.
    pub envs: Vec<String>,
    /// Chance (percent) that a step attempt fails.
    pub error_rate: u8,
    /// First retry interval of a step, in milliseconds.
    pub retry_initial_ms: u64,
}

/// One deploy of the skeleton in one environment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployShape {
    /// The release key.
    pub release_key: String,
    /// The environment.
    pub env: String,
    /// Chance (percent) that a step attempt fails.
    pub error_rate: u8,
    /// First retry interval of a step, in milliseconds.
    pub retry_initial_ms: u64,
}

/// The skeleton's steps: no-ops failing at a rate.
#[derive(Debug, Default)]
pub struct SkeletonSteps;

#[activities]
impl SkeletonSteps {
    /// Does nothing; fails (retryably) with `error_rate` % chance, as Ordo's injected errors.
    #[activity(name = "bench_release_step")]
    pub async fn step(_ctx: ActivityContext, error_rate: u8) -> Result<(), ActivityError> {
        if (uuid::Uuid::new_v4().as_u128() % 100) < u128::from(error_rate) {
            return Err(ApplicationFailure::builder("injected").type_name("InjectedError".to_owned()).build().into());
        }
        Ok(())
    }
}

/// Ordo's step options: unlimited attempts, backing off from the initial interval up to 5×.
fn step_options(retry_initial_ms: u64) -> ActivityOptions {
    let initial = Duration::from_millis(retry_initial_ms);
    let retry = RetryPolicy::builder()
        .initial_interval(initial)
        .backoff_coefficient(2.0)
        .maximum_interval(initial * 5)
        .maximum_attempts(0)
        .build();
    ActivityOptions::with_start_to_close_timeout(Duration::from_secs(30)).retry_policy(retry).build()
}

/// The release's command shape with no-op deploys.
#[workflow]
#[derive(Default)]
pub struct ReleaseSkeletonWorkflow;

#[workflow_methods]
impl ReleaseSkeletonWorkflow {
    /// Runs `shape`; returns the deploys done (deploys × environments).
    #[run(name = "BenchReleaseSkeletonWorkflow")]
    pub async fn run(ctx: &mut WorkflowContext<Self>, shape: ReleaseShape) -> WorkflowResult<u32> {
        ctx.upsert_search_attributes([RELEASE_KEY.value_set(shape.release_key.clone())]);
        let mut done = 0;
        for env in &shape.envs {
            ctx.upsert_search_attributes([RELEASE_ENVIRONMENT.value_set(env.clone())]);
            let mut children = Vec::new();
            for i in 0..shape.deploys {
                let options = ChildWorkflowOptions::builder()
                    .workflow_id(skeleton_deploy_id(&shape.release_key, i))
                    .search_attributes(SearchAttributes::new([
                        RELEASE_KEY.value_set(shape.release_key.clone()),
                        RELEASE_ENVIRONMENT.value_set(env.clone()),
                    ]))
                    .build();
                let input = DeployShape {
                    release_key: shape.release_key.clone(),
                    env: env.clone(),
                    error_rate: shape.error_rate,
                    retry_initial_ms: shape.retry_initial_ms,
                };
                let start = ctx.start_child_workflow(DeploySkeletonWorkflow::run, input, options);
                children.push(async move {
                    match start.await {
                        Ok(started) => started.result().await.map_err(|e| e.to_string()),
                        Err(e) => Err(format!("could not start: {e}")),
                    }
                });
            }
            for result in temporalio_sdk::workflows::join_all(children).await {
                result.map_err(|e| {
                    WorkflowTermination::failed_application(ApplicationFailure::builder(e).non_retryable(true).build())
                })?;
                done += 1;
            }
        }
        Ok(done)
    }
}

/// One deploy's command shape in one environment, with no-op steps.
#[workflow]
#[derive(Default)]
pub struct DeploySkeletonWorkflow;

#[workflow_methods]
impl DeploySkeletonWorkflow {
    /// Build, deploy, config, verify (no-ops), with Ordo's upserts around them.
    #[run(name = "BenchDeploySkeletonWorkflow")]
    pub async fn run(ctx: &mut WorkflowContext<Self>, shape: DeployShape) -> WorkflowResult<()> {
        let options = step_options(shape.retry_initial_ms);
        ctx.upsert_search_attributes([RELEASE_KEY.value_set(shape.release_key.clone())]);
        ctx.execute_activity(SkeletonSteps::step, shape.error_rate, options.clone()).await?;
        ctx.upsert_search_attributes([RELEASE_ENVIRONMENT.value_set(shape.env.clone())]);
        for _ in ["deploy", "config", "verify"] {
            ctx.execute_activity(SkeletonSteps::step, shape.error_rate, options.clone()).await?;
        }
        Ok(())
    }
}

fn skeleton_deploy_id(release_key: &str, i: u32) -> String {
    format!("bench-deploy-{release_key}-{i:03}")
}

/// What to measure.
#[derive(Debug, Clone)]
pub struct ReleaseBenchConfig {
    /// The `ordo` binary (`ordo worker --domains release`).
    pub ordo_bin: PathBuf,
    /// The `ordo-bench` binary, which runs the skeleton worker.
    pub bench_bin: PathBuf,
    /// The Temporal CLI.
    pub temporal_bin: PathBuf,
    /// Deploys in the release.
    pub deploys: u32,
    /// Chance (percent) that each step attempt fails.
    pub error_rate: u8,
    /// First retry interval of a step, in milliseconds.
    pub retry_initial_ms: u64,
    /// Rounds, each with fresh workers, alternating which subject goes first.
    pub rounds: usize,
    /// Upper bound on one release's end-to-end time.
    pub release_timeout: Duration,
}

/// Who is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReleaseSubject {
    /// `ordo worker --domains release` running `ReleaseWorkflow`.
    Ordo,
    /// The no-op skeleton of the same shape.
    Skeleton,
}

impl ReleaseSubject {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ordo => "ordo",
            Self::Skeleton => "skeleton",
        }
    }
}

/// One measured release.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReleaseRun {
    /// Who.
    pub subject: ReleaseSubject,
    /// Which round.
    pub round: usize,
    /// Start request → result, seconds.
    pub wall_seconds: f64,
    /// Worker CPU seconds over the release.
    pub worker_cpu_seconds: f64,
    /// Dev server CPU seconds over the release.
    pub server_cpu_seconds: f64,
    /// The result (Ordo: `Release <key>: SUCCESS`).
    pub result: String,
    /// Ordo only: audit-log lines (builds, and deploy / config / verify per environment).
    pub audit_lines: Option<usize>,
    /// Ordo only: steps (step, deploy, log) logged more than once.
    pub steps_done_twice: Option<usize>,
}

/// The histories of one release: the parent, and one deploy's child in the last environment.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct ReleaseHistory {
    /// The parent.
    pub release: HistoryCounts,
    /// One child (one deploy in one environment).
    pub deploy: HistoryCounts,
}

/// The whole report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReleaseReport {
    /// Where it ran.
    pub machine: Machine,
    /// Deploys.
    pub deploys: u32,
    /// Environments, in order.
    pub environments: Vec<String>,
    /// Injected error rate, percent.
    pub error_rate: u8,
    /// First retry interval, ms.
    pub retry_initial_ms: u64,
    /// Every measured release.
    pub runs: Vec<ReleaseRun>,
    /// Ordo's histories (from the last round).
    pub ordo_history: Option<ReleaseHistory>,
    /// The skeleton's histories (from the last round).
    pub skeleton_history: Option<ReleaseHistory>,
    /// Median wall time, Ordo.
    pub ordo_wall_seconds: f64,
    /// Median wall time, skeleton.
    pub skeleton_wall_seconds: f64,
    /// Skeleton wall / Ordo wall (1.0: as fast as the no-op skeleton; the goal is ≥ 0.9).
    pub speed_ratio: f64,
    /// Median worker CPU, Ordo.
    pub ordo_worker_cpu_seconds: f64,
    /// Median worker CPU, skeleton.
    pub skeleton_worker_cpu_seconds: f64,
    /// Steps logged twice over every Ordo round (the goal is 0).
    pub steps_done_twice: usize,
    /// Caveats.
    pub notes: Vec<String>,
}

/// Runs the benchmark.
pub async fn run(config: ReleaseBenchConfig) -> Result<ReleaseReport, BenchError> {
    if config.deploys == 0 || config.deploys > 100 || config.rounds == 0 || config.rounds > 20 {
        return Err(BenchError::Setup("deploys must be 1..=100 and rounds 1..=20".into()));
    }
    let server = DevServer::start(DevServerOptions::ephemeral(config.temporal_bin.clone()))
        .await
        .map_err(|e| BenchError::Process(format!("starting the dev server: {e:#}")))?;
    let temporal = ordo_core::TemporalArgs::at(server.address());
    let client =
        ordo_core::connect(&temporal).await.map_err(|e| BenchError::temporal("connecting", format!("{e:#}")))?;
    ordo_core::search_attributes::register(&client, "default", ordo_release::SEARCH_ATTRIBUTES)
        .await
        .map_err(|e| BenchError::temporal("registering search attributes", format!("{e:#}")))?;
    let scratch = tempfile::Builder::new()
        .prefix("ordo-bench-release-")
        .tempdir()
        .map_err(|e| BenchError::io("creating a scratch directory", e))?;
    let bench = Bench { config: config.clone(), server, client, scratch: scratch.path().to_owned() };

    let mut runs = Vec::new();
    let (mut ordo_history, mut skeleton_history) = (None, None);
    for round in 0..config.rounds {
        // Alternate who goes first, so neither always meets a warmer server.
        let order = if round % 2 == 0 {
            [ReleaseSubject::Ordo, ReleaseSubject::Skeleton]
        } else {
            [ReleaseSubject::Skeleton, ReleaseSubject::Ordo]
        };
        for subject in order {
            eprintln!("bench: release round {round}, {} …", subject.as_str());
            let (run, history) = bench.measure(subject, round).await?;
            eprintln!("bench:   {:.2} s wall, {:.2} s worker CPU", run.wall_seconds, run.worker_cpu_seconds);
            match subject {
                ReleaseSubject::Ordo => ordo_history = Some(history),
                ReleaseSubject::Skeleton => skeleton_history = Some(history),
            }
            runs.push(run);
        }
    }
    let median_of = |subject: ReleaseSubject, field: fn(&ReleaseRun) -> f64| {
        let mut values: Vec<f64> = runs.iter().filter(|r| r.subject == subject).map(field).collect();
        values.sort_by(f64::total_cmp);
        crate::stats::percentile(&values, 50.0).unwrap_or(f64::NAN)
    };
    let ordo_wall = median_of(ReleaseSubject::Ordo, |r| r.wall_seconds);
    let skeleton_wall = median_of(ReleaseSubject::Skeleton, |r| r.wall_seconds);
    Ok(ReleaseReport {
        machine: Machine::describe(&config.temporal_bin),
        deploys: config.deploys,
        environments: Environment::ALL.iter().map(|e| e.as_str().to_owned()).collect(),
        error_rate: config.error_rate,
        retry_initial_ms: config.retry_initial_ms,
        ordo_history,
        skeleton_history,
        ordo_wall_seconds: ordo_wall,
        skeleton_wall_seconds: skeleton_wall,
        speed_ratio: if ordo_wall > 0.0 { skeleton_wall / ordo_wall } else { f64::NAN },
        ordo_worker_cpu_seconds: median_of(ReleaseSubject::Ordo, |r| r.worker_cpu_seconds),
        skeleton_worker_cpu_seconds: median_of(ReleaseSubject::Skeleton, |r| r.worker_cpu_seconds),
        steps_done_twice: runs.iter().filter_map(|r| r.steps_done_twice).sum(),
        runs,
        notes: vec![
            "wall and CPU are medians over the rounds; worker CPU is the worker process alone \
             (utime+stime from /proc/<pid>/stat)"
                .into(),
            "with injected errors the retries' back-off is random, so single rounds vary; both subjects \
             fail at the same rate with the same retry policy"
                .into(),
            "steps done twice: (step, deploy, log) lines in Ordo's audit logs more than once; the store \
             does not append a line already there, so this counts effects logged again under another \
             version or deploy, not retries that found their effect in place"
                .into(),
        ],
    })
}

struct Bench {
    config: ReleaseBenchConfig,
    server: DevServer,
    client: Client,
    scratch: PathBuf,
}

impl Bench {
    fn spawn_worker(&self, subject: ReleaseSubject, task_queue: &str, data: &Path) -> Result<Managed, BenchError> {
        let mut command = match subject {
            ReleaseSubject::Ordo => {
                let mut command = process::command_on(None, &self.config.ordo_bin);
                command
                    .args(["worker", "--domains", "release"])
                    .env("ORDO_RELEASE_TASK_QUEUE", task_queue)
                    .env("ORDO_DATA_DIR", data)
                    // Releases need no IaC root: one that does not exist is never looked at.
                    .env("ORDO_IAC_ROOT", data.join("no-iac-root"))
                    .env_remove("ORDO_RELEASE_ENVIRONMENTS")
                    .env_remove("ORDO_RELEASE_CATALOGUE");
                command
            }
            ReleaseSubject::Skeleton => {
                let mut command = process::command_on(None, &self.config.bench_bin);
                command.args(["worker", "release-skeleton", "--task-queue", task_queue]);
                command
            }
        };
        command.env("TEMPORAL_ADDRESS", self.server.address()).env("TEMPORAL_NAMESPACE", "default");
        command.env_remove("TEMPORAL_PROFILE");
        let log = self.scratch.join(format!("{task_queue}.log"));
        Managed::spawn(command, format!("{} worker", subject.as_str()), &log)
    }

    fn server_cpu(&self) -> f64 {
        self.server.pid().and_then(|pid| crate::proc::sample(pid).ok()).map(|s| s.cpu_seconds).unwrap_or(f64::NAN)
    }

    async fn measure(&self, subject: ReleaseSubject, round: usize) -> Result<(ReleaseRun, ReleaseHistory), BenchError> {
        let tag = &uuid::Uuid::new_v4().simple().to_string()[..8];
        let task_queue = format!("bench-release-{}-{tag}", subject.as_str());
        let data = self.scratch.join(format!("data-{}-{round}-{tag}", subject.as_str()));
        std::fs::create_dir_all(&data).map_err(|e| BenchError::io(format!("creating {}", data.display()), e))?;
        let worker = self.spawn_worker(subject, &task_queue, &data)?;
        let outcome = self.measure_with(&worker, subject, round, &task_queue, tag, &data).await;
        if outcome.is_err() {
            eprintln!("bench: worker log:\n{}", worker.log_tail());
        }
        worker.stop(STOP_GRACE).await;
        outcome
    }

    async fn measure_with(
        &self,
        worker: &Managed,
        subject: ReleaseSubject,
        round: usize,
        task_queue: &str,
        tag: &str,
        data: &Path,
    ) -> Result<(ReleaseRun, ReleaseHistory), BenchError> {
        // Warm-up: one deploy, no errors (the worker's caches and connections, not the clock).
        self.release(subject, task_queue, &format!("WARM-{tag}"), 1, 0).await?;
        let key = format!("BENCH-{tag}");
        let cpu = worker.sample()?.cpu_seconds;
        let server_cpu = self.server_cpu();
        let started = Instant::now();
        let result = self.release(subject, task_queue, &key, self.config.deploys, self.config.error_rate).await?;
        let wall = started.elapsed().as_secs_f64();
        let worker_cpu = worker.sample()?.cpu_seconds - cpu;
        let server_cpu = self.server_cpu() - server_cpu;
        let (audit_lines, twice) = match subject {
            ReleaseSubject::Ordo => {
                let (lines, twice) = audit(data, &key)?;
                (Some(lines), Some(twice))
            }
            ReleaseSubject::Skeleton => (None, None),
        };
        let history = self.history(subject, &key).await?;
        let run = ReleaseRun {
            subject,
            round,
            wall_seconds: wall,
            worker_cpu_seconds: worker_cpu,
            server_cpu_seconds: server_cpu,
            result,
            audit_lines,
            steps_done_twice: twice,
        };
        Ok((run, history))
    }

    /// Runs one release of `deploys` deploys through every environment and returns its result.
    async fn release(
        &self,
        subject: ReleaseSubject,
        task_queue: &str,
        key: &str,
        deploys: u32,
        error_rate: u8,
    ) -> Result<String, BenchError> {
        let wait = async {
            match subject {
                ReleaseSubject::Ordo => {
                    let releases = ReleaseClient::new(self.client.clone(), task_queue);
                    let release = ordo_release_input(key, deploys, error_rate, self.config.retry_initial_ms);
                    releases
                        .start(&release, &Catalogue::built_in())
                        .await
                        .map_err(|e| BenchError::temporal("starting a release", e))?;
                    let result = releases.result(key).await.map_err(|e| BenchError::temporal("a release", e))?;
                    if result != format!("Release {key}: SUCCESS") {
                        return Err(BenchError::Process(format!("the release did not succeed: {result}")));
                    }
                    Ok(result)
                }
                ReleaseSubject::Skeleton => {
                    let shape = ReleaseShape {
                        release_key: key.to_owned(),
                        deploys,
                        envs: Environment::ALL.iter().map(|e| e.as_str().to_owned()).collect(),
                        error_rate,
                        retry_initial_ms: self.config.retry_initial_ms,
                    };
                    let options = WorkflowStartOptions::new(task_queue, release_workflow_id(key)).build();
                    let handle = self
                        .client
                        .start_workflow(ReleaseSkeletonWorkflow::run, shape, options)
                        .await
                        .map_err(|e| BenchError::temporal("starting a skeleton release", e))?;
                    let done = handle
                        .get_result(WorkflowGetResultOptions::default())
                        .await
                        .map_err(|e| BenchError::temporal("a skeleton release", e))?;
                    Ok(format!("{done} deploys done"))
                }
            }
        };
        tokio::time::timeout(self.config.release_timeout, wait)
            .await
            .map_err(|_| BenchError::Timeout(format!("release {key} after {:?}", self.config.release_timeout)))?
    }

    /// Counts the parent's history and the last child run of the first deploy.
    async fn history(&self, subject: ReleaseSubject, key: &str) -> Result<ReleaseHistory, BenchError> {
        let child = match subject {
            ReleaseSubject::Ordo => deploy_workflow_id(&format!("{key}:c000")),
            ReleaseSubject::Skeleton => skeleton_deploy_id(key, 0),
        };
        let mut counts = Vec::new();
        for id in [release_workflow_id(key), child] {
            let events = self
                .client
                .get_workflow_handle::<ReleaseWorkflow>(id)
                .fetch_history(WorkflowFetchHistoryOptions::default())
                .into_events()
                .await
                .map_err(|e| BenchError::temporal("fetching a history", e))?;
            counts.push(shape::count(&events));
        }
        Ok(ReleaseHistory { release: counts[0], deploy: counts[1] })
    }
}

/// Ordo's release: `deploys` containers `c000…`, each to every environment, approved.
fn ordo_release_input(key: &str, deploys: u32, error_rate: u8, retry_initial_ms: u64) -> ReleaseInfo {
    let envs: Vec<String> = Environment::ALL.iter().map(|e| e.as_str().to_owned()).collect();
    let mut release = ReleaseInfo::from_catalogue(key);
    release.approved_by = "bench".into();
    release.knobs =
        StepKnobs { error_rate: Some(error_rate), retry_initial_ms: Some(retry_initial_ms), ..StepKnobs::default() };
    release.deploys = (0..deploys)
        .map(|i| DeployInfo {
            deploy_key: format!("{key}:c{i:03}"),
            container_id: format!("{key}-c{i:03}"),
            container_version: "1.0.0".into(),
            git_url: format!("https://example.com/c{i:03}.git"),
            approved: true,
            approved_by: "bench".into(),
            envs: envs.clone(),
            release_key: key.to_owned(),
            knobs: StepKnobs::default(),
        })
        .collect();
    release
}

/// Release `key`'s lines in the audit logs under `data`, and how many (step, deploy, log) appear
/// more than once.
fn audit(data: &Path, key: &str) -> Result<(usize, usize), BenchError> {
    let store = ReleaseStore::new(data);
    let mut lines = 0;
    let mut twice = 0;
    let logs = std::iter::once(ARTIFACTORY).chain(Environment::ALL.iter().map(|e| e.as_str()));
    for log in logs {
        let entries = store.audit(log).map_err(|e| BenchError::Process(format!("reading the {log} audit log: {e}")))?;
        let mine: Vec<_> = entries.iter().filter(|e| e.release_key == key).collect();
        lines += mine.len();
        let mut seen = std::collections::HashSet::new();
        twice += mine.iter().filter(|e| !seen.insert((e.step.as_str(), e.deploy_key.as_str()))).count();
    }
    Ok((lines, twice))
}

/// The report as Markdown.
pub fn markdown(r: &ReleaseReport) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(out, "# Release benchmark\n");
    let _ = writeln!(out, "{}\n", r.machine.one_line());
    let _ = writeln!(
        out,
        "One release of {} deploys × {} environments ({}), {} % injected errors per step attempt, \
         retries from {} ms; Ordo (`ordo worker --domains release`) against a no-op skeleton of the same \
         shape on one dev server.\n",
        r.deploys,
        r.environments.len(),
        r.environments.join(" → "),
        r.error_rate,
        r.retry_initial_ms
    );
    let _ = writeln!(out, "| | Ordo | skeleton | ratio |\n|---|---|---|---|");
    let _ = writeln!(
        out,
        "| wall time, median (s) | {:.2} | {:.2} | **{:.2}×** speed (skeleton / Ordo; goal ≥ 0.9) |",
        r.ordo_wall_seconds, r.skeleton_wall_seconds, r.speed_ratio
    );
    let _ = writeln!(
        out,
        "| worker CPU, median (s) | {:.2} | {:.2} | {:.2}× |",
        r.ordo_worker_cpu_seconds,
        r.skeleton_worker_cpu_seconds,
        r.ordo_worker_cpu_seconds / r.skeleton_worker_cpu_seconds
    );
    let _ = writeln!(out, "| steps done twice (audit logs) | {} | – | goal 0 |\n", r.steps_done_twice);
    let _ = writeln!(
        out,
        "## Rounds\n\n| round | subject | wall (s) | worker CPU (s) | server CPU (s) | audit lines | twice |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|");
    for run in &r.runs {
        let opt = |v: Option<usize>| v.map_or("–".to_owned(), |v| v.to_string());
        let _ = writeln!(
            out,
            "| {} | {} | {:.2} | {:.2} | {:.2} | {} | {} |",
            run.round,
            run.subject.as_str(),
            run.wall_seconds,
            run.worker_cpu_seconds,
            run.server_cpu_seconds,
            opt(run.audit_lines),
            opt(run.steps_done_twice)
        );
    }
    let _ = writeln!(out, "\n## Same shape (histories of the last round)\n");
    let _ = writeln!(out, "| history | events | workflow tasks | activities | upserts |\n|---|---|---|---|---|");
    for (name, history) in [("Ordo", &r.ordo_history), ("skeleton", &r.skeleton_history)] {
        if let Some(h) = history {
            for (part, c) in [("release", h.release), ("one deploy × env", h.deploy)] {
                let _ = writeln!(
                    out,
                    "| {name}: {part} | {} | {} | {} | {} |",
                    c.events, c.workflow_tasks, c.activities, c.upserts
                );
            }
        }
    }
    let _ = writeln!(out, "\n## Notes\n");
    for note in &r.notes {
        let _ = writeln!(out, "- {note}");
    }
    out
}
