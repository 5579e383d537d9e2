//! The background jobs an admin starts from the API: checkpoint 2's chaos controller and
//! checkpoint 3's stream of orders, each one at a time per API process. A [`Slot`] holds the
//! current (or last) job of one kind: its live status, how to stop it, and whether it ended.

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use futures::future::BoxFuture;
use futures::FutureExt as _;
use serde::Serialize;
use tokio::sync::{oneshot, watch};

use crate::error::ApiError;

/// A job's status as the API shows it: whether it still runs, and what it reported.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct JobView<S> {
    /// Still running.
    pub(crate) running: bool,
    /// What the job reported so far (its final report once it ended).
    #[serde(flatten)]
    pub(crate) status: S,
}

struct Job<S> {
    status: Arc<Mutex<S>>,
    stop: Option<oneshot::Sender<()>>,
    ended: watch::Receiver<bool>,
}

/// The current or last job of one kind.
pub(crate) struct Slot<S> {
    what: &'static str,
    job: Mutex<Option<Job<S>>>,
}

impl<S: Clone + Send + 'static> Slot<S> {
    /// An empty slot for jobs called `what` (in messages: "a chaos run").
    pub(crate) fn new(what: &'static str) -> Self {
        Self { what, job: Mutex::new(None) }
    }

    /// Starts `work(status, stop)` in the background with `status` as its first report, unless a
    /// job of this kind is running (409). `work` updates `status` as it goes and returns when
    /// `stop` resolves (asked by [`stop`](Self::stop), the slot dropped, or `closing`).
    pub(crate) fn start<F>(
        &self,
        status: S,
        closing: impl Future<Output = ()> + Send + 'static,
        work: impl FnOnce(Arc<Mutex<S>>, BoxFuture<'static, ()>) -> F,
    ) -> Result<JobView<S>, ApiError>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let mut job = self.job.lock().unwrap_or_else(PoisonError::into_inner);
        if job.as_ref().is_some_and(|job| !*job.ended.borrow()) {
            return Err(ApiError::Conflict(format!("{} is already running: stop it first", self.what)));
        }
        let status = Arc::new(Mutex::new(status));
        let (stop, stopped) = oneshot::channel::<()>();
        let stopped = async move {
            tokio::select! {
                _ = stopped => {}
                () = closing => {}
            }
        }
        .boxed();
        let (ended_tx, ended) = watch::channel(false);
        let running = work(Arc::clone(&status), stopped);
        tokio::spawn(async move {
            running.await;
            ended_tx.send_replace(true);
        });
        let view = JobView { running: true, status: status.lock().unwrap_or_else(PoisonError::into_inner).clone() };
        *job = Some(Job { status, stop: Some(stop), ended });
        Ok(view)
    }

    /// The current or last job's status; `None` when none was started.
    pub(crate) fn view(&self) -> Option<JobView<S>> {
        let job = self.job.lock().unwrap_or_else(PoisonError::into_inner);
        job.as_ref().map(|job| JobView {
            running: !*job.ended.borrow(),
            status: job.status.lock().unwrap_or_else(PoisonError::into_inner).clone(),
        })
    }

    /// Stops the running job and waits until it ended (its workers gone, say); its final view.
    /// 404 when no job was started.
    pub(crate) async fn stop(&self) -> Result<JobView<S>, ApiError> {
        let mut ended = {
            let mut job = self.job.lock().unwrap_or_else(PoisonError::into_inner);
            let Some(job) = job.as_mut() else {
                return Err(ApiError::NotFound(format!("no {} was started", self.what)));
            };
            if let Some(stop) = job.stop.take() {
                let _ = stop.send(());
            }
            job.ended.clone()
        };
        let _ = ended.wait_for(|ended| *ended).await;
        self.view().ok_or_else(|| ApiError::NotFound(format!("no {} was started", self.what)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One job at a time: a second start is a 409 until the first is stopped; the stopped job's
    /// last status stays readable.
    #[tokio::test]
    async fn one_job_at_a_time() {
        let slot = Slot::new("a test job");
        assert!(slot.view().is_none());
        let work = |status: Arc<Mutex<u32>>, stop: BoxFuture<'static, ()>| async move {
            *status.lock().unwrap() = 1;
            stop.await;
            *status.lock().unwrap() = 2;
        };
        assert!(slot.start(0, std::future::pending(), work).unwrap().running);
        assert!(matches!(slot.start(0, std::future::pending(), work), Err(ApiError::Conflict(_))));
        let end = slot.stop().await.unwrap();
        assert!(!end.running);
        assert_eq!(end.status, 2);
        assert!(slot.start(5, std::future::pending(), work).is_ok(), "a new job once the last ended");
        slot.stop().await.unwrap();
    }
}
