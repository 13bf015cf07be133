//! S1: who may share.

use crate::model::{Role, Staff};

/// Whether `role` may enable, change or revoke sharing and mark updates or files as shared (S1).
pub fn can_share(role: Role) -> bool {
    matches!(
        role,
        Role::Owner | Role::Admin | Role::Supervisor | Role::SoleTrader
    )
}

/// Whether `role` may change org-wide settings and API keys through the org's key: the owner,
/// an admin, or a sole trader (who is the owner of a one-person business).
pub fn can_manage_org(role: Role) -> bool {
    matches!(role, Role::Owner | Role::Admin | Role::SoleTrader)
}

/// Why an acting staff member was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ActorDenied {
    /// No such staff member in this org.
    #[error("unknown staff member")]
    Unknown,
    /// The staff member was deactivated.
    #[error("the staff member is deactivated")]
    Inactive,
    /// The role may not do this (S1).
    #[error("a {role} may not share with clients")]
    NotPermitted {
        /// Their role.
        role: Role,
    },
}

/// Checks that `staff` exists and is active.
pub fn active(staff: Option<&Staff>) -> Result<&Staff, ActorDenied> {
    let staff = staff.ok_or(ActorDenied::Unknown)?;
    if staff.active {
        Ok(staff)
    } else {
        Err(ActorDenied::Inactive)
    }
}

/// Checks that `staff` exists, is active and may share (S1).
pub fn sharer(staff: Option<&Staff>) -> Result<&Staff, ActorDenied> {
    let staff = active(staff)?;
    if can_share(staff.role) {
        Ok(staff)
    } else {
        Err(ActorDenied::NotPermitted { role: staff.role })
    }
}

/// S1: whether a change of a work order from `old` to `new` changes what its client already
/// sees, or could see, of its items — which only sharing roles may do: sharing an update or a
/// file; editing, hiding or removing a shared update; renaming, re-captioning, hiding or removing
/// a shared file. A file added while the org shares new photos by default is not the actor
/// sharing it: the owner decided that already (V3).
pub fn changes_what_clients_see(
    old: Option<&crate::model::Record>,
    new: &crate::model::Record,
    photos_shared_by_default: bool,
) -> bool {
    use crate::model::Record;
    let Some(new) = new.as_work_order() else {
        return false;
    };
    let old = old.and_then(Record::as_work_order);
    let old_update = |id| old.and_then(|o| o.updates.iter().find(|u| &u.id == id));
    let old_file = |id| old.and_then(|o| o.files.iter().find(|f| &f.id == id));
    let updates_changed = new.updates.iter().any(|u| match old_update(&u.id) {
        Some(before) if before.shared => !u.shared || before.body != u.body,
        _ => u.shared,
    });
    let files_changed = new.files.iter().any(|f| match old_file(&f.id) {
        Some(before) if before.shared => {
            !f.shared || before.name != f.name || before.caption != f.caption
        }
        Some(_) => f.shared,
        None => f.shared && !photos_shared_by_default,
    });
    let removed_shared = old.is_some_and(|o| {
        o.updates
            .iter()
            .any(|u| u.shared && !new.updates.iter().any(|n| n.id == u.id))
            || o.files
                .iter()
                .any(|f| f.shared && !new.files.iter().any(|n| n.id == f.id))
    });
    updates_changed || files_changed || removed_shared
}
