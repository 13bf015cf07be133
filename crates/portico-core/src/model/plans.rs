//! What the host pushes in besides records, for the portal (C7): a client's service agreements
//! (maintenance plans with a visit schedule), their appointments, and contracts to sign.

use rust_decimal::Decimal;
use sha2::{Digest, Sha256};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::{AgreementId, AppointmentId, ClientId, ContractId, Money, OrgId, RecordId, StaffId};

/// How often an agreement is billed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Billing {
    /// Once, up front.
    Once,
    /// Every week.
    Weekly,
    /// Every month.
    Monthly,
    /// Every three months.
    Quarterly,
    /// Every year.
    Yearly,
}

impl Billing {
    /// Every cadence.
    pub const ALL: [Billing; 5] = [
        Billing::Once,
        Billing::Weekly,
        Billing::Monthly,
        Billing::Quarterly,
        Billing::Yearly,
    ];

    /// The name used in the API and in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            Billing::Once => "once",
            Billing::Weekly => "weekly",
            Billing::Monthly => "monthly",
            Billing::Quarterly => "quarterly",
            Billing::Yearly => "yearly",
        }
    }

    /// The cadence named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|b| b.as_str() == name)
    }
}

/// Where an agreement stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AgreementStatus {
    /// Running: visits are planned and done.
    Active,
    /// Paused by the business; kept on the client's list.
    OnHold,
    /// Ran its course.
    Ended,
    /// Stopped early.
    Cancelled,
}

impl AgreementStatus {
    /// Every status.
    pub const ALL: [AgreementStatus; 4] = [
        AgreementStatus::Active,
        AgreementStatus::OnHold,
        AgreementStatus::Ended,
        AgreementStatus::Cancelled,
    ];

    /// The name used in the API and in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            AgreementStatus::Active => "active",
            AgreementStatus::OnHold => "on_hold",
            AgreementStatus::Ended => "ended",
            AgreementStatus::Cancelled => "cancelled",
        }
    }

    /// The status named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

/// One planned visit of an agreement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Visit {
    /// The day it is planned for.
    pub on: Date,
    /// Whether it was done.
    pub done: bool,
}

/// A service agreement (maintenance plan): what the client signed up for and its visits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agreement {
    /// The host's id.
    pub id: AgreementId,
    /// The org.
    pub org_id: OrgId,
    /// The client it is with.
    pub client_id: ClientId,
    /// Its name, e.g. "Boiler care plan".
    pub title: String,
    /// The terms the client may read.
    pub terms: String,
    /// Where it stands.
    pub status: AgreementStatus,
    /// The first day it covers.
    pub starts_on: Date,
    /// The last day it covers, when it has one.
    pub ends_on: Option<Date>,
    /// What the client pays per billing period.
    pub price: Money,
    /// How often.
    pub billing: Billing,
    /// The visit schedule, in date order.
    pub visits: Vec<Visit>,
    /// What it costs the business. Internal (V4).
    pub cost: Option<Decimal>,
    /// The business's margin, in percent. Internal (V4).
    pub margin_percent: Option<Decimal>,
    /// Notes for the office. Internal (V4).
    pub internal_notes: String,
}

impl Agreement {
    /// The most visits one agreement plans.
    pub const MAX_VISITS: usize = 400;
}

/// Where an appointment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AppointmentStatus {
    /// Booked.
    Scheduled,
    /// The technician is on the way.
    OnTheWay,
    /// Done.
    Done,
    /// Called off.
    Cancelled,
}

impl AppointmentStatus {
    /// Every status.
    pub const ALL: [AppointmentStatus; 4] = [
        AppointmentStatus::Scheduled,
        AppointmentStatus::OnTheWay,
        AppointmentStatus::Done,
        AppointmentStatus::Cancelled,
    ];

    /// The name used in the API and in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            AppointmentStatus::Scheduled => "scheduled",
            AppointmentStatus::OnTheWay => "on_the_way",
            AppointmentStatus::Done => "done",
            AppointmentStatus::Cancelled => "cancelled",
        }
    }

    /// The status named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Whether the visit may still happen.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            AppointmentStatus::Scheduled | AppointmentStatus::OnTheWay
        )
    }
}

/// A visit booked with a client: a time window, who comes, where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appointment {
    /// The host's id.
    pub id: AppointmentId,
    /// The org.
    pub org_id: OrgId,
    /// The client.
    pub client_id: ClientId,
    /// The job it is for, if any; the portal links it only while the client sees that job.
    pub job: Option<RecordId>,
    /// What it is for, e.g. "Annual boiler service".
    pub title: String,
    /// When it starts (or the window opens).
    pub starts_at: OffsetDateTime,
    /// When it ends (or the window closes), after `starts_at`.
    pub ends_at: Option<OffsetDateTime>,
    /// Who comes; the client sees their first name only.
    pub technician: Option<StaffId>,
    /// Where.
    pub address: String,
    /// Where it stands.
    pub status: AppointmentStatus,
    /// Notes for the office. Internal (V4).
    pub internal_notes: String,
}

/// Where a contract's version stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContractStatus {
    /// Waiting for the client's signature.
    Sent,
    /// Signed: it can no longer change.
    Signed,
    /// Withdrawn by the business before it was signed.
    Void,
}

impl ContractStatus {
    /// The name used in the API and in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            ContractStatus::Sent => "sent",
            ContractStatus::Signed => "signed",
            ContractStatus::Void => "void",
        }
    }

    /// The status named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        [
            ContractStatus::Sent,
            ContractStatus::Signed,
            ContractStatus::Void,
        ]
        .into_iter()
        .find(|s| s.as_str() == name)
    }
}

/// A SHA-256 digest, written as 64 lower-case hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sha256Digest(pub [u8; 32]);

impl Sha256Digest {
    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Self(Sha256::digest(bytes).into())
    }

    /// The 64 hex digits.
    pub fn to_hex(self) -> String {
        use std::fmt::Write as _;
        self.0.iter().fold(String::with_capacity(64), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
    }

    /// The digest written as 64 hex digits (either case).
    pub fn parse(hex: &str) -> Option<Self> {
        if hex.len() != 64 || !hex.is_ascii() {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(Self(out))
    }
}

/// A client's signature on one version of a contract. Kept as it was made, never changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractSignature {
    /// The full name the client typed.
    pub name: String,
    /// The drawn signature (a PNG behind the blob port, see [`super::FileId::signature_image`]);
    /// `None` when the client signed without drawing (keyboard or screen reader).
    pub drawn: Option<Uuid>,
    /// When.
    pub at: OffsetDateTime,
    /// From which address.
    pub ip: Option<String>,
    /// With which browser.
    pub user_agent: Option<String>,
    /// The digest of the content the client was shown and signed.
    pub content: Sha256Digest,
}

/// A PDF a contract version carries besides its text: Portico's own copy, named by its digest,
/// so a later upload under the host's file id never changes what was signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractDocument {
    /// The name to download it as (the host's file id).
    pub name: String,
    /// The SHA-256 of its bytes; part of the contract's digest.
    pub sha256: Sha256Digest,
    /// Its size in bytes.
    pub size: u64,
}

/// One version of a contract. A changed text makes a new version; a signed one never changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contract {
    /// The host's id, shared by every version.
    pub id: ContractId,
    /// Which version, from 1.
    pub version: u32,
    /// The org.
    pub org_id: OrgId,
    /// The client asked to sign.
    pub client_id: ClientId,
    /// Its title.
    pub title: String,
    /// The text the client reads and signs.
    pub body: String,
    /// A PDF the client reads and signs with the text, if any.
    pub document: Option<ContractDocument>,
    /// Where it stands.
    pub status: ContractStatus,
    /// When this version was sent.
    pub sent_at: OffsetDateTime,
    /// The signature, once signed (then `status` is `Signed`).
    pub signature: Option<ContractSignature>,
}

impl Contract {
    /// The longest contract text Portico keeps, in characters.
    pub const MAX_BODY: usize = 100_000;

    /// The digest of what the client reads and signs: the title and the text, each prefixed by
    /// its length so no two contents share one, then the PDF's digest when there is one.
    pub fn content_digest(&self) -> Sha256Digest {
        content_digest(
            &self.title,
            &self.body,
            self.document.as_ref().map(|d| &d.sha256),
        )
    }
}

/// The digest of a contract's `title`, `body` and PDF (see [`Contract::content_digest`]).
pub fn content_digest(title: &str, body: &str, document: Option<&Sha256Digest>) -> Sha256Digest {
    let mut hash = Sha256::new();
    hash.update(b"portico-contract-v1\n");
    for part in [title, body] {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part.as_bytes());
    }
    if let Some(document) = document {
        hash.update(b"pdf");
        hash.update(document.0);
    }
    Sha256Digest(hash.finalize().into())
}
