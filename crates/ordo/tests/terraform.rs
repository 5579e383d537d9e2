//! The terraform driver end to end with the real Terraform binary (1.0.3 from the project's
//! virtualenv): a module of variables and outputs, since providers cannot be downloaded here.

mod support;

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use ordo_iac::DriverKind;
use ordo_provision::model::{status, ProvisionRequest, SENSITIVE_MASK};
use support::Env;

const MODULE: &str = "terraform/outputs_module";

fn request(prefix: &str) -> ProvisionRequest {
    let mut request = ProvisionRequest::for_directory(MODULE);
    request.driver = DriverKind::Terraform;
    request.vars.insert("prefix".into(), prefix.into());
    request.retry_initial_interval_ms = 200;
    request
}

fn state_outputs(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("terraform.tfstate")).expect("terraform wrote its state");
    serde_json::from_str::<serde_json::Value>(&text).unwrap()["outputs"].clone()
}

/// Plan, policy, apply and outputs through the real CLI; then destroy empties the state.
#[tokio::test]
async fn terraform_module_applies_and_destroys_for_real() {
    let env = Env::start().await;
    let id = env.client.start(&request("ci"), false).await.unwrap();
    let result = env.client.result(&id).await.unwrap();
    assert_eq!(result.status, status::APPLIED);
    assert_eq!(result.outputs["namespace_name"].value, "ci-ns-local");
    assert!(result.outputs["api_token"].sensitive);
    assert_eq!(result.outputs["api_token"].value, SENSITIVE_MASK);
    let view = env.client.view(&id).await.unwrap();
    assert!(view.state.plan.contains("namespace_name"), "the human plan is Terraform's: {}", view.state.plan);

    let dir = env.root.path().join(MODULE);
    assert_eq!(state_outputs(&dir)["namespace_name"]["value"], "ci-ns-local");

    let destroy = env.client.start(&request("ci"), true).await.unwrap();
    let done = env.wait_for(&destroy, "completion", |v| v.execution_status != "Running").await;
    assert_eq!(done.state.status, status::DESTROYED, "{done:#?}");
    assert!(state_outputs(&dir).as_object().is_none_or(|o| o.is_empty()));
}

/// A worker killed with SIGKILL in the middle of `terraform apply`: a new worker picks the run up,
/// deals with what the dead one left (orphaned tool, state lock, marker) and the run completes.
#[tokio::test]
async fn worker_killed_mid_apply_completes_on_a_new_worker() {
    let mut env = Env::without_worker().await;
    // A real terraform behind a wrapper that dawdles before `apply`, so the kill lands mid-apply.
    let wrapper = env.data.path().join("slow-terraform");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nif [ \"$1\" = apply ]; then sleep \"${{SLOW_APPLY_SECS:-0}}\"; fi\nexec '{}' \"$@\"\n",
            support::terraform_binary().display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let wrapper = wrapper.to_str().unwrap().to_owned();
    let doomed = env.spawn_worker_with_env(&[("ORDO_TERRAFORM_BIN", &wrapper), ("SLOW_APPLY_SECS", "4")], &[]);

    let id = env.client.start(&request("killed"), false).await.unwrap();
    let dir = env.root.path().join(MODULE);
    let marker = dir.join(".ordo-run.json");
    env.wait_for(&id, "apply to start", |v| v.state.status == status::APPLYING && marker.exists()).await;
    env.kill_worker(doomed);

    env.spawn_worker_with_env(&[("ORDO_TERRAFORM_BIN", &wrapper), ("SLOW_APPLY_SECS", "0")], &[]);
    let result = env.client.result(&id).await.unwrap();
    assert_eq!(result.status, status::APPLIED);
    assert_eq!(result.outputs["namespace_name"].value, "killed-ns-local");
    assert_eq!(state_outputs(&dir)["namespace_name"]["value"], "killed-ns-local");
    assert!(!dir.join(".terraform.tfstate.lock.info").exists(), "no stale state lock is left behind");
    assert!(!marker.exists(), "the run's marker is cleaned up");
    assert!(support::apply_attempts(&env, &id).await >= 2, "the apply was retried on the new worker");
}
