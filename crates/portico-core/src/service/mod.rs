//! The use cases: what staff, the host app and clients do, run over the ports. Each use case is
//! one unit of work; policy decisions come from [`crate::policy`], never from here.

mod changes;
mod client;
mod dispatch;
mod error;
mod files;
mod inbox;
mod keys;
mod payments;
mod plans;
mod portal;
mod records;
mod sharing;
mod webhooks;

use std::sync::Arc;

use time::{Duration, OffsetDateTime};

pub use changes::ChangeRelay;
pub use client::{HelpRequest, Opened};
pub use dispatch::{
    DeliveryState, DispatchConfig, DispatchReport, PlainComposer, message_id, photos_line,
    retry_delay,
};
pub use error::{
    ClientError, FileError, HelpRefused, InvalidInput, PortalError, RecordError, ShareError,
    StaffError,
};
pub use files::ALLOWED_FILE_TYPES;
pub use inbox::{Conversation, MAX_EVENTS_PER_READ, PortalThreads, RequestPrefill, ThreadEntry};
pub use payments::{EventOutcome, PayError, PayOptions, PayPage, bank_account_allowed};
pub use plans::{ContractDraft, PortalAgreements, PortalAppointments, PortalContracts, SignedCopy};
pub use portal::{GrantLook, Paging, PortalEntry, PortalHome, PortalItem, PortalList, SignedIn};
pub use records::{HostEvent, MAX_AMOUNT, MAX_ITEMS, MAX_TEXT, NewFile, RecordChange, Upsert};
pub use sharing::{EnableShare, ShareChange, ShareInfo};
pub use webhooks::{
    MAX_ENDPOINTS, RegisteredEndpoint, WebhookConfig, WebhookError, WebhookReport, webhook_event,
};

use crate::model::{
    Delivery, Notification, NotificationId, NotificationKind, Org, RecordRef, Share, Topic,
};
use crate::policy::notify;
use crate::ports::{
    Blobs, Changes, Clock, Composer, Links, Outbox, Passwords, Payments, Randomness, Store,
    StoreError, UnitOfWork, WebhookSender,
};
use crate::token::{KeyError, TokenKeys};

/// Settings of the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceConfig {
    /// How long a bursting notification waits to gather more of its kind (N6).
    pub burst_window: Duration,
    /// The largest photo or file kept, in bytes.
    pub max_file_bytes: u64,
    /// The portal's time and rate rules (C3–C5).
    pub portal: crate::policy::portal::PortalConfig,
}

impl ServiceConfig {
    /// The largest photo or file kept unless configured otherwise: 25 MiB.
    pub const DEFAULT_MAX_FILE_BYTES: u64 = 25 * 1024 * 1024;
    /// How long a burst gathers unless configured otherwise (N6).
    pub const DEFAULT_BURST_WINDOW: Duration = Duration::minutes(2);
}

impl Default for ServiceConfig {
    fn default() -> Self {
        Self {
            burst_window: Self::DEFAULT_BURST_WINDOW,
            max_file_bytes: Self::DEFAULT_MAX_FILE_BYTES,
            portal: crate::policy::portal::PortalConfig::default(),
        }
    }
}

/// The ports the service runs over.
#[derive(Clone)]
pub struct Ports {
    /// Storage.
    pub store: Arc<dyn Store>,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Randomness (a CSPRNG in production).
    pub random: Arc<dyn Randomness>,
    /// Photo and file bytes.
    pub blobs: Arc<dyn Blobs>,
    /// The addresses of shares (the page adapter's layout).
    pub links: Arc<dyn Links>,
}

impl std::fmt::Debug for Ports {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ports").finish_non_exhaustive()
    }
}

/// Portico's use cases.
#[derive(Clone)]
pub struct Portico {
    ports: Ports,
    keys: TokenKeys,
    config: ServiceConfig,
    changes: Vec<Arc<dyn Changes>>,
    feed: Option<Arc<ChangeRelay>>,
    catch_up: Option<Arc<dyn crate::ports::CatchUp>>,
    composer: Option<Arc<dyn Composer>>,
    outbox: Option<Arc<dyn Outbox>>,
    passwords: Option<Arc<dyn Passwords>>,
    payments: Option<Arc<dyn Payments>>,
    webhooks: Option<Arc<dyn WebhookSender>>,
}

impl std::fmt::Debug for Portico {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Portico")
            .field("keys", &self.keys)
            .field("config", &self.config)
            .field("change_listeners", &self.changes.len())
            .finish_non_exhaustive()
    }
}

/// Attempts of a use case that lost an optimistic-concurrency race before giving up.
const ATTEMPTS: usize = 3;

/// Runs a use case again from a fresh read when it lost a race to a concurrent writer.
macro_rules! retry_on_conflict {
    ($call:expr) => {{
        let mut attempt = 1;
        loop {
            match $call {
                Err(e)
                    if crate::service::error::Retryable::is_conflict(&e)
                        && attempt < crate::service::ATTEMPTS =>
                {
                    attempt += 1;
                }
                result => break result,
            }
        }
    }};
}
pub(crate) use retry_on_conflict;

impl Portico {
    /// A service over `ports`, deriving tokens with `keys`.
    pub fn new(ports: Ports, keys: TokenKeys, config: ServiceConfig) -> Self {
        Self {
            ports,
            keys,
            config,
            changes: Vec::new(),
            feed: None,
            catch_up: None,
            composer: None,
            outbox: None,
            passwords: None,
            payments: None,
            webhooks: None,
        }
    }

    /// The service, able to register host webhooks, vetted by `sender` (I4); without it none
    /// can be registered.
    #[must_use]
    pub fn with_webhooks(mut self, sender: Arc<dyn WebhookSender>) -> Self {
        self.webhooks = Some(sender);
        self
    }

    /// The service, taking online payments through `payments` (I5); without it no page offers
    /// Pay now.
    #[must_use]
    pub fn with_payments(mut self, payments: Arc<dyn Payments>) -> Self {
        self.payments = Some(payments);
        self
    }

    /// The service, hashing and checking portal passwords with `passwords` (C4); without
    /// one, clients sign in by link and code only.
    #[must_use]
    pub fn with_passwords(mut self, passwords: Arc<dyn Passwords>) -> Self {
        self.passwords = Some(passwords);
        self
    }

    /// The service, able to list notifications for staff ([`Portico::notifications`]) from
    /// `outbox` (usually the same store as `Ports::store`).
    #[must_use]
    pub fn with_outbox(mut self, outbox: Arc<dyn Outbox>) -> Self {
        self.outbox = Some(outbox);
        self
    }

    /// The service, writing emails with `composer` ([`PlainComposer`] otherwise).
    #[must_use]
    pub fn with_composer(mut self, composer: Arc<dyn Composer>) -> Self {
        self.composer = Some(composer);
        self
    }

    /// The service, also telling `listener` of every committed change that a client page could
    /// show (page caches, live status), this server's at once and, with a feed
    /// ([`Portico::with_feed`]), other servers' as the feed hears them.
    #[must_use]
    pub fn with_changes(mut self, listener: Arc<dyn Changes>) -> Self {
        if let Some(feed) = &self.feed {
            feed.attach(listener.clone());
        }
        self.changes.push(listener);
        self
    }

    /// The service's settings.
    pub fn config(&self) -> &ServiceConfig {
        &self.config
    }

    /// The token keys.
    pub fn keys(&self) -> &TokenKeys {
        &self.keys
    }

    /// Now, by the service's clock (adapters that stamp times, such as coalesced openings,
    /// use it so tests can move time).
    pub fn now(&self) -> OffsetDateTime {
        self.ports.clock.now()
    }

    /// The link of a share, as the [`Links`] port lays it out.
    pub fn link(&self, share: &Share) -> Result<String, KeyError> {
        let token = self.keys.derive(share.key_id, &share.nonce)?;
        Ok(self.ports.links.share(&token))
    }

    /// Queues `kind` for `share`'s recipient (or `to`), merging it into an open burst (N6).
    async fn queue(
        &self,
        tx: &mut dyn UnitOfWork,
        org: &Org,
        share: &Share,
        record: &RecordRef,
        kind: NotificationKind,
        now: OffsetDateTime,
    ) -> Result<Topic, StoreError> {
        let topic = kind.topic();
        let to = if kind.to_business() {
            match &org.contact.email {
                Some(email) => email.clone(),
                // An org without an email cannot be told; the audit log still has it.
                None => return Ok(topic),
            }
        } else {
            share.recipient.clone()
        };
        if notify::bursts(topic)
            && let Some(mut pending) = tx.open_burst(share.id, topic, &to, now).await?
            && notify::merge(&mut pending.kind, kind.clone()).is_ok()
        {
            match tx.merge_into(&pending).await {
                Ok(()) => return Ok(topic),
                // Claimed meanwhile: it leaves as it is, this one on its own.
                Err(StoreError::Conflict(_)) => {}
                Err(e) => return Err(e),
            }
        }
        let notification = Notification {
            id: NotificationId(self.ports.random.uuid()),
            org_id: org.id.clone(),
            share_id: Some(share.id),
            record: Some(record.clone()),
            to,
            kind,
            created_at: now,
            due_at: notify::due_at(topic, now, self.config.burst_window),
            delivery: Delivery::Pending,
            attempts: 0,
            last_failure: None,
        };
        tx.enqueue(&notification).await?;
        Ok(topic)
    }
}
