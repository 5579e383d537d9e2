//! The human-readable plan text, written the way `terraform show` prints a plan.

use super::*;

pub(super) fn attr_text(value: &Value) -> String {
    match value {
        Value::String(s) if !s.contains('\n') => format!("{s:?}"),
        Value::String(_) => "<<multi-line string>>".to_owned(),
        other => other.to_string(),
    }
}

/// One attribute line of the plan text: change symbol, attribute name, rendered change.
pub(super) type AttrLine = (char, String, String);

pub(super) fn render_resource(out: &mut String, ty: &str, name: &str, action: &str, lines: &[AttrLine]) {
    let (symbol, verb) = match action {
        "create" => ("+", "will be created"),
        "update" => ("~", "will be updated in-place"),
        _ => ("-", "will be destroyed"),
    };
    out.push_str(&format!("  # {ty}.{name} {verb}\n  {symbol} resource \"{ty}\" \"{name}\" {{\n"));
    // Names padded to one column, as terraform does.
    let width = lines.iter().map(|(_, k, _)| k.len()).max().unwrap_or(0);
    for (sym, key, text) in lines {
        out.push_str(&format!("      {sym} {key:<width$} = {text}\n"));
    }
    out.push_str("    }\n\n");
}

/// A value for the plan text, with the parts the unknown-mask marks shown as `(known after apply)`.
pub(super) fn shown(attr: &str, value: &Value, mask: Option<&Value>, sensitive: &[String]) -> String {
    if sensitive.iter().any(|s| s == attr) {
        return "(sensitive value)".to_owned();
    }
    match (value, mask) {
        (_, Some(Value::Bool(true))) => "(known after apply)".to_owned(),
        (Value::Array(items), Some(Value::Array(masks))) => {
            let parts: Vec<String> = items.iter().enumerate().map(|(i, v)| shown("", v, masks.get(i), &[])).collect();
            format!("[{}]", parts.join(","))
        }
        (Value::Object(map), Some(Value::Object(masks))) => {
            let parts: Vec<String> =
                map.iter().map(|(k, v)| format!("{k:?}:{}", shown("", v, masks.get(k), &[]))).collect();
            format!("{{{}}}", parts.join(","))
        }
        _ => attr_text(value),
    }
}

// ---------------------------------------------------------------------------------------------
// The driver
