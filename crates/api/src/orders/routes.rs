//! Seed 002's routes and Ordo's `/api/orders…`. The seed's answer always 200 with its shapes
//! (`/orderStatus` never says `ORDER_UNKNOWN` of an order that exists: with no worker it answers
//! the last status visibility knows, marked `stale`); Ordo's routes use the platform's statuses.
//! Placing and reading are public, as in the seed; the `kitchen` knobs (durations, failure rates)
//! only for a signed-in admin.

use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::header::LOCATION;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use ordo_orders::client::{OrderSummary, MAX_BATCH};
use ordo_orders::model::{parse_order_json, MAX_ID_LEN};
use ordo_orders::{OrderStatus, OrderView, OrdersClient, PizzaOrderInfo, PizzaOrderStatus};
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::live::StatsView;
use super::schema::{
    OrderStatsDoc, OrderStatusRequestDoc, OrderSummaryDoc, OrderViewDoc, PizzaOrderInfoDoc, PizzaOrderStatusDoc,
};
use crate::auth::{Role, User};
use crate::error::{ApiError, ErrorBody};
use crate::extract::ApiJson;
use crate::AppState;

/// Largest body accepted: an order is well under 2 KiB; 1,000 ids of 200 characters fit.
const MAX_BODY: usize = 256 * 1024;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/orderPizza", post(order_pizza))
        .route("/orderStatus", post(order_status))
        .route("/api/orders", post(place_order))
        .route("/api/orders/status", post(batch_status))
        .route("/api/orders/stats", get(order_stats))
        .route("/api/orders/menu", get(menu))
        .route("/api/orders/{id}", get(show_order))
        .layer(DefaultBodyLimit::max(MAX_BODY))
}

/// The client placing an order (for the rate limit).
pub(crate) struct Client(Option<std::net::IpAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Client(super::limit::client_of(parts)))
    }
}

/// 429 when `client` placed too many orders lately.
fn limited(client: &Client) -> Option<Response> {
    if super::limit::admit(client.0) {
        return None;
    }
    let body = ErrorBody {
        error: "too_many_requests".into(),
        field: None,
        reason: format!(
            "too many orders from this client: at most {} at once and {} a second",
            super::limit::BURST,
            super::limit::PER_SECOND
        ),
    };
    Some((StatusCode::TOO_MANY_REQUESTS, [(axum::http::header::RETRY_AFTER, "1")], Json(body)).into_response())
}

/// Reads an order body; `kitchen` knobs only from a signed-in admin.
fn read_order(
    body: &Value,
    user: &Result<User, ApiError>,
) -> Result<(PizzaOrderInfo, Option<ordo_orders::Kitchen>), ApiError> {
    let request = parse_order_json(body)?;
    if request.kitchen.is_some() && !matches!(user, Ok(u) if u.role == Role::Admin) {
        return Err(ApiError::validation("kitchen", "the kitchen knobs are for a signed-in admin"));
    }
    Ok((request.order, request.kitchen))
}

/// Places an order (the seed's `/orderPizza`): the workflow id is `<id>--<uuid>` and `order.id`
/// is rewritten to it; answers `{status: ORDER_RECEIVED, order, runId}`.
#[utoipa::path(
    post, path = "/orderPizza", tag = "orders",
    request_body = PizzaOrderInfoDoc,
    responses(
        (status = 200, description = "Placed", body = PizzaOrderStatusDoc),
        (status = 400, body = ErrorBody), (status = 413, description = "Body too large"), (status = 415, body = ErrorBody),
        (status = 422, description = "A field is missing or wrong; `field` names it", body = ErrorBody),
        (status = 429, description = "Too many orders from this client", body = ErrorBody),
    )
)]
pub(crate) async fn order_pizza(
    State(state): State<AppState>,
    client: Client,
    user: Result<User, ApiError>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, Response> {
    let placed = place(&state, &client, &user, &body).await?;
    tracing::info!(workflow_id = %placed.order.id, "order placed");
    Ok(Json(placed).into_response())
}

/// What both placing routes do: read the order (the `kitchen` knobs only from an admin), take a
/// token of the client's rate limit (the 429 otherwise), place it.
async fn place(
    state: &AppState,
    client: &Client,
    user: &Result<User, ApiError>,
    body: &Value,
) -> Result<PizzaOrderStatus, Response> {
    let (order, kitchen) = read_order(body, user).map_err(IntoResponse::into_response)?;
    if let Some(refusal) = limited(client) {
        return Err(refusal);
    }
    let orders = state.domain::<OrdersClient>().map_err(IntoResponse::into_response)?;
    orders.place(&order, kitchen).await.map_err(|e| ApiError::from(e).into_response())
}

/// The seed's status request: `{status, order: {id, …}, runId}`.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct StatusRequest {
    /// The order, as `/orderPizza` answered it (only its id is read).
    #[serde(default)]
    order: Option<Value>,
}

/// An order's status (the seed's `/orderStatus`): the live query, or the last status visibility
/// knows with `stale: true`. A request without `order` gets exactly `{"status": "ORDER_UNKNOWN"}`,
/// as from the seed.
#[utoipa::path(
    post, path = "/orderStatus", tag = "orders",
    request_body = OrderStatusRequestDoc,
    responses(
        (status = 200, description = "The order's status; ORDER_UNKNOWN (the request echoed) when no order has this id", body = PizzaOrderStatusDoc),
        (status = 400, body = ErrorBody), (status = 413, description = "Body too large"), (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub(crate) async fn order_status(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<StatusRequest>,
) -> Result<Json<Value>, ApiError> {
    let Some(order) = body.order else {
        return Ok(Json(serde_json::json!({"status": OrderStatus::Unknown.as_str()})));
    };
    let id = match order.get("id") {
        Some(Value::String(id)) if !id.is_empty() && id.chars().count() <= MAX_ID_LEN => id.clone(),
        _ => return Err(ApiError::validation("order.id", format!("1..={MAX_ID_LEN} characters"))),
    };
    let view = match state.domain::<OrdersClient>()?.status(&id).await {
        Ok(view) => view,
        // As the seed's API: an order that does not exist is echoed back, ORDER_UNKNOWN, 200.
        Err(ordo_orders::OrdersError::NotFound(_)) => {
            return Ok(Json(
                serde_json::json!({"status": OrderStatus::Unknown.as_str(), "order": echoed(&id, &order)}),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    let mut answer = serde_json::to_value(&view.status).map_err(|e| ApiError::Internal(e.into()))?;
    if view.stale {
        answer["stale"] = Value::Bool(true);
    }
    Ok(Json(answer))
}

/// Places an order (Ordo's route): 201 with the order's page in `Location`.
#[utoipa::path(
    post, path = "/api/orders", tag = "orders",
    request_body = PizzaOrderInfoDoc,
    responses(
        (status = 201, body = PizzaOrderStatusDoc),
        (status = 400, body = ErrorBody), (status = 413, description = "Body too large"), (status = 415, body = ErrorBody),
        (status = 422, description = "A field is missing or wrong; `field` names it", body = ErrorBody),
        (status = 429, description = "Too many orders from this client", body = ErrorBody),
    )
)]
pub(crate) async fn place_order(
    State(state): State<AppState>,
    client: Client,
    user: Result<User, ApiError>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, Response> {
    let placed = place(&state, &client, &user, &body).await?;
    let location = format!("/api/orders/{}", placed.order.id);
    Ok((StatusCode::CREATED, [(LOCATION, location)], Json(placed)).into_response())
}

/// One order: the live query, or visibility's last status marked stale.
#[utoipa::path(
    get, path = "/api/orders/{id}", tag = "orders",
    params(("id" = String, Path, description = "The workflow id (`<id>--<uuid>`)")),
    responses((status = 200, body = OrderViewDoc), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub(crate) async fn show_order(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<OrderView>, ApiError> {
    if id.is_empty() || id.chars().count() > MAX_ID_LEN {
        return Err(ApiError::validation("id", format!("1..={MAX_ID_LEN} characters")));
    }
    Ok(Json(state.domain::<OrdersClient>()?.status(&id).await?))
}

/// A batch status request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct BatchRequest {
    /// Workflow ids, at most 1,000.
    #[schema(max_items = 1000)]
    ids: Vec<String>,
}

/// The status of up to 1,000 orders from one visibility list call (not one query each), in the
/// order asked; unknown ids come back with `status: null`.
#[utoipa::path(
    post, path = "/api/orders/status", tag = "orders",
    request_body = BatchRequest,
    responses(
        (status = 200, body = Vec<OrderSummaryDoc>),
        (status = 400, body = ErrorBody), (status = 413, description = "Body too large"), (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub(crate) async fn batch_status(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<BatchRequest>,
) -> Result<Json<Vec<OrderSummary>>, ApiError> {
    if body.ids.len() > MAX_BATCH {
        return Err(ApiError::validation("ids", format!("at most {MAX_BATCH} ids, not {}", body.ids.len())));
    }
    Ok(Json(state.domain::<OrdersClient>()?.batch_status(&body.ids).await?))
}

/// Orders by status, delivered, rejected, failed (must stay 0), order time p50/p99, throughput;
/// and this API's chaos run and stream, if one was started.
#[utoipa::path(
    get, path = "/api/orders/stats", tag = "orders",
    responses((status = 200, body = OrderStatsDoc))
)]
pub(crate) async fn order_stats(State(state): State<AppState>) -> Result<Json<StatsView>, ApiError> {
    let controls = state.domain::<std::sync::Arc<super::control::Controls>>()?;
    Ok(Json(StatsView::read(state.domain::<OrdersClient>()?, controls).await?))
}

/// What an order may hold (the order form's choices).
#[derive(Debug, serde::Serialize, ToSchema)]
pub(crate) struct Menu {
    /// Crusts, by the seed's enum names.
    crusts: Vec<&'static str>,
    /// Cheeses, by the seed's enum names.
    cheeses: Vec<&'static str>,
    /// Toppings to choose from (any topping of 1–60 characters is accepted).
    toppings: &'static [&'static str],
}

/// The crusts, cheeses and toppings the order form offers.
#[utoipa::path(get, path = "/api/orders/menu", tag = "orders", responses((status = 200, body = Menu)))]
pub(crate) async fn menu() -> Json<Menu> {
    Json(Menu {
        crusts: ordo_orders::Crust::ALL.iter().map(|c| c.as_str()).collect(),
        cheeses: ordo_orders::Cheese::ALL.iter().map(|c| c.as_str()).collect(),
        toppings: ordo_orders::stream::TOPPINGS,
    })
}

/// The order of a `/orderStatus` request as the seed's API echoed it for an unknown order: read
/// into its typed `PizzaOrderInfo`, so only the fields that type has, of the types it has.
fn echoed(id: &str, order: &Value) -> Value {
    let text = |field: &str| order.get(field).filter(|v| v.is_string()).cloned();
    let toppings: Vec<Value> = order
        .get("toppings")
        .and_then(Value::as_array)
        .map(|all| all.iter().filter(|t| t.is_string()).take(20).cloned().collect())
        .unwrap_or_default();
    // proto3-JSON, as the seed's API wrote it: empty fields are left out.
    let mut echo = serde_json::json!({ "id": id });
    if !toppings.is_empty() {
        echo["toppings"] = Value::Array(toppings);
    }
    for field in ["crust", "cheese"] {
        if let Some(value) = text(field) {
            echo[field] = value;
        }
    }
    echo
}
