//! `GET /api/runs/{id}/events`: the run's state as server-sent events, from the run's one shared
//! watcher. Events: `run` (a `RunView` as JSON, sent whenever anything in it changes: status,
//! progress, plan, policy results, approval, outputs) and `end` (the run finished; the stream
//! closes, and clients should not reconnect).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use axum::Router;
use futures::{Stream, StreamExt as _};
use ordo_provision::client::RunView;
use tokio::sync::broadcast::{self, error::RecvError};

use super::params::check_id;
use super::runs::{describe, RunId};
use crate::auth::User;
use crate::error::{ApiError, ErrorBody};
use crate::hub::Frame;
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
pub(crate) async fn run_events(
    State(state): State<AppState>,
    _user: User,
    Path(id): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    check_id(&id)?;
    // Fails fast with a 404 for unknown ids, without waiting for a worker.
    describe(&state, &id).await?;
    let (latest, receiver) = state.hub().subscribe(&id);
    let stream = frames(latest, receiver).take_until(state.closing());
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

struct Cursor {
    queued: VecDeque<Frame>,
    receiver: broadcast::Receiver<Frame>,
    last_sent: Option<serde_json::Value>,
    done: bool,
}

/// The watcher's last state (if it had one) followed by everything it sends, without repeats.
fn frames(
    latest: Option<Arc<RunView>>,
    receiver: broadcast::Receiver<Frame>,
) -> impl Stream<Item = Result<Event, Infallible>> {
    let cursor =
        Cursor { queued: latest.map(Frame::Run).into_iter().collect(), receiver, last_sent: None, done: false };
    futures::stream::unfold(cursor, |mut cursor| async move {
        loop {
            if cursor.done {
                return None;
            }
            let frame = match cursor.queued.pop_front() {
                Some(frame) => frame,
                None => match cursor.receiver.recv().await {
                    Ok(frame) => frame,
                    // A slow reader skips intermediate states; the next frame is the newest.
                    Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => Frame::End,
                },
            };
            match frame {
                Frame::Run(view) => {
                    let json = serde_json::to_value(&*view).expect("a RunView serialises");
                    if cursor.last_sent.as_ref() == Some(&json) {
                        continue;
                    }
                    let event = Event::default().event("run").data(json.to_string());
                    cursor.last_sent = Some(json);
                    return Some((Ok(event), cursor));
                }
                Frame::End => {
                    cursor.done = true;
                    return Some((Ok(Event::default().event("end").data("{}")), cursor));
                }
            }
        }
    })
}
