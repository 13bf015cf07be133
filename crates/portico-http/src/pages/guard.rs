//! S10: throttling of failed token look-ups per client address, with back-off; and the
//! limit on "Get help" messages per address. Valid links never consume the budget.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// The first block after the budget is spent; each further block doubles, up to [`MAX_BLOCK`].
const FIRST_BLOCK: Duration = Duration::from_secs(30);
const MAX_BLOCK: Duration = Duration::from_mins(15);
/// Addresses remembered at most; past it, long-expired blocks are forgotten.
const MAX_TRACKED: usize = 100_000;

struct Block {
    until: Instant,
    strikes: u32,
}

/// Counts failed look-ups per address and blocks an address that spends its budget.
pub(crate) struct Throttle {
    failures: DefaultKeyedRateLimiter<IpAddr>,
    blocked: Mutex<HashMap<IpAddr, Block>>,
}

impl Throttle {
    /// Allows `per_minute` failed look-ups a minute per address (as a burst too).
    pub(crate) fn new(per_minute: NonZeroU32) -> Self {
        Self {
            failures: RateLimiter::keyed(Quota::per_minute(per_minute)),
            blocked: Mutex::new(HashMap::new()),
        }
    }

    fn blocks(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, Block>> {
        // A poisoned lock only means another request panicked mid-update; the map stays usable.
        self.blocked
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// How long `ip` must still wait, if it is blocked.
    pub(crate) fn blocked_for(&self, ip: IpAddr) -> Option<Duration> {
        let now = Instant::now();
        self.blocks()
            .get(&ip)
            .and_then(|b| b.until.checked_duration_since(now))
            .filter(|d| !d.is_zero())
    }

    /// Records a failed look-up from `ip`; when that spends the budget, blocks the address and
    /// returns for how long.
    pub(crate) fn failed(&self, ip: IpAddr) -> Option<Duration> {
        if self.failures.check_key(&ip).is_ok() {
            return None;
        }
        let now = Instant::now();
        let mut blocks = self.blocks();
        if blocks.len() >= MAX_TRACKED {
            blocks.retain(|_, b| b.until + MAX_BLOCK > now);
            self.failures.retain_recent();
        }
        let block = blocks.entry(ip).or_insert(Block {
            until: now,
            strikes: 0,
        });
        block.strikes = block.strikes.saturating_add(1);
        let wait = FIRST_BLOCK
            .saturating_mul(1 << (block.strikes - 1).min(10))
            .min(MAX_BLOCK);
        block.until = now + wait;
        Some(wait)
    }
}

/// A plain per-address budget (the "Get help" form).
pub(crate) struct Budget(DefaultKeyedRateLimiter<IpAddr>);

impl Budget {
    /// `burst` at once, then one per `every`.
    pub(crate) fn new(burst: NonZeroU32, every: Duration) -> Self {
        let quota = Quota::with_period(every)
            .unwrap_or_else(|| Quota::per_minute(NonZeroU32::MIN))
            .allow_burst(burst);
        Self(RateLimiter::keyed(quota))
    }

    /// Spends one from `ip`'s budget; how long to wait when there is none left.
    pub(crate) fn spend(&self, ip: IpAddr) -> Result<(), Duration> {
        self.0.check_key(&ip).map_err(|not_until| {
            not_until.wait_time_from(governor::clock::Clock::now(
                &governor::clock::DefaultClock::default(),
            ))
        })
    }
}
