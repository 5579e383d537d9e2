//! The API's Prometheus series, served on `GET /metrics` (plain text exposition, no sign-in):
//!
//! | series | labels | meaning |
//! |---|---|---|
//! | `ordo_api_requests` | `method`, `route`, `status` | requests answered |
//! | `ordo_api_request_errors` | `method`, `route`, `status` | of those, answered with a 4xx or 5xx |
//! | `ordo_api_request_latency` (histogram, ms) | `method`, `route` | time to the response head (an event stream's first byte, not its lifetime) |
//!
//! `route` is the route template (`/api/runs/{id}`), so ids do not multiply series; a request no
//! route matched is `unmatched`. Names follow the worker's: no `_total` suffix, milliseconds.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus::{Encoder as _, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry, TextEncoder};

/// Latency buckets in milliseconds: API calls mostly wait on Temporal (a query, an update).
const LATENCY_BUCKETS_MS: [f64; 12] =
    [5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1_000.0, 2_500.0, 5_000.0, 10_000.0, 30_000.0];

/// The API's registry and instruments.
pub(crate) struct ApiMetrics {
    registry: Registry,
    requests: IntCounterVec,
    errors: IntCounterVec,
    latency: HistogramVec,
}

impl ApiMetrics {
    pub(crate) fn new() -> Self {
        let labels = ["method", "route", "status"];
        let requests = IntCounterVec::new(Opts::new("ordo_api_requests", "HTTP API requests answered"), &labels)
            .expect("valid metric");
        let errors = IntCounterVec::new(
            Opts::new("ordo_api_request_errors", "HTTP API requests answered with a 4xx or 5xx status"),
            &labels,
        )
        .expect("valid metric");
        let latency = HistogramVec::new(
            HistogramOpts::new("ordo_api_request_latency", "Time to the HTTP API's response head, milliseconds")
                .buckets(LATENCY_BUCKETS_MS.to_vec()),
            &["method", "route"],
        )
        .expect("valid metric");
        let registry = Registry::new();
        for collector in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(errors.clone()),
            Box::new(latency.clone()),
        ] {
            registry.register(collector).expect("distinct metric names");
        }
        Self { registry, requests, errors, latency }
    }

    fn observe(&self, method: &str, route: &str, status: StatusCode, started: Instant) {
        let status_text = status.as_str();
        self.requests.with_label_values(&[method, route, status_text]).inc();
        if status.is_client_error() || status.is_server_error() {
            self.errors.with_label_values(&[method, route, status_text]).inc();
        }
        let elapsed_ms = started.elapsed().as_secs_f64() * 1_000.0;
        self.latency.with_label_values(&[method, route]).observe(elapsed_ms);
    }

    fn render(&self) -> Result<String, prometheus::Error> {
        let mut text = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut text)?;
        Ok(String::from_utf8_lossy(&text).into_owned())
    }
}

/// Middleware recording every request under its route template.
pub(crate) async fn record(State(state): State<crate::AppState>, request: Request, next: Next) -> Response {
    let method = match *request.method() {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    };
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", MatchedPath::as_str).to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    state.metrics().observe(method, &route, response.status(), started);
    response
}

/// `GET /metrics`: the series above in Prometheus text format.
pub(crate) async fn serve(State(state): State<crate::AppState>) -> Response {
    match state.metrics().render() {
        Ok(text) => ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response(),
        Err(error) => {
            tracing::error!(%error, "rendering metrics");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
