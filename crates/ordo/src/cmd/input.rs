//! The `--input` JSON request of the commands that start something.

use std::path::Path;

use anyhow::Context as _;
use ordo_core::RequestError;
use serde_json::{Map, Value};

/// The JSON object in `input` (`-` reads stdin), or an empty object without one; the command's
/// flags then go on top of it. A file that cannot be read is named in the error; malformed JSON and
/// anything but an object are a [`RequestError`] on the field `input`, saying why.
pub(crate) fn read_object(input: Option<&Path>) -> anyhow::Result<Map<String, Value>> {
    let Some(path) = input else { return Ok(Map::new()) };
    let text = if path.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin()).context("reading the request from stdin")?
    } else {
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?
    };
    let refused = |reason: String| RequestError { field: "input".into(), reason };
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(refused("must be a JSON object".into()).into()),
        Err(e) => Err(refused(format!("malformed JSON: {e}")).into()),
    }
}
