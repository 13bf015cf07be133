//! Delivering the outbox (N1, N4, N5): claim due notifications, compose each message, hand it to
//! the mail port, and settle it. Temporary failures come back with growing back-off; permanent
//! ones, and notifications whose share may no longer mail (N1 at send time), go dead.

use std::fmt::Write as _;

use time::Duration;

use super::Portico;
use crate::model::{LinkReason, Notification, NotificationKind, Org, Record};
use crate::policy::notify;
use crate::ports::{Composer, MailContext, MailError, Mailer, Outbox, OutgoingEmail, StoreError};

/// How a dispatcher behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DispatchConfig {
    /// Notifications claimed per round.
    pub batch: u32,
    /// How long a claim is held before another dispatcher may take it (a crash's work returns).
    pub lease: Duration,
    /// The first retry's delay; each further one doubles, up to `max_backoff`.
    pub first_backoff: Duration,
    /// The longest delay between retries.
    pub max_backoff: Duration,
    /// A notification still failing this long after it was created goes dead.
    pub give_up_after: Duration,
}

impl Default for DispatchConfig {
    fn default() -> Self {
        Self {
            batch: 50,
            lease: Duration::minutes(5),
            first_backoff: Duration::seconds(30),
            max_backoff: Duration::hours(1),
            give_up_after: Duration::days(3),
        }
    }
}

/// A notification's delivery state, to filter by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryState {
    /// Waiting (or retrying).
    Pending,
    /// Handed over.
    Sent,
    /// Given up on.
    Dead,
}

impl DeliveryState {
    fn holds(self, delivery: &crate::model::Delivery) -> bool {
        use crate::model::Delivery;
        matches!(
            (self, delivery),
            (Self::Pending, Delivery::Pending)
                | (Self::Sent, Delivery::Sent { .. })
                | (Self::Dead, Delivery::Dead { .. })
        )
    }
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DispatchReport {
    /// Handed to the mail port.
    pub sent: u32,
    /// Put back for a later attempt.
    pub retried: u32,
    /// Given up on.
    pub dead: u32,
}

/// Why a claimed notification is not sent.
enum Skip {
    Dead(String),
}

impl Portico {
    /// The org's notifications, newest first, at most `limit`, optionally only those in one
    /// delivery state: for staff to see what left and what failed (dead ones with the reason).
    /// `None` when the service was built without [`Portico::with_outbox`].
    pub async fn notifications(
        &self,
        org: &crate::model::OrgId,
        state: Option<DeliveryState>,
        limit: usize,
    ) -> Result<Option<Vec<Notification>>, StoreError> {
        let Some(outbox) = &self.outbox else {
            return Ok(None);
        };
        let mut all = outbox.notifications_of_org(org).await?;
        all.reverse();
        Ok(Some(
            all.into_iter()
                .filter(|n| state.is_none_or(|s| s.holds(&n.delivery)))
                .take(limit)
                .collect(),
        ))
    }

    /// One round of delivery: claims up to `config.batch` due notifications and settles each.
    pub async fn dispatch_once(
        &self,
        outbox: &dyn Outbox,
        mailer: &dyn Mailer,
        config: &DispatchConfig,
    ) -> Result<DispatchReport, StoreError> {
        let now = self.now();
        let claimed = outbox.claim_due(now, config.batch, config.lease).await?;
        let mut report = DispatchReport::default();
        for notification in claimed {
            let email = match self.compose(&notification).await? {
                Ok(email) => email,
                Err(Skip::Dead(reason)) => {
                    outbox.mark_dead(notification.id, now, &reason).await?;
                    report.dead += 1;
                    continue;
                }
            };
            match mailer.send(&email).await {
                Ok(()) => {
                    outbox.mark_sent(notification.id, self.now()).await?;
                    report.sent += 1;
                }
                Err(MailError::Permanent(reason)) => {
                    outbox.mark_dead(notification.id, now, &reason).await?;
                    report.dead += 1;
                }
                Err(MailError::Temporary(reason)) => {
                    if now - notification.created_at >= config.give_up_after {
                        outbox
                            .mark_dead(notification.id, now, &format!("gave up: {reason}"))
                            .await?;
                        report.dead += 1;
                    } else {
                        let next = now + self.jittered(backoff(config, notification.attempts));
                        outbox.retry_at(notification.id, next).await?;
                        report.retried += 1;
                    }
                }
            }
        }
        Ok(report)
    }

    /// `delay` plus up to a quarter more, at random, so retries after an outage do not all
    /// arrive at once.
    fn jittered(&self, delay: Duration) -> Duration {
        let mut byte = [0u8; 1];
        self.ports.random.fill(&mut byte);
        delay + delay * i32::from(byte[0]) / (4 * 255)
    }

    /// The message of `n`, or why it must not go out.
    async fn compose(&self, n: &Notification) -> Result<Result<OutgoingEmail, Skip>, StoreError> {
        let mut tx = self.ports.store.begin_read().await?;
        let Some(org) = tx.org(&n.org_id).await? else {
            return Ok(Err(Skip::Dead("the org is gone".into())));
        };
        let share = match n.share_id {
            Some(id) => tx.share(id).await?.map(|s| s.value),
            None => None,
        };
        let record = tx.record(&n.org_id, &n.record).await?.map(|r| r.value);
        drop(tx);
        let to_client = !n.kind.to_business();
        if to_client
            && !share
                .as_ref()
                .is_some_and(|s| notify::may_mail(s, &org, self.now()))
        {
            return Ok(Err(Skip::Dead("the share may no longer mail (N1)".into())));
        }
        let title = record.as_ref().map_or("", Record::title).to_owned();
        let link = share
            .as_ref()
            .filter(|s| s.is_active())
            .and_then(|s| self.link(s).ok());
        let context = MailContext {
            org: &org,
            title: &title,
            link: link.as_deref(),
        };
        Ok(Ok(match &self.composer {
            Some(composer) => composer.compose(n, &context),
            None => PlainComposer.compose(n, &context),
        }))
    }
}

/// The delay before the next attempt after `attempts` tries: doubling, capped (before a jitter
/// of up to a quarter more).
pub fn retry_delay(config: &DispatchConfig, attempts: u32) -> Duration {
    backoff(config, attempts)
}

fn backoff(config: &DispatchConfig, attempts: u32) -> Duration {
    let factor = 1_i32 << attempts.saturating_sub(1).min(20);
    (config.first_backoff * factor).min(config.max_backoff)
}

/// Escapes text for HTML.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

/// A short message for `n`: a subject, lines of text, the link. Only what the client view
/// would show goes into a client's message (N3): the notification carries nothing else.
/// Plain messages, for embedders that bring no templates: a subject, a few lines, the link.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlainComposer;

impl Composer for PlainComposer {
    fn compose(&self, n: &Notification, context: &MailContext<'_>) -> OutgoingEmail {
        message(n, context.org, context.title, context.link)
    }
}

/// The stable Message-ID of a notification's email (N5): a resend is the same message.
pub fn message_id(n: &Notification) -> String {
    format!("{}@portico", n.id.0)
}

fn message(n: &Notification, org: &Org, title: &str, link: Option<&str>) -> OutgoingEmail {
    let (subject, lines): (String, Vec<String>) = match &n.kind {
        NotificationKind::LinkShared { reason } => (
            format!("{}: {title}", org.name),
            vec![match reason {
                LinkReason::Enabled | LinkReason::NewRecipient => {
                    format!("{} shared \u{201c}{title}\u{201d} with you.", org.name)
                }
                LinkReason::Reshared => format!(
                    "{} shared \u{201c}{title}\u{201d} with you again, with a new link.",
                    org.name
                ),
            }],
        ),
        NotificationKind::StatusChanged { to, .. } => (
            format!("{title}: {}", to.replace('_', " ")),
            vec![format!(
                "The status of \u{201c}{title}\u{201d} is now: {}.",
                to.replace('_', " ")
            )],
        ),
        NotificationKind::TasksCompleted { tasks } => (
            format!("{title}: progress"),
            std::iter::once("Completed:".to_owned())
                .chain(tasks.iter().map(|t| format!("- {t}")))
                .collect(),
        ),
        NotificationKind::UpdatesShared { updates } => (
            format!("{title}: an update from {}", org.name),
            updates.clone(),
        ),
        NotificationKind::QuoteDecided { decision, message } => (
            format!("Quote decision: {title}"),
            std::iter::once(format!(
                "The client {} \u{201c}{title}\u{201d}.",
                decision.as_str().replace('_', " ")
            ))
            .chain(message.iter().map(|m| format!("Their message: {m}")))
            .collect(),
        ),
        NotificationKind::HelpRequested {
            name,
            phone,
            message,
        } => (
            format!("Help requested on {title}"),
            vec![
                format!(
                    "{name} asked for help on \u{201c}{title}\u{201d}{}.",
                    phone
                        .as_ref()
                        .map(|p| format!(" (phone {p})"))
                        .unwrap_or_default()
                ),
                message.clone(),
            ],
        ),
    };
    let mut text = lines.join("\n\n");
    let mut html = String::new();
    for line in &lines {
        let _ = write!(html, "<p>{}</p>", escape(line).replace('\n', "<br>"));
    }
    if let Some(link) = link.filter(|_| !n.kind.to_business()) {
        let _ = write!(text, "\n\nOpen it here: {link}\n");
        let _ = write!(html, "<p><a href=\"{}\">Open it here</a></p>", escape(link));
    }
    OutgoingEmail {
        message_id: message_id(n),
        from_name: org.name.clone(),
        reply_to: org.contact.email.clone(),
        to: n.to.clone(),
        subject,
        text,
        html,
    }
}
