//! Throttling of password guesses that locks no one else out.
//!
//! A wrong password counts against the pair (user, client address), and a guess at a
//! name that does not exist against the address alone. Nothing counts against a user
//! name by itself: a correct password from another address works at once, however
//! many guesses were made at that name elsewhere. Tokens and node secrets are long
//! random strings that nobody guesses; they are never throttled here.
//!
//! An attempt is counted before its password is checked (it holds a slot until it
//! ends), so a burst of parallel guesses gets no more tries than a sequence. After
//! [`FREE_FAILURES`] failures each further one makes the next attempt wait twice as
//! long, up to [`MAX_DELAY`]; a refused attempt is told how long to wait and is never
//! held on the server. Memory is bounded: at most [`MAX_ENTRIES`] keys, the stalest
//! given up first.
//!
//! Failures are also counted in the database, so that every replica on it throttles
//! the same guesses: before an attempt, the key's count and wait are made what the
//! database says ([`LoginLimiter::sync`]), which every process's failures (and a
//! right password, on any of them) went into. Attempts under way are counted by each
//! process alone.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures of one key that cost no waiting.
pub const FREE_FAILURES: u32 = 5;
/// Failures of guessed names from one address that cost no waiting: several people
/// behind one address may each mistype their name.
pub const FREE_ADDRESS_FAILURES: u32 = 20;
/// The longest wait a run of failures can cost.
pub const MAX_DELAY: Duration = Duration::from_secs(15 * 60);
/// A key with no attempt for this long starts afresh.
pub const FORGET_AFTER: Duration = Duration::from_secs(3600);
/// The most keys remembered at once.
pub const MAX_ENTRIES: usize = 100_000;

/// A client address as throttling counts it: IPv4 exactly, IPv6 by its /64 (one
/// subscriber usually holds a whole /64 and picks addresses in it freely).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Network(IpAddr);

impl Network {
    pub fn of(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(_) => Network(ip),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Network(IpAddr::V4(v4)),
                None => {
                    let bits = u128::from(v6) & !((1u128 << 64) - 1);
                    Network(IpAddr::V6(bits.into()))
                }
            },
        }
    }
}

/// What an attempt counts against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    /// A password for an existing user, from one network.
    Pair(String, Network),
    /// A name that is no user, from one network.
    Address(Network),
}

impl Key {
    /// The key as the database stores it.
    pub fn as_text(&self) -> String {
        match self {
            Key::Pair(user, Network(ip)) => format!("pair:{ip}:{user}"),
            Key::Address(Network(ip)) => format!("address:{ip}"),
        }
    }

    fn free_failures(&self) -> u32 {
        match self {
            Key::Pair(..) => FREE_FAILURES,
            Key::Address(_) => FREE_ADDRESS_FAILURES,
        }
    }
}

#[derive(Debug)]
struct Entry {
    failures: u32,
    in_flight: u32,
    /// No attempt before this.
    until: Instant,
    last: Instant,
}

/// The throttle: keys with their recent failures.
#[derive(Default)]
pub struct LoginLimiter {
    entries: Mutex<HashMap<Key, Entry>>,
}

/// An admitted attempt. Say how it ended with [`Attempt::succeeded`] or
/// [`Attempt::failed`]; dropped without either (the check itself broke), it counts
/// for nothing.
pub struct Attempt<'a> {
    limiter: &'a LoginLimiter,
    key: Key,
    ended: bool,
}

impl LoginLimiter {
    /// Takes in what every process on the database counted against `key`: `failures`
    /// failures, the last of them `ago`; the key's count and wait become at least
    /// that. `None` (nothing counted: none failed, or the right password came, on any
    /// process) starts the key afresh. Failures are written to the database before
    /// they are counted here, so a read is never behind this process.
    pub fn sync(&self, key: &Key, counted: Option<(u32, Duration)>) {
        let now = Instant::now();
        let counted = counted.filter(|(n, ago)| *n > 0 && *ago < FORGET_AFTER);
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let Some((failures, ago)) = counted else {
            if let Some(e) = entries.get_mut(key) {
                e.failures = 0;
                e.until = now;
            }
            return;
        };
        let last = now.checked_sub(ago).unwrap_or(now);
        if !entries.contains_key(key) && entries.len() >= MAX_ENTRIES {
            make_room(&mut entries, now);
        }
        let e = entries.entry(key.clone()).or_insert(Entry {
            failures: 0,
            in_flight: 0,
            until: now,
            last,
        });
        e.failures = e.failures.max(failures);
        e.last = e.last.max(last);
        let free = key.free_failures();
        if failures >= free {
            e.until = e.until.max(last + delay_after(failures - free));
        }
    }

    /// Admits an attempt for `key`, or says how long to wait first.
    pub fn begin(&self, key: Key) -> Result<Attempt<'_>, Duration> {
        let now = Instant::now();
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if !entries.contains_key(&key) && entries.len() >= MAX_ENTRIES {
            make_room(&mut entries, now);
        }
        let free = key.free_failures();
        let e = entries.entry(key.clone()).or_insert(Entry {
            failures: 0,
            in_flight: 0,
            until: now,
            last: now,
        });
        if e.in_flight == 0 && now.duration_since(e.last) >= FORGET_AFTER {
            e.failures = 0;
            e.until = now;
        }
        // Within the free failures, as many at once as are left; past them, one at a
        // time and only once the wait is over.
        let admitted = if e.failures + e.in_flight < free {
            true
        } else {
            e.in_flight == 0 && now >= e.until
        };
        if !admitted {
            let wait = e.until.saturating_duration_since(now);
            return Err(wait.max(Duration::from_secs(1)));
        }
        e.in_flight += 1;
        e.last = now;
        Ok(Attempt {
            limiter: self,
            key,
            ended: false,
        })
    }

    fn end(&self, key: &Key, failed: bool) {
        let now = Instant::now();
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let Some(e) = entries.get_mut(key) else {
            return;
        };
        e.in_flight = e.in_flight.saturating_sub(1);
        e.last = now;
        if failed {
            e.failures = e.failures.saturating_add(1);
            let free = key.free_failures();
            if e.failures >= free {
                e.until = now + delay_after(e.failures - free);
            }
        } else if matches!(key, Key::Pair(..)) && e.in_flight == 0 {
            // The right password from this address: its earlier mistakes are forgiven.
            entries.remove(key);
        }
    }

    /// How many keys are remembered (for tests and metrics).
    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Attempt<'_> {
    pub fn succeeded(mut self) {
        self.ended = true;
        self.limiter.end(&self.key, false);
    }

    pub fn failed(mut self) {
        self.ended = true;
        self.limiter.end(&self.key, true);
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        if !self.ended {
            let mut entries = self
                .limiter
                .entries
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if let Some(e) = entries.get_mut(&self.key) {
                e.in_flight = e.in_flight.saturating_sub(1);
            }
        }
    }
}

/// The wait after the `n`-th failure past the free ones (from 0): 1 s, 2 s, 4 s, …
fn delay_after(n: u32) -> Duration {
    Duration::from_secs(1u64 << n.min(20)).min(MAX_DELAY)
}

/// Forgets keys idle past [`FORGET_AFTER`]; when none are, the stalest one with no
/// attempt under way.
fn make_room(entries: &mut HashMap<Key, Entry>, now: Instant) {
    entries.retain(|_, e| e.in_flight > 0 || now.duration_since(e.last) < FORGET_AFTER);
    if entries.len() < MAX_ENTRIES {
        return;
    }
    if let Some(stalest) = entries
        .iter()
        .filter(|(_, e)| e.in_flight == 0)
        .min_by_key(|(_, e)| e.last)
        .map(|(k, _)| k.clone())
    {
        entries.remove(&stalest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(user: &str, ip: &str) -> Key {
        Key::Pair(user.into(), Network::of(ip.parse().unwrap()))
    }

    #[test]
    fn failures_past_the_free_ones_wait_longer_each_time() {
        let l = LoginLimiter::default();
        for _ in 0..FREE_FAILURES {
            l.begin(pair("alice", "10.0.0.1")).unwrap().failed();
        }
        let wait = l.begin(pair("alice", "10.0.0.1")).err().unwrap();
        assert_eq!(wait, Duration::from_secs(1));
        // Another address, and the same address for another user, are untouched.
        l.begin(pair("alice", "10.0.0.2")).unwrap().succeeded();
        l.begin(pair("bob", "10.0.0.1")).unwrap().succeeded();
        assert_eq!(delay_after(0), Duration::from_secs(1));
        assert_eq!(delay_after(5), Duration::from_secs(32));
        assert_eq!(delay_after(40), MAX_DELAY);
    }

    #[test]
    fn failures_another_process_counted_make_this_one_wait_too() {
        let l = LoginLimiter::default();
        let key = pair("alice", "10.0.0.1");
        // Fewer than the free ones: still let in.
        l.sync(&key, Some((FREE_FAILURES - 1, Duration::from_secs(1))));
        l.begin(key.clone()).unwrap().failed();
        assert!(l.begin(key.clone()).is_err());
        // The right password on another process forgave them: let in again.
        l.sync(&key, None);
        l.begin(key.clone()).unwrap().failed();
        // Past the free ones, just now: a wait of its own, here as there.
        let other = pair("bob", "10.0.0.1");
        l.sync(&other, Some((FREE_FAILURES + 2, Duration::ZERO)));
        let wait = l.begin(other.clone()).err().unwrap();
        assert!(wait > Duration::from_secs(2), "{wait:?}");
        // Failures from long ago are no reason to wait.
        let old = pair("carol", "10.0.0.1");
        l.sync(&old, Some((50, FORGET_AFTER)));
        l.begin(old).unwrap().succeeded();
        assert_ne!(key.as_text(), pair("alice", "10.0.0.2").as_text());
        assert_ne!(
            Key::Address(Network::of("10.0.0.1".parse().unwrap())).as_text(),
            key.as_text()
        );
    }

    #[test]
    fn parallel_guesses_get_no_more_tries_than_a_sequence() {
        let l = LoginLimiter::default();
        let held: Vec<_> = (0..50)
            .filter_map(|_| l.begin(pair("alice", "10.0.0.1")).ok())
            .collect();
        assert_eq!(held.len(), FREE_FAILURES as usize);
        for a in held {
            a.failed();
        }
        assert!(l.begin(pair("alice", "10.0.0.1")).is_err());
    }

    #[test]
    fn a_broken_check_counts_for_nothing_and_success_forgives() {
        let l = LoginLimiter::default();
        for _ in 0..20 {
            drop(l.begin(pair("alice", "10.0.0.1")).unwrap());
        }
        for _ in 0..FREE_FAILURES - 1 {
            l.begin(pair("alice", "10.0.0.1")).unwrap().failed();
        }
        l.begin(pair("alice", "10.0.0.1")).unwrap().succeeded();
        assert!(l.is_empty());
    }

    #[test]
    fn ipv6_counts_per_slash_64() {
        let a = Network::of("2001:db8:1:2:aaaa::1".parse().unwrap());
        let b = Network::of("2001:db8:1:2:bbbb::9".parse().unwrap());
        let c = Network::of("2001:db8:1:3::1".parse().unwrap());
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(
            Network::of("::ffff:10.0.0.1".parse().unwrap()),
            Network::of("10.0.0.1".parse().unwrap())
        );
    }

    #[test]
    fn memory_stays_bounded() {
        let l = LoginLimiter::default();
        for i in 0..(MAX_ENTRIES as u32 + 50) {
            let ip = IpAddr::V4(i.into());
            l.begin(Key::Address(Network::of(ip))).unwrap().failed();
        }
        assert_eq!(l.len(), MAX_ENTRIES);
    }
}
