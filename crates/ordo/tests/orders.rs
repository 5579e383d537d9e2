//! Checkpoint 1 with real processes: `ordo worker --domains orders` is SIGKILLed mid-order and a
//! new one finishes the order from its last unfinished activity. One dev server for the binary.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use ordo_core::devserver::{find_temporal_binary, DevServer, DevServerOptions};
use ordo_orders::workflows::quick_kitchen;
use ordo_orders::{Cheese, Crust, OrderStatus, OrdersClient, PizzaOrderInfo, PizzaWorkflow};
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
        let child = Command::new(env!("CARGO_BIN_EXE_ordo"))
            .args(["worker", "--domains", "orders"])
            .env("TEMPORAL_ADDRESS", &self.address)
            .env("ORDO_ORDERS_TASK_QUEUE", &self.queue)
            .env("ORDO_DATA_DIR", self.data.path())
            .env_remove("TEMPORAL_PROFILE")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("ordo worker starts");
        self.children.push(child);
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
    let server = DevServer::start(DevServerOptions::ephemeral(find_temporal_binary())).await.expect("dev server");
    let address = server.address().to_owned();
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
    let mut knobs = quick_kitchen(1_500);
    knobs.heartbeat_ms = Some(1_000);
    // The worker registers the search attribute at start: place once it has.
    let placed = loop {
        match orders.place(&order, Some(knobs.clone())).await {
            Ok(placed) => break placed,
            Err(e) if format!("{e:#}").contains("orderStatus") => tokio::time::sleep(Duration::from_millis(200)).await,
            Err(e) => panic!("placing: {e}"),
        }
    };
    let id = placed.order.id;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let view = orders.status(&id).await.unwrap();
        if view.status.status == OrderStatus::Baking && !view.stale {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "never baking: {view:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    workers.kill(first);
    let stale = orders.status(&id).await.unwrap();
    assert!(stale.stale && stale.status.status == OrderStatus::Baking, "no worker: last known status, {stale:?}");
    workers.spawn();
    let end = tokio::time::timeout(Duration::from_secs(90), orders.wait(&id)).await.expect("finished").unwrap();
    assert_eq!(end.status, OrderStatus::Delivered);
    let handle = client.get_workflow_handle::<PizzaWorkflow>(&id);
    let history =
        String::from_utf8(handle.fetch_history(WorkflowFetchHistoryOptions::default()).to_json().await.unwrap())
            .unwrap();
    assert_eq!(history.matches("\"PreparePizza\"").count(), 1, "continued from the bake, not from the start");
    drop(workers);
    server.stop().await.unwrap();
}
