//! S10: throttling of failed token look-ups per client address, with back-off; and the limits
//! on "Get help" messages per address and per link. Valid links never consume a budget and are
//! served even to a blocked address: only failures are counted and refused, so one guesser
//! behind an office or carrier NAT locks nobody else out.
//!
//! Addresses are keyed as the listener keys them (an IPv6 address by its /64, which one
//! subscriber usually holds whole). The tables are pruned on a schedule and bounded: past
//! [`MAX_TRACKED`] addresses the blocks that end soonest are forgotten first.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::listener::address_key;

/// The first block after the budget is spent; each further block doubles, up to [`MAX_BLOCK`].
const FIRST_BLOCK: Duration = Duration::from_secs(30);
const MAX_BLOCK: Duration = Duration::from_mins(15);
/// Addresses remembered at most (about 100 bytes each).
pub(crate) const MAX_TRACKED: usize = 50_000;
/// How often expired entries are swept.
const PRUNE_EVERY: Duration = Duration::from_mins(1);

struct Block {
    until: Instant,
    strikes: u32,
}

struct Blocks {
    by_address: HashMap<IpAddr, Block>,
    pruned_at: Instant,
}

/// Counts failed look-ups per address and blocks an address that spends its budget.
pub(crate) struct Throttle {
    failures: DefaultKeyedRateLimiter<IpAddr>,
    blocked: Mutex<Blocks>,
}

impl Throttle {
    /// Allows `per_minute` failed look-ups a minute per address (as a burst too).
    pub(crate) fn new(per_minute: NonZeroU32) -> Self {
        Self {
            failures: RateLimiter::keyed(Quota::per_minute(per_minute)),
            blocked: Mutex::new(Blocks {
                by_address: HashMap::new(),
                pruned_at: Instant::now(),
            }),
        }
    }

    fn blocks(&self) -> std::sync::MutexGuard<'_, Blocks> {
        // A poisoned lock only means another request panicked mid-update; the map stays usable.
        self.blocked
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// How long `ip` must still wait, if it is blocked.
    pub(crate) fn blocked_for(&self, ip: IpAddr) -> Option<Duration> {
        let now = Instant::now();
        self.blocks()
            .by_address
            .get(&address_key(ip))
            .and_then(|b| b.until.checked_duration_since(now))
            .filter(|d| !d.is_zero())
    }

    /// Records a failed look-up from `ip`: while the address is blocked, how much longer; when
    /// this failure spends its budget, blocks it (doubling each time) and says for how long.
    pub(crate) fn failed(&self, ip: IpAddr) -> Option<Duration> {
        let key = address_key(ip);
        let now = Instant::now();
        if let Some(wait) = self.blocked_for(ip) {
            return Some(wait);
        }
        if self.failures.check_key(&key).is_ok() {
            self.prune_if_due(now);
            return None;
        }
        let mut blocks = self.blocks();
        let block = blocks.by_address.entry(key).or_insert(Block {
            until: now,
            strikes: 0,
        });
        block.strikes = block.strikes.saturating_add(1);
        let wait = FIRST_BLOCK
            .saturating_mul(1 << (block.strikes - 1).min(10))
            .min(MAX_BLOCK);
        block.until = now + wait;
        if blocks.by_address.len() > MAX_TRACKED {
            evict_soonest(&mut blocks.by_address);
        }
        drop(blocks);
        self.prune_if_due(now);
        Some(wait)
    }

    /// Forgets blocks long over and the rate limiter's idle keys, at most once a minute.
    fn prune_if_due(&self, now: Instant) {
        let mut blocks = self.blocks();
        if now.duration_since(blocks.pruned_at) < PRUNE_EVERY {
            return;
        }
        blocks.pruned_at = now;
        // A block is remembered for one longest block past its end, so strikes still double.
        blocks.by_address.retain(|_, b| b.until + MAX_BLOCK > now);
        drop(blocks);
        self.failures.retain_recent();
        self.failures.shrink_to_fit();
    }

    /// Addresses remembered now (for tests and metrics).
    pub(crate) fn tracked(&self) -> usize {
        self.blocks().by_address.len().max(self.failures.len())
    }
}

/// Drops the tenth of the entries whose blocks end soonest.
fn evict_soonest(blocks: &mut HashMap<IpAddr, Block>) {
    let mut ends: Vec<Instant> = blocks.values().map(|b| b.until).collect();
    let cut = ends.len() / 10;
    let (_, threshold, _) = ends.select_nth_unstable(cut);
    let threshold = *threshold;
    blocks.retain(|_, b| b.until > threshold);
}

/// A plain budget per key (the "Get help" form, per address and per link).
pub(crate) struct Budget<K: Hash + Eq + Clone> {
    limiter: DefaultKeyedRateLimiter<K>,
    pruned_at: Mutex<Instant>,
}

impl<K: Hash + Eq + Clone> Budget<K> {
    /// `burst` at once, then one per `every`.
    pub(crate) fn new(burst: NonZeroU32, every: Duration) -> Self {
        let quota = Quota::with_period(every)
            .unwrap_or_else(|| Quota::per_minute(NonZeroU32::MIN))
            .allow_burst(burst);
        Self {
            limiter: RateLimiter::keyed(quota),
            pruned_at: Mutex::new(Instant::now()),
        }
    }

    /// Spends one from `key`'s budget; how long to wait when there is none left.
    pub(crate) fn spend(&self, key: &K) -> Result<(), Duration> {
        self.prune_if_due();
        self.limiter.check_key(key).map_err(|not_until| {
            not_until.wait_time_from(governor::clock::Clock::now(
                &governor::clock::DefaultClock::default(),
            ))
        })
    }

    fn prune_if_due(&self) {
        let mut at = self
            .pruned_at
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if at.elapsed() >= PRUNE_EVERY {
            *at = Instant::now();
            self.limiter.retain_recent();
            self.limiter.shrink_to_fit();
        }
    }
}
