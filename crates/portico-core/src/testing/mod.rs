//! In-memory fakes of every port, for Portico's own tests and for embedders', and the storage
//! conformance suite every store adapter runs.
// Reason: test support; a broken invariant must stop the test at once.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::missing_panics_doc
)]

pub mod conformance;
pub mod fixtures;
mod memory;

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use time::{Duration, OffsetDateTime};

pub use memory::MemoryStore;

use crate::model::{IntentId, PaymentAccount};
use crate::ports::{
    BackendError, Blob, BlobKey, BlobMeta, Blobs, Clock, Intent, IntentRequest, Links, MailError,
    Mailer, OutgoingEmail, Payments, Randomness,
};
use crate::token::ShareToken;

/// Share links under a fixed base, laid out as `{base}/s/{token}` like the page adapter's.
#[derive(Debug, Clone)]
pub struct BaseLinks(pub String);

impl Links for BaseLinks {
    fn share(&self, token: &ShareToken) -> String {
        format!("{}/s/{}", self.0.trim_end_matches('/'), token.expose())
    }

    fn portal(&self, org: &crate::model::OrgId) -> String {
        format!("{}/portal/{org}", self.0.trim_end_matches('/'))
    }

    fn portal_grant(&self, org: &crate::model::OrgId, token: &ShareToken) -> String {
        format!("{}/link/{}", self.portal(org), token.expose())
    }
}

/// A fast, salted stand-in for the password hasher, for tests only: `fake$<salt>$<sha-256>`.
/// Never use it outside tests (it is not slow on purpose, as a real password hash must be).
#[derive(Debug, Default)]
pub struct TestPasswords {
    salts: AtomicU64,
}

impl TestPasswords {
    fn digest(salt: &str, password: &str) -> String {
        use sha2::{Digest as _, Sha256};
        let sum = Sha256::digest(format!("{salt}\0{password}").as_bytes());
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD_NO_PAD, sum)
    }
}

#[async_trait]
impl crate::ports::Passwords for TestPasswords {
    async fn hash(&self, password: &str) -> Result<crate::model::PasswordHash, BackendError> {
        let salt = self.salts.fetch_add(1, Ordering::Relaxed).to_string();
        let digest = Self::digest(&salt, password);
        Ok(crate::model::PasswordHash(format!("fake${salt}${digest}")))
    }

    async fn verify(
        &self,
        password: &str,
        hash: &crate::model::PasswordHash,
    ) -> Result<bool, BackendError> {
        let mut parts = hash.0.split('$');
        Ok(match (parts.next(), parts.next(), parts.next()) {
            (Some("fake"), Some(salt), Some(digest)) => Self::digest(salt, password) == digest,
            _ => false,
        })
    }
}

/// The environment variable naming the file where skipped checks are listed
/// (`cargo xtask ci` sets it and prints the list at its end).
pub const SKIPPED_CHECKS_LOG: &str = "PORTICO_SKIPPED_CHECKS";

/// Reports that a check did not run because a tool it needs is missing: a notice on stderr,
/// and a line in the file named by [`SKIPPED_CHECKS_LOG`], so the run's summary can say which
/// checks were skipped (a skip is never a pass). Under CI (`CI` set) it fails the test instead:
/// there every tool must be present.
pub fn skip_check(check: &str, why: &str) {
    assert!(
        std::env::var_os("CI").is_none(),
        "{check} is required in CI: {why}"
    );
    eprintln!("SKIPPED: {check}: {why}");
    if let Some(path) = std::env::var_os(SKIPPED_CHECKS_LOG) {
        use std::io::Write as _;
        let line = format!("{check}: {why}\n");
        if let Ok(mut file) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            let _ = file.write_all(line.as_bytes());
        }
    }
}

/// A [`MemoryStore`] that counts the units of work opened on it and the page reads
/// ([`Store::record_page`](crate::ports::Store::record_page), with the staff it names): tests
/// measure the work a use case does (say, that a failure costs no more than another failure,
/// or that a change wakes one re-read rather than one per listener).
#[derive(Debug, Clone, Default)]
pub struct CountingStore {
    inner: MemoryStore,
    units: std::sync::Arc<AtomicU64>,
}

impl CountingStore {
    /// Counts the units of work opened on `inner`.
    pub fn new(inner: MemoryStore) -> Self {
        Self {
            inner,
            units: std::sync::Arc::default(),
        }
    }

    /// Units of work opened and pages read so far.
    pub fn units(&self) -> u64 {
        self.units.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl crate::ports::Store for CountingStore {
    async fn begin(&self) -> Result<Box<dyn crate::ports::UnitOfWork>, crate::ports::StoreError> {
        self.units.fetch_add(1, Ordering::SeqCst);
        self.inner.begin().await
    }

    async fn share_by_token_hash(
        &self,
        hash: &crate::token::TokenHash,
    ) -> Result<Option<crate::model::Share>, crate::ports::StoreError> {
        self.inner.share_by_token_hash(hash).await
    }

    async fn record_page(
        &self,
        org: &crate::model::OrgId,
        record: &crate::model::RecordRef,
    ) -> Result<Option<crate::ports::RecordPage>, crate::ports::StoreError> {
        self.units.fetch_add(1, Ordering::SeqCst);
        self.inner.record_page(org, record).await
    }

    // Part of the page read counted above.
    async fn staff_among(
        &self,
        org: &crate::model::OrgId,
        ids: &[crate::model::StaffId],
    ) -> Result<Vec<crate::model::Staff>, crate::ports::StoreError> {
        self.inner.staff_among(org, ids).await
    }

    async fn insert_api_key(
        &self,
        id: uuid::Uuid,
        org: &crate::model::OrgId,
        key_hash: &crate::token::ApiKeyHash,
        label: &str,
        at: OffsetDateTime,
    ) -> Result<(), crate::ports::StoreError> {
        self.inner
            .insert_api_key(id, org, key_hash, label, at)
            .await
    }

    async fn api_keys_of_org(
        &self,
        org: &crate::model::OrgId,
    ) -> Result<Vec<crate::ports::ApiKeyInfo>, crate::ports::StoreError> {
        self.inner.api_keys_of_org(org).await
    }

    async fn org_of_api_key(
        &self,
        key_hash: &crate::token::ApiKeyHash,
    ) -> Result<Option<crate::model::OrgId>, crate::ports::StoreError> {
        self.inner.org_of_api_key(key_hash).await
    }

    async fn revoke_api_key(
        &self,
        org: &crate::model::OrgId,
        id: uuid::Uuid,
        at: OffsetDateTime,
    ) -> Result<(), crate::ports::StoreError> {
        self.inner.revoke_api_key(org, id, at).await
    }

    async fn record_opened(
        &self,
        share: crate::model::ShareId,
        at: OffsetDateTime,
    ) -> Result<bool, crate::ports::StoreError> {
        self.inner.record_opened(share, at).await
    }
}

/// A clock that stands still until told to move.
#[derive(Debug)]
pub struct ManualClock(Mutex<OffsetDateTime>);

impl ManualClock {
    /// A clock showing `at`.
    pub fn new(at: OffsetDateTime) -> Self {
        Self(Mutex::new(at))
    }

    /// Sets the time.
    pub fn set(&self, at: OffsetDateTime) {
        *self.0.lock().unwrap() = at;
    }

    /// Moves the time forward by `by`.
    pub fn advance(&self, by: Duration) {
        *self.0.lock().unwrap() += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap()
    }
}

/// Deterministic randomness (`SplitMix64` from a seed). Never for production: it is predictable.
#[derive(Debug)]
pub struct SeededRandomness(AtomicU64);

impl SeededRandomness {
    /// A sequence starting from `seed`.
    pub fn new(seed: u64) -> Self {
        Self(AtomicU64::new(seed))
    }
}

impl Randomness for SeededRandomness {
    fn fill(&self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(8) {
            let mut z = self
                .0
                .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
                .wrapping_add(0x9E37_79B9_7F4A_7C15);
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            chunk.copy_from_slice(&z.to_le_bytes()[..chunk.len()]);
        }
    }
}

/// A mailer that keeps what it is sent, and can be told to fail.
#[derive(Debug, Default)]
pub struct MemoryMailer {
    sent: Mutex<Vec<OutgoingEmail>>,
    failing: Mutex<Option<bool>>,
}

impl MemoryMailer {
    /// Everything sent so far.
    pub fn sent(&self) -> Vec<OutgoingEmail> {
        self.sent.lock().unwrap().clone()
    }

    /// From now on, fail every send: temporarily (`false`) or permanently (`true`); `None`
    /// sends again.
    pub fn fail(&self, permanent: Option<bool>) {
        *self.failing.lock().unwrap() = permanent;
    }
}

#[async_trait]
impl Mailer for MemoryMailer {
    async fn send(&self, email: &OutgoingEmail) -> Result<(), MailError> {
        match *self.failing.lock().unwrap() {
            Some(true) => Err(MailError::Permanent("550 rejected (fake)".into())),
            Some(false) => Err(MailError::Temporary("421 try later (fake)".into())),
            None => {
                self.sent.lock().unwrap().push(email.clone());
                Ok(())
            }
        }
    }
}

/// Blobs in memory.
#[derive(Debug, Default)]
pub struct MemoryBlobs(Mutex<std::collections::BTreeMap<BlobKey, Blob>>);

impl MemoryBlobs {
    /// How many blobs are stored.
    pub fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[async_trait]
impl Blobs for MemoryBlobs {
    async fn put(&self, key: &BlobKey, blob: Blob) -> Result<(), BackendError> {
        self.0.lock().unwrap().insert(key.clone(), blob);
        Ok(())
    }

    async fn get(&self, key: &BlobKey) -> Result<Option<Blob>, BackendError> {
        Ok(self.0.lock().unwrap().get(key).cloned())
    }

    async fn head(&self, key: &BlobKey) -> Result<Option<BlobMeta>, BackendError> {
        Ok(self.0.lock().unwrap().get(key).map(|b| BlobMeta {
            content_type: b.content_type.clone(),
            size: b.bytes.len() as u64,
        }))
    }

    async fn delete(&self, key: &BlobKey) -> Result<(), BackendError> {
        self.0.lock().unwrap().remove(key);
        Ok(())
    }
}

/// A payment provider that opens fake intents and keeps the requests. Like Stripe, the same
/// idempotency key gets the same intent back; [`FakePayments::fail_next`] makes the next call
/// fail, like a provider that is down.
#[derive(Debug, Default)]
pub struct FakePayments {
    state: Mutex<FakePaymentsState>,
}

#[derive(Debug, Default)]
struct FakePaymentsState {
    requests: Vec<IntentRequest>,
    by_key: HashMap<String, Intent>,
    canceled: Vec<IntentId>,
    fail_next: bool,
}

impl FakePayments {
    /// Every intent requested so far (repeats included).
    pub fn requests(&self) -> Vec<IntentRequest> {
        self.state.lock().unwrap().requests.clone()
    }

    /// How many distinct intents were opened.
    pub fn opened(&self) -> usize {
        self.state.lock().unwrap().by_key.len()
    }

    /// The intents withdrawn so far.
    pub fn canceled(&self) -> Vec<IntentId> {
        self.state.lock().unwrap().canceled.clone()
    }

    /// Makes the next call fail.
    pub fn fail_next(&self) {
        self.state.lock().unwrap().fail_next = true;
    }
}

#[async_trait]
impl Payments for FakePayments {
    async fn create_intent(&self, request: &IntentRequest) -> Result<Intent, BackendError> {
        let mut state = self.state.lock().unwrap();
        if std::mem::take(&mut state.fail_next) {
            return Err("the payment provider is down".into());
        }
        state.requests.push(request.clone());
        let n = state.by_key.len() + 1;
        let intent = state
            .by_key
            .entry(request.idempotency_key.clone())
            .or_insert_with(|| Intent {
                id: IntentId::new(&format!("pi_fake{n}")).unwrap(),
                client_secret: format!("pi_fake{n}_secret_{n}"),
            })
            .clone();
        Ok(intent)
    }

    async fn cancel_intent(
        &self,
        _account: &PaymentAccount,
        intent: &IntentId,
    ) -> Result<(), BackendError> {
        let mut state = self.state.lock().unwrap();
        if std::mem::take(&mut state.fail_next) {
            return Err("the payment provider is down".into());
        }
        state.canceled.push(intent.clone());
        Ok(())
    }
}

/// A webhook sender that keeps what it was asked to post and answers from a script
/// ([`FakeWebhooks::answer`]; 200 once the script runs out). `vet` takes only `https://` URLs,
/// and refuses any whose host is `localhost` or `10.0.0.1`, like an adapter's address check.
#[derive(Debug, Default)]
pub struct FakeWebhooks {
    state: Mutex<FakeWebhooksState>,
}

#[derive(Debug, Default)]
struct FakeWebhooksState {
    answers: std::collections::VecDeque<Result<u16, String>>,
    sent: Vec<SentWebhook>,
    down: std::collections::HashSet<String>,
}

/// One post a [`FakeWebhooks`] was asked to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentWebhook {
    /// Where.
    pub url: String,
    /// `webhook-id`.
    pub id: String,
    /// `webhook-timestamp`.
    pub timestamp: i64,
    /// The endpoint's signing key.
    pub key: Vec<u8>,
    /// What it said.
    pub event: crate::model::WebhookEvent,
}

impl FakeWebhooks {
    /// The next sends answer these, in order.
    pub fn answer(&self, answers: impl IntoIterator<Item = Result<u16, String>>) {
        self.state.lock().unwrap().answers.extend(answers);
    }

    /// Every post to `url` fails with no answer (a host that is down), whatever the script.
    pub fn down(&self, url: &str) {
        self.state.lock().unwrap().down.insert(url.to_owned());
    }

    /// Forgets the answers not given yet.
    pub fn clear_answers(&self) {
        self.state.lock().unwrap().answers.clear();
    }

    /// Every post asked for so far.
    pub fn sent(&self) -> Vec<SentWebhook> {
        self.state.lock().unwrap().sent.clone()
    }
}

#[async_trait]
impl crate::ports::WebhookSender for FakeWebhooks {
    async fn vet(&self, url: &str) -> Result<String, String> {
        let Some(rest) = url.strip_prefix("https://") else {
            return Err("the URL must start with https://".into());
        };
        let host = rest.split(['/', ':']).next().unwrap_or_default();
        if host == "localhost" || host == "10.0.0.1" || host.is_empty() {
            return Err(format!("{host} is not a public address"));
        }
        Ok(url.to_owned())
    }

    async fn send(&self, hook: &crate::ports::OutgoingWebhook<'_>) -> Result<u16, String> {
        let mut state = self.state.lock().unwrap();
        state.sent.push(SentWebhook {
            url: hook.url.to_owned(),
            id: hook.id.clone(),
            timestamp: hook.timestamp,
            key: hook.key.to_vec(),
            event: hook.event.clone(),
        });
        if state.down.contains(hook.url) {
            return Err("no answer in time".into());
        }
        state.answers.pop_front().unwrap_or(Ok(200))
    }
}
