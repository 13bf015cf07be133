//! What a client sees: the only types that leave Portico towards a client (pages and emails).
//!
//! V4 holds by construction: none of these types has a field that could carry internal notes,
//! unshared updates, logs, hours, rates, costs, staff contact details or another record. Each
//! work-order section is an `Option`: `None` when the share hides it (V1).

use rust_decimal::Decimal;
use serde::Serialize;
use time::{Date, OffsetDateTime};

use crate::locale::Presentation;
use crate::model::{
    DecisionKind, Email, FileId, Money, PaymentStatus, PhotoStage, RecordKind, TaskId, Totals,
};

/// The English words for a status code.
pub fn status_words(code: &str) -> String {
    match code {
        "unscheduled" => "Not scheduled yet",
        "scheduled" => "Scheduled",
        "in_progress" => "In progress",
        "on_hold" => "On hold",
        "completed" => "Completed",
        "cancelled" => "Cancelled",
        "draft" => "Draft",
        "awaiting_decision" => "Awaiting your decision",
        "approved" => "Approved",
        "changes_requested" => "Changes requested",
        "declined" => "Declined",
        "unpaid" => "Unpaid",
        "partially_paid" => "Partly paid",
        "paid" => "Paid",
        "void" => "Void",
        other => return other.replace('_', " "),
    }
    .to_owned()
}

/// The company as every page shows it (V2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CompanyCard {
    /// The company name.
    pub name: String,
    /// The logo, served through the share's token.
    pub logo: Option<FileId>,
    /// The contact phone.
    pub phone: Option<String>,
    /// The contact email.
    pub email: Option<Email>,
}

/// One record as its client may see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClientView {
    /// Always shown (V2).
    pub company: CompanyCard,
    /// Which kind of record.
    pub kind: RecordKind,
    /// Always shown (V2).
    pub title: String,
    /// The current status label, always shown (V2).
    pub status: String,
    /// The kind's own content.
    pub body: ViewBody,
    /// How its times, dates and money read: the org's time zone and locale (V9).
    pub presentation: Presentation,
}

impl ClientView {
    /// Whether this view shows `file`: the logo, a shared photo or file, the technician's photo
    /// or the signature image. Files are served behind a token only when this holds.
    pub fn shows_file(&self, file: &FileId) -> bool {
        if self.company.logo.as_ref() == Some(file) {
            return true;
        }
        let ViewBody::WorkOrder(wo) = &self.body else {
            return false;
        };
        let shared = wo.photos_files.iter().flatten().any(|f| &f.id == file);
        let technician = wo
            .schedule
            .as_ref()
            .and_then(|s| s.technician.as_ref())
            .and_then(|t| t.photo.as_ref())
            == Some(file);
        let signature = wo
            .signature
            .as_ref()
            .and_then(Option::as_ref)
            .and_then(|s| s.image.as_ref())
            == Some(file);
        shared || technician || signature
    }
}

/// The content of a [`ClientView`], by record kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ViewBody {
    /// A job.
    WorkOrder(WorkOrderView),
    /// An estimate.
    Quote(QuoteView),
    /// A bill.
    Invoice(InvoiceView),
}

/// A work order's sections (V1); `None` when hidden.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkOrderView {
    /// `client_info`.
    pub client_info: Option<ClientInfoView>,
    /// `scope`.
    pub scope: Option<String>,
    /// `schedule`.
    pub schedule: Option<ScheduleView>,
    /// `checklist`: non-internal tasks only (V3).
    pub checklist: Option<Vec<TaskView>>,
    /// `photos_files`: shared files only (V3).
    pub photos_files: Option<Vec<FileView>>,
    /// `parts_used`.
    pub parts_used: Option<Vec<PartView>>,
    /// `signature`: `Some(None)` when on but not captured yet.
    pub signature: Option<Option<SignatureView>>,
    /// `invoices`.
    pub invoices: Option<Vec<InvoiceSummaryView>>,
    /// `updates`: shared updates only (V3), newest first.
    pub updates: Option<Vec<UpdateView>>,
}

/// The client's details on file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClientInfoView {
    /// Name.
    pub name: String,
    /// Service address.
    pub address: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Email.
    pub email: Option<Email>,
}

/// Dates and who comes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScheduleView {
    /// Planned start.
    #[serde(serialize_with = "crate::model::serde_time::rfc3339_option::serialize")]
    pub start: Option<OffsetDateTime>,
    /// Planned completion.
    #[serde(serialize_with = "crate::model::serde_time::rfc3339_option::serialize")]
    pub end: Option<OffsetDateTime>,
    /// The technician: name and photo, nothing else.
    pub technician: Option<TechnicianView>,
}

/// The assigned technician as the client sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TechnicianView {
    /// Name.
    pub name: String,
    /// Photo.
    pub photo: Option<FileId>,
}

/// One checklist task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaskView {
    /// The host's id.
    pub id: TaskId,
    /// What to do.
    pub title: String,
    /// Whether it is done.
    pub done: bool,
}

/// One shared photo or file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileView {
    /// The host's id, used in the file's URL behind the token.
    pub id: FileId,
    /// File name.
    pub name: String,
    /// Media type.
    pub content_type: String,
    /// Caption.
    pub caption: Option<String>,
    /// When it was taken.
    #[serde(serialize_with = "crate::model::serde_time::rfc3339_option::serialize")]
    pub taken_at: Option<OffsetDateTime>,
    /// Before or after the work.
    pub stage: Option<PhotoStage>,
}

/// One part used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartView {
    /// What.
    pub name: String,
    /// How much.
    pub quantity: Decimal,
}

/// The customer's signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignatureView {
    /// Signed by.
    pub signed_by: String,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub signed_at: OffsetDateTime,
    /// The drawn image.
    pub image: Option<FileId>,
}

/// One invoice of the job: amounts and payment status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InvoiceSummaryView {
    /// Its number.
    pub number: String,
    /// Total.
    pub total: Money,
    /// Paid so far.
    pub paid: Money,
    /// Still due.
    pub due: Money,
    /// Payment status.
    pub status: PaymentStatus,
}

/// One shared update.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UpdateView {
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub posted_at: OffsetDateTime,
    /// Who posted it (name only).
    pub author: Option<String>,
    /// The text.
    pub body: String,
}

/// One priced line as the client sees it: no cost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineView {
    /// What.
    pub description: String,
    /// How many.
    pub quantity: Decimal,
    /// Price per unit.
    pub unit_price: Money,
    /// Line amount.
    pub amount: Money,
}

/// A quote (V5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuoteView {
    /// Its number.
    pub number: String,
    /// Who it is for.
    pub client_name: Option<String>,
    /// Priced lines.
    pub items: Vec<LineView>,
    /// Subtotal, taxes, total.
    pub totals: Totals,
    /// Last day to decide.
    #[serde(serialize_with = "crate::model::serde_time::iso_date_option::serialize")]
    pub valid_until: Option<Date>,
    /// A note for the client.
    pub message: Option<String>,
    /// The decision, once made (the quote is then locked).
    pub decision: Option<DecisionView>,
    /// Whether Approve, Request changes and Decline are offered.
    pub can_decide: bool,
}

/// A decision as shown back to the client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DecisionView {
    /// What was decided.
    pub kind: DecisionKind,
    /// The client's message.
    pub message: Option<String>,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// An invoice (V6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InvoiceView {
    /// Its number.
    pub number: String,
    /// Who it is for.
    pub client_name: Option<String>,
    /// Priced lines.
    pub items: Vec<LineView>,
    /// Subtotal, taxes, total.
    pub totals: Totals,
    /// Paid so far.
    pub amount_paid: Money,
    /// Still due.
    pub amount_due: Money,
    /// Payment status.
    pub payment_status: PaymentStatus,
    /// Due date.
    #[serde(serialize_with = "crate::model::serde_time::iso_date_option::serialize")]
    pub due_date: Option<Date>,
    /// Where the due date stands on the org's date (V9), while something is still owed.
    pub due: Option<Due>,
}

/// An owed invoice's due date against the org's today (V9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Due {
    /// After today.
    Later,
    /// Today, on the org's clock.
    Today,
    /// Before today.
    Overdue,
}
