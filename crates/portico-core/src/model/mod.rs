//! The domain model: plain data, validated where it enters (ids, emails, currencies), no I/O.

mod audit;
mod ids;
mod inbox;
mod money;
mod notification;
mod org;
mod payments;
mod plans;
mod portal;
mod record;
pub(crate) mod serde_time;
mod share;
mod webhooks;

pub use audit::{Actor, AuditAction, AuditEntry};
pub use ids::{
    AgreementId, AppointmentId, AuditId, ClientId, ContractId, FileId, IdError, MAX_HOST_ID_LEN,
    NotificationId, OrgId, RecordId, ShareId, StaffId, TaskId, UpdateId,
};
pub use inbox::{
    Author, FeedEvent, FeedEventKind, Message, MessageId, RequestState, ServiceRequest,
    ServiceRequestId, Thread,
};
pub use money::{Currency, CurrencyError, LineItem, Money, TaxLine, TaxRate, Totals, totals};
pub use notification::{
    Delivery, LinkReason, Notification, NotificationKind, PaymentOutcome, Topic,
};
pub use org::{Client, Contact, Email, EmailError, Org, OrgSettings, Plan, Role, Staff};
pub use payments::{
    IntentId, MAX_PROVIDER_ID_LEN, Payment, PaymentAccount, PaymentState, ProviderEvent,
    ProviderEventKind, ProviderIdError,
};
pub use plans::{
    Agreement, AgreementStatus, Appointment, AppointmentStatus, Billing, Contract,
    ContractDocument, ContractSignature, ContractStatus, Sha256Digest, Visit, content_digest,
};
pub use portal::{
    GrantEnd, GrantPurpose, PasswordHash, PortalAccount, PortalSection, PortalSession,
    PortalSettings, RecordSummary, SessionHash, SignInGrant,
};
pub use record::{
    ActivityEntry, Attachment, CostLine, DecisionKind, Invoice, InvoiceStatus, Part, PaymentStatus,
    PhotoStage, Quote, QuoteDecision, QuoteStatus, Record, RecordKind, RecordRef, Schedule,
    Signature, Task, TimeEntry, Update, Versioned, WorkOrder, WorkStatus,
};
pub use share::{Section, Sections, Share, ShareState};
pub use webhooks::{
    DeliveryId, EndpointId, WEBHOOK_EVENT_TYPES, WEBHOOK_TEST_EVENT, WebhookDelivery,
    WebhookEndpoint, WebhookEvent, WebhookState, WebhookValue,
};
