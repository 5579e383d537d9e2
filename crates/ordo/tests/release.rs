//! Releases through the `ordo` binary: `ordo worker --domains release` processes SIGKILLed
//! mid-release, and the release started and watched with `ordo release …`.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use ordo_core::devserver::{bound_command, find_temporal_binary, spawn_bound, DevServer, DevServerOptions};
use ordo_release::client::ReleaseClient;
use ordo_release::model::Environment;
use ordo_release::store::{ReleaseStore, ARTIFACTORY};

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
    let server = DevServer::start(DevServerOptions::ephemeral(find_temporal_binary())).await.expect("dev server");
    let address = server.address().to_owned();
    let temporal = ordo_core::connect(&ordo_core::TemporalArgs::at(address.clone())).await.expect("connects");
    // Registered here rather than by the worker, so the start below cannot race it.
    ordo_core::search_attributes::register(&temporal, "default", ordo_release::SEARCH_ATTRIBUTES).await.unwrap();
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
    server.stop().await.unwrap();
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
