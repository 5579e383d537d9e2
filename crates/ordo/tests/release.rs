//! Releases through the `ordo` binary: `ordo worker --domains release` processes SIGKILLed
//! mid-release, and the release started and watched with `ordo release …`.

mod support;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use ordo_core::devserver::{bound_command, spawn_bound};
use ordo_release::client::ReleaseClient;
use ordo_release::model::Environment;
use ordo_release::store::{ReleaseStore, ARTIFACTORY};

/// This binary's dev server (`ordo_core::testing::server`, shared by its tests, each on a task
/// queue and release keys of its own), with the release search attributes registered here rather
/// than by the workers, so no start can race them.
async fn server() -> &'static str {
    ordo_core::testing::server_with(ordo_release::SEARCH_ATTRIBUTES).await
}

/// Worker processes, each killed and waited for when dropped (even when the test panics).
struct Workers(Vec<Child>);

impl Drop for Workers {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn ordo(address: &str, task_queue: &str, data: &Path, environments: &Path) -> Command {
    // Bound to this process: killed by the kernel if the test process dies without unwinding.
    let mut command = bound_command(env!("CARGO_BIN_EXE_ordo"));
    command
        .env("TEMPORAL_ADDRESS", address)
        .env("ORDO_RELEASE_TASK_QUEUE", task_queue)
        .env("ORDO_DATA_DIR", data)
        .env("ORDO_RELEASE_ENVIRONMENTS", environments)
        // Releases need no IaC root: one that does not exist is never looked at.
        .env("ORDO_IAC_ROOT", data.join("no-such-dir"))
        .env_remove("TEMPORAL_PROFILE")
        .stdin(Stdio::null());
    command
}

/// A release whose workers are SIGKILLed again and again while it runs (with 30 % injected
/// errors on top) still succeeds, and the audit logs show every effect exactly once.
#[tokio::test]
async fn a_release_survives_sigkilled_workers_with_no_step_done_twice() {
    let address = server().await.to_owned();
    let temporal = ordo_core::connect(&ordo_core::TemporalArgs::at(address.clone())).await.expect("connects");
    let task_queue = format!("release-kill-{}", uuid::Uuid::new_v4());
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    // Verification takes a while everywhere, so kills land in the middle of steps.
    let environments = dir.path().join("environments.json");
    let probe = r#"{"health_command": "sleep 0.5"}"#;
    std::fs::write(&environments, format!(r#"{{"DEV": {probe}, "TEST": {probe}, "QC": {probe}, "PROD": {probe}}}"#))
        .unwrap();
    let key = "RELEASE-KILL";
    let deploys: Vec<serde_json::Value> = ["web", "api", "db"]
        .iter()
        .map(|c| {
            serde_json::json!({
                "deploy_key": format!("{key}:{c}"), "container_id": c, "container_version": "4.2",
                "git_url": format!("https://example.com/{c}.git"), "approved": true, "approved_by": "ops",
                "envs": ["DEV", "TEST", "QC", "PROD"], "release_key": key,
            })
        })
        .collect();
    let release = serde_json::json!({
        "release_key": key, "release_date": "2026-12-06", "approved": true, "approved_by": "ops",
        "deploys": deploys, "error_rate": 30, "retry_initial_ms": 50, "step_timeout_secs": 2,
    });
    let input = dir.path().join("release.json");
    std::fs::write(&input, release.to_string()).unwrap();

    let worker = || {
        let mut command = ordo(&address, &task_queue, &data, &environments);
        command.args(["worker", "--domains", "release"]).stdout(Stdio::null()).stderr(Stdio::inherit());
        spawn_bound(command).expect("ordo worker starts")
    };
    let mut workers = Workers(vec![worker()]);
    let started = ordo(&address, &task_queue, &data, &environments)
        .args(["release", "start", "--input"])
        .arg(&input)
        .output()
        .expect("ordo release start runs");
    assert!(started.status.success(), "{}", String::from_utf8_lossy(&started.stderr));
    assert_eq!(String::from_utf8_lossy(&started.stdout).trim(), format!("release-workflow:{key}"));

    let client = ReleaseClient::new(temporal, task_queue.clone());
    // Kill the worker every 1.5 s while the release runs, starting a fresh one each time.
    let mut kills = 0;
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let view = client.view(key).await.expect("view");
        if view.state.result.is_some() {
            break;
        }
        let last = workers.0.last_mut().unwrap();
        last.kill().unwrap();
        last.wait().unwrap();
        kills += 1;
        workers.0.push(worker());
    }
    assert!(kills >= 2, "the release ended before the workers could be killed ({kills} kills)");
    let Ok(result) = tokio::time::timeout(Duration::from_secs(120), client.result(key)).await else {
        panic!("the release did not end within 120 s: {:#?}", client.view(key).await);
    };
    let result = result.unwrap();
    assert_eq!(result, format!("Release {key}: SUCCESS"));

    // The CLI shows the finished matrix.
    let status = ordo(&address, &task_queue, &data, &environments).args(["release", "status", key]).output().unwrap();
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(status.status.success(), "{text}");
    assert!(text.contains("result:  Release RELEASE-KILL: SUCCESS"), "{text}");

    let store = ReleaseStore::new(&data.canonicalize().unwrap());
    assert_eq!(store.audit(ARTIFACTORY).unwrap().len(), 3, "{:#?}", store.audit(ARTIFACTORY));
    for env in Environment::ALL {
        let entries = store.audit(env.as_str()).unwrap();
        for step in ["deploy", "config", "verify"] {
            for c in ["web", "api", "db"] {
                let n = entries.iter().filter(|e| e.step == step && e.container_id == c).count();
                assert_eq!(n, 1, "{env}: {step} of {c} logged {n} times: {entries:#?}");
            }
        }
        assert_eq!(entries.len(), 9, "{env}: {entries:#?}");
        for c in ["web", "api", "db"] {
            let deployed = store.deployed(env, c).unwrap().expect("deployed");
            assert_eq!((deployed.version.as_str(), deployed.verified), ("4.2", true));
        }
    }
    drop(workers);
}

/// Bad input to `ordo release start` is refused naming the field, before Temporal is contacted
/// (nothing listens on the address given).
#[test]
fn release_start_refuses_bad_input_naming_the_field_before_anything_starts() {
    let dir = tempfile::tempdir().unwrap();
    let port = ordo_core::devserver::free_port().unwrap();
    let refused = |args: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_ordo"))
            .env("TEMPORAL_ADDRESS", format!("127.0.0.1:{port}"))
            .env_remove("TEMPORAL_PROFILE")
            .env_remove("ORDO_RELEASE_CATALOGUE")
            .args(["release", "start"])
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    assert!(refused(&["NOT-A-RELEASE"]).contains("release_key: unknown-release"));
    assert!(refused(&["RELEASE-NOV-23-INITIAL", "--error-rate", "95"]).contains("error_rate: invalid-field"));
    assert!(refused(&["RELEASE-NOV-23-INITIAL", "--approval-timeout", "0"]).contains("approval_timeout_secs"));
    assert!(refused(&["RELEASE-NOV-23-INITIAL", "--gate-window", "25:00-02:00"]).contains("promotion_gate.window.from"));
    let input = dir.path().join("release.json");
    let bad = serde_json::json!({
        "release_key": "R", "approved": true,
        "deploys": [
            {"deploy_key": "R:a", "container_id": "a", "container_version": "1", "envs": ["TEST", "PROD"]},
        ],
    });
    std::fs::write(&input, bad.to_string()).unwrap();
    let stderr = refused(&["--input", input.to_str().unwrap()]);
    assert!(stderr.contains("deploys[0].envs: prod-without-qc"), "{stderr}");
    let dup = serde_json::json!({
        "release_key": "R", "approved": true,
        "deploys": [
            {"deploy_key": "R:a", "container_id": "a", "container_version": "1", "envs": ["DEV"]},
            {"deploy_key": "R:a", "container_id": "b", "container_version": "1", "envs": ["DEV"]},
        ],
    });
    std::fs::write(&input, dup.to_string()).unwrap();
    assert!(refused(&["--input", input.to_str().unwrap()]).contains("deploys[1].deploy_key: duplicate-deploy-key"));
    std::fs::write(&input, r#"{"release_key": "R", "deploys": [{"deploy_key": "R:a", "container_id": "a", "container_version": "1", "envs": ["STAGING"]}]}"#).unwrap();
    assert!(refused(&["--input", input.to_str().unwrap()]).contains("deploys[0].envs[0]: unknown-environment"));
}

/// Test users: `token-<name>` is each one's API token.
fn api_users() -> ordo_api::Users {
    let text: String = [("alice", "approver"), ("bob", "requester"), ("admin", "admin")]
        .iter()
        .map(|(name, role)| {
            let digest = ordo_api::auth::token_sha256(&format!("token-{name}"));
            format!("[[user]]\nname = \"{name}\"\nrole = \"{role}\"\ntoken_sha256 = \"{digest}\"\n\n")
        })
        .collect();
    ordo_api::Users::from_toml(&text).expect("test users")
}

/// A JSON call through the router (no socket) as `who`; returns the status and the JSON body.
async fn call(
    state: &ordo_api::AppState,
    method: &str,
    path: &str,
    who: &str,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    use axum::body::Body;
    use http_body_util::BodyExt as _;
    use tower::ServiceExt as _;
    let request = axum::http::Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer token-{who}"))
        .header("content-type", "application/json")
        .body(body.map(|b| Body::from(b.to_string())).unwrap_or_else(Body::empty))
        .unwrap();
    let response = ordo_api::app(state.clone()).oneshot(request).await.expect("the router never fails");
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body = if bytes.is_empty() { serde_json::Value::Null } else { serde_json::from_slice(&bytes).expect("JSON") };
    (status, body)
}

/// `/api/releases`: bad input is a 4xx naming the field with nothing started; requesters start,
/// approvers approve and decide the gate (with a reason), admins abort; the matrix is shown.
#[tokio::test]
async fn the_release_api_checks_input_and_roles_and_drives_a_release_through_its_gate() {
    let address = server().await.to_owned();
    let temporal = ordo_core::connect(&ordo_core::TemporalArgs::at(address.clone())).await.expect("connects");
    let task_queue = format!("release-api-{}", uuid::Uuid::new_v4());
    let dir = tempfile::tempdir().unwrap();
    let environments = dir.path().join("environments.json");
    std::fs::write(&environments, "{}").unwrap();
    let mut command = ordo(&address, &task_queue, dir.path(), &environments);
    command.args(["worker", "--domains", "release"]).stdout(Stdio::null()).stderr(Stdio::inherit());
    let _workers = Workers(vec![spawn_bound(command).expect("ordo worker starts")]);
    let mut config = ordo_api::AppConfig::new(api_users());
    config.worker_timeout = Duration::from_secs(20);
    let state = ordo_api::AppState::builder(&temporal, config)
        .with(ReleaseClient::new(temporal.clone(), task_queue.clone()))
        .with(ordo_release::catalogue::Catalogue::built_in())
        .build();
    let suffix = &uuid::Uuid::new_v4().simple().to_string()[..8];
    let deploy = |key: &str, name: &str, envs: &[&str]| {
        serde_json::json!({"deploy_key": format!("{key}:{name}"), "container_id": name, "container_version": "1.0",
            "approved": true, "envs": envs, "release_key": key})
    };

    // Bad input: 4xx naming the field; nothing starts.
    let key = format!("API-{suffix}");
    let bad: Vec<(serde_json::Value, u16, &str)> = vec![
        (serde_json::json!({"release_key": "NOT-IN-THE-CATALOGUE"}), 422, "release_key"),
        (
            serde_json::json!({"release_key": key, "deploys": [deploy(&key, "a", &["TEST", "PROD"])]}),
            422,
            "deploys[0].envs",
        ),
        (
            serde_json::json!({"release_key": key, "deploys": [deploy(&key, "a", &["STAGING"])]}),
            422,
            "deploys[0].envs[0]",
        ),
        (
            serde_json::json!({"release_key": key, "deploys": [deploy(&key, "a", &["DEV"]), deploy(&key, "a", &["QC"])]}),
            422,
            "deploys[1].deploy_key",
        ),
        (serde_json::json!({"release_key": "RELEASE-NOV-23-INITIAL", "error_rate": 95}), 422, "error_rate"),
        (
            serde_json::json!({"release_key": "RELEASE-NOV-23-INITIAL", "approval_timeout_secs": 0}),
            422,
            "approval_timeout_secs",
        ),
        (
            serde_json::json!({"release_key": "RELEASE-NOV-23-INITIAL", "promotion_gate": {"window": {"from": "9", "to": "17:00"}}}),
            422,
            "promotion_gate.window.from",
        ),
        (serde_json::json!({"deploys": []}), 422, "release_key"),
    ];
    for (body, status, field) in bad {
        let (got, answer) = call(&state, "POST", "/api/releases", "bob", Some(body.clone())).await;
        assert_eq!((got, answer["field"].as_str()), (status, Some(field)), "{body} → {answer}");
    }
    assert_eq!(call(&state, "GET", &format!("/api/releases/{key}"), "bob", None).await.0, 404);

    // A release waiting for its approval, then for the gate before PROD.
    let body = serde_json::json!({"release_key": key, "approved": false, "retry_initial_ms": 10,
        "promotion_gate": {"approval": true}, "deploys": [deploy(&key, "web", &["QC", "PROD"]), deploy(&key, "api", &["QC", "PROD"])]});
    let (status, started) = call(&state, "POST", "/api/releases", "bob", Some(body.clone())).await;
    assert_eq!(status, 201, "{started}");
    assert_eq!(started["workflow_id"], format!("release-workflow:{key}"));
    assert_eq!(call(&state, "POST", "/api/releases", "bob", Some(body)).await.0, 409, "started twice");
    let approvals = format!("/api/releases/{key}/approvals");
    let (status, refused) = call(&state, "POST", &approvals, "bob", Some(serde_json::json!({"reason": "ok"}))).await;
    assert_eq!(status, 403, "{refused}");
    let (status, refused) = call(&state, "POST", &approvals, "alice", Some(serde_json::json!({"reason": " "}))).await;
    assert_eq!((status, refused["field"].as_str()), (422, Some("reason")), "{refused}");
    let wait_status = async |wanted: &str| {
        support::poll(&format!("{key} to be {wanted}"), Duration::from_secs(30), async || {
            let (_, view) = call(&state, "GET", &format!("/api/releases/{key}"), "bob", None).await;
            if view["state"]["status"] == wanted {
                Ok(view)
            } else {
                Err(view)
            }
        })
        .await
    };
    wait_status("waiting_for_release_approval").await;
    let (status, record) =
        call(&state, "POST", &approvals, "alice", Some(serde_json::json!({"reason": "CAB approved"}))).await;
    assert_eq!((status, record["approver"].as_str()), (200, Some("alice")), "{record}");
    let view = wait_status("waiting_for_gate").await;
    let cells = view["state"]["cells"].as_array().unwrap();
    assert_eq!(cells.iter().filter(|c| c["env"] == "QC" && c["state"] == "done").count(), 2, "{view}");
    let gate = format!("/api/releases/{key}/gate");
    let (status, refused) =
        call(&state, "POST", &gate, "bob", Some(serde_json::json!({"approved": true, "reason": "go"}))).await;
    assert_eq!(status, 403, "{refused}");
    let (status, _) =
        call(&state, "POST", &gate, "alice", Some(serde_json::json!({"approved": true, "reason": "QC signed off"})))
            .await;
    assert_eq!(status, 200);
    let (status, refused) =
        call(&state, "POST", &gate, "alice", Some(serde_json::json!({"approved": true, "reason": "again"}))).await;
    assert_eq!(status, 409, "the gate is decided once: {refused}");
    let view = wait_status("succeeded").await;
    assert_eq!(view["state"]["result"], format!("Release {key}: SUCCESS"));
    assert_eq!(view["state"]["approvals"].as_array().unwrap().len(), 2);

    // Abort is for admins.
    let key2 = format!("API-ABORT-{suffix}");
    let body = serde_json::json!({"release_key": key2, "approved": false, "deploys": [deploy(&key2, "web", &["DEV"])]});
    assert_eq!(call(&state, "POST", "/api/releases", "bob", Some(body)).await.0, 201);
    let abort = format!("/api/releases/{key2}/abort");
    assert_eq!(call(&state, "POST", &abort, "alice", Some(serde_json::json!({"reason": "stop"}))).await.0, 403);
    let (status, done) = call(&state, "POST", &abort, "admin", Some(serde_json::json!({"reason": "stop"}))).await;
    assert_eq!(status, 200, "{done}");
    let client = ReleaseClient::new(temporal, task_queue);
    let result = tokio::time::timeout(Duration::from_secs(60), client.result(&key2)).await.unwrap().unwrap();
    assert!(result.contains("ABORTED: aborted by admin: stop"), "{result}");

    let (status, list) = call(&state, "GET", "/api/releases?limit=5000", "bob", None).await;
    assert_eq!((status, list["field"].as_str()), (422, Some("limit")));
    let (status, catalogue) = call(&state, "GET", "/api/releases/catalogue", "bob", None).await;
    assert_eq!((status, catalogue["releases"].as_array().map(Vec::len)), (200, Some(6)));
}

/// Opens `/api/releases/{key}/events` through the router as `who`.
async fn events(state: &ordo_api::AppState, key: &str, who: &str) -> support::sse::Sse {
    use tower::ServiceExt as _;
    let request = axum::http::Request::get(format!("/api/releases/{key}/events"))
        .header("authorization", format!("Bearer token-{who}"))
        .body(axum::body::Body::empty())
        .unwrap();
    support::sse::Sse::new(ordo_api::app(state.clone()).oneshot(request).await.expect("the router never fails"))
}

/// `GET /api/releases/{key}/events` pushes the board as it changes: the release waiting at the
/// gate with PROD not deployed, then (after the gate opens) PROD deployed, then `end`; unknown
/// releases are a 404 and bad keys a 422; the watcher stops with the release.
#[tokio::test]
async fn the_release_board_streams_the_matrix_as_deploys_reach_each_environment() {
    let address = server().await.to_owned();
    let temporal = ordo_core::connect(&ordo_core::TemporalArgs::at(address.clone())).await.expect("connects");
    let task_queue = format!("release-sse-{}", uuid::Uuid::new_v4());
    let dir = tempfile::tempdir().unwrap();
    let environments = dir.path().join("environments.json");
    std::fs::write(&environments, "{}").unwrap();
    let mut command = ordo(&address, &task_queue, dir.path(), &environments);
    command.args(["worker", "--domains", "release"]).stdout(Stdio::null()).stderr(Stdio::inherit());
    let _workers = Workers(vec![spawn_bound(command).expect("ordo worker starts")]);
    let state = ordo_api::AppState::builder(&temporal, ordo_api::AppConfig::new(api_users()))
        .with(ReleaseClient::new(temporal.clone(), task_queue.clone()))
        .with(ordo_release::catalogue::Catalogue::built_in())
        .build();
    let key = format!("SSE-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    assert_eq!(call(&state, "GET", &format!("/api/releases/{key}/events"), "bob", None).await.0, 404);
    assert_eq!(call(&state, "GET", "/api/releases/no%20spaces/events", "bob", None).await.0, 422);

    let deploys: Vec<serde_json::Value> = ["web", "api"]
        .iter()
        .map(|c| {
            serde_json::json!({"deploy_key": format!("{key}:{c}"), "container_id": c, "container_version": "2.0",
                "approved": true, "envs": ["QC", "PROD"], "release_key": key})
        })
        .collect();
    let body = serde_json::json!({"release_key": key, "approved": true, "retry_initial_ms": 10,
        "promotion_gate": {"approval": true}, "deploys": deploys});
    assert_eq!(call(&state, "POST", "/api/releases", "bob", Some(body)).await.0, 201);
    let mut events = events(&state, &key, "bob").await;
    let cells_done = |view: &serde_json::Value, env: &str| {
        view["state"]["cells"].as_array().unwrap().iter().filter(|c| c["env"] == env && c["state"] == "done").count()
    };

    // Up to the gate: QC deployed, PROD not.
    loop {
        let (name, view) = events.next().await.expect("the stream stays open while the release runs");
        assert_eq!(name, "release", "{view}");
        if view["state"]["status"] == "waiting_for_gate" {
            assert_eq!((cells_done(&view, "QC"), cells_done(&view, "PROD")), (2, 0), "{view}");
            break;
        }
    }
    let gate = format!("/api/releases/{key}/gate");
    let opened = serde_json::json!({"approved": true, "reason": "QC signed off"});
    assert_eq!(call(&state, "POST", &gate, "alice", Some(opened)).await.0, 200);

    // After it: PROD deployed, pushed without asking, then the end. (The very last view may be
    // visibility's, once the workflow has closed; the one before it carries the matrix.)
    let mut reached_prod = None;
    let mut ended = false;
    while let Some((name, view)) = events.next().await {
        match name.as_str() {
            "release" if cells_done(&view, "PROD") == 2 => reached_prod = Some(view),
            "release" => {}
            "end" => {
                ended = true;
                break;
            }
            other => panic!("unexpected event {other}"),
        }
    }
    assert!(ended, "the stream ends with `end`");
    let view = reached_prod.expect("a view with both deploys done in PROD");
    assert_eq!(view["state"]["result"], format!("Release {key}: SUCCESS"), "{view}");
    assert!(events.next().await.is_none(), "nothing follows `end`");
    // The watcher goes with the release.
    support::poll("the release's watcher to stop", Duration::from_secs(10), async || match state.active_watchers() {
        0 => Ok(()),
        watchers => Err(watchers),
    })
    .await;
}
