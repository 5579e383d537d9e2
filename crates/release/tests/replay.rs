//! Replays the recorded release histories (`tests/histories/*.json`, SDK JSON written by
//! `cargo test -p ordo-release --test release -- --ignored record_histories`) against today's
//! workflow code: a change that would break running releases fails here.

use std::path::Path;

use ordo_release::workflows::{DeployWorkflow, ReleaseWorkflow};
use temporalio_client::WorkflowHistory;
use temporalio_sdk::workflow_replayer::{WorkflowReplayer, WorkflowReplayerOptions};

fn replayer() -> WorkflowReplayer {
    let options = WorkflowReplayerOptions::new()
        .register_workflow::<ReleaseWorkflow>()
        .unwrap()
        .register_workflow::<DeployWorkflow>()
        .unwrap()
        .build();
    WorkflowReplayer::new(options).unwrap()
}

fn history(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/histories").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every recorded path (approvals and gate, rollback, rejection, pause/resume/abort, and the
/// children) replays without non-determinism.
#[tokio::test]
async fn recorded_histories_replay_deterministically() {
    let replayer = replayer();
    for name in [
        "release_gated_success",
        "release_rolled_back",
        "release_rejected",
        "release_paused_aborted",
        "release_aborted_in_flight",
        "deploy_done",
        "deploy_rolled_back",
        "deploy_cancelled_rolled_back",
    ] {
        let file = format!("{name}.json");
        let history = WorkflowHistory::from_json(&history(&file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        replayer.replay_workflow(history).await.unwrap_or_else(|e| panic!("{file} no longer replays: {e}"));
    }
}

/// The replay check can fail: a history whose build step is renamed is non-deterministic.
#[tokio::test]
async fn an_altered_history_is_detected() {
    let text = String::from_utf8(history("deploy_done.json")).unwrap();
    assert!(text.contains("build_artifact"), "the history schedules build_artifact");
    let altered = text.replacen("build_artifact", "build_nothing", 1);
    let history = WorkflowHistory::from_json(altered.as_bytes()).unwrap();
    let err = replayer().replay_workflow(history).await.expect_err("renaming a recorded activity must break replay");
    assert!(err.to_string().contains("nondetermin"), "{err}");
}
