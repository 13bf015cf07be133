//! S7: when a work order's link expires.
//!
//! Portico stamps `completed_at` and `paid_at` when it sees a work order become completed or
//! paid, and clears them when it is reopened or marked unpaid. The link expires the org's number
//! of days after the later stamp. Once that moment has passed the expiry is kept for good, so a
//! reopen afterwards does not revive the link. Quotes and invoices never expire by themselves.

use time::{Duration, OffsetDateTime};

use crate::model::{Org, Record, WorkOrder, WorkStatus};

/// Keeps `new.completed_at` and `new.paid_at` true to the transitions from `old` at `now`:
/// set when the state is entered, kept while it lasts, cleared when it is left.
pub fn stamp_transitions(old: Option<&WorkOrder>, new: &mut WorkOrder, now: OffsetDateTime) {
    let was_completed = old.filter(|o| o.status == WorkStatus::Completed);
    new.completed_at = (new.status == WorkStatus::Completed)
        .then(|| was_completed.and_then(|o| o.completed_at).unwrap_or(now));
    let was_paid = old.filter(|o| o.paid);
    new.paid_at = new
        .paid
        .then(|| was_paid.and_then(|o| o.paid_at).unwrap_or(now));
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
