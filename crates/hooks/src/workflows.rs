//! `HookLifecycle`: one lifecycle action on a DIG. Orchestration only.
//!
//! 1. The pre hooks, in order: the workers the hook needs (registered on its intent, or on another
//!    intent of the DIG for its task queue) must be ready first (`CheckWorkerReady`: their task
//!    queue has a live poller, retried by Temporal until each worker's `startToCloseTimeout`;
//!    patch `worker-readiness`); then each hook's spec gets `activityParams.emco` filled in and
//!    its workflow is started (`StartHook`); a blocking hook is then awaited (`AwaitHook`) until
//!    its `hookBlockingTimeout`. A worker not ready in time, or a hook that cannot be started,
//!    fails or times out fails the action with a reason naming it; nothing after it runs (as the
//!    seed's TAC, which failed the lifecycle call when an invoke failed).
//! 2. The action (`ApplyLifecycleAction`).
//! 3. The post hooks, the same way.
//!
//! The `history` query answers which hooks ran, their workflow ids and outcomes, at any time; the
//! result is the same record. A failed action completes the workflow with a `Failed` outcome
//! (outcomes are values): its callers read the reason.

use std::time::Duration;

use temporalio_common::RetryPolicy;
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{
    ActivityCloseTimeouts, ActivityOptions, ApplicationFailure, WorkflowContext, WorkflowContextView, WorkflowResult,
};

use crate::activities::HookActivities;
use crate::intent::MAX_BLOCKING_TIMEOUT;
use crate::model::{
    ApplyActionRequest, AwaitHookRequest, HookCall, HookOutcome, HookRecord, LifecycleOutcome, LifecycleRequest,
    LifecycleState, StartHookRequest, StartHookResult, WorkerCheck, EMCO_PARAMS, MAX_HOOKS,
};
use crate::spec::with_activity_params;
use crate::workers::MAX_START_TO_CLOSE_MS;

/// Patch marker of the worker readiness checks before a hook starts.
const WORKER_READINESS_PATCH: &str = "worker-readiness";

/// The longest one readiness check (one describe of a task queue) may take.
const READY_CHECK_TIMEOUT: Duration = Duration::from_secs(10);

/// The lifecycle of one action on a DIG (type `HookLifecycle`).
#[workflow]
#[derive(Default)]
pub struct HookLifecycleWorkflow {
    state: LifecycleState,
}

#[workflow_methods]
impl HookLifecycleWorkflow {
    /// Runs the action's pre hooks, the action and its post hooks.
    #[run(name = "HookLifecycle")]
    pub async fn run(ctx: &mut WorkflowContext<Self>, input: serde_json::Value) -> WorkflowResult<LifecycleState> {
        // Parsed here, so a malformed request fails the workflow, naming why, instead of failing
        // its tasks forever.
        let request: LifecycleRequest = serde_json::from_value(input)
            .map_err(|e| ApplicationFailure::non_retryable(format!("invalid lifecycle request: {e}")))?;
        if request.pre.len() + request.post.len() > MAX_HOOKS {
            return Ok(finish(ctx, Some(format!("more than {MAX_HOOKS} hooks in one action"))));
        }
        set_phase(ctx, "pre-hooks");
        for hook in &request.pre {
            if let Some(reason) = run_hook(ctx, &request, hook).await {
                return Ok(finish(ctx, Some(reason)));
            }
        }
        set_phase(ctx, "action");
        let apply = ApplyActionRequest {
            dig: request.dig.clone(),
            action: request.action,
            app_context_id: request.app_context_id.clone(),
        };
        let applied = ctx.execute_activity(HookActivities::apply_lifecycle_action, apply, short_options()).await;
        if let Err(err) = applied {
            return Ok(finish(ctx, Some(format!("{} failed: {err}", request.action.as_str()))));
        }
        ctx.state_mut(|s| s.state.action_applied = true);
        set_phase(ctx, "post-hooks");
        for hook in &request.post {
            if let Some(reason) = run_hook(ctx, &request, hook).await {
                return Ok(finish(ctx, Some(reason)));
            }
        }
        Ok(finish(ctx, None))
    }

    /// Which hooks ran so far, their workflows and outcomes, and how the action ended.
    #[query(name = "history")]
    pub fn history(&self, _ctx: &WorkflowContextView) -> LifecycleState {
        self.state.clone()
    }
}

fn set_phase(ctx: &mut WorkflowContext<HookLifecycleWorkflow>, phase: &str) {
    ctx.state_mut(|s| s.state.phase = phase.to_owned());
}

fn finish(ctx: &mut WorkflowContext<HookLifecycleWorkflow>, failure: Option<String>) -> LifecycleState {
    ctx.state_mut(|s| {
        s.state.phase = "done".into();
        s.state.outcome = Some(match failure {
            None => LifecycleOutcome::Succeeded,
            Some(reason) => LifecycleOutcome::Failed { reason },
        });
    });
    ctx.state(|s| s.state.clone())
}

fn short_options() -> ActivityOptions {
    ActivityOptions::with_start_to_close_timeout(Duration::from_secs(30))
        .retry_policy(RetryPolicy::builder().maximum_attempts(5).build())
        .build()
}

/// Runs one hook and records it; `Some(reason)` when the action must stop.
async fn run_hook(
    ctx: &mut WorkflowContext<HookLifecycleWorkflow>,
    request: &LifecycleRequest,
    hook: &HookCall,
) -> Option<String> {
    let mut spec = hook.spec.clone();
    spec.params = with_activity_params(&spec.params, EMCO_PARAMS, &request.emco_params());
    let mut record = HookRecord {
        intent: hook.intent.clone(),
        hook_type: hook.hook_type,
        blocking: hook.blocking,
        workflow_id: None,
        run_id: None,
        outcome: HookOutcome::Started,
    };
    // The workers the hook needs must be ready before its workflow is started (patch
    // `worker-readiness`; lifecycles recorded before it replay without the checks).
    if !hook.workers.is_empty() && ctx.patched(WORKER_READINESS_PATCH) {
        for worker in &hook.workers {
            if let Some(reason) = check_worker(ctx, worker).await {
                record.outcome = HookOutcome::NotStarted { reason };
                return push(ctx, record);
            }
        }
    }
    let start = StartHookRequest { intent: hook.intent.clone(), spec };
    let started = ctx.execute_activity(HookActivities::start_hook, start, short_options()).await;
    let (workflow_id, run_id) = match started {
        Ok(StartHookResult::Started { workflow_id, run_id }) => (workflow_id, run_id),
        Ok(StartHookResult::Rejected { reason }) => {
            record.outcome = HookOutcome::NotStarted { reason };
            return push(ctx, record);
        }
        Err(err) => {
            record.outcome = HookOutcome::NotStarted { reason: err.to_string() };
            return push(ctx, record);
        }
    };
    record.workflow_id = Some(workflow_id.clone());
    record.run_id = Some(run_id.clone());
    if hook.blocking {
        // Bounded here too: the request may not come from Ordo's client.
        let timeout = hook.blocking_timeout.min(MAX_BLOCKING_TIMEOUT);
        let now = ctx.workflow_time().map(ordo_core::time::epoch_ms).unwrap_or_default();
        let timeout_ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
        let wait = AwaitHookRequest { workflow_id, run_id, deadline_ms: now.saturating_add(timeout_ms), timeout_ms };
        let options = ActivityOptions::with_start_to_close_timeout(timeout + Duration::from_secs(60))
            .heartbeat_timeout(Duration::from_secs(30))
            .retry_policy(RetryPolicy::builder().maximum_attempts(5).build())
            .build();
        record.outcome = match ctx.execute_activity(HookActivities::await_hook, wait, options).await {
            Ok(outcome) => outcome,
            Err(err) => HookOutcome::Failed { reason: format!("waiting for the hook's workflow: {err}") },
        };
    }
    push(ctx, record)
}

/// Awaits `worker`'s readiness: `CheckWorkerReady` is retried by Temporal until the worker's
/// timeout (schedule-to-close); `Some(reason)`, naming the worker and its task queue, when it did
/// not become ready in time, ending with what the last check found (e.g. no live poller).
async fn check_worker(ctx: &mut WorkflowContext<HookLifecycleWorkflow>, worker: &WorkerCheck) -> Option<String> {
    // Bounded here too: the request may not come from Ordo's client.
    let timeout = Duration::from_millis(worker.timeout_ms.clamp(1, MAX_START_TO_CLOSE_MS));
    let timeouts = ActivityCloseTimeouts::ScheduleAndStartToClose {
        schedule_to_close: timeout,
        start_to_close: READY_CHECK_TIMEOUT.min(timeout),
    };
    let retry = RetryPolicy::builder()
        .initial_interval(Duration::from_millis(200))
        .backoff_coefficient(2.0)
        .maximum_interval(Duration::from_secs(5))
        .maximum_attempts(0)
        .build();
    let options = ActivityOptions::with_close_timeouts(timeouts).retry_policy(retry).build();
    match ctx.execute_activity(HookActivities::check_worker_ready, worker.clone(), options).await {
        Ok(()) => None,
        Err(err) => Some(match err.as_timeout() {
            // Temporal's timeout carries the last attempt's failure as its cause: that is what
            // the user needs, not the timeout's own text.
            Some(timed_out) => {
                not_ready_reason(worker, timeout, timed_out.cause().map(|last| last.failure().message.as_str()))
            }
            None => format!(
                "worker {:?} (task queue {:?}): the readiness check failed: {err}",
                worker.name, worker.task_queue
            ),
        }),
    }
}

/// The reason a hook did not start because `worker` was not ready within `timeout`, with what the
/// last check found (`finding`) when Temporal kept it.
fn not_ready_reason(worker: &WorkerCheck, timeout: Duration, finding: Option<&str>) -> String {
    let head = format!(
        "worker {:?} (task queue {:?}) was not ready within its timeout ({} ms)",
        worker.name,
        worker.task_queue,
        timeout.as_millis()
    );
    match finding {
        Some(finding) if !finding.is_empty() => format!("{head}; the last check found: {finding}"),
        _ => head,
    }
}

/// Records `record`; the reason the action stops when its outcome is not OK.
fn push(ctx: &mut WorkflowContext<HookLifecycleWorkflow>, record: HookRecord) -> Option<String> {
    let reason = match &record.outcome {
        HookOutcome::Started | HookOutcome::Completed => None,
        HookOutcome::Failed { reason } | HookOutcome::NotStarted { reason } => {
            Some(format!("{} hook {:?} failed: {reason}", record.hook_type, record.intent))
        }
        HookOutcome::TimedOut { timeout_ms } => Some(format!(
            "{} hook {:?} did not finish within its hookBlockingTimeout ({} ms)",
            record.hook_type, record.intent, timeout_ms
        )),
    };
    ctx.state_mut(|s| s.state.hooks.push(record));
    reason
}

#[cfg(test)]
mod tests {
    use super::*;

    fn worker() -> WorkerCheck {
        WorkerCheck { name: "gone-worker".into(), task_queue: "idle".into(), timeout_ms: 500 }
    }

    #[test]
    fn a_not_ready_reason_names_the_worker_its_queue_and_the_last_finding() {
        let reason =
            not_ready_reason(&worker(), Duration::from_millis(500), Some("task queue idle has no live poller"));
        assert_eq!(
            reason,
            "worker \"gone-worker\" (task queue \"idle\") was not ready within its timeout (500 ms); \
             the last check found: task queue idle has no live poller"
        );
    }

    #[test]
    fn a_not_ready_reason_without_a_finding_says_so_without_one() {
        for finding in [None, Some("")] {
            let reason = not_ready_reason(&worker(), Duration::from_millis(500), finding);
            assert_eq!(
                reason,
                "worker \"gone-worker\" (task queue \"idle\") was not ready within its timeout (500 ms)"
            );
        }
    }
}
