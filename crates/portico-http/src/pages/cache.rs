//! Rendered pages kept in memory, so a popular link costs a hash look-up, not a database trip.
//!
//! Correctness comes before speed (S5, S7, S8): every committed change that a page could show
//! reaches [`PageCache::changed`] (a core `Changes` listener) and drops the org's pages before
//! the change's use case returns, so a revoke stops the link on the very next request; an entry
//! never outlives its share's expiry; and a global generation stops a render that raced a change
//! from being stored. Entries also age out after a minute, bounding anything that depends on the
//! date (a quote's last day).
//!
//! With several servers on one PostgreSQL database, other servers' changes arrive through the
//! store's change feed and drop pages the same way. While the feed cannot hear (not yet
//! listening, or its connection lost) a change could go unheard, so the cache is off: it serves
//! and keeps nothing until the feed listens again, and then starts empty.

use std::collections::HashMap;
use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
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
    /// Whether every committed change reaches [`PageCache::changed`]; when not, the cache is off.
    hearing: AtomicBool,
}

impl PageCache {
    pub(crate) fn new() -> Self {
        Self {
            entries: RwLock::new(HashMap::new()),
            generation: AtomicU64::new(0),
            hearing: AtomicBool::new(true),
        }
    }

    /// The generation to hand back to [`PageCache::store`] for a render about to start.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The page of `token`, if fresh and its share not expired at `now`.
    pub(crate) fn get(&self, token: &str, now: OffsetDateTime) -> Option<std::sync::Arc<Cached>> {
        if !self.hearing.load(Ordering::Acquire) {
            return None;
        }
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
        if self.generation.load(Ordering::Acquire) != generation
            || !self.hearing.load(Ordering::Acquire)
        {
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

impl PageCache {
    /// Forgets every page, and stops any render under way from being kept.
    fn forget_all(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.entries
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
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

    fn interrupted(&self) {
        self.hearing.store(false, Ordering::Release);
        self.forget_all();
    }

    fn resumed(&self) {
        // Forgotten first: nothing kept before, nor rendered from a read before, survives.
        self.forget_all();
        self.hearing.store(true, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keep(cache: &PageCache, generation: u64, token: &str) {
        cache.store(
            generation,
            token.to_owned(),
            OrgId::new("org1").unwrap(),
            ShareId(uuid::Uuid::nil()),
            None,
            "page".to_owned(),
        );
    }

    fn now() -> OffsetDateTime {
        time::macros::datetime!(2026-12-01 09:00 UTC)
    }

    #[test]
    fn s5_while_the_feed_cannot_hear_nothing_is_served_or_kept_and_it_resumes_empty() {
        let cache = PageCache::new();
        keep(&cache, cache.generation(), "a");
        assert!(cache.get("a", now()).is_some());

        cache.interrupted();
        assert!(cache.get("a", now()).is_none(), "kept pages are forgotten");
        keep(&cache, cache.generation(), "b");
        assert!(cache.get("b", now()).is_none(), "nothing is kept meanwhile");

        // A render that started before the feed listened again is not kept after it.
        let before = cache.generation();
        cache.resumed();
        keep(&cache, before, "c");
        assert!(cache.get("c", now()).is_none());
        assert!(cache.get("a", now()).is_none());
        keep(&cache, cache.generation(), "d");
        assert!(cache.get("d", now()).is_some(), "the cache is on again");
    }
}
