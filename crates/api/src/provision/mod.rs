//! Seed 001's provisioning runs over HTTP: `/api/runs…` (start, list, show, approve / reject,
//! re-plan, extend, reset, events), `/api/scenarios` and the approver's `/api/inbox`.
//!
//! # Layout
//! - `runs`: the run routes; `events`: a run's server-sent events (its [`RunWatch`] hub);
//!   `inbox`: the scenario catalogue and the plans waiting for a decision.
//! - `schema`: OpenAPI schemas of `ordo-provision`'s types; `access`: who may decide a run;
//!   `error`: `RunError` and the run's refusals as HTTP statuses.
//!
//! Handlers reach the client with `state.domain::<ProvisionClient>()`, registered by the host with
//! `AppState::builder(..).with(provision_client)`.

mod access;
mod error;
mod events;
mod inbox;
mod runs;
mod schema;

use axum::Router;
use ordo_provision::client::{ProvisionClient, RunError, RunView};
use utoipa::OpenApi;

use crate::hub::Watch;
use crate::state::{Hosted, Wiring};
use crate::{AppState, Domain};

/// Provisioning's part of the API.
pub(crate) const DOMAIN: Domain = Domain { router, openapi: Doc::openapi };

fn router() -> Router<AppState> {
    Router::new().merge(runs::router()).merge(events::router()).merge(inbox::router())
}

#[derive(OpenApi)]
#[openapi(
    paths(
        runs::start_run,
        runs::list_runs,
        runs::show_run,
        runs::approve,
        runs::reject,
        runs::replan,
        runs::extend,
        runs::reset,
        events::run_events,
        inbox::list_scenarios,
        inbox::inbox,
    ),
    tags((name = "runs", description = "Provisioning and destroy runs"))
)]
struct Doc;

impl Hosted for ProvisionClient {
    fn wire(&self, wiring: &mut Wiring<'_>) {
        wiring.hub(RunWatch(self.clone()));
    }
}

/// Runs as the event hub watches them: the client's view, until the run is no longer running.
pub(crate) struct RunWatch(ProvisionClient);

impl Watch for RunWatch {
    type View = RunView;
    const EVENT: &'static str = "run";

    async fn look(&self, id: &str) -> anyhow::Result<Option<RunView>> {
        match self.0.view(id).await {
            Ok(view) => Ok(Some(view)),
            Err(RunError::NotFound(_)) => Ok(None),
            Err(err) => Err(err.into()),
        }
    }

    fn ended(view: &RunView) -> bool {
        view.execution_status != "Running"
    }
}
