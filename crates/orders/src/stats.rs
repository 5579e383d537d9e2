//! The numbers of checkpoint 3's stats view, from visibility (no query reaches a workflow): orders
//! by status, delivered, rejected, failed (must stay 0), and order time p50/p99 and throughput
//! over the most recent orders.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::StreamExt as _;
use serde::{Deserialize, Serialize};
use temporalio_client::{WorkflowCountOptions, WorkflowListOptions};

use crate::client::{OrdersClient, OrdersError};
use crate::model::{OrderStatus, ORDER_STATUS, ORDER_STATUS_ATTRIBUTE, WORKFLOW_TYPE};

/// How many of the most recent finished orders the times and throughput are computed over.
pub const RECENT: usize = 1_000;
/// Width of a throughput bucket.
pub const BUCKET: Duration = Duration::from_secs(10);

/// The stats of one task queue's orders.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderStats {
    /// Orders by their `orderStatus`.
    pub by_status: BTreeMap<String, u64>,
    /// Still running.
    pub running: u64,
    /// Delivered.
    pub delivered: u64,
    /// Rejected for a business reason.
    pub rejected: u64,
    /// Over without being delivered or rejected (failed, timed out, terminated, cancelled).
    pub failed: u64,
    /// Median order time of the recent delivered orders, ms.
    pub p50_ms: Option<u64>,
    /// 99th percentile order time of the recent delivered orders, ms.
    pub p99_ms: Option<u64>,
    /// Delivered orders per [`BUCKET`] (start of the bucket in ms since the epoch, count), oldest
    /// first, over the recent orders.
    pub throughput: Vec<(u64, u64)>,
}

/// The `q`-th quantile (0..=1) of sorted `values` (nearest rank).
pub fn quantile(sorted: &[u64], q: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted.get(rank.min(sorted.len()) - 1).copied()
}

/// Counts `(start, close)` times (ms) of finished orders per [`BUCKET`] of their close.
pub fn buckets(closes: &[u64]) -> Vec<(u64, u64)> {
    let width = BUCKET.as_millis() as u64;
    let mut counts: BTreeMap<u64, u64> = BTreeMap::new();
    for close in closes {
        *counts.entry(close / width * width).or_default() += 1;
    }
    counts.into_iter().collect()
}

impl OrdersClient {
    /// The stats of this client's task queue: a handful of visibility counts and one list.
    pub async fn stats(&self) -> Result<OrderStats, OrdersError> {
        let base =
            format!("WorkflowType = '{WORKFLOW_TYPE}' AND TaskQueue = '{}'", self.task_queue().replace('\'', "''"));
        let count = |query: String| async move {
            self.temporal()
                .count_workflows(query, WorkflowCountOptions::default())
                .await
                .map(|c| c.count() as u64)
                .map_err(|e| OrdersError::Other(anyhow::Error::from(e).context("counting orders")))
        };
        let mut stats = OrderStats::default();
        for status in OrderStatus::ALL {
            let n = count(format!("{base} AND {ORDER_STATUS_ATTRIBUTE} = '{}'", status.as_str())).await?;
            if n > 0 {
                stats.by_status.insert(status.as_str().to_owned(), n);
            }
        }
        stats.running = count(format!("{base} AND ExecutionStatus = 'Running'")).await?;
        stats.delivered =
            count(format!("{base} AND ExecutionStatus = 'Completed' AND {ORDER_STATUS_ATTRIBUTE} = 'ORDER_DELIVERED'"))
                .await?;
        stats.rejected =
            count(format!("{base} AND ExecutionStatus = 'Completed' AND {ORDER_STATUS_ATTRIBUTE} = 'ORDER_REJECTED'"))
                .await?;
        stats.failed =
            count(format!("{base} AND ExecutionStatus != 'Running' AND ExecutionStatus != 'Completed'")).await?;

        let recent = format!("{base} AND ExecutionStatus = 'Completed'");
        let mut rows = self.temporal().list_workflows(recent, WorkflowListOptions::builder().limit(RECENT).build());
        let (mut times, mut closes) = (Vec::new(), Vec::new());
        while let Some(row) = rows.next().await {
            let row = row.map_err(|e| OrdersError::Other(anyhow::Error::from(e).context("listing orders")))?;
            if row.search_attributes().get(&ORDER_STATUS).as_deref() != Some(OrderStatus::Delivered.as_str()) {
                continue;
            }
            if let (Some(start), Some(close)) = (row.start_time(), row.close_time()) {
                times.push(close.duration_since(start).map_or(0, |d| d.as_millis() as u64));
                closes.push(ordo_core::time::epoch_ms(close));
            }
        }
        times.sort_unstable();
        stats.p50_ms = quantile(&times, 0.5);
        stats.p99_ms = quantile(&times, 0.99);
        stats.throughput = buckets(&closes);
        Ok(stats)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Nearest-rank quantiles, and none of nothing.
    #[test]
    fn quantiles_are_nearest_rank() {
        let values: Vec<u64> = (1..=100).collect();
        assert_eq!(quantile(&values, 0.5), Some(50));
        assert_eq!(quantile(&values, 0.99), Some(99));
        assert_eq!(quantile(&[7], 0.99), Some(7));
        assert_eq!(quantile(&[], 0.5), None);
    }

    /// Closes are counted per 10-s bucket, oldest first.
    #[test]
    fn throughput_is_bucketed_by_close_time() {
        assert_eq!(buckets(&[10_001, 19_999, 5, 20_000]), vec![(0, 1), (10_000, 2), (20_000, 1)]);
    }
}
