//! Orders' gauges, read from visibility ([`OrdersClient::stats`]) every few seconds by each
//! worker hosting the domain (every worker on a task queue exports the same values: aggregate them
//! with `max`):
//!
//! | series | labels | meaning |
//! |---|---|---|
//! | `ordo_orders` | `task_queue`, `order_status` | orders by `orderStatus`, over or not |
//! | `ordo_orders_running` | `task_queue` | orders in progress |
//! | `ordo_orders_failed` | `task_queue` | orders over without being delivered or rejected (must stay 0) |
//! | `ordo_order_time_p99` | `task_queue` | p99 order time of the recent delivered orders, ms |

use std::sync::Arc;
use std::time::Duration;

use temporalio_client::Client;
use temporalio_common::telemetry::metrics::{CoreMeter, Gauge, MetricKeyValue, MetricParameters, NewAttributes};

use crate::client::OrdersClient;
use crate::model::OrderStatus;

/// Refreshes the gauges of the orders on `task_queue` every `every`, forever.
pub(crate) async fn refresh_forever(client: Client, meter: Arc<dyn CoreMeter>, task_queue: String, every: Duration) {
    let param = |name: &'static str, description: &'static str| {
        MetricParameters::builder().name(name).description(description).build()
    };
    let by_status: Gauge = meter.gauge(param("ordo_orders", "Orders by orderStatus"));
    let running: Gauge = meter.gauge(param("ordo_orders_running", "Orders in progress"));
    let failed: Gauge = meter.gauge(param("ordo_orders_failed", "Orders over without being delivered or rejected"));
    let p99: Gauge = meter.gauge(param("ordo_order_time_p99", "p99 order time of the recent delivered orders, ms"));
    let attributes = |labels: &[(&str, &str)]| {
        let mut all = vec![MetricKeyValue::new("task_queue", task_queue.clone())];
        all.extend(labels.iter().map(|(k, v)| MetricKeyValue::new(*k, (*v).to_owned())));
        meter.new_attributes(NewAttributes::from(all))
    };
    let orders = OrdersClient::new(client, task_queue.clone());
    loop {
        match orders.stats().await {
            Ok(stats) => {
                for status in OrderStatus::ALL {
                    let count = stats.by_status.get(status.as_str()).copied().unwrap_or(0);
                    by_status.record(count, &attributes(&[("order_status", status.as_str())]));
                }
                running.record(stats.running, &attributes(&[]));
                failed.record(stats.failed, &attributes(&[]));
                p99.record(stats.p99_ms.unwrap_or(0), &attributes(&[]));
            }
            Err(error) => tracing::warn!(error = format!("{error:#}"), "refreshing the orders gauges"),
        }
        tokio::time::sleep(every).await;
    }
}
