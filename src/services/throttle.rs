//! The rate limit of anonymous requests (public pulls): a token bucket per client
//! network, refilled at the configured rate, holding at most a minute's worth. Kept in
//! each process's memory; behind a balancer of N replicas a client may get up to N
//! times the rate, which is a limit on abuse, not a quota.

use super::limiter::Network;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Anonymous requests per minute per client network unless configured.
pub const DEFAULT_ANONYMOUS_RATE: u32 = 600;

/// Buckets kept at most: beyond it, full ones are forgotten, then the least recently
/// used, down to half, so memory stays bounded and the scan is rare.
const MOST_BUCKETS: usize = 10_000;

pub struct AnonymousThrottle {
    per_minute: u32,
    buckets: Mutex<HashMap<Network, Bucket>>,
}

#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl AnonymousThrottle {
    /// A limit of `per_minute` requests per minute per client network; 0 turns
    /// anonymous access off (every request is refused).
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute,
            buckets: Mutex::default(),
        }
    }

    /// Takes one request from the client's bucket; `Err` with how long until the next
    /// one would be let through.
    pub fn admit(&self, client: Option<IpAddr>) -> Result<(), Duration> {
        self.admit_at(client, Instant::now())
    }

    fn admit_at(&self, client: Option<IpAddr>, now: Instant) -> Result<(), Duration> {
        if self.per_minute == 0 {
            return Err(Duration::from_secs(60));
        }
        let capacity = f64::from(self.per_minute);
        let per_second = capacity / 60.0;
        let network = Network::of(client.unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)));
        let Ok(mut buckets) = self.buckets.lock() else {
            return Ok(());
        };
        if buckets.len() >= MOST_BUCKETS {
            buckets.retain(|_, b| {
                b.tokens + now.duration_since(b.at).as_secs_f64() * per_second < capacity
            });
            if buckets.len() > MOST_BUCKETS / 2 {
                let mut ages: Vec<Instant> = buckets.values().map(|b| b.at).collect();
                ages.sort_unstable();
                let cutoff = ages[ages.len() - MOST_BUCKETS / 2];
                buckets.retain(|_, b| b.at >= cutoff);
            }
        }
        let bucket = buckets.entry(network).or_insert(Bucket {
            tokens: capacity,
            at: now,
        });
        let refilled = bucket.tokens + now.duration_since(bucket.at).as_secs_f64() * per_second;
        bucket.tokens = refilled.min(capacity);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / per_second)
                .max(Duration::from_secs(1)))
        }
    }
}

impl Default for AnonymousThrottle {
    fn default() -> Self {
        Self::new(DEFAULT_ANONYMOUS_RATE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minutes_worth_then_the_refill_rate() {
        let t = AnonymousThrottle::new(60);
        let start = Instant::now();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        for _ in 0..60 {
            assert!(t.admit_at(Some(a), start).is_ok());
        }
        let wait = t.admit_at(Some(a), start).unwrap_err();
        assert_eq!(wait, Duration::from_secs(1));
        // Another address has its own bucket.
        assert!(t.admit_at(Some(b), start).is_ok());
        // One request a second comes back.
        assert!(
            t.admit_at(Some(a), start + Duration::from_millis(1100))
                .is_ok()
        );
        assert!(
            t.admit_at(Some(a), start + Duration::from_millis(1200))
                .is_err()
        );
    }

    #[test]
    fn memory_stays_bounded_by_forgetting_the_least_recently_used() {
        let t = AnonymousThrottle::new(60);
        let start = Instant::now();
        let ip = |i: u32| IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + i));
        // A microsecond apart, no bucket fills up again: only the age can choose.
        for i in 0..(3 * MOST_BUCKETS as u32) {
            let at = start + Duration::from_micros(u64::from(i));
            assert!(t.admit_at(Some(ip(i)), at).is_ok());
        }
        let buckets = t.buckets.lock().unwrap();
        assert!(buckets.len() <= MOST_BUCKETS, "{} buckets", buckets.len());
        assert!(
            !buckets.contains_key(&Network::of(ip(0))),
            "the oldest is kept"
        );
        let newest = ip(3 * MOST_BUCKETS as u32 - 1);
        assert!(
            buckets.contains_key(&Network::of(newest)),
            "the newest is gone"
        );
    }

    #[test]
    fn zero_refuses_everything() {
        assert!(AnonymousThrottle::new(0).admit(None).is_err());
    }
}
