//! Provisioning's domain series, recorded where the facts happen on the worker's Prometheus meter
//! (see [`ordo_core::metrics`] for the once-per-event rule and the shared approval-wait histogram):
//!
//! | series | labels | meaning |
//! |---|---|---|
//! | `ordo_policy_checks` | `task_queue`, `verdict` | policy checks by verdict (`pass`, `needs_approval`, `hard_fail`) |
//! | `ordo_policy_results` | `task_queue`, `level`, `policy` | policy messages by enforcement level and package |
//! | `ordo_approval_wait` | `task_queue`, `workflow_type`, `outcome` | time a run waited for its decision, ms |

use std::sync::OnceLock;

pub use ordo_core::metrics::{approval_waited, GateOutcome};
use temporalio_common::telemetry::metrics::{Counter, MetricParameters};

use crate::policy::{PolicyResult, Verdict};

/// The policy counters, made on the installed meter at their first use.
struct PolicyCounters {
    checks: Counter,
    results: Counter,
}

static POLICY: OnceLock<PolicyCounters> = OnceLock::new();

/// Counts one policy check (`event` names it) and each of its messages.
pub(crate) fn policy_checked(event: &str, task_queue: &str, results: &[PolicyResult], verdict: Verdict) {
    let Some(recorder) = ordo_core::metrics::first_record(event) else { return };
    let counters = POLICY.get_or_init(|| {
        let param = |name: &'static str, description: &'static str| {
            MetricParameters::builder().name(name).description(description).build()
        };
        PolicyCounters {
            checks: recorder.meter().counter(param("ordo_policy_checks", "Policy checks by verdict")),
            results: recorder
                .meter()
                .counter(param("ordo_policy_results", "Policy messages by enforcement level and policy package")),
        }
    });
    let verdict = match verdict {
        Verdict::Pass => "pass",
        Verdict::NeedsApproval => "needs_approval",
        Verdict::HardFail => "hard_fail",
    };
    counters.checks.add(1, &recorder.attributes(&[("task_queue", task_queue), ("verdict", verdict)]));
    for result in results {
        let labels = [("task_queue", task_queue), ("level", result.level.as_str()), ("policy", result.policy.as_str())];
        counters.results.add(1, &recorder.attributes(&labels));
    }
}
