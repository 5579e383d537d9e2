//! Idle-run eviction: a worker keeps in memory only the workflows that worked recently.
//!
//! The SDK's sticky cache is a count (`--max-cached-workflows`): a run that waits for a human
//! stays cached as long as a busy one, so 1,000 runs parked at an approval gate hold ~140 MiB of
//! the worker. [`IdleRuns`] watches every activation of a worker's workflows and asks Temporal
//! core to evict a run that has had none for `--evict-idle-after` seconds
//! (`request_workflow_eviction`, the core's own request). The run loses nothing: its next task
//! (the approval, a timer, an activity's result) replays its history, as after any eviction. A run
//! in the middle of an activation, or with a local activity in flight (core would cancel it on
//! eviction), is never asked for; one that gets a task while its eviction is on the way finishes it
//! first (core evicts after the outstanding task, as for a full cache).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

use temporalio_common::protos::coresdk::workflow_activation::{workflow_activation_job, WorkflowActivation};
use temporalio_common::protos::coresdk::workflow_commands::workflow_command;
use temporalio_common::protos::coresdk::workflow_completion::{
    workflow_activation_completion, WorkflowActivationCompletion,
};
use temporalio_sdk::interceptors::WorkerInterceptor;
use temporalio_sdk_core::Worker as CoreWorker;

/// What one cached run is doing.
#[derive(Debug, Default)]
struct Run {
    /// When its last activation completed; `None` while one is being worked on.
    idle_since: Option<Instant>,
    /// Its local activities in flight (their sequence numbers).
    local_activities: HashSet<u32>,
}

impl Run {
    fn idle_for(&self, after: Duration, now: Instant) -> bool {
        self.local_activities.is_empty()
            && self.idle_since.is_some_and(|since| now.saturating_duration_since(since) >= after)
    }
}

/// The runs a worker has cached, as its activations show them.
#[derive(Debug, Default)]
pub(crate) struct IdleRuns {
    runs: Mutex<HashMap<String, Run>>,
}

impl IdleRuns {
    fn with_runs<R>(&self, f: impl FnOnce(&mut HashMap<String, Run>) -> R) -> R {
        f(&mut self.runs.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Takes out of the watch, and returns, the runs idle for `after` or longer at `now`.
    pub(crate) fn take_idle(&self, after: Duration, now: Instant) -> Vec<String> {
        self.with_runs(|runs| {
            let idle: Vec<String> =
                runs.iter().filter(|(_, run)| run.idle_for(after, now)).map(|(id, _)| id.clone()).collect();
            for id in &idle {
                runs.remove(id);
            }
            idle
        })
    }

    /// How many runs are watched (cached and not yet asked to leave).
    pub(crate) fn len(&self) -> usize {
        self.with_runs(|runs| runs.len())
    }

    /// An activation of `run_id` starts: an eviction (it leaves the cache), or work that resolves
    /// the activities `resolved`.
    fn activated(&self, run_id: &str, eviction: bool, resolved: impl IntoIterator<Item = u32>) {
        self.with_runs(|runs| {
            if eviction {
                runs.remove(run_id);
                return;
            }
            let run = runs.entry(run_id.to_owned()).or_default();
            run.idle_since = None;
            for seq in resolved {
                run.local_activities.remove(&seq);
            }
        });
    }

    /// An activation of `run_id` is complete, having scheduled the local activities `scheduled`.
    fn completed(&self, run_id: &str, now: Instant, scheduled: impl IntoIterator<Item = u32>) {
        self.with_runs(|runs| {
            if let Some(run) = runs.get_mut(run_id) {
                run.idle_since = Some(now);
                run.local_activities.extend(scheduled);
            }
        });
    }
}

/// The interceptor that feeds an [`IdleRuns`] (registered on each workflow worker).
#[derive(Debug, Clone)]
pub(crate) struct Watch(pub(crate) Arc<IdleRuns>);

#[async_trait::async_trait(?Send)]
impl WorkerInterceptor for Watch {
    async fn on_workflow_activation(&self, activation: &WorkflowActivation) -> Result<(), anyhow::Error> {
        let resolved = activation.jobs.iter().filter_map(|job| match &job.variant {
            Some(workflow_activation_job::Variant::ResolveActivity(resolve)) => Some(resolve.seq),
            _ => None,
        });
        self.0.activated(&activation.run_id, activation.eviction_reason().is_some(), resolved);
        Ok(())
    }

    async fn on_workflow_activation_completion(&self, completion: &WorkflowActivationCompletion) {
        let commands = match &completion.status {
            Some(workflow_activation_completion::Status::Successful(success)) => success.commands.as_slice(),
            _ => &[],
        };
        let scheduled = commands.iter().filter_map(|command| match &command.variant {
            Some(workflow_command::Variant::ScheduleLocalActivity(schedule)) => Some(schedule.seq),
            _ => None,
        });
        self.0.completed(&completion.run_id, Instant::now(), scheduled);
    }
}

/// Asks `core` to evict every run of `runs` idle for `after`, checking every `after / 2` (at least
/// every second), until the core worker is gone.
pub(crate) async fn evict_idle(core: Weak<CoreWorker>, runs: Arc<IdleRuns>, after: Duration) {
    let mut tick = tokio::time::interval((after / 2).clamp(Duration::from_millis(100), Duration::from_secs(1)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let idle = runs.take_idle(after, Instant::now());
        if idle.is_empty() {
            continue;
        }
        let Some(core) = core.upgrade() else { return };
        for run_id in &idle {
            core.request_workflow_eviction(run_id);
        }
        tracing::debug!(evicted = idle.len(), cached = runs.len(), "evicted idle workflow runs");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_runs_idle_long_enough_are_taken_and_only_once() {
        let runs = IdleRuns::default();
        let start = Instant::now();
        runs.activated("parked", false, []);
        runs.completed("parked", start, []);
        runs.activated("busy", false, []);
        runs.activated("recent", false, []);
        runs.completed("recent", start + Duration::from_secs(4), []);

        let after = Duration::from_secs(5);
        assert_eq!(runs.take_idle(after, start + Duration::from_secs(5)), vec!["parked".to_owned()]);
        assert!(runs.take_idle(after, start + Duration::from_secs(5)).is_empty(), "asked once");
        assert_eq!(runs.take_idle(after, start + Duration::from_secs(9)), vec!["recent".to_owned()]);
        assert!(runs.take_idle(after, start + Duration::from_secs(3600)).is_empty(), "a run in a task is never taken");
        assert_eq!(runs.len(), 1);
    }

    #[test]
    fn an_eviction_forgets_the_run_and_a_late_completion_does_not_bring_it_back() {
        let runs = IdleRuns::default();
        let start = Instant::now();
        runs.activated("run", false, []);
        runs.completed("run", start, []);
        runs.activated("run", true, []);
        runs.completed("run", start, []);
        assert_eq!(runs.len(), 0);
        assert!(runs.take_idle(Duration::ZERO, start + Duration::from_secs(60)).is_empty());
    }

    #[test]
    fn a_run_waiting_on_a_local_activity_stays_until_it_is_resolved() {
        let runs = IdleRuns::default();
        let start = Instant::now();
        let late = start + Duration::from_secs(60);
        runs.activated("run", false, []);
        runs.completed("run", start, [1, 2]);
        assert!(runs.take_idle(Duration::from_secs(5), late).is_empty(), "core would cancel them");
        runs.activated("run", false, [1]);
        runs.completed("run", start, []);
        assert!(runs.take_idle(Duration::from_secs(5), late).is_empty(), "one is still in flight");
        runs.activated("run", false, [2]);
        runs.completed("run", start, []);
        assert_eq!(runs.take_idle(Duration::from_secs(5), late), vec!["run".to_owned()]);
    }
}
