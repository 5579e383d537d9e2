//! Pizza orders on a real Temporal dev server (one per test binary), workers in-process, each test
//! on its own task queue: an order end to end, every failure mode, the compensations, batch
//! status, the stale fallback, the seed's encodings started by the official `temporal` CLI, and
//! checkpoint 1a's bug fixed by a worker restart.

mod support;

use std::time::Duration;

use ordo_orders::model::{encoding, message_type, Faults, Kitchen, ORDER_STATUS};
use ordo_orders::{Cheese, Crust, KitchenConfig, OrderStatus, PizzaOrderInfo, PizzaOrderStatus, PizzaWorkflow};
use support::{poll, Kitchen as TestKitchen, Worker};
use temporalio_client::{WorkflowFetchHistoryOptions, WorkflowQueryOptions};

fn pizza(id: &str) -> PizzaOrderInfo {
    PizzaOrderInfo {
        id: id.to_owned(),
        crust: Crust::Garlic,
        cheese: Cheese::All,
        toppings: vec!["mushrooms".into(), "olives".into()],
    }
}

fn with_faults(ms: u64, faults: Faults) -> Kitchen {
    Kitchen { faults, heartbeat_ms: Some(500), ..Kitchen::quick(ms) }
}

/// The recorded history of an order, as SDK JSON.
async fn history(kitchen: &TestKitchen, id: &str) -> String {
    let handle = kitchen.client.temporal().get_workflow_handle::<PizzaWorkflow>(id);
    let json = handle.fetch_history(WorkflowFetchHistoryOptions::default()).to_json().await.unwrap();
    String::from_utf8(json).unwrap()
}

async fn place_and_wait(kitchen: &TestKitchen, id: &str, knobs: Kitchen) -> (String, PizzaOrderStatus) {
    let placed = kitchen.client.place(&pizza(id), Some(knobs)).await.unwrap();
    let end = tokio::time::timeout(Duration::from_secs(60), kitchen.client.wait(&placed.order.id))
        .await
        .expect("the order ends within a minute")
        .unwrap();
    (placed.order.id, end)
}

/// An order goes through every status, each observable (PENDING_PICKUP included), the query
/// answers `json/protobuf` `PizzaOrderStatus` per order, and visibility ends on DELIVERED.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_is_delivered_through_every_status() {
    let kitchen = TestKitchen::start(KitchenConfig::default()).await;
    let placed = kitchen.client.place(&pizza("e2e"), Some(Kitchen::quick(400))).await.unwrap();
    let id = placed.order.id.clone();
    assert!(id.starts_with("e2e--") && id.len() == "e2e--".len() + 36, "the seed's id scheme: {id}");
    assert_eq!(placed.status, OrderStatus::Received);
    let mut seen: Vec<OrderStatus> = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let last = loop {
        let view = kitchen.client.status(&id).await.unwrap();
        if seen.last() != Some(&view.status.status) && !view.stale {
            seen.push(view.status.status);
        }
        if view.status.status == OrderStatus::Delivered {
            break view;
        }
        assert!(std::time::Instant::now() < deadline, "not delivered within a minute: {seen:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let wanted = [
        OrderStatus::Preparing,
        OrderStatus::Baking,
        OrderStatus::PendingPickup,
        OrderStatus::OutForDelivery,
        OrderStatus::Delivered,
    ];
    let observed: Vec<_> = seen.iter().copied().filter(|s| wanted.contains(s)).collect();
    assert_eq!(observed, wanted, "every status observed in order: {seen:?}");
    assert!(!last.stale);
    assert_eq!(last.status.order, placed.order, "the status holds this order, not another's");
    assert_eq!(last.status.run_id, placed.run_id);

    let handle = kitchen.client.temporal().get_workflow_handle::<PizzaWorkflow>(&id);
    let raw = handle.query(PizzaWorkflow::get_order_status, (), WorkflowQueryOptions::default()).await.unwrap();
    let payload = &raw.payloads[0];
    assert_eq!(encoding(payload), Some("json/protobuf"));
    assert_eq!(payload.metadata["messageType"], message_type::ORDER_STATUS.as_bytes());
    let json: serde_json::Value = serde_json::from_slice(&payload.data).unwrap();
    assert_eq!(json["status"], "ORDER_DELIVERED");
    assert_eq!(json["order"]["crust"], "CRUST_GARLIC");

    // Visibility is eventually consistent: the query answered DELIVERED, the list catches up.
    poll("visibility to show the order delivered", Duration::from_secs(10), || async {
        let batch = kitchen.client.batch_status(std::slice::from_ref(&id)).await.unwrap();
        if batch[0].status == Some(OrderStatus::Delivered) {
            Ok(())
        } else {
            Err(batch)
        }
    })
    .await;
    let description = handle.describe(Default::default()).await.unwrap();
    assert_eq!(description.search_attributes().get(&ORDER_STATUS).as_deref(), Some("ORDER_DELIVERED"));
}

/// A missing ingredient is a business outcome: the order is rejected (the workflow completes),
/// naming the ingredient.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_ingredient_rejects_the_order_naming_it() {
    let kitchen = TestKitchen::start(KitchenConfig::default()).await;
    let faults = Faults { missing_ingredient: Some(1.0), ..Default::default() };
    let (id, end) = place_and_wait(&kitchen, "missing", with_faults(20, faults)).await;
    assert_eq!(end.status, OrderStatus::Rejected);
    assert_eq!(end.reason.as_deref(), Some("missing ingredient: mushrooms"));
    let view = kitchen.client.status(&id).await.unwrap();
    assert_eq!((view.status.status, view.execution_status.as_str()), (OrderStatus::Rejected, "Completed"));
    assert_eq!(view.status.reason.as_deref(), Some("missing ingredient: mushrooms"));
}

/// Each retryable failure mode strikes, is retried, and the order is still delivered; the
/// history records the failed attempt.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_retryable_failure_mode_is_retried_until_delivered() {
    let kitchen = TestKitchen::start(KitchenConfig::default()).await;
    let modes: [(&str, Faults, &str); 5] = [
        ("dough", Faults { dough_dropped: Some(1.0), ..Default::default() }, r#""type":"DoughDropped""#),
        ("undercooked", Faults { undercooked: Some(1.0), ..Default::default() }, r#""type":"Undercooked""#),
        ("address", Faults { address_forgotten: Some(1.0), ..Default::default() }, r#""type":"AddressForgotten""#),
        ("quit", Faults { driver_quit: Some(1.0), ..Default::default() }, "TIMEOUT_TYPE_HEARTBEAT"),
        ("chaos", Faults { failure: Some(0.5), ..Default::default() }, ""),
    ];
    let runs = modes.iter().map(|(name, faults, _)| place_and_wait(&kitchen, name, with_faults(20, faults.clone())));
    let ends = futures::future::join_all(runs).await;
    for ((name, _, mark), (id, end)) in modes.iter().zip(ends) {
        assert_eq!(end.status, OrderStatus::Delivered, "{name}: {end:?}");
        if !mark.is_empty() {
            let text = history(&kitchen, &id).await;
            assert!(text.contains(mark), "{name}: the history records {mark}");
        }
    }
}

/// A lost driver is slow but heartbeats and arrives: no retry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_driver_is_slow_but_delivers() {
    let kitchen = TestKitchen::start(KitchenConfig::default()).await;
    let faults = Faults { driver_lost: Some(1.0), ..Default::default() };
    let started = std::time::Instant::now();
    let (_, end) = place_and_wait(&kitchen, "lost", with_faults(300, faults)).await;
    assert_eq!(end.status, OrderStatus::Delivered);
    assert!(started.elapsed() >= Duration::from_millis(300 * 6), "deliver took 3× as long");
}

/// Overcooked and wrong order compensate: the pizza is prepared (and baked) again, then delivered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overcooked_and_wrong_orders_are_made_again() {
    let kitchen = TestKitchen::start(KitchenConfig::default()).await;
    for (name, faults) in [
        ("overcooked", Faults { overcooked: Some(1.0), ..Default::default() }),
        ("wrong", Faults { wrong_order: Some(1.0), ..Default::default() }),
    ] {
        let (id, end) = place_and_wait(&kitchen, name, with_faults(20, faults)).await;
        assert_eq!(end.status, OrderStatus::Delivered, "{name}");
        let text = history(&kitchen, &id).await;
        assert_eq!(text.matches("\"PreparePizza\"").count(), 2, "{name}: prepared twice");
        assert_eq!(text.matches("\"BakePizza\"").count(), 2, "{name}: baked twice");
    }
}

/// Many orders' statuses come from one visibility list call, in the order asked; an unknown id
/// comes back without a status; the stats count them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_status_answers_from_visibility() {
    let kitchen = TestKitchen::start(KitchenConfig::default()).await;
    let names: Vec<String> = (0..5).map(|i| format!("batch-{i}")).collect();
    let runs = names.iter().map(|name| place_and_wait(&kitchen, name, Kitchen::quick(10)));
    let mut ids: Vec<String> = futures::future::join_all(runs).await.into_iter().map(|(id, _)| id).collect();
    ids.push("nobody--0".into());
    let rows = poll("visibility to catch up", Duration::from_secs(10), || async {
        let rows = kitchen.client.batch_status(&ids).await.unwrap();
        if rows[..5].iter().all(|r| r.status == Some(OrderStatus::Delivered)) {
            Ok(rows)
        } else {
            Err(rows)
        }
    })
    .await;
    assert_eq!(rows.iter().map(|r| r.workflow_id.clone()).collect::<Vec<_>>(), ids);
    assert_eq!(rows[5].status, None);
    let stats = poll("the stats to count every order", Duration::from_secs(10), || async {
        let stats = kitchen.client.stats().await.unwrap();
        if stats.delivered == 5 {
            Ok(stats)
        } else {
            Err(stats)
        }
    })
    .await;
    assert_eq!((stats.failed, stats.running, stats.rejected), (0, 0, 0));
    assert_eq!(stats.by_status.get("ORDER_DELIVERED"), Some(&5));
    assert!(stats.p50_ms.is_some() && stats.p99_ms >= stats.p50_ms, "{stats:?}");
    assert_eq!(stats.throughput.iter().map(|(_, n)| n).sum::<u64>(), 5);
    let too_many: Vec<String> = (0..1001).map(|i| format!("x{i}")).collect();
    assert!(
        matches!(kitchen.client.batch_status(&too_many).await, Err(ordo_orders::OrdersError::Invalid(e)) if e.field == "ids")
    );
}

/// With no worker, the status is the last one visibility knows, marked stale: never
/// ORDER_UNKNOWN for an order that exists; after a worker stops, DELIVERED stays DELIVERED.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_worker_the_status_is_stale_from_visibility() {
    let idle = TestKitchen::without_worker().await;
    let client = idle.client.clone().with_query_timeout(Duration::from_millis(500));
    let placed = client.place(&pizza("idle"), Some(Kitchen::quick(10))).await.unwrap();
    let view = client.status(&placed.order.id).await.unwrap();
    assert!(view.stale);
    assert_eq!(view.status.status, OrderStatus::Received);
    assert_eq!(view.status.order.id, placed.order.id);

    let mut kitchen = TestKitchen::start(KitchenConfig::default()).await;
    let (id, _) = place_and_wait(&kitchen, "done", Kitchen::quick(10)).await;
    kitchen.worker.take().unwrap().stop();
    let client = kitchen.client.clone().with_query_timeout(Duration::from_millis(500));
    let view = client.status(&id).await.unwrap();
    assert!(view.stale);
    assert_eq!(view.status.status, OrderStatus::Delivered);
    assert!(matches!(client.status("nobody--0").await, Err(ordo_orders::OrdersError::NotFound(_))));
}

/// Bad input is refused before anything starts, naming the field.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_orders_are_refused_naming_the_field() {
    let kitchen = TestKitchen::without_worker().await;
    let mut order = pizza("");
    let err = kitchen.client.place(&order, None).await.unwrap_err();
    assert!(matches!(&err, ordo_orders::OrdersError::Invalid(e) if e.field == "id"), "{err}");
    order.id = "x".into();
    order.toppings = vec!["t".into(); 10_000];
    let err = kitchen.client.place(&order, None).await.unwrap_err();
    assert!(matches!(&err, ordo_orders::OrdersError::Invalid(e) if e.field == "toppings"), "{err}");
    let knobs = Kitchen { bake_ms: Some(10_000_000), ..Default::default() };
    let err = kitchen.client.place(&pizza("y"), Some(knobs)).await.unwrap_err();
    assert!(matches!(&err, ordo_orders::OrdersError::Invalid(e) if e.field == "kitchen.bakeMs"), "{err}");
}

/// Starts `PizzaWorkflow` with the official `temporal` CLI and an input in a given encoding.
fn cli_start(kitchen: &TestKitchen, id: &str, input: &str, meta: &[&str]) {
    let mut command = std::process::Command::new(ordo_core::devserver::find_temporal_binary());
    command.args(["workflow", "start", "--address", kitchen.address, "--namespace", "default"]);
    command.args(["--type", "PizzaWorkflow", "--task-queue", &kitchen.queue, "--workflow-id", id, "--input", input]);
    for m in meta {
        command.args(["--input-meta", m]);
    }
    let out = command.output().expect("temporal CLI runs");
    assert!(out.status.success(), "temporal workflow start: {}", String::from_utf8_lossy(&out.stderr));
}

/// The seed's encodings, started by the official CLI: `json/protobuf` with the message type (the
/// Go SDK), `json/plain` with enum numbers (the seed's Express API); an unreadable one is rejected
/// naming the field.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seeds_encodings_started_by_the_temporal_cli_are_served() {
    let kitchen = TestKitchen::start(KitchenConfig::default()).await;
    let knobs = r#""kitchen":{"prepareMs":10,"bakeMs":10,"pickupMs":10,"deliverMs":10,"retryMs":10}"#;
    let proto_id = format!("go--{}", uuid::Uuid::new_v4());
    let input =
        format!(r#"{{"id":"{proto_id}","crust":"CRUST_PRETZEL","cheese":"CHEESE_NONE","toppings":["ham"],{knobs}}}"#);
    cli_start(
        &kitchen,
        &proto_id,
        &input,
        &["encoding=json/protobuf", &format!("messageType={}", "gopherpizza.pizza.api.v1.PizzaOrderInfo")],
    );
    let plain_id = format!("express--{}", uuid::Uuid::new_v4());
    let input = format!(r#"{{"id":"{plain_id}","crust":2,"cheese":3,"toppings":["basil"],{knobs}}}"#);
    cli_start(&kitchen, &plain_id, &input, &["encoding=json/plain"]);
    let bad_id = format!("bad--{}", uuid::Uuid::new_v4());
    cli_start(&kitchen, &bad_id, &format!(r#"{{"id":"{bad_id}","crust":"CRUST_DEEP"}}"#), &[]);

    let proto = kitchen.client.wait(&proto_id).await.unwrap();
    assert_eq!(proto.status, OrderStatus::Delivered);
    assert_eq!((proto.order.crust, proto.order.cheese), (Crust::Pretzel, Cheese::None));
    let plain = kitchen.client.wait(&plain_id).await.unwrap();
    assert_eq!(plain.status, OrderStatus::Delivered);
    assert_eq!((plain.order.crust, plain.order.cheese), (Crust::Garlic, Cheese::All));
    let bad = kitchen.client.wait(&bad_id).await.unwrap();
    assert_eq!(bad.status, OrderStatus::Rejected);
    assert!(bad.reason.as_deref().unwrap_or_default().contains("crust"), "{bad:?}");
}

/// Checkpoint 1a: a worker with the bug fails pretzel bakes (retryably, the order waits at
/// BAKING); a worker without it finishes the order from the failed bake, not from the start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkpoint_1a_a_fixed_worker_continues_from_the_failed_activity() {
    let mut kitchen = TestKitchen::start(KitchenConfig { inject_bug: true, ..Default::default() }).await;
    let mut order = pizza("bug");
    order.crust = Crust::Pretzel;
    let placed = kitchen.client.place(&order, Some(Kitchen::quick(10))).await.unwrap();
    let id = placed.order.id;
    poll("the bake to fail", Duration::from_secs(30), || async {
        let text = history(&kitchen, &id).await;
        let view = kitchen.client.status(&id).await.unwrap();
        let handle = kitchen.client.temporal().get_workflow_handle::<PizzaWorkflow>(&id);
        let description = handle.describe(Default::default()).await.unwrap();
        let failing = description.raw().pending_activities.iter().any(|a| a.attempt >= 2);
        if view.status.status == OrderStatus::Baking && failing {
            Ok(text)
        } else {
            Err(view)
        }
    })
    .await;
    kitchen.worker.take().unwrap().stop();
    let _fixed = Worker::start(kitchen.address, &kitchen.queue, KitchenConfig::default());
    let end = kitchen.client.wait(&id).await.unwrap();
    assert_eq!(end.status, OrderStatus::Delivered);
    let text = history(&kitchen, &id).await;
    assert_eq!(text.matches("\"PreparePizza\"").count(), 1, "prepared once: continued from the bake");
}

/// Records the histories `tests/replay.rs` replays (run after a deliberate workflow change, then
/// commit them): `cargo test -p ordo-orders --test orders -- --ignored record_histories`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "writes tests/histories; run by hand"]
async fn record_histories() {
    let kitchen = TestKitchen::start(KitchenConfig::default()).await;
    let cases: [(&str, Faults); 5] = [
        ("delivered", Faults::default()),
        ("rejected_missing_ingredient", Faults { missing_ingredient: Some(1.0), ..Default::default() }),
        ("overcooked_remade", Faults { overcooked: Some(1.0), ..Default::default() }),
        ("wrong_order_remade", Faults { wrong_order: Some(1.0), ..Default::default() }),
        ("driver_quit", Faults { driver_quit: Some(1.0), undercooked: Some(1.0), ..Default::default() }),
    ];
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/histories");
    for (name, faults) in cases {
        let (id, _) = place_and_wait(&kitchen, name, with_faults(20, faults)).await;
        std::fs::write(dir.join(format!("pizza_{name}.json")), history(&kitchen, &id).await).unwrap();
    }
    let bad_id = format!("bad--{}", uuid::Uuid::new_v4());
    cli_start(&kitchen, &bad_id, &format!(r#"{{"id":"{bad_id}","toppings":"ham"}}"#), &["encoding=json/protobuf"]);
    kitchen.client.wait(&bad_id).await.unwrap();
    std::fs::write(dir.join("pizza_rejected_bad_input.json"), history(&kitchen, &bad_id).await).unwrap();
}

/// A cancelled order ends cancelled (not rejected, not delivered) wherever it was, and the stats
/// count it apart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_order_ends_cancelled_not_rejected() {
    let kitchen = TestKitchen::start(KitchenConfig::default()).await;
    let placed = kitchen.client.place(&pizza("cancel"), Some(Kitchen::quick(3_000))).await.unwrap();
    let id = placed.order.id;
    poll("the order to be preparing", Duration::from_secs(30), || async {
        let view = kitchen.client.status(&id).await.unwrap();
        if view.status.status == OrderStatus::Preparing {
            Ok(())
        } else {
            Err(view)
        }
    })
    .await;
    kitchen.client.cancel(&id, "changed my mind").await.unwrap();
    let err = kitchen.client.wait(&id).await.unwrap_err();
    assert!(err.to_string().to_lowercase().contains("cancel"), "{err}");
    let view = kitchen.client.status(&id).await.unwrap();
    assert_eq!(view.execution_status, "Canceled");
    assert_ne!(view.status.status, OrderStatus::Rejected);
}

/// Checkpoint 3 under load: 100 random orders streamed at up to 400 a second are all placed
/// (`auto-N` ids, each once), and every one is delivered or rejected, none failed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fast_stream_places_every_order_and_none_fails() {
    let kitchen = TestKitchen::start(KitchenConfig::default()).await;
    let options = ordo_orders::stream::StreamOptions {
        count: Some(100),
        rate: Some(400.0),
        first: 0,
        kitchen: Some(Kitchen::quick(10)),
    };
    let started = std::time::Instant::now();
    let mut ids = Vec::new();
    let placed = ordo_orders::stream::run(&kitchen.client, &options, |s| ids.push(s.order.id), std::future::pending())
        .await
        .unwrap();
    let took = started.elapsed();
    eprintln!("placed {placed} orders in {took:?} ({:.0}/s)", placed as f64 / took.as_secs_f64());
    assert_eq!((placed, ids.len()), (100, 100));
    let mut numbers: Vec<u64> =
        ids.iter().map(|id| id.strip_prefix("auto-").unwrap().split("--").next().unwrap().parse().unwrap()).collect();
    numbers.sort_unstable();
    assert_eq!(numbers, (0..100).collect::<Vec<_>>());
    let tally =
        ordo_orders::stream::settle(&kitchen.client, &ids, Duration::from_millis(500), Duration::from_secs(120))
            .await
            .unwrap();
    assert_eq!((tally.failed, tally.running, tally.missing), (0, 0, 0), "{tally:?}");
    assert_eq!(tally.delivered + tally.rejected, 100, "{tally:?}");
}
