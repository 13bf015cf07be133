//! Notifications: the emails the policy decided on, stored in the outbox in the same unit of
//! work as the change that caused them (N5). They hold no token: the mailer derives the link from
//! the share when it sends.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use uuid::Uuid;

use super::{
    ClientId, DecisionKind, Email, Money, NotificationId, OrgId, RecordRef, ShareId, TaskId,
    UpdateId,
};

/// Why a link went out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkReason {
    /// Sharing was enabled for the first time.
    Enabled,
    /// Sharing was enabled again after a revoke, with a fresh link.
    Reshared,
    /// The recipient changed; the new one gets the link (S6).
    NewRecipient,
}

/// What an email is about, with what it needs to say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotificationKind {
    /// To the client: here is your link.
    LinkShared {
        /// Why.
        reason: LinkReason,
    },
    /// To the client: the work order's status changed.
    StatusChanged {
        /// The status label before the first change of a burst.
        from: String,
        /// The latest status label.
        to: String,
    },
    /// To the client: checklist tasks were completed (a burst is one email, N6).
    TasksCompleted {
        /// The tasks' titles, in the order they were ticked. At send time they are taken again
        /// from the record as it then stands (see [`crate::policy::notify::at_send_time`]).
        tasks: Vec<String>,
        /// The tasks' ids, in the same order (empty in notifications queued before ids were
        /// kept; those are matched by title).
        task_ids: Vec<TaskId>,
    },
    /// To the client: updates were shared.
    UpdatesShared {
        /// The updates' texts, in the order they were shared; taken again at send time.
        updates: Vec<String>,
        /// The updates' ids, in the same order (empty in notifications queued before ids were
        /// kept; those are matched by text).
        update_ids: Vec<UpdateId>,
    },
    /// To the business: a client decided on a quote.
    QuoteDecided {
        /// What they decided.
        decision: DecisionKind,
        /// Their message.
        message: Option<String>,
    },
    /// To the business: a client asked for help from a shared page (V2).
    HelpRequested {
        /// The name the client gave.
        name: String,
        /// A phone number to call back, if given.
        phone: Option<String>,
        /// What they wrote.
        message: String,
    },
    /// To a client: an invitation to the portal (C2), with a link that signs them in.
    PortalInvite {
        /// The client invited.
        client: ClientId,
        /// The grant whose link and code the message carries.
        grant: Uuid,
    },
    /// To a client: a sign-in link and one-time code (C3).
    PortalSignIn {
        /// The client signing in.
        client: ClientId,
        /// The grant whose link and code the message carries.
        grant: Uuid,
    },
    /// To a client: a password-reset link (C4).
    PasswordReset {
        /// The client.
        client: ClientId,
        /// The grant whose link the message carries.
        grant: Uuid,
    },
    /// To a client: their portal password was set or changed (C4), so a change they did not
    /// make does not go unnoticed.
    PasswordChanged {
        /// The client.
        client: ClientId,
    },
    /// To a client: the business answered in the portal (C7). Goes, like every portal mail,
    /// only while the portal and the client's login are on.
    MessageFromStaff {
        /// The client written to.
        client: ClientId,
        /// The name the message is signed with.
        author: String,
        /// What the business wrote.
        body: String,
    },
    /// To the business: a client wrote in the portal (C7).
    MessageFromClient {
        /// The client's name.
        name: String,
        /// What they wrote.
        body: String,
        /// The title of the job it is about, if any.
        job: Option<String>,
    },
    /// To the business: a client sent a service request from the portal (C7).
    ServiceRequested {
        /// The name to ask for.
        name: String,
        /// Where to write back.
        email: Option<Email>,
        /// Where to call back.
        phone: Option<String>,
        /// Where the work is.
        address: Option<String>,
        /// What they need.
        description: String,
        /// Days that suit them.
        preferred_dates: Vec<time::Date>,
        /// How many photos they attached (the host app serves them).
        photos: u32,
    },
    /// To the business: a client signed a contract in the portal (C7).
    ContractSigned {
        /// The name the client typed.
        name: String,
        /// The contract's title.
        title: String,
        /// The version signed.
        version: u32,
        /// The digest of the signed content, in hex.
        digest: String,
    },
    /// To the client: their online payment arrived (a receipt) or failed (I5). Sent to the
    /// address fixed when it was queued, whatever becomes of the share: it is about money.
    PaymentToClient {
        /// Arrived or failed.
        outcome: PaymentOutcome,
        /// The invoice's number.
        number: String,
        /// The amount.
        amount: Money,
    },
    /// To the business: a client's online payment arrived or failed (I5).
    PaymentToBusiness {
        /// Arrived or failed.
        outcome: PaymentOutcome,
        /// The invoice's number.
        number: String,
        /// The amount.
        amount: Money,
        /// The client's name.
        client: String,
    },
}

/// What became of an online payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentOutcome {
    /// The money arrived.
    Received,
    /// The payment failed; the invoice is due again.
    Failed,
}

/// What notifications of one burst share: kinds with the same topic merge (N6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Topic {
    /// [`NotificationKind::LinkShared`].
    LinkShared,
    /// [`NotificationKind::StatusChanged`].
    StatusChanged,
    /// [`NotificationKind::TasksCompleted`].
    TasksCompleted,
    /// [`NotificationKind::UpdatesShared`].
    UpdatesShared,
    /// [`NotificationKind::QuoteDecided`].
    QuoteDecided,
    /// [`NotificationKind::HelpRequested`].
    HelpRequested,
    /// [`NotificationKind::PortalInvite`].
    PortalInvite,
    /// [`NotificationKind::PortalSignIn`].
    PortalSignIn,
    /// [`NotificationKind::PasswordReset`].
    PasswordReset,
    /// [`NotificationKind::PasswordChanged`].
    PasswordChanged,
    /// [`NotificationKind::MessageFromStaff`].
    MessageFromStaff,
    /// [`NotificationKind::MessageFromClient`].
    MessageFromClient,
    /// [`NotificationKind::ServiceRequested`].
    ServiceRequested,
    /// [`NotificationKind::ContractSigned`].
    ContractSigned,
    /// [`NotificationKind::PaymentToClient`].
    PaymentToClient,
    /// [`NotificationKind::PaymentToBusiness`].
    PaymentToBusiness,
}

impl Topic {
    /// The topic's name, for storage and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Topic::LinkShared => "link_shared",
            Topic::StatusChanged => "status_changed",
            Topic::TasksCompleted => "tasks_completed",
            Topic::UpdatesShared => "updates_shared",
            Topic::QuoteDecided => "quote_decided",
            Topic::HelpRequested => "help_requested",
            Topic::PortalInvite => "portal_invite",
            Topic::PortalSignIn => "portal_sign_in",
            Topic::PasswordReset => "password_reset",
            Topic::PasswordChanged => "password_changed",
            Topic::MessageFromStaff => "message_from_staff",
            Topic::MessageFromClient => "message_from_client",
            Topic::ServiceRequested => "service_requested",
            Topic::ContractSigned => "contract_signed",
            Topic::PaymentToClient => "payment_to_client",
            Topic::PaymentToBusiness => "payment_to_business",
        }
    }
}

impl NotificationKind {
    /// The kind's topic.
    pub fn topic(&self) -> Topic {
        match self {
            NotificationKind::LinkShared { .. } => Topic::LinkShared,
            NotificationKind::StatusChanged { .. } => Topic::StatusChanged,
            NotificationKind::TasksCompleted { .. } => Topic::TasksCompleted,
            NotificationKind::UpdatesShared { .. } => Topic::UpdatesShared,
            NotificationKind::QuoteDecided { .. } => Topic::QuoteDecided,
            NotificationKind::HelpRequested { .. } => Topic::HelpRequested,
            NotificationKind::PortalInvite { .. } => Topic::PortalInvite,
            NotificationKind::PortalSignIn { .. } => Topic::PortalSignIn,
            NotificationKind::PasswordReset { .. } => Topic::PasswordReset,
            NotificationKind::PasswordChanged { .. } => Topic::PasswordChanged,
            NotificationKind::MessageFromStaff { .. } => Topic::MessageFromStaff,
            NotificationKind::MessageFromClient { .. } => Topic::MessageFromClient,
            NotificationKind::ServiceRequested { .. } => Topic::ServiceRequested,
            NotificationKind::ContractSigned { .. } => Topic::ContractSigned,
            NotificationKind::PaymentToClient { .. } => Topic::PaymentToClient,
            NotificationKind::PaymentToBusiness { .. } => Topic::PaymentToBusiness,
        }
    }

    /// Whether this goes to the business rather than the client.
    pub fn to_business(&self) -> bool {
        matches!(
            self,
            NotificationKind::QuoteDecided { .. }
                | NotificationKind::HelpRequested { .. }
                | NotificationKind::MessageFromClient { .. }
                | NotificationKind::ServiceRequested { .. }
                | NotificationKind::ContractSigned { .. }
                | NotificationKind::PaymentToBusiness { .. }
        )
    }

    /// The portal account this message is about (portal mails), if any.
    pub fn portal_client(&self) -> Option<&ClientId> {
        match self {
            NotificationKind::PortalInvite { client, .. }
            | NotificationKind::PortalSignIn { client, .. }
            | NotificationKind::PasswordReset { client, .. }
            | NotificationKind::PasswordChanged { client }
            | NotificationKind::MessageFromStaff { client, .. } => Some(client),
            _ => None,
        }
    }

    /// The sign-in grant whose link the message carries, if any.
    pub fn grant(&self) -> Option<Uuid> {
        match self {
            NotificationKind::PortalInvite { grant, .. }
            | NotificationKind::PortalSignIn { grant, .. }
            | NotificationKind::PasswordReset { grant, .. } => Some(*grant),
            _ => None,
        }
    }
}

/// Where a notification is in its delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Waiting to be sent at `due_at` or later.
    Pending,
    /// Sent.
    Sent {
        /// When.
        at: OffsetDateTime,
    },
    /// Given up on: the mail server refused it, or it kept failing until the give-up time.
    Dead {
        /// When.
        at: OffsetDateTime,
        /// Why.
        reason: String,
    },
    /// Not sent on purpose: by send time it no longer held (the share ended, the section was
    /// hidden, the task was un-ticked or made internal …). Not a delivery failure.
    Dropped {
        /// When.
        at: OffsetDateTime,
        /// Why.
        reason: String,
    },
}

/// One email to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// Portico's id; the Message-ID derives from it, so a resend is the same message (N5).
    pub id: NotificationId,
    /// The org it is sent under.
    pub org_id: OrgId,
    /// The share it belongs to (client notifications).
    pub share_id: Option<ShareId>,
    /// The record it is about; none for portal mails, which are about the client's account.
    pub record: Option<RecordRef>,
    /// Who receives it.
    pub to: Email,
    /// What it says.
    pub kind: NotificationKind,
    /// When it was first queued.
    pub created_at: OffsetDateTime,
    /// Not sent before this; until then a burst may still merge into it (N6).
    pub due_at: OffsetDateTime,
    /// Where it is in its delivery.
    pub delivery: Delivery,
    /// How many sends were tried.
    pub attempts: u32,
    /// Why the last attempt failed, while it waits to be tried again (cleared by none: a later
    /// failure replaces it; sent, dead and dropped carry their own outcome).
    pub last_failure: Option<String>,
}
