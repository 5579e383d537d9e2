//! Pure decisions (no I/O, no clock): what makes an order acceptable, what the knobs resolve to,
//! and which failure mode a roll of the dice selects.

use std::time::Duration;

use ordo_core::RequestError;

use crate::model::{Faults, Kitchen, PizzaOrderInfo, MAX_ID_LEN, MAX_TOPPINGS, MAX_TOPPING_LEN};

/// Most a step may be told to take (a demo pizza, not a real one).
pub const MAX_STEP_MS: u64 = 120_000;
/// Bounds of the first retry interval.
pub const RETRY_MS: std::ops::RangeInclusive<u64> = 10..=60_000;
/// Bounds of the delivery's heartbeat timeout.
pub const HEARTBEAT_MS: std::ops::RangeInclusive<u64> = 200..=60_000;
/// How many times one order may be made again (overcooked, wrong order) before it is rejected.
pub const MAX_REMAKES: u32 = 3;

/// Checks an order: an id, at most [`MAX_TOPPINGS`] printable toppings of at most
/// [`MAX_TOPPING_LEN`] characters.
pub fn check_order(order: &PizzaOrderInfo) -> Result<(), RequestError> {
    if order.id.trim().is_empty() {
        return Err(RequestError::new("id", "is required"));
    }
    if order.id.chars().count() > MAX_ID_LEN || order.id.chars().any(char::is_control) {
        return Err(RequestError::new("id", format!("must be at most {MAX_ID_LEN} printable characters")));
    }
    if order.toppings.len() > MAX_TOPPINGS {
        return Err(RequestError::new(
            "toppings",
            format!("at most {MAX_TOPPINGS} toppings, not {}", order.toppings.len()),
        ));
    }
    for (i, topping) in order.toppings.iter().enumerate() {
        let len = topping.chars().count();
        if topping.trim().is_empty() || len > MAX_TOPPING_LEN || topping.chars().any(char::is_control) {
            return Err(RequestError::new(
                &format!("toppings[{i}]"),
                format!("must be 1..={MAX_TOPPING_LEN} printable characters"),
            ));
        }
    }
    Ok(())
}

/// Checks the knobs: durations up to [`MAX_STEP_MS`], retry and heartbeat within their bounds,
/// rates in `0..=1`.
pub fn check_kitchen(kitchen: &Kitchen) -> Result<(), RequestError> {
    for (field, value) in [
        ("kitchen.prepareMs", kitchen.prepare_ms),
        ("kitchen.bakeMs", kitchen.bake_ms),
        ("kitchen.pickupMs", kitchen.pickup_ms),
        ("kitchen.deliverMs", kitchen.deliver_ms),
    ] {
        if value.is_some_and(|v| v > MAX_STEP_MS) {
            return Err(RequestError::new(field, format!("at most {MAX_STEP_MS} ms")));
        }
    }
    if kitchen.retry_ms.is_some_and(|v| !RETRY_MS.contains(&v)) {
        return Err(RequestError::new("kitchen.retryMs", format!("{RETRY_MS:?} ms")));
    }
    if kitchen.heartbeat_ms.is_some_and(|v| !HEARTBEAT_MS.contains(&v)) {
        return Err(RequestError::new("kitchen.heartbeatMs", format!("{HEARTBEAT_MS:?} ms")));
    }
    for (name, rate) in kitchen.faults.named() {
        if rate.is_some_and(|r| !(0.0..=1.0).contains(&r)) {
            return Err(RequestError::new(&format!("kitchen.faults.{name}"), "a rate in 0..=1"));
        }
    }
    Ok(())
}

impl Faults {
    /// Every rate with its wire name.
    pub fn named(&self) -> [(&'static str, Option<f64>); 9] {
        [
            ("missingIngredient", self.missing_ingredient),
            ("doughDropped", self.dough_dropped),
            ("undercooked", self.undercooked),
            ("overcooked", self.overcooked),
            ("addressForgotten", self.address_forgotten),
            ("driverLost", self.driver_lost),
            ("driverQuit", self.driver_quit),
            ("wrongOrder", self.wrong_order),
            ("failure", self.failure),
        ]
    }

    /// These rates, each one left unset taken from `defaults` (the worker's).
    pub fn or(&self, defaults: &Faults) -> Faults {
        Faults {
            missing_ingredient: self.missing_ingredient.or(defaults.missing_ingredient),
            dough_dropped: self.dough_dropped.or(defaults.dough_dropped),
            undercooked: self.undercooked.or(defaults.undercooked),
            overcooked: self.overcooked.or(defaults.overcooked),
            address_forgotten: self.address_forgotten.or(defaults.address_forgotten),
            driver_lost: self.driver_lost.or(defaults.driver_lost),
            driver_quit: self.driver_quit.or(defaults.driver_quit),
            wrong_order: self.wrong_order.or(defaults.wrong_order),
            failure: self.failure.or(defaults.failure),
        }
    }
}

/// The knobs with their defaults filled in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timings {
    /// Prepare.
    pub prepare: Duration,
    /// Bake.
    pub bake: Duration,
    /// Waiting for a driver.
    pub pickup: Duration,
    /// Deliver.
    pub deliver: Duration,
    /// First retry interval.
    pub retry: Duration,
    /// Heartbeat timeout of the delivery.
    pub heartbeat: Duration,
}

impl Timings {
    /// Resolves `kitchen` (defaults: the demo's seconds; the seed's 1 s first retry).
    pub fn of(kitchen: &Kitchen) -> Self {
        let ms = |v: Option<u64>, default: u64| Duration::from_millis(v.unwrap_or(default).min(MAX_STEP_MS));
        Self {
            prepare: ms(kitchen.prepare_ms, 2_000),
            bake: ms(kitchen.bake_ms, 3_000),
            pickup: ms(kitchen.pickup_ms, 1_000),
            deliver: ms(kitchen.deliver_ms, 3_000),
            retry: ms(kitchen.retry_ms, 1_000).max(Duration::from_millis(*RETRY_MS.start())),
            heartbeat: ms(kitchen.heartbeat_ms, 2_000).max(Duration::from_millis(*HEARTBEAT_MS.start())),
        }
    }

    /// Start-to-close timeout of a step taking `step`: the seed's 10 s plus room for a lost
    /// driver (3× slower).
    pub fn start_to_close(step: Duration) -> Duration {
        Duration::from_secs(10) + step * 4
    }
}

/// A kitchen step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// `PreparePizza`.
    Prepare,
    /// `BakePizza`.
    Bake,
    /// `Deliver`.
    Deliver,
}

/// What goes wrong in one attempt of a step (or nothing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Everything goes fine.
    None,
    /// Chaos: a retryable failure.
    Injected,
    /// Prepare: an ingredient is out (names it).
    MissingIngredient(String),
    /// Prepare: retryable.
    DoughDropped,
    /// Bake: retryable, once.
    Undercooked,
    /// Bake: back to prepare.
    Overcooked,
    /// Deliver: retryable.
    AddressForgotten,
    /// Deliver: slow but arrives.
    DriverLost,
    /// Deliver: stops heartbeating.
    DriverQuit,
    /// Deliver: back to prepare.
    WrongOrder,
}

/// Picks the fault of one attempt from `roll` (a source of numbers in `0..1`, one per mode):
/// chaos first, then the step's modes in the seed's order. Retryable modes strike only on the
/// first attempt and compensating modes only on the first make, so every rate terminates.
pub fn pick_fault(
    step: Step,
    faults: &Faults,
    order: &PizzaOrderInfo,
    attempt: u32,
    make: u32,
    mut roll: impl FnMut() -> f64,
) -> Fault {
    let mut strikes = |rate: Option<f64>| rate.is_some_and(|r| r > 0.0 && roll() < r);
    if strikes(faults.failure) {
        return Fault::Injected;
    }
    let first_attempt = attempt <= 1;
    let first_make = make == 0;
    match step {
        Step::Prepare => {
            if first_make && strikes(faults.missing_ingredient) {
                let ingredient = order.toppings.first().cloned().unwrap_or_else(|| order.cheese.to_string());
                return Fault::MissingIngredient(ingredient);
            }
            if first_attempt && strikes(faults.dough_dropped) {
                return Fault::DoughDropped;
            }
        }
        Step::Bake => {
            if first_attempt && strikes(faults.undercooked) {
                return Fault::Undercooked;
            }
            if first_make && strikes(faults.overcooked) {
                return Fault::Overcooked;
            }
        }
        Step::Deliver => {
            if first_attempt && strikes(faults.address_forgotten) {
                return Fault::AddressForgotten;
            }
            if first_attempt && strikes(faults.driver_quit) {
                return Fault::DriverQuit;
            }
            if first_make && strikes(faults.wrong_order) {
                return Fault::WrongOrder;
            }
            if strikes(faults.driver_lost) {
                return Fault::DriverLost;
            }
        }
    }
    Fault::None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Crust;

    fn order() -> PizzaOrderInfo {
        PizzaOrderInfo { id: "o--1".into(), crust: Crust::Thin, toppings: vec!["olives".into()], ..Default::default() }
    }

    /// A missing id, control characters and oversized toppings are refused, naming the field.
    #[test]
    fn orders_are_checked_field_by_field() {
        assert!(check_order(&order()).is_ok());
        let mut o = order();
        o.id = " ".into();
        assert_eq!(check_order(&o).unwrap_err().field, "id");
        let mut o = order();
        o.toppings = vec!["x".repeat(61)];
        assert_eq!(check_order(&o).unwrap_err().field, "toppings[0]");
        let mut o = order();
        o.toppings = vec!["a".into(); 21];
        assert_eq!(check_order(&o).unwrap_err().field, "toppings");
    }

    /// Every knob has a bound.
    #[test]
    fn knobs_are_bounded() {
        assert!(check_kitchen(&Kitchen::default()).is_ok());
        let k = Kitchen { bake_ms: Some(MAX_STEP_MS + 1), ..Default::default() };
        assert_eq!(check_kitchen(&k).unwrap_err().field, "kitchen.bakeMs");
        let k = Kitchen { retry_ms: Some(1), ..Default::default() };
        assert_eq!(check_kitchen(&k).unwrap_err().field, "kitchen.retryMs");
        let mut k = Kitchen::default();
        k.faults.wrong_order = Some(1.5);
        assert_eq!(check_kitchen(&k).unwrap_err().field, "kitchen.faults.wrongOrder");
    }

    /// With every rate at 1, each mode strikes once where it may and never again, so orders end.
    #[test]
    fn faults_terminate_at_rate_one() {
        let all =
            Faults { dough_dropped: Some(1.0), undercooked: Some(1.0), overcooked: Some(1.0), ..Default::default() };
        let one = || 0.5;
        assert_eq!(pick_fault(Step::Prepare, &all, &order(), 1, 0, one), Fault::DoughDropped);
        assert_eq!(pick_fault(Step::Prepare, &all, &order(), 2, 0, one), Fault::None);
        assert_eq!(pick_fault(Step::Bake, &all, &order(), 1, 0, one), Fault::Undercooked);
        assert_eq!(pick_fault(Step::Bake, &all, &order(), 2, 0, one), Fault::Overcooked);
        assert_eq!(pick_fault(Step::Bake, &all, &order(), 1, 1, one), Fault::Undercooked);
        assert_eq!(pick_fault(Step::Bake, &all, &order(), 2, 1, one), Fault::None);
        let missing = Faults { missing_ingredient: Some(1.0), ..Default::default() };
        assert_eq!(pick_fault(Step::Prepare, &missing, &order(), 1, 0, one), Fault::MissingIngredient("olives".into()));
        let deliver = Faults { driver_quit: Some(1.0), wrong_order: Some(1.0), ..Default::default() };
        assert_eq!(pick_fault(Step::Deliver, &deliver, &order(), 1, 0, one), Fault::DriverQuit);
        assert_eq!(pick_fault(Step::Deliver, &deliver, &order(), 2, 0, one), Fault::WrongOrder);
        assert_eq!(pick_fault(Step::Deliver, &deliver, &order(), 2, 1, one), Fault::None);
        assert_eq!(pick_fault(Step::Deliver, &Faults::default(), &order(), 1, 0, || 0.0), Fault::None);
    }

    /// Worker defaults fill what an order leaves unset; an order's own rate wins.
    #[test]
    fn order_rates_override_worker_defaults() {
        let worker = Faults { failure: Some(0.3), wrong_order: Some(0.1), ..Default::default() };
        let order = Faults { wrong_order: Some(0.0), ..Default::default() };
        let merged = order.or(&worker);
        assert_eq!((merged.failure, merged.wrong_order), (Some(0.3), Some(0.0)));
    }
}
