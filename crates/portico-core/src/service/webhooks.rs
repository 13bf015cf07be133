//! I4: webhooks to the host app. An org registers endpoints (the signing secret is shown once);
//! every event appended to its log is queued for each endpoint that wants it, in the same unit
//! of work; a dispatcher posts them, signed the Standard Webhooks way, retrying with back-off
//! under the same `webhook-id` until they are delivered or given up. An endpoint that answers
//! 410 Gone is disabled.

use time::OffsetDateTime;

use super::{Portico, RecordError};
use crate::model::{
    DeliveryId, EndpointId, FeedEvent, FeedEventKind, OrgId, StaffId, WEBHOOK_EVENT_TYPES,
    WEBHOOK_TEST_EVENT, WebhookDelivery, WebhookEndpoint, WebhookEvent, WebhookState, WebhookValue,
};
use crate::policy::{permissions, retry, webhooks as rules};
use crate::ports::{
    OutgoingWebhook, StoreError, UnitOfWork, WebhookOutbox, WebhookSender, WebhookSettle,
};

/// The most endpoints one org may register.
pub const MAX_ENDPOINTS: usize = 20;

/// A registered endpoint with its secret, shown this once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisteredEndpoint {
    /// The endpoint.
    pub endpoint: WebhookEndpoint,
    /// `whsec_…`: what the host verifies signatures with.
    pub secret: String,
}

/// How the webhook dispatcher behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookConfig {
    /// Deliveries claimed per round.
    pub batch: u32,
    /// How long a claim holds before another dispatcher may take the delivery (after a crash).
    pub lease: time::Duration,
    /// The first retry's delay; then doubling, with jitter, up to `max_backoff`.
    pub first_backoff: time::Duration,
    /// The longest wait between tries.
    pub max_backoff: time::Duration,
    /// How long after it was queued a failing delivery is given up.
    pub give_up_after: time::Duration,
    /// How many posts are under way at once.
    pub concurrency: usize,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            batch: 50,
            lease: time::Duration::minutes(2),
            first_backoff: time::Duration::seconds(30),
            max_backoff: time::Duration::hours(1),
            give_up_after: time::Duration::hours(72),
            concurrency: 16,
        }
    }
}

/// What one round of the webhook dispatcher did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WebhookReport {
    /// Claimed this round.
    pub claimed: usize,
    /// Delivered (2xx).
    pub delivered: usize,
    /// Failed and due again later.
    pub retried: usize,
    /// Given up.
    pub dead: usize,
    /// Endpoints disabled (410 Gone).
    pub disabled: usize,
}

/// Why an endpoint was not registered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// The URL or the event types are not acceptable; the words say why.
    #[error("{0}")]
    Refused(String),
    /// The org has as many endpoints as it may.
    #[error("an org may have at most {MAX_ENDPOINTS} webhook endpoints")]
    TooMany,
    /// No webhook sender is configured: nothing could be delivered.
    #[error("this server does not send webhooks")]
    NotConfigured,
    /// Not found in the org.
    #[error("webhook endpoint not found")]
    NotFound,
    /// The record-side refusals (actor, org).
    #[error(transparent)]
    Record(#[from] RecordError),
}

impl From<StoreError> for WebhookError {
    fn from(e: StoreError) -> Self {
        Self::Record(e.into())
    }
}

/// The delivery of `event` for an endpoint.
pub(super) fn delivery_of(
    id: DeliveryId,
    endpoint: &WebhookEndpoint,
    event: WebhookEvent,
    now: OffsetDateTime,
) -> WebhookDelivery {
    WebhookDelivery {
        id,
        org_id: endpoint.org_id.clone(),
        endpoint: endpoint.id,
        event,
        created_at: now,
        due_at: now,
        attempts: 0,
        state: WebhookState::Pending,
        last_failure: None,
    }
}

/// What a host hears of an event of the org's log: its type, time and fields.
pub fn webhook_event(event: &FeedEvent) -> WebhookEvent {
    let text = |k: &str, v: String| (k.to_owned(), WebhookValue::Text(v));
    let mut data = vec![
        (
            "seq".to_owned(),
            WebhookValue::Number(i64::try_from(event.seq).unwrap_or(i64::MAX)),
        ),
        text("event_id", event.id.to_string()),
    ];
    if let Some(client) = &event.client_id {
        data.push(text("client_id", client.to_string()));
    }
    match &event.kind {
        FeedEventKind::QuoteDecided { quote, decision } => {
            data.push(text("quote_id", quote.to_string()));
            data.push(text("decision", decision.as_str().to_owned()));
        }
        FeedEventKind::MessageReceived { message, job } => {
            data.push(text("message_id", message.to_string()));
            if let Some(job) = job {
                data.push(text("job_id", job.to_string()));
            }
        }
        FeedEventKind::ServiceRequested { request } => {
            data.push(text("service_request_id", request.to_string()));
        }
        FeedEventKind::ContractSigned { contract, version } => {
            data.push(text("contract_id", contract.to_string()));
            data.push((
                "contract_version".to_owned(),
                WebhookValue::Number(i64::from(*version)),
            ));
        }
        FeedEventKind::InvoicePaid {
            invoice,
            amount,
            intent,
        }
        | FeedEventKind::PaymentFailed {
            invoice,
            amount,
            intent,
        } => {
            data.push(text("invoice_id", invoice.to_string()));
            data.push(text("amount", amount.amount.to_string()));
            data.push(text("currency", amount.currency.code().to_owned()));
            data.push(text("payment_id", intent.to_string()));
        }
        FeedEventKind::LinkFirstOpened { share, record } => {
            data.push(text("share_id", share.0.to_string()));
            data.push(text("record_kind", record.kind.as_str().to_owned()));
            data.push(text("record_id", record.id.to_string()));
        }
        FeedEventKind::PortalFirstSignIn => {}
    }
    WebhookEvent {
        event_type: event.kind.type_name().to_owned(),
        at: event.at,
        data,
    }
}

/// The claimed deliveries with the endpoints taken in turn: the first of each endpoint (in the
/// order they were claimed), then the second of each, and so on, so a backlog for one endpoint
/// goes after the others' deliveries.
fn in_turns(
    claimed: Vec<(WebhookDelivery, Option<WebhookEndpoint>)>,
) -> Vec<(WebhookDelivery, Option<WebhookEndpoint>)> {
    let mut turn_of: std::collections::HashMap<EndpointId, usize> =
        std::collections::HashMap::new();
    let mut keyed: Vec<(usize, usize, (WebhookDelivery, Option<WebhookEndpoint>))> = claimed
        .into_iter()
        .enumerate()
        .map(|(position, pair)| {
            let turn = turn_of.entry(pair.0.endpoint).or_insert(0);
            *turn += 1;
            (*turn, position, pair)
        })
        .collect();
    keyed.sort_by_key(|(turn, position, _)| (*turn, *position));
    keyed.into_iter().map(|(_, _, pair)| pair).collect()
}

impl Portico {
    /// I4: queues `event` for every endpoint of its org that wants it, in `tx` (the unit of
    /// work that logs it), so a delivery exists exactly when the change committed (N5).
    pub(super) async fn queue_webhooks(
        &self,
        tx: &mut dyn UnitOfWork,
        event: &FeedEvent,
    ) -> Result<(), StoreError> {
        let type_name = event.kind.type_name();
        let endpoints = tx.endpoints_of_org(&event.org_id).await?;
        if !endpoints.iter().any(|e| e.wants(type_name)) {
            return Ok(());
        }
        let body = webhook_event(event);
        for endpoint in endpoints.iter().filter(|e| e.wants(type_name)) {
            let id = DeliveryId(self.ports.random.uuid());
            tx.enqueue_webhook(&delivery_of(id, endpoint, body.clone(), event.at))
                .await?;
        }
        Ok(())
    }

    /// I4: registers an endpoint for `events` at `url`, on behalf of an owner, admin or sole
    /// trader. The URL is vetted by the sender (https, and an address that is public, unless
    /// its settings allow otherwise). The secret is returned this once.
    pub async fn register_webhook(
        &self,
        actor: &StaffId,
        org: &OrgId,
        url: &str,
        events: &[String],
    ) -> Result<RegisteredEndpoint, WebhookError> {
        let sender = self.webhooks.as_ref().ok_or(WebhookError::NotConfigured)?;
        let events = rules::event_types(events, &WEBHOOK_EVENT_TYPES)
            .map_err(|e| WebhookError::Refused(e.to_string()))?;
        {
            let mut tx = self.ports.store.begin_read().await?;
            self.manager(tx.as_mut(), actor, org).await?;
        }
        let url = sender.vet(url).await.map_err(WebhookError::Refused)?;
        let mut key = vec![0; 32];
        self.ports.random.fill(&mut key);
        let endpoint = WebhookEndpoint {
            id: EndpointId(self.ports.random.uuid()),
            org_id: org.clone(),
            url,
            events,
            key,
            enabled: true,
            disabled_reason: None,
            created_at: self.now(),
        };
        let mut tx = self.ports.store.begin().await?;
        self.manager(tx.as_mut(), actor, org).await?;
        if tx.endpoints_of_org(org).await?.len() >= MAX_ENDPOINTS {
            return Err(WebhookError::TooMany);
        }
        tx.put_endpoint(&endpoint).await?;
        tx.commit().await?;
        Ok(RegisteredEndpoint {
            secret: rules::secret_of(&endpoint.key),
            endpoint,
        })
    }

    /// The org's endpoints (never their secrets).
    pub async fn webhooks(&self, org: &OrgId) -> Result<Vec<WebhookEndpoint>, WebhookError> {
        let mut tx = self.ports.store.begin_read().await?;
        tx.org(org).await?.ok_or(RecordError::UnknownOrg)?;
        Ok(tx.endpoints_of_org(org).await?)
    }

    /// Removes an endpoint; its deliveries still waiting are given up when their turn comes.
    pub async fn delete_webhook(
        &self,
        actor: &StaffId,
        org: &OrgId,
        id: EndpointId,
    ) -> Result<(), WebhookError> {
        let mut tx = self.ports.store.begin().await?;
        self.manager(tx.as_mut(), actor, org).await?;
        if !tx.delete_endpoint(org, id).await? {
            return Err(WebhookError::NotFound);
        }
        tx.commit().await?;
        Ok(())
    }

    /// Queues a `webhook.test` delivery to one endpoint (enabled again if it was disabled), for
    /// the host to check its receiver.
    pub async fn test_webhook(
        &self,
        actor: &StaffId,
        org: &OrgId,
        id: EndpointId,
    ) -> Result<DeliveryId, WebhookError> {
        let now = self.now();
        let mut tx = self.ports.store.begin().await?;
        self.manager(tx.as_mut(), actor, org).await?;
        let mut endpoint = tx
            .endpoints_of_org(org)
            .await?
            .into_iter()
            .find(|e| e.id == id)
            .ok_or(WebhookError::NotFound)?;
        if !endpoint.enabled {
            endpoint.enabled = true;
            endpoint.disabled_reason = None;
            tx.put_endpoint(&endpoint).await?;
        }
        let delivery_id = DeliveryId(self.ports.random.uuid());
        let event = WebhookEvent {
            event_type: WEBHOOK_TEST_EVENT.to_owned(),
            at: now,
            data: vec![(
                "endpoint_id".to_owned(),
                WebhookValue::Text(endpoint.id.to_string()),
            )],
        };
        tx.enqueue_webhook(&delivery_of(delivery_id, &endpoint, event, now))
            .await?;
        tx.commit().await?;
        Ok(delivery_id)
    }

    /// The org's deliveries, newest first: all, or those in one state (`pending`,
    /// `delivered`, `dead`).
    pub async fn webhook_deliveries(
        &self,
        org: &OrgId,
        state: Option<&str>,
        limit: u32,
    ) -> Result<Vec<WebhookDelivery>, WebhookError> {
        let mut tx = self.ports.store.begin_read().await?;
        tx.org(org).await?.ok_or(RecordError::UnknownOrg)?;
        Ok(tx.webhook_deliveries_of_org(org, state, limit).await?)
    }

    async fn manager(
        &self,
        tx: &mut dyn UnitOfWork,
        actor: &StaffId,
        org: &OrgId,
    ) -> Result<(), RecordError> {
        tx.org(org).await?.ok_or(RecordError::UnknownOrg)?;
        let role = permissions::active(tx.staff(org, actor).await?.as_ref())?.role;
        if permissions::can_manage_org(role) {
            Ok(())
        } else {
            Err(RecordError::NotOrgManager { role })
        }
    }

    /// I4: one round of the webhook dispatcher: claims due deliveries and settles each on its
    /// own — delivered (2xx), disabled endpoint and dead (410), due again with back-off (any
    /// other answer, a timeout, a refused address), or dead past the give-up time or when its
    /// endpoint is gone. Every try of a delivery carries the same `webhook-id`.
    ///
    /// One failing endpoint never stalls the others: up to `config.concurrency` posts are under
    /// way at once, the round takes the endpoints in turn (one delivery of each, then the next
    /// of each …), and once a post to an endpoint has failed, that endpoint's other deliveries
    /// of the round are put off with back-off without being sent. A round so lasts about one
    /// timeout however many deliveries a dead endpoint has.
    pub async fn deliver_webhooks_once(
        &self,
        outbox: &dyn WebhookOutbox,
        sender: &dyn WebhookSender,
        config: &WebhookConfig,
    ) -> Result<WebhookReport, StoreError> {
        use futures_util::StreamExt as _;
        let now = self.now();
        let claimed = outbox
            .claim_webhooks(now, config.batch, config.lease)
            .await?;
        let mut report = WebhookReport {
            claimed: claimed.len(),
            ..WebhookReport::default()
        };
        let failing = std::sync::Mutex::new(std::collections::HashSet::new());
        let settled: Vec<Result<(WebhookSettle, bool), StoreError>> =
            futures_util::stream::iter(in_turns(claimed))
                .map(|(delivery, endpoint)| {
                    self.deliver_one(outbox, sender, config, &failing, delivery, endpoint)
                })
                .buffer_unordered(config.concurrency.max(1))
                .collect()
                .await;
        for outcome in settled {
            let (settle, disabled) = outcome?;
            match settle {
                WebhookSettle::Delivered { .. } => report.delivered += 1,
                WebhookSettle::Retry { .. } => report.retried += 1,
                WebhookSettle::Dead { .. } => report.dead += 1,
            }
            report.disabled += usize::from(disabled);
        }
        Ok(report)
    }

    /// Posts one claimed delivery and settles it; how, and whether its endpoint was disabled.
    async fn deliver_one(
        &self,
        outbox: &dyn WebhookOutbox,
        sender: &dyn WebhookSender,
        config: &WebhookConfig,
        failing: &std::sync::Mutex<std::collections::HashSet<EndpointId>>,
        delivery: WebhookDelivery,
        endpoint: Option<WebhookEndpoint>,
    ) -> Result<(WebhookSettle, bool), StoreError> {
        let failed_before = |id: &EndpointId| {
            failing
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .contains(id)
        };
        let mut disabled = false;
        let settle = match endpoint.filter(|e| e.enabled) {
            None => WebhookSettle::Dead {
                at: self.now(),
                reason: "the endpoint was deleted or disabled".into(),
            },
            Some(endpoint) if failed_before(&endpoint.id) => self.retry_or_dead(
                &delivery,
                config,
                "not sent: a post to the endpoint failed earlier in the round".into(),
            ),
            Some(endpoint) => {
                let outgoing = OutgoingWebhook {
                    url: &endpoint.url,
                    id: delivery.id.header(),
                    timestamp: self.now().unix_timestamp(),
                    key: &endpoint.key,
                    event: &delivery.event,
                };
                match sender.send(&outgoing).await {
                    Ok(status) if (200..300).contains(&status) => {
                        WebhookSettle::Delivered { at: self.now() }
                    }
                    Ok(410) => {
                        outbox
                            .disable_endpoint(
                                &endpoint.org_id,
                                endpoint.id,
                                "the endpoint answered 410 Gone",
                            )
                            .await?;
                        disabled = true;
                        WebhookSettle::Dead {
                            at: self.now(),
                            reason: "the endpoint answered 410 Gone and was disabled".into(),
                        }
                    }
                    Ok(status) => self.retry_or_dead(
                        &delivery,
                        config,
                        format!("the endpoint answered {status}"),
                    ),
                    Err(failure) => {
                        failing
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .insert(endpoint.id);
                        self.retry_or_dead(&delivery, config, failure)
                    }
                }
            }
        };
        outbox.settle_webhook(delivery.id, &settle).await?;
        Ok((settle, disabled))
    }

    fn retry_or_dead(
        &self,
        delivery: &WebhookDelivery,
        config: &WebhookConfig,
        failure: String,
    ) -> WebhookSettle {
        let now = self.now();
        let backoff = retry::Backoff {
            first: config.first_backoff,
            max: config.max_backoff,
            give_up_after: config.give_up_after,
        };
        let mut jitter = [0u8; 1];
        self.ports.random.fill(&mut jitter);
        match retry::after_failure(
            &backoff,
            delivery.created_at,
            delivery.attempts,
            now,
            jitter[0],
        ) {
            retry::Next::RetryAt(at) => WebhookSettle::Retry { at, failure },
            retry::Next::GiveUp => WebhookSettle::Dead {
                at: now,
                reason: format!("given up after {} tries: {failure}", delivery.attempts),
            },
        }
    }
}
