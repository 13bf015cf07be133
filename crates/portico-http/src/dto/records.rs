//! Records (work orders, quotes, invoices), their events, and what a change did.

use super::{
    InvoiceStatusDto, QuoteStatusDto, SectionDto, WorkStatusDto, currency, id, money, yes,
};
use poem_openapi::{Object, Union};
use portico_core::model as m;
use portico_core::policy::prompt::SharePrompt;
use portico_core::service::RecordChange;
use rust_decimal::Decimal;
use time::{Date, OffsetDateTime};

use crate::error::ApiError;

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
    /// When the photo was taken: the portal's gallery groups photos by its day.
    pub taken_at: Option<OffsetDateTime>,
    /// `before` or `after` the work.
    pub stage: Option<super::PhotoStageDto>,
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
            taken_at: f.taken_at,
            stage: f.stage.map(Into::into),
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
                    taken_at: e.file.taken_at,
                    stage: e.file.stage.map(Into::into),
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
