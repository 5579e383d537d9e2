//! `ordo hook …`: seed 004's lifecycle hooks. TAC intents of a deployment intent group (create,
//! put, get, list, delete), lifecycle actions on it (instantiate, update, terminate, each running
//! its hooks), an action's history, the DIG's actions, and `invoke` (the seed's workflow client,
//! in-process); an intent's `workers` ([`super::hook_workers`]) and the DIG's `workflow-intents`
//! ([`super::hook_workflows`]). Data (JSON) goes to stdout, messages to stderr.
//! Exit codes: 0 success, 1 error, 3 the lifecycle action failed (a hook or the action), 4 a
//! worker is not ready.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Subcommand;
use ordo_hooks::client::HooksClient;
use ordo_hooks::intent::{DigRef, HookIntent};
use ordo_hooks::model::{LifecycleAction, LifecycleOutcome, LifecycleState};
use ordo_hooks::spec::WfTemporalSpec;
use ordo_hooks::store::{Store, StoreError};
use serde_json::Value;

/// Where intents are stored.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct StoreArgs {
    /// Ordo's data directory (the default SQLite store is `hooks.db` in it).
    #[arg(long, env = "ORDO_DATA_DIR", default_value = ".ordo", global = true)]
    data_dir: PathBuf,
    /// The intent store: `postgres://…` or `sqlite://…`; default the data dir's SQLite file.
    #[arg(long = "hooks-database-url", env = "DATABASE_URL", global = true)]
    database_url: Option<String>,
}

/// The deployment intent group acted on.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct DigArgs {
    /// `{project}`.
    #[arg(long)]
    project: String,
    /// `{compositeApp}`.
    #[arg(long = "app")]
    composite_app: String,
    /// `{compositeAppVersion}`.
    #[arg(long = "app-version")]
    composite_app_version: String,
    /// `{deploymentIntentGroup}`.
    #[arg(long)]
    dig: String,
}

impl DigArgs {
    /// The DIG, each segment checked against the seed's name rule.
    pub(super) fn dig(&self) -> anyhow::Result<DigRef> {
        Ok(DigRef::parse(&self.project, &self.composite_app, &self.composite_app_version, &self.dig)?)
    }
}

/// Lifecycle settings.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct LifecycleArgs {
    /// Task queue of the lifecycle workflows.
    #[arg(long, env = "ORDO_HOOKS_TASK_QUEUE", default_value = ordo_hooks::TASK_QUEUE)]
    task_queue: String,
    /// The `emcoURL` hooks receive.
    #[arg(long, env = "ORDO_HOOKS_EMCO_URL", default_value = "http://127.0.0.1:8080")]
    emco_url: String,
    /// Start the action and print its ids without waiting for it.
    #[arg(long)]
    no_wait: bool,
}

/// `ordo hook …`.
#[derive(Debug, Subcommand)]
pub(crate) enum HookCommand {
    /// TAC intents of a DIG.
    #[command(subcommand)]
    Intents(IntentsCommand),
    /// TAC's workers of a hook intent (what its workflow needs ready) and their readiness.
    #[command(subcommand)]
    Workers(super::hook_workers::WorkersCommand),
    /// Workflow intents of a DIG (`temporal-workflow-intents`): create, list, start, status, cancel.
    #[command(subcommand)]
    WorkflowIntents(super::hook_workflows::WorkflowIntentsCommand),
    /// Instantiate a DIG: pre-install hooks, the action, post-install hooks.
    Instantiate {
        #[command(flatten)]
        dig: DigArgs,
        #[command(flatten)]
        lifecycle: LifecycleArgs,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Update a DIG: pre-update hooks, the action, post-update hooks.
    Update {
        #[command(flatten)]
        dig: DigArgs,
        #[command(flatten)]
        lifecycle: LifecycleArgs,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Terminate a DIG: pre-termination hooks, the action, post-termination hooks.
    Terminate {
        #[command(flatten)]
        dig: DigArgs,
        #[command(flatten)]
        lifecycle: LifecycleArgs,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// A lifecycle action's history (hooks run, their workflow ids, outcomes).
    History {
        /// The lifecycle workflow id.
        workflow_id: String,
    },
    /// The lifecycle actions of a DIG.
    Actions {
        #[command(flatten)]
        dig: DigArgs,
    },
    /// Start a `WfTemporalSpec` (the seed's `POST /invoke/{client}`) and print its ids.
    Invoke {
        /// The spec as JSON; `-` for stdin.
        spec: PathBuf,
    },
}

/// `ordo hook intents …`.
#[derive(Debug, Subcommand)]
pub(crate) enum IntentsCommand {
    /// Create intents from a JSON file (one intent or a list); a taken name is an error.
    Create {
        #[command(flatten)]
        dig: DigArgs,
        /// The intent(s) as JSON; `-` for stdin.
        file: PathBuf,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Create or overwrite intents from a JSON file (the seed's PUT).
    Put {
        #[command(flatten)]
        dig: DigArgs,
        /// The intent(s) as JSON; `-` for stdin.
        file: PathBuf,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Print one intent.
    Get {
        #[command(flatten)]
        dig: DigArgs,
        /// The intent's name.
        name: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Print every intent of the DIG, in order.
    List {
        #[command(flatten)]
        dig: DigArgs,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Delete one intent.
    Delete {
        #[command(flatten)]
        dig: DigArgs,
        /// The intent's name.
        name: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

pub(super) fn read_json(path: &PathBuf) -> anyhow::Result<Value> {
    let text = if path.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin()).context("reading stdin")?
    } else {
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?
    };
    Ok(serde_json::from_str(&text)
        .map_err(|e| ordo_core::RequestError::new("input", format!("malformed JSON: {e}")))?)
}

/// The items of a JSON file holding one item or a list, each parsed (errors name the field).
pub(super) fn items<T>(
    value: &Value,
    parse: impl Fn(&Value) -> Result<T, ordo_core::RequestError>,
) -> anyhow::Result<Vec<T>> {
    match value {
        Value::Array(items) => Ok(items.iter().map(parse).collect::<Result<_, _>>()?),
        one => Ok(vec![parse(one)?]),
    }
}

/// The store's refusals in the words of the item (`what`: `worker "w" of intent "i"`, …).
pub(super) fn refused(what: String) -> impl FnOnce(StoreError) -> anyhow::Error {
    move |err| match err {
        StoreError::Conflict => anyhow::anyhow!("{what} already exists"),
        StoreError::NotFound => anyhow::anyhow!("{what} not found"),
        other => anyhow::Error::new(other).context(what),
    }
}

pub(super) async fn open(store: &StoreArgs) -> anyhow::Result<Store> {
    std::fs::create_dir_all(&store.data_dir).with_context(|| format!("creating {}", store.data_dir.display()))?;
    Store::open(store.database_url.as_deref(), &store.data_dir).await.context("opening the hooks store")
}

pub(super) fn print(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

pub(crate) async fn run(temporal: ordo_core::TemporalArgs, command: HookCommand) -> anyhow::Result<ExitCode> {
    match command {
        HookCommand::Intents(command) => intents(command).await,
        HookCommand::Workers(command) => super::hook_workers::run(&temporal, command).await,
        HookCommand::WorkflowIntents(command) => super::hook_workflows::run(&temporal, command).await,
        HookCommand::Instantiate { dig, lifecycle: l, store } => {
            lifecycle(&temporal, dig, l, store, LifecycleAction::Instantiate).await
        }
        HookCommand::Update { dig, lifecycle: l, store } => {
            lifecycle(&temporal, dig, l, store, LifecycleAction::Update).await
        }
        HookCommand::Terminate { dig, lifecycle: l, store } => {
            lifecycle(&temporal, dig, l, store, LifecycleAction::Terminate).await
        }
        HookCommand::History { workflow_id } => {
            let client = ordo_core::connect(&temporal).await?;
            let handle = client.get_workflow_handle::<ordo_hooks::workflows::HookLifecycleWorkflow>(workflow_id);
            let state = handle
                .query(
                    ordo_hooks::workflows::HookLifecycleWorkflow::history,
                    (),
                    temporalio_client::WorkflowQueryOptions::default(),
                )
                .await?;
            print(&state)?;
            Ok(ExitCode::SUCCESS)
        }
        HookCommand::Actions { dig } => {
            let dig = dig.dig()?;
            let client = ordo_core::connect(&temporal).await?;
            let query = format!(
                "WorkflowType = 'HookLifecycle' AND WorkflowId STARTS_WITH '{}'",
                ordo_hooks::model::lifecycle_id_prefix(&dig)
            );
            let mut stream = client.list_workflows(query, temporalio_client::WorkflowListOptions::default());
            let mut actions = Vec::new();
            while let Some(w) = futures::StreamExt::next(&mut stream).await {
                let w = w?;
                actions.push(serde_json::json!({"workflowId": w.id(), "runId": w.run_id(), "status": format!("{:?}", w.status())}));
            }
            print(&actions)?;
            Ok(ExitCode::SUCCESS)
        }
        HookCommand::Invoke { spec } => {
            let spec = WfTemporalSpec::parse(&read_json(&spec)?, "")?;
            let client = ordo_core::connect(&temporal).await?;
            let started = ordo_hooks::starter::start(&client, &spec).await?;
            print(&started)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Runs `action` on the DIG (or only starts it, with `--no-wait`).
async fn lifecycle(
    temporal: &ordo_core::TemporalArgs,
    dig: DigArgs,
    lifecycle: LifecycleArgs,
    store: StoreArgs,
    action: LifecycleAction,
) -> anyhow::Result<ExitCode> {
    let dig = dig.dig()?;
    let hooks = HooksClient::new(
        ordo_core::connect(temporal).await?,
        open(&store).await?,
        lifecycle.task_queue,
        lifecycle.emco_url,
    );
    let started = hooks.start_action(&dig, action).await?;
    eprintln!("{} {dig}: {}", action.as_str(), started.workflow_id);
    if lifecycle.no_wait {
        print(&started)?;
        return Ok(ExitCode::SUCCESS);
    }
    report(&hooks.wait(&started.workflow_id).await?)
}

fn report(state: &LifecycleState) -> anyhow::Result<ExitCode> {
    print(state)?;
    match &state.outcome {
        Some(LifecycleOutcome::Failed { reason }) => {
            eprintln!("failed: {reason}");
            Ok(ExitCode::from(3))
        }
        _ => Ok(ExitCode::SUCCESS),
    }
}

async fn intents(command: IntentsCommand) -> anyhow::Result<ExitCode> {
    match command {
        IntentsCommand::Create { dig, file, store } => save(dig, file, store, false).await,
        IntentsCommand::Put { dig, file, store } => save(dig, file, store, true).await,
        IntentsCommand::Get { dig, name, store } => {
            print(
                &open(&store).await?.get_intent(&dig.dig()?, &name).await.with_context(|| format!("intent {name}"))?,
            )?;
            Ok(ExitCode::SUCCESS)
        }
        IntentsCommand::List { dig, store } => {
            print(&open(&store).await?.list_intents(&dig.dig()?, None).await?)?;
            Ok(ExitCode::SUCCESS)
        }
        IntentsCommand::Delete { dig, name, store } => {
            open(&store).await?.delete_intent(&dig.dig()?, &name).await.with_context(|| format!("intent {name}"))?;
            eprintln!("deleted {name}");
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Creates (or, with `put`, creates or overwrites) the intents in `file`.
async fn save(dig: DigArgs, file: PathBuf, store: StoreArgs, put: bool) -> anyhow::Result<ExitCode> {
    let dig = dig.dig()?;
    let intents = items(&read_json(&file)?, HookIntent::parse)?;
    let store = open(&store).await?;
    for intent in &intents {
        if put {
            store.put_intent(&dig, intent).await?;
        } else {
            store.create_intent(&dig, intent).await.with_context(|| format!("intent {}", intent.name()))?;
        }
        eprintln!("{dig}: {} ({})", intent.name(), intent.spec.hook_type);
    }
    Ok(ExitCode::SUCCESS)
}
