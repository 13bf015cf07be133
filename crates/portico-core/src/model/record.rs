//! Records: work orders, quotes and invoices, with every field the host keeps — the ones a client
//! may see and the internal ones (V4) that no client view can carry.

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use super::{
    ClientId, Currency, FileId, LineItem, OrgId, RecordId, StaffId, TaskId, TaxRate, UpdateId,
};

/// The three kinds of shareable record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    /// A job.
    WorkOrder,
    /// An estimate the client can decide on.
    Quote,
    /// A bill.
    Invoice,
}

impl RecordKind {
    /// The kind's name as written in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::WorkOrder => "work_order",
            RecordKind::Quote => "quote",
            RecordKind::Invoice => "invoice",
        }
    }
}

impl fmt::Display for RecordKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Names one record of an org: its kind and the host's id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RecordRef {
    /// Which kind.
    pub kind: RecordKind,
    /// The host's id, unique per org and kind.
    pub id: RecordId,
}

impl fmt::Display for RecordRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.kind, self.id)
    }
}

/// Where a work order stands. Always shown to the client (V2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkStatus {
    /// Not on the calendar yet.
    Unscheduled,
    /// On the calendar.
    Scheduled,
    /// Work has started.
    InProgress,
    /// Paused, waiting for parts or the client.
    OnHold,
    /// Done.
    Completed,
    /// Called off.
    Cancelled,
}

impl WorkStatus {
    /// Every status, for exhaustive tests.
    pub const ALL: [WorkStatus; 6] = [
        WorkStatus::Unscheduled,
        WorkStatus::Scheduled,
        WorkStatus::InProgress,
        WorkStatus::OnHold,
        WorkStatus::Completed,
        WorkStatus::Cancelled,
    ];

    /// The status's name as written in the API and templates.
    pub fn as_str(self) -> &'static str {
        match self {
            WorkStatus::Unscheduled => "unscheduled",
            WorkStatus::Scheduled => "scheduled",
            WorkStatus::InProgress => "in_progress",
            WorkStatus::OnHold => "on_hold",
            WorkStatus::Completed => "completed",
            WorkStatus::Cancelled => "cancelled",
        }
    }
}

/// When and by whom the work is done.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Schedule {
    /// Planned start.
    pub start: Option<OffsetDateTime>,
    /// Planned completion.
    pub end: Option<OffsetDateTime>,
    /// The assigned technician; the client sees their name and photo only.
    pub technician: Option<StaffId>,
}

impl Schedule {
    /// Whether any date is set.
    pub fn is_set(&self) -> bool {
        self.start.is_some() || self.end.is_some()
    }
}

/// One checklist item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    /// The host's id.
    pub id: TaskId,
    /// What to do.
    pub title: String,
    /// Whether it is done.
    pub done: bool,
    /// Internal tasks are never shown or mailed to the client (V3).
    pub internal: bool,
}

/// A photo or file attached to a work order; its bytes live behind the blob port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// The host's id.
    pub id: FileId,
    /// The file name to show and download as.
    pub name: String,
    /// The checked media type.
    pub content_type: String,
    /// An optional caption.
    pub caption: Option<String>,
    /// Shared with the client (V3); only staff who may share can turn this on (S1).
    pub shared: bool,
    /// When the photo was taken; the gallery groups photos by its day.
    pub taken_at: Option<OffsetDateTime>,
    /// Whether the photo shows the work before or after it was done.
    pub stage: Option<PhotoStage>,
}

/// Which side of the work a photo shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PhotoStage {
    /// Before the work.
    Before,
    /// After the work.
    After,
}

impl PhotoStage {
    /// The name used in the API and in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            PhotoStage::Before => "before",
            PhotoStage::After => "after",
        }
    }

    /// The stage named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        [PhotoStage::Before, PhotoStage::After]
            .into_iter()
            .find(|s| s.as_str() == name)
    }
}

/// A part or material used on the job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// What was used.
    pub name: String,
    /// How much.
    pub quantity: Decimal,
    /// What it cost the business. Internal (V4).
    pub unit_cost: Option<Decimal>,
}

/// The customer's signature, once captured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// The name typed by the signer.
    pub signed_by: String,
    /// When it was signed.
    pub signed_at: OffsetDateTime,
    /// The drawn signature image.
    pub image: Option<FileId>,
}

/// A post on a work order's activity; internal unless shared with the client (V3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Update {
    /// The host's id.
    pub id: UpdateId,
    /// Who posted it.
    pub author: Option<StaffId>,
    /// When.
    pub posted_at: OffsetDateTime,
    /// The text.
    pub body: String,
    /// Posted with "share with client".
    pub shared: bool,
}

/// One line of the internal activity log. Internal (V4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityEntry {
    /// When it happened.
    pub at: OffsetDateTime,
    /// Who did it.
    pub actor: Option<StaffId>,
    /// What happened.
    pub text: String,
}

/// Hours a staff member booked on the job. Internal (V4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeEntry {
    /// Who worked.
    pub staff: StaffId,
    /// For how long.
    pub minutes: u32,
    /// Their hourly rate.
    pub hourly_rate: Decimal,
    /// A note for the office.
    pub note: String,
}

/// A cost the business bore on the job. Internal (V4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CostLine {
    /// What it was for.
    pub description: String,
    /// How much.
    pub amount: Decimal,
}

/// A job. `completed_at` and `paid_at` are kept by Portico from the status and `paid`
/// transitions it sees (they feed S7); whatever the host sends in them is replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkOrder {
    /// The host's id.
    pub id: RecordId,
    /// The org.
    pub org_id: OrgId,
    /// The customer; needed to share (S2).
    pub client_id: Option<ClientId>,
    /// Shown on every page (V2).
    pub title: String,
    /// Shown on every page (V2).
    pub status: WorkStatus,
    /// The job description (`scope` section).
    pub description: String,
    /// Dates and technician (`schedule` section).
    pub schedule: Schedule,
    /// The checklist (`checklist` section).
    pub tasks: Vec<Task>,
    /// Photos and files (`photos_files` section).
    pub files: Vec<Attachment>,
    /// Parts used (`parts_used` section).
    pub parts: Vec<Part>,
    /// The customer's signature (`signature` section).
    pub signature: Option<Signature>,
    /// Updates (`updates` section shows the shared ones).
    pub updates: Vec<Update>,
    /// Whether the job is paid for (feeds S7).
    pub paid: bool,
    /// The currency of the job's money.
    pub currency: Currency,
    /// Internal (V4).
    pub internal_notes: String,
    /// Internal (V4).
    pub activity_log: Vec<ActivityEntry>,
    /// Internal (V4).
    pub time_entries: Vec<TimeEntry>,
    /// Internal (V4).
    pub costs: Vec<CostLine>,
    /// When it last became completed; kept by Portico.
    pub completed_at: Option<OffsetDateTime>,
    /// When it last became paid; kept by Portico.
    pub paid_at: Option<OffsetDateTime>,
}

/// Where a quote stands, as the host sets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuoteStatus {
    /// Being written.
    Draft,
    /// Sent to the client, awaiting a decision.
    Sent,
}

/// What a client decided on a quote (V5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionKind {
    /// Accepted as it stands.
    Approved,
    /// Asked for a revision (with a message).
    ChangesRequested,
    /// Turned down.
    Declined,
}

impl DecisionKind {
    /// The decision's name as written in the API and templates.
    pub fn as_str(self) -> &'static str {
        match self {
            DecisionKind::Approved => "approved",
            DecisionKind::ChangesRequested => "changes_requested",
            DecisionKind::Declined => "declined",
        }
    }
}

/// A client's decision on a quote; kept by Portico, never overwritten by a host upsert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuoteDecision {
    /// What was decided.
    pub kind: DecisionKind,
    /// The client's message, if any.
    pub message: Option<String>,
    /// When.
    pub at: OffsetDateTime,
}

/// An estimate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    /// The host's id.
    pub id: RecordId,
    /// The org.
    pub org_id: OrgId,
    /// The customer.
    pub client_id: Option<ClientId>,
    /// The quote's number as printed.
    pub number: String,
    /// Shown on every page.
    pub title: String,
    /// As set by the host.
    pub status: QuoteStatus,
    /// Currency of every amount.
    pub currency: Currency,
    /// Priced lines.
    pub items: Vec<LineItem>,
    /// Taxes on the taxable lines.
    pub taxes: Vec<TaxRate>,
    /// Last day the quote can be decided on.
    pub valid_until: Option<Date>,
    /// A note meant for the client.
    pub client_message: Option<String>,
    /// Internal (V4).
    pub internal_notes: String,
    /// The client's decision; kept by Portico (V5).
    pub decision: Option<QuoteDecision>,
}

/// An invoice as the host sets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceStatus {
    /// Being written.
    Draft,
    /// Issued to the client.
    Issued,
    /// Cancelled; nothing is due.
    Void,
}

/// How much of an invoice is paid; derived from the amounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// Nothing paid yet.
    Unpaid,
    /// Some paid, some due.
    PartiallyPaid,
    /// Nothing due.
    Paid,
    /// Cancelled.
    Void,
}

/// A bill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invoice {
    /// The host's id.
    pub id: RecordId,
    /// The org.
    pub org_id: OrgId,
    /// The customer.
    pub client_id: Option<ClientId>,
    /// The work order it bills, if any (shown in that work order's `invoices` section).
    pub work_order_id: Option<RecordId>,
    /// The invoice's number as printed.
    pub number: String,
    /// Shown on every page.
    pub title: String,
    /// As set by the host.
    pub status: InvoiceStatus,
    /// Currency of every amount.
    pub currency: Currency,
    /// Priced lines.
    pub items: Vec<LineItem>,
    /// Taxes on the taxable lines.
    pub taxes: Vec<TaxRate>,
    /// What the client has paid so far.
    pub amount_paid: Decimal,
    /// When payment is due.
    pub due_date: Option<Date>,
    /// Internal (V4).
    pub internal_notes: String,
}

impl Invoice {
    /// The invoice's totals.
    pub fn totals(&self) -> super::Totals {
        super::totals(&self.items, &self.taxes, self.currency)
    }

    /// What is still due (never negative).
    pub fn amount_due(&self) -> Decimal {
        if self.status == InvoiceStatus::Void {
            return Decimal::ZERO;
        }
        (self.totals().total.amount - self.currency.round(self.amount_paid)).max(Decimal::ZERO)
    }

    /// Paid, partly paid, unpaid or void, from the amounts.
    pub fn payment_status(&self) -> PaymentStatus {
        if self.status == InvoiceStatus::Void {
            PaymentStatus::Void
        } else if self.amount_due().is_zero() {
            PaymentStatus::Paid
        } else if self.amount_paid > Decimal::ZERO {
            PaymentStatus::PartiallyPaid
        } else {
            PaymentStatus::Unpaid
        }
    }
}

/// Any shareable record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// A job.
    WorkOrder(WorkOrder),
    /// An estimate.
    Quote(Quote),
    /// A bill.
    Invoice(Invoice),
}

impl Record {
    /// The record's kind.
    pub fn kind(&self) -> RecordKind {
        match self {
            Record::WorkOrder(_) => RecordKind::WorkOrder,
            Record::Quote(_) => RecordKind::Quote,
            Record::Invoice(_) => RecordKind::Invoice,
        }
    }

    /// The host's id.
    pub fn id(&self) -> &RecordId {
        match self {
            Record::WorkOrder(r) => &r.id,
            Record::Quote(r) => &r.id,
            Record::Invoice(r) => &r.id,
        }
    }

    /// The status label every page shows (V2), status emails carry and stores index: a work
    /// order's status; a quote's decision, or draft / awaiting decision; an invoice's draft or
    /// payment status.
    pub fn status_label(&self) -> &'static str {
        match self {
            Record::WorkOrder(wo) => wo.status.as_str(),
            Record::Quote(q) => match (&q.decision, q.status) {
                (Some(d), _) => d.kind.as_str(),
                (None, QuoteStatus::Draft) => "draft",
                (None, QuoteStatus::Sent) => "awaiting_decision",
            },
            Record::Invoice(inv) => match inv.status {
                InvoiceStatus::Draft => "draft",
                _ => match inv.payment_status() {
                    PaymentStatus::Unpaid => "unpaid",
                    PaymentStatus::PartiallyPaid => "partially_paid",
                    PaymentStatus::Paid => "paid",
                    PaymentStatus::Void => "void",
                },
            },
        }
    }

    /// Kind and id together.
    pub fn reference(&self) -> RecordRef {
        RecordRef {
            kind: self.kind(),
            id: self.id().clone(),
        }
    }

    /// The org it belongs to.
    pub fn org_id(&self) -> &OrgId {
        match self {
            Record::WorkOrder(r) => &r.org_id,
            Record::Quote(r) => &r.org_id,
            Record::Invoice(r) => &r.org_id,
        }
    }

    /// The work order, if this is one.
    pub fn as_work_order(&self) -> Option<&WorkOrder> {
        match self {
            Record::WorkOrder(wo) => Some(wo),
            Record::Quote(_) | Record::Invoice(_) => None,
        }
    }

    /// The staff the record mentions: a work order's technician and the authors of its updates
    /// (shared or not), ordered, each once; none for other kinds.
    pub fn staff_mentioned(&self) -> Vec<StaffId> {
        self.staff_with(|_| true)
    }

    /// The staff a client's view of the record may name: a work order's technician and the
    /// authors of its shared updates, ordered, each once; none for other kinds.
    pub fn staff_shown(&self) -> Vec<StaffId> {
        self.staff_with(|u| u.shared)
    }

    /// A work order's technician and the authors of its updates that `counts`.
    fn staff_with(&self, counts: impl Fn(&Update) -> bool) -> Vec<StaffId> {
        let Record::WorkOrder(wo) = self else {
            return Vec::new();
        };
        let mut ids: Vec<StaffId> = wo
            .updates
            .iter()
            .filter(|u| counts(u))
            .filter_map(|u| u.author.clone())
            .collect();
        ids.extend(wo.schedule.technician.clone());
        ids.sort();
        ids.dedup();
        ids
    }

    /// The customer, if attached.
    pub fn client_id(&self) -> Option<&ClientId> {
        match self {
            Record::WorkOrder(r) => r.client_id.as_ref(),
            Record::Quote(r) => r.client_id.as_ref(),
            Record::Invoice(r) => r.client_id.as_ref(),
        }
    }

    /// The title shown on every page.
    pub fn title(&self) -> &str {
        match self {
            Record::WorkOrder(r) => &r.title,
            Record::Quote(r) => &r.title,
            Record::Invoice(r) => &r.title,
        }
    }
}

/// A record as stored, with the version its optimistic concurrency check compares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versioned<T> {
    /// The stored value.
    pub value: T,
    /// Starts at 1 and grows by one on every write.
    pub version: u64,
}
