//! Seed 002's pizza orders over HTTP: the seed's own routes (`POST /orderPizza`,
//! `POST /orderStatus`, its JSON shapes and workflow-id scheme, so its Flutter app works against
//! Ordo) and Ordo's (`/api/orders…`: place, show, batch status from one visibility call, stats,
//! one order and the stats as server-sent events, and the admin's chaos and stream controls).
//! Placing an order and reading its status are public, as in the seed (a pizza shop's customers
//! do not sign in), and bounded: body size, toppings count and length, and a rate per client.
//!
//! # Layout
//! - `routes`: the routes; `limit`: the per-client rate limit on placing; `schema`: OpenAPI schemas of `ordo-orders`' types; `error`:
//!   `OrdersError` as HTTP statuses.
//! - `live`: an order and the stats as server-sent events, through the platform's watcher hub.
//! - `control`: the admin's chaos controller and stream of orders, run in the background by this
//!   process (`jobs`: one job of each kind at a time).
//!
//! Handlers reach the client with `state.domain::<OrdersClient>()`, registered by the host with
//! `AppState::builder(..).with(orders_client)`; the chaos controller needs the host's worker
//! launcher too (`.with(ordo_orders::chaos::Launcher)`), else its routes answer 500.

mod control;
mod error;
mod jobs;
mod limit;
mod live;
mod routes;
mod schema;

use std::sync::Arc;

use ordo_orders::chaos::Launcher;
use ordo_orders::OrdersClient;
use utoipa::OpenApi;

use crate::state::{Hosted, Wiring};
use crate::Domain;

/// The orders' part of the API.
pub(crate) const DOMAIN: Domain = Domain { router, openapi: Doc::openapi };

fn router() -> axum::Router<crate::AppState> {
    routes::router().merge(live::router()).merge(control::router())
}

#[derive(OpenApi)]
#[openapi(
    paths(
        routes::order_pizza,
        routes::order_status,
        routes::place_order,
        routes::show_order,
        routes::batch_status,
        routes::order_stats,
        routes::menu,
        live::order_events,
        live::stats_events,
        control::start_chaos,
        control::chaos_status,
        control::stop_chaos,
        control::start_stream,
        control::stream_status,
        control::stop_stream,
    ),
    tags((name = "orders", description = "Seed 002's pizza orders: place, follow, batch status, stats"))
)]
struct Doc;

/// Orders share a watcher hub per order, one for the stats, and the admin's background jobs.
impl Hosted for OrdersClient {
    fn wire(&self, wiring: &mut Wiring<'_>) {
        let controls = Arc::new(control::Controls::default());
        wiring.hub(live::OrderWatch(self.clone()));
        wiring.hub(live::StatsWatch { client: self.clone(), controls: Arc::clone(&controls) });
        wiring.share(controls);
    }
}

/// How the chaos controller starts workers (registered by a host that can start them).
impl Hosted for Launcher {}
