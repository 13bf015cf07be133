//! P1: whether a work-order change should ask staff "share with client?".

use serde::Serialize;

use crate::model::{Org, Role, Section, Sections, WorkOrder};
use crate::policy::access::sharing_available;
use crate::policy::permissions::can_share;

/// What the host app shows when asking "share with client?".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SharePrompt {
    /// Visible sections whose content changed.
    pub changed: Vec<Section>,
    /// The status (always visible) changed.
    pub status_changed: bool,
    /// The schedule was set for the first time.
    pub first_schedule: bool,
    /// Whether the record already has an active share (then the client sees the change).
    pub share_active: bool,
}

/// The sections of a work order whose client-visible content differs between `old` and `new`.
/// Invoices live in their own records, so a work-order change never touches that section.
pub fn changed_sections(old: &WorkOrder, new: &WorkOrder) -> Vec<Section> {
    let visible_tasks = |w: &WorkOrder| {
        w.tasks
            .iter()
            .filter(|t| !t.internal)
            .map(|t| (t.id.clone(), t.title.clone(), t.done))
            .collect::<Vec<_>>()
    };
    let shared_files = |w: &WorkOrder| {
        w.files
            .iter()
            .filter(|f| f.shared)
            .cloned()
            .collect::<Vec<_>>()
    };
    let shared_updates = |w: &WorkOrder| {
        w.updates
            .iter()
            .filter(|u| u.shared)
            .cloned()
            .collect::<Vec<_>>()
    };
    let parts = |w: &WorkOrder| {
        w.parts
            .iter()
            .map(|p| (p.name.clone(), p.quantity))
            .collect::<Vec<_>>()
    };
    Section::ALL
        .into_iter()
        .filter(|s| match s {
            Section::ClientInfo => old.client_id != new.client_id,
            Section::Scope => old.description != new.description,
            Section::Schedule => old.schedule != new.schedule,
            Section::Checklist => visible_tasks(old) != visible_tasks(new),
            Section::PhotosFiles => shared_files(old) != shared_files(new),
            Section::PartsUsed => parts(old) != parts(new),
            Section::Signature => old.signature != new.signature,
            Section::Invoices => false,
            Section::Updates => shared_updates(old) != shared_updates(new),
        })
        .collect()
}

/// P1: the prompt for a change by a staff member of `role`, or `None`. `active_sections` are the
/// sections of the record's active share, if it has one; without one every section counts.
pub fn share_prompt(
    old: Option<&WorkOrder>,
    new: &WorkOrder,
    role: Role,
    org: &Org,
    active_sections: Option<Sections>,
) -> Option<SharePrompt> {
    if !can_share(role) || sharing_available(org).is_err() || new.client_id.is_none() {
        return None;
    }
    let first_schedule = new.schedule.is_set() && !old.is_some_and(|o| o.schedule.is_set());
    let sections = active_sections.unwrap_or(Sections::ALL);
    let (changed, status_changed) = match old {
        Some(old) => (
            changed_sections(old, new)
                .into_iter()
                .filter(|s| sections.is_on(*s))
                .collect(),
            old.status != new.status,
        ),
        None => (Vec::new(), false),
    };
    (first_schedule || status_changed || !changed.is_empty()).then(|| SharePrompt {
        changed,
        status_changed,
        first_schedule,
        share_active: active_sections.is_some(),
    })
}
