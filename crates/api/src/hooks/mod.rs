//! Seed 004's lifecycle hooks over HTTP, at the seed's paths: the workflow client's
//! `POST /invoke/{client}` and TAC's intents, cancel and status under
//! `/v2/projects/{project}/composite-apps/{compositeApp}/{compositeAppVersion}/deployment-intent-groups/{dig}/temporal-action-controller`.
//!
//! Handlers reach the domain with `state.domain::<HooksClient>()`, registered by the host with
//! `AppState::builder(..).with(hooks_client)`. The routes are not yet in the OpenAPI document.

mod routes;

use ordo_hooks::client::HooksClient;
use utoipa::OpenApi;

use crate::state::Hosted;
use crate::Domain;

/// The hooks domain's part of the API.
pub(crate) const DOMAIN: Domain = Domain { router: routes::router, openapi: Doc::openapi };

#[derive(OpenApi)]
#[openapi(tags((name = "hooks", description = "Seed 004's lifecycle hooks: invoke, TAC intents, cancel, status")))]
struct Doc;

/// Nothing to wire: hooks have no event stream.
impl Hosted for HooksClient {}
