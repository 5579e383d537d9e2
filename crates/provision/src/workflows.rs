//! Orchestration only: the provisioning and destroy workflows. Everything that touches the world
//! is an activity; waits are durable timers; names are seed 001's wire contract.

use std::time::Duration;

use futures::future::FusedFuture as _;
use futures::FutureExt as _;
use temporalio_common::protos::temporal::api::failure::v1::{failure::FailureInfo, Failure};
use temporalio_common::search_attributes::SearchAttributeKey;
use temporalio_common::RetryPolicy;
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{
    ActivityCancellationType, ActivityExecutionError, ActivityOptions, ApplicationFailure, CancellableFuture as _,
    ContinueAsNewOptions, LocalActivityOptions, SyncWorkflowContext, TimerResult, WorkflowContext, WorkflowContextView,
    WorkflowResult,
};

use ordo_core::time::{elapsed_since, epoch_ms, rfc3339, rfc3339_ms};
use ordo_iac::heartbeat::ChangeReport;
use ordo_iac::PlanArtifact;

use crate::activities::{ApplyInput, ApplyOutcome, PlanInput, PlanOutcome, PolicyInput, ProvisionActivities};
use crate::error;
use crate::lock::{self, HoldsWorkspace, LockGrant, LockTicket};
use crate::metrics::{self, GateOutcome};
use crate::model::attribute;
use crate::model::{
    mask_outputs, status, ApplyDecision, Approval, ExtendTtl, ProvisionRequest, ProvisionResult, ProvisionState,
    Refusal, RefusalKind, ResourceChange, ToolStep, PROVISION_WORKFLOW,
};
use crate::notify::{Notification, NotificationEvent};
use crate::policy::{decide, Verdict};

/// `provisionStatus` search attribute (Keyword).
pub const PROVISION_STATUS: SearchAttributeKey<String> = SearchAttributeKey::keyword(attribute::PROVISION_STATUS);
/// `tfDirectory` search attribute (Keyword).
pub const TF_DIRECTORY: SearchAttributeKey<String> = SearchAttributeKey::keyword(attribute::TF_DIRECTORY);
/// `scenario` search attribute (Keyword).
pub const SCENARIO: SearchAttributeKey<String> = SearchAttributeKey::keyword(attribute::SCENARIO);

/// Start-to-close timeout of the quick steps (workspace lock, policy check): a worker lost during
/// one is noticed after this long.
const STEP_TIMEOUT: Duration = Duration::from_secs(30);

/// Heartbeat timeout of the steps that run the IaC tool (they heartbeat every second).
const HEARTBEAT_TIMEOUT: Duration = Duration::from_secs(10);

/// Patch marker of the approval notifications (`notify_webhook`).
const NOTIFY_PATCH: &str = "notify-approvals";

/// Patch marker of the reminder before an ephemeral run's destroy.
const NOTIFY_DESTROY_PATCH: &str = "notify-destroy";

/// Patch marker of binding decisions to the reviewed plan's hash (and of no longer trusting a
/// decision's role claim).
const DECISION_PLAN_HASH_PATCH: &str = "decision-plan-hash";

/// Patch marker of the lighter run: the workspace lock taken and given back by local activities
/// (update-with-start), the policy checked inside `terraform_plan`, the plan's bytes not sent
/// again to an apply on the worker that holds them, each step given only what it reads, and
/// `provisionStatus` written once per workflow task, for the status the run waits in.
const LIGHT_RUN_PATCH: &str = "light-run";

/// Patch marker of a light run whose apply also reads the outputs (one activity and one workflow
/// task fewer than `terraform_output` after it). It implies `light-run`: a run that has it asks for
/// no other, so new runs carry one patch marker, not two.
const APPLY_OUTPUTS_PATCH: &str = "apply-outputs";

/// Patch marker of a run whose `terraform_init` is a local activity, as seed 001's own latest
/// workflow runs it: the step's result is a marker in the run's first workflow task, not three
/// activity events and a workflow task of their own. It implies `apply-outputs` (and so
/// `light-run`): new runs still carry one patch marker.
const LOCAL_INIT_PATCH: &str = "local-init";

/// Attempts at delivering one notification before the run gives up on it.
const NOTIFY_ATTEMPTS: u32 = 5;

/// A stale plan is re-planned and re-gated; after this many plans in one run, the run fails
/// instead of looping against a workspace that keeps moving.
const MAX_PLANS_PER_RUN: u32 = 3;

type HandlerError = Box<dyn std::error::Error + Send + Sync>;

/// Seed 001's provisioning workflow: init → plan → policy → (approval) → apply → output →
/// (TTL → destroy). Light runs check the policy in the plan step, (`apply-outputs`) read the
/// outputs in the apply step and (`local-init`) run init as a local activity.
#[workflow]
#[derive(Default)]
pub struct ProvisionInfraWorkflow {
    state: ProvisionState,
    decision: Option<Approval>,
    replan_requested: bool,
    /// Destroy deadline of an ephemeral run, in ms since the epoch (workflow time).
    destroy_at_ms: u64,
    /// Bumped on every `extend_ttl` so the TTL wait restarts its timer.
    ttl_version: u64,
    /// The workspace lock granted this run the directory.
    granted: bool,
    /// Decisions name the plan they approve, and role claims grant nothing (patch
    /// `decision-plan-hash`; runs whose gate opened before it replay without).
    bind_plan_hash: bool,
    /// The run follows `light-run`.
    light: bool,
    /// The `provisionStatus` last written (`light-run` writes it only where the run waits).
    published: Option<String>,
    /// The apply reads the outputs too (`apply-outputs`).
    apply_outputs: bool,
    /// `terraform_init` runs as a local activity (`local-init`).
    local_init: bool,
}

#[workflow_methods]
impl ProvisionInfraWorkflow {
    /// Runs one provisioning request. The input is parsed here, so a malformed request fails the
    /// run with a message naming the field instead of failing workflow tasks forever.
    #[run]
    pub async fn run(ctx: &mut WorkflowContext<Self>, input: serde_json::Value) -> WorkflowResult<ProvisionResult> {
        let request = ProvisionRequest::parse(input.clone())
            .map_err(|e| ApplicationFailure::non_retryable(format!("invalid provisioning request: {e}")))?;
        let local_init = ctx.patched(LOCAL_INIT_PATCH);
        let apply_outputs = local_init || ctx.patched(APPLY_OUTPUTS_PATCH);
        let light = apply_outputs || ctx.patched(LIGHT_RUN_PATCH);
        ctx.state_mut(|s| {
            s.light = light;
            s.apply_outputs = apply_outputs;
            s.local_init = local_init;
            s.state.driver = request.driver.as_str().to_owned();
            s.state.directory = request.directory.clone();
            s.state.scenario = request.scenario.clone();
            s.state.approvers = request.approvers.clone();
            s.state.approvals_required = request.approvals_required;
            s.state.requested_by = request.requested_by.clone();
        });
        let sa = request.include_custom_search_attrs;
        set_status(ctx, sa, status::UNINITIALIZED, 0);

        set_status(ctx, sa, status::WAITING_FOR_WORKSPACE, 0);
        let ticket = take_workspace(ctx, &request, sa).await?;
        let outcome = provision_locked(ctx, &request, input, sa).await;
        give_back_workspace(ctx, &ticket).await;
        let (report_status, applied_hash) = match outcome? {
            Locked::Done(result) => return Ok(result),
            Locked::Applied(hash) => (status::APPLIED, hash),
        };
        if request.ephemeral {
            wait_for_ttl(ctx, &request, sa).await?;
            let ticket = take_workspace(ctx, &request, sa).await?;
            let destroyed = destroy_locked(ctx, &request, sa).await;
            give_back_workspace(ctx, &ticket).await;
            destroyed?;
            return Ok(finish(ctx, sa, status::DESTROYED, applied_hash));
        }
        Ok(finish(ctx, sa, report_status, applied_hash))
    }

    /// The lock grant (signal from `WorkspaceLockWorkflow`).
    #[signal(name = "workspace_granted")]
    pub fn workspace_granted(&mut self, _ctx: &mut SyncWorkflowContext<Self>, _grant: LockGrant) {
        self.granted = true;
    }

    /// Seed 001's approval signal (the reason is optional here).
    #[signal(name = "signal_apply_decision")]
    pub fn signal_apply_decision(&mut self, ctx: &mut SyncWorkflowContext<Self>, decision: ApplyDecision) {
        self.accept_signal(ctx, decision);
    }

    /// The same signal under the name seed 001's README uses with `temporal workflow signal`.
    #[signal(name = "update_apply_decision")]
    pub fn signal_update_apply_decision(&mut self, ctx: &mut SyncWorkflowContext<Self>, decision: ApplyDecision) {
        self.accept_signal(ctx, decision);
    }

    /// Re-plan: continue as new with the same input.
    #[signal(name = "request_continue_as_new")]
    pub fn request_continue_as_new(&mut self, _ctx: &mut SyncWorkflowContext<Self>) {
        self.replan_requested = true;
    }

    #[update_validator(update_apply_decision)]
    fn validate_apply_decision(
        &self,
        _ctx: &WorkflowContextView,
        decision: &ApplyDecision,
    ) -> Result<(), HandlerError> {
        if decision.reason.as_deref().map(str::trim).unwrap_or_default().is_empty() {
            return Err(Refusal::invalid("reason", "Update apply decision must include a reason.").into());
        }
        Ok(self.check_decision(decision)?)
    }

    /// The approval update: validated (reason, approver, pending), then recorded in history.
    #[update(name = "update_apply_decision")]
    pub fn update_apply_decision(&mut self, ctx: &mut SyncWorkflowContext<Self>, decision: ApplyDecision) -> Approval {
        self.record_decision(ctx, decision, "update")
    }

    #[update_validator(extend_ttl)]
    fn validate_extend_ttl(&self, _ctx: &WorkflowContextView, extend: &ExtendTtl) -> Result<(), HandlerError> {
        if extend.seconds == 0 {
            return Err(Refusal::invalid("seconds", "must be at least 1").into());
        }
        if self.state.status != status::WAITING_FOR_DESTROY {
            let message = format!("no TTL is running (status is {:?})", self.state.status);
            return Err(Refusal::new(RefusalKind::NoTtl, message).into());
        }
        Ok(())
    }

    /// Pushes an ephemeral run's destroy deadline out; returns the new deadline (RFC 3339).
    #[update(name = "extend_ttl")]
    pub fn extend_ttl(&mut self, _ctx: &mut SyncWorkflowContext<Self>, extend: ExtendTtl) -> String {
        // Saturating: a validator bounds `seconds`, but an update must never panic the workflow.
        self.destroy_at_ms = self.destroy_at_ms.saturating_add(extend.seconds.saturating_mul(1000));
        self.ttl_version += 1;
        let at = rfc3339_ms(self.destroy_at_ms);
        self.state.destroy_at = Some(at.clone());
        at
    }

    /// Seed status string.
    #[query(name = "get_current_status")]
    pub fn get_current_status(&self, _ctx: &WorkflowContextView) -> String {
        self.state.status.clone()
    }

    /// 0..=100.
    #[query(name = "get_progress")]
    pub fn get_progress(&self, _ctx: &WorkflowContextView) -> i32 {
        self.state.progress
    }

    /// The human-readable plan.
    #[query(name = "get_plan")]
    pub fn get_plan(&self, _ctx: &WorkflowContextView) -> String {
        self.state.plan.clone()
    }

    /// The last decision's reason.
    #[query(name = "get_reason")]
    pub fn get_reason(&self, _ctx: &WorkflowContextView) -> String {
        self.state.reason.clone()
    }

    /// Everything: status, plan, policy results, approval, outputs (masked), attempts.
    #[query(name = "get_state")]
    pub fn get_state(&self, _ctx: &WorkflowContextView) -> ProvisionState {
        self.state.clone()
    }
}

impl ProvisionInfraWorkflow {
    /// Whether a decision can be taken now, and from this approver (the update's validator and the
    /// signal both ask).
    fn check_decision(&self, decision: &ApplyDecision) -> Result<(), Refusal> {
        if !self.state.approval_pending || self.decision.is_some() {
            let message = format!("no approval is pending (status is {:?})", self.state.status);
            return Err(Refusal::new(RefusalKind::NotPending, message));
        }
        if self.bind_plan_hash {
            let waiting = self.state.plan_hash.as_deref().unwrap_or_default();
            match decision.plan_hash.as_deref() {
                Some(seen) if seen != waiting => {
                    let message = format!(
                        "the plan changed since it was reviewed ({} was reviewed, {} is waiting): review it again",
                        short_hash(seen),
                        short_hash(waiting)
                    );
                    return Err(Refusal::new(RefusalKind::PlanChanged, message));
                }
                None if !self.state.approvers.is_empty() => {
                    let message = "required: this run lists its approvers, so a decision names the plan it approves";
                    return Err(Refusal::invalid("plan_hash", message));
                }
                _ => {}
            }
        }
        // Before the `decision-plan-hash` patch a caller's claim to be an admin was trusted; the
        // workflow cannot check it, so newer runs only check the approvers list.
        let admin =
            !self.bind_plan_hash && decision.approver_role.as_deref() == Some("admin") && decision.approver.is_some();
        if !self.state.approvers.is_empty() && !admin {
            match decision.approver.as_deref() {
                None => {
                    let message = "approver required: this run lists its approvers";
                    return Err(Refusal::new(RefusalKind::ApproverRequired, message));
                }
                Some(who) if !self.state.approvers.iter().any(|a| a == who) => {
                    let message = format!("{who:?} is not an approver of this run");
                    return Err(Refusal::new(RefusalKind::NotAnApprover, message));
                }
                Some(_) => {}
            }
        }
        if decision.is_approved && self.state.approvals_required > 1 {
            match decision.approver.as_deref() {
                None => {
                    let needed = self.state.approvals_required;
                    let message =
                        format!("approver required: this plan needs {needed} approvals from distinct approvers");
                    return Err(Refusal::new(RefusalKind::ApproverRequired, message));
                }
                Some(who) if self.state.approvals.iter().any(|a| a.approver.as_deref() == Some(who)) => {
                    let message = format!("{who:?} has already approved this plan");
                    return Err(Refusal::new(RefusalKind::AlreadyApproved, message));
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// Signals cannot be rejected, so an invalid one is ignored (and the reason kept for `get_state`).
    fn accept_signal(&mut self, ctx: &mut SyncWorkflowContext<Self>, decision: ApplyDecision) {
        match self.check_decision(&decision) {
            Ok(()) => {
                self.record_decision(ctx, decision, "signal");
            }
            Err(why) => self.state.error = Some(format!("ignored a decision signal: {why}")),
        }
    }

    fn record_decision(&mut self, ctx: &mut SyncWorkflowContext<Self>, decision: ApplyDecision, via: &str) -> Approval {
        let reason = decision.reason.unwrap_or_default();
        let approval = Approval {
            is_approved: decision.is_approved,
            reason: reason.clone(),
            approver: decision.approver,
            decided_at: ctx.workflow_time().map(rfc3339),
            plan_hash: self.state.plan_hash.clone().unwrap_or_default(),
            via: via.to_owned(),
        };
        self.state.reason = reason;
        if approval.is_approved {
            self.state.approvals.push(approval.clone());
            if self.state.approvals.len() < self.state.approvals_required as usize {
                // Recorded; the gate stays open for the other approvers.
                return approval;
            }
        }
        self.state.approval = Some(approval.clone());
        self.decision = Some(approval.clone());
        approval
    }
}

/// The first 12 hex digits of a plan hash, for messages.
fn short_hash(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

/// What the locked part of a run ended with.
enum Locked {
    /// The run is over (hard fail, rejection, expiry, re-plan).
    Done(ProvisionResult),
    /// Applied, with the applied plan's hash; outputs recorded.
    Applied(Option<String>),
}

/// init → plan → policy → approval → apply → output, holding the workspace.
async fn provision_locked(
    ctx: &mut WorkflowContext<ProvisionInfraWorkflow>,
    request: &ProvisionRequest,
    input: serde_json::Value,
    sa: bool,
) -> WorkflowResult<Locked> {
    let light = ctx.state(|s| s.light);
    let step = request.tool_step();
    set_status(ctx, sa, status::INITIALIZING, 10);
    if ctx.state(|s| s.local_init) {
        // Within the workflow task that took the workspace; the status the run then rests in
        // (and publishes) is the plan's.
        ctx.execute_local_activity(ProvisionActivities::terraform_init, step.clone(), local_init_options(request))
            .await?;
    } else {
        publish_status(ctx, sa);
        ctx.execute_activity(ProvisionActivities::terraform_init, step.clone(), tool_step_options(request, 5)).await?;
    }
    set_status(ctx, sa, status::INITIALIZED, 20);

    let report = loop {
        let attempt = ctx.state_mut(|s| {
            s.state.plan_attempts += 1;
            s.state.plan_attempts
        });
        if attempt > MAX_PLANS_PER_RUN {
            return Err(ApplicationFailure::non_retryable(format!(
                "the plan went stale {MAX_PLANS_PER_RUN} times in a row; the workspace keeps changing under this run"
            ))
            .into());
        }

        set_status(ctx, sa, status::PLANNING, 30);
        publish_status(ctx, sa);
        let plan_input = PlanInput { step: step.clone(), check_policy: light, policy: request.policy.clone() };
        let mut plan =
            ctx.execute_activity(ProvisionActivities::terraform_plan, plan_input, plan_options(request)).await?;
        record_plan(ctx, &mut plan);
        set_status(ctx, sa, status::PLANNED, 40);

        set_status(ctx, sa, status::CHECKING_POLICY, 50);
        let results = match plan.policy_results.take() {
            Some(results) => results,
            None => {
                let input = PolicyInput { policy: request.policy.clone(), plan: plan.plan.json.clone() };
                ctx.execute_activity(ProvisionActivities::policy_check, input, step_options(request, 5)).await?
            }
        };
        let verdict = decide(&results, request.hard_fail_policy);
        if !ctx.is_replaying() {
            let event = format!("{}/policy/{attempt}", ctx.run_id());
            metrics::policy_checked(&event, ctx.task_queue(), &results, verdict);
        }
        ctx.state_mut(|s| {
            s.state.policy_results = results;
            s.state.verdict = Some(verdict);
        });
        set_status(ctx, sa, status::POLICY_CHECKED, 60);

        match verdict {
            Verdict::HardFail => return Ok(Locked::Done(finish(ctx, sa, status::POLICY_HARD_FAILED, None))),
            Verdict::NeedsApproval => match await_decision(ctx, request, sa).await? {
                Gate::Approved => {}
                Gate::Replan => return continue_as_new(ctx, input).map(Locked::Done),
                Gate::Rejected => return Ok(Locked::Done(finish(ctx, sa, status::REJECTED, None))),
                Gate::Expired => return Ok(Locked::Done(finish(ctx, sa, status::APPROVAL_EXPIRED, None))),
            },
            Verdict::Pass => {}
        }
        if ctx.state(|s| s.replan_requested) {
            return continue_as_new(ctx, input).map(Locked::Done);
        }

        set_status(ctx, sa, status::APPLYING, 70);
        publish_status(ctx, sa);
        match apply(ctx, request, &step, plan.plan).await {
            Ok(report) => break report,
            Err(err) if failure_type(&err).as_deref() == Some(error::STALE_PLAN) => {
                // The state moved since the plan was approved: the approval does not carry over.
                ctx.state_mut(|s| s.decision = None);
                continue;
            }
            Err(err) => return Err(err.into()),
        }
    };
    let applied_hash = ctx.state(|s| s.state.plan_hash.clone());
    record_changes(ctx, report.report);
    set_status(ctx, sa, status::APPLIED, 80);
    publish_status(ctx, sa);

    let outputs = match report.outputs {
        Some(outputs) => outputs,
        None => ctx.execute_activity(ProvisionActivities::terraform_output, step, apply_options(request)).await?,
    };
    ctx.state_mut(|s| s.state.outputs = mask_outputs(&outputs));

    Ok(Locked::Applied(applied_hash))
}

/// Applies the approved plan. `light-run` sends no bytes at first: the worker that planned holds
/// them; any other worker answers `PlanNotLocal` and gets them in a second attempt.
/// `apply-outputs` asks the apply for the outputs too.
async fn apply(
    ctx: &mut WorkflowContext<ProvisionInfraWorkflow>,
    request: &ProvisionRequest,
    step: &ToolStep,
    plan: PlanArtifact,
) -> Result<ApplyOutcome, ActivityExecutionError> {
    let outputs = ctx.state(|s| s.apply_outputs);
    let input =
        |file| ApplyInput { request: step.clone(), approved_hash: plan.hash.clone(), file, plan: None, outputs };
    if ctx.state(|s| s.light) {
        match ctx.execute_activity(ProvisionActivities::terraform_apply, input(None), apply_options(request)).await {
            Err(err) if failure_type(&err).as_deref() == Some(error::PLAN_NOT_LOCAL) => {}
            done => return done,
        }
    }
    let input = input(Some(plan.file.clone()));
    ctx.execute_activity(ProvisionActivities::terraform_apply, input, apply_options(request)).await
}

/// destroy → output, holding the workspace.
async fn destroy_locked(
    ctx: &mut WorkflowContext<ProvisionInfraWorkflow>,
    request: &ProvisionRequest,
    sa: bool,
) -> WorkflowResult<()> {
    set_status(ctx, sa, status::DESTROYING, 90);
    publish_status(ctx, sa);
    destroy_and_read_outputs(ctx, request).await?;
    Ok(())
}

/// How the approval gate ended.
enum Gate {
    Approved,
    Rejected,
    Expired,
    Replan,
}

async fn await_decision(
    ctx: &mut WorkflowContext<ProvisionInfraWorkflow>,
    request: &ProvisionRequest,
    sa: bool,
) -> WorkflowResult<Gate> {
    let timeout = Duration::from_secs(request.approval_timeout_secs);
    let opened = ctx.workflow_time();
    let deadline = opened.map(|now| rfc3339(now + timeout));
    let bind_plan_hash = ctx.patched(DECISION_PLAN_HASH_PATCH);
    ctx.state_mut(|s| {
        s.bind_plan_hash = bind_plan_hash;
        s.decision = None;
        s.state.approval = None;
        s.state.approvals.clear();
        s.state.approval_pending = true;
        s.state.approval_deadline = deadline;
    });
    set_status(ctx, sa, status::AWAITING_APPROVAL, 60);
    publish_status(ctx, sa);
    // Runs started before notifications existed replay without them.
    let notifying = ctx.patched(NOTIFY_PATCH);
    if notifying {
        notify(ctx, request, NotificationEvent::ApprovalRequested).await;
    }
    // The deadline and the reminder count from the gate's opening, however long notifying took
    // (a timer already due fires at once).
    let left = |ctx: &WorkflowContext<ProvisionInfraWorkflow>, after: Duration| {
        after.saturating_sub(elapsed_since(ctx, opened)).max(Duration::from_millis(1))
    };
    let mut timer = std::pin::pin!(ctx.timer(left(ctx, timeout)));
    let mut reminder = match request.approval_reminder_secs {
        Some(secs) if notifying => Some(Box::pin(ctx.timer(left(ctx, Duration::from_secs(secs))))),
        _ => None,
    };
    let outcome = loop {
        let woke = temporalio_sdk::workflows::select! {
            fired = timer.as_mut() => Woke::Gate(match fired {
                TimerResult::Cancelled => Err(temporalio_sdk::WorkflowTermination::cancelled()),
                _ => Ok(Gate::Expired),
            }),
            waited = ctx.wait_condition(|s: &ProvisionInfraWorkflow| s.decision.is_some() || s.replan_requested) => {
                Woke::Gate(match waited {
                    Err(_) => Err(temporalio_sdk::WorkflowTermination::cancelled()),
                    Ok(()) => Ok(ctx.state(|s| match (&s.decision, s.replan_requested) {
                        (_, true) => Gate::Replan,
                        (Some(d), _) if d.is_approved => Gate::Approved,
                        _ => Gate::Rejected,
                    })),
                })
            },
            fired = async {
                match reminder.as_mut() {
                    Some(reminder) => reminder.as_mut().await,
                    None => std::future::pending().await,
                }
            }.fuse() => Woke::Reminder(fired),
        };
        match woke {
            Woke::Gate(gate) => break gate,
            Woke::Reminder(TimerResult::Cancelled) => break Err(temporalio_sdk::WorkflowTermination::cancelled()),
            Woke::Reminder(_) => {
                reminder = None;
                notify(ctx, request, NotificationEvent::ApprovalReminder).await;
            }
        }
    };
    // A timer that loses the race stays open on the server unless cancelled.
    if !timer.is_terminated() {
        timer.cancel();
    }
    if let Some(reminder) = reminder.filter(|r| !r.is_terminated()) {
        reminder.cancel();
    }
    ctx.state_mut(|s| {
        s.state.approval_pending = false;
        s.state.approval_deadline = None;
    });
    if !ctx.is_replaying() {
        let gate = match &outcome {
            Ok(Gate::Approved) => GateOutcome::Approved,
            Ok(Gate::Rejected) => GateOutcome::Rejected,
            Ok(Gate::Expired) => GateOutcome::Expired,
            Ok(Gate::Replan) => GateOutcome::Replan,
            Err(_) => GateOutcome::Cancelled,
        };
        let event = format!("{}/approval/{}", ctx.run_id(), ctx.state(|s| s.state.plan_attempts));
        metrics::approval_waited(&event, ctx.task_queue(), PROVISION_WORKFLOW, gate, elapsed_since(ctx, opened));
    }
    if notifying {
        match &outcome {
            Ok(Gate::Approved | Gate::Rejected) => notify(ctx, request, NotificationEvent::ApprovalDecided).await,
            Ok(Gate::Expired) => notify(ctx, request, NotificationEvent::ApprovalExpired).await,
            Ok(Gate::Replan) | Err(_) => {}
        }
    }
    outcome
}

/// What woke the approval gate.
enum Woke {
    Gate(WorkflowResult<Gate>),
    Reminder(TimerResult),
}

/// Sends an approval notification through the worker's webhook. A notification that cannot be
/// delivered is recorded in the state; the run goes on.
async fn notify(ctx: &WorkflowContext<ProvisionInfraWorkflow>, request: &ProvisionRequest, event: NotificationEvent) {
    let workflow_id = ctx.workflow_id().to_owned();
    let notification = ctx.state(|s| Notification {
        event,
        workflow_id,
        directory: s.state.directory.clone(),
        approvers: s.state.approvers.clone(),
        deadline: match event {
            NotificationEvent::DestroyUpcoming => s.state.destroy_at.clone(),
            _ => s.state.approval_deadline.clone(),
        },
        plan_summary: s.state.plan_summary.clone(),
        policy_messages: s.state.policy_results.iter().map(|r| format!("{}: {}", r.policy, r.message)).collect(),
        decision: s.state.approval.clone(),
    });
    let options = step_options(request, NOTIFY_ATTEMPTS);
    if let Err(err) = ctx.execute_activity(ProvisionActivities::notify_webhook, notification, options).await {
        let message = format!("{event:?} notification not delivered: {}", root_message(&err));
        ctx.state_mut(|s| s.state.notification_error = Some(message));
    }
}

async fn wait_for_ttl(
    ctx: &mut WorkflowContext<ProvisionInfraWorkflow>,
    request: &ProvisionRequest,
    sa: bool,
) -> WorkflowResult<()> {
    let now_ms = ctx.workflow_time().map(epoch_ms).unwrap_or_default();
    ctx.state_mut(|s| {
        s.destroy_at_ms = now_ms + request.ephemeral_ttl * 1000;
        s.state.destroy_at = Some(rfc3339_ms(s.destroy_at_ms));
    });
    set_status(ctx, sa, status::WAITING_FOR_DESTROY, 80);
    publish_status(ctx, sa);
    // Runs started before destroy reminders existed replay without them.
    let remind_before_ms = match request.destroy_reminder_secs {
        Some(secs) if ctx.patched(NOTIFY_DESTROY_PATCH) => secs * 1000,
        _ => 0,
    };
    let mut reminded = false;
    loop {
        let (deadline, version) = ctx.state(|s| (s.destroy_at_ms, s.ttl_version));
        let now = ctx.workflow_time().map(epoch_ms).unwrap_or_default();
        if deadline <= now {
            return Ok(());
        }
        let reminding = !reminded && remind_before_ms > 0 && deadline - now > remind_before_ms;
        let wake_at = if reminding { deadline - remind_before_ms } else { deadline };
        let mut timer = std::pin::pin!(ctx.timer(Duration::from_millis(wake_at - now)));
        let extended = temporalio_sdk::workflows::select! {
            fired = timer.as_mut() => match fired {
                TimerResult::Cancelled => return Err(temporalio_sdk::WorkflowTermination::cancelled()),
                _ => false,
            },
            waited = ctx.wait_condition(move |s: &ProvisionInfraWorkflow| s.ttl_version != version) => {
                waited?;
                true
            },
        };
        if extended {
            timer.cancel();
            // A new deadline earns a new reminder.
            reminded = false;
        } else if reminding {
            reminded = true;
            notify(ctx, request, NotificationEvent::DestroyUpcoming).await;
        } else {
            return Ok(());
        }
    }
}

fn continue_as_new(
    ctx: &mut WorkflowContext<ProvisionInfraWorkflow>,
    input: serde_json::Value,
) -> WorkflowResult<ProvisionResult> {
    match ctx.continue_as_new(input, ContinueAsNewOptions::default())? {}
}

fn set_status<W: HasState>(ctx: &WorkflowContext<W>, search_attributes: bool, value: &str, progress: i32) {
    let deferred = ctx.state_mut(|s| {
        let state = s.state_mut();
        state.status = value.to_owned();
        state.progress = progress;
        s.published_mut().is_some()
    });
    if search_attributes && !deferred {
        ctx.upsert_search_attributes([PROVISION_STATUS.value_set(status::search_attribute_value(value).to_owned())]);
    }
}

/// Writes the run's status to `provisionStatus` if it changed since the last write (`light-run`;
/// older runs wrote every status as it was set). Called where the run is about to wait, so
/// visibility shows every status a run rests in, and none it passes within one workflow task.
fn publish_status<W: HasState>(ctx: &WorkflowContext<W>, search_attributes: bool) {
    if !search_attributes {
        return;
    }
    let changed = ctx.state_mut(|s| {
        let current = s.state_mut().status.clone();
        let published = s.published_mut()?;
        (published.as_deref() != Some(current.as_str())).then(|| {
            *published = Some(current.clone());
            current
        })
    });
    if let Some(value) = changed {
        ctx.upsert_search_attributes([PROVISION_STATUS.value_set(status::search_attribute_value(&value).to_owned())]);
    }
}

/// Takes the run's workspace (`light-run`: a local activity, and the grant in the same round trip
/// when the workspace is free) or queues for it, and waits for the grant; returns the run's ticket.
async fn take_workspace<W: HoldsWorkspace + HasState>(
    ctx: &mut WorkflowContext<W>,
    request: &ProvisionRequest,
    sa: bool,
) -> WorkflowResult<LockTicket> {
    if !ctx.state(HasState::light) {
        let lock_id = lock::acquire(ctx, request, step_options(request, 0)).await?;
        return Ok(LockTicket { lock_id, ..LockTicket::default() });
    }
    let ticket = lock::take(ctx, &request.directory, retry(request, 0)).await?;
    if !ticket.granted {
        publish_status(ctx, sa);
        lock::wait_for_grant(ctx).await?;
    }
    Ok(ticket)
}

/// Gives the workspace back: `light-run` from a local activity, older runs by signal.
async fn give_back_workspace<W: HasState>(ctx: &WorkflowContext<W>, ticket: &LockTicket) {
    if ctx.state(HasState::light) {
        lock::give_back(ctx, ticket).await;
    } else {
        lock::release(ctx, &ticket.lock_id).await;
    }
}

fn finish(
    ctx: &WorkflowContext<ProvisionInfraWorkflow>,
    sa: bool,
    final_status: &str,
    applied_plan_hash: Option<String>,
) -> ProvisionResult {
    let progress = ctx.state(|s| s.state.progress);
    // Seed 001: a rejected run keeps its progress until the very end, then reports 100.
    set_status(ctx, sa, final_status, progress.max(60));
    publish_status(ctx, sa);
    ctx.state_mut(|s| s.state.progress = 100);
    ctx.state(|s| ProvisionResult {
        status: final_status.to_owned(),
        outputs: s.state.outputs.clone(),
        applied_plan_hash,
    })
}

fn record_plan(ctx: &WorkflowContext<ProvisionInfraWorkflow>, outcome: &mut PlanOutcome) {
    let changes = outcome.resource_changes.take().unwrap_or_else(|| ResourceChange::from_plan(&outcome.plan.json));
    let plan = &outcome.plan;
    ctx.state_mut(|s| {
        s.state.plan = plan.human.clone();
        s.state.plan_hash = Some(plan.hash.clone());
        s.state.plan_summary = Some(plan.summary.clone());
        s.state.resource_changes = changes;
        s.state.policy_results.clear();
        s.state.verdict = None;
    });
}

fn record_changes<W: HasState>(ctx: &WorkflowContext<W>, report: ChangeReport) {
    ctx.state_mut(|s| {
        let state = s.state_mut();
        state.changes = Some(report.changes);
        state.resource_events = report.events;
    });
}

/// The application failure type at the root of an activity failure.
fn failure_type(err: &ActivityExecutionError) -> Option<String> {
    let mut failure: &Failure = err.failure()?;
    loop {
        if let Some(FailureInfo::ApplicationFailureInfo(info)) = &failure.failure_info {
            return Some(info.r#type.clone());
        }
        failure = failure.cause.as_deref()?;
    }
}

/// The message of the failure at the root of an activity failure.
fn root_message(err: &ActivityExecutionError) -> String {
    let Some(mut failure) = err.failure() else { return err.to_string() };
    while let Some(cause) = failure.cause.as_deref() {
        failure = cause;
    }
    failure.message.clone()
}

fn retry(request: &ProvisionRequest, maximum_attempts: u32) -> RetryPolicy {
    let initial = Duration::from_millis(request.retry_initial_interval_ms);
    // Seed 001 retries from 3 s up to 5 s; keep that shape for any initial interval. The
    // non-retryable failure types are not listed here: every activity failure says itself
    // whether it is retryable (`error::failure`), and the list would be written into every
    // scheduled activity's event.
    RetryPolicy::builder()
        .initial_interval(initial)
        .maximum_interval(initial * 5 / 3)
        .maximum_attempts(maximum_attempts)
        .build()
}

pub(crate) fn step_options(request: &ProvisionRequest, maximum_attempts: u32) -> ActivityOptions {
    ActivityOptions::with_start_to_close_timeout(STEP_TIMEOUT).retry_policy(retry(request, maximum_attempts)).build()
}

/// Options of the steps that run the IaC tool without reporting progress (init, plan): as long
/// as an apply may take, with a heartbeat so a lost worker is noticed within seconds.
fn tool_step_options(request: &ProvisionRequest, maximum_attempts: u32) -> ActivityOptions {
    ActivityOptions::with_start_to_close_timeout(Duration::from_secs(request.apply_timeout_secs))
        .heartbeat_timeout(HEARTBEAT_TIMEOUT)
        .retry_policy(retry(request, maximum_attempts))
        .build()
}

/// Options of `terraform_init` as a local activity (`local-init`): seed 001's five attempts and a
/// tool step's time limit. A local activity cannot heartbeat; one that outlasts the workflow task's
/// timeout keeps the task alive instead (Temporal core's workflow-task heartbeat).
fn local_init_options(request: &ProvisionRequest) -> LocalActivityOptions {
    LocalActivityOptions::builder()
        .start_to_close_timeout(Duration::from_secs(request.apply_timeout_secs))
        .retry_policy(retry(request, 5))
        .build()
}

fn plan_options(request: &ProvisionRequest) -> ActivityOptions {
    // Unlimited attempts: a plan that fails for a fixable reason (the recoverable scenario's bug)
    // waits for the fix instead of failing the run.
    tool_step_options(request, 0)
}

fn apply_options(request: &ProvisionRequest) -> ActivityOptions {
    ActivityOptions::with_start_to_close_timeout(Duration::from_secs(request.apply_timeout_secs))
        .heartbeat_timeout(HEARTBEAT_TIMEOUT)
        // A cancelled run waits for the tool to stop and save its state before it ends.
        .cancellation_type(ActivityCancellationType::WaitCancellationCompleted)
        .retry_policy(retry(request, 100))
        .build()
}

/// Workflows whose state carries a [`ProvisionState`].
trait HasState: 'static {
    fn state_mut(&mut self) -> &mut ProvisionState;
    /// The run follows `light-run`.
    fn light(&self) -> bool {
        false
    }
    /// The status last written to `provisionStatus`, for runs that write it only where they wait
    /// (`light-run`); `None` for runs that write every status as it is set.
    fn published_mut(&mut self) -> Option<&mut Option<String>> {
        None
    }
}

impl HasState for ProvisionInfraWorkflow {
    fn state_mut(&mut self) -> &mut ProvisionState {
        &mut self.state
    }
    fn light(&self) -> bool {
        self.light
    }
    fn published_mut(&mut self) -> Option<&mut Option<String>> {
        self.light.then_some(&mut self.published)
    }
}

impl HoldsWorkspace for ProvisionInfraWorkflow {
    fn granted(&self) -> bool {
        self.granted
    }
    fn granted_mut(&mut self) -> &mut bool {
        &mut self.granted
    }
}

impl HoldsWorkspace for DeprovisionInfraWorkflow {
    fn granted(&self) -> bool {
        self.granted
    }
    fn granted_mut(&mut self) -> &mut bool {
        &mut self.granted
    }
}

impl HasState for DeprovisionInfraWorkflow {
    fn state_mut(&mut self) -> &mut ProvisionState {
        &mut self.state
    }
}

/// Seed 001's destroy workflow: init → destroy → output.
#[workflow]
#[derive(Default)]
pub struct DeprovisionInfraWorkflow {
    state: ProvisionState,
    granted: bool,
}

#[workflow_methods]
impl DeprovisionInfraWorkflow {
    /// Destroys what a directory manages.
    #[run]
    pub async fn run(ctx: &mut WorkflowContext<Self>, input: serde_json::Value) -> WorkflowResult<ProvisionResult> {
        let request = ProvisionRequest::parse(input)
            .map_err(|e| ApplicationFailure::non_retryable(format!("invalid destroy request: {e}")))?;
        ctx.state_mut(|s| {
            s.state.driver = request.driver.as_str().to_owned();
            s.state.directory = request.directory.clone();
            s.state.scenario = request.scenario.clone();
        });
        let sa = request.include_custom_search_attrs;
        set_status(ctx, sa, status::UNINITIALIZED, 0);
        set_status(ctx, sa, status::WAITING_FOR_WORKSPACE, 0);
        let lock_id = lock::acquire(ctx, &request, step_options(&request, 0)).await?;
        let outcome = deprovision_locked(ctx, &request, sa).await;
        lock::release(ctx, &lock_id).await;
        let outputs = outcome?;
        set_status(ctx, sa, status::DESTROYED, 100);
        Ok(ProvisionResult { status: status::DESTROYED.to_owned(), outputs, applied_plan_hash: None })
    }

    /// The lock grant (signal from `WorkspaceLockWorkflow`).
    #[signal(name = "workspace_granted")]
    pub fn workspace_granted(&mut self, _ctx: &mut SyncWorkflowContext<Self>, _grant: LockGrant) {
        self.granted = true;
    }

    /// Seed status string.
    #[query(name = "get_current_status")]
    pub fn get_current_status(&self, _ctx: &WorkflowContextView) -> String {
        self.state.status.clone()
    }

    /// 0..=100.
    #[query(name = "get_progress")]
    pub fn get_progress(&self, _ctx: &WorkflowContextView) -> i32 {
        self.state.progress
    }

    /// Always empty: a destroy has no saved plan (seed 001).
    #[query(name = "get_plan")]
    pub fn get_plan(&self, _ctx: &WorkflowContextView) -> String {
        String::new()
    }

    /// Everything known about the destroy.
    #[query(name = "get_state")]
    pub fn get_state(&self, _ctx: &WorkflowContextView) -> ProvisionState {
        self.state.clone()
    }
}

/// init → destroy → output, holding the workspace; returns the masked outputs.
async fn deprovision_locked(
    ctx: &mut WorkflowContext<DeprovisionInfraWorkflow>,
    request: &ProvisionRequest,
    sa: bool,
) -> WorkflowResult<ordo_iac::Outputs> {
    set_status(ctx, sa, status::INITIALIZING, 10);
    ctx.execute_activity(ProvisionActivities::terraform_init, request.tool_step(), tool_step_options(request, 5))
        .await?;
    set_status(ctx, sa, status::INITIALIZED, 33);
    set_status(ctx, sa, status::DESTROYING, 66);
    destroy_and_read_outputs(ctx, request).await
}

/// destroy → output: records the changes and the masked outputs, and returns them.
async fn destroy_and_read_outputs<W: HasState + 'static>(
    ctx: &mut WorkflowContext<W>,
    request: &ProvisionRequest,
) -> WorkflowResult<ordo_iac::Outputs> {
    let report = ctx
        .execute_activity(ProvisionActivities::terraform_destroy, request.tool_step(), apply_options(request))
        .await?;
    record_changes(ctx, report);
    let outputs = ctx
        .execute_activity(ProvisionActivities::terraform_output, request.tool_step(), apply_options(request))
        .await?;
    let masked = mask_outputs(&outputs);
    ctx.state_mut(|s| s.state_mut().outputs = masked.clone());
    Ok(masked)
}
