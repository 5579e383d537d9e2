//! Seed 004's lifecycle hooks over HTTP, at the seed's paths: the workflow client's
//! `POST /invoke/{client}`; TAC's intents, cancel, status and `workers` under
//! `/v2/projects/{project}/composite-apps/{compositeApp}/{compositeAppVersion}/deployment-intent-groups/{dig}/temporal-action-controller`;
//! workflowmgr's `…/{dig}/temporal-workflow-intents`; and the lifecycle actions Ordo adds
//! (`…/{dig}/instantiate|update|terminate`, `…/{dig}/lifecycle-actions`).
//!
//! # Layout
//! - `routes`: `/invoke`, TAC intents, cancel, status, lifecycle actions, and what the others share
//!   (path parsing, the seed's body codes, start / cancel / status of a spec's workflow).
//! - `workers`: TAC's `{intent}/workers` and their readiness; `workflow_intents`: workflowmgr's.
//!
//! Handlers reach the domain with `state.domain::<HooksClient>()`, registered by the host with
//! `AppState::builder(..).with(hooks_client)`; `.with(OpenInvoke)` opens `/invoke` to callers
//! without a token.

mod routes;
mod workers;
mod workflow_intents;

use ordo_hooks::client::HooksClient;
use serde_json::{json, Value};
use utoipa::OpenApi;

use crate::state::Hosted;
use crate::Domain;

/// The hooks domain's part of the API.
pub(crate) const DOMAIN: Domain = Domain { router: routes::router, openapi: Doc::openapi };

#[derive(OpenApi)]
#[openapi(
    paths(
        routes::invoke,
        routes::create_intent,
        routes::list_intents,
        routes::get_intent,
        routes::put_intent,
        routes::delete_intent,
        routes::cancel,
        routes::status,
        routes::status_with_body,
        routes::start_action,
        routes::list_actions,
        routes::show_action,
        workers::create_worker,
        workers::list_workers,
        workers::get_worker,
        workers::put_worker,
        workers::delete_worker,
        workers::worker_status,
        workflow_intents::create,
        workflow_intents::list,
        workflow_intents::show,
        workflow_intents::delete,
        workflow_intents::start,
        workflow_intents::status,
        workflow_intents::status_with_body,
        workflow_intents::cancel,
    ),
    tags((name = "hooks", description = "Seed 004's lifecycle hooks: invoke, TAC intents and workers, workflow intents, lifecycle actions"))
)]
struct Doc;

/// Nothing to wire: hooks have no event stream.
impl Hosted for HooksClient {}

/// Registered (`.with(OpenInvoke)`), `POST /invoke/{client}` needs no token: the seed's TAC calls
/// it without one. Only for a trusted network; `ordo serve --hooks-open-invoke` sets it.
#[derive(Debug, Clone, Copy)]
pub struct OpenInvoke;

impl Hosted for OpenInvoke {}

/// A TAC intent for the OpenAPI examples (the seed's first pre-install hook).
fn example_intent() -> Value {
    json!({
        "metadata": {"name": "pre-install-workflow-hook", "description": "seed 004's example"},
        "spec": {
            "hookType": "pre-install",
            "workflowClient": {"clientEndpointName": "demo-workflowclient", "clientEndpointPort": 9090},
            "temporal": {"workflowClientName": "migrate_workflowclient",
                         "workflowStartOptions": {"id": "pre-install-1", "taskqueue": "GREETING_TASK_QUEUE",
                                                  "retrypolicy": {"maximumattempts": 2}}}
        }
    })
}

/// A workflow intent for the OpenAPI examples.
fn example_workflow_intent() -> Value {
    let mut intent = example_intent();
    intent["metadata"]["name"] = json!("migrate-now");
    if let Some(spec) = intent["spec"].as_object_mut() {
        spec.remove("hookType");
    }
    intent
}

/// A worker intent for the OpenAPI examples (a short readiness timeout, so trying it is quick).
fn example_worker() -> Value {
    json!({"metadata": {"name": "greeting-worker"},
           "spec": {"startToCloseTimeout": 1000, "deploymentIntentGroup": "workers", "compositeApp": "greeter",
                    "compositeAppVersion": "v1", "taskQueue": "GREETING_TASK_QUEUE"}})
}
