//! The admin's controls: checkpoint 2's chaos controller (`/api/orders/chaos`: worker processes
//! this API starts through the host's [`Launcher`], SIGKILLed and restarted, with activity
//! failures injected) and checkpoint 3's stream of random orders (`/api/orders/stream`). Each is
//! started (`POST`), read (`GET`) and stopped (`DELETE`, which waits until it ended), one at a
//! time per API process (409 while one runs), by a signed-in admin only; every number is bounded.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use futures::future::BoxFuture;
use ordo_orders::chaos::{ChaosOptions, ChaosReport, Launcher};
use ordo_orders::stream::StreamOptions;
use ordo_orders::{Kitchen, OrdersClient};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::jobs::{JobView, Slot};
use crate::auth::{Role, User};
use crate::error::{ApiError, ErrorBody};
use crate::extract::ApiJson;
use crate::AppState;

/// The jobs of one API process (shared by the routes and the stats stream).
pub(crate) struct Controls {
    pub(crate) chaos: Slot<ChaosStatus>,
    pub(crate) stream: Slot<StreamStatus>,
}

impl Default for Controls {
    fn default() -> Self {
        Self { chaos: Slot::new("a chaos run"), stream: Slot::new("a stream of orders") }
    }
}

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/orders/chaos", post(start_chaos).get(chaos_status).delete(stop_chaos))
        .route("/api/orders/stream", post(start_stream).get(stream_status).delete(stop_stream))
}

/// How long the longest chaos run or stream may be asked to last, s.
const MAX_DURATION_S: u64 = 86_400;
/// Largest first id number of a stream.
const MAX_FIRST: u64 = 1_000_000_000;
/// Longest kitchen step of streamed orders, ms.
const MAX_STEP_MS: u64 = 120_000;

/// A chaos run to start.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ChaosRequest {
    /// Worker processes to keep running.
    #[schema(minimum = 1, maximum = 16)]
    workers: usize,
    /// Mean milliseconds between SIGKILLs of a random worker; 0: never (100 ms ..= 1 h otherwise).
    #[schema(minimum = 0, maximum = 3_600_000)]
    kill_every_ms: u64,
    /// Milliseconds a killed worker stays down before its replacement starts.
    #[serde(default = "default_restart_ms")]
    #[schema(minimum = 0, maximum = 600_000, default = 500)]
    restart_after_ms: u64,
    /// Probability (0..=1) that any kitchen step fails retryably, on any attempt.
    #[schema(minimum = 0.0, maximum = 1.0)]
    failure_rate: f64,
    /// Stop by itself after this many seconds (default: when stopped).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 86_400)]
    duration_s: Option<u64>,
}

fn default_restart_ms() -> u64 {
    500
}

impl ChaosRequest {
    /// The controller's options, or a 422 naming the request's field.
    fn options(&self) -> Result<ChaosOptions, ApiError> {
        if self.kill_every_ms > 3_600_000 {
            return Err(ApiError::validation("killEveryMs", "0 (never) or 100 ..= 3,600,000 ms"));
        }
        if self.duration_s.is_some_and(|d| d == 0 || d > MAX_DURATION_S) {
            return Err(ApiError::validation("durationS", format!("1..={MAX_DURATION_S} s")));
        }
        let options = ChaosOptions {
            workers: self.workers,
            kill_every: (self.kill_every_ms > 0).then(|| Duration::from_millis(self.kill_every_ms)),
            restart_after: Duration::from_millis(self.restart_after_ms),
            failure_rate: self.failure_rate,
        };
        options.check().map_err(|e| {
            // The controller names durations; the request names them in ms.
            let field = match e.field.as_str() {
                "killEvery" | "restartAfter" => format!("{}Ms", e.field),
                other => other.to_owned(),
            };
            ApiError::validation(field, e.reason)
        })?;
        Ok(options)
    }
}

/// A chaos run: what was asked, what the controller did, and the failures its workers injected.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ChaosStatus {
    /// The request.
    request: ChaosRequest,
    /// Workers started and SIGKILLed so far, and alive now.
    #[schema(value_type = ChaosReportDoc)]
    report: ChaosReport,
    /// Kitchen steps failed on purpose by the run's workers so far.
    injected: u64,
    /// Why the controller stopped early, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// What the chaos controller did.
#[derive(ToSchema)]
#[schema(as = ChaosReport)]
#[allow(dead_code)]
pub(crate) struct ChaosReportDoc {
    /// Workers started, replacements included.
    started: u64,
    /// Workers SIGKILLed.
    kills: u64,
    /// Workers running now.
    alive: u64,
}

/// A chaos run as the API shows it.
#[derive(ToSchema)]
#[schema(as = ChaosRun)]
#[allow(dead_code)]
pub(crate) struct ChaosRunDoc {
    /// Still running.
    running: bool,
    /// The request.
    request: ChaosRequest,
    /// Workers started and SIGKILLed so far, and alive now.
    report: ChaosReportDoc,
    /// Kitchen steps failed on purpose so far.
    injected: u64,
    /// Why the controller stopped early, if it did.
    error: Option<String>,
}

/// How often a running chaos run re-reads its workers' injected-failure count.
const INJECTED_EVERY: Duration = Duration::from_millis(500);

/// Starts the chaos controller in this API process: `workers` orders worker processes, one
/// SIGKILLed every `killEveryMs` on average and restarted, with `failureRate` of kitchen steps
/// failing. One at a time.
#[utoipa::path(
    post, path = "/api/orders/chaos", tag = "orders",
    request_body = ChaosRequest,
    responses(
        (status = 202, description = "Started", body = ChaosRunDoc),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, description = "A chaos run is already running, or this API cannot start workers", body = ErrorBody),
        (status = 413, description = "Body too large"), (status = 415, body = ErrorBody),
        (status = 422, description = "A field is missing or out of bounds; `field` names it", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn start_chaos(
    State(state): State<AppState>,
    user: User,
    ApiJson(request): ApiJson<ChaosRequest>,
) -> Result<(StatusCode, Json<JobView<ChaosStatus>>), ApiError> {
    user.require(Role::Admin, "run the chaos controller")?;
    let options = request.options()?;
    let launcher = state
        .domain::<Launcher>()
        .map_err(|_| {
            ApiError::Conflict("this API process cannot start workers: its host registered no launcher".into())
        })?
        .clone();
    let status = ChaosStatus { request: request.clone(), report: ChaosReport::default(), injected: 0, error: None };
    let work = move |status: Arc<Mutex<ChaosStatus>>, stop: BoxFuture<'static, ()>| async move {
        let base = launcher.injected();
        let stop = async move {
            let limit = request.duration_s.map_or(Duration::MAX, Duration::from_secs);
            tokio::select! {
                () = stop => {}
                () = tokio::time::sleep(limit) => {}
            }
        };
        let progress = |report: &ChaosReport| lock(&status).report = report.clone();
        let run = ordo_orders::chaos::run(&options, |rate| launcher.launch(rate), progress, stop);
        tokio::pin!(run);
        let outcome = loop {
            tokio::select! {
                outcome = &mut run => break outcome,
                () = tokio::time::sleep(INJECTED_EVERY) => lock(&status).injected = launcher.injected().saturating_sub(base),
            }
        };
        let mut status = lock(&status);
        status.injected = launcher.injected().saturating_sub(base);
        if let Err(error) = outcome {
            tracing::warn!(error = format!("{error:#}"), "the chaos run stopped early");
            status.error = Some(format!("{error:#}"));
        }
    };
    let view = state.domain::<Arc<Controls>>()?.chaos.start(status, state.closing(), work)?;
    tracing::info!(admin = %user.name, workers = view.status.request.workers, "chaos run started");
    Ok((StatusCode::ACCEPTED, Json(view)))
}

/// The current or last chaos run.
#[utoipa::path(
    get, path = "/api/orders/chaos", tag = "orders",
    responses(
        (status = 200, body = ChaosRunDoc),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "No chaos run was started", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn chaos_status(
    State(state): State<AppState>,
    user: User,
) -> Result<Json<JobView<ChaosStatus>>, ApiError> {
    user.require(Role::Admin, "read the chaos controller")?;
    let view = state.domain::<Arc<Controls>>()?.chaos.view();
    view.map(Json).ok_or_else(|| ApiError::NotFound("no chaos run was started".into()))
}

/// Stops the chaos run: its workers are killed (the orders they held continue on other workers).
/// Answers once they are gone, with the final report.
#[utoipa::path(
    delete, path = "/api/orders/chaos", tag = "orders",
    responses(
        (status = 200, body = ChaosRunDoc),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "No chaos run was started", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn stop_chaos(
    State(state): State<AppState>,
    user: User,
) -> Result<Json<JobView<ChaosStatus>>, ApiError> {
    user.require(Role::Admin, "stop the chaos controller")?;
    Ok(Json(state.domain::<Arc<Controls>>()?.chaos.stop().await?))
}

/// A stream of random orders to start.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct StreamRequest {
    /// How many orders.
    #[schema(minimum = 1, maximum = 100_000)]
    count: u64,
    /// Orders per second (default: one every 2–6 s, the seed's pace).
    #[serde(default)]
    #[schema(exclusive_minimum = 0.0, maximum = 1000.0)]
    rate: Option<f64>,
    /// Every kitchen step of the streamed orders takes this many ms (default: the demo's seconds).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 120_000)]
    step_ms: Option<u64>,
    /// First id number (`auto-<first>`).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    first: u64,
}

impl StreamRequest {
    /// The generator's options, or a 422 naming the field.
    fn options(&self) -> Result<StreamOptions, ApiError> {
        if self.step_ms.is_some_and(|ms| ms > MAX_STEP_MS) {
            return Err(ApiError::validation("stepMs", format!("0..={MAX_STEP_MS} ms")));
        }
        if self.first > MAX_FIRST {
            return Err(ApiError::validation("first", format!("0..={MAX_FIRST}")));
        }
        let options = StreamOptions {
            count: Some(self.count),
            rate: self.rate,
            first: self.first,
            kitchen: self.step_ms.map(Kitchen::quick),
        };
        options.check().map_err(|e| ApiError::validation(e.field, e.reason))?;
        Ok(options)
    }
}

/// A stream of orders: what was asked and how far it got.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StreamStatus {
    /// The request.
    request: StreamRequest,
    /// Orders placed so far.
    placed: u64,
    /// The workflow id of the last order placed.
    #[serde(skip_serializing_if = "Option::is_none")]
    last: Option<String>,
    /// Why the stream stopped early, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// A stream as the API shows it.
#[derive(ToSchema)]
#[schema(as = OrderStream)]
#[allow(dead_code)]
pub(crate) struct OrderStreamDoc {
    /// Still placing orders.
    running: bool,
    /// The request.
    request: StreamRequest,
    /// Orders placed so far.
    placed: u64,
    /// The workflow id of the last order placed.
    last: Option<String>,
    /// Why the stream stopped early, if it did.
    error: Option<String>,
}

/// Starts a stream of `count` random orders (`auto-N`), at `rate` per second or the seed's one
/// every 2–6 s, on this API's task queue. One at a time.
#[utoipa::path(
    post, path = "/api/orders/stream", tag = "orders",
    request_body = StreamRequest,
    responses(
        (status = 202, description = "Started", body = OrderStreamDoc),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, description = "A stream is already running", body = ErrorBody),
        (status = 413, description = "Body too large"), (status = 415, body = ErrorBody),
        (status = 422, description = "A field is missing or out of bounds; `field` names it", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn start_stream(
    State(state): State<AppState>,
    user: User,
    ApiJson(request): ApiJson<StreamRequest>,
) -> Result<(StatusCode, Json<JobView<StreamStatus>>), ApiError> {
    user.require(Role::Admin, "stream orders")?;
    let options = request.options()?;
    let client = state.domain::<OrdersClient>()?.clone();
    let status = StreamStatus { request, placed: 0, last: None, error: None };
    let work = move |status: Arc<Mutex<StreamStatus>>, stop: BoxFuture<'static, ()>| async move {
        let placed = |order: ordo_orders::PizzaOrderStatus| {
            let mut status = lock(&status);
            status.placed += 1;
            status.last = Some(order.order.id);
        };
        if let Err(error) = ordo_orders::stream::run(&client, &options, placed, stop).await {
            tracing::warn!(error = format!("{error:#}"), "the stream of orders stopped early");
            lock(&status).error = Some(format!("{error:#}"));
        }
    };
    let view = state.domain::<Arc<Controls>>()?.stream.start(status, state.closing(), work)?;
    tracing::info!(admin = %user.name, "stream of orders started");
    Ok((StatusCode::ACCEPTED, Json(view)))
}

/// The current or last stream of orders.
#[utoipa::path(
    get, path = "/api/orders/stream", tag = "orders",
    responses(
        (status = 200, body = OrderStreamDoc),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "No stream was started", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn stream_status(
    State(state): State<AppState>,
    user: User,
) -> Result<Json<JobView<StreamStatus>>, ApiError> {
    user.require(Role::Admin, "read the stream of orders")?;
    let view = state.domain::<Arc<Controls>>()?.stream.view();
    view.map(Json).ok_or_else(|| ApiError::NotFound("no stream of orders was started".into()))
}

/// Stops the stream (orders placed so far continue); answers once it stopped placing.
#[utoipa::path(
    delete, path = "/api/orders/stream", tag = "orders",
    responses(
        (status = 200, body = OrderStreamDoc),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "No stream was started", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn stop_stream(
    State(state): State<AppState>,
    user: User,
) -> Result<Json<JobView<StreamStatus>>, ApiError> {
    user.require(Role::Admin, "stop the stream of orders")?;
    Ok(Json(state.domain::<Arc<Controls>>()?.stream.stop().await?))
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
