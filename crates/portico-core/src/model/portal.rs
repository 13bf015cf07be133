//! The client portal (C1–C6, C8): the org's portal settings, a client's portal account, the
//! single-use sign-in grants mailed to them, and their sessions.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{ClientId, Money, OrgId, Record, RecordRef};
use crate::token::{KeyId, Nonce, TokenHash};

/// A section of the portal the org may show or hide (C1). Invoices are not among them: the
/// portal always shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PortalSection {
    /// Work orders.
    Jobs,
    /// Quotes.
    Estimates,
    /// Service agreements.
    Agreements,
    /// Appointments.
    Appointments,
    /// Contracts to sign.
    Contracts,
    /// Messages with the business.
    Messages,
    /// The service-request form.
    ServiceRequests,
}

impl PortalSection {
    /// Every section, in the order the portal lists them.
    pub const ALL: [PortalSection; 7] = [
        PortalSection::Jobs,
        PortalSection::Estimates,
        PortalSection::Agreements,
        PortalSection::Appointments,
        PortalSection::Contracts,
        PortalSection::Messages,
        PortalSection::ServiceRequests,
    ];

    /// The section's name as written in the API and in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            PortalSection::Jobs => "jobs",
            PortalSection::Estimates => "estimates",
            PortalSection::Agreements => "agreements",
            PortalSection::Appointments => "appointments",
            PortalSection::Contracts => "contracts",
            PortalSection::Messages => "messages",
            PortalSection::ServiceRequests => "service_requests",
        }
    }

    /// The section named `name`, if any.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

/// The org's portal (C1, C8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PortalSettings {
    /// Off: nobody signs in and every session stops; nothing is deleted (C8).
    pub enabled: bool,
    /// Shown at the top of a signed-in client's home page.
    pub welcome: Option<String>,
    /// The sections shown besides invoices, which are always shown.
    pub sections: Vec<PortalSection>,
}

impl PortalSettings {
    /// The longest welcome message accepted, in characters.
    pub const MAX_WELCOME: usize = 2000;

    /// Whether the portal shows `section`.
    pub fn shows(&self, section: PortalSection) -> bool {
        self.sections.contains(&section)
    }
}

impl Default for PortalSettings {
    /// On, with every section: an org that has invited nobody shows nobody anything, so being on
    /// costs nothing, and the business decides what to hide.
    fn default() -> Self {
        Self {
            enabled: true,
            welcome: None,
            sections: PortalSection::ALL.to_vec(),
        }
    }
}

/// A client's portal account: whether they were invited, may sign in, and their password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalAccount {
    /// The org.
    pub org_id: OrgId,
    /// The client.
    pub client_id: ClientId,
    /// When the latest invitation was queued; never invited clients cannot sign in (C2).
    pub invited_at: Option<OffsetDateTime>,
    /// Staff switched the client's login off (C2) when false.
    pub enabled: bool,
    /// The password's PHC string (argon2id), if the client set one (C4). Never shown.
    pub password_hash: Option<PasswordHash>,
    /// When the password was last set or reset.
    pub password_changed_at: Option<OffsetDateTime>,
    /// The latest successful sign-in.
    pub last_sign_in_at: Option<OffsetDateTime>,
    /// Wrong passwords in a row since the last success (throttling, never a lock-out).
    pub failed_passwords: u32,
    /// When the latest wrong password was given.
    pub last_failed_at: Option<OffsetDateTime>,
}

impl PortalAccount {
    /// A new account of `client`, enabled, not yet invited.
    pub fn new(org_id: OrgId, client_id: ClientId) -> Self {
        Self {
            org_id,
            client_id,
            invited_at: None,
            enabled: true,
            password_hash: None,
            password_changed_at: None,
            last_sign_in_at: None,
            failed_passwords: 0,
            last_failed_at: None,
        }
    }
}

/// A password hash in PHC string form. `Debug` does not print it.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(pub String);

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(..)")
    }
}

/// What a sign-in grant lets its holder do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantPurpose {
    /// Sign in (C3), by link or by code.
    SignIn,
    /// The invitation's link (C2): signs in, then offers to set a password.
    Invite,
    /// A password reset (C4): sets a new password and signs in.
    Reset,
}

impl GrantPurpose {
    /// The purpose's name in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            GrantPurpose::SignIn => "sign_in",
            GrantPurpose::Invite => "invite",
            GrantPurpose::Reset => "reset",
        }
    }

    /// The purpose named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        [Self::SignIn, Self::Invite, Self::Reset]
            .into_iter()
            .find(|p| p.as_str() == name)
    }
}

/// Why a grant stopped being usable before it expired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantEnd {
    /// It signed someone in (single use).
    Used,
    /// A newer grant of the same client replaced it.
    Superseded,
    /// Too many wrong codes were tried against it.
    TooManyCodes,
}

impl GrantEnd {
    /// The end's name in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            GrantEnd::Used => "used",
            GrantEnd::Superseded => "superseded",
            GrantEnd::TooManyCodes => "too_many_codes",
        }
    }

    /// The end named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        [Self::Used, Self::Superseded, Self::TooManyCodes]
            .into_iter()
            .find(|p| p.as_str() == name)
    }
}

/// A single-use sign-in grant, mailed as a link and a short code (C3). Like a share, it keeps
/// the nonce and key id its token is derived from and the token's hash, never the token or the
/// code, so the database alone signs nobody in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInGrant {
    /// Portico's id.
    pub id: Uuid,
    /// The org.
    pub org_id: OrgId,
    /// The client it signs in; bound for life.
    pub client_id: ClientId,
    /// What it is for.
    pub purpose: GrantPurpose,
    /// Which server key derives its token.
    pub key_id: KeyId,
    /// The random input of its token and code.
    pub nonce: Nonce,
    /// SHA-256 of its token, for the link's look-up.
    pub token_hash: TokenHash,
    /// When it was made.
    pub created_at: OffsetDateTime,
    /// When it stops working, used or not.
    pub expires_at: OffsetDateTime,
    /// When it stopped working early, and why.
    pub ended: Option<(OffsetDateTime, GrantEnd)>,
    /// Wrong codes tried against it.
    pub code_failures: u32,
}

/// SHA-256 of a session id; what the store keeps.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SessionHash(pub [u8; 32]);

impl fmt::Debug for SessionHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionHash({:02x}{:02x}..)", self.0[0], self.0[1])
    }
}

/// A signed-in client's session (C5), stored by the hash of its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalSession {
    /// SHA-256 of the id in the client's cookie.
    pub hash: SessionHash,
    /// The org.
    pub org_id: OrgId,
    /// The client signed in.
    pub client_id: ClientId,
    /// When it started.
    pub created_at: OffsetDateTime,
    /// The latest request seen (to within a minute).
    pub last_seen_at: OffsetDateTime,
    /// When it ended (sign-out, disabled, portal off, password changed), if it did.
    pub ended_at: Option<OffsetDateTime>,
}

/// A record as a list shows it (C7): what the portal's lists print and sort by, without the
/// record's body, so a client with hundreds of records is listed without reading them whole.
/// Stores MUST give exactly [`RecordSummary::of`] of the stored record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordSummary {
    /// Which record.
    pub reference: RecordRef,
    /// Its client.
    pub client_id: Option<ClientId>,
    /// Its title.
    pub title: String,
    /// A quote's or invoice's printed number.
    pub number: Option<String>,
    /// [`Record::status_label`].
    pub status: String,
    /// A quote's or invoice's total.
    pub total: Option<Money>,
    /// What an invoice still asks for.
    pub amount_due: Option<Money>,
    /// The date a list knows it by: an invoice's due date, a quote's last valid day, a job's
    /// planned start or else its completion (as a UTC date).
    pub date: Option<time::Date>,
}

impl RecordSummary {
    /// The summary of `record`.
    pub fn of(record: &Record) -> Self {
        let money = |amount, currency| Money { amount, currency };
        let (number, total, amount_due, date) = match record {
            Record::Invoice(i) => (
                Some(i.number.clone()),
                Some(i.totals().total),
                Some(money(i.amount_due(), i.currency)),
                i.due_date,
            ),
            Record::Quote(q) => (
                Some(q.number.clone()),
                Some(super::totals(&q.items, &q.taxes, q.currency).total),
                None,
                q.valid_until,
            ),
            Record::WorkOrder(wo) => (
                None,
                None,
                None,
                wo.schedule
                    .start
                    .or(wo.completed_at)
                    .map(|t| t.to_offset(time::UtcOffset::UTC).date()),
            ),
        };
        Self {
            reference: record.reference(),
            client_id: record.client_id().cloned(),
            title: record.title().to_owned(),
            number,
            status: record.status_label().to_owned(),
            total,
            amount_due,
            date,
        }
    }
}
