//! `PizzaWorkflow`: the seed's order flow, with its status held per order (the seed kept one
//! package-level status for every order) and every step observable. Orchestration only.
//!
//! 1. The input is read in whatever encoding the client used; one that cannot be read rejects
//!    the order naming the field (never a failed workflow task).
//! 2. `ValidateOrder`: an order that cannot be made is rejected, naming the field.
//! 3. `ORDER_PREPARING` → `PreparePizza`: a missing ingredient rejects the order, naming it.
//! 4. `ORDER_BAKING` → `BakePizza`: overcooked makes the pizza again from step 3.
//! 5. `ORDER_PENDING_PICKUP`: a durable timer while the pizza waits for a driver.
//! 6. `ORDER_OUT_FOR_DELIVERY` → `Deliver`: the wrong pizza makes it again from step 3.
//! 7. `ORDER_DELIVERED`.
//!
//! Retryable failures are retried without limit (the seed's policy, with its 1 s first interval
//! as a knob); after [`MAX_REMAKES`] remakes the order is rejected. Each status change is upserted
//! into the `orderStatus` search attribute, so visibility knows it without a worker.

use std::time::Duration;

use temporalio_common::data_converters::RawValue;
use temporalio_common::protos::temporal::api::failure::v1::{failure::FailureInfo, Failure};
use temporalio_common::RetryPolicy;
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{
    ActivityExecutionError, ActivityOptions, TimerResult, WorkflowContext, WorkflowContextView, WorkflowResult,
    WorkflowTermination,
};

use crate::activities::KitchenActivities;
use crate::error;
use crate::model::{parse_order_payload, KitchenStep, OrderOutcome, OrderStatus, PizzaOrderStatus, ORDER_STATUS};
use crate::policy::{check_kitchen, Timings, MAX_REMAKES};

/// The seed's pizza order (type `PizzaWorkflow`, query `getOrderStatus`).
#[workflow]
#[derive(Default)]
pub struct PizzaWorkflow {
    answer: PizzaOrderStatus,
    /// When the order was received (workflow time), for the order-time series.
    received: Option<std::time::SystemTime>,
    /// How many times the pizza was made again.
    remakes: u32,
}

#[workflow_methods]
impl PizzaWorkflow {
    /// Runs one order to `ORDER_DELIVERED` or `ORDER_REJECTED` (with a reason). The input is a
    /// raw payload so that `json/plain`, `json/protobuf` and `binary/protobuf` all reach it.
    #[run(name = "PizzaWorkflow")]
    pub async fn run(ctx: &mut WorkflowContext<Self>, input: RawValue) -> WorkflowResult<OrderOutcome> {
        let run_id = ctx.run_id().to_owned();
        let received = ctx.workflow_time();
        ctx.state_mut(|s| {
            s.answer.run_id = run_id;
            s.received = received;
        });
        let request = match parse_order_payload(&input.payloads) {
            Ok(request) => request,
            Err(e) => {
                let id = ctx.workflow_id().to_owned();
                ctx.state_mut(|s| s.answer.order.id = id);
                return Ok(reject(ctx, format!("invalid order: {e}")));
            }
        };
        let kitchen = request.kitchen.unwrap_or_default();
        ctx.state_mut(|s| s.answer.order = request.order.clone());
        set_status(ctx, OrderStatus::Received);
        if let Err(e) = check_kitchen(&kitchen) {
            return Ok(reject(ctx, format!("invalid order: {e}")));
        }
        let timings = Timings::of(&kitchen);
        let mut step = KitchenStep { order: request.order, kitchen, make: 0 };

        match ctx
            .execute_activity(KitchenActivities::validate_order, step.clone(), options(&timings, Duration::ZERO, false))
            .await
        {
            Ok(()) => {}
            Err(_) if cancelled(ctx) => return cancel(ctx),
            Err(e) => return Ok(reject(ctx, format!("invalid order: {}", root_message(&e)))),
        }

        loop {
            if step.make > MAX_REMAKES {
                return Ok(reject(ctx, format!("could not make the order in {} tries", MAX_REMAKES + 1)));
            }
            set_status(ctx, OrderStatus::Preparing);
            let prepared = ctx
                .execute_activity(
                    KitchenActivities::prepare_pizza,
                    step.clone(),
                    options(&timings, timings.prepare, true),
                )
                .await;
            if let Err(e) = prepared {
                if cancelled(ctx) {
                    return cancel(ctx);
                }
                return Ok(reject(ctx, root_message(&e)));
            }

            set_status(ctx, OrderStatus::Baking);
            let baked = ctx
                .execute_activity(KitchenActivities::bake_pizza, step.clone(), options(&timings, timings.bake, true))
                .await;
            match baked {
                Ok(()) => {}
                Err(e) if failure_type(&e).as_deref() == Some(error::OVERCOOKED) => {
                    step.make += 1;
                    ctx.state_mut(|s| s.remakes = step.make);
                    continue;
                }
                Err(_) if cancelled(ctx) => return cancel(ctx),
                Err(e) => return Ok(reject(ctx, root_message(&e))),
            }

            set_status(ctx, OrderStatus::PendingPickup);
            // A timer resolves (as cancelled) when the workflow is cancelled too.
            if !timings.pickup.is_zero() && ctx.timer(timings.pickup).await == TimerResult::Cancelled {
                return cancel(ctx);
            }

            set_status(ctx, OrderStatus::OutForDelivery);
            let delivered = ctx
                .execute_activity(KitchenActivities::deliver, step.clone(), options(&timings, timings.deliver, true))
                .await;
            match delivered {
                Ok(()) => break,
                Err(e) if failure_type(&e).as_deref() == Some(error::WRONG_ORDER) => {
                    step.make += 1;
                    ctx.state_mut(|s| s.remakes = step.make);
                }
                Err(_) if cancelled(ctx) => return cancel(ctx),
                Err(e) => return Ok(reject(ctx, root_message(&e))),
            }
        }
        set_status(ctx, OrderStatus::Delivered);
        record_end(ctx, "delivered");
        Ok(ctx.state(|s| s.answer.clone()))
    }

    /// Where the order is (the seed's query), answered as the seed's Go worker did: `json/protobuf`
    /// `gopherpizza.pizza.api.v1.PizzaOrderStatus`, `status` always present.
    #[query(name = "getOrderStatus")]
    pub fn get_order_status(&self, _ctx: &WorkflowContextView) -> RawValue {
        self.answer.to_payload()
    }
}

fn cancelled(ctx: &WorkflowContext<PizzaWorkflow>) -> bool {
    ctx.cancellation_token().is_cancelled()
}

/// Ends the workflow cancelled (someone cancelled it in Temporal): not a rejection, so it is
/// counted apart from delivered and rejected orders; the last status stays in visibility.
fn cancel(ctx: &mut WorkflowContext<PizzaWorkflow>) -> WorkflowResult<OrderOutcome> {
    ctx.state_mut(|s| s.answer.reason = Some("the order was cancelled".to_owned()));
    Err(WorkflowTermination::cancelled_with_details(ctx.state(|s| s.answer.clone())))
}

/// Ends the order rejected with `reason` (a business outcome: the workflow completes).
fn reject(ctx: &mut WorkflowContext<PizzaWorkflow>, reason: String) -> OrderOutcome {
    ctx.state_mut(|s| s.answer.reason = Some(reason));
    set_status(ctx, OrderStatus::Rejected);
    record_end(ctx, "rejected");
    ctx.state(|s| s.answer.clone())
}

/// The order's end, once, on the worker that saw it happen (never while replaying).
fn record_end(ctx: &mut WorkflowContext<PizzaWorkflow>, outcome: &str) {
    if ctx.is_replaying() {
        return;
    }
    let (received, remakes) = ctx.state(|s| (s.received, s.remakes));
    let took = ordo_core::time::elapsed_since(ctx, received);
    let event = format!("{}/end", ctx.run_id());
    crate::metrics::order_ended(&event, ctx.task_queue(), outcome, took, remakes);
}

fn set_status(ctx: &mut WorkflowContext<PizzaWorkflow>, status: OrderStatus) {
    ctx.state_mut(|s| s.answer.status = status);
    ctx.upsert_search_attributes([ORDER_STATUS.value_set(status.as_str().to_owned())]);
}

/// A step's options: its start-to-close timeout, the seed's unlimited retries (first interval as
/// the knob says), the non-retryable types, and for the kitchen steps a heartbeat timeout, so a
/// step whose worker was killed is retried elsewhere after seconds, not after its whole timeout.
fn options(timings: &Timings, step: Duration, heartbeat: bool) -> ActivityOptions {
    let mut options = ActivityOptions::with_start_to_close_timeout(Timings::start_to_close(step))
        .retry_policy(
            RetryPolicy::builder()
                .initial_interval(timings.retry)
                .backoff_coefficient(2.0)
                .maximum_interval(timings.retry.max(Duration::from_secs(10)))
                .non_retryable_error_types(error::NON_RETRYABLE.iter().copied())
                .build(),
        )
        .build();
    if heartbeat {
        options.heartbeat_timeout = Some(timings.heartbeat);
    }
    options
}

/// The innermost application failure (what the activity said).
fn application_failure(err: &ActivityExecutionError) -> Option<&Failure> {
    let mut failure: &Failure = err.failure()?;
    let mut found = None;
    loop {
        if let Some(FailureInfo::ApplicationFailureInfo(_)) = &failure.failure_info {
            found = Some(failure);
        }
        match failure.cause.as_deref() {
            Some(cause) => failure = cause,
            None => return found,
        }
    }
}

fn failure_type(err: &ActivityExecutionError) -> Option<String> {
    match &application_failure(err)?.failure_info {
        Some(FailureInfo::ApplicationFailureInfo(info)) => Some(info.r#type.clone()),
        _ => None,
    }
}

fn root_message(err: &ActivityExecutionError) -> String {
    application_failure(err).map_or_else(|| err.to_string(), |f| f.message.clone())
}
