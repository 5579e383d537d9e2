//! The worker's Prometheus endpoint (`ordo worker --metrics-addr`) after real runs: the SDK's
//! series under seed 001's names, the client's RPC series, and Ordo's domain series.

mod support;

use std::process::{Child, Stdio};
use std::time::Duration;

use ordo_core::devserver::free_port;
use ordo_provision::model::{status, ApplyDecision};
use support::Env;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// A child process killed when the test ends.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// An `ordo worker` serving metrics on a free port (returned) with `extra` arguments.
fn metrics_worker(env: &Env, extra: &[&str]) -> (u16, Process) {
    let port = free_port().unwrap();
    let addr = format!("127.0.0.1:{port}");
    let args: Vec<&str> = ["worker", "--metrics-addr", &addr].into_iter().chain(extra.iter().copied()).collect();
    let worker = env.ordo(&args).stdout(Stdio::null()).stderr(Stdio::inherit()).spawn().expect("ordo worker starts");
    (port, Process(worker))
}

/// `GET /metrics` over a plain socket; `None` while nothing listens.
async fn scrape(port: u16) -> Option<String> {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.ok()?;
    stream.write_all(b"GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n").await.ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await.ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    head.lines().next()?.contains(" 200 ").then(|| body.to_owned())
}

/// The value of the first sample of `name` whose labels include every `label="value"` pair.
fn sample(metrics: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    metrics.lines().filter(|l| !l.starts_with('#')).find_map(|line| {
        let (series, value) = line.rsplit_once(' ')?;
        let (metric, rest) = series.split_once('{').unwrap_or((series, ""));
        let matches = metric == name && labels.iter().all(|(k, v)| rest.contains(&format!("{k}=\"{v}\"")));
        matches.then(|| value.parse().ok()).flatten()
    })
}

/// After one applied run and one waiting for approval, the endpoint exposes the SDK's workflow,
/// activity and RPC series with the run's labels, the domain gauges count both runs and the policy
/// results by level; once the waiting run is approved, its wait is observed.
#[tokio::test]
async fn worker_exposes_sdk_and_domain_series_after_runs() {
    let env = Env::without_worker().await;
    let (port, _worker) = metrics_worker(&env, &["--domain-metrics-interval", "1"]);
    let applied = env.client.start(&env.scenario("advanced_visibility"), false).await.unwrap();
    assert_eq!(env.client.result(&applied).await.unwrap().status, status::APPLIED);
    let waiting = env.client.start(&env.scenario("human_in_the_loop_signal"), false).await.unwrap();
    env.wait_status(&waiting, status::AWAITING_APPROVAL).await;

    let tq = env.task_queue.as_str();
    let provision = [("task_queue", tq), ("workflow_type", "ProvisionInfraWorkflow")];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let metrics = loop {
        let metrics = scrape(port).await.unwrap_or_default();
        let ready = sample(&metrics, "ordo_approvals_waiting", &[("task_queue", tq)]) == Some(1.0)
            && sample(&metrics, "ordo_runs", &[("execution_status", "Completed"), provision[0], provision[1]])
                == Some(1.0);
        if ready {
            break metrics;
        }
        assert!(tokio::time::Instant::now() < deadline, "the metrics never showed both runs:\n{metrics}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };

    // The SDK's series, named as seed 001's dashboard expects them.
    assert_eq!(sample(&metrics, "temporal_workflow_completed", &provision), Some(1.0), "{metrics}");
    // (The policy is checked inside terraform_plan since `light-run`; init is a local activity
    // since `local-init`, in the SDK's local-activity series.)
    let init = [provision[0], provision[1], ("activity_type", "terraform_init")];
    assert!(
        sample(&metrics, "temporal_local_activity_execution_latency_count", &init).unwrap_or(0.0) >= 1.0,
        "terraform_init as a local activity: {metrics}"
    );
    for activity in ["terraform_plan", "terraform_apply"] {
        let labels = [provision[0], provision[1], ("activity_type", activity)];
        assert!(
            sample(&metrics, "temporal_activity_execution_latency_count", &labels).unwrap_or(0.0) >= 1.0,
            "{activity}"
        );
        assert!(sample(&metrics, "temporal_activity_execution_latency_bucket", &labels).is_some(), "{activity}");
    }
    assert!(sample(&metrics, "temporal_workflow_endtoend_latency_count", &provision).unwrap_or(0.0) >= 1.0);
    assert!(sample(&metrics, "temporal_workflow_task_queue_poll_succeed", &[("task_queue", tq)]).is_some());
    // The client's RPC series (the seed dashboard's first row).
    assert!(sample(&metrics, "temporal_request", &[("operation", "CountWorkflowExecutions")]).unwrap_or(0.0) >= 1.0);
    assert!(sample(&metrics, "temporal_long_request", &[]).is_some(), "poll RPCs are long requests");

    // Domain gauges: one completed, one running and waiting for a human.
    assert_eq!(
        sample(&metrics, "ordo_runs", &[("execution_status", "Running"), provision[0], provision[1]]),
        Some(1.0)
    );
    assert_eq!(sample(&metrics, "ordo_runs", &[("execution_status", "Failed"), provision[0], provision[1]]), Some(0.0));
    assert_eq!(
        sample(&metrics, "ordo_running_runs", &[("task_queue", tq), ("provision_status", "awaiting_approval")]),
        Some(1.0)
    );

    // Policy results by level: the clean run passed, the admin user is a soft-mandatory message.
    let checks = |verdict| sample(&metrics, "ordo_policy_checks", &[("task_queue", tq), ("verdict", verdict)]);
    assert_eq!(checks("pass"), Some(1.0), "{metrics}");
    assert_eq!(checks("needs_approval"), Some(1.0), "{metrics}");
    let soft = [("task_queue", tq), ("level", "soft-mandatory"), ("policy", "ordo.admin_users")];
    assert_eq!(sample(&metrics, "ordo_policy_results", &soft), Some(1.0), "{metrics}");
    assert_eq!(sample(&metrics, "ordo_approval_wait_count", &[("task_queue", tq)]), None, "nobody decided yet");

    // Time waiting for approval: observed once the decision closes the gate.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let approve = ApplyDecision { is_approved: true, reason: Some("metrics test".into()), ..Default::default() };
    env.client.decide(&waiting, approve, false).await.unwrap();
    assert_eq!(env.client.result(&waiting).await.unwrap().status, status::APPLIED);
    let approved = [("task_queue", tq), ("workflow_type", "ProvisionInfraWorkflow"), ("outcome", "approved")];
    let metrics = scrape(port).await.unwrap_or_default();
    assert_eq!(sample(&metrics, "ordo_approval_wait_count", &approved), Some(1.0), "{metrics}");
    let waited_ms = sample(&metrics, "ordo_approval_wait_sum", &approved).unwrap();
    assert!(waited_ms >= 1500.0, "the run waited at least 1.5 s for its decision, not {waited_ms} ms");
    // Buckets sized for human decisions (up to a week), not the SDK's latency buckets.
    let week = [approved[0], approved[1], approved[2], ("le", "604800000")];
    assert_eq!(sample(&metrics, "ordo_approval_wait_bucket", &week), Some(1.0), "{metrics}");
    let one_second = [approved[0], approved[1], approved[2], ("le", "1000")];
    assert_eq!(sample(&metrics, "ordo_approval_wait_bucket", &one_second), Some(0.0), "{metrics}");

    // Every series the shipped Grafana dashboard charts exists, except those only failures create.
    let missing: Vec<String> = support::dashboard_series()
        .into_iter()
        .filter(|name| !name.starts_with("ordo_api_")) // the API's own endpoint (tests/api.rs)
        .filter(|name| !FAILURE_ONLY.contains(&name.as_str()))
        .filter(|name| !metrics.contains(&format!("# TYPE {name} ")))
        .collect();
    assert!(missing.is_empty(), "metrics/grafana-dashboard.json charts series the worker does not export: {missing:?}");
}

/// Series that appear only once something failed, was canceled or continued as new.
const FAILURE_ONLY: &[&str] = &[
    "temporal_workflow_failed",
    "temporal_workflow_canceled",
    "temporal_workflow_continue_as_new",
    "temporal_workflow_task_execution_failed",
    "temporal_activity_execution_failed",
    "temporal_request_failure",
    "temporal_long_request_failure",
    "ordo_domain_metrics_refresh_failures",
];

/// A worker with a one-workflow cache (`--max-cached-workflows 1`, the least it takes: a run takes
/// its lock in a local activity) evicts a run parked at its approval gate when another run needs
/// the cache, so the parked run rebuilds from history when approved; it still completes, and the
/// domain series count its policy check and its approval wait once, not once per replay.
#[tokio::test]
async fn with_a_one_workflow_cache_runs_replay_and_each_event_counts_once() {
    let env = Env::without_worker().await;
    let (port, _worker) = metrics_worker(&env, &["--max-cached-workflows", "1"]);
    let id = env.client.start(&env.scenario("human_in_the_loop_signal"), false).await.unwrap();
    env.wait_status(&id, status::AWAITING_APPROVAL).await;
    // Another run needs the one cached place: the waiting run is evicted, and replays on approval.
    let other = env.client.start(&env.scenario("advanced_visibility"), false).await.unwrap();
    assert_eq!(env.client.result(&other).await.unwrap().status, status::APPLIED);
    let approve = ApplyDecision { is_approved: true, reason: Some("no cache".into()), ..Default::default() };
    env.client.decide(&id, approve, true).await.unwrap();
    assert_eq!(env.client.result(&id).await.unwrap().status, status::APPLIED);

    let tq = env.task_queue.as_str();
    let metrics = scrape(port).await.unwrap_or_default();
    let evictions = sample(&metrics, "temporal_sticky_cache_total_forced_eviction", &[]).unwrap_or(0.0);
    assert!(evictions >= 1.0, "the cache was too small for the run and its lock: runs were evicted\n{metrics}");
    let needs_approval = [("task_queue", tq), ("verdict", "needs_approval")];
    assert_eq!(sample(&metrics, "ordo_policy_checks", &needs_approval), Some(1.0), "{metrics}");
    let soft = [("task_queue", tq), ("level", "soft-mandatory")];
    assert_eq!(sample(&metrics, "ordo_policy_results", &soft), Some(1.0), "{metrics}");
    let approved = [("task_queue", tq), ("outcome", "approved")];
    assert_eq!(sample(&metrics, "ordo_approval_wait_count", &approved), Some(1.0), "{metrics}");
}

/// A run parked at its approval gate leaves the worker's cache once it has been idle for
/// `--evict-idle-after` (here 1 s, the cache itself far from full): the cache-size gauge of its
/// task queue drops to 0 and the eviction is counted. Approved, the run rebuilds from history and
/// completes, its approval wait counted once.
#[tokio::test]
async fn a_run_parked_at_approval_is_evicted_once_idle_and_completes_when_approved() {
    let env = Env::without_worker().await;
    let (port, _worker) = metrics_worker(&env, &["--evict-idle-after", "1"]);
    let id = env.client.start(&env.scenario("human_in_the_loop_signal"), false).await.unwrap();
    env.wait_status(&id, status::AWAITING_APPROVAL).await;

    let tq = env.task_queue.as_str();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let metrics = loop {
        let metrics = scrape(port).await.unwrap_or_default();
        let cached = sample(&metrics, "temporal_sticky_cache_size", &[("task_queue", tq)]);
        let evicted = sample(&metrics, "temporal_sticky_cache_total_forced_eviction", &[("task_queue", tq)]);
        if cached == Some(0.0) && evicted.unwrap_or(0.0) >= 1.0 {
            break metrics;
        }
        assert!(tokio::time::Instant::now() < deadline, "the parked run was never evicted:\n{metrics}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(sample(&metrics, "ordo_approval_wait_count", &[("task_queue", tq)]), None, "nobody decided yet");

    let approve = ApplyDecision { is_approved: true, reason: Some("idle eviction".into()), ..Default::default() };
    env.client.decide(&id, approve, true).await.unwrap();
    assert_eq!(env.client.result(&id).await.unwrap().status, status::APPLIED);
    let metrics = scrape(port).await.unwrap_or_default();
    let approved = [("task_queue", tq), ("outcome", "approved")];
    assert_eq!(sample(&metrics, "ordo_approval_wait_count", &approved), Some(1.0), "{metrics}");
}
