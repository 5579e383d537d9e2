//! One watcher per run, shared by every browser that follows it.
//!
//! The first subscriber to a run starts a task that reads the run's state (the `get_state` query,
//! or visibility when no worker answers) and broadcasts it whenever it changes. Later subscribers
//! join the same broadcast. The task stops when the run ends or when, at its next look, nobody is
//! subscribed any more; the map entry goes with it, under the same lock subscribers take, so a
//! subscriber never joins a watcher that is about to stop.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ordo_provision::client::{ProvisionClient, RunError, RunView};
use tokio::sync::broadcast;

/// What a watcher tells its subscribers.
#[derive(Debug, Clone)]
pub(crate) enum Frame {
    /// The run's state changed (or this is the first look).
    Run(Arc<RunView>),
    /// The run ended (or vanished); no more frames follow.
    End,
}

struct Watcher {
    frames: broadcast::Sender<Frame>,
    /// The last state sent, for subscribers that join between two changes.
    latest: Arc<Mutex<Option<Arc<RunView>>>>,
}

/// The watchers, by workflow id.
pub(crate) struct Hub {
    client: ProvisionClient,
    interval: Duration,
    watchers: Mutex<HashMap<String, Watcher>>,
}

impl Hub {
    pub(crate) fn new(client: ProvisionClient, interval: Duration) -> Self {
        Self { client, interval, watchers: Mutex::new(HashMap::new()) }
    }

    /// Subscribes to a run's changes, starting its watcher when it has none. Returns the last
    /// state the watcher saw (if any) and the stream of what follows.
    pub(crate) fn subscribe(self: &Arc<Self>, id: &str) -> (Option<Arc<RunView>>, broadcast::Receiver<Frame>) {
        let mut watchers = self.watchers.lock().expect("hub lock");
        if let Some(watcher) = watchers.get(id) {
            let receiver = watcher.frames.subscribe();
            return (watcher.latest.lock().expect("latest lock").clone(), receiver);
        }
        let (frames, receiver) = broadcast::channel(16);
        let latest = Arc::new(Mutex::new(None));
        watchers.insert(id.to_owned(), Watcher { frames: frames.clone(), latest: Arc::clone(&latest) });
        tracing::debug!(workflow_id = id, "watcher started");
        tokio::spawn(Arc::clone(self).watch(id.to_owned(), frames, latest));
        (None, receiver)
    }

    /// How many runs are being watched now.
    pub(crate) fn active(&self) -> usize {
        self.watchers.lock().expect("hub lock").len()
    }

    async fn watch(
        self: Arc<Self>,
        id: String,
        frames: broadcast::Sender<Frame>,
        latest: Arc<Mutex<Option<Arc<RunView>>>>,
    ) {
        let mut last: Option<serde_json::Value> = None;
        loop {
            if self.stop_if_unwatched(&id, &frames) {
                return;
            }
            match self.client.view(&id).await {
                Ok(view) => {
                    let ended = view.execution_status != "Running";
                    let snapshot = serde_json::to_value(&view).ok();
                    if snapshot != last {
                        last = snapshot;
                        let view = Arc::new(view);
                        // Set before sending: a subscriber that misses the send reads it here.
                        *latest.lock().expect("latest lock") = Some(Arc::clone(&view));
                        // No receivers is fine: the next look stops the watcher.
                        let _ = frames.send(Frame::Run(view));
                    }
                    if ended {
                        self.stop(&id, &frames);
                        return;
                    }
                }
                Err(RunError::NotFound(_)) => {
                    self.stop(&id, &frames);
                    return;
                }
                Err(err) => tracing::warn!(workflow_id = %id, error = %err, "watcher could not read the run; retrying"),
            }
            tokio::time::sleep(self.interval).await;
        }
    }

    fn stop_if_unwatched(&self, id: &str, frames: &broadcast::Sender<Frame>) -> bool {
        let mut watchers = self.watchers.lock().expect("hub lock");
        if frames.receiver_count() == 0 {
            watchers.remove(id);
            tracing::debug!(workflow_id = id, "watcher stopped: no subscribers");
            return true;
        }
        false
    }

    fn stop(&self, id: &str, frames: &broadcast::Sender<Frame>) {
        self.watchers.lock().expect("hub lock").remove(id);
        let _ = frames.send(Frame::End);
        tracing::debug!(workflow_id = id, "watcher stopped: the run ended");
    }
}
