//! The seed's `WfTemporalSpec` (the body of `POST /invoke/{client}` and the `temporal` section of a
//! hook intent), parsed once into a typed, bounded [`WfTemporalSpec`].
//!
//! The seed decodes it into Go structs without json tags, so keys match case-insensitively
//! (`TaskQueue`, `taskqueue`, `taskQueue` are one field) and durations are nanosecond integers;
//! `"60s"`-style strings are accepted too. Unknown keys are ignored, as Go's decoder does. Every
//! number has a bound and every rejection names its field (`workflowStartOptions.RetryPolicy.MaximumAttempts`).

use std::collections::BTreeMap;
use std::time::Duration;

use ordo_core::RequestError;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The longest duration accepted anywhere in a spec (ten years).
pub const MAX_DURATION: Duration = Duration::from_secs(10 * 365 * 24 * 3600);
/// The most attempts a retry policy may ask for.
pub const MAX_ATTEMPTS: i64 = 1_000_000;
/// The largest backoff coefficient accepted.
pub const MAX_BACKOFF_COEFFICIENT: f64 = 1000.0;
/// The longest identifier (workflow id, task queue, type, memo/search-attribute key) accepted.
pub const MAX_NAME_LEN: usize = 1000;
/// The most memo entries, search attributes, activity options or params entries in one spec.
pub const MAX_ENTRIES: usize = 100;

/// A parsed `WfTemporalSpec`: what to start, where, with which options and input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WfTemporalSpec {
    /// `workflowClientName`: the client the seed's HTTP server was asked for (informational here).
    pub workflow_client_name: String,
    /// The workflow type: `workflowType` when given (an Ordo extension), else the task queue's name
    /// as in the seed.
    pub workflow_type: String,
    /// `workflowStartOptions`.
    pub start: StartOptions,
    /// `workflowParams` as sent (validated), the hook workflow's single input.
    pub params: Value,
}

/// The seed's `client.StartWorkflowOptions`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartOptions {
    /// `ID`; empty means a generated id (Go's client generates a UUID).
    pub id: Option<String>,
    /// `TaskQueue` (required).
    pub task_queue: String,
    /// `WorkflowExecutionTimeout`.
    pub execution_timeout: Option<Duration>,
    /// `WorkflowRunTimeout`.
    pub run_timeout: Option<Duration>,
    /// `WorkflowTaskTimeout`.
    pub task_timeout: Option<Duration>,
    /// `WorkflowIDReusePolicy` (Temporal's enum numbers, 0–4).
    pub id_reuse_policy: IdReusePolicy,
    /// `WorkflowExecutionErrorWhenAlreadyStarted`: a running workflow with the same id is a
    /// conflict instead of being returned as the started run.
    pub error_when_already_started: bool,
    /// `RetryPolicy`.
    pub retry_policy: Option<RetryPolicySpec>,
    /// `CronSchedule`.
    pub cron_schedule: Option<String>,
    /// `Memo`.
    pub memo: BTreeMap<String, Value>,
    /// `SearchAttributes` (strings, integers, floats, booleans or lists of strings).
    pub search_attributes: BTreeMap<String, Value>,
}

/// Temporal's workflow id reuse policy, numbered as in its API (and the seed's Go enum).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum IdReusePolicy {
    /// 0: the server's default (allow duplicate).
    #[default]
    Unspecified,
    /// 1.
    AllowDuplicate,
    /// 2.
    AllowDuplicateFailedOnly,
    /// 3.
    RejectDuplicate,
    /// 4.
    TerminateIfRunning,
}

impl IdReusePolicy {
    /// The policy numbered `n`, if any.
    pub fn from_number(n: i64) -> Option<Self> {
        Some(match n {
            0 => Self::Unspecified,
            1 => Self::AllowDuplicate,
            2 => Self::AllowDuplicateFailedOnly,
            3 => Self::RejectDuplicate,
            4 => Self::TerminateIfRunning,
            _ => return None,
        })
    }
}

/// A retry policy as the seed writes it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RetryPolicySpec {
    /// `InitialInterval`.
    pub initial_interval: Option<Duration>,
    /// `BackoffCoefficient`.
    pub backoff_coefficient: Option<f64>,
    /// `MaximumInterval`.
    pub maximum_interval: Option<Duration>,
    /// `MaximumAttempts` (0 = unlimited).
    pub maximum_attempts: Option<u32>,
    /// `NonRetryableErrorTypes`.
    pub non_retryable_error_types: Vec<String>,
}

impl RetryPolicySpec {
    /// Temporal's retry policy.
    pub fn to_temporal(&self) -> temporalio_common::RetryPolicy {
        // Go's zero values mean "the server's default", as do absent fields.
        temporalio_common::RetryPolicy::builder()
            .initial_interval(self.initial_interval.filter(|d| !d.is_zero()).unwrap_or(Duration::from_secs(1)))
            .backoff_coefficient(self.backoff_coefficient.filter(|c| *c != 0.0).unwrap_or(2.0))
            .maybe_maximum_interval(self.maximum_interval.filter(|d| !d.is_zero()))
            .maximum_attempts(self.maximum_attempts.unwrap_or(0))
            .non_retryable_error_types(self.non_retryable_error_types.clone())
            .build()
    }
}

/// One entry of `workflowParams.activityOptions`: Go's `workflow.ActivityOptions`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivityOptionsSpec {
    /// `TaskQueue`.
    pub task_queue: Option<String>,
    /// `ScheduleToCloseTimeout`.
    pub schedule_to_close_timeout: Option<Duration>,
    /// `ScheduleToStartTimeout`.
    pub schedule_to_start_timeout: Option<Duration>,
    /// `StartToCloseTimeout`.
    pub start_to_close_timeout: Option<Duration>,
    /// `HeartbeatTimeout` (required by the seed's schema).
    pub heartbeat_timeout: Option<Duration>,
    /// `RetryPolicy`, all five fields when present.
    pub retry_policy: Option<RetryPolicySpec>,
}

/// A JSON object read with Go's case-insensitive field matching, tracking the path for errors.
struct Fields<'a> {
    map: &'a Map<String, Value>,
    path: String,
}

impl<'a> Fields<'a> {
    fn new(value: &'a Value, path: &str) -> Result<Self, RequestError> {
        match value {
            Value::Object(map) => Ok(Self { map, path: path.to_owned() }),
            _ => Err(RequestError::new(path, "must be an object")),
        }
    }

    fn field(&self, name: &str) -> String {
        if self.path.is_empty() {
            name.to_owned()
        } else {
            format!("{}.{name}", self.path)
        }
    }

    /// The value of `name`: an exact match first, then a case-insensitive one (Go's rule); a JSON
    /// null counts as absent.
    fn get(&self, name: &str) -> Option<&'a Value> {
        self.map
            .get(name)
            .or_else(|| self.map.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v))
            .filter(|v| !v.is_null())
    }

    fn object(&self, name: &str) -> Result<Option<Fields<'a>>, RequestError> {
        self.get(name).map(|v| Fields::new(v, &self.field(name))).transpose()
    }

    fn string(&self, name: &str) -> Result<Option<String>, RequestError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) if s.len() > MAX_NAME_LEN => {
                Err(RequestError::new(&self.field(name), format!("longer than {MAX_NAME_LEN} characters")))
            }
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(RequestError::new(&self.field(name), "must be a string")),
        }
    }

    fn bool(&self, name: &str) -> Result<Option<bool>, RequestError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(RequestError::new(&self.field(name), "must be true or false")),
        }
    }

    fn int(&self, name: &str, min: i64, max: i64) -> Result<Option<i64>, RequestError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => match v.as_i64() {
                Some(n) if (min..=max).contains(&n) => Ok(Some(n)),
                Some(n) => Err(RequestError::new(&self.field(name), format!("{n} is outside {min}..={max}"))),
                None => Err(RequestError::new(&self.field(name), "must be an integer")),
            },
        }
    }

    fn float(&self, name: &str, min: f64, max: f64) -> Result<Option<f64>, RequestError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => match v.as_f64() {
                Some(x) if x.is_finite() && (min..=max).contains(&x) => Ok(Some(x)),
                Some(x) => Err(RequestError::new(&self.field(name), format!("{x} is outside {min}..={max}"))),
                None => Err(RequestError::new(&self.field(name), "must be a number")),
            },
        }
    }

    fn duration(&self, name: &str) -> Result<Option<Duration>, RequestError> {
        self.get(name)
            .map(|v| parse_duration(v).map_err(|reason| RequestError::new(&self.field(name), reason)))
            .transpose()
    }

    fn strings(&self, name: &str) -> Result<Vec<String>, RequestError> {
        match self.get(name) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) if items.len() > MAX_ENTRIES => {
                Err(RequestError::new(&self.field(name), format!("more than {MAX_ENTRIES} entries")))
            }
            Some(Value::Array(items)) => items
                .iter()
                .map(|i| match i {
                    Value::String(s) if s.len() <= MAX_NAME_LEN => Ok(s.clone()),
                    _ => Err(RequestError::new(&self.field(name), "must be a list of short strings")),
                })
                .collect(),
            Some(_) => Err(RequestError::new(&self.field(name), "must be a list of strings")),
        }
    }

    fn map(&self, name: &str) -> Result<BTreeMap<String, Value>, RequestError> {
        match self.get(name) {
            None => Ok(BTreeMap::new()),
            Some(Value::Object(m)) if m.len() > MAX_ENTRIES => {
                Err(RequestError::new(&self.field(name), format!("more than {MAX_ENTRIES} entries")))
            }
            Some(Value::Object(m)) => {
                if let Some(key) = m.keys().find(|k| k.is_empty() || k.len() > MAX_NAME_LEN) {
                    return Err(RequestError::new(&self.field(name), format!("key {key:?} is empty or too long")));
                }
                Ok(m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            }
            Some(_) => Err(RequestError::new(&self.field(name), "must be an object")),
        }
    }
}

/// The `{client}` of `POST /invoke/{client}`: the seed's route pattern `[a-zA-Z0-9-_]+`, at most
/// 128 characters. The name is informational (the seed's server ignored it too).
pub fn check_client_name(name: &str) -> Result<(), RequestError> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(RequestError::new("client", "must be 1–128 letters, digits, '-' or '_'"))
    }
}

/// A duration as the seed sends it: nanoseconds as an integer, or a Go duration string
/// (`"60s"`, `"1m30s"`, `"250ms"`), non-negative and at most [`MAX_DURATION`].
pub fn parse_duration(value: &Value) -> Result<Duration, String> {
    let duration = match value {
        Value::Number(n) => match n.as_u64() {
            Some(nanos) => Duration::from_nanos(nanos),
            None => return Err(format!("{n} is not a non-negative integer of nanoseconds")),
        },
        Value::String(s) => parse_go_duration(s)?,
        _ => return Err("must be nanoseconds (integer) or a duration string such as \"60s\"".into()),
    };
    if duration > MAX_DURATION {
        return Err(format!("longer than {} s", MAX_DURATION.as_secs()));
    }
    Ok(duration)
}

/// Go's `time.ParseDuration` for non-negative values: decimal numbers with units ns, us, µs, ms,
/// s, m, h (`"0"` alone allowed).
fn parse_go_duration(text: &str) -> Result<Duration, String> {
    let bad = || format!("{text:?} is not a duration such as \"60s\" or \"1m30s\"");
    let s = text.trim();
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    if s.is_empty() || s.len() > 64 {
        return Err(bad());
    }
    let mut rest = s;
    let mut total = 0f64;
    while !rest.is_empty() {
        let number_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).ok_or_else(bad)?;
        if number_len == 0 {
            return Err(bad());
        }
        let number: f64 = rest[..number_len].parse().map_err(|_| bad())?;
        rest = &rest[number_len..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let seconds_per_unit = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(bad()),
        };
        rest = &rest[unit_len..];
        total += number * seconds_per_unit;
    }
    if !total.is_finite() || total > MAX_DURATION.as_secs_f64() {
        return Err(format!("longer than {} s", MAX_DURATION.as_secs()));
    }
    Ok(Duration::from_secs_f64(total))
}

/// A duration as the seed's Go JSON writes it: nanoseconds.
pub fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl WfTemporalSpec {
    /// Parses a spec from its JSON text.
    pub fn from_json(text: &[u8]) -> Result<Self, RequestError> {
        let value: Value =
            serde_json::from_slice(text).map_err(|e| RequestError::new("input", format!("not JSON: {e}")))?;
        Self::parse(&value, "")
    }

    /// Parses a spec from JSON already read; `path` prefixes field names in errors (`spec.temporal`).
    pub fn parse(value: &Value, path: &str) -> Result<Self, RequestError> {
        let top = Fields::new(value, path)?;
        let workflow_client_name = top.string("workflowClientName")?.unwrap_or_default();
        let options = top
            .object("workflowStartOptions")?
            .ok_or_else(|| RequestError::new(&top.field("workflowStartOptions"), "is required"))?;
        let start = parse_start_options(&options)?;
        let workflow_type = match top.string("workflowType")? {
            Some(t) if !t.trim().is_empty() => t,
            _ => start.task_queue.clone(),
        };
        let params = match top.get("workflowParams") {
            None => serde_json::json!({}),
            Some(v) => {
                parse_workflow_params(v, &top.field("workflowParams"))?;
                v.clone()
            }
        };
        Ok(Self { workflow_client_name, workflow_type, start, params })
    }

    /// The per-activity options of `workflowParams.activityOptions`, typed.
    pub fn activity_options(&self) -> BTreeMap<String, ActivityOptionsSpec> {
        parse_workflow_params(&self.params, "workflowParams").map(|(o, _)| o).unwrap_or_default()
    }
}

fn parse_start_options(o: &Fields<'_>) -> Result<StartOptions, RequestError> {
    let task_queue = o.string("TaskQueue")?.filter(|t| !t.trim().is_empty());
    let task_queue = task_queue.ok_or_else(|| RequestError::new(&o.field("TaskQueue"), "is required"))?;
    let id_reuse_policy = match o.int("WorkflowIDReusePolicy", 0, i64::MAX)? {
        None => IdReusePolicy::Unspecified,
        Some(n) => IdReusePolicy::from_number(n).ok_or_else(|| {
            RequestError::new(&o.field("WorkflowIDReusePolicy"), format!("{n} is not a policy (0–4)"))
        })?,
    };
    let search_attributes = o.map("SearchAttributes")?;
    for (key, value) in &search_attributes {
        let ok = match value {
            Value::String(s) => s.len() <= MAX_NAME_LEN,
            Value::Number(_) | Value::Bool(_) => true,
            Value::Array(items) => items.len() <= MAX_ENTRIES && items.iter().all(Value::is_string),
            _ => false,
        };
        if !ok {
            return Err(RequestError::new(
                &format!("{}.{key}", o.field("SearchAttributes")),
                "must be a string, number, boolean or list of strings",
            ));
        }
    }
    Ok(StartOptions {
        id: o.string("ID")?.filter(|id| !id.is_empty()),
        task_queue,
        execution_timeout: o.duration("WorkflowExecutionTimeout")?,
        run_timeout: o.duration("WorkflowRunTimeout")?,
        task_timeout: o.duration("WorkflowTaskTimeout")?,
        id_reuse_policy,
        error_when_already_started: o.bool("WorkflowExecutionErrorWhenAlreadyStarted")?.unwrap_or(false),
        retry_policy: o.object("RetryPolicy")?.map(|r| parse_retry_policy(&r, false)).transpose()?,
        cron_schedule: o.string("CronSchedule")?.filter(|c| !c.trim().is_empty()),
        memo: o.map("Memo")?,
        search_attributes,
    })
}

/// A retry policy; `all_required` is the seed's rule for the per-activity ones.
fn parse_retry_policy(r: &Fields<'_>, all_required: bool) -> Result<RetryPolicySpec, RequestError> {
    if all_required {
        for name in
            ["InitialInterval", "BackoffCoefficient", "MaximumInterval", "MaximumAttempts", "NonRetryableErrorTypes"]
        {
            if r.get(name).is_none() {
                return Err(RequestError::new(&r.field(name), "is required in an activity retry policy"));
            }
        }
    }
    let policy = RetryPolicySpec {
        initial_interval: r.duration("InitialInterval")?,
        backoff_coefficient: r.float("BackoffCoefficient", 0.0, MAX_BACKOFF_COEFFICIENT)?,
        maximum_interval: r.duration("MaximumInterval")?,
        maximum_attempts: r.int("MaximumAttempts", 0, MAX_ATTEMPTS)?.map(|n| u32::try_from(n).unwrap_or(u32::MAX)),
        non_retryable_error_types: r.strings("NonRetryableErrorTypes")?,
    };
    if let Some(c) = policy.backoff_coefficient {
        if c != 0.0 && c < 1.0 {
            return Err(RequestError::new(&r.field("BackoffCoefficient"), "must be 0 (default) or at least 1"));
        }
    }
    if let (Some(initial), Some(max)) = (policy.initial_interval, policy.maximum_interval) {
        if !max.is_zero() && max < initial {
            return Err(RequestError::new(&r.field("MaximumInterval"), "is shorter than InitialInterval"));
        }
    }
    Ok(policy)
}

type ActivityParams = BTreeMap<String, BTreeMap<String, String>>;

/// `workflowParams`: `activityOptions` (the seed's rules: `HeartbeatTimeout` plus one of
/// `StartToCloseTimeout` / `ScheduleToCloseTimeout`, a complete retry policy) and
/// `activityParams` (a map of maps of strings).
fn parse_workflow_params(
    value: &Value,
    path: &str,
) -> Result<(BTreeMap<String, ActivityOptionsSpec>, ActivityParams), RequestError> {
    let params = Fields::new(value, path)?;
    Ok((parse_activity_options(&params)?, parse_activity_params(&params)?))
}

fn parse_activity_options(params: &Fields<'_>) -> Result<BTreeMap<String, ActivityOptionsSpec>, RequestError> {
    let mut options = BTreeMap::new();
    for (name, entry) in params.map("activityOptions")? {
        let o = Fields::new(&entry, &format!("{}.{name}", params.field("activityOptions")))?;
        let spec = ActivityOptionsSpec {
            task_queue: o.string("TaskQueue")?,
            schedule_to_close_timeout: o.duration("ScheduleToCloseTimeout")?,
            schedule_to_start_timeout: o.duration("ScheduleToStartTimeout")?,
            start_to_close_timeout: o.duration("StartToCloseTimeout")?,
            heartbeat_timeout: o.duration("HeartbeatTimeout")?,
            retry_policy: o.object("RetryPolicy")?.map(|r| parse_retry_policy(&r, true)).transpose()?,
        };
        if spec.heartbeat_timeout.is_none() {
            return Err(RequestError::new(&o.field("HeartbeatTimeout"), "is required"));
        }
        let positive = |d: Option<Duration>| d.is_some_and(|d| !d.is_zero());
        if !positive(spec.start_to_close_timeout) && !positive(spec.schedule_to_close_timeout) {
            return Err(RequestError::new(
                &o.field("StartToCloseTimeout"),
                "StartToCloseTimeout or ScheduleToCloseTimeout is required",
            ));
        }
        options.insert(name, spec);
    }
    Ok(options)
}

fn parse_activity_params(params: &Fields<'_>) -> Result<ActivityParams, RequestError> {
    let mut activity_params = BTreeMap::new();
    for (name, entry) in params.map("activityParams")? {
        let field = format!("{}.{name}", params.field("activityParams"));
        let Value::Object(map) = &entry else {
            return Err(RequestError::new(&field, "must be an object of strings"));
        };
        if map.len() > MAX_ENTRIES {
            return Err(RequestError::new(&field, format!("more than {MAX_ENTRIES} entries")));
        }
        let mut strings = BTreeMap::new();
        for (k, v) in map {
            match v {
                Value::String(s) => {
                    strings.insert(k.clone(), s.clone());
                }
                _ => return Err(RequestError::new(&format!("{field}.{k}"), "must be a string")),
            }
        }
        activity_params.insert(name, strings);
    }
    Ok(activity_params)
}

/// The `activityParams` of `params` (empty when absent or malformed).
pub fn activity_params(params: &Value) -> ActivityParams {
    Fields::new(params, "workflowParams").and_then(|f| parse_activity_params(&f)).unwrap_or_default()
}

/// `params` with `activityParams.<name>` set to `values` (the seed's `emco` injection), keeping
/// every other key as sent.
pub fn with_activity_params(params: &Value, name: &str, values: &BTreeMap<String, String>) -> Value {
    let mut params = match params {
        Value::Object(m) => m.clone(),
        _ => Map::new(),
    };
    // The seed's key is `activityParams`; reuse whatever casing the caller sent.
    let key =
        params.keys().find(|k| k.eq_ignore_ascii_case("activityParams")).cloned().unwrap_or("activityParams".into());
    let entry = params.entry(key).or_insert_with(|| Value::Object(Map::new()));
    if !entry.is_object() {
        *entry = Value::Object(Map::new());
    }
    if let Value::Object(m) = entry {
        m.insert(name.to_owned(), serde_json::to_value(values).unwrap_or_default());
    }
    Value::Object(params)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(v: Value) -> Result<WfTemporalSpec, RequestError> {
        WfTemporalSpec::parse(&v, "")
    }

    /// The README's lowercase body parses, keys matched case-insensitively, durations in ns.
    #[test]
    fn readme_lowercase_keys_parse_case_insensitively() {
        let spec = parse(json!({
            "workflowClientName": "ABCD",
            "workflowStartOptions": {
                "id": "ABCDEFGHIJK", "taskqueue": "Q", "workflowexecutiontimeout": 327,
                "workflowruntimeout": 983, "workflowtasktimeout": 213, "workflowidreusepolicy": 3,
                "workflowexecutionerrorwhenalreadystarted": true,
                "retrypolicy": {"initialinterval": 679, "backoffcoefficient": 358.25, "maximuminterval": 658_000,
                                "maximumattempts": 127, "nonretryableerrortypes": []}
            },
            "workflowParams": {"activityOptions": {}, "activityParams": {}}
        }))
        .unwrap();
        assert_eq!(spec.workflow_type, "Q");
        assert_eq!(spec.start.id.as_deref(), Some("ABCDEFGHIJK"));
        assert_eq!(spec.start.execution_timeout, Some(Duration::from_nanos(327)));
        assert_eq!(spec.start.id_reuse_policy, IdReusePolicy::RejectDuplicate);
        assert!(spec.start.error_when_already_started);
        let retry = spec.start.retry_policy.unwrap();
        assert_eq!(retry.maximum_attempts, Some(127));
        assert_eq!(retry.backoff_coefficient, Some(358.25));
    }

    /// Go's field names (`TaskQueue`, `CronSchedule`) and duration strings are read too, and an
    /// explicit workflow type wins over the task queue.
    #[test]
    fn go_names_duration_strings_and_explicit_type() {
        let spec = parse(json!({
            "workflowType": "MigrateApp",
            "workflowStartOptions": {"TaskQueue": "q", "WorkflowRunTimeout": "1m30s", "CronSchedule": "@every 1h",
                                     "Memo": {"k": 1}, "SearchAttributes": {"CustomKeywordField": "x"}}
        }))
        .unwrap();
        assert_eq!(spec.workflow_type, "MigrateApp");
        assert_eq!(spec.start.run_timeout, Some(Duration::from_secs(90)));
        assert_eq!(spec.start.cron_schedule.as_deref(), Some("@every 1h"));
        assert_eq!(spec.start.memo["k"], json!(1));
        assert_eq!(spec.params, json!({}));
    }

    /// Every rejection names its field.
    #[test]
    fn bad_specs_name_the_field() {
        let cases = [
            (json!({}), "workflowStartOptions"),
            (json!({"workflowStartOptions": {}}), "workflowStartOptions.TaskQueue"),
            (
                json!({"workflowStartOptions": {"taskqueue": "q", "workflowidreusepolicy": 916}}),
                "workflowStartOptions.WorkflowIDReusePolicy",
            ),
            (
                json!({"workflowStartOptions": {"taskqueue": "q", "workflowruntimeout": -1}}),
                "workflowStartOptions.WorkflowRunTimeout",
            ),
            (
                json!({"workflowStartOptions": {"taskqueue": "q", "workflowruntimeout": "soon"}}),
                "workflowStartOptions.WorkflowRunTimeout",
            ),
            (
                json!({"workflowStartOptions": {"taskqueue": "q", "workflowruntimeout": "100000h"}}),
                "workflowStartOptions.WorkflowRunTimeout",
            ),
            (
                json!({"workflowStartOptions": {"taskqueue": "q", "retrypolicy": {"maximumattempts": 2_000_000}}}),
                "workflowStartOptions.RetryPolicy.MaximumAttempts",
            ),
            (
                json!({"workflowStartOptions": {"taskqueue": "q", "retrypolicy": {"backoffcoefficient": 0.5}}}),
                "workflowStartOptions.RetryPolicy.BackoffCoefficient",
            ),
            (
                json!({"workflowStartOptions": {"taskqueue": "q", "SearchAttributes": {"a": {"b": 1}}}}),
                "workflowStartOptions.SearchAttributes.a",
            ),
            (
                json!({"workflowStartOptions": {"taskqueue": "q"}, "workflowParams": {"activityOptions": {"a": {"StartToCloseTimeout": 1}}}}),
                "workflowParams.activityOptions.a.HeartbeatTimeout",
            ),
            (
                json!({"workflowStartOptions": {"taskqueue": "q"}, "workflowParams": {"activityOptions": {"a": {"HeartbeatTimeout": 1}}}}),
                "workflowParams.activityOptions.a.StartToCloseTimeout",
            ),
            (
                json!({"workflowStartOptions": {"taskqueue": "q"}, "workflowParams": {"activityOptions": {"a": {"HeartbeatTimeout": 1, "StartToCloseTimeout": 1, "RetryPolicy": {"MaximumAttempts": 1}}}}}),
                "workflowParams.activityOptions.a.RetryPolicy.InitialInterval",
            ),
            (
                json!({"workflowStartOptions": {"taskqueue": "q"}, "workflowParams": {"activityParams": {"a": {"k": 1}}}}),
                "workflowParams.activityParams.a.k",
            ),
        ];
        for (body, field) in cases {
            let err = parse(body.clone()).unwrap_err();
            assert_eq!(err.field, field, "{body} → {err}");
        }
    }

    /// The invoke route's client names.
    #[test]
    fn client_names() {
        check_client_name("migrate_workflowclient").unwrap();
        check_client_name("demo-1").unwrap();
        for bad in ["", "a b", "a/b", &"x".repeat(129)] {
            assert_eq!(check_client_name(bad).unwrap_err().field, "client");
        }
    }

    /// Go duration strings, including fractions and compound units.
    #[test]
    fn go_duration_strings() {
        assert_eq!(parse_duration(&json!("250ms")).unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration(&json!("1.5h")).unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration(&json!("0")).unwrap(), Duration::ZERO);
        assert_eq!(parse_duration(&json!(60_000_000_000u64)).unwrap(), Duration::from_secs(60));
        assert!(parse_duration(&json!("5 s")).is_err());
        assert!(parse_duration(&json!(1.5)).is_err());
    }

    /// The emco injection keeps the caller's other params and activity options.
    #[test]
    fn emco_injection_keeps_other_params() {
        let params = json!({"activityOptions": {"x": {}}, "activityparams": {"a": {"k": "v"}}});
        let emco = BTreeMap::from([("project".to_owned(), "p".to_owned())]);
        let out = with_activity_params(&params, "emco", &emco);
        assert_eq!(out["activityparams"]["a"]["k"], "v");
        assert_eq!(out["activityparams"]["emco"]["project"], "p");
        assert_eq!(activity_params(&out)["emco"]["project"], "p");
    }
}
