//! The codec server's routes and every way a request can be refused, through `oneshot` (no
//! socket): seed 001's two codecs, CORS, bearer token, `X-Namespace`, bad bodies.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::Engine as _;
use ordo_codec::keys::{Key, Keyring};
use ordo_codec::{router, Codec, EncryptionCodec, ServerOptions, SnappyCodec};
use serde_json::{json, Value};
use tower::ServiceExt as _;

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn keyring() -> Keyring {
    static KEY: std::sync::OnceLock<Key> = std::sync::OnceLock::new();
    Keyring::new([("k1".to_owned(), KEY.get_or_init(Key::generate).clone())], None).unwrap()
}

fn codecs() -> BTreeMap<String, Arc<dyn Codec>> {
    BTreeMap::from([
        ("encryption_codec".to_owned(), Arc::new(EncryptionCodec::new(&keyring())) as Arc<dyn Codec>),
        ("compression_codec".to_owned(), Arc::new(SnappyCodec) as Arc<dyn Codec>),
    ])
}

fn app() -> axum::Router {
    router(codecs(), ServerOptions::default())
}

fn app_with(options: ServerOptions) -> axum::Router {
    router(codecs(), options)
}

fn plain_body() -> Value {
    json!({ "payloads": [
        { "metadata": { "encoding": b64(b"json/plain") }, "data": b64(br#"{"directory":"stacks/secret"}"#) },
        { "metadata": { "encoding": b64(b"binary/null") } },
    ]})
}

fn post(uri: &str) -> axum::http::request::Builder {
    Request::builder().method("POST").uri(uri).header("content-type", "application/json")
}

async fn send(app: axum::Router, request: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Value) {
    let response = app.oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    let value =
        serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, headers, value)
}

async fn call(app: axum::Router, uri: &str, body: &Value) -> (StatusCode, axum::http::HeaderMap, Value) {
    send(app, post(uri).body(Body::from(body.to_string())).unwrap()).await
}

/// encode then decode on the encryption route gives the input back; the encoded form carries the
/// seed's metadata and no clear text.
#[tokio::test]
async fn encryption_codec_encode_then_decode_round_trips() {
    let (status, _, encoded) = call(app(), "/encryption_codec/encode", &plain_body()).await;
    assert_eq!(status, StatusCode::OK, "{encoded}");
    let first = &encoded["payloads"][0];
    assert_eq!(first["metadata"]["encoding"], b64(b"binary/encrypted"));
    assert_eq!(first["metadata"]["encryption-key-id"], b64(b"k1"));
    assert!(!encoded.to_string().contains(&b64(br#"{"directory":"stacks/secret"}"#)));
    let (status, _, decoded) = call(app(), "/encryption_codec/decode", &encoded).await;
    assert_eq!(status, StatusCode::OK, "{decoded}");
    assert_eq!(decoded, plain_body());
}

/// The compression route round-trips too, and its output is snappy.
#[tokio::test]
async fn compression_codec_encode_then_decode_round_trips() {
    let (status, _, encoded) = call(app(), "/compression_codec/encode", &plain_body()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(encoded["payloads"][0]["metadata"]["encoding"], b64(b"binary/snappy"));
    let (_, _, decoded) = call(app(), "/compression_codec/decode", &encoded).await;
    assert_eq!(decoded, plain_body());
}

/// Decoding leaves payloads in other encodings alone (histories written before encryption).
#[tokio::test]
async fn decode_passes_foreign_payloads_through() {
    let (status, _, decoded) = call(app(), "/encryption_codec/decode", &plain_body()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(decoded, plain_body());
}

/// A payload sealed with a key the server lacks is a 400 naming the payload and the key id.
#[tokio::test]
async fn decode_with_an_unknown_key_is_a_400_naming_it() {
    let other = EncryptionCodec::new(&Keyring::new([("retired".to_owned(), Key::generate())], None).unwrap());
    let sealed = other.encode(ordo_codec::Payload::default()).unwrap();
    let body = ordo_codec::json::payloads_to_json(&[ordo_codec::Payload::default(), sealed]);
    let (status, _, error) = call(app(), "/encryption_codec/decode", &body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["field"], "payloads[1]");
    assert!(error["error"].as_str().unwrap().contains("\"retired\""), "{error}");
}

/// Bad bodies are 400s that name the field; never a 5xx.
#[tokio::test]
async fn bad_bodies_are_400_with_the_field() {
    let cases = [
        ("{not json", "body"),
        ("[]", "body"),
        (r#"{"payloads":"x"}"#, "payloads"),
        (r#"{"payloads":[{"data":"!!"}]}"#, "payloads[0].data"),
        (r#"{"payloads":[{"metadata":{"encoding":5}}]}"#, "payloads[0].metadata.encoding"),
    ];
    for (body, field) in cases {
        let request = post("/encryption_codec/decode").body(Body::from(body)).unwrap();
        let (status, _, error) = send(app(), request).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {error}");
        assert_eq!(error["field"], field, "{body}: {error}");
    }
    // Snappy garbage under the snappy encoding.
    let garbage = json!({"payloads":[{"metadata":{"encoding":b64(b"binary/snappy")},"data":b64(b"zzz")}]});
    let (status, _, error) = call(app(), "/compression_codec/decode", &garbage).await;
    assert_eq!((status, error["field"].as_str()), (StatusCode::BAD_REQUEST, Some("payloads[0]")), "{error}");
}

/// A non-JSON content type is 415; an unknown codec or operation is 404 listing what exists;
/// GET on a codec route is 405.
#[tokio::test]
async fn wrong_content_type_route_or_method() {
    let request = Request::builder()
        .method("POST")
        .uri("/encryption_codec/decode")
        .header("content-type", "text/plain")
        .body(Body::from("{}"))
        .unwrap();
    let (status, _, error) = send(app(), request).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{error}");
    let (status, _, error) = call(app(), "/default/decode", &plain_body()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(error["error"].as_str().unwrap().contains("compression_codec, encryption_codec"), "{error}");
    let (status, _, _) = call(app(), "/encryption_codec/destroy", &plain_body()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let request = Request::builder().uri("/encryption_codec/decode").body(Body::empty()).unwrap();
    assert_eq!(send(app(), request).await.0, StatusCode::METHOD_NOT_ALLOWED);
    let request = Request::builder().uri("/").body(Body::empty()).unwrap();
    let (status, _, text) = send(app(), request).await;
    assert_eq!(status, StatusCode::OK);
    assert!(text.as_str().unwrap().contains("/encryption_codec/decode"));
}

/// An oversized body is refused with 413, not read into memory.
#[tokio::test]
async fn oversized_body_is_413() {
    let options = ServerOptions { max_body_bytes: 1024, ..Default::default() };
    let big = json!({"payloads":[{"data": b64(&[7u8; 4096])}]});
    assert_eq!(call(app_with(options), "/compression_codec/encode", &big).await.0, StatusCode::PAYLOAD_TOO_LARGE);
}

/// CORS: the allowed origin gets the headers (on answers and on the preflight), others are 403,
/// requests without an Origin (the CLI) need none.
#[tokio::test]
async fn cors_only_for_configured_origins() {
    let request = post("/encryption_codec/decode")
        .header("origin", "http://localhost:8233")
        .body(Body::from(plain_body().to_string()))
        .unwrap();
    let (status, headers, _) = send(app(), request).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["access-control-allow-origin"], "http://localhost:8233");

    let preflight = |origin: &str| {
        Request::builder()
            .method("OPTIONS")
            .uri("/encryption_codec/decode")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type,x-namespace")
            .body(Body::empty())
            .unwrap()
    };
    let (status, headers, _) = send(app(), preflight("http://localhost:8233")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(headers["access-control-allow-origin"], "http://localhost:8233");
    assert!(headers["access-control-allow-methods"].to_str().unwrap().contains("POST"));
    assert!(headers["access-control-allow-headers"].to_str().unwrap().contains("x-namespace"));

    let (status, headers, error) = send(app(), preflight("http://evil.example")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(headers.get("access-control-allow-origin").is_none());
    assert!(error["error"].as_str().unwrap().contains("evil.example"));
    let request = post("/encryption_codec/decode")
        .header("origin", "http://evil.example")
        .body(Body::from(plain_body().to_string()))
        .unwrap();
    assert_eq!(send(app(), request).await.0, StatusCode::FORBIDDEN);

    let (_, headers, _) = call(app(), "/encryption_codec/decode", &plain_body()).await;
    assert!(headers.get("access-control-allow-origin").is_none());
}

/// With a token configured: no header or a wrong token is 401 (with CORS headers, so the UI can
/// show it), the right one passes, and the preflight needs none.
#[tokio::test]
async fn bearer_token_is_enforced() {
    let options = ServerOptions { bearer_token: Some("s3cret-token".into()), ..Default::default() };
    let (status, headers, error) = call(app_with(options.clone()), "/encryption_codec/decode", &plain_body()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{error}");
    assert_eq!(headers["www-authenticate"], "Bearer");
    let with = |token: &str| {
        post("/encryption_codec/decode")
            .header("authorization", format!("Bearer {token}"))
            .header("origin", "http://localhost:8233")
            .body(Body::from(plain_body().to_string()))
            .unwrap()
    };
    let (status, headers, _) = send(app_with(options.clone()), with("wrong")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(headers["access-control-allow-origin"], "http://localhost:8233");
    assert_eq!(send(app_with(options.clone()), with("s3cret-token")).await.0, StatusCode::OK);
    let preflight = Request::builder()
        .method("OPTIONS")
        .uri("/encryption_codec/decode")
        .header("origin", "http://localhost:8233")
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(app_with(options), preflight).await.0, StatusCode::NO_CONTENT);
}

/// With namespaces configured, `X-Namespace` is required and must be one of them.
#[tokio::test]
async fn namespaces_are_enforced_when_configured() {
    let options = ServerOptions { namespaces: vec!["default".into()], ..Default::default() };
    let with = |ns: Option<&str>| {
        let mut builder = post("/encryption_codec/decode");
        if let Some(ns) = ns {
            builder = builder.header("x-namespace", ns);
        }
        builder.body(Body::from(plain_body().to_string())).unwrap()
    };
    let (status, _, error) = send(app_with(options.clone()), with(None)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error["error"].as_str().unwrap().contains("X-Namespace"));
    let (status, _, error) = send(app_with(options.clone()), with(Some("prod"))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(error["error"].as_str().unwrap().contains("\"prod\""), "{error}");
    assert_eq!(send(app_with(options), with(Some("default"))).await.0, StatusCode::OK);
    // Without the setting, any namespace (or none) is served.
    assert_eq!(send(app(), with(Some("prod"))).await.0, StatusCode::OK);
}
