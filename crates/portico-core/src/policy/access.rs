//! S2 (may this record be shared, and with whom) and S5/S7/S8 (what opening a link gets).

use time::OffsetDateTime;

use crate::model::{Client, Email, EmailError, Org, Plan, Record, Share};

/// Why sharing is not available to an org at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SharingBlocked {
    /// The org's plan lacks client sharing (S2).
    #[error("client sharing needs the {required:?} plan; this org is on {plan:?}")]
    PlanRequired {
        /// The org's plan.
        plan: Plan,
        /// The plan that includes sharing.
        required: Plan,
    },
    /// The org switched client sharing off (S2, S8).
    #[error("client sharing is switched off for this org")]
    SwitchedOff,
}

/// Whether the org may share at all: the plan includes it and the switch is on.
pub fn sharing_available(org: &Org) -> Result<(), SharingBlocked> {
    if !org.plan.includes_sharing() {
        return Err(SharingBlocked::PlanRequired {
            plan: org.plan,
            required: Plan::WITH_SHARING,
        });
    }
    if !org.settings.client_sharing {
        return Err(SharingBlocked::SwitchedOff);
    }
    Ok(())
}

/// Why a record may not be shared (S2); each failure its own.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ShareDenied {
    /// Plan or switch.
    #[error(transparent)]
    Blocked(#[from] SharingBlocked),
    /// No client is attached to the record.
    #[error("the record has no client attached")]
    NoClient,
    /// No recipient was given and the client has no email on file.
    #[error("no recipient email was given and the client has none on file")]
    NoRecipient,
    /// The recipient email is not valid.
    #[error(transparent)]
    InvalidEmail(#[from] EmailError),
}

/// S2: checks everything sharing `record` needs and returns the recipient: `requested` if
/// given, else the client's email.
pub fn share_preconditions(
    org: &Org,
    record: &Record,
    client: Option<&Client>,
    requested: Option<&str>,
) -> Result<Email, ShareDenied> {
    sharing_available(org)?;
    let client = match (record.client_id(), client) {
        (Some(id), Some(client)) if &client.id == id => client,
        _ => return Err(ShareDenied::NoClient),
    };
    match requested {
        Some(raw) => Ok(Email::parse(raw)?),
        None => client.email.clone().ok_or(ShareDenied::NoRecipient),
    }
}

/// Whether a change from `old` to `new` moves the record to another client (or takes its
/// client away). Such a change ends the record's share: the link went to the old client, and
/// what the page would now show (name, address, phone, email, invoices) is the new client's.
pub fn client_changed(old: &Record, new: &Record) -> bool {
    old.client_id() != new.client_id()
}

/// What opening a link gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// The client view.
    Granted,
    /// Unknown or revoked token: the same answer for both (S5).
    NotFound,
    /// The link expired (S7): "no longer active", with the company's contact.
    Expired,
    /// Sharing is off for the org, or its plan lapsed (S8): "not available".
    Unavailable,
}

/// S5, S7, S8: what a request for `share`'s link gets at `now`.
pub fn access(share: Option<&Share>, org: &Org, now: OffsetDateTime) -> Access {
    match share {
        None => Access::NotFound,
        Some(share) if !share.is_active() && !share.closed_after_expiry() => Access::NotFound,
        Some(_) if sharing_available(org).is_err() => Access::Unavailable,
        Some(share) if share.is_expired(now) => Access::Expired,
        Some(_) => Access::Granted,
    }
}
