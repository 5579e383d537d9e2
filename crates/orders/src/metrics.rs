//! Orders' domain series, recorded once per order where it ends, on the worker's Prometheus meter
//! (see [`ordo_core::metrics`] for the once-per-event rule; nothing is recorded while replaying):
//!
//! | series | labels | meaning |
//! |---|---|---|
//! | `ordo_orders_ended` | `task_queue`, `outcome` | orders over, by outcome (`delivered`, `rejected`) |
//! | `ordo_order_time` | `task_queue`, `outcome` | workflow time from receipt to the end, ms |
//! | `ordo_order_remakes` | `task_queue` | pizzas made again (overcooked, wrong order) |

use std::sync::OnceLock;
use std::time::Duration;

use temporalio_common::telemetry::metrics::{Counter, HistogramDuration, MetricParameters};

/// Name of the order-time histogram (for bucket overrides).
pub const ORDER_TIME: &str = "ordo_order_time";

/// Bucket boundaries of [`ORDER_TIME`] in ms: 100 ms (tests) to 10 min (a lost driver).
pub const ORDER_TIME_BUCKETS_MS: [f64; 12] =
    [100.0, 250.0, 500.0, 1_000.0, 2_000.0, 5_000.0, 10_000.0, 20_000.0, 30_000.0, 60_000.0, 120_000.0, 600_000.0];

struct Instruments {
    ended: Counter,
    time: HistogramDuration,
    remakes: Counter,
}

static INSTRUMENTS: OnceLock<Instruments> = OnceLock::new();

/// Records one order's end (`event` names it: run id + `/end`).
pub(crate) fn order_ended(event: &str, task_queue: &str, outcome: &str, took: Duration, remakes: u32) {
    let Some(recorder) = ordo_core::metrics::first_record(event) else { return };
    let instruments = INSTRUMENTS.get_or_init(|| {
        let param = |name: &'static str, description: &'static str| {
            MetricParameters::builder().name(name).description(description).build()
        };
        Instruments {
            ended: recorder.meter().counter(param("ordo_orders_ended", "Orders over, by outcome")),
            time: recorder
                .meter()
                .histogram_duration(param(ORDER_TIME, "Order time from receipt to the end, by outcome")),
            remakes: recorder
                .meter()
                .counter(param("ordo_order_remakes", "Pizzas made again (overcooked, wrong order)")),
        }
    });
    let labels = recorder.attributes(&[("task_queue", task_queue), ("outcome", outcome)]);
    instruments.ended.add(1, &labels);
    instruments.time.record(took, &labels);
    if remakes > 0 {
        instruments.remakes.add(u64::from(remakes), &recorder.attributes(&[("task_queue", task_queue)]));
    }
}
