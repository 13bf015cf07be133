//! S7: when a work order's link expires.
//!
//! A work order carries `completed_at` and `paid_at`: the host may say when each happened (an
//! import of old, finished jobs); otherwise Portico stamps the moment it sees the work order
//! become completed or paid. Both are cleared when it is reopened or marked unpaid. The link
//! expires the org's number of days after the later of the two. Once that moment has passed the expiry is kept for good, so a
//! reopen afterwards does not revive the link. Quotes and invoices never expire by themselves.

use time::{Duration, OffsetDateTime};

use crate::model::{Org, Record, WorkOrder, WorkStatus};

/// How far ahead of Portico's clock a host's time may be and still count as now (clock skew).
pub const HOST_CLOCK_SKEW: Duration = Duration::minutes(5);

/// A time the host gave that cannot be right: later than now (beyond [`HOST_CLOCK_SKEW`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0} is in the future")]
pub struct InFuture(pub &'static str);

/// Keeps `new.completed_at` and `new.paid_at` true to the transitions from `old` at `now`.
/// A time `new` carries (the host's) is kept, up to `now`, while its state holds; otherwise
/// the state's time is kept while it lasts and stamped `now` when it is entered. Both are
/// cleared when their state is left (a time given for a state not reached is dropped).
pub fn stamp_transitions(
    old: Option<&WorkOrder>,
    new: &mut WorkOrder,
    now: OffsetDateTime,
) -> Result<(), InFuture> {
    let said = |at: Option<OffsetDateTime>, field| match at {
        Some(at) if at > now + HOST_CLOCK_SKEW => Err(InFuture(field)),
        other => Ok(other.map(|at| at.min(now))),
    };
    let completed_said = said(new.completed_at, "completed_at")?;
    let paid_said = said(new.paid_at, "paid_at")?;
    let completed = new.status == WorkStatus::Completed;
    let was_completed = old.filter(|o| o.status == WorkStatus::Completed);
    new.completed_at = completed.then(|| {
        completed_said
            .or_else(|| was_completed.and_then(|o| o.completed_at))
            .unwrap_or(now)
    });
    let was_paid = old.filter(|o| o.paid);
    new.paid_at = new.paid.then(|| {
        paid_said
            .or_else(|| was_paid.and_then(|o| o.paid_at))
            .unwrap_or(now)
    });
    Ok(())
}

/// The moment a work order became both completed and paid: the later of the two stamps.
pub fn closed_at(work_order: &WorkOrder) -> Option<OffsetDateTime> {
    Some(work_order.completed_at?.max(work_order.paid_at?))
}

/// The expiry a share of `record` should carry at `now`, given the one it carries (`current`).
pub fn expiry(
    current: Option<OffsetDateTime>,
    record: &Record,
    org: &Org,
    now: OffsetDateTime,
) -> Option<OffsetDateTime> {
    if let Some(at) = current.filter(|at| *at <= now) {
        return Some(at); // dead for good
    }
    match record {
        Record::WorkOrder(wo) => closed_at(wo)
            .map(|closed| closed + Duration::days(i64::from(org.settings.link_expiry_days))),
        Record::Quote(_) | Record::Invoice(_) => None,
    }
}
