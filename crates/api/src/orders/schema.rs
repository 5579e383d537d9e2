//! OpenAPI schemas for seed 002's types the API returns as they are. Those live in
//! `ordo-orders`, which knows nothing of HTTP, so they are described here.
#![allow(dead_code)]

use std::collections::BTreeMap;

use utoipa::ToSchema;

/// The seed's `PizzaOrderInfo` (proto3-JSON; enums by name or number on input, names on output).
#[derive(ToSchema)]
#[schema(as = PizzaOrderInfo)]
pub(crate) struct PizzaOrderInfoDoc {
    /// The order's id; placing rewrites it to the workflow id `<id>--<uuid>`.
    #[schema(min_length = 1, max_length = 160)]
    id: String,
    /// `CRUST_NORMAL`, `CRUST_THIN`, `CRUST_GARLIC`, `CRUST_STUFFED`, `CRUST_GLUTEN_FREE`, `CRUST_PRETZEL` (or 0–5).
    crust: Option<String>,
    /// `CHEESE_MOZZARELLA`, `CHEESE_CHEDDAR`, `CHEESE_NONE`, `CHEESE_ALL` (or 0–3).
    cheese: Option<String>,
    /// At most 20 toppings of 1–60 characters (left out when there are none, as proto3-JSON does).
    #[schema(max_items = 20)]
    toppings: Option<Vec<String>>,
}

/// The seed's `PizzaOrderStatus` (the answer of `getOrderStatus`).
#[derive(ToSchema)]
#[schema(as = PizzaOrderStatus)]
#[allow(non_snake_case)]
pub(crate) struct PizzaOrderStatusDoc {
    /// `ORDER_RECEIVED` … `ORDER_DELIVERED`, Ordo's `ORDER_REJECTED`; `ORDER_UNKNOWN` only when the
    /// request named no order.
    status: String,
    /// The order.
    order: Option<PizzaOrderInfoDoc>,
    /// The run answering.
    runId: Option<String>,
    /// Why a rejected order was rejected.
    reason: Option<String>,
    /// True when no worker answered: `status` is the last one visibility knows (Ordo's addition).
    stale: Option<bool>,
}

/// What `/orderStatus` is sent: the seed's `PizzaOrderStatus`, read for its `order.id` only.
#[derive(ToSchema)]
#[schema(as = OrderStatusRequest)]
#[allow(dead_code)]
pub(crate) struct OrderStatusRequestDoc {
    /// Ignored, whatever it holds (the seed's client sends the status it last saw).
    status: Option<serde_json::Value>,
    /// The order whose status is asked for; none: `ORDER_UNKNOWN`.
    order: Option<OrderRefDoc>,
}

/// An order named by its id (other fields are read by nobody here).
#[derive(ToSchema)]
#[schema(as = OrderRef)]
#[allow(dead_code)]
pub(crate) struct OrderRefDoc {
    /// The order's workflow id.
    #[schema(min_length = 1, max_length = 160)]
    id: String,
}

/// An order as Ordo shows it.
#[derive(ToSchema)]
#[schema(as = OrderView)]
#[allow(non_snake_case)]
pub(crate) struct OrderViewDoc {
    /// The workflow id.
    workflowId: String,
    /// Temporal's execution status.
    executionStatus: String,
    /// The seed's answer.
    status: PizzaOrderStatusDoc,
    /// No worker answered: `status.status` comes from visibility.
    stale: bool,
}

/// One order of a batch status answer.
#[derive(ToSchema)]
#[schema(as = OrderSummary)]
#[allow(non_snake_case)]
pub(crate) struct OrderSummaryDoc {
    /// The workflow id.
    workflowId: String,
    /// The order's status; null when no order has this id.
    status: Option<String>,
    /// Temporal's execution status; null when no order has this id.
    executionStatus: Option<String>,
    /// Start time, RFC 3339.
    startedAt: Option<String>,
    /// Close time, RFC 3339.
    closedAt: Option<String>,
}

/// Orders by status, outcomes, order times and throughput.
#[derive(ToSchema)]
#[schema(as = OrderStats)]
#[allow(non_snake_case)]
pub(crate) struct OrderStatsDoc {
    /// Orders by `orderStatus`.
    byStatus: BTreeMap<String, u64>,
    /// In progress.
    running: u64,
    /// Delivered.
    delivered: u64,
    /// Rejected for a business reason.
    rejected: u64,
    /// Over without being delivered or rejected: must stay 0.
    failed: u64,
    /// Median order time, ms.
    p50Ms: Option<u64>,
    /// 99th percentile order time, ms.
    p99Ms: Option<u64>,
    /// Delivered orders per 10 s: `[bucket start ms, count]`, oldest first.
    throughput: Vec<Vec<u64>>,
    /// This API's chaos run, if one was started.
    chaos: Option<super::control::ChaosRunDoc>,
    /// This API's stream of orders, if one was started.
    stream: Option<super::control::OrderStreamDoc>,
}

/// One server-sent event of an orders stream, as a client reads it: its name and its data.
#[derive(ToSchema)]
#[schema(as = OrdersEvent)]
pub(crate) struct OrdersEventDoc {
    /// `order` (data: an OrderView), `stats` (data: the OrderStats answer) or `end` (data: `{}`).
    #[schema(pattern = "^(order|stats|end)$")]
    event: String,
    /// The event's data, JSON text.
    data: String,
}
