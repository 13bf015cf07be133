//! N1–N3 and N6: which changes mail the client, and how a burst becomes one email.

use std::collections::HashSet;

use time::{Duration, OffsetDateTime};

use crate::model::{
    NotificationKind, Org, Record, Section, Sections, Share, TaskId, Topic, UpdateId,
};
use crate::policy::access::sharing_available;
use crate::ports::Visit;

/// N3: the planned visit a status email names: only on a work order with a planned start,
/// and only while its share shows the schedule.
pub fn visit_named(kind: &NotificationKind, sections: Sections, record: &Record) -> Option<Visit> {
    let schedule = &record.as_work_order()?.schedule;
    let named =
        matches!(kind, NotificationKind::StatusChanged { .. }) && sections.is_on(Section::Schedule);
    named.then_some(Visit {
        start: schedule.start?,
        end: schedule.end,
    })
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
    let (from, to) = (old.status_label(), new.status_label());
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
            let (task_ids, tasks): (Vec<TaskId>, Vec<String>) = new
                .tasks
                .iter()
                .filter(|t| t.done && !t.internal && !done_before.contains(&t.id))
                .map(|t| (t.id.clone(), t.title.clone()))
                .unzip();
            if !tasks.is_empty() {
                events.push(NotificationKind::TasksCompleted { tasks, task_ids });
            }
        }
        if sections.is_on(Section::Updates) {
            let shared_before: HashSet<&UpdateId> = old
                .updates
                .iter()
                .filter(|u| u.shared)
                .map(|u| &u.id)
                .collect();
            let (update_ids, updates): (Vec<UpdateId>, Vec<String>) = new
                .updates
                .iter()
                .filter(|u| u.shared && !shared_before.contains(&u.id))
                .map(|u| (u.id.clone(), u.body.clone()))
                .unzip();
            if !updates.is_empty() {
                events.push(NotificationKind::UpdatesShared {
                    updates,
                    update_ids,
                });
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
) -> Result<(), Box<NotificationKind>> {
    match (pending, next) {
        (
            NotificationKind::StatusChanged { to, .. },
            NotificationKind::StatusChanged { to: latest, .. },
        ) => {
            *to = latest;
            Ok(())
        }
        (
            NotificationKind::TasksCompleted { tasks, task_ids },
            NotificationKind::TasksCompleted {
                tasks: more,
                task_ids: more_ids,
            },
        ) => {
            tasks.extend(more);
            task_ids.extend(more_ids);
            Ok(())
        }
        (
            NotificationKind::UpdatesShared {
                updates,
                update_ids,
            },
            NotificationKind::UpdatesShared {
                updates: more,
                update_ids: more_ids,
            },
        ) => {
            updates.extend(more);
            update_ids.extend(more_ids);
            Ok(())
        }
        (_, next) => Err(Box::new(next)),
    }
}

/// Why a queued client email is not sent after all: what it was about no longer holds when it
/// is due.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Stale {
    /// The record is gone.
    #[error("the record is gone")]
    RecordGone,
    /// The status went back to where the burst started (N6: no net change).
    #[error("the status is back to {0} (no change to tell)")]
    StatusUnchanged(String),
    /// The checklist section is hidden now (N3).
    #[error("the checklist section is hidden (N3)")]
    ChecklistHidden,
    /// None of the tasks is still done and visible.
    #[error("no task of this email is still done and shared")]
    NoTaskLeft,
    /// The updates section is hidden now (N3).
    #[error("the updates section is hidden (N3)")]
    UpdatesHidden,
    /// None of the updates is still shared.
    #[error("no update of this email is still shared")]
    NoUpdateLeft,
}

/// N1–N3 at send time: what a queued client email says, taken from the record and the share's
/// sections as they stand when it is due, or why it must not go at all. A task must still be
/// done, not internal, under a visible checklist; an update still shared under visible updates;
/// a status still different from where the burst began. Texts are the current ones.
pub fn at_send_time(
    kind: &NotificationKind,
    record: Option<&Record>,
    sections: Sections,
) -> Result<NotificationKind, Stale> {
    let record = record.ok_or(Stale::RecordGone)?;
    match kind {
        NotificationKind::StatusChanged { from, .. } => {
            let now = record.status_label();
            if now == from {
                return Err(Stale::StatusUnchanged(now.to_owned()));
            }
            Ok(NotificationKind::StatusChanged {
                from: from.clone(),
                to: now.to_owned(),
            })
        }
        NotificationKind::TasksCompleted { tasks, task_ids } => {
            if !sections.is_on(Section::Checklist) {
                return Err(Stale::ChecklistHidden);
            }
            let done = record.as_work_order().map_or(&[][..], |wo| &wo.tasks);
            let still = still_true(
                done.iter().filter(|t| t.done && !t.internal),
                task_ids,
                tasks,
                |t| (&t.id, &t.title),
            );
            if still.is_empty() {
                return Err(Stale::NoTaskLeft);
            }
            Ok(NotificationKind::TasksCompleted {
                tasks: still.iter().map(|t| t.title.clone()).collect(),
                task_ids: still.iter().map(|t| t.id.clone()).collect(),
            })
        }
        NotificationKind::UpdatesShared {
            updates,
            update_ids,
        } => {
            if !sections.is_on(Section::Updates) {
                return Err(Stale::UpdatesHidden);
            }
            let posted = record.as_work_order().map_or(&[][..], |wo| &wo.updates);
            let still = still_true(
                posted.iter().filter(|u| u.shared),
                update_ids,
                updates,
                |u| (&u.id, &u.body),
            );
            if still.is_empty() {
                return Err(Stale::NoUpdateLeft);
            }
            Ok(NotificationKind::UpdatesShared {
                updates: still.iter().map(|u| u.body.clone()).collect(),
                update_ids: still.iter().map(|u| u.id.clone()).collect(),
            })
        }
        other => Ok(other.clone()),
    }
}

/// The items among `current` (already filtered to those still true) that an email named, in
/// the email's order: matched by id, or by text for notifications queued before ids were kept.
fn still_true<'a, T, Id: PartialEq>(
    current: impl Iterator<Item = &'a T>,
    ids: &[Id],
    texts: &[String],
    key: impl Fn(&T) -> (&Id, &String),
) -> Vec<&'a T> {
    let place = |item: &T| {
        let (id, text) = key(item);
        if ids.is_empty() {
            texts.iter().position(|t| t == text)
        } else {
            ids.iter().position(|i| i == id)
        }
    };
    let mut named: Vec<(usize, &T)> = current
        .filter_map(|item| place(item).map(|at| (at, item)))
        .collect();
    named.sort_by_key(|(at, _)| *at);
    named.into_iter().map(|(_, item)| item).collect()
}
