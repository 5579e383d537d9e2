//! Fixtures for the crates' integration tests (cargo feature `testing`, enabled only from their
//! `[dev-dependencies]`): ONE Temporal dev server per test binary ([`server`]), shared by its tests,
//! each isolating itself by a task queue or a namespace ([`new_namespace`]) of its own; search
//! attributes registered on it ([`server_with`], [`register_search_attributes`]); and [`poll`],
//! the one way a test waits for something.

use std::collections::BTreeSet;
use std::sync::OnceLock;
use std::time::Duration;

use temporalio_client::Client;

use crate::devserver::{find_temporal_binary, DevServer, DevServerOptions};
use crate::domain::SearchAttributeSpec;

/// The address of this test binary's dev server, started by the first test that asks and shared by
/// all. It is started from a runtime of its own on a thread of its own (the tests' runtimes come and
/// go; nothing of the server depends on any of them) and never stopped: the kernel kills it when
/// this process exits, however it exits ([`crate::devserver`] binds it to the process).
pub fn server() -> &'static str {
    static ADDRESS: OnceLock<String> = OnceLock::new();
    ADDRESS.get_or_init(|| {
        std::thread::spawn(|| {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
            runtime.block_on(async {
                let server = DevServer::start(DevServerOptions::ephemeral(find_temporal_binary()))
                    .await
                    .expect("dev server starts");
                let address = server.address().to_owned();
                // Never dropped: dropping would kill the server under the other tests.
                std::mem::forget(server);
                address
            })
        })
        .join()
        .expect("the dev server starts")
    })
}

/// [`server`], with `attributes` registered on its `default` namespace: each attribute once per
/// process, by the first test that asks for it, before any test is given the address.
pub async fn server_with(attributes: &[SearchAttributeSpec]) -> &'static str {
    static REGISTERED: tokio::sync::Mutex<BTreeSet<&'static str>> = tokio::sync::Mutex::const_new(BTreeSet::new());
    let address = server();
    let mut registered = REGISTERED.lock().await;
    let missing: Vec<SearchAttributeSpec> =
        attributes.iter().filter(|spec| !registered.contains(spec.name)).copied().collect();
    if !missing.is_empty() {
        register_search_attributes(address, "default", &missing).await;
        registered.extend(missing.iter().map(|spec| spec.name));
    }
    address
}

/// A client of [`server`]'s `default` namespace, made on the calling test's runtime.
pub async fn client() -> Client {
    connect(server()).await
}

/// A client of the server at `address` (its `default` namespace).
pub async fn connect(address: &str) -> Client {
    crate::connect(&crate::TemporalArgs::at(address)).await.expect("connects")
}

/// Registers `attributes` on `namespace` of the server at `address` (those it lacks; panics when
/// that fails).
pub async fn register_search_attributes(address: &str, namespace: &str, attributes: &[SearchAttributeSpec]) {
    crate::search_attributes::register(&connect(address).await, namespace, attributes)
        .await
        .unwrap_or_else(|e| panic!("registering search attributes on {namespace}: {e}"));
}

/// Creates a namespace of its own, with nothing registered in it, on the server at `address`;
/// returns its name.
pub async fn new_namespace(address: &str) -> String {
    use temporalio_client::grpc::WorkflowService as _;
    use temporalio_common::protos::temporal::api::workflowservice::v1::RegisterNamespaceRequest;
    let name = format!("test-{}", uuid::Uuid::new_v4().simple());
    let request = RegisterNamespaceRequest {
        namespace: name.clone(),
        workflow_execution_retention_period: Some(Duration::from_secs(24 * 3600).try_into().expect("a duration")),
        ..Default::default()
    };
    connect(address)
        .await
        .register_namespace(temporalio_client::tonic::Request::new(request))
        .await
        .unwrap_or_else(|e| panic!("registering namespace {name}: {e}"));
    name
}

/// Calls `probe` every 100 ms until it returns `Ok`, and returns that value. An `Err` is what the
/// probe saw instead; once `limit` has passed, the test panics naming `what` it waited for and
/// showing the last of those.
pub async fn poll<T, E: std::fmt::Debug>(
    what: &str,
    limit: Duration,
    mut probe: impl AsyncFnMut() -> Result<T, E>,
) -> T {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match probe().await {
            Ok(done) => return done,
            Err(last) if tokio::time::Instant::now() >= deadline => {
                panic!("timed out after {limit:?} waiting for {what}; last seen: {last:#?}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn poll_returns_the_first_ok_after_the_errs() {
        let mut calls = 0;
        let got = poll("the third call", Duration::from_secs(10), async || {
            calls += 1;
            if calls == 3 {
                Ok(calls)
            } else {
                Err(calls)
            }
        })
        .await;
        assert_eq!((got, calls), (3, 3));
    }

    #[tokio::test]
    #[should_panic(expected = "waiting for the impossible; last seen: \"still no\"")]
    async fn poll_panics_naming_what_it_waited_for_and_the_last_err() {
        poll("the impossible", Duration::from_millis(250), async || Err::<(), _>("still no")).await;
    }
}
