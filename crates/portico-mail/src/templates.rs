//! The emails' words: one text and one HTML template (askama, checked at compile time; the
//! HTML escapes everything), each kind of N2 a branch. A message says only what the
//! notification carries and the record's title and link (N3).

use askama::Template;
use portico_core::locale::Presentation;
use portico_core::model::{
    DecisionKind, LinkReason, Notification, NotificationKind, PaymentOutcome,
};
use portico_core::ports::{Composer, MailContext, OutgoingEmail};
use portico_core::service::message_id;
use portico_core::view::status_words;

/// What a message says, by kind.
pub(crate) enum Content {
    LinkShared {
        again: bool,
    },
    Status {
        label: String,
        /// The planned visit on the org's clock, when the share shows the schedule.
        visit: Option<String>,
    },
    Tasks {
        tasks: Vec<String>,
    },
    Updates {
        updates: Vec<String>,
    },
    Quote {
        verb: &'static str,
        message: Option<String>,
        /// When, on the org's clock.
        at: String,
    },
    Help {
        name: String,
        phone: Option<String>,
        message: String,
        /// When, on the org's clock.
        at: String,
    },
    /// C2–C4: the portal's invitation, sign-in link, password reset, or password notice.
    Portal {
        what: PortalMail,
        /// The one-time code beside a sign-in link.
        code: Option<String>,
        /// The org's portal sign-in page.
        portal: Option<String>,
        /// The address the client signs in with.
        email: String,
        /// The sign-in or reset link, placed before the code.
        link: Option<String>,
    },
    /// C7: to the client, the business answered in the portal.
    StaffMessage {
        author: String,
        body: String,
        /// The org's portal sign-in page.
        portal: Option<String>,
    },
    /// C7: to the business, a client wrote in the portal.
    ClientMessage {
        name: String,
        body: String,
        job: Option<String>,
        /// When, on the org's clock.
        at: String,
    },
    /// C7: to the business, a client's service request.
    Request {
        name: String,
        contact: Vec<String>,
        description: String,
        /// The days that suit them, in the org's locale.
        days: Vec<String>,
        /// How many photos came with it, in words.
        photos: Option<String>,
        /// When, on the org's clock.
        at: String,
    },
    /// C7: to the business, a client signed a contract.
    Signed {
        name: String,
        title: String,
        version: u32,
        digest: String,
        /// When, on the org's clock.
        at: String,
    },
    /// I5: an online payment arrived or failed; a receipt or notice to the client, a notice to
    /// the business.
    Payment {
        received: bool,
        to_business: bool,
        number: String,
        /// The amount in the org's locale.
        amount: String,
        /// The client's name (to the business).
        client: String,
        /// When, on the org's clock.
        at: String,
    },
}

/// Which portal mail.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum PortalMail {
    Invite,
    SignIn,
    Reset,
    Changed,
}

#[derive(Template)]
#[template(path = "message.txt")]
struct Text<'a> {
    org: &'a str,
    phone: Option<&'a str>,
    title: &'a str,
    link: Option<&'a str>,
    content: &'a Content,
}

#[derive(Template)]
#[template(path = "message.html")]
struct Html<'a> {
    subject: &'a str,
    org: &'a str,
    phone: Option<&'a str>,
    title: &'a str,
    link: Option<&'a str>,
    button: &'a str,
    content: &'a Content,
}

/// Emails from the templates.
#[derive(Debug, Clone, Copy, Default)]
pub struct TemplateComposer;

fn content(n: &Notification, ctx: &MailContext<'_>) -> Content {
    let show = Presentation::of(ctx.org);
    match &n.kind {
        NotificationKind::LinkShared { reason } => Content::LinkShared {
            again: *reason == LinkReason::Reshared,
        },
        NotificationKind::StatusChanged { to, .. } => Content::Status {
            label: status_words(to),
            visit: ctx.visit.map(|v| show.window(v.start, v.end)),
        },
        NotificationKind::TasksCompleted { tasks, .. } => Content::Tasks {
            tasks: tasks.clone(),
        },
        NotificationKind::UpdatesShared { updates, .. } => Content::Updates {
            updates: updates.clone(),
        },
        NotificationKind::QuoteDecided { decision, message } => Content::Quote {
            verb: match decision {
                DecisionKind::Approved => "approved",
                DecisionKind::ChangesRequested => "asked for changes to",
                DecisionKind::Declined => "declined",
            },
            message: message.clone(),
            at: show.date_time(n.created_at),
        },
        NotificationKind::HelpRequested {
            name,
            phone,
            message,
        } => Content::Help {
            name: name.clone(),
            phone: phone.clone(),
            message: message.clone(),
            at: show.date_time(n.created_at),
        },
        NotificationKind::MessageFromStaff { author, body, .. } => Content::StaffMessage {
            author: author.clone(),
            body: body.clone(),
            portal: ctx.portal.map(str::to_owned),
        },
        NotificationKind::MessageFromClient { name, body, job } => Content::ClientMessage {
            name: name.clone(),
            body: body.clone(),
            job: job.clone(),
            at: show.date_time(n.created_at),
        },
        NotificationKind::ServiceRequested {
            name,
            email,
            phone,
            address,
            description,
            preferred_dates,
            photos,
        } => Content::Request {
            name: name.clone(),
            contact: [
                email.as_ref().map(|e| format!("Email: {e}")),
                phone.as_ref().map(|p| format!("Phone: {p}")),
                address.as_ref().map(|a| format!("Address: {a}")),
            ]
            .into_iter()
            .flatten()
            .collect(),
            description: description.clone(),
            days: preferred_dates.iter().map(|d| show.date(*d)).collect(),
            photos: (*photos > 0).then(|| portico_core::service::photos_line(*photos)),
            at: show.date_time(n.created_at),
        },
        NotificationKind::ContractSigned {
            name,
            title,
            version,
            digest,
        } => Content::Signed {
            name: name.clone(),
            title: title.clone(),
            version: *version,
            digest: digest.clone(),
            at: show.date_time(n.created_at),
        },
        NotificationKind::PaymentToClient { .. } | NotificationKind::PaymentToBusiness { .. } => {
            payment(n, &show)
        }
        NotificationKind::PortalInvite { .. }
        | NotificationKind::PortalSignIn { .. }
        | NotificationKind::PasswordReset { .. }
        | NotificationKind::PasswordChanged { .. } => Content::Portal {
            what: match &n.kind {
                NotificationKind::PortalInvite { .. } => PortalMail::Invite,
                NotificationKind::PasswordReset { .. } => PortalMail::Reset,
                NotificationKind::PasswordChanged { .. } => PortalMail::Changed,
                _ => PortalMail::SignIn,
            },
            code: ctx.code.map(grouped),
            portal: ctx.portal.map(str::to_owned),
            email: n.to.to_string(),
            link: ctx.link.map(str::to_owned),
        },
    }
}

/// I5: the words of a payment's receipt or notice.
fn payment(n: &Notification, show: &Presentation) -> Content {
    let (outcome, number, amount, client) = match &n.kind {
        NotificationKind::PaymentToBusiness {
            outcome,
            number,
            amount,
            client,
        } => (*outcome, number, amount, Some(client)),
        NotificationKind::PaymentToClient {
            outcome,
            number,
            amount,
        } => (*outcome, number, amount, None),
        _ => return Content::LinkShared { again: false },
    };
    Content::Payment {
        received: outcome == PaymentOutcome::Received,
        to_business: client.is_some(),
        number: number.clone(),
        amount: show.money(amount),
        client: client.cloned().unwrap_or_default(),
        at: show.date_time(n.created_at),
    }
}

/// A code in two groups of digits, easier to read and type ("1234 5678").
fn grouped(code: &str) -> String {
    match code.split_at_checked(code.len() / 2) {
        Some((a, b)) if code.is_ascii() => format!("{a} {b}"),
        _ => code.to_owned(),
    }
}

fn subject(kind: &NotificationKind, org: &str, title: &str) -> String {
    match kind {
        NotificationKind::LinkShared { .. } => format!("{org}: {title}"),
        NotificationKind::StatusChanged { to, .. } => {
            format!("{title}: {}", status_words(to).to_lowercase())
        }
        NotificationKind::TasksCompleted { tasks, .. } if tasks.len() == 1 => {
            format!("{title}: a task is done")
        }
        NotificationKind::TasksCompleted { tasks, .. } => {
            format!("{title}: {} tasks are done", tasks.len())
        }
        NotificationKind::UpdatesShared { .. } => format!("{title}: an update from {org}"),
        NotificationKind::QuoteDecided { decision, .. } => {
            format!(
                "Quote {}: {title}",
                status_words(decision.as_str()).to_lowercase()
            )
        }
        NotificationKind::HelpRequested { name, .. } => format!("{name} asks for help: {title}"),
        NotificationKind::PortalInvite { .. } => format!("{org} invited you to your client portal"),
        NotificationKind::PortalSignIn { .. } => format!("Sign in to {org}"),
        NotificationKind::PasswordReset { .. } => format!("Reset your {org} portal password"),
        NotificationKind::PasswordChanged { .. } => {
            format!("Your {org} portal password was changed")
        }
        NotificationKind::MessageFromStaff { .. } => format!("New message from {org}"),
        NotificationKind::MessageFromClient { name, job, .. } => match job {
            Some(job) => format!("Message from {name} about {job}"),
            None => format!("Message from {name}"),
        },
        NotificationKind::ServiceRequested { name, .. } => format!("Service request from {name}"),
        NotificationKind::ContractSigned { name, title, .. } => {
            format!("{name} signed {title}")
        }
        NotificationKind::PaymentToClient {
            outcome: PaymentOutcome::Received,
            number,
            ..
        } => format!("Receipt from {org}: invoice {number}"),
        NotificationKind::PaymentToClient { number, .. } => {
            format!("Your payment of invoice {number} did not go through")
        }
        NotificationKind::PaymentToBusiness {
            outcome: PaymentOutcome::Received,
            number,
            client,
            ..
        } => format!("{client} paid invoice {number}"),
        NotificationKind::PaymentToBusiness { number, client, .. } => {
            format!("{client}'s payment of invoice {number} failed")
        }
    }
}

impl Composer for TemplateComposer {
    fn compose(&self, n: &Notification, ctx: &MailContext<'_>) -> OutgoingEmail {
        let org = ctx.org.name.as_str();
        let phone = ctx.org.contact.phone.as_deref();
        // Portal mails place their link themselves, before the code.
        let link = ctx
            .link
            .filter(|_| !n.kind.to_business() && n.kind.portal_client().is_none());
        let content = content(n, ctx);
        let subject = subject(&n.kind, org, ctx.title);
        let text = Text {
            org,
            phone,
            title: ctx.title,
            link,
            content: &content,
        }
        .render()
        .unwrap_or_else(|e| format!("{subject}\n\n({e})"));
        let html = Html {
            subject: &subject,
            org,
            phone,
            title: ctx.title,
            link,
            button: match &n.kind {
                NotificationKind::PasswordReset { .. } => "Choose a new password",
                NotificationKind::PortalInvite { .. } | NotificationKind::PortalSignIn { .. } => {
                    "Sign in"
                }
                _ => "Open",
            },
            content: &content,
        }
        .render()
        .unwrap_or_else(|_| String::new());
        OutgoingEmail {
            message_id: message_id(n),
            from_name: ctx.org.name.clone(),
            reply_to: ctx.org.contact.email.clone(),
            to: n.to.clone(),
            subject,
            text,
            html,
        }
    }
}
