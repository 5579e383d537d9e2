//! Releases on a real Temporal dev server (one per test binary) with in-process workers, each
//! test on its own task queue, data directory and release keys.

mod support;

use std::time::Duration;

use ordo_release::model::{
    deploy_workflow_id, status, Approval, CellState, Control, Environment, GateDecision, PromotionGate, ReleaseInfo,
    UnapprovedBehavior, UtcWindow,
};
use ordo_release::store::ARTIFACTORY;
use support::{assert_no_step_twice, release, unique_key, Env};

fn cell(state: &ordo_release::model::ReleaseState, deploy: &str, env: Environment) -> CellState {
    state.cell(deploy, env).unwrap_or_else(|| panic!("no cell {deploy} × {env}")).state
}

/// Seed 003's six catalogue releases, started as the seed's starter does (no deploys), each
/// succeed in order, with the seed's ids, and leave the versions where the seed says.
#[tokio::test]
async fn every_catalogue_release_succeeds_end_to_end() {
    let env = Env::start().await;
    for key in env.catalogue.keys().into_iter().map(str::to_owned).collect::<Vec<_>>() {
        let mut info = ReleaseInfo::from_catalogue(&key);
        info.knobs.retry_initial_ms = Some(10);
        assert_eq!(env.run(&info).await, format!("Release {key}: SUCCESS"));
        let state = env.client.view(&key).await.unwrap().state;
        assert!(state.cells.iter().all(|c| c.state == CellState::Done), "{state:#?}");
    }
    // The children carried the seed's ids (the deploy key carries the release key).
    let child = env
        .client
        .temporal()
        .get_workflow_handle::<ordo_release::workflows::DeployWorkflow>(&deploy_workflow_id(
            "RELEASE-NOV-23-INITIAL:frontend",
        ))
        .describe(Default::default())
        .await
        .expect("the child exists");
    assert_eq!(child.workflow_type(), "DeployWorkflow");
    let store = env.store();
    let version = |e, c| store.deployed(e, c).unwrap().map(|d| d.version);
    assert_eq!(version(Environment::Prod, "frontend").as_deref(), Some("1.2"));
    assert_eq!(version(Environment::Qc, "sbstore").as_deref(), Some("1.8"));
    assert_eq!(version(Environment::Dev, "backendforfrontend").as_deref(), Some("1.8"));
    assert_no_step_twice(&store);
    // Three containers in three versions each: built once each, however many environments.
    assert_eq!(store.audit(ARTIFACTORY).unwrap().len(), 9);
}

/// With the seed's "errors everywhere" knob at 60 %, a release still succeeds and the audit logs
/// show each effect exactly once.
#[tokio::test]
async fn sixty_percent_errors_still_succeed_with_no_step_done_twice() {
    let env = Env::start().await;
    let key = unique_key("CHAOS");
    let mut info = release(&key, &["web", "api", "db"], "3.0", &["DEV", "TEST", "QC", "PROD"]);
    info.knobs.error_rate = Some(60);
    assert_eq!(env.run(&info).await, format!("Release {key}: SUCCESS"));
    // The matrix query, and visibility by the search attributes.
    let matrix = env.client.matrix(&key).await.unwrap();
    assert_eq!(matrix.environments.len(), 4);
    assert_eq!(matrix.cells.len(), 12);
    assert!(matrix.cells.iter().all(|c| c.state == CellState::Done), "{matrix:#?}");
    let listed = support::poll("the release in visibility", Duration::from_secs(20), async || {
        let rows = env.client.list(10).await.unwrap();
        match rows.iter().find(|r| r.release_key.as_deref() == Some(key.as_str())) {
            Some(row) if row.environment.as_deref() == Some("PROD") => Ok(row.clone()),
            _ => Err(rows),
        }
    })
    .await;
    assert_eq!(listed.execution_status, "Completed");
    let store = env.store();
    assert_no_step_twice(&store);
    assert_eq!(store.audit(ARTIFACTORY).unwrap().len(), 3);
    for log in ["DEV", "TEST", "QC", "PROD"] {
        let steps: Vec<String> = store.audit(log).unwrap().into_iter().map(|e| e.step).collect();
        assert_eq!(steps.len(), 9, "{log}: {steps:?}");
        for step in ["deploy", "config", "verify"] {
            assert_eq!(steps.iter().filter(|s| *s == step).count(), 3, "{log}: {steps:?}");
        }
    }
}

/// Rules are outcomes: PROD without QC, no environments and DEV-only (when set) reject the release
/// naming the rule, before anything is deployed; the workflow completes.
#[tokio::test]
async fn broken_rules_reject_the_release_before_anything_deploys() {
    let env = Env::start().await;
    let client = env.client.temporal().clone();
    let cases = [
        ("prod-without-qc", vec!["TEST", "PROD"], false),
        ("no-environments", vec![], false),
        ("dev-only", vec!["DEV", "TEST"], true),
    ];
    for (rule, envs, only_dev) in cases {
        let key = unique_key("RULES");
        let mut info = release(&key, &["web"], "1.0", &envs);
        if only_dev {
            info.dev_deploy_behavior = ordo_release::model::DevDeployBehavior::OnlyDev;
        }
        // The client refuses it before starting anything…
        let err = env.client.start(&info, &env.catalogue).await.unwrap_err();
        assert!(err.to_string().contains(rule), "{err}");
        // …and started anyway (as the seed's starter would), the workflow rejects it by name.
        let options = temporalio_client::WorkflowStartOptions::new(
            env.task_queue.clone(),
            ordo_release::model::release_workflow_id(&key),
        )
        .build();
        client
            .start_workflow(
                ordo_release::workflows::ReleaseWorkflow::run,
                serde_json::to_value(&info).unwrap(),
                options,
            )
            .await
            .unwrap();
        let result = env.result(&key).await;
        assert!(result.starts_with(&format!("Release {key}: REJECTED: {rule}")), "{result}");
        let state = env.client.view(&key).await.unwrap().state;
        assert_eq!(state.rejection.unwrap().rule, rule);
    }
    assert!(env.store().audit(ARTIFACTORY).unwrap().is_empty());
    assert!(env.store().audit("DEV").unwrap().is_empty());
}

/// "Release what is approved": the unapproved deploy is skipped, the others go out.
#[tokio::test]
async fn unapproved_deploys_are_skipped_when_releasing_what_is_approved() {
    let env = Env::start().await;
    let key = unique_key("APPROVED-ONLY");
    let mut info = release(&key, &["web", "api"], "1.0", &["DEV"]);
    info.deploys[1].approved = false;
    assert_eq!(env.run(&info).await, format!("Release {key}: SUCCESS"));
    let state = env.client.view(&key).await.unwrap().state;
    assert_eq!(cell(&state, &format!("{key}:web"), Environment::Dev), CellState::Done);
    assert_eq!(cell(&state, &format!("{key}:api"), Environment::Dev), CellState::Skipped);
    assert!(env.store().deployed(Environment::Dev, "api").unwrap().is_none());
}

/// "Stop": an unapproved deploy halts the release before anything deploys.
#[tokio::test]
async fn unapproved_deploys_halt_the_release_when_told_to_stop() {
    let env = Env::start().await;
    let key = unique_key("STOP");
    let mut info = release(&key, &["web", "api"], "1.0", &["DEV"]);
    info.deploys[0].approved = false;
    info.unapproved_deploys_behavior = UnapprovedBehavior::Stop;
    let result = env.run(&info).await;
    assert!(result.starts_with(&format!("Release {key}: HALTED: not approved: {key}:web")), "{result}");
    assert!(env.store().audit("DEV").unwrap().is_empty());
}

/// "Wait": the release waits for the approval update; the validator refuses an empty reason, an
/// unknown approver and a target that is not pending; who approved and why is recorded.
#[tokio::test]
async fn unapproved_deploys_wait_for_a_validated_approval() {
    let env = Env::start().await;
    let key = unique_key("WAIT");
    let mut info = release(&key, &["web", "api"], "1.0", &["DEV"]);
    info.deploys[1].approved = false;
    info.unapproved_deploys_behavior = UnapprovedBehavior::Wait;
    info.approvers = vec!["alice".into()];
    env.start_release(&info).await;
    let api = format!("{key}:api");
    env.wait_for(&key, "waiting for approval", |s| s.status == status::WAITING_FOR_DEPLOY_APPROVAL).await;
    let approval = |approver: &str, reason: &str, target: &str| Approval {
        target: target.into(),
        approver: approver.into(),
        reason: reason.into(),
        approved: true,
    };
    let refused = env.client.approve(&key, approval("alice", " ", &api)).await.unwrap_err();
    assert!(refused.to_string().starts_with("reason:"), "{refused}");
    let refused = env.client.approve(&key, approval("mallory", "looks fine", &api)).await.unwrap_err();
    assert!(refused.to_string().starts_with("approver:"), "{refused}");
    let refused = env.client.approve(&key, approval("alice", "looks fine", &format!("{key}:web"))).await.unwrap_err();
    assert!(refused.to_string().starts_with("target:"), "{refused}");
    let record = env.client.approve(&key, approval("alice", "security review passed", &api)).await.unwrap();
    assert_eq!(record.approver, "alice");
    assert_eq!(env.result(&key).await, format!("Release {key}: SUCCESS"));
    let state = env.client.view(&key).await.unwrap().state;
    assert_eq!(cell(&state, &api, Environment::Dev), CellState::Done);
    assert_eq!(state.approvals.len(), 1);
    assert_eq!(state.approvals[0].reason, "security review passed");
}

/// An unapproved release waits for its approval until the deadline, then halts.
#[tokio::test]
async fn an_unapproved_release_halts_at_its_deadline() {
    let env = Env::start().await;
    let key = unique_key("DEADLINE");
    let mut info = release(&key, &["web"], "1.0", &["DEV"]);
    info.approved = false;
    info.approval_timeout_secs = Some(1);
    let result = env.run(&info).await;
    assert!(result.contains("HALTED: the release was not approved before the deadline"), "{result}");
    assert!(env.store().audit(ARTIFACTORY).unwrap().is_empty());
}

/// The promotion gate: PROD waits for a decision; approved, it goes on; undecided by the
/// deadline, the release halts before PROD; outside its UTC window, PROD waits for the window.
#[tokio::test]
async fn the_promotion_gate_holds_prod_until_decided_and_inside_its_window() {
    let env = Env::start().await;
    let gated = |key: &str, timeout: u64, window: Option<UtcWindow>| {
        let mut info = release(key, &["web"], "1.0", &["QC", "PROD"]);
        info.promotion_gate = Some(PromotionGate { approval: window.is_none(), window });
        info.approval_timeout_secs = Some(timeout);
        info
    };
    // Approved at the gate.
    let key = unique_key("GATE");
    env.start_release(&gated(&key, 600, None)).await;
    let state = env.wait_for(&key, "the gate", |s| s.status == status::WAITING_FOR_GATE).await;
    assert_eq!(cell(&state, &format!("{key}:web"), Environment::Qc), CellState::Done);
    assert_eq!(cell(&state, &format!("{key}:web"), Environment::Prod), CellState::Pending);
    let decision = GateDecision { approver: "carol".into(), reason: "QC signed off".into(), approved: true };
    env.client.decide_gate(&key, decision.clone()).await.unwrap();
    assert_eq!(env.result(&key).await, format!("Release {key}: SUCCESS"));
    // The gate is not open twice.
    assert!(env.client.decide_gate(&key, decision).await.is_err());

    // Nobody decides: the release halts before PROD.
    let key = unique_key("GATE-LATE");
    let result = env.run(&gated(&key, 1, None)).await;
    assert!(result.contains("HALTED: the promotion gate was not decided before the deadline"), "{result}");
    assert!(env.store().audit("PROD").unwrap().iter().all(|e| !e.release_key.starts_with("GATE-LATE")));

    // A window that is closed now: PROD waits for it (aborted here rather than waited out).
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let hhmm = |secs: u64| format!("{:02}:{:02}", (secs % 86400) / 3600, (secs % 3600) / 60);
    let window = UtcWindow { from: hhmm(now + 3 * 3600), to: hhmm(now + 4 * 3600) };
    let key = unique_key("GATE-WINDOW");
    env.start_release(&gated(&key, 600, Some(window))).await;
    env.wait_for(&key, "the window", |s| s.status == status::WAITING_FOR_WINDOW).await;
    env.client.abort(&key, Control { by: "carol".into(), reason: "not tonight".into() }).await.unwrap();
    let result = env.result(&key).await;
    assert!(result.contains("ABORTED: aborted by carol: not tonight"), "{result}");
}

/// A failed verification rolls that environment back to its previous version and stops the
/// promotion: PROD is never touched.
#[tokio::test]
async fn a_failed_verification_rolls_back_and_stops_the_promotion() {
    let dir = tempfile::tempdir().unwrap();
    let environments = dir.path().join("environments.json");
    // QC's probe fails for version 2.0 only.
    std::fs::write(
        &environments,
        r#"{"QC": {"health_command": "test \"$CONTAINER_VERSION\" != 2.0 || { echo unhealthy >&2; exit 1; }"}}"#,
    )
    .unwrap();
    let env = Env::with(|args| args.release_environments = Some(environments.clone())).await;
    let first = unique_key("GOOD");
    assert_eq!(
        env.run(&release(&first, &["web"], "1.0", &["DEV", "TEST", "QC"])).await,
        format!("Release {first}: SUCCESS")
    );
    let key = unique_key("BAD");
    let result = env.run(&release(&key, &["web"], "2.0", &["DEV", "TEST", "QC", "PROD"])).await;
    assert!(result.starts_with(&format!("Release {key}: ROLLED_BACK:")), "{result}");
    assert!(result.contains("unhealthy"), "{result}");
    let state = env.client.view(&key).await.unwrap().state;
    let web = format!("{key}:web");
    assert_eq!(cell(&state, &web, Environment::Test), CellState::Done);
    assert_eq!(cell(&state, &web, Environment::Qc), CellState::RolledBack);
    assert_eq!(cell(&state, &web, Environment::Prod), CellState::Skipped);
    let store = env.store();
    assert_eq!(store.deployed(Environment::Qc, "web").unwrap().unwrap().version, "1.0");
    assert_eq!(store.deployed(Environment::Test, "web").unwrap().unwrap().version, "2.0");
    assert!(store.audit("PROD").unwrap().is_empty());
    let qc: Vec<String> = store.audit("QC").unwrap().into_iter().map(|e| format!("{} {}", e.step, e.version)).collect();
    assert_eq!(qc, ["deploy 1.0", "config 1.0", "verify 1.0", "deploy 2.0", "config 2.0", "rollback 1.0"]);
}

/// `pause` holds the release before its next environment and `resume` lets it go; `abort` while
/// deploys are in flight rolls their environment back and ends the release.
#[tokio::test]
async fn pause_resume_and_abort() {
    let dir = tempfile::tempdir().unwrap();
    let environments = dir.path().join("environments.json");
    // TEST's probe takes a while, so an abort lands while deploys are in flight there.
    std::fs::write(&environments, r#"{"TEST": {"health_command": "sleep 2"}}"#).unwrap();
    let env = Env::with(|args| args.release_environments = Some(environments.clone())).await;
    let key = unique_key("CONTROL");
    let mut info = release(&key, &["web", "api"], "1.0", &["DEV", "TEST", "QC"]);
    info.approved = false;
    env.start_release(&info).await;
    env.wait_for(&key, "the release approval", |s| s.status == status::WAITING_FOR_RELEASE_APPROVAL).await;
    let by = |who: &str| Control { by: who.into(), reason: "change freeze".into() };
    env.client.pause(&key, by("ops")).await.unwrap();
    assert!(env.client.pause(&key, by("ops")).await.is_err(), "paused twice");
    let approval = Approval { target: "release".into(), approver: "lead".into(), reason: "go".into(), approved: true };
    env.client.approve(&key, approval).await.unwrap();
    let state = env.wait_for(&key, "the pause", |s| s.status == status::PAUSED).await;
    assert!(state.cells.iter().all(|c| c.state == CellState::Pending), "{state:#?}");
    env.client.resume(&key, by("ops")).await.unwrap();
    assert!(env.client.resume(&key, by("ops")).await.is_err(), "resumed twice");
    // The matrix shows the step a deploy in flight is at (from its child).
    env.wait_for(&key, "a deploy verifying in TEST", |s| {
        s.cells.iter().any(|c| c.env == Environment::Test && c.state == CellState::Verifying)
    })
    .await;
    env.client.abort(&key, by("ops")).await.unwrap();
    let result = env.result(&key).await;
    assert!(result.contains("ABORTED: aborted by ops"), "{result}");
    let state = env.client.view(&key).await.unwrap().state;
    for deploy in ["web", "api"] {
        let k = format!("{key}:{deploy}");
        assert_eq!(cell(&state, &k, Environment::Dev), CellState::Done);
        assert_eq!(cell(&state, &k, Environment::Test), CellState::RolledBack);
        assert_eq!(cell(&state, &k, Environment::Qc), CellState::Skipped);
        // Compensated: TEST runs nothing of this release any more; DEV keeps it.
        assert!(env.store().deployed(Environment::Test, deploy).unwrap().is_none());
        assert!(env.store().deployed(Environment::Dev, deploy).unwrap().is_some());
    }
    assert!(env.store().audit("QC").unwrap().is_empty());
    assert!(env.client.abort(&key, by("ops")).await.is_err(), "an ended release cannot be aborted");
}

/// The seed's own payload (compact JSON, sorted keys, no deploys) started with the official
/// `temporal` CLI on the seed's workflow type and id gives the seed's result.
#[tokio::test]
async fn the_seed_shaped_input_started_with_the_temporal_cli_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let key = unique_key("RELEASE-JAN-24-ALPHA-DEV");
    let mut catalogue = ordo_release::catalogue::Catalogue::built_in();
    let mut entry = catalogue.find("RELEASE-JAN-24-ALPHA-DEV").unwrap().clone();
    entry.release_key.clone_from(&key);
    for d in &mut entry.deploys {
        d.deploy_key = d.deploy_key.replace("RELEASE-JAN-24-ALPHA-DEV", &key);
        d.release_key.clone_from(&key);
    }
    catalogue.releases = vec![entry];
    let path = dir.path().join("catalogue.json");
    std::fs::write(&path, serde_json::to_string(&catalogue).unwrap()).unwrap();
    let env = Env::with(|args| args.release_catalogue = Some(path.clone())).await;
    let input = format!(
        r#"{{"approved":true,"approved_by":"Joshua Smith","deploys":[],"release_date":"2024-01-12","release_key":"{key}"}}"#
    );
    let output = std::process::Command::new(ordo_core::devserver::find_temporal_binary())
        .args(["workflow", "start", "--type", "ReleaseWorkflow", "--task-queue", &env.task_queue])
        .args(["--workflow-id", &format!("release-workflow:{key}"), "--input", &input])
        .args(["--address", support::server().await, "--namespace", "default"])
        .env_remove("TEMPORAL_PROFILE")
        .output()
        .expect("temporal runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(
        tokio::time::timeout(Duration::from_secs(60), env.client.result(&key)).await.unwrap().unwrap(),
        format!("Release {key}: SUCCESS")
    );
    assert_eq!(env.store().audit("DEV").unwrap().len(), 9);
}

async fn save_history(env: &Env, workflow_id: &str, name: &str) {
    use temporalio_client::WorkflowFetchHistoryOptions;
    let handle = env.client.temporal().get_workflow_handle::<ordo_release::workflows::ReleaseWorkflow>(workflow_id);
    let json = handle.fetch_history(WorkflowFetchHistoryOptions::default()).to_json().await.unwrap();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/histories").join(format!("{name}.json"));
    std::fs::write(&path, json).unwrap();
    eprintln!("wrote {}", path.display());
}

/// Records the histories `tests/replay.rs` replays. Run after a deliberate, patched workflow
/// change: `cargo test -p ordo-release --test release -- --ignored record_histories`.
#[tokio::test]
#[ignore = "writes fixtures"]
async fn record_histories() {
    use ordo_release::model::release_workflow_id;
    let dir = tempfile::tempdir().unwrap();
    let environments = dir.path().join("environments.json");
    let probes = r#"{"QC": {"health_command": "test \"$CONTAINER_VERSION\" != 2.0"}, "TEST": {"health_command": "test \"$CONTAINER_VERSION\" != 3.0 || sleep 2"}}"#;
    std::fs::write(&environments, probes).unwrap();
    let env = Env::with(|args| args.release_environments = Some(environments.clone())).await;

    // Approvals of the release and of a deploy, the gate, then all four environments.
    let key = "REC-GATED";
    let mut info = release(key, &["web", "api"], "1.0", &["DEV", "TEST", "QC", "PROD"]);
    info.approved = false;
    info.deploys[1].approved = false;
    info.unapproved_deploys_behavior = UnapprovedBehavior::Wait;
    info.promotion_gate = Some(PromotionGate { approval: true, window: None });
    info.knobs.error_rate = Some(30);
    env.start_release(&info).await;
    env.wait_for(key, "release approval", |s| s.status == status::WAITING_FOR_RELEASE_APPROVAL).await;
    let approve = |target: &str| Approval {
        target: target.into(),
        approver: "rec".into(),
        reason: "recorded".into(),
        approved: true,
    };
    env.client.approve(key, approve("release")).await.unwrap();
    env.wait_for(key, "deploy approval", |s| s.status == status::WAITING_FOR_DEPLOY_APPROVAL).await;
    env.client.approve(key, approve("REC-GATED:api")).await.unwrap();
    env.wait_for(key, "the gate", |s| s.status == status::WAITING_FOR_GATE).await;
    env.client
        .decide_gate(key, GateDecision { approver: "rec".into(), reason: "recorded".into(), approved: true })
        .await
        .unwrap();
    assert_eq!(env.result(key).await, "Release REC-GATED: SUCCESS");
    save_history(&env, &release_workflow_id(key), "release_gated_success").await;
    save_history(&env, &deploy_workflow_id("REC-GATED:web"), "deploy_done").await;

    // A failed verification and its rollback.
    let key = "REC-ROLLBACK";
    assert!(env.run(&release(key, &["web"], "2.0", &["QC", "PROD"])).await.contains("ROLLED_BACK"));
    save_history(&env, &release_workflow_id(key), "release_rolled_back").await;
    save_history(&env, &deploy_workflow_id("REC-ROLLBACK:web"), "deploy_rolled_back").await;

    // A rule.
    let key = "REC-REJECTED";
    let options =
        temporalio_client::WorkflowStartOptions::new(env.task_queue.clone(), release_workflow_id(key)).build();
    let bad = release(key, &["web"], "1.0", &["TEST", "PROD"]);
    env.client
        .temporal()
        .start_workflow(ordo_release::workflows::ReleaseWorkflow::run, serde_json::to_value(&bad).unwrap(), options)
        .await
        .unwrap();
    assert!(env.result(key).await.contains("REJECTED: prod-without-qc"));
    save_history(&env, &release_workflow_id(key), "release_rejected").await;

    // Pause, resume, abort at the gate.
    let key = "REC-ABORTED";
    let mut info = release(key, &["web"], "1.0", &["QC", "PROD"]);
    info.promotion_gate = Some(PromotionGate { approval: true, window: None });
    env.start_release(&info).await;
    env.client.pause(key, Control { by: "rec".into(), reason: "recorded".into() }).await.unwrap();
    env.wait_for(key, "the pause", |s| s.status == status::PAUSED).await;
    env.client.resume(key, Control { by: "rec".into(), reason: "recorded".into() }).await.unwrap();
    env.wait_for(key, "the gate", |s| s.status == status::WAITING_FOR_GATE).await;
    env.client.abort(key, Control { by: "rec".into(), reason: "recorded".into() }).await.unwrap();
    assert!(env.result(key).await.contains("ABORTED"));
    save_history(&env, &release_workflow_id(key), "release_paused_aborted").await;

    // Aborted while a deploy verifies: the child rolls its environment back.
    let key = "REC-ABORT-INFLIGHT";
    env.start_release(&release(key, &["web"], "3.0", &["DEV", "TEST"])).await;
    env.wait_for(key, "verifying in TEST", |s| {
        s.cells.iter().any(|c| c.env == Environment::Test && c.state == CellState::Verifying)
    })
    .await;
    env.client.abort(key, Control { by: "rec".into(), reason: "recorded".into() }).await.unwrap();
    assert!(env.result(key).await.contains("ABORTED"));
    save_history(&env, &release_workflow_id(key), "release_aborted_in_flight").await;
    save_history(&env, &deploy_workflow_id("REC-ABORT-INFLIGHT:web"), "deploy_cancelled_rolled_back").await;
}

/// A refused release halts before anything deploys; a refused deploy (behaviour `wait`) is
/// skipped while the approved ones go out.
#[tokio::test]
async fn refusals_halt_the_release_or_skip_the_deploy() {
    let env = Env::start().await;
    let refuse = |target: &str| Approval {
        target: target.into(),
        approver: "bob".into(),
        reason: "not now".into(),
        approved: false,
    };
    let key = unique_key("REFUSED");
    let mut info = release(&key, &["web"], "1.0", &["DEV"]);
    info.approved = false;
    env.start_release(&info).await;
    env.wait_for(&key, "the release approval", |s| s.status == status::WAITING_FOR_RELEASE_APPROVAL).await;
    env.client.approve(&key, refuse("release")).await.unwrap();
    assert!(env.result(&key).await.contains("HALTED: the release was refused"));

    let key = unique_key("REFUSED-DEPLOY");
    let mut info = release(&key, &["web", "api"], "1.0", &["DEV"]);
    info.deploys[1].approved = false;
    info.unapproved_deploys_behavior = UnapprovedBehavior::Wait;
    env.start_release(&info).await;
    env.wait_for(&key, "the deploy approval", |s| s.status == status::WAITING_FOR_DEPLOY_APPROVAL).await;
    env.client.approve(&key, refuse(&format!("{key}:api"))).await.unwrap();
    assert_eq!(env.result(&key).await, format!("Release {key}: SUCCESS"));
    let state = env.client.view(&key).await.unwrap().state;
    let api = state.cell(&format!("{key}:api"), Environment::Dev).unwrap();
    assert_eq!((api.state, api.detail.as_deref()), (CellState::Skipped, Some("refused")));
    assert_eq!(cell(&state, &format!("{key}:web"), Environment::Dev), CellState::Done);
}
