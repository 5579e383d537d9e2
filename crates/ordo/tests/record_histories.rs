//! Records the histories that `ordo-provision`'s replay test replays. Run with
//! `make record-histories` after a deliberate, patched workflow change; never in CI.

mod support;

use std::path::Path;

use ordo_provision::model::{status, ApplyDecision};
use support::Env;
use temporalio_client::{NamespacedClient as _, WorkflowFetchHistoryOptions};

async fn save(env: &Env, id: &str, name: &str) {
    save_run(env, id, None, name).await;
}

/// [`save`] of one run of `id` (`None`: its latest).
async fn save_run(env: &Env, id: &str, run_id: Option<&str>, name: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../provision/tests/histories").join(format!("{name}.json"));
    if path.exists() {
        // A recorded history is what older code wrote: re-recording it with today's code would
        // drop the very case the replay test protects. Delete the file to record it again.
        eprintln!("kept {} (recorded earlier)", path.display());
        return;
    }
    let info = temporalio_client::WorkflowExecutionInfo::builder()
        .namespace(env.client.temporal().namespace())
        .workflow_id(id)
        .maybe_run_id(run_id.map(str::to_owned))
        .build();
    let handle = info.bind_untyped(env.client.temporal().clone());
    let json = handle.fetch_history(WorkflowFetchHistoryOptions::default()).to_json().await.unwrap();
    std::fs::write(&path, json).unwrap();
    eprintln!("wrote {}", path.display());
}

/// Runs `scenario` to its end, checks it ended `wanted`, and saves its history as `name`.
async fn record_run(env: &Env, scenario: &str, wanted: &str, name: &str) {
    let id = env.client.start(&env.scenario(scenario), false).await.unwrap();
    assert_eq!(env.client.result(&id).await.unwrap().status, wanted);
    save(env, &id, name).await;
}

/// Records one history per workflow path worth protecting.
#[tokio::test]
#[ignore = "writes fixtures; run with `make record-histories`"]
async fn record() {
    let env = Env::start().await;
    // First, while the admin-user stack is still empty (a later run creates the user).
    record_run(&env, "non_recoverable_failure", status::POLICY_HARD_FAILED, "provision_policy_hard_failed").await;

    record_run(&env, "advanced_visibility", status::APPLIED, "provision_advanced_visibility").await;

    let id = env.client.start(&env.scenario("human_in_the_loop_update"), false).await.unwrap();
    env.wait_status(&id, status::AWAITING_APPROVAL).await;
    let decision = ApplyDecision {
        is_approved: true,
        reason: Some("recorded".into()),
        approver: Some("alice".into()),
        ..Default::default()
    };
    env.client.decide(&id, decision, false).await.unwrap();
    assert_eq!(env.client.result(&id).await.unwrap().status, status::APPLIED);
    save(&env, &id, "provision_human_in_the_loop_update").await;

    let mut request = env.scenario("ephemeral");
    request.ephemeral_ttl = 1;
    let id = env.client.start(&request, false).await.unwrap();
    env.wait_status(&id, status::WAITING_FOR_DESTROY).await;
    env.client.extend_ttl(&id, 1).await.unwrap();
    assert_eq!(env.client.result(&id).await.unwrap().status, status::DESTROYED);
    save(&env, &id, "provision_ephemeral_extended").await;

    let id = env.client.start(&env.scenario("destroy"), true).await.unwrap();
    env.wait_for(&id, "completion", |v| v.execution_status == "Completed").await;
    save(&env, &id, "deprovision_destroy").await;

    // The workspace lock of the runs above (closed once idle).
    use futures::StreamExt as _;
    let mut locks = env.client.temporal().list_workflows(
        "WorkflowType = 'WorkspaceLockWorkflow' AND ExecutionStatus = 'Completed'",
        temporalio_client::WorkflowListOptions::default(),
    );
    let lock = locks.next().await.expect("a completed lock workflow").unwrap();
    save(&env, lock.id(), "lock_workspace").await;
}

/// Records an approval with notifications: the `notify-approvals` patch marker, the requested,
/// reminder and decided notifications (the worker has no webhook, so they report "not sent").
#[tokio::test]
#[ignore = "writes fixtures; run with `make record-histories`"]
async fn record_notified_approval() {
    let env = Env::start().await;
    let mut request = env.scenario("human_in_the_loop_update");
    request.approval_reminder_secs = Some(1);
    let id = env.client.start(&request, false).await.unwrap();
    env.wait_status(&id, status::AWAITING_APPROVAL).await;
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let decision = ApplyDecision { is_approved: false, reason: Some("recorded".into()), ..Default::default() };
    env.client.decide(&id, decision, false).await.unwrap();
    assert_eq!(env.client.result(&id).await.unwrap().status, status::REJECTED);
    save(&env, &id, "provision_approval_notified").await;
}

/// Records an ephemeral run with a destroy reminder (the `notify-destroy` patch marker and the
/// `destroy_upcoming` notification).
#[tokio::test]
#[ignore = "writes fixtures; run with `make record-histories`"]
async fn record_destroy_reminder() {
    let env = Env::start().await;
    let mut request = env.scenario("ephemeral");
    request.ephemeral_ttl = 2;
    request.destroy_reminder_secs = Some(1);
    let id = env.client.start(&request, false).await.unwrap();
    assert_eq!(env.client.result(&id).await.unwrap().status, status::DESTROYED);
    save(&env, &id, "provision_destroy_reminded").await;
}

/// Records a workspace lock after the `lock-check-when-queued` patch: one run holds the workspace
/// at its approval gate (no holder check while nobody waits), a second queues (the check runs),
/// both finish and the lock closes.
#[tokio::test]
#[ignore = "writes fixtures; run with `make record-histories`"]
async fn record_lock_with_a_queue() {
    use futures::StreamExt as _;
    let env = Env::start().await;
    let first = env.client.start(&env.scenario("human_in_the_loop_update"), false).await.unwrap();
    env.wait_status(&first, status::AWAITING_APPROVAL).await;
    let second = env.client.start(&env.scenario("human_in_the_loop_update"), false).await.unwrap();
    env.wait_status(&second, status::WAITING_FOR_WORKSPACE).await;
    let approve = ApplyDecision { is_approved: true, reason: Some("recorded".into()), ..Default::default() };
    env.client.decide(&first, approve, false).await.unwrap();
    assert_eq!(env.client.result(&first).await.unwrap().status, status::APPLIED);
    assert_eq!(env.client.result(&second).await.unwrap().status, status::APPLIED);
    let lock = support::poll("the closed lock in visibility", std::time::Duration::from_secs(30), async || {
        let query = "WorkflowType = 'WorkspaceLockWorkflow' AND ExecutionStatus = 'Completed'";
        let mut locks = env.client.temporal().list_workflows(query, temporalio_client::WorkflowListOptions::default());
        match locks.next().await {
            Some(Ok(lock)) => Ok(lock.id().to_owned()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
    save(&env, &lock, "lock_workspace_queued").await;
}

/// Records a run whose approvers bind their decision to the plan hash (the `decision-plan-hash`
/// patch marker at the gate), with one refused stale decision before the accepted one.
#[tokio::test]
#[ignore = "writes fixtures; run with `make record-histories`"]
async fn record_decision_bound_to_the_plan() {
    let env = Env::start().await;
    let mut request = env.scenario("human_in_the_loop_update");
    request.approvers = vec!["alice".into()];
    let id = env.client.start(&request, false).await.unwrap();
    let plan_hash = env.wait_status(&id, status::AWAITING_APPROVAL).await.state.plan_hash;
    let stale = ApplyDecision {
        is_approved: true,
        reason: Some("recorded".into()),
        approver: Some("alice".into()),
        plan_hash: Some("0".repeat(64)),
        ..Default::default()
    };
    assert!(env.client.decide(&id, stale, false).await.is_err());
    let decision = ApplyDecision {
        is_approved: true,
        reason: Some("recorded".into()),
        approver: Some("alice".into()),
        plan_hash,
        ..Default::default()
    };
    env.client.decide(&id, decision, false).await.unwrap();
    assert_eq!(env.client.result(&id).await.unwrap().status, status::APPLIED);
    save(&env, &id, "provision_decision_bound").await;
}

/// Records an `apply-outputs` run: a happy run whose apply reads the outputs (no
/// `terraform_output` step, one patch marker).
#[tokio::test]
#[ignore = "writes fixtures; run with `make record-histories`"]
async fn record_apply_outputs() {
    let env = Env::start().await;
    record_run(&env, "advanced_visibility", status::APPLIED, "provision_apply_outputs").await;
}

/// Records `local-init` runs: a happy run (`terraform_init` a local activity in the first workflow
/// task, one patch marker) and one approved at the gate.
#[tokio::test]
#[ignore = "writes fixtures; run with `make record-histories`"]
async fn record_local_init() {
    let env = Env::start().await;
    record_run(&env, "advanced_visibility", status::APPLIED, "provision_local_init").await;
    let id = env.client.start(&env.scenario("human_in_the_loop_update"), false).await.unwrap();
    let plan_hash = env.wait_status(&id, status::AWAITING_APPROVAL).await.state.plan_hash;
    let approve = ApplyDecision { is_approved: true, reason: Some("recorded".into()), plan_hash, ..Default::default() };
    env.client.decide(&id, approve, false).await.unwrap();
    assert_eq!(env.client.result(&id).await.unwrap().status, status::APPLIED);
    save(&env, &id, "provision_local_init_approved").await;
}

/// Records `light-run` histories: a happy run (lock taken and given back by local activities,
/// policy checked in `terraform_plan`, apply from the plan the worker kept), an approved run whose
/// apply found no kept plan (the worker's copy removed: the workflow sent the bytes), a run that
/// queued behind it (granted by signal), and the lock that served them.
#[tokio::test]
#[ignore = "writes fixtures; run with `make record-histories`"]
async fn record_light_run() {
    let env = Env::start().await;
    record_run(&env, "advanced_visibility", status::APPLIED, "provision_light_run").await;

    let first = env.client.start(&env.scenario("human_in_the_loop_update"), false).await.unwrap();
    let plan_hash = env.wait_status(&first, status::AWAITING_APPROVAL).await.state.plan_hash;
    let second = env.client.start(&env.scenario("human_in_the_loop_update"), false).await.unwrap();
    env.wait_status(&second, status::WAITING_FOR_WORKSPACE).await;
    std::fs::remove_dir_all(env.data.path().join("plans")).unwrap();
    let approve = ApplyDecision { is_approved: true, reason: Some("recorded".into()), plan_hash, ..Default::default() };
    env.client.decide(&first, approve, false).await.unwrap();
    assert_eq!(env.client.result(&first).await.unwrap().status, status::APPLIED);
    // The admin user exists now: the queued run's plan changes nothing and passes.
    assert_eq!(env.client.result(&second).await.unwrap().status, status::APPLIED);
    save(&env, &first, "provision_light_plan_not_local").await;
    save(&env, &second, "provision_light_queued").await;
    let lock = closed_lock(&env, "human_in_the_loop_update").await;
    save(&env, &lock, "lock_light_queued").await;
}

/// The id of `scenario`'s workspace lock (the hash of the canonical directory), once it closed.
async fn closed_lock(env: &Env, scenario: &str) -> String {
    let lock = env.workspace_lock_id(scenario);
    support::poll("the lock closed", std::time::Duration::from_secs(30), async || {
        let handle = env.client.temporal().get_workflow_handle::<temporalio_client::UntypedWorkflow>(lock.as_str());
        match handle.describe(temporalio_client::WorkflowDescribeOptions::default()).await {
            Ok(d) if d.status() == temporalio_client::WorkflowExecutionStatus::Completed => Ok(()),
            other => Err(format!("{:?}", other.map(|d| d.status()))),
        }
    })
    .await;
    lock
}

/// Records dormant workspace locks: one taken by a run on a free workspace (started with a start
/// delay, woken by the give-back) and one a second run queued on (woken by the waiter's request,
/// granting it after the first run gives the workspace back).
#[tokio::test]
#[ignore = "writes fixtures; run with `make record-histories`"]
async fn record_dormant_lock() {
    let env = Env::start().await;
    let free = env.client.start(&env.scenario("advanced_visibility"), false).await.unwrap();
    assert_eq!(env.client.result(&free).await.unwrap().status, status::APPLIED);
    let lock = closed_lock(&env, "advanced_visibility").await;
    save(&env, &lock, "lock_dormant").await;

    two_runs_take_turns(&env).await;
    let lock = closed_lock(&env, "human_in_the_loop_update").await;
    save(&env, &lock, "lock_dormant_queued").await;
}

/// Records a dormant lock handed over: a run holds the workspace at its approval gate (its lock
/// dormant), a second queues by update, which wakes the lock, and the lock carries on as a new run
/// before answering (`lock-dormant-handover`); the first run's give-back finds the run it started
/// closed and signals the new one, which grants the second. Both runs of the lock are saved.
#[tokio::test]
#[ignore = "writes fixtures; run with `make record-histories`"]
async fn record_lock_handover() {
    use futures::StreamExt as _;
    let env = Env::start().await;
    two_runs_take_turns(&env).await;
    let lock = closed_lock(&env, "human_in_the_loop_update").await;
    let query = format!("WorkflowId = '{lock}' AND ExecutionStatus = 'ContinuedAsNew'");
    let mut handed = env.client.temporal().list_workflows(query, temporalio_client::WorkflowListOptions::default());
    let dormant = handed.next().await.expect("the dormant run carried on as a new run").unwrap();
    save_run(&env, &lock, Some(dormant.run_id()), "lock_dormant_handover").await;
    save(&env, &lock, "lock_handed_over").await;
}

/// Two runs on one workspace: the first holds it at its approval gate while the second queues, then
/// the first is approved and both apply.
async fn two_runs_take_turns(env: &Env) {
    let first = env.client.start(&env.scenario("human_in_the_loop_update"), false).await.unwrap();
    let plan_hash = env.wait_status(&first, status::AWAITING_APPROVAL).await.state.plan_hash;
    let second = env.client.start(&env.scenario("human_in_the_loop_update"), false).await.unwrap();
    env.wait_status(&second, status::WAITING_FOR_WORKSPACE).await;
    let approve = ApplyDecision { is_approved: true, reason: Some("recorded".into()), plan_hash, ..Default::default() };
    env.client.decide(&first, approve, false).await.unwrap();
    assert_eq!(env.client.result(&first).await.unwrap().status, status::APPLIED);
    assert_eq!(env.client.result(&second).await.unwrap().status, status::APPLIED);
}
