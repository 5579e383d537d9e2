//! Request extractors whose rejections are [`ApiError`]s naming the offending field, so bad input
//! gets a 400/415/422 that says what to fix, never a 500.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A JSON body. Requires `Content-Type: application/json` (which also keeps plain HTML forms on
/// other sites from posting here); syntax errors are 400, shape errors 422 with the field's path.
pub(crate) struct ApiJson<T>(pub(crate) T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = request
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"));
        if !is_json {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|e| ApiError::BadRequest { reason: format!("cannot read the body: {}", e.body_text()) })?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Parses a JSON object into `T`, naming the field on shape errors.
pub(crate) fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // serde also accepts a struct as a positional array; every body here is an object.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()).is_some_and(|b| *b != b'{') {
        return Err(match serde_json::from_slice::<serde_json::Value>(bytes) {
            Ok(_) => ApiError::validation("body", "must be a JSON object"),
            Err(e) => ApiError::BadRequest { reason: format!("malformed JSON: {e}") },
        });
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            ApiError::BadRequest { reason: format!("malformed JSON: {inner}") }
        } else {
            ApiError::validation(field_of(&path, &inner.to_string()), inner.to_string())
        }
    })?;
    deserializer.end().map_err(|e| ApiError::BadRequest { reason: format!("malformed JSON: {e}") })?;
    Ok(value)
}

/// The dotted path of the field an error is about, from serde's path and message (unknown,
/// missing and duplicate fields carry the name in backticks).
pub(crate) fn field_of(path: &str, message: &str) -> String {
    let named = ["unknown field `", "missing field `", "duplicate field `"]
        .iter()
        .find_map(|prefix| message.strip_prefix(prefix))
        .and_then(|rest| rest.split('`').next());
    match (path, named) {
        (".", Some(name)) => name.to_owned(),
        (".", None) => "body".to_owned(),
        // Unknown fields are reported at the field itself, missing ones at their parent.
        (path, Some(name)) if path.rsplit('.').next() == Some(name) => path.to_owned(),
        (parent, Some(name)) => format!("{parent}.{name}"),
        (path, None) => path.to_owned(),
    }
}

/// A query string. Unknown or repeated parameters are 422 naming the parameter.
pub(crate) struct ApiQuery<T>(pub(crate) T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        serde_urlencoded::from_str(query).map(ApiQuery).map_err(|e| {
            let message = e.to_string();
            ApiError::validation(field_of(".", &message).replace("body", "query"), message)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        name: String,
        #[serde(default)]
        inner: Option<Inner>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        seconds: u64,
    }

    fn field(body: &str) -> (u16, Option<String>) {
        match parse_json::<Outer>(body.as_bytes()) {
            Ok(_) => (200, None),
            Err(e) => {
                let status = e.status().as_u16();
                match e {
                    ApiError::Validation { field, .. } => (status, Some(field)),
                    _ => (status, None),
                }
            }
        }
    }

    /// Shape errors are 422 and name the field by its path; syntax errors are 400.
    #[test]
    fn json_errors_name_the_field_by_path() {
        assert_eq!(field(r#"{"name":"x"}"#), (200, None));
        assert_eq!(field(r#"{"name":"x","extra":1}"#), (422, Some("extra".into())));
        assert_eq!(field(r#"{}"#), (422, Some("name".into())));
        assert_eq!(field(r#"{"name":7}"#), (422, Some("name".into())));
        assert_eq!(field(r#"{"name":"x","inner":{"seconds":-1}}"#), (422, Some("inner.seconds".into())));
        assert_eq!(field(r#"{"name":"x","inner":{"sec":1}}"#), (422, Some("inner.sec".into())));
        assert_eq!(field(r#"[1,2]"#), (422, Some("body".into())));
        assert_eq!(field(r#"{"name":"#), (400, None));
        assert_eq!(field(r#"{"name":"x"} trailing"#), (400, None));
        assert_eq!(field(""), (400, None));
        assert_eq!(field("nope"), (400, None));
    }
}
