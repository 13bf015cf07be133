//! What the operations endpoints read: the database's readiness, the outbox depth, and the
//! Prometheus recorder.

use async_trait::async_trait;
use metrics_exporter_prometheus::PrometheusHandle;
use portico_core::ports::Outbox;
use portico_http::Operations;
use portico_store::SeaOrmStore;

/// The operations view of a running service.
pub struct Ops {
    pub store: SeaOrmStore,
    pub metrics: PrometheusHandle,
}

#[async_trait]
impl Operations for Ops {
    async fn ready(&self) -> Result<(), String> {
        self.store.ping().await.map_err(|e| e.to_string())
    }

    fn render_metrics(&self) -> String {
        self.metrics.render()
    }

    async fn refresh(&self) {
        match self.store.pending_count().await {
            // Reason: a gauge is a float; outbox depths stay far below 2^52.
            #[allow(clippy::cast_precision_loss)]
            Ok(depth) => metrics::gauge!("portico_outbox_pending").set(depth as f64),
            Err(e) => tracing::warn!(error = %e, "outbox depth unavailable"),
        }
    }
}
