//! One run at a time per workspace, with Temporal as the lock: a long-lived
//! `WorkspaceLockWorkflow` per IaC directory queues requesters (signal-with-start from an
//! activity) and grants the workspace to one at a time by signalling it back. A holder that
//! disappears without releasing (terminated, timed out) is noticed by a periodic check while
//! another run waits for the workspace, and skipped, so nobody waits on a run that no longer
//! exists. A lock nobody waits for sleeps until a request arrives: parked runs cost no wake-ups.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{
    ActivityOptions, ContinueAsNewOptions, SignalWorkflowOptions, SyncWorkflowContext, WorkflowCancellationToken,
    WorkflowContext, WorkflowContextView, WorkflowResult,
};

use crate::activities::ProvisionActivities;

/// Workflow type of the per-workspace lock.
pub const LOCK_WORKFLOW: &str = "WorkspaceLockWorkflow";

/// How often the lock checks that its holder still exists, while another run waits for it.
const HOLDER_CHECK: Duration = Duration::from_secs(30);

/// Patch marker of checking the holder only while someone is queued.
const CHECK_WHEN_QUEUED_PATCH: &str = "lock-check-when-queued";

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

/// The per-workspace lock.
#[workflow]
#[derive(Default)]
pub struct WorkspaceLockWorkflow {
    lock: LockState,
    /// Whether the current holder has been told; a re-sent acquire from the holder re-notifies it.
    notified: bool,
    /// Bumped on every signal so the main loop wakes.
    version: u64,
}

#[workflow_methods]
impl WorkspaceLockWorkflow {
    /// Serves requests until nobody holds or wants the workspace.
    #[run]
    pub async fn run(ctx: &mut WorkflowContext<Self>, input: LockState) -> WorkflowResult<()> {
        ctx.state_mut(|s| {
            // Signals delivered with the start are already queued; keep the carried-over order first.
            let mut queue = input.queue;
            queue.extend(s.lock.queue.drain(..).filter(|r| Some(r) != input.holder.as_ref()));
            queue.dedup();
            s.lock.queue = queue;
            if input.holder.is_some() {
                s.lock.holder = input.holder;
                s.notified = true;
            }
            s.lock.directory = input.directory;
        });
        let lock_id = ctx.workflow_id().to_owned();
        // Locks started before this check only their holder while someone waits for it; older
        // ones (replaying without the marker) check on a timer all the time.
        let check_only_when_queued = ctx.patched(CHECK_WHEN_QUEUED_PATCH);
        loop {
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
                    .signal(
                        crate::workflows::ProvisionInfraWorkflow::workspace_granted,
                        LockGrant { lock_id: lock_id.clone() },
                        SignalWorkflowOptions::default(),
                    )
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
                        ProvisionActivities::check_run_open,
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
        if self.lock.holder.as_ref() == Some(&request.requester) {
            self.notified = false;
        } else if !self.lock.queue.contains(&request.requester) {
            self.lock.queue.push(request.requester);
        }
        self.version += 1;
    }

    /// Give the workspace back (or leave the queue).
    #[signal(name = "release_workspace")]
    pub fn release_workspace(&mut self, _ctx: &mut SyncWorkflowContext<Self>, request: LockRequest) {
        if self.lock.holder.as_ref() == Some(&request.requester) {
            self.lock.holder = None;
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

/// Queues the run for its workspace and waits for the grant; returns the lock's id.
pub(crate) async fn acquire<W: HoldsWorkspace>(
    ctx: &mut WorkflowContext<W>,
    request: &crate::model::ProvisionRequest,
) -> WorkflowResult<String> {
    ctx.state_mut(|s| *s.granted_mut() = false);
    let options = crate::workflows::step_options(request, 0);
    let lock_id = ctx.execute_activity(ProvisionActivities::request_workspace_lock, request.clone(), options).await?;
    ctx.wait_condition(|s: &W| s.granted()).await?;
    Ok(lock_id)
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
