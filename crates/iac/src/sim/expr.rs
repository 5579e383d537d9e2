//! References inside stack values (`${var.NAME}`, `${TYPE.NAME.ATTR}`): resolution, masking of
//! sensitive values, and the dependency order they imply.

use super::*;

/// A `${…}` reference found in a string.
pub(super) fn references(s: &str) -> Vec<(usize, usize, &str)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(start) = s[from..].find("${").map(|i| i + from) {
        let Some(end) = s[start + 2..].find('}').map(|i| i + start + 2) else { break };
        out.push((start, end + 1, s[start + 2..end].trim()));
        from = end + 1;
    }
    out
}

/// Addresses of the resources `value` references.
pub(super) fn referenced_addresses(value: &Value, into: &mut BTreeSet<String>) {
    match value {
        Value::String(s) => {
            for (_, _, r) in references(s) {
                let parts: Vec<&str> = r.split('.').collect();
                if parts.len() >= 2 && parts[0] != "var" {
                    into.insert(format!("{}.{}", parts[0], parts[1]));
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| referenced_addresses(v, into)),
        Value::Object(map) => map.values().for_each(|v| referenced_addresses(v, into)),
        _ => {}
    }
}

/// What a reference resolves to: a value, or "known only after apply".
type Lookup = Result<Option<Value>, IacError>;

/// Resolves every reference in `value`. Returns the value with unknown parts set to null and,
/// when anything is unknown, a Terraform-style `after_unknown` mask.
pub(super) fn resolve(value: &Value, lookup: &dyn Fn(&str) -> Lookup) -> Result<(Value, Option<Value>), IacError> {
    match value {
        Value::String(s) => {
            let refs = references(s);
            if refs.is_empty() {
                return Ok((value.clone(), None));
            }
            if refs.len() == 1 && refs[0].0 == 0 && refs[0].1 == s.len() {
                return Ok(match lookup(refs[0].2)? {
                    Some(v) => (v, None),
                    None => (Value::Null, Some(Value::Bool(true))),
                });
            }
            let mut text = String::new();
            let mut last = 0;
            for (start, end, r) in refs {
                text.push_str(&s[last..start]);
                match lookup(r)? {
                    Some(Value::String(v)) => text.push_str(&v),
                    Some(other) => text.push_str(&other.to_string()),
                    None => return Ok((Value::Null, Some(Value::Bool(true)))),
                }
                last = end;
            }
            text.push_str(&s[last..]);
            Ok((Value::String(text), None))
        }
        Value::Array(items) => {
            let mut values = Vec::with_capacity(items.len());
            let mut masks = Vec::with_capacity(items.len());
            let mut unknown = false;
            for item in items {
                let (v, m) = resolve(item, lookup)?;
                unknown |= m.is_some();
                values.push(v);
                masks.push(m.unwrap_or(Value::Bool(false)));
            }
            Ok((Value::Array(values), unknown.then_some(Value::Array(masks))))
        }
        Value::Object(map) => {
            let mut values = Map::new();
            let mut masks = Map::new();
            for (k, item) in map {
                let (v, m) = resolve(item, lookup)?;
                values.insert(k.clone(), v);
                if let Some(m) = m {
                    masks.insert(k.clone(), m);
                }
            }
            let mask = (!masks.is_empty()).then_some(Value::Object(masks));
            Ok((Value::Object(values), mask))
        }
        _ => Ok((value.clone(), None)),
    }
}

/// Follows `path` (attribute names or list indices) into `value`.
pub(super) fn walk<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(value, |v, step| match v {
        Value::Object(map) => map.get(*step),
        Value::Array(items) => step.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    })
}

/// Whether the mask marks `path` (or one of its prefixes) as unknown.
pub(super) fn masked(mask: Option<&Value>, path: &[&str]) -> bool {
    let Some(mut m) = mask else { return false };
    for step in path {
        match m {
            Value::Bool(b) => return *b,
            Value::Object(map) => match map.get(*step) {
                Some(next) => m = next,
                None => return false,
            },
            Value::Array(items) => match step.parse::<usize>().ok().and_then(|i| items.get(i)) {
                Some(next) => m = next,
                None => return false,
            },
            _ => return false,
        }
    }
    m.as_bool().unwrap_or(false) || m.is_object() || m.is_array()
}

/// Resolves `${var.…}` and `${type.name.attr…}` against variables and resource values (with an
/// optional unknown-mask per resource, at plan time).
pub(super) fn lookup_in(
    reference: &str,
    variables: &BTreeMap<String, Value>,
    resources: &BTreeMap<String, (Value, Option<Value>)>,
) -> Lookup {
    let parts: Vec<&str> = reference.split('.').collect();
    if parts.first() == Some(&"var") {
        let [_, name] = parts[..] else {
            return Err(IacError::Invalid(format!("bad variable reference ${{{reference}}}")));
        };
        return variables.get(name).cloned().map(Some).ok_or_else(|| {
            IacError::Invalid(format!("${{{reference}}}: variable {name} has no value and no default"))
        });
    }
    if parts.len() < 3 {
        return Err(IacError::Invalid(format!("bad reference ${{{reference}}}: expected type.name.attribute")));
    }
    let address = format!("{}.{}", parts[0], parts[1]);
    let Some((values, mask)) = resources.get(&address) else {
        return Err(IacError::Invalid(format!(
            "${{{reference}}} refers to {address}, which the stack does not declare"
        )));
    };
    if masked(mask.as_ref(), &parts[2..]) {
        return Ok(None);
    }
    walk(values, &parts[2..]).cloned().map(Some).ok_or_else(|| {
        IacError::Invalid(format!("${{{reference}}}: {address} has no attribute {}", parts[2..].join(".")))
    })
}

/// Stack resources in dependency order (a resource after everything it references); stable.
pub(super) fn dependency_order(resources: &[StackResource]) -> Result<Vec<(StackResource, Vec<String>)>, IacError> {
    let declared: BTreeSet<String> = resources.iter().map(StackResource::address).collect();
    let mut pending: Vec<(StackResource, Vec<String>)> = Vec::new();
    for r in resources {
        let mut deps = BTreeSet::new();
        referenced_addresses(&Value::Object(r.values.clone()), &mut deps);
        if let Some(missing) = deps.iter().find(|d| !declared.contains(*d)) {
            return Err(IacError::Invalid(format!(
                "{} refers to {missing}, which the stack does not declare",
                r.address()
            )));
        }
        pending.push((r.clone(), deps.into_iter().collect()));
    }
    let mut ordered = Vec::with_capacity(pending.len());
    let mut placed = BTreeSet::new();
    while !pending.is_empty() {
        let Some(i) = pending.iter().position(|(_, deps)| deps.iter().all(|d| placed.contains(d))) else {
            let names: Vec<String> = pending.iter().map(|(r, _)| r.address()).collect();
            return Err(IacError::Invalid(format!("dependency cycle among {}", names.join(", "))));
        };
        let item = pending.remove(i);
        placed.insert(item.0.address());
        ordered.push(item);
    }
    Ok(ordered)
}

/// State resources in destroy order: dependents before what they depend on.
pub(super) fn destroy_order(resources: &BTreeMap<String, ResourceState>) -> Vec<String> {
    let mut remaining: BTreeSet<String> = resources.keys().cloned().collect();
    let mut ordered = Vec::new();
    while !remaining.is_empty() {
        // Something nobody remaining depends on; fall back to any (a cycle cannot be applied, but a
        // hand-edited state should still be destroyable).
        let next = remaining
            .iter()
            .find(|a| !remaining.iter().any(|b| resources.get(b).is_some_and(|r| r.depends_on.contains(a))))
            .or_else(|| remaining.iter().next())
            .cloned();
        let Some(next) = next else { break };
        remaining.remove(&next);
        ordered.push(next);
    }
    ordered
}

/// The Terraform type expression of a JSON value, as `terraform output -json` reports it.
pub(super) fn type_of(value: &Value) -> Value {
    match value {
        Value::Null => json!("dynamic"),
        Value::Bool(_) => json!("bool"),
        Value::Number(_) => json!("number"),
        Value::String(_) => json!("string"),
        Value::Array(items) => json!(["tuple", items.iter().map(type_of).collect::<Vec<_>>()]),
        Value::Object(map) => {
            json!(["object", map.iter().map(|(k, v)| (k.clone(), type_of(v))).collect::<Map<String, Value>>()])
        }
    }
}
