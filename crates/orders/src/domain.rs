//! Orders as a host runs them: the worker settings ([`OrdersArgs`]), the `orderStatus` search
//! attribute, and the `gopherpizza` task queue with the workflow and the kitchen registered.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use futures::FutureExt as _;
use ordo_core::{Domain, HostSettings, RequestError, SearchAttributeSpec};
use temporalio_client::Client;
use temporalio_common::telemetry::metrics::CoreMeter;
use temporalio_sdk::WorkerOptions;

use crate::activities::{KitchenActivities, KitchenConfig};
use crate::effects::Ledger;
use crate::model::{Faults, DEFAULT_TASK_QUEUE, ORDER_STATUS_ATTRIBUTE};
use crate::workflows::PizzaWorkflow;

/// The search attribute orders write.
pub const SEARCH_ATTRIBUTES: &[SearchAttributeSpec] = &[SearchAttributeSpec::keyword(ORDER_STATUS_ATTRIBUTE)];

/// The orders domain's worker settings.
#[derive(Debug, Clone, clap::Args)]
pub struct OrdersArgs {
    /// Task queue of the pizza orders (seed 002's `gopherpizza`).
    #[arg(long, env = "ORDO_ORDERS_TASK_QUEUE", default_value = DEFAULT_TASK_QUEUE)]
    pub orders_task_queue: String,
    /// Checkpoint 1a's bug: `BakePizza` fails (retryably) for pretzel crusts; restart the worker
    /// without this switch and those orders continue from the failed bake.
    #[arg(long, env = "ORDO_ORDERS_INJECT_BUG")]
    pub orders_inject_bug: bool,
    /// Chaos: probability (0..=1) that any kitchen step fails retryably, on any attempt, for
    /// orders that do not set their own rate.
    #[arg(long, env = "ORDO_ORDERS_FAILURE_RATE", value_parser = parse_rate)]
    pub orders_failure_rate: Option<f64>,
}

/// A rate in `0..=1`.
pub fn parse_rate(text: &str) -> Result<f64, RequestError> {
    match text.parse::<f64>() {
        Ok(rate) if (0.0..=1.0).contains(&rate) => Ok(rate),
        _ => Err(RequestError::new("rate", format!("{text:?} is not a number in 0..=1"))),
    }
}

impl OrdersArgs {
    /// The domain over these settings.
    pub fn domain(&self, host: &HostSettings) -> OrdersDomain {
        OrdersDomain {
            task_queue: self.orders_task_queue.clone(),
            kitchen: KitchenConfig {
                faults: Faults { failure: self.orders_failure_rate, ..Default::default() },
                inject_bug: self.orders_inject_bug,
                ledger: Some(Ledger::new(ledger_dir(&host.data_dir))),
            },
        }
    }
}

/// Where a host's workers record the kitchen's effects: `<data dir>/orders/effects`.
pub fn ledger_dir(data_dir: &std::path::Path) -> std::path::PathBuf {
    data_dir.join("orders").join("effects")
}

/// Orders, ready to host.
#[derive(Debug, Clone)]
pub struct OrdersDomain {
    task_queue: String,
    kitchen: KitchenConfig,
}

impl OrdersDomain {
    /// Orders on `task_queue` with `kitchen` (tests build it directly).
    pub fn new(task_queue: impl Into<String>, kitchen: KitchenConfig) -> Self {
        Self { task_queue: task_queue.into(), kitchen }
    }

    /// The task queue it serves.
    pub fn task_queue(&self) -> &str {
        &self.task_queue
    }
}

impl Domain for OrdersDomain {
    fn name(&self) -> &'static str {
        "orders"
    }

    fn search_attributes(&self) -> &'static [SearchAttributeSpec] {
        SEARCH_ATTRIBUTES
    }

    fn gauges(&self, client: Client, meter: Arc<dyn CoreMeter>, every: Duration) -> Option<BoxFuture<'static, ()>> {
        Some(crate::gauges::refresh_forever(client, meter, self.task_queue.clone(), every).boxed())
    }

    fn histogram_buckets(&self) -> Vec<(String, Vec<f64>)> {
        vec![(crate::metrics::ORDER_TIME.to_owned(), crate::metrics::ORDER_TIME_BUCKETS_MS.to_vec())]
    }

    fn workers(&self) -> anyhow::Result<Vec<WorkerOptions>> {
        let options = WorkerOptions::new(&self.task_queue)
            // Workers come and go (checkpoints 1 and 2): a dead worker's sticky queue holds an
            // order's next task for 2 s, not the default 10, before another worker gets it.
            .sticky_queue_schedule_to_start_timeout(std::time::Duration::from_secs(2))
            .register_workflow::<PizzaWorkflow>()?
            .register_activities(KitchenActivities::new(self.kitchen.clone()))
            .build();
        Ok(vec![options])
    }
}
