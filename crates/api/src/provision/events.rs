//! `GET /api/runs/{id}/events`: the run's state as server-sent events, from the run's one shared
//! watcher (the [`RunWatch`] hub). Events: `run` (a `RunView` as JSON, sent whenever anything in
//! it changes: status, progress, plan, policy results, approval, outputs) and `end` (the run
//! finished; the stream closes, and clients should not reconnect).

use std::convert::Infallible;

use axum::extract::{Path, State};
use axum::response::sse::{Event, Sse};
use axum::routing::get;
use axum::Router;
use futures::Stream;
use ordo_provision::client::ProvisionClient;

use super::runs::RunId;
use super::RunWatch;
use crate::auth::User;
use crate::error::{ApiError, ErrorBody};
use crate::params::check_id;
use crate::AppState;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/api/runs/{id}/events", get(run_events))
}

/// Follows a run live. Every subscriber of a run shares one watcher on the server.
#[utoipa::path(
    get, path = "/api/runs/{id}/events", tag = "runs",
    params(RunId),
    responses(
        (status = 200, description = "`text/event-stream` of `run` events (a RunView as JSON) and a final `end`", content_type = "text/event-stream", body = String),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
#[tracing::instrument(skip_all, fields(workflow_id = %id))]
pub(crate) async fn run_events(
    State(state): State<AppState>,
    _user: User,
    Path(id): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    check_id(&id)?;
    // Fails fast with a 404 for unknown ids, without waiting for a worker.
    state.domain::<ProvisionClient>()?.describe(&id).await?;
    Ok(state.hub::<RunWatch>()?.events(&id, state.closing()))
}
