//! Seed 002's routes and Ordo's `/api/orders…` through `ordo_api::app(..).oneshot(..)` (no
//! socket) against a real dev server (one per test binary) and a real `ordo worker --domains
//! orders` process on a task queue of each test's own.

use std::process::{Child, Stdio};
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use http_body_util::BodyExt as _;
use ordo_api::auth::token_sha256;
use ordo_api::{AppConfig, AppState, Users};
use ordo_core::devserver::{bound_command, find_temporal_binary, spawn_bound, DevServer, DevServerOptions};
use ordo_orders::OrdersClient;
use serde_json::{json, Value};
use tower::ServiceExt as _;

async fn server() -> &'static str {
    static SERVER: tokio::sync::OnceCell<DevServer> = tokio::sync::OnceCell::const_new();
    SERVER
        .get_or_init(|| async {
            let server =
                DevServer::start(DevServerOptions::ephemeral(find_temporal_binary())).await.expect("dev server starts");
            let client = ordo_core::connect(&ordo_core::TemporalArgs::at(server.address())).await.unwrap();
            ordo_core::search_attributes::register(&client, "default", ordo_orders::SEARCH_ATTRIBUTES).await.unwrap();
            server
        })
        .await
        .address()
}

/// The API over orders on a fresh task queue, with a worker unless `worker` is false.
struct Api {
    state: AppState,
    worker: Option<Child>,
}

impl Drop for Api {
    fn drop(&mut self) {
        if let Some(mut child) = self.worker.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Api {
    async fn start(worker: bool) -> Self {
        let address = server().await;
        let queue = format!("orders-api-{}", uuid::Uuid::new_v4());
        let worker = worker.then(|| {
            let mut command = bound_command(env!("CARGO_BIN_EXE_ordo"));
            command
                .args(["worker", "--domains", "orders"])
                .env("TEMPORAL_ADDRESS", address)
                .env("ORDO_ORDERS_TASK_QUEUE", &queue)
                .env("ORDO_DATA_DIR", std::env::temp_dir().join(&queue))
                .env_remove("TEMPORAL_PROFILE")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::inherit());
            spawn_bound(command).expect("ordo worker starts")
        });
        let client = ordo_core::connect(&ordo_core::TemporalArgs::at(address)).await.unwrap();
        let users = Users::from_toml(&format!(
            "[[user]]\nname = \"admin\"\nrole = \"admin\"\ntoken_sha256 = \"{}\"\n",
            token_sha256("token-admin")
        ))
        .unwrap();
        let orders = OrdersClient::new(client.clone(), queue).with_query_timeout(Duration::from_millis(700));
        let state = AppState::builder(&client, AppConfig::new(users)).with(orders).build();
        Self { state, worker }
    }

    async fn call(&self, method: Method, uri: &str, body: Option<Value>, admin: bool) -> (StatusCode, Value) {
        let mut request = Request::builder().method(method).uri(uri);
        if admin {
            request = request.header(header::AUTHORIZATION, "Bearer token-admin");
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
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let (status, answer) = api.call(Method::POST, "/orderStatus", Some(placed.clone()), false).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        if answer["status"] == "ORDER_DELIVERED" {
            assert_eq!(answer["order"]["id"], placed["order"]["id"]);
            break;
        }
        assert!(std::time::Instant::now() < deadline, "never delivered: {answer}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (status, unknown) = api.call(Method::POST, "/orderStatus", Some(json!({})), false).await;
    assert_eq!((status, unknown), (StatusCode::OK, json!({"status": "ORDER_UNKNOWN"})));
    let nobody = json!({"status": "ORDER_RECEIVED", "order": {"id": "nobody--0"}, "runId": ""});
    let (status, echoed) = api.call(Method::POST, "/orderStatus", Some(nobody), false).await;
    assert_eq!((status, echoed), (StatusCode::OK, json!({"status": "ORDER_UNKNOWN", "order": {"id": "nobody--0"}})));

    let id = placed["order"]["id"].as_str().unwrap();
    let (status, rows) =
        api.call(Method::POST, "/api/orders/status", Some(json!({"ids": [id, "nobody--0"]})), false).await;
    assert_eq!(status, StatusCode::OK, "{rows}");
    assert_eq!(rows[0]["status"], "ORDER_DELIVERED");
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
    for path in
        ["/orderPizza", "/orderStatus", "/api/orders", "/api/orders/{id}", "/api/orders/status", "/api/orders/stats"]
    {
        assert!(doc["paths"][path].is_object(), "{path} is documented");
    }
    for schema in ["PizzaOrderInfo", "PizzaOrderStatus", "OrderView", "OrderSummary", "OrderStats"] {
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
