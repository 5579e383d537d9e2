//! Checkpoint 1 with real processes: `ordo worker --domains orders` is SIGKILLed mid-order and a
//! new one finishes the order from its last unfinished activity. One dev server for the binary.

use std::process::{Child, Stdio};
use std::time::Duration;

use ordo_core::devserver::{bound_command, spawn_bound};
use ordo_core::testing::poll;
use ordo_orders::{Cheese, Crust, Kitchen, OrderStatus, OrdersClient, PizzaOrderInfo, PizzaWorkflow};
use temporalio_client::WorkflowFetchHistoryOptions;

/// `ordo worker` processes, each killed and waited on when dropped (also when a test panics).
struct Workers {
    address: String,
    queue: String,
    data: tempfile::TempDir,
    children: Vec<Child>,
}

impl Workers {
    fn spawn(&mut self) -> usize {
        self.spawn_with(&[])
    }

    fn spawn_with(&mut self, vars: &[(&str, &str)]) -> usize {
        let mut command = bound_command(env!("CARGO_BIN_EXE_ordo"));
        command.envs(vars.iter().copied());
        command
            .args(["worker", "--domains", "orders"])
            .env("TEMPORAL_ADDRESS", &self.address)
            .env("ORDO_ORDERS_TASK_QUEUE", &self.queue)
            .env("ORDO_DATA_DIR", self.data.path())
            .env_remove("TEMPORAL_PROFILE")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        self.children.push(spawn_bound(command).expect("ordo worker starts"));
        self.children.len() - 1
    }

    /// SIGKILL, then reap.
    fn kill(&mut self, index: usize) {
        let child = &mut self.children[index];
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A worker killed (SIGKILL) while the pizza is in the oven does not lose the order: a new worker
/// bakes it again and delivers it, without preparing it a second time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_worker_s_order_is_finished_by_a_new_worker() {
    let address = ordo_core::testing::server().to_owned();
    let queue = format!("orders-kill-{}", uuid::Uuid::new_v4());
    let mut workers = Workers {
        address: address.clone(),
        queue: queue.clone(),
        data: tempfile::tempdir().unwrap(),
        children: Vec::new(),
    };
    let first = workers.spawn();
    let client = ordo_core::connect(&ordo_core::TemporalArgs::at(address)).await.unwrap();
    let orders = OrdersClient::new(client.clone(), queue).with_query_timeout(Duration::from_secs(1));
    let order =
        PizzaOrderInfo { id: "kill".into(), crust: Crust::Thin, cheese: Cheese::Cheddar, toppings: vec!["ham".into()] };
    let mut knobs = Kitchen::quick(1_500);
    knobs.heartbeat_ms = Some(1_000);
    // The worker registers the search attribute at start: place once it has.
    let placed = poll("the worker to register orderStatus", Duration::from_secs(60), async || {
        match orders.place(&order, Some(knobs.clone())).await {
            Ok(placed) => Ok(placed),
            Err(e) if format!("{e:#}").contains("orderStatus") => Err(format!("{e:#}")),
            Err(e) => panic!("placing: {e}"),
        }
    })
    .await;
    let id = placed.order.id;
    poll("the order to be baking", Duration::from_secs(60), async || {
        let view = orders.status(&id).await.unwrap();
        if view.status.status == OrderStatus::Baking && !view.stale {
            Ok(())
        } else {
            Err(view)
        }
    })
    .await;
    workers.kill(first);
    let stale = orders.status(&id).await.unwrap();
    assert!(stale.stale && stale.status.status == OrderStatus::Baking, "no worker: last known status, {stale:?}");
    let metrics = format!("127.0.0.1:{}", ordo_core::devserver::free_port().unwrap());
    workers.spawn_with(&[("ORDO_METRICS_ADDR", &metrics), ("ORDO_DOMAIN_METRICS_INTERVAL", "1")]);
    let end = tokio::time::timeout(Duration::from_secs(90), orders.wait(&id)).await.expect("finished").unwrap();
    assert_eq!(end.status, OrderStatus::Delivered);
    let handle = client.get_workflow_handle::<PizzaWorkflow>(&id);
    let history =
        String::from_utf8(handle.fetch_history(WorkflowFetchHistoryOptions::default()).to_json().await.unwrap())
            .unwrap();
    assert_eq!(history.matches("\"PreparePizza\"").count(), 1, "continued from the bake, not from the start");
    let scraped = scrape(&metrics).await;
    assert!(
        scraped
            .lines()
            .any(|l| l.starts_with("ordo_orders_ended") && l.contains("outcome=\"delivered\"") && l.ends_with(" 1")),
        "the new worker counted the delivery once:\n{scraped}"
    );
    // The gauges, from visibility, refreshed every second.
    poll("the gauges to show the delivery", Duration::from_secs(20), async || {
        let scraped = scrape(&metrics).await;
        let delivered = scraped.lines().any(|l| {
            l.starts_with("ordo_orders{") && l.contains("order_status=\"ORDER_DELIVERED\"") && l.ends_with(" 1")
        });
        let failed = scraped.lines().any(|l| l.starts_with("ordo_orders_failed{") && l.ends_with(" 0"));
        if delivered && failed {
            Ok(())
        } else {
            Err(scraped)
        }
    })
    .await;
    drop(workers);
}

/// Checkpoint 1's other demo: two workers; the one running the order's bake is SIGKILLed and the
/// other finishes the order, without a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_two_workers_the_survivor_finishes_the_killed_one_s_order() {
    let address = ordo_core::testing::server().to_owned();
    let queue = format!("orders-two-{}", uuid::Uuid::new_v4());
    let mut workers = Workers {
        address: address.clone(),
        queue: queue.clone(),
        data: tempfile::tempdir().unwrap(),
        children: Vec::new(),
    };
    let client = ordo_core::connect(&ordo_core::TemporalArgs::at(address)).await.unwrap();
    ordo_core::search_attributes::register(&client, "default", ordo_orders::SEARCH_ATTRIBUTES).await.unwrap();
    let pids = [workers.spawn(), workers.spawn()].map(|i| (i, workers.children[i].id()));
    let orders = OrdersClient::new(client.clone(), queue);
    let order = PizzaOrderInfo { id: "two".into(), crust: Crust::Stuffed, ..Default::default() };
    let mut knobs = Kitchen::quick(2_000);
    knobs.heartbeat_ms = Some(1_000);
    let id = orders.place(&order, Some(knobs)).await.unwrap().order.id;
    let handle = client.get_workflow_handle::<PizzaWorkflow>(&id);
    let baker = poll("a worker of ours to bake", Duration::from_secs(60), async || {
        let description = handle.describe(Default::default()).await.unwrap();
        let baking = description
            .raw()
            .pending_activities
            .iter()
            .find(|a| {
                a.activity_type.as_ref().is_some_and(|t| t.name == "BakePizza") && !a.last_worker_identity.is_empty()
            })
            .map(|a| a.last_worker_identity.clone());
        baking.ok_or_else(|| description.raw().pending_activities.clone())
    })
    .await;
    // The SDK's identity is `<pid>@<host>`: the baker is one of ours.
    let (victim, _) =
        pids.iter().find(|(_, pid)| baker.starts_with(&format!("{pid}@"))).copied().expect("a worker of ours bakes");
    workers.kill(victim);
    let end = tokio::time::timeout(Duration::from_secs(90), orders.wait(&id)).await.expect("finished").unwrap();
    assert_eq!(end.status, OrderStatus::Delivered);
    let history =
        String::from_utf8(handle.fetch_history(WorkflowFetchHistoryOptions::default()).to_json().await.unwrap())
            .unwrap();
    let survivor = pids.iter().find(|(i, _)| *i != victim).map(|(_, pid)| format!("\"{pid}@")).unwrap();
    assert!(history.contains(&survivor), "the surviving worker ran part of the order");
}

/// The Prometheus text a worker serves on `address`.
async fn scrape(address: &str) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = tokio::net::TcpStream::connect(address).await.expect("metrics endpoint");
    stream.write_all(b"GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n").await.unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).await.unwrap();
    text
}

/// A process group (the chaos controller and the workers it starts), SIGKILLed and reaped when
/// dropped, also when the test panics.
struct Group(Option<Child>);

impl Drop for Group {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let pgid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap_or(i32::MAX));
            let _ = nix::sys::signal::killpg(pgid, nix::sys::signal::Signal::SIGKILL);
            let _ = child.wait();
        }
    }
}

/// Checkpoint 2, small: three workers, one SIGKILLed every second or so and restarted, 30 % of
/// kitchen steps failing, 50 streamed orders: every order is delivered or rejected, none failed,
/// and each step's effect was applied once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_with_kills_and_failures_fails_no_order() {
    use std::os::unix::process::CommandExt as _;
    let address = ordo_core::testing::server();
    let data = tempfile::tempdir().unwrap();
    let mut command = bound_command(env!("CARGO_BIN_EXE_ordo"));
    command
        .args(["order", "chaos", "--workers", "3", "--kill-every-ms", "1000", "--restart-after-ms", "200"])
        .args(["--failure-rate", "0.3", "--orders", "50", "--rate", "25", "--stream-step-ms", "100", "--json"])
        .env("TEMPORAL_ADDRESS", address)
        .env("ORDO_ORDERS_TASK_QUEUE", format!("orders-chaos-{}", uuid::Uuid::new_v4()))
        .env("ORDO_DATA_DIR", data.path())
        .env_remove("TEMPORAL_PROFILE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .process_group(0);
    let mut group = Group(Some(spawn_bound(command).expect("ordo order chaos starts")));
    let mut stdout = group.0.as_mut().unwrap().stdout.take().unwrap();
    let read = tokio::task::spawn_blocking(move || std::io::read_to_string(&mut stdout).unwrap());
    let out = tokio::time::timeout(Duration::from_secs(300), read).await.expect("chaos run ends in 5 min").unwrap();
    let status = group.0.as_mut().unwrap().wait().unwrap();
    let report: serde_json::Value = serde_json::from_str(out.lines().last().unwrap_or_default()).unwrap();
    assert_eq!(out.lines().filter(|l| l.starts_with("auto-")).count(), 50, "50 orders placed");
    assert_eq!(report["orders"]["failed"], 0, "{report}");
    assert_eq!(report["orders"]["running"], 0, "{report}");
    let done = report["orders"]["delivered"].as_u64().unwrap() + report["orders"]["rejected"].as_u64().unwrap();
    assert_eq!(done, 50, "{report}");
    assert!(report["chaos"]["kills"].as_u64().unwrap() >= 1, "workers were killed: {report}");
    assert!(status.success(), "{report}");
    // Each step's effect applied exactly once per order, whichever worker was killed when.
    let ledger = ordo_orders::effects::Ledger::new(ordo_orders::domain::ledger_dir(data.path()));
    for id in out.lines().filter(|l| l.starts_with("auto-")) {
        let applied = ledger.applied(id).unwrap_or_else(|e| panic!("{id}: no effects recorded: {e}"));
        let steps: Vec<&str> = applied.iter().map(|(step, _)| step.as_str()).collect();
        if steps != ["bake", "deliver", "prepare"] {
            // Only a rejected order may stop short.
            let view = OrdersClient::new(ordo_core::connect(&ordo_core::TemporalArgs::at(address)).await.unwrap(), "-")
                .status(id)
                .await
                .unwrap();
            assert_eq!(view.status.status, OrderStatus::Rejected, "{id}: effects {applied:?}");
        }
    }
    drop(group);
}

/// `ordo order …` end to end: place (flags, names and numbers) and wait, status, batch status,
/// stats; a bad order is refused naming the field, nothing started.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_order_cli_places_shows_and_refuses() {
    let address = ordo_core::testing::server().to_owned();
    let queue = format!("orders-cli-{}", uuid::Uuid::new_v4());
    let mut workers = Workers {
        address: address.clone(),
        queue: queue.clone(),
        data: tempfile::tempdir().unwrap(),
        children: Vec::new(),
    };
    workers.spawn();
    let ordo = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_ordo"))
            .args(args)
            .env("TEMPORAL_ADDRESS", &address)
            .env("ORDO_ORDERS_TASK_QUEUE", &queue)
            .env_remove("TEMPORAL_PROFILE")
            .output()
            .unwrap()
    };
    let placed = ordo(&[
        "order",
        "place",
        "--id",
        "cli",
        "--crust",
        "2",
        "--cheese",
        "CHEESE_ALL",
        "--topping",
        "basil",
        "--step-ms",
        "20",
        "--wait",
        "--json",
    ]);
    assert!(placed.status.success(), "{}", String::from_utf8_lossy(&placed.stderr));
    let end: serde_json::Value = serde_json::from_slice(&placed.stdout).unwrap();
    assert_eq!(end["status"], "ORDER_DELIVERED");
    assert_eq!(end["order"]["crust"], "CRUST_GARLIC");
    let id = end["order"]["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("cli--"));

    let shown = ordo(&["order", "status", &id, "--json"]);
    let view: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!((view["status"]["status"].as_str(), view["stale"].as_bool()), (Some("ORDER_DELIVERED"), Some(false)));
    // Several ids: one visibility list, which catches up with the order shortly after it ends.
    let rows = poll("visibility to show the order delivered", Duration::from_secs(10), async || {
        let batch = ordo(&["order", "status", &id, "nobody--0", "--json"]);
        let rows: serde_json::Value = serde_json::from_slice(&batch.stdout).unwrap();
        if rows[0]["status"] == "ORDER_DELIVERED" {
            Ok(rows)
        } else {
            Err(rows)
        }
    })
    .await;
    assert!(rows[1]["status"].is_null());
    let stats = ordo(&["order", "stats", "--json"]);
    let stats: serde_json::Value = serde_json::from_slice(&stats.stdout).unwrap();
    assert_eq!(stats["failed"], 0);

    let refused = ordo(&["order", "place", "--id", "x", "--crust", "CRUST_DEEP"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("crust"), "{}", String::from_utf8_lossy(&refused.stderr));
    let too_many: Vec<String> = (0..21).flat_map(|i| ["--topping".to_owned(), format!("t{i}")]).collect();
    let mut args = vec!["order", "place", "--id", "y"];
    args.extend(too_many.iter().map(String::as_str));
    let refused = ordo(&args);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("toppings"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let listed = ordo(&["order", "list", "--json"]);
    let rows: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(rows.as_array().map(Vec::len), Some(1), "nothing started for refused orders: {rows}");
}
