//! Seed 002's pizza orders over HTTP: the seed's own routes (`POST /orderPizza`,
//! `POST /orderStatus`, its JSON shapes and workflow-id scheme, so its Flutter app works against
//! Ordo) and Ordo's (`/api/orders…`: place, show, batch status from one visibility call, stats).
//! Placing an order and reading its status are public, as in the seed (a pizza shop's customers
//! do not sign in), and bounded: body size, toppings count and length, and a rate per client.
//!
//! # Layout
//! - `routes`: the routes; `limit`: the per-client rate limit on placing; `schema`: OpenAPI schemas of `ordo-orders`' types; `error`:
//!   `OrdersError` as HTTP statuses.
//!
//! Handlers reach the client with `state.domain::<OrdersClient>()`, registered by the host with
//! `AppState::builder(..).with(orders_client)`.

mod error;
mod limit;
mod routes;
mod schema;

use ordo_orders::OrdersClient;
use utoipa::OpenApi;

use crate::state::Hosted;
use crate::Domain;

/// The orders' part of the API.
pub(crate) const DOMAIN: Domain = Domain { router: routes::router, openapi: Doc::openapi };

#[derive(OpenApi)]
#[openapi(
    paths(
        routes::order_pizza,
        routes::order_status,
        routes::place_order,
        routes::show_order,
        routes::batch_status,
        routes::order_stats,
    ),
    tags((name = "orders", description = "Seed 002's pizza orders: place, follow, batch status, stats"))
)]
struct Doc;

/// Nothing to wire: orders have no event stream (yet).
impl Hosted for OrdersClient {}
