//! `ordo hook workers …`: TAC's `workers` sub-resource (`{intent}/workers` over HTTP), the workers
//! a hook intent's workflow needs: create, put, get, list, delete, and `status` (ready = the
//! worker's task queue has a live poller, checked until its `startToCloseTimeout`, at most
//! `--max-wait-ms`). Exit codes: 0 success, 1 error, 4 the worker is not ready.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Subcommand;
use ordo_hooks::intent::check_name;
use ordo_hooks::workers::{readiness, WorkerIntent, MAX_START_TO_CLOSE_MS};

use super::hook::{items, open, print, read_json, refused, DigArgs, StoreArgs};

/// The TAC intent whose workers are acted on.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct IntentArgs {
    #[command(flatten)]
    dig: DigArgs,
    /// The TAC (hook) intent the workers serve.
    #[arg(long)]
    intent: String,
}

impl IntentArgs {
    /// The DIG and the intent's name, both checked against the seed's name rule.
    fn parse(&self) -> anyhow::Result<(ordo_hooks::intent::DigRef, &str)> {
        let dig = self.dig.dig()?;
        check_name("--intent", &self.intent)?;
        Ok((dig, &self.intent))
    }
}

/// `ordo hook workers …`.
#[derive(Debug, Subcommand)]
pub(crate) enum WorkersCommand {
    /// Add workers from a JSON file (one worker or a list); a taken name is an error.
    Create {
        #[command(flatten)]
        on: IntentArgs,
        /// The worker(s) as JSON (`{metadata: {name}, spec: {startToCloseTimeout?, taskQueue?, …}}`);
        /// `-` for stdin.
        file: PathBuf,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Create or overwrite workers from a JSON file (the seed's PUT).
    Put {
        #[command(flatten)]
        on: IntentArgs,
        /// The worker(s) as JSON; `-` for stdin.
        file: PathBuf,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Print one worker.
    Get {
        #[command(flatten)]
        on: IntentArgs,
        /// The worker's name.
        name: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Print the intent's workers, in creation order.
    List {
        #[command(flatten)]
        on: IntentArgs,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Delete one worker.
    Delete {
        #[command(flatten)]
        on: IntentArgs,
        /// The worker's name.
        name: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Whether the worker is ready: its task queue (`spec.taskQueue`, else the hook's) has a live
    /// poller, checked until its `startToCloseTimeout`; exit code 4 when it is not.
    Status {
        #[command(flatten)]
        on: IntentArgs,
        /// The worker's name.
        name: String,
        /// The longest to wait, in ms, whatever the worker's timeout (1 ms to one day).
        #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=MAX_START_TO_CLOSE_MS))]
        max_wait_ms: u64,
        #[command(flatten)]
        store: StoreArgs,
    },
}

fn worker_name(on: &IntentArgs, name: &str) -> String {
    format!("worker {name:?} of intent {:?}", on.intent)
}

pub(crate) async fn run(temporal: &ordo_core::TemporalArgs, command: WorkersCommand) -> anyhow::Result<ExitCode> {
    match command {
        WorkersCommand::Create { on, file, store } => save(on, file, store, false).await,
        WorkersCommand::Put { on, file, store } => save(on, file, store, true).await,
        WorkersCommand::Get { on, name, store } => {
            let (dig, intent) = on.parse()?;
            let worker = open(&store).await?.get_worker(&dig, intent, &name).await;
            print(&worker.map_err(refused(worker_name(&on, &name)))?)?;
            Ok(ExitCode::SUCCESS)
        }
        WorkersCommand::List { on, store } => {
            let (dig, intent) = on.parse()?;
            let store = open(&store).await?;
            // An unknown intent is an error, not an empty list.
            store.get_intent(&dig, intent).await.map_err(refused(format!("intent {intent:?}")))?;
            print(&store.list_workers(&dig, intent).await?)?;
            Ok(ExitCode::SUCCESS)
        }
        WorkersCommand::Delete { on, name, store } => {
            let (dig, intent) = on.parse()?;
            let deleted = open(&store).await?.delete_worker(&dig, intent, &name).await;
            deleted.map_err(refused(worker_name(&on, &name)))?;
            eprintln!("deleted {}", worker_name(&on, &name));
            Ok(ExitCode::SUCCESS)
        }
        WorkersCommand::Status { on, name, max_wait_ms, store } => {
            let (dig, intent) = on.parse()?;
            let store = open(&store).await?;
            let worker = store.get_worker(&dig, intent, &name).await.map_err(refused(worker_name(&on, &name)))?;
            let hook = store.get_intent(&dig, intent).await.map_err(refused(format!("intent {intent:?}")))?;
            let hook_queue = hook.temporal()?.start.task_queue;
            let client = ordo_core::connect(temporal).await?;
            let status = readiness(&client, &worker, &hook_queue, Duration::from_millis(max_wait_ms)).await?;
            print(&status)?;
            if status.ready {
                return Ok(ExitCode::SUCCESS);
            }
            eprintln!(
                "{} is not ready: task queue {:?} has no live poller",
                worker_name(&on, &name),
                status.task_queue
            );
            Ok(ExitCode::from(4))
        }
    }
}

/// Adds (or, with `put`, adds or overwrites) the workers in `file` to the intent.
async fn save(on: IntentArgs, file: PathBuf, store: StoreArgs, put: bool) -> anyhow::Result<ExitCode> {
    let (dig, intent) = on.parse()?;
    let workers = items(&read_json(&file)?, WorkerIntent::parse)?;
    let store = open(&store).await?;
    store.get_intent(&dig, intent).await.map_err(refused(format!("intent {intent:?}")))?;
    for worker in &workers {
        let saved = if put {
            store.put_worker(&dig, intent, worker).await
        } else {
            store.create_worker(&dig, intent, worker).await
        };
        saved.map_err(refused(worker_name(&on, worker.name())))?;
        eprintln!("{dig}: {}", worker_name(&on, worker.name()));
    }
    Ok(ExitCode::SUCCESS)
}
