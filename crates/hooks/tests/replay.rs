//! Replays the recorded `HookLifecycle` histories (`tests/histories/*.json`, SDK JSON written by
//! `cargo test -p ordo-hooks --test hooks -- --ignored record_lifecycle_histories`) against today's
//! workflow code: a change that would break running lifecycle actions fails here.

use std::path::Path;

use ordo_hooks::workflows::HookLifecycleWorkflow;
use temporalio_client::WorkflowHistory;
use temporalio_sdk::workflow_replayer::{WorkflowReplayer, WorkflowReplayerOptions};

fn replayer() -> WorkflowReplayer {
    let options = WorkflowReplayerOptions::new().register_workflow::<HookLifecycleWorkflow>().unwrap().build();
    WorkflowReplayer::new(options).unwrap()
}

fn history(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/histories").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A lifecycle whose hooks succeeded, one stopped by a failed blocking hook (both recorded before
/// patch `worker-readiness`) and one whose hooks' workers were checked (after it) replay without
/// non-determinism.
#[tokio::test]
async fn recorded_lifecycle_histories_replay_deterministically() {
    let replayer = replayer();
    for name in ["lifecycle_succeeded.json", "lifecycle_hook_failed.json", "lifecycle_worker_ready.json"] {
        let history = WorkflowHistory::from_json(&history(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        replayer.replay_workflow(history).await.unwrap_or_else(|e| panic!("{name} no longer replays: {e}"));
    }
}

/// The check can fail: renaming the recorded action activity makes the history non-deterministic.
#[tokio::test]
async fn an_altered_lifecycle_history_is_detected() {
    let text = String::from_utf8(history("lifecycle_succeeded.json")).unwrap();
    assert!(text.contains("ApplyLifecycleAction"), "the history schedules ApplyLifecycleAction");
    let altered = text.replacen("ApplyLifecycleAction", "ApplyNothing", 1);
    let history = WorkflowHistory::from_json(altered.as_bytes()).unwrap();
    let err = replayer().replay_workflow(history).await.expect_err("renaming a recorded activity must break replay");
    assert!(err.to_string().contains("nondetermin"), "{err}");
}
