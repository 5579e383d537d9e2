//! The codec server: `POST /{codec}/encode` and `POST /{codec}/decode` over proto3-JSON `Payloads`,
//! for the Temporal Web UI ("Codec Server" setting) and `temporal … --codec-endpoint`.
//!
//! Rules, checked in this order on every request:
//! 1. CORS: a request with an `Origin` must come from an allowed origin (403 otherwise); allowed
//!    origins get `Access-Control-Allow-*` headers on every answer, errors included, and
//!    `OPTIONS` preflights are answered without authentication, as browsers send them.
//! 2. Bearer token, when one is configured (401 without it).
//! 3. `X-Namespace`, when namespaces are configured: required (400) and served (403).
//! 4. The codec name and operation exist (404), the body is JSON (415) and a valid `Payloads`
//!    message (400 naming the field), and every payload decodes (400 naming the payload).
//!
//! Bad input is never a 5xx.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

use crate::json::{parse_payloads, payloads_to_json};
use crate::{decode_all, encode_all, Codec};

/// The Temporal dev server's Web UI, the default CORS origin (seed 001's `--web`).
pub const DEFAULT_ORIGIN: &str = "http://localhost:8233";

/// How the codec server behaves.
#[derive(Clone)]
pub struct ServerOptions {
    /// Origins allowed to call from a browser (exact match, e.g. `http://localhost:8233`).
    pub allowed_origins: Vec<String>,
    /// Namespaces served; empty serves any (and `X-Namespace` becomes optional).
    pub namespaces: Vec<String>,
    /// Required `Authorization: Bearer …` token, if any.
    pub bearer_token: Option<String>,
    /// Largest accepted body, in bytes.
    pub max_body_bytes: usize,
}

impl std::fmt::Debug for ServerOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerOptions")
            .field("allowed_origins", &self.allowed_origins)
            .field("namespaces", &self.namespaces)
            .field("bearer_token", &self.bearer_token.as_ref().map(|_| "<redacted>"))
            .field("max_body_bytes", &self.max_body_bytes)
            .finish()
    }
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            allowed_origins: vec![DEFAULT_ORIGIN.to_owned()],
            namespaces: Vec::new(),
            bearer_token: None,
            // Temporal's payload limit is 2 MiB by default; base64 adds a third.
            max_body_bytes: 8 * 1024 * 1024,
        }
    }
}

struct AppState {
    codecs: BTreeMap<String, Arc<dyn Codec>>,
    options: ServerOptions,
}

/// The codec server's routes: one `/{name}/encode` and `/{name}/decode` pair per codec in
/// `codecs` (seed 001 serves `encryption_codec` and `compression_codec`), plus `GET /` listing
/// them. Serve it with `axum::serve`; test it with `tower::ServiceExt::oneshot`.
pub fn router(codecs: BTreeMap<String, Arc<dyn Codec>>, options: ServerOptions) -> Router {
    let limit = options.max_body_bytes;
    let state = Arc::new(AppState { codecs, options });
    Router::new()
        .route("/", get(index))
        .route("/{codec}/{operation}", post(transform).options(preflight))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

/// A refused request: status and reason (and the offending field, for a bad body).
#[derive(Debug)]
struct Refusal {
    status: StatusCode,
    reason: String,
    field: Option<String>,
}

impl Refusal {
    fn new(status: StatusCode, reason: impl Into<String>) -> Self {
        Self { status, reason: reason.into(), field: None }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let mut body = serde_json::json!({ "error": self.reason });
        if let Some(field) = self.field {
            body["field"] = field.into();
        }
        let mut response = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

async fn index(State(state): State<Arc<AppState>>) -> String {
    let mut text = String::from("Ordo codec server. Endpoints (POST, proto3-JSON Payloads):\n");
    for name in state.codecs.keys() {
        text.push_str(&format!("  /{name}/encode\n  /{name}/decode\n"));
    }
    text.push_str(&format!("Allowed browser origins: {}\n", state.options.allowed_origins.join(", ")));
    text
}

/// The `Origin` of a request: `Ok(None)` without one (CLI, curl), `Ok(Some)` when allowed.
fn check_origin(state: &AppState, headers: &HeaderMap) -> Result<Option<HeaderValue>, Refusal> {
    let Some(origin) = headers.get(header::ORIGIN) else { return Ok(None) };
    let text = origin.to_str().unwrap_or_default();
    if state.options.allowed_origins.iter().any(|o| o == text) {
        Ok(Some(origin.clone()))
    } else {
        Err(Refusal::new(
            StatusCode::FORBIDDEN,
            format!("origin {text:?} is not allowed; start the codec server with --web {text}"),
        ))
    }
}

fn with_cors(mut response: Response, origin: Option<HeaderValue>) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    if let Some(origin) = origin {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("POST, OPTIONS"));
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("content-type, x-namespace, authorization"),
        );
        // The UI's "include cross-origin credentials" option needs this.
        headers.insert(header::ACCESS_CONTROL_ALLOW_CREDENTIALS, HeaderValue::from_static("true"));
        headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
    }
    response
}

async fn preflight(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    match check_origin(&state, &headers) {
        Ok(Some(origin)) => with_cors(StatusCode::NO_CONTENT.into_response(), Some(origin)),
        Ok(None) => with_cors(
            Refusal::new(StatusCode::BAD_REQUEST, "a CORS preflight needs an Origin header").into_response(),
            None,
        ),
        Err(refusal) => with_cors(refusal.into_response(), None),
    }
}

async fn transform(
    State(state): State<Arc<AppState>>,
    Path((codec, operation)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let origin = match check_origin(&state, &headers) {
        Ok(origin) => origin,
        Err(refusal) => return with_cors(refusal.into_response(), None),
    };
    let response = match handle(&state, &codec, &operation, &headers, &body) {
        Ok(json) => (StatusCode::OK, Json(json)).into_response(),
        Err(refusal) => refusal.into_response(),
    };
    with_cors(response, origin)
}

fn handle(
    state: &AppState,
    codec_name: &str,
    operation: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<serde_json::Value, Refusal> {
    check_token(state, headers)?;
    check_namespace(state, headers)?;
    let codec = state.codecs.get(codec_name).ok_or_else(|| {
        let known: Vec<&str> = state.codecs.keys().map(String::as_str).collect();
        Refusal::new(StatusCode::NOT_FOUND, format!("no codec {codec_name:?}; this server has: {}", known.join(", ")))
    })?;
    let decode = match operation {
        "encode" => false,
        "decode" => true,
        other => {
            return Err(Refusal::new(
                StatusCode::NOT_FOUND,
                format!("no operation {other:?}; use /{codec_name}/encode or /{codec_name}/decode"),
            ))
        }
    };
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !content_type.to_ascii_lowercase().starts_with("application/json") {
        return Err(Refusal::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("content-type must be application/json, got {content_type:?}"),
        ));
    }
    let payloads = parse_payloads(body).map_err(|e| Refusal {
        status: StatusCode::BAD_REQUEST,
        reason: e.to_string(),
        field: Some(e.field),
    })?;
    let result = if decode { decode_all(codec.as_ref(), payloads) } else { encode_all(codec.as_ref(), payloads) };
    let payloads = result.map_err(|(index, error)| {
        let field = format!("payloads[{index}]");
        Refusal { status: StatusCode::BAD_REQUEST, reason: format!("{field}: {error}"), field: Some(field) }
    })?;
    Ok(payloads_to_json(&payloads))
}

fn check_token(state: &AppState, headers: &HeaderMap) -> Result<(), Refusal> {
    let Some(expected) = &state.options.bearer_token else { return Ok(()) };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim);
    match given {
        Some(token) if constant_time_eq(token.as_bytes(), expected.as_bytes()) => Ok(()),
        Some(_) => Err(Refusal::new(StatusCode::UNAUTHORIZED, "the bearer token is wrong")),
        None => Err(Refusal::new(
            StatusCode::UNAUTHORIZED,
            "this codec server needs an `Authorization: Bearer <token>` header",
        )),
    }
}

/// Compares without stopping at the first difference, so timing does not reveal the token.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn check_namespace(state: &AppState, headers: &HeaderMap) -> Result<(), Refusal> {
    if state.options.namespaces.is_empty() {
        return Ok(());
    }
    let namespace = headers
        .get("x-namespace")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| Refusal::new(StatusCode::BAD_REQUEST, "missing X-Namespace header"))?;
    if state.options.namespaces.iter().any(|n| n == namespace) {
        Ok(())
    } else {
        Err(Refusal::new(
            StatusCode::FORBIDDEN,
            format!("namespace {namespace:?} is not served here (serving: {})", state.options.namespaces.join(", ")),
        ))
    }
}
