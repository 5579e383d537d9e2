//! TAC's intent model (`WorkflowHookIntent`) and the seed's schema rules, as pure functions: the
//! name pattern and length, the six hook types, the required sections and, through
//! [`crate::spec`], the start- and activity-option rules. Plus the deployment intent group (DIG)
//! an intent belongs to.

use std::time::Duration;

use ordo_core::RequestError;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::spec::{parse_duration, WfTemporalSpec};

/// The longest intent (or project, app, version, DIG) name: the seed's schema.
pub const MAX_NAME: usize = 128;
/// The longest description or user-data field.
pub const MAX_TEXT: usize = 1024;
/// The longest `hookBlockingTimeout` (one day).
pub const MAX_BLOCKING_TIMEOUT: Duration = Duration::from_secs(24 * 3600);
/// `hookBlockingTimeout` when a blocking hook gives none.
pub const DEFAULT_BLOCKING_TIMEOUT: Duration = Duration::from_secs(60);

/// A lifecycle hook (the seed's `spec.hookType` enum; the README's "pre-terminate" is a typo).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum HookType {
    /// Before a DIG is instantiated.
    #[serde(rename = "pre-install")]
    PreInstall,
    /// After it is instantiated.
    #[serde(rename = "post-install")]
    PostInstall,
    /// Before it is updated.
    #[serde(rename = "pre-update")]
    PreUpdate,
    /// After it is updated.
    #[serde(rename = "post-update")]
    PostUpdate,
    /// Before it is terminated.
    #[serde(rename = "pre-termination")]
    PreTermination,
    /// After it is terminated.
    #[serde(rename = "post-termination")]
    PostTermination,
}

impl HookType {
    /// All six, in lifecycle order.
    pub const ALL: [HookType; 6] = [
        HookType::PreInstall,
        HookType::PostInstall,
        HookType::PreUpdate,
        HookType::PostUpdate,
        HookType::PreTermination,
        HookType::PostTermination,
    ];

    /// The wire name (`pre-install`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            HookType::PreInstall => "pre-install",
            HookType::PostInstall => "post-install",
            HookType::PreUpdate => "pre-update",
            HookType::PostUpdate => "post-update",
            HookType::PreTermination => "pre-termination",
            HookType::PostTermination => "post-termination",
        }
    }

    /// The hook type named `s`.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|h| h.as_str() == s)
    }
}

impl std::fmt::Display for HookType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A deployment intent group: where intents live and what a lifecycle action acts on.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DigRef {
    /// `{project}`.
    pub project: String,
    /// `{compositeApp}`.
    pub composite_app: String,
    /// `{compositeAppVersion}`.
    pub composite_app_version: String,
    /// `{deploymentIntentGroup}`.
    pub deployment_intent_group: String,
}

impl DigRef {
    /// A DIG from its four path segments, each checked against the name rule.
    pub fn parse(project: &str, composite_app: &str, version: &str, dig: &str) -> Result<Self, RequestError> {
        for (field, value) in [
            ("project", project),
            ("compositeApp", composite_app),
            ("compositeAppVersion", version),
            ("deploymentIntentGroup", dig),
        ] {
            check_name(field, value)?;
        }
        Ok(Self {
            project: project.into(),
            composite_app: composite_app.into(),
            composite_app_version: version.into(),
            deployment_intent_group: dig.into(),
        })
    }

    /// `project/compositeApp/version/dig`: the key workflow ids and search attributes use.
    pub fn key(&self) -> String {
        format!(
            "{}/{}/{}/{}",
            self.project, self.composite_app, self.composite_app_version, self.deployment_intent_group
        )
    }
}

impl std::fmt::Display for DigRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.key())
    }
}

/// A TAC intent: run `temporal` at `hookType` of a DIG's lifecycle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HookIntent {
    /// `metadata`.
    pub metadata: Metadata,
    /// `spec`.
    pub spec: HookSpec,
}

/// An intent's `metadata`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    /// The intent's name (pattern `^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`, ≤ 128).
    pub name: String,
    /// Free text.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Free text.
    #[serde(default, rename = "userData1", skip_serializing_if = "String::is_empty")]
    pub user_data1: String,
    /// Free text.
    #[serde(default, rename = "userData2", skip_serializing_if = "String::is_empty")]
    pub user_data2: String,
}

/// An intent's `spec`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HookSpec {
    /// When it runs.
    pub hook_type: HookType,
    /// Whether the lifecycle action waits for the hook's workflow (the README's feature the seed
    /// never implemented).
    #[serde(default)]
    pub hook_blocking: bool,
    /// How long a blocking hook may take, in nanoseconds as the seed writes durations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hook_blocking_timeout: Option<u64>,
    /// Where the seed's TAC posted the spec (kept for compatibility; Ordo starts in-process).
    pub workflow_client: WorkflowClient,
    /// The `WfTemporalSpec`, as sent (validated).
    pub temporal: Value,
}

/// `spec.workflowClient`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkflowClient {
    /// Host of the seed's workflow-client HTTP server.
    #[serde(default)]
    pub client_endpoint_name: String,
    /// Its port.
    #[serde(default)]
    pub client_endpoint_port: u16,
}

impl HookIntent {
    /// Parses and validates an intent body (the seed's schema); errors name the field.
    pub fn parse(body: &Value) -> Result<Self, RequestError> {
        let Value::Object(top) = body else {
            return Err(RequestError::new("input", "must be a JSON object"));
        };
        let metadata = top.get("metadata").ok_or_else(|| RequestError::new("metadata", "is required"))?;
        let metadata: Metadata =
            serde_json::from_value(metadata.clone()).map_err(|e| RequestError::new("metadata", e.to_string()))?;
        check_name("metadata.name", &metadata.name)?;
        for (field, text) in [
            ("metadata.description", &metadata.description),
            ("metadata.userData1", &metadata.user_data1),
            ("metadata.userData2", &metadata.user_data2),
        ] {
            if text.len() > MAX_TEXT {
                return Err(RequestError::new(field, format!("longer than {MAX_TEXT} characters")));
            }
        }
        let spec =
            top.get("spec").and_then(Value::as_object).ok_or_else(|| RequestError::new("spec", "is required"))?;
        let hook_type = match spec.get("hookType") {
            Some(Value::String(s)) => HookType::parse(s).ok_or_else(|| {
                let all: Vec<_> = HookType::ALL.iter().map(|h| h.as_str()).collect();
                RequestError::new("spec.hookType", format!("{s:?} is not one of {}", all.join(", ")))
            })?,
            _ => return Err(RequestError::new("spec.hookType", "is required")),
        };
        let hook_blocking = match spec.get("hookBlocking") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err(RequestError::new("spec.hookBlocking", "must be true or false")),
        };
        let hook_blocking_timeout = match spec.get("hookBlockingTimeout") {
            None | Some(Value::Null) => None,
            Some(v) => {
                let d = parse_duration(v).map_err(|r| RequestError::new("spec.hookBlockingTimeout", r))?;
                if d.is_zero() || d > MAX_BLOCKING_TIMEOUT {
                    return Err(RequestError::new(
                        "spec.hookBlockingTimeout",
                        format!("must be more than 0 and at most {} s", MAX_BLOCKING_TIMEOUT.as_secs()),
                    ));
                }
                Some(crate::spec::nanos(d))
            }
        };
        let client =
            spec.get("workflowClient").ok_or_else(|| RequestError::new("spec.workflowClient", "is required"))?;
        let workflow_client = parse_workflow_client(client)?;
        let temporal = spec.get("temporal").ok_or_else(|| RequestError::new("spec.temporal", "is required"))?;
        WfTemporalSpec::parse(temporal, "spec.temporal")?;
        Ok(Self {
            metadata,
            spec: HookSpec {
                hook_type,
                hook_blocking,
                hook_blocking_timeout,
                workflow_client,
                temporal: temporal.clone(),
            },
        })
    }

    /// The intent's name.
    pub fn name(&self) -> &str {
        &self.metadata.name
    }

    /// Its parsed `temporal` spec (validated when the intent was parsed).
    pub fn temporal(&self) -> Result<WfTemporalSpec, RequestError> {
        WfTemporalSpec::parse(&self.spec.temporal, "spec.temporal")
    }

    /// How long the lifecycle waits for this hook when it blocks.
    pub fn blocking_timeout(&self) -> Duration {
        self.spec.hook_blocking_timeout.map(Duration::from_nanos).unwrap_or(DEFAULT_BLOCKING_TIMEOUT)
    }
}

pub(crate) fn parse_workflow_client(value: &Value) -> Result<WorkflowClient, RequestError> {
    let Value::Object(map) = value else {
        return Err(RequestError::new("spec.workflowClient", "must be an object"));
    };
    let name = match map.get("clientEndpointName") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) if s.len() <= 253 => s.clone(),
        Some(_) => return Err(RequestError::new("spec.workflowClient.clientEndpointName", "must be a host name")),
    };
    let port = match map.get("clientEndpointPort") {
        None | Some(Value::Null) => 0,
        Some(v) => v
            .as_u64()
            .and_then(|p| u16::try_from(p).ok())
            .ok_or_else(|| RequestError::new("spec.workflowClient.clientEndpointPort", "must be a port (0–65535)"))?,
    };
    Ok(WorkflowClient { client_endpoint_name: name, client_endpoint_port: port })
}

/// A workflow intent (the seed's workflowmgr `temporal-workflow-intents`): a TAC intent without
/// a hook type, started on request (`{name}/start`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkflowIntent {
    /// `metadata`.
    pub metadata: Metadata,
    /// `spec`.
    pub spec: WorkflowIntentSpec,
}

/// A workflow intent's `spec`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkflowIntentSpec {
    /// Where the seed posted the spec (kept for compatibility).
    pub workflow_client: WorkflowClient,
    /// The `WfTemporalSpec`, as sent (validated).
    pub temporal: Value,
}

impl WorkflowIntent {
    /// Parses and validates a workflow intent; errors name the field.
    pub fn parse(body: &Value) -> Result<Self, RequestError> {
        let Value::Object(top) = body else {
            return Err(RequestError::new("input", "must be a JSON object"));
        };
        let metadata = top.get("metadata").ok_or_else(|| RequestError::new("metadata", "is required"))?;
        let metadata: Metadata =
            serde_json::from_value(metadata.clone()).map_err(|e| RequestError::new("metadata", e.to_string()))?;
        check_name("metadata.name", &metadata.name)?;
        if metadata.description.len() > MAX_TEXT {
            return Err(RequestError::new("metadata.description", format!("longer than {MAX_TEXT} characters")));
        }
        let spec =
            top.get("spec").and_then(Value::as_object).ok_or_else(|| RequestError::new("spec", "is required"))?;
        let client =
            spec.get("workflowClient").ok_or_else(|| RequestError::new("spec.workflowClient", "is required"))?;
        let workflow_client = parse_workflow_client(client)?;
        let temporal = spec.get("temporal").ok_or_else(|| RequestError::new("spec.temporal", "is required"))?;
        WfTemporalSpec::parse(temporal, "spec.temporal")?;
        Ok(Self { metadata, spec: WorkflowIntentSpec { workflow_client, temporal: temporal.clone() } })
    }

    /// The intent's name.
    pub fn name(&self) -> &str {
        &self.metadata.name
    }

    /// Its parsed `temporal` spec.
    pub fn temporal(&self) -> Result<WfTemporalSpec, RequestError> {
        WfTemporalSpec::parse(&self.spec.temporal, "spec.temporal")
    }
}

/// The seed's name rule: 1–128 characters, `^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`.
pub fn check_name(field: &str, name: &str) -> Result<(), RequestError> {
    if name.is_empty() {
        return Err(RequestError::new(field, "is required"));
    }
    if name.len() > MAX_NAME {
        return Err(RequestError::new(field, format!("longer than {MAX_NAME} characters")));
    }
    let bytes = name.as_bytes();
    let ok_inner = bytes.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    let ok_ends = bytes[0].is_ascii_alphanumeric() && bytes[bytes.len() - 1].is_ascii_alphanumeric();
    if !(ok_inner && ok_ends) {
        return Err(RequestError::new(
            field,
            "must be letters, digits, '-', '_' or '.', starting and ending with a letter or digit",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    pub(crate) fn body() -> Value {
        json!({
            "metadata": {"name": "pre-install-workflow-hook", "description": "d"},
            "spec": {
                "hookType": "pre-install",
                "hookBlocking": true,
                "hookBlockingTimeout": "30s",
                "workflowClient": {"clientEndpointName": "demo-workflowclient", "clientEndpointPort": 9090},
                "temporal": {"workflowClientName": "migrate_workflowclient",
                             "workflowStartOptions": {"id": "pre-install-1", "taskqueue": "GREETING_TASK_QUEUE",
                                                      "retryPolicy": {"maximumAttempts": 2}}}
            }
        })
    }

    /// A seed-shaped intent parses, keeps its blocking settings and round-trips through JSON.
    #[test]
    fn a_seed_intent_parses_and_round_trips() {
        let intent = HookIntent::parse(&body()).unwrap();
        assert_eq!(intent.spec.hook_type, HookType::PreInstall);
        assert!(intent.spec.hook_blocking);
        assert_eq!(intent.blocking_timeout(), Duration::from_secs(30));
        assert_eq!(intent.temporal().unwrap().workflow_type, "GREETING_TASK_QUEUE");
        let again = HookIntent::parse(&serde_json::to_value(&intent).unwrap()).unwrap();
        assert_eq!(again, intent);
    }

    /// The schema's rejections, each naming its field.
    #[test]
    fn invalid_intents_name_the_field() {
        let mut cases: Vec<(Value, &str)> = Vec::new();
        let with = |pointer: &str, value: Value| {
            let mut b = body();
            *b.pointer_mut(pointer).unwrap() = value;
            b
        };
        cases.push((with("/metadata/name", json!("")), "metadata.name"));
        cases.push((with("/metadata/name", json!("-bad")), "metadata.name"));
        cases.push((with("/metadata/name", json!("a".repeat(129))), "metadata.name"));
        cases.push((with("/spec/hookType", json!("pre-terminate")), "spec.hookType"));
        cases.push((with("/spec/hookBlocking", json!("yes")), "spec.hookBlocking"));
        cases.push((with("/spec/hookBlockingTimeout", json!("48h")), "spec.hookBlockingTimeout"));
        cases.push((with("/spec/hookBlockingTimeout", json!(0)), "spec.hookBlockingTimeout"));
        cases.push((
            with("/spec/workflowClient/clientEndpointPort", json!(70000)),
            "spec.workflowClient.clientEndpointPort",
        ));
        cases.push((
            with("/spec/temporal/workflowStartOptions", json!({})),
            "spec.temporal.workflowStartOptions.TaskQueue",
        ));
        let mut no_client = body();
        no_client["spec"].as_object_mut().unwrap().remove("workflowClient");
        cases.push((no_client, "spec.workflowClient"));
        let mut no_temporal = body();
        no_temporal["spec"].as_object_mut().unwrap().remove("temporal");
        cases.push((no_temporal, "spec.temporal"));
        cases.push((json!({"spec": {}}), "metadata"));
        cases.push((json!([]), "input"));
        for (b, field) in cases {
            let err = HookIntent::parse(&b).unwrap_err();
            assert_eq!(err.field, field, "{err}");
        }
    }

    /// A workflow intent is a hook intent without a hook type; the same sections are required.
    #[test]
    fn workflow_intents() {
        let mut b = body();
        b["spec"].as_object_mut().unwrap().remove("hookType");
        let w = WorkflowIntent::parse(&b).unwrap();
        assert_eq!(w.temporal().unwrap().start.id.as_deref(), Some("pre-install-1"));
        b["spec"].as_object_mut().unwrap().remove("temporal");
        assert_eq!(WorkflowIntent::parse(&b).unwrap_err().field, "spec.temporal");
    }

    /// The seed's name pattern, accepting single characters and inner punctuation.
    #[test]
    fn name_rule() {
        for ok in ["a", "A1", "a-b_c.d", "pre-install-workflow-hook-2"] {
            check_name("n", ok).unwrap();
        }
        for bad in ["", "a-", ".a", "a b", "a/b", "é"] {
            assert!(check_name("n", bad).is_err(), "{bad}");
        }
    }
}
