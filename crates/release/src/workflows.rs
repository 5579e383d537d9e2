//! Orchestration only: `ReleaseWorkflow` (the parent) and `DeployWorkflow` (one deploy in one or
//! more environments). Names, ids and the task queue are seed 003's wire contract.
//!
//! The parent checks the rules (a broken one is a *rejected* result, never a stuck task), collects
//! approvals (release, deploys, the gate before PROD) by validated updates with a deadline, then
//! walks the environments in promotion order; in each, the deploys run in parallel as children
//! `deploy-workflow-<deploy_key>`. A failed verification rolls that environment back (in the
//! child) and stops the promotion; `pause` holds it between environments; `abort` cancels the
//! children in flight, which roll their environment back, and ends the release.

use std::time::Duration;

use futures::future::FusedFuture as _;
use futures::FutureExt as _;
use temporalio_common::search_attributes::{SearchAttributeKey, SearchAttributes};
use temporalio_common::RetryPolicy;
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{
    ActivityCancellationType, ActivityExecutionError, ActivityOptions, CancellableFuture as _, ChildWorkflowOptions,
    SyncWorkflowContext, TimerResult, WorkflowCancellationToken, WorkflowContext, WorkflowContextView, WorkflowResult,
    WorkflowTermination,
};

use crate::activities::ReleaseActivities;
use crate::error;
use crate::model::{
    deploy_workflow_id, status, Approval, ApprovalRecord, Cell, CellState, CollectInput, Control, DeployInfo,
    DeployResult, DeployState, EnvOutcome, Environment, GateDecision, Matrix, Rejection, ReleaseInfo, ReleaseState,
    StepInput, StepKnobs, UnapprovedBehavior, RELEASE_ENVIRONMENT_ATTRIBUTE, RELEASE_KEY_ATTRIBUTE,
};
use crate::rules::{self, rule};
use ordo_core::time::{epoch_ms, rfc3339};

/// `releaseKey` search attribute.
pub const RELEASE_KEY: SearchAttributeKey<String> = SearchAttributeKey::keyword(RELEASE_KEY_ATTRIBUTE);
/// `releaseEnvironment` search attribute.
pub const RELEASE_ENVIRONMENT: SearchAttributeKey<String> = SearchAttributeKey::keyword(RELEASE_ENVIRONMENT_ATTRIBUTE);

/// Approval targets that are not deploy keys.
pub const RELEASE_TARGET: &str = "release";
/// The promotion gate's pending marker.
pub const GATE_TARGET: &str = "gate";
/// Longest reason or approver name accepted.
const MAX_TEXT: usize = 1000;

type HandlerError = Box<dyn std::error::Error + Send + Sync>;

/// Seed 003's parent workflow.
#[workflow]
#[derive(Default)]
pub struct ReleaseWorkflow {
    state: ReleaseState,
    approvers: Vec<String>,
    release_decision: Option<bool>,
    gate_decision: Option<bool>,
    refused: Vec<String>,
    aborted: Option<Control>,
}

#[workflow_methods]
impl ReleaseWorkflow {
    /// Runs a release; returns the seed's `Release <key>: SUCCESS`, or `Release <key>: <OUTCOME>:
    /// <why>`. The input is parsed here, so a malformed one is a rejection naming the field.
    #[run(name = "ReleaseWorkflow")]
    pub async fn run(ctx: &mut WorkflowContext<Self>, input: serde_json::Value) -> WorkflowResult<String> {
        release(ctx, input).await
    }

    #[update_validator(approve)]
    fn validate_approve(&self, _ctx: &WorkflowContextView, approval: &Approval) -> Result<(), HandlerError> {
        self.check_approver(&approval.approver, &approval.reason)?;
        if approval.target == GATE_TARGET {
            return Err("target: the gate is decided with decide_gate".into());
        }
        if !self.state.pending.contains(&approval.target) {
            let pending =
                if self.state.pending.is_empty() { "nothing".to_owned() } else { self.state.pending.join(", ") };
            return Err(format!("target: {:?} is not awaiting approval (pending: {pending})", approval.target).into());
        }
        Ok(())
    }

    /// Approves (or refuses) the release or one deploy; who and why go into history and state.
    #[update(name = "approve")]
    pub fn approve(&mut self, ctx: &mut SyncWorkflowContext<Self>, approval: Approval) -> ApprovalRecord {
        let record = self.record(ctx, &approval.target, approval.approved, &approval.approver, &approval.reason);
        self.state.pending.retain(|p| p != &approval.target);
        if approval.target == RELEASE_TARGET {
            self.release_decision = Some(approval.approved);
        } else if let Some(deploy) = self.state.deploys.iter_mut().find(|d| d.deploy_key == approval.target) {
            if approval.approved {
                deploy.approved = true;
                deploy.approved_by = approval.approver.clone();
            } else {
                self.refused.push(approval.target.clone());
            }
        }
        record
    }

    #[update_validator(decide_gate)]
    fn validate_decide_gate(&self, _ctx: &WorkflowContextView, decision: &GateDecision) -> Result<(), HandlerError> {
        self.check_approver(&decision.approver, &decision.reason)?;
        if !self.state.pending.iter().any(|p| p == GATE_TARGET) {
            return Err(format!(
                "the promotion gate is not waiting for a decision (status is {:?})",
                self.state.status
            )
            .into());
        }
        Ok(())
    }

    /// Opens (or closes) the promotion gate before PROD.
    #[update(name = "decide_gate")]
    pub fn decide_gate(&mut self, ctx: &mut SyncWorkflowContext<Self>, decision: GateDecision) -> ApprovalRecord {
        let record = self.record(ctx, GATE_TARGET, decision.approved, &decision.approver, &decision.reason);
        self.state.pending.retain(|p| p != GATE_TARGET);
        self.gate_decision = Some(decision.approved);
        record
    }

    #[update_validator(pause)]
    fn validate_pause(&self, _ctx: &WorkflowContextView, _control: &Control) -> Result<(), HandlerError> {
        self.check_running()?;
        if self.state.paused {
            return Err("the release is already paused".into());
        }
        Ok(())
    }

    /// Holds the release before its next environment (deploys in flight finish).
    #[update(name = "pause")]
    pub fn pause(&mut self, _ctx: &mut SyncWorkflowContext<Self>, control: Control) -> String {
        self.state.paused = true;
        self.note(format!("paused by {:?}: {}", control.by, control.reason));
        self.state.status.clone()
    }

    #[update_validator(resume)]
    fn validate_resume(&self, _ctx: &WorkflowContextView, _control: &Control) -> Result<(), HandlerError> {
        self.check_running()?;
        if !self.state.paused {
            return Err("the release is not paused".into());
        }
        Ok(())
    }

    /// Lets a paused release go on.
    #[update(name = "resume")]
    pub fn resume(&mut self, _ctx: &mut SyncWorkflowContext<Self>, control: Control) -> String {
        self.state.paused = false;
        self.note(format!("resumed by {:?}: {}", control.by, control.reason));
        self.state.status.clone()
    }

    #[update_validator(abort)]
    fn validate_abort(&self, _ctx: &WorkflowContextView, _control: &Control) -> Result<(), HandlerError> {
        self.check_running()?;
        if self.aborted.is_some() {
            return Err("the release is already being aborted".into());
        }
        Ok(())
    }

    /// Ends the release: deploys in flight are cancelled and roll their environment back.
    #[update(name = "abort")]
    pub fn abort(&mut self, _ctx: &mut SyncWorkflowContext<Self>, control: Control) -> String {
        self.note(format!("aborted by {:?}: {}", control.by, control.reason));
        self.aborted = Some(control);
        self.state.status.clone()
    }

    /// Everything the release knows.
    #[query(name = "get_state")]
    pub fn get_state(&self, _ctx: &WorkflowContextView) -> ReleaseState {
        self.state.clone()
    }

    /// The deploys × environments matrix.
    #[query(name = "get_matrix")]
    pub fn get_matrix(&self, _ctx: &WorkflowContextView) -> Matrix {
        Matrix {
            release_key: self.state.release_key.clone(),
            status: self.state.status.clone(),
            environments: self.state.environments.clone(),
            deploys: self.state.deploys.iter().map(|d| d.deploy_key.clone()).collect(),
            cells: self.state.cells.clone(),
        }
    }
}

impl ReleaseWorkflow {
    fn check_running(&self) -> Result<(), HandlerError> {
        if self.state.result.is_some() {
            return Err(format!("the release is over ({})", self.state.status).into());
        }
        Ok(())
    }

    fn check_approver(&self, approver: &str, reason: &str) -> Result<(), HandlerError> {
        if approver.trim().is_empty() || approver.len() > MAX_TEXT {
            return Err("approver: required (1..=1000 characters)".into());
        }
        if reason.trim().is_empty() || reason.len() > MAX_TEXT {
            return Err("reason: required (1..=1000 characters)".into());
        }
        if !self.approvers.is_empty() && !self.approvers.iter().any(|a| a == approver) {
            return Err(format!("approver: {approver:?} may not approve this release").into());
        }
        self.check_running()
    }

    fn record(
        &mut self,
        ctx: &SyncWorkflowContext<Self>,
        target: &str,
        approved: bool,
        approver: &str,
        reason: &str,
    ) -> ApprovalRecord {
        let record = ApprovalRecord {
            target: target.to_owned(),
            approved,
            approver: approver.to_owned(),
            reason: reason.to_owned(),
            at: ctx.workflow_time().map(rfc3339),
        };
        self.state.approvals.push(record.clone());
        record
    }

    fn note(&mut self, text: String) {
        self.state.notes.push(text);
    }
}

type Ctx = WorkflowContext<ReleaseWorkflow>;

/// How a wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Waited {
    Done,
    Expired,
    Aborted,
}

async fn release(ctx: &mut Ctx, input: serde_json::Value) -> WorkflowResult<String> {
    let key_hint = input.get("release_key").and_then(|k| k.as_str()).unwrap_or("?").to_owned();
    let mut info: ReleaseInfo = match serde_json::from_value(input) {
        Ok(info) => info,
        Err(e) => {
            let e = ordo_core::RequestError::from_serde(e);
            return Ok(reject(
                ctx,
                &key_hint,
                Rejection { rule: rule::INVALID_FIELD.into(), field: e.field, message: e.reason },
            ));
        }
    };
    let key = info.release_key.clone();
    ctx.state_mut(|s| {
        s.state.release_key = key.clone();
        s.approvers = info.approvers.clone();
    });
    ctx.upsert_search_attributes([RELEASE_KEY.value_set(key.clone())]);
    if let Err(rejection) = rules::check_release_fields(&info) {
        return Ok(reject(ctx, &key, rejection));
    }

    if info.deploys.is_empty() {
        set_status(ctx, status::COLLECTING);
        let collect = CollectInput { release_key: key.clone(), error_rate: info.knobs.error_rate };
        let collected =
            ctx.execute_activity(ReleaseActivities::collect_deploys, collect, step_options(&info.knobs, None)).await;
        match collected {
            Ok(c) => match c.deploys {
                Some(deploys) => info.deploys = deploys,
                None => {
                    let message = format!("{key} is not in the catalogue, and the release lists no deploys");
                    return Ok(reject(
                        ctx,
                        &key,
                        Rejection { rule: rule::UNKNOWN_RELEASE.into(), field: "release_key".into(), message },
                    ));
                }
            },
            Err(_) if ctx.cancellation_token().is_cancelled() => return Ok(finish(ctx, status::ABORTED, "cancelled")),
            Err(e) => return Ok(finish(ctx, status::HALTED, &format!("collecting deploys failed: {e}"))),
        }
    }
    for deploy in &mut info.deploys {
        inherit(&mut deploy.knobs, &info.knobs);
        if deploy.release_key.is_empty() {
            deploy.release_key.clone_from(&key);
        }
    }
    let warnings = match rules::check_release(&info) {
        Ok(warnings) => warnings,
        Err(rejection) => return Ok(reject(ctx, &key, rejection)),
    };
    let environments = rules::environments(&info.deploys);
    ctx.state_mut(|s| {
        s.state.notes.extend(warnings);
        s.state.environments = environments.clone();
        s.state.deploys = info.deploys.clone();
        s.state.cells = info
            .deploys
            .iter()
            .flat_map(|d| {
                Environment::ALL.into_iter().filter(|e| rules::targets(d, *e)).map(|env| Cell {
                    deploy_key: d.deploy_key.clone(),
                    env,
                    state: CellState::Pending,
                    detail: None,
                })
            })
            .collect();
    });
    let timeout = Duration::from_secs(info.approval_timeout_secs.unwrap_or(rules::DEFAULT_APPROVAL_TIMEOUT_SECS));

    // The release's own approval.
    if !info.approved {
        ctx.state_mut(|s| s.state.pending = vec![RELEASE_TARGET.to_owned()]);
        set_status(ctx, status::WAITING_FOR_RELEASE_APPROVAL);
        match wait(ctx, Some(timeout), |s| s.release_decision.is_some()).await {
            Waited::Done if ctx.state(|s| s.release_decision == Some(true)) => {}
            Waited::Done => return Ok(halt_all(ctx, "the release was refused")),
            Waited::Expired => return Ok(halt_all(ctx, "the release was not approved before the deadline")),
            Waited::Aborted => return Ok(aborted(ctx)),
        }
    }

    // Unapproved deploys: the seed's three behaviours.
    let unapproved: Vec<String> = info.deploys.iter().filter(|d| !d.approved).map(|d| d.deploy_key.clone()).collect();
    if !unapproved.is_empty() {
        match info.unapproved_deploys_behavior {
            UnapprovedBehavior::Stop => {
                return Ok(halt_all(ctx, &format!("not approved: {}", unapproved.join(", "))));
            }
            UnapprovedBehavior::ReleaseApproved => {}
            UnapprovedBehavior::Wait => {
                ctx.state_mut(|s| {
                    s.state.pending.clone_from(&unapproved);
                    for key in &unapproved {
                        for env in Environment::ALL {
                            if s.state.cell(key, env).is_some() {
                                s.state.set_cell(key, env, CellState::WaitingForApproval, None);
                            }
                        }
                    }
                });
                set_status(ctx, status::WAITING_FOR_DEPLOY_APPROVAL);
                match wait(ctx, Some(timeout), |s| s.state.pending.is_empty()).await {
                    Waited::Done => {}
                    Waited::Expired => {
                        let late = ctx.state(|s| s.state.pending.join(", "));
                        return Ok(halt_all(ctx, &format!("not approved before the deadline: {late}")));
                    }
                    Waited::Aborted => return Ok(aborted(ctx)),
                }
            }
        }
    }
    let included: Vec<DeployInfo> = ctx.state_mut(|s| {
        let mut included = Vec::new();
        for deploy in s.state.deploys.clone() {
            if deploy.approved {
                for cell in s.state.cells.iter_mut().filter(|c| c.deploy_key == deploy.deploy_key) {
                    if cell.state == CellState::WaitingForApproval {
                        cell.state = CellState::Pending;
                    }
                }
                included.push(deploy);
                continue;
            }
            let why = if s.refused.contains(&deploy.deploy_key) { "refused" } else { "not approved" };
            for env in Environment::ALL {
                if s.state.cell(&deploy.deploy_key, env).is_some() {
                    s.state.set_cell(&deploy.deploy_key, env, CellState::Skipped, Some(why.to_owned()));
                }
            }
        }
        included
    });
    if included.is_empty() {
        return Ok(halt_all(ctx, "no deploy is approved"));
    }

    for env in environments {
        let targets: Vec<DeployInfo> = included.iter().filter(|d| rules::targets(d, env)).cloned().collect();
        if targets.is_empty() {
            continue;
        }
        if ctx.state(|s| s.state.paused) {
            set_status(ctx, status::PAUSED);
            if wait(ctx, None, |s| !s.state.paused).await == Waited::Aborted {
                return Ok(aborted(ctx));
            }
        }
        if ctx.state(|s| s.aborted.is_some()) || ctx.cancellation_token().is_cancelled() {
            return Ok(aborted(ctx));
        }
        if env == Environment::Prod {
            if let Some(outcome) = promotion_gate(ctx, &info, timeout).await {
                return Ok(outcome);
            }
        }
        set_status(ctx, status::DEPLOYING);
        ctx.state_mut(|s| s.state.current_env = Some(env));
        ctx.upsert_search_attributes([RELEASE_ENVIRONMENT.value_set(env.as_str().to_owned())]);
        let stopped = deploy_environment(ctx, env, &targets).await;
        if ctx.state(|s| s.aborted.is_some()) || ctx.cancellation_token().is_cancelled() {
            return Ok(aborted(ctx));
        }
        if let Some(why) = stopped {
            skip_pending(ctx, "promotion stopped");
            let outcome = ctx.state(|s| {
                if s.state.cells.iter().any(|c| c.state == CellState::Failed) {
                    status::HALTED
                } else {
                    status::ROLLED_BACK
                }
            });
            return Ok(finish(ctx, outcome, &why));
        }
    }
    Ok(finish(ctx, status::SUCCEEDED, ""))
}

/// The gate before PROD: a decision (with the approval deadline), then the UTC window. `Some`
/// ends the release.
async fn promotion_gate(ctx: &mut Ctx, info: &ReleaseInfo, timeout: Duration) -> Option<String> {
    let gate = info.promotion_gate.clone()?;
    if gate.approval {
        ctx.state_mut(|s| s.state.pending = vec![GATE_TARGET.to_owned()]);
        set_status(ctx, status::WAITING_FOR_GATE);
        match wait(ctx, Some(timeout), |s| s.gate_decision.is_some()).await {
            Waited::Done if ctx.state(|s| s.gate_decision == Some(true)) => {}
            Waited::Done => {
                skip_pending(ctx, "stopped at the promotion gate");
                return Some(finish(ctx, status::HALTED, "the promotion to PROD was refused at the gate"));
            }
            Waited::Expired => {
                ctx.state_mut(|s| s.state.pending.clear());
                skip_pending(ctx, "stopped at the promotion gate");
                return Some(finish(ctx, status::HALTED, "the promotion gate was not decided before the deadline"));
            }
            Waited::Aborted => return Some(aborted(ctx)),
        }
    }
    if let Some(window) = &gate.window {
        // The rules checked the window before the release started.
        let bounds = rules::parse_window(window).ok()?;
        loop {
            let now = ctx.workflow_time().map(epoch_ms).unwrap_or_default() / 1000;
            let secs = rules::secs_until_open(now, bounds);
            if secs == 0 {
                break;
            }
            set_status(ctx, status::WAITING_FOR_WINDOW);
            let opens = ctx.workflow_time().map(|t| rfc3339(t + Duration::from_secs(secs)));
            ctx.state_mut(|s| {
                s.note(format!(
                    "PROD waits for its window {}–{} UTC (opens {})",
                    window.from,
                    window.to,
                    opens.unwrap_or_default()
                ))
            });
            if wait(ctx, Some(Duration::from_secs(secs)), |_| false).await == Waited::Aborted {
                return Some(aborted(ctx));
            }
        }
    }
    None
}

/// Deploys `targets` to `env` in parallel; `Some(why)` when the promotion must stop.
async fn deploy_environment(ctx: &mut Ctx, env: Environment, targets: &[DeployInfo]) -> Option<String> {
    let token = ctx.cancellation_token().child_token();
    let release_key = ctx.state(|s| s.state.release_key.clone());
    let mut children = Vec::new();
    for deploy in targets {
        let first = rules::environments(std::slice::from_ref(deploy)).first() == Some(&env);
        let starting = if first { CellState::Building } else { CellState::Deploying };
        ctx.state_mut(|s| s.state.set_cell(&deploy.deploy_key, env, starting, None));
        let mut input = deploy.clone();
        input.envs = vec![env.as_str().to_owned()];
        let options = ChildWorkflowOptions::builder()
            .workflow_id(deploy_workflow_id(&deploy.deploy_key))
            .cancellation_token(token.clone())
            .search_attributes(SearchAttributes::new([
                RELEASE_KEY.value_set(release_key.clone()),
                RELEASE_ENVIRONMENT.value_set(env.as_str().to_owned()),
            ]))
            .build();
        let input = serde_json::to_value(&input).expect("deploys serialize");
        let start = ctx.start_child_workflow(DeployWorkflow::run, input, options);
        let key = deploy.deploy_key.clone();
        children.push(async move {
            let result = match start.await {
                Ok(started) => started.result().await.map_err(|e| e.to_string()),
                Err(e) => Err(format!("could not start: {e}")),
            };
            (key, result)
        });
    }
    let mut all = std::pin::pin!(temporalio_sdk::workflows::join_all(children).fuse());
    let results = temporalio_sdk::workflows::select! {
        results = all.as_mut() => results,
        _ = ctx.wait_condition(|s: &ReleaseWorkflow| s.aborted.is_some()) => {
            token.cancel();
            all.as_mut().await
        },
    };
    let aborting = ctx.state(|s| s.aborted.is_some()) || ctx.cancellation_token().is_cancelled();
    let mut stop = None;
    for (key, result) in results {
        let (state, detail) = match result {
            Ok(result) => match result.outcomes.iter().find(|o| o.env == env) {
                Some(EnvOutcome { state, detail, .. }) => (*state, detail.clone()),
                None => (CellState::Failed, result.message.clone()),
            },
            Err(_) if aborting => (CellState::RolledBack, "aborted; rolled back".to_owned()),
            Err(e) => (CellState::Failed, e),
        };
        if state != CellState::Done && stop.is_none() && !aborting {
            stop = Some(format!("{key} in {env}: {detail}"));
        }
        ctx.state_mut(|s| s.state.set_cell(&key, env, state, Some(detail)));
    }
    stop
}

/// Waits until `done` holds, the release is aborted (or cancelled), or `timeout` passes.
async fn wait(ctx: &mut Ctx, timeout: Option<Duration>, done: fn(&ReleaseWorkflow) -> bool) -> Waited {
    let waited = match timeout {
        Some(timeout) => {
            let mut timer = std::pin::pin!(ctx.timer(timeout));
            let waited = temporalio_sdk::workflows::select! {
                fired = timer.as_mut() => match fired {
                    TimerResult::Cancelled => Waited::Aborted,
                    _ => Waited::Expired,
                },
                r = ctx.wait_condition(move |s: &ReleaseWorkflow| done(s) || s.aborted.is_some()) => match r {
                    Ok(()) => Waited::Done,
                    Err(_) => Waited::Aborted,
                },
            };
            // A timer that loses the race stays open on the server unless cancelled.
            if !timer.is_terminated() {
                timer.cancel();
            }
            waited
        }
        None => match ctx.wait_condition(move |s: &ReleaseWorkflow| done(s) || s.aborted.is_some()).await {
            Ok(()) => Waited::Done,
            Err(_) => Waited::Aborted,
        },
    };
    if ctx.state(|s| s.aborted.is_some()) {
        Waited::Aborted
    } else {
        waited
    }
}

fn set_status(ctx: &Ctx, value: &str) {
    ctx.state_mut(|s| s.state.status = value.to_owned());
}

/// Pending cells become skipped.
fn skip_pending(ctx: &Ctx, why: &str) {
    ctx.state_mut(|s| {
        for cell in &mut s.state.cells {
            if matches!(cell.state, CellState::Pending | CellState::WaitingForApproval) {
                cell.state = CellState::Skipped;
                cell.detail = Some(why.to_owned());
            }
        }
    });
}

fn halt_all(ctx: &Ctx, why: &str) -> String {
    skip_pending(ctx, why);
    finish(ctx, status::HALTED, why)
}

fn aborted(ctx: &Ctx) -> String {
    skip_pending(ctx, "aborted");
    let why = ctx.state(|s| match &s.aborted {
        Some(c) => format!("aborted by {}: {}", c.by, c.reason),
        None => "cancelled".to_owned(),
    });
    finish(ctx, status::ABORTED, &why)
}

fn reject(ctx: &Ctx, key: &str, rejection: Rejection) -> String {
    let text = format!("Release {key}: REJECTED: {rejection}");
    ctx.state_mut(|s| {
        s.state.status = status::REJECTED.to_owned();
        s.state.rejection = Some(rejection);
        s.state.result = Some(text.clone());
    });
    text
}

/// Ends the release with `outcome`: the seed's `Release <key>: SUCCESS`, or the outcome and why.
fn finish(ctx: &Ctx, outcome: &str, why: &str) -> String {
    let key = ctx.state(|s| s.state.release_key.clone());
    let text = if outcome == status::SUCCEEDED {
        format!("Release {key}: SUCCESS")
    } else {
        format!("Release {key}: {}: {why}", outcome.to_uppercase())
    };
    ctx.state_mut(|s| {
        s.state.status = outcome.to_owned();
        s.state.current_env = None;
        s.state.pending.clear();
        s.state.result = Some(text.clone());
        if !why.is_empty() && outcome != status::ABORTED {
            s.state.notes.push(why.to_owned());
        }
    });
    text
}

/// A deploy's knobs default to its release's.
fn inherit(knobs: &mut StepKnobs, from: &StepKnobs) {
    knobs.error_rate = knobs.error_rate.or(from.error_rate);
    knobs.retry_initial_ms = knobs.retry_initial_ms.or(from.retry_initial_ms);
    knobs.step_timeout_secs = knobs.step_timeout_secs.or(from.step_timeout_secs);
}

/// Step options: the seed retries forever (the fix can be deployed while it waits); backoff from
/// the release's initial interval up to 5×.
fn step_options(knobs: &StepKnobs, token: Option<WorkflowCancellationToken>) -> ActivityOptions {
    let initial = Duration::from_millis(knobs.retry_initial_ms.unwrap_or(rules::DEFAULT_RETRY_INITIAL_MS));
    let timeout = Duration::from_secs(knobs.step_timeout_secs.unwrap_or(rules::DEFAULT_STEP_TIMEOUT_SECS));
    let retry = RetryPolicy::builder()
        .initial_interval(initial)
        .backoff_coefficient(2.0)
        .maximum_interval(initial * 5)
        .maximum_attempts(0)
        .non_retryable_error_types(error::NON_RETRYABLE.iter().copied())
        .build();
    ActivityOptions::with_start_to_close_timeout(timeout)
        .retry_policy(retry)
        // A cancelled step finishes before the compensation looks at what it did.
        .cancellation_type(ActivityCancellationType::WaitCancellationCompleted)
        .maybe_cancellation_token(token)
        .build()
}

/// Seed 003's child: one deploy, in each of its environments in promotion order: build (once,
/// skipped when built) → deploy → config → verify; a failed verification rolls the environment
/// back. Cancelled, it rolls back the environment it was in and ends cancelled.
#[workflow]
#[derive(Default)]
pub struct DeployWorkflow {
    state: DeployState,
}

#[workflow_methods]
impl DeployWorkflow {
    /// Runs one deploy; the message is the seed's `Deploy Success: <key>!` when all went well.
    #[run(name = "DeployWorkflow")]
    pub async fn run(ctx: &mut WorkflowContext<Self>, input: serde_json::Value) -> WorkflowResult<DeployResult> {
        deploy(ctx, input).await
    }

    /// Where the deploy is.
    #[query(name = "get_state")]
    pub fn get_state(&self, _ctx: &WorkflowContextView) -> DeployState {
        self.state.clone()
    }
}

fn rejected_deploy(key: &str, rejection: Rejection) -> DeployResult {
    DeployResult {
        deploy_key: key.to_owned(),
        message: format!("Deploy Rejected: {key}: {rejection}"),
        outcomes: Vec::new(),
        rejection: Some(rejection),
    }
}

async fn deploy(ctx: &mut WorkflowContext<DeployWorkflow>, input: serde_json::Value) -> WorkflowResult<DeployResult> {
    let key_hint = input.get("deploy_key").and_then(|k| k.as_str()).unwrap_or("?").to_owned();
    let info: DeployInfo = match serde_json::from_value(input) {
        Ok(info) => info,
        Err(e) => {
            let e = ordo_core::RequestError::from_serde(e);
            return Ok(rejected_deploy(
                &key_hint,
                Rejection { rule: rule::INVALID_FIELD.into(), field: e.field, message: e.reason },
            ));
        }
    };
    let envs = match rules::check_deploy("", &info, Default::default()) {
        Ok((envs, _)) => envs,
        Err(rejection) => return Ok(rejected_deploy(&info.deploy_key, rejection)),
    };
    ctx.state_mut(|s| s.state.deploy_key = info.deploy_key.clone());
    if !info.release_key.is_empty() {
        ctx.upsert_search_attributes([RELEASE_KEY.value_set(info.release_key.clone())]);
    }
    let step = |env: Option<Environment>| StepInput {
        release_key: info.release_key.clone(),
        deploy_key: info.deploy_key.clone(),
        container_id: info.container_id.clone(),
        container_version: info.container_version.clone(),
        git_url: info.git_url.clone(),
        env,
        error_rate: info.knobs.error_rate,
    };
    let options = step_options(&info.knobs, None);
    let mut outcomes = Vec::new();

    ctx.state_mut(|s| s.state.step = Some(CellState::Building));
    let built = ctx.execute_activity(ReleaseActivities::build_artifact, step(None), options.clone()).await;
    if let Err(e) = built {
        return ended(ctx, &info, outcomes, None, e).await;
    }
    for env in envs {
        ctx.state_mut(|s| {
            s.state.env = Some(env);
            s.state.step = Some(CellState::Deploying);
        });
        ctx.upsert_search_attributes([RELEASE_ENVIRONMENT.value_set(env.as_str().to_owned())]);
        let deployed = ctx.execute_activity(ReleaseActivities::deploy_artifact, step(Some(env)), options.clone()).await;
        let deployed = match deployed {
            Ok(d) => d,
            Err(e) => return ended(ctx, &info, outcomes, Some(env), e).await,
        };
        if let Err(e) = ctx.execute_activity(ReleaseActivities::update_config, step(Some(env)), options.clone()).await {
            return ended(ctx, &info, outcomes, Some(env), e).await;
        }
        ctx.state_mut(|s| s.state.step = Some(CellState::Verifying));
        let verified =
            match ctx.execute_activity(ReleaseActivities::verify_deploy, step(Some(env)), options.clone()).await {
                Ok(v) => v,
                Err(e) => return ended(ctx, &info, outcomes, Some(env), e).await,
            };
        // A step that finished after the deploy was cancelled (steps run to completion so the
        // compensation sees what they did) does not let the deploy go on.
        if ctx.cancellation_token().is_cancelled() {
            rollback(ctx, &info, env, &options).await;
            return Err(WorkflowTermination::cancelled());
        }
        if verified.healthy {
            let replaced = deployed.previous_version.map(|v| format!(", replaced {v}")).unwrap_or_default();
            let outcome = EnvOutcome {
                env,
                state: CellState::Done,
                detail: format!("{} {}{replaced}; {}", info.container_id, info.container_version, verified.detail),
            };
            ctx.state_mut(|s| s.state.outcomes.push(outcome.clone()));
            outcomes.push(outcome);
            continue;
        }
        // Compensation: put the environment back and stop this deploy.
        let restored = rollback(ctx, &info, env, &options).await;
        let detail = format!("verification failed ({}); {restored}", verified.detail);
        outcomes.push(EnvOutcome { env, state: CellState::RolledBack, detail: detail.clone() });
        ctx.state_mut(|s| {
            s.state.step = Some(CellState::RolledBack);
            s.state.outcomes.clone_from(&outcomes);
        });
        return Ok(DeployResult {
            deploy_key: info.deploy_key.clone(),
            message: format!("Deploy Rolled Back: {} in {env}: {detail}", info.deploy_key),
            outcomes,
            rejection: None,
        });
    }
    ctx.state_mut(|s| s.state.step = Some(CellState::Done));
    Ok(DeployResult {
        deploy_key: info.deploy_key.clone(),
        message: format!("Deploy Success: {}!", info.deploy_key),
        outcomes,
        rejection: None,
    })
}

/// Rolls `env` back (under a fresh token, so a cancelled deploy still compensates); says what
/// it restored.
async fn rollback(
    ctx: &WorkflowContext<DeployWorkflow>,
    info: &DeployInfo,
    env: Environment,
    options: &ActivityOptions,
) -> String {
    let mut options = options.clone();
    options.cancellation_token = Some(WorkflowCancellationToken::new());
    let input = StepInput {
        release_key: info.release_key.clone(),
        deploy_key: info.deploy_key.clone(),
        container_id: info.container_id.clone(),
        container_version: info.container_version.clone(),
        git_url: info.git_url.clone(),
        env: Some(env),
        error_rate: info.knobs.error_rate,
    };
    match ctx.execute_activity(ReleaseActivities::rollback_deploy, input, options).await {
        Ok(outcome) => match outcome.previous_version {
            Some(v) => format!("rolled back to {v}"),
            None => format!("rolled back ({} removed from {env})", info.container_id),
        },
        Err(e) => format!("rollback failed: {e}"),
    }
}

/// A step failed for good, or the deploy was cancelled: compensate the environment in progress.
async fn ended(
    ctx: &mut WorkflowContext<DeployWorkflow>,
    info: &DeployInfo,
    mut outcomes: Vec<EnvOutcome>,
    env: Option<Environment>,
    err: ActivityExecutionError,
) -> WorkflowResult<DeployResult> {
    let options = step_options(&info.knobs, None);
    let restored = match env {
        Some(env) => Some(rollback(ctx, info, env, &options).await),
        None => None,
    };
    if ctx.cancellation_token().is_cancelled() {
        return Err(WorkflowTermination::cancelled());
    }
    let env = env.unwrap_or_else(|| {
        rules::environments(std::slice::from_ref(info)).first().copied().unwrap_or(Environment::Dev)
    });
    let detail = match restored {
        Some(restored) => format!("{err}; {restored}"),
        None => err.to_string(),
    };
    outcomes.push(EnvOutcome { env, state: CellState::Failed, detail: detail.clone() });
    ctx.state_mut(|s| {
        s.state.step = Some(CellState::Failed);
        s.state.outcomes.clone_from(&outcomes);
    });
    Ok(DeployResult {
        deploy_key: info.deploy_key.clone(),
        message: format!("Deploy Failed: {}: {detail}", info.deploy_key),
        outcomes,
        rejection: None,
    })
}
