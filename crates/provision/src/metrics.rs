//! Domain metrics recorded where the facts happen, on the worker's Prometheus meter:
//!
//! | series | labels | meaning |
//! |---|---|---|
//! | `ordo_policy_checks` | `task_queue`, `verdict` | policy checks by verdict (`pass`, `needs_approval`, `hard_fail`) |
//! | `ordo_policy_results` | `task_queue`, `level`, `policy` | policy messages by enforcement level and package |
//! | `ordo_approval_wait` | `task_queue`, `workflow_type`, `outcome` | time a run waited for its decision, ms |
//!
//! The workflows record these when a policy check or an approval gate ends, and only when that
//! happens for the first time: replaying history (after a restart or cache eviction) records
//! nothing, so each check and each wait is counted once. The wait is measured in workflow time,
//! from the gate opening to the activation that closed it.
//!
//! Nothing is recorded until [`install`] is called (the worker does when `--metrics-addr` is set).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use temporalio_common::telemetry::metrics::{
    CoreMeter, Counter, HistogramDuration, MetricKeyValue, MetricParameters, NewAttributes,
};

use crate::policy::{PolicyResult, Verdict};

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

struct Instruments {
    meter: Arc<dyn CoreMeter>,
    policy_checks: Counter,
    policy_results: Counter,
    approval_wait: HistogramDuration,
}

static INSTRUMENTS: OnceLock<Instruments> = OnceLock::new();

/// Records the domain series on `meter` from now on. The first call wins: a process has one
/// metrics endpoint.
pub fn install(meter: Arc<dyn CoreMeter>) {
    INSTRUMENTS.get_or_init(|| {
        let param = |name: &'static str, description: &'static str| {
            MetricParameters::builder().name(name).description(description).build()
        };
        Instruments {
            policy_checks: meter.counter(param("ordo_policy_checks", "Policy checks by verdict")),
            policy_results: meter
                .counter(param("ordo_policy_results", "Policy messages by enforcement level and policy package")),
            approval_wait: meter
                .histogram_duration(param(APPROVAL_WAIT, "Time runs waited for an approval decision, by outcome")),
            meter,
        }
    });
}

impl Instruments {
    fn attributes(&self, labels: &[(&str, &str)]) -> temporalio_common::telemetry::metrics::MetricAttributes {
        let labels = labels.iter().map(|(k, v)| MetricKeyValue::new(*k, (*v).to_owned()));
        self.meter.new_attributes(NewAttributes::from(labels))
    }
}

/// Counts one policy check and each of its messages.
pub(crate) fn policy_checked(task_queue: &str, results: &[PolicyResult], verdict: Verdict) {
    let Some(instruments) = INSTRUMENTS.get() else { return };
    let verdict = match verdict {
        Verdict::Pass => "pass",
        Verdict::NeedsApproval => "needs_approval",
        Verdict::HardFail => "hard_fail",
    };
    instruments.policy_checks.add(1, &instruments.attributes(&[("task_queue", task_queue), ("verdict", verdict)]));
    for result in results {
        let labels = [("task_queue", task_queue), ("level", result.level.as_str()), ("policy", result.policy.as_str())];
        instruments.policy_results.add(1, &instruments.attributes(&labels));
    }
}

/// Observes how long an approval gate of `workflow_type` stayed open.
pub(crate) fn approval_waited(task_queue: &str, workflow_type: &str, outcome: GateOutcome, waited: Duration) {
    let Some(instruments) = INSTRUMENTS.get() else { return };
    let labels = [("task_queue", task_queue), ("workflow_type", workflow_type), ("outcome", outcome.as_str())];
    instruments.approval_wait.record(waited, &instruments.attributes(&labels));
}
