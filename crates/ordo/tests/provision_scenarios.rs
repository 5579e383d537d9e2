//! Every seed-001 scenario end to end on a real Temporal dev server, with the sim driver.

mod support;

use ordo_provision::client::RunError;
use ordo_provision::model::{status, ApplyDecision, RefusalKind, SENSITIVE_MASK};
use support::{poll, Env};

const NAMESPACE_STACK: &str = "stacks/tcloud_namespace";
const ADMIN_STACK: &str = "stacks/tcloud_admin_user";

fn decision(approve: bool, reason: &str, approver: Option<&str>) -> ApplyDecision {
    ApplyDecision {
        is_approved: approve,
        reason: Some(reason.to_owned()),
        approver: approver.map(str::to_owned),
        ..Default::default()
    }
}

/// Happy path: applied, outputs returned with sensitive values masked, every resource applied once.
#[tokio::test]
async fn happy_path_applies_and_masks_sensitive_outputs() {
    let env = Env::start().await;
    let id = env.client.start(&env.scenario("happy_path"), false).await.unwrap();
    let result = env.client.result(&id).await.unwrap();
    assert_eq!(result.status, status::APPLIED);
    assert!(result.applied_plan_hash.is_some());
    let sensitive: Vec<_> = result.outputs.values().filter(|o| o.sensitive).collect();
    assert!(!sensitive.is_empty(), "the namespace stack has a sensitive output");
    assert!(sensitive.iter().all(|o| o.value == SENSITIVE_MASK));
    let view = env.client.view(&id).await.unwrap();
    assert_eq!(view.state.progress, 100);
    assert!(view.state.policy_results.is_empty());
    let sim = env.sim_state(NAMESPACE_STACK);
    assert!(sim.resources > 0);
    assert!(sim.apply_counts.values().all(|n| *n == 1), "{sim:?}");

    // The raw history, as the Temporal Web UI and `temporal workflow show` print it: the apply
    // read the outputs (`apply-outputs`: no `terraform_output` step) and masked them, so the key
    // never entered history.
    assert!(activity_results(&env, &id, "terraform_output").await.is_empty(), "the apply read the outputs");
    let results = activity_results(&env, &id, "terraform_apply").await;
    assert_eq!(results.len(), 1, "one terraform_apply result");
    assert!(results[0].contains(SENSITIVE_MASK), "{}", results[0]);
    assert!(
        !results[0].contains("U0lNVUxBVEVELUtFWS1OT1QtQS1SRUFMLUtFWQ"),
        "the private key is in history: {}",
        results[0]
    );
}

/// The raw payloads (as text) of every completed `activity_type` of run `id`.
async fn activity_results(env: &Env, id: &str, activity_type: &str) -> Vec<String> {
    use temporalio_common::protos::temporal::api::history::v1::history_event::Attributes;
    let events = env.history(id).await;
    let scheduled: Vec<i64> = events
        .iter()
        .filter(|e| {
            matches!(&e.attributes, Some(Attributes::ActivityTaskScheduledEventAttributes(a))
            if a.activity_type.as_ref().is_some_and(|t| t.name == activity_type))
        })
        .map(|e| e.event_id)
        .collect();
    events
        .iter()
        .filter_map(|e| match &e.attributes {
            Some(Attributes::ActivityTaskCompletedEventAttributes(a)) if scheduled.contains(&a.scheduled_event_id) => {
                Some(
                    a.result
                        .iter()
                        .flat_map(|p| &p.payloads)
                        .map(|p| String::from_utf8_lossy(&p.data).into_owned())
                        .collect(),
                )
            }
            _ => None,
        })
        .collect()
}

/// Advanced visibility: `provisionStatus` is published, so `list --status applied` finds the run.
#[tokio::test]
async fn advanced_visibility_publishes_provision_status() {
    let env = Env::start().await;
    let id = env.client.start(&env.scenario("advanced_visibility"), false).await.unwrap();
    env.client.result(&id).await.unwrap();
    let filter = ordo_provision::client::ListFilter {
        status: Some("applied".into()),
        scenario: Some("advanced_visibility".into()),
        ..Default::default()
    };
    let found = env.wait_listed(&filter).await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].workflow_id, id);
    assert_eq!(found[0].directory.as_deref(), Some(NAMESPACE_STACK));
}

/// Human in the loop (signal): the admin user waits; the seed's signal approves it.
#[tokio::test]
async fn human_in_the_loop_signal_approves_by_signal() {
    let env = Env::start().await;
    let id = env.client.start(&env.scenario("human_in_the_loop_signal"), false).await.unwrap();
    let view = env.wait_status(&id, status::AWAITING_APPROVAL).await;
    let shown = view.state.plan_hash.clone().expect("the plan shown to the approver");
    assert!(view.state.approval_pending);
    assert_eq!(view.state.progress, 60);
    assert!(view.state.policy_results.iter().any(|r| r.message.contains("admin")), "{:?}", view.state.policy_results);
    assert_eq!(env.sim_state(ADMIN_STACK).resources, 0, "nothing applied before approval");

    let approve = ApplyDecision { is_approved: true, reason: None, approver: None, ..Default::default() };
    env.decide(&id, approve, true).await.unwrap();
    let result = env.client.result(&id).await.unwrap();
    assert_eq!(result.status, status::APPLIED);
    let view = env.client.view(&id).await.unwrap();
    let approval = view.state.approval.expect("approval recorded");
    assert_eq!(approval.via, "signal");
    assert_eq!(approval.plan_hash, shown, "the approval is bound to the plan that was shown");
    // What the driver applied, from its own journal (not the workflow's state): that plan.
    let effects = env.sim_effects(ADMIN_STACK);
    assert!(!effects.is_empty() && effects.iter().all(|e| e.plan == shown), "{shown}: {effects:?}");
    assert_eq!(result.applied_plan_hash.as_deref(), Some(shown.as_str()));
}

/// A rejection applies nothing and ends as `rejected`.
#[tokio::test]
async fn rejection_applies_nothing() {
    let env = Env::start().await;
    let id = env.client.start(&env.scenario("human_in_the_loop_signal"), false).await.unwrap();
    env.wait_status(&id, status::AWAITING_APPROVAL).await;
    env.decide(&id, decision(false, "not today", None), true).await.unwrap();
    let result = env.client.result(&id).await.unwrap();
    assert_eq!(result.status, status::REJECTED);
    assert_eq!(env.sim_state(ADMIN_STACK).resources, 0);
}

/// Human in the loop (update): an empty reason and a stranger are refused by the validator; an
/// approver with a reason is accepted, and who/why is recorded.
#[tokio::test]
async fn human_in_the_loop_update_validates_reason_and_approver() {
    let env = Env::start().await;
    let mut request = env.scenario("human_in_the_loop_update");
    request.approvers = vec!["alice".into()];
    // Slow resources (3 s each), so the run is still applying when decided again below.
    request.sim.latency_ms = Some(3000);
    let id = env.client.start(&request, false).await.unwrap();
    env.wait_status(&id, status::AWAITING_APPROVAL).await;

    match env.decide(&id, decision(true, "", Some("alice")), false).await {
        Err(RunError::Refused(r)) => assert_eq!(r.kind, RefusalKind::Invalid { field: "reason".into() }, "{r}"),
        other => panic!("an empty reason must be refused, got {other:?}"),
    }
    match env.decide(&id, decision(true, "looks fine", Some("mallory")), false).await {
        Err(RunError::Refused(r)) => {
            assert_eq!(r.kind, RefusalKind::NotAnApprover, "{r}");
            assert!(r.message.contains("mallory"), "{r}");
        }
        other => panic!("a stranger must be refused, got {other:?}"),
    }
    assert_eq!(env.client.view(&id).await.unwrap().state.status, status::AWAITING_APPROVAL);

    env.decide(&id, decision(true, "reviewed the admin grant", Some("alice")), false).await.unwrap();
    // Once decided, no other decision is accepted while the run goes on: the validator refuses it
    // as not pending (the run is still open, so this is the validator speaking, not a closed run).
    env.wait_status(&id, status::APPLYING).await;
    match env.decide(&id, decision(true, "again", Some("alice")), false).await {
        Err(RunError::Refused(r)) => assert_eq!(r.kind, RefusalKind::NotPending, "{r}"),
        other => panic!("a second decision must be refused as not pending, got {other:?}"),
    }
    let result = env.client.result(&id).await.unwrap();
    assert_eq!(result.status, status::APPLIED);
    let approval = env.client.view(&id).await.unwrap().state.approval.unwrap();
    assert_eq!(
        (approval.approver.as_deref(), approval.reason.as_str(), approval.via.as_str()),
        (Some("alice"), "reviewed the admin grant", "update")
    );
    assert!(approval.decided_at.is_some());
}

/// Non-recoverable failure: a hard policy failure completes as `policy_hard_failed`, nothing applied.
#[tokio::test]
async fn hard_policy_failure_applies_nothing() {
    let env = Env::start().await;
    let id = env.client.start(&env.scenario("non_recoverable_failure"), false).await.unwrap();
    let result = env.client.result(&id).await.unwrap();
    assert_eq!(result.status, status::POLICY_HARD_FAILED);
    assert!(result.outputs.is_empty());
    assert_eq!(env.client.view(&id).await.unwrap().state.progress, 100);
    assert_eq!(env.sim_state(ADMIN_STACK).total_applies, 0);
}

/// API failure: apply fails on attempts 1–4 and succeeds on the 5th.
#[tokio::test]
async fn api_failure_recovers_on_the_fifth_attempt() {
    let env = Env::start().await;
    let id = env.client.start(&env.scenario("api_failure"), false).await.unwrap();
    let result = env.client.result(&id).await.unwrap();
    assert_eq!(result.status, status::APPLIED);
    let attempts = support::apply_attempts(&env, &id).await;
    assert_eq!(attempts, 5);
    assert!(env.sim_state(NAMESPACE_STACK).apply_counts.values().all(|n| *n == 1));
}

/// Ephemeral: a durable TTL timer, extended once by `extend_ttl`, then destroy.
#[tokio::test]
async fn ephemeral_destroys_after_the_ttl_and_can_be_extended() {
    let env = Env::start().await;
    let mut request = env.scenario("ephemeral");
    request.ephemeral_ttl = 3;
    let id = env.client.start(&request, false).await.unwrap();
    let waiting = env.wait_status(&id, status::WAITING_FOR_DESTROY).await;
    let before = waiting.state.destroy_at.clone().unwrap();
    assert!(env.sim_state(NAMESPACE_STACK).resources > 0);
    let after = env.client.extend_ttl(&id, 2).await.unwrap();
    assert!(after > before, "{after} should be later than {before}");
    let result = env.client.result(&id).await.unwrap();
    assert_eq!(result.status, status::DESTROYED);
    assert_eq!(env.sim_state(NAMESPACE_STACK).resources, 0);

    // The destroy took the workspace again: a second dormant lock, given back like the first, not
    // the first one's closed run (two takes by one run are two starts to the server).
    wait_for_lock_runs(&env, "ephemeral", "Terminated", 2).await;
}

/// Waits until visibility lists exactly `count` runs of `scenario`'s workspace lock that ended
/// `status` (`Terminated`: given back with no task; `ContinuedAsNew`: handed over to a new run).
async fn wait_for_lock_runs(env: &Env, scenario: &str, status: &str, count: usize) {
    let lock = env.workspace_lock_id(scenario);
    let query = format!("WorkflowId = '{lock}' AND ExecutionStatus = '{status}'");
    poll(&format!("{count} lock runs {status}"), std::time::Duration::from_secs(30), async || {
        use futures::StreamExt as _;
        let listed = env.client.temporal().list_workflows(&query, temporalio_client::WorkflowListOptions::default());
        match listed.collect::<Vec<_>>().await.len() {
            n if n == count => Ok(()),
            n => Err(format!("{n} listed")),
        }
    })
    .await;
}

/// Destroy: the deprovision workflow empties what the happy path created.
#[tokio::test]
async fn destroy_removes_what_the_happy_path_created() {
    let env = Env::start().await;
    let id = env.client.start(&env.scenario("happy_path"), false).await.unwrap();
    env.client.result(&id).await.unwrap();
    assert!(env.sim_state(NAMESPACE_STACK).resources > 0);
    let destroy = env.client.start(&env.scenario("destroy"), true).await.unwrap();
    assert!(destroy.starts_with("deprovision-infra-"));
    let view = env.wait_for(&destroy, "completion", |v| v.execution_status == "Completed").await;
    assert_eq!(view.state.status, status::DESTROYED);
    assert_eq!(view.state.progress, 100);
    assert_eq!(env.sim_state(NAMESPACE_STACK).resources, 0);
}

/// Recoverable failure: a worker with the "bug" switch keeps failing the plan; after it is
/// replaced by a worker without it, the same run completes.
#[tokio::test]
async fn recoverable_failure_continues_after_the_fix() {
    let mut env = Env::without_worker().await;
    let buggy = env.spawn_worker(&["--inject-plan-bug"]);
    let id = env.client.start(&env.scenario("recoverable_failure"), false).await.unwrap();
    support::wait_for_activity_attempt(&env, &id, "terraform_plan", 2).await;
    assert_eq!(env.client.view(&id).await.unwrap().state.status, status::PLANNING);
    env.kill_worker(buggy);
    env.spawn_worker(&[]);
    let result = env.client.result(&id).await.unwrap();
    assert_eq!(result.status, status::APPLIED);
}

/// A worker lost in the middle of a plan is noticed by the plan's heartbeat, not after the step's
/// whole start-to-close timeout: the next attempt carries a heartbeat timeout as its last failure,
/// and the run completes on another worker.
#[tokio::test]
async fn a_worker_lost_mid_plan_is_noticed_by_the_heartbeat() {
    use temporalio_client::WorkflowDescribeOptions;
    use temporalio_common::protos::temporal::api::enums::v1::{PendingActivityState, TimeoutType};
    use temporalio_common::protos::temporal::api::failure::v1::failure::FailureInfo;

    let mut env = Env::without_worker().await;
    let doomed = env.spawn_worker(&[]);
    let mut request = env.scenario("advanced_visibility");
    request.sim.latency_ms = Some(3_000); // the plan refreshes each declared resource
    let id = env.client.start(&request, false).await.unwrap();
    let handle = env.client.temporal().get_workflow_handle::<ordo_provision::workflows::ProvisionInfraWorkflow>(&id);
    let plan = |d: &temporalio_client::WorkflowExecutionDescription| {
        d.raw()
            .pending_activities
            .iter()
            .find(|a| a.activity_type.as_ref().is_some_and(|t| t.name == "terraform_plan"))
            .cloned()
    };
    poll("the plan to start", std::time::Duration::from_secs(60), async || {
        match plan(&handle.describe(WorkflowDescribeOptions::default()).await.unwrap()) {
            Some(plan) if plan.state() == PendingActivityState::Started => Ok(()),
            other => Err(other),
        }
    })
    .await;
    env.kill_worker(doomed);
    env.spawn_worker(&[]);

    support::wait_for_activity_attempt(&env, &id, "terraform_plan", 2).await;
    let description = handle.describe(WorkflowDescribeOptions::default()).await.unwrap();
    let failure = plan(&description).and_then(|a| a.last_failure).expect("the lost attempt's failure");
    let timeout = match failure.failure_info {
        Some(FailureInfo::TimeoutFailureInfo(info)) => info.timeout_type(),
        other => panic!("expected a timeout, got {other:?}"),
    };
    assert_eq!(timeout, TimeoutType::Heartbeat);
    assert_eq!(env.client.result(&id).await.unwrap().status, status::APPLIED);
}

/// A worker whose notifications go to a local webhook answering `status` (links under
/// `http://ordo.test/`).
async fn notifying(status: u16) -> (support::Webhook, Env) {
    let webhook = support::Webhook::start(status).await;
    let mut env = Env::without_worker().await;
    env.spawn_worker_with_env(&[("ORDO_NOTIFY_WEBHOOK", &webhook.url), ("ORDO_PUBLIC_URL", "http://ordo.test/")], &[]);
    (webhook, env)
}

/// Approvers hear of a plan that waits for them (with a link, the changes and who may decide),
/// are reminded while nobody decides, and hear the outcome.
#[tokio::test]
async fn approvers_are_notified_reminded_and_told_the_outcome() {
    let (webhook, env) = notifying(200).await;
    let mut request = env.scenario("human_in_the_loop_update");
    request.approvers = vec!["alice".into()];
    request.approval_reminder_secs = Some(1);
    let id = env.client.start(&request, false).await.unwrap();

    let received = webhook.wait_for(2).await;
    let events: Vec<&str> = received.iter().map(|b| b["ordo"]["notification"]["event"].as_str().unwrap()).collect();
    assert_eq!(events, ["approval_requested", "approval_reminder"]);
    let requested = &received[0];
    let link = format!("http://ordo.test/runs/{id}");
    assert_eq!(requested["ordo"]["link"], link.as_str());
    let text = requested["text"].as_str().unwrap();
    assert!(
        text.starts_with(&format!("Approval needed for <{link}|{id}> on {ADMIN_STACK} (+2 ~0 -0): alice")),
        "{text}"
    );
    assert_eq!(requested["ordo"]["notification"]["approvers"], serde_json::json!(["alice"]));
    assert!(requested["ordo"]["notification"]["policy_messages"][0].as_str().unwrap().contains("ordo.admin_users"));

    env.decide(&id, decision(true, "reviewed the admin grant", Some("alice")), false).await.unwrap();
    assert_eq!(env.client.result(&id).await.unwrap().status, status::APPLIED);
    let received = webhook.wait_for(3).await;
    assert_eq!(received.len(), 3, "one reminder only: {received:#?}");
    let decided = &received[2]["ordo"]["notification"];
    assert_eq!(decided["event"], "approval_decided");
    assert_eq!(decided["decision"]["approver"], "alice");
    let text = received[2]["text"].as_str().unwrap();
    assert!(text.ends_with("was approved by alice: reviewed the admin grant."), "{text}");
    assert_eq!(env.client.view(&id).await.unwrap().state.notification_error, None);
}

/// Four eyes: a run asking for two approvals waits after the first, refuses the same approver
/// twice and an unnamed one, and applies after a second, distinct approver; both are recorded.
#[tokio::test]
async fn two_distinct_approvals_are_needed_when_the_request_asks_for_them() {
    let env = Env::start().await;
    let mut request = env.scenario("human_in_the_loop_update");
    request.approvers = vec!["alice".into(), "carol".into()];
    request.approvals_required = 2;
    let id = env.client.start(&request, false).await.unwrap();
    env.wait_for(&id, "the approval", |v| v.state.approval_pending).await;

    env.decide(&id, decision(true, "looks right", Some("alice")), false).await.unwrap();
    let view = env.client.view(&id).await.unwrap();
    assert!(view.state.approval_pending, "one approval of two: still waiting");
    assert_eq!(view.state.approvals.len(), 1);
    assert_eq!(view.state.approval, None);
    for (who, expected) in [(Some("alice"), RefusalKind::AlreadyApproved), (None, RefusalKind::ApproverRequired)] {
        match env.decide(&id, decision(true, "again", who), false).await {
            Err(RunError::Refused(r)) => assert_eq!(r.kind, expected, "{r}"),
            other => panic!("expected a {expected:?} refusal, got {other:?}"),
        }
    }

    env.decide(&id, decision(true, "second pair of eyes", Some("carol")), false).await.unwrap();
    assert_eq!(env.client.result(&id).await.unwrap().status, status::APPLIED);
    let state = env.client.view(&id).await.unwrap().state;
    let approvers: Vec<_> = state.approvals.iter().map(|a| a.approver.as_deref().unwrap()).collect();
    assert_eq!(approvers, ["alice", "carol"]);
    assert_eq!(state.approval.unwrap().approver.as_deref(), Some("carol"));
}

/// A decision is bound to the plan it names: another plan's hash is refused as `plan_changed`,
/// and where the run lists approvers a decision without a hash is refused (the update) or
/// ignored (seed 001's signal, which cannot be refused) — the run keeps waiting either way.
#[tokio::test]
async fn a_decision_names_the_plan_it_approves() {
    use ordo_provision::model::RefusalKind;
    let env = Env::start().await;
    let mut request = env.scenario("human_in_the_loop_update");
    request.approvers = vec!["alice".into()];
    let id = env.client.start(&request, false).await.unwrap();
    let waiting = env.wait_status(&id, status::AWAITING_APPROVAL).await.state.plan_hash.unwrap();

    let mut stale = decision(true, "reviewed", Some("alice"));
    stale.plan_hash = Some("f".repeat(64));
    match env.client.decide(&id, stale, false).await {
        Err(RunError::Refused(refusal)) => assert_eq!(refusal.kind, RefusalKind::PlanChanged, "{refusal:?}"),
        other => panic!("expected plan_changed, got {other:?}"),
    }
    match env.client.decide(&id, decision(true, "reviewed", Some("alice")), false).await {
        Err(RunError::Refused(refusal)) => {
            assert_eq!(refusal.kind, RefusalKind::Invalid { field: "plan_hash".into() }, "{refusal:?}")
        }
        other => panic!("expected a refusal naming plan_hash, got {other:?}"),
    }
    env.client.decide(&id, decision(true, "seed signal", Some("alice")), true).await.unwrap();
    let view = env.wait_for(&id, "the signal to be ignored", |v| v.state.error.is_some()).await;
    assert!(view.state.approval_pending, "{view:?}");
    assert!(view.state.error.unwrap().contains("plan_hash"));

    let mut bound = decision(true, "reviewed this plan", Some("alice"));
    bound.plan_hash = Some(waiting.clone());
    env.client.decide(&id, bound, false).await.unwrap();
    let view = env.wait_status(&id, status::APPLIED).await;
    assert_eq!(view.state.approval.unwrap().plan_hash, waiting);
}

/// A request cannot ask for more approvals than it has approvers, nor for none.
#[test]
fn approvals_required_is_checked_against_the_approvers() {
    use ordo_provision::model::ProvisionRequest;
    let too_many = serde_json::json!({"directory": "stacks/x", "approvers": ["alice"], "approvals_required": 2});
    let err = ProvisionRequest::parse(too_many).unwrap_err();
    assert_eq!(
        (err.field.as_str(), err.reason.as_str()),
        ("approvals_required", "must not exceed the number of approvers (1)")
    );
    let none = serde_json::json!({"directory": "stacks/x", "approvals_required": 0});
    assert_eq!(ProvisionRequest::parse(none).unwrap_err().field, "approvals_required");
}

/// A decision before the reminder is due cancels both the deadline and the reminder timer on the
/// server (a timer that loses a race stays open unless cancelled), and no reminder is sent.
#[tokio::test]
async fn a_decision_before_the_reminder_cancels_both_timers() {
    use temporalio_common::protos::temporal::api::history::v1::history_event::Attributes;

    let (webhook, env) = notifying(200).await;
    let mut request = env.scenario("human_in_the_loop_update");
    request.approval_reminder_secs = Some(3600);
    let id = env.client.start(&request, false).await.unwrap();
    webhook.wait_for(1).await;
    env.wait_for(&id, "the approval", |v| v.state.approval_pending).await;
    env.decide(&id, decision(false, "not today", None), false).await.unwrap();
    assert_eq!(env.client.result(&id).await.unwrap().status, status::REJECTED);

    let events = env.history(&id).await;
    let count =
        |matches: fn(&Attributes) -> bool| events.iter().filter(|e| e.attributes.as_ref().is_some_and(matches)).count();
    assert_eq!(count(|a| matches!(a, Attributes::TimerStartedEventAttributes(_))), 2, "deadline and reminder");
    assert_eq!(count(|a| matches!(a, Attributes::TimerCanceledEventAttributes(_))), 2, "both cancelled");
    assert_eq!(count(|a| matches!(a, Attributes::TimerFiredEventAttributes(_))), 0);
    let events: Vec<String> =
        webhook.received().iter().map(|b| b["ordo"]["notification"]["event"].as_str().unwrap().to_owned()).collect();
    assert_eq!(events, ["approval_requested", "approval_decided"]);
}

/// An ephemeral run warns before it is destroyed, and warns again after an extension pushed the
/// destroy out; then it is destroyed on time.
#[tokio::test]
async fn an_ephemeral_run_warns_before_its_destroy_and_again_after_an_extension() {
    let (webhook, env) = notifying(200).await;
    let mut request = env.scenario("ephemeral");
    // The warning comes 2 s in, leaving 4 s to extend before the destroy.
    request.ephemeral_ttl = 6;
    request.destroy_reminder_secs = Some(4);
    let id = env.client.start(&request, false).await.unwrap();

    let first = webhook.wait_for(1).await;
    assert_eq!(first[0]["ordo"]["notification"]["event"], "destroy_upcoming");
    let destroy_at = env.client.view(&id).await.unwrap().state.destroy_at.expect("a destroy time");
    assert_eq!(first[0]["ordo"]["notification"]["deadline"], destroy_at.as_str());
    assert!(first[0]["text"].as_str().unwrap().contains("will be destroyed at"), "{first:#?}");

    let extended = env.client.extend_ttl(&id, 4).await.unwrap();
    assert_ne!(extended, destroy_at);
    let both = webhook.wait_for(2).await;
    assert_eq!(both[1]["ordo"]["notification"]["deadline"], extended.as_str(), "the second warning names the new time");
    assert_eq!(env.client.result(&id).await.unwrap().status, status::DESTROYED);
    assert_eq!(webhook.received().len(), 2);
}

/// A webhook that keeps failing never holds a run up: each notification is tried a few times,
/// the failure is recorded in the run's state, and the run goes on (here: to its expiry).
#[tokio::test]
async fn a_failing_webhook_never_blocks_the_run() {
    let (webhook, env) = notifying(503).await;
    let mut request = env.scenario("human_in_the_loop_update");
    request.approval_timeout_secs = 2;
    let id = env.client.start(&request, false).await.unwrap();
    assert_eq!(env.client.result(&id).await.unwrap().status, status::APPROVAL_EXPIRED);
    let events: Vec<String> =
        webhook.received().iter().map(|b| b["ordo"]["notification"]["event"].as_str().unwrap().to_owned()).collect();
    let tries = |event: &str| events.iter().filter(|e| *e == event).count();
    assert_eq!((tries("approval_requested"), tries("approval_expired")), (5, 5), "{events:?}");
    let error = env.client.view(&id).await.unwrap().state.notification_error.expect("the failure is recorded");
    assert!(error.contains("ApprovalExpired notification not delivered") && error.contains("503"), "{error}");
}

/// The approval deadline: nobody decides, the run ends as `approval_expired`, nothing applied.
#[tokio::test]
async fn approval_expires_after_the_deadline() {
    let env = Env::start().await;
    let mut request = env.scenario("human_in_the_loop_update");
    request.approval_timeout_secs = 1;
    let id = env.client.start(&request, false).await.unwrap();
    let result = env.client.result(&id).await.unwrap();
    assert_eq!(result.status, status::APPROVAL_EXPIRED);
    assert_eq!(env.sim_state(ADMIN_STACK).resources, 0);
}

/// Re-plan: `request_continue_as_new` while awaiting approval starts a new run with the same
/// input, which plans and waits again.
#[tokio::test]
async fn replan_continues_as_new_with_the_same_input() {
    let env = Env::start().await;
    let id = env.client.start(&env.scenario("human_in_the_loop_update"), false).await.unwrap();
    let first = env.wait_status(&id, status::AWAITING_APPROVAL).await;
    let first_run = support::run_id(&env, &id).await;
    env.client.replan(&id).await.unwrap();
    poll("continue-as-new to start a new run", std::time::Duration::from_secs(10), async || {
        let run = support::run_id(&env, &id).await;
        if run != first_run {
            Ok(())
        } else {
            Err(run)
        }
    })
    .await;
    let second = env.wait_status(&id, status::AWAITING_APPROVAL).await;
    assert_eq!(first.state.directory, second.state.directory);
    env.decide(&id, decision(true, "fresh plan ok", None), false).await.unwrap();
    assert_eq!(env.client.result(&id).await.unwrap().status, status::APPLIED);
}

/// A plan approved after the workspace drifted is stale: it is re-planned and re-checked (the new
/// plan still grants admin, so it waits for a new approval), never forced, and what is applied is
/// the new plan, once.
#[tokio::test]
async fn stale_plan_is_replanned_not_forced() {
    let env = Env::start().await;
    let id = env.client.start(&env.scenario("human_in_the_loop_update"), false).await.unwrap();
    let first = env.wait_status(&id, status::AWAITING_APPROVAL).await;
    let first_hash = first.state.plan_hash.clone().unwrap();
    // Drift: someone applies part of the stack (the namespace, not the admin user) outside this
    // run while it waits, so the re-plan still has the admin grant to check.
    let stack = env.root.path().join(ADMIN_STACK).join("stack.json");
    let original = std::fs::read_to_string(&stack).unwrap();
    let mut partial: serde_json::Value = serde_json::from_str(&original).unwrap();
    partial["resources"].as_array_mut().unwrap().retain(|r| r["type"] != "temporalcloud_user");
    partial["outputs"].as_object_mut().unwrap().remove("user_id");
    std::fs::write(&stack, partial.to_string()).unwrap();
    support::apply_outside_ordo(&env, ADMIN_STACK).await;
    std::fs::write(&stack, original).unwrap();
    let drift = env.sim_effects(ADMIN_STACK).len();
    assert!(drift > 0);

    let mut old = decision(true, "approved the old plan", None);
    old.plan_hash = Some(first_hash.clone());
    env.decide(&id, old, false).await.unwrap();
    let again = env
        .wait_for(&id, "a new plan to wait for approval", |v| {
            v.state.status == status::AWAITING_APPROVAL && v.state.plan_hash.as_deref() != Some(first_hash.as_str())
        })
        .await;
    assert_eq!(again.state.plan_attempts, 2, "the stale plan was replaced by a new one");
    let second_hash = again.state.plan_hash.clone().unwrap();
    assert!(env.sim_effects(ADMIN_STACK).len() == drift, "nothing applied on the old approval");

    env.decide(&id, decision(true, "approved the new plan", None), false).await.unwrap();
    let result = env.client.result(&id).await.unwrap();
    assert_eq!(result.status, status::APPLIED);
    assert_eq!(result.applied_plan_hash.as_deref(), Some(second_hash.as_str()));
    // The driver's journal: after the drift, only the new plan's operations, each once.
    let applied = &env.sim_effects(ADMIN_STACK)[drift..];
    assert!(!applied.is_empty() && applied.iter().all(|e| e.plan == second_hash), "{applied:?}");
    assert!(applied.iter().any(|e| e.address == "temporalcloud_user.admin"), "{applied:?}");
    let mut addresses: Vec<&str> = applied.iter().map(|e| e.address.as_str()).collect();
    addresses.sort_unstable();
    addresses.dedup();
    assert_eq!(addresses.len(), applied.len(), "an operation applied twice: {applied:?}");
}

/// A lock whose holder is terminated (so it never releases) sleeps while nobody waits — no timer —
/// and once another run queues, notices within its holder check that the holder is gone and grants
/// the workspace to the waiting run.
#[tokio::test]
async fn a_terminated_holder_is_skipped_once_someone_waits() {
    use futures::StreamExt as _;
    use temporalio_client::{WorkflowFetchHistoryOptions, WorkflowListOptions, WorkflowTerminateOptions};
    use temporalio_common::protos::temporal::api::history::v1::history_event::Attributes;

    let env = Env::start().await;
    let first = env.client.start(&env.scenario("human_in_the_loop_update"), false).await.unwrap();
    env.wait_status(&first, status::AWAITING_APPROVAL).await;
    let temporal = env.client.temporal();
    let lock_id = poll("the workspace lock in visibility", std::time::Duration::from_secs(30), async || {
        let query = "WorkflowType = 'WorkspaceLockWorkflow' AND ExecutionStatus = 'Running'";
        let locks: Vec<_> = temporal.list_workflows(query, WorkflowListOptions::default()).collect().await;
        match locks.as_slice() {
            [Ok(lock)] => Ok(lock.id().to_owned()),
            other => Err(format!("{} locks", other.len())),
        }
    })
    .await;
    let timers = async || {
        let handle = temporal.get_workflow_handle::<ordo_provision::lock::WorkspaceLockWorkflow>(&lock_id);
        let events = handle.fetch_history(WorkflowFetchHistoryOptions::default()).into_events().await.unwrap();
        events.iter().filter(|e| matches!(e.attributes, Some(Attributes::TimerStartedEventAttributes(_)))).count()
    };
    assert_eq!(timers().await, 0, "a lock nobody waits for does not poll its holder");

    let handle = temporal.get_workflow_handle::<ordo_provision::workflows::ProvisionInfraWorkflow>(&first);
    handle
        .terminate(WorkflowTerminateOptions::builder().reason("test: a holder that never releases").build())
        .await
        .unwrap();
    let second = env.client.start(&env.scenario("human_in_the_loop_update"), false).await.unwrap();
    env.wait_status(&second, status::WAITING_FOR_WORKSPACE).await;
    // The holder check runs every 30 s while someone waits.
    poll("the second run to get the workspace", std::time::Duration::from_secs(90), async || {
        let view = env.client.view(&second).await.unwrap();
        if view.state.status == status::AWAITING_APPROVAL {
            Ok(())
        } else {
            Err(view.state.status)
        }
    })
    .await;
    assert!(timers().await >= 1, "the lock checked its holder once someone waited");
}

/// One run at a time per workspace: a second run on the same directory waits its turn while the
/// first awaits approval, then proceeds; a run on another directory is not held up.
#[tokio::test]
async fn runs_on_one_workspace_take_turns() {
    let env = Env::start().await;
    let first = env.client.start(&env.scenario("human_in_the_loop_update"), false).await.unwrap();
    env.wait_status(&first, status::AWAITING_APPROVAL).await;
    let second = env.client.start(&env.scenario("human_in_the_loop_update"), false).await.unwrap();
    env.wait_status(&second, status::WAITING_FOR_WORKSPACE).await;

    let elsewhere = env.client.start(&env.scenario("happy_path"), false).await.unwrap();
    assert_eq!(env.client.result(&elsewhere).await.unwrap().status, status::APPLIED);
    let still = env.client.view(&second).await.unwrap();
    assert_eq!(
        still.state.status,
        status::WAITING_FOR_WORKSPACE,
        "the second run must not plan while the first holds the workspace"
    );
    assert_eq!(still.state.plan_attempts, 0);

    env.decide(&first, decision(true, "first", None), false).await.unwrap();
    assert_eq!(env.client.result(&first).await.unwrap().status, status::APPLIED);
    // The second run now plans against the applied state: nothing left to create, so it passes.
    let result = env.client.result(&second).await.unwrap();
    assert_eq!(result.status, status::APPLIED);
    assert!(env.sim_state(ADMIN_STACK).apply_counts.values().all(|n| *n == 1));

    // The second run woke the first one's dormant lock to queue, and the lock carried on as a new
    // run before answering: the first run's give-back (terminate the run it started) found that
    // run closed and signalled the new one, which granted the workspace.
    wait_for_lock_runs(&env, "human_in_the_loop_update", "ContinuedAsNew", 1).await;
}

/// A run that queues on a lock which closes before it took the request (its holder gave a
/// dormant lock back at that moment, by terminating it) hears so and takes the workspace afresh,
/// instead of waiting for a grant from a lock that is gone (its update fails, and the update-with-
/// start made again finds the lock closed and starts one that grants it): a provisioning run, which
/// takes the lock from a local activity, and a destroy run, which queues from an activity. Seen
/// hanging with the request sent as a signal, which the closed lock took with it.
#[tokio::test]
async fn a_request_the_lock_closed_on_is_made_again() {
    let env = Env::start().await;
    let id = request_on_a_closing_lock(&env, "advanced_visibility", false).await;
    assert_eq!(env.client.result(&id).await.unwrap().status, status::APPLIED);
    let directory = env.scenario("advanced_visibility").directory;
    assert!(env.sim_state(&directory).resources > 0, "the run took the workspace afresh and applied");

    let id = request_on_a_closing_lock(&env, "destroy", true).await;
    let view = env.wait_for(&id, "completion", |v| v.execution_status == "Completed").await;
    assert_eq!(view.state.status, status::DESTROYED);
}

/// Starts `scenario` (a destroy run if `destroy`) on a workspace whose lock another holder keeps
/// dormant on a task queue no worker polls, waits until the run's request has woken the lock (its
/// workflow task waits, untaken), closes the lock as its holder's give-back would, and returns the
/// run's id.
async fn request_on_a_closing_lock(env: &Env, scenario: &str, destroy: bool) -> String {
    use ordo_provision::lock::{self, LockState};
    let client = env.client.temporal();
    let lock_id = env.workspace_lock_id(scenario);
    let held = LockState { holder: Some("a-run-giving-back".into()), ..LockState::default() };
    // A run that finished before may have left its lock ending (it was granted after waiting, so it
    // gave back by signal): wait until the workspace is free.
    let run_id = poll("the workspace free", std::time::Duration::from_secs(30), async || {
        let request_id = uuid::Uuid::new_v4().to_string();
        match lock::start_dormant(client, lock::LOCK_WORKFLOW, "nobody-polls-this", &lock_id, &held, request_id).await {
            Ok(Some(run_id)) => Ok(run_id),
            other => Err(format!("{other:?}")),
        }
    })
    .await;

    let id = env.client.start(&env.scenario(scenario), destroy).await.unwrap();
    poll("the run's request woke the lock", std::time::Duration::from_secs(30), async || {
        let handle = client.get_workflow_handle::<temporalio_client::UntypedWorkflow>(lock_id.as_str());
        match handle.describe(temporalio_client::WorkflowDescribeOptions::default()).await {
            Ok(d) if d.raw_description.pending_workflow_task.is_some() => Ok(()),
            other => Err(format!("{:?}", other.map(|d| d.raw_description.pending_workflow_task))),
        }
    })
    .await;
    let closed = lock::terminate_run(client, &lock_id, &run_id, "given back".into()).await.unwrap();
    assert!(closed, "the lock had not taken the request, so it was still the dormant run");
    id
}

/// A run on a free workspace (`light-run`): the lock is taken and given back by local activities
/// (no signal in or out), the policy is checked inside `terraform_plan` (no `policy_check`), each
/// status the run waits in is published once, and the apply used the plan this worker kept (one
/// `terraform_apply`).
#[tokio::test]
async fn a_run_on_a_free_workspace_takes_the_lock_in_one_round_trip_and_checks_policy_in_the_plan() {
    let env = Env::start().await;
    let id = env.client.start(&env.scenario("advanced_visibility"), false).await.unwrap();
    assert_eq!(env.client.result(&id).await.unwrap().status, status::APPLIED);
    let kinds = env.history_kinds(&id).await;
    let count = |k: &str| kinds.iter().filter(|e| e.as_str() == k).count();
    // The lock taken, init (`local-init`), the lock given back.
    assert_eq!(count("MarkerRecorded core_local_activity"), 3, "lock and init run locally: {kinds:#?}");
    assert_eq!(count("ActivityTaskScheduled terraform_init"), 0, "{kinds:#?}");
    assert!(!kinds.iter().any(|k| k.starts_with("Signal")), "no signal round trip for a free workspace: {kinds:#?}");
    assert_eq!(count("ActivityTaskScheduled policy_check"), 0, "{kinds:#?}");
    assert_eq!(count("ActivityTaskScheduled terraform_apply"), 1, "{kinds:#?}");
    // planning, applying, applied (+ the patch's own upsert): init passes within the first task.
    assert_eq!(count("Upsert"), 4, "{kinds:#?}");
    assert!(kinds.len() < 49, "fewer events than seed 001's run: {} {kinds:#?}", kinds.len());
    let results = activity_results(&env, &id, "terraform_plan").await;
    assert!(!results[0].contains("\"format_version\""), "the plan document stays on the worker: {}", results[0]);
    let view = env.client.view(&id).await.unwrap();
    assert!(!view.state.resource_changes.is_empty(), "the plan's changes still reach the run's state");

    // The lock was started dormant (no task to take it) and, since nobody queued on it, given
    // back by terminating the run the ticket names: its whole history is the start and the end,
    // with no workflow task at all.
    let lock = env.workspace_lock_id("advanced_visibility");
    let lock_kinds = poll("the lock closed", std::time::Duration::from_secs(30), async || {
        let handle = env.client.temporal().get_workflow_handle::<temporalio_client::UntypedWorkflow>(lock.as_str());
        match handle.describe(temporalio_client::WorkflowDescribeOptions::default()).await {
            Ok(d) if d.status() == temporalio_client::WorkflowExecutionStatus::Terminated => {
                Ok(env.history_kinds(&lock).await)
            }
            other => Err(format!("{:?}", other.map(|d| d.status()))),
        }
    })
    .await;
    assert_eq!(lock_kinds.len(), 2, "started, terminated; no workflow task: {lock_kinds:#?}");
}

/// An apply on a worker that does not hold the approved plan (its kept copy is gone) is answered
/// `PlanNotLocal`, and the workflow sends the plan's bytes: the run applies exactly what was
/// approved.
#[tokio::test]
async fn an_apply_without_the_kept_plan_is_sent_the_approved_bytes() {
    let env = Env::start().await;
    let id = env.client.start(&env.scenario("human_in_the_loop_update"), false).await.unwrap();
    let plan_hash = env.wait_status(&id, status::AWAITING_APPROVAL).await.state.plan_hash;
    let kept = env.data.path().join("plans");
    assert_eq!(std::fs::read_dir(&kept).unwrap().count(), 1, "the planning worker kept the plan");
    std::fs::remove_dir_all(&kept).unwrap();
    let approve = ApplyDecision {
        is_approved: true,
        reason: Some("reviewed".into()),
        plan_hash: plan_hash.clone(),
        ..Default::default()
    };
    env.decide(&id, approve, false).await.unwrap();
    let result = env.client.result(&id).await.unwrap();
    assert_eq!(result.status, status::APPLIED);
    assert_eq!(result.applied_plan_hash, plan_hash);
    let kinds = env.history_kinds(&id).await;
    let applies = kinds.iter().filter(|k| k.as_str() == "ActivityTaskScheduled terraform_apply").count();
    assert_eq!(applies, 2, "the first apply found no plan, the second carried it: {kinds:#?}");
    assert_eq!(env.sim_state(ADMIN_STACK).resources, 2, "the approved plan was applied");
}
