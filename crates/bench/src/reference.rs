//! The reference workflows Ordo is measured against, all doing nothing but talking to Temporal:
//!
//! - [`SkeletonWorkflow`]: the engine's limit for Ordo's shape. The same commands as one Ordo run
//!   (search-attribute upserts, activities, timers, and the workspace-lock round trip through a
//!   second workflow), counted from a real Ordo history by [`crate::shape`]; every activity is a
//!   no-op.
//! - [`SharedLockWorkflow`]: a design sketch measured, not Ordo's: workspace locks kept in a few
//!   long-lived workflows (one per shard of workspaces) instead of a workflow per run.
//! - [`DormantLockWorkflow`]: the skeleton's lock as Ordo's is now, taken by starting it with a
//!   start delay (no workflow task) and given back by terminating it (still none).
//! - [`TrivialWorkflow`]: one no-op activity, the engine's raw limit in runs per second.
//!
//! Names are fixed (`Bench…`) so histories and the `temporal` CLI show what ran.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use temporalio_common::search_attributes::SearchAttributeKey;
use temporalio_macros::{activities, workflow, workflow_methods};
use temporalio_sdk::activities::{ActivityContext, ActivityError};
use temporalio_sdk::{
    ActivityOptions, LocalActivityOptions, SignalWorkflowOptions, SyncWorkflowContext, WorkerOptions, WorkflowContext,
    WorkflowResult,
};

/// Workflow type of the skeleton.
pub const SKELETON_WORKFLOW: &str = "BenchSkeletonWorkflow";
/// Workflow type of the skeleton's lock.
pub const SKELETON_LOCK_WORKFLOW: &str = "BenchSkeletonLockWorkflow";
/// Workflow type of the shared locks' shards.
pub const SHARED_LOCK_WORKFLOW: &str = "BenchSharedLockWorkflow";
/// How many shard workflows the shared locks are spread over.
const SHARED_LOCK_SHARDS: u64 = 8;
/// Workflow type of the dormant locks.
pub const DORMANT_LOCK_WORKFLOW: &str = "BenchDormantLockWorkflow";
/// Workflow type of the trivial workflow.
pub const TRIVIAL_WORKFLOW: &str = "BenchTrivialWorkflow";

/// The keyword attribute the skeleton upserts: the one Ordo writes (`provisionStatus`), so the
/// visibility store does the same work.
const STATUS: SearchAttributeKey<String> =
    SearchAttributeKey::keyword(ordo_provision::model::attribute::PROVISION_STATUS);

/// The commands of one run, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shape {
    /// Search-attribute upserts issued just before each activity; one entry per activity.
    pub upserts_before: Vec<u32>,
    /// Upserts after the last activity.
    pub final_upserts: u32,
    /// Timers the run itself starts (after its activities).
    pub timers: u32,
    /// The first activity queues the run on a lock workflow (signal-with-start), the lock grants it
    /// by signal, and the run releases it by signal before finishing, as Ordo's workspace lock does.
    pub lock: bool,
    /// Park at an approval gate before the activity with this index: upsert `awaiting_approval`
    /// and wait for the `bench_approve` signal (the parked-runs measurement).
    #[serde(default)]
    pub park_before: Option<usize>,
    /// Patches the run checks at its start (each a marker and an upsert).
    #[serde(default)]
    pub patches: u32,
    /// The lock is taken by a local activity doing update-with-start, granted in the update's
    /// answer, and given back by a local activity (`light-run`), instead of the signal round trip.
    #[serde(default)]
    pub local_lock: bool,
    /// With `local_lock`: the lock is a key in one of a few long-lived shard workflows
    /// ([`SharedLockWorkflow`]), taken by update-with-start and given back by signal, instead of a
    /// workflow of its own per run.
    #[serde(default)]
    pub shared_lock: bool,
    /// With `local_lock`: the lock is a [`DormantLockWorkflow`] started with a start delay (taken
    /// with no workflow task) and terminated by the give-back (none either).
    #[serde(default)]
    pub dormant_lock: bool,
    /// With `local_lock`: steps the run makes as local activities right after taking the lock
    /// (`local-init`'s `terraform_init`).
    #[serde(default)]
    pub local_steps: u32,
}

impl Shape {
    /// The same run without the workspace lock (no lock workflow, no lock steps).
    pub fn without_lock(self) -> Self {
        Self { lock: false, local_lock: false, shared_lock: false, dormant_lock: false, local_steps: 0, ..self }
    }

    /// The same run with its lock kept in a shared, long-lived shard workflow.
    pub fn with_shared_lock(self) -> Self {
        Self { lock: true, local_lock: true, shared_lock: true, dormant_lock: false, ..self }
    }

    /// Activities in the run (the lock request included).
    pub fn activities(&self) -> usize {
        self.upserts_before.len()
    }

    /// Upserts in the run.
    pub fn upserts(&self) -> u32 {
        self.upserts_before.iter().sum::<u32>() + self.final_upserts
    }
}

/// What a skeleton run reports back.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkeletonResult {
    /// Activities executed.
    pub activities: u32,
    /// Upserts issued.
    pub upserts: u32,
}

/// The no-op activities.
#[derive(Debug, Default)]
pub struct NoopActivities;

#[activities]
impl NoopActivities {
    /// Returns its input.
    #[activity(name = "bench_noop")]
    pub async fn noop(_ctx: ActivityContext, step: u32) -> Result<u32, ActivityError> {
        Ok(step)
    }

    /// Queues `requester` on its own skeleton lock (signal-with-start, as Ordo's runs from before
    /// `light-run` did); returns the lock's workflow id.
    #[activity(name = "bench_request_lock")]
    pub async fn request_lock(ctx: ActivityContext, requester: String) -> Result<String, ActivityError> {
        let lock_id = format!("bench-lock-{requester}");
        let task_queue = ctx.info().task_queue.clone();
        let options = temporalio_client::WorkflowStartOptions::new(task_queue, lock_id.clone()).build();
        ctx.client()
            .signal_with_start_workflow(
                SkeletonLockWorkflow::run,
                false,
                SkeletonLockWorkflow::acquire,
                requester,
                options,
            )
            .await?;
        Ok(lock_id)
    }

    /// Takes the skeleton lock in one round trip (update-with-start), as `light-run` does.
    #[activity(name = "bench_take_lock")]
    pub async fn take_lock(ctx: ActivityContext, requester: String) -> Result<String, ActivityError> {
        let lock_id = format!("bench-lock-{requester}");
        let task_queue = ordo_provision::lock::lock_task_queue(&ctx.info().task_queue);
        let options = temporalio_client::WorkflowUpdateWithStartOptions::new(
            task_queue,
            lock_id.clone(),
            temporalio_client::WorkflowIdConflictPolicy::UseExisting,
        )
        .build();
        ctx.client()
            .execute_update_with_start_workflow(
                SkeletonLockWorkflow::run,
                true,
                SkeletonLockWorkflow::take,
                requester,
                options,
            )
            .await?;
        Ok(lock_id)
    }

    /// Takes `requester`'s key in its shard of the shared locks (update-with-start: the shard is
    /// started if it is not running); returns the shard's workflow id.
    #[activity(name = "bench_take_shared_lock")]
    pub async fn take_shared_lock(ctx: ActivityContext, requester: String) -> Result<String, ActivityError> {
        let shard = shared_lock_shard(&ctx.info().task_queue, &requester);
        let task_queue = ordo_provision::lock::lock_task_queue(&ctx.info().task_queue);
        let options = temporalio_client::WorkflowUpdateWithStartOptions::new(
            task_queue,
            shard.clone(),
            temporalio_client::WorkflowIdConflictPolicy::UseExisting,
        )
        .build();
        let granted = ctx
            .client()
            .execute_update_with_start_workflow(
                SharedLockWorkflow::run,
                Vec::new(),
                SharedLockWorkflow::take,
                requester,
                options,
            )
            .await?;
        if !granted {
            // Every skeleton run locks a workspace of its own: a refusal is a bug in the sketch.
            return Err(ActivityError::from(anyhow::anyhow!("the shared lock refused an uncontended key")));
        }
        Ok(shard)
    }

    /// Gives `requester`'s key back to its shard (a signal).
    #[activity(name = "bench_give_back_shared_lock")]
    pub async fn give_back_shared_lock(
        ctx: ActivityContext,
        (shard, requester): (String, String),
    ) -> Result<(), ActivityError> {
        ctx.client()
            .get_workflow_handle::<SharedLockWorkflow>(shard)
            .signal(SharedLockWorkflow::release, requester, temporalio_client::WorkflowSignalOptions::default())
            .await?;
        Ok(())
    }

    /// Takes `requester`'s dormant lock: starts it with a start delay (Ordo's
    /// [`ordo_provision::lock::start_dormant`]), so the server schedules no workflow task; a
    /// running one means the workspace is taken (refused: every skeleton run has a lock of its own).
    #[activity(name = "bench_take_dormant_lock")]
    pub async fn take_dormant_lock(ctx: ActivityContext, requester: String) -> Result<String, ActivityError> {
        let lock_id = format!("bench-dormant-lock-{requester}");
        let task_queue = ordo_provision::lock::lock_task_queue(&ctx.info().task_queue);
        let request_id = uuid::Uuid::new_v4().to_string();
        let started = ordo_provision::lock::start_dormant(
            &ctx.client(),
            DORMANT_LOCK_WORKFLOW,
            &task_queue,
            &lock_id,
            &requester,
            request_id,
        )
        .await?;
        if started.is_none() {
            return Err(ActivityError::from(anyhow::anyhow!("the dormant lock {lock_id} is already running")));
        }
        Ok(lock_id)
    }

    /// Gives the dormant lock back as Ordo gives back a lock nobody queued on: terminates it
    /// ([`ordo_provision::lock::terminate_run`]), no workflow task. (Every skeleton run has a lock
    /// of its own, so its current run is the one the run started.)
    #[activity(name = "bench_give_back_dormant_lock")]
    pub async fn give_back_dormant_lock(
        ctx: ActivityContext,
        (lock_id, holder): (String, String),
    ) -> Result<(), ActivityError> {
        let reason = format!("workspace given back by {holder}; nobody waited for it");
        if !ordo_provision::lock::terminate_run(&ctx.client(), &lock_id, "", reason).await? {
            return Err(ActivityError::from(anyhow::anyhow!("the dormant lock {lock_id} was not running")));
        }
        Ok(())
    }

    /// Gives the skeleton lock back (a signal from a local activity).
    #[activity(name = "bench_give_back_lock")]
    pub async fn give_back_lock(ctx: ActivityContext, lock_id: String) -> Result<(), ActivityError> {
        ctx.client()
            .get_workflow_handle::<SkeletonLockWorkflow>(lock_id)
            .signal(SkeletonLockWorkflow::release, (), temporalio_client::WorkflowSignalOptions::default())
            .await?;
        Ok(())
    }
}

fn local_options() -> LocalActivityOptions {
    LocalActivityOptions::builder().start_to_close_timeout(Duration::from_secs(30)).build()
}

fn activity_options() -> ActivityOptions {
    ActivityOptions::start_to_close_timeout(Duration::from_secs(30))
}

/// Ordo's command shape with no-op activities.
#[workflow]
#[derive(Default)]
pub struct SkeletonWorkflow {
    granted: bool,
    approved: bool,
}

#[workflow_methods]
impl SkeletonWorkflow {
    /// Runs `shape`.
    #[run(name = "BenchSkeletonWorkflow")]
    pub async fn run(ctx: &mut WorkflowContext<Self>, shape: Shape) -> WorkflowResult<SkeletonResult> {
        let mut lock_id = None;
        let mut done = SkeletonResult::default();
        for patch in 0..shape.patches {
            ctx.patched(&format!("bench-patch-{patch}"));
        }
        if shape.local_lock {
            let requester = ctx.workflow_id().to_owned();
            lock_id = Some(if shape.dormant_lock {
                ctx.execute_local_activity(NoopActivities::take_dormant_lock, requester, local_options()).await?
            } else if shape.shared_lock {
                ctx.execute_local_activity(NoopActivities::take_shared_lock, requester, local_options()).await?
            } else {
                ctx.execute_local_activity(NoopActivities::take_lock, requester, local_options()).await?
            });
            for step in 0..shape.local_steps {
                ctx.execute_local_activity(NoopActivities::noop, step, local_options()).await?;
            }
        }
        for (step, upserts) in shape.upserts_before.iter().enumerate() {
            if shape.park_before == Some(step) {
                ctx.upsert_search_attributes([STATUS.value_set("awaiting_approval".to_owned())]);
                ctx.wait_condition(|s: &Self| s.approved).await?;
            }
            for _ in 0..*upserts {
                ctx.upsert_search_attributes([STATUS.value_set(format!("step-{step}"))]);
                done.upserts += 1;
            }
            if step == 0 && shape.lock && !shape.local_lock {
                let requester = ctx.workflow_id().to_owned();
                let id = ctx.execute_activity(NoopActivities::request_lock, requester, activity_options()).await?;
                ctx.wait_condition(|s: &Self| s.granted).await?;
                lock_id = Some(id);
            } else {
                ctx.execute_activity(NoopActivities::noop, step as u32, activity_options()).await?;
            }
            done.activities += 1;
        }
        for _ in 0..shape.timers {
            ctx.timer(Duration::from_millis(1)).await;
        }
        if let (Some(id), true) = (&lock_id, shape.dormant_lock) {
            let key = (id.clone(), ctx.workflow_id().to_owned());
            ctx.execute_local_activity(NoopActivities::give_back_dormant_lock, key, local_options()).await?;
        } else if let (Some(shard), true) = (&lock_id, shape.shared_lock) {
            let key = (shard.clone(), ctx.workflow_id().to_owned());
            ctx.execute_local_activity(NoopActivities::give_back_shared_lock, key, local_options()).await?;
        } else if let (Some(id), true) = (&lock_id, shape.local_lock) {
            ctx.execute_local_activity(NoopActivities::give_back_lock, id.clone(), local_options()).await?;
        } else if let Some(id) = lock_id {
            ctx.external_workflow(id, None)
                .signal(SkeletonLockWorkflow::release, (), SignalWorkflowOptions::default())
                .await?;
        }
        for _ in 0..shape.final_upserts {
            ctx.upsert_search_attributes([STATUS.value_set("done".to_owned())]);
            done.upserts += 1;
        }
        Ok(done)
    }

    /// The lock's grant.
    #[signal(name = "bench_granted")]
    pub fn granted(&mut self, _ctx: &mut SyncWorkflowContext<Self>) {
        self.granted = true;
    }

    /// The approval of a parked run.
    #[signal(name = "bench_approve")]
    pub fn approve(&mut self, _ctx: &mut SyncWorkflowContext<Self>) {
        self.approved = true;
    }
}

/// A no-op lock with Ordo's uncontended lock's shape: grant by signal, release by signal (Ordo's lock
/// checks its holder on a timer only while another run waits).
#[workflow]
#[derive(Default)]
pub struct SkeletonLockWorkflow {
    requester: Option<String>,
    released: bool,
}

#[workflow_methods]
impl SkeletonLockWorkflow {
    /// Grants the requester (by signal, or in the `take` update's answer when `local`), then
    /// waits for its release.
    #[run(name = "BenchSkeletonLockWorkflow")]
    pub async fn run(ctx: &mut WorkflowContext<Self>, local: bool) -> WorkflowResult<()> {
        ctx.wait_condition(|s: &Self| s.requester.is_some()).await?;
        if !local {
            let requester = ctx.state(|s| s.requester.clone().unwrap_or_default());
            ctx.external_workflow(requester, None)
                .signal(SkeletonWorkflow::granted, (), SignalWorkflowOptions::default())
                .await?;
        }
        ctx.wait_condition(|s: &Self| s.released).await?;
        Ok(())
    }

    /// Take the lock (delivered with the start); granted in the answer.
    #[update(name = "bench_take")]
    pub fn take(&mut self, _ctx: &mut SyncWorkflowContext<Self>, requester: String) -> bool {
        self.requester = Some(requester);
        true
    }

    /// Queue a requester (delivered with the start).
    #[signal(name = "bench_acquire")]
    pub fn acquire(&mut self, _ctx: &mut SyncWorkflowContext<Self>, requester: String) {
        self.requester = Some(requester);
    }

    /// Give the lock back.
    #[signal(name = "bench_release")]
    pub fn release(&mut self, _ctx: &mut SyncWorkflowContext<Self>) {
        self.released = true;
    }
}

/// The shard of the shared locks that keeps `requester`'s key (a stable hash, so every worker
/// picks the same one).
fn shared_lock_shard(task_queue: &str, requester: &str) -> String {
    // FNV-1a: stable across processes and builds, unlike the std hasher.
    let hash =
        requester.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    format!("bench-locks-{task_queue}-{}", hash % SHARED_LOCK_SHARDS)
}

/// One shard of the shared locks: the keys held, kept across runs and across continue-as-new.
/// Uncontended only (a taken key is refused, not queued): enough to measure what a lock costs
/// when it is not a workflow of its own.
#[workflow]
#[derive(Default)]
pub struct SharedLockWorkflow {
    held: std::collections::BTreeSet<String>,
    version: u64,
}

#[workflow_methods]
impl SharedLockWorkflow {
    /// Serves takes and releases until the server suggests a fresh run, then continues as new
    /// with the keys still held.
    #[run(name = "BenchSharedLockWorkflow")]
    pub async fn run(ctx: &mut WorkflowContext<Self>, held: Vec<String>) -> WorkflowResult<()> {
        ctx.state_mut(|s| s.held.extend(held));
        loop {
            let seen = ctx.state(|s| s.version);
            ctx.wait_condition(move |s: &Self| s.version != seen).await?;
            if ctx.continue_as_new_suggested() {
                let carried: Vec<String> = ctx.state(|s| s.held.iter().cloned().collect());
                match ctx.continue_as_new(carried, temporalio_sdk::ContinueAsNewOptions::default())? {}
            }
        }
    }

    /// Takes `key`: `true` when it was free.
    #[update(name = "bench_shared_take")]
    pub fn take(&mut self, _ctx: &mut SyncWorkflowContext<Self>, key: String) -> bool {
        self.version += 1;
        self.held.insert(key)
    }

    /// Gives `key` back.
    #[signal(name = "bench_shared_release")]
    pub fn release(&mut self, _ctx: &mut SyncWorkflowContext<Self>, key: String) {
        self.version += 1;
        self.held.remove(&key);
    }
}

/// A lock that costs no workflow task: started with a long start delay, it sleeps on the server
/// until its holder terminates it (Ordo's give-back when nobody queued) or, in a real lock, a
/// waiter's request wakes it (then it would queue it, as Ordo's lock does).
#[workflow]
#[derive(Default)]
pub struct DormantLockWorkflow {
    released: bool,
}

#[workflow_methods]
impl DormantLockWorkflow {
    /// Ends once its holder gives it back.
    #[run(name = "BenchDormantLockWorkflow")]
    pub async fn run(ctx: &mut WorkflowContext<Self>, _holder: String) -> WorkflowResult<()> {
        ctx.wait_condition(|s: &Self| s.released).await?;
        Ok(())
    }

    /// Give the lock back.
    #[signal(name = "bench_dormant_release")]
    pub fn release(&mut self, _ctx: &mut SyncWorkflowContext<Self>) {
        self.released = true;
    }
}

/// One no-op activity: the engine's raw limit.
#[workflow]
#[derive(Default)]
pub struct TrivialWorkflow;

#[workflow_methods]
impl TrivialWorkflow {
    /// Runs one no-op activity.
    #[run(name = "BenchTrivialWorkflow")]
    pub async fn run(ctx: &mut WorkflowContext<Self>, input: u32) -> WorkflowResult<u32> {
        Ok(ctx.execute_activity(NoopActivities::noop, input, activity_options()).await?)
    }
}

/// Which reference worker to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReferenceKind {
    /// [`SkeletonWorkflow`] and its lock.
    Skeleton,
    /// [`TrivialWorkflow`].
    Trivial,
    /// The release skeleton ([`crate::release::ReleaseSkeletonWorkflow`] and its deploys).
    #[serde(rename = "release-skeleton")]
    ReleaseSkeleton,
}

impl ReferenceKind {
    /// `skeleton`, `trivial` or `release-skeleton`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Skeleton => "skeleton",
            Self::Trivial => "trivial",
            Self::ReleaseSkeleton => "release-skeleton",
        }
    }
}

/// Worker options for a reference worker on `task_queue`: SDK defaults, as Ordo's worker, unless
/// `max_cached_workflows` is given (the parked-runs memory experiment).
pub fn worker_options(
    kind: ReferenceKind,
    task_queue: &str,
    max_cached_workflows: Option<usize>,
) -> Result<WorkerOptions, temporalio_sdk::WorkflowRegistrationError> {
    let options = WorkerOptions::new(task_queue).maybe_max_cached_workflows(max_cached_workflows);
    let options = match kind {
        ReferenceKind::Skeleton => {
            options.register_workflow::<SkeletonWorkflow>()?.register_workflow::<SkeletonLockWorkflow>()?
        }
        ReferenceKind::Trivial => options.register_workflow::<TrivialWorkflow>()?,
        ReferenceKind::ReleaseSkeleton => options
            .register_workflow::<crate::release::ReleaseSkeletonWorkflow>()?
            .register_workflow::<crate::release::DeploySkeletonWorkflow>()?
            .register_activities(crate::release::SkeletonSteps),
    };
    Ok(options.register_activities(NoopActivities).build())
}

/// Worker options for the skeleton's locks taken by update (`light-run`'s shape), on their own
/// task queue as Ordo's are.
pub fn lock_worker_options(
    task_queue: &str,
    max_cached_workflows: Option<usize>,
) -> Result<WorkerOptions, temporalio_sdk::WorkflowRegistrationError> {
    // Capped as Ordo's own lock worker is.
    let cache = max_cached_workflows.unwrap_or(usize::MAX).min(ordo_provision::lock::LOCK_CACHE_SIZE);
    let options = WorkerOptions::new(ordo_provision::lock::lock_task_queue(task_queue))
        .max_cached_workflows(cache)
        .register_workflow::<SkeletonLockWorkflow>()?
        .register_workflow::<SharedLockWorkflow>()?
        .register_workflow::<DormantLockWorkflow>()?;
    Ok(options.register_activities(NoopActivities).build())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ordo_shape() -> Shape {
        Shape {
            upserts_before: vec![2, 1, 1],
            final_upserts: 1,
            lock: true,
            local_lock: true,
            dormant_lock: true,
            ..Shape::default()
        }
    }

    /// The lock variants change the lock and nothing else of the run.
    #[test]
    fn lock_variants_keep_the_rest_of_the_shape() {
        let unlocked = ordo_shape().without_lock();
        assert!(!unlocked.lock && !unlocked.local_lock && !unlocked.shared_lock);
        let shared = ordo_shape().with_shared_lock();
        assert!(shared.lock && shared.local_lock && shared.shared_lock && !shared.dormant_lock);
        assert!(ordo_shape().dormant_lock, "Ordo's light lock is dormant");
        for shape in [unlocked, shared] {
            assert_eq!((shape.upserts_before, shape.final_upserts), (vec![2, 1, 1], 1));
        }
    }

    /// Every worker puts a key in the same shard, and the keys spread over all of them.
    #[test]
    fn shared_lock_shards_are_stable_and_spread() {
        assert_eq!(shared_lock_shard("q", "run-1"), shared_lock_shard("q", "run-1"));
        let shards: std::collections::BTreeSet<String> =
            (0..200).map(|i| shared_lock_shard("q", &format!("skeleton-{i}"))).collect();
        assert_eq!(shards.len(), SHARED_LOCK_SHARDS as usize);
        assert!(shards.iter().all(|s| s.starts_with("bench-locks-q-")));
    }
}
