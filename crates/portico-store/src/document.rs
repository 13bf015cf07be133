//! The store's own formats for the JSON it keeps: a record's document (`records.body`),
//! versioned; a queued notification's kind (`outbox.kind`); an audit entry's actor and action.
//!
//! The core's types are free to change; what a database already holds is not. So the body is
//! written from these types, owned here, never from the core's, and carries a
//! `schema_version`. Version 1 is the shape every row has had since the first release (a body
//! without `schema_version` is version 1). A change of shape adds a `…V2` type and a conversion
//! from version 1 on read; the fixtures under `tests/fixtures/stored/` must keep reading.
//! Times are RFC 3339 text, days `YYYY-MM-DD`, amounts decimal text, ids and currencies their
//! text; every conversion back checks them, and a value that fails is `StoreError::Corrupt`.

use portico_core::model::{
    ActivityEntry, Actor, Attachment, AuditAction, CostLine, Currency, DecisionKind, Email,
    Invoice, InvoiceStatus, LineItem, LinkReason, Money, NotificationKind, Part, PaymentOutcome,
    PhotoStage, Quote, QuoteDecision, QuoteStatus, Record, Schedule, Section, Sections, Signature,
    Task, TaxRate, TimeEntry, Update, WorkOrder, WorkStatus,
};
use portico_core::ports::StoreError;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime};

use crate::convert::{corrupt, host_id};

/// The version [`to_body`] writes.
pub(crate) const SCHEMA_VERSION: u64 = 1;

/// The JSON body of `record`, in the current version.
pub(crate) fn to_body(record: &Record) -> Result<serde_json::Value, StoreError> {
    let doc = match record {
        Record::WorkOrder(wo) => RecordV1::WorkOrder(Box::new(WorkOrderV1::from_model(wo)?)),
        Record::Quote(q) => RecordV1::Quote(QuoteV1::from_model(q)?),
        Record::Invoice(i) => RecordV1::Invoice(InvoiceV1::from_model(i)?),
    };
    let mut body = serde_json::to_value(doc).map_err(|e| StoreError::Backend(Box::new(e)))?;
    if let Some(fields) = body.as_object_mut() {
        fields.insert("schema_version".into(), SCHEMA_VERSION.into());
    }
    Ok(body)
}

/// The record a stored body holds, whichever version wrote it.
pub(crate) fn from_body(body: serde_json::Value) -> Result<Record, StoreError> {
    let version = match body.get("schema_version") {
        None => 1,
        Some(v) => v
            .as_u64()
            .ok_or_else(|| corrupt("record", format!("schema_version {v} is not a number")))?,
    };
    match version {
        1 => serde_json::from_value::<RecordV1>(body)
            .map_err(|e| corrupt("record", e))?
            .into_model(),
        newer => Err(corrupt(
            "record",
            format!("schema_version {newer} was written by a newer Portico; upgrade to read it"),
        )),
    }
}

/// The record a stored body's JSON text holds, whichever version wrote it: what
/// [`from_body`] reads, parsed from the text straight into its kind's type. A first pass reads
/// only `schema_version` and `kind`, skipping the rest without keeping it, so no document tree
/// and no buffered copy of the body is built (the read of every uncached client page).
pub(crate) fn from_text(text: &str) -> Result<Record, StoreError> {
    /// What says how to read the rest.
    #[derive(Deserialize)]
    struct Head<'a> {
        schema_version: Option<serde_json::Number>,
        #[serde(borrow)]
        kind: std::borrow::Cow<'a, str>,
    }
    fn parse<'a, T: Deserialize<'a>>(text: &'a str) -> Result<T, StoreError> {
        serde_json::from_str(text).map_err(|e| corrupt("record", e))
    }
    let head: Head = parse(text)?;
    let version = match &head.schema_version {
        None => 1,
        Some(v) => v
            .as_u64()
            .ok_or_else(|| corrupt("record", format!("schema_version {v} is not a number")))?,
    };
    if version != 1 {
        return Err(corrupt(
            "record",
            format!("schema_version {version} was written by a newer Portico; upgrade to read it"),
        ));
    }
    match head.kind.as_ref() {
        "work_order" => Ok(Record::WorkOrder(parse::<WorkOrderV1>(text)?.into_model()?)),
        "quote" => Ok(Record::Quote(parse::<QuoteV1>(text)?.into_model()?)),
        "invoice" => Ok(Record::Invoice(parse::<InvoiceV1>(text)?.into_model()?)),
        other => Err(corrupt("record", format!("unknown kind {other:?}"))),
    }
}

pub(crate) fn moment(what: &'static str, raw: &str) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::parse(raw, &Rfc3339).map_err(|e| corrupt(what, e))
}

/// A moment as RFC 3339 text; one that has none (a year past 9999) is refused, never written
/// as something that would not read back.
pub(crate) fn moment_text(at: OffsetDateTime) -> Result<String, StoreError> {
    at.format(&Rfc3339)
        .map_err(|e| StoreError::Backend(Box::new(e)))
}

pub(crate) fn maybe_moment_text(at: Option<OffsetDateTime>) -> Result<Option<String>, StoreError> {
    at.map(moment_text).transpose()
}

pub(crate) fn maybe_moment(
    what: &'static str,
    raw: Option<&str>,
) -> Result<Option<OffsetDateTime>, StoreError> {
    raw.map(|r| moment(what, r)).transpose()
}

const DAY: &[time::format_description::FormatItem<'static>] =
    format_description!("[year]-[month]-[day]");

fn maybe_day(what: &'static str, raw: Option<&str>) -> Result<Option<Date>, StoreError> {
    raw.map(|r| day(what, r)).transpose()
}

/// A `YYYY-MM-DD` day as stored.
pub(crate) fn day(what: &'static str, raw: &str) -> Result<Date, StoreError> {
    Date::parse(raw, DAY).map_err(|e| corrupt(what, e))
}

/// A day as stored: `YYYY-MM-DD`.
pub(crate) fn day_text(day: Date) -> Result<String, StoreError> {
    day.format(DAY)
        .map_err(|e| StoreError::Backend(Box::new(e)))
}

fn maybe_id<T: TryFrom<String>>(
    what: &'static str,
    raw: Option<String>,
) -> Result<Option<T>, StoreError>
where
    T::Error: std::fmt::Display,
{
    raw.map(|r| host_id(what, r)).transpose()
}

pub(crate) fn currency(raw: &str) -> Result<Currency, StoreError> {
    Currency::new(raw).map_err(|e| corrupt("record currency", e))
}

fn yes() -> bool {
    true
}

/// Version 1 of an amount of money: exact decimal text and the currency's code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct MoneyV1 {
    amount: Decimal,
    currency: String,
}

impl MoneyV1 {
    pub(crate) fn of(money: &Money) -> Self {
        Self {
            amount: money.amount,
            currency: money.currency.code().to_owned(),
        }
    }

    pub(crate) fn money(self) -> Result<Money, StoreError> {
        Ok(Money::new(self.amount, currency(&self.currency)?))
    }
}

/// Version 1 of what became of an online payment.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum PaymentOutcomeV1 {
    Received,
    Failed,
}

impl From<PaymentOutcome> for PaymentOutcomeV1 {
    fn from(o: PaymentOutcome) -> Self {
        match o {
            PaymentOutcome::Received => Self::Received,
            PaymentOutcome::Failed => Self::Failed,
        }
    }
}

impl From<PaymentOutcomeV1> for PaymentOutcome {
    fn from(o: PaymentOutcomeV1) -> Self {
        match o {
            PaymentOutcomeV1::Received => Self::Received,
            PaymentOutcomeV1::Failed => Self::Failed,
        }
    }
}

/// Version 1 of a record's body.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum RecordV1 {
    WorkOrder(Box<WorkOrderV1>),
    Quote(QuoteV1),
    Invoice(InvoiceV1),
}

impl RecordV1 {
    fn into_model(self) -> Result<Record, StoreError> {
        Ok(match self {
            RecordV1::WorkOrder(wo) => Record::WorkOrder(wo.into_model()?),
            RecordV1::Quote(q) => Record::Quote(q.into_model()?),
            RecordV1::Invoice(i) => Record::Invoice(i.into_model()?),
        })
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum WorkStatusV1 {
    Unscheduled,
    Scheduled,
    InProgress,
    OnHold,
    Completed,
    Cancelled,
}

impl From<WorkStatus> for WorkStatusV1 {
    fn from(s: WorkStatus) -> Self {
        match s {
            WorkStatus::Unscheduled => Self::Unscheduled,
            WorkStatus::Scheduled => Self::Scheduled,
            WorkStatus::InProgress => Self::InProgress,
            WorkStatus::OnHold => Self::OnHold,
            WorkStatus::Completed => Self::Completed,
            WorkStatus::Cancelled => Self::Cancelled,
        }
    }
}

impl From<WorkStatusV1> for WorkStatus {
    fn from(s: WorkStatusV1) -> Self {
        match s {
            WorkStatusV1::Unscheduled => Self::Unscheduled,
            WorkStatusV1::Scheduled => Self::Scheduled,
            WorkStatusV1::InProgress => Self::InProgress,
            WorkStatusV1::OnHold => Self::OnHold,
            WorkStatusV1::Completed => Self::Completed,
            WorkStatusV1::Cancelled => Self::Cancelled,
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct ScheduleV1 {
    #[serde(default)]
    start: Option<String>,
    #[serde(default)]
    end: Option<String>,
    technician: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct TaskV1 {
    id: String,
    title: String,
    done: bool,
    #[serde(default)]
    internal: bool,
}

#[derive(Debug, Serialize, Deserialize)]
struct AttachmentV1 {
    id: String,
    name: String,
    content_type: String,
    caption: Option<String>,
    shared: bool,
    // Added later, optional: a body without them reads as before, and an older reader skips
    // them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    taken_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    stage: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct PartV1 {
    name: String,
    quantity: Decimal,
    unit_cost: Option<Decimal>,
}

#[derive(Debug, Serialize, Deserialize)]
struct SignatureV1 {
    signed_by: String,
    signed_at: String,
    image: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct UpdateV1 {
    id: String,
    author: Option<String>,
    posted_at: String,
    body: String,
    shared: bool,
}

#[derive(Debug, Serialize, Deserialize)]
struct ActivityEntryV1 {
    at: String,
    actor: Option<String>,
    text: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct TimeEntryV1 {
    staff: String,
    minutes: u32,
    hourly_rate: Decimal,
    note: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct CostLineV1 {
    description: String,
    amount: Decimal,
}

#[derive(Debug, Serialize, Deserialize)]
struct WorkOrderV1 {
    id: String,
    org_id: String,
    client_id: Option<String>,
    title: String,
    status: WorkStatusV1,
    description: String,
    schedule: ScheduleV1,
    tasks: Vec<TaskV1>,
    files: Vec<AttachmentV1>,
    parts: Vec<PartV1>,
    signature: Option<SignatureV1>,
    updates: Vec<UpdateV1>,
    paid: bool,
    currency: String,
    internal_notes: String,
    activity_log: Vec<ActivityEntryV1>,
    time_entries: Vec<TimeEntryV1>,
    costs: Vec<CostLineV1>,
    #[serde(default)]
    completed_at: Option<String>,
    #[serde(default)]
    paid_at: Option<String>,
}

fn updates_v1(updates: &[Update]) -> Result<Vec<UpdateV1>, StoreError> {
    updates
        .iter()
        .map(|u| {
            Ok(UpdateV1 {
                id: u.id.as_str().to_owned(),
                author: u.author.as_ref().map(|a| a.as_str().to_owned()),
                posted_at: moment_text(u.posted_at)?,
                body: u.body.clone(),
                shared: u.shared,
            })
        })
        .collect()
}

impl WorkOrderV1 {
    fn from_model(wo: &WorkOrder) -> Result<Self, StoreError> {
        let id = |s: &str| s.to_owned();
        Ok(Self {
            id: id(wo.id.as_str()),
            org_id: id(wo.org_id.as_str()),
            client_id: wo.client_id.as_ref().map(|c| id(c.as_str())),
            title: wo.title.clone(),
            status: wo.status.into(),
            description: wo.description.clone(),
            schedule: ScheduleV1 {
                start: maybe_moment_text(wo.schedule.start)?,
                end: maybe_moment_text(wo.schedule.end)?,
                technician: wo.schedule.technician.as_ref().map(|t| id(t.as_str())),
            },
            tasks: wo
                .tasks
                .iter()
                .map(|t| TaskV1 {
                    id: id(t.id.as_str()),
                    title: t.title.clone(),
                    done: t.done,
                    internal: t.internal,
                })
                .collect(),
            files: wo
                .files
                .iter()
                .map(|f| {
                    Ok(AttachmentV1 {
                        id: id(f.id.as_str()),
                        name: f.name.clone(),
                        content_type: f.content_type.clone(),
                        caption: f.caption.clone(),
                        shared: f.shared,
                        taken_at: maybe_moment_text(f.taken_at)?,
                        stage: f.stage.map(|s| s.as_str().to_owned()),
                    })
                })
                .collect::<Result<_, StoreError>>()?,
            parts: wo
                .parts
                .iter()
                .map(|p| PartV1 {
                    name: p.name.clone(),
                    quantity: p.quantity,
                    unit_cost: p.unit_cost,
                })
                .collect(),
            signature: wo
                .signature
                .as_ref()
                .map(|s| {
                    Ok::<_, StoreError>(SignatureV1 {
                        signed_by: s.signed_by.clone(),
                        signed_at: moment_text(s.signed_at)?,
                        image: s.image.as_ref().map(|i| id(i.as_str())),
                    })
                })
                .transpose()?,
            updates: updates_v1(&wo.updates)?,
            paid: wo.paid,
            currency: wo.currency.code().to_owned(),
            internal_notes: wo.internal_notes.clone(),
            activity_log: wo
                .activity_log
                .iter()
                .map(|a| {
                    Ok(ActivityEntryV1 {
                        at: moment_text(a.at)?,
                        actor: a.actor.as_ref().map(|s| id(s.as_str())),
                        text: a.text.clone(),
                    })
                })
                .collect::<Result<_, StoreError>>()?,
            time_entries: wo
                .time_entries
                .iter()
                .map(|t| TimeEntryV1 {
                    staff: id(t.staff.as_str()),
                    minutes: t.minutes,
                    hourly_rate: t.hourly_rate,
                    note: t.note.clone(),
                })
                .collect(),
            costs: wo
                .costs
                .iter()
                .map(|c| CostLineV1 {
                    description: c.description.clone(),
                    amount: c.amount,
                })
                .collect(),
            completed_at: maybe_moment_text(wo.completed_at)?,
            paid_at: maybe_moment_text(wo.paid_at)?,
        })
    }
}

const WORK_ORDER: &str = "work order";

fn tasks(tasks: Vec<TaskV1>) -> Result<Vec<Task>, StoreError> {
    tasks
        .into_iter()
        .map(|t| {
            Ok(Task {
                id: host_id(WORK_ORDER, t.id)?,
                title: t.title,
                done: t.done,
                internal: t.internal,
            })
        })
        .collect()
}

fn files(files: Vec<AttachmentV1>) -> Result<Vec<Attachment>, StoreError> {
    files
        .into_iter()
        .map(|f| {
            Ok(Attachment {
                id: host_id(WORK_ORDER, f.id)?,
                name: f.name,
                content_type: f.content_type,
                caption: f.caption,
                shared: f.shared,
                taken_at: maybe_moment(WORK_ORDER, f.taken_at.as_deref())?,
                stage: f
                    .stage
                    .map(|s| {
                        PhotoStage::parse(&s)
                            .ok_or_else(|| corrupt(WORK_ORDER, format!("unknown photo stage {s}")))
                    })
                    .transpose()?,
            })
        })
        .collect()
}

fn updates(updates: Vec<UpdateV1>) -> Result<Vec<Update>, StoreError> {
    updates
        .into_iter()
        .map(|u| {
            Ok(Update {
                id: host_id(WORK_ORDER, u.id)?,
                author: maybe_id(WORK_ORDER, u.author)?,
                posted_at: moment(WORK_ORDER, &u.posted_at)?,
                body: u.body,
                shared: u.shared,
            })
        })
        .collect()
}

impl WorkOrderV1 {
    fn into_model(self) -> Result<WorkOrder, StoreError> {
        let what = WORK_ORDER;
        Ok(WorkOrder {
            id: host_id(what, self.id)?,
            org_id: host_id(what, self.org_id)?,
            client_id: maybe_id(what, self.client_id)?,
            title: self.title,
            status: self.status.into(),
            description: self.description,
            schedule: Schedule {
                start: maybe_moment(what, self.schedule.start.as_deref())?,
                end: maybe_moment(what, self.schedule.end.as_deref())?,
                technician: maybe_id(what, self.schedule.technician)?,
            },
            tasks: tasks(self.tasks)?,
            files: files(self.files)?,
            parts: self
                .parts
                .into_iter()
                .map(|p| Part {
                    name: p.name,
                    quantity: p.quantity,
                    unit_cost: p.unit_cost,
                })
                .collect(),
            signature: self
                .signature
                .map(|s| {
                    Ok::<_, StoreError>(Signature {
                        signed_by: s.signed_by,
                        signed_at: moment(what, &s.signed_at)?,
                        image: maybe_id(what, s.image)?,
                    })
                })
                .transpose()?,
            updates: updates(self.updates)?,
            paid: self.paid,
            currency: currency(&self.currency)?,
            internal_notes: self.internal_notes,
            activity_log: self
                .activity_log
                .into_iter()
                .map(|a| {
                    Ok(ActivityEntry {
                        at: moment(what, &a.at)?,
                        actor: maybe_id(what, a.actor)?,
                        text: a.text,
                    })
                })
                .collect::<Result<_, StoreError>>()?,
            time_entries: self
                .time_entries
                .into_iter()
                .map(|t| {
                    Ok(TimeEntry {
                        staff: host_id(what, t.staff)?,
                        minutes: t.minutes,
                        hourly_rate: t.hourly_rate,
                        note: t.note,
                    })
                })
                .collect::<Result<_, StoreError>>()?,
            costs: self
                .costs
                .into_iter()
                .map(|c| CostLine {
                    description: c.description,
                    amount: c.amount,
                })
                .collect(),
            completed_at: maybe_moment(what, self.completed_at.as_deref())?,
            paid_at: maybe_moment(what, self.paid_at.as_deref())?,
        })
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct LineItemV1 {
    description: String,
    quantity: Decimal,
    unit_price: Decimal,
    #[serde(default = "yes")]
    taxable: bool,
    #[serde(default)]
    unit_cost: Option<Decimal>,
}

#[derive(Debug, Serialize, Deserialize)]
struct TaxRateV1 {
    name: String,
    percent: Decimal,
}

fn lines_v1(items: &[LineItem]) -> Vec<LineItemV1> {
    items
        .iter()
        .map(|l| LineItemV1 {
            description: l.description.clone(),
            quantity: l.quantity,
            unit_price: l.unit_price,
            taxable: l.taxable,
            unit_cost: l.unit_cost,
        })
        .collect()
}

fn lines(items: Vec<LineItemV1>) -> Vec<LineItem> {
    items
        .into_iter()
        .map(|l| LineItem {
            description: l.description,
            quantity: l.quantity,
            unit_price: l.unit_price,
            taxable: l.taxable,
            unit_cost: l.unit_cost,
        })
        .collect()
}

fn taxes_v1(taxes: &[TaxRate]) -> Vec<TaxRateV1> {
    taxes
        .iter()
        .map(|t| TaxRateV1 {
            name: t.name.clone(),
            percent: t.percent,
        })
        .collect()
}

fn taxes(taxes: Vec<TaxRateV1>) -> Vec<TaxRate> {
    taxes
        .into_iter()
        .map(|t| TaxRate {
            name: t.name,
            percent: t.percent,
        })
        .collect()
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum QuoteStatusV1 {
    Draft,
    Sent,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum DecisionKindV1 {
    Approved,
    ChangesRequested,
    Declined,
}

#[derive(Debug, Serialize, Deserialize)]
struct QuoteDecisionV1 {
    kind: DecisionKindV1,
    message: Option<String>,
    at: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct QuoteV1 {
    id: String,
    org_id: String,
    client_id: Option<String>,
    number: String,
    title: String,
    status: QuoteStatusV1,
    currency: String,
    items: Vec<LineItemV1>,
    taxes: Vec<TaxRateV1>,
    #[serde(default)]
    valid_until: Option<String>,
    client_message: Option<String>,
    internal_notes: String,
    decision: Option<QuoteDecisionV1>,
}

impl QuoteV1 {
    fn from_model(q: &Quote) -> Result<Self, StoreError> {
        Ok(Self {
            id: q.id.as_str().to_owned(),
            org_id: q.org_id.as_str().to_owned(),
            client_id: q.client_id.as_ref().map(|c| c.as_str().to_owned()),
            number: q.number.clone(),
            title: q.title.clone(),
            status: match q.status {
                QuoteStatus::Draft => QuoteStatusV1::Draft,
                QuoteStatus::Sent => QuoteStatusV1::Sent,
            },
            currency: q.currency.code().to_owned(),
            items: lines_v1(&q.items),
            taxes: taxes_v1(&q.taxes),
            valid_until: q.valid_until.map(day_text).transpose()?,
            client_message: q.client_message.clone(),
            internal_notes: q.internal_notes.clone(),
            decision: q
                .decision
                .as_ref()
                .map(|d| {
                    Ok::<_, StoreError>(QuoteDecisionV1 {
                        kind: d.kind.into(),
                        message: d.message.clone(),
                        at: moment_text(d.at)?,
                    })
                })
                .transpose()?,
        })
    }
}

impl QuoteV1 {
    fn into_model(self) -> Result<Quote, StoreError> {
        let what = "quote";
        Ok(Quote {
            id: host_id(what, self.id)?,
            org_id: host_id(what, self.org_id)?,
            client_id: maybe_id(what, self.client_id)?,
            number: self.number,
            title: self.title,
            status: match self.status {
                QuoteStatusV1::Draft => QuoteStatus::Draft,
                QuoteStatusV1::Sent => QuoteStatus::Sent,
            },
            currency: currency(&self.currency)?,
            items: lines(self.items),
            taxes: taxes(self.taxes),
            valid_until: maybe_day(what, self.valid_until.as_deref())?,
            client_message: self.client_message,
            internal_notes: self.internal_notes,
            decision: self
                .decision
                .map(|d| {
                    Ok::<_, StoreError>(QuoteDecision {
                        kind: d.kind.into(),
                        message: d.message,
                        at: moment(what, &d.at)?,
                    })
                })
                .transpose()?,
        })
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum InvoiceStatusV1 {
    Draft,
    Issued,
    Void,
}

#[derive(Debug, Serialize, Deserialize)]
struct InvoiceV1 {
    id: String,
    org_id: String,
    client_id: Option<String>,
    work_order_id: Option<String>,
    number: String,
    title: String,
    status: InvoiceStatusV1,
    currency: String,
    items: Vec<LineItemV1>,
    taxes: Vec<TaxRateV1>,
    amount_paid: Decimal,
    #[serde(default)]
    due_date: Option<String>,
    internal_notes: String,
}

impl InvoiceV1 {
    fn from_model(i: &Invoice) -> Result<Self, StoreError> {
        Ok(Self {
            id: i.id.as_str().to_owned(),
            org_id: i.org_id.as_str().to_owned(),
            client_id: i.client_id.as_ref().map(|c| c.as_str().to_owned()),
            work_order_id: i.work_order_id.as_ref().map(|w| w.as_str().to_owned()),
            number: i.number.clone(),
            title: i.title.clone(),
            status: match i.status {
                InvoiceStatus::Draft => InvoiceStatusV1::Draft,
                InvoiceStatus::Issued => InvoiceStatusV1::Issued,
                InvoiceStatus::Void => InvoiceStatusV1::Void,
            },
            currency: i.currency.code().to_owned(),
            items: lines_v1(&i.items),
            taxes: taxes_v1(&i.taxes),
            amount_paid: i.amount_paid,
            due_date: i.due_date.map(day_text).transpose()?,
            internal_notes: i.internal_notes.clone(),
        })
    }
}

impl InvoiceV1 {
    fn into_model(self) -> Result<Invoice, StoreError> {
        let what = "invoice";
        Ok(Invoice {
            id: host_id(what, self.id)?,
            org_id: host_id(what, self.org_id)?,
            client_id: maybe_id(what, self.client_id)?,
            work_order_id: maybe_id(what, self.work_order_id)?,
            number: self.number,
            title: self.title,
            status: match self.status {
                InvoiceStatusV1::Draft => InvoiceStatus::Draft,
                InvoiceStatusV1::Issued => InvoiceStatus::Issued,
                InvoiceStatusV1::Void => InvoiceStatus::Void,
            },
            currency: currency(&self.currency)?,
            items: lines(self.items),
            taxes: taxes(self.taxes),
            amount_paid: self.amount_paid,
            due_date: maybe_day(what, self.due_date.as_deref())?,
            internal_notes: self.internal_notes,
        })
    }
}

/// Version 1 of a queued notification's kind (`outbox.kind`). The outbox keeps rows only until
/// they are settled, but a row queued by one release may be sent by the next.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum NotificationKindV1 {
    LinkShared {
        reason: LinkReasonV1,
    },
    StatusChanged {
        from: String,
        to: String,
    },
    TasksCompleted {
        tasks: Vec<String>,
        #[serde(default)]
        task_ids: Vec<String>,
    },
    UpdatesShared {
        updates: Vec<String>,
        #[serde(default)]
        update_ids: Vec<String>,
    },
    QuoteDecided {
        decision: DecisionKindV1,
        message: Option<String>,
    },
    HelpRequested {
        name: String,
        phone: Option<String>,
        message: String,
    },
    PortalInvite {
        client: String,
        grant: uuid::Uuid,
    },
    PortalSignIn {
        client: String,
        grant: uuid::Uuid,
    },
    PasswordReset {
        client: String,
        grant: uuid::Uuid,
    },
    PasswordChanged {
        client: String,
    },
    MessageFromStaff {
        client: String,
        author: String,
        body: String,
    },
    MessageFromClient {
        name: String,
        body: String,
        job: Option<String>,
    },
    ServiceRequested {
        name: String,
        email: Option<String>,
        phone: Option<String>,
        address: Option<String>,
        description: String,
        /// `YYYY-MM-DD`.
        preferred_dates: Vec<String>,
        /// Added later: a kind stored without it had none.
        #[serde(default)]
        photos: u32,
    },
    ContractSigned {
        name: String,
        title: String,
        version: u32,
        digest: String,
    },
    PaymentToClient {
        outcome: PaymentOutcomeV1,
        number: String,
        amount: MoneyV1,
    },
    PaymentToBusiness {
        outcome: PaymentOutcomeV1,
        number: String,
        amount: MoneyV1,
        client: String,
    },
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum LinkReasonV1 {
    Enabled,
    Reshared,
    NewRecipient,
}

impl From<DecisionKind> for DecisionKindV1 {
    fn from(d: DecisionKind) -> Self {
        match d {
            DecisionKind::Approved => Self::Approved,
            DecisionKind::ChangesRequested => Self::ChangesRequested,
            DecisionKind::Declined => Self::Declined,
        }
    }
}

impl From<DecisionKindV1> for DecisionKind {
    fn from(d: DecisionKindV1) -> Self {
        match d {
            DecisionKindV1::Approved => Self::Approved,
            DecisionKindV1::ChangesRequested => Self::ChangesRequested,
            DecisionKindV1::Declined => Self::Declined,
        }
    }
}

fn ids<T: TryFrom<String>>(what: &'static str, raw: Vec<String>) -> Result<Vec<T>, StoreError>
where
    T::Error: std::fmt::Display,
{
    raw.into_iter().map(|r| host_id(what, r)).collect()
}

/// The JSON of a notification's kind, in the current version.
// Reason: one arm per stored kind: the mapping reads best as one table.
#[allow(clippy::too_many_lines)]
pub(crate) fn kind_to_json(kind: &NotificationKind) -> Result<serde_json::Value, StoreError> {
    let text = |ids: &[String]| ids.to_vec();
    let doc = match kind {
        NotificationKind::LinkShared { reason } => NotificationKindV1::LinkShared {
            reason: match reason {
                LinkReason::Enabled => LinkReasonV1::Enabled,
                LinkReason::Reshared => LinkReasonV1::Reshared,
                LinkReason::NewRecipient => LinkReasonV1::NewRecipient,
            },
        },
        NotificationKind::StatusChanged { from, to } => NotificationKindV1::StatusChanged {
            from: from.clone(),
            to: to.clone(),
        },
        NotificationKind::TasksCompleted { tasks, task_ids } => {
            NotificationKindV1::TasksCompleted {
                tasks: text(tasks),
                task_ids: task_ids.iter().map(|t| t.as_str().to_owned()).collect(),
            }
        }
        NotificationKind::UpdatesShared {
            updates,
            update_ids,
        } => NotificationKindV1::UpdatesShared {
            updates: text(updates),
            update_ids: update_ids.iter().map(|u| u.as_str().to_owned()).collect(),
        },
        NotificationKind::QuoteDecided { decision, message } => NotificationKindV1::QuoteDecided {
            decision: (*decision).into(),
            message: message.clone(),
        },
        NotificationKind::HelpRequested {
            name,
            phone,
            message,
        } => NotificationKindV1::HelpRequested {
            name: name.clone(),
            phone: phone.clone(),
            message: message.clone(),
        },
        NotificationKind::PortalInvite { client, grant } => NotificationKindV1::PortalInvite {
            client: client.as_str().to_owned(),
            grant: *grant,
        },
        NotificationKind::PortalSignIn { client, grant } => NotificationKindV1::PortalSignIn {
            client: client.as_str().to_owned(),
            grant: *grant,
        },
        NotificationKind::PasswordReset { client, grant } => NotificationKindV1::PasswordReset {
            client: client.as_str().to_owned(),
            grant: *grant,
        },
        NotificationKind::PasswordChanged { client } => NotificationKindV1::PasswordChanged {
            client: client.as_str().to_owned(),
        },
        NotificationKind::MessageFromStaff {
            client,
            author,
            body,
        } => NotificationKindV1::MessageFromStaff {
            client: client.as_str().to_owned(),
            author: author.clone(),
            body: body.clone(),
        },
        NotificationKind::MessageFromClient { name, body, job } => {
            NotificationKindV1::MessageFromClient {
                name: name.clone(),
                body: body.clone(),
                job: job.clone(),
            }
        }
        NotificationKind::ServiceRequested {
            name,
            email,
            phone,
            address,
            description,
            preferred_dates,
            photos,
        } => NotificationKindV1::ServiceRequested {
            name: name.clone(),
            email: email.as_ref().map(|e| e.as_str().to_owned()),
            phone: phone.clone(),
            address: address.clone(),
            description: description.clone(),
            preferred_dates: preferred_dates
                .iter()
                .map(|d| day_text(*d))
                .collect::<Result<_, _>>()?,
            photos: *photos,
        },
        NotificationKind::ContractSigned {
            name,
            title,
            version,
            digest,
        } => NotificationKindV1::ContractSigned {
            name: name.clone(),
            title: title.clone(),
            version: *version,
            digest: digest.clone(),
        },
        NotificationKind::PaymentToClient {
            outcome,
            number,
            amount,
        } => NotificationKindV1::PaymentToClient {
            outcome: (*outcome).into(),
            number: number.clone(),
            amount: MoneyV1::of(amount),
        },
        NotificationKind::PaymentToBusiness {
            outcome,
            number,
            amount,
            client,
        } => NotificationKindV1::PaymentToBusiness {
            outcome: (*outcome).into(),
            number: number.clone(),
            amount: MoneyV1::of(amount),
            client: client.clone(),
        },
    };
    serde_json::to_value(doc).map_err(|e| StoreError::Backend(Box::new(e)))
}

/// The notification kind stored as `json`.
// Reason: one arm per stored kind: the mapping reads best as one table.
#[allow(clippy::too_many_lines)]
pub(crate) fn kind_from_json(json: serde_json::Value) -> Result<NotificationKind, StoreError> {
    let what = "notification kind";
    Ok(
        match serde_json::from_value::<NotificationKindV1>(json).map_err(|e| corrupt(what, e))? {
            NotificationKindV1::LinkShared { reason } => NotificationKind::LinkShared {
                reason: match reason {
                    LinkReasonV1::Enabled => LinkReason::Enabled,
                    LinkReasonV1::Reshared => LinkReason::Reshared,
                    LinkReasonV1::NewRecipient => LinkReason::NewRecipient,
                },
            },
            NotificationKindV1::StatusChanged { from, to } => {
                NotificationKind::StatusChanged { from, to }
            }
            NotificationKindV1::TasksCompleted { tasks, task_ids } => {
                NotificationKind::TasksCompleted {
                    tasks,
                    task_ids: ids(what, task_ids)?,
                }
            }
            NotificationKindV1::UpdatesShared {
                updates,
                update_ids,
            } => NotificationKind::UpdatesShared {
                updates,
                update_ids: ids(what, update_ids)?,
            },
            NotificationKindV1::QuoteDecided { decision, message } => {
                NotificationKind::QuoteDecided {
                    decision: decision.into(),
                    message,
                }
            }
            NotificationKindV1::HelpRequested {
                name,
                phone,
                message,
            } => NotificationKind::HelpRequested {
                name,
                phone,
                message,
            },
            NotificationKindV1::PortalInvite { client, grant } => NotificationKind::PortalInvite {
                client: crate::convert::host_id(what, client)?,
                grant,
            },
            NotificationKindV1::PortalSignIn { client, grant } => NotificationKind::PortalSignIn {
                client: crate::convert::host_id(what, client)?,
                grant,
            },
            NotificationKindV1::PasswordReset { client, grant } => {
                NotificationKind::PasswordReset {
                    client: crate::convert::host_id(what, client)?,
                    grant,
                }
            }
            NotificationKindV1::PasswordChanged { client } => NotificationKind::PasswordChanged {
                client: crate::convert::host_id(what, client)?,
            },
            NotificationKindV1::MessageFromStaff {
                client,
                author,
                body,
            } => NotificationKind::MessageFromStaff {
                client: crate::convert::host_id(what, client)?,
                author,
                body,
            },
            NotificationKindV1::MessageFromClient { name, body, job } => {
                NotificationKind::MessageFromClient { name, body, job }
            }
            NotificationKindV1::ServiceRequested {
                name,
                email,
                phone,
                address,
                description,
                preferred_dates,
                photos,
            } => NotificationKind::ServiceRequested {
                name,
                email: email
                    .map(|e| Email::parse(&e).map_err(|e| corrupt(what, e)))
                    .transpose()?,
                phone,
                address,
                description,
                preferred_dates: preferred_dates
                    .iter()
                    .map(|d| day(what, d))
                    .collect::<Result<_, _>>()?,
                photos,
            },
            NotificationKindV1::ContractSigned {
                name,
                title,
                version,
                digest,
            } => NotificationKind::ContractSigned {
                name,
                title,
                version,
                digest,
            },
            NotificationKindV1::PaymentToClient {
                outcome,
                number,
                amount,
            } => NotificationKind::PaymentToClient {
                outcome: outcome.into(),
                number,
                amount: amount.money()?,
            },
            NotificationKindV1::PaymentToBusiness {
                outcome,
                number,
                amount,
                client,
            } => NotificationKind::PaymentToBusiness {
                outcome: outcome.into(),
                number,
                amount: amount.money()?,
                client,
            },
        },
    )
}

/// Version 1 of who did an audited action (`audit.actor`).
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", content = "id", rename_all = "snake_case")]
enum ActorV1 {
    Staff(String),
    Client,
}

/// Version 1 of an audited action (`audit.action`).
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum AuditActionV1 {
    ShareEnabled,
    ShareReshared,
    RecipientChanged {
        from: String,
        to: String,
    },
    SectionsChanged {
        from: Vec<SectionV1>,
        to: Vec<SectionV1>,
    },
    ShareRevoked,
    ShareEndedClientChanged,
    QuoteDecided {
        decision: DecisionKindV1,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum SectionV1 {
    ClientInfo,
    Scope,
    Schedule,
    Checklist,
    PhotosFiles,
    PartsUsed,
    Signature,
    Invoices,
    Updates,
}

const SECTIONS: [(Section, SectionV1); 9] = [
    (Section::ClientInfo, SectionV1::ClientInfo),
    (Section::Scope, SectionV1::Scope),
    (Section::Schedule, SectionV1::Schedule),
    (Section::Checklist, SectionV1::Checklist),
    (Section::PhotosFiles, SectionV1::PhotosFiles),
    (Section::PartsUsed, SectionV1::PartsUsed),
    (Section::Signature, SectionV1::Signature),
    (Section::Invoices, SectionV1::Invoices),
    (Section::Updates, SectionV1::Updates),
];

fn sections_v1(sections: Sections) -> Vec<SectionV1> {
    SECTIONS
        .iter()
        .filter(|(s, _)| sections.is_on(*s))
        .map(|(_, v)| *v)
        .collect()
}

fn sections(stored: &[SectionV1]) -> Sections {
    SECTIONS.iter().fold(Sections::NONE, |all, (s, v)| {
        all.with(*s, stored.contains(v))
    })
}

/// The JSON of an audit entry's actor and action, in the current version.
pub(crate) fn audit_to_json(
    actor: &Actor,
    action: &AuditAction,
) -> Result<(serde_json::Value, serde_json::Value), StoreError> {
    let actor = match actor {
        Actor::Staff(id) => ActorV1::Staff(id.as_str().to_owned()),
        Actor::Client => ActorV1::Client,
    };
    let action = match action {
        AuditAction::ShareEnabled => AuditActionV1::ShareEnabled,
        AuditAction::ShareReshared => AuditActionV1::ShareReshared,
        AuditAction::RecipientChanged { from, to } => AuditActionV1::RecipientChanged {
            from: from.as_str().to_owned(),
            to: to.as_str().to_owned(),
        },
        AuditAction::SectionsChanged { from, to } => AuditActionV1::SectionsChanged {
            from: sections_v1(*from),
            to: sections_v1(*to),
        },
        AuditAction::ShareRevoked => AuditActionV1::ShareRevoked,
        AuditAction::ShareEndedClientChanged => AuditActionV1::ShareEndedClientChanged,
        AuditAction::QuoteDecided { decision } => AuditActionV1::QuoteDecided {
            decision: (*decision).into(),
        },
    };
    let json =
        |v: serde_json::Result<serde_json::Value>| v.map_err(|e| StoreError::Backend(Box::new(e)));
    Ok((
        json(serde_json::to_value(actor))?,
        json(serde_json::to_value(action))?,
    ))
}

/// The actor stored as `json`.
pub(crate) fn actor_from_json(json: serde_json::Value) -> Result<Actor, StoreError> {
    Ok(
        match serde_json::from_value::<ActorV1>(json).map_err(|e| corrupt("audit actor", e))? {
            ActorV1::Staff(id) => Actor::Staff(host_id("audit actor", id)?),
            ActorV1::Client => Actor::Client,
        },
    )
}

/// The action stored as `json`.
pub(crate) fn action_from_json(json: serde_json::Value) -> Result<AuditAction, StoreError> {
    let what = "audit action";
    let email = |raw: &str| Email::parse(raw).map_err(|e| corrupt(what, e));
    Ok(
        match serde_json::from_value::<AuditActionV1>(json).map_err(|e| corrupt(what, e))? {
            AuditActionV1::ShareEnabled => AuditAction::ShareEnabled,
            AuditActionV1::ShareReshared => AuditAction::ShareReshared,
            AuditActionV1::RecipientChanged { from, to } => AuditAction::RecipientChanged {
                from: email(&from)?,
                to: email(&to)?,
            },
            AuditActionV1::SectionsChanged { from, to } => AuditAction::SectionsChanged {
                from: sections(&from),
                to: sections(&to),
            },
            AuditActionV1::ShareRevoked => AuditAction::ShareRevoked,
            AuditActionV1::ShareEndedClientChanged => AuditAction::ShareEndedClientChanged,
            AuditActionV1::QuoteDecided { decision } => AuditAction::QuoteDecided {
                decision: decision.into(),
            },
        },
    )
}
