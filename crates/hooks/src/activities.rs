//! The lifecycle's adapters to the world: start a hook's workflow (the in-process starter), wait
//! for it until a deadline, record the action's result on the DIG.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use temporalio_client::errors::WorkflowGetResultError;
use temporalio_client::WorkflowGetResultOptions;
use temporalio_common::UntypedWorkflow;
use temporalio_macros::activities;
use temporalio_sdk::activities::{ActivityContext, ActivityError};
use temporalio_sdk::ApplicationFailure;
use tokio::sync::OnceCell;

use crate::model::{
    ApplyActionRequest, ApplyActionResult, AwaitHookRequest, HookOutcome, StartHookRequest, StartHookResult,
    WorkerCheck,
};
use crate::starter::{self, StartError};
use crate::store::{DigState, Store};
use crate::workers;

/// Where the store is: opened on first use, so building a worker needs no database round trip.
#[derive(Debug)]
pub struct StoreSource {
    database_url: Option<String>,
    data_dir: PathBuf,
    store: OnceCell<Store>,
}

impl StoreSource {
    /// The store at `database_url`, else the SQLite file under `data_dir`.
    pub fn new(database_url: Option<String>, data_dir: PathBuf) -> Self {
        Self { database_url, data_dir, store: OnceCell::new() }
    }

    /// A store already open.
    pub fn opened(store: Store) -> Self {
        Self { database_url: None, data_dir: PathBuf::new(), store: OnceCell::from(store) }
    }

    /// The store, opened (and migrated) on first call.
    pub async fn get(&self) -> anyhow::Result<&Store> {
        Ok(self.store.get_or_try_init(|| Store::open(self.database_url.as_deref(), &self.data_dir)).await?)
    }
}

/// The lifecycle's activities.
#[derive(Debug)]
pub struct HookActivities {
    store: Arc<StoreSource>,
}

impl HookActivities {
    /// Activities recording DIG states in `store`.
    pub fn new(store: Arc<StoreSource>) -> Self {
        Self { store }
    }
}

/// The failure type of a readiness check that found no poller (retried until the worker's timeout).
pub const WORKER_NOT_READY: &str = "WorkerNotReady";

fn retryable(message: String) -> ActivityError {
    ApplicationFailure::builder(message).type_name("HookActivityFailed".to_owned()).build().into()
}

fn epoch_ms(t: SystemTime) -> u64 {
    ordo_core::time::epoch_ms(t)
}

#[activities]
impl HookActivities {
    /// Starts a hook's workflow through the worker's own client. A start Temporal refuses (the id
    /// is taken, the namespace is unknown) is an outcome, not a retry.
    #[activity(name = "StartHook")]
    #[tracing::instrument(skip_all, fields(intent = %request.intent))]
    pub async fn start_hook(
        self: Arc<Self>,
        ctx: ActivityContext,
        request: StartHookRequest,
    ) -> Result<StartHookResult, ActivityError> {
        match starter::start(&ctx.client(), &request.spec).await {
            Ok(started) => Ok(StartHookResult::Started { workflow_id: started.workflow_id, run_id: started.run_id }),
            Err(err @ (StartError::Conflict { .. } | StartError::Invalid { .. })) => {
                Ok(StartHookResult::Rejected { reason: err.to_string() })
            }
            Err(err @ StartError::Temporal { .. }) => Err(retryable(format!("{:#}", anyhow::Error::from(err)))),
        }
    }

    /// Waits for a hook's workflow until the request's deadline, heartbeating so a lost worker is
    /// noticed; the outcome says how it ended.
    #[activity(name = "AwaitHook")]
    #[tracing::instrument(skip_all, fields(workflow_id = %request.workflow_id))]
    pub async fn await_hook(
        self: Arc<Self>,
        ctx: ActivityContext,
        request: AwaitHookRequest,
    ) -> Result<HookOutcome, ActivityError> {
        let now = epoch_ms(SystemTime::now());
        let remaining = Duration::from_millis(request.deadline_ms.saturating_sub(now));
        // The id's latest run: the one just started, or its continuation.
        let handle = ctx.client().get_workflow_handle::<UntypedWorkflow>(request.workflow_id.clone());
        let result = handle.get_result(WorkflowGetResultOptions::default());
        let beat = async {
            loop {
                tokio::time::sleep(Duration::from_secs(5)).await;
                let _ = ctx.record_heartbeat(()).await;
            }
        };
        let outcome = tokio::select! {
            r = tokio::time::timeout(remaining, result) => r,
            () = beat => unreachable!("the heartbeat loop never ends"),
        };
        Ok(match outcome {
            Err(_) => HookOutcome::TimedOut { timeout_ms: request.timeout_ms },
            Ok(Ok(_)) => HookOutcome::Completed,
            Ok(Err(WorkflowGetResultError::Failed(failure))) => {
                HookOutcome::Failed { reason: format!("workflow {} failed: {failure}", request.workflow_id) }
            }
            Ok(Err(WorkflowGetResultError::Cancelled { .. })) => {
                HookOutcome::Failed { reason: format!("workflow {} was cancelled", request.workflow_id) }
            }
            Ok(Err(WorkflowGetResultError::Terminated { .. })) => {
                HookOutcome::Failed { reason: format!("workflow {} was terminated", request.workflow_id) }
            }
            Ok(Err(WorkflowGetResultError::TimedOut)) => {
                HookOutcome::Failed { reason: format!("workflow {} timed out", request.workflow_id) }
            }
            Ok(Err(WorkflowGetResultError::NotFound(_))) => {
                HookOutcome::Failed { reason: format!("workflow {} not found", request.workflow_id) }
            }
            Ok(Err(other)) => return Err(retryable(format!("waiting for {}: {other}", request.workflow_id))),
        })
    }

    /// Whether the worker is ready now: its task queue has a live poller. Not ready is a retryable
    /// failure, so Temporal asks again (the retry policy's back-off) until the worker's timeout,
    /// the activity's schedule-to-close.
    #[activity(name = "CheckWorkerReady")]
    #[tracing::instrument(skip_all, fields(worker = %request.name, task_queue = %request.task_queue))]
    pub async fn check_worker_ready(
        self: Arc<Self>,
        ctx: ActivityContext,
        request: WorkerCheck,
    ) -> Result<(), ActivityError> {
        let ready = workers::has_pollers(&ctx.client(), &request.task_queue)
            .await
            .map_err(|e| retryable(format!("describing task queue {}: {e:#}", request.task_queue)))?;
        if ready {
            return Ok(());
        }
        Err(ApplicationFailure::builder(format!("task queue {} has no live poller", request.task_queue))
            .type_name(WORKER_NOT_READY.to_owned())
            .build()
            .into())
    }

    /// Applies the action: records the state it leaves the DIG in (Ordo has no EMCO orchestrator
    /// to deploy anything). Idempotent.
    #[activity(name = "ApplyLifecycleAction")]
    #[tracing::instrument(skip_all, fields(dig = %request.dig))]
    pub async fn apply_lifecycle_action(
        self: Arc<Self>,
        _ctx: ActivityContext,
        request: ApplyActionRequest,
    ) -> Result<ApplyActionResult, ActivityError> {
        let store = self.store.get().await.map_err(|e| retryable(format!("opening the hooks store: {e:#}")))?;
        let state = DigState {
            state: request.action.resulting_state().to_owned(),
            app_context_id: request.app_context_id.clone(),
        };
        store
            .set_dig_state(&request.dig, &state)
            .await
            .map_err(|e| retryable(format!("recording the DIG state: {e:#}")))?;
        Ok(ApplyActionResult { state: state.state })
    }
}
