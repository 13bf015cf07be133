//! Webhooks to the host app (I4): the endpoints an org registers, and the deliveries queued for
//! them in the same unit of work as the change they report.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::OrgId;

/// The event types a host may subscribe to, as its webhooks name them.
pub const WEBHOOK_EVENT_TYPES: [&str; 8] = [
    "link.first_opened",
    "portal.first_sign_in",
    "quote.decided",
    "message.received",
    "service_request.created",
    "contract.signed",
    "invoice.paid",
    "invoice.payment_failed",
];

/// The type of the event a host sends itself to check its receiver; always delivered.
pub const WEBHOOK_TEST_EVENT: &str = "webhook.test";

/// Portico's id of an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EndpointId(pub Uuid);

impl fmt::Display for EndpointId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Portico's id of a delivery; the `webhook-id` header (`msg_…`) derives from it, the same on
/// every try.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DeliveryId(pub Uuid);

impl DeliveryId {
    /// The `webhook-id` header: `msg_` and the id in hex.
    pub fn header(&self) -> String {
        format!("msg_{}", self.0.simple())
    }
}

impl fmt::Display for DeliveryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Where an org's host app wants to hear of events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEndpoint {
    /// Portico's id.
    pub id: EndpointId,
    /// The org.
    pub org_id: OrgId,
    /// Where deliveries are posted (checked when registered, and its address at each send).
    pub url: String,
    /// The event types it receives, from [`WEBHOOK_EVENT_TYPES`].
    pub events: Vec<String>,
    /// The signing key (the secret shown once, as `whsec_` and its base64).
    pub key: Vec<u8>,
    /// Deliveries go out only while it is enabled.
    pub enabled: bool,
    /// Why it was disabled (it answered 410 Gone), if it was.
    pub disabled_reason: Option<String>,
    /// When it was registered.
    pub created_at: OffsetDateTime,
}

impl WebhookEndpoint {
    /// Whether it receives events of `event_type`.
    pub fn wants(&self, event_type: &str) -> bool {
        self.enabled && self.events.iter().any(|e| e == event_type)
    }
}

/// One value of a delivery's data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookValue {
    /// Text (ids, names, decimal amounts).
    Text(String),
    /// A whole number.
    Number(i64),
}

/// What a delivery says: the event's type, when it happened, and its fields, fixed when it is
/// queued so every try carries the same body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEvent {
    /// The event's type, from [`WEBHOOK_EVENT_TYPES`].
    pub event_type: String,
    /// When it happened.
    pub at: OffsetDateTime,
    /// Its fields, in order.
    pub data: Vec<(String, WebhookValue)>,
}

/// Where a delivery is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookState {
    /// Waiting to be sent at `due_at` or later.
    Pending,
    /// The endpoint answered 2xx.
    Delivered {
        /// When.
        at: OffsetDateTime,
    },
    /// Given up: it kept failing past the give-up time, or the endpoint is gone or disabled.
    Dead {
        /// When.
        at: OffsetDateTime,
        /// Why.
        reason: String,
    },
}

impl WebhookState {
    /// The state's name: `pending`, `delivered` or `dead` (as the API and stores filter by it).
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered { .. } => "delivered",
            Self::Dead { .. } => "dead",
        }
    }
}

/// One event for one endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookDelivery {
    /// Portico's id (the `webhook-id`).
    pub id: DeliveryId,
    /// The org.
    pub org_id: OrgId,
    /// The endpoint it goes to.
    pub endpoint: EndpointId,
    /// What it says.
    pub event: WebhookEvent,
    /// When it was queued.
    pub created_at: OffsetDateTime,
    /// Not sent before this.
    pub due_at: OffsetDateTime,
    /// How many sends were tried.
    pub attempts: u32,
    /// Where it is.
    pub state: WebhookState,
    /// Why the last try failed, while it waits to be tried again.
    pub last_failure: Option<String>,
}
