//! The proto3-JSON form of `temporal.api.common.v1.Payloads` that codec servers speak:
//! `{"payloads": [{"metadata": {"encoding": "<base64>", …}, "data": "<base64>"}]}`.
//!
//! Parsed by hand rather than through serde so that every rejection names the offending field
//! (`payloads[1].metadata.encoding`), which is what a 400 from the codec server reports.

use std::collections::HashMap;

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, Engine as _};
use serde_json::{Map, Value};

use crate::Payload;

/// Proto3 JSON allows standard or URL-safe base64, padded or not.
const STANDARD_ANY_PAD: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);
const URL_SAFE_ANY_PAD: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A body that is not a valid `Payloads` message, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct JsonError {
    /// Path of the offending field (`body`, `payloads[0].data`, …).
    pub field: String,
    /// What is wrong with it.
    pub reason: String,
}

impl JsonError {
    fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self { field: field.into(), reason: reason.into() }
    }
}

/// Parses a `Payloads` JSON body. An absent or `null` `payloads` is an empty list (proto3 JSON
/// omits empty fields); unknown fields are ignored, as proto3 JSON parsers may.
pub fn parse_payloads(body: &[u8]) -> Result<Vec<Payload>, JsonError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| JsonError::new("body", format!("not valid JSON ({e})")))?;
    let object = value.as_object().ok_or_else(|| JsonError::new("body", "expected a JSON object with `payloads`"))?;
    let list = match object.get("payloads") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(list)) => list,
        Some(_) => return Err(JsonError::new("payloads", "expected an array")),
    };
    list.iter().enumerate().map(|(i, p)| parse_payload(&format!("payloads[{i}]"), p)).collect()
}

fn parse_payload(path: &str, value: &Value) -> Result<Payload, JsonError> {
    let object = value.as_object().ok_or_else(|| JsonError::new(path, "expected an object"))?;
    let mut metadata = HashMap::new();
    match object.get("metadata") {
        None | Some(Value::Null) => {}
        Some(Value::Object(entries)) => {
            for (name, encoded) in entries {
                metadata.insert(name.clone(), bytes_field(&format!("{path}.metadata.{name}"), Some(encoded))?);
            }
        }
        Some(_) => return Err(JsonError::new(format!("{path}.metadata"), "expected an object of base64 strings")),
    }
    let data = bytes_field(&format!("{path}.data"), object.get("data"))?;
    Ok(Payload { metadata, data, ..Default::default() })
}

fn bytes_field(path: &str, value: Option<&Value>) -> Result<Vec<u8>, JsonError> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(text)) => STANDARD_ANY_PAD
            .decode(text)
            .or_else(|_| URL_SAFE_ANY_PAD.decode(text))
            .map_err(|_| JsonError::new(path, "not valid base64")),
        Some(_) => Err(JsonError::new(path, "expected a base64 string")),
    }
}

/// Renders payloads as a `Payloads` JSON value (standard padded base64, empty fields omitted).
pub fn payloads_to_json(payloads: &[Payload]) -> Value {
    let engine = base64::engine::general_purpose::STANDARD;
    let list = payloads
        .iter()
        .map(|p| {
            let mut names: Vec<&String> = p.metadata.keys().collect();
            names.sort();
            let metadata: Map<String, Value> =
                names.into_iter().map(|n| (n.clone(), Value::String(engine.encode(&p.metadata[n])))).collect();
            // Proto3 JSON leaves empty fields out.
            let mut object = Map::new();
            if !metadata.is_empty() {
                object.insert("metadata".into(), Value::Object(metadata));
            }
            if !p.data.is_empty() {
                object.insert("data".into(), Value::String(engine.encode(&p.data)));
            }
            Value::Object(object)
        })
        .collect();
    serde_json::json!({ "payloads": Value::Array(list) })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the Temporal UI sends parses, and rendering it gives the same JSON back.
    #[test]
    fn round_trip() {
        let body = br#"{"payloads":[{"metadata":{"encoding":"anNvbi9wbGFpbg=="},"data":"ImhpIg=="}]}"#;
        let payloads = parse_payloads(body).unwrap();
        assert_eq!(payloads[0].metadata["encoding"], b"json/plain");
        assert_eq!(payloads[0].data, b"\"hi\"");
        let back = payloads_to_json(&payloads);
        assert_eq!(back, serde_json::from_slice::<Value>(body).unwrap());
    }

    /// URL-safe and unpadded base64 are accepted; `{}` is zero payloads.
    #[test]
    fn lenient_where_proto3_json_is() {
        let payloads = parse_payloads(br#"{"payloads":[{"data":"-_8"}]}"#).unwrap();
        assert_eq!(payloads[0].data, [0xfb, 0xff]);
        assert!(parse_payloads(b"{}").unwrap().is_empty());
    }

    /// Each kind of bad body names its field.
    #[test]
    fn errors_name_the_field() {
        let field = |body: &str| parse_payloads(body.as_bytes()).unwrap_err().field;
        assert_eq!(field("not json"), "body");
        assert_eq!(field("[1]"), "body");
        assert_eq!(field(r#"{"payloads":{}}"#), "payloads");
        assert_eq!(field(r#"{"payloads":[{},3]}"#), "payloads[1]");
        assert_eq!(field(r#"{"payloads":[{"data":"***"}]}"#), "payloads[0].data");
        assert_eq!(field(r#"{"payloads":[{"data":7}]}"#), "payloads[0].data");
        assert_eq!(field(r#"{"payloads":[{"metadata":[]}]}"#), "payloads[0].metadata");
        assert_eq!(field(r#"{"payloads":[{"metadata":{"encoding":"%%"}}]}"#), "payloads[0].metadata.encoding");
    }
}
