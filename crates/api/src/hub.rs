//! One watcher per followed item (a run, an order…), shared by every browser that follows it,
//! generic over what is watched: a domain says how to read one item's view and when it has ended
//! ([`Watch`]), and gets a [`Hub`] of watchers and a server-sent event stream ([`Hub::events`]).
//!
//! The first subscriber to an item starts a task that reads the item's view and broadcasts it
//! whenever it changes. Later subscribers join the same broadcast. The task stops when the item
//! ends or when, at its next look, nobody is subscribed any more; the map entry goes with it,
//! under the same lock subscribers take, so a subscriber never joins a watcher that is about to
//! stop.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::response::sse::{Event, KeepAlive, Sse};
use futures::{Stream, StreamExt as _};
use serde::Serialize;
use tokio::sync::broadcast::{self, error::RecvError};

/// What a domain watches, and how.
pub(crate) trait Watch: Send + Sync + 'static {
    /// One item's view, as sent to subscribers (as JSON).
    type View: Serialize + Send + Sync + 'static;
    /// The SSE event name of a view (`run`); the last event is always `end`.
    const EVENT: &'static str;
    /// Reads the item's current view: `Ok(None)` when the item is gone, `Err` when it could not be
    /// read this time (the watcher tries again at its next look).
    fn look(&self, id: &str) -> impl Future<Output = anyhow::Result<Option<Self::View>>> + Send;
    /// Whether `view` is the item's last (its watcher stops after sending it).
    fn ended(view: &Self::View) -> bool;
}

/// A hub, as counted by [`AppState::active_watchers`](crate::AppState::active_watchers).
pub(crate) trait Watched: Send + Sync {
    /// How many items are being watched now.
    fn active(&self) -> usize;
}

/// What a watcher tells its subscribers.
#[derive(Debug)]
pub(crate) enum Frame<V> {
    /// The item's view changed (or this is the first look).
    View(Arc<V>),
    /// The item ended (or vanished); no more frames follow.
    End,
}

// Derived `Clone` would ask for `V: Clone`; only the `Arc` is cloned.
impl<V> Clone for Frame<V> {
    fn clone(&self) -> Self {
        match self {
            Self::View(view) => Self::View(Arc::clone(view)),
            Self::End => Self::End,
        }
    }
}

struct Watcher<V> {
    frames: broadcast::Sender<Frame<V>>,
    /// The last view sent, for subscribers that join between two changes.
    latest: Arc<Mutex<Option<Arc<V>>>>,
}

/// The watchers of one kind of item, by id.
pub(crate) struct Hub<W: Watch> {
    watch: W,
    interval: Duration,
    watchers: Mutex<HashMap<String, Watcher<W::View>>>,
}

impl<W: Watch> Watched for Hub<W> {
    fn active(&self) -> usize {
        self.watchers.lock().expect("hub lock").len()
    }
}

impl<W: Watch> Hub<W> {
    /// Watchers reading through `watch` every `interval`.
    pub(crate) fn new(watch: W, interval: Duration) -> Self {
        Self { watch, interval, watchers: Mutex::new(HashMap::new()) }
    }

    /// The item's views as server-sent events: the watcher's last view (if it had one), then every
    /// change without repeats, then `end`; the stream also ends when `closing` resolves.
    pub(crate) fn events(
        self: &Arc<Self>,
        id: &str,
        closing: impl Future<Output = ()> + Send + 'static,
    ) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
        Sse::new(frames::<W>(self.subscribe(id)).take_until(closing)).keep_alive(KeepAlive::default())
    }

    /// Subscribes to an item's changes, starting its watcher when it has none: the last view the
    /// watcher saw (if any) is queued before what follows.
    fn subscribe(self: &Arc<Self>, id: &str) -> Cursor<W::View> {
        let mut watchers = self.watchers.lock().expect("hub lock");
        if let Some(watcher) = watchers.get(id) {
            let receiver = watcher.frames.subscribe();
            let latest = watcher.latest.lock().expect("latest lock").clone();
            return Cursor::new(latest, receiver);
        }
        let (frames, receiver) = broadcast::channel(16);
        let latest = Arc::new(Mutex::new(None));
        watchers.insert(id.to_owned(), Watcher { frames: frames.clone(), latest: Arc::clone(&latest) });
        tracing::debug!(id, "watcher started");
        tokio::spawn(Arc::clone(self).follow(id.to_owned(), frames, latest));
        Cursor::new(None, receiver)
    }

    async fn follow(
        self: Arc<Self>,
        id: String,
        frames: broadcast::Sender<Frame<W::View>>,
        latest: Arc<Mutex<Option<Arc<W::View>>>>,
    ) {
        let mut last: Option<serde_json::Value> = None;
        loop {
            if self.stop_if_unwatched(&id, &frames) {
                return;
            }
            match self.watch.look(&id).await {
                Ok(Some(view)) => {
                    let ended = W::ended(&view);
                    let snapshot = serde_json::to_value(&view).ok();
                    if snapshot != last {
                        last = snapshot;
                        let view = Arc::new(view);
                        // Set before sending: a subscriber that misses the send reads it here.
                        *latest.lock().expect("latest lock") = Some(Arc::clone(&view));
                        // No receivers is fine: the next look stops the watcher.
                        let _ = frames.send(Frame::View(view));
                    }
                    if ended {
                        self.stop(&id, &frames);
                        return;
                    }
                }
                Ok(None) => {
                    self.stop(&id, &frames);
                    return;
                }
                Err(err) => {
                    tracing::warn!(id = %id, error = %format!("{err:#}"), "watcher could not read the item; retrying")
                }
            }
            tokio::time::sleep(self.interval).await;
        }
    }

    fn stop_if_unwatched(&self, id: &str, frames: &broadcast::Sender<Frame<W::View>>) -> bool {
        let mut watchers = self.watchers.lock().expect("hub lock");
        if frames.receiver_count() == 0 {
            watchers.remove(id);
            tracing::debug!(id, "watcher stopped: no subscribers");
            return true;
        }
        false
    }

    fn stop(&self, id: &str, frames: &broadcast::Sender<Frame<W::View>>) {
        self.watchers.lock().expect("hub lock").remove(id);
        let _ = frames.send(Frame::End);
        tracing::debug!(id, "watcher stopped: the item ended");
    }
}

/// One subscriber's place in an item's frames.
struct Cursor<V> {
    queued: VecDeque<Frame<V>>,
    receiver: broadcast::Receiver<Frame<V>>,
    last_sent: Option<serde_json::Value>,
    done: bool,
}

impl<V> Cursor<V> {
    fn new(latest: Option<Arc<V>>, receiver: broadcast::Receiver<Frame<V>>) -> Self {
        Self { queued: latest.map(Frame::View).into_iter().collect(), receiver, last_sent: None, done: false }
    }
}

/// The watcher's last view (if it had one) followed by everything it sends, without repeats.
fn frames<W: Watch>(cursor: Cursor<W::View>) -> impl Stream<Item = Result<Event, Infallible>> {
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
                Frame::View(view) => {
                    let json = serde_json::to_value(&*view).expect("a view serialises");
                    if cursor.last_sent.as_ref() == Some(&json) {
                        continue;
                    }
                    let event = Event::default().event(W::EVENT).data(json.to_string());
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
