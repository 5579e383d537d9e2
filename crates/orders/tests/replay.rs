//! Replays the recorded `PizzaWorkflow` histories (`tests/histories/*.json`, SDK JSON written by
//! `cargo test -p ordo-orders --test orders -- --ignored record_histories`) against today's
//! workflow code: a change that would break running orders fails here.

use std::path::Path;

use ordo_orders::PizzaWorkflow;
use temporalio_client::WorkflowHistory;
use temporalio_sdk::workflow_replayer::{WorkflowReplayer, WorkflowReplayerOptions};

const RECORDED: &[&str] = &[
    "delivered",
    "rejected_missing_ingredient",
    "overcooked_remade",
    "wrong_order_remade",
    "driver_quit",
    "rejected_bad_input",
];

fn replayer() -> WorkflowReplayer {
    let options = WorkflowReplayerOptions::new().register_workflow::<PizzaWorkflow>().unwrap().build();
    WorkflowReplayer::new(options).unwrap()
}

fn history(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/histories").join(format!("pizza_{name}.json"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every recorded outcome (delivered, rejected, remade twice, a driver who quit, bad input)
/// replays without non-determinism.
#[tokio::test]
async fn recorded_histories_replay_deterministically() {
    let replayer = replayer();
    for name in RECORDED {
        let history = WorkflowHistory::from_json(&history(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        replayer.replay_workflow(history).await.unwrap_or_else(|e| panic!("{name} no longer replays: {e}"));
    }
}

/// The replay check can fail: a history whose bake is renamed is non-deterministic.
#[tokio::test]
async fn an_altered_history_is_detected() {
    let text = String::from_utf8(history("delivered")).unwrap();
    assert!(text.contains("BakePizza"), "the history schedules BakePizza");
    let altered = text.replacen("BakePizza", "BurnPizza", 1);
    let history = WorkflowHistory::from_json(altered.as_bytes()).unwrap();
    let err = replayer().replay_workflow(history).await.expect_err("renaming a recorded activity must break replay");
    assert!(err.to_string().contains("nondetermin"), "{err}");
}
