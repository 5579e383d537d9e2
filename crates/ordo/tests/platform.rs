//! Platform plumbing on a real dev server: search-attribute registration, cancellation
//! reaching the tool process, the patched SDK's activity bookkeeping (vendor/README.md), and a
//! worker on one runtime thread.

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
    let address = ordo_core::testing::server();
    let namespace = ordo_core::testing::new_namespace(address).await;
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

/// Whether process `pid` still exists (a zombie, exited but not yet reaped, counts as gone).
fn process_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the command name in parentheses: `pid (comm) S …`.
        Ok(stat) => stat.rsplit_once(") ").is_some_and(|(_, rest)| !rest.starts_with('Z')),
        Err(_) => false,
    }
}

/// Cancelling a run mid-apply stops the real tool process: a `terraform` whose `apply` records
/// its pid and sleeps (the real Terraform does init and plan) is gone after the cancel, the run
/// ends cancelled, and its workspace is released for the next run (which applies for real).
#[tokio::test]
async fn cancelling_mid_apply_stops_the_tool_process_and_releases_the_workspace() {
    use std::os::unix::fs::PermissionsExt as _;
    let mut env = Env::without_worker().await;
    let pid_file = env.data.path().join("apply.pid");
    let hang = env.data.path().join("hang-apply");
    std::fs::write(&hang, "").unwrap();
    let wrapper = env.data.path().join("hanging-terraform");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nif [ \"$1\" = apply ] && [ -e '{hang}' ]; then echo $$ > '{pid}.tmp' && mv '{pid}.tmp' '{pid}'; exec sleep 600; fi\nexec '{terraform}' \"$@\"\n",
            hang = hang.display(),
            pid = pid_file.display(),
            terraform = support::terraform_binary().display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    env.spawn_worker_with_env(&[("ORDO_TERRAFORM_BIN", wrapper.to_str().unwrap())], &[]);

    let mut request = ordo_provision::model::ProvisionRequest::for_directory("terraform/outputs_module");
    request.driver = ordo_iac::DriverKind::Terraform;
    request.vars.insert("prefix".into(), "cancel".into());
    let id = env.client.start(&request, false).await.unwrap();
    let pid = support::poll("the tool's apply to start", std::time::Duration::from_secs(120), async || {
        match std::fs::read_to_string(&pid_file) {
            Ok(text) => text.trim().parse::<u32>().map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        }
    })
    .await;
    // Should the test fail before the cancel stops it, the sleeping tool must not outlive it.
    struct KillOnDrop(u32);
    impl Drop for KillOnDrop {
        fn drop(&mut self) {
            if process_alive(self.0) {
                let _ = std::process::Command::new("kill").args(["-KILL", &self.0.to_string()]).status();
            }
        }
    }
    let _tool = KillOnDrop(pid);
    assert!(process_alive(pid), "the tool (pid {pid}) runs until the cancel");

    let handle = env.client.temporal().get_workflow_handle::<ProvisionInfraWorkflow>(id.as_str());
    handle.cancel(WorkflowCancelOptions::builder().reason("changed my mind".to_owned()).build()).await.unwrap();
    let outcome = handle.get_result(WorkflowGetResultOptions::default()).await;
    assert!(outcome.is_err(), "a cancelled run has no result: {outcome:?}");
    let view = env.wait_for(&id, "the run to close", |v| v.execution_status != "Running").await;
    assert_eq!(view.execution_status, "Canceled");
    // Left alone, the tool would sleep for ten minutes: gone means the cancel stopped it.
    support::poll("the tool process to be stopped", std::time::Duration::from_secs(30), async || {
        if process_alive(pid) {
            Err(format!("pid {pid} still runs"))
        } else {
            Ok(())
        }
    })
    .await;

    // The workspace was released: a new run on the same directory applies for real.
    std::fs::remove_file(&hang).unwrap();
    let next = env.client.start(&request, false).await.unwrap();
    assert_eq!(env.client.result(&next).await.unwrap().status, status::APPLIED);
}

/// `ordo worker` on a namespace that has never seen Ordo: with `--no-register-search-attributes`
/// (and `ordo search-attributes --check`) it refuses, naming every attribute and the command that
/// registers them; by default it registers them itself, and a run there publishes its status
/// instead of failing its workflow tasks with `BadSearchAttributes`.
#[tokio::test]
async fn a_worker_on_a_fresh_namespace_registers_its_search_attributes_or_says_how() {
    let mut env = Env::without_worker().await;
    let namespace = ordo_core::testing::new_namespace(&env.address).await;
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

/// The Rust SDK 1.1.1 kept every activity task's cancellation token for the worker's life (a
/// worker grew by every activity it ran); the patched SDK forgets a task once it ends. Five runs of
/// a one-activity workflow later, the worker holds no activity task.
#[tokio::test]
async fn a_worker_forgets_the_activities_it_has_run() {
    use ordo_bench::reference::{worker_options, ReferenceKind, TrivialWorkflow};
    use temporalio_client::WorkflowStartOptions;

    let client = ordo_core::testing::client().await;
    let task_queue = format!("sdk-activity-tokens-{}", uuid::Uuid::new_v4().simple());
    let options = worker_options(ReferenceKind::Trivial, &task_queue, None).unwrap();
    let runtime = temporalio_sdk::Runtime::from_current_tokio(Default::default()).unwrap();
    let mut worker = temporalio_sdk::Worker::new(&runtime, client.clone(), options).unwrap();
    let shutdown = worker.shutdown_handle();
    let runs = async {
        for i in 0..5u32 {
            let id = format!("{task_queue}-{i}");
            let options = WorkflowStartOptions::new(task_queue.clone(), id).build();
            let handle = client.start_workflow(TrivialWorkflow::run, i, options).await.unwrap();
            assert_eq!(handle.get_result(WorkflowGetResultOptions::default()).await.unwrap(), i);
        }
        shutdown();
    };
    let (ran, ()) = tokio::join!(worker.run(), runs);
    ran.unwrap();
    assert_eq!(worker.running_activity_tasks(), 0, "the five finished activities are forgotten");
}

/// `ordo worker --runtime-threads 1` (what `auto` picks on a machine of up to two CPUs) runs every
/// async task on one thread, the worker's included: a provisioning run through it is applied, on
/// whatever machine the test runs.
#[tokio::test]
async fn a_worker_on_one_runtime_thread_applies_a_run() {
    let mut env = Env::without_worker().await;
    env.spawn_worker_with_env(&[("ORDO_RUNTIME_THREADS", "1")], &[]);
    let request = env.scenario("advanced_visibility");
    let id = env.client.start(&request, false).await.unwrap();
    env.wait_status(&id, status::APPLIED).await;
    let sim = env.sim_state(&request.directory);
    assert!(sim.resources > 0 && sim.apply_counts.values().all(|&n| n == 1), "each resource applied once: {sim:?}");
}
