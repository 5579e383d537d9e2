//! `ordo worker --domains hooks` and `ordo hook …` end to end: the seed's test-tac intents stored
//! by the CLI, a DIG instantiated through the hosted lifecycle workflow, its history and actions
//! read back, a spec started with `invoke`, and `ordo serve --hooks-open-invoke`.

mod support;

use std::process::Output;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// `GET /metrics` over a plain socket.
async fn scrape(port: u16) -> Result<String, String> {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.map_err(|e| e.to_string())?;
    stream.write_all(b"GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n").await.map_err(|e| e.to_string())?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await.map_err(|e| e.to_string())?;
    Ok(response)
}

/// Waits until the `emco_tac_intent` sample of intent `name` reads `value`.
async fn tac_intent_reads(port: u16, name: &str, value: &str) -> String {
    let wanted = format!("name=\"{name}\"");
    support::poll("emco_tac_intent", Duration::from_secs(20), async || {
        let body = scrape(port).await?;
        body.lines()
            .find(|l| l.starts_with("emco_tac_intent{") && l.contains(&wanted) && l.ends_with(&format!(" {value}")))
            .map(str::to_owned)
            .ok_or(body)
    })
    .await
}

fn ok(output: Output) -> Value {
    assert!(output.status.success(), "stderr: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap_or(Value::Null)
}

/// The hooks domain is hosted by `ordo worker` and driven by `ordo hook`: intents in, instantiate,
/// history, actions; a duplicate intent and a failed action exit non-zero.
#[tokio::test]
async fn the_hook_cli_drives_a_hosted_lifecycle() {
    let mut env = support::Env::without_worker().await;
    let queue = format!("{}-hooks", env.task_queue);
    let migrate = format!("{}-migrate", env.task_queue);
    let port = ordo_core::devserver::free_port().unwrap();
    let metrics = format!("127.0.0.1:{port}");
    env.spawn_worker_with_env(
        &[("ORDO_HOOKS_TASK_QUEUE", &queue), ("ORDO_HOOKS_MIGRATE_TASK_QUEUE", &migrate)],
        &["--domains", "hooks", "--metrics-addr", &metrics, "--domain-metrics-interval", "1"],
    );
    let examples = support::workspace_root().join("examples/hooks/test-tac/03-define-workflow-intents.json");
    let text = std::fs::read_to_string(examples).unwrap().replace("ordo-hooks-migrate", &migrate);
    let intents = env.data.path().join("intents.json");
    std::fs::write(&intents, text).unwrap();
    let dig = ["--project", "proj1", "--app", "c1", "--app-version", "v1", "--dig", "d1"];
    let hook = |args: &[&str]| {
        let mut c = env.ordo(&["hook"]);
        c.args(args).env("ORDO_HOOKS_TASK_QUEUE", &queue);
        c
    };

    ok(hook(&["intents", "create"]).args(dig).arg(&intents).output().unwrap());
    let again = hook(&["intents", "create"]).args(dig).arg(&intents).output().unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    let listed = ok(hook(&["intents", "list"]).args(dig).output().unwrap());
    assert_eq!(listed.as_array().unwrap().len(), 7);
    // The seed's gauge, with its labels and `hook_type` spelled right.
    let line = tac_intent_reads(port, "pre-install-workflow-hook", "1").await;
    for label in [
        "project=\"proj1\"",
        "composite_app=\"c1\"",
        "composite_app_version=\"v1\"",
        "deployment_intent_group=\"d1\"",
        "hook_type=\"pre-install\"",
        "client_endpoint_port=\"9090\"",
        "workflow_client_name=\"migrate_workflowclient\"",
    ] {
        assert!(line.contains(label), "{label} in {line}");
    }

    let state = ok(hook(&["instantiate"]).args(dig).output().unwrap());
    assert_eq!(state["outcome"]["status"], "succeeded", "{state}");
    let hooks: Vec<&str> = state["hooks"].as_array().unwrap().iter().map(|h| h["intent"].as_str().unwrap()).collect();
    assert_eq!(hooks, ["pre-install-workflow-hook", "pre-install-workflow-hook-2", "post-workflow-intent"]);

    let actions = ok(hook(&["actions"]).args(dig).output().unwrap());
    let id = actions[0]["workflowId"].as_str().unwrap().to_owned();
    let history = ok(hook(&["history", &id]).output().unwrap());
    assert_eq!(history, state);

    // A pre-update hook that cannot start (a running id under error-when-already-started) fails
    // the update: exit code 3 and the reason on stderr.
    let blocker = env.data.path().join("blocker.json");
    std::fs::write(&blocker, r#"{"workflowStartOptions": {"id": "held-id", "taskqueue": "nobody-polls-this"}}"#)
        .unwrap();
    let started = ok(hook(&["invoke"]).arg(&blocker).output().unwrap());
    assert_eq!(started["workflowId"], "held-id");
    let held = env.data.path().join("held.json");
    let mut intent: Value = serde_json::from_str(&std::fs::read_to_string(&intents).unwrap()).unwrap();
    let mut intent = intent.as_array_mut().unwrap().remove(6);
    intent["metadata"]["name"] = "held".into();
    intent["spec"]["temporal"]["workflowStartOptions"] =
        serde_json::json!({"id": "held-id", "taskqueue": migrate, "workflowexecutionerrorwhenalreadystarted": true});
    std::fs::write(&held, intent.to_string()).unwrap();
    ok(hook(&["intents", "put"]).args(dig).arg(&held).output().unwrap());
    let update = hook(&["update"]).args(dig).output().unwrap();
    assert_eq!(update.status.code(), Some(3), "{}", String::from_utf8_lossy(&update.stderr));
    assert!(String::from_utf8_lossy(&update.stderr).contains("already started"));

    // A deleted intent's gauge goes back to 0.
    ok(hook(&["intents", "delete"]).args(dig).arg("post-terminate").output().unwrap());
    tac_intent_reads(port, "post-terminate", "0").await;
}

/// One HTTP/1.1 request over a plain socket (no `Authorization` header); the status line and the
/// rest of the response.
async fn post_without_token(addr: &str, path: &str, body: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
}

/// `ordo serve --hooks-open-invoke` serves `/invoke` without a token (204) and says so at start,
/// while the TAC routes still answer 401; without the flag `/invoke` answers 401.
#[tokio::test]
async fn ordo_serve_opens_invoke_only_with_the_flag() {
    use tokio::io::AsyncBufReadExt as _;
    let env = support::Env::without_worker().await;
    let spec = r#"{"workflowStartOptions": {"taskqueue": "nobody-polls-this"}}"#;
    let tac = "/v2/projects/p/composite-apps/a/v/deployment-intent-groups/d/temporal-action-controller";
    for open in [true, false] {
        let mut args = vec!["serve", "--http-addr", "127.0.0.1:0"];
        if open {
            args.push("--hooks-open-invoke");
        }
        let mut child = tokio::process::Command::from(env.ordo(&args))
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut lines = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
        let (mut addr, mut printed) = (None, String::new());
        while let Ok(Some(line)) =
            tokio::time::timeout(Duration::from_secs(60), lines.next_line()).await.expect("output")
        {
            printed.push_str(&line);
            printed.push('\n');
            if let Some(rest) = line.strip_prefix("Ordo web UI and API on http://") {
                addr = rest.split_whitespace().next().map(str::to_owned);
            }
            // The switch is announced after the demo users.
            if line.contains(if open { "/invoke/{client} is open" } else { "ordo-demo-token-admin" }) {
                break;
            }
        }
        let addr = addr.unwrap_or_else(|| panic!("no address in {printed}"));
        assert_eq!(printed.contains("/invoke/{client} is open"), open, "{printed}");
        let invoked = post_without_token(&addr, "/invoke/c", spec).await;
        let expected = if open { "HTTP/1.1 204" } else { "HTTP/1.1 401" };
        assert!(invoked.starts_with(expected), "open={open}: {invoked}");
        let listed = post_without_token(&addr, tac, "{}").await;
        assert!(listed.starts_with("HTTP/1.1 401"), "{listed}");
        child.kill().await.unwrap();
    }
}

/// A failed command's stderr (the test fails when it succeeded).
fn refused(output: Output) -> String {
    assert!(!output.status.success(), "expected a failure, got: {}", String::from_utf8_lossy(&output.stdout));
    String::from_utf8_lossy(&output.stderr).into_owned()
}

const DIG: [&str; 8] = ["--project", "proj1", "--app", "c1", "--app-version", "v1", "--dig", "d1"];

/// Writes `body` to `name` in the environment's data directory; its path.
fn write(env: &support::Env, name: &str, body: &Value) -> String {
    let path = env.data.path().join(name);
    std::fs::write(&path, body.to_string()).unwrap();
    path.to_str().unwrap().to_owned()
}

/// `ordo hook workers …`: the workers of a hook intent created (a taken name refused), listed,
/// read, checked for readiness (ready on a polled task queue, exit 4 on one nobody polls), deleted
/// (then not found); bad input is refused naming the field or the flag.
#[tokio::test]
async fn the_hook_cli_manages_workers_and_their_readiness() {
    let mut env = support::Env::without_worker().await;
    let queue = format!("{}-hooks", env.task_queue);
    env.spawn_worker_with_env(
        &[("ORDO_HOOKS_TASK_QUEUE", &queue), ("ORDO_HOOKS_NO_MIGRATE", "true")],
        &["--domains", "hooks"],
    );
    let intent = serde_json::json!({"metadata": {"name": "pre"}, "spec": {"hookType": "pre-install",
        "workflowClient": {"clientEndpointName": "c", "clientEndpointPort": 9090},
        "temporal": {"workflowStartOptions": {"taskqueue": "nobody-polls-the-hook"}}}});
    let intent = write(&env, "intent.json", &intent);
    ok(env.ordo(&["hook", "intents", "create", &intent]).args(DIG).output().unwrap());
    // Judged on `spec.taskQueue`, the queue the hosted worker polls…
    let ready =
        write(&env, "ready.json", &serde_json::json!({"metadata": {"name": "w-ready"}, "spec": {"taskQueue": queue}}));
    // … and, without one, on the hook's queue, which nobody polls.
    let idle = write(
        &env,
        "idle.json",
        &serde_json::json!({"metadata": {"name": "w-idle"}, "spec": {"startToCloseTimeout": 300}}),
    );
    let workers =
        |args: &[&str]| env.ordo(&["hook", "workers"]).args(args).args(["--intent", "pre"]).args(DIG).output().unwrap();

    ok(workers(&["create", &ready]));
    ok(workers(&["create", &idle]));
    let again = refused(workers(&["create", &ready]));
    assert!(again.contains("worker \"w-ready\" of intent \"pre\" already exists"), "{again}");
    let listed = ok(workers(&["list"]));
    let names: Vec<&str> = listed.as_array().unwrap().iter().map(|w| w["metadata"]["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["w-ready", "w-idle"]);
    let got = ok(workers(&["get", "w-idle"]));
    assert_eq!(got["spec"]["startToCloseTimeout"], 300, "{got}");

    let status = ok(workers(&["status", "w-ready", "--max-wait-ms", "60000"]));
    assert_eq!((status["ready"].as_bool(), status["taskQueue"].as_str()), (Some(true), Some(queue.as_str())));
    let not_ready = workers(&["status", "w-idle"]);
    assert_eq!(not_ready.status.code(), Some(4), "{}", String::from_utf8_lossy(&not_ready.stderr));
    let status: Value = serde_json::from_slice(&not_ready.stdout).unwrap();
    assert_eq!((status["ready"].as_bool(), status["taskQueue"].as_str()), (Some(false), Some("nobody-polls-the-hook")));
    assert_eq!(status["waitMs"], 300, "the worker's own timeout bounds the wait");

    ok(workers(&["delete", "w-idle"]));
    let gone = refused(workers(&["delete", "w-idle"]));
    assert!(gone.contains("worker \"w-idle\" of intent \"pre\" not found"), "{gone}");
    assert!(refused(workers(&["get", "w-idle"])).contains("not found"));
    let no_intent = env.ordo(&["hook", "workers", "list", "--intent", "nope"]).args(DIG).output().unwrap();
    assert!(refused(no_intent).contains("intent \"nope\" not found"));

    // Bad input, refused before anything is stored or asked.
    let bad =
        write(&env, "bad.json", &serde_json::json!({"metadata": {"name": "w"}, "spec": {"startToCloseTimeout": 0}}));
    assert!(refused(workers(&["create", &bad])).contains("spec.startToCloseTimeout"));
    assert!(refused(workers(&["status", "w-ready", "--max-wait-ms", "0"])).contains("--max-wait-ms"));
    let bad_intent = env.ordo(&["hook", "workers", "list", "--intent", "a b"]).args(DIG).output().unwrap();
    assert!(refused(bad_intent).contains("--intent"));
    assert_eq!(ok(workers(&["list"])).as_array().unwrap().len(), 1);
}

/// `ordo hook workflow-intents …`: created (a taken name refused), listed, read; started (a second
/// start of its fixed id under error-when-already-started refused), its status described, then
/// terminated with a reason, which the status and the history show; deleted (then not found).
#[tokio::test]
async fn the_hook_cli_manages_workflow_intents_and_their_workflows() {
    let env = support::Env::without_worker().await;
    let id = format!("wf-intent-{}", uuid::Uuid::new_v4().simple());
    let intent = serde_json::json!({"metadata": {"name": "migrate-now"}, "spec": {
        "workflowClient": {"clientEndpointName": "c", "clientEndpointPort": 9090},
        "temporal": {"workflowType": "Nothing", "workflowStartOptions": {
            "id": id, "taskqueue": "nobody-polls-this", "workflowexecutionerrorwhenalreadystarted": true}}}});
    let file = write(&env, "intent.json", &intent);
    let wf = |args: &[&str]| env.ordo(&["hook", "workflow-intents"]).args(args).args(DIG).output().unwrap();

    ok(wf(&["create", &file]));
    let again = refused(wf(&["create", &file]));
    assert!(again.contains("workflow intent \"migrate-now\" already exists"), "{again}");
    assert_eq!(ok(wf(&["list"])).as_array().unwrap().len(), 1);
    assert_eq!(ok(wf(&["get", "migrate-now"]))["metadata"]["name"], "migrate-now");
    assert!(refused(wf(&["get", "nope"])).contains("workflow intent \"nope\" not found"));
    assert!(refused(wf(&["start", "nope"])).contains("workflow intent \"nope\" not found"));

    let started = ok(wf(&["start", "migrate-now"]));
    assert_eq!(started["workflowId"], id.as_str());
    assert!(refused(wf(&["start", "migrate-now"])).contains("already started"));
    let status = ok(wf(&["status", "migrate-now", "--describe"]));
    assert_eq!(status["runID"], started["runId"]);
    assert_eq!(status["workflowExecutionDescription"]["status"], "Running", "{status}");
    assert_eq!(status["workflowExecutionDescription"]["type"], "Nothing", "{status}");

    ok(wf(&["cancel", "migrate-now", "--terminate", "--reason", "no longer needed"]));
    let status = ok(wf(&["status", "migrate-now", "--describe", "--history"]));
    assert_eq!(status["workflowExecutionDescription"]["status"], "Terminated", "{status}");
    assert!(status["workflowHistory"].to_string().contains("no longer needed"), "{status}");
    let unknown = refused(wf(&["status", "migrate-now", "--workflow-id", "no-such-workflow", "--describe"]));
    assert!(unknown.contains("workflow not found"), "{unknown}");

    // Bad input, refused naming the flag.
    let many: Vec<String> = (0..21).flat_map(|i| ["--query-param".to_owned(), i.to_string()]).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    assert!(refused(wf(&[&["status", "migrate-now"], many.as_slice()].concat())).contains("--query-param"));
    assert!(refused(wf(&["status", "migrate-now", "--wait-secs", "301"])).contains("--wait-secs"));
    assert!(refused(wf(&["cancel", "migrate-now", "--detail", "{not json"])).contains("--detail"));

    ok(wf(&["delete", "migrate-now"]));
    assert!(refused(wf(&["delete", "migrate-now"])).contains("workflow intent \"migrate-now\" not found"));
}
