//! Seed 002's routes and Ordo's `/api/orders…` through `ordo_api::app(..).oneshot(..)` (no
//! socket) against a real dev server (one per test binary) and a real `ordo worker --domains
//! orders` process on a task queue of each test's own.

mod support;

use std::process::{Child, Stdio};
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use http_body_util::BodyExt as _;
use ordo_api::auth::token_sha256;
use ordo_api::{AppConfig, AppState, Users};
use ordo_core::devserver::{bound_command, spawn_bound};
use ordo_orders::effects::Ledger;
use ordo_orders::OrdersClient;
use serde_json::{json, Value};
use tower::ServiceExt as _;

/// This binary's dev server (`ordo_core::testing::server`), with the orders search attribute
/// registered.
async fn server() -> &'static str {
    ordo_core::testing::server_with(ordo_orders::SEARCH_ATTRIBUTES).await
}

/// The API over orders on a fresh task queue, with a worker unless `worker` is false.
struct Api {
    state: AppState,
    workers: Vec<Child>,
    queue: String,
    /// The workers' data dir (their effects ledger and injected-failure count).
    data: tempfile::TempDir,
}

impl Drop for Api {
    fn drop(&mut self) {
        for mut child in self.workers.drain(..) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// `ordo worker --domains orders` on `queue`, with `failure_rate` of kitchen steps failing.
fn worker_command(queue: &str, data: &std::path::Path, failure_rate: f64) -> std::process::Command {
    let mut command = bound_command(env!("CARGO_BIN_EXE_ordo"));
    command
        .args(["worker", "--domains", "orders"])
        .env("TEMPORAL_ADDRESS", SERVER_ADDRESS.get().expect("the dev server runs"))
        .env("ORDO_ORDERS_TASK_QUEUE", queue)
        .env("ORDO_ORDERS_FAILURE_RATE", failure_rate.to_string())
        .env("ORDO_DATA_DIR", data)
        .env_remove("TEMPORAL_PROFILE")
        .env_remove("ORDO_METRICS_ADDR")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    command
}

static SERVER_ADDRESS: std::sync::OnceLock<String> = std::sync::OnceLock::new();

impl Api {
    async fn start(worker: bool) -> Self {
        let mut api = Self::without_launcher(false).await;
        if worker {
            api.spawn_worker();
        }
        api
    }

    /// No worker, but the chaos controller can start some (as `ordo serve` registers it).
    async fn with_launcher() -> Self {
        Self::without_launcher(true).await
    }

    async fn without_launcher(launcher: bool) -> Self {
        let address = server().await;
        SERVER_ADDRESS.get_or_init(|| address.to_owned());
        let queue = format!("orders-api-{}", uuid::Uuid::new_v4());
        let data = tempfile::tempdir().unwrap();
        let client = ordo_core::connect(&ordo_core::TemporalArgs::at(address)).await.unwrap();
        let users = Users::from_toml(&format!(
            "[[user]]\nname = \"admin\"\nrole = \"admin\"\ntoken_sha256 = \"{}\"\n\
             [[user]]\nname = \"bob\"\nrole = \"requester\"\ntoken_sha256 = \"{}\"\n",
            token_sha256("token-admin"),
            token_sha256("token-bob"),
        ))
        .unwrap();
        let orders = OrdersClient::new(client.clone(), queue.clone()).with_query_timeout(Duration::from_millis(700));
        let mut builder = AppState::builder(&client, AppConfig::new(users)).with(orders);
        if launcher {
            let (queue, dir) = (queue.clone(), data.path().to_owned());
            let launch = move |rate: f64| {
                let mut command = tokio::process::Command::from(worker_command(&queue, &dir, rate));
                command.kill_on_drop(true).spawn()
            };
            let ledger = Ledger::new(ordo_orders::domain::ledger_dir(data.path()));
            builder = builder.with(ordo_orders::chaos::Launcher::new(launch, Some(ledger)));
        }
        Self { state: builder.build(), workers: Vec::new(), queue, data }
    }

    fn spawn_worker(&mut self) {
        let command = worker_command(&self.queue, self.data.path(), 0.0);
        self.workers.push(spawn_bound(command).expect("ordo worker starts"));
    }

    async fn call(&self, method: Method, uri: &str, body: Option<Value>, admin: bool) -> (StatusCode, Value) {
        self.call_as(method, uri, body, admin.then_some("admin")).await
    }

    /// A JSON call with `who`'s token (none: signed out).
    async fn call_as(&self, method: Method, uri: &str, body: Option<Value>, who: Option<&str>) -> (StatusCode, Value) {
        let mut request = Request::builder().method(method).uri(uri);
        if let Some(who) = who {
            request = request.header(header::AUTHORIZATION, format!("Bearer token-{who}"));
        }
        let body = match body {
            Some(json) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Body::from(json.to_string())
            }
            None => Body::empty(),
        };
        let response = ordo_api::app(self.state.clone()).oneshot(request.body(body).unwrap()).await.unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    /// Opens `uri`'s server-sent events (a 200 `text/event-stream`), or answers the refusal.
    async fn events(&self, uri: &str) -> Result<support::sse::Sse, (StatusCode, Value)> {
        let request = Request::builder().uri(uri).body(Body::empty()).unwrap();
        let response = ordo_api::app(self.state.clone()).oneshot(request).await.unwrap();
        if response.status() != StatusCode::OK {
            let status = response.status();
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            return Err((status, serde_json::from_slice(&bytes).unwrap_or(Value::Null)));
        }
        Ok(support::sse::Sse::new(response))
    }

    /// GETs `uri` as the admin until `done(answer)` (at most `limit`, to bound a hung run); the
    /// last answer.
    async fn until(&self, uri: &str, limit: Duration, done: impl Fn(&Value) -> bool) -> Value {
        support::poll(&format!("{uri} to get there"), limit, async || {
            let (status, answer) = self.call(Method::GET, uri, None, true).await;
            assert_eq!(status, StatusCode::OK, "{uri}: {answer}");
            if done(&answer) {
                Ok(answer)
            } else {
                Err(answer)
            }
        })
        .await
    }
}

fn quick() -> Value {
    json!({"prepareMs": 20, "bakeMs": 20, "pickupMs": 20, "deliverMs": 20, "retryMs": 20})
}

/// The seed's own routes: `/orderPizza` answers `{status: ORDER_RECEIVED, order, runId}` with the
/// seed's id scheme, `/orderStatus` follows the order to ORDER_DELIVERED, and a request without
/// an order gets exactly `{"status": "ORDER_UNKNOWN"}`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seeds_routes_place_and_follow_an_order() {
    let api = Api::start(true).await;
    let body = json!({"id": "web", "crust": 2, "cheese": "CHEESE_ALL", "toppings": ["basil"], "kitchen": quick()});
    let (status, placed) = api.call(Method::POST, "/orderPizza", Some(body), true).await;
    assert_eq!(status, StatusCode::OK, "{placed}");
    assert_eq!(placed["status"], "ORDER_RECEIVED");
    assert_eq!(placed["order"]["crust"], "CRUST_GARLIC");
    assert!(placed["order"]["id"].as_str().unwrap().starts_with("web--"));
    assert!(!placed["runId"].as_str().unwrap().is_empty());
    let delivered = support::poll("the order to be delivered", Duration::from_secs(60), async || {
        let (status, answer) = api.call(Method::POST, "/orderStatus", Some(placed.clone()), false).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        if answer["status"] == "ORDER_DELIVERED" {
            Ok(answer)
        } else {
            Err(answer)
        }
    })
    .await;
    assert_eq!(delivered["order"]["id"], placed["order"]["id"]);
    let (status, unknown) = api.call(Method::POST, "/orderStatus", Some(json!({})), false).await;
    assert_eq!((status, unknown), (StatusCode::OK, json!({"status": "ORDER_UNKNOWN"})));
    let nobody = json!({"status": "ORDER_RECEIVED", "order": {"id": "nobody--0"}, "runId": ""});
    let (status, echoed) = api.call(Method::POST, "/orderStatus", Some(nobody), false).await;
    assert_eq!((status, echoed), (StatusCode::OK, json!({"status": "ORDER_UNKNOWN", "order": {"id": "nobody--0"}})));

    let id = placed["order"]["id"].as_str().unwrap();
    // The batch answers from visibility, which catches up with the order shortly after it ends.
    let rows = support::poll("visibility to show the order delivered", Duration::from_secs(10), async || {
        let (status, rows) =
            api.call(Method::POST, "/api/orders/status", Some(json!({"ids": [id, "nobody--0"]})), false).await;
        assert_eq!(status, StatusCode::OK, "{rows}");
        if rows[0]["status"] == "ORDER_DELIVERED" {
            Ok(rows)
        } else {
            Err(rows)
        }
    })
    .await;
    assert!(rows[1]["status"].is_null());
    let (status, view) = api.call(Method::GET, &format!("/api/orders/{id}"), None, false).await;
    assert_eq!((status, &view["status"]["status"]), (StatusCode::OK, &json!("ORDER_DELIVERED")));
    let (status, stats) = api.call(Method::GET, "/api/orders/stats", None, false).await;
    assert_eq!((status, &stats["failed"]), (StatusCode::OK, &json!(0)), "{stats}");
}

/// Bad input is refused naming the field, and nothing starts: unknown crust, 10,000 toppings,
/// missing id, wrong types, knobs from the public, more than 1,000 ids.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_orders_get_4xx_naming_the_field() {
    let api = Api::start(false).await;
    let many: Vec<String> = (0..10_000).map(|i| format!("t{i}")).collect();
    for (body, field) in [
        (json!({"id": "a", "crust": "CRUST_DEEP"}), "crust"),
        (json!({"id": "a", "toppings": many}), "toppings"),
        (json!({"crust": 1}), "id"),
        (json!({"id": 7}), "id"),
        (json!({"id": "a", "toppings": "ham"}), "toppings"),
        (json!({"id": "a", "kitchen": quick()}), "kitchen"),
    ] {
        for route in ["/orderPizza", "/api/orders"] {
            let (status, error) = api.call(Method::POST, route, Some(body.clone()), false).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{route} {body}: {error}");
            assert_eq!(error["field"], field, "{route}: {error}");
        }
    }
    let ids: Vec<String> = (0..1001).map(|i| format!("x{i}")).collect();
    let (status, error) = api.call(Method::POST, "/api/orders/status", Some(json!({"ids": ids})), false).await;
    assert_eq!((status, &error["field"]), (StatusCode::UNPROCESSABLE_ENTITY, &json!("ids")));
    let (status, stats) = api.call(Method::GET, "/api/orders/stats", None, false).await;
    assert_eq!(status, StatusCode::OK);
    assert!(stats["byStatus"].as_object().unwrap().is_empty(), "nothing started: {stats}");
}

/// With no worker, `/orderStatus` answers the last status visibility knows, marked stale: never
/// ORDER_UNKNOWN for an order that exists.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_no_worker_order_status_is_stale_not_unknown() {
    let api = Api::start(false).await;
    let (status, placed) = api.call(Method::POST, "/orderPizza", Some(json!({"id": "idle"})), false).await;
    assert_eq!(status, StatusCode::OK, "{placed}");
    let (status, answer) = api.call(Method::POST, "/orderStatus", Some(placed.clone()), false).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer["status"], "ORDER_RECEIVED");
    assert_eq!(answer["stale"], true);
    assert_eq!(answer["order"]["id"], placed["order"]["id"]);
}

/// The OpenAPI document describes the orders' routes and schemas.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_has_the_orders_routes() {
    let api = Api::start(false).await;
    let (status, doc) = api.call(Method::GET, "/api/openapi.json", None, false).await;
    assert_eq!(status, StatusCode::OK);
    for path in [
        "/orderPizza",
        "/orderStatus",
        "/api/orders",
        "/api/orders/{id}",
        "/api/orders/status",
        "/api/orders/stats",
        "/api/orders/{id}/events",
        "/api/orders/stats/events",
        "/api/orders/chaos",
        "/api/orders/stream",
        "/api/orders/menu",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is documented");
    }
    for schema in [
        "PizzaOrderInfo",
        "PizzaOrderStatus",
        "OrderView",
        "OrderSummary",
        "OrderStats",
        "ChaosRequest",
        "ChaosRun",
        "StreamRequest",
        "OrderStream",
    ] {
        assert!(doc["components"]["schemas"][schema].is_object(), "{schema} is documented");
    }
}

/// Placing is public but rate-limited per client: a client's burst is served, then 429s; another
/// client still places.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn placing_is_rate_limited_per_client() {
    let api = Api::start(false).await;
    let place = |ip: [u8; 4]| {
        let mut request = Request::builder()
            .method(Method::POST)
            .uri("/orderPizza")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(json!({"id": "burst"}).to_string()))
            .unwrap();
        let peer = std::net::SocketAddr::from((ip, 40_000));
        request.extensions_mut().insert(axum::extract::ConnectInfo(peer));
        ordo_api::app(api.state.clone()).oneshot(request)
    };
    // All at once, faster than the bucket refills (5 a second), whatever the machine's speed.
    let responses = futures::future::join_all((0..60).map(|_| place([198, 51, 100, 7]))).await;
    let statuses: Vec<StatusCode> = responses.into_iter().map(|r| r.unwrap().status()).collect();
    let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let limited = statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    assert!(ok >= 30 && limited >= 10 && ok + limited == 60, "{ok} placed, {limited} refused: {statuses:?}");
    assert_eq!(place([198, 51, 100, 8]).await.unwrap().status(), StatusCode::OK, "another client is not limited");
}

/// An order's page and the stats are pushed: the order's stream starts at ORDER_RECEIVED (no
/// worker yet: stale), and once a worker runs it pushes each change until ORDER_DELIVERED and
/// `end`; the stats stream, opened before, pushes the delivered count from 0 to 1, failed 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_and_the_stats_are_pushed_live_until_delivered() {
    let mut api = Api::start(false).await;
    let body = json!({"id": "live", "crust": "CRUST_THIN", "kitchen": quick()});
    let (status, placed) = api.call(Method::POST, "/api/orders", Some(body), true).await;
    assert_eq!(status, StatusCode::CREATED, "{placed}");
    let id = placed["order"]["id"].as_str().unwrap().to_owned();
    tokio::time::timeout(Duration::from_secs(120), async {
        let mut stats = api.events("/api/orders/stats/events").await.expect("stats stream opens");
        let (name, first) = stats.next().await.expect("a first stats event");
        assert_eq!(name, "stats");
        assert_eq!((&first["running"], &first["delivered"], &first["failed"]), (&json!(1), &json!(0), &json!(0)));

        let mut order = api.events(&format!("/api/orders/{id}/events")).await.expect("order stream opens");
        let (name, first) = order.next().await.expect("a first order event");
        assert_eq!(name, "order");
        assert_eq!((&first["status"]["status"], &first["stale"]), (&json!("ORDER_RECEIVED"), &json!(true)), "{first}");

        api.spawn_worker();
        let mut last = first;
        loop {
            match order.next().await.expect("the order stream ends with `end`") {
                (name, view) if name == "order" => last = view,
                (name, _) => {
                    assert_eq!(name, "end");
                    break;
                }
            }
        }
        assert_eq!(last["status"]["status"], "ORDER_DELIVERED", "{last}");
        assert_eq!(last["executionStatus"], "Completed", "{last}");
        assert!(order.next().await.is_none(), "nothing after `end`");

        loop {
            let (name, now) = stats.next().await.expect("the stats stream stays open");
            assert_eq!((name.as_str(), &now["failed"]), ("stats", &json!(0)), "{now}");
            if now["delivered"] == 1 {
                break;
            }
        }
    })
    .await
    .expect("delivered and pushed within 2 minutes");

    let (status, error) = api.events("/api/orders/nobody--0/events").await.err().expect("no stream of nothing");
    assert_eq!(status, StatusCode::NOT_FOUND, "{error}");
    let long = "x".repeat(400);
    let (status, error) = api.events(&format!("/api/orders/{long}/events")).await.err().expect("refused");
    assert_eq!((status, &error["field"]), (StatusCode::UNPROCESSABLE_ENTITY, &json!("id")));
}

/// The chaos and stream controls are for a signed-in admin (401 signed out, 403 for a
/// requester), every number is bounded (422 naming the field), and nothing starts on refusal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chaos_and_stream_controls_are_admin_only_and_bounded() {
    let api = Api::with_launcher().await;
    let chaos = json!({"workers": 2, "killEveryMs": 1000, "failureRate": 0.3});
    let stream = json!({"count": 5, "rate": 10.0});
    for (method, uri, body) in [
        (Method::POST, "/api/orders/chaos", Some(chaos.clone())),
        (Method::GET, "/api/orders/chaos", None),
        (Method::DELETE, "/api/orders/chaos", None),
        (Method::POST, "/api/orders/stream", Some(stream.clone())),
        (Method::GET, "/api/orders/stream", None),
        (Method::DELETE, "/api/orders/stream", None),
    ] {
        let (status, error) = api.call_as(method.clone(), uri, body.clone(), None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {uri}: {error}");
        let (status, error) = api.call_as(method.clone(), uri, body, Some("bob")).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {uri}: {error}");
    }
    let with = |base: &Value, field: &str, value: Value| {
        let mut body = base.clone();
        body[field] = value;
        body
    };
    for (uri, body, field) in [
        ("/api/orders/chaos", with(&chaos, "workers", json!(0)), "workers"),
        ("/api/orders/chaos", with(&chaos, "workers", json!(17)), "workers"),
        ("/api/orders/chaos", with(&chaos, "workers", json!(-1)), "workers"),
        ("/api/orders/chaos", with(&chaos, "killEveryMs", json!(5)), "killEveryMs"),
        ("/api/orders/chaos", with(&chaos, "killEveryMs", json!(4_000_000)), "killEveryMs"),
        ("/api/orders/chaos", with(&chaos, "restartAfterMs", json!(700_000)), "restartAfterMs"),
        ("/api/orders/chaos", with(&chaos, "failureRate", json!(1.5)), "failureRate"),
        ("/api/orders/chaos", with(&chaos, "durationS", json!(0)), "durationS"),
        ("/api/orders/chaos", json!({"workers": 2, "failureRate": 0.3}), "killEveryMs"),
        ("/api/orders/stream", with(&stream, "count", json!(0)), "count"),
        ("/api/orders/stream", with(&stream, "count", json!(100_001)), "count"),
        ("/api/orders/stream", with(&stream, "rate", json!(0)), "rate"),
        ("/api/orders/stream", with(&stream, "rate", json!(5000)), "rate"),
        ("/api/orders/stream", with(&stream, "stepMs", json!(200_000)), "stepMs"),
        ("/api/orders/stream", with(&stream, "first", json!(2_000_000_000u64)), "first"),
        ("/api/orders/stream", json!({"rate": 1.0}), "count"),
    ] {
        let (status, error) = api.call(Method::POST, uri, Some(body.clone()), true).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{uri} {body}: {error}");
        assert_eq!(error["field"], field, "{uri} {body}: {error}");
    }
    for uri in ["/api/orders/chaos", "/api/orders/stream"] {
        let (status, error) = api.call(Method::GET, uri, None, true).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "nothing started: {error}");
    }
    let (status, stats) = api.call(Method::GET, "/api/orders/stats", None, false).await;
    assert_eq!(status, StatusCode::OK);
    assert!(stats["byStatus"].as_object().unwrap().is_empty() && stats.get("chaos").is_none(), "{stats}");
}

/// A small chaos run from the API: two workers this API starts, one SIGKILLed every second or so
/// and restarted, 30 % of kitchen steps failing, 10 orders streamed from the API: every order is
/// delivered or rejected, none failed; a second chaos run is refused while one runs; stopping the
/// run leaves no worker alive, and the stats page's numbers show what it did.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chaos_run_and_a_stream_from_the_api_fail_no_order() {
    let api = Api::with_launcher().await;
    let chaos = json!({"workers": 2, "killEveryMs": 1000, "restartAfterMs": 200, "failureRate": 0.3});
    let (status, run) = api.call(Method::POST, "/api/orders/chaos", Some(chaos.clone()), true).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{run}");
    assert_eq!(run["running"], true);
    let (status, error) = api.call(Method::POST, "/api/orders/chaos", Some(chaos), true).await;
    assert_eq!(status, StatusCode::CONFLICT, "one chaos run at a time: {error}");

    let stream = json!({"count": 10, "rate": 20.0, "stepMs": 50});
    let (status, started) = api.call(Method::POST, "/api/orders/stream", Some(stream), true).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{started}");
    let streamed = api.until("/api/orders/stream", Duration::from_secs(60), |s| s["running"] == false).await;
    assert_eq!(streamed["placed"], 10, "{streamed}");
    assert!(streamed.get("error").is_none(), "{streamed}");

    let run =
        api.until("/api/orders/chaos", Duration::from_secs(60), |c| c["report"]["kills"].as_u64() >= Some(1)).await;
    assert_eq!(run["running"], true, "{run}");
    // Bounds a hung run: a killed worker's step is retried after its timeout.
    let stats = api
        .until("/api/orders/stats", Duration::from_secs(240), |s| {
            s["running"] == 0 && s["delivered"].as_u64().unwrap_or(0) + s["rejected"].as_u64().unwrap_or(0) == 10
        })
        .await;
    assert_eq!(stats["failed"], 0, "{stats}");
    assert_eq!(stats["chaos"]["running"], true, "the stats page shows the chaos run: {stats}");

    let (status, end) = api.call(Method::DELETE, "/api/orders/chaos", None, true).await;
    assert_eq!(status, StatusCode::OK, "{end}");
    assert_eq!((&end["running"], &end["report"]["alive"]), (&json!(false), &json!(0)), "{end}");
    assert!(end["report"]["kills"].as_u64().unwrap() >= 1, "{end}");
    assert!(end["report"]["started"].as_u64().unwrap() >= 3, "replacements were started: {end}");
    assert!(end["injected"].as_u64().unwrap() >= 1, "failures were injected: {end}");
    assert!(end.get("error").is_none(), "{end}");
}
