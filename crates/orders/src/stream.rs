//! Checkpoint 3: a stream of random orders (the seed's Flutter `PizzaStream`: one every 2–6 s,
//! ids `auto-N`, four random toppings) at a configured pace and count, up to hundreds per second
//! for load; and the tally of how a set of orders ended, read from visibility in pages of
//! [`MAX_BATCH`] (never one query per order).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::client::{OrdersClient, OrdersError, MAX_BATCH};
use crate::model::{Cheese, Crust, Kitchen, OrderStatus, PizzaOrderInfo, PizzaOrderStatus};

/// Toppings the generator picks from (a slice of the seed UI's list).
pub const TOPPINGS: &[&str] = &[
    "anchovies",
    "artichoke",
    "bacon",
    "basil",
    "bell peppers",
    "black olives",
    "broccoli",
    "capers",
    "chicken",
    "chorizo",
    "corn",
    "eggplant",
    "feta",
    "garlic",
    "green olives",
    "ham",
    "jalapeños",
    "mushrooms",
    "onions",
    "oregano",
    "pepperoni",
    "pineapple",
    "prosciutto",
    "ricotta",
    "rocket",
    "salami",
    "sausage",
    "spinach",
    "sun-dried tomatoes",
    "tomatoes",
];

/// Most orders one stream places.
pub const MAX_COUNT: u64 = 100_000;
/// Fastest pace: orders per second.
pub const MAX_RATE: f64 = 1_000.0;

/// How a stream paces itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamOptions {
    /// How many orders (`None`: until stopped, the seed's `maxOrders = -1`).
    pub count: Option<u64>,
    /// Orders per second; `None`: the seed's one every 2–6 s.
    pub rate: Option<f64>,
    /// First id number (`auto-<first>`, `auto-<first+1>`, …).
    pub first: u64,
    /// Knobs every streamed order carries.
    pub kitchen: Option<Kitchen>,
}

impl StreamOptions {
    /// Checks the bounds, naming the field.
    pub fn check(&self) -> Result<(), ordo_core::RequestError> {
        if self.count.is_some_and(|c| c == 0 || c > MAX_COUNT) {
            return Err(ordo_core::RequestError::new("count", format!("1..={MAX_COUNT}")));
        }
        if self.rate.is_some_and(|r| !(r > 0.0 && r <= MAX_RATE)) {
            return Err(ordo_core::RequestError::new(
                "rate",
                format!("orders per second, more than 0 and at most {MAX_RATE}"),
            ));
        }
        if let Some(kitchen) = &self.kitchen {
            crate::policy::check_kitchen(kitchen)?;
        }
        Ok(())
    }

    /// The pause before the next order.
    fn pause(&self) -> Duration {
        match self.rate {
            Some(rate) => Duration::from_secs_f64(1.0 / rate),
            None => Duration::from_millis(2_000 + fastrand::u64(0..4_000)),
        }
    }
}

/// A random order with id `auto-n`, as the seed's generator made them.
pub fn random_order(n: u64) -> PizzaOrderInfo {
    let mut toppings: Vec<String> = Vec::new();
    while toppings.len() < 4 {
        let pick = TOPPINGS[fastrand::usize(..TOPPINGS.len())].to_owned();
        if !toppings.contains(&pick) {
            toppings.push(pick);
        }
    }
    PizzaOrderInfo {
        id: format!("auto-{n}"),
        crust: Crust::ALL[fastrand::usize(..Crust::ALL.len())],
        cheese: Cheese::ALL[fastrand::usize(..Cheese::ALL.len())],
        toppings,
    }
}

/// Most placements in flight at once (so a fast stream is not paced by one round trip).
const IN_FLIGHT: usize = 32;

/// Places orders as `options` say until the count is reached or `stop` resolves; `placed` sees
/// each one (in the order they were accepted). Returns how many were placed.
pub async fn run(
    client: &OrdersClient,
    options: &StreamOptions,
    mut placed: impl FnMut(PizzaOrderStatus),
    stop: impl std::future::Future<Output = ()>,
) -> Result<u64, OrdersError> {
    use futures::StreamExt as _;
    options.check()?;
    tokio::pin!(stop);
    let mut pending = futures::stream::FuturesUnordered::new();
    let mut next = tokio::time::Instant::now();
    let mut n = 0u64;
    let mut stopped = false;
    while !stopped && options.count.is_none_or(|count| n < count) {
        while pending.len() >= IN_FLIGHT {
            if let Some(result) = pending.next().await {
                placed(result?);
            }
        }
        let order = random_order(options.first + n);
        let kitchen = options.kitchen.clone();
        pending.push(async move { client.place(&order, kitchen).await });
        n += 1;
        next += options.pause();
        loop {
            tokio::select! {
                () = tokio::time::sleep_until(next) => break,
                () = &mut stop => { stopped = true; break; }
                Some(result) = pending.next(), if !pending.is_empty() => placed(result?),
            }
        }
    }
    while let Some(result) = pending.next().await {
        placed(result?);
    }
    Ok(n)
}

/// How a set of orders stands.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tally {
    /// Still running.
    pub running: u64,
    /// Delivered.
    pub delivered: u64,
    /// Rejected for a business reason.
    pub rejected: u64,
    /// Over without being delivered or rejected (failed, timed out, terminated, cancelled):
    /// must stay 0.
    pub failed: u64,
    /// Not (yet) in visibility.
    pub missing: u64,
}

impl Tally {
    /// Every order is over (or missing).
    pub fn settled(&self) -> bool {
        self.running == 0
    }
}

/// The tally of `ids`, from visibility, [`MAX_BATCH`] ids per list call.
pub async fn tally(client: &OrdersClient, ids: &[String]) -> Result<Tally, OrdersError> {
    let mut tally = Tally::default();
    for chunk in ids.chunks(MAX_BATCH) {
        for row in client.batch_status(chunk).await? {
            match (row.execution_status.as_deref(), row.status) {
                (None, _) => tally.missing += 1,
                (Some("Running"), _) => tally.running += 1,
                (Some("Completed"), Some(OrderStatus::Delivered)) => tally.delivered += 1,
                (Some("Completed"), Some(OrderStatus::Rejected)) => tally.rejected += 1,
                _ => tally.failed += 1,
            }
        }
    }
    Ok(tally)
}

/// Polls [`tally`] every `every` until every order is over or `limit` passes; the last tally.
pub async fn settle(
    client: &OrdersClient,
    ids: &[String],
    every: Duration,
    limit: Duration,
) -> Result<Tally, OrdersError> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let now = tally(client, ids).await?;
        if (now.settled() && now.missing == 0) || tokio::time::Instant::now() > deadline {
            return Ok(now);
        }
        tokio::time::sleep(every).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Generated orders are the seed's shape: `auto-N`, four distinct toppings, valid.
    #[test]
    fn random_orders_are_valid_and_numbered() {
        for n in 0..50 {
            let order = random_order(n);
            assert_eq!(order.id, format!("auto-{n}"));
            assert_eq!(order.toppings.len(), 4);
            crate::policy::check_order(&order).unwrap();
        }
    }

    /// Pace and count are bounded.
    #[test]
    fn stream_options_are_bounded() {
        let ok = StreamOptions { count: Some(20), rate: Some(200.0), first: 0, kitchen: None };
        assert!(ok.check().is_ok());
        assert_eq!(StreamOptions { rate: Some(0.0), ..ok.clone() }.check().unwrap_err().field, "rate");
        assert_eq!(StreamOptions { count: Some(0), ..ok.clone() }.check().unwrap_err().field, "count");
        assert_eq!(ok.pause(), Duration::from_millis(5));
        let seed = StreamOptions { rate: None, ..ok }.pause();
        assert!((Duration::from_secs(2)..Duration::from_secs(6)).contains(&seed));
    }
}
