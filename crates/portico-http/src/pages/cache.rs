//! Rendered pages kept in memory, so a popular link costs a hash look-up, not a database trip.
//!
//! Correctness comes before speed (S5, S7, S8): every committed change that a page could show
//! reaches [`PageCache::changed`] (a core `Changes` listener) and drops the org's pages before
//! the change's use case returns, so a revoke stops the link on the very next request; an entry
//! never outlives its share's expiry; and a global generation stops a render that raced a change
//! from being stored. Entries also age out after a minute, bounding anything that depends on the
//! date (a quote's last day). The cache is per process: with several servers on one database it
//! must be off (another server's revoke would not reach it).

use std::collections::HashMap;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use portico_core::model::{OrgId, ShareId};
use portico_core::ports::{Change, Changes};
use time::OffsetDateTime;

/// How long an entry is served at most.
const TTL: Duration = Duration::from_mins(1);
/// Entries kept at most; past it the cache starts over.
const MAX_ENTRIES: usize = 20_000;

/// One rendered page.
pub(crate) struct Cached {
    pub(crate) org: OrgId,
    pub(crate) share: ShareId,
    pub(crate) expires_at: Option<OffsetDateTime>,
    pub(crate) body: bytes::Bytes,
    stored: Instant,
}

/// The cache of rendered pages by token.
pub(crate) struct PageCache {
    entries: RwLock<HashMap<String, std::sync::Arc<Cached>>>,
    generation: AtomicU64,
}

impl PageCache {
    pub(crate) fn new() -> Self {
        Self {
            entries: RwLock::new(HashMap::new()),
            generation: AtomicU64::new(0),
        }
    }

    /// The generation to hand back to [`PageCache::store`] for a render about to start.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The page of `token`, if fresh and its share not expired at `now`.
    pub(crate) fn get(&self, token: &str, now: OffsetDateTime) -> Option<std::sync::Arc<Cached>> {
        let entries = self
            .entries
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let hit = entries.get(token)?;
        let fresh = hit.stored.elapsed() < TTL && hit.expires_at.is_none_or(|at| now < at);
        fresh.then(|| std::sync::Arc::clone(hit))
    }

    /// Keeps a page rendered from data read at `generation`, unless something changed since.
    pub(crate) fn store(
        &self,
        generation: u64,
        token: String,
        org: OrgId,
        share: ShareId,
        expires_at: Option<OffsetDateTime>,
        body: String,
    ) {
        let mut entries = self
            .entries
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Checked under the write lock: a change bumps the generation before it takes the lock.
        if self.generation.load(Ordering::Acquire) != generation {
            return;
        }
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(
            token,
            std::sync::Arc::new(Cached {
                org,
                share,
                expires_at,
                body: bytes::Bytes::from(body),
                stored: Instant::now(),
            }),
        );
    }
}

impl Changes for PageCache {
    fn changed(&self, change: &Change) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.entries
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .retain(|_, page| page.org != change.org);
    }
}
