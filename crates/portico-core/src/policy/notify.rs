//! N1–N3 and N6: which changes mail the client, and how a burst becomes one email.

use std::collections::HashSet;

use time::{Duration, OffsetDateTime};

use crate::model::{
    InvoiceStatus, NotificationKind, Org, PaymentStatus, QuoteStatus, Record, Section, Sections,
    Share, TaskId, Topic, UpdateId,
};
use crate::policy::access::sharing_available;

/// The status label every page shows (V2) and status emails carry.
pub fn status_label(record: &Record) -> &'static str {
    match record {
        Record::WorkOrder(wo) => wo.status.as_str(),
        Record::Quote(q) => match (&q.decision, q.status) {
            (Some(d), _) => d.kind.as_str(),
            (None, QuoteStatus::Draft) => "draft",
            (None, QuoteStatus::Sent) => "awaiting_decision",
        },
        Record::Invoice(inv) => match inv.status {
            InvoiceStatus::Draft => "draft",
            _ => match inv.payment_status() {
                PaymentStatus::Unpaid => "unpaid",
                PaymentStatus::PartiallyPaid => "partially_paid",
                PaymentStatus::Paid => "paid",
                PaymentStatus::Void => "void",
            },
        },
    }
}

/// N1: whether `share` may mail its client at `now`: enabled, not revoked, not expired, the
/// org's switch on and its plan including sharing.
pub fn may_mail(share: &Share, org: &Org, now: OffsetDateTime) -> bool {
    share.is_active() && !share.is_expired(now) && sharing_available(org).is_ok()
}

/// N2, N3: the client emails a host change from `old` to `new` causes under `sections`. Only
/// status changes, tasks becoming complete (non-internal, checklist on) and updates becoming
/// shared (updates on) mail; nothing else does.
pub fn client_events(old: &Record, new: &Record, sections: Sections) -> Vec<NotificationKind> {
    let mut events = Vec::new();
    let (from, to) = (status_label(old), status_label(new));
    if from != to {
        events.push(NotificationKind::StatusChanged {
            from: from.to_owned(),
            to: to.to_owned(),
        });
    }
    if let (Record::WorkOrder(old), Record::WorkOrder(new)) = (old, new) {
        if sections.is_on(Section::Checklist) {
            let done_before: HashSet<&TaskId> =
                old.tasks.iter().filter(|t| t.done).map(|t| &t.id).collect();
            let tasks: Vec<String> = new
                .tasks
                .iter()
                .filter(|t| t.done && !t.internal && !done_before.contains(&t.id))
                .map(|t| t.title.clone())
                .collect();
            if !tasks.is_empty() {
                events.push(NotificationKind::TasksCompleted { tasks });
            }
        }
        if sections.is_on(Section::Updates) {
            let shared_before: HashSet<&UpdateId> = old
                .updates
                .iter()
                .filter(|u| u.shared)
                .map(|u| &u.id)
                .collect();
            let updates: Vec<String> = new
                .updates
                .iter()
                .filter(|u| u.shared && !shared_before.contains(&u.id))
                .map(|u| u.body.clone())
                .collect();
            if !updates.is_empty() {
                events.push(NotificationKind::UpdatesShared { updates });
            }
        }
    }
    events
}

/// N6: whether notifications of `topic` wait out a burst window to gather more of their kind.
pub fn bursts(topic: Topic) -> bool {
    matches!(
        topic,
        Topic::StatusChanged | Topic::TasksCompleted | Topic::UpdatesShared
    )
}

/// When a notification of `topic` queued at `now` falls due.
pub fn due_at(topic: Topic, now: OffsetDateTime, window: Duration) -> OffsetDateTime {
    if bursts(topic) { now + window } else { now }
}

/// N6: folds `next` into `pending` when they are of the same bursting topic. Returns `next`
/// back when it cannot merge.
pub fn merge(
    pending: &mut NotificationKind,
    next: NotificationKind,
) -> Result<(), NotificationKind> {
    match (pending, next) {
        (
            NotificationKind::StatusChanged { to, .. },
            NotificationKind::StatusChanged { to: latest, .. },
        ) => {
            *to = latest;
            Ok(())
        }
        (
            NotificationKind::TasksCompleted { tasks },
            NotificationKind::TasksCompleted { tasks: more },
        ) => {
            tasks.extend(more);
            Ok(())
        }
        (
            NotificationKind::UpdatesShared { updates },
            NotificationKind::UpdatesShared { updates: more },
        ) => {
            updates.extend(more);
            Ok(())
        }
        (_, next) => Err(next),
    }
}
