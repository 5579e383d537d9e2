//! The seam between the platform and its domains.
//!
//! A domain (provisioning, seed 000's applications, orders, releases, hooks) is a crate that knows
//! its workflows, activities and settings and nothing of HTTP or of the other domains. A host
//! (`ordo worker`, `ordo up`) builds each selected domain from its clap settings and asks it, through
//! [`Domain`], for what it needs: the search attributes to register before anything polls, one
//! [`WorkerOptions`] per task queue it serves (workflows and activities registered), the histogram
//! buckets of its series and, optionally, gauges it refreshes from visibility.
//!
//! Adding a domain is a new crate implementing [`Domain`] and one line in each host list.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use temporalio_client::Client;
use temporalio_common::protos::temporal::api::enums::v1::IndexedValueType;
use temporalio_common::telemetry::metrics::CoreMeter;
use temporalio_sdk::WorkerOptions;

/// A custom search attribute a domain's workflows write (a wire contract: visibility queries and
/// the `temporal` CLI use the name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SearchAttributeSpec {
    /// The attribute's name, e.g. `provisionStatus`.
    pub name: &'static str,
    /// Its type on the server.
    pub kind: IndexedValueType,
}

impl SearchAttributeSpec {
    /// A Keyword attribute (exact-match filters).
    pub const fn keyword(name: &'static str) -> Self {
        Self { name, kind: IndexedValueType::Keyword }
    }

    /// An Int attribute (range filters).
    pub const fn int(name: &'static str) -> Self {
        Self { name, kind: IndexedValueType::Int }
    }
}

/// What a host hands every domain it builds: the settings all domains share.
#[derive(Debug, Clone)]
pub struct HostSettings {
    /// Ordo's data directory (canonical, created): simulated state, local stores.
    pub data_dir: std::path::PathBuf,
}

/// One domain as a host runs it.
pub trait Domain: Send + Sync {
    /// The name `--domains` selects it by (`provision`, `application`, …).
    fn name(&self) -> &'static str;

    /// The search attributes its workflows write; the host registers the union of every hosted
    /// domain's before any worker polls.
    fn search_attributes(&self) -> &'static [SearchAttributeSpec];

    /// One set of worker options per task queue this domain serves, with its workflows and
    /// activities registered. The host caps each worker's cache at its own setting (a domain may
    /// ask for less, never more) and creates the workers.
    fn workers(&self) -> anyhow::Result<Vec<WorkerOptions>>;

    /// Bucket boundaries (in the series' unit) for the histograms this domain records, by name.
    fn histogram_buckets(&self) -> Vec<(String, Vec<f64>)> {
        Vec::new()
    }

    /// A task refreshing this domain's gauges on `meter` every `every` (visibility reads), when it
    /// has any. The host runs it while the worker runs and drops it on shutdown.
    fn gauges(&self, _client: Client, _meter: Arc<dyn CoreMeter>, _every: Duration) -> Option<BoxFuture<'static, ()>> {
        None
    }
}

/// The union of the search attributes of `domains`, each name once (first declaration wins).
pub fn search_attributes<'a>(domains: impl IntoIterator<Item = &'a dyn Domain>) -> Vec<SearchAttributeSpec> {
    union(domains.into_iter().map(|d| d.search_attributes()))
}

/// The union of several declarations, each name once (first declaration wins).
pub fn union(lists: impl IntoIterator<Item = &'static [SearchAttributeSpec]>) -> Vec<SearchAttributeSpec> {
    let mut union: Vec<SearchAttributeSpec> = Vec::new();
    for spec in lists.into_iter().flatten() {
        if !union.iter().any(|s| s.name == spec.name) {
            union.push(*spec);
        }
    }
    union
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An attribute two domains declare (`provisionStatus`) is registered once.
    #[test]
    fn the_union_lists_each_attribute_once() {
        const A: &[SearchAttributeSpec] =
            &[SearchAttributeSpec::keyword("status"), SearchAttributeSpec::keyword("dir")];
        const B: &[SearchAttributeSpec] = &[SearchAttributeSpec::keyword("status"), SearchAttributeSpec::int("n")];
        let names: Vec<&str> = union([A, B]).iter().map(|s| s.name).collect();
        assert_eq!(names, ["status", "dir", "n"]);
    }
}
