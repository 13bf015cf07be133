//! Wire types of the webhooks to the host app (I4).

use poem_openapi::{Enum, Object};
use portico_core::model as m;
use time::OffsetDateTime;

/// Registers an endpoint.
#[derive(Debug, Clone, Object)]
pub struct WebhookBody {
    /// Where deliveries are posted: `https://`, on a public address.
    #[oai(validator(max_length = 2048))]
    pub url: String,
    /// The event types it receives: `quote.decided`, `message.received`,
    /// `service_request.created`, `contract.signed`, `invoice.paid`,
    /// `invoice.payment_failed`.
    #[oai(validator(max_items = 20))]
    pub events: Vec<String>,
}

/// A registered endpoint.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct WebhookDto {
    /// Portico's id.
    pub id: String,
    /// Where deliveries are posted.
    pub url: String,
    /// The event types it receives.
    pub events: Vec<String>,
    /// Deliveries go out only while it is enabled.
    pub enabled: bool,
    /// Why it was disabled (it answered 410 Gone); a test event enables it again.
    pub disabled_reason: Option<String>,
    /// When it was registered.
    pub created_at: OffsetDateTime,
}

impl From<m::WebhookEndpoint> for WebhookDto {
    fn from(e: m::WebhookEndpoint) -> Self {
        Self {
            id: e.id.to_string(),
            url: e.url,
            events: e.events,
            enabled: e.enabled,
            disabled_reason: e.disabled_reason,
            created_at: e.created_at,
        }
    }
}

/// A newly registered endpoint, with its signing secret, shown this once.
#[derive(Debug, Clone, Object)]
pub struct WebhookCreated {
    /// The endpoint.
    #[oai(flatten)]
    pub endpoint: WebhookDto,
    /// `whsec_…`: verify each delivery's `webhook-signature` with it (Standard Webhooks).
    /// Portico never shows it again.
    pub secret: String,
}

/// A test delivery queued.
#[derive(Debug, Clone, Object)]
pub struct WebhookTestQueued {
    /// Its `webhook-id`.
    pub delivery_id: String,
}

/// Where a delivery is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum WebhookStateDto {
    /// Waiting for its (next) try.
    Pending,
    /// The endpoint answered 2xx.
    Delivered,
    /// Given up.
    Dead,
}

impl WebhookStateDto {
    /// The store's name of the state.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Dead => "dead",
        }
    }
}

/// One event for one endpoint.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct WebhookDeliveryDto {
    /// Its `webhook-id`, the same on every try.
    pub id: String,
    /// The endpoint.
    pub endpoint_id: String,
    /// The event's type.
    #[oai(rename = "type")]
    pub event_type: String,
    /// When the event happened.
    pub occurred_at: OffsetDateTime,
    /// Where it is.
    pub state: WebhookStateDto,
    /// Tries so far.
    pub attempts: u32,
    /// While pending: when the next try is due.
    pub next_try_at: Option<OffsetDateTime>,
    /// When it was delivered or given up.
    pub settled_at: Option<OffsetDateTime>,
    /// Why the last try failed, or why it was given up.
    pub reason: Option<String>,
}

impl From<m::WebhookDelivery> for WebhookDeliveryDto {
    fn from(d: m::WebhookDelivery) -> Self {
        let (state, next_try_at, settled_at, reason) = match d.state {
            m::WebhookState::Pending => (
                WebhookStateDto::Pending,
                Some(d.due_at),
                None,
                d.last_failure,
            ),
            m::WebhookState::Delivered { at } => (WebhookStateDto::Delivered, None, Some(at), None),
            m::WebhookState::Dead { at, reason } => {
                (WebhookStateDto::Dead, None, Some(at), Some(reason))
            }
        };
        Self {
            id: d.id.header(),
            endpoint_id: d.endpoint.to_string(),
            event_type: d.event.event_type,
            occurred_at: d.event.at,
            state,
            attempts: d.attempts,
            next_try_at,
            settled_at,
            reason,
        }
    }
}
