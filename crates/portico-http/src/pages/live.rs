//! V7: live status. Committed changes reach a broadcast channel ([`LiveHub`], a core
//! [`Changes`] listener); each open work-order page holds a server-sent-events stream that
//! re-reads its view when a change touches its record and sends the new status, or `gone` when
//! the link stopped opening (revoked, expired, switched off).

use std::time::Duration;

use futures_util::{Stream, StreamExt};
use poem::web::sse::{Event, SSE};
use portico_core::Portico;
use portico_core::model::OrgId;
use portico_core::ports::{Change, Changes};
use portico_core::service::Opened;
use tokio::sync::broadcast;
use tokio_stream::wrappers::BroadcastStream;

/// Changes waiting for slow listeners; a listener that falls further behind re-reads anyway.
const BACKLOG: usize = 1024;

/// The in-process fan-out of committed changes.
pub(crate) struct LiveHub(broadcast::Sender<Change>);

impl LiveHub {
    pub(crate) fn new() -> Self {
        Self(broadcast::channel(BACKLOG).0)
    }

    pub(crate) fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.0.subscribe()
    }
}

impl Changes for LiveHub {
    fn changed(&self, change: &Change) {
        // No listener is not an error: nobody has a page open.
        let _ = self.0.send(change.clone());
    }
}

/// What one stream remembers between changes.
struct Watch {
    portico: Portico,
    token: String,
    org: OrgId,
    status: String,
    changes: BroadcastStream<Change>,
    done: bool,
}

/// The event stream of the page behind `token`, which currently shows `status`.
pub(crate) fn stream(
    portico: Portico,
    hub: &LiveHub,
    token: String,
    org: OrgId,
    status: String,
    draining: Option<crate::listener::Draining>,
) -> SSE {
    let watch = Watch {
        portico,
        token,
        org,
        status,
        changes: BroadcastStream::new(hub.subscribe()),
        done: false,
    };
    let events = events(watch);
    match draining {
        // The stream ends when the server starts shutting down; the page's script reconnects
        // to whichever server answers next.
        Some(draining) => SSE::new(events.take_until(draining.started()).boxed()),
        None => SSE::new(events.boxed()),
    }
    .keep_alive(Duration::from_secs(20))
}

fn events(watch: Watch) -> impl Stream<Item = Event> + Send + 'static {
    futures_util::stream::unfold(watch, |mut w| async move {
        if w.done {
            return None;
        }
        loop {
            let relevant = match w.changes.next().await? {
                Ok(change) => change.org == w.org,
                // Missed some: re-read to be sure.
                Err(_) => true,
            };
            if !relevant {
                continue;
            }
            match w.portico.view_link(&w.token).await {
                Ok(Opened::View { view, .. }) => {
                    if view.status != w.status {
                        w.status.clone_from(&view.status);
                        let data = serde_json::json!({
                            "status": view.status,
                            "label": portico_core::view::status_words(&view.status),
                        });
                        return Some((Event::message(data.to_string()).event_type("status"), w));
                    }
                }
                Ok(_) => {
                    w.done = true;
                    return Some((Event::message("{}").event_type("gone"), w));
                }
                // A failed read is not a verdict on the link; try again at the next change.
                Err(e) => tracing::warn!(error = %e, "live status re-read failed"),
            }
        }
    })
}
