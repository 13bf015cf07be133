//! What the operations endpoints read: the database's readiness, the mail outbox's and the
//! webhook deliveries' depth, and the Prometheus recorder.

use async_trait::async_trait;
use metrics_exporter_prometheus::PrometheusHandle;
use portico_core::ports::{Clock, Outbox, WebhookOutbox};
use portico_http::{NotReady, Operations};
use portico_store::SeaOrmStore;

use crate::system::SystemClock;

/// The operations view of a running service.
pub struct Ops {
    pub store: SeaOrmStore,
    pub metrics: PrometheusHandle,
}

#[async_trait]
impl Operations for Ops {
    async fn ready(&self) -> Result<(), NotReady> {
        self.store.ping().await.map_err(|e| NotReady(Box::new(e)))
    }

    fn render_metrics(&self) -> String {
        self.metrics.render()
    }

    async fn refresh(&self) {
        let now = SystemClock.now();
        match self.store.stats(now).await {
            // Reason: gauges are floats; these counts stay far below 2^52.
            #[allow(clippy::cast_precision_loss)]
            Ok(stats) => {
                metrics::gauge!("portico_outbox_pending").set(stats.pending as f64);
                metrics::gauge!("portico_outbox_dead").set(stats.dead as f64);
                let waited = stats
                    .oldest_due
                    .map_or(0.0, |due| (now - due).as_seconds_f64().max(0.0));
                metrics::gauge!("portico_outbox_oldest_due_age_seconds").set(waited);
            }
            Err(e) => tracing::warn!(error = %e, "outbox figures unavailable"),
        }
        match self.store.webhook_counts().await {
            // Reason: gauges are floats; these counts stay far below 2^52.
            #[allow(clippy::cast_precision_loss)]
            Ok((pending, dead)) => {
                metrics::gauge!("portico_webhooks_pending").set(pending as f64);
                metrics::gauge!("portico_webhooks_dead").set(dead as f64);
            }
            Err(e) => tracing::warn!(error = %e, "webhook figures unavailable"),
        }
    }
}
