//! Platform plumbing on a real dev server: search-attribute registration and cancellation.

mod support;

use ordo_core::devserver::find_temporal_binary;
use ordo_core::search_attributes::{register, Registration};
use ordo_provision::client::{ListFilter, ProvisionClient};
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

    let first = register(&client, &namespace, ordo_provision::SEARCH_ATTRIBUTES).await.unwrap();
    assert!(first.contains(&Registration::OtherType { name: "scenario".into(), existing: "Text".into() }), "{first:?}");
    assert!(first.contains(&Registration::Created("provisionStatus".into())), "{first:?}");
    assert!(first.contains(&Registration::Created("tfDirectory".into())), "{first:?}");

    let second = register(&client, &namespace, ordo_provision::SEARCH_ATTRIBUTES).await.unwrap();
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

/// `ordo worker` on a namespace that has never seen Ordo: with `--no-register-search-attributes`
/// (and `ordo search-attributes --check`) it refuses, naming every attribute and the command that
/// registers them; by default it registers them itself, and a run there publishes its status
/// instead of failing its workflow tasks with `BadSearchAttributes`.
#[tokio::test]
async fn a_worker_on_a_fresh_namespace_registers_its_search_attributes_or_says_how() {
    let mut env = Env::without_worker().await;
    let namespace = support::new_namespace(&env.address).await;
    // The frontend learns of a new namespace on its next cache refresh: wait until it answers.
    let refusal = support::poll("the new namespace to be served", std::time::Duration::from_secs(60), async || {
        let out = env.ordo(&["search-attributes", "--check"]).env("TEMPORAL_NAMESPACE", &namespace).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        if !out.status.success() && stderr.contains("lacks") && !stderr.contains("could not list") {
            Ok(stderr)
        } else {
            Err(stderr)
        }
    })
    .await;
    assert!(refusal.contains("provisionStatus, tfDirectory, scenario"), "{refusal}");

    let refused = env
        .ordo(&["worker", "--no-register-search-attributes"])
        .env("TEMPORAL_NAMESPACE", &namespace)
        .output()
        .unwrap();
    assert!(!refused.status.success(), "the worker must not poll without its search attributes");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    for name in ["provisionStatus", "tfDirectory", "scenario"] {
        assert!(stderr.contains(name), "{stderr}");
    }
    assert!(
        stderr.contains(&format!(
            "temporal operator search-attribute create --namespace {namespace} --name provisionStatus --type Keyword"
        )),
        "{stderr}"
    );

    env.spawn_worker_with_env(&[("TEMPORAL_NAMESPACE", &namespace)], &[]);
    support::poll("the worker to register the attributes", std::time::Duration::from_secs(60), async || {
        let out = env.ordo(&["search-attributes", "--check"]).env("TEMPORAL_NAMESPACE", &namespace).output().unwrap();
        if out.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    })
    .await;
    let temporal =
        ordo_core::TemporalArgs { namespace: namespace.clone(), ..ordo_core::TemporalArgs::at(env.address.clone()) };
    let client = ProvisionClient::new(ordo_core::connect(&temporal).await.unwrap(), env.task_queue.clone());
    let id = client.start(&env.scenario("advanced_visibility"), false).await.unwrap();
    support::poll("the run to apply", std::time::Duration::from_secs(60), async || {
        let view = client.view(&id).await.unwrap();
        if view.state.status == status::APPLIED {
            Ok(view)
        } else {
            Err(view)
        }
    })
    .await;
    // Visibility shows the status the run published (the upserts were accepted).
    support::poll("provisionStatus in visibility", std::time::Duration::from_secs(10), async || {
        let listed = client.list(&ListFilter::default()).await.unwrap();
        match listed.iter().find(|r| r.workflow_id == id) {
            Some(run) if run.provision_status.as_deref() == Some("applied") => Ok(()),
            _ => Err(listed),
        }
    })
    .await;
}
