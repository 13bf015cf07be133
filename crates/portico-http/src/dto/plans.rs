//! Agreements, appointments and contracts (C7): what the host pushes in for the portal, and
//! what it reads back (a contract with every version and its signature).

use poem_openapi::Object;
use portico_core::model as m;
use portico_core::service::ContractDraft;
use time::{Date, OffsetDateTime};

use super::{
    AgreementStatusDto, AppointmentStatusDto, BillingDto, ContractStatusDto, currency, id, money,
};
use crate::error::ApiError;

/// One planned visit of an agreement.
#[derive(Debug, Clone, Object)]
pub struct VisitBody {
    /// The day planned.
    pub on: Date,
    /// Whether it was done.
    #[oai(default)]
    pub done: bool,
}

/// A service agreement (maintenance plan) as the host sends it. `cost`, `margin_percent` and
/// `internal_notes` are the business's: no client ever sees them.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct AgreementBody {
    /// The client it is with.
    pub client_id: String,
    /// Its name.
    pub title: String,
    /// The terms the client may read.
    #[oai(default)]
    pub terms: String,
    /// Where it stands; `active` when omitted.
    pub status: Option<AgreementStatusDto>,
    /// The first day covered.
    pub starts_on: Date,
    /// The last day covered, if any.
    pub ends_on: Option<Date>,
    /// The price per billing period, as a decimal string.
    pub price: String,
    /// ISO 4217 code; the default currency when omitted.
    pub currency: Option<String>,
    /// How often it is billed.
    pub billing: BillingDto,
    /// The visit schedule (any order; one visit per day is kept).
    #[oai(default)]
    pub visits: Vec<VisitBody>,
    /// Internal: what it costs the business, as a decimal string.
    pub cost: Option<String>,
    /// Internal: the margin in percent, as a decimal string.
    pub margin_percent: Option<String>,
    /// Internal notes.
    pub internal_notes: Option<String>,
}

impl AgreementBody {
    pub(crate) fn into_model(
        self,
        org: m::OrgId,
        agreement: m::AgreementId,
    ) -> Result<m::Agreement, ApiError> {
        let currency = currency(self.currency)?;
        Ok(m::Agreement {
            id: agreement,
            org_id: org,
            client_id: id("client_id", self.client_id)?,
            title: self.title,
            terms: self.terms,
            status: self.status.map_or(m::AgreementStatus::Active, Into::into),
            starts_on: self.starts_on,
            ends_on: self.ends_on,
            price: m::Money::new(money("price", &self.price)?, currency),
            billing: self.billing.into(),
            visits: self
                .visits
                .into_iter()
                .map(|v| m::Visit {
                    on: v.on,
                    done: v.done,
                })
                .collect(),
            cost: self.cost.map(|c| money("cost", &c)).transpose()?,
            margin_percent: self
                .margin_percent
                .map(|c| money("margin_percent", &c))
                .transpose()?,
            internal_notes: self.internal_notes.unwrap_or_default(),
        })
    }
}

/// A stored agreement, as the host reads it back.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct AgreementDto {
    /// The host's id.
    pub agreement_id: String,
    /// The client.
    pub client_id: String,
    /// Its name.
    pub title: String,
    /// The terms.
    pub terms: String,
    /// Where it stands.
    pub status: AgreementStatusDto,
    /// The first day covered.
    pub starts_on: Date,
    /// The last day covered, if any.
    pub ends_on: Option<Date>,
    /// The price per period.
    pub price: String,
    /// Its currency.
    pub currency: String,
    /// How often it is billed.
    pub billing: BillingDto,
    /// The visits, in date order.
    pub visits: Vec<VisitBody>,
    /// How many visits are done.
    pub visits_done: u32,
    /// Internal: the cost.
    pub cost: Option<String>,
    /// Internal: the margin in percent.
    pub margin_percent: Option<String>,
    /// Internal notes.
    pub internal_notes: String,
}

impl From<m::Agreement> for AgreementDto {
    fn from(a: m::Agreement) -> Self {
        Self {
            agreement_id: a.id.to_string(),
            client_id: a.client_id.to_string(),
            title: a.title,
            terms: a.terms,
            status: a.status.into(),
            starts_on: a.starts_on,
            ends_on: a.ends_on,
            price: a.price.amount.to_string(),
            currency: a.price.currency.code().to_owned(),
            billing: a.billing.into(),
            visits_done: u32::try_from(a.visits.iter().filter(|v| v.done).count())
                .unwrap_or(u32::MAX),
            visits: a
                .visits
                .into_iter()
                .map(|v| VisitBody {
                    on: v.on,
                    done: v.done,
                })
                .collect(),
            cost: a.cost.map(|c| c.to_string()),
            margin_percent: a.margin_percent.map(|c| c.to_string()),
            internal_notes: a.internal_notes,
        }
    }
}

/// An appointment as the host sends it. `internal_notes` never reaches the client; of the
/// technician the client sees the first name only.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct AppointmentBody {
    /// The client.
    pub client_id: String,
    /// A work order of the same client it is for, if any.
    pub job_id: Option<String>,
    /// What it is for.
    pub title: String,
    /// When it starts (or the arrival window opens).
    pub starts_at: OffsetDateTime,
    /// When it ends (or the window closes).
    pub ends_at: Option<OffsetDateTime>,
    /// The staff member who comes.
    pub technician_id: Option<String>,
    /// Where.
    #[oai(default)]
    pub address: String,
    /// Where it stands; `scheduled` when omitted.
    pub status: Option<AppointmentStatusDto>,
    /// Internal notes.
    pub internal_notes: Option<String>,
}

impl AppointmentBody {
    pub(crate) fn into_model(
        self,
        org: m::OrgId,
        appointment: m::AppointmentId,
    ) -> Result<m::Appointment, ApiError> {
        Ok(m::Appointment {
            id: appointment,
            org_id: org,
            client_id: id("client_id", self.client_id)?,
            job: self.job_id.map(|j| id("job_id", j)).transpose()?,
            title: self.title,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            technician: self
                .technician_id
                .map(|t| id("technician_id", t))
                .transpose()?,
            address: self.address,
            status: self
                .status
                .map_or(m::AppointmentStatus::Scheduled, Into::into),
            internal_notes: self.internal_notes.unwrap_or_default(),
        })
    }
}

/// A stored appointment, as the host reads it back.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct AppointmentDto {
    /// The host's id.
    pub appointment_id: String,
    /// The client.
    pub client_id: String,
    /// The job, if any.
    pub job_id: Option<String>,
    /// What it is for.
    pub title: String,
    /// When it starts.
    pub starts_at: OffsetDateTime,
    /// When it ends.
    pub ends_at: Option<OffsetDateTime>,
    /// Who comes.
    pub technician_id: Option<String>,
    /// Where.
    pub address: String,
    /// Where it stands.
    pub status: AppointmentStatusDto,
    /// Internal notes.
    pub internal_notes: String,
}

impl From<m::Appointment> for AppointmentDto {
    fn from(a: m::Appointment) -> Self {
        Self {
            appointment_id: a.id.to_string(),
            client_id: a.client_id.to_string(),
            job_id: a.job.map(|j| j.to_string()),
            title: a.title,
            starts_at: a.starts_at,
            ends_at: a.ends_at,
            technician_id: a.technician.map(|t| t.to_string()),
            address: a.address,
            status: a.status.into(),
            internal_notes: a.internal_notes,
        }
    }
}

/// A contract to sign, as the host sends it. A changed title or text makes a new version (a
/// signed version never changes); `void` withdraws the latest version while it is unsigned.
#[derive(Debug, Clone, Object)]
pub struct ContractBody {
    /// The client asked to sign; it cannot change.
    pub client_id: String,
    /// Its title.
    pub title: String,
    /// The text the client reads and signs (plain text; line breaks are kept). May be empty
    /// when `document_file_id` names a PDF.
    #[oai(default)]
    pub body: String,
    /// A PDF uploaded first (`PUT /v1/files/{id}`), signed with the text. Portico keeps its own
    /// copy, so uploading other bytes under that id later changes no version sent.
    pub document_file_id: Option<String>,
    /// Withdraw the latest version.
    #[oai(default)]
    pub void: bool,
}

impl ContractBody {
    pub(crate) fn into_model(
        self,
        org: m::OrgId,
        contract: m::ContractId,
    ) -> Result<ContractDraft, ApiError> {
        Ok(ContractDraft {
            org_id: org,
            id: contract,
            client_id: id("client_id", self.client_id)?,
            title: self.title,
            body: self.body,
            document: self
                .document_file_id
                .map(|f| id("document_file_id", f))
                .transpose()?,
            void: self.void,
        })
    }
}

/// How and when a version was signed.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ContractSignatureDto {
    /// The full name the client typed.
    pub name: String,
    /// When.
    pub signed_at: OffsetDateTime,
    /// From which address.
    pub ip: Option<String>,
    /// With which browser.
    pub user_agent: Option<String>,
    /// Whether a drawn signature is kept (`GET …/versions/{n}/signature`).
    pub drawn: bool,
    /// SHA-256 (hex) of the content signed; equal to the version's `sha256`.
    pub sha256: String,
}

/// The PDF a version carries.
#[derive(Debug, Clone, Object)]
pub struct ContractDocumentDto {
    /// The file id it was sent under, its download name.
    pub name: String,
    /// SHA-256 (hex) of its bytes, part of the version's `sha256`.
    pub sha256: String,
    /// Its size in bytes.
    pub size: u64,
}

/// One version of a contract.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ContractVersionDto {
    /// From 1.
    pub version: u32,
    /// Its title.
    pub title: String,
    /// Its text.
    pub body: String,
    /// Its PDF, if any (`GET …/versions/{n}/document`).
    pub document: Option<ContractDocumentDto>,
    /// Where it stands.
    pub status: ContractStatusDto,
    /// When it was sent.
    pub sent_at: OffsetDateTime,
    /// SHA-256 (hex) of what the client reads and signs.
    pub sha256: String,
    /// The signature, once signed.
    pub signature: Option<ContractSignatureDto>,
}

/// A contract with every version, oldest first.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ContractDto {
    /// The host's id.
    pub contract_id: String,
    /// The client.
    pub client_id: String,
    /// Every version, oldest first; only the latest can be signed.
    pub versions: Vec<ContractVersionDto>,
}

impl ContractDto {
    pub(crate) fn of(versions: Vec<m::Contract>) -> Self {
        let (contract_id, client_id) = versions
            .first()
            .map(|c| (c.id.to_string(), c.client_id.to_string()))
            .unwrap_or_default();
        Self {
            contract_id,
            client_id,
            versions: versions
                .into_iter()
                .map(|c| ContractVersionDto {
                    version: c.version,
                    sha256: c.content_digest().to_hex(),
                    title: c.title,
                    body: c.body,
                    document: c.document.map(|d| ContractDocumentDto {
                        name: d.name,
                        sha256: d.sha256.to_hex(),
                        size: d.size,
                    }),
                    status: c.status.into(),
                    sent_at: c.sent_at,
                    signature: c.signature.map(|s| ContractSignatureDto {
                        name: s.name,
                        signed_at: s.at,
                        ip: s.ip,
                        user_agent: s.user_agent,
                        drawn: s.drawn.is_some(),
                        sha256: s.content.to_hex(),
                    }),
                })
                .collect(),
        }
    }
}
