//! Fixtures: ONE Temporal dev server per test binary ([`server`]), shared by every test, and
//! in-process workers, each on a task queue of its own ([`Kitchen`]).
#![allow(dead_code, unreachable_pub)]

use ordo_core::testing;
pub use ordo_core::testing::poll;
use ordo_core::Domain as _;
use ordo_orders::domain::OrdersDomain;
use ordo_orders::{KitchenConfig, OrdersClient};
use temporalio_client::Client;

/// The address of this test binary's dev server (`ordo_core::testing::server`), with the orders
/// search attribute registered. The one place a test gets its server.
pub async fn server() -> &'static str {
    testing::server_with(ordo_orders::SEARCH_ATTRIBUTES).await
}

/// A client of the shared server.
pub async fn client() -> Client {
    testing::connect(server().await).await
}

/// A fresh task queue.
pub fn queue() -> String {
    format!("orders-test-{}", uuid::Uuid::new_v4())
}

/// An in-process orders worker on its own thread and runtime; stopped when dropped.
pub struct Worker {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Worker {
    /// Starts a worker serving `queue` with `kitchen`.
    pub fn start(address: &str, queue: &str, kitchen: KitchenConfig) -> Self {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let queue = queue.to_owned();
        let address = address.to_owned();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
            runtime.block_on(async move {
                let client = testing::connect(&address).await;
                let sdk = temporalio_sdk::Runtime::from_current_tokio(Default::default()).unwrap();
                let domain = OrdersDomain::new(queue, kitchen);
                let options = domain.workers().unwrap().remove(0);
                let mut worker = temporalio_sdk::Worker::new(&sdk, client, options).unwrap();
                let shutdown = worker.shutdown_handle();
                ready_tx.send(()).unwrap();
                let run = worker.run();
                tokio::pin!(run);
                tokio::select! {
                    result = &mut run => result.expect("worker runs"),
                    _ = stopped => {
                        shutdown();
                        run.await.expect("worker shuts down");
                    }
                }
            });
        });
        ready_rx.recv().expect("worker starts");
        Self { stop: Some(stop), thread: Some(thread) }
    }

    /// Stops the worker and waits until it has.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// A worker and a client on a fresh task queue.
pub struct Kitchen {
    pub address: &'static str,
    pub client: OrdersClient,
    pub queue: String,
    pub worker: Option<Worker>,
}

impl Kitchen {
    /// A worker with `config` and a client, on a fresh queue.
    pub async fn start(config: KitchenConfig) -> Self {
        let queue = queue();
        let address = server().await;
        let worker = Worker::start(address, &queue, config);
        Self { address, client: OrdersClient::new(client().await, queue.clone()), queue, worker: Some(worker) }
    }

    /// A client on a fresh queue nobody serves.
    pub async fn without_worker() -> Self {
        let queue = queue();
        Self { address: server().await, client: OrdersClient::new(client().await, queue.clone()), queue, worker: None }
    }
}
