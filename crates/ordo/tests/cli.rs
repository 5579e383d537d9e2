//! The `ordo` CLI and the official `temporal` CLI driving Ordo's workflows by seed 001's names.

mod support;

use std::process::Output;

use ordo_core::devserver::find_temporal_binary;
use ordo_provision::model::status;
use support::{poll, Env};

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

fn temporal(env: &Env, args: &[&str]) -> Output {
    std::process::Command::new(find_temporal_binary())
        .args(args)
        .args(["--address", &env.address, "--namespace", &env.namespace])
        .output()
        .expect("temporal CLI runs")
}

/// `temporal workflow start/query/update/signal` work on Ordo's workflow with the seed's names:
/// an update with an empty reason is rejected, one with a reason is accepted.
#[tokio::test]
async fn the_temporal_cli_drives_the_workflow_by_seed_names() {
    let env = Env::start().await;
    let input = r#"{"directory":"stacks/tcloud_admin_user","driver":"sim","sim":{"latency_ms":0},"retry_initial_interval_ms":100}"#;
    let id = "provision-infra-from-temporal-cli";
    let started = temporal(
        &env,
        &[
            "workflow",
            "start",
            "--type",
            "ProvisionInfraWorkflow",
            "--task-queue",
            &env.task_queue,
            "--workflow-id",
            id,
            "--input",
            input,
        ],
    );
    assert!(started.status.success(), "{}", text(&started));
    env.wait_status(id, status::AWAITING_APPROVAL).await;

    let query = temporal(&env, &["workflow", "query", "--workflow-id", id, "--type", "get_current_status"]);
    assert!(query.status.success(), "{}", text(&query));
    assert!(text(&query).contains("awaiting approval decision"), "{}", text(&query));

    let empty = temporal(
        &env,
        &[
            "workflow",
            "update",
            "execute",
            "--workflow-id",
            id,
            "--name",
            "update_apply_decision",
            "--input",
            r#"{"is_approved": true, "reason": ""}"#,
        ],
    );
    assert!(!empty.status.success(), "an empty reason must be rejected: {}", text(&empty));
    assert!(text(&empty).contains("reason"), "{}", text(&empty));

    let accepted = temporal(
        &env,
        &[
            "workflow",
            "update",
            "execute",
            "--workflow-id",
            id,
            "--name",
            "update_apply_decision",
            "--input",
            r#"{"is_approved": true, "reason": "Approved after review"}"#,
        ],
    );
    assert!(accepted.status.success(), "{}", text(&accepted));
    assert_eq!(env.client.result(id).await.unwrap().status, status::APPLIED);
    let reason = temporal(&env, &["workflow", "query", "--workflow-id", id, "--type", "get_reason"]);
    assert!(text(&reason).contains("Approved after review"), "{}", text(&reason));
}

/// The README's signal example (`--name update_apply_decision`) rejects a plan.
#[tokio::test]
async fn the_temporal_cli_signal_rejects_by_the_readme_name() {
    let env = Env::start().await;
    let id = env.client.start(&env.scenario("human_in_the_loop_signal"), false).await.unwrap();
    env.wait_status(&id, status::AWAITING_APPROVAL).await;
    let signal = temporal(
        &env,
        &[
            "workflow",
            "signal",
            "--workflow-id",
            &id,
            "--name",
            "update_apply_decision",
            "--input",
            r#"{"is_approved": false}"#,
        ],
    );
    assert!(signal.status.success(), "{}", text(&signal));
    assert_eq!(env.client.result(&id).await.unwrap().status, status::REJECTED);
}

/// `ordo provision scenario … --watch` runs to the end and exits 0; `show --json` and `list`
/// report the run; a rejected run's watch exits 3.
#[tokio::test]
async fn ordo_cli_runs_watches_lists_and_decides() {
    let env = Env::start().await;
    let run = env.ordo(&["provision", "scenario", "advanced_visibility", "--watch", "--json"]).output().unwrap();
    assert!(run.status.success(), "{}", text(&run));
    let stdout = String::from_utf8_lossy(&run.stdout);
    let id = stdout.lines().next().unwrap().trim().to_owned();
    assert!(id.starts_with("provision-infra-"), "{stdout}");
    assert!(stdout.contains("\"status\": \"applied\""), "{stdout}");

    let show = env.ordo(&["provision", "show", &id, "--json"]).output().unwrap();
    let view: serde_json::Value = serde_json::from_slice(&show.stdout).expect("show --json is JSON");
    assert_eq!(view["state"]["progress"], 100);

    let started = env.ordo(&["provision", "scenario", "human_in_the_loop_update"]).output().unwrap();
    assert!(started.status.success(), "{}", text(&started));
    let waiting = String::from_utf8_lossy(&started.stdout).trim().to_owned();
    env.wait_status(&waiting, status::AWAITING_APPROVAL).await;
    let refused = env.ordo(&["provision", "reject", &waiting]).output().unwrap();
    assert_eq!(refused.status.code(), Some(4), "an empty reason is refused: {}", text(&refused));
    assert!(text(&refused).contains("reason"));
    let rejected = env.ordo(&["provision", "reject", &waiting, "--reason", "too broad"]).output().unwrap();
    assert!(rejected.status.success(), "{}", text(&rejected));
    let watch = env.ordo(&["provision", "watch", &waiting]).output().unwrap();
    assert_eq!(watch.status.code(), Some(3), "a rejected run is not a success: {}", text(&watch));

    let listed = poll("the rejected run to be listed", std::time::Duration::from_secs(10), async || {
        let list = env.ordo(&["provision", "list", "--status", "rejected"]).output().unwrap();
        let listed = String::from_utf8_lossy(&list.stdout).into_owned();
        if listed.contains(&waiting) {
            Ok(listed)
        } else {
            Err(listed)
        }
    })
    .await;
    assert!(!listed.contains(&id), "{listed}");
}

/// Bad input gets a clear error naming the problem, and no workflow is started.
#[tokio::test]
async fn bad_input_is_refused_before_any_workflow_starts() {
    let env = Env::start().await;
    let bad_policy = env.root.path().join("bad_policy");
    std::fs::create_dir(&bad_policy).unwrap();
    std::fs::write(bad_policy.join("broken.rego"), "package broken\ndeny contains msg if {").unwrap();
    let malformed = env.root.path().join("malformed.json");
    std::fs::write(&malformed, "{\"directory\": ").unwrap();
    let unknown_field = env.root.path().join("unknown.json");
    std::fs::write(&unknown_field, r#"{"directory": "stacks/tcloud_namespace", "colour": "red"}"#).unwrap();

    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["provision", "start", "--dir", "stacks/tcloud_namespace", "--driver", "pulumi-ish"], "unknown driver"),
        (vec!["provision", "scenario", "no_such_scenario"], "unknown scenario"),
        (vec!["provision", "start", "--dir", "../../etc"], "directory"),
        (vec!["provision", "start", "--dir", "stacks/missing"], "does not exist"),
        (vec!["provision", "start", "--dir", "/etc"], "outside"),
        (vec!["provision", "start", "--input", malformed.to_str().unwrap()], "malformed JSON"),
        (vec!["provision", "start", "--input", unknown_field.to_str().unwrap()], "colour"),
        (vec!["provision", "start", "--dir", "stacks/tcloud_namespace", "--policy", "bad_policy"], "broken.rego"),
    ];
    for (args, expected) in cases {
        let out = env.ordo(&args).output().unwrap();
        assert!(!out.status.success(), "{args:?} must fail");
        assert!(text(&out).contains(expected), "{args:?}: expected {expected:?} in {}", text(&out));
        assert!(!text(&out).contains("panicked"), "{}", text(&out));
    }
    let none = env.client.list(&ordo_provision::client::ListFilter::default()).await.unwrap();
    assert!(none.is_empty(), "no workflow was started: {none:?}");
}

/// Off loopback, the demo users (published passwords, an admin token) are refused unless asked for,
/// and the codec server (which decrypts for anyone who reaches it) needs a token; both say how.
#[test]
fn open_endpoints_are_refused_off_loopback() {
    let ordo = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_ordo"))
            .args(args)
            .env_remove("ORDO_USERS_FILE")
            .env_remove("ORDO_DEMO_USERS")
            .env_remove("ORDO_CODEC_TOKEN")
            .env("TEMPORAL_ADDRESS", "127.0.0.1:1")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    };
    let serve = ordo(&["serve", "--http-addr", "0.0.0.0:0"]);
    assert!(!serve.status.success());
    assert!(
        text(&serve).contains("refusing to serve the demo users") && text(&serve).contains("ORDO_USERS_FILE"),
        "{}",
        text(&serve)
    );

    let codec = ordo(&["codec-server", "--addr", "0.0.0.0:0"]);
    assert!(!codec.status.success());
    assert!(text(&codec).contains("needs --codec-token"), "{}", text(&codec));
}

/// `--runtime-threads` (`ORDO_RUNTIME_THREADS`) takes `auto` or 1–1024; anything else is refused by
/// name before any work, from the flag as from the variable.
#[test]
fn a_bad_runtime_thread_count_is_refused_by_name() {
    let ordo = |flag: Option<&str>, var: Option<&str>| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_ordo"));
        command.env_remove("ORDO_RUNTIME_THREADS").env("TEMPORAL_ADDRESS", "127.0.0.1:1");
        if let Some(value) = flag {
            command.args(["--runtime-threads", value]);
        }
        if let Some(value) = var {
            command.env("ORDO_RUNTIME_THREADS", value);
        }
        command.args(["provision", "list"]).stdin(std::process::Stdio::null()).output().unwrap()
    };
    for (flag, var) in [(Some("0"), None), (Some("1025"), None), (None, Some("many"))] {
        let out = ordo(flag, var);
        assert_eq!(out.status.code(), Some(2), "{flag:?} {var:?}: {}", text(&out));
        assert!(
            text(&out).contains("--runtime-threads") && text(&out).contains("1 to 1024"),
            "{flag:?} {var:?}: {}",
            text(&out)
        );
    }
}
