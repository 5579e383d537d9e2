//! The meter domain series are recorded on, and the rule that each event is recorded once.
//!
//! Workflows record facts (a policy check ended, an approval gate closed) where they happen, and only
//! the first time: replaying history (after a restart or cache eviction) records nothing, and each
//! event has a key (run id, what, attempt) that this process records once — a worker without a cached
//! copy of a run answers a query by running the workflow over history its next task has yet to
//! process, which is not a replay but no new event either. Two workers can still both count an event
//! in that case (at least once, never zero).
//!
//! Shared here: `ordo_approval_wait`, the time any domain's approval gate stayed open, measured in
//! workflow time. Domains add their own instruments on [`Recorder::meter`].
//!
//! Nothing is recorded until [`install`] is called (the worker does when `--metrics-addr` is set).

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use temporalio_common::telemetry::metrics::{
    CoreMeter, HistogramDuration, MetricAttributes, MetricKeyValue, MetricParameters, NewAttributes,
};

/// Name of the approval-wait histogram (for bucket overrides).
pub const APPROVAL_WAIT: &str = "ordo_approval_wait";

/// Bucket boundaries of [`APPROVAL_WAIT`] in milliseconds: 1 s to 7 days. Approvals take minutes
/// to days, far beyond the SDK's latency buckets.
pub const APPROVAL_WAIT_BUCKETS_MS: [f64; 12] = [
    1_000.0,
    5_000.0,
    30_000.0,
    60_000.0,
    300_000.0,
    900_000.0,
    3_600_000.0,
    14_400_000.0,
    43_200_000.0,
    86_400_000.0,
    259_200_000.0,
    604_800_000.0,
];

/// How an approval gate ended, as the `outcome` label says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GateOutcome {
    /// A human approved.
    Approved,
    /// A human rejected.
    Rejected,
    /// The deadline passed without a decision.
    Expired,
    /// A re-plan was asked for while waiting.
    Replan,
    /// The run was cancelled while waiting.
    Cancelled,
}

impl GateOutcome {
    fn as_str(self) -> &'static str {
        match self {
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Expired => "expired",
            Self::Replan => "replan",
            Self::Cancelled => "cancelled",
        }
    }
}

/// The installed meter, the shared instruments and the keys of recent events.
pub struct Recorder {
    meter: Arc<dyn CoreMeter>,
    approval_wait: HistogramDuration,
    recent: Mutex<Recent>,
}

/// The keys of the events recorded lately, oldest first.
#[derive(Default)]
struct Recent {
    keys: HashSet<String>,
    order: VecDeque<String>,
}

/// How many event keys [`Recent`] remembers: far more than the events of runs in flight at once.
const RECENT_EVENTS: usize = 8192;

impl Recent {
    /// Remembers `key`; `false` when it was remembered already.
    fn first_time(&mut self, key: &str) -> bool {
        if self.keys.contains(key) {
            return false;
        }
        if self.order.len() == RECENT_EVENTS {
            if let Some(oldest) = self.order.pop_front() {
                self.keys.remove(&oldest);
            }
        }
        self.keys.insert(key.to_owned());
        self.order.push_back(key.to_owned());
        true
    }
}

static RECORDER: OnceLock<Recorder> = OnceLock::new();

/// Records domain series on `meter` from now on. The first call wins: a process has one metrics
/// endpoint.
pub fn install(meter: Arc<dyn CoreMeter>) {
    RECORDER.get_or_init(|| Recorder {
        approval_wait: meter.histogram_duration(
            MetricParameters::builder()
                .name(APPROVAL_WAIT)
                .description("Time runs waited for an approval decision, by outcome")
                .build(),
        ),
        recent: Mutex::default(),
        meter,
    });
}

/// The recorder, when installed and `event` (a key naming one event of one run) has not been
/// recorded by this process yet.
pub fn first_record(event: &str) -> Option<&'static Recorder> {
    let recorder = RECORDER.get()?;
    let mut recent = recorder.recent.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    recent.first_time(event).then_some(recorder)
}

impl Recorder {
    /// The meter, for a domain's own instruments.
    pub fn meter(&self) -> &Arc<dyn CoreMeter> {
        &self.meter
    }

    /// Metric attributes from `labels`.
    pub fn attributes(&self, labels: &[(&str, &str)]) -> MetricAttributes {
        let labels = labels.iter().map(|(k, v)| MetricKeyValue::new(*k, (*v).to_owned()));
        self.meter.new_attributes(NewAttributes::from(labels))
    }
}

/// Observes how long an approval gate (`event` names it) of `workflow_type` stayed open.
pub fn approval_waited(event: &str, task_queue: &str, workflow_type: &str, outcome: GateOutcome, waited: Duration) {
    let Some(recorder) = first_record(event) else { return };
    let labels = [("task_queue", task_queue), ("workflow_type", workflow_type), ("outcome", outcome.as_str())];
    recorder.approval_wait.record(waited, &recorder.attributes(&labels));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_is_recorded_once_and_old_keys_are_forgotten() {
        let mut recent = Recent::default();
        assert!(recent.first_time("run-1/policy/1"));
        assert!(!recent.first_time("run-1/policy/1"));
        assert!(recent.first_time("run-1/policy/2"));
        for i in 0..RECENT_EVENTS {
            recent.first_time(&format!("other/{i}"));
        }
        assert_eq!(recent.keys.len(), RECENT_EVENTS);
        assert!(recent.first_time("run-1/policy/1"), "forgotten after {RECENT_EVENTS} newer events");
    }
}
