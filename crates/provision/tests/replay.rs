//! Replays recorded histories of the provisioning workflows and the workspace lock (`tests/histories/*.json`, SDK JSON written by
//! `make record-histories`) against today's workflow code: a change that would break running
//! workflows fails here.

use std::path::Path;

use ordo_provision::lock::WorkspaceLockWorkflow;
use ordo_provision::workflows::{DeprovisionInfraWorkflow, ProvisionInfraWorkflow};
use temporalio_client::WorkflowHistory;
use temporalio_sdk::workflow_replayer::{WorkflowReplayer, WorkflowReplayerOptions};

fn replayer() -> WorkflowReplayer {
    let options = WorkflowReplayerOptions::new()
        .register_workflow::<ProvisionInfraWorkflow>()
        .unwrap()
        .register_workflow::<DeprovisionInfraWorkflow>()
        .unwrap()
        .register_workflow::<WorkspaceLockWorkflow>()
        .unwrap()
        .build();
    WorkflowReplayer::new(options).unwrap()
}

fn histories() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/histories");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap()))
        .collect()
}

/// Every recorded history (both workflow types, every scenario recorded) replays without
/// non-determinism.
#[tokio::test]
async fn recorded_histories_replay_deterministically() {
    let histories = histories();
    let names: Vec<&str> = histories.iter().map(|(n, _)| n.as_str()).collect();
    assert!(
        names.iter().any(|n| n.starts_with("provision_")),
        "a ProvisionInfraWorkflow history is recorded: {names:?}"
    );
    assert!(
        names.iter().any(|n| n.starts_with("deprovision_")),
        "a DeprovisionInfraWorkflow history is recorded: {names:?}"
    );
    for patched in [
        "provision_approval_notified.json",
        "provision_destroy_reminded.json",
        "lock_workspace_queued.json",
        "provision_decision_bound.json",
        "provision_light_run.json",
        "provision_light_plan_not_local.json",
        "provision_light_queued.json",
        "provision_apply_outputs.json",
        "provision_local_init.json",
        "provision_local_init_approved.json",
        "lock_light_queued.json",
        "lock_dormant.json",
        "lock_dormant_queued.json",
        "lock_dormant_handover.json",
        "lock_handed_over.json",
    ] {
        assert!(names.contains(&patched), "a history recorded after each patch is kept: {names:?}");
    }
    let replayer = replayer();
    for (name, bytes) in histories {
        let history = WorkflowHistory::from_json(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        replayer.replay_workflow(history).await.unwrap_or_else(|e| panic!("{name} no longer replays: {e}"));
    }
}

/// The replay check can fail: a history whose recorded activity sequence is altered (the first
/// scheduled activity renamed) is reported as non-deterministic.
#[tokio::test]
async fn an_altered_history_is_detected() {
    let (name, bytes) =
        histories().into_iter().find(|(n, _)| n.starts_with("provision_")).expect("a provision history");
    let text = String::from_utf8(bytes).unwrap();
    assert!(text.contains("terraform_init"), "{name} schedules terraform_init");
    let altered = text.replacen("terraform_init", "terraform_nope", 1);
    let history = WorkflowHistory::from_json(altered.as_bytes()).unwrap();
    let err = replayer().replay_workflow(history).await.expect_err("renaming a recorded activity must break replay");
    assert!(err.to_string().contains("nondetermin"), "{err}");
}

/// Replaying history records no domain metrics: a policy check or approval wait is counted when
/// it happens, not again each time a worker rebuilds the run from history.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_records_no_domain_metrics() {
    use std::io::{Read as _, Write as _};
    use temporalio_common::telemetry::{start_prometheus_metric_exporter, PrometheusExporterOptions};

    let options = PrometheusExporterOptions::builder().socket_addr(([127, 0, 0, 1], 0).into()).build();
    let exporter = start_prometheus_metric_exporter(options).unwrap();
    ordo_core::metrics::install(exporter.meter.clone());
    let replayer = replayer();
    let histories = histories();
    assert!(histories.iter().any(|(n, _)| n.contains("human_in_the_loop")), "a history passes an approval gate");
    for (name, bytes) in histories {
        let history = WorkflowHistory::from_json(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        replayer.replay_workflow(history).await.unwrap_or_else(|e| panic!("{name} no longer replays: {e}"));
    }

    // The exporter serves on this runtime: read from another thread.
    let addr = exporter.bound_addr;
    let response = tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(std::time::Duration::from_secs(30))).unwrap();
        stream.write_all(b"GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n").unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
    })
    .await
    .unwrap();
    assert!(response.starts_with("HTTP/1.") && response.contains(" 200 "), "{response}");
    for series in ["ordo_policy_checks", "ordo_policy_results", "ordo_approval_wait"] {
        assert!(!response.contains(series), "replay recorded {series}:\n{response}");
    }
}
