//! Counting a workflow's commands from its recorded history, so the skeleton reference has exactly
//! the shape of a real Ordo run rather than a shape written down by hand.

use serde::{Deserialize, Serialize};
use temporalio_common::protos::temporal::api::history::v1::history_event::Attributes;
use temporalio_common::protos::temporal::api::history::v1::HistoryEvent;

use crate::reference::Shape;

/// What one workflow execution's history holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryCounts {
    /// Every event.
    pub events: usize,
    /// Workflow tasks completed.
    pub workflow_tasks: usize,
    /// Activities scheduled.
    pub activities: usize,
    /// Timers started.
    pub timers: usize,
    /// Search-attribute upserts.
    pub upserts: usize,
    /// Signals received.
    pub signals_received: usize,
    /// Signals sent to other workflows.
    pub signals_sent: usize,
    /// Markers recorded (local activities and patches).
    #[serde(default)]
    pub markers: usize,
    /// Updates completed.
    #[serde(default)]
    pub updates: usize,
    /// Encoded size of the history (protobuf), in bytes: what the server stores and ships.
    #[serde(default)]
    pub bytes: usize,
}

impl std::ops::Add for HistoryCounts {
    type Output = Self;
    fn add(self, o: Self) -> Self {
        Self {
            events: self.events + o.events,
            workflow_tasks: self.workflow_tasks + o.workflow_tasks,
            activities: self.activities + o.activities,
            timers: self.timers + o.timers,
            upserts: self.upserts + o.upserts,
            signals_received: self.signals_received + o.signals_received,
            signals_sent: self.signals_sent + o.signals_sent,
            markers: self.markers + o.markers,
            updates: self.updates + o.updates,
            bytes: self.bytes + o.bytes,
        }
    }
}

/// Counts `events`.
pub fn count(events: &[HistoryEvent]) -> HistoryCounts {
    let mut c = HistoryCounts {
        events: events.len(),
        bytes: events.iter().map(prost::Message::encoded_len).sum(),
        ..HistoryCounts::default()
    };
    for event in events {
        match &event.attributes {
            Some(Attributes::WorkflowTaskCompletedEventAttributes(_)) => c.workflow_tasks += 1,
            Some(Attributes::ActivityTaskScheduledEventAttributes(_)) => c.activities += 1,
            Some(Attributes::TimerStartedEventAttributes(_)) => c.timers += 1,
            Some(Attributes::UpsertWorkflowSearchAttributesEventAttributes(_)) => c.upserts += 1,
            Some(Attributes::WorkflowExecutionSignaledEventAttributes(_)) => c.signals_received += 1,
            Some(Attributes::SignalExternalWorkflowExecutionInitiatedEventAttributes(_)) => c.signals_sent += 1,
            Some(Attributes::MarkerRecordedEventAttributes(_)) => c.markers += 1,
            Some(Attributes::WorkflowExecutionUpdateCompletedEventAttributes(_)) => c.updates += 1,
            _ => {}
        }
    }
    c
}

/// Marker name of a local activity's result (Temporal core's).
const LOCAL_ACTIVITY_MARKER: &str = "core_local_activity";
/// Marker name of a patch (Temporal core's).
const PATCH_MARKER: &str = "core_patch";
/// The search attribute a patch upserts along with its marker.
const PATCH_SEARCH_ATTRIBUTE: &str = "TemporalChangeVersion";

/// The skeleton shape of a run's history: the upserts before each activity, the upserts after the
/// last one, the run's own timers, and whether it took a lock (a signal arrived and one was sent).
pub fn shape_of(run: &[HistoryEvent]) -> Shape {
    let mut shape = Shape::default();
    let mut pending = 0;
    let (mut received, mut sent) = (false, false);
    let mut local_activities = 0;
    for event in run {
        match &event.attributes {
            Some(Attributes::UpsertWorkflowSearchAttributesEventAttributes(upsert)) => {
                // A patch's own upsert comes with its marker; the skeleton's patch makes it too.
                let of_patch = upsert
                    .search_attributes
                    .as_ref()
                    .is_some_and(|sa| sa.indexed_fields.contains_key(PATCH_SEARCH_ATTRIBUTE));
                if !of_patch {
                    pending += 1;
                }
            }
            Some(Attributes::MarkerRecordedEventAttributes(marker)) => match marker.marker_name.as_str() {
                PATCH_MARKER => shape.patches += 1,
                LOCAL_ACTIVITY_MARKER => local_activities += 1,
                _ => {}
            },
            Some(Attributes::ActivityTaskScheduledEventAttributes(_)) => {
                shape.upserts_before.push(pending);
                pending = 0;
            }
            Some(Attributes::TimerStartedEventAttributes(_)) => shape.timers += 1,
            Some(Attributes::WorkflowExecutionSignaledEventAttributes(_)) => received = true,
            Some(Attributes::SignalExternalWorkflowExecutionInitiatedEventAttributes(_)) => sent = true,
            _ => {}
        }
    }
    shape.final_upserts = pending;
    shape.lock = received && sent && !shape.upserts_before.is_empty();
    // `light-run`: the lock taken and given back by two local activities.
    shape.local_lock = local_activities >= 2;
    // Such a lock is started dormant since Ordo's locks are (the run's history does not show it:
    // the markers are the same).
    shape.dormant_lock = shape.local_lock;
    // Any other local activity is a step of the run's own (`local-init`).
    shape.local_steps = if shape.local_lock { local_activities - 2 } else { 0 };
    shape
}

#[cfg(test)]
mod tests {
    use super::*;
    use temporalio_common::protos::temporal::api::history::v1::{
        ActivityTaskScheduledEventAttributes, SignalExternalWorkflowExecutionInitiatedEventAttributes,
        UpsertWorkflowSearchAttributesEventAttributes, WorkflowExecutionSignaledEventAttributes,
        WorkflowTaskCompletedEventAttributes,
    };

    fn ev(attributes: Attributes) -> HistoryEvent {
        HistoryEvent { attributes: Some(attributes), ..HistoryEvent::default() }
    }

    fn upsert() -> HistoryEvent {
        ev(Attributes::UpsertWorkflowSearchAttributesEventAttributes(
            UpsertWorkflowSearchAttributesEventAttributes::default(),
        ))
    }

    fn activity() -> HistoryEvent {
        ev(Attributes::ActivityTaskScheduledEventAttributes(ActivityTaskScheduledEventAttributes::default()))
    }

    /// Ordo's lock round trip and its upsert pattern come out as the skeleton's shape.
    #[test]
    fn shape_follows_upserts_activities_and_the_lock() {
        let wft =
            || ev(Attributes::WorkflowTaskCompletedEventAttributes(WorkflowTaskCompletedEventAttributes::default()));
        let history = vec![
            wft(),
            upsert(),
            upsert(),
            activity(),
            ev(Attributes::WorkflowExecutionSignaledEventAttributes(
                WorkflowExecutionSignaledEventAttributes::default(),
            )),
            wft(),
            upsert(),
            activity(),
            wft(),
            ev(Attributes::SignalExternalWorkflowExecutionInitiatedEventAttributes(
                SignalExternalWorkflowExecutionInitiatedEventAttributes::default(),
            )),
            upsert(),
        ];
        let shape = shape_of(&history);
        assert_eq!(shape.upserts_before, vec![2, 1]);
        assert_eq!(shape.final_upserts, 1);
        assert!(shape.lock);
        assert_eq!(shape.timers, 0);
        let c = count(&history);
        assert_eq!((c.events, c.workflow_tasks, c.activities, c.upserts), (11, 3, 2, 4));
        assert_eq!((c.signals_received, c.signals_sent), (1, 1));
    }

    /// A light run's lock is its first and last local activity; one more is a local step
    /// (`local-init`), which the skeleton makes too.
    #[test]
    fn local_activities_beyond_the_lock_are_local_steps() {
        use temporalio_common::protos::temporal::api::history::v1::MarkerRecordedEventAttributes;
        let local = || {
            ev(Attributes::MarkerRecordedEventAttributes(MarkerRecordedEventAttributes {
                marker_name: LOCAL_ACTIVITY_MARKER.to_owned(),
                ..Default::default()
            }))
        };
        let shape = shape_of(&[local(), local(), upsert(), activity(), upsert(), activity(), upsert(), local()]);
        assert!(shape.local_lock && shape.dormant_lock);
        assert_eq!((shape.local_steps, shape.upserts_before.clone(), shape.final_upserts), (1, vec![1, 1], 1));
        assert_eq!(shape_of(&[local(), local(), activity()]).local_steps, 0);
    }

    /// A run that neither receives nor sends a signal takes no lock.
    #[test]
    fn no_signals_no_lock() {
        let shape = shape_of(&[upsert(), activity()]);
        assert!(!shape.lock);
        assert_eq!(shape.upserts_before, vec![1]);
    }
}
