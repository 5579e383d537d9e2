//! Latency percentiles (nearest-rank) over a set of end-to-end durations.

use std::time::Duration;

/// Summary of a set of latencies, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LatencySummary {
    /// How many samples.
    pub count: usize,
    /// Median.
    pub p50_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Largest.
    pub max_ms: f64,
    /// Arithmetic mean.
    pub mean_ms: f64,
}

/// The `p`-th percentile (0 < p ≤ 100) of sorted `values` by the nearest-rank method: the smallest
/// value such that at least `p` % of the values are ≤ it. `None` when empty.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// Summarises `latencies`.
pub fn summarize(latencies: &[Duration]) -> LatencySummary {
    let mut ms: Vec<f64> = latencies.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
    ms.sort_by(f64::total_cmp);
    LatencySummary {
        count: ms.len(),
        p50_ms: percentile(&ms, 50.0).unwrap_or_default(),
        p99_ms: percentile(&ms, 99.0).unwrap_or_default(),
        max_ms: ms.last().copied().unwrap_or_default(),
        mean_ms: if ms.is_empty() { 0.0 } else { ms.iter().sum::<f64>() / ms.len() as f64 },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Nearest rank: p50 of 1..=10 is 5, p99 is 10, p100 is the maximum.
    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), Some(5.0));
        assert_eq!(percentile(&v, 99.0), Some(10.0));
        assert_eq!(percentile(&v, 100.0), Some(10.0));
        assert_eq!(percentile(&v, 1.0), Some(1.0));
        assert_eq!(percentile(&[], 50.0), None);
    }

    /// With 200 samples, p99 is the 198th smallest, not the maximum.
    #[test]
    fn p99_of_two_hundred_samples_skips_the_two_slowest() {
        let d: Vec<Duration> = (1..=200).map(Duration::from_millis).collect();
        let s = summarize(&d);
        assert_eq!(s.count, 200);
        assert_eq!(s.p50_ms, 100.0);
        assert_eq!(s.p99_ms, 198.0);
        assert_eq!(s.max_ms, 200.0);
    }
}
