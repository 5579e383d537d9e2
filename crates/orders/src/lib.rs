//! Seed 002 (GopherPizza) on Ordo: pizza orders as durable workflows, with the seed's wire
//! contract so its own clients (Express API, Go SDK) work against Ordo's worker.
//!
//! # Wire contract
//! | what | name |
//! |---|---|
//! | workflow type | `PizzaWorkflow`, task queue `gopherpizza` |
//! | input | `PizzaOrderInfo {id, crust, cheese, toppings}` as `json/plain` (enums by name or number), `json/protobuf` or `binary/protobuf`; Ordo's optional `kitchen` knobs in JSON |
//! | query | `getOrderStatus` → `PizzaOrderStatus {status, order, runId}` as `json/protobuf`, `messageType gopherpizza.pizza.api.v1.PizzaOrderStatus`; `reason` on a rejected order |
//! | activities | `ValidateOrder`, `PreparePizza`, `BakePizza`, `Deliver` |
//! | statuses | `ORDER_RECEIVED` … `ORDER_DELIVERED`, and Ordo's `ORDER_REJECTED` (7) |
//! | search attribute | `orderStatus` (Keyword) = the status name, upserted at each step |
//! | workflow ids | the seed's `<id>--<uuid>` |
//!
//! # Layout
//! - [`model`]: the seed's messages and enums, the payload encodings, Ordo's kitchen knobs.
//! - [`policy`]: order checks, knob bounds and which failure mode strikes (pure).
//! - [`error`]: failure types and which are retried.
//! - [`activities`]: the kitchen (validate, prepare, bake, deliver).
//! - [`effects`]: the kitchen's effects, applied once per step and make (a marker file each).
//! - [`workflows`]: the `PizzaWorkflow` orchestration.
//! - [`metrics`]: orders ended by outcome, order time, remakes (Prometheus, once per order);
//!   `gauges`: orders by status, running, failed, p99 order time, from visibility.
//! - [`client`]: place, status (with a stale fallback from visibility), batch status, list, wait.
//! - [`stream`]: checkpoint 3's generator of random orders, and the tally of how orders ended.
//! - [`stats`]: orders by status, failed, order times and throughput, from visibility.
//! - [`chaos`]: checkpoint 2's controller (kills and restarts worker processes).
//! - [`domain`]: what a host needs to run it ([`OrdersArgs`] → [`ordo_core::Domain`]).

pub mod activities;
pub mod chaos;
pub mod client;
pub mod domain;
pub mod effects;
pub mod error;
mod gauges;
pub mod metrics;
pub mod model;
pub mod policy;
pub mod stats;
pub mod stream;
pub mod workflows;

pub use activities::{KitchenActivities, KitchenConfig};
pub use client::{OrderView, OrdersClient, OrdersError};
pub use domain::{OrdersArgs, OrdersDomain, SEARCH_ATTRIBUTES};
pub use model::{Cheese, Crust, Faults, Kitchen, OrderStatus, PizzaOrderInfo, PizzaOrderStatus};
pub use workflows::PizzaWorkflow;
