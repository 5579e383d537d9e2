//! Heartbeats for long IaC steps: liveness beats while init or plan runs, and apply / destroy
//! progress (the resource events so far) with the activity's cancellation forwarded to the driver.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use temporalio_sdk::activities::ActivityContext;
use tokio::sync::{mpsc, watch};

use crate::{ChangeSummary, IacError, Progress, ResourceEvent};

/// Result of `terraform_apply` / `terraform_destroy`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ChangeReport {
    /// Counts of what changed.
    pub changes: ChangeSummary,
    /// Resource-level events, in order.
    pub events: Vec<ResourceEvent>,
}

/// Heartbeat details of apply / destroy: the resource events so far.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ApplyHeartbeat {
    /// Events reported so far in this attempt.
    pub events: Vec<ResourceEvent>,
}

/// Runs a driver step that reports no progress (init, plan), heartbeating every second, so a
/// worker lost mid-step is noticed within the heartbeat timeout rather than the step's whole
/// start-to-close timeout. Cancellation is not forwarded: the step ends on its own.
pub async fn with_liveness_heartbeats<T>(ctx: &ActivityContext, step: impl std::future::Future<Output = T>) -> T {
    tokio::pin!(step);
    let mut ticker = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            result = &mut step => return result,
            _ = ticker.tick() => {
                let _ = ctx.record_heartbeat(()).await;
            }
        }
    }
}

/// Runs a long driver operation, heartbeating its resource events every second
/// ([`ApplyHeartbeat`]) and forwarding the activity's cancellation to the driver (which interrupts
/// the tool and lets it save state). The driver's error is returned as it is: each activity maps it
/// to its own failure types.
pub async fn run_with_heartbeats<F, Fut>(ctx: &ActivityContext, operation: F) -> Result<ChangeReport, IacError>
where
    F: FnOnce(Progress) -> Fut,
    Fut: std::future::Future<Output = Result<ChangeSummary, IacError>>,
{
    let (events_tx, mut events_rx) = mpsc::unbounded_channel();
    let (cancel_tx, cancel_rx) = watch::channel(false);
    let work = operation(Progress { events: events_tx, cancel: cancel_rx });
    tokio::pin!(work);
    let mut events = Vec::new();
    let mut ticker = tokio::time::interval(Duration::from_secs(1));
    let result = loop {
        tokio::select! {
            result = &mut work => break result,
            Some(event) = events_rx.recv() => events.push(event),
            _ = ctx.cancelled(), if !*cancel_tx.borrow() => {
                let _ = cancel_tx.send(true);
            }
            _ = ticker.tick() => {
                let _ = ctx.record_heartbeat(ApplyHeartbeat { events: events.clone() }).await;
            }
        }
    };
    while let Ok(event) = events_rx.try_recv() {
        events.push(event);
    }
    Ok(ChangeReport { changes: result?, events })
}
