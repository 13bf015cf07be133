//! What clients send from the portal (C7), as the host reads and answers it: messages, service
//! requests, and the org's event log.

use poem_openapi::Object;
use portico_core::model as m;
use time::OffsetDateTime;

/// One message of a client's threads.
#[derive(Debug, Clone, Object)]
pub struct MessageDto {
    /// Portico's id.
    pub message_id: String,
    /// The client whose conversation it is.
    pub client_id: String,
    /// The job the thread is about; none for the client's general thread.
    pub job_id: Option<String>,
    /// `client` or `staff`.
    pub from: String,
    /// The staff member who wrote it, for a staff message.
    pub staff_id: Option<String>,
    /// The name the client sees for a staff message.
    pub author_name: Option<String>,
    /// Plain text.
    pub body: String,
    /// When it was written.
    pub at: OffsetDateTime,
    /// When the other side read it (the client, in the portal, for a staff message; the
    /// business, by marking them read, for a client's).
    pub read_at: Option<OffsetDateTime>,
}

impl From<m::Message> for MessageDto {
    fn from(msg: m::Message) -> Self {
        let (from, staff_id, author_name) = match msg.author {
            m::Author::Client => ("client", None, None),
            m::Author::Staff { staff, name } => ("staff", Some(staff.to_string()), Some(name)),
        };
        Self {
            message_id: msg.id.to_string(),
            client_id: msg.client_id.to_string(),
            job_id: msg.thread.job().map(ToString::to_string),
            from: from.to_owned(),
            staff_id,
            author_name,
            body: msg.body,
            at: msg.at,
            read_at: msg.read_at,
        }
    }
}

/// A staff answer to a client (C7).
#[derive(Debug, Clone, Object)]
pub struct MessageBody {
    /// Plain text, up to 5,000 characters.
    pub body: String,
    /// A work order of the client's, to answer in its thread; none for the general thread.
    pub job_id: Option<String>,
}

/// How many messages were marked read.
#[derive(Debug, Clone, Object)]
pub struct MarkedRead {
    /// Client messages that were unread.
    pub marked: u64,
}

/// Where a service request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, poem_openapi::Enum)]
#[oai(rename_all = "snake_case")]
pub enum RequestStateDto {
    /// Nobody at the business has looked at it yet.
    New,
    /// Seen.
    Seen,
    /// Turned into a job or quote.
    Converted,
}

impl From<RequestStateDto> for m::RequestState {
    fn from(s: RequestStateDto) -> Self {
        match s {
            RequestStateDto::New => Self::New,
            RequestStateDto::Seen => Self::Seen,
            RequestStateDto::Converted => Self::Converted,
        }
    }
}

impl From<m::RequestState> for RequestStateDto {
    fn from(s: m::RequestState) -> Self {
        match s {
            m::RequestState::New => Self::New,
            m::RequestState::Seen => Self::Seen,
            m::RequestState::Converted => Self::Converted,
        }
    }
}

/// A client's service request (C7).
#[derive(Debug, Clone, Object)]
pub struct ServiceRequestDto {
    /// Portico's id.
    pub service_request_id: String,
    /// The client who asked.
    pub client_id: String,
    /// The name to ask for.
    pub name: String,
    /// Where to write back.
    pub email: Option<String>,
    /// Where to call back.
    pub phone: Option<String>,
    /// Where the work is.
    pub address: Option<String>,
    /// What they need.
    pub description: String,
    /// Days that suit them (`YYYY-MM-DD`), in their order of preference.
    pub preferred_dates: Vec<String>,
    /// The photos the client attached, in their order: each one's bytes at
    /// `GET /v1/service-requests/{service_request_id}/photos/{photo_id}`.
    pub photo_ids: Vec<String>,
    /// New, seen or converted.
    pub state: RequestStateDto,
    /// When it was sent.
    pub created_at: OffsetDateTime,
    /// When its state last changed.
    pub updated_at: OffsetDateTime,
}

impl From<m::ServiceRequest> for ServiceRequestDto {
    fn from(r: m::ServiceRequest) -> Self {
        Self {
            service_request_id: r.id.to_string(),
            client_id: r.client_id.to_string(),
            name: r.name,
            email: r.email.map(|e| e.to_string()),
            phone: r.phone,
            address: r.address,
            description: r.description,
            preferred_dates: r.preferred_dates.iter().map(ToString::to_string).collect(),
            photo_ids: r.photos.iter().map(ToString::to_string).collect(),
            state: r.state.into(),
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// Moves a service request.
#[derive(Debug, Clone, Object)]
pub struct RequestStateBody {
    /// The new state.
    pub state: RequestStateDto,
}

/// One entry of the org's event log.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct EventDto {
    /// The event's number in the org's log (1, 2, 3 … in commit order, no gaps): the cursor to
    /// read on from.
    pub seq: u64,
    /// Portico's id, stable (to recognise an event seen before).
    pub event_id: String,
    /// `link.first_opened`, `portal.first_sign_in`, `quote.decided`, `message.received`,
    /// `service_request.created`, `contract.signed`, `invoice.paid` or
    /// `invoice.payment_failed`.
    #[oai(rename = "type")]
    pub kind: String,
    /// When it happened.
    pub at: OffsetDateTime,
    /// The client who did it.
    pub client_id: Option<String>,
    /// `quote.decided`: the quote.
    pub quote_id: Option<String>,
    /// `quote.decided`: `approved`, `changes_requested` or `declined`.
    pub decision: Option<String>,
    /// `message.received`: the message.
    pub message_id: Option<String>,
    /// `message.received`: the job its thread is about, if any.
    pub job_id: Option<String>,
    /// `service_request.created`: the request.
    pub service_request_id: Option<String>,
    /// `contract.signed`: the contract.
    pub contract_id: Option<String>,
    /// `contract.signed`: the version signed.
    pub contract_version: Option<u32>,
    /// `invoice.paid`, `invoice.payment_failed`: the invoice.
    pub invoice_id: Option<String>,
    /// `invoice.paid`: the amount that arrived; `invoice.payment_failed`: the amount that did
    /// not (a decimal string, in `currency`).
    pub amount: Option<String>,
    /// `invoice.paid`, `invoice.payment_failed`: the amount's currency.
    pub currency: Option<String>,
    /// `invoice.paid`, `invoice.payment_failed`: the payment provider's id of the payment.
    pub payment_id: Option<String>,
    /// `link.first_opened`: the share whose link was opened.
    pub share_id: Option<String>,
    /// `link.first_opened`: the kind of the record behind it (`work_order`, `quote`,
    /// `invoice`).
    pub record_kind: Option<String>,
    /// `link.first_opened`: the record behind it.
    pub record_id: Option<String>,
}

impl From<m::FeedEvent> for EventDto {
    fn from(e: m::FeedEvent) -> Self {
        let mut dto = Self {
            seq: e.seq,
            event_id: e.id.to_string(),
            kind: e.kind.type_name().to_owned(),
            at: e.at,
            client_id: e.client_id.map(|c| c.to_string()),
            quote_id: None,
            decision: None,
            message_id: None,
            job_id: None,
            service_request_id: None,
            contract_id: None,
            contract_version: None,
            invoice_id: None,
            amount: None,
            currency: None,
            payment_id: None,
            share_id: None,
            record_kind: None,
            record_id: None,
        };
        match e.kind {
            m::FeedEventKind::QuoteDecided { quote, decision } => {
                dto.quote_id = Some(quote.to_string());
                dto.decision = Some(decision.as_str().to_owned());
            }
            m::FeedEventKind::MessageReceived { message, job } => {
                dto.message_id = Some(message.to_string());
                dto.job_id = job.map(|j| j.to_string());
            }
            m::FeedEventKind::ServiceRequested { request } => {
                dto.service_request_id = Some(request.to_string());
            }
            m::FeedEventKind::ContractSigned { contract, version } => {
                dto.contract_id = Some(contract.to_string());
                dto.contract_version = Some(version);
            }
            m::FeedEventKind::InvoicePaid {
                invoice,
                amount,
                intent,
            }
            | m::FeedEventKind::PaymentFailed {
                invoice,
                amount,
                intent,
            } => {
                dto.invoice_id = Some(invoice.to_string());
                dto.amount = Some(amount.amount.to_string());
                dto.currency = Some(amount.currency.code().to_owned());
                dto.payment_id = Some(intent.to_string());
            }
            m::FeedEventKind::LinkFirstOpened { share, record } => {
                dto.share_id = Some(share.0.to_string());
                dto.record_kind = Some(record.kind.as_str().to_owned());
                dto.record_id = Some(record.id.to_string());
            }
            m::FeedEventKind::PortalFirstSignIn => {}
        }
        dto
    }
}

/// A page of the event log.
#[derive(Debug, Clone, Object)]
pub struct EventPage {
    /// The events after the cursor asked for, in order.
    pub events: Vec<EventDto>,
    /// The cursor for the next read: the last event's number, or the one asked for when there
    /// was none.
    pub next_after: u64,
    /// Whether more events follow (read again at once with `after=next_after`).
    pub more: bool,
}
