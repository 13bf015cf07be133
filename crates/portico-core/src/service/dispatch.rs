//! Delivering the outbox (N1, N4, N5): claim due notifications, compose each message, hand it to
//! the mail port, and settle it. Temporary failures come back with growing back-off; permanent
//! ones, and notifications whose share may no longer mail (N1 at send time), go dead.

use std::fmt::Write as _;

use time::{Duration, OffsetDateTime};

use super::Portico;
use crate::model::{
    LinkReason, Money, Notification, NotificationKind, Org, PaymentOutcome, Record,
};
use crate::policy::{notify, retry};
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

impl DispatchConfig {
    /// The retry rule of this configuration.
    pub fn backoff(&self) -> retry::Backoff {
        retry::Backoff {
            first: self.first_backoff,
            max: self.max_backoff,
            give_up_after: self.give_up_after,
        }
    }
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
    /// Not sent on purpose: it no longer held at send time.
    Dropped,
}

impl DeliveryState {
    fn holds(self, delivery: &crate::model::Delivery) -> bool {
        use crate::model::Delivery;
        matches!(
            (self, delivery),
            (Self::Pending, Delivery::Pending)
                | (Self::Sent, Delivery::Sent { .. })
                | (Self::Dead, Delivery::Dead { .. })
                | (Self::Dropped, Delivery::Dropped { .. })
        )
    }
}

/// What one round did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DispatchReport {
    /// Handed to the mail port.
    pub sent: u32,
    /// Put back for a later attempt.
    pub retried: u32,
    /// Given up on.
    pub dead: u32,
    /// Not sent because what they said no longer held (not a failure).
    pub dropped: u32,
    /// Whose outcome could not be written to the store; they come back when their lease ends.
    pub unsettled: u32,
    /// The distinct reasons of the round's retries and give-ups, in the order first met, for
    /// the operator's log.
    pub failures: Vec<String>,
}

impl DispatchReport {
    fn note_failure(&mut self, reason: &str) {
        if !self.failures.iter().any(|r| r == reason) {
            self.failures.push(reason.to_owned());
        }
    }
}

/// What becomes of one claimed notification.
enum Outcome {
    Sent,
    Retry { at: OffsetDateTime, reason: String },
    Dead(String),
    Dropped(String),
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

    /// One round of delivery: claims up to `config.batch` due notifications and settles each on
    /// its own (N5): one that cannot be composed (an unreadable record, say) backs off and goes
    /// dead like a failing send, and never holds up the others, of its org or any other.
    /// Only a failed claim is an error of the round.
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
            let outcome = self.deliver(&notification, mailer, config, now).await;
            let settled = match &outcome {
                Outcome::Sent => {
                    report.sent += 1;
                    outbox.mark_sent(notification.id, self.now()).await
                }
                Outcome::Retry { at, reason } => {
                    report.retried += 1;
                    report.note_failure(reason);
                    outbox.retry_at(notification.id, *at, reason).await
                }
                Outcome::Dead(reason) => {
                    report.dead += 1;
                    report.note_failure(reason);
                    outbox.mark_dead(notification.id, now, reason).await
                }
                Outcome::Dropped(reason) => {
                    report.dropped += 1;
                    outbox.mark_dropped(notification.id, now, reason).await
                }
            };
            if settled.is_err() {
                report.unsettled += 1;
            }
        }
        Ok(report)
    }

    async fn deliver(
        &self,
        notification: &Notification,
        mailer: &dyn Mailer,
        config: &DispatchConfig,
        now: OffsetDateTime,
    ) -> Outcome {
        let email = match self.compose(notification).await {
            Ok(Ok(email)) => email,
            Ok(Err(stale)) => return Outcome::Dropped(stale),
            Err(e) => {
                return self.failed(
                    notification,
                    config,
                    now,
                    &format!("could not compose: {e}"),
                );
            }
        };
        match mailer.send(&email).await {
            Ok(()) => Outcome::Sent,
            Err(MailError::Permanent(reason)) => Outcome::Dead(reason),
            Err(MailError::Temporary(reason)) => self.failed(notification, config, now, &reason),
        }
    }

    /// A temporary failure: back off, or give up once the notification is old enough (N5).
    fn failed(
        &self,
        notification: &Notification,
        config: &DispatchConfig,
        now: OffsetDateTime,
        reason: &str,
    ) -> Outcome {
        let mut random = [0u8; 1];
        self.ports.random.fill(&mut random);
        let (created, attempts) = (notification.created_at, notification.attempts);
        match retry::after_failure(&config.backoff(), created, attempts, now, random[0]) {
            retry::Next::GiveUp => Outcome::Dead(format!("gave up: {reason}")),
            retry::Next::RetryAt(at) => Outcome::Retry {
                at,
                reason: reason.to_owned(),
            },
        }
    }

    /// The message of `n` as it stands now (N1–N4 at send time): the share's current recipient
    /// and sections, the record's current state; or why it is not to be sent at all.
    async fn compose(&self, n: &Notification) -> Result<Result<OutgoingEmail, String>, StoreError> {
        if n.kind.portal_client().is_some() {
            return self.compose_portal(n).await;
        }
        let mut tx = self.ports.store.begin_read().await?;
        let Some(org) = tx.org(&n.org_id).await? else {
            return Ok(Err("the org is gone".into()));
        };
        let share = match n.share_id {
            Some(id) => tx.share(id).await?.map(|s| s.value),
            None => None,
        };
        let record = match &n.record {
            Some(reference) => tx.record(&n.org_id, reference).await?.map(|r| r.value),
            None => None,
        };
        drop(tx);
        let mut current = n.clone();
        if n.kind.to_business() {
            // The business's address as it is now; an org that removed it cannot be told.
            match &org.contact.email {
                Some(email) => current.to = email.clone(),
                None => return Ok(Err("the org has no contact email".into())),
            }
        } else if matches!(n.kind, NotificationKind::PaymentToClient { .. }) {
            // About money taken or not: it goes to the address it was queued for, whatever
            // became of the share since.
        } else {
            let Some(share) = share
                .as_ref()
                .filter(|s| notify::may_mail(s, &org, self.now()))
            else {
                return Ok(Err("the share may no longer mail (N1)".into()));
            };
            current.to = share.recipient.clone();
            current.kind = match notify::at_send_time(&n.kind, record.as_ref(), share.sections) {
                Ok(kind) => kind,
                Err(stale) => return Ok(Err(stale.to_string())),
            };
        }
        let title = record.as_ref().map_or("", Record::title).to_owned();
        let link = share
            .as_ref()
            .filter(|s| s.is_active())
            .and_then(|s| self.link(s).ok());
        let visit = share
            .as_ref()
            .zip(record.as_ref())
            .and_then(|(s, r)| notify::visit_named(&current.kind, s.sections, r));
        let context = MailContext {
            org: &org,
            title: &title,
            link: link.as_deref(),
            visit,
            code: None,
            portal: None,
        };
        Ok(Ok(self.write(&current, &context)))
    }

    /// A portal mail as it stands now (C2–C4): it goes only while the org's portal is on and the
    /// client's login is on, and a sign-in mail only while its grant still works; the link and
    /// code are derived from the grant here, so neither is ever stored.
    async fn compose_portal(
        &self,
        n: &Notification,
    ) -> Result<Result<OutgoingEmail, String>, StoreError> {
        let mut tx = self.ports.store.begin_read().await?;
        let Some(org) = tx.org(&n.org_id).await? else {
            return Ok(Err("the org is gone".into()));
        };
        let Some(client) = n.kind.portal_client().cloned() else {
            return Ok(Err("not a portal mail".into()));
        };
        let account = tx.portal_account(&org.id, &client).await?;
        let on_file = tx.client(&org.id, &client).await?.and_then(|c| c.email);
        let grant = match n.kind.grant() {
            Some(id) => match tx.grant(id).await? {
                Some(grant) => Some(grant),
                None => return Ok(Err("the sign-in link is gone".into())),
            },
            None => None,
        };
        drop(tx);
        if !org.settings.portal.enabled {
            return Ok(Err("the portal is switched off (C8)".into()));
        }
        if !account.is_some_and(|a| a.enabled) {
            return Ok(Err("the client's portal login is off (C2)".into()));
        }
        // A link goes only to the address on file: one the business has since replaced (a
        // lost or compromised mailbox, say) no longer receives sign-in links.
        if !on_file.is_some_and(|e| crate::policy::portal::email_matches(&e, n.to.as_str())) {
            return Ok(Err(
                "the client's email changed since the mail was queued".into()
            ));
        }
        let mut link = None;
        let mut code = None;
        if let Some(grant) = &grant {
            if crate::policy::portal::grant_state(grant, self.now())
                != crate::policy::portal::GrantState::Usable
            {
                return Ok(Err("the sign-in link was used, replaced or expired".into()));
            }
            let Ok(token) = self.keys.derive_sign_in(grant.key_id, &grant.nonce) else {
                return Ok(Err("the sign-in link's key is no longer configured".into()));
            };
            link = Some(self.ports.links.portal_grant(&org.id, &token));
            if grant.purpose != crate::model::GrantPurpose::Reset {
                code = self.keys.sign_in_code(grant.key_id, &grant.nonce).ok();
            }
        }
        let portal = self.ports.links.portal(&org.id);
        let context = MailContext {
            org: &org,
            title: &org.name,
            link: link.as_deref(),
            visit: None,
            code: code.as_deref(),
            portal: Some(&portal),
        };
        Ok(Ok(self.write(n, &context)))
    }

    fn write(&self, n: &Notification, context: &MailContext<'_>) -> OutgoingEmail {
        match &self.composer {
            Some(composer) => composer.compose(n, context),
            None => PlainComposer.compose(n, context),
        }
    }
}

/// The delay before the next attempt after `attempts` tries: doubling, capped (before a jitter
/// of up to a quarter more); see [`retry::delay`].
pub fn retry_delay(config: &DispatchConfig, attempts: u32) -> Duration {
    retry::delay(&config.backoff(), attempts)
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
        message(n, context)
    }
}

/// A plain portal mail: what it is, the link, the code, the portal's address.
fn portal_message(n: &Notification, context: &MailContext<'_>) -> OutgoingEmail {
    let org = &context.org.name;
    let (subject, first) = match &n.kind {
        NotificationKind::PortalInvite { .. } => (
            format!("{org} invited you to their client portal"),
            format!("{org} invited you to see your jobs, estimates and invoices online."),
        ),
        NotificationKind::PasswordReset { .. } => (
            format!("Reset your {org} portal password"),
            "Someone asked to reset your password. If it was not you, ignore this email.".into(),
        ),
        NotificationKind::PasswordChanged { .. } => (
            format!("Your {org} portal password was changed"),
            "Your portal password was just set or changed. If it was not you, reset it now or call us.".into(),
        ),
        NotificationKind::MessageFromStaff { author, body, .. } => (
            format!("New message from {org}"),
            format!("{author} of {org} wrote:\n\n{body}\n\nAnswer in your portal."),
        ),
        _ => (
            format!("Sign in to {org}"),
            "Use the link or the code below to sign in. Both work once, for 15 minutes.".into(),
        ),
    };
    let mut lines = vec![first];
    if let Some(link) = context.link {
        lines.push(format!("Open: {link}"));
    }
    if let Some(code) = context.code {
        lines.push(format!("Or enter this code: {code}"));
    }
    if let Some(portal) = context.portal {
        lines.push(format!("Your portal: {portal}"));
    }
    let text = lines.join("\n\n");
    let mut html = String::new();
    for line in &lines {
        let _ = write!(html, "<p>{}</p>", escape(line).replace('\n', "<br>"));
    }
    OutgoingEmail {
        message_id: message_id(n),
        from_name: org.clone(),
        reply_to: context.org.contact.email.clone(),
        to: n.to.clone(),
        subject,
        text,
        html,
    }
}

/// A client's portal message as the business reads it: subject and lines.
fn client_message(name: &str, body: &str, job: Option<&str>) -> (String, Vec<String>) {
    let subject = match job {
        Some(job) => format!("Message from {name} about {job}"),
        None => format!("Message from {name}"),
    };
    let lines = vec![
        format!("{name} wrote in the client portal:"),
        body.to_owned(),
    ];
    (subject, lines)
}

/// A service request as the business reads it: subject and lines.
fn service_request(
    name: &str,
    email: Option<&crate::model::Email>,
    phone: Option<&str>,
    address: Option<&str>,
    description: &str,
    dates: &[time::Date],
    photos: u32,
) -> (String, Vec<String>) {
    let mut lines = vec![format!("{name} asked for work through the client portal.")];
    let mut contact = Vec::new();
    if let Some(email) = email {
        contact.push(format!("Email: {email}"));
    }
    if let Some(phone) = phone {
        contact.push(format!("Phone: {phone}"));
    }
    if let Some(address) = address {
        contact.push(format!("Address: {address}"));
    }
    if !contact.is_empty() {
        lines.push(contact.join("\n"));
    }
    lines.push(description.to_owned());
    if !dates.is_empty() {
        let days: Vec<String> = dates.iter().map(ToString::to_string).collect();
        lines.push(format!("Days that suit them: {}", days.join(", ")));
    }
    if photos > 0 {
        lines.push(photos_line(photos));
    }
    (format!("Service request from {name}"), lines)
}

/// How the business learns of a request's photos (its app serves them).
pub fn photos_line(photos: u32) -> String {
    if photos == 1 {
        "1 photo attached: open the request in your app to see it.".to_owned()
    } else {
        format!("{photos} photos attached: open the request in your app to see them.")
    }
}

/// A client's request for help as the business reads it: subject and lines.
fn help_requested(
    title: &str,
    name: &str,
    phone: Option<&str>,
    message: &str,
) -> (String, Vec<String>) {
    (
        format!("Help requested on {title}"),
        vec![
            format!(
                "{name} asked for help on \u{201c}{title}\u{201d}{}.",
                phone.map(|p| format!(" (phone {p})")).unwrap_or_default()
            ),
            message.to_owned(),
        ],
    )
}

/// A signature as the business reads it: subject and lines.
fn contract_signed(name: &str, title: &str, version: u32, digest: &str) -> (String, Vec<String>) {
    (
        format!("Contract signed: {title}"),
        vec![
            format!(
                "{name} signed \u{201c}{title}\u{201d} (version {version}) in the client portal."
            ),
            format!("SHA-256 of the signed text: {digest}"),
        ],
    )
}

/// The stable Message-ID of a notification's email (N5): a resend is the same message.
fn payment_mail(org: &Org, kind: &NotificationKind) -> (String, Vec<String>) {
    match kind {
        NotificationKind::PaymentToBusiness {
            outcome,
            number,
            amount,
            client,
        } => payment_to_business(org, *outcome, number, amount, client),
        NotificationKind::PaymentToClient {
            outcome,
            number,
            amount,
        } => payment_to_client(org, *outcome, number, amount),
        _ => (String::new(), Vec::new()),
    }
}

fn payment_to_client(
    org: &Org,
    outcome: PaymentOutcome,
    number: &str,
    amount: &Money,
) -> (String, Vec<String>) {
    let paid = crate::locale::Presentation::of(org).money(amount);
    match outcome {
        PaymentOutcome::Received => (
            format!("Receipt: invoice {number}"),
            vec![
                format!(
                    "Thank you: {} received your payment of {paid} for invoice {number}.",
                    org.name
                ),
                "Keep this email as your receipt.".to_owned(),
            ],
        ),
        PaymentOutcome::Failed => (
            format!("Payment not completed: invoice {number}"),
            vec![
                format!(
                    "Your payment of {paid} for invoice {number} did not go through, and nothing was taken for it."
                ),
                "The invoice is due again: you can pay it from its page, or contact the business."
                    .to_owned(),
            ],
        ),
    }
}

fn payment_to_business(
    org: &Org,
    outcome: PaymentOutcome,
    number: &str,
    amount: &Money,
    client: &str,
) -> (String, Vec<String>) {
    let paid = crate::locale::Presentation::of(org).money(amount);
    match outcome {
        PaymentOutcome::Received => (
            format!("Payment received: invoice {number}"),
            vec![format!("{client} paid {paid} online for invoice {number}.")],
        ),
        PaymentOutcome::Failed => (
            format!("Payment failed: invoice {number}"),
            vec![format!(
                "{client}'s online payment of {paid} for invoice {number} failed; the invoice is due again."
            )],
        ),
    }
}

pub fn message_id(n: &Notification) -> String {
    format!("{}@portico", n.id.0)
}

fn message(n: &Notification, context: &MailContext<'_>) -> OutgoingEmail {
    let (org, title, link) = (context.org, context.title, context.link);
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
        NotificationKind::TasksCompleted { tasks, .. } => (
            format!("{title}: progress"),
            std::iter::once("Completed:".to_owned())
                .chain(tasks.iter().map(|t| format!("- {t}")))
                .collect(),
        ),
        NotificationKind::UpdatesShared { updates, .. } => (
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
        } => help_requested(title, name, phone.as_deref(), message),
        NotificationKind::MessageFromClient { name, body, job } => {
            client_message(name, body, job.as_deref())
        }
        NotificationKind::ServiceRequested {
            name,
            email,
            phone,
            address,
            description,
            preferred_dates,
            photos,
        } => service_request(
            name,
            email.as_ref(),
            phone.as_deref(),
            address.as_deref(),
            description,
            preferred_dates,
            *photos,
        ),
        NotificationKind::ContractSigned {
            name,
            title,
            version,
            digest,
        } => contract_signed(name, title, *version, digest),
        NotificationKind::PaymentToClient { .. } | NotificationKind::PaymentToBusiness { .. } => {
            payment_mail(context.org, &n.kind)
        }
        NotificationKind::PortalInvite { .. }
        | NotificationKind::PortalSignIn { .. }
        | NotificationKind::PasswordReset { .. }
        | NotificationKind::PasswordChanged { .. }
        | NotificationKind::MessageFromStaff { .. } => return portal_message(n, context),
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
