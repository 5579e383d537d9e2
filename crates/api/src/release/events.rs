//! `GET /api/releases/{key}/events`: a release's board as server-sent events, from the release's
//! one shared watcher (the [`ReleaseWatch`] hub). Events: `release` (a `ReleaseView` as JSON,
//! sent whenever anything in it changes: a cell of the matrix, the environment, what awaits
//! approval, the approvals, the notes, the result) and `end` (the release finished; the stream
//! closes, and clients should not reconnect).

use std::convert::Infallible;

use axum::extract::{Path, State};
use axum::response::sse::{Event, Sse};
use axum::routing::get;
use axum::Router;
use futures::Stream;
use ordo_release::client::{ReleaseClient, ReleaseError, ReleaseView};

use super::routes::{check_key, ReleaseKey};
use crate::auth::User;
use crate::error::{ApiError, ErrorBody};
use crate::hub::Watch;
use crate::AppState;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/api/releases/{key}/events", get(release_events))
}

/// Follows a release's board live. Every subscriber of a release shares one watcher on the server.
#[utoipa::path(
    get, path = "/api/releases/{key}/events", tag = "releases",
    params(ReleaseKey),
    responses(
        (status = 200, description = "`text/event-stream` of `release` events (the release's view, as `GET /api/releases/{key}` returns it) and a final `end`", content_type = "text/event-stream", body = String),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
#[tracing::instrument(skip_all, fields(release_key = %key))]
pub(crate) async fn release_events(
    State(state): State<AppState>,
    _user: User,
    Path(key): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    check_key(&key)?;
    // Fails fast with a 404 for unknown releases, without waiting for a worker.
    state.domain::<ReleaseClient>()?.execution_status(&key).await?;
    Ok(state.hub::<ReleaseWatch>()?.events(&key, state.closing()))
}

/// Releases as the event hub watches them: the client's view, until the release is no longer
/// running.
pub(crate) struct ReleaseWatch(pub(crate) ReleaseClient);

impl Watch for ReleaseWatch {
    type View = ReleaseView;
    const EVENT: &'static str = "release";

    async fn look(&self, key: &str) -> anyhow::Result<Option<ReleaseView>> {
        match self.0.view(key).await {
            Ok(view) => Ok(Some(view)),
            Err(ReleaseError::NotFound(_)) => Ok(None),
            Err(err) => Err(err.into()),
        }
    }

    fn ended(view: &ReleaseView) -> bool {
        view.execution_status != "Running"
    }
}
