//! The API's wire types, with OpenAPI schemas, and their checked conversions into the core's
//! model. Money travels as decimal strings (`"12.50"`), never as JSON numbers; times as RFC 3339.

use poem_openapi::types::MaybeUndefined;
use poem_openapi::{Enum, Object, Union};
use portico_core::model::{self as m, Email};
use portico_core::policy::prompt::SharePrompt;
use portico_core::service::{RecordChange, ShareInfo};
use rust_decimal::Decimal;
use time::{Date, OffsetDateTime};

use crate::error::ApiError;

/// Turns a host id into its typed form, or a `validation` error naming the field.
pub(crate) fn id<T: TryFrom<String>>(field: &str, raw: String) -> Result<T, ApiError>
where
    T::Error: std::fmt::Display,
{
    T::try_from(raw).map_err(|e| ApiError::validation(format!("{field}: {e}")))
}

fn money(field: &str, raw: &str) -> Result<Decimal, ApiError> {
    let value: Decimal = raw.trim().parse().map_err(|_| {
        ApiError::validation(format!(
            "{field}: {raw:?} is not a decimal number such as \"12.50\""
        ))
    })?;
    Ok(value)
}

fn email(field: &str, raw: Option<String>) -> Result<Option<Email>, ApiError> {
    raw.map(|r| Email::parse(&r).map_err(|e| ApiError::validation(format!("{field}: {e}"))))
        .transpose()
}

fn currency(raw: Option<String>) -> Result<m::Currency, ApiError> {
    raw.map_or(Ok(m::Currency::default()), |c| {
        m::Currency::new(&c).map_err(|e| ApiError::validation(format!("currency: {e}")))
    })
}

macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident => $model:path { $($variant:ident),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
        #[oai(rename_all = "snake_case")]
        pub enum $name { $($variant),* }

        impl From<$name> for $model {
            fn from(v: $name) -> Self {
                match v { $($name::$variant => <$model>::$variant),* }
            }
        }

        impl From<$model> for $name {
            fn from(v: $model) -> Self {
                match v { $(<$model>::$variant => $name::$variant),* }
            }
        }
    };
}

wire_enum!(
    /// An org's plan; only `business` includes client sharing.
    PlanDto => m::Plan { Starter, Pro, Business }
);
wire_enum!(
    /// A staff member's role.
    RoleDto => m::Role { Owner, Admin, Supervisor, SoleTrader, Technician, Apprentice }
);
wire_enum!(
    /// A work order's status.
    WorkStatusDto => m::WorkStatus { Unscheduled, Scheduled, InProgress, OnHold, Completed, Cancelled }
);
wire_enum!(
    /// A quote's status as the host sets it.
    QuoteStatusDto => m::QuoteStatus { Draft, Sent }
);
wire_enum!(
    /// An invoice's status as the host sets it.
    InvoiceStatusDto => m::InvoiceStatus { Draft, Issued, Void }
);
wire_enum!(
    /// A work-order section a share can show or hide.
    SectionDto => m::Section { ClientInfo, Scope, Schedule, Checklist, PhotosFiles, PartsUsed, Signature, Invoices, Updates }
);
wire_enum!(
    /// The kind of a record.
    RecordKindDto => m::RecordKind { WorkOrder, Quote, Invoice }
);

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
    }
}

fn yes() -> bool {
    true
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

/// A checklist task.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct TaskBody {
    /// The host's id.
    pub id: String,
    /// What to do.
    pub title: String,
    /// Done or not.
    #[oai(default)]
    pub done: bool,
    /// Internal tasks are never shown or mailed to the client.
    #[oai(default)]
    pub internal: bool,
}

/// A photo or file on a work order.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct FileBody {
    /// The host's id.
    pub id: String,
    /// File name.
    pub name: String,
    /// Media type; once the bytes are uploaded (`PUT /v1/files/{id}`), the type detected from
    /// them replaces this.
    pub content_type: Option<String>,
    /// Caption.
    pub caption: Option<String>,
    /// Shared with the client; the org's default for new photos when omitted.
    pub shared: Option<bool>,
}

/// A part used.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct PartBody {
    /// What.
    pub name: String,
    /// How much, as a decimal string.
    pub quantity: String,
    /// Internal: unit cost, as a decimal string.
    pub unit_cost: Option<String>,
}

/// The customer's signature.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct SignatureBody {
    /// Typed name.
    pub signed_by: String,
    /// When.
    pub signed_at: OffsetDateTime,
    /// Drawn signature file id.
    pub image: Option<String>,
}

/// An update on a work order's activity.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct UpdateBody {
    /// The host's id.
    pub id: String,
    /// Author staff id.
    pub author: Option<String>,
    /// When posted.
    pub posted_at: OffsetDateTime,
    /// The text.
    pub body: String,
    /// Shared with the client (only roles that may share can set this).
    #[oai(default)]
    pub shared: bool,
}

/// Internal: one activity-log line.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ActivityBody {
    /// When.
    pub at: OffsetDateTime,
    /// Who.
    pub actor: Option<String>,
    /// What happened.
    pub text: String,
}

/// Internal: hours booked.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct TimeEntryBody {
    /// Staff id.
    pub staff: String,
    /// Minutes worked.
    pub minutes: u32,
    /// Hourly rate, as a decimal string.
    pub hourly_rate: String,
    /// Note.
    #[oai(default)]
    pub note: String,
}

/// Internal: a cost borne.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct CostBody {
    /// What for.
    pub description: String,
    /// Amount, as a decimal string.
    pub amount: String,
}

/// A work order's schedule.
#[derive(Debug, Clone, Default, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ScheduleBody {
    /// Planned start.
    pub start: Option<OffsetDateTime>,
    /// Planned completion.
    pub end: Option<OffsetDateTime>,
    /// Assigned technician's staff id.
    pub technician: Option<String>,
}

/// A work order, in full (PUT replaces it).
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct WorkOrderBody {
    /// The client's id; needed to share.
    pub client_id: Option<String>,
    /// Title.
    pub title: String,
    /// Status.
    pub status: WorkStatusDto,
    /// Job description.
    #[oai(default)]
    pub description: String,
    /// Schedule.
    #[oai(default)]
    pub schedule: ScheduleBody,
    /// Checklist.
    #[oai(default)]
    pub tasks: Vec<TaskBody>,
    /// Photos and files.
    #[oai(default)]
    pub files: Vec<FileBody>,
    /// Parts used.
    #[oai(default)]
    pub parts: Vec<PartBody>,
    /// The customer's signature.
    pub signature: Option<SignatureBody>,
    /// Updates.
    #[oai(default)]
    pub updates: Vec<UpdateBody>,
    /// Whether the job is paid for.
    #[oai(default)]
    pub paid: bool,
    /// When the job was completed, for one that is: the link's expiry (S7) counts from the later
    /// of this and `paid_at`. Left out, Portico keeps the time it first saw it completed (or
    /// now). Never in the future; ignored unless `status` is `completed`.
    pub completed_at: Option<OffsetDateTime>,
    /// When the job was paid for; like `completed_at`, and ignored unless `paid` is true.
    pub paid_at: Option<OffsetDateTime>,
    /// ISO 4217 currency (default USD).
    pub currency: Option<String>,
    /// Internal notes.
    #[oai(default)]
    pub internal_notes: String,
    /// Internal activity log.
    #[oai(default)]
    pub activity_log: Vec<ActivityBody>,
    /// Internal hours.
    #[oai(default)]
    pub time_entries: Vec<TimeEntryBody>,
    /// Internal costs.
    #[oai(default)]
    pub costs: Vec<CostBody>,
}

fn optional_id<T: TryFrom<String>>(field: &str, raw: Option<String>) -> Result<Option<T>, ApiError>
where
    T::Error: std::fmt::Display,
{
    raw.map(|r| id(field, r)).transpose()
}

fn unknown_type() -> String {
    "application/octet-stream".to_owned()
}

/// A file as the host sent it, and whether it said `shared` (the core decides for those that
/// did not: V3's org default applies to new files only).
pub(crate) fn file_model(f: FileBody) -> Result<(m::Attachment, bool), ApiError> {
    Ok((
        m::Attachment {
            id: id("files.id", f.id)?,
            name: f.name,
            content_type: f.content_type.unwrap_or_else(unknown_type),
            caption: f.caption,
            shared: f.shared.unwrap_or(false),
        },
        f.shared.is_some(),
    ))
}

/// A work order's files, and the ids of those that did not say `shared`.
fn files_model(
    bodies: Vec<FileBody>,
) -> Result<(Vec<m::Attachment>, std::collections::HashSet<m::FileId>), ApiError> {
    let mut unsaid = std::collections::HashSet::new();
    let mut files = Vec::with_capacity(bodies.len());
    for f in bodies {
        let (file, said) = file_model(f)?;
        if !said {
            unsaid.insert(file.id.clone());
        }
        files.push(file);
    }
    Ok((files, unsaid))
}

pub(crate) fn update_model(u: UpdateBody) -> Result<m::Update, ApiError> {
    Ok(m::Update {
        id: id("updates.id", u.id)?,
        author: optional_id("updates.author", u.author)?,
        posted_at: u.posted_at,
        body: u.body,
        shared: u.shared,
    })
}

impl WorkOrderBody {
    /// The upsert of the work order; the core decides `shared` for files that do not say it.
    pub(crate) fn into_model(
        self,
        org: m::OrgId,
        wo: m::RecordId,
    ) -> Result<portico_core::service::Upsert, ApiError> {
        let (files, unsaid) = files_model(self.files)?;
        let record = m::WorkOrder {
            id: wo,
            org_id: org,
            client_id: optional_id("client_id", self.client_id)?,
            title: self.title,
            status: self.status.into(),
            description: self.description,
            schedule: m::Schedule {
                start: self.schedule.start,
                end: self.schedule.end,
                technician: optional_id("schedule.technician", self.schedule.technician)?,
            },
            tasks: self
                .tasks
                .into_iter()
                .map(|t| {
                    Ok(m::Task {
                        id: id("tasks.id", t.id)?,
                        title: t.title,
                        done: t.done,
                        internal: t.internal,
                    })
                })
                .collect::<Result<_, ApiError>>()?,
            files,
            parts: self
                .parts
                .into_iter()
                .map(|p| {
                    Ok(m::Part {
                        quantity: money("parts.quantity", &p.quantity)?,
                        unit_cost: p
                            .unit_cost
                            .map(|c| money("parts.unit_cost", &c))
                            .transpose()?,
                        name: p.name,
                    })
                })
                .collect::<Result<_, ApiError>>()?,
            signature: self
                .signature
                .map(|s| {
                    Ok::<_, ApiError>(m::Signature {
                        signed_by: s.signed_by,
                        signed_at: s.signed_at,
                        image: optional_id("signature.image", s.image)?,
                    })
                })
                .transpose()?,
            updates: self
                .updates
                .into_iter()
                .map(update_model)
                .collect::<Result<_, _>>()?,
            paid: self.paid,
            currency: currency(self.currency)?,
            internal_notes: self.internal_notes,
            activity_log: self
                .activity_log
                .into_iter()
                .map(|a| {
                    Ok(m::ActivityEntry {
                        at: a.at,
                        actor: optional_id("activity_log.actor", a.actor)?,
                        text: a.text,
                    })
                })
                .collect::<Result<_, ApiError>>()?,
            time_entries: self
                .time_entries
                .into_iter()
                .map(|t| {
                    Ok(m::TimeEntry {
                        staff: id("time_entries.staff", t.staff)?,
                        minutes: t.minutes,
                        hourly_rate: money("time_entries.hourly_rate", &t.hourly_rate)?,
                        note: t.note,
                    })
                })
                .collect::<Result<_, ApiError>>()?,
            costs: self
                .costs
                .into_iter()
                .map(|c| {
                    Ok(m::CostLine {
                        amount: money("costs.amount", &c.amount)?,
                        description: c.description,
                    })
                })
                .collect::<Result<_, ApiError>>()?,
            completed_at: self.completed_at,
            paid_at: self.paid_at,
        };
        Ok(portico_core::service::Upsert {
            record: m::Record::WorkOrder(record),
            files_without_share_flag: unsaid,
        })
    }
}

/// A priced line.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct LineItemBody {
    /// What.
    pub description: String,
    /// How many, as a decimal string.
    pub quantity: String,
    /// Price per unit before tax, as a decimal string.
    pub unit_price: String,
    /// Whether the record's taxes apply (default true).
    #[oai(default = "yes")]
    pub taxable: bool,
    /// Internal: cost per unit, as a decimal string.
    pub unit_cost: Option<String>,
}

/// A tax on the taxable lines.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct TaxBody {
    /// Name as the client reads it.
    pub name: String,
    /// Rate in percent, as a decimal string (`"8.875"`).
    pub percent: String,
}

fn lines(items: Vec<LineItemBody>) -> Result<Vec<m::LineItem>, ApiError> {
    items
        .into_iter()
        .map(|i| {
            Ok(m::LineItem {
                quantity: money("items.quantity", &i.quantity)?,
                unit_price: money("items.unit_price", &i.unit_price)?,
                unit_cost: i
                    .unit_cost
                    .map(|c| money("items.unit_cost", &c))
                    .transpose()?,
                taxable: i.taxable,
                description: i.description,
            })
        })
        .collect()
}

fn taxes(taxes: Vec<TaxBody>) -> Result<Vec<m::TaxRate>, ApiError> {
    taxes
        .into_iter()
        .map(|t| {
            Ok(m::TaxRate {
                percent: money("taxes.percent", &t.percent)?,
                name: t.name,
            })
        })
        .collect()
}

/// A quote, in full (PUT replaces it; a client's decision is kept).
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct QuoteBody {
    /// The client's id.
    pub client_id: Option<String>,
    /// Quote number as printed.
    pub number: String,
    /// Title.
    pub title: String,
    /// Status.
    pub status: QuoteStatusDto,
    /// ISO 4217 currency (default USD).
    pub currency: Option<String>,
    /// Priced lines.
    #[oai(default)]
    pub items: Vec<LineItemBody>,
    /// Taxes.
    #[oai(default)]
    pub taxes: Vec<TaxBody>,
    /// Last day it can be decided on.
    pub valid_until: Option<Date>,
    /// A note for the client.
    pub client_message: Option<String>,
    /// Internal notes.
    #[oai(default)]
    pub internal_notes: String,
}

impl QuoteBody {
    pub(crate) fn into_model(
        self,
        org: m::OrgId,
        quote: m::RecordId,
    ) -> Result<m::Quote, ApiError> {
        Ok(m::Quote {
            id: quote,
            org_id: org,
            client_id: optional_id("client_id", self.client_id)?,
            number: self.number,
            title: self.title,
            status: self.status.into(),
            currency: currency(self.currency)?,
            items: lines(self.items)?,
            taxes: taxes(self.taxes)?,
            valid_until: self.valid_until,
            client_message: self.client_message,
            internal_notes: self.internal_notes,
            decision: None,
        })
    }
}

/// An invoice, in full (PUT replaces it).
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct InvoiceBody {
    /// The client's id.
    pub client_id: Option<String>,
    /// The work order it bills.
    pub work_order_id: Option<String>,
    /// Invoice number as printed.
    pub number: String,
    /// Title.
    pub title: String,
    /// Status.
    pub status: InvoiceStatusDto,
    /// ISO 4217 currency (default USD).
    pub currency: Option<String>,
    /// Priced lines.
    #[oai(default)]
    pub items: Vec<LineItemBody>,
    /// Taxes.
    #[oai(default)]
    pub taxes: Vec<TaxBody>,
    /// Paid so far, as a decimal string (default "0").
    pub amount_paid: Option<String>,
    /// Due date.
    pub due_date: Option<Date>,
    /// Internal notes.
    #[oai(default)]
    pub internal_notes: String,
}

impl InvoiceBody {
    pub(crate) fn into_model(
        self,
        org: m::OrgId,
        invoice: m::RecordId,
    ) -> Result<m::Invoice, ApiError> {
        Ok(m::Invoice {
            id: invoice,
            org_id: org,
            client_id: optional_id("client_id", self.client_id)?,
            work_order_id: optional_id("work_order_id", self.work_order_id)?,
            number: self.number,
            title: self.title,
            status: self.status.into(),
            currency: currency(self.currency)?,
            items: lines(self.items)?,
            taxes: taxes(self.taxes)?,
            amount_paid: self
                .amount_paid
                .map_or(Ok(Decimal::ZERO), |a| money("amount_paid", &a))?,
            due_date: self.due_date,
            internal_notes: self.internal_notes,
        })
    }
}

/// The status changed.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct StatusChangedEvent {
    /// The new status.
    pub status: WorkStatusDto,
}

/// A task was ticked or un-ticked.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct TaskDoneEvent {
    /// The task's id.
    pub task_id: String,
    /// Done or not.
    pub done: bool,
}

/// An update was posted (or edited, by id).
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct UpdatePostedEvent {
    /// The update.
    pub update: UpdateBody,
}

/// A photo or file was added (or replaced, by id).
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct FileAddedEvent {
    /// The file; `shared` omitted takes the org's default.
    pub file: FileBody,
}

/// A photo or file was removed.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct FileRemovedEvent {
    /// The file's id.
    pub file_id: String,
}

/// A payment was recorded or removed.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct PaymentRecordedEvent {
    /// Whether the job is now paid.
    pub paid: bool,
}

/// The job was reopened.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ReopenEvent {
    /// The status to go back to (default in progress).
    pub status: Option<WorkStatusDto>,
}

/// An event on a work order (I2).
#[derive(Debug, Clone, Union)]
#[oai(discriminator_name = "type", one_of)]
pub enum EventBody {
    /// The status changed.
    #[oai(mapping = "status_changed")]
    StatusChanged(StatusChangedEvent),
    /// A task was ticked or un-ticked.
    #[oai(mapping = "task_done")]
    TaskDone(TaskDoneEvent),
    /// An update was posted.
    #[oai(mapping = "update_posted")]
    UpdatePosted(UpdatePostedEvent),
    /// A file was added.
    #[oai(mapping = "file_added")]
    FileAdded(FileAddedEvent),
    /// A file was removed.
    #[oai(mapping = "file_removed")]
    FileRemoved(FileRemovedEvent),
    /// A payment was recorded or removed.
    #[oai(mapping = "payment_recorded")]
    PaymentRecorded(PaymentRecordedEvent),
    /// The job was reopened.
    #[oai(mapping = "reopen")]
    Reopen(ReopenEvent),
}

impl EventBody {
    pub(crate) fn into_model(self) -> Result<portico_core::service::HostEvent, ApiError> {
        use portico_core::service::{HostEvent, NewFile};
        Ok(match self {
            EventBody::StatusChanged(e) => HostEvent::StatusChanged {
                status: e.status.into(),
            },
            EventBody::TaskDone(e) => HostEvent::TaskDone {
                task: id("task_id", e.task_id)?,
                done: e.done,
            },
            EventBody::UpdatePosted(e) => HostEvent::UpdatePosted {
                update: update_model(e.update)?,
            },
            EventBody::FileAdded(e) => HostEvent::FileAdded {
                file: NewFile {
                    id: id("file.id", e.file.id)?,
                    name: e.file.name,
                    content_type: e.file.content_type.unwrap_or_else(unknown_type),
                    caption: e.file.caption,
                    shared: e.file.shared,
                },
            },
            EventBody::FileRemoved(e) => HostEvent::FileRemoved {
                file: id("file_id", e.file_id)?,
            },
            EventBody::PaymentRecorded(e) => HostEvent::PaymentRecorded { paid: e.paid },
            EventBody::Reopen(e) => HostEvent::Reopen {
                status: e.status.map(Into::into),
            },
        })
    }
}

/// P1: ask staff "share with client?".
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct SharePromptDto {
    /// Visible sections whose content changed.
    pub changed: Vec<SectionDto>,
    /// The status changed.
    pub status_changed: bool,
    /// The schedule was set for the first time.
    pub first_schedule: bool,
    /// The record already has an active share.
    pub share_active: bool,
}

impl From<SharePrompt> for SharePromptDto {
    fn from(p: SharePrompt) -> Self {
        Self {
            changed: p.changed.into_iter().map(Into::into).collect(),
            status_changed: p.status_changed,
            first_schedule: p.first_schedule,
            share_active: p.share_active,
        }
    }
}

/// What a record change did.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct RecordChangeDto {
    /// The record's new version.
    pub version: u64,
    /// Topics of the client emails queued or merged.
    pub notifications: Vec<String>,
    /// P1: present when staff should be asked "share with client?".
    pub share_prompt: Option<SharePromptDto>,
    /// The active share's expiry after the change (S7).
    pub expires_at: Option<OffsetDateTime>,
    /// Shares this change ended: when a record's client changes, its link stops (the old
    /// recipient never sees the new client's details); share again to send the new client one.
    pub ended_share_ids: Vec<String>,
}

impl From<RecordChange> for RecordChangeDto {
    fn from(c: RecordChange) -> Self {
        Self {
            version: c.version,
            notifications: c
                .notifications
                .iter()
                .map(|t| t.as_str().to_owned())
                .collect(),
            share_prompt: c.share_prompt.map(Into::into),
            expires_at: c.expires_at,
            ended_share_ids: c.ended_shares.iter().map(|s| s.0.to_string()).collect(),
        }
    }
}

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
    /// The record it is about.
    pub record_kind: RecordKindDto,
    /// The record's id.
    pub record_id: String,
    /// The recipient.
    pub to: String,
    /// `link_shared`, `status_changed`, `tasks_completed`, `updates_shared`, `quote_decided`,
    /// `help_requested`.
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
            record_kind: n.record.kind.into(),
            record_id: n.record.id.to_string(),
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
