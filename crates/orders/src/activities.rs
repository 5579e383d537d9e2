//! The kitchen: the seed's four activities (`ValidateOrder`, `PreparePizza`, `BakePizza`,
//! `Deliver`, same names as its Go worker). They do nothing but take their time and, as the knobs
//! say, fail the way the seed's comments list; they have no side effects, so a retry or a second
//! worker running one again is harmless.

use std::sync::Arc;
use std::time::Duration;

use temporalio_macros::activities;
use temporalio_sdk::activities::{ActivityContext, ActivityError};

use crate::effects::{Applied, Ledger};
use crate::error::{self, failure};
use crate::model::{Crust, Faults, KitchenStep, PizzaOrderInfo};
use crate::policy::{check_kitchen, check_order, pick_fault, Fault, Step, Timings};

/// Worker-side settings of the kitchen.
#[derive(Debug, Clone, Default)]
pub struct KitchenConfig {
    /// Rates applied to every order that does not set its own (chaos sets `failure`).
    pub faults: Faults,
    /// Checkpoint 1a: `BakePizza` fails (retryably) for pretzel crusts until the worker runs
    /// without this switch.
    pub inject_bug: bool,
    /// Where each step's effect is recorded, once; `None`: effects are not recorded.
    pub ledger: Option<Ledger>,
}

/// The kitchen's activities.
#[derive(Debug, Default)]
pub struct KitchenActivities {
    config: KitchenConfig,
}

impl KitchenActivities {
    /// Activities over `config`.
    pub fn new(config: KitchenConfig) -> Self {
        Self { config }
    }

    /// Records the step's effect once (a retry after a lost completion finds it applied).
    fn apply(&self, ctx: &ActivityContext, step: &str, input: &KitchenStep) -> Result<(), ActivityError> {
        let Some(ledger) = &self.config.ledger else { return Ok(()) };
        let order = ctx.info().workflow_id.clone().unwrap_or_else(|| input.order.id.clone());
        let applied = ledger
            .apply(&order, step, input.make)
            .map_err(|e| failure(error::INJECTED, format!("recording the {step} of {order}: {e}")))?;
        if applied == Applied::Already {
            // Counted for the chaos report: an earlier attempt did it, then lost its completion.
            if let Err(error) = ledger.note_repeated() {
                tracing::warn!(%error, "counting a repeated application");
            }
        }
        Ok(())
    }

    fn fault(&self, step: Step, ctx: &ActivityContext, input: &KitchenStep) -> Fault {
        let faults = input.kitchen.faults.or(&self.config.faults);
        let fault = pick_fault(step, &faults, &input.order, ctx.info().attempt, input.make, fastrand::f64);
        if let (Fault::Injected, Some(ledger)) = (&fault, &self.config.ledger) {
            // Only counted, for the stats page: a count that misses one is no reason to fail.
            if let Err(error) = ledger.note_injected() {
                tracing::warn!(%error, "counting an injected failure");
            }
        }
        fault
    }
}

#[activities]
impl KitchenActivities {
    /// Checks the order and its knobs (the seed's `ValidateOrder`); an order that cannot be made
    /// fails without retrying, naming the field.
    #[activity(name = "ValidateOrder")]
    pub async fn validate_order(
        self: Arc<Self>,
        _ctx: ActivityContext,
        input: KitchenStep,
    ) -> Result<(), ActivityError> {
        check_order(&input.order)
            .and_then(|()| check_kitchen(&input.kitchen))
            .map_err(|e| failure(error::INVALID_ORDER, e.to_string()))
    }

    /// Prepares the pizza (the seed's `PreparePizza`): an ingredient may be out (the order is
    /// rejected) or the dough dropped (retried).
    #[activity(name = "PreparePizza")]
    pub async fn prepare_pizza(self: Arc<Self>, ctx: ActivityContext, input: KitchenStep) -> Result<(), ActivityError> {
        let timings = Timings::of(&input.kitchen);
        let beat = Some(timings.heartbeat / 4);
        match self.fault(Step::Prepare, &ctx, &input) {
            Fault::MissingIngredient(ingredient) => {
                Err(failure(error::MISSING_INGREDIENT, format!("missing ingredient: {ingredient}")))
            }
            Fault::DoughDropped => {
                work(&ctx, timings.prepare / 2, beat).await?;
                Err(failure(error::DOUGH_DROPPED, "the dough hit the floor"))
            }
            Fault::Injected => Err(failure(error::INJECTED, "injected failure while preparing")),
            _ => {
                work(&ctx, timings.prepare, beat).await?;
                self.apply(&ctx, "prepare", &input)
            }
        }
    }

    /// Bakes the pizza (the seed's `BakePizza`): undercooked (retried once) or overcooked (the
    /// workflow makes it again).
    #[activity(name = "BakePizza")]
    pub async fn bake_pizza(self: Arc<Self>, ctx: ActivityContext, input: KitchenStep) -> Result<(), ActivityError> {
        if self.config.inject_bug && has_bug(&input.order) {
            return Err(failure(error::KITCHEN_BUG, "the oven has no pretzel setting (checkpoint 1a's bug)"));
        }
        let timings = Timings::of(&input.kitchen);
        let beat = Some(timings.heartbeat / 4);
        match self.fault(Step::Bake, &ctx, &input) {
            Fault::Undercooked => {
                work(&ctx, timings.bake, beat).await?;
                Err(failure(error::UNDERCOOKED, "undercooked: back in the oven"))
            }
            Fault::Overcooked => {
                work(&ctx, timings.bake, beat).await?;
                Err(failure(error::OVERCOOKED, "overcooked: the pizza is made again"))
            }
            Fault::Injected => Err(failure(error::INJECTED, "injected failure while baking")),
            _ => {
                work(&ctx, timings.bake, beat).await?;
                self.apply(&ctx, "bake", &input)
            }
        }
    }

    /// Delivers the pizza (the seed's `Deliver`), heartbeating: the address may be forgotten
    /// (retried), the driver lost (slow, still heartbeating), the driver may quit (no more
    /// heartbeats: another driver takes over after the heartbeat timeout), or the wrong pizza may
    /// arrive (the workflow makes it again).
    #[activity(name = "Deliver")]
    pub async fn deliver(self: Arc<Self>, ctx: ActivityContext, input: KitchenStep) -> Result<(), ActivityError> {
        let timings = Timings::of(&input.kitchen);
        let beat = Some(timings.heartbeat / 4);
        match self.fault(Step::Deliver, &ctx, &input) {
            Fault::AddressForgotten => Err(failure(error::ADDRESS_FORGOTTEN, "the driver forgot the address")),
            Fault::DriverLost => {
                work(&ctx, timings.deliver * 3, beat).await?;
                self.apply(&ctx, "deliver", &input)
            }
            Fault::DriverQuit => {
                // Silence: the server times this attempt out and hands the delivery to another
                // driver; whatever this attempt returns afterwards is discarded.
                work(&ctx, timings.heartbeat * 3, None).await?;
                Err(failure(error::ADDRESS_FORGOTTEN, "the driver quit"))
            }
            Fault::WrongOrder => {
                work(&ctx, timings.deliver, beat).await?;
                Err(failure(error::WRONG_ORDER, "the wrong pizza was delivered: it is made again"))
            }
            Fault::Injected => Err(failure(error::INJECTED, "injected failure while delivering")),
            _ => {
                work(&ctx, timings.deliver, beat).await?;
                self.apply(&ctx, "deliver", &input)
            }
        }
    }
}

/// Checkpoint 1a's bug strikes pretzel crusts.
fn has_bug(order: &PizzaOrderInfo) -> bool {
    order.crust == Crust::Pretzel
}

/// Takes `duration`, heartbeating every `beat` when given, and stops early when cancelled.
async fn work(ctx: &ActivityContext, duration: Duration, beat: Option<Duration>) -> Result<(), ActivityError> {
    let deadline = tokio::time::Instant::now() + duration;
    loop {
        let now = tokio::time::Instant::now();
        if now >= deadline {
            return Ok(());
        }
        let next = beat.map_or(deadline, |b| (now + b.max(Duration::from_millis(50))).min(deadline));
        tokio::select! {
            () = tokio::time::sleep_until(next) => {}
            () = ctx.cancelled() => return Err(ActivityError::cancelled()),
        }
        if beat.is_some() {
            ctx.record_heartbeat(()).await.ok();
        }
    }
}
