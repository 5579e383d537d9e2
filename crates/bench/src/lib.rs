//! Ordo's measurements, kept apart from the product: how fast and how cheaply Ordo runs its
//! provisioning workflow compared with what the engine itself can carry, and whether it survives
//! crashes. Everything here drives real processes (a Temporal dev server, `ordo worker`, the
//! reference workers, the Python peer) on loopback; nothing asserts a wall-clock time.
//!
//! # Layout
//! - [`reference`]: the skeleton (Ordo's command shape, no-op activities) and trivial workflows,
//!   run by `ordo bench worker <kind>`.
//! - [`shape`]: counts a recorded history's commands, which is how the skeleton gets Ordo's shape.
//! - [`proc`]: CPU seconds and peak RSS of a process from `/proc`.
//! - [`stats`]: latency percentiles.
//! - [`machine`]: the machine a result was measured on.
//! - [`process`]: spawning, sampling, stopping, killing and pinning (`taskset`) child processes.
//! - [`workspace`]: temporary IaC roots with one copy of a stack per run.
//! - [`provision`]: `ordo bench provision`: Ordo against the references, optionally pinned, and
//!   the parked-runs memory measurement.
//! - [`chaos`]: workers SIGKILLed at random and the dev server restarted while runs execute; the
//!   sim state proves no resource was applied twice.
//! - [`release`]: `ordo bench release`: one release of seed 003 against a no-op skeleton of the
//!   same shape, and the steps its audit logs show done twice.
//! - [`hooks`]: `ordo bench hooks`: seed 004's `/invoke` served in-process against a process per
//!   request, requests/s and p99.
//! - [`orders`]: `ordo bench orders`: pizza orders against their skeleton, and checkpoint 2's
//!   chaos run at size (the effects ledger proves no step was applied twice).
//! - [`report`]: JSON and Markdown output under `bench/results/`.

pub mod chaos;
pub mod hooks;
pub mod machine;
pub mod orders;
pub mod proc;
pub mod process;
pub mod provision;
pub mod reference;
pub mod release;
pub mod report;
pub mod shape;
pub mod stats;
pub mod workspace;

/// What can stop a benchmark or a chaos run.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// Local I/O.
    #[error("{context}")]
    Io {
        /// What was being done.
        context: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Talking to Temporal failed.
    #[error("temporal: {0}")]
    Temporal(String),
    /// A child process misbehaved (would not start, exited, could not be sampled or pinned).
    #[error("process: {0}")]
    Process(String),
    /// The setup is unusable (missing binary, bad sizes).
    #[error("setup: {0}")]
    Setup(String),
    /// A bounded wait ran out.
    #[error("timed out: {0}")]
    Timeout(String),
}

impl BenchError {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io { context: context.into(), source }
    }

    pub(crate) fn temporal(context: &str, err: impl std::fmt::Display) -> Self {
        Self::Temporal(format!("{context}: {err}"))
    }
}

/// A small deterministic pseudo-random generator (xorshift64*): which worker the chaos controller
/// kills next. Seeded, so a chaos report names the seed that reproduces its kill order.
#[derive(Debug, Clone)]
pub struct Xorshift(u64);

impl Xorshift {
    /// A generator from `seed` (0 is replaced, xorshift needs a non-zero state).
    pub fn new(seed: u64) -> Self {
        Self(if seed == 0 { 0x9E37_79B9_7F4A_7C15 } else { seed })
    }

    /// The next value.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A value in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same seed gives the same kill order; every index is reachable.
    #[test]
    fn xorshift_is_deterministic_and_covers_the_range() {
        let a: Vec<usize> = {
            let mut r = Xorshift::new(7);
            (0..50).map(|_| r.below(3)).collect()
        };
        let mut r = Xorshift::new(7);
        let b: Vec<usize> = (0..50).map(|_| r.below(3)).collect();
        assert_eq!(a, b);
        assert!((0..3).all(|i| a.contains(&i)));
    }
}
