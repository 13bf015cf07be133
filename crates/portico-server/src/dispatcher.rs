//! The background dispatchers of `portico serve`: one delivers the mail outbox through the mail
//! port in rounds, the other the webhook deliveries through the webhook sender (I4); both count
//! what they did for `/metrics`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use portico_core::Portico;
use portico_core::ports::{Mailer, Outbox, WebhookOutbox, WebhookSender};
use portico_core::service::{DispatchConfig, WebhookConfig};

/// How long the dispatcher rests after a round that found nothing to send.
const IDLE: Duration = Duration::from_secs(2);

/// How often one failure reason is logged at most.
const SAME_REASON_EVERY: Duration = Duration::from_mins(5);

/// Logs each distinct delivery failure at WARN, the same reason at most once per
/// [`SAME_REASON_EVERY`] (with how often it recurred meanwhile), so a mail server that refuses
/// everything is plain in the log without flooding it.
#[derive(Debug, Default)]
pub struct FailureLog {
    seen: HashMap<String, (Instant, u64)>,
}

impl FailureLog {
    /// Notes `reasons` met at `now`; returns the lines to log, each with how many times it
    /// occurred since it was last logged.
    pub fn note(&mut self, reasons: &[String], now: Instant) -> Vec<(String, u64)> {
        self.seen
            .retain(|_, (at, _)| now.duration_since(*at) < SAME_REASON_EVERY * 2);
        let mut out = Vec::new();
        for reason in reasons {
            let room = self.seen.len() < 256;
            match self.seen.get_mut(reason) {
                Some((at, count)) if now.duration_since(*at) < SAME_REASON_EVERY => *count += 1,
                Some((at, count)) => {
                    out.push((reason.clone(), *count + 1));
                    *at = now;
                    *count = 0;
                }
                None if room => {
                    out.push((reason.clone(), 1));
                    self.seen.insert(reason.clone(), (now, 0));
                }
                None => {}
            }
        }
        out
    }
}

/// How long a stopping process waits for the dispatcher's round in progress (O4).
pub const DRAIN_GRACE: Duration = Duration::from_secs(30);

/// Whether a dispatcher goes on: it stops when told so, or when no one can tell it any more
/// (the sender gone).
fn going_on(stop: &tokio::sync::watch::Receiver<bool>) -> bool {
    !*stop.borrow() && stop.has_changed().is_ok()
}

/// Rests [`IDLE`] between rounds, or less when told to stop.
async fn rest(stop: &mut tokio::sync::watch::Receiver<bool>) {
    tokio::select! {
        () = tokio::time::sleep(IDLE) => {}
        _ = stop.changed() => {}
    }
}

/// Runs mail rounds until `stop` turns true, then returns once the round in progress is settled
/// (a send under way is finished, not cut). A round cut short anyway (the process killed) is
/// safe: its claims come back when their lease runs out, and a resend carries the same
/// Message-ID.
pub async fn run(
    portico: Portico,
    outbox: Arc<dyn Outbox>,
    mailer: Arc<dyn Mailer>,
    config: DispatchConfig,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut failures = FailureLog::default();
    while going_on(&stop) {
        let idle = match portico
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
                for (reason, times) in failures.note(&report.failures, Instant::now()) {
                    tracing::warn!(reason = %reason, times, "mail not delivered");
                }
                if report.unsettled > 0 {
                    tracing::error!(
                        unsettled = report.unsettled,
                        "could not record delivery outcomes; they come back after their lease"
                    );
                }
                handled + report.unsettled < config.batch
            }
            Err(e) => {
                tracing::error!(error = %e, "dispatch round failed");
                true
            }
        };
        if idle {
            rest(&mut stop).await;
        }
    }
}

/// Runs webhook rounds until `stop` turns true, like [`run`]: a round under way is finished; a
/// round cut short is safe, its claims come back after their lease under the same
/// `webhook-id`.
pub async fn run_webhooks(
    portico: Portico,
    outbox: Arc<dyn WebhookOutbox>,
    sender: Arc<dyn WebhookSender>,
    config: WebhookConfig,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let batch = usize::try_from(config.batch).unwrap_or(usize::MAX);
    while going_on(&stop) {
        let idle = match portico
            .deliver_webhooks_once(outbox.as_ref(), sender.as_ref(), &config)
            .await
        {
            Ok(report) => {
                let count = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
                metrics::counter!("portico_webhooks_delivered_total")
                    .increment(count(report.delivered));
                metrics::counter!("portico_webhooks_retried_total")
                    .increment(count(report.retried));
                metrics::counter!("portico_webhooks_dead_total").increment(count(report.dead));
                metrics::counter!("portico_webhook_endpoints_disabled_total")
                    .increment(count(report.disabled));
                if report.claimed > 0 {
                    tracing::info!(
                        delivered = report.delivered,
                        retried = report.retried,
                        dead = report.dead,
                        disabled = report.disabled,
                        "webhooks dispatched"
                    );
                }
                report.claimed < batch
            }
            Err(e) => {
                tracing::error!(error = %e, "webhook round failed");
                true
            }
        };
        if idle {
            rest(&mut stop).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn n5_each_failure_reason_is_logged_once_per_window_with_its_count() {
        let mut log = FailureLog::default();
        let t0 = Instant::now();
        let starttls = "temporary mail failure: the server offers no STARTTLS".to_owned();
        let refused = "permanent mail failure: 550 no such user".to_owned();
        assert_eq!(
            log.note(&[starttls.clone(), refused.clone()], t0),
            vec![(starttls.clone(), 1), (refused.clone(), 1)],
            "each distinct reason at once"
        );
        for s in 1..=10 {
            assert!(
                log.note(std::slice::from_ref(&starttls), t0 + Duration::from_secs(s))
                    .is_empty()
            );
        }
        assert_eq!(
            log.note(std::slice::from_ref(&starttls), t0 + SAME_REASON_EVERY),
            vec![(starttls, 11)],
            "again after the window, with how often it recurred"
        );
    }
}
