//! Ports: what the core needs from the outside world, as traits. Adapters implement them
//! (`portico-store`, `portico-mail`, the server's clock and CSPRNG); `testing` has in-memory
//! fakes of each. Every contract is stated in MUST words, and the conformance suite in
//! `testing::conformance` checks the storage ones.

use std::error::Error as StdError;

use async_trait::async_trait;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::model::{
    Agreement, AgreementId, Appointment, AppointmentId, AuditEntry, Client, ClientId, Contract,
    ContractId, Email, FeedEvent, FileId, Invoice, Message, Money, Notification, NotificationId,
    Org, OrgId, PasswordHash, PortalAccount, PortalSession, Record, RecordId, RecordRef,
    RequestState, ServiceRequest, ServiceRequestId, SessionHash, Share, ShareId, SignInGrant,
    Staff, StaffId, Topic, Versioned,
};
use crate::token::{ApiKeyHash, Nonce, ShareToken, TokenHash};

/// An adapter's own failure, kept as the source of the error.
pub type BackendError = Box<dyn StdError + Send + Sync>;

/// Why a storage call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A version check or uniqueness rule failed: someone else wrote first. Retry from a fresh read.
    #[error("conflict: {0}")]
    Conflict(String),
    /// Stored data no longer parses into the model.
    #[error("stored {what} is corrupt: {detail}")]
    Corrupt {
        /// Which kind of row.
        what: &'static str,
        /// What was wrong with it.
        detail: String,
    },
    /// The backend failed (connection, I/O …).
    #[error("storage backend failed")]
    Backend(#[source] BackendError),
}

/// Storage: the entry to units of work, and the few calls that serve clients outside one.
#[async_trait]
pub trait Store: Send + Sync {
    /// Begins a unit of work. Everything written through it MUST become visible to others
    /// together at [`UnitOfWork::commit`], or not at all if it is dropped uncommitted (N5).
    async fn begin(&self) -> Result<Box<dyn UnitOfWork>, StoreError>;

    /// Begins a unit of work that will only read. Callers MUST NOT write through it; adapters
    /// MAY give it a snapshot that takes no write lock (so reads never queue behind writers).
    async fn begin_read(&self) -> Result<Box<dyn UnitOfWork>, StoreError> {
        self.begin().await
    }

    /// The share whose token hashes to `hash`, whatever its state. MUST be a point look-up whose
    /// cost does not grow with the number of shares.
    async fn share_by_token_hash(&self, hash: &TokenHash) -> Result<Option<Share>, StoreError>;

    /// The share whose token hashes to `hash`, whatever its state, and — only when it is active
    /// — its record's page ([`Store::record_page`]; `None` when the org or the record is
    /// unknown): the look-up of every uncached page. Stores SHOULD answer it in one statement
    /// whose work for an inactive share is that of the look-up alone, so a revoked link costs
    /// what an unknown one does (S5). The default is [`Store::share_by_token_hash`], then
    /// [`Store::record_page`] for an active share.
    async fn page_by_token_hash(
        &self,
        hash: &TokenHash,
    ) -> Result<Option<(Share, Option<RecordPage>)>, StoreError> {
        let Some(share) = self.share_by_token_hash(hash).await? else {
            return Ok(None);
        };
        if !share.is_active() {
            return Ok(Some((share, None)));
        }
        let page = self.record_page(&share.org_id, &share.record).await?;
        Ok(Some((share, page)))
    }

    /// What a client page of `record` shows ([`RecordPage`]), or `None` when the org or the
    /// record is unknown: one consistent read, the same as [`Store::page_by_token_hash`] gives
    /// for an active share (used for a share closed after it expired, whose page still names
    /// the business). The default reads through a read-only unit of work.
    async fn record_page(
        &self,
        org: &OrgId,
        record: &RecordRef,
    ) -> Result<Option<RecordPage>, StoreError> {
        let mut tx = self.begin_read().await?;
        let Some(org) = tx.org(org).await? else {
            return Ok(None);
        };
        let Some(found) = tx.record(&org.id, record).await? else {
            return Ok(None);
        };
        let client = match found.value.client_id() {
            Some(id) => tx.client(&org.id, id).await?,
            None => None,
        };
        let invoices = match &found.value {
            Record::WorkOrder(wo) => tx.invoices_of_work_order(&org.id, &wo.id).await?,
            _ => Vec::new(),
        };
        let mut staff = Vec::new();
        for id in found.value.staff_mentioned() {
            staff.extend(tx.staff(&org.id, &id).await?);
        }
        Ok(Some(RecordPage {
            org,
            record: found,
            client,
            invoices,
            staff: Some(staff),
        }))
    }

    /// The staff of `org` among `ids`, ordered by id; unknown ids are skipped. Stores SHOULD
    /// answer it in one statement; the default reads them one by one in a read-only unit.
    async fn staff_among(&self, org: &OrgId, ids: &[StaffId]) -> Result<Vec<Staff>, StoreError> {
        let mut tx = self.begin_read().await?;
        let mut ids = ids.to_vec();
        ids.sort();
        ids.dedup();
        let mut found = Vec::with_capacity(ids.len());
        for id in &ids {
            found.extend(tx.staff(org, id).await?);
        }
        Ok(found)
    }

    /// Stores the SHA-256 of a new integration API key `id` of `org` (I1); the key itself is
    /// never stored. MUST fail with `Conflict` if the id or hash is taken or the org is unknown.
    async fn insert_api_key(
        &self,
        id: Uuid,
        org: &OrgId,
        key_hash: &ApiKeyHash,
        label: &str,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;

    /// The org of the unrevoked API key whose hash is `key_hash`. MUST be a point look-up.
    /// Every API key of `org` (live and revoked), oldest first; never a key or its hash.
    async fn api_keys_of_org(&self, org: &OrgId) -> Result<Vec<ApiKeyInfo>, StoreError>;
    async fn org_of_api_key(&self, key_hash: &ApiKeyHash) -> Result<Option<OrgId>, StoreError>;

    /// Revokes an API key of `org`; revoking an unknown or revoked key changes nothing.
    async fn revoke_api_key(
        &self,
        org: &OrgId,
        id: Uuid,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;

    /// Records that a link was opened at `at` (S11): `last_opened_at` MUST become the later of
    /// its value and `at`. It MUST NOT set `first_opened_at` (the first opening is claimed in a
    /// unit of work, with its event: [`UnitOfWork::claim_first_opening`]) and answers whether
    /// it is still unset. It MUST NOT change the share's version (opening never conflicts with
    /// staff edits) and MUST answer `false` for an unknown share.
    async fn record_opened(&self, share: ShareId, at: OffsetDateTime) -> Result<bool, StoreError>;
}

/// One unit of work: reads see its own writes; nothing is visible to others before `commit`.
#[async_trait]
pub trait UnitOfWork: Send {
    /// The org, if known.
    async fn org(&mut self, id: &OrgId) -> Result<Option<Org>, StoreError>;
    /// Inserts or replaces the org.
    async fn put_org(&mut self, org: &Org) -> Result<(), StoreError>;
    /// A staff member of the org, if known.
    async fn staff(&mut self, org: &OrgId, id: &StaffId) -> Result<Option<Staff>, StoreError>;
    /// Inserts or replaces a staff member. The org MUST exist, else `Conflict`.
    async fn put_staff(&mut self, staff: &Staff) -> Result<(), StoreError>;
    /// A client of the org, if known.
    async fn client(
        &mut self,
        org: &OrgId,
        id: &crate::model::ClientId,
    ) -> Result<Option<Client>, StoreError>;
    /// Inserts or replaces a client. The org MUST exist, else `Conflict`.
    async fn put_client(&mut self, client: &Client) -> Result<(), StoreError>;

    /// A record of the org with its version, if known.
    async fn record(
        &mut self,
        org: &OrgId,
        record: &RecordRef,
    ) -> Result<Option<Versioned<Record>>, StoreError>;
    /// Writes a record and returns its new version. `expected` is the version read before
    /// (`None`: the record MUST NOT exist yet). If the stored version differs, it MUST fail with
    /// `Conflict` and write nothing. The org MUST exist, else `Conflict`.
    async fn put_record(
        &mut self,
        record: &Record,
        expected: Option<u64>,
    ) -> Result<u64, StoreError>;
    /// The org's invoices whose `work_order_id` is `work_order`, ordered by id.
    async fn invoices_of_work_order(
        &mut self,
        org: &OrgId,
        work_order: &RecordId,
    ) -> Result<Vec<Invoice>, StoreError>;
    /// Whether anything of the org still points at uploaded `file`: a work order's attachment
    /// or signature image, the org's logo, or a staff member's photo. Bytes in use MUST NOT be
    /// deleted.
    async fn file_in_use(&mut self, org: &OrgId, file: &FileId) -> Result<bool, StoreError>;

    /// A share with its version, if known.
    async fn share(&mut self, id: ShareId) -> Result<Option<Versioned<Share>>, StoreError>;
    /// Every share (every token generation) of a record, oldest first.
    async fn shares_of_record(
        &mut self,
        org: &OrgId,
        record: &RecordRef,
    ) -> Result<Vec<Versioned<Share>>, StoreError>;
    /// Stores a new share at version 1. MUST fail with `Conflict` if its id or token hash is
    /// taken, or if the record already has an active share.
    /// The active shares of `org` whose expiry is set and still ahead of `now` (S7: those a
    /// change of the org's link lifetime moves), oldest first.
    async fn shares_expiring_after(
        &mut self,
        org: &OrgId,
        now: OffsetDateTime,
    ) -> Result<Vec<Versioned<Share>>, StoreError>;
    async fn insert_share(&mut self, share: &Share) -> Result<(), StoreError>;
    /// Replaces a share and returns its new version; `Conflict` unless the stored version is
    /// `expected`. It MUST keep `first_opened_at`/`last_opened_at` as stored (they belong to
    /// [`Store::record_opened`]).
    async fn update_share(&mut self, share: &Share, expected: u64) -> Result<u64, StoreError>;

    /// Queues a notification in the outbox (N5).
    async fn enqueue(&mut self, notification: &Notification) -> Result<(), StoreError>;
    /// The notification a burst may still merge into (N6): same share, topic and recipient,
    /// pending, never attempted, and due after `now`. At most one such notification exists per
    /// share, topic and recipient.
    async fn open_burst(
        &mut self,
        share: ShareId,
        topic: Topic,
        to: &Email,
        now: OffsetDateTime,
    ) -> Result<Option<Notification>, StoreError>;
    /// Replaces the kind of a notification found by [`UnitOfWork::open_burst`]. MUST fail with
    /// `Conflict` if it was claimed or sent meanwhile.
    async fn merge_into(&mut self, notification: &Notification) -> Result<(), StoreError>;

    /// Appends an audit entry (S12).
    async fn append_audit(&mut self, entry: &AuditEntry) -> Result<(), StoreError>;
    /// The audit entries of a record, oldest first.
    async fn audit_of_record(
        &mut self,
        org: &OrgId,
        record: &RecordRef,
    ) -> Result<Vec<AuditEntry>, StoreError>;

    /// The summaries ([`crate::model::RecordSummary::of`]) of the org's records whose client is
    /// `client`, of every kind, drafts included (the policy filters), ordered by kind and id.
    /// SHOULD read no record's whole body (a client may have hundreds).
    async fn record_summaries_of_client(
        &mut self,
        org: &OrgId,
        client: &ClientId,
    ) -> Result<Vec<crate::model::RecordSummary>, StoreError>;

    /// The client's portal account, if one was made (C2).
    async fn portal_account(
        &mut self,
        org: &OrgId,
        client: &ClientId,
    ) -> Result<Option<PortalAccount>, StoreError>;
    /// Inserts or replaces a portal account. The client MUST exist, else `Conflict`.
    async fn put_portal_account(&mut self, account: &PortalAccount) -> Result<(), StoreError>;
    /// The org's clients whose email on file is `email`, compared without regard to case,
    /// ordered by id.
    async fn clients_with_email(
        &mut self,
        org: &OrgId,
        email: &Email,
    ) -> Result<Vec<Client>, StoreError>;

    /// The sign-in grant whose token hashes to `hash`, whatever its state. MUST be a point
    /// look-up.
    async fn grant_by_token_hash(
        &mut self,
        hash: &crate::token::TokenHash,
    ) -> Result<Option<SignInGrant>, StoreError>;
    /// The sign-in grant `id`, whatever its state.
    async fn grant(&mut self, id: uuid::Uuid) -> Result<Option<SignInGrant>, StoreError>;
    /// The client's grants created at or after `since`, newest first.
    async fn grants_of_client(
        &mut self,
        org: &OrgId,
        client: &ClientId,
        since: OffsetDateTime,
    ) -> Result<Vec<SignInGrant>, StoreError>;
    /// Inserts or replaces a grant (by id). MUST fail with `Conflict` if another grant has its
    /// token hash, or the client does not exist.
    async fn put_grant(&mut self, grant: &SignInGrant) -> Result<(), StoreError>;

    /// The portal session whose id hashes to `hash`, whatever its state. MUST be a point look-up.
    async fn portal_session(
        &mut self,
        hash: &SessionHash,
    ) -> Result<Option<PortalSession>, StoreError>;
    /// Inserts or replaces a session (by hash). The client MUST exist, else `Conflict`.
    async fn put_session(&mut self, session: &PortalSession) -> Result<(), StoreError>;
    /// Ends, at `at`, every session of `org` not yet ended — only those of `client` when
    /// named, and never the one hashing to `except`. Returns how many it ended.
    async fn end_sessions(
        &mut self,
        org: &OrgId,
        client: Option<&ClientId>,
        except: Option<&SessionHash>,
        at: OffsetDateTime,
    ) -> Result<u64, StoreError>;

    /// Inserts a message, or (by id) changes only when it was read: messages are never edited.
    /// The client MUST exist, else `Conflict`.
    async fn put_message(&mut self, message: &Message) -> Result<(), StoreError>;
    /// Every message of the client's threads in the order they were first written (times are
    /// kept to the second, so they cannot order messages of one second).
    async fn messages_of_client(
        &mut self,
        org: &OrgId,
        client: &ClientId,
    ) -> Result<Vec<Message>, StoreError>;

    /// Inserts or replaces a service request (by id). The client MUST exist, else `Conflict`.
    async fn put_service_request(&mut self, request: &ServiceRequest) -> Result<(), StoreError>;
    /// The org's service request `id`, if known.
    async fn service_request(
        &mut self,
        org: &OrgId,
        id: ServiceRequestId,
    ) -> Result<Option<ServiceRequest>, StoreError>;
    /// The org's service requests, in `state` when named, oldest first (by time, then id), at
    /// most `limit`.
    async fn service_requests(
        &mut self,
        org: &OrgId,
        state: Option<RequestState>,
        limit: u32,
    ) -> Result<Vec<ServiceRequest>, StoreError>;

    /// Appends an event to the org's log. Its `seq` MUST become one more than the org's last
    /// committed event's, in commit order: a reader that saw event `n` MUST NOT later find an
    /// event numbered `n` or less that it did not see (so a host polling "after `n`" never
    /// misses one). The `seq` passed in is ignored; the one given is returned. The org MUST
    /// exist, else `Conflict`.
    async fn append_event(&mut self, event: &FeedEvent) -> Result<u64, StoreError>;
    /// The org's events numbered after `after`, in order, at most `limit`.
    async fn events_after(
        &mut self,
        org: &OrgId,
        after: u64,
        limit: u32,
    ) -> Result<Vec<FeedEvent>, StoreError>;

    /// Inserts or replaces an agreement (by org and id). The client MUST exist, else
    /// `Conflict`.
    async fn put_agreement(&mut self, agreement: &Agreement) -> Result<(), StoreError>;
    /// The org's agreement `id`, if known.
    async fn agreement(
        &mut self,
        org: &OrgId,
        id: &AgreementId,
    ) -> Result<Option<Agreement>, StoreError>;
    /// The client's agreements, by id.
    async fn agreements_of_client(
        &mut self,
        org: &OrgId,
        client: &ClientId,
    ) -> Result<Vec<Agreement>, StoreError>;

    /// Inserts or replaces an appointment (by org and id). The client MUST exist, else
    /// `Conflict`.
    async fn put_appointment(&mut self, appointment: &Appointment) -> Result<(), StoreError>;
    /// The org's appointment `id`, if known.
    async fn appointment(
        &mut self,
        org: &OrgId,
        id: &AppointmentId,
    ) -> Result<Option<Appointment>, StoreError>;
    /// The client's appointments, by start time, then id.
    async fn appointments_of_client(
        &mut self,
        org: &OrgId,
        client: &ClientId,
    ) -> Result<Vec<Appointment>, StoreError>;

    /// Inserts a contract's version, or replaces one (by org, id and version) that is not
    /// signed. A version stored signed MUST never change: writing it again is `Conflict`. The
    /// client MUST exist, else `Conflict`.
    async fn put_contract(&mut self, contract: &Contract) -> Result<(), StoreError>;
    /// Every version of the org's contract `id`, oldest first.
    async fn contract_versions(
        &mut self,
        org: &OrgId,
        id: &ContractId,
    ) -> Result<Vec<Contract>, StoreError>;
    /// Every version of the client's contracts, by id, then version.
    async fn contracts_of_client(
        &mut self,
        org: &OrgId,
        client: &ClientId,
    ) -> Result<Vec<Contract>, StoreError>;

    /// The org's webhook endpoints, oldest first (I4).
    async fn endpoints_of_org(
        &mut self,
        org: &OrgId,
    ) -> Result<Vec<crate::model::WebhookEndpoint>, StoreError>;
    /// S11: sets the share's `first_opened_at` to `at` if it is unset, without changing its
    /// version; the share if this unit set it (so one of several racing units does), else
    /// `None`.
    async fn claim_first_opening(
        &mut self,
        share: ShareId,
        at: OffsetDateTime,
    ) -> Result<Option<Share>, StoreError>;
    /// Inserts or replaces an endpoint (by id). The org MUST exist, else `Conflict`.
    async fn put_endpoint(
        &mut self,
        endpoint: &crate::model::WebhookEndpoint,
    ) -> Result<(), StoreError>;
    /// Removes the org's endpoint `id`; whether there was one.
    async fn delete_endpoint(
        &mut self,
        org: &OrgId,
        id: crate::model::EndpointId,
    ) -> Result<bool, StoreError>;
    /// Queues a delivery.
    async fn enqueue_webhook(
        &mut self,
        delivery: &crate::model::WebhookDelivery,
    ) -> Result<(), StoreError>;
    /// The org's deliveries, newest first, all or in one state (`pending`, `delivered`,
    /// `dead`), at most `limit`.
    async fn webhook_deliveries_of_org(
        &mut self,
        org: &OrgId,
        state: Option<&str>,
        limit: u32,
    ) -> Result<Vec<crate::model::WebhookDelivery>, StoreError>;

    /// The org's connected payment account, if any (I5).
    async fn payment_account(
        &mut self,
        org: &OrgId,
    ) -> Result<Option<crate::model::PaymentAccount>, StoreError>;
    /// Connects (`Some`) or disconnects (`None`) the org's payment account. The org MUST exist,
    /// else `Conflict`.
    async fn put_payment_account(
        &mut self,
        org: &OrgId,
        account: Option<&crate::model::PaymentAccount>,
    ) -> Result<(), StoreError>;
    /// The payment attempts opened for an invoice, oldest first (by `created_at`, then id).
    async fn payments_of_invoice(
        &mut self,
        org: &OrgId,
        invoice: &RecordId,
    ) -> Result<Vec<crate::model::Payment>, StoreError>;
    /// The payment attempt with the provider's id `intent`, whatever its org.
    async fn payment(
        &mut self,
        intent: &crate::model::IntentId,
    ) -> Result<Option<crate::model::Payment>, StoreError>;
    /// Inserts or replaces a payment attempt (by the provider's id). The org MUST exist, else
    /// `Conflict`.
    async fn put_payment(&mut self, payment: &crate::model::Payment) -> Result<(), StoreError>;
    /// Notes the provider's event `id` as applied and answers `true`; answers `false` when it
    /// already was, so each event is applied once. Two units claiming the same id MUST NOT both
    /// commit with `true`.
    async fn claim_provider_event(
        &mut self,
        id: &str,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError>;

    /// Tells every server on the same database that `change` takes effect with this unit: the
    /// announcement MUST reach the other servers' feeds only if and once the unit commits. A
    /// store that only one process uses has no one to tell (the default does nothing).
    async fn announce(&mut self, change: &Change) -> Result<(), StoreError> {
        let _ = change;
        Ok(())
    }

    /// Makes every write of this unit visible at once.
    async fn commit(self: Box<Self>) -> Result<(), StoreError>;
}

/// The outbox as the dispatcher sees it. Several dispatchers MAY run at once (O3).
#[async_trait]
pub trait Outbox: Send + Sync {
    /// Claims up to `limit` pending notifications due at `now`, oldest due first: each claimed
    /// one MUST get `attempts + 1` and `due_at = now + lease`, so no other claim takes it until
    /// the lease runs out (a crashed dispatcher's work comes back). Two concurrent claims MUST
    /// never return the same notification.
    async fn claim_due(
        &self,
        now: OffsetDateTime,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<Notification>, StoreError>;
    /// Marks a notification sent; it is never claimed again.
    async fn mark_sent(&self, id: NotificationId, at: OffsetDateTime) -> Result<(), StoreError>;
    /// Puts a claimed notification back, due again at `next_due`, with why it failed.
    async fn retry_at(
        &self,
        id: NotificationId,
        next_due: OffsetDateTime,
        reason: &str,
    ) -> Result<(), StoreError>;
    /// Gives up on a notification; it is never claimed again.
    async fn mark_dead(
        &self,
        id: NotificationId,
        at: OffsetDateTime,
        reason: &str,
    ) -> Result<(), StoreError>;
    /// Settles a notification that is not to be sent after all (what it said no longer holds),
    /// with the reason; it is never claimed again. Not a delivery failure: it MUST NOT count
    /// as dead.
    async fn mark_dropped(
        &self,
        id: NotificationId,
        at: OffsetDateTime,
        reason: &str,
    ) -> Result<(), StoreError>;
    /// How many notifications are pending (due or not): the outbox depth, for metrics.
    async fn pending_count(&self) -> Result<u64, StoreError>;
    /// The outbox at `now`, for metrics: pending, dead, and the earliest `due_at` among the
    /// pending notifications already due (how long the oldest has waited).
    async fn stats(&self, now: OffsetDateTime) -> Result<OutboxStats, StoreError>;
    /// Every notification of an org, oldest first (for staff, metrics and tests).
    async fn notifications_of_org(&self, org: &OrgId) -> Result<Vec<Notification>, StoreError>;
}

/// An API key as the org sees it in a listing: never the key, nor its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyInfo {
    /// The key's id (to revoke it).
    pub id: Uuid,
    /// The label given at creation.
    pub label: String,
    /// When it was created.
    pub created_at: OffsetDateTime,
    /// When it was revoked, if it was.
    pub revoked_at: Option<OffsetDateTime>,
}

/// Hashes and checks portal passwords (C4). Adapters MUST use a slow, salted, memory-hard hash
/// (argon2id) and MUST NOT block the async executor while hashing.
#[async_trait]
pub trait Passwords: Send + Sync {
    /// The hash of `password`, in PHC string form, with a fresh salt.
    async fn hash(&self, password: &str) -> Result<PasswordHash, BackendError>;
    /// Whether `password` matches `hash`. A hash it cannot read MUST answer `false`.
    async fn verify(&self, password: &str, hash: &PasswordHash) -> Result<bool, BackendError>;
}

/// The outbox's figures for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutboxStats {
    /// Pending, due or not.
    pub pending: u64,
    /// Given up on.
    pub dead: u64,
    /// The earliest due time among pending notifications due now.
    pub oldest_due: Option<OffsetDateTime>,
}

/// An email ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingEmail {
    /// Stable per notification, so a resend is recognisably the same message (N5).
    pub message_id: String,
    /// The display name of the sender: the org's name (N4).
    pub from_name: String,
    /// The org's email (N4).
    pub reply_to: Option<Email>,
    /// The recipient.
    pub to: Email,
    /// The subject line.
    pub subject: String,
    /// The plain-text body.
    pub text: String,
    /// The HTML body.
    pub html: String,
}

/// Why a send failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MailError {
    /// Try again later (connection refused, 4xx).
    #[error("temporary mail failure: {0}")]
    Temporary(String),
    /// Never going to work (5xx recipient rejected).
    #[error("permanent mail failure: {0}")]
    Permanent(String),
}

/// Sends email.
#[async_trait]
pub trait Mailer: Send + Sync {
    /// Sends one message. On `Ok` it MUST have been handed over for delivery; sending the same
    /// `message_id` twice MUST NOT be assumed harmless by the adapter (the dispatcher avoids it).
    async fn send(&self, email: &OutgoingEmail) -> Result<(), MailError>;
}

/// What a message about a notification may say besides the notification itself: the sender and
/// the record's title, the link while the share is active, and the planned visit when the share
/// shows the schedule. Nothing else of the record, so an email never shows what the client view
/// would not (N3).
#[derive(Debug, Clone, Copy)]
pub struct MailContext<'a> {
    /// The org, whose name the message goes out under (N4).
    pub org: &'a crate::model::Org,
    /// The record's title.
    pub title: &'a str,
    /// The share's link, for messages to the client.
    pub link: Option<&'a str>,
    /// The planned visit, for a client's status email while the share shows the schedule.
    pub visit: Option<Visit>,
    /// For portal mails: the one-time sign-in code that goes with `link`.
    pub code: Option<&'a str>,
    /// For portal mails: the org's portal sign-in page.
    pub portal: Option<&'a str>,
}

/// A planned visit: when the work starts and, if known, ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Visit {
    /// Planned start.
    pub start: OffsetDateTime,
    /// Planned end.
    pub end: Option<OffsetDateTime>,
}

/// Writes the message of a notification: subject, text and HTML.
pub trait Composer: Send + Sync {
    /// The message for `notification`. It MUST use only the notification and `context`, MUST
    /// escape everything it puts into HTML, and MUST keep `message_id` stable per notification.
    fn compose(&self, notification: &Notification, context: &MailContext<'_>) -> OutgoingEmail;
}

/// Where a photo's or file's bytes live.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlobKey {
    /// The org owning the file.
    pub org: OrgId,
    /// The file.
    pub file: FileId,
}

/// Stored bytes with the media type checked from their content when they were uploaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blob {
    /// The media type detected from the bytes, never from a file name.
    pub content_type: String,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// What is known about stored bytes without reading them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobMeta {
    /// The media type detected at upload.
    pub content_type: String,
    /// The size in bytes.
    pub size: u64,
}

/// Stores photo and file bytes.
#[async_trait]
pub trait Blobs: Send + Sync {
    /// Stores `blob` under `key`, replacing what was there. A reader MUST see either the old
    /// blob or the new one whole, never a part.
    async fn put(&self, key: &BlobKey, blob: Blob) -> Result<(), BackendError>;
    /// The blob under `key`, if any.
    async fn get(&self, key: &BlobKey) -> Result<Option<Blob>, BackendError>;
    /// The type and size of the blob under `key`, if any, without reading its bytes.
    async fn head(&self, key: &BlobKey) -> Result<Option<BlobMeta>, BackendError>;
    /// Removes the blob under `key`; removing nothing MUST succeed.
    async fn delete(&self, key: &BlobKey) -> Result<(), BackendError>;
}

/// Something a client page shows may have changed: everything of `org`, or of `record` when
/// named. Published after the change committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The org whose data changed.
    pub org: OrgId,
    /// The record, when the change concerns one record (and its shares) only.
    pub record: Option<RecordRef>,
}

/// What a client page of one record shows, read at once by [`Store::record_page`].
#[derive(Debug, Clone, PartialEq)]
pub struct RecordPage {
    /// The record's org.
    pub org: Org,
    /// The record, with its version.
    pub record: Versioned<Record>,
    /// The record's client, if it names one that exists.
    pub client: Option<Client>,
    /// A work order's invoices (those naming it as their work order), ordered by id; empty for
    /// other kinds.
    pub invoices: Vec<Invoice>,
    /// The staff of the org among those the record mentions ([`Record::staff_mentioned`]),
    /// ordered by id; `None` when the store did not read them with the page (the caller then
    /// reads them with [`Store::staff_among`]).
    pub staff: Option<Vec<Staff>>,
}

/// Whether this server has heard every change the other servers on its database committed
/// before now: what serving a kept copy (a cached page) waits for, so that a revoke or an org
/// switch committed anywhere is honoured by the very next request (S5, S8). On PostgreSQL the
/// store's feed answers by sending itself a marker on its listening connection: the database
/// delivers notifications in commit order, so once the marker is back every change committed
/// before it has been heard. Markers asked for together are sent once.
#[async_trait]
pub trait CatchUp: Send + Sync {
    /// `true` once every change committed before the call has been heard; `false` when that
    /// cannot be known in time (the feed is down or slow): the caller then reads from the
    /// store instead of serving what it kept.
    async fn caught_up(&self) -> bool;
}

/// Listens to committed changes, to keep what serves clients fresh: page caches drop what a
/// change touched, live pages push the new status (V7). Implementations MUST NOT block: they
/// are called on the path of the change.
///
/// With several servers on one database, other servers' changes arrive through a feed (see
/// [`UnitOfWork::announce`] and [`crate::service::ChangeRelay`]); while that feed is down a
/// change may go unheard, which [`Changes::interrupted`] and [`Changes::resumed`] report.
pub trait Changes: Send + Sync {
    /// `change` committed.
    fn changed(&self, change: &Change);
    /// Changes may go unheard from now on: a listener MUST forget everything it derived from the
    /// store and derive nothing that outlives a request until [`Changes::resumed`].
    fn interrupted(&self);
    /// Every committed change is heard again. What changed meanwhile is unknown, so a listener
    /// MUST treat everything as changed.
    fn resumed(&self);
}

/// A request to open a payment attempt with the provider (I5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntentRequest {
    /// The org's connected account: the money goes there.
    pub account: crate::model::PaymentAccount,
    /// The org being paid.
    pub org: OrgId,
    /// The invoice being paid.
    pub invoice: RecordId,
    /// The invoice's number, for the provider's statement.
    pub number: String,
    /// The amount due, checked by the core at this moment; never a figure from the browser.
    pub amount: Money,
    /// Whether a US bank account (ACH) may pay, beside cards.
    pub bank_account: bool,
    /// The same key for the same invoice, amount and attempt: a repeated request (a double
    /// click, a retry after a timeout) gets the same intent back from the provider.
    pub idempotency_key: String,
}

/// A payment attempt the provider opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Intent {
    /// The provider's id.
    pub id: crate::model::IntentId,
    /// What the client's browser needs to confirm it.
    pub client_secret: String,
}

/// Takes payments (I5). Adapters MUST NOT charge anything by themselves: the client confirms in
/// the provider's script, and only the provider's signed event says the money arrived.
#[async_trait]
pub trait Payments: Send + Sync {
    /// Opens an attempt to pay `request.amount` on the org's account.
    async fn create_intent(&self, request: &IntentRequest) -> Result<Intent, BackendError>;
    /// Withdraws an attempt that may no longer be paid (the amount due changed). An attempt
    /// that can no longer be withdrawn (already paid or processing) MUST be an error.
    async fn cancel_intent(
        &self,
        account: &crate::model::PaymentAccount,
        intent: &crate::model::IntentId,
    ) -> Result<(), BackendError>;
}

/// A webhook delivery as it leaves (I4): the sender serialises `event` (the same bytes on every
/// try), signs it with `key` the Standard Webhooks way, and posts it to `url`.
#[derive(Debug, Clone)]
pub struct OutgoingWebhook<'a> {
    /// Where.
    pub url: &'a str,
    /// `webhook-id`: the same on every try of one delivery.
    pub id: String,
    /// `webhook-timestamp`: this try's time, in Unix seconds.
    pub timestamp: i64,
    /// The endpoint's signing key.
    pub key: &'a [u8],
    /// What it says.
    pub event: &'a crate::model::WebhookEvent,
}

/// Posts webhooks to host apps (I4). Adapters MUST refuse addresses that are not public
/// (loopback, private, link-local, metadata …) unless configured to allow them, both when an
/// endpoint is registered and at every send (a name may resolve elsewhere later), and MUST
/// NOT follow redirects.
#[async_trait]
pub trait WebhookSender: Send + Sync {
    /// Checks an endpoint's URL (scheme, host, the addresses it resolves to) and returns it
    /// in canonical form, or why it is refused (words for the host).
    async fn vet(&self, url: &str) -> Result<String, String>;
    /// Posts `hook`; the status the endpoint answered, or why no answer came (a refused
    /// address, a timeout, a connection failure).
    async fn send(&self, hook: &OutgoingWebhook<'_>) -> Result<u16, String>;
}

/// How a claimed webhook delivery ends its try.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookSettle {
    /// The endpoint answered 2xx.
    Delivered {
        /// When.
        at: OffsetDateTime,
    },
    /// Try again at `at`.
    Retry {
        /// When.
        at: OffsetDateTime,
        /// Why this try failed.
        failure: String,
    },
    /// Given up.
    Dead {
        /// When.
        at: OffsetDateTime,
        /// Why.
        reason: String,
    },
}

/// The webhook dispatcher's side of the deliveries (I4).
#[async_trait]
pub trait WebhookOutbox: Send + Sync {
    /// Claims up to `limit` pending deliveries due at `now`, oldest due first, with their
    /// endpoints (`None`: deleted), counting the try and moving each one's due time `lease`
    /// ahead in the same step, so concurrent dispatchers never take one twice and a crashed
    /// one's deliveries come back after the lease.
    async fn claim_webhooks(
        &self,
        now: OffsetDateTime,
        limit: u32,
        lease: Duration,
    ) -> Result<
        Vec<(
            crate::model::WebhookDelivery,
            Option<crate::model::WebhookEndpoint>,
        )>,
        StoreError,
    >;
    /// Settles a claimed delivery.
    async fn settle_webhook(
        &self,
        id: crate::model::DeliveryId,
        settle: &WebhookSettle,
    ) -> Result<(), StoreError>;
    /// Disables an endpoint (it answered 410 Gone), with the reason.
    async fn disable_endpoint(
        &self,
        org: &OrgId,
        id: crate::model::EndpointId,
        reason: &str,
    ) -> Result<(), StoreError>;
    /// Deliveries pending and dead, over every org (for metrics).
    async fn webhook_counts(&self) -> Result<(u64, u64), StoreError>;
}

/// Why a payment provider's webhook request was refused. Nothing is applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookRefused {
    /// The signature is missing, malformed, wrong, or outside the time tolerance.
    #[error("the signature does not hold: {0}")]
    Signature(String),
    /// Signed, but not an event that can be read.
    #[error("the event does not read: {0}")]
    Unreadable(String),
}

/// Checks and reads a payment provider's webhook requests (I5): the adapter knows the
/// provider's signature scheme and event shapes; the core applies what it reads.
pub trait ProviderWebhooks: Send + Sync {
    /// Checks `payload` against its `signature` header at `now` and reads it: `Ok(None)` for a
    /// genuine event of a type Portico does not act on.
    fn read(
        &self,
        signature: &str,
        payload: &[u8],
        now: OffsetDateTime,
    ) -> Result<Option<crate::model::ProviderEvent>, WebhookRefused>;
}

/// Where a client opens a share. The adapter that serves the pages owns the URL layout and its
/// public base; the core only hands it tokens.
pub trait Links: Send + Sync {
    /// The address that opens the share whose token is `token`.
    fn share(&self, token: &ShareToken) -> String;
    /// The org's portal sign-in page (C3): stable, to print on invoices.
    fn portal(&self, org: &OrgId) -> String;
    /// The address of a portal sign-in grant's link (C2–C4).
    fn portal_grant(&self, org: &OrgId, token: &ShareToken) -> String;
}

/// The time. The core never reads the system clock itself.
pub trait Clock: Send + Sync {
    /// Now, in UTC.
    fn now(&self) -> OffsetDateTime;
}

/// Randomness for tokens and ids. Production adapters MUST draw from a CSPRNG (S3).
pub trait Randomness: Send + Sync {
    /// Fills `dest` with random bytes.
    fn fill(&self, dest: &mut [u8]);

    /// A fresh token nonce (256 bits).
    fn nonce(&self) -> Nonce {
        let mut bytes = [0; 32];
        self.fill(&mut bytes);
        Nonce(bytes)
    }

    /// A fresh random (version 4) UUID.
    fn uuid(&self) -> Uuid {
        let mut bytes = [0; 16];
        self.fill(&mut bytes);
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }
}
