//! V7: live status, with bounds. Committed changes reach the [`LiveHub`] (a core [`Changes`]
//! listener). Open work-order pages are grouped by link: one [`Watch`] per link, however many
//! pages hold it open, re-reads the link once when a change touches its record (or its whole
//! org) and hands the new status to every stream of the group; a change elsewhere wakes no one.
//! A link that stops opening — revoked, switched off, or expired by time, for which the group
//! sets its own timer — ends every stream with a `gone` event. Portal pages are grouped by
//! session and record and re-read under the session: one that is over (signed out, timed out,
//! login or portal off) ends its streams at the next change.
//!
//! Streams are capped per link and per client address; past a cap the page simply gets no
//! live updates (429 on the stream) and keeps working.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use futures_util::{Stream, StreamExt};
use poem::web::sse::{Event, SSE};
use portico_core::Portico;
use portico_core::model::{OrgId, RecordRef};
use portico_core::ports::{Change, Changes};
use portico_core::service::Opened;
use time::OffsetDateTime;
use tokio::sync::{Notify, watch};
use tokio_stream::wrappers::WatchStream;

/// What a group last learnt of its link.
#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Status(String),
    Gone,
}

/// The streams of one link, and the one re-read they share.
struct Watch {
    org: OrgId,
    record: RecordRef,
    /// Woken by every change of the record or its org.
    kick: Notify,
    state: watch::Sender<State>,
    streams: Mutex<usize>,
}

/// Why a stream was not opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    /// The link already has its share of streams.
    PerLink,
    /// The address already has its share of streams.
    PerAddress,
}

/// Stream limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StreamLimits {
    pub(crate) per_link: usize,
    pub(crate) per_address: usize,
}

/// The in-process fan-out of committed changes to the open pages' groups.
pub(crate) struct LiveHub {
    groups: Mutex<HashMap<String, Weak<Watch>>>,
    per_address: Mutex<HashMap<IpAddr, usize>>,
    limits: StreamLimits,
}

impl LiveHub {
    pub(crate) fn new(limits: StreamLimits) -> Self {
        Self {
            groups: Mutex::new(HashMap::new()),
            per_address: Mutex::new(HashMap::new()),
            limits,
        }
    }

    fn groups(&self) -> std::sync::MutexGuard<'_, HashMap<String, Weak<Watch>>> {
        self.groups
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Reports the open streams as the `portico_live_streams` gauge.
    fn count_streams(counts: &HashMap<IpAddr, usize>) {
        let open: usize = counts.values().sum();
        metrics::gauge!("portico_live_streams")
            .set(f64::from(u32::try_from(open).unwrap_or(u32::MAX)));
    }
}

impl LiveHub {
    /// Every group reads its link again.
    fn kick_all(&self) {
        for group in self.groups().values().filter_map(Weak::upgrade) {
            group.kick.notify_one();
        }
    }
}

impl Changes for LiveHub {
    fn changed(&self, change: &Change) {
        let groups = self.groups();
        for group in groups.values().filter_map(Weak::upgrade) {
            let touched = group.org == change.org
                && change.record.as_ref().is_none_or(|r| *r == group.record);
            if touched {
                group.kick.notify_one();
            }
        }
    }

    // A change may go unheard from here on: read every link now, so the page shows what is
    // stored when the feed went down.
    fn interrupted(&self) {
        self.kick_all();
    }

    // What changed while the feed was down is unknown: read every link again.
    fn resumed(&self) {
        self.kick_all();
    }
}

/// Where a stream's page came from, and how its group re-reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    /// A share page, behind its token.
    Link(String),
    /// A portal page: a signed-in client's record (the session ending ends the stream).
    Portal {
        /// The session id from the cookie.
        session: String,
    },
}

impl Source {
    /// The key of the group of pages that share one re-read.
    fn key(&self, record: &RecordRef) -> String {
        match self {
            Source::Link(token) => token.clone(),
            Source::Portal { session } => format!("portal {session} {record}"),
        }
    }

    /// What the page shows now: its status, or `None` when it no longer opens.
    async fn read(
        &self,
        portico: &Portico,
        org: &OrgId,
        record: &RecordRef,
    ) -> Result<Option<String>, Box<dyn std::error::Error + Send + Sync>> {
        match self {
            Source::Link(token) => match portico.view_link(token).await? {
                Opened::View { view, .. } => Ok(Some(view.status)),
                _ => Ok(None),
            },
            Source::Portal { session } => match portico.portal_record(org, session, record).await {
                Ok(view) => Ok(view.map(|v| v.status)),
                Err(
                    portico_core::service::PortalError::NotSignedIn
                    | portico_core::service::PortalError::NotFound,
                ) => Ok(None),
                Err(e) => Err(Box::new(e)),
            },
        }
    }
}

/// What the events route knows of the page it streams.
pub(crate) struct Opening {
    pub(crate) source: Source,
    pub(crate) org: OrgId,
    pub(crate) record: RecordRef,
    pub(crate) status: String,
    pub(crate) expires_at: Option<OffsetDateTime>,
    pub(crate) address: IpAddr,
}

/// Holds one stream's places in the caps; gives them back when the stream ends.
struct Seat {
    hub: Arc<LiveHub>,
    group: Arc<Watch>,
    address: IpAddr,
}

impl Drop for Seat {
    fn drop(&mut self) {
        *self
            .group
            .streams
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) -= 1;
        let mut counts = self
            .hub
            .per_address
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = counts.get_mut(&self.address) {
            *n -= 1;
            if *n == 0 {
                counts.remove(&self.address);
            }
        }
        LiveHub::count_streams(&counts);
    }
}

/// The event stream of the page `opening.source` names, which currently shows
/// `opening.status`; ends when the link stops opening or `draining` starts.
pub(crate) fn stream(
    portico: &Portico,
    hub: &Arc<LiveHub>,
    opening: Opening,
    draining: Option<crate::listener::Draining>,
) -> Result<SSE, Refused> {
    let address = crate::listener::address_key(opening.address);
    let group = group_of(portico, hub, &opening);
    {
        let mut streams = group
            .streams
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if *streams >= hub.limits.per_link {
            return Err(Refused::PerLink);
        }
        let mut counts = hub
            .per_address
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let here = counts.entry(address).or_insert(0);
        if *here >= hub.limits.per_address {
            return Err(Refused::PerAddress);
        }
        *here += 1;
        *streams += 1;
        LiveHub::count_streams(&counts);
    }
    let seat = Seat {
        hub: hub.clone(),
        group: group.clone(),
        address,
    };
    let events = events(&group, seat, opening.status);
    Ok(match draining {
        // The stream ends when the server starts shutting down; the page's script reconnects
        // to whichever server answers next.
        Some(draining) => SSE::new(events.take_until(draining.started()).boxed()),
        None => SSE::new(events.boxed()),
    }
    .keep_alive(Duration::from_secs(20)))
}

/// The link's group, started if no page of it is open yet.
fn group_of(portico: &Portico, hub: &Arc<LiveHub>, opening: &Opening) -> Arc<Watch> {
    let key = opening.source.key(&opening.record);
    let mut groups = hub.groups();
    if let Some(group) = groups.get(&key).and_then(Weak::upgrade) {
        return group;
    }
    groups.retain(|_, g| g.strong_count() > 0);
    let group = Arc::new(Watch {
        org: opening.org.clone(),
        record: opening.record.clone(),
        kick: Notify::new(),
        state: watch::channel(State::Status(opening.status.clone())).0,
        streams: Mutex::new(0),
    });
    groups.insert(key, Arc::downgrade(&group));
    tokio::spawn(follow(
        portico.clone(),
        Arc::downgrade(&group),
        opening.source.clone(),
        opening.expires_at,
    ));
    group
}

/// The group's one reader: re-reads the link when kicked, or when it expires by time, and
/// publishes what it finds. Ends when the last page of the link closes or the link is gone.
async fn follow(
    portico: Portico,
    group: Weak<Watch>,
    source: Source,
    expires_at: Option<OffsetDateTime>,
) {
    loop {
        let Some(watch) = group.upgrade() else {
            return;
        };
        let until_expiry = expires_at.map(|at| {
            let left = at - portico.now();
            Duration::try_from(left).unwrap_or(Duration::ZERO) + Duration::from_millis(10)
        });
        // Also wake now and then to notice the last page closing.
        let wait = until_expiry
            .unwrap_or(Duration::from_mins(1))
            .min(Duration::from_mins(1));
        let kicked = tokio::time::timeout(wait, watch.kick.notified())
            .await
            .is_ok();
        if watch.state.receiver_count() == 0 {
            return;
        }
        let expired = expires_at.is_some_and(|at| portico.now() >= at);
        if !kicked && !expired {
            continue;
        }
        let next = match source.read(&portico, &watch.org, &watch.record).await {
            Ok(Some(status)) => State::Status(status),
            Ok(None) => State::Gone,
            // A failed read is not a verdict on the link; try again at the next change.
            Err(e) => {
                tracing::warn!(error = %e, "live status re-read failed");
                continue;
            }
        };
        let gone = next == State::Gone;
        watch.state.send_if_modified(|current| {
            if *current == next {
                false
            } else {
                *current = next;
                true
            }
        });
        if gone {
            return;
        }
    }
}

fn events(
    group: &Arc<Watch>,
    seat: Seat,
    shown: String,
) -> impl Stream<Item = Event> + Send + 'static {
    // The group's state now, then every change; only what differs from what the page shows is
    // sent (the page may have been rendered before the group last moved).
    let updates = WatchStream::new(group.state.subscribe());
    let start = (updates, seat, State::Status(shown));
    futures_util::stream::unfold(start, |(mut updates, seat, mut shown)| async move {
        loop {
            if shown == State::Gone {
                return None;
            }
            let next = updates.next().await?;
            if next == shown {
                continue;
            }
            shown = next.clone();
            let event = match next {
                State::Status(status) => {
                    let data = serde_json::json!({
                        "status": status,
                        "label": portico_core::view::status_words(&status),
                    });
                    Event::message(data.to_string()).event_type("status")
                }
                State::Gone => Event::message("{}").event_type("gone"),
            };
            return Some((event, (updates, seat, shown)));
        }
    })
}
