//! [`MemoryStore`]: the storage ports in memory, with real unit-of-work semantics. A unit of
//! work reads a private snapshot and logs its writes; `commit` replays the log, with every
//! version and uniqueness check, against the current state and swaps it in at once.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use time::{Duration, OffsetDateTime};

use crate::model::{
    Agreement, AgreementId, Appointment, AppointmentId, AuditEntry, Client, ClientId, Contract,
    ContractId, Delivery, DeliveryId, Email, EndpointId, FeedEvent, FileId, IntentId, Invoice,
    Message, Notification, NotificationId, Org, OrgId, Payment, PaymentAccount, PortalAccount,
    PortalSession, Record, RecordId, RecordRef, RequestState, ServiceRequest, ServiceRequestId,
    SessionHash, Share, ShareId, SignInGrant, Staff, StaffId, Topic, Versioned, WebhookDelivery,
    WebhookEndpoint, WebhookState,
};
use crate::ports::{
    ApiKeyInfo, Change, Outbox, OutboxStats, Store, StoreError, UnitOfWork, WebhookOutbox,
    WebhookSettle,
};
use crate::token::{ApiKeyHash, TokenHash};

#[derive(Debug, Clone, Default)]
struct State {
    orgs: BTreeMap<OrgId, Org>,
    staff: BTreeMap<(OrgId, StaffId), Staff>,
    clients: BTreeMap<(OrgId, ClientId), Client>,
    records: BTreeMap<(OrgId, RecordRef), Versioned<Record>>,
    shares: BTreeMap<ShareId, Versioned<Share>>,
    by_token: HashMap<TokenHash, ShareId>,
    outbox: Vec<Notification>,
    audit: Vec<AuditEntry>,
    api_keys: Vec<StoredApiKey>,
    accounts: BTreeMap<(OrgId, ClientId), PortalAccount>,
    grants: BTreeMap<uuid::Uuid, SignInGrant>,
    sessions: BTreeMap<SessionHash, PortalSession>,
    /// In the order first written.
    messages: Vec<Message>,
    requests: BTreeMap<ServiceRequestId, ServiceRequest>,
    events: Vec<FeedEvent>,
    agreements: BTreeMap<(OrgId, AgreementId), Agreement>,
    appointments: BTreeMap<(OrgId, AppointmentId), Appointment>,
    contracts: BTreeMap<(OrgId, ContractId, u32), Contract>,
    payment_accounts: BTreeMap<OrgId, PaymentAccount>,
    /// In the order first written.
    payments: Vec<Payment>,
    provider_events: BTreeMap<String, OffsetDateTime>,
    /// In the order registered.
    endpoints: Vec<WebhookEndpoint>,
    /// In the order queued.
    deliveries: Vec<WebhookDelivery>,
}

#[derive(Debug, Clone)]
struct StoredApiKey {
    id: uuid::Uuid,
    org: OrgId,
    hash: ApiKeyHash,
    label: String,
    created_at: OffsetDateTime,
    revoked_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone)]
enum Write {
    PaymentAccount(OrgId, Option<PaymentAccount>),
    Payment(Payment),
    ProviderEvent(String, OffsetDateTime),
    Endpoint(WebhookEndpoint),
    DeleteEndpoint(OrgId, EndpointId),
    Delivery(WebhookDelivery),
    FirstOpening(ShareId, OffsetDateTime),
    Org(Org),
    Staff(Staff),
    Client(Client),
    Record(Record, Option<u64>),
    NewShare(Share),
    Share(Share, u64),
    Enqueue(Notification),
    Merge(Notification),
    Audit(AuditEntry),
    Account(PortalAccount),
    Grant(SignInGrant),
    Session(PortalSession),
    EndSessions {
        org: OrgId,
        client: Option<ClientId>,
        except: Option<SessionHash>,
        at: OffsetDateTime,
    },
    Message(Message),
    Request(ServiceRequest),
    Event(FeedEvent),
    Agreement(Agreement),
    Appointment(Appointment),
    Contract(Contract),
}

fn conflict(what: impl Into<String>) -> StoreError {
    StoreError::Conflict(what.into())
}

impl State {
    fn apply(&mut self, write: &Write) -> Result<u64, StoreError> {
        match write {
            Write::Org(org) => {
                self.orgs.insert(org.id.clone(), org.clone());
            }
            Write::Staff(s) => {
                self.require_org(&s.org_id)?;
                self.staff
                    .insert((s.org_id.clone(), s.id.clone()), s.clone());
            }
            Write::Client(c) => {
                self.require_org(&c.org_id)?;
                self.clients
                    .insert((c.org_id.clone(), c.id.clone()), c.clone());
            }
            Write::Record(record, expected) => {
                self.require_org(record.org_id())?;
                let key = (record.org_id().clone(), record.reference());
                let stored = self.records.get(&key).map(|r| r.version);
                if stored != *expected {
                    return Err(conflict(format!("record {} changed meanwhile", key.1)));
                }
                let version = stored.unwrap_or(0) + 1;
                self.records.insert(
                    key,
                    Versioned {
                        value: record.clone(),
                        version,
                    },
                );
                return Ok(version);
            }
            Write::NewShare(share) => {
                if self.shares.contains_key(&share.id)
                    || self.by_token.contains_key(&share.token_hash)
                {
                    return Err(conflict("share id or token taken"));
                }
                if share.is_active()
                    && self.shares.values().any(|s| {
                        s.value.is_active()
                            && s.value.org_id == share.org_id
                            && s.value.record == share.record
                    })
                {
                    return Err(conflict("the record already has an active share"));
                }
                self.by_token.insert(share.token_hash, share.id);
                self.shares.insert(
                    share.id,
                    Versioned {
                        value: share.clone(),
                        version: 1,
                    },
                );
                return Ok(1);
            }
            Write::Share(share, expected) => {
                let stored = self
                    .shares
                    .get_mut(&share.id)
                    .ok_or_else(|| conflict("share vanished"))?;
                if stored.version != *expected {
                    return Err(conflict("share changed meanwhile"));
                }
                let mut value = share.clone();
                value.first_opened_at = stored.value.first_opened_at;
                value.last_opened_at = stored.value.last_opened_at;
                stored.value = value;
                stored.version += 1;
                return Ok(stored.version);
            }
            Write::Enqueue(n) => {
                if self.outbox.iter().any(|o| o.id == n.id) {
                    return Err(conflict("notification id taken"));
                }
                self.outbox.push(n.clone());
            }
            Write::Merge(n) => {
                let stored = self
                    .outbox
                    .iter_mut()
                    .find(|o| o.id == n.id && o.delivery == Delivery::Pending && o.attempts == 0)
                    .ok_or_else(|| conflict("notification was claimed meanwhile"))?;
                stored.kind = n.kind.clone();
            }
            Write::Audit(e) => self.audit.push(e.clone()),
            Write::Account(_) | Write::Grant(_) | Write::Session(_) | Write::EndSessions { .. } => {
                return self.apply_portal(write);
            }
            Write::Message(_) | Write::Request(_) | Write::Event(_) => self.apply_inbox(write)?,
            // The later tables: plans, payments, webhooks.
            _ => self.apply_more(write)?,
        }
        Ok(0)
    }

    fn apply_more(&mut self, write: &Write) -> Result<(), StoreError> {
        match write {
            Write::Agreement(_) | Write::Appointment(_) | Write::Contract(_) => {
                self.apply_plans(write)
            }
            Write::FirstOpening(share, at) => {
                let stored = self
                    .shares
                    .get_mut(share)
                    .ok_or_else(|| conflict("share vanished"))?;
                if stored.value.first_opened_at.is_some() {
                    return Err(conflict("the first opening was claimed meanwhile"));
                }
                stored.value.first_opened_at = Some(*at);
                Ok(())
            }
            _ => self.apply_payments(write),
        }
    }

    fn apply_webhooks(&mut self, write: &Write) -> Result<(), StoreError> {
        match write {
            Write::Endpoint(e) => {
                self.require_org(&e.org_id)?;
                match self.endpoints.iter_mut().find(|o| o.id == e.id) {
                    Some(stored) => *stored = e.clone(),
                    None => self.endpoints.push(e.clone()),
                }
            }
            Write::DeleteEndpoint(org, id) => {
                self.endpoints
                    .retain(|e| !(&e.org_id == org && e.id == *id));
            }
            Write::Delivery(d) => {
                self.require_org(&d.org_id)?;
                if self.deliveries.iter().any(|o| o.id == d.id) {
                    return Err(conflict("delivery id taken"));
                }
                self.deliveries.push(d.clone());
            }
            _ => {}
        }
        Ok(())
    }

    fn apply_payments(&mut self, write: &Write) -> Result<(), StoreError> {
        match write {
            Write::Endpoint(_) | Write::DeleteEndpoint(..) | Write::Delivery(_) => {
                return self.apply_webhooks(write);
            }
            Write::PaymentAccount(org, account) => {
                self.require_org(org)?;
                match account {
                    Some(account) => {
                        self.payment_accounts.insert(org.clone(), account.clone());
                    }
                    None => {
                        self.payment_accounts.remove(org);
                    }
                }
            }
            Write::Payment(p) => {
                self.require_org(&p.org_id)?;
                match self.payments.iter_mut().find(|o| o.intent == p.intent) {
                    Some(stored) => *stored = p.clone(),
                    None => self.payments.push(p.clone()),
                }
            }
            Write::ProviderEvent(id, at) => {
                if self.provider_events.contains_key(id) {
                    return Err(conflict("provider event applied meanwhile"));
                }
                self.provider_events.insert(id.clone(), *at);
            }
            _ => {}
        }
        Ok(())
    }

    fn apply_plans(&mut self, write: &Write) -> Result<(), StoreError> {
        match write {
            Write::Agreement(a) => {
                self.require_client(&a.org_id, &a.client_id)?;
                self.agreements
                    .insert((a.org_id.clone(), a.id.clone()), a.clone());
            }
            Write::Appointment(a) => {
                self.require_client(&a.org_id, &a.client_id)?;
                self.appointments
                    .insert((a.org_id.clone(), a.id.clone()), a.clone());
            }
            Write::Contract(c) => {
                self.require_client(&c.org_id, &c.client_id)?;
                let key = (c.org_id.clone(), c.id.clone(), c.version);
                if self
                    .contracts
                    .get(&key)
                    .is_some_and(|stored| stored.signature.is_some())
                {
                    return Err(conflict("a signed contract never changes"));
                }
                self.contracts.insert(key, c.clone());
            }
            _ => {}
        }
        Ok(())
    }

    fn apply_inbox(&mut self, write: &Write) -> Result<(), StoreError> {
        match write {
            Write::Message(m) => {
                self.require_client(&m.org_id, &m.client_id)?;
                match self.messages.iter_mut().find(|o| o.id == m.id) {
                    Some(stored) => stored.read_at = m.read_at,
                    None => self.messages.push(m.clone()),
                }
            }
            Write::Request(r) => {
                self.require_client(&r.org_id, &r.client_id)?;
                self.requests.insert(r.id, r.clone());
            }
            Write::Event(e) => {
                self.require_org(&e.org_id)?;
                let last = self
                    .events
                    .iter()
                    .filter(|o| o.org_id == e.org_id)
                    .map(|o| o.seq)
                    .max()
                    .unwrap_or(0);
                self.events.push(FeedEvent {
                    seq: last + 1,
                    ..e.clone()
                });
            }
            _ => {}
        }
        Ok(())
    }

    fn apply_portal(&mut self, write: &Write) -> Result<u64, StoreError> {
        match write {
            Write::Account(a) => {
                self.require_client(&a.org_id, &a.client_id)?;
                self.accounts
                    .insert((a.org_id.clone(), a.client_id.clone()), a.clone());
            }
            Write::Grant(g) => {
                self.require_client(&g.org_id, &g.client_id)?;
                if self
                    .grants
                    .values()
                    .any(|o| o.id != g.id && o.token_hash == g.token_hash)
                {
                    return Err(conflict("grant token taken"));
                }
                self.grants.insert(g.id, g.clone());
            }
            Write::Session(session) => {
                self.require_client(&session.org_id, &session.client_id)?;
                self.sessions.insert(session.hash, session.clone());
            }
            Write::EndSessions {
                org,
                client,
                except,
                at,
            } => {
                let mut ended = 0;
                for session in self.sessions.values_mut() {
                    if &session.org_id == org
                        && client.as_ref().is_none_or(|c| c == &session.client_id)
                        && except.as_ref() != Some(&session.hash)
                        && session.ended_at.is_none()
                    {
                        session.ended_at = Some(*at);
                        ended += 1;
                    }
                }
                return Ok(ended);
            }
            _ => {}
        }
        Ok(0)
    }

    fn require_client(&self, org: &OrgId, client: &ClientId) -> Result<(), StoreError> {
        if self.clients.contains_key(&(org.clone(), client.clone())) {
            Ok(())
        } else {
            Err(conflict(format!(
                "client {client} of org {org} does not exist"
            )))
        }
    }

    fn require_org(&self, org: &OrgId) -> Result<(), StoreError> {
        if self.orgs.contains_key(org) {
            Ok(())
        } else {
            Err(conflict(format!("org {org} does not exist")))
        }
    }
}

/// The storage ports ([`Store`], [`UnitOfWork`], [`Outbox`]) in memory.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    state: Arc<Mutex<State>>,
    announced: Arc<Mutex<Vec<Change>>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every change announced by a committed unit ([`UnitOfWork::announce`]), in commit order:
    /// what other servers would have heard.
    pub fn announced(&self) -> Vec<Change> {
        self.announced
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock only happens in a failing test; carry on reading.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

struct MemoryUnit {
    store: MemoryStore,
    view: State,
    writes: Vec<Write>,
    announcements: Vec<Change>,
}

impl MemoryUnit {
    fn write(&mut self, write: Write) -> Result<u64, StoreError> {
        let version = self.view.apply(&write)?;
        self.writes.push(write);
        Ok(version)
    }
}

#[async_trait]
impl Store for MemoryStore {
    async fn begin(&self) -> Result<Box<dyn UnitOfWork>, StoreError> {
        Ok(Box::new(MemoryUnit {
            view: self.lock().clone(),
            store: self.clone(),
            writes: Vec::new(),
            announcements: Vec::new(),
        }))
    }

    async fn share_by_token_hash(&self, hash: &TokenHash) -> Result<Option<Share>, StoreError> {
        let state = self.lock();
        Ok(state
            .by_token
            .get(hash)
            .and_then(|id| state.shares.get(id))
            .map(|s| s.value.clone()))
    }

    async fn insert_api_key(
        &self,
        id: uuid::Uuid,
        org: &OrgId,
        key_hash: &ApiKeyHash,
        label: &str,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut state = self.lock();
        state.require_org(org)?;
        if state
            .api_keys
            .iter()
            .any(|k| k.id == id || k.hash == *key_hash)
        {
            return Err(conflict("API key id or hash taken"));
        }
        state.api_keys.push(StoredApiKey {
            id,
            org: org.clone(),
            hash: *key_hash,
            label: label.to_owned(),
            created_at: at,
            revoked_at: None,
        });
        Ok(())
    }

    async fn api_keys_of_org(&self, org: &OrgId) -> Result<Vec<ApiKeyInfo>, StoreError> {
        Ok(self
            .lock()
            .api_keys
            .iter()
            .filter(|k| &k.org == org)
            .map(|k| ApiKeyInfo {
                id: k.id,
                label: k.label.clone(),
                created_at: k.created_at,
                revoked_at: k.revoked_at,
            })
            .collect())
    }

    async fn org_of_api_key(&self, key_hash: &ApiKeyHash) -> Result<Option<OrgId>, StoreError> {
        Ok(self
            .lock()
            .api_keys
            .iter()
            .find(|k| k.hash == *key_hash && k.revoked_at.is_none())
            .map(|k| k.org.clone()))
    }

    async fn revoke_api_key(
        &self,
        org: &OrgId,
        id: uuid::Uuid,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        for key in self
            .lock()
            .api_keys
            .iter_mut()
            .filter(|k| k.id == id && &k.org == org && k.revoked_at.is_none())
        {
            key.revoked_at = Some(at);
        }
        Ok(())
    }

    async fn record_opened(&self, share: ShareId, at: OffsetDateTime) -> Result<bool, StoreError> {
        Ok(match self.lock().shares.get_mut(&share) {
            Some(s) => {
                s.value.last_opened_at =
                    Some(s.value.last_opened_at.map_or(at, |last| last.max(at)));
                s.value.first_opened_at.is_none()
            }
            None => false,
        })
    }
}

#[async_trait]
impl UnitOfWork for MemoryUnit {
    async fn org(&mut self, id: &OrgId) -> Result<Option<Org>, StoreError> {
        Ok(self.view.orgs.get(id).cloned())
    }

    async fn put_org(&mut self, org: &Org) -> Result<(), StoreError> {
        self.write(Write::Org(org.clone())).map(drop)
    }

    async fn staff(&mut self, org: &OrgId, id: &StaffId) -> Result<Option<Staff>, StoreError> {
        Ok(self.view.staff.get(&(org.clone(), id.clone())).cloned())
    }

    async fn put_staff(&mut self, staff: &Staff) -> Result<(), StoreError> {
        self.write(Write::Staff(staff.clone())).map(drop)
    }

    async fn client(&mut self, org: &OrgId, id: &ClientId) -> Result<Option<Client>, StoreError> {
        Ok(self.view.clients.get(&(org.clone(), id.clone())).cloned())
    }

    async fn put_client(&mut self, client: &Client) -> Result<(), StoreError> {
        self.write(Write::Client(client.clone())).map(drop)
    }

    async fn record(
        &mut self,
        org: &OrgId,
        record: &RecordRef,
    ) -> Result<Option<Versioned<Record>>, StoreError> {
        Ok(self
            .view
            .records
            .get(&(org.clone(), record.clone()))
            .cloned())
    }

    async fn put_record(
        &mut self,
        record: &Record,
        expected: Option<u64>,
    ) -> Result<u64, StoreError> {
        self.write(Write::Record(record.clone(), expected))
    }

    async fn invoices_of_work_order(
        &mut self,
        org: &OrgId,
        work_order: &RecordId,
    ) -> Result<Vec<Invoice>, StoreError> {
        Ok(self
            .view
            .records
            .iter()
            .filter(|((o, _), _)| o == org)
            .filter_map(|(_, r)| match &r.value {
                Record::Invoice(i) if i.work_order_id.as_ref() == Some(work_order) => {
                    Some(i.clone())
                }
                _ => None,
            })
            .collect())
    }

    async fn file_in_use(&mut self, org: &OrgId, file: &FileId) -> Result<bool, StoreError> {
        let view = &self.view;
        let in_record = view
            .records
            .iter()
            .filter(|((o, _), _)| o == org)
            .any(|(_, r)| match &r.value {
                Record::WorkOrder(wo) => {
                    wo.files.iter().any(|f| &f.id == file)
                        || wo.signature.as_ref().and_then(|s| s.image.as_ref()) == Some(file)
                }
                _ => false,
            });
        let as_logo = view.orgs.get(org).and_then(|o| o.logo.as_ref()) == Some(file);
        let as_photo = view
            .staff
            .iter()
            .any(|((o, _), s)| o == org && s.photo.as_ref() == Some(file));
        Ok(in_record || as_logo || as_photo)
    }

    async fn share(&mut self, id: ShareId) -> Result<Option<Versioned<Share>>, StoreError> {
        Ok(self.view.shares.get(&id).cloned())
    }

    async fn shares_of_record(
        &mut self,
        org: &OrgId,
        record: &RecordRef,
    ) -> Result<Vec<Versioned<Share>>, StoreError> {
        let mut shares: Vec<_> = self
            .view
            .shares
            .values()
            .filter(|s| &s.value.org_id == org && &s.value.record == record)
            .cloned()
            .collect();
        shares.sort_by_key(|s| (s.value.created_at, s.value.id));
        Ok(shares)
    }

    async fn shares_expiring_after(
        &mut self,
        org: &OrgId,
        now: OffsetDateTime,
    ) -> Result<Vec<Versioned<Share>>, StoreError> {
        let mut shares: Vec<_> = self
            .view
            .shares
            .values()
            .filter(|s| &s.value.org_id == org && s.value.is_active())
            .filter(|s| s.value.expires_at.is_some_and(|at| at > now))
            .cloned()
            .collect();
        shares.sort_by_key(|s| (s.value.created_at, s.value.id));
        Ok(shares)
    }

    async fn insert_share(&mut self, share: &Share) -> Result<(), StoreError> {
        self.write(Write::NewShare(share.clone())).map(drop)
    }

    async fn update_share(&mut self, share: &Share, expected: u64) -> Result<u64, StoreError> {
        self.write(Write::Share(share.clone(), expected))
    }

    async fn enqueue(&mut self, notification: &Notification) -> Result<(), StoreError> {
        self.write(Write::Enqueue(notification.clone())).map(drop)
    }

    async fn open_burst(
        &mut self,
        share: ShareId,
        topic: Topic,
        to: &Email,
        now: OffsetDateTime,
    ) -> Result<Option<Notification>, StoreError> {
        Ok(self
            .view
            .outbox
            .iter()
            .rev()
            .find(|n| {
                n.share_id == Some(share)
                    && n.kind.topic() == topic
                    && &n.to == to
                    && n.delivery == Delivery::Pending
                    && n.attempts == 0
                    && n.due_at > now
            })
            .cloned())
    }

    async fn merge_into(&mut self, notification: &Notification) -> Result<(), StoreError> {
        self.write(Write::Merge(notification.clone())).map(drop)
    }

    async fn append_audit(&mut self, entry: &AuditEntry) -> Result<(), StoreError> {
        self.write(Write::Audit(entry.clone())).map(drop)
    }

    async fn audit_of_record(
        &mut self,
        org: &OrgId,
        record: &RecordRef,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        Ok(self
            .view
            .audit
            .iter()
            .filter(|e| &e.org_id == org && &e.record == record)
            .cloned()
            .collect())
    }

    async fn record_summaries_of_client(
        &mut self,
        org: &OrgId,
        client: &ClientId,
    ) -> Result<Vec<crate::model::RecordSummary>, StoreError> {
        Ok(self
            .view
            .records
            .iter()
            .filter(|((o, _), r)| o == org && r.value.client_id() == Some(client))
            .map(|(_, r)| crate::model::RecordSummary::of(&r.value))
            .collect())
    }

    async fn portal_account(
        &mut self,
        org: &OrgId,
        client: &ClientId,
    ) -> Result<Option<PortalAccount>, StoreError> {
        Ok(self
            .view
            .accounts
            .get(&(org.clone(), client.clone()))
            .cloned())
    }

    async fn put_portal_account(&mut self, account: &PortalAccount) -> Result<(), StoreError> {
        self.write(Write::Account(account.clone())).map(drop)
    }

    async fn clients_with_email(
        &mut self,
        org: &OrgId,
        email: &Email,
    ) -> Result<Vec<Client>, StoreError> {
        let wanted = email.as_str().to_lowercase();
        Ok(self
            .view
            .clients
            .iter()
            .filter(|((o, _), c)| {
                o == org
                    && c.email
                        .as_ref()
                        .is_some_and(|e| e.as_str().to_lowercase() == wanted)
            })
            .map(|(_, c)| c.clone())
            .collect())
    }

    async fn grant_by_token_hash(
        &mut self,
        hash: &TokenHash,
    ) -> Result<Option<SignInGrant>, StoreError> {
        Ok(self
            .view
            .grants
            .values()
            .find(|g| &g.token_hash == hash)
            .cloned())
    }

    async fn grant(&mut self, id: uuid::Uuid) -> Result<Option<SignInGrant>, StoreError> {
        Ok(self.view.grants.get(&id).cloned())
    }

    async fn grants_of_client(
        &mut self,
        org: &OrgId,
        client: &ClientId,
        since: OffsetDateTime,
    ) -> Result<Vec<SignInGrant>, StoreError> {
        let mut found: Vec<SignInGrant> = self
            .view
            .grants
            .values()
            .filter(|g| &g.org_id == org && &g.client_id == client && g.created_at >= since)
            .cloned()
            .collect();
        found.sort_by_key(|g| std::cmp::Reverse((g.created_at, g.id)));
        Ok(found)
    }

    async fn put_grant(&mut self, grant: &SignInGrant) -> Result<(), StoreError> {
        self.write(Write::Grant(grant.clone())).map(drop)
    }

    async fn portal_session(
        &mut self,
        hash: &SessionHash,
    ) -> Result<Option<PortalSession>, StoreError> {
        Ok(self.view.sessions.get(hash).cloned())
    }

    async fn put_session(&mut self, session: &PortalSession) -> Result<(), StoreError> {
        self.write(Write::Session(session.clone())).map(drop)
    }

    async fn end_sessions(
        &mut self,
        org: &OrgId,
        client: Option<&ClientId>,
        except: Option<&SessionHash>,
        at: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        self.write(Write::EndSessions {
            org: org.clone(),
            client: client.cloned(),
            except: except.copied(),
            at,
        })
    }

    async fn put_message(&mut self, message: &Message) -> Result<(), StoreError> {
        self.write(Write::Message(message.clone())).map(drop)
    }

    async fn messages_of_client(
        &mut self,
        org: &OrgId,
        client: &ClientId,
    ) -> Result<Vec<Message>, StoreError> {
        Ok(self
            .view
            .messages
            .iter()
            .filter(|m| &m.org_id == org && &m.client_id == client)
            .cloned()
            .collect())
    }

    async fn put_service_request(&mut self, request: &ServiceRequest) -> Result<(), StoreError> {
        self.write(Write::Request(request.clone())).map(drop)
    }

    async fn service_request(
        &mut self,
        org: &OrgId,
        id: ServiceRequestId,
    ) -> Result<Option<ServiceRequest>, StoreError> {
        Ok(self
            .view
            .requests
            .get(&id)
            .filter(|r| &r.org_id == org)
            .cloned())
    }

    async fn service_requests(
        &mut self,
        org: &OrgId,
        state: Option<RequestState>,
        limit: u32,
    ) -> Result<Vec<ServiceRequest>, StoreError> {
        let mut found: Vec<ServiceRequest> = self
            .view
            .requests
            .values()
            .filter(|r| &r.org_id == org && state.is_none_or(|s| s == r.state))
            .cloned()
            .collect();
        found.sort_by_key(|r| (r.created_at, r.id));
        found.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        Ok(found)
    }

    async fn append_event(&mut self, event: &FeedEvent) -> Result<u64, StoreError> {
        self.write(Write::Event(event.clone()))?;
        Ok(self
            .view
            .events
            .iter()
            .filter(|e| e.org_id == event.org_id)
            .map(|e| e.seq)
            .max()
            .unwrap_or(0))
    }

    async fn events_after(
        &mut self,
        org: &OrgId,
        after: u64,
        limit: u32,
    ) -> Result<Vec<FeedEvent>, StoreError> {
        let mut found: Vec<FeedEvent> = self
            .view
            .events
            .iter()
            .filter(|e| &e.org_id == org && e.seq > after)
            .cloned()
            .collect();
        found.sort_by_key(|e| e.seq);
        found.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        Ok(found)
    }

    async fn put_agreement(&mut self, agreement: &Agreement) -> Result<(), StoreError> {
        self.write(Write::Agreement(agreement.clone())).map(drop)
    }

    async fn agreement(
        &mut self,
        org: &OrgId,
        id: &AgreementId,
    ) -> Result<Option<Agreement>, StoreError> {
        Ok(self
            .view
            .agreements
            .get(&(org.clone(), id.clone()))
            .cloned())
    }

    async fn agreements_of_client(
        &mut self,
        org: &OrgId,
        client: &ClientId,
    ) -> Result<Vec<Agreement>, StoreError> {
        Ok(self
            .view
            .agreements
            .values()
            .filter(|a| &a.org_id == org && &a.client_id == client)
            .cloned()
            .collect())
    }

    async fn put_appointment(&mut self, appointment: &Appointment) -> Result<(), StoreError> {
        self.write(Write::Appointment(appointment.clone()))
            .map(drop)
    }

    async fn appointment(
        &mut self,
        org: &OrgId,
        id: &AppointmentId,
    ) -> Result<Option<Appointment>, StoreError> {
        Ok(self
            .view
            .appointments
            .get(&(org.clone(), id.clone()))
            .cloned())
    }

    async fn appointments_of_client(
        &mut self,
        org: &OrgId,
        client: &ClientId,
    ) -> Result<Vec<Appointment>, StoreError> {
        let mut found: Vec<Appointment> = self
            .view
            .appointments
            .values()
            .filter(|a| &a.org_id == org && &a.client_id == client)
            .cloned()
            .collect();
        found.sort_by(|a, b| (a.starts_at, &a.id).cmp(&(b.starts_at, &b.id)));
        Ok(found)
    }

    async fn put_contract(&mut self, contract: &Contract) -> Result<(), StoreError> {
        self.write(Write::Contract(contract.clone())).map(drop)
    }

    async fn contract_versions(
        &mut self,
        org: &OrgId,
        id: &ContractId,
    ) -> Result<Vec<Contract>, StoreError> {
        Ok(self
            .view
            .contracts
            .values()
            .filter(|c| &c.org_id == org && &c.id == id)
            .cloned()
            .collect())
    }

    async fn contracts_of_client(
        &mut self,
        org: &OrgId,
        client: &ClientId,
    ) -> Result<Vec<Contract>, StoreError> {
        Ok(self
            .view
            .contracts
            .values()
            .filter(|c| &c.org_id == org && &c.client_id == client)
            .cloned()
            .collect())
    }

    async fn claim_first_opening(
        &mut self,
        share: ShareId,
        at: OffsetDateTime,
    ) -> Result<Option<Share>, StoreError> {
        let unset = self
            .view
            .shares
            .get(&share)
            .is_some_and(|s| s.value.first_opened_at.is_none());
        if !unset {
            return Ok(None);
        }
        self.write(Write::FirstOpening(share, at))?;
        Ok(self.view.shares.get(&share).map(|s| s.value.clone()))
    }

    async fn endpoints_of_org(&mut self, org: &OrgId) -> Result<Vec<WebhookEndpoint>, StoreError> {
        let mut found: Vec<WebhookEndpoint> = self
            .view
            .endpoints
            .iter()
            .filter(|e| &e.org_id == org)
            .cloned()
            .collect();
        found.sort_by_key(|e| (e.created_at, e.id));
        Ok(found)
    }

    async fn put_endpoint(&mut self, endpoint: &WebhookEndpoint) -> Result<(), StoreError> {
        self.write(Write::Endpoint(endpoint.clone())).map(drop)
    }

    async fn delete_endpoint(&mut self, org: &OrgId, id: EndpointId) -> Result<bool, StoreError> {
        let found = self
            .view
            .endpoints
            .iter()
            .any(|e| &e.org_id == org && e.id == id);
        if found {
            self.write(Write::DeleteEndpoint(org.clone(), id))?;
        }
        Ok(found)
    }

    async fn enqueue_webhook(&mut self, delivery: &WebhookDelivery) -> Result<(), StoreError> {
        self.write(Write::Delivery(delivery.clone())).map(drop)
    }

    async fn webhook_deliveries_of_org(
        &mut self,
        org: &OrgId,
        state: Option<&str>,
        limit: u32,
    ) -> Result<Vec<WebhookDelivery>, StoreError> {
        let mut found: Vec<WebhookDelivery> = self
            .view
            .deliveries
            .iter()
            .filter(|d| &d.org_id == org && state.is_none_or(|s| s == d.state.as_str()))
            .cloned()
            .collect();
        found.reverse();
        found.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        Ok(found)
    }

    async fn payment_account(&mut self, org: &OrgId) -> Result<Option<PaymentAccount>, StoreError> {
        Ok(self.view.payment_accounts.get(org).cloned())
    }

    async fn put_payment_account(
        &mut self,
        org: &OrgId,
        account: Option<&PaymentAccount>,
    ) -> Result<(), StoreError> {
        self.write(Write::PaymentAccount(org.clone(), account.cloned()))
            .map(drop)
    }

    async fn payments_of_invoice(
        &mut self,
        org: &OrgId,
        invoice: &RecordId,
    ) -> Result<Vec<Payment>, StoreError> {
        let mut found: Vec<Payment> = self
            .view
            .payments
            .iter()
            .filter(|p| &p.org_id == org && &p.invoice == invoice)
            .cloned()
            .collect();
        found.sort_by(|a, b| (a.created_at, &a.intent).cmp(&(b.created_at, &b.intent)));
        Ok(found)
    }

    async fn payment(&mut self, intent: &IntentId) -> Result<Option<Payment>, StoreError> {
        Ok(self
            .view
            .payments
            .iter()
            .find(|p| &p.intent == intent)
            .cloned())
    }

    async fn put_payment(&mut self, payment: &Payment) -> Result<(), StoreError> {
        self.write(Write::Payment(payment.clone())).map(drop)
    }

    async fn claim_provider_event(
        &mut self,
        id: &str,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        if self.view.provider_events.contains_key(id) {
            return Ok(false);
        }
        self.write(Write::ProviderEvent(id.to_owned(), at))
            .map(|_| true)
    }

    async fn announce(&mut self, change: &Change) -> Result<(), StoreError> {
        self.announcements.push(change.clone());
        Ok(())
    }

    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        let mut current = self.store.lock();
        let mut next = current.clone();
        for write in &self.writes {
            next.apply(write)?;
        }
        *current = next;
        self.store
            .announced
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend(self.announcements);
        Ok(())
    }
}

#[async_trait]
impl Outbox for MemoryStore {
    async fn claim_due(
        &self,
        now: OffsetDateTime,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<Notification>, StoreError> {
        let mut state = self.lock();
        let mut due: Vec<&mut Notification> = state
            .outbox
            .iter_mut()
            .filter(|n| n.delivery == Delivery::Pending && n.due_at <= now)
            .collect();
        due.sort_by_key(|n| n.due_at);
        Ok(due
            .into_iter()
            .take(limit as usize)
            .map(|n| {
                n.attempts += 1;
                n.due_at = now + lease;
                n.clone()
            })
            .collect())
    }

    async fn mark_sent(&self, id: NotificationId, at: OffsetDateTime) -> Result<(), StoreError> {
        self.settle(id, Delivery::Sent { at });
        Ok(())
    }

    async fn retry_at(
        &self,
        id: NotificationId,
        next_due: OffsetDateTime,
        reason: &str,
    ) -> Result<(), StoreError> {
        let mut state = self.lock();
        if let Some(n) = state
            .outbox
            .iter_mut()
            .find(|n| n.id == id && n.delivery == Delivery::Pending)
        {
            n.due_at = next_due;
            n.last_failure = Some(reason.to_owned());
        }
        Ok(())
    }

    async fn mark_dead(
        &self,
        id: NotificationId,
        at: OffsetDateTime,
        reason: &str,
    ) -> Result<(), StoreError> {
        self.settle(
            id,
            Delivery::Dead {
                at,
                reason: reason.to_owned(),
            },
        );
        Ok(())
    }

    async fn mark_dropped(
        &self,
        id: NotificationId,
        at: OffsetDateTime,
        reason: &str,
    ) -> Result<(), StoreError> {
        self.settle(
            id,
            Delivery::Dropped {
                at,
                reason: reason.to_owned(),
            },
        );
        Ok(())
    }

    async fn pending_count(&self) -> Result<u64, StoreError> {
        let state = self.lock();
        Ok(state
            .outbox
            .iter()
            .filter(|n| n.delivery == Delivery::Pending)
            .count() as u64)
    }

    async fn stats(&self, now: OffsetDateTime) -> Result<OutboxStats, StoreError> {
        let state = self.lock();
        let pending = || {
            state
                .outbox
                .iter()
                .filter(|n| n.delivery == Delivery::Pending)
        };
        Ok(OutboxStats {
            pending: pending().count() as u64,
            dead: state
                .outbox
                .iter()
                .filter(|n| matches!(n.delivery, Delivery::Dead { .. }))
                .count() as u64,
            oldest_due: pending().map(|n| n.due_at).filter(|d| *d <= now).min(),
        })
    }

    async fn notifications_of_org(&self, org: &OrgId) -> Result<Vec<Notification>, StoreError> {
        Ok(self
            .lock()
            .outbox
            .iter()
            .filter(|n| &n.org_id == org)
            .cloned()
            .collect())
    }
}

impl MemoryStore {
    fn settle(&self, id: NotificationId, delivery: Delivery) {
        let mut state = self.lock();
        if let Some(n) = state
            .outbox
            .iter_mut()
            .find(|n| n.id == id && n.delivery == Delivery::Pending)
        {
            n.delivery = delivery;
        }
    }
}

#[async_trait]
impl WebhookOutbox for MemoryStore {
    async fn claim_webhooks(
        &self,
        now: OffsetDateTime,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<(WebhookDelivery, Option<WebhookEndpoint>)>, StoreError> {
        let mut state = self.lock();
        let endpoints = state.endpoints.clone();
        let mut due: Vec<&mut WebhookDelivery> = state
            .deliveries
            .iter_mut()
            .filter(|d| d.state == WebhookState::Pending && d.due_at <= now)
            .collect();
        due.sort_by_key(|d| d.due_at);
        Ok(due
            .into_iter()
            .take(limit as usize)
            .map(|d| {
                d.attempts += 1;
                d.due_at = now + lease;
                let endpoint = endpoints.iter().find(|e| e.id == d.endpoint).cloned();
                (d.clone(), endpoint)
            })
            .collect())
    }

    async fn settle_webhook(
        &self,
        id: DeliveryId,
        settle: &WebhookSettle,
    ) -> Result<(), StoreError> {
        let mut state = self.lock();
        // Settled once: only a pending delivery changes.
        if let Some(d) = state
            .deliveries
            .iter_mut()
            .find(|d| d.id == id && d.state == WebhookState::Pending)
        {
            match settle {
                WebhookSettle::Delivered { at } => {
                    d.state = WebhookState::Delivered { at: *at };
                    d.last_failure = None;
                }
                WebhookSettle::Retry { at, failure } => {
                    d.due_at = *at;
                    d.last_failure = Some(failure.clone());
                }
                WebhookSettle::Dead { at, reason } => {
                    d.state = WebhookState::Dead {
                        at: *at,
                        reason: reason.clone(),
                    };
                }
            }
        }
        Ok(())
    }

    async fn disable_endpoint(
        &self,
        org: &OrgId,
        id: EndpointId,
        reason: &str,
    ) -> Result<(), StoreError> {
        let mut state = self.lock();
        if let Some(e) = state
            .endpoints
            .iter_mut()
            .find(|e| &e.org_id == org && e.id == id)
        {
            e.enabled = false;
            e.disabled_reason = Some(reason.to_owned());
        }
        Ok(())
    }

    async fn webhook_counts(&self) -> Result<(u64, u64), StoreError> {
        let state = self.lock();
        let count = |name: &str| {
            state
                .deliveries
                .iter()
                .filter(|d| d.state.as_str() == name)
                .count() as u64
        };
        Ok((count("pending"), count("dead")))
    }
}
