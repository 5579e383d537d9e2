//! One run at a time per workspace, with Temporal as the lock: a long-lived
//! `WorkspaceLockWorkflow` per IaC directory queues requesters (update-with-start from an
//! activity) and grants the workspace to one at a time by signalling it back. A holder that
//! disappears without releasing (terminated, timed out) is noticed by a periodic check while
//! another run waits for the workspace, and skipped, so nobody waits on a run that no longer
//! exists. A lock nobody waits for sleeps until a request arrives: parked runs cost no wake-ups.
//!
//! A run on a free workspace starts its lock *dormant* (`take_workspace_lock`): with a start delay
//! and the run as holder, so the server schedules no workflow task. If nobody queued meanwhile, the
//! holder gives it back by terminating that very run (its ticket names the run id): the lock never
//! has a workflow task at all. A run that finds the lock running queues with the update
//! `queue_for_workspace` (update-with-start), which wakes a dormant lock; the lock then carries on
//! as a new run (continue-as-new) before it answers, so the holder's terminate of the run it
//! started finds it closed, and the holder gives back by signal-with-start instead, which the new
//! run hears and grants the next in line. A request the lock had not taken when the holder's
//! terminate closed it fails back to the requester, which takes the workspace afresh: nobody is
//! queued on a lock that is gone. A plain signal leaves a dormant lock asleep but recorded: it is
//! heard when the lock wakes.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{
    ActivityOptions, ContinueAsNewOptions, LocalActivityOptions, SignalWorkflowOptions, SyncWorkflowContext,
    WorkflowCancellationToken, WorkflowContext, WorkflowContextView, WorkflowResult,
};

use std::path::PathBuf;
use std::sync::Arc;

use ordo_iac::workspace;
use temporalio_client::UntypedWorkflow;
use temporalio_common::SignalDefinition;
use temporalio_macros::activities;
use temporalio_sdk::activities::{ActivityContext, ActivityError};

use crate::error::{self, failure};
use crate::model::ProvisionRequest;

/// Workflow type of the per-workspace lock.
pub const LOCK_WORKFLOW: &str = "WorkspaceLockWorkflow";

/// How often the lock checks that its holder still exists, while another run waits for it.
const HOLDER_CHECK: Duration = Duration::from_secs(30);

/// Patch marker of checking the holder only while someone is queued.
const CHECK_WHEN_QUEUED_PATCH: &str = "lock-check-when-queued";

/// Patch marker of a dormant lock carrying on as a new run once somebody queues on it (so its
/// holder's terminate by run id cannot drop the queue).
const DORMANT_HANDOVER_PATCH: &str = "lock-dormant-handover";

/// The lock's state; also its input across continue-as-new.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct LockState {
    /// The workspace (canonical directory on the worker), for people reading the lock.
    pub directory: String,
    /// Workflow id of the run that holds the workspace.
    pub holder: Option<String>,
    /// Workflow ids waiting, first come first served.
    pub queue: Vec<String>,
}

/// A request to take or give back a workspace.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct LockRequest {
    /// The requesting run's workflow id.
    pub requester: String,
}

/// Grant notice sent to a waiting run.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct LockGrant {
    /// The lock workflow that granted it.
    pub lock_id: String,
}

/// The grant signal, `workspace_granted`, which every holder (provision or deprovision run)
/// declares with this name: the lock sends it by name, knowing nothing of its holders' types.
struct GrantSignal;

impl SignalDefinition for GrantSignal {
    // Only the name and input reach the wire; the signal is sent to whichever run holds the lock.
    type Workflow = WorkspaceLockWorkflow;
    type Input = LockGrant;

    fn name(&self) -> &str {
        GRANT_SIGNAL
    }
}

/// Name of the grant signal holders declare.
pub const GRANT_SIGNAL: &str = "workspace_granted";

/// The per-workspace lock.
#[workflow]
#[derive(Default)]
pub struct WorkspaceLockWorkflow {
    lock: LockState,
    /// Whether the current holder has been told; a re-sent acquire from the holder re-notifies it.
    notified: bool,
    /// Bumped on every signal so the main loop wakes.
    version: u64,
    /// The run has taken its input (the carried-over holder and queue).
    started: bool,
    /// A run asked for the workspace by signal (runs before `light-run`).
    acquired_by_signal: bool,
    /// Requesters an update queued before the run took its input: told by signal even if the
    /// input names one of them as the holder (its earlier grant was answered `queued`).
    queued_early: Vec<String>,
    /// Requesters that gave the workspace back before the run took its input: a dormant lock
    /// (started holding its first requester, see `take_workspace_lock`) is woken by its holder's
    /// give-back, which must not be lost to the holder the input then names.
    released_early: Vec<String>,
}

#[workflow_methods]
impl WorkspaceLockWorkflow {
    /// Serves requests until nobody holds or wants the workspace.
    #[run]
    pub async fn run(ctx: &mut WorkflowContext<Self>, input: LockState) -> WorkflowResult<()> {
        // Started dormant by its first holder (`take_workspace_lock`), and not carried on since.
        let dormant = input.holder.is_some() && ctx.info().continued_from_run_id().is_none();
        ctx.state_mut(|s| {
            // Signals delivered with the start are already queued; keep the carried-over order first.
            let mut queue = input.queue;
            queue.extend(s.lock.queue.drain(..).filter(|r| Some(r) != input.holder.as_ref()));
            queue.dedup();
            s.lock.queue = queue;
            if input.holder.is_some() {
                s.notified = !input.holder.as_ref().is_some_and(|h| s.queued_early.contains(h));
                s.lock.holder = input.holder;
            }
            if s.lock.holder.as_ref().is_some_and(|h| s.released_early.contains(h)) {
                s.lock.holder = None;
            }
            s.lock.directory = input.directory;
            s.started = true;
        });
        let lock_id = ctx.workflow_id().to_owned();
        // Locks started after `lock-check-when-queued` check their holder only while someone waits
        // for it; older ones (replaying without the marker) check on a timer all the time. A lock
        // only ever taken by update (`light-run`) is newer than both and asks nothing: no marker.
        let continued = ctx.info().continued_from_run_id().is_some();
        let mut check_only_when_queued = None;
        let mut handover_asked = false;
        loop {
            if check_only_when_queued.is_none() && (continued || ctx.state(|s| s.acquired_by_signal)) {
                check_only_when_queued = Some(ctx.patched(CHECK_WHEN_QUEUED_PATCH));
            }
            if dormant && !handover_asked && ctx.state(|s| !s.lock.queue.is_empty()) {
                handover_asked = true;
                // Somebody woke the dormant lock to queue: carry on as a new run before granting
                // anything, so the holder's terminate of the run it started finds it closed and
                // it gives back by signal, which the new run hears. Locks woken before this
                // patch (`lock_dormant_queued`) serve the queue in the same run.
                if ctx.patched(DORMANT_HANDOVER_PATCH) {
                    let carried = ctx.state(|s| s.lock.clone());
                    match ctx.continue_as_new(carried, ContinueAsNewOptions::default())? {}
                }
            }
            let check_only_when_queued = check_only_when_queued.unwrap_or(true);
            let next = ctx.state_mut(|s| {
                if s.lock.holder.is_none() && !s.lock.queue.is_empty() {
                    s.lock.holder = Some(s.lock.queue.remove(0));
                    s.notified = false;
                }
                match (&s.lock.holder, s.notified) {
                    (Some(holder), false) => Some(holder.clone()),
                    _ => None,
                }
            });
            if let Some(holder) = next {
                let sent = ctx
                    .external_workflow(holder.clone(), None)
                    .signal(GrantSignal, LockGrant { lock_id: lock_id.clone() }, SignalWorkflowOptions::default())
                    .await;
                ctx.state_mut(|s| match sent {
                    Ok(()) => s.notified = true,
                    // The requester is gone: skip it.
                    Err(_) => s.lock.holder = None,
                });
                continue;
            }
            let (idle, holder, queued, seen) = ctx.state(|s| {
                (
                    s.lock.holder.is_none() && s.lock.queue.is_empty(),
                    s.lock.holder.clone(),
                    !s.lock.queue.is_empty(),
                    s.version,
                )
            });
            if idle {
                return Ok(());
            }
            if ctx.continue_as_new_suggested() {
                let carried = ctx.state(|s| s.lock.clone());
                match ctx.continue_as_new(carried, ContinueAsNewOptions::default())? {}
            }
            if check_only_when_queued && !queued {
                // Nobody is kept waiting by a holder that might be gone: sleep until a request.
                ctx.wait_condition(move |s: &Self| s.version != seen).await?;
                continue;
            }
            let check = temporalio_sdk::workflows::select! {
                _ = ctx.timer(HOLDER_CHECK) => true,
                _ = ctx.wait_condition(move |s: &Self| s.version != seen) => false,
            };
            if let (true, Some(holder)) = (check, holder) {
                let open = ctx
                    .execute_activity(
                        LockActivities::check_run_open,
                        holder.clone(),
                        ActivityOptions::start_to_close_timeout(Duration::from_secs(30)),
                    )
                    .await
                    .unwrap_or(true);
                if !open {
                    ctx.state_mut(|s| {
                        if s.lock.holder.as_ref() == Some(&holder) {
                            s.lock.holder = None;
                        }
                    });
                }
            }
        }
    }

    /// Queue a run (or re-notify it if it already holds the workspace).
    #[signal(name = "acquire_workspace")]
    pub fn acquire_workspace(&mut self, _ctx: &mut SyncWorkflowContext<Self>, request: LockRequest) {
        self.acquired_by_signal = true;
        self.enqueue(request.requester);
    }

    /// Queue a run for a workspace somebody holds (or re-notify it if it already holds it); the
    /// grant arrives as the `workspace_granted` signal. An update, not a signal: if the lock closes
    /// before it has taken the request (its holder gave a dormant lock back by terminating it), the
    /// requester hears so and takes the workspace afresh, instead of waiting on a lock that is gone.
    #[update(name = "queue_for_workspace")]
    pub fn queue_for_workspace(&mut self, _ctx: &mut SyncWorkflowContext<Self>, request: LockRequest) {
        if !self.started {
            // Before the input names the holder, a request from the holder itself (a run reset
            // to before its take, asking again) must still be re-notified.
            self.queued_early.push(request.requester.clone());
        }
        self.enqueue(request.requester);
    }

    /// Take the workspace if it is free (`true`: granted, no signal follows), or queue for it
    /// (`false`: the grant arrives later as the `workspace_granted` signal). Sent with
    /// update-with-start by `light-run` workers before the dormant lock; kept for their locks.
    #[update(name = "take_workspace")]
    pub fn take_workspace(&mut self, ctx: &mut SyncWorkflowContext<Self>, request: LockRequest) -> bool {
        self.version += 1;
        // Handlers run before the run takes its input. A fresh lock's input holds no holder and
        // no queue, so the state here is whole; a continued lock's carried-over holder and queue
        // are not known yet, so the request queues and the run grants it in turn.
        let known = self.started || ctx.info().continued_from_run_id().is_none();
        let free = self.lock.holder.is_none() && self.lock.queue.is_empty();
        if known && (free || self.lock.holder.as_ref() == Some(&request.requester)) {
            self.lock.holder = Some(request.requester);
            self.notified = true;
            return true;
        }
        if !self.started {
            self.queued_early.push(request.requester.clone());
        }
        if !self.lock.queue.contains(&request.requester) {
            self.lock.queue.push(request.requester);
        }
        false
    }

    /// Give the workspace back (or leave the queue).
    #[signal(name = "release_workspace")]
    pub fn release_workspace(&mut self, _ctx: &mut SyncWorkflowContext<Self>, request: LockRequest) {
        if self.lock.holder.as_ref() == Some(&request.requester) {
            self.lock.holder = None;
        }
        if !self.started {
            // The holder the input names is not known yet: let it go once it is.
            self.released_early.push(request.requester.clone());
        }
        self.lock.queue.retain(|r| r != &request.requester);
        self.version += 1;
    }

    /// Who holds the workspace and who waits.
    #[query(name = "get_lock_state")]
    pub fn get_lock_state(&self, _ctx: &WorkflowContextView) -> LockState {
        self.lock.clone()
    }
}

impl WorkspaceLockWorkflow {
    /// Queues `requester`, or re-notifies it if it holds the workspace; wakes the main loop.
    fn enqueue(&mut self, requester: String) {
        if self.lock.holder.as_ref() == Some(&requester) {
            self.notified = false;
        } else if !self.lock.queue.contains(&requester) {
            self.lock.queue.push(requester);
        }
        self.version += 1;
    }
}

/// Queues the run for its workspace and waits for the grant; returns the lock's id.
pub(crate) async fn acquire<W: HoldsWorkspace>(
    ctx: &mut WorkflowContext<W>,
    request: &ProvisionRequest,
    options: ActivityOptions,
) -> WorkflowResult<String> {
    ctx.state_mut(|s| *s.granted_mut() = false);
    let lock_id = ctx.execute_activity(LockActivities::request_workspace_lock, request.clone(), options).await?;
    ctx.wait_condition(|s: &W| s.granted()).await?;
    Ok(lock_id)
}

/// A run's place at its workspace's lock (`light-run`): the lock's id, and whether the workspace
/// was granted at once.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct LockTicket {
    /// The lock workflow's id.
    pub lock_id: String,
    /// Granted in the same round trip; otherwise the grant arrives as a signal.
    pub granted: bool,
    /// The run of the lock this run started dormant (granted at once): given back by terminating
    /// exactly that run while nobody has queued on it. Tickets from before it have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
}

/// Takes the run's workspace, or queues for it (`light-run`): one local activity that starts the
/// lock dormant or queues on it. When the ticket says queued, wait with [`wait_for_grant`].
pub(crate) async fn take<W: HoldsWorkspace>(
    ctx: &mut WorkflowContext<W>,
    directory: &str,
    retry: temporalio_common::RetryPolicy,
) -> WorkflowResult<LockTicket> {
    ctx.state_mut(|s| *s.granted_mut() = false);
    let options = LocalActivityOptions::builder().start_to_close_timeout(LOCK_STEP_TIMEOUT).retry_policy(retry).build();
    Ok(ctx.execute_local_activity(LockActivities::take_workspace_lock, directory.to_owned(), options).await?)
}

/// Waits for the `workspace_granted` signal.
pub(crate) async fn wait_for_grant<W: HoldsWorkspace>(ctx: &mut WorkflowContext<W>) -> WorkflowResult<()> {
    ctx.wait_condition(|s: &W| s.granted()).await?;
    Ok(())
}

/// Gives the workspace back (`light-run`) from a local activity, which needs no round trip of
/// its own; a run that cannot (its worker's client failing) falls back to the signal.
pub(crate) async fn give_back<W>(ctx: &WorkflowContext<W>, ticket: &LockTicket) {
    let options = LocalActivityOptions::builder()
        .start_to_close_timeout(LOCK_STEP_TIMEOUT)
        .retry_policy(temporalio_common::RetryPolicy::builder().maximum_attempts(3).build())
        // Its own token: a cancelled run still gives the workspace back.
        .cancellation_token(WorkflowCancellationToken::new())
        .build();
    let released = ctx.execute_local_activity(LockActivities::give_back_workspace_lock, ticket.clone(), options);
    if released.await.is_err() {
        release(ctx, &ticket.lock_id).await;
    }
}

/// Starts workflow `workflow_id` of type `workflow_type` dormant (a start delay of
/// [`DORMANT_FOR`]: no workflow task until a signal-with-start or an update): the new run's id when
/// started, `None` when one is already running (for a lock: the workspace is taken). The SDK's
/// start options have no start delay, so this is the service's own request; `input` goes through
/// the client's data converter, codec included, like every other payload. Starts with the same
/// `request_id` are one (a retry gets the run it started).
pub async fn start_dormant<I: temporalio_common::data_converters::TemporalSerializable + 'static>(
    client: &temporalio_client::Client,
    workflow_type: &str,
    task_queue: &str,
    workflow_id: &str,
    input: &I,
    request_id: String,
) -> Result<Option<String>, ActivityError> {
    use temporalio_client::grpc::WorkflowService as _;
    use temporalio_client::NamespacedClient as _;
    use temporalio_common::data_converters::{SerializationContextData, WorkflowSerializationContext};
    use temporalio_common::protos::temporal::api::common::v1::{Payloads, WorkflowType};
    use temporalio_common::protos::temporal::api::enums::v1::{WorkflowIdConflictPolicy, WorkflowIdReusePolicy};
    use temporalio_common::protos::temporal::api::taskqueue::v1::TaskQueue;
    use temporalio_common::protos::temporal::api::workflowservice::v1::StartWorkflowExecutionRequest;

    let context = SerializationContextData::Workflow(WorkflowSerializationContext::new());
    let payloads = client
        .data_converter()
        .to_payloads(&context, input)
        .await
        .map_err(|e| failure(error::WORKSPACE_LOCKED, format!("could not encode {workflow_id}'s input: {e}")))?;
    let request = StartWorkflowExecutionRequest {
        namespace: client.namespace(),
        workflow_id: workflow_id.to_owned(),
        workflow_type: Some(WorkflowType { name: workflow_type.to_owned() }),
        task_queue: Some(TaskQueue { name: task_queue.to_owned(), ..Default::default() }),
        input: Some(Payloads { payloads }),
        identity: client.identity(),
        request_id,
        workflow_id_reuse_policy: WorkflowIdReusePolicy::AllowDuplicate as i32,
        workflow_id_conflict_policy: WorkflowIdConflictPolicy::Fail as i32,
        workflow_start_delay: DORMANT_FOR.try_into().ok(),
        ..Default::default()
    };
    match client.clone().start_workflow_execution(temporalio_client::tonic::Request::new(request)).await {
        Ok(response) => Ok(Some(response.into_inner().run_id)),
        Err(status) if status.code() == temporalio_client::tonic::Code::AlreadyExists => Ok(None),
        Err(status) => {
            Err(failure(error::WORKSPACE_LOCKED, format!("could not start {workflow_id}: {}", status.message())))
        }
    }
}

/// Closes run `run_id` of workflow `workflow_id` without a workflow task (a dormant lock nobody
/// woke): `true` when terminated, `false` when that run is not running any more (woken and carried
/// on as a new run, or closed already). An empty `run_id` means the current run.
pub async fn terminate_run(
    client: &temporalio_client::Client,
    workflow_id: &str,
    run_id: &str,
    reason: String,
) -> Result<bool, ActivityError> {
    use temporalio_client::grpc::WorkflowService as _;
    use temporalio_client::NamespacedClient as _;
    use temporalio_common::protos::temporal::api::common::v1::WorkflowExecution;
    use temporalio_common::protos::temporal::api::workflowservice::v1::TerminateWorkflowExecutionRequest;

    let request = TerminateWorkflowExecutionRequest {
        namespace: client.namespace(),
        workflow_execution: Some(WorkflowExecution { workflow_id: workflow_id.to_owned(), run_id: run_id.to_owned() }),
        reason,
        identity: client.identity(),
        ..Default::default()
    };
    match client.clone().terminate_workflow_execution(temporalio_client::tonic::Request::new(request)).await {
        Ok(_) => Ok(true),
        Err(status) if status.code() == temporalio_client::tonic::Code::NotFound => Ok(false),
        Err(status) => Err(failure(error::IAC_FAILED, format!("could not close {workflow_id}: {}", status.message()))),
    }
}

/// Queues `requester` at lock `lock_id` with the update `queue_for_workspace`, starting the lock
/// (on `task_queue`, from `initial`) if none is running. An update rather than a signal: if the lock
/// closes before it has taken the request (a holder gave a dormant lock back by terminating it),
/// this fails instead of the request being lost with the lock.
async fn queue_on(
    client: &temporalio_client::Client,
    task_queue: &str,
    lock_id: &str,
    initial: &LockState,
    requester: &str,
) -> Result<(), temporalio_client::errors::WorkflowUpdateWithStartError> {
    let options = temporalio_client::WorkflowUpdateWithStartOptions::new(
        task_queue.to_owned(),
        lock_id.to_owned(),
        temporalio_client::WorkflowIdConflictPolicy::UseExisting,
    )
    .build();
    client
        .execute_update_with_start_workflow(
            WorkspaceLockWorkflow::run,
            initial.clone(),
            WorkspaceLockWorkflow::queue_for_workspace,
            LockRequest { requester: requester.to_owned() },
            options,
        )
        .await
}

/// Workflows that take a workspace lock.
pub(crate) trait HoldsWorkspace: 'static {
    fn granted(&self) -> bool;
    fn granted_mut(&mut self) -> &mut bool;
}

/// Releases a workspace from inside a run. Uses its own cancellation token so a cancelled run
/// still gives the workspace back.
pub(crate) async fn release<W>(ctx: &WorkflowContext<W>, lock_id: &str) {
    let requester = ctx.workflow_id().to_owned();
    let options = SignalWorkflowOptions::builder().cancellation_token(WorkflowCancellationToken::new()).build();
    let _ = ctx
        .external_workflow(lock_id.to_owned(), None)
        .signal(WorkspaceLockWorkflow::release_workspace, LockRequest { requester }, options)
        .await;
}

/// The task queue of the workspace locks of runs on `run_queue` (`light-run`). Locks get a worker
/// of their own: a run's workflow task waits for its local activity, which waits for the lock's
/// workflow task; on one worker, a burst of runs could hold every workflow-task slot while their
/// locks wait for one.
pub fn lock_task_queue(run_queue: &str) -> String {
    format!("{run_queue}-workspace-locks")
}

/// How many workspace locks the lock worker keeps in memory between tasks. A lock has a task only
/// when a run takes or gives back its workspace (or queues behind another); between those it sleeps,
/// so a lock evicted while its run waits for approval costs one replay of its short history later,
/// while 1,000 cached locks of parked runs cost the worker tens of megabytes.
pub const LOCK_CACHE_SIZE: usize = 100;

/// Activity type of giving a workspace back (its local-activity marker names it; a reset looks
/// for it).
pub const GIVE_BACK_ACTIVITY: &str = "give_back_workspace_lock";

/// Start-to-close timeout of the lock's local activities.
const LOCK_STEP_TIMEOUT: Duration = Duration::from_secs(30);

/// How often one take tries again when the lock it would queue on closes or carries on as a new
/// run before taking the request (then the activity fails and its retry policy takes over).
const TAKE_ATTEMPTS: usize = 3;

/// How long a lock taken by an uncontended run sleeps before its first workflow task: longer than
/// any run holds a workspace. An update (a waiter's request) or a signal-with-start (a give-back
/// after a waiter woke it, or from an older worker) wakes it at once; a plain signal would not.
pub const DORMANT_FOR: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// The lock's activities: queueing a run for its workspace, and checking on a holder.
#[derive(Debug)]
pub struct LockActivities {
    /// Workspaces resolve inside this root (the lock is keyed by the canonical directory).
    iac_root: PathBuf,
}

impl LockActivities {
    /// Lock activities for workspaces under `iac_root`.
    pub fn new(iac_root: PathBuf) -> Self {
        Self { iac_root }
    }

    /// The lock of a directory (keyed by its canonical path) and the lock's initial state.
    fn lock_of(&self, directory: &str) -> Result<(String, LockState), ActivityError> {
        let dir = workspace::resolve(&self.iac_root, directory).map_err(error::from_iac)?;
        let lock_id = format!("workspace-lock-{}", &ordo_iac::sha256_hex(dir.to_string_lossy().as_bytes())[..16]);
        Ok((lock_id, LockState { directory: dir.display().to_string(), ..LockState::default() }))
    }
}

#[activities]
impl LockActivities {
    /// Queues this run for the workspace's lock (the update `queue_for_workspace`, starting the
    /// lock on this task queue if none runs); returns the lock's workflow id. The grant arrives
    /// later as a signal. Runs from before `light-run`, and destroy runs.
    #[activity(name = "request_workspace_lock")]
    #[tracing::instrument(name = "request_workspace_lock", skip_all, fields(workflow_id = ctx.info().workflow_id.as_deref(), attempt = ctx.info().attempt))]
    pub async fn request_workspace_lock(
        self: Arc<Self>,
        ctx: ActivityContext,
        request: ProvisionRequest,
    ) -> Result<String, ActivityError> {
        let (lock_id, initial) = self.lock_of(&request.directory)?;
        let info = ctx.info();
        let requester = info.workflow_id.clone().unwrap_or_default();
        queue_on(&ctx.client(), &info.task_queue, &lock_id, &initial, &requester)
            .await
            .map_err(|e| failure(error::WORKSPACE_LOCKED, format!("could not queue for the workspace lock: {e}")))?;
        Ok(lock_id)
    }

    /// Takes the workspace's lock, or queues for it; run as a local activity by `light-run` runs.
    ///
    /// A free workspace is taken by starting its lock *dormant*: with a start delay and the run
    /// as its holder, so the server schedules no workflow task (see `bench/README.md` for what it
    /// saves). A workspace whose lock is running is taken: the run queues with the update
    /// `queue_for_workspace` (update-with-start, which also wakes a dormant lock), and the grant
    /// arrives as the `workspace_granted` signal. A lock that closes before it takes the request
    /// (given back meanwhile) makes the take start over.
    #[activity(name = "take_workspace_lock")]
    #[tracing::instrument(name = "take_workspace_lock", skip_all, fields(workflow_id = ctx.info().workflow_id.as_deref(), attempt = ctx.info().attempt))]
    pub async fn take_workspace_lock(
        self: Arc<Self>,
        ctx: ActivityContext,
        directory: String,
    ) -> Result<LockTicket, ActivityError> {
        let (lock_id, initial) = self.lock_of(&directory)?;
        let info = ctx.info();
        let requester = info.workflow_id.clone().unwrap_or_default();
        let task_queue = lock_task_queue(&info.task_queue);
        // The same for every attempt of this take (a retry after a lost answer finds its own
        // start, not a workspace taken by somebody else), and another for the run's next take (an
        // ephemeral run takes the workspace again to destroy): the server answers a start whose
        // request id made the lock's last run with that run, even once it has closed.
        let run_id = info.workflow_run_id.as_deref().unwrap_or_default();
        let request_id =
            ordo_iac::sha256_hex(format!("{requester}/{run_id}/{}/{lock_id}", info.activity_id).as_bytes())[..32]
                .to_owned();
        let holding = LockState { holder: Some(requester.clone()), ..initial.clone() };
        let mut refused = None;
        for _ in 0..TAKE_ATTEMPTS {
            if let Some(run_id) =
                start_dormant(&ctx.client(), LOCK_WORKFLOW, &task_queue, &lock_id, &holding, request_id.clone()).await?
            {
                return Ok(LockTicket { lock_id, granted: true, run_id: Some(run_id) });
            }
            match queue_on(&ctx.client(), &task_queue, &lock_id, &initial, &requester).await {
                Ok(()) => return Ok(LockTicket { lock_id, granted: false, run_id: None }),
                // The lock closed (given back) or carried on as a new run before it took the
                // request: try again from the start.
                Err(e) => refused = Some(e.to_string()),
            }
        }
        Err(failure(
            error::WORKSPACE_LOCKED,
            format!("could not queue for the workspace lock: {}", refused.unwrap_or_default()),
        ))
    }

    /// Gives the workspace back; run as a local activity by `light-run` runs. A lock the run
    /// started dormant is closed by terminating that run, with no workflow task, while nobody has
    /// queued on it; otherwise (the lock carried on as a new run for a waiter, or the ticket is
    /// from before dormant locks) a signal-with-start of `release_workspace`, which wakes a dormant
    /// lock to hear it (a lock that is gone starts, finds nobody, and ends).
    #[activity(name = "give_back_workspace_lock")]
    #[tracing::instrument(name = "give_back_workspace_lock", skip_all, fields(workflow_id = ctx.info().workflow_id.as_deref(), attempt = ctx.info().attempt))]
    pub async fn give_back_workspace_lock(
        self: Arc<Self>,
        ctx: ActivityContext,
        ticket: LockTicket,
    ) -> Result<(), ActivityError> {
        let info = ctx.info();
        let requester = info.workflow_id.clone().unwrap_or_default();
        if let Some(run_id) = ticket.run_id.as_deref().filter(|r| !r.is_empty()) {
            let reason = format!("workspace given back by {requester}; nobody waited for it");
            if terminate_run(&ctx.client(), &ticket.lock_id, run_id, reason).await? {
                return Ok(());
            }
        }
        let options =
            temporalio_client::WorkflowStartOptions::new(lock_task_queue(&info.task_queue), ticket.lock_id).build();
        ctx.client()
            .signal_with_start_workflow(
                WorkspaceLockWorkflow::run,
                LockState::default(),
                WorkspaceLockWorkflow::release_workspace,
                LockRequest { requester },
                options,
            )
            .await
            .map_err(|e| failure(error::IAC_FAILED, format!("could not give the workspace back: {e}")))?;
        Ok(())
    }

    /// Whether a workflow is still running (the lock's check on its holder).
    #[activity(name = "check_run_open")]
    #[tracing::instrument(name = "check_run_open", skip_all, fields(workflow_id = ctx.info().workflow_id.as_deref(), attempt = ctx.info().attempt))]
    pub async fn check_run_open(
        self: Arc<Self>,
        ctx: ActivityContext,
        workflow_id: String,
    ) -> Result<bool, ActivityError> {
        let handle = ctx.client().get_workflow_handle::<UntypedWorkflow>(workflow_id);
        match handle.describe(temporalio_client::WorkflowDescribeOptions::default()).await {
            Ok(description) => Ok(description.status() == temporalio_client::WorkflowExecutionStatus::Running),
            Err(e) if ordo_core::errors::is_not_found(&e.to_string()) => Ok(false),
            Err(e) => Err(failure(error::IAC_FAILED, format!("describing {e}"))),
        }
    }
}
