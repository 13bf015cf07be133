//! The background dispatcher of `portico serve`: delivers the outbox through the mail port in
//! rounds, and counts what it did for `/metrics`.

use std::sync::Arc;
use std::time::Duration;

use portico_core::Portico;
use portico_core::ports::{Mailer, Outbox};
use portico_core::service::DispatchConfig;

/// How long the dispatcher rests after a round that found nothing to send.
const IDLE: Duration = Duration::from_secs(2);

/// The dispatcher's settings from the binary's.
pub fn config(settings: &crate::config::Settings) -> DispatchConfig {
    let span = |d: Duration| time::Duration::try_from(d).unwrap_or(time::Duration::MAX);
    DispatchConfig {
        first_backoff: span(settings.mail_retry),
        give_up_after: span(settings.mail_give_up),
        lease: span(settings.mail_lease),
        ..DispatchConfig::default()
    }
}

/// Runs rounds until the task is dropped. A round cut short is safe: its claims come back when
/// their lease runs out, and a resend carries the same Message-ID.
pub async fn run(
    portico: Portico,
    outbox: Arc<dyn Outbox>,
    mailer: Arc<dyn Mailer>,
    config: DispatchConfig,
) {
    loop {
        match portico
            .dispatch_once(outbox.as_ref(), mailer.as_ref(), &config)
            .await
        {
            Ok(report) => {
                metrics::counter!("portico_mail_sent_total").increment(report.sent.into());
                metrics::counter!("portico_mail_retried_total").increment(report.retried.into());
                metrics::counter!("portico_mail_dead_total").increment(report.dead.into());
                metrics::counter!("portico_mail_dropped_total").increment(report.dropped.into());
                let handled = report.sent + report.retried + report.dead + report.dropped;
                if handled > 0 {
                    tracing::info!(
                        sent = report.sent,
                        retried = report.retried,
                        dead = report.dead,
                        dropped = report.dropped,
                        "dispatched"
                    );
                }
                if let Some(reason) = &report.last_failure {
                    tracing::warn!(reason = %reason, "mail not delivered");
                }
                if report.unsettled > 0 {
                    tracing::error!(
                        unsettled = report.unsettled,
                        "could not record delivery outcomes; they come back after their lease"
                    );
                }
                if handled + report.unsettled < config.batch {
                    tokio::time::sleep(IDLE).await;
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "dispatch round failed");
                tokio::time::sleep(IDLE).await;
            }
        }
    }
}
