//! `ProvisionApplication`: seed 000's request → team check → authorization → provision flow.
//! Orchestration only; everything that touches the world is an activity.
//!
//! 1. The team is looked up (`GetTeamInformation`); an unknown team fails the request.
//! 2. The authorizer's signal `AuthorizationReceivedResponse` is awaited, racing a durable timer:
//!    approval, rejection and expiry are three distinct outcomes (the seed failed all but the
//!    first the same way). Signals that arrive while waiting are judged (an approval needs a
//!    region and a profile; a named authorizer must be the request's); invalid ones are ignored
//!    with a note in the state, and the wait goes on.
//! 3. `provisionFoundationResources` runs on the IaC task queue with the authorizer's region and
//!    profile, wherever that queue is served (`ordo worker`, or the Python example worker).
//! 4. The workflow then holds the application: cancelling it decommissions the application, and
//!    the compensation (`destroyFoundationResources`, under a fresh cancellation token so that the
//!    cancellation does not cancel it too) destroys what was created. A request cancelled while
//!    provisioning is compensated the same way (the IaC step is idempotent).
//!
//! Rejection and expiry complete the workflow with the state; an unknown team, a broken stack or a
//! failed compensation fail it; a cancellation ends it cancelled, with the state as details.

use std::time::Duration;

use futures::future::FusedFuture as _;
use temporalio_common::protos::temporal::api::failure::v1::{failure::FailureInfo, Failure};
use temporalio_common::RetryPolicy;
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{
    ActivityCancellationType, ActivityExecutionError, ActivityOptions, ApplicationFailure, CancellableFuture as _,
    SyncWorkflowContext, TimerResult, WorkflowCancellationToken, WorkflowContext, WorkflowContextView, WorkflowResult,
    WorkflowTermination,
};

use crate::activities::{ApplicationActivities, FoundationActivities, NON_RETRYABLE};
use crate::model::{
    bucket_name, default_iac_task_queue, status, ApplicationRequest, AuthorizationReceivedResponse,
    GetTeamInformationRequest, ProvisionApplicationState, ProvisionFoundationResourcesRequest, MAX_NOTES,
    WORKFLOW_TYPE,
};
use ordo_core::metrics::{self, GateOutcome};
use ordo_core::time::{elapsed_since, rfc3339};

use crate::model::PROVISION_STATUS;

/// Seed 000's application workflow (type `ProvisionApplication`).
#[workflow]
#[derive(Default)]
pub struct ProvisionApplicationWorkflow {
    state: ProvisionApplicationState,
    /// The latest authorization received and not yet judged (the seed: the last signal wins).
    pending: Option<AuthorizationReceivedResponse>,
    /// An authorization was acted upon; later ones are ignored.
    decided: bool,
}

#[workflow_methods]
impl ProvisionApplicationWorkflow {
    /// Runs one application request. The input is parsed here, so a malformed request fails the
    /// workflow with a message naming the field instead of failing workflow tasks forever.
    #[run(name = "ProvisionApplication")]
    pub async fn run(
        ctx: &mut WorkflowContext<Self>,
        input: serde_json::Value,
    ) -> WorkflowResult<ProvisionApplicationState> {
        let request = ApplicationRequest::parse(input)
            .map_err(|e| ApplicationFailure::non_retryable(format!("invalid application request: {e}")))?;
        let application_id = request.application_id.clone().unwrap_or_else(|| ctx.workflow_id().to_owned());
        let bucket = bucket_name(&request.application_name, &request.team_id, &application_id);
        ctx.state_mut(|s| {
            s.state.application_id = application_id.clone();
            s.state.bucket_name = bucket.clone();
            s.state.request = Some(request.clone());
        });
        set_status(ctx, status::REQUESTED);

        set_status(ctx, status::CHECKING_TEAM);
        let lookup = GetTeamInformationRequest {
            requester_id: request.requester_id.clone().unwrap_or_default(),
            team_id: request.team_id.clone(),
        };
        let team = match ctx.execute_activity(ApplicationActivities::get_team_information, lookup, team_options()).await
        {
            Ok(team) => team,
            Err(ActivityExecutionError::Cancelled(_)) => return cancelled(ctx, status::CANCELLED),
            Err(err) => return fail(ctx, "team check", &err),
        };
        ctx.state_mut(|s| s.state.team = Some(team));

        let authorization = match await_authorization(ctx, &request).await {
            Gate::Approved(authorization) => authorization,
            Gate::Rejected => return Ok(finish(ctx, status::REJECTED)),
            Gate::Expired => {
                ctx.state_mut(|s| s.state.authorization_timed_out = true);
                return Ok(finish(ctx, status::AUTHORIZATION_EXPIRED));
            }
            Gate::Cancelled => return cancelled(ctx, status::CANCELLED),
        };

        let iac_queue = request.iac_task_queue.clone().unwrap_or_else(|| default_iac_task_queue(ctx.task_queue()));
        let foundation = ProvisionFoundationResourcesRequest {
            application_id,
            region: authorization.region.clone(),
            profile: authorization.profile.clone(),
            team_id: request.team_id.clone(),
            application_name: request.application_name.clone(),
            bucket_name: bucket,
            driver: request.driver,
            stack: request.stack.clone(),
            sim_latency_ms: request.sim_latency_ms,
        };
        set_status(ctx, status::PROVISIONING);
        let provisioned = ctx
            .execute_activity(
                FoundationActivities::provision_foundation_resources,
                foundation.clone(),
                iac_options(&iac_queue, None),
            )
            .await;
        match provisioned {
            Ok(resources) => {
                ctx.state_mut(|s| s.state.resources = Some(resources));
                set_status(ctx, status::PROVISIONED);
            }
            // Cancelled mid-provision: part may exist, so compensate.
            Err(_) if ctx.cancellation_token().is_cancelled() => return compensate(ctx, foundation, &iac_queue).await,
            Err(err) => return fail(ctx, "provisioning", &err),
        }

        // The application lives until it is cancelled (decommissioned).
        let _cancelled = ctx.wait_condition(|_: &Self| false).await;
        compensate(ctx, foundation, &iac_queue).await
    }

    /// The authorizer's decision (seed signal). Any payload is accepted here and judged by the
    /// waiting workflow; once a decision was acted upon, later ones are ignored.
    #[signal(name = "AuthorizationReceivedResponse")]
    pub fn authorization_received_response(
        &mut self,
        _ctx: &mut SyncWorkflowContext<Self>,
        payload: serde_json::Value,
    ) {
        if self.decided {
            self.note("ignored an authorization: the request was already decided".to_owned());
            return;
        }
        match serde_json::from_value::<AuthorizationReceivedResponse>(payload) {
            Ok(authorization) => self.pending = Some(authorization),
            Err(e) => self.note(format!("ignored an authorization that is not an AuthorizationReceivedResponse: {e}")),
        }
    }

    /// Everything the request knows (seed query; the seed's three fields plus Ordo's).
    #[query(name = "GetState")]
    pub fn get_state(&self, _ctx: &WorkflowContextView) -> ProvisionApplicationState {
        self.state.clone()
    }
}

impl ProvisionApplicationWorkflow {
    fn note(&mut self, text: String) {
        self.state.notes.push(text);
        let excess = self.state.notes.len().saturating_sub(MAX_NOTES);
        self.state.notes.drain(..excess);
    }

    /// Judges the pending authorization: `Some` when it is acted upon, `None` when it is ignored.
    fn judge_pending(&mut self) -> Option<AuthorizationReceivedResponse> {
        let authorization = self.pending.take()?;
        if let Err(e) = authorization.check() {
            self.note(format!("ignored an authorization: {e}"));
            return None;
        }
        let expected = self.state.request.as_ref().map(|r| r.authorizer_id.as_str());
        if let (Some(who), Some(expected)) = (authorization.authorizer_id.as_deref(), expected) {
            if who != expected {
                self.note(format!(
                    "ignored an authorization from {who:?}: only {expected:?} may authorize this request"
                ));
                return None;
            }
        }
        self.decided = true;
        Some(authorization)
    }
}

/// How the authorization wait ended.
enum Gate {
    Approved(AuthorizationReceivedResponse),
    Rejected,
    Expired,
    Cancelled,
}

async fn await_authorization(
    ctx: &mut WorkflowContext<ProvisionApplicationWorkflow>,
    request: &ApplicationRequest,
) -> Gate {
    let timeout = Duration::from_secs(request.authorization_timeout_seconds);
    let opened = ctx.workflow_time();
    let deadline = opened.map(|now| rfc3339(now + timeout));
    ctx.state_mut(|s| s.state.authorization_deadline = deadline);
    set_status(ctx, status::AWAITING_AUTHORIZATION);
    let mut timer = std::pin::pin!(ctx.timer(timeout));
    let gate = loop {
        let woke = temporalio_sdk::workflows::select! {
            fired = timer.as_mut() => match fired {
                // The timer resolves as cancelled when the workflow is: that is not an expiry.
                TimerResult::Cancelled => Some(Gate::Cancelled),
                _ => Some(Gate::Expired),
            },
            waited = ctx.wait_condition(|s: &ProvisionApplicationWorkflow| s.pending.is_some()) => match waited {
                Err(_) => Some(Gate::Cancelled),
                Ok(()) => None,
            },
        };
        if let Some(gate) = woke {
            break gate;
        }
        let judged = ctx.state_mut(|s| s.judge_pending());
        if let Some(authorization) = judged {
            let approved = authorization.is_approved;
            let at = ctx.workflow_time().map(rfc3339);
            ctx.state_mut(|s| {
                s.state.authorization = Some(authorization.clone());
                s.state.authorized_at = at;
            });
            break if approved { Gate::Approved(authorization) } else { Gate::Rejected };
        }
    };
    if !timer.is_terminated() {
        // A timer that loses the race stays open on the server unless cancelled.
        timer.cancel();
    }
    ctx.state_mut(|s| s.state.authorization_deadline = None);
    if !ctx.is_replaying() {
        let outcome = match &gate {
            Gate::Approved(_) => GateOutcome::Approved,
            Gate::Rejected => GateOutcome::Rejected,
            Gate::Expired => GateOutcome::Expired,
            Gate::Cancelled => GateOutcome::Cancelled,
        };
        let event = format!("{}/authorization", ctx.run_id());
        metrics::approval_waited(&event, ctx.task_queue(), WORKFLOW_TYPE, outcome, elapsed_since(ctx, opened));
    }
    gate
}

/// Destroys what the request provisioned (also after a partial provision), then ends the workflow
/// cancelled with the state as details.
async fn compensate(
    ctx: &mut WorkflowContext<ProvisionApplicationWorkflow>,
    foundation: ProvisionFoundationResourcesRequest,
    iac_queue: &str,
) -> WorkflowResult<ProvisionApplicationState> {
    set_status(ctx, status::DESTROYING);
    // The workflow's own token is cancelled already: the compensation needs one of its own.
    let options = iac_options(iac_queue, Some(WorkflowCancellationToken::new()));
    match ctx.execute_activity(FoundationActivities::destroy_foundation_resources, foundation, options).await {
        Ok(destroyed) => {
            ctx.state_mut(|s| s.state.destroyed = Some(destroyed));
            cancelled(ctx, status::DESTROYED)
        }
        Err(err) => fail(ctx, "the compensation (destroying what was provisioned)", &err),
    }
}

fn cancelled(
    ctx: &mut WorkflowContext<ProvisionApplicationWorkflow>,
    final_status: &str,
) -> WorkflowResult<ProvisionApplicationState> {
    let state = finish(ctx, final_status);
    Err(WorkflowTermination::cancelled_with_details(state))
}

fn fail(
    ctx: &mut WorkflowContext<ProvisionApplicationWorkflow>,
    step: &str,
    err: &ActivityExecutionError,
) -> WorkflowResult<ProvisionApplicationState> {
    let message = format!("{step} failed: {}", root_message(err));
    ctx.state_mut(|s| s.state.error = Some(message.clone()));
    finish(ctx, status::FAILED);
    Err(ApplicationFailure::non_retryable(message).into())
}

fn finish(ctx: &mut WorkflowContext<ProvisionApplicationWorkflow>, final_status: &str) -> ProvisionApplicationState {
    set_status(ctx, final_status);
    ctx.state(|s| s.state.clone())
}

fn set_status(ctx: &WorkflowContext<ProvisionApplicationWorkflow>, value: &str) {
    ctx.state_mut(|s| s.state.status = value.to_owned());
    ctx.upsert_search_attributes([PROVISION_STATUS.value_set(value.to_owned())]);
}

/// The message of the innermost application failure (what the activity said), else the top one.
fn root_message(err: &ActivityExecutionError) -> String {
    let Some(mut failure): Option<&Failure> = err.failure() else {
        return err.to_string();
    };
    let mut message = failure.message.clone();
    loop {
        if let Some(FailureInfo::ApplicationFailureInfo(_)) = &failure.failure_info {
            message = failure.message.clone();
        }
        match failure.cause.as_deref() {
            Some(cause) => failure = cause,
            None => return message,
        }
    }
}

fn team_options() -> ActivityOptions {
    ActivityOptions::with_start_to_close_timeout(Duration::from_secs(10))
        .retry_policy(
            RetryPolicy::builder()
                .initial_interval(Duration::from_secs(1))
                .maximum_interval(Duration::from_secs(10))
                .maximum_attempts(5)
                .non_retryable_error_types(NON_RETRYABLE.iter().copied())
                .build(),
        )
        .build()
}

/// The IaC activities: the seed's hour and 10 s heartbeat, retried until they succeed (a broken
/// stack shows as a pending activity with its last failure, the seed's "show me why it broke")
/// unless the failure is one no retry can fix. Cancellation waits for the activity to stop, so a
/// compensation never runs beside the step it undoes.
fn iac_options(task_queue: &str, token: Option<WorkflowCancellationToken>) -> ActivityOptions {
    let mut options = ActivityOptions::with_start_to_close_timeout(Duration::from_secs(3600))
        .task_queue(task_queue.to_owned())
        .heartbeat_timeout(Duration::from_secs(10))
        .cancellation_type(ActivityCancellationType::WaitCancellationCompleted)
        .retry_policy(
            RetryPolicy::builder()
                .initial_interval(Duration::from_secs(1))
                .backoff_coefficient(2.0)
                .maximum_interval(Duration::from_secs(30))
                .maximum_attempts(0)
                .non_retryable_error_types(NON_RETRYABLE.iter().copied())
                .build(),
        )
        .build();
    options.cancellation_token = token;
    options
}
