//! Platform plumbing on a real dev server: search-attribute registration and cancellation.

mod support;

use ordo_core::devserver::find_temporal_binary;
use ordo_core::search_attributes::{register, Registration};
use ordo_provision::model::status;
use ordo_provision::workflows::ProvisionInfraWorkflow;
use support::Env;
use temporalio_client::{WorkflowCancelOptions, WorkflowGetResultOptions};

/// Missing attributes are created as Keyword; one that exists with another type (seed 001 made
/// them Text) is reported, not fatal; a second registration finds everything present. (In a
/// namespace of its own: search attributes belong to a namespace.)
#[tokio::test]
async fn search_attributes_are_registered_and_other_types_reported() {
    let address = support::shared_server().await;
    let namespace = support::new_namespace(address).await;
    let created = std::process::Command::new(find_temporal_binary())
        .args(["operator", "search-attribute", "create", "--name", "scenario", "--type", "Text"])
        .args(["--address", address, "--namespace", &namespace])
        .output()
        .unwrap();
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let mut args = ordo_core::TemporalArgs::at(address);
    args.namespace = namespace.clone();
    let client = ordo_core::connect(&args).await.unwrap();

    let first = register(&client, &namespace).await.unwrap();
    assert!(
        first
            .contains(&Registration::OtherType { name: "scenario".into(), existing: "INDEXED_VALUE_TYPE_TEXT".into() }),
        "{first:?}"
    );
    assert!(first.contains(&Registration::Created("provisionStatus".into())), "{first:?}");
    assert!(first.contains(&Registration::Created("tfDirectory".into())), "{first:?}");

    let second = register(&client, &namespace).await.unwrap();
    assert!(second.contains(&Registration::Present("provisionStatus".into())), "{second:?}");
}

/// Cancelling a run mid-apply stops the driver (the simulated apply saves what it finished) and
/// the run ends cancelled, with its workspace released for the next run.
#[tokio::test]
async fn cancelling_mid_apply_stops_the_driver_and_releases_the_workspace() {
    let env = Env::start().await;
    let mut slow = env.scenario("happy_path");
    slow.sim.latency_ms = Some(3000);
    let id = env.client.start(&slow, false).await.unwrap();
    env.wait_status(&id, status::APPLYING).await;
    let handle = env.client.temporal().get_workflow_handle::<ProvisionInfraWorkflow>(id.as_str());
    handle.cancel(WorkflowCancelOptions::builder().reason("changed my mind".to_owned()).build()).await.unwrap();
    let outcome = handle.get_result(WorkflowGetResultOptions::default()).await;
    assert!(outcome.is_err(), "a cancelled run has no result: {outcome:?}");
    let view = env.wait_for(&id, "the run to close", |v| v.execution_status != "Running").await;
    assert_eq!(view.execution_status, "Canceled");
    let sim = env.sim_state("stacks/tcloud_namespace");
    assert!(sim.resources < 2, "the apply stopped before finishing: {sim:?}");

    // The workspace was released: a new run on the same directory completes.
    let next = env.client.start(&env.scenario("happy_path"), false).await.unwrap();
    assert_eq!(env.client.result(&next).await.unwrap().status, status::APPLIED);
}
