//! The errors of the use cases: one enum per family, with variants a caller can act on.

use time::OffsetDateTime;

use crate::model::{DecisionKind, EmailError, Role};
use crate::policy::access::{ShareDenied, SharingBlocked};
use crate::policy::permissions::ActorDenied;
use crate::policy::quote::{DecisionDenied, QuoteLocked};
use crate::ports::{BackendError, StoreError};
use crate::token::KeyError;

/// Errors that can be retried from a fresh read.
pub(crate) trait Retryable {
    fn is_conflict(&self) -> bool;
}

/// Why a share action (enable, get, change, revoke, list) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ShareError {
    /// No such org.
    #[error("unknown org")]
    UnknownOrg,
    /// The acting staff member is unknown, deactivated, or of a role that may not share (S1).
    #[error(transparent)]
    Actor(#[from] ActorDenied),
    /// S2: the org's plan lacks sharing, or the org switched it off.
    #[error(transparent)]
    Blocked(#[from] SharingBlocked),
    /// S2: no client attached.
    #[error("the record has no client attached")]
    NoClient,
    /// S2: no recipient given and none on file.
    #[error("no recipient email was given and the client has none on file")]
    NoRecipient,
    /// S2: the recipient email is invalid.
    #[error(transparent)]
    InvalidEmail(#[from] EmailError),
    /// No such record in the org.
    #[error("record not found")]
    RecordNotFound,
    /// No such share in the org.
    #[error("share not found")]
    ShareNotFound,
    /// S7: the work order's link would be born expired; reopen the job to share it again.
    #[error("the work order's link expired at {0}")]
    RecordExpired(OffsetDateTime),
    /// The share was revoked; enable sharing again for a fresh link.
    #[error("the share was revoked")]
    Revoked,
    /// Someone else changed the same thing at the same time, and retrying did not help.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The share's token key is not configured (a key was removed from the ring too early).
    #[error(transparent)]
    Key(#[from] KeyError),
    /// Storage failed.
    #[error("storage failed")]
    Backend(#[source] BackendError),
}

/// Why a host change of a record (upsert or event) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// No such org.
    #[error("unknown org")]
    UnknownOrg,
    /// The acting staff member is unknown, deactivated, or of a role that may not mark updates
    /// or files as shared with the client (S1).
    #[error(transparent)]
    Actor(#[from] ActorDenied),
    /// Only an owner or admin (or a sole trader) changes org-wide settings and keys.
    #[error("a {role} may not change the org's settings or keys")]
    NotOrgManager {
        /// The actor's role.
        role: Role,
    },
    /// The plan is the operator's to set (through the admin routes), never the org's.
    #[error("the plan is set by the operator, not through the org's key")]
    PlanSetByOperator,
    /// No such record (for events).
    #[error("record not found")]
    NotFound,
    /// An event names a task the work order does not have.
    #[error("task {0} not found on this work order")]
    UnknownTask(crate::model::TaskId),
    /// The input is not acceptable: which value, and why.
    #[error("invalid: {0}")]
    Invalid(#[from] InvalidInput),
    /// V5: the client decided on the quote; it can no longer change.
    #[error("the client {} this quote; it can no longer change", .0.as_str())]
    Locked(DecisionKind),
    /// C7: the contract's latest version is signed; it can no longer change or be withdrawn.
    /// A changed text makes a new version instead.
    #[error("the client signed version {0} of this contract; it can no longer change")]
    Signed(u32),
    /// Someone else changed the record at the same time, and retrying did not help.
    #[error("conflict: {0}")]
    Conflict(String),
    /// Storage failed.
    #[error("storage failed")]
    Backend(#[source] BackendError),
}

/// A host input refused (I6): the value, as the API names it, and a message saying why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct InvalidInput {
    /// The value refused (`org name`, `tasks`, `time_zone`, `completed_at` …).
    pub field: String,
    /// Why, in words for the host app's developer; it names the value too.
    pub message: String,
}

impl InvalidInput {
    /// `field` refused, for the reason `message` gives.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Why a client's "Get help" request was refused (V2), in words for the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HelpRefused {
    /// No name, or a name longer than 200 characters.
    #[error("please give your name (up to 200 characters)")]
    Name,
    /// No message, or one longer than 5,000 characters.
    #[error("please write a message (up to 5,000 characters)")]
    Message,
    /// A phone number longer than 40 characters or with other characters than digits, spaces
    /// and `+ ( ) - .`.
    #[error("a phone number has digits, spaces and + ( ) - . only")]
    Phone,
}

/// Why a client action behind a link (open, decide) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The link does not open (unknown, revoked, expired or switched off); the same answer
    /// as opening it would give.
    #[error("this link is not active")]
    LinkInactive,
    /// The link is not to a quote.
    #[error("this link is not to a quote")]
    NotAQuote,
    /// V5: the decision was refused.
    #[error(transparent)]
    Decision(#[from] DecisionDenied),
    /// The client's "Get help" request is not acceptable; the words are for the client.
    #[error(transparent)]
    Invalid(#[from] HelpRefused),
    /// The business has no email address to receive the message.
    #[error("the business cannot receive messages here; please call them")]
    NoBusinessEmail,
    /// Someone else changed the record at the same time, and retrying did not help.
    #[error("conflict: {0}")]
    Conflict(String),
    /// Storage failed.
    #[error("storage failed")]
    Backend(#[source] BackendError),
}

/// Why a portal action (C1–C6, C8) failed. Sign-in refusals are one variant, whatever the
/// reason, so an answer never tells whether an address is known.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PortalError {
    /// No such org.
    #[error("unknown org")]
    UnknownOrg,
    /// No such client, or record, of this org (or not the signed-in client's, or a session of
    /// another org's portal).
    #[error("not found")]
    NotFound,
    /// The acting staff member is unknown, deactivated, or of a role that may not share (S1).
    #[error(transparent)]
    Actor(#[from] ActorDenied),
    /// The org's plan does not include the portal.
    #[error("the org's plan does not include the client portal")]
    PlanLacksPortal,
    /// The org's portal is switched off (C8).
    #[error("the org's client portal is switched off")]
    PortalOff,
    /// The client has no email address to invite.
    #[error("the client has no email address on file")]
    NoEmail,
    /// The sign-in was refused (unknown email, wrong code or password, a try during the wait
    /// wrong passwords impose, login off …): one answer for every reason.
    #[error("the email, code or password is not right")]
    Refused,
    /// The link expired, was used, or was replaced by a newer one.
    #[error("this link has expired or was already used")]
    LinkSpent,
    /// A password-reset link was used without a new password.
    #[error("choose a new password")]
    PasswordNeeded,
    /// The new password is not acceptable.
    #[error(transparent)]
    Password(#[from] crate::policy::portal::PasswordRefused),
    /// The service was built without a password hasher ([`crate::Portico::with_passwords`]).
    #[error("password sign-in is not available")]
    PasswordsUnavailable,
    /// The session is missing, ended, or timed out: sign in again.
    #[error("please sign in")]
    NotSignedIn,
    /// V5: the decision was refused.
    #[error(transparent)]
    Decision(#[from] DecisionDenied),
    /// The client's message is not acceptable.
    #[error(transparent)]
    Invalid(#[from] HelpRefused),
    /// The business has no email address to receive the message.
    #[error("the business cannot receive messages here; please call them")]
    NoBusinessEmail,
    /// A message or service request is not acceptable (C7).
    #[error(transparent)]
    Writing(#[from] crate::policy::inbox::WritingRefused),
    /// The signature is not acceptable (C7).
    #[error(transparent)]
    Signing(#[from] crate::policy::plans::SigningRefused),
    /// The token key is not configured.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// Someone else changed the same thing at the same time, and retrying did not help.
    #[error("conflict: {0}")]
    Conflict(String),
    /// Storage (or the password hasher) failed.
    #[error("storage failed")]
    Backend(#[source] BackendError),
}

/// Why a host call about what clients sent (messages, service requests, the event log) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StaffError {
    /// No such org.
    #[error("unknown org")]
    UnknownOrg,
    /// No such thing of this org: what is missing (`client`, `job`, `service request`).
    #[error("unknown {0}")]
    NotFound(&'static str),
    /// The acting staff member is unknown or deactivated.
    #[error(transparent)]
    Actor(#[from] ActorDenied),
    /// The message is not acceptable.
    #[error(transparent)]
    Writing(#[from] crate::policy::inbox::WritingRefused),
    /// The org's portal is off: the client could not read an answer (C8).
    #[error("the org's client portal is switched off")]
    PortalOff,
    /// The client was never invited to the portal, or their login is off: they could not read
    /// an answer (C2).
    #[error("the client has no portal access; invite them first")]
    NotInPortal,
    /// Someone else changed the same thing at the same time.
    #[error("conflict: {0}")]
    Conflict(String),
    /// Storage failed.
    #[error("storage failed")]
    Backend(#[source] BackendError),
}

impl From<StoreError> for StaffError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(what) => Self::Conflict(what),
            other => Self::Backend(Box::new(other)),
        }
    }
}

/// Why a file action (upload, look-up, delete) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FileError {
    /// No such org.
    #[error("unknown org")]
    UnknownOrg,
    /// The acting staff member is unknown, deactivated, or of a role that may not do this.
    #[error(transparent)]
    Actor(#[from] ActorDenied),
    /// The upload had no bytes.
    #[error("the file is empty")]
    Empty,
    /// The upload is larger than the limit.
    #[error("the file is larger than {max} bytes")]
    TooLarge {
        /// The limit in bytes.
        max: u64,
    },
    /// The bytes are not of a kept type.
    #[error(
        "files of type {0} are not accepted; send a photo (JPEG, PNG, GIF, WebP, HEIC, AVIF) or a PDF"
    )]
    UnsupportedType(String),
    /// No bytes stored under this id.
    #[error("file not found")]
    NotFound,
    /// A record, the org's logo or a staff photo still points at the file.
    #[error("the file is still in use; remove it from what points at it first")]
    InUse,
    /// Someone else changed the same thing at the same time.
    #[error("conflict: {0}")]
    Conflict(String),
    /// Storage failed.
    #[error("storage failed")]
    Backend(#[source] BackendError),
}

/// The conversions every error family shares: storage failures and refused actors.
macro_rules! common_conversions {
    ($($t:ty),*) => {$(
        impl From<StoreError> for $t {
            fn from(e: StoreError) -> Self {
                match e {
                    StoreError::Conflict(what) => Self::Conflict(what),
                    other => Self::Backend(Box::new(other)),
                }
            }
        }
        impl Retryable for $t {
            fn is_conflict(&self) -> bool {
                matches!(self, Self::Conflict(_))
            }
        }
    )*};
}
common_conversions!(ShareError, RecordError, ClientError, FileError, PortalError);

impl From<ShareDenied> for ShareError {
    fn from(e: ShareDenied) -> Self {
        match e {
            ShareDenied::Blocked(b) => Self::Blocked(b),
            ShareDenied::NoClient => Self::NoClient,
            ShareDenied::NoRecipient => Self::NoRecipient,
            ShareDenied::InvalidEmail(e) => Self::InvalidEmail(e),
        }
    }
}

impl From<QuoteLocked> for RecordError {
    fn from(e: QuoteLocked) -> Self {
        Self::Locked(e.0)
    }
}
