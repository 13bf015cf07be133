//! S1: who may share.

use crate::model::{Role, Staff};

/// Whether `role` may enable, change or revoke sharing and mark updates or files as shared (S1).
pub fn can_share(role: Role) -> bool {
    matches!(
        role,
        Role::Owner | Role::Admin | Role::Supervisor | Role::SoleTrader
    )
}

/// Why an acting staff member was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
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
