//! The audit log (S12): every share action, never shown to a client.

use time::OffsetDateTime;

use super::{AuditId, DecisionKind, Email, OrgId, RecordRef, Sections, ShareId, StaffId};

/// Who did something.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A staff member, through the host app.
    Staff(StaffId),
    /// The client, through a share link.
    Client,
}

/// What was done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditAction {
    /// Sharing enabled for the first time on the record.
    ShareEnabled,
    /// Sharing enabled again after a revoke or expiry, with a fresh token.
    ShareReshared,
    /// The recipient changed.
    RecipientChanged {
        /// Before.
        from: Email,
        /// After.
        to: Email,
    },
    /// The visible sections changed.
    SectionsChanged {
        /// Before.
        from: Sections,
        /// After.
        to: Sections,
    },
    /// Sharing disabled.
    ShareRevoked,
    /// The record's client changed, which ended its share: the link no longer opens, so the
    /// old recipient never sees the new client's details.
    ShareEndedClientChanged,
    /// The client decided on a quote.
    QuoteDecided {
        /// What they decided.
        decision: DecisionKind,
    },
}

/// One audit-log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Portico's id.
    pub id: AuditId,
    /// The org.
    pub org_id: OrgId,
    /// The record acted on.
    pub record: RecordRef,
    /// The share acted on.
    pub share_id: Option<ShareId>,
    /// Who.
    pub actor: Actor,
    /// What.
    pub action: AuditAction,
    /// When.
    pub at: OffsetDateTime,
}
