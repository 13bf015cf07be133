//! Orgs, their settings and API keys, staff and clients.

use super::{PlanDto, RoleDto, email, id, yes};
use poem_openapi::Object;
use poem_openapi::types::MaybeUndefined;
use portico_core::model::{self as m, Email};
use time::OffsetDateTime;

use crate::error::ApiError;

/// An org's sharing settings; omitted fields keep their defaults.
#[derive(Debug, Clone, Default, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct OrgSettingsBody {
    /// The org-wide client-sharing switch (default on).
    pub client_sharing: Option<bool>,
    /// Days a work-order link lives after completed and paid (default 30).
    pub link_expiry_days: Option<u16>,
    /// Whether new photos are shared unless told otherwise (default off).
    pub photos_shared_by_default: Option<bool>,
    /// IANA time-zone name every time is shown in, to clients and staff, such as
    /// `Australia/Sydney` (default `UTC`; an unknown name is refused).
    pub time_zone: Option<String>,
    /// How dates, numbers and money are written (default `en-US`): one of `en-US`, `en-GB`,
    /// `en-AU`, `en-CA`, `en-NZ`, `fr-FR`, `de-DE`, `es-ES`, or a bare `en`, `fr`, `de`, `es`.
    pub locale: Option<String>,
    /// The client portal (C1); omitted fields keep their values (a new org's portal is on,
    /// with every section).
    pub portal: Option<PortalSettingsBody>,
}

/// A section of the client portal the org may show or hide (C1). Invoices are not one: the
/// portal always shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, poem_openapi::Enum)]
#[oai(rename_all = "snake_case")]
pub enum PortalSectionDto {
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

impl From<PortalSectionDto> for m::PortalSection {
    fn from(s: PortalSectionDto) -> Self {
        match s {
            PortalSectionDto::Jobs => Self::Jobs,
            PortalSectionDto::Estimates => Self::Estimates,
            PortalSectionDto::Agreements => Self::Agreements,
            PortalSectionDto::Appointments => Self::Appointments,
            PortalSectionDto::Contracts => Self::Contracts,
            PortalSectionDto::Messages => Self::Messages,
            PortalSectionDto::ServiceRequests => Self::ServiceRequests,
        }
    }
}

impl From<m::PortalSection> for PortalSectionDto {
    fn from(s: m::PortalSection) -> Self {
        match s {
            m::PortalSection::Jobs => Self::Jobs,
            m::PortalSection::Estimates => Self::Estimates,
            m::PortalSection::Agreements => Self::Agreements,
            m::PortalSection::Appointments => Self::Appointments,
            m::PortalSection::Contracts => Self::Contracts,
            m::PortalSection::Messages => Self::Messages,
            m::PortalSection::ServiceRequests => Self::ServiceRequests,
        }
    }
}

/// The client portal's settings (C1, C8); omitted fields keep their values.
#[derive(Debug, Clone, Default, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct PortalSettingsBody {
    /// Off: nobody signs in and every session ends at once; nothing is deleted (C8).
    pub enabled: Option<bool>,
    /// Shown at the top of a signed-in client's home (up to 2,000 characters); `""` removes it.
    pub welcome: Option<String>,
    /// The sections shown besides invoices, which are always shown.
    pub sections: Option<Vec<PortalSectionDto>>,
}

impl PortalSettingsBody {
    fn apply(&self, portal: &mut m::PortalSettings) {
        if let Some(v) = self.enabled {
            portal.enabled = v;
        }
        if let Some(v) = &self.welcome {
            portal.welcome = Some(v.clone());
        }
        if let Some(v) = &self.sections {
            portal.sections = v.iter().map(|s| (*s).into()).collect();
        }
    }
}

/// The client portal's settings in effect.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct PortalSettingsDto {
    /// Whether clients can sign in.
    pub enabled: bool,
    /// The welcome message on a client's home.
    pub welcome: Option<String>,
    /// The sections shown besides invoices.
    pub sections: Vec<PortalSectionDto>,
}

/// An org, as the host keeps it.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct OrgBody {
    /// Company name; emails go out under it.
    pub name: String,
    /// Subscription plan.
    pub plan: PlanDto,
    /// Contact phone shown to clients.
    pub contact_phone: Option<String>,
    /// Contact email: Reply-To and business notifications.
    pub contact_email: Option<String>,
    /// Logo file id.
    pub logo: Option<String>,
    /// Sharing settings.
    #[oai(default)]
    pub settings: OrgSettingsBody,
}

impl OrgBody {
    pub(crate) fn into_model(self, org_id: m::OrgId) -> Result<m::Org, ApiError> {
        let defaults = m::OrgSettings::default();
        let s = self.settings;
        Ok(m::Org {
            id: org_id,
            name: self.name,
            contact: m::Contact {
                phone: self.contact_phone,
                email: email("contact_email", self.contact_email)?,
            },
            logo: self.logo.map(|l| id("logo", l)).transpose()?,
            plan: self.plan.into(),
            settings: m::OrgSettings {
                client_sharing: s.client_sharing.unwrap_or(defaults.client_sharing),
                link_expiry_days: s.link_expiry_days.unwrap_or(defaults.link_expiry_days),
                photos_shared_by_default: s
                    .photos_shared_by_default
                    .unwrap_or(defaults.photos_shared_by_default),
                time_zone: s.time_zone.unwrap_or(defaults.time_zone),
                locale: s.locale.unwrap_or(defaults.locale),
                portal: {
                    let mut portal = defaults.portal;
                    if let Some(body) = &s.portal {
                        body.apply(&mut portal);
                    }
                    portal
                },
            },
        })
    }
}

/// An API key as listed: never the key itself.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ApiKeyDto {
    /// The key's id (to revoke it).
    pub id: String,
    /// The label given at creation.
    pub label: String,
    /// When it was created.
    pub created_at: OffsetDateTime,
    /// When it was revoked, if it was.
    pub revoked_at: Option<OffsetDateTime>,
}

impl From<portico_core::ports::ApiKeyInfo> for ApiKeyDto {
    fn from(k: portico_core::ports::ApiKeyInfo) -> Self {
        Self {
            id: k.id.to_string(),
            label: k.label,
            created_at: k.created_at,
            revoked_at: k.revoked_at,
        }
    }
}

/// An org's settings in effect.
#[derive(Debug, Clone, Object)]
pub struct OrgSettingsDto {
    /// The org-wide client-sharing switch.
    pub client_sharing: bool,
    /// Days a work-order link lives after completed and paid.
    pub link_expiry_days: u16,
    /// Whether new photos are shared unless told otherwise.
    pub photos_shared_by_default: bool,
    /// IANA time-zone name every time is shown in.
    pub time_zone: String,
    /// How dates, numbers and money are written, e.g. `en-GB`.
    pub locale: String,
    /// The client portal.
    pub portal: PortalSettingsDto,
}

/// An org as stored: every value in effect.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct OrgDto {
    /// The org's id.
    pub id: String,
    /// Company name; emails go out under it.
    pub name: String,
    /// Subscription plan.
    pub plan: PlanDto,
    /// Contact phone shown to clients.
    pub contact_phone: Option<String>,
    /// Contact email: Reply-To and business notifications.
    pub contact_email: Option<String>,
    /// Logo file id.
    pub logo: Option<String>,
    /// Sharing settings in effect.
    pub settings: OrgSettingsDto,
}

impl From<m::Org> for OrgDto {
    fn from(org: m::Org) -> Self {
        Self {
            id: org.id.to_string(),
            name: org.name,
            plan: org.plan.into(),
            contact_phone: org.contact.phone,
            contact_email: org.contact.email.map(|e| e.to_string()),
            logo: org.logo.map(|l| l.to_string()),
            settings: OrgSettingsDto {
                client_sharing: org.settings.client_sharing,
                link_expiry_days: org.settings.link_expiry_days,
                photos_shared_by_default: org.settings.photos_shared_by_default,
                time_zone: org.settings.time_zone,
                locale: org.settings.locale,
                portal: PortalSettingsDto {
                    enabled: org.settings.portal.enabled,
                    welcome: org.settings.portal.welcome,
                    sections: org
                        .settings
                        .portal
                        .sections
                        .into_iter()
                        .map(Into::into)
                        .collect(),
                },
            },
        }
    }
}

/// A partial change of the calling org: only the fields present change; `null` clears the
/// contact phone, contact email or logo.
#[derive(Debug, Clone, Default, Object)]
pub struct OrgPatchBody {
    /// Company name.
    pub name: Option<String>,
    /// Contact phone; `null` removes it.
    pub contact_phone: MaybeUndefined<String>,
    /// Contact email; `null` removes it.
    pub contact_email: MaybeUndefined<String>,
    /// Logo file id; `null` removes it.
    pub logo: MaybeUndefined<String>,
    /// Settings to change; those left out keep their values.
    #[oai(default)]
    pub settings: OrgSettingsBody,
}

impl OrgPatchBody {
    /// The change, its values checked, ready to apply to the stored org.
    pub(crate) fn into_change(self) -> Result<OrgChange, ApiError> {
        let parse_email = |raw: String| email("contact_email", Some(raw));
        Ok(OrgChange {
            name: self.name,
            contact_phone: self.contact_phone,
            contact_email: match self.contact_email {
                MaybeUndefined::Undefined => MaybeUndefined::Undefined,
                MaybeUndefined::Null => MaybeUndefined::Null,
                MaybeUndefined::Value(raw) => match parse_email(raw)? {
                    Some(e) => MaybeUndefined::Value(e),
                    None => MaybeUndefined::Null,
                },
            },
            logo: match self.logo {
                MaybeUndefined::Undefined => MaybeUndefined::Undefined,
                MaybeUndefined::Null => MaybeUndefined::Null,
                MaybeUndefined::Value(raw) => MaybeUndefined::Value(id("logo", raw)?),
            },
            settings: self.settings,
        })
    }
}

/// A checked partial change of an org.
#[derive(Debug, Clone)]
pub(crate) struct OrgChange {
    name: Option<String>,
    contact_phone: MaybeUndefined<String>,
    contact_email: MaybeUndefined<Email>,
    logo: MaybeUndefined<m::FileId>,
    settings: OrgSettingsBody,
}

impl OrgChange {
    /// Applies the change to the stored org; what it leaves out stays as it is.
    pub(crate) fn apply(&self, org: &mut m::Org) {
        if let Some(name) = &self.name {
            org.name.clone_from(name);
        }
        self.contact_phone.clone().update_to(&mut org.contact.phone);
        self.contact_email.clone().update_to(&mut org.contact.email);
        self.logo.clone().update_to(&mut org.logo);
        let s = &self.settings;
        let settings = &mut org.settings;
        if let Some(v) = s.client_sharing {
            settings.client_sharing = v;
        }
        if let Some(v) = s.link_expiry_days {
            settings.link_expiry_days = v;
        }
        if let Some(v) = s.photos_shared_by_default {
            settings.photos_shared_by_default = v;
        }
        if let Some(v) = &s.time_zone {
            settings.time_zone.clone_from(v);
        }
        if let Some(v) = &s.locale {
            settings.locale.clone_from(v);
        }
        if let Some(portal) = &s.portal {
            portal.apply(&mut settings.portal);
        }
    }
}

/// A staff member, as the host keeps them.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct StaffBody {
    /// Display name.
    pub name: String,
    /// Role; decides what they may do.
    pub role: RoleDto,
    /// Deactivated staff can do nothing (default active).
    #[oai(default = "yes")]
    pub active: bool,
    /// Internal: never shown to clients.
    pub email: Option<String>,
    /// Internal: never shown to clients.
    pub phone: Option<String>,
    /// Photo file id, shown with their name on a schedule.
    pub photo: Option<String>,
}

impl StaffBody {
    pub(crate) fn into_model(self, org: m::OrgId, staff: m::StaffId) -> Result<m::Staff, ApiError> {
        Ok(m::Staff {
            id: staff,
            org_id: org,
            name: self.name,
            role: self.role.into(),
            active: self.active,
            email: email("email", self.email)?,
            phone: self.phone,
            photo: self.photo.map(|p| id("photo", p)).transpose()?,
        })
    }
}

/// A client, as the host keeps them.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ClientBody {
    /// Name.
    pub name: String,
    /// Email; shares go here by default.
    pub email: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Service address.
    pub address: Option<String>,
}

impl ClientBody {
    pub(crate) fn into_model(
        self,
        org: m::OrgId,
        client: m::ClientId,
    ) -> Result<m::Client, ApiError> {
        Ok(m::Client {
            id: client,
            org_id: org,
            name: self.name,
            email: email("email", self.email)?,
            phone: self.phone,
            address: self.address,
        })
    }
}

/// A client's portal account as the host sees it (C2): never the password.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct PortalAccountDto {
    /// The client.
    pub client_id: String,
    /// Whether the client was ever invited (only invited clients can sign in).
    pub invited: bool,
    /// When the latest invitation was queued.
    pub invited_at: Option<OffsetDateTime>,
    /// Whether the client's login is on.
    pub enabled: bool,
    /// Whether the client set a password (else they sign in by emailed link or code).
    pub has_password: bool,
    /// The latest sign-in.
    pub last_sign_in_at: Option<OffsetDateTime>,
}

impl PortalAccountDto {
    pub(crate) fn of(client: &m::ClientId, account: Option<m::PortalAccount>) -> Self {
        match account {
            Some(a) => Self {
                client_id: a.client_id.to_string(),
                invited: a.invited_at.is_some(),
                invited_at: a.invited_at,
                enabled: a.enabled,
                has_password: a.password_hash.is_some(),
                last_sign_in_at: a.last_sign_in_at,
            },
            None => Self {
                client_id: client.to_string(),
                invited: false,
                invited_at: None,
                enabled: true,
                has_password: false,
                last_sign_in_at: None,
            },
        }
    }
}

/// Switches a client's portal login (C2).
#[derive(Debug, Clone, Object)]
pub struct PortalAccessBody {
    /// Off ends every session of the client at once.
    pub enabled: bool,
}
