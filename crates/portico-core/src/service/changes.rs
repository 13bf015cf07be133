//! How committed changes reach the listeners of every server on one database.
//!
//! Each use case that changes what a client page shows announces the change inside its unit of
//! work ([`UnitOfWork::announce`]) and, once committed, tells this process's listeners at once.
//! Other servers hear it through their feed: an adapter (on PostgreSQL, `LISTEN`) hands what it
//! hears to a [`ChangeRelay`], which forwards to the listeners attached to it, and reports when
//! the feed is down so that no listener keeps anything a missed change could have made stale.

use std::sync::{Arc, Mutex, PoisonError};

use crate::model::{OrgId, RecordRef};
use crate::ports::{CatchUp, Change, Changes, StoreError, UnitOfWork};

use super::Portico;

/// Forwards the changes another server made, as a feed hears them, to this server's listeners.
///
/// A relay starts interrupted: until the feed reports that it hears every change
/// ([`Changes::resumed`]), listeners attached to it are told that changes may go unheard.
pub struct ChangeRelay {
    state: Mutex<RelayState>,
}

struct RelayState {
    listeners: Vec<Arc<dyn Changes>>,
    hearing: bool,
}

impl ChangeRelay {
    /// A relay whose feed is not listening yet.
    pub fn new() -> Self {
        Self {
            state: Mutex::new(RelayState {
                listeners: Vec::new(),
                hearing: false,
            }),
        }
    }

    /// Whether the feed hears every change now.
    pub fn hearing(&self) -> bool {
        self.lock().hearing
    }

    /// Forwards to `listener` from now on, telling it first if changes may go unheard.
    pub fn attach(&self, listener: Arc<dyn Changes>) {
        let mut state = self.lock();
        if !state.hearing {
            listener.interrupted();
        }
        state.listeners.push(listener);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, RelayState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Default for ChangeRelay {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for ChangeRelay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.lock();
        f.debug_struct("ChangeRelay")
            .field("listeners", &state.listeners.len())
            .field("hearing", &state.hearing)
            .finish()
    }
}

impl Changes for ChangeRelay {
    fn changed(&self, change: &Change) {
        for listener in &self.lock().listeners {
            listener.changed(change);
        }
    }

    fn interrupted(&self) {
        let mut state = self.lock();
        state.hearing = false;
        for listener in &state.listeners {
            listener.interrupted();
        }
    }

    fn resumed(&self) {
        let mut state = self.lock();
        state.hearing = true;
        for listener in &state.listeners {
            listener.resumed();
        }
    }
}

impl Portico {
    /// The service, also hearing other servers' changes through `relay` (fed by the store's
    /// feed): every listener given to [`Portico::with_changes`] afterwards is attached to it.
    #[must_use]
    pub fn with_feed(mut self, relay: Arc<ChangeRelay>) -> Self {
        for listener in &self.changes {
            relay.attach(listener.clone());
        }
        self.feed = Some(relay);
        self
    }

    /// The service, asking `catch_up` before a kept copy is served ([`Portico::caught_up`]).
    #[must_use]
    pub fn with_catch_up(mut self, catch_up: Arc<dyn CatchUp>) -> Self {
        self.catch_up = Some(catch_up);
        self
    }

    /// Whether this server has heard every change committed before now, on any server: at once
    /// `true` for a server alone on its database; with a feed, once its marker is back
    /// ([`CatchUp`]). A caller that gets `false` must read from the store.
    pub async fn caught_up(&self) -> bool {
        match &self.catch_up {
            Some(catch_up) => catch_up.caught_up().await,
            None => true,
        }
    }

    /// Announces the change of `org` (or of its `record`) in `tx`, commits, then tells this
    /// process's listeners: every server hears of a change that committed, and none of one
    /// that did not.
    pub(crate) async fn commit_and_publish(
        &self,
        tx: Box<dyn UnitOfWork>,
        org: &OrgId,
        record: Option<&RecordRef>,
    ) -> Result<(), StoreError> {
        let change = Change {
            org: org.clone(),
            record: record.cloned(),
        };
        self.commit_and_publish_all(tx, &[change]).await
    }

    /// [`Portico::commit_and_publish`] for several changes in one unit.
    pub(crate) async fn commit_and_publish_all(
        &self,
        mut tx: Box<dyn UnitOfWork>,
        changes: &[Change],
    ) -> Result<(), StoreError> {
        for change in changes {
            tx.announce(change).await?;
        }
        tx.commit().await?;
        for change in changes {
            for listener in &self.changes {
                listener.changed(change);
            }
        }
        Ok(())
    }
}
