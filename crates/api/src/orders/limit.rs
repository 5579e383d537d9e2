//! The per-client rate limit on placing orders (public routes): a token bucket per client
//! address, [`BURST`] orders at once and [`PER_SECOND`] a second after that.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

use axum::extract::ConnectInfo;
use axum::http::request::Parts;

/// Orders a client may place at once.
pub(crate) const BURST: f64 = 30.0;
/// Orders a client may place per second, sustained.
pub(crate) const PER_SECOND: f64 = 5.0;
/// Clients remembered; the oldest buckets are dropped beyond this.
const MAX_CLIENTS: usize = 10_000;

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// The client's address: the peer when the server knows it, else `None` (tests without a
/// socket, which then share one bucket).
pub(crate) fn client_of(parts: &Parts) -> Option<IpAddr> {
    parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| addr.ip())
}

/// Takes one token from `client`'s bucket; `false` when it is empty.
pub(crate) fn admit(client: Option<IpAddr>) -> bool {
    static BUCKETS: OnceLock<Mutex<HashMap<Option<IpAddr>, Bucket>>> = OnceLock::new();
    let mut buckets = BUCKETS.get_or_init(Mutex::default).lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let now = Instant::now();
    if buckets.len() >= MAX_CLIENTS && !buckets.contains_key(&client) {
        let oldest = buckets.iter().min_by_key(|(_, b)| b.at).map(|(k, _)| *k);
        if let Some(oldest) = oldest {
            buckets.remove(&oldest);
        }
    }
    let bucket = buckets.entry(client).or_insert(Bucket { tokens: BURST, at: now });
    bucket.tokens = (bucket.tokens + now.duration_since(bucket.at).as_secs_f64() * PER_SECOND).min(BURST);
    bucket.at = now;
    if bucket.tokens >= 1.0 {
        bucket.tokens -= 1.0;
        true
    } else {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A client gets its burst, then is refused; another client is not affected.
    #[test]
    fn a_client_is_limited_alone() {
        let greedy = Some(IpAddr::from([192, 0, 2, 1]));
        let admitted = (0..100).filter(|_| admit(greedy)).count();
        assert!((30..=31).contains(&admitted), "{admitted}");
        assert!(admit(Some(IpAddr::from([192, 0, 2, 2]))));
    }
}
