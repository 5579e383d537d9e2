//! `ordo hook workflow-intents …`: workflowmgr's `temporal-workflow-intents` of a DIG, workflow
//! intents (a TAC intent without a hook type): create, get, list, delete, `start` (the intent's
//! `WfTemporalSpec` started in-process, as `invoke`), `status` (describe, history, a query passed
//! through, the result) and `cancel` (or terminate). The workflow acted on is `--workflow-id`,
//! else the intent's fixed `workflowStartOptions.id`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Subcommand;
use ordo_core::RequestError;
use ordo_hooks::control::{self, CancelRequest, StatusQuery, MAX_ARGS, MAX_TEXT, MAX_WAIT};
use ordo_hooks::intent::{check_name, DigRef, WorkflowIntent};
use ordo_hooks::store::Store;
use serde_json::Value;

use super::hook::{items, open, print, read_json, refused, DigArgs, StoreArgs};

/// One workflow intent of a DIG.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct IntentName {
    #[command(flatten)]
    dig: DigArgs,
    /// The workflow intent's name.
    name: String,
}

impl IntentName {
    fn parse(&self) -> anyhow::Result<(DigRef, &str)> {
        let dig = self.dig.dig()?;
        check_name("name", &self.name)?;
        Ok((dig, &self.name))
    }

    /// The intent, read from the store (an error naming it when there is none).
    async fn read(&self, store: &Store) -> anyhow::Result<WorkflowIntent> {
        let (dig, name) = self.parse()?;
        store.get_workflow_intent(&dig, name).await.map_err(refused(what(name)))
    }
}

/// The workflow a status or cancel call acts on.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct WorkflowArgs {
    /// The workflow; default the intent's fixed `workflowStartOptions.id`.
    #[arg(long, value_parser = bounded_text)]
    workflow_id: Option<String>,
    /// Its run; default the latest.
    #[arg(long, value_parser = bounded_text)]
    run_id: Option<String>,
}

impl WorkflowArgs {
    /// `--workflow-id`, else the intent's fixed id; an error naming the flag when neither is set.
    fn workflow_id(&self, intent: &WorkflowIntent) -> anyhow::Result<String> {
        let fixed = intent.temporal()?.start.id.filter(|id| !id.is_empty());
        Ok(self
            .workflow_id
            .clone()
            .or(fixed)
            .ok_or_else(|| RequestError::new("--workflow-id", "is required: the intent has no fixed workflow id"))?)
    }
}

/// `ordo hook workflow-intents …`.
#[derive(Debug, Subcommand)]
pub(crate) enum WorkflowIntentsCommand {
    /// Create workflow intents from a JSON file (one or a list); a taken name is an error.
    Create {
        #[command(flatten)]
        dig: DigArgs,
        /// The intent(s) as JSON (`{metadata: {name}, spec: {workflowClient, temporal}}`); `-` for
        /// stdin.
        file: PathBuf,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Print one workflow intent.
    Get {
        #[command(flatten)]
        intent: IntentName,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Print the DIG's workflow intents, in creation order.
    List {
        #[command(flatten)]
        dig: DigArgs,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Delete one workflow intent.
    Delete {
        #[command(flatten)]
        intent: IntentName,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Start the intent's workflow and print its ids.
    Start {
        #[command(flatten)]
        intent: IntentName,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Print the workflow's status: its run id, and what the flags ask for.
    Status {
        #[command(flatten)]
        intent: IntentName,
        #[command(flatten)]
        workflow: WorkflowArgs,
        /// Wait for the workflow to close and print its result (`workflowResult`).
        #[arg(long)]
        wait_for_result: bool,
        /// How long `--wait-for-result` waits, in seconds (1 to 300).
        #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=MAX_WAIT.as_secs()))]
        wait_secs: u64,
        /// Describe the execution (status, type, task queue, history length, times).
        #[arg(long)]
        describe: bool,
        /// Include the workflow's history events.
        #[arg(long)]
        history: bool,
        /// A query to pass through to the workflow.
        #[arg(long, value_parser = bounded_text)]
        query_type: Option<String>,
        /// An argument of `--query-type`, as JSON (repeatable, at most 20).
        #[arg(long = "query-param", value_parser = json_value)]
        query_params: Vec<Value>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Request the workflow's cancellation (or, with `--terminate`, terminate it).
    Cancel {
        #[command(flatten)]
        intent: IntentName,
        #[command(flatten)]
        workflow: WorkflowArgs,
        /// Terminate instead of requesting cancellation.
        #[arg(long)]
        terminate: bool,
        /// Why (recorded in the workflow's history).
        #[arg(long, default_value = "", value_parser = bounded_text)]
        reason: String,
        /// A termination detail, as JSON (repeatable, at most 20).
        #[arg(long = "detail", value_parser = json_value)]
        details: Vec<Value>,
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// A text flag of at most [`MAX_TEXT`] characters.
fn bounded_text(s: &str) -> Result<String, String> {
    if s.len() > MAX_TEXT {
        return Err(format!("longer than {MAX_TEXT} characters"));
    }
    Ok(s.to_owned())
}

/// A JSON flag value.
fn json_value(s: &str) -> Result<Value, String> {
    serde_json::from_str(s).map_err(|e| format!("not JSON: {e}"))
}

/// At most [`MAX_ARGS`] values of the repeatable `flag`.
fn at_most(flag: &str, values: &[Value]) -> Result<(), RequestError> {
    if values.len() > MAX_ARGS {
        return Err(RequestError::new(flag, format!("at most {MAX_ARGS} values")));
    }
    Ok(())
}

fn what(name: &str) -> String {
    format!("workflow intent {name:?}")
}

pub(crate) async fn run(
    temporal: &ordo_core::TemporalArgs,
    command: WorkflowIntentsCommand,
) -> anyhow::Result<ExitCode> {
    match command {
        WorkflowIntentsCommand::Create { dig, file, store } => {
            let dig = dig.dig()?;
            let intents = items(&read_json(&file)?, WorkflowIntent::parse)?;
            let store = open(&store).await?;
            for intent in &intents {
                store.create_workflow_intent(&dig, intent).await.map_err(refused(what(intent.name())))?;
                eprintln!("{dig}: {}", what(intent.name()));
            }
        }
        WorkflowIntentsCommand::Get { intent, store } => print(&intent.read(&open(&store).await?).await?)?,
        WorkflowIntentsCommand::List { dig, store } => {
            print(&open(&store).await?.list_workflow_intents(&dig.dig()?).await?)?;
        }
        WorkflowIntentsCommand::Delete { intent, store } => {
            let (dig, name) = intent.parse()?;
            open(&store).await?.delete_workflow_intent(&dig, name).await.map_err(refused(what(name)))?;
            eprintln!("deleted {}", what(name));
        }
        WorkflowIntentsCommand::Start { intent, store } => {
            let spec = intent.read(&open(&store).await?).await?.temporal()?;
            let client = ordo_core::connect(temporal).await?;
            print(&ordo_hooks::starter::start(&client, &spec).await?)?;
        }
        WorkflowIntentsCommand::Status {
            intent,
            workflow,
            wait_for_result,
            wait_secs,
            describe,
            history,
            query_type,
            query_params,
            store,
        } => {
            at_most("--query-param", &query_params)?;
            intent.parse()?;
            let query = StatusQuery {
                workflow_id: workflow.workflow_id(&intent.read(&open(&store).await?).await?)?,
                run_id: workflow.run_id,
                wait_for_result,
                describe,
                history,
                query_type: query_type.filter(|q| !q.is_empty()),
                query_params,
            };
            let client = ordo_core::connect(temporal).await?;
            let status = control::status(&client, &query, Duration::from_secs(wait_secs)).await;
            print(&status.map_err(|e| anyhow::Error::new(e).context(format!("workflow {}", query.workflow_id)))?)?;
        }
        WorkflowIntentsCommand::Cancel { intent, workflow, terminate, reason, details, store } => {
            at_most("--detail", &details)?;
            intent.parse()?;
            let workflow_id = workflow.workflow_id(&intent.read(&open(&store).await?).await?)?;
            let request = CancelRequest {
                workflow_id: Some(workflow_id.clone()),
                run_id: workflow.run_id,
                terminate,
                reason,
                details,
            };
            let client = ordo_core::connect(temporal).await?;
            control::cancel(&client, &workflow_id, &request)
                .await
                .map_err(|e| anyhow::Error::new(e).context(format!("workflow {workflow_id}")))?;
            eprintln!("{} {workflow_id}", if terminate { "terminated" } else { "cancellation requested for" });
        }
    }
    Ok(ExitCode::SUCCESS)
}
