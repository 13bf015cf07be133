//! N5: when an email that failed for a passing reason is tried again, and when it is given up.

use time::{Duration, OffsetDateTime};

/// How retries back off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The first retry's delay; each further one doubles.
    pub first: Duration,
    /// The longest delay between two tries.
    pub max: Duration,
    /// A notification still failing this long after it was created is given up.
    pub give_up_after: Duration,
}

/// What follows a temporary failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Try again at this moment.
    RetryAt(OffsetDateTime),
    /// Old enough: stop trying.
    GiveUp,
}

/// The delay before the next try after `attempts` tries: `first`, doubled for each further
/// try, never more than `max` (before [`jittered`]).
pub fn delay(backoff: &Backoff, attempts: u32) -> Duration {
    let factor = 1_i32 << attempts.saturating_sub(1).min(20);
    (backoff.first * factor).min(backoff.max)
}

/// `delay` plus up to a quarter more, in proportion to `random` (0 to 255), so that retries
/// after an outage do not all arrive at once.
pub fn jittered(delay: Duration, random: u8) -> Duration {
    delay + delay * i32::from(random) / (4 * 255)
}

/// N5: after a temporary failure at `now` of a notification created at `created_at` and tried
/// `attempts` times: when to try again, or to give up once it is `give_up_after` old.
pub fn after_failure(
    backoff: &Backoff,
    created_at: OffsetDateTime,
    attempts: u32,
    now: OffsetDateTime,
    random: u8,
) -> Next {
    if now - created_at >= backoff.give_up_after {
        Next::GiveUp
    } else {
        Next::RetryAt(now + jittered(delay(backoff, attempts), random))
    }
}
