//! Shares, API keys shown once, files, the audit log, decisions and notifications.

use super::{RecordKindDto, SectionDto};
use poem_openapi::Object;
use portico_core::model as m;
use portico_core::service::ShareInfo;
use time::OffsetDateTime;

/// Enabling sharing: both fields optional.
#[derive(Debug, Clone, Default, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct EnableShareBody {
    /// Recipient email; the client's email when omitted.
    pub recipient: Option<String>,
    /// Visible sections; all when omitted.
    pub sections: Option<Vec<SectionDto>>,
}

/// Changing a share: omitted fields stay.
#[derive(Debug, Clone, Default, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ShareChangeBody {
    /// A new recipient; they are sent the link.
    pub recipient: Option<String>,
    /// New visible sections.
    pub sections: Option<Vec<SectionDto>>,
}

pub(crate) fn sections(list: Option<Vec<SectionDto>>) -> Option<m::Sections> {
    list.map(|l| {
        l.into_iter()
            .map(m::Section::from)
            .collect::<Vec<_>>()
            .into()
    })
}

/// A share as staff see it (I3).
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ShareDto {
    /// The share's id.
    pub id: uuid::Uuid,
    /// The record's kind.
    pub record_kind: RecordKindDto,
    /// The record's id.
    pub record_id: String,
    /// The link, while enabled.
    pub link: Option<String>,
    /// Recipient.
    pub recipient: String,
    /// Visible sections.
    pub sections: Vec<SectionDto>,
    /// Whether the share is enabled.
    pub active: bool,
    /// When it was revoked.
    pub revoked_at: Option<OffsetDateTime>,
    /// When the link expires or expired (S7): the work order's close (the later of completed
    /// and paid) plus the org's `link_expiry_days`. A change of that setting moves every expiry
    /// still ahead at once; an expired link stays expired.
    pub expires_at: Option<OffsetDateTime>,
    /// The org's date of `expires_at`, in its time zone: the date to show staff.
    pub expires_on: Option<time::Date>,
    /// When it was enabled.
    pub created_at: OffsetDateTime,
    /// First opened (S11).
    pub first_opened_at: Option<OffsetDateTime>,
    /// Last opened (S11).
    pub last_opened_at: Option<OffsetDateTime>,
}

impl From<ShareInfo> for ShareDto {
    fn from(s: ShareInfo) -> Self {
        Self {
            id: s.id.0,
            record_kind: s.record.kind.into(),
            record_id: s.record.id.to_string(),
            link: s.link,
            recipient: s.recipient.to_string(),
            sections: s.sections.on().map(Into::into).collect(),
            active: s.active,
            revoked_at: s.revoked_at,
            expires_at: s.expires_at,
            expires_on: s.expires_on,
            created_at: s.created_at,
            first_opened_at: s.first_opened_at,
            last_opened_at: s.last_opened_at,
        }
    }
}

/// A new API key: shown once.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ApiKeyCreated {
    /// The key's id (to revoke it).
    pub id: uuid::Uuid,
    /// The key. Store it now; Portico keeps only its hash.
    pub key: String,
}

/// A label for a new API key.
#[derive(Debug, Clone, Default, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ApiKeyBody {
    /// What the key is for.
    #[oai(default)]
    pub label: String,
}

/// Stored bytes of a photo or file, as checked at upload.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct FileDto {
    /// The host's id of the file.
    pub file_id: String,
    /// The media type detected from the bytes.
    pub content_type: String,
    /// The size in bytes.
    pub size: u64,
}

/// One line of a record's audit log (S12): share actions by staff, decisions by the client.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct AuditEntryDto {
    /// Portico's id of the line.
    pub id: String,
    /// When.
    pub at: time::OffsetDateTime,
    /// `staff` or `client`.
    pub actor: String,
    /// The staff member's id, when staff acted.
    pub staff_id: Option<String>,
    /// `share_enabled`, `share_reshared`, `recipient_changed`, `sections_changed`,
    /// `share_revoked`, `quote_decided`.
    pub action: String,
    /// The share acted on.
    pub share_id: Option<String>,
    /// The value before a change (recipient or sections).
    pub from: Option<String>,
    /// The value after a change (recipient, sections or the decision).
    pub to: Option<String>,
}

impl From<m::AuditEntry> for AuditEntryDto {
    fn from(e: m::AuditEntry) -> Self {
        let sections =
            |s: m::Sections| s.on().map(m::Section::as_str).collect::<Vec<_>>().join(",");
        let (action, from, to) = match e.action {
            m::AuditAction::ShareEnabled => ("share_enabled", None, None),
            m::AuditAction::ShareReshared => ("share_reshared", None, None),
            m::AuditAction::RecipientChanged { from, to } => (
                "recipient_changed",
                Some(from.to_string()),
                Some(to.to_string()),
            ),
            m::AuditAction::SectionsChanged { from, to } => {
                ("sections_changed", Some(sections(from)), Some(sections(to)))
            }
            m::AuditAction::ShareRevoked => ("share_revoked", None, None),
            m::AuditAction::ShareEndedClientChanged => ("share_ended_client_changed", None, None),
            m::AuditAction::QuoteDecided { decision } => {
                ("quote_decided", None, Some(decision.as_str().to_owned()))
            }
        };
        let (actor, staff_id) = match e.actor {
            m::Actor::Staff(id) => ("staff", Some(id.to_string())),
            m::Actor::Client => ("client", None),
        };
        Self {
            id: e.id.0.to_string(),
            at: e.at,
            actor: actor.to_owned(),
            staff_id,
            action: action.to_owned(),
            share_id: e.share_id.map(|s| s.0.to_string()),
            from,
            to,
        }
    }
}

/// The client's decision on a quote (V5).
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct QuoteDecisionDto {
    /// `approved`, `changes_requested` or `declined`.
    pub decision: String,
    /// The client's message.
    pub message: Option<String>,
    /// When.
    pub at: time::OffsetDateTime,
}

/// A notification's delivery state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, poem_openapi::Enum)]
#[oai(rename_all = "snake_case")]
pub enum DeliveryStateDto {
    /// Waiting or retrying.
    Pending,
    /// Handed to the mail server.
    Sent,
    /// Given up on: refused by the mail server, or failing until the give-up time.
    Dead,
    /// Not sent on purpose: by send time it no longer held (the share ended, a section was
    /// hidden, a task un-ticked …); `reason` says which.
    Dropped,
}

impl From<DeliveryStateDto> for portico_core::service::DeliveryState {
    fn from(s: DeliveryStateDto) -> Self {
        match s {
            DeliveryStateDto::Pending => Self::Pending,
            DeliveryStateDto::Sent => Self::Sent,
            DeliveryStateDto::Dead => Self::Dead,
            DeliveryStateDto::Dropped => Self::Dropped,
        }
    }
}

/// One email Portico queued (N2), and where it is in its delivery.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct NotificationDto {
    /// Portico's id; the Message-ID is `<id@portico>`.
    pub id: String,
    /// The record it is about (none for portal mails, which are about a client's account).
    pub record_kind: Option<RecordKindDto>,
    /// The record's id.
    pub record_id: Option<String>,
    /// The client a portal mail is about.
    pub client_id: Option<String>,
    /// The recipient.
    pub to: String,
    /// `link_shared`, `status_changed`, `tasks_completed`, `updates_shared`, `quote_decided`,
    /// `help_requested`, and the portal's `portal_invite`, `portal_sign_in`, `password_reset`,
    /// `password_changed`.
    pub topic: String,
    /// The delivery state.
    pub state: DeliveryStateDto,
    /// Attempts so far.
    pub attempts: u32,
    /// Queued at.
    pub created_at: time::OffsetDateTime,
    /// Due (pending), sent, given up or dropped at.
    pub at: time::OffsetDateTime,
    /// Why it was given up on or dropped; while pending, why its last attempt failed (it will
    /// be tried again at `at`).
    pub reason: Option<String>,
}

impl From<m::Notification> for NotificationDto {
    fn from(n: m::Notification) -> Self {
        let (state, at, reason) = match n.delivery {
            m::Delivery::Pending => (DeliveryStateDto::Pending, n.due_at, n.last_failure.clone()),
            m::Delivery::Sent { at } => (DeliveryStateDto::Sent, at, None),
            m::Delivery::Dead { at, reason } => (DeliveryStateDto::Dead, at, Some(reason)),
            m::Delivery::Dropped { at, reason } => (DeliveryStateDto::Dropped, at, Some(reason)),
        };
        Self {
            id: n.id.0.to_string(),
            record_kind: n.record.as_ref().map(|r| r.kind.into()),
            record_id: n.record.as_ref().map(|r| r.id.to_string()),
            client_id: n.kind.portal_client().map(ToString::to_string),
            to: n.to.to_string(),
            topic: n.kind.topic().as_str().to_owned(),
            state,
            attempts: n.attempts,
            created_at: n.created_at,
            at,
            reason,
        }
    }
}
