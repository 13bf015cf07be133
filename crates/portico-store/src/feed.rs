//! Changes between servers on one PostgreSQL database, over `LISTEN`/`NOTIFY`.
//!
//! - A unit of work announces a change with `pg_notify` inside its transaction, so PostgreSQL
//!   delivers it exactly when the transaction commits, and never for one rolled back.
//! - Each server's [`ChangeFeed`] listens on a connection of its own and hands every change that
//!   another server made to the core's relay (page caches drop, live pages re-read).
//! - A notification that arrives while the listening connection is down is lost, so the feed
//!   says so: the relay is *interrupted* until the feed listens again, then *resumed*, and
//!   listeners forget everything they kept in between.
//! - A connection can also die silently (a network partition sends no FIN). Each feed therefore
//!   sends itself a heartbeat through the database, on the listening connection; when its own
//!   heartbeat has not come back within three intervals, the feed calls the connection lost and
//!   starts over.
//! - A server about to serve a kept copy asks the feed whether it has caught up
//!   ([`portico_core::ports::CatchUp`]): the feed sends itself a marker on the listening
//!   connection and answers once it is back. PostgreSQL delivers notifications in commit order,
//!   so by then every change committed before the question has been heard. Questions asked
//!   while a marker is out share the next one.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use portico_core::model::{OrgId, RecordRef};
use portico_core::ports::{Change, Changes, StoreError};
use sea_orm::sqlx::postgres::{PgConnectOptions, PgListener, PgNotification, PgPoolOptions};
use sea_orm::sqlx::{self, PgPool};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;
use uuid::Uuid;

/// The `application_name` (`pg_stat_activity`) of a connection doing `what` for a store in
/// `schema`, cut to the 63 bytes PostgreSQL keeps.
pub(crate) fn application_name(what: &str, schema: &str) -> String {
    let mut name = format!("{what} {schema}");
    while name.len() > 63 {
        name.pop();
    }
    name
}

/// How long a reader waits for the feed's marker before reading from the store instead.
const MARKER_PATIENCE: Duration = Duration::from_secs(1);

/// The channel every Portico server on the database announces on.
pub(crate) const CHANNEL: &str = "portico_changes";

/// Who announces: a server on one schema of the database.
#[derive(Debug, Clone)]
pub(crate) struct Announcer {
    /// This process, so that its feed skips what it already told its listeners.
    pub(crate) instance: Uuid,
    /// The schema (search path) the store works in; servers in other schemas are not ours.
    pub(crate) schema: String,
}

/// What travels in a notification.
#[derive(Debug, Serialize, Deserialize)]
struct Notice {
    /// The schema of the announcing store.
    s: String,
    /// The announcing process.
    i: Uuid,
    /// The org changed; absent on a heartbeat.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    o: Option<OrgId>,
    /// The record changed, when only one was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    r: Option<RecordRef>,
    /// On a marker ([`Markers`]), its number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    m: Option<u64>,
}

impl Announcer {
    /// The payload announcing `change`. PostgreSQL refuses payloads of 8000 bytes; this one stays far below: host ids are at
    /// most `MAX_HOST_ID_LEN` (100) bytes and a schema name at most 63.
    pub(crate) fn payload(&self, change: &Change) -> Result<String, StoreError> {
        serde_json::to_string(&Notice {
            s: self.schema.clone(),
            i: self.instance,
            o: Some(change.org.clone()),
            r: change.record.clone(),
            m: None,
        })
        .map_err(|e| StoreError::Backend(e.into()))
    }

    /// A heartbeat (`marker` `None`) or marker `n`, which only this server acts on.
    fn to_self(&self, marker: Option<u64>) -> String {
        serde_json::to_string(&Notice {
            s: self.schema.clone(),
            i: self.instance,
            o: None,
            r: None,
            m: marker,
        })
        .unwrap_or_default()
    }
}

/// The markers a feed sends itself so that readers know it has caught up.
#[derive(Debug)]
pub struct Markers {
    /// The last marker sent, and the last one a reader needs.
    numbers: std::sync::Mutex<(u64, u64)>,
    wanted: tokio::sync::Notify,
    heard: tokio::sync::watch::Sender<u64>,
    /// How long a reader waits for its marker before reading from the store instead.
    patience: Duration,
}

impl Markers {
    fn new(patience: Duration) -> Self {
        Self {
            numbers: std::sync::Mutex::new((0, 0)),
            wanted: tokio::sync::Notify::new(),
            heard: tokio::sync::watch::channel(0).0,
            patience,
        }
    }

    fn numbers(&self) -> std::sync::MutexGuard<'_, (u64, u64)> {
        self.numbers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The number of the next marker to send, once a reader needs one; it counts as sent.
    async fn next(&self) -> u64 {
        loop {
            {
                let mut numbers = self.numbers();
                let (sent, wanted) = *numbers;
                if wanted > sent {
                    numbers.0 = sent + 1;
                    return sent + 1;
                }
            }
            self.wanted.notified().await;
        }
    }

    /// Marker `n` came back.
    fn heard(&self, n: u64) {
        self.heard.send_if_modified(|heard| {
            let newer = n > *heard;
            if newer {
                *heard = n;
            }
            newer
        });
    }
}

#[async_trait::async_trait]
impl portico_core::ports::CatchUp for Markers {
    async fn caught_up(&self) -> bool {
        // The first marker sent from now on: one already out may have left before the question.
        let ticket = {
            let mut numbers = self.numbers();
            numbers.1 = numbers.0 + 1;
            numbers.1
        };
        self.wanted.notify_one();
        let mut heard = self.heard.subscribe();
        matches!(
            tokio::time::timeout(self.patience, heard.wait_for(|n| *n >= ticket)).await,
            Ok(Ok(_))
        )
    }
}

/// How the feed watches its connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedSettings {
    /// How often the feed sends itself a heartbeat; missing three in a row ends the connection.
    pub heartbeat: Duration,
    /// How long the feed waits before connecting again after losing its connection.
    pub retry: Duration,
}

impl Default for FeedSettings {
    fn default() -> Self {
        Self {
            heartbeat: Duration::from_secs(2),
            retry: Duration::from_secs(1),
        }
    }
}

/// The changes other servers on the same PostgreSQL database commit, as this server hears them.
/// Get one from [`crate::SeaOrmStore::change_feed`] and [`ChangeFeed::run`] it beside the
/// server.
#[derive(Debug, Clone)]
pub struct ChangeFeed {
    announcer: Announcer,
    options: PgConnectOptions,
    settings: FeedSettings,
    markers: Arc<Markers>,
}

impl ChangeFeed {
    pub(crate) fn new(announcer: Announcer, pool: &PgPool) -> Self {
        // Named, so that an operator can tell the listening connection in `pg_stat_activity`.
        let options = (*pool.connect_options())
            .clone()
            .application_name(&Self::application_name(&announcer.schema));
        Self {
            announcer,
            options,
            settings: FeedSettings::default(),
            markers: Arc::new(Markers::new(MARKER_PATIENCE)),
        }
    }

    /// Whether this feed has heard every change committed before a question (see
    /// [`portico_core::ports::CatchUp`]); give it to `Portico::with_catch_up`.
    pub fn catch_up(&self) -> Arc<Markers> {
        Arc::clone(&self.markers)
    }

    /// The `application_name` of the listening connection of a store in `schema`.
    pub fn application_name(schema: &str) -> String {
        application_name("portico change feed", schema)
    }

    /// The feed, watching its connection with `settings`.
    #[must_use]
    pub fn with_settings(mut self, settings: FeedSettings) -> Self {
        self.settings = settings;
        self
    }

    /// Hands other servers' changes to `relay` until `stop` completes, connecting again
    /// whenever the connection is lost. `relay` is told [`Changes::resumed`] each time the feed
    /// listens and [`Changes::interrupted`] each time it stops hearing.
    pub async fn run(self, relay: Arc<dyn Changes>, stop: impl Future<Output = ()>) {
        tokio::pin!(stop);
        loop {
            tokio::select! {
                () = &mut stop => break,
                reason = self.listen(relay.as_ref()) => {
                    relay.interrupted();
                    metrics::gauge!("portico_change_feed_listening").set(0.0);
                    tracing::warn!(%reason, "the change feed stopped hearing other servers; page caches are off until it listens again");
                    metrics::counter!("portico_change_feed_interruptions_total").increment(1);
                }
            }
            tokio::select! {
                () = &mut stop => break,
                () = tokio::time::sleep(self.settings.retry) => {}
            }
        }
        relay.interrupted();
    }

    /// Listens until the connection is lost, and says why.
    async fn listen(&self, relay: &dyn Changes) -> String {
        // A pool of its own: the listening connection is never lent to a query, and is dropped
        // whole when it goes bad.
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(self.settings.heartbeat * 3)
            .connect_lazy_with(self.options.clone());
        let mut listener = match PgListener::connect_with(&pool).await {
            Ok(listener) => listener,
            Err(e) => return format!("cannot connect: {e}"),
        };
        listener.eager_reconnect(false);
        // Nothing on this connection may wait longer than the heartbeat allows: a connection
        // that died without a word would hold the feed otherwise.
        let patience = self.settings.heartbeat * 3;
        match tokio::time::timeout(patience, listener.listen(CHANNEL)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return format!("cannot listen: {e}"),
            Err(_) => return "LISTEN did not answer".to_owned(),
        }
        relay.resumed();
        metrics::gauge!("portico_change_feed_listening").set(1.0);
        tracing::info!("the change feed hears other servers");
        let mut beat = tokio::time::interval(self.settings.heartbeat);
        beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut heard = Instant::now();
        loop {
            tokio::select! {
                next = listener.try_recv() => match next {
                    Ok(Some(notification)) => {
                        if self.forward(&notification, relay) {
                            heard = Instant::now();
                        }
                    }
                    Ok(None) => return "the connection was lost".to_owned(),
                    Err(e) => return format!("the connection failed: {e}"),
                },
                _ = beat.tick() => {
                    if heard.elapsed() > patience {
                        return "its own heartbeats stopped coming back".to_owned();
                    }
                    // On the listening connection itself: never waits for the store's pool,
                    // and what arrives meanwhile is kept for the next `try_recv`.
                    if let Err(why) = self.to_self(&mut listener, None, patience).await {
                        return format!("the heartbeat {why}");
                    }
                }
                marker = self.markers.next() => {
                    if let Err(why) = self.to_self(&mut listener, Some(marker), patience).await {
                        return format!("a marker {why}");
                    }
                }
            }
        }
    }

    /// Sends this server a heartbeat or a marker on the listening connection itself: it never
    /// waits for the store's pool, and what arrives meanwhile is kept for the next `try_recv`.
    async fn to_self(
        &self,
        listener: &mut PgListener,
        marker: Option<u64>,
        patience: Duration,
    ) -> Result<(), String> {
        let send = sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(self.announcer.to_self(marker))
            .execute(listener);
        match tokio::time::timeout(patience, send).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(format!("could not be sent: {e}")),
            Err(_) => Err("was not answered".to_owned()),
        }
    }

    /// Hands a change of another server to `relay`; answers whether it was this server's own
    /// heartbeat or marker.
    fn forward(&self, notification: &PgNotification, relay: &dyn Changes) -> bool {
        let Ok(notice) = serde_json::from_str::<Notice>(notification.payload()) else {
            tracing::warn!(
                payload = notification.payload(),
                "a change notification could not be read; every page is treated as changed"
            );
            relay.interrupted();
            relay.resumed();
            return false;
        };
        if notice.s != self.announcer.schema {
            return false;
        }
        match notice.o {
            None if notice.i == self.announcer.instance => {
                if let Some(marker) = notice.m {
                    self.markers.heard(marker);
                }
                true
            }
            None => false,
            // This server told its own listeners when it committed.
            Some(_) if notice.i == self.announcer.instance => false,
            Some(org) => {
                relay.changed(&Change {
                    org,
                    record: notice.r,
                });
                false
            }
        }
    }
}
