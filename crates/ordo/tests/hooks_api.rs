//! Seed 004 over HTTP (`ordo_api::app` with `oneshot`, no socket) against a real dev server: the
//! seed's REST cases as table tests (intents, cancel, status, workers, workflow intents), `/invoke`
//! (204, 201 with ids, 409, field-naming refusals) and the switch that opens it to token-less
//! callers.

mod support;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use http_body_util::BodyExt as _;
use ordo_api::auth::token_sha256;
use ordo_api::{AppConfig, AppState, Users};
use ordo_hooks::client::HooksClient;
use ordo_hooks::store::Store;
use serde_json::{json, Value};
use tower::ServiceExt as _;

const BASE: &str = "/v2/projects/proj1/composite-apps/c1/v1/deployment-intent-groups/d1/temporal-action-controller";

struct Api {
    state: AppState,
    client: temporalio_client::Client,
    _env: support::Env,
    _data: tempfile::TempDir,
}

impl Api {
    async fn start() -> Self {
        Self::start_with(false).await
    }

    /// With `open_invoke`, `/invoke` needs no token (`ordo serve --hooks-open-invoke`).
    async fn start_with(open_invoke: bool) -> Self {
        let env = support::Env::without_worker().await;
        let data = tempfile::tempdir().unwrap();
        let store = Store::open(None, data.path()).await.unwrap();
        let client = env.client.temporal().clone();
        let users = Users::from_toml(&format!(
            "[[user]]\nname = \"bob\"\nrole = \"requester\"\ntoken_sha256 = \"{}\"\n",
            token_sha256("token-bob")
        ))
        .unwrap();
        let hooks = HooksClient::new(client.clone(), store, format!("{}-hooks", env.task_queue), "http://emco");
        let mut builder = AppState::builder(&client, AppConfig::new(users)).with(hooks);
        if open_invoke {
            builder = builder.with(ordo_api::OpenInvoke);
        }
        let state = builder.build();
        Self { state, client, _env: env, _data: data }
    }

    /// A call as bob with a raw body (`None`: empty); the status and the JSON body (Null if none).
    async fn call(&self, method: Method, path: &str, body: Option<&str>, accept_json: bool) -> (StatusCode, Value) {
        self.call_as(Some("token-bob"), method, path, body, accept_json).await
    }

    /// A call with this bearer token (`None`: no `Authorization` header).
    async fn call_as(
        &self,
        token: Option<&str>,
        method: Method,
        path: &str,
        body: Option<&str>,
        accept_json: bool,
    ) -> (StatusCode, Value) {
        let mut request = Request::builder().method(method).uri(path).header(header::CONTENT_TYPE, "application/json");
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        if accept_json {
            request = request.header(header::ACCEPT, "application/json");
        }
        let request = request.body(Body::from(body.unwrap_or("").to_owned())).unwrap();
        let response = ordo_api::app(self.state.clone()).oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (status, if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap() })
    }
}

fn intent(name: &str, id: &str) -> Value {
    json!({
        "metadata": {"name": name, "description": "seed test"},
        "spec": {
            "hookType": "pre-install",
            "hookBlocking": true,
            "workflowClient": {"clientEndpointName": "wfclient", "clientEndpointPort": 9090},
            "temporal": {"workflowClientName": "migrate_workflowclient",
                         "workflowStartOptions": {"id": id, "taskqueue": "nobody-polls-this"}}
        }
    })
}

/// The seed's intent handler cases: create 201 echoing the intent, empty name 400, duplicate 409,
/// get/get-all 200, update (PUT) 201, delete 204, missing 404, empty body 400, bad JSON 422.
#[tokio::test]
async fn tac_intent_routes_answer_the_seeds_status_codes() {
    let api = Api::start().await;
    let one = intent("pre-install-workflow-hook", "pre-install-1");
    let mut nameless = one.clone();
    nameless["metadata"]["name"] = json!("");
    let mut renamed = one.clone();
    renamed["metadata"]["description"] = json!("changed");
    let item = format!("{BASE}/pre-install-workflow-hook");
    let cases: Vec<(Method, String, Option<String>, StatusCode)> = vec![
        (Method::POST, BASE.into(), Some(one.to_string()), StatusCode::CREATED),
        (Method::POST, BASE.into(), Some(nameless.to_string()), StatusCode::BAD_REQUEST),
        (Method::POST, BASE.into(), Some(one.to_string()), StatusCode::CONFLICT),
        (Method::POST, BASE.into(), None, StatusCode::BAD_REQUEST),
        (Method::POST, BASE.into(), Some("{not json".into()), StatusCode::UNPROCESSABLE_ENTITY),
        (Method::GET, BASE.into(), None, StatusCode::OK),
        (Method::GET, item.clone(), None, StatusCode::OK),
        (Method::PUT, item.clone(), Some(renamed.to_string()), StatusCode::CREATED),
        (Method::PUT, format!("{BASE}/other"), Some(renamed.to_string()), StatusCode::BAD_REQUEST),
        (Method::GET, format!("{BASE}/missing"), None, StatusCode::NOT_FOUND),
        (Method::DELETE, format!("{BASE}/missing"), None, StatusCode::NOT_FOUND),
        (Method::DELETE, item.clone(), None, StatusCode::NO_CONTENT),
        (Method::GET, item.clone(), None, StatusCode::NOT_FOUND),
        (
            Method::GET,
            "/v2/projects/p/composite-apps/c/v/deployment-intent-groups/-bad/temporal-action-controller".into(),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ];
    for (method, path, body, expected) in cases {
        let (status, json) = api.call(method.clone(), &path, body.as_deref(), false).await;
        assert_eq!(status, expected, "{method} {path}: {json}");
        if method == Method::POST && status == StatusCode::CREATED {
            assert_eq!(json, one, "create echoes the intent");
        }
        if status == StatusCode::BAD_REQUEST && body.as_deref().is_some_and(|b| b.contains("\"name\":\"\"")) {
            assert!(json["reason"].as_str().unwrap().contains("metadata.name"), "{json}");
        }
    }
    let (_, listed) = api.call(Method::GET, BASE, None, false).await;
    assert_eq!(listed, json!([]));
}

/// `/invoke`: 204 as the seed, 201 with ids for a JSON caller, 409 for a taken id under
/// error-when-already-started, field-naming refusals; then TAC's status (with the result passed
/// through describe) and cancel: the seed's bad and empty bodies 400/422, terminate 204, a missing
/// workflow 404.
#[tokio::test]
async fn invoke_status_and_cancel() {
    let api = Api::start().await;
    let id = format!("invoke-{}", uuid::Uuid::new_v4().simple());
    let spec = json!({"workflowClientName": "c", "workflowStartOptions": {"ID": id, "TaskQueue": "nobody-polls-this",
                      "WorkflowExecutionErrorWhenAlreadyStarted": true}});
    let (status, _) = api.call(Method::POST, "/invoke/migrate_workflowclient", Some(&spec.to_string()), false).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = api.call(Method::POST, "/invoke/c", Some(&spec.to_string()), true).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let fresh = json!({"workflowStartOptions": {"taskqueue": "nobody-polls-this"}});
    let (status, body) = api.call(Method::POST, "/invoke/c", Some(&fresh.to_string()), true).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(body["workflowId"].is_string() && body["runId"].is_string(), "{body}");
    for (path, body, field) in [
        ("/invoke/c", json!({}), "workflowStartOptions"),
        (
            "/invoke/c",
            json!({"workflowStartOptions": {"taskqueue": "q", "workflowidreusepolicy": 9}}),
            "workflowStartOptions.WorkflowIDReusePolicy",
        ),
        ("/invoke/bad%20name", fresh.clone(), "client"),
    ] {
        let (status, json) = api.call(Method::POST, path, Some(&body.to_string()), false).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path} {json}");
        assert_eq!(json["field"], field, "{json}");
    }

    // An intent whose workflow is the one invoked above.
    api.call(Method::POST, BASE, Some(&intent("hook", &id).to_string()), false).await;
    let status_path = format!("{BASE}/hook/status");
    let query = json!({"temporalServer": "in-process", "workflowID": id, "runDescribeWfExec": true}).to_string();
    for method in [Method::GET, Method::POST] {
        let (status, body) = api.call(method, &status_path, Some(&query), false).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["workflowExecutionDescription"]["status"], "Running");
    }
    let (status, _) = api.call(Method::GET, &status_path, None, false).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let missing = json!({"temporalServer": "t", "workflowID": "no-such-workflow"}).to_string();
    let (status, _) = api.call(Method::POST, &status_path, Some(&missing), false).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let cancel_path = format!("{BASE}/hook/cancel");
    for (body, expected) in [
        (None, StatusCode::BAD_REQUEST),
        (Some("{bad".to_owned()), StatusCode::UNPROCESSABLE_ENTITY),
        (Some(json!({"spec": {}}).to_string()), StatusCode::BAD_REQUEST),
        (Some(json!({"spec": {"temporalServer": "t", "extra": 1}}).to_string()), StatusCode::BAD_REQUEST),
        (
            Some(json!({"spec": {"temporalServer": "t", "terminate": true, "reason": "done"}}).to_string()),
            StatusCode::NO_CONTENT,
        ),
    ] {
        let (status, json) = api.call(Method::POST, &cancel_path, body.as_deref(), false).await;
        assert_eq!(status, expected, "{body:?}: {json}");
    }
    let handle = api.client.get_workflow_handle::<temporalio_common::UntypedWorkflow>(id);
    let description = handle.describe(temporalio_client::WorkflowDescribeOptions::default()).await.unwrap();
    assert_eq!(format!("{:?}", description.status()), "Terminated");
    let (status, _) = api
        .call(
            Method::POST,
            &format!("{BASE}/nope/cancel"),
            Some(&json!({"spec": {"temporalServer": "t"}}).to_string()),
            false,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// Lifecycle over HTTP: an unknown action is 404; instantiate with no hooks is 202 with ids, its
/// history readable by action and app context once the hosted worker has run it; the DIG lists it.
#[tokio::test]
async fn lifecycle_actions_start_and_read_back() {
    let mut api = Api::start().await;
    let dig = "/v2/projects/proj1/composite-apps/c1/v1/deployment-intent-groups/d1";
    let (status, _) = api.call(Method::POST, &format!("{dig}/explode"), None, false).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let queue = format!("{}-hooks", api._env.task_queue);
    api._env.spawn_worker_with_env(&[("ORDO_HOOKS_TASK_QUEUE", &queue)], &["--domains", "hooks", "--hooks-no-migrate"]);
    let (status, started) = api.call(Method::POST, &format!("{dig}/instantiate"), None, false).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{started}");
    let context = started["appContextId"].as_str().unwrap().to_owned();
    let path = format!("{dig}/lifecycle-actions/instantiate/{context}");
    let history = support::poll("the lifecycle's end", std::time::Duration::from_secs(30), async || {
        let (status, body) = api.call(Method::GET, &path, None, false).await;
        if status == StatusCode::OK && body["phase"] == "done" {
            Ok(body)
        } else {
            Err((status, body))
        }
    })
    .await;
    assert_eq!(history["outcome"]["status"], "succeeded", "{history}");
    let (status, _) = api.call(Method::GET, &format!("{dig}/lifecycle-actions/update/{context}"), None, false).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = api.call(Method::GET, &format!("{dig}/lifecycle-actions/update/abc"), None, false).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let listed = support::poll("the action listed", std::time::Duration::from_secs(30), async || {
        let (_, body) = api.call(Method::GET, &format!("{dig}/lifecycle-actions"), None, false).await;
        if body.as_array().is_some_and(|a| a.len() == 1) {
            Ok(body)
        } else {
            Err(body)
        }
    })
    .await;
    assert_eq!(listed[0]["workflowId"], started["workflowId"]);
}

/// One table case: method, path, body (`None`: empty), the status expected.
type Case = (Method, String, Option<String>, StatusCode);

async fn run_cases(api: &Api, cases: Vec<Case>) {
    for (method, path, body, expected) in cases {
        let (status, json) = api.call(method.clone(), &path, body.as_deref(), false).await;
        assert_eq!(status, expected, "{method} {path} {body:?}: {json}");
    }
}

/// The seed's worker cases: create 201 echoing the worker, duplicate 409, under a missing intent
/// 404, get/get-all 200, update 201, delete 204, missing 404, bad bodies 400/422; readiness is
/// false on a queue nobody polls (after its timeout) and true once a worker polls the queue.
#[tokio::test]
async fn workers_answer_the_seeds_codes_and_are_ready_when_their_queue_has_pollers() {
    let mut api = Api::start().await;
    api.call(Method::POST, BASE, Some(&intent("hook", "hook-1").to_string()), false).await;
    let workers = format!("{BASE}/hook/workers");
    let idle = json!({"metadata": {"name": "w1"}, "spec": {"startToCloseTimeout": 300, "deploymentIntentGroup": "d",
                                                            "compositeApp": "c", "compositeAppVersion": "v"}});
    let mut changed = idle.clone();
    changed["spec"]["startToCloseTimeout"] = json!(200);
    let cases: Vec<Case> = vec![
        (Method::POST, workers.clone(), Some(idle.to_string()), StatusCode::CREATED),
        (Method::POST, workers.clone(), Some(idle.to_string()), StatusCode::CONFLICT),
        (Method::POST, format!("{BASE}/nope/workers"), Some(idle.to_string()), StatusCode::NOT_FOUND),
        (Method::POST, workers.clone(), None, StatusCode::BAD_REQUEST),
        (Method::POST, workers.clone(), Some("{nope".into()), StatusCode::UNPROCESSABLE_ENTITY),
        (
            Method::POST,
            workers.clone(),
            Some(json!({"metadata": {"name": "w2"}, "spec": {"startToCloseTimeout": -1}}).to_string()),
            StatusCode::BAD_REQUEST,
        ),
        (Method::GET, workers.clone(), None, StatusCode::OK),
        (Method::GET, format!("{workers}/w1"), None, StatusCode::OK),
        (Method::GET, format!("{workers}/missing"), None, StatusCode::NOT_FOUND),
        (Method::PUT, format!("{workers}/w1"), Some(changed.to_string()), StatusCode::CREATED),
        (Method::PUT, format!("{workers}/other"), Some(changed.to_string()), StatusCode::BAD_REQUEST),
        (Method::GET, format!("{workers}/missing/status"), None, StatusCode::NOT_FOUND),
    ];
    run_cases(&api, cases).await;
    let (_, listed) = api.call(Method::GET, &workers, None, false).await;
    assert_eq!(listed, json!([changed]), "the PUT overwrote the worker");
    let (status, body) = api.call(Method::POST, &workers, Some(&idle.to_string().replace("w1", "w9")), false).await;
    assert_eq!((status, body["metadata"]["name"].clone()), (StatusCode::CREATED, json!("w9")), "echoed");

    // w1 uses the hook's task queue, which nobody polls: not ready once its 200 ms are up.
    let (status, ready) = api.call(Method::GET, &format!("{workers}/w1/status"), None, false).await;
    assert_eq!(status, StatusCode::OK, "{ready}");
    assert_eq!((ready["ready"].clone(), ready["taskQueue"].clone()), (json!(false), json!("nobody-polls-this")));

    // A worker on a queue an `ordo worker` polls is ready.
    let queue = format!("{}-hooks", api._env.task_queue);
    let polled = json!({"metadata": {"name": "polled"}, "spec": {"startToCloseTimeout": 5000, "taskQueue": queue}});
    assert_eq!(api.call(Method::POST, &workers, Some(&polled.to_string()), false).await.0, StatusCode::CREATED);
    api._env.spawn_worker_with_env(&[("ORDO_HOOKS_TASK_QUEUE", &queue)], &["--domains", "hooks", "--hooks-no-migrate"]);
    support::poll("the worker ready", std::time::Duration::from_secs(60), async || {
        let (_, body) = api.call(Method::GET, &format!("{workers}/polled/status"), None, false).await;
        if body["ready"] == json!(true) {
            Ok(())
        } else {
            Err(body)
        }
    })
    .await;

    run_cases(
        &api,
        vec![
            (Method::DELETE, format!("{workers}/w1"), None, StatusCode::NO_CONTENT),
            (Method::DELETE, format!("{workers}/w1"), None, StatusCode::NOT_FOUND),
            (Method::DELETE, format!("{BASE}/hook"), None, StatusCode::NO_CONTENT),
            (Method::GET, format!("{workers}/w9"), None, StatusCode::NOT_FOUND),
        ],
    )
    .await;
}

/// workflowmgr's routes: create 201 echoing, duplicate 409, empty name 400, get/list 200, start
/// (204, 201 with ids, then 409 under error-when-already-started), status by GET-with-body and
/// POST, cancel with terminate (the workflow is terminated), delete 204 then 404.
#[tokio::test]
async fn workflow_intents_are_kept_started_read_and_cancelled() {
    let api = Api::start().await;
    let base = BASE.replace("/temporal-action-controller", "/temporal-workflow-intents");
    let id = format!("wf-{}", uuid::Uuid::new_v4().simple());
    let mut wf = intent("migrate-now", &id);
    wf["spec"].as_object_mut().unwrap().remove("hookType");
    wf["spec"].as_object_mut().unwrap().remove("hookBlocking");
    wf["spec"]["temporal"]["workflowStartOptions"]["workflowexecutionerrorwhenalreadystarted"] = json!(true);
    let mut nameless = wf.clone();
    nameless["metadata"]["name"] = json!("");
    let item = format!("{base}/migrate-now");
    let (status, echoed) = api.call(Method::POST, &base, Some(&wf.to_string()), false).await;
    assert_eq!((status, &echoed), (StatusCode::CREATED, &wf));
    run_cases(
        &api,
        vec![
            (Method::POST, base.clone(), Some(wf.to_string()), StatusCode::CONFLICT),
            (Method::POST, base.clone(), Some(nameless.to_string()), StatusCode::BAD_REQUEST),
            (Method::POST, base.clone(), None, StatusCode::BAD_REQUEST),
            (Method::POST, base.clone(), Some("[".into()), StatusCode::UNPROCESSABLE_ENTITY),
            (Method::GET, item.clone(), None, StatusCode::OK),
            (Method::GET, format!("{base}/missing"), None, StatusCode::NOT_FOUND),
            (Method::POST, format!("{base}/missing/start"), None, StatusCode::NOT_FOUND),
        ],
    )
    .await;
    let (_, listed) = api.call(Method::GET, &base, None, false).await;
    assert_eq!(listed, json!([wf]));

    let (status, started) = api.call(Method::POST, &format!("{item}/start"), None, true).await;
    assert_eq!(status, StatusCode::CREATED, "{started}");
    assert_eq!(started["workflowId"], json!(id));
    let (status, _) = api.call(Method::POST, &format!("{item}/start"), None, false).await;
    assert_eq!(status, StatusCode::CONFLICT, "the intent's id is running");

    let query = json!({"temporalServer": "in-process", "workflowID": id, "runDescribeWfExec": true}).to_string();
    for method in [Method::GET, Method::POST] {
        let (status, body) = api.call(method, &format!("{item}/status"), Some(&query), false).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["runID"], started["runId"]);
        assert_eq!(body["workflowExecutionDescription"]["taskQueue"], "nobody-polls-this");
    }
    let (status, _) = api.call(Method::POST, &format!("{item}/status"), None, false).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let terminate = json!({"spec": {"temporalServer": "t", "terminate": true, "reason": "test"}}).to_string();
    let (status, body) = api.call(Method::POST, &format!("{item}/cancel"), Some(&terminate), false).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let handle = api.client.get_workflow_handle::<temporalio_common::UntypedWorkflow>(id);
    let description = handle.describe(temporalio_client::WorkflowDescribeOptions::default()).await.unwrap();
    assert_eq!(format!("{:?}", description.status()), "Terminated");

    run_cases(
        &api,
        vec![
            (Method::DELETE, item.clone(), None, StatusCode::NO_CONTENT),
            (Method::DELETE, item.clone(), None, StatusCode::NOT_FOUND),
            (Method::GET, item.clone(), None, StatusCode::NOT_FOUND),
        ],
    )
    .await;
}

/// `/invoke` needs a token by default (401 without one); with the switch on it starts the
/// workflow without one (204), while every other hooks route still answers 401.
#[tokio::test]
async fn invoke_is_opened_to_callers_without_a_token_only_by_the_switch() {
    let spec = json!({"workflowStartOptions": {"taskqueue": "nobody-polls-this"}}).to_string();
    let closed = Api::start().await;
    let (status, body) = closed.call_as(None, Method::POST, "/invoke/c", Some(&spec), false).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, _) = closed.call_as(Some("wrong"), Method::POST, "/invoke/c", Some(&spec), false).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let open = Api::start_with(true).await;
    let (status, body) = open.call_as(None, Method::POST, "/invoke/c", Some(&spec), true).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let started =
        open.client.get_workflow_handle::<temporalio_common::UntypedWorkflow>(body["workflowId"].as_str().unwrap());
    let description = started.describe(temporalio_client::WorkflowDescribeOptions::default()).await.unwrap();
    assert_eq!(format!("{:?}", description.status()), "Running");
    let (status, _) = open.call_as(None, Method::POST, "/invoke/c", Some(&spec), false).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = open.call_as(None, Method::POST, "/invoke/c", Some("{}"), false).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "bad specs are still refused");
    let dig = BASE.replace("/temporal-action-controller", "");
    for (method, path) in [
        (Method::GET, BASE.to_owned()),
        (Method::POST, BASE.to_owned()),
        (Method::POST, format!("{BASE}/x/cancel")),
        (Method::POST, format!("{BASE}/x/status")),
        (Method::GET, format!("{BASE}/x/workers")),
        (Method::POST, format!("{dig}/temporal-workflow-intents")),
        (Method::POST, format!("{dig}/temporal-workflow-intents/x/start")),
        (Method::POST, format!("{dig}/instantiate")),
        (Method::GET, format!("{dig}/lifecycle-actions")),
    ] {
        let (status, _) = open.call_as(None, method.clone(), &path, Some(&spec), false).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}");
    }
}
