//! The org (tenant), its staff and its clients.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{ClientId, FileId, OrgId, PortalSettings, StaffId};

/// An email address that passed Portico's checks: one `@`, a plausible local part and domain,
/// no white space or control characters (so it can never inject a mail header), at most 254
/// characters. The domain is kept in lower case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

/// Why an email address was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a valid email address")]
pub struct EmailError(pub String);

impl Email {
    /// Checks `raw` (surrounding white space is trimmed) and normalises its domain.
    pub fn parse(raw: &str) -> Result<Self, EmailError> {
        let trimmed = raw.trim();
        let bad = || EmailError(raw.chars().take(80).collect());
        if trimmed.len() > 254 {
            return Err(bad());
        }
        let (local, domain) = trimmed.rsplit_once('@').ok_or_else(bad)?;
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local
                .chars()
                .all(|c| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
        let domain_ok = domain.contains('.')
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_alphanumeric() || c == '-')
            });
        if !(local_ok && domain_ok) {
            return Err(bad());
        }
        Ok(Self(format!("{local}@{}", domain.to_lowercase())))
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Email {
    type Error = EmailError;
    fn try_from(raw: String) -> Result<Self, EmailError> {
        Self::parse(&raw)
    }
}

impl From<Email> for String {
    fn from(e: Email) -> String {
        e.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The org's subscription. Only [`Plan::Business`] includes client sharing (S2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Plan {
    /// The entry plan.
    Starter,
    /// The middle plan.
    Pro,
    /// The plan with client sharing and the portal.
    Business,
}

impl Plan {
    /// The plan that includes client sharing, named in errors.
    pub const WITH_SHARING: Plan = Plan::Business;

    /// Whether this plan includes client sharing.
    pub fn includes_sharing(self) -> bool {
        self == Self::WITH_SHARING
    }
}

/// How the org can be reached; shown to clients on every page (V2) and used as Reply-To (N4).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// The business phone.
    pub phone: Option<String>,
    /// The business email; replies and business notifications go here.
    pub email: Option<Email>,
}

/// What an org has chosen about sharing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OrgSettings {
    /// The org-wide switch (S8): off stops every link at once, deleting nothing.
    pub client_sharing: bool,
    /// Days a work-order link lives after the job is both completed and paid (S7).
    pub link_expiry_days: u16,
    /// Whether a newly added photo or file is shared unless the host says otherwise (V3).
    pub photos_shared_by_default: bool,
    /// IANA time-zone name for times shown to clients (V9).
    pub time_zone: String,
    /// Locale for dates and words shown to clients (V9).
    pub locale: String,
    /// The client portal (C1, C8).
    pub portal: PortalSettings,
}

impl OrgSettings {
    /// The default link lifetime after completion and payment, in days.
    pub const DEFAULT_EXPIRY_DAYS: u16 = 30;
}

impl Default for OrgSettings {
    fn default() -> Self {
        Self {
            client_sharing: true,
            link_expiry_days: Self::DEFAULT_EXPIRY_DAYS,
            photos_shared_by_default: false,
            time_zone: "UTC".to_owned(),
            locale: "en-US".to_owned(),
            portal: PortalSettings::default(),
        }
    }
}

/// One business.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Org {
    /// The host's id of the org.
    pub id: OrgId,
    /// The company name; emails go out under it (N4).
    pub name: String,
    /// How clients reach the business.
    pub contact: Contact,
    /// The company logo, if any.
    pub logo: Option<FileId>,
    /// The subscription plan.
    pub plan: Plan,
    /// Sharing settings.
    pub settings: OrgSettings,
}

/// A staff member's role; it decides what they may do (S1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Owns the business.
    Owner,
    /// Runs the office.
    Admin,
    /// Leads a crew.
    Supervisor,
    /// A one-person business.
    SoleTrader,
    /// Does the work on site.
    Technician,
    /// Learns the trade.
    Apprentice,
}

impl Role {
    /// Every role, for exhaustive tests.
    pub const ALL: [Role; 6] = [
        Role::Owner,
        Role::Admin,
        Role::Supervisor,
        Role::SoleTrader,
        Role::Technician,
        Role::Apprentice,
    ];

    /// The role's name as written in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Supervisor => "supervisor",
            Role::SoleTrader => "sole_trader",
            Role::Technician => "technician",
            Role::Apprentice => "apprentice",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A person of an org.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Staff {
    /// The host's id.
    pub id: StaffId,
    /// The org they belong to.
    pub org_id: OrgId,
    /// Display name; a technician's may be shown to clients on a schedule (V1).
    pub name: String,
    /// What they may do.
    pub role: Role,
    /// Deactivated staff can do nothing.
    pub active: bool,
    /// Internal (V4): never shown to clients.
    pub email: Option<Email>,
    /// Internal (V4): never shown to clients.
    pub phone: Option<String>,
    /// Their photo, shown with their name on a work order's schedule.
    pub photo: Option<FileId>,
}

/// A customer of one org.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Client {
    /// The host's id.
    pub id: ClientId,
    /// The org they are a customer of.
    pub org_id: OrgId,
    /// Their name.
    pub name: String,
    /// Where shares go by default (S2).
    pub email: Option<Email>,
    /// Their phone.
    pub phone: Option<String>,
    /// The service address.
    pub address: Option<String>,
}
