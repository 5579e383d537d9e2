//! Replays the recorded `ProvisionApplication` histories (`tests/histories/*.json`, SDK JSON
//! written by `cargo test -p ordo --test application -- --ignored record`) against today's workflow
//! code: a change that would break running requests fails here.

use std::path::Path;

use ordo_application::ProvisionApplicationWorkflow;
use temporalio_client::WorkflowHistory;
use temporalio_sdk::workflow_replayer::{WorkflowReplayer, WorkflowReplayerOptions};

fn replayer() -> WorkflowReplayer {
    let options = WorkflowReplayerOptions::new().register_workflow::<ProvisionApplicationWorkflow>().unwrap().build();
    WorkflowReplayer::new(options).unwrap()
}

fn history(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/histories").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every outcome of a request (approved, rejected, expired, cancelled and compensated) replays
/// without non-determinism.
#[tokio::test]
async fn recorded_histories_replay_deterministically() {
    let replayer = replayer();
    for outcome in ["approved", "rejected", "expired", "cancelled_compensated"] {
        let name = format!("application_{outcome}.json");
        let history = WorkflowHistory::from_json(&history(&name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        replayer.replay_workflow(history).await.unwrap_or_else(|e| panic!("{name} no longer replays: {e}"));
    }
}

/// The replay check can fail: a history whose first activity is renamed is non-deterministic.
#[tokio::test]
async fn an_altered_history_is_detected() {
    let text = String::from_utf8(history("application_approved.json")).unwrap();
    assert!(text.contains("GetTeamInformation"), "the history schedules GetTeamInformation");
    let altered = text.replacen("GetTeamInformation", "GetTeamNope", 1);
    let history = WorkflowHistory::from_json(altered.as_bytes()).unwrap();
    let err = replayer().replay_workflow(history).await.expect_err("renaming a recorded activity must break replay");
    assert!(err.to_string().contains("nondetermin"), "{err}");
}
