//! S11 without a write per request: openings are gathered in memory, per share the first and
//! the last time, and written in the background every `interval`. A crash loses at most one
//! interval of "last opened" times; the first opening of a share is written in the first flush.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use portico_core::Portico;
use portico_core::model::ShareId;
use time::OffsetDateTime;

/// Openings waiting to be written.
#[derive(Debug)]
pub(crate) struct Opens {
    portico: Portico,
    interval: Duration,
    pending: Mutex<HashMap<ShareId, (OffsetDateTime, OffsetDateTime)>>,
    flushing: AtomicBool,
}

impl Opens {
    pub(crate) fn new(portico: Portico, interval: Duration) -> Self {
        Self {
            portico,
            interval,
            pending: Mutex::new(HashMap::new()),
            flushing: AtomicBool::new(false),
        }
    }

    /// Notes that `share` was opened now; starts the background writer on first use.
    pub(crate) fn record(self: &Arc<Self>, share: ShareId) {
        let now = self.portico.now();
        {
            let mut pending = self
                .pending
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            pending
                .entry(share)
                .and_modify(|(_, last)| *last = now)
                .or_insert((now, now));
        }
        if !self.flushing.swap(true, Ordering::AcqRel) {
            let opens = Arc::clone(self);
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(opens.interval).await;
                    opens.flush().await;
                }
            });
        }
    }

    /// Writes what was gathered; what fails to write is kept for the next round.
    pub(crate) async fn flush(&self) {
        let batch: Vec<_> = std::mem::take(
            &mut *self
                .pending
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
        .into_iter()
        .collect();
        for (share, (first, last)) in batch {
            let mut written = self.portico.record_opened(share, first).await;
            if written.is_ok() && last != first {
                written = self.portico.record_opened(share, last).await;
            }
            if let Err(e) = written {
                tracing::warn!(error = %e, "recording an opening failed; kept for the next round");
                self.pending
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .entry(share)
                    .and_modify(|(f, l)| {
                        *f = (*f).min(first);
                        *l = (*l).max(last);
                    })
                    .or_insert((first, last));
            }
        }
    }
}
