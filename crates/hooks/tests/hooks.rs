//! The hooks domain on a real dev server (one per binary, see `ordo_core::testing::server`): the starter's
//! options as Temporal records them, lifecycle actions with blocking and non-blocking hooks, the
//! seed's example sequence, the reference migration; and the store on SQLite.

mod support;

use std::sync::Arc;

use ordo_core::domain::Domain as _;
use ordo_hooks::activities::StoreSource;
use ordo_hooks::client::HooksClient;
use ordo_hooks::intent::{DigRef, HookIntent, HookType, WorkflowIntent};
use ordo_hooks::model::{HookOutcome, LifecycleAction, LifecycleOutcome};
use ordo_hooks::spec::WfTemporalSpec;
use ordo_hooks::starter::{self, StartError};
use ordo_hooks::store::{Store, StoreError};
use ordo_hooks::workers::WorkerIntent;
use ordo_hooks::HooksDomain;
use serde_json::{json, Value};
use temporalio_client::{WorkflowDescribeOptions, WorkflowFetchHistoryOptions, WorkflowGetResultOptions};
use temporalio_common::protos::temporal::api::history::v1::history_event::Attributes;
use temporalio_common::UntypedWorkflow;

fn dig() -> DigRef {
    let id = uuid::Uuid::new_v4().simple().to_string();
    DigRef::parse("proj1", "c1", "v1", &format!("d{}", &id[..12])).unwrap()
}

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

/// A probe hook intent on `queue`.
fn probe_intent(name: &str, hook_type: &str, queue: &str, blocking: bool, timeout: &str, outcome: &str) -> Value {
    json!({
        "metadata": {"name": name},
        "spec": {
            "hookType": hook_type,
            "hookBlocking": blocking,
            "hookBlockingTimeout": timeout,
            "workflowClient": {"clientEndpointName": "in-process", "clientEndpointPort": 9090},
            "temporal": {
                "workflowClientName": "probe",
                "workflowType": "Probe",
                "workflowStartOptions": {"id": unique(name), "taskqueue": queue},
                "workflowParams": {"activityParams": {"probe": {"outcome": outcome, "sleepMs": "30000"}}}
            }
        }
    })
}

async fn temp_store() -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    (Store::open(None, dir.path()).await.unwrap(), dir)
}

/// A lifecycle setup: store, hooks client and the domain's worker options plus a probe worker.
struct Lifecycle {
    hooks: HooksClient,
    workers: Vec<temporalio_sdk::WorkerOptions>,
    probe_queue: String,
    migrate_queue: String,
    clusters: tempfile::TempDir,
    _data: tempfile::TempDir,
}

async fn lifecycle() -> Lifecycle {
    let client = support::client().await;
    let (store, data) = temp_store().await;
    let queue = support::task_queue("lifecycle");
    let migrate_queue = support::task_queue("migrate");
    let probe_queue = support::task_queue("probe");
    let clusters = tempfile::tempdir().unwrap();
    let domain = HooksDomain::new(
        &queue,
        Some(&migrate_queue),
        clusters.path().to_owned(),
        Arc::new(StoreSource::opened(store.clone())),
    );
    let mut workers = domain.workers().unwrap();
    workers.push(support::probe_worker(&probe_queue));
    Lifecycle {
        hooks: HooksClient::new(client, store, queue, "http://emco.test:9015"),
        workers,
        probe_queue,
        migrate_queue,
        clusters,
        _data: data,
    }
}

impl Lifecycle {
    async fn add(&self, dig: &DigRef, body: Value) {
        let intent = HookIntent::parse(&body).unwrap();
        self.hooks.store().create_intent(dig, &intent).await.unwrap_or_else(|e| panic!("{e}"));
    }
}

/// Every start option of a spec reaches Temporal: describe and the start event show the task
/// queue, type, timeouts, retry policy, cron schedule, memo and search attributes.
#[tokio::test]
async fn every_start_option_reaches_temporal() {
    let client = support::client().await;
    let attribute = ordo_core::SearchAttributeSpec::keyword("HooksTestKeyword");
    ordo_core::search_attributes::register(&client, "default", &[attribute]).await.unwrap();
    let id = unique("options");
    let spec = WfTemporalSpec::from_json(
        json!({
            "workflowClientName": "probe",
            "workflowType": "Probe",
            "workflowStartOptions": {
                "ID": id, "TaskQueue": "nobody-polls-this", "WorkflowExecutionTimeout": "1h",
                "WorkflowRunTimeout": 1_800_000_000_000u64, "WorkflowTaskTimeout": "7s",
                "WorkflowIDReusePolicy": 3, "WorkflowExecutionErrorWhenAlreadyStarted": true,
                "RetryPolicy": {"InitialInterval": "2s", "BackoffCoefficient": 3.0, "MaximumInterval": "20s",
                                "MaximumAttempts": 4, "NonRetryableErrorTypes": ["Fatal"]},
                "CronSchedule": "@every 1h",
                "Memo": {"owner": "team-a"},
                "SearchAttributes": {"HooksTestKeyword": "hooks-test"}
            },
            "workflowParams": {"activityParams": {"a": {"k": "v"}}}
        })
        .to_string()
        .as_bytes(),
    )
    .unwrap();
    let started = starter::start(&client, &spec).await.unwrap();
    assert_eq!(started.workflow_id, id);
    let handle = client.get_workflow_handle::<UntypedWorkflow>(id.clone());
    let description = handle.describe(WorkflowDescribeOptions::default()).await.unwrap();
    let raw = description.raw();
    let config = raw.execution_config.as_ref().unwrap();
    assert_eq!(config.task_queue.as_ref().unwrap().name, "nobody-polls-this");
    assert_eq!(config.workflow_execution_timeout.as_ref().unwrap().seconds, 3600);
    assert_eq!(config.workflow_run_timeout.as_ref().unwrap().seconds, 1800);
    assert_eq!(config.default_workflow_task_timeout.as_ref().unwrap().seconds, 7);
    let info = raw.workflow_execution_info.as_ref().unwrap();
    assert_eq!(info.r#type.as_ref().unwrap().name, "Probe");
    let memo = &info.memo.as_ref().unwrap().fields["owner"];
    assert_eq!(serde_json::from_slice::<Value>(&memo.data).unwrap(), json!("team-a"));
    let sa = &info.search_attributes.as_ref().unwrap().indexed_fields["HooksTestKeyword"];
    assert_eq!(serde_json::from_slice::<Value>(&sa.data).unwrap(), json!("hooks-test"));

    let events = handle.fetch_history(WorkflowFetchHistoryOptions::default()).into_events().await.unwrap();
    let Some(Attributes::WorkflowExecutionStartedEventAttributes(start)) = events[0].attributes.clone() else {
        panic!("first event is the start");
    };
    assert_eq!(start.cron_schedule, "@every 1h");
    let retry = start.retry_policy.unwrap();
    assert_eq!(retry.initial_interval.unwrap().seconds, 2);
    assert_eq!(retry.backoff_coefficient, 3.0);
    assert_eq!(retry.maximum_interval.unwrap().seconds, 20);
    assert_eq!(retry.maximum_attempts, 4);
    assert_eq!(retry.non_retryable_error_types, vec!["Fatal".to_owned()]);
    let input: Value = serde_json::from_slice(&start.input.unwrap().payloads[0].data).unwrap();
    assert_eq!(input["activityParams"]["a"]["k"], "v");

    // Error-when-already-started: a second start of the running id is a typed conflict.
    match starter::start(&client, &spec).await {
        Err(StartError::Conflict { workflow_id, run_id }) => {
            assert_eq!(workflow_id, id);
            assert_eq!(run_id.as_deref(), Some(started.run_id.as_str()));
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    handle.terminate(Default::default()).await.unwrap();
}

/// Without error-when-already-started, starting a running id answers the running run (Go's client).
#[tokio::test]
async fn a_duplicate_start_without_the_flag_returns_the_running_run() {
    let client = support::client().await;
    let id = unique("dup");
    let body = json!({"workflowStartOptions": {"id": id, "taskqueue": "nobody-polls-this"}});
    let spec = WfTemporalSpec::parse(&body, "").unwrap();
    let first = starter::start(&client, &spec).await.unwrap();
    let second = starter::start(&client, &spec).await.unwrap();
    assert_eq!(first, second);
    client.get_workflow_handle::<UntypedWorkflow>(id).terminate(Default::default()).await.unwrap();
}

/// A blocking pre hook that succeeds lets the action and the post hooks run; every hook received
/// the emco section; the DIG's state is recorded; the history query agrees with the result.
#[tokio::test]
async fn a_blocking_hook_that_succeeds_lets_the_action_run() {
    let l = lifecycle().await;
    let dig = dig();
    l.add(&dig, probe_intent("pre-a", "pre-install", &l.probe_queue, true, "30s", "ok")).await;
    l.add(&dig, probe_intent("pre-b", "pre-install", &l.probe_queue, true, "30s", "ok")).await;
    l.add(&dig, probe_intent("post-a", "post-install", &l.probe_queue, false, "30s", "ok")).await;
    l.add(&dig, probe_intent("other", "pre-update", &l.probe_queue, true, "30s", "fail")).await;
    let client = l.hooks.temporal().clone();
    let (state, history, echoed) = support::with_workers(&client, l.workers, async {
        let started = l.hooks.start_action(&dig, LifecycleAction::Instantiate).await.unwrap();
        let state = l.hooks.wait(&started.workflow_id).await.unwrap();
        let history = l.hooks.history(&started.workflow_id).await.unwrap();
        let first = state.hooks[0].workflow_id.clone().unwrap();
        let echoed: Value = serde_json::from_slice(
            &client
                .get_workflow_handle::<UntypedWorkflow>(first)
                .get_result(WorkflowGetResultOptions::default())
                .await
                .unwrap()
                .payloads[0]
                .data,
        )
        .unwrap();
        (state, history, (echoed, started.app_context_id))
    })
    .await;
    assert_eq!(state.outcome, Some(LifecycleOutcome::Succeeded), "{state:?}");
    assert_eq!(state, history);
    let names: Vec<_> = state.hooks.iter().map(|h| (h.intent.as_str(), h.outcome.clone())).collect();
    assert_eq!(
        names,
        vec![("pre-a", HookOutcome::Completed), ("pre-b", HookOutcome::Completed), ("post-a", HookOutcome::Started)]
    );
    assert!(state.action_applied);
    let (echoed, app_context_id) = echoed;
    let emco = &echoed["activityParams"]["emco"];
    assert_eq!(emco["emcoURL"], "http://emco.test:9015");
    assert_eq!(emco["project"], "proj1");
    assert_eq!(emco["compositeApp"], "c1");
    assert_eq!(emco["compositeAppVersion"], "v1");
    assert_eq!(emco["deploymentIntentGroup"], dig.deployment_intent_group.as_str());
    assert_eq!(emco["appcontextId"], app_context_id.as_str());
    assert_eq!(echoed["activityParams"]["probe"]["outcome"], "ok");
    let recorded = l.hooks.store().dig_state(&dig).await.unwrap().unwrap();
    assert_eq!(recorded.state, "Instantiated");
}

/// A blocking hook whose workflow fails fails the action with a reason naming the hook; the action
/// and later hooks do not run.
#[tokio::test]
async fn a_blocking_hook_that_fails_fails_the_action() {
    let l = lifecycle().await;
    let dig = dig();
    l.add(&dig, probe_intent("pre-ok", "pre-update", &l.probe_queue, true, "30s", "ok")).await;
    l.add(&dig, probe_intent("pre-bad", "pre-update", &l.probe_queue, true, "30s", "fail")).await;
    l.add(&dig, probe_intent("pre-never", "pre-update", &l.probe_queue, true, "30s", "ok")).await;
    let client = l.hooks.temporal().clone();
    let state =
        support::with_workers(&client, l.workers, l.hooks.run_action(&dig, LifecycleAction::Update)).await.unwrap();
    let Some(LifecycleOutcome::Failed { reason }) = &state.outcome else { panic!("{state:?}") };
    assert!(reason.contains("pre-update hook \"pre-bad\" failed"), "{reason}");
    assert!(reason.contains("probe asked to fail"), "{reason}");
    assert_eq!(state.hooks.len(), 2);
    assert!(!state.action_applied);
    assert_eq!(l.hooks.store().dig_state(&dig).await.unwrap(), None);
}

/// A blocking hook that outlives its hookBlockingTimeout fails the action, saying so.
#[tokio::test]
async fn a_blocking_hook_that_times_out_fails_the_action() {
    let l = lifecycle().await;
    let dig = dig();
    l.add(&dig, probe_intent("slow", "pre-termination", &l.probe_queue, true, "1s", "sleep")).await;
    l.add(&dig, probe_intent("post", "post-termination", &l.probe_queue, false, "1s", "ok")).await;
    let client = l.hooks.temporal().clone();
    let state =
        support::with_workers(&client, l.workers, l.hooks.run_action(&dig, LifecycleAction::Terminate)).await.unwrap();
    let Some(LifecycleOutcome::Failed { reason }) = &state.outcome else { panic!("{state:?}") };
    assert!(reason.contains("did not finish within its hookBlockingTimeout (1000 ms)"), "{reason}");
    assert_eq!(state.hooks[0].outcome, HookOutcome::TimedOut { timeout_ms: 1000 });
    assert!(!state.action_applied);
    let slow = state.hooks[0].workflow_id.clone().unwrap();
    client.get_workflow_handle::<UntypedWorkflow>(slow).terminate(Default::default()).await.unwrap();
}

/// A non-blocking hook only starts: the action goes on while its workflow still runs.
#[tokio::test]
async fn a_non_blocking_hook_only_starts_its_workflow() {
    let l = lifecycle().await;
    let dig = dig();
    l.add(&dig, probe_intent("slow", "pre-install", &l.probe_queue, false, "1s", "sleep")).await;
    let client = l.hooks.temporal().clone();
    let state = support::with_workers(&client, l.workers, l.hooks.run_action(&dig, LifecycleAction::Instantiate))
        .await
        .unwrap();
    assert_eq!(state.outcome, Some(LifecycleOutcome::Succeeded));
    assert_eq!(state.hooks[0].outcome, HookOutcome::Started);
    let slow = client.get_workflow_handle::<UntypedWorkflow>(state.hooks[0].workflow_id.clone().unwrap());
    let status = slow.describe(WorkflowDescribeOptions::default()).await.unwrap();
    assert_eq!(format!("{:?}", status.status()), "Running");
    slow.terminate(Default::default()).await.unwrap();
}

/// A worker intent on hook intent `intent` of `dig`: `spec.taskQueue` when given, a readiness
/// timeout of `timeout_ms`.
async fn add_worker(l: &Lifecycle, dig: &DigRef, intent: &str, name: &str, queue: Option<&str>, timeout_ms: u64) {
    let mut spec = json!({"startToCloseTimeout": timeout_ms});
    if let Some(queue) = queue {
        spec["taskQueue"] = json!(queue);
    }
    let worker = WorkerIntent::parse(&json!({"metadata": {"name": name}, "spec": spec})).unwrap();
    l.hooks.store().create_worker(dig, intent, &worker).await.unwrap();
}

/// The activity types a workflow scheduled, in order.
async fn scheduled_activities(client: &temporalio_client::Client, workflow_id: &str) -> Vec<String> {
    let handle = client.get_workflow_handle::<UntypedWorkflow>(workflow_id.to_owned());
    let events = handle.fetch_history(WorkflowFetchHistoryOptions::default()).into_events().await.unwrap();
    events
        .into_iter()
        .filter_map(|e| match e.attributes {
            Some(Attributes::ActivityTaskScheduledEventAttributes(a)) => a.activity_type.map(|t| t.name),
            _ => None,
        })
        .collect()
}

/// A hook whose worker is ready (its task queue, the hook's, has a live poller) runs: the
/// lifecycle checked the worker before starting the hook, then went on to the action.
#[tokio::test]
async fn a_hook_whose_worker_is_ready_runs() {
    let l = lifecycle().await;
    let dig = dig();
    l.add(&dig, probe_intent("pre-a", "pre-install", &l.probe_queue, true, "30s", "ok")).await;
    add_worker(&l, &dig, "pre-a", "probe-worker", None, 30_000).await;
    let client = l.hooks.temporal().clone();
    let (state, activities) = support::with_workers(&client, l.workers, async {
        let started = l.hooks.start_action(&dig, LifecycleAction::Instantiate).await.unwrap();
        let state = l.hooks.wait(&started.workflow_id).await.unwrap();
        (state, scheduled_activities(&client, &started.workflow_id).await)
    })
    .await;
    assert_eq!(state.outcome, Some(LifecycleOutcome::Succeeded), "{state:?}");
    assert_eq!(state.hooks[0].outcome, HookOutcome::Completed);
    assert_eq!(activities, ["CheckWorkerReady", "StartHook", "AwaitHook", "ApplyLifecycleAction"]);
}

/// A hook whose worker never polls its task queue is not started: once the worker's timeout has
/// passed (Temporal retrying the check until then), the action fails naming the worker and its
/// task queue, and nothing after it runs.
#[tokio::test]
async fn a_hook_whose_worker_never_polls_fails_the_action_naming_it() {
    let l = lifecycle().await;
    let dig = dig();
    let idle = support::task_queue("idle");
    l.add(&dig, probe_intent("pre-a", "pre-update", &l.probe_queue, true, "30s", "ok")).await;
    l.add(&dig, probe_intent("post-a", "post-update", &l.probe_queue, false, "30s", "ok")).await;
    add_worker(&l, &dig, "pre-a", "probe-worker", None, 30_000).await;
    add_worker(&l, &dig, "pre-a", "gone-worker", Some(&idle), 500).await;
    let client = l.hooks.temporal().clone();
    let state =
        support::with_workers(&client, l.workers, l.hooks.run_action(&dig, LifecycleAction::Update)).await.unwrap();
    let Some(LifecycleOutcome::Failed { reason }) = &state.outcome else { panic!("{state:?}") };
    assert!(reason.contains("pre-update hook \"pre-a\" failed"), "{reason}");
    // It says plainly what happened, naming the worker and its task queue, and ends with the
    // last check's finding (the cause Temporal's timeout carries), not with the timeout's text.
    assert!(
        reason.contains(&format!(
            "worker \"gone-worker\" (task queue {idle:?}) was not ready within its timeout (500 ms); \
             the last check found: task queue {idle} has no live poller"
        )),
        "{reason}"
    );
    assert!(reason.ends_with("has no live poller"), "{reason}");
    assert!(!reason.to_lowercase().contains("scheduletoclose"), "{reason}");
    assert_eq!(state.hooks.len(), 1);
    assert!(matches!(state.hooks[0].outcome, HookOutcome::NotStarted { .. }));
    assert_eq!(state.hooks[0].workflow_id, None, "the hook was not started");
    assert!(!state.action_applied);
}

/// A worker registered on another intent of the DIG that serves the same task queue is checked
/// too: readiness is the task queue's, whichever intent the worker was registered on.
#[tokio::test]
async fn a_worker_of_another_intent_on_the_hooks_queue_is_checked() {
    let l = lifecycle().await;
    let dig = dig();
    let idle = support::task_queue("idle");
    // Non-blocking: without the check, it would start (nobody needs to poll for that) and the
    // action would succeed.
    l.add(&dig, probe_intent("pre-a", "pre-install", &idle, false, "30s", "ok")).await;
    l.add(&dig, probe_intent("post-b", "post-termination", &idle, false, "30s", "ok")).await;
    add_worker(&l, &dig, "post-b", "idle-worker", None, 300).await;
    let client = l.hooks.temporal().clone();
    let state = support::with_workers(&client, l.workers, l.hooks.run_action(&dig, LifecycleAction::Instantiate))
        .await
        .unwrap();
    let Some(LifecycleOutcome::Failed { reason }) = &state.outcome else { panic!("{state:?}") };
    assert!(reason.contains("pre-install hook \"pre-a\" failed"), "{reason}");
    assert!(reason.contains(&format!("worker \"idle-worker\" (task queue {idle:?})")), "{reason}");
    assert_eq!(state.hooks[0].workflow_id, None);
}

/// A hook whose id is taken under error-when-already-started is not started, and the action fails
/// naming it.
#[tokio::test]
async fn a_hook_that_cannot_start_fails_the_action() {
    let l = lifecycle().await;
    let dig = dig();
    let mut body = probe_intent("taken", "pre-install", &l.probe_queue, false, "1s", "ok");
    let id = unique("taken");
    body["spec"]["temporal"]["workflowStartOptions"] =
        json!({"id": id, "taskqueue": "nobody-polls-this", "workflowexecutionerrorwhenalreadystarted": true});
    l.add(&dig, body).await;
    let client = l.hooks.temporal().clone();
    let blocker =
        WfTemporalSpec::parse(&json!({"workflowStartOptions": {"id": id, "taskqueue": "nobody-polls-this"}}), "")
            .unwrap();
    starter::start(&client, &blocker).await.unwrap();
    let state = support::with_workers(&client, l.workers, l.hooks.run_action(&dig, LifecycleAction::Instantiate))
        .await
        .unwrap();
    let Some(LifecycleOutcome::Failed { reason }) = &state.outcome else { panic!("{state:?}") };
    assert!(reason.contains("already started"), "{reason}");
    assert!(matches!(state.hooks[0].outcome, HookOutcome::NotStarted { .. }));
    client.get_workflow_handle::<UntypedWorkflow>(id).terminate(Default::default()).await.unwrap();
}

/// The seed's examples/test-tac sequence: its seven intents, then instantiate (pre-install ×2,
/// post-install), update (pre-update, post-update) and terminate (pre-termination,
/// post-termination), each hook a MigrateApp moving its app between two local-directory clusters.
#[tokio::test]
async fn the_example_intent_sequence_runs_end_to_end() {
    let l = lifecycle().await;
    let dig = dig();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/hooks/test-tac/03-define-workflow-intents.json");
    let intents: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(intents.len(), 7);
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    for mut body in intents {
        let options = &mut body["spec"]["temporal"]["workflowStartOptions"];
        options["taskqueue"] = json!(l.migrate_queue);
        options["id"] = json!(format!("{}-{suffix}", options["id"].as_str().unwrap()));
        l.add(&dig, body).await;
    }
    let client = l.hooks.temporal().clone();
    let runs = support::with_workers(&client, l.workers, async {
        let mut runs = Vec::new();
        for action in [LifecycleAction::Instantiate, LifecycleAction::Update, LifecycleAction::Terminate] {
            let state = l.hooks.run_action(&dig, action).await.unwrap();
            // Post hooks only start: wait for them so the clusters can be checked.
            for hook in state.hooks.iter().filter(|h| !h.blocking) {
                client
                    .get_workflow_handle::<UntypedWorkflow>(hook.workflow_id.clone().unwrap())
                    .get_result(WorkflowGetResultOptions::default())
                    .await
                    .unwrap();
            }
            runs.push(state);
        }
        runs
    })
    .await;
    let sequence: Vec<Vec<(String, HookType)>> =
        runs.iter().map(|r| r.hooks.iter().map(|h| (h.intent.clone(), h.hook_type)).collect()).collect();
    let s = |n: &str, t| (n.to_owned(), t);
    assert_eq!(
        sequence,
        vec![
            vec![
                s("pre-install-workflow-hook", HookType::PreInstall),
                s("pre-install-workflow-hook-2", HookType::PreInstall),
                s("post-workflow-intent", HookType::PostInstall)
            ],
            vec![s("run-before-update", HookType::PreUpdate), s("post-update-hook", HookType::PostUpdate)],
            vec![s("pre-termination", HookType::PreTermination), s("post-terminate", HookType::PostTermination)],
        ]
    );
    for run in &runs {
        assert_eq!(run.outcome, Some(LifecycleOutcome::Succeeded), "{run:?}");
    }
    assert_eq!(l.hooks.store().dig_state(&dig).await.unwrap().unwrap().state, "Terminated");
    // Every app now runs on cluster-b and is routed there.
    for app in ["web-a", "web-b", "web-c", "web-d", "web-e", "web-f", "web-g"] {
        assert!(l.clusters.path().join("cluster-b").join(format!("{app}.json")).is_file(), "{app}");
        assert_eq!(std::fs::read_to_string(l.clusters.path().join("routing").join(app)).unwrap(), "cluster-b");
    }
    let listed = l.hooks.list_actions(&dig).await.unwrap();
    assert_eq!(listed.len(), 3, "{listed:?}");
}

/// A migration that fails verifying on the target is compensated (the target copy removed, routing
/// untouched), fails with the step named, and fails the blocking hook's action.
#[tokio::test]
async fn a_failed_migration_is_compensated_and_fails_the_hook() {
    let l = lifecycle().await;
    let dig = dig();
    std::fs::create_dir_all(l.clusters.path().join("cluster-a")).unwrap();
    std::fs::write(l.clusters.path().join("cluster-a/shop.json"), "{}").unwrap();
    l.add(
        &dig,
        json!({
            "metadata": {"name": "migrate-shop"},
            "spec": {"hookType": "pre-install", "hookBlocking": true, "hookBlockingTimeout": "30s",
                     "workflowClient": {},
                     "temporal": {"workflowType": "MigrateApp",
                                  "workflowStartOptions": {"id": unique("shop"), "taskqueue": l.migrate_queue},
                                  "workflowParams": {"activityParams": {"migrate": {"app": "shop", "sourceCluster": "cluster-a",
                                                                                    "targetCluster": "cluster-b", "failAt": "verify"}}}}}
        }),
    )
    .await;
    let client = l.hooks.temporal().clone();
    let state = support::with_workers(&client, l.workers, l.hooks.run_action(&dig, LifecycleAction::Instantiate))
        .await
        .unwrap();
    let Some(LifecycleOutcome::Failed { reason }) = &state.outcome else { panic!("{state:?}") };
    assert!(reason.contains("migration failed at verify_app"), "{reason}");
    assert!(reason.contains("undo deploy_app cluster-b"), "{reason}");
    assert!(l.clusters.path().join("cluster-a/shop.json").is_file());
    assert!(!l.clusters.path().join("cluster-b/shop.json").exists());
    assert!(!l.clusters.path().join("routing/shop").exists());
}

/// The store on SQLite: the store contract, and a reopened file keeps everything.
#[tokio::test]
async fn the_sqlite_store_keeps_intents_in_order() {
    let (store, dir) = temp_store().await;
    assert_eq!(store.backend(), "sqlite");
    let dig = store_contract(&store).await;
    let names = |v: Vec<HookIntent>| v.into_iter().map(|i| i.metadata.name).collect::<Vec<_>>();
    // Reopening the same file keeps everything (migrations are not re-applied).
    let reopened = Store::open(None, dir.path()).await.unwrap();
    assert_eq!(names(reopened.list_intents(&dig, None).await.unwrap()), ["a", "c", "d"]);
}

/// The store on PostgreSQL (a cluster of this binary's own): the same contract, and opening it
/// again finds the migrations applied.
#[tokio::test]
async fn the_postgres_store_keeps_intents_in_order() {
    let url = support::postgres();
    let store = Store::open(Some(url), std::path::Path::new("/nonexistent")).await.unwrap();
    assert_eq!(store.backend(), "postgres");
    let dig = store_contract(&store).await;
    let reopened = Store::open(Some(url), std::path::Path::new("/nonexistent")).await.unwrap();
    assert_eq!(reopened.list_intents(&dig, None).await.unwrap().len(), 3);
}

/// A lifecycle action whose intents and DIG state live in PostgreSQL.
#[tokio::test]
async fn a_lifecycle_runs_on_the_postgres_store() {
    let client = support::client().await;
    let store = Store::open(Some(support::postgres()), std::path::Path::new("/nonexistent")).await.unwrap();
    let queue = support::task_queue("lifecycle-pg");
    let probe_queue = support::task_queue("probe-pg");
    let domain = HooksDomain::new(&queue, None, std::env::temp_dir(), Arc::new(StoreSource::opened(store.clone())));
    let mut workers = domain.workers().unwrap();
    workers.push(support::probe_worker(&probe_queue));
    let hooks = HooksClient::new(client.clone(), store.clone(), queue, "http://emco.test");
    let dig = dig();
    for body in [
        probe_intent("pre", "pre-install", &probe_queue, true, "30s", "ok"),
        probe_intent("post", "post-install", &probe_queue, false, "30s", "ok"),
    ] {
        store.create_intent(&dig, &HookIntent::parse(&body).unwrap()).await.unwrap();
    }
    let state =
        support::with_workers(&client, workers, hooks.run_action(&dig, LifecycleAction::Instantiate)).await.unwrap();
    assert_eq!(state.outcome, Some(LifecycleOutcome::Succeeded), "{state:?}");
    assert_eq!(state.hooks.len(), 2);
    assert_eq!(store.dig_state(&dig).await.unwrap().unwrap().state, "Instantiated");
}

/// What every backend must do: create, conflict, get, list in creation order and by hook type, PUT
/// overwrites in place, delete, not found; DIG states. Returns the DIG it filled (a, c, d).
async fn store_contract(store: &Store) -> DigRef {
    let dig = dig();
    let other = self::dig();
    let a = HookIntent::parse(&probe_intent("a", "pre-install", "q", true, "5s", "ok")).unwrap();
    let b = HookIntent::parse(&probe_intent("b", "post-install", "q", false, "5s", "ok")).unwrap();
    let c = HookIntent::parse(&probe_intent("c", "pre-install", "q", false, "5s", "ok")).unwrap();
    for i in [&a, &b, &c] {
        store.create_intent(&dig, i).await.unwrap();
    }
    assert!(matches!(store.create_intent(&dig, &a).await, Err(StoreError::Conflict)));
    store.create_intent(&other, &a).await.unwrap();
    assert_eq!(store.get_intent(&dig, "b").await.unwrap(), b);
    let names = |v: Vec<HookIntent>| v.into_iter().map(|i| i.metadata.name).collect::<Vec<_>>();
    assert_eq!(names(store.list_intents(&dig, None).await.unwrap()), ["a", "b", "c"]);
    assert_eq!(names(store.list_intents(&dig, Some(HookType::PreInstall)).await.unwrap()), ["a", "c"]);
    let mut a2 = a.clone();
    a2.metadata.description = "changed".into();
    store.put_intent(&dig, &a2).await.unwrap();
    assert_eq!(store.get_intent(&dig, "a").await.unwrap().metadata.description, "changed");
    assert_eq!(names(store.list_intents(&dig, None).await.unwrap()), ["a", "b", "c"]);
    let d = HookIntent::parse(&probe_intent("d", "pre-install", "q", false, "5s", "ok")).unwrap();
    store.put_intent(&dig, &d).await.unwrap();
    store.delete_intent(&dig, "b").await.unwrap();
    assert!(matches!(store.delete_intent(&dig, "b").await, Err(StoreError::NotFound)));
    assert!(matches!(store.get_intent(&dig, "b").await, Err(StoreError::NotFound)));
    assert_eq!(names(store.list_intents(&dig, None).await.unwrap()), ["a", "c", "d"]);
    assert_eq!(names(store.list_intents(&other, None).await.unwrap()), ["a"]);
    assert_eq!(store.dig_state(&dig).await.unwrap(), None);
    let state = ordo_hooks::store::DigState { state: "Instantiated".into(), app_context_id: "1".into() };
    store.set_dig_state(&dig, &state).await.unwrap();
    store.set_dig_state(&dig, &state).await.unwrap();
    assert_eq!(store.dig_state(&dig).await.unwrap(), Some(state));

    // Worker intents of hook intent "a": 201/409/404 cases, PUT overwrites, delete.
    let worker = |name: &str, ms: u64| {
        WorkerIntent::parse(&json!({"metadata": {"name": name}, "spec": {"startToCloseTimeout": ms}})).unwrap()
    };
    store.create_worker(&dig, "a", &worker("w1", 10)).await.unwrap();
    store.create_worker(&dig, "a", &worker("w2", 10)).await.unwrap();
    assert!(matches!(store.create_worker(&dig, "a", &worker("w1", 10)).await, Err(StoreError::Conflict)));
    assert!(matches!(store.create_worker(&dig, "zz", &worker("w1", 10)).await, Err(StoreError::NotFound)));
    store.put_worker(&dig, "a", &worker("w1", 20)).await.unwrap();
    assert_eq!(store.get_worker(&dig, "a", "w1").await.unwrap().spec.start_to_close_timeout, 20);
    assert_eq!(store.list_workers(&dig, "a").await.unwrap().len(), 2);
    store.delete_worker(&dig, "a", "w2").await.unwrap();
    assert!(matches!(store.delete_worker(&dig, "a", "w2").await, Err(StoreError::NotFound)));
    assert!(matches!(store.get_worker(&dig, "a", "w2").await, Err(StoreError::NotFound)));
    assert_eq!(store.list_workers(&dig, "c").await.unwrap(), vec![]);

    // Workflow intents (the workflowmgr's): create, 409, list, get, delete, 404.
    let mut body = probe_intent("wf1", "pre-install", "q", false, "5s", "ok");
    body["spec"].as_object_mut().unwrap().remove("hookType");
    let wf1 = WorkflowIntent::parse(&body).unwrap();
    store.create_workflow_intent(&dig, &wf1).await.unwrap();
    assert!(matches!(store.create_workflow_intent(&dig, &wf1).await, Err(StoreError::Conflict)));
    assert_eq!(store.list_workflow_intents(&dig).await.unwrap(), vec![wf1.clone()]);
    assert_eq!(store.get_workflow_intent(&dig, "wf1").await.unwrap(), wf1);
    store.delete_workflow_intent(&dig, "wf1").await.unwrap();
    assert!(matches!(store.delete_workflow_intent(&dig, "wf1").await, Err(StoreError::NotFound)));
    assert!(matches!(store.get_workflow_intent(&dig, "wf1").await, Err(StoreError::NotFound)));
    dig
}

/// A worker is ready once its task queue has a live poller; without one the wait gives up at its
/// timeout.
#[tokio::test]
async fn worker_readiness_is_live_pollers_on_the_task_queue() {
    use ordo_hooks::workers::wait_ready;
    let client = support::client().await;
    let queue = support::task_queue("ready");
    let idle = support::task_queue("idle");
    let step = std::time::Duration::from_millis(100);
    let ready = support::with_workers(&client, vec![support::probe_worker(&queue)], async {
        wait_ready(&client, &queue, std::time::Duration::from_secs(20), step).await.unwrap()
    })
    .await;
    assert!(ready);
    assert!(!wait_ready(&client, &idle, std::time::Duration::from_millis(300), step).await.unwrap());
}

/// Records the lifecycle histories `tests/replay.rs` replays (run on purpose:
/// `cargo test -p ordo-hooks --test hooks -- --ignored record_lifecycle_histories`). Only missing
/// files are written: a history recorded by older code is kept, since replaying it is the point.
#[tokio::test]
#[ignore = "writes tests/histories; run when a recorded history must be added"]
async fn record_lifecycle_histories() {
    let l = lifecycle().await;
    let dig_ok = dig();
    let dig_failed = dig();
    let dig_worker = dig();
    l.add(&dig_ok, probe_intent("pre-a", "pre-install", &l.probe_queue, true, "30s", "ok")).await;
    l.add(&dig_ok, probe_intent("post-a", "post-install", &l.probe_queue, false, "30s", "ok")).await;
    l.add(&dig_failed, probe_intent("pre-bad", "pre-install", &l.probe_queue, true, "30s", "fail")).await;
    // Patch `worker-readiness`: a worker ready for the pre hook, one for the post hook.
    l.add(&dig_worker, probe_intent("pre-a", "pre-install", &l.probe_queue, true, "30s", "ok")).await;
    l.add(&dig_worker, probe_intent("post-a", "post-install", &l.probe_queue, false, "30s", "ok")).await;
    add_worker(&l, &dig_worker, "pre-a", "probe-worker", None, 30_000).await;
    add_worker(&l, &dig_worker, "post-a", "probe-worker", Some(&l.probe_queue), 30_000).await;
    let client = l.hooks.temporal().clone();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/histories");
    std::fs::create_dir_all(&dir).unwrap();
    support::with_workers(&client, l.workers, async {
        for (dig, name) in [
            (&dig_ok, "lifecycle_succeeded.json"),
            (&dig_failed, "lifecycle_hook_failed.json"),
            (&dig_worker, "lifecycle_worker_ready.json"),
        ] {
            if dir.join(name).exists() {
                continue;
            }
            let started = l.hooks.start_action(dig, LifecycleAction::Instantiate).await.unwrap();
            l.hooks.wait(&started.workflow_id).await.unwrap();
            let handle = client.get_workflow_handle::<UntypedWorkflow>(started.workflow_id);
            let json = handle.fetch_history(WorkflowFetchHistoryOptions::default()).to_json().await.unwrap();
            std::fs::write(dir.join(name), json).unwrap();
        }
    })
    .await;
}

/// The status call: waits for and returns the result (the seed never did), describes, returns the
/// history, and passes a query through to the workflow.
#[tokio::test]
async fn status_returns_the_result_and_passes_queries_through() {
    use ordo_hooks::control::{status, StatusQuery};
    let l = lifecycle().await;
    let dig = dig();
    l.add(&dig, probe_intent("pre", "pre-install", &l.probe_queue, true, "30s", "ok")).await;
    let client = l.hooks.temporal().clone();
    let response = support::with_workers(&client, l.workers, async {
        let started = l.hooks.start_action(&dig, LifecycleAction::Instantiate).await.unwrap();
        let query = StatusQuery::parse(&json!({
            "temporalServer": "in-process", "workflowID": started.workflow_id, "waitForResult": true,
            "runDescribeWfExec": true, "getWfHistory": true, "queryType": "history"
        }))
        .unwrap();
        status(&client, &query, std::time::Duration::from_secs(60)).await.unwrap()
    })
    .await;
    assert_eq!(response.workflow_result.as_ref().unwrap()["outcome"]["status"], "succeeded");
    assert_eq!(response.workflow_query_result.as_ref().unwrap()["hooks"][0]["intent"], "pre");
    let description = response.workflow_execution_description.unwrap();
    assert_eq!(description["status"], "Completed");
    assert_eq!(description["type"], "HookLifecycle");
    assert!(response.workflow_history.unwrap().as_array().unwrap().len() > 5);
    assert!(!response.run_id.is_empty());
    // An unknown workflow is a typed not-found.
    let missing = StatusQuery::parse(&json!({"temporalServer": "t", "workflowID": unique("missing")})).unwrap();
    assert!(matches!(
        status(&client, &missing, std::time::Duration::from_secs(1)).await,
        Err(ordo_hooks::control::ControlError::NotFound)
    ));
}

/// Cancel requests cancellation (recorded in history); terminate ends the workflow with the reason.
#[tokio::test]
async fn cancel_and_terminate_reach_the_workflow() {
    use ordo_hooks::control::{cancel, CancelRequest};
    let client = support::client().await;
    let id = unique("cancel");
    let spec =
        WfTemporalSpec::parse(&json!({"workflowStartOptions": {"id": id, "taskqueue": "nobody-polls-this"}}), "")
            .unwrap();
    starter::start(&client, &spec).await.unwrap();
    let request = CancelRequest::parse(&json!({"spec": {"temporalServer": "t", "reason": "drill"}})).unwrap();
    cancel(&client, &id, &request).await.unwrap();
    let handle = client.get_workflow_handle::<UntypedWorkflow>(id.clone());
    let events = handle.fetch_history(WorkflowFetchHistoryOptions::default()).into_events().await.unwrap();
    assert!(events
        .iter()
        .any(|e| matches!(e.attributes, Some(Attributes::WorkflowExecutionCancelRequestedEventAttributes(_)))));
    let request = CancelRequest::parse(&json!({"spec": {"temporalServer": "t", "workflowID": id, "terminate": true,
                                                         "reason": "drill over", "details": ["d"]}}))
    .unwrap();
    cancel(&client, "ignored-default", &request).await.unwrap();
    let description = handle.describe(WorkflowDescribeOptions::default()).await.unwrap();
    assert_eq!(format!("{:?}", description.status()), "Terminated");
    let events = handle.fetch_history(WorkflowFetchHistoryOptions::default()).into_events().await.unwrap();
    let Some(Attributes::WorkflowExecutionTerminatedEventAttributes(t)) = events.last().unwrap().attributes.clone()
    else {
        panic!("last event is the termination");
    };
    assert_eq!(t.reason, "drill over");
    let missing = CancelRequest::parse(&json!({"spec": {"temporalServer": "t"}})).unwrap();
    assert!(matches!(
        cancel(&client, &unique("missing"), &missing).await,
        Err(ordo_hooks::control::ControlError::NotFound)
    ));
}

/// A start Temporal refuses as such (an unregistered search attribute) is a typed invalid start,
/// naming Temporal's reason, not a retryable failure.
#[tokio::test]
async fn a_start_temporal_refuses_is_invalid_not_retryable() {
    let client = support::client().await;
    let spec = WfTemporalSpec::parse(
        &json!({"workflowStartOptions": {"taskqueue": "nobody-polls-this", "SearchAttributes": {"NoSuchAttribute": "x"}}}),
        "",
    )
    .unwrap();
    match starter::start(&client, &spec).await {
        Err(StartError::Invalid { reason, .. }) => assert!(reason.contains("NoSuchAttribute"), "{reason}"),
        other => panic!("expected an invalid start, got {other:?}"),
    }
}

/// A malformed lifecycle request fails the workflow at once, saying why (no task retried forever,
/// no panic).
#[tokio::test]
async fn a_malformed_lifecycle_request_fails_the_workflow() {
    let l = lifecycle().await;
    let client = l.hooks.temporal().clone();
    let queue = domain_queue(&l);
    let result = support::with_workers(&client, l.workers, async {
        let input = temporalio_common::data_converters::RawValue::new(vec![starter::json_payload(&json!({"dig": 42}))]);
        let handle = client
            .start_workflow(
                UntypedWorkflow::new("HookLifecycle"),
                input,
                temporalio_client::WorkflowStartOptions::new(queue, unique("malformed")).build(),
            )
            .await
            .unwrap();
        handle.get_result(WorkflowGetResultOptions::default()).await
    })
    .await;
    let err = result.expect_err("a malformed request fails");
    assert!(format!("{err:?}").contains("invalid lifecycle request"), "{err:?}");
}

fn domain_queue(l: &Lifecycle) -> String {
    l.workers[0].task_queue.clone()
}

/// Several processes opening a new SQLite store at once (a worker and the CLI) all get it
/// migrated: the loser of the migration race looks again instead of failing.
#[tokio::test]
async fn concurrent_first_opens_of_a_sqlite_store_all_succeed() {
    for _ in 0..3 {
        let dir = tempfile::tempdir().unwrap();
        let opens = (0..6).map(|_| Store::open(None, dir.path()));
        for store in futures::future::join_all(opens).await {
            store.unwrap();
        }
    }
}
