//! Shares: the private link to one record, with its recipient and visible sections.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{Email, OrgId, RecordRef, ShareId, StaffId};
use crate::token::{KeyId, Nonce, TokenHash};

/// One work-order section a share can show or hide (V1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    /// Name, address, phone and email on file.
    ClientInfo,
    /// The job description.
    Scope,
    /// Dates and the technician's name and photo.
    Schedule,
    /// Tasks and whether they are done.
    Checklist,
    /// Shared photos and files.
    PhotosFiles,
    /// Parts and quantities.
    PartsUsed,
    /// The customer's signature.
    Signature,
    /// Amounts and payment status of the job's invoices.
    Invoices,
    /// Updates shared with the client.
    Updates,
}

impl Section {
    /// Every section, in display order.
    pub const ALL: [Section; 9] = [
        Section::ClientInfo,
        Section::Scope,
        Section::Schedule,
        Section::Checklist,
        Section::PhotosFiles,
        Section::PartsUsed,
        Section::Signature,
        Section::Invoices,
        Section::Updates,
    ];

    /// The section's name as written in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Section::ClientInfo => "client_info",
            Section::Scope => "scope",
            Section::Schedule => "schedule",
            Section::Checklist => "checklist",
            Section::PhotosFiles => "photos_files",
            Section::PartsUsed => "parts_used",
            Section::Signature => "signature",
            Section::Invoices => "invoices",
            Section::Updates => "updates",
        }
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

impl fmt::Display for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which sections a share shows; every section is on by default (V1). Serialised as the list of
/// sections that are on.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "Vec<Section>", into = "Vec<Section>")]
pub struct Sections(u16);

impl Sections {
    /// Every section on.
    pub const ALL: Sections = Sections(0x1ff);
    /// Every section off.
    pub const NONE: Sections = Sections(0);

    /// Whether `section` is on.
    pub fn is_on(self, section: Section) -> bool {
        self.0 & section.bit() != 0
    }

    /// A copy with `section` switched to `on`.
    #[must_use]
    pub fn with(self, section: Section, on: bool) -> Self {
        if on {
            Self(self.0 | section.bit())
        } else {
            Self(self.0 & !section.bit())
        }
    }

    /// The sections that are on, in display order.
    pub fn on(self) -> impl Iterator<Item = Section> {
        Section::ALL.into_iter().filter(move |s| self.is_on(*s))
    }

    /// The raw bit set, for storage.
    pub fn bits(self) -> u16 {
        self.0
    }

    /// From a stored bit set; unknown bits are dropped.
    pub fn from_bits(bits: u16) -> Self {
        Self(bits & Self::ALL.0)
    }
}

impl Default for Sections {
    fn default() -> Self {
        Self::ALL
    }
}

impl fmt::Debug for Sections {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.on()).finish()
    }
}

impl From<Vec<Section>> for Sections {
    fn from(list: Vec<Section>) -> Self {
        list.into_iter().fold(Self::NONE, |s, x| s.with(x, true))
    }
}

impl From<Sections> for Vec<Section> {
    fn from(s: Sections) -> Self {
        s.on().collect()
    }
}

/// Whether a share's link may still work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShareState {
    /// Enabled; the link works unless expired or switched off org-wide.
    Active,
    /// Disabled by staff; the link never works again (S5).
    Revoked {
        /// When.
        at: OffsetDateTime,
        /// By whom.
        by: StaffId,
    },
}

/// One generation of a private link to one record (S3). Sharing again after a revoke creates a
/// new `Share` with a new token; the old one stays revoked for the record's history.
///
/// The share holds no token: only the [`Nonce`] the token is derived from with a server key
/// (so the database alone never yields a working link) and the token's hash for look-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Share {
    /// Portico's id.
    pub id: ShareId,
    /// The org.
    pub org_id: OrgId,
    /// The one record the link opens.
    pub record: RecordRef,
    /// Who receives the link and notifications.
    pub recipient: Email,
    /// What a work order's page shows.
    pub sections: Sections,
    /// Active or revoked.
    pub state: ShareState,
    /// Which server key derives the token.
    pub key_id: KeyId,
    /// The random input the token is derived from.
    pub nonce: Nonce,
    /// Hash of the token, for look-up.
    pub token_hash: TokenHash,
    /// When the link stops working (S7); once past, for good.
    pub expires_at: Option<OffsetDateTime>,
    /// When the share was enabled.
    pub created_at: OffsetDateTime,
    /// Who enabled it.
    pub created_by: StaffId,
    /// When the link was first opened (S11).
    pub first_opened_at: Option<OffsetDateTime>,
    /// When the link was last opened (S11).
    pub last_opened_at: Option<OffsetDateTime>,
}

impl Share {
    /// Whether the share is still enabled (it may still be expired or switched off).
    pub fn is_active(&self) -> bool {
        self.state == ShareState::Active
    }

    /// Whether the link has expired at `now` (S7).
    pub fn is_expired(&self, now: OffsetDateTime) -> bool {
        self.expires_at.is_some_and(|at| now >= at)
    }

    /// Whether the share was closed only after it had expired (as sharing again closes an
    /// expired share): its link keeps answering "no longer active" (S7), not "not found".
    pub fn closed_after_expiry(&self) -> bool {
        match &self.state {
            ShareState::Active => false,
            ShareState::Revoked { at, .. } => self.expires_at.is_some_and(|e| e <= *at),
        }
    }
}
