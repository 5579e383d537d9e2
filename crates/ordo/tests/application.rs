//! Seed 000's application flow (`ProvisionApplication`) end to end on a real Temporal dev server
//! with `ordo worker` processes, and with the Python example worker doing the IaC step.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use ordo_application::model::status;
use ordo_application::{
    sim_workspace_dir, ApplicationClient, ApplicationEnd, ApplicationError, ApplicationRequest, ApplicationView,
    AuthorizationReceivedResponse, ProvisionApplicationWorkflow,
};
use ordo_iac::sim::{state_summary, SimStateSummary};
use support::{poll, workspace_root, Env};
use temporalio_client::{WorkflowFetchHistoryOptions, WorkflowSignalOptions};

/// One Ordo with the application flow on a task queue of its own.
struct Apps {
    env: Env,
    client: ApplicationClient,
    queue: String,
    python: Option<Child>,
}

impl Apps {
    /// A dev server and an `ordo worker` serving the apps queue, and its IaC queue unless
    /// `serve_iac` is false.
    async fn start(serve_iac: bool) -> Self {
        let mut env = Env::without_worker().await;
        let queue = format!("{}-apps", env.task_queue);
        let extra: &[&str] = if serve_iac { &[] } else { &["--no-apps-iac"] };
        env.spawn_worker_with_env(&[("ORDO_APPS_TASK_QUEUE", &queue)], extra);
        let client = ApplicationClient::new(env.client.temporal().clone(), queue.clone());
        Self { env, client, queue, python: None }
    }

    /// Starts the Python example worker on the IaC queue.
    fn spawn_python_worker(&mut self) {
        let root = workspace_root();
        let child = ordo_core::devserver::bound_command(root.join(".venv/bin/python"))
            .arg(root.join("examples/python-iac-worker/worker.py"))
            .args(["--address", &self.env.address, "--namespace", &self.env.namespace])
            .args(["--task-queue", &format!("{}-iac", self.queue)])
            .arg("--data-dir")
            .arg(self.data_dir())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the Python worker starts (.venv with temporalio: scripts/setup.sh)");
        self.python = Some(child);
    }

    fn data_dir(&self) -> PathBuf {
        self.env.data.path().canonicalize().unwrap()
    }

    /// A request with test timings (no simulated latency).
    fn request(&self, team: &str) -> ApplicationRequest {
        let mut request = ApplicationRequest::new("Checkout", team, "alice");
        request.sim_latency_ms = Some(0);
        request
    }

    /// Polls the request until `predicate` holds (or panics after 60 s with the last view).
    async fn wait_for(&self, id: &str, what: &str, predicate: impl Fn(&ApplicationView) -> bool) -> ApplicationView {
        poll(what, Duration::from_secs(60), async || {
            let view = self.client.view(id).await.expect("view");
            if predicate(&view) {
                Ok(view)
            } else {
                Err(view)
            }
        })
        .await
    }

    async fn wait_status(&self, id: &str, wanted: &str) -> ApplicationView {
        self.wait_for(id, wanted, |v| v.state.status == wanted && !v.stale).await
    }

    /// The sim state of an application's workspace.
    fn sim_state(&self, id: &str) -> SimStateSummary {
        let data = self.data_dir();
        state_summary(&data.join("sim"), &sim_workspace_dir(&data, id)).expect("sim state")
    }

    /// `ordo app …` against this environment.
    fn ordo_app(&self, args: &[&str]) -> std::process::Output {
        let mut command = self.env.ordo(&["app"]);
        command.args(args).env("ORDO_APPS_TASK_QUEUE", &self.queue);
        command.output().expect("ordo app runs")
    }

    /// Writes the request's history into the replay fixtures.
    async fn record(&self, id: &str, name: &str) {
        let json = self
            .env
            .client
            .temporal()
            .get_workflow_handle::<ProvisionApplicationWorkflow>(id)
            .fetch_history(WorkflowFetchHistoryOptions::default())
            .to_json()
            .await
            .unwrap();
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../application/tests/histories")
            .join(format!("application_{name}.json"));
        std::fs::write(&path, json).unwrap();
        eprintln!("wrote {}", path.display());
    }
}

impl Drop for Apps {
    fn drop(&mut self) {
        if let Some(python) = &mut self.python {
            let _ = python.kill();
            let _ = python.wait();
        }
    }
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Through the CLI: a request is checked against the team table, waits for its authorizer,
/// and once approved with a region and profile is provisioned by the Rust IaC worker with the
/// stack's outputs; `GetState` has the seed's casing.
#[tokio::test]
async fn an_approved_request_is_provisioned_with_outputs() {
    let apps = Apps::start(true).await;
    let out =
        apps.ordo_app(&["request", "--name", "Checkout", "--team", "marketing", "--authorizer", "alice", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let started: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let id = started["workflow_id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("checkout-"), "{id}");

    let view = apps.wait_status(&id, status::AWAITING_AUTHORIZATION).await;
    assert_eq!(view.state.team.as_ref().unwrap().subdomain, "apps_marketing");
    assert!(view.state.authorization_deadline.is_some());

    // Someone else's approval is refused before anything is sent.
    let mut mallory = AuthorizationReceivedResponse::approve("us-west-2", "iac");
    mallory.authorizer_id = Some("mallory".into());
    match apps.client.authorize(&id, &mallory).await {
        Err(ApplicationError::Invalid(e)) => assert_eq!(e.field, "authorizerId"),
        other => panic!("expected an authorizerId error, got {other:?}"),
    }

    let out = apps.ordo_app(&["authorize", &id, "--region", "us-west-2", "--cloud-profile", "iac", "--as", "alice"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let view = apps.wait_status(&id, status::PROVISIONED).await;
    assert_eq!(view.execution_status, "Running", "a provisioned application's workflow holds it");

    let out = apps.ordo_app(&["show", &id, "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let shown: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let state = &shown["state"];
    assert_eq!(state["AuthorizationTimedOut"], false);
    assert_eq!(state["Authorization"]["isApproved"], true);
    assert_eq!(state["Authorization"]["region"], "us-west-2");
    let resources = &state["Resources"];
    assert_eq!(resources["applicationId"], id.as_str());
    assert_eq!(resources["region"], "us-west-2");
    assert_eq!(resources["worker"], "rust");
    assert_eq!(resources["driver"], "sim");
    let bucket = state["BucketName"].as_str().unwrap();
    assert!(bucket.starts_with("app-checkout-marketing-"), "{bucket}");
    assert_eq!(resources["outputs"]["bucketName"]["value"], bucket);
    assert_eq!(resources["outputs"]["region"]["value"], "us-west-2");
    assert_eq!(
        resources["outputs"]["websiteUrl"]["value"],
        format!("http://{bucket}.s3-website-us-west-2.amazonaws.com")
    );
    assert!(resources["summary"]
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l == "Resources: 2 added, 0 changed, 0 destroyed."));
    assert_eq!(apps.sim_state(&id).resources, 2);

    let out = apps.ordo_app(&["list", "--status", "provisioned"]);
    assert!(stdout(&out).contains(&id), "{}", stdout(&out));
}

/// A rejection ends the request as rejected (completed, not failed), with nothing provisioned;
/// an approval without a region sent straight to the workflow is ignored with a note, not acted on.
#[tokio::test]
async fn a_rejected_request_ends_rejected_and_provisions_nothing() {
    let apps = Apps::start(true).await;
    let id = apps.client.request(&apps.request("marketing")).await.unwrap();
    apps.wait_status(&id, status::AWAITING_AUTHORIZATION).await;

    // The authorizer's inbox lists it (visibility catches up within moments); nobody else's does.
    poll("the request in alice's inbox", Duration::from_secs(20), async || {
        let inbox = apps.client.pending_authorizations(Some("alice")).await.unwrap();
        if inbox.iter().any(|v| v.workflow_id == id) {
            Ok(())
        } else {
            Err(inbox)
        }
    })
    .await;
    assert!(apps.client.pending_authorizations(Some("bob")).await.unwrap().is_empty());

    let handle = apps.env.client.temporal().get_workflow_handle::<ProvisionApplicationWorkflow>(&id);
    handle
        .signal(
            ProvisionApplicationWorkflow::authorization_received_response,
            serde_json::json!({"isApproved": true, "profile": "iac"}),
            WorkflowSignalOptions::default(),
        )
        .await
        .unwrap();
    let view = apps.wait_for(&id, "the note", |v| !v.state.notes.is_empty()).await;
    assert!(view.state.notes[0].contains("region: is required to approve"), "{:?}", view.state.notes);
    assert_eq!(view.state.status, status::AWAITING_AUTHORIZATION);

    let mut reject = AuthorizationReceivedResponse::reject();
    reject.reason = Some("no budget this quarter".into());
    apps.client.authorize(&id, &reject).await.unwrap();
    let state = match apps.client.wait(&id).await.unwrap() {
        ApplicationEnd::Completed(state) => state,
        other => panic!("expected completion, got {other:?}"),
    };
    assert_eq!(state.status, status::REJECTED);
    assert!(!state.authorization_timed_out);
    assert!(!state.authorization.as_ref().unwrap().is_approved);
    assert!(state.resources.is_none());
    assert!(!sim_workspace_dir(&apps.data_dir(), &id).exists(), "nothing was provisioned");

    let out = apps.ordo_app(&["show", &id]);
    assert_eq!(out.status.code(), Some(3), "{}", stdout(&out));
    let out = apps.ordo_app(&["authorize", &id, "--reject"]);
    assert_eq!(out.status.code(), Some(4), "a decided request refuses another decision");
}

/// Nobody answering before the deadline is its own outcome: `AuthorizationTimedOut`, status
/// `authorization_expired`, no decision recorded.
#[tokio::test]
async fn an_unanswered_request_expires_distinctly_from_a_rejection() {
    let apps = Apps::start(true).await;
    let mut request = apps.request("marketing");
    request.authorization_timeout_seconds = 1;
    let id = apps.client.request(&request).await.unwrap();
    let state = match apps.client.wait(&id).await.unwrap() {
        ApplicationEnd::Completed(state) => state,
        other => panic!("expected completion, got {other:?}"),
    };
    assert_eq!(state.status, status::AUTHORIZATION_EXPIRED);
    assert!(state.authorization_timed_out);
    assert!(state.authorization.is_none());
    assert!(state.resources.is_none());

    // A cancellation while waiting is neither: the timer resolving as cancelled is not an expiry.
    let id = apps.client.request(&apps.request("marketing")).await.unwrap();
    apps.wait_status(&id, status::AWAITING_AUTHORIZATION).await;
    apps.client.cancel(&id, "withdrawn").await.unwrap();
    let state = match apps.client.wait(&id).await.unwrap() {
        ApplicationEnd::Cancelled(state) => state,
        other => panic!("expected a cancellation, got {other:?}"),
    };
    assert_eq!(state.status, status::CANCELLED);
    assert!(!state.authorization_timed_out);
    assert!(state.destroyed.is_none(), "nothing was provisioned, so nothing is destroyed");
}

/// Cancelling a provisioned request runs the compensation: everything the IaC step created is
/// destroyed and the request ends cancelled, with what was destroyed in its state.
#[tokio::test]
async fn cancelling_a_provisioned_request_destroys_what_it_created() {
    let apps = Apps::start(true).await;
    let id = apps.client.request(&apps.request("payments")).await.unwrap();
    apps.wait_status(&id, status::AWAITING_AUTHORIZATION).await;
    apps.client.authorize(&id, &AuthorizationReceivedResponse::approve("eu-west-1", "iac")).await.unwrap();
    apps.wait_status(&id, status::PROVISIONED).await;
    assert_eq!(apps.sim_state(&id).resources, 2);

    apps.client.cancel(&id, "decommissioned by the test").await.unwrap();
    let state = match apps.client.wait(&id).await.unwrap() {
        ApplicationEnd::Cancelled(state) => state,
        other => panic!("expected a cancellation, got {other:?}"),
    };
    assert_eq!(state.status, status::DESTROYED);
    let destroyed = state.destroyed.expect("the compensation's result");
    assert_eq!(destroyed.worker, "rust");
    assert!(destroyed.summary.iter().any(|l| l == "Resources: 0 added, 0 changed, 2 destroyed."), "{destroyed:?}");
    let sim = apps.sim_state(&id);
    assert_eq!((sim.resources, sim.total_destroys), (0, 2), "{sim:?}");

    // Cancelled while provisioning (slow simulated cloud): the IaC step stops, then whatever it
    // had created is destroyed too.
    let mut slow = apps.request("payments");
    slow.sim_latency_ms = Some(1500);
    let id = apps.client.request(&slow).await.unwrap();
    apps.wait_status(&id, status::AWAITING_AUTHORIZATION).await;
    apps.client.authorize(&id, &AuthorizationReceivedResponse::approve("eu-west-1", "iac")).await.unwrap();
    apps.wait_status(&id, status::PROVISIONING).await;
    poll("the first resource to be created", Duration::from_secs(30), async || {
        let sim = sim_workspace_dir(&apps.data_dir(), &id).exists().then(|| apps.sim_state(&id));
        match sim {
            Some(sim) if sim.resources > 0 => Ok(()),
            other => Err(other),
        }
    })
    .await;
    apps.client.cancel(&id, "changed our mind").await.unwrap();
    let state = match apps.client.wait(&id).await.unwrap() {
        ApplicationEnd::Cancelled(state) => state,
        other => panic!("expected a cancellation, got {other:?}"),
    };
    assert_eq!(state.status, status::DESTROYED);
    assert!(state.resources.is_none(), "the provisioning never completed");
    let destroyed = state.destroyed.expect("the compensation's result");
    assert!(destroyed.summary.iter().any(|l| l == "Resources: 0 added, 0 changed, 1 destroyed."), "{destroyed:?}");
    assert_eq!(apps.sim_state(&id).resources, 0);
}

/// The pre-flight check fails a request from an unknown team, naming the team, before any
/// authorization is asked for.
#[tokio::test]
async fn an_unknown_team_fails_the_request_naming_the_team() {
    let apps = Apps::start(true).await;
    let id = apps.client.request(&apps.request("ghosts")).await.unwrap();
    match apps.client.wait(&id).await.unwrap() {
        ApplicationEnd::Failed(message) => assert!(message.contains("unknown team \"ghosts\""), "{message}"),
        other => panic!("expected a failure, got {other:?}"),
    }
    let view = apps.client.view(&id).await.unwrap();
    assert_eq!(view.state.status, status::FAILED);
    assert!(view.state.error.as_deref().unwrap_or_default().contains("ghosts"));
    assert!(view.state.authorization_deadline.is_none());
}

/// Bad input is refused with the field's name before anything is started (no server is needed
/// to say so).
#[test]
fn bad_input_is_refused_naming_the_field() {
    let ordo = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_ordo"))
            .arg("app")
            .args(args)
            .env("TEMPORAL_ADDRESS", "127.0.0.1:1")
            .env_remove("TEMPORAL_PROFILE")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let cases: [(&[&str], &str); 5] = [
        (&["request", "--team", "marketing", "--authorizer", "alice"], "applicationName"),
        (
            &["request", "--name", " ", "--team", "marketing", "--authorizer", "alice"],
            "applicationName: must not be empty",
        ),
        (
            &["request", "--name", "x", "--team", "marketing", "--authorizer", "alice", "--timeout", "0"],
            "authorizationTimeoutSeconds: must be at least 1",
        ),
        (&["request", "--name", "x", "--team", "marketing", "--authorizer", ""], "authorizerId: must not be empty"),
        (&["authorize", "some-id", "--cloud-profile", "iac"], "region: is required to approve"),
    ];
    for (args, expected) in cases {
        let out = ordo(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(!stderr.contains("connecting"), "{args:?} must fail before connecting: {stderr}");
    }
}

/// Seed 000's polyglot point: with the Rust worker not serving the IaC queue, the Python example
/// worker (official `temporalio` SDK) provisions and, on cancellation, destroys, with the same
/// activity names and payloads; the history shows it was the Python worker.
#[tokio::test]
async fn the_python_worker_does_the_iac_step() {
    let mut apps = Apps::start(false).await;
    apps.spawn_python_worker();
    let id = apps.client.request(&apps.request("platform")).await.unwrap();
    apps.wait_status(&id, status::AWAITING_AUTHORIZATION).await;
    apps.client.authorize(&id, &AuthorizationReceivedResponse::approve("ap-south-1", "iac")).await.unwrap();
    let view = apps.wait_status(&id, status::PROVISIONED).await;
    let resources = view.state.resources.unwrap();
    assert_eq!(resources.worker, "python");
    assert_eq!(resources.region, "ap-south-1");
    assert_eq!(resources.outputs["bucketName"].value, view.state.bucket_name.as_str());
    assert!(
        resources.summary.iter().any(|l| l == "Resources: 2 added, 0 changed, 0 destroyed."),
        "{:?}",
        resources.summary
    );
    let python_state = apps.data_dir().join("python-sim").join(format!("{id}.json"));
    assert!(python_state.is_file());
    assert!(!sim_workspace_dir(&apps.data_dir(), &id).exists(), "the Rust IaC worker did nothing");

    use temporalio_common::protos::temporal::api::history::v1::history_event::Attributes;
    let events = apps
        .env
        .client
        .temporal()
        .get_workflow_handle::<ProvisionApplicationWorkflow>(&id)
        .fetch_history(WorkflowFetchHistoryOptions::default())
        .into_events()
        .await
        .unwrap();
    let scheduled = events
        .iter()
        .find_map(|e| match &e.attributes {
            Some(Attributes::ActivityTaskScheduledEventAttributes(a))
                if a.activity_type.as_ref().is_some_and(|t| t.name == "provisionFoundationResources") =>
            {
                Some(e.event_id)
            }
            _ => None,
        })
        .expect("provisionFoundationResources scheduled");
    let identity = events
        .iter()
        .find_map(|e| match &e.attributes {
            Some(Attributes::ActivityTaskStartedEventAttributes(a)) if a.scheduled_event_id == scheduled => {
                Some(a.identity.clone())
            }
            _ => None,
        })
        .expect("provisionFoundationResources started");
    assert!(identity.starts_with("python-iac-worker/"), "{identity}");

    apps.client.cancel(&id, "decommissioned").await.unwrap();
    match apps.client.wait(&id).await.unwrap() {
        ApplicationEnd::Cancelled(state) => {
            assert_eq!(state.status, status::DESTROYED);
            assert_eq!(state.destroyed.unwrap().worker, "python");
        }
        other => panic!("expected a cancellation, got {other:?}"),
    }
    assert!(!python_state.exists(), "the Python worker destroyed its state");
}

/// Records the histories `ordo-application`'s replay test replays (`application_*.json`). Run with
/// `cargo test -p ordo --test application -- --ignored record` after a deliberate, patched change.
#[tokio::test]
#[ignore = "writes fixtures"]
async fn record_application_histories() {
    let apps = Apps::start(true).await;
    let approve = AuthorizationReceivedResponse::approve("us-east-1", "iac");

    let approved = apps.client.request(&apps.request("marketing")).await.unwrap();
    apps.wait_status(&approved, status::AWAITING_AUTHORIZATION).await;
    apps.client.authorize(&approved, &approve).await.unwrap();
    apps.wait_status(&approved, status::PROVISIONED).await;
    apps.record(&approved, "approved").await;

    let rejected = apps.client.request(&apps.request("marketing")).await.unwrap();
    apps.wait_status(&rejected, status::AWAITING_AUTHORIZATION).await;
    apps.client.authorize(&rejected, &AuthorizationReceivedResponse::reject()).await.unwrap();
    apps.client.wait(&rejected).await.unwrap();
    apps.record(&rejected, "rejected").await;

    let mut request = apps.request("marketing");
    request.authorization_timeout_seconds = 1;
    let expired = apps.client.request(&request).await.unwrap();
    apps.client.wait(&expired).await.unwrap();
    apps.record(&expired, "expired").await;

    apps.client.cancel(&approved, "recorded").await.unwrap();
    assert!(matches!(apps.client.wait(&approved).await.unwrap(), ApplicationEnd::Cancelled(_)));
    apps.record(&approved, "cancelled_compensated").await;
}
