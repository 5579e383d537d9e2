//! The seed's `emco_tac_intent` gauge, refreshed from the store by each worker hosting the domain:
//! 1 for every stored intent, 0 once it is deleted. Labels as the seed's, with `hook_type` spelled
//! correctly (the seed wrote `hoot_type`): `name`, `project`, `composite_app`,
//! `composite_app_version`, `deployment_intent_group`, `hook_type`, `client_endpoint_name`,
//! `client_endpoint_port`, `workflow_client_name`.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use temporalio_common::telemetry::metrics::{CoreMeter, MetricKeyValue, MetricParameters, NewAttributes};

use crate::activities::StoreSource;
use crate::intent::{DigRef, HookIntent};

/// The gauge's name.
pub const TAC_INTENT: &str = "emco_tac_intent";

/// The gauge's labels for one intent, in the seed's order.
pub fn labels(dig: &DigRef, intent: &HookIntent) -> Vec<(&'static str, String)> {
    let client_name = intent
        .spec
        .temporal
        .as_object()
        .and_then(|t| t.iter().find(|(k, _)| k.eq_ignore_ascii_case("workflowClientName")))
        .and_then(|(_, v)| v.as_str())
        .unwrap_or_default()
        .to_owned();
    vec![
        ("name", intent.name().to_owned()),
        ("project", dig.project.clone()),
        ("composite_app", dig.composite_app.clone()),
        ("composite_app_version", dig.composite_app_version.clone()),
        ("deployment_intent_group", dig.deployment_intent_group.clone()),
        ("hook_type", intent.spec.hook_type.as_str().to_owned()),
        ("client_endpoint_name", intent.spec.workflow_client.client_endpoint_name.clone()),
        ("client_endpoint_port", intent.spec.workflow_client.client_endpoint_port.to_string()),
        ("workflow_client_name", client_name),
    ]
}

/// Refreshes the gauge every `every`, forever.
pub(crate) async fn refresh_forever(store: Arc<StoreSource>, meter: Arc<dyn CoreMeter>, every: Duration) {
    let gauge = meter.gauge(
        MetricParameters::builder().name(TAC_INTENT).description("TAC intents stored (1), or deleted (0)").build(),
    );
    let mut seen: BTreeSet<Vec<(&'static str, String)>> = BTreeSet::new();
    loop {
        match async { store.get().await?.all_intents().await.map_err(anyhow::Error::from) }.await {
            Ok(intents) => {
                let now: BTreeSet<_> = intents.iter().map(|(dig, intent)| labels(dig, intent)).collect();
                for set in seen.union(&now) {
                    let attributes = meter.new_attributes(NewAttributes::from(
                        set.iter().map(|(k, v)| MetricKeyValue::new(*k, v.clone())).collect::<Vec<_>>(),
                    ));
                    gauge.record(u64::from(now.contains(set)), &attributes);
                }
                seen.extend(now);
            }
            Err(error) => tracing::warn!(error = format!("{error:#}"), "refreshing emco_tac_intent"),
        }
        tokio::time::sleep(every).await;
    }
}
