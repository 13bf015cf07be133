//! What clients send the business from the portal (C7): messages in two-way threads and service
//! requests; and the org's event log, the feed a host polls to learn what clients did.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use super::{ClientId, ContractId, DecisionKind, Email, IntentId, Money, OrgId, RecordId, StaffId};

/// One message's id, Portico's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MessageId(pub uuid::Uuid);

/// One service request's id, Portico's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ServiceRequestId(pub uuid::Uuid);

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Display for ServiceRequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Which conversation a message belongs to: the client's general thread, or the one about one
/// of their jobs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Thread {
    /// Anything not about one job.
    General,
    /// About one work order of the client's.
    Job(RecordId),
}

impl Thread {
    /// The job the thread is about, if any.
    pub fn job(&self) -> Option<&RecordId> {
        match self {
            Thread::General => None,
            Thread::Job(id) => Some(id),
        }
    }
}

/// Who wrote a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Author {
    /// The client, in the portal.
    Client,
    /// A staff member, through the host app. The client sees `name` only.
    Staff {
        /// Who, for the business's records.
        staff: StaffId,
        /// The name shown to the client (the staff member's first name, or the business's).
        name: String,
    },
}

/// One message between a client and the business. Messages are never edited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Portico's id.
    pub id: MessageId,
    /// The org.
    pub org_id: OrgId,
    /// The client whose conversation this is.
    pub client_id: ClientId,
    /// Which of their threads.
    pub thread: Thread,
    /// Who wrote it.
    pub author: Author,
    /// What they wrote: plain text.
    pub body: String,
    /// When it was written.
    pub at: OffsetDateTime,
    /// When the other side read it: the client for a staff message (in the portal), the
    /// business for a client's (through the host API).
    pub read_at: Option<OffsetDateTime>,
}

impl Message {
    /// The longest message accepted, in characters.
    pub const MAX_BODY: usize = 5000;

    /// Whether the client wrote it.
    pub fn from_client(&self) -> bool {
        matches!(self.author, Author::Client)
    }
}

/// Where a service request stands for the business.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestState {
    /// Nobody at the business has looked at it yet.
    New,
    /// Seen by the business.
    Seen,
    /// Turned into a job or quote in the host app.
    Converted,
}

impl RequestState {
    /// Every state, for exhaustive tests.
    pub const ALL: [RequestState; 3] = [
        RequestState::New,
        RequestState::Seen,
        RequestState::Converted,
    ];

    /// The state's name as written in the API and in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            RequestState::New => "new",
            RequestState::Seen => "seen",
            RequestState::Converted => "converted",
        }
    }

    /// The state named `name`, if any.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

/// A client asking for work from the portal's form, with the contact details they confirmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRequest {
    /// Portico's id.
    pub id: ServiceRequestId,
    /// The org.
    pub org_id: OrgId,
    /// The client who asked.
    pub client_id: ClientId,
    /// The name to ask for.
    pub name: String,
    /// Where to write back.
    pub email: Option<Email>,
    /// Where to call back.
    pub phone: Option<String>,
    /// Where the work is.
    pub address: Option<String>,
    /// What they need.
    pub description: String,
    /// Days that suit them, in their order of preference.
    pub preferred_dates: Vec<Date>,
    /// Photos the client attached, in their order; each one's bytes are behind the blob port
    /// under [`super::FileId::request_photo`].
    pub photos: Vec<uuid::Uuid>,
    /// New, seen or converted.
    pub state: RequestState,
    /// When it was sent.
    pub created_at: OffsetDateTime,
    /// When its state last changed.
    pub updated_at: OffsetDateTime,
}

impl ServiceRequest {
    /// The longest description accepted, in characters.
    pub const MAX_DESCRIPTION: usize = 5000;
    /// The most preferred dates a request holds.
    pub const MAX_DATES: usize = 3;
    /// The most photos a request holds.
    pub const MAX_PHOTOS: usize = 3;
}

/// One entry of the org's event log: something a client did that the host app may need to act
/// on. Appended in the same unit of work as the change it reports, so the log never tells of a
/// change that did not commit, nor misses one that did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedEvent {
    /// The org.
    pub org_id: OrgId,
    /// The event's place in the org's log: 1, 2, 3 … in commit order, with no gaps. Assigned
    /// by the store when the event is appended (0 before).
    pub seq: u64,
    /// Portico's id: stable, for a host to recognise an event it saw.
    pub id: uuid::Uuid,
    /// When it happened.
    pub at: OffsetDateTime,
    /// The client who did it (a quote decided through a link whose record has since lost its
    /// client has none).
    pub client_id: Option<ClientId>,
    /// What happened.
    pub kind: FeedEventKind,
}

/// What a [`FeedEvent`] reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedEventKind {
    /// The client decided on a quote, through its link or the portal (V5).
    QuoteDecided {
        /// The quote.
        quote: RecordId,
        /// What they decided.
        decision: DecisionKind,
    },
    /// The client wrote a message in the portal.
    MessageReceived {
        /// The message.
        message: MessageId,
        /// The job it is about, if any.
        job: Option<RecordId>,
    },
    /// The client sent a service request.
    ServiceRequested {
        /// The request.
        request: ServiceRequestId,
    },
    /// The client signed a version of a contract.
    ContractSigned {
        /// The contract.
        contract: ContractId,
        /// The version signed.
        version: u32,
    },
    /// An invoice was paid online (I5): the provider's signed event said the money arrived.
    InvoicePaid {
        /// The invoice.
        invoice: RecordId,
        /// The amount that arrived.
        amount: Money,
        /// The provider's id of the payment.
        intent: IntentId,
    },
    /// An online payment of an invoice failed (I5); the invoice is due again.
    PaymentFailed {
        /// The invoice.
        invoice: RecordId,
        /// The amount that did not arrive.
        amount: Money,
        /// The provider's id of the payment.
        intent: IntentId,
    },
    /// A share's link was opened for the first time (S11).
    LinkFirstOpened {
        /// The share.
        share: super::ShareId,
        /// The record behind it.
        record: super::RecordRef,
    },
    /// The client signed in to the portal for the first time (C4); the event's client.
    PortalFirstSignIn,
}

impl FeedEventKind {
    /// The event's type as a host sees it.
    pub fn type_name(&self) -> &'static str {
        match self {
            FeedEventKind::QuoteDecided { .. } => "quote.decided",
            FeedEventKind::MessageReceived { .. } => "message.received",
            FeedEventKind::ServiceRequested { .. } => "service_request.created",
            FeedEventKind::ContractSigned { .. } => "contract.signed",
            FeedEventKind::InvoicePaid { .. } => "invoice.paid",
            FeedEventKind::PaymentFailed { .. } => "invoice.payment_failed",
            FeedEventKind::LinkFirstOpened { .. } => "link.first_opened",
            FeedEventKind::PortalFirstSignIn => "portal.first_sign_in",
        }
    }
}
