//! The async runtime a binary runs on, sized by `--runtime-threads` (`ORDO_RUNTIME_THREADS`).
//!
//! A worker's hot path is waiting: for a poll, a gRPC reply, a file write. On a multi-threaded
//! runtime each of those hands work between threads (a wake-up, a futex, a context switch), and on
//! a small machine that hand-over costs more than the work: measured on 2 cores, one thread for
//! everything takes ~12 % less worker CPU per provisioning run and completes more runs per second
//! (`bench/README.md` § "One runtime thread"). Larger machines keep a thread per CPU.

use std::num::NonZeroU16;
use std::str::FromStr;

/// Most runtime threads a user may ask for.
pub const MAX_RUNTIME_THREADS: u16 = 1024;

/// Machines with at most this many CPUs run everything on one thread under `auto`.
const SMALL_MACHINE_CPUS: usize = 2;

/// How many threads run Ordo's async tasks (file and process I/O still go to a blocking pool).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuntimeThreads {
    /// One thread on a machine with up to two CPUs, else one per CPU.
    Auto,
    /// Exactly this many; `1` runs everything on the calling thread.
    Exactly(NonZeroU16),
}

impl FromStr for RuntimeThreads {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        if value.eq_ignore_ascii_case("auto") {
            return Ok(Self::Auto);
        }
        let count: u16 = value
            .parse()
            .ok()
            .filter(|n| (1..=MAX_RUNTIME_THREADS).contains(n))
            .ok_or_else(|| format!("expected `auto` or a whole number from 1 to {MAX_RUNTIME_THREADS}"))?;
        Ok(Self::Exactly(NonZeroU16::new(count).expect("checked above")))
    }
}

impl RuntimeThreads {
    /// The thread count this setting means on a machine with `cpus` CPUs.
    pub fn count(self, cpus: usize) -> usize {
        match self {
            Self::Exactly(n) => usize::from(n.get()),
            Self::Auto if cpus <= SMALL_MACHINE_CPUS => 1,
            Self::Auto => cpus,
        }
    }

    /// The runtime: a current-thread runtime for one thread, a multi-threaded one otherwise.
    pub fn build(self) -> std::io::Result<tokio::runtime::Runtime> {
        let cpus = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        match self.count(cpus) {
            1 => tokio::runtime::Builder::new_current_thread().enable_all().build(),
            n => tokio::runtime::Builder::new_multi_thread().worker_threads(n).enable_all().build(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_is_one_thread_on_small_machines_and_one_per_cpu_on_larger_ones() {
        assert_eq!(RuntimeThreads::Auto.count(1), 1);
        assert_eq!(RuntimeThreads::Auto.count(2), 1);
        assert_eq!(RuntimeThreads::Auto.count(3), 3);
        assert_eq!(RuntimeThreads::Auto.count(16), 16);
        assert_eq!("AUTO".parse::<RuntimeThreads>(), Ok(RuntimeThreads::Auto));
    }

    #[test]
    fn one_thread_is_a_current_thread_runtime_and_more_are_worker_threads() {
        use tokio::runtime::RuntimeFlavor;
        let one = RuntimeThreads::Exactly(NonZeroU16::MIN).build().unwrap();
        assert_eq!(one.handle().runtime_flavor(), RuntimeFlavor::CurrentThread);
        let three = "3".parse::<RuntimeThreads>().unwrap().build().unwrap();
        assert_eq!(three.handle().runtime_flavor(), RuntimeFlavor::MultiThread);
        assert_eq!(three.metrics().num_workers(), 3);
    }

    #[test]
    fn a_count_is_taken_as_given_within_its_bounds() {
        let four: RuntimeThreads = "4".parse().unwrap();
        assert_eq!(four.count(2), 4);
        assert_eq!("1".parse::<RuntimeThreads>().unwrap().count(64), 1);
        assert_eq!("1024".parse::<RuntimeThreads>().unwrap().count(1), 1024);
        for bad in ["0", "1025", "-1", "two", ""] {
            let err = bad.parse::<RuntimeThreads>().unwrap_err();
            assert!(err.contains("auto") && err.contains("1024"), "{bad:?}: {err}");
        }
    }
}
