//! Typed lifecycle helpers for the API and the CLI: run an action on a DIG (its intents read from
//! the store, in order), read an action's history, list a DIG's actions.

use futures::StreamExt as _;
use temporalio_client::{
    Client, WorkflowGetResultOptions, WorkflowListOptions, WorkflowQueryOptions, WorkflowStartOptions,
};

use crate::intent::DigRef;
use crate::model::{
    lifecycle_id_prefix, lifecycle_workflow_id, HookCall, LifecycleAction, LifecycleRequest, LifecycleState,
    WorkerCheck,
};
use crate::store::Store;
use crate::workflows::HookLifecycleWorkflow;

/// The workers `call` needs ready, from the DIG's `(intent, worker)` pairs: those registered on its
/// intent, and those of the DIG's other intents that serve its task queue (readiness is the
/// queue's).
fn needed(workers: &[(String, WorkerCheck)], call: &HookCall) -> Vec<WorkerCheck> {
    workers
        .iter()
        .filter(|(intent, w)| *intent == call.intent || w.task_queue == call.spec.start.task_queue)
        .map(|(_, w)| w.clone())
        .collect()
}

/// A lifecycle action just started.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionStarted {
    /// The lifecycle workflow.
    pub workflow_id: String,
    /// Its run.
    pub run_id: String,
    /// The app context it creates.
    pub app_context_id: String,
}

/// A DIG's lifecycle action as visibility lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionSummary {
    /// The lifecycle workflow.
    pub workflow_id: String,
    /// Its run.
    pub run_id: String,
    /// Temporal's status (`Running`, `Completed`, …).
    pub status: String,
}

/// Lifecycle operations over a Temporal client and the intent store.
#[derive(Debug, Clone)]
pub struct HooksClient {
    client: Client,
    store: Store,
    task_queue: String,
    emco_url: String,
}

impl HooksClient {
    /// Lifecycle workflows go to `task_queue`; hooks are told to call back `emco_url`.
    pub fn new(client: Client, store: Store, task_queue: impl Into<String>, emco_url: impl Into<String>) -> Self {
        Self { client, store, task_queue: task_queue.into(), emco_url: emco_url.into() }
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The Temporal client.
    pub fn temporal(&self) -> &Client {
        &self.client
    }

    /// Starts `action` on `dig`: its pre and post hooks are read from the store now, in creation
    /// order, each with the workers it needs ready, so the workflow's history says exactly which
    /// intents it ran and which workers it checked.
    pub async fn start_action(&self, dig: &DigRef, action: LifecycleAction) -> anyhow::Result<ActionStarted> {
        let intents = self.store.list_intents(dig, None).await?;
        let mut workers = Vec::new();
        for intent in &intents {
            let queue = intent.temporal()?.start.task_queue;
            for worker in self.store.list_workers(dig, intent.name()).await? {
                workers.push((intent.name().to_owned(), worker.check(&queue)));
            }
        }
        let calls = |hook_type| -> anyhow::Result<Vec<HookCall>> {
            let mut calls = Vec::new();
            for intent in intents.iter().filter(|i| i.spec.hook_type == hook_type) {
                let mut call = HookCall::from_intent(intent)?;
                call.workers = needed(&workers, &call);
                calls.push(call);
            }
            Ok(calls)
        };
        let (pre, post) = (calls(action.pre_hook())?, calls(action.post_hook())?);
        // EMCO's app context ids are decimal numbers.
        let app_context_id = (uuid::Uuid::new_v4().as_u128() % 10u128.pow(19)).to_string();
        let workflow_id = lifecycle_workflow_id(dig, action, &app_context_id);
        let request = LifecycleRequest {
            dig: dig.clone(),
            action,
            app_context_id: app_context_id.clone(),
            emco_url: self.emco_url.clone(),
            pre,
            post,
        };
        let handle = self
            .client
            .start_workflow(
                HookLifecycleWorkflow::run,
                serde_json::to_value(&request)?,
                WorkflowStartOptions::new(self.task_queue.clone(), workflow_id.clone()).build(),
            )
            .await?;
        Ok(ActionStarted { workflow_id, run_id: handle.run_id().unwrap_or_default().to_owned(), app_context_id })
    }

    /// Runs `action` on `dig` to its end.
    pub async fn run_action(&self, dig: &DigRef, action: LifecycleAction) -> anyhow::Result<LifecycleState> {
        let started = self.start_action(dig, action).await?;
        self.wait(&started.workflow_id).await
    }

    /// Waits for a lifecycle action and returns its history.
    pub async fn wait(&self, workflow_id: &str) -> anyhow::Result<LifecycleState> {
        let handle = self.client.get_workflow_handle::<HookLifecycleWorkflow>(workflow_id.to_owned());
        Ok(handle.get_result(WorkflowGetResultOptions::default()).await?)
    }

    /// A lifecycle action's history so far (the `history` query).
    pub async fn history(&self, workflow_id: &str) -> anyhow::Result<LifecycleState> {
        let handle = self.client.get_workflow_handle::<HookLifecycleWorkflow>(workflow_id.to_owned());
        Ok(handle.query(HookLifecycleWorkflow::history, (), WorkflowQueryOptions::default()).await?)
    }

    /// The lifecycle actions of `dig`, newest first.
    pub async fn list_actions(&self, dig: &DigRef) -> anyhow::Result<Vec<ActionSummary>> {
        let prefix = lifecycle_id_prefix(dig).replace('\'', "");
        let query = format!("WorkflowType = 'HookLifecycle' AND WorkflowId STARTS_WITH '{prefix}'");
        let mut stream = self.client.list_workflows(query, WorkflowListOptions::default());
        let mut actions = Vec::new();
        while let Some(w) = stream.next().await {
            let w = w?;
            actions.push(ActionSummary {
                workflow_id: w.id().to_owned(),
                run_id: w.run_id().to_owned(),
                status: format!("{:?}", w.status()),
            });
        }
        Ok(actions)
    }
}
