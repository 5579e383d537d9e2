//! Orders pushed live as server-sent events, through the platform's watcher [`Hub`](crate::hub):
//! one order (`GET /api/orders/{id}/events`: `order` events, an `OrderView` each, until it is
//! over, then `end`) and the stats (`GET /api/orders/stats/events`: `stats` events, a
//! [`StatsView`] each, whenever a number changes). However many browsers follow an order or the
//! stats, one watcher per order (and one for the stats) reads Temporal.

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::sse::{Event, Sse};
use axum::routing::get;
use axum::Router;
use futures::Stream;
use ordo_orders::model::MAX_ID_LEN;
use ordo_orders::stats::OrderStats;
use ordo_orders::{OrderView, OrdersClient, OrdersError};
use serde::Serialize;

use super::control::{ChaosStatus, Controls, StreamStatus};
use super::jobs::JobView;
use crate::error::{ApiError, ErrorBody};
use crate::hub::Watch;
use crate::AppState;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/orders/stats/events", get(stats_events))
        .route("/api/orders/{id}/events", get(order_events))
}

/// The stats page's numbers: the orders' stats from visibility, and this API's chaos run and
/// stream, if one was started (workers alive, kills, injected failures, orders placed).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StatsView {
    #[serde(flatten)]
    stats: OrderStats,
    #[serde(skip_serializing_if = "Option::is_none")]
    chaos: Option<JobView<ChaosStatus>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream: Option<JobView<StreamStatus>>,
}

impl StatsView {
    /// Reads the stats now.
    pub(crate) async fn read(client: &OrdersClient, controls: &Controls) -> Result<Self, OrdersError> {
        Ok(Self { stats: client.stats().await?, chaos: controls.chaos.view(), stream: controls.stream.view() })
    }
}

/// Orders as the hub watches them: the client's view, until the order is over.
pub(crate) struct OrderWatch(pub(crate) OrdersClient);

impl Watch for OrderWatch {
    type View = OrderView;
    const EVENT: &'static str = "order";

    async fn look(&self, id: &str) -> anyhow::Result<Option<OrderView>> {
        match self.0.status(id).await {
            Ok(view) => Ok(Some(view)),
            Err(OrdersError::NotFound(_)) => Ok(None),
            Err(err) => Err(err.into()),
        }
    }

    fn ended(view: &OrderView) -> bool {
        view.execution_status != "Running"
    }
}

/// The stats as the hub watches them (one item, [`STATS`]), for as long as anyone follows them.
pub(crate) struct StatsWatch {
    pub(crate) client: OrdersClient,
    pub(crate) controls: Arc<Controls>,
}

/// The one id the stats watcher has.
const STATS: &str = "stats";

impl Watch for StatsWatch {
    type View = StatsView;
    const EVENT: &'static str = "stats";

    async fn look(&self, _: &str) -> anyhow::Result<Option<StatsView>> {
        Ok(Some(StatsView::read(&self.client, &self.controls).await?))
    }

    fn ended(_: &StatsView) -> bool {
        false
    }
}

/// Follows one order live: `order` events (an OrderView as JSON) whenever its status changes, and
/// a final `end` once it is over. Public, as the order's page is.
#[utoipa::path(
    get, path = "/api/orders/{id}/events", tag = "orders",
    params(("id" = String, Path, description = "The workflow id (`<id>--<uuid>`)")),
    responses(
        (status = 200, description = "`text/event-stream` of `order` events (an OrderView as JSON) and a final `end`", content_type = "text/event-stream", body = super::schema::OrdersEventDoc),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(workflow_id = %id))]
pub(crate) async fn order_events(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    if id.is_empty() || id.chars().count() > MAX_ID_LEN {
        return Err(ApiError::validation("id", format!("1..={MAX_ID_LEN} characters")));
    }
    // A 404 for unknown ids now, without waiting for a worker to answer.
    state.domain::<OrdersClient>()?.exists(&id).await?;
    Ok(state.hub::<OrderWatch>()?.events(&id, state.closing()))
}

/// Follows the stats live: a `stats` event (the `/api/orders/stats` answer) whenever a number
/// changes. It never ends by itself.
#[utoipa::path(
    get, path = "/api/orders/stats/events", tag = "orders",
    responses(
        (status = 200, description = "`text/event-stream` of `stats` events (the /api/orders/stats answer as JSON)", content_type = "text/event-stream", body = super::schema::OrdersEventDoc),
    )
)]
pub(crate) async fn stats_events(
    State(state): State<AppState>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    Ok(state.hub::<StatsWatch>()?.events(STATS, state.closing()))
}
