//! Rows of agreements, appointments and contract versions (C7), with the frozen JSON shape of
//! each one's `data` (version 1; see `document.rs` for the rules of a change of shape).

use portico_core::model::{
    Agreement, AgreementStatus, Appointment, AppointmentStatus, Billing, Contract,
    ContractDocument, ContractSignature, ContractStatus, Money, Sha256Digest, Visit,
};
use portico_core::ports::StoreError;
use rust_decimal::Decimal;
use sea_orm::ActiveValue::Set;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::columns::Instant;
use crate::convert::{corrupt, host_id};
use crate::document::{
    currency, day, day_text, maybe_moment, maybe_moment_text, moment, moment_text,
};
use crate::entity::{agreements, appointments, contracts};

/// Version 1 of an agreement's `data`.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct AgreementV1 {
    title: String,
    terms: String,
    status: String,
    /// `YYYY-MM-DD`.
    starts_on: String,
    ends_on: Option<String>,
    price: Decimal,
    currency: String,
    billing: String,
    visits: Vec<VisitV1>,
    cost: Option<Decimal>,
    margin_percent: Option<Decimal>,
    internal_notes: String,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct VisitV1 {
    on: String,
    done: bool,
}

/// Version 1 of an appointment's `data` (its start is the `starts_at` column).
#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct AppointmentV1 {
    job: Option<String>,
    title: String,
    ends_at: Option<String>,
    technician: Option<String>,
    address: String,
    status: String,
    internal_notes: String,
}

/// Version 1 of a contract version's `data`.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct ContractV1 {
    title: String,
    body: String,
    // Added later, optional: a version stored without it has no PDF.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    document: Option<ContractDocumentV1>,
    status: String,
    sent_at: String,
    signature: Option<ContractSignatureV1>,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct ContractDocumentV1 {
    name: String,
    /// SHA-256 of the bytes, hex.
    sha256: String,
    size: u64,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct ContractSignatureV1 {
    name: String,
    drawn: Option<Uuid>,
    at: String,
    ip: Option<String>,
    user_agent: Option<String>,
    /// SHA-256 of the signed content, hex.
    content: String,
}

fn json<T: Serialize>(doc: &T) -> Result<serde_json::Value, StoreError> {
    serde_json::to_value(doc).map_err(|e| StoreError::Backend(Box::new(e)))
}

fn parse<T: for<'de> Deserialize<'de>>(
    what: &'static str,
    data: serde_json::Value,
) -> Result<T, StoreError> {
    serde_json::from_value(data).map_err(|e| corrupt(what, e))
}

pub(crate) fn agreement_to_row(a: &Agreement) -> Result<agreements::ActiveModel, StoreError> {
    let doc = AgreementV1 {
        title: a.title.clone(),
        terms: a.terms.clone(),
        status: a.status.as_str().to_owned(),
        starts_on: day_text(a.starts_on)?,
        ends_on: a.ends_on.map(day_text).transpose()?,
        price: a.price.amount,
        currency: a.price.currency.code().to_owned(),
        billing: a.billing.as_str().to_owned(),
        visits: a
            .visits
            .iter()
            .map(|v| {
                Ok(VisitV1 {
                    on: day_text(v.on)?,
                    done: v.done,
                })
            })
            .collect::<Result<_, StoreError>>()?,
        cost: a.cost,
        margin_percent: a.margin_percent,
        internal_notes: a.internal_notes.clone(),
    };
    Ok(agreements::ActiveModel {
        org_id: Set(a.org_id.as_str().to_owned()),
        id: Set(a.id.as_str().to_owned()),
        client_id: Set(a.client_id.as_str().to_owned()),
        data: Set(json(&doc)?),
    })
}

pub(crate) fn agreement_from_row(row: agreements::Model) -> Result<Agreement, StoreError> {
    const WHAT: &str = "agreement";
    let doc: AgreementV1 = parse(WHAT, row.data)?;
    Ok(Agreement {
        id: host_id(WHAT, row.id)?,
        org_id: host_id(WHAT, row.org_id)?,
        client_id: host_id(WHAT, row.client_id)?,
        title: doc.title,
        terms: doc.terms,
        status: AgreementStatus::parse(&doc.status)
            .ok_or_else(|| corrupt(WHAT, format!("unknown status {}", doc.status)))?,
        starts_on: day(WHAT, &doc.starts_on)?,
        ends_on: doc.ends_on.map(|d| day(WHAT, &d)).transpose()?,
        price: Money::new(doc.price, currency(&doc.currency)?),
        billing: Billing::parse(&doc.billing)
            .ok_or_else(|| corrupt(WHAT, format!("unknown billing {}", doc.billing)))?,
        visits: doc
            .visits
            .into_iter()
            .map(|v| {
                Ok(Visit {
                    on: day(WHAT, &v.on)?,
                    done: v.done,
                })
            })
            .collect::<Result<_, StoreError>>()?,
        cost: doc.cost,
        margin_percent: doc.margin_percent,
        internal_notes: doc.internal_notes,
    })
}

pub(crate) fn appointment_to_row(a: &Appointment) -> Result<appointments::ActiveModel, StoreError> {
    let doc = AppointmentV1 {
        job: a.job.as_ref().map(|j| j.as_str().to_owned()),
        title: a.title.clone(),
        ends_at: maybe_moment_text(a.ends_at)?,
        technician: a.technician.as_ref().map(|t| t.as_str().to_owned()),
        address: a.address.clone(),
        status: a.status.as_str().to_owned(),
        internal_notes: a.internal_notes.clone(),
    };
    Ok(appointments::ActiveModel {
        org_id: Set(a.org_id.as_str().to_owned()),
        id: Set(a.id.as_str().to_owned()),
        client_id: Set(a.client_id.as_str().to_owned()),
        starts_at: Set(Instant::new(a.starts_at)),
        data: Set(json(&doc)?),
    })
}

pub(crate) fn appointment_from_row(row: appointments::Model) -> Result<Appointment, StoreError> {
    const WHAT: &str = "appointment";
    let doc: AppointmentV1 = parse(WHAT, row.data)?;
    Ok(Appointment {
        id: host_id(WHAT, row.id)?,
        org_id: host_id(WHAT, row.org_id)?,
        client_id: host_id(WHAT, row.client_id)?,
        job: doc.job.map(|j| host_id(WHAT, j)).transpose()?,
        title: doc.title,
        starts_at: row.starts_at.0,
        ends_at: maybe_moment(WHAT, doc.ends_at.as_deref())?,
        technician: doc.technician.map(|t| host_id(WHAT, t)).transpose()?,
        address: doc.address,
        status: AppointmentStatus::parse(&doc.status)
            .ok_or_else(|| corrupt(WHAT, format!("unknown status {}", doc.status)))?,
        internal_notes: doc.internal_notes,
    })
}

pub(crate) fn contract_to_row(c: &Contract) -> Result<contracts::ActiveModel, StoreError> {
    let doc = ContractV1 {
        title: c.title.clone(),
        body: c.body.clone(),
        document: c.document.as_ref().map(|d| ContractDocumentV1 {
            name: d.name.clone(),
            sha256: d.sha256.to_hex(),
            size: d.size,
        }),
        status: c.status.as_str().to_owned(),
        sent_at: moment_text(c.sent_at)?,
        signature: c
            .signature
            .as_ref()
            .map(|s| {
                Ok::<_, StoreError>(ContractSignatureV1 {
                    name: s.name.clone(),
                    drawn: s.drawn,
                    at: moment_text(s.at)?,
                    ip: s.ip.clone(),
                    user_agent: s.user_agent.clone(),
                    content: s.content.to_hex(),
                })
            })
            .transpose()?,
    };
    Ok(contracts::ActiveModel {
        org_id: Set(c.org_id.as_str().to_owned()),
        id: Set(c.id.as_str().to_owned()),
        version: Set(i64::from(c.version)),
        client_id: Set(c.client_id.as_str().to_owned()),
        signed: Set(c.signature.is_some()),
        data: Set(json(&doc)?),
    })
}

pub(crate) fn contract_from_row(row: contracts::Model) -> Result<Contract, StoreError> {
    const WHAT: &str = "contract";
    let doc: ContractV1 = parse(WHAT, row.data)?;
    let status = ContractStatus::parse(&doc.status)
        .ok_or_else(|| corrupt(WHAT, format!("unknown status {}", doc.status)))?;
    let signature = doc
        .signature
        .map(|s| {
            Ok::<_, StoreError>(ContractSignature {
                name: s.name,
                drawn: s.drawn,
                at: moment(WHAT, &s.at)?,
                ip: s.ip,
                user_agent: s.user_agent,
                content: Sha256Digest::parse(&s.content)
                    .ok_or_else(|| corrupt(WHAT, "a signature's digest is not SHA-256 hex"))?,
            })
        })
        .transpose()?;
    if (status == ContractStatus::Signed) != signature.is_some()
        || row.signed != signature.is_some()
    {
        return Err(corrupt(WHAT, "signed without a signature, or the reverse"));
    }
    Ok(Contract {
        id: host_id(WHAT, row.id)?,
        version: u32::try_from(row.version).map_err(|e| corrupt(WHAT, e))?,
        org_id: host_id(WHAT, row.org_id)?,
        client_id: host_id(WHAT, row.client_id)?,
        title: doc.title,
        body: doc.body,
        document: doc
            .document
            .map(|d| {
                Ok::<_, StoreError>(ContractDocument {
                    name: d.name,
                    sha256: Sha256Digest::parse(&d.sha256)
                        .ok_or_else(|| corrupt(WHAT, "a document's digest is not SHA-256 hex"))?,
                    size: d.size,
                })
            })
            .transpose()?,
        status,
        sent_at: moment(WHAT, &doc.sent_at)?,
        signature,
    })
}

#[cfg(test)]
mod tests {
    use portico_core::model::{ContractSignature, ContractStatus, Sha256Digest};
    use portico_core::testing::fixtures::{self, T0};
    use sea_orm::TryIntoModel;

    use super::*;

    fn stored(name: &str) -> serde_json::Value {
        let path = format!(
            "{}/tests/fixtures/stored/plans-v1.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let all: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).expect("checked in"))
                .expect("JSON");
        all[name].clone()
    }

    /// The rows the fixtures were written from: every optional field set.
    fn written() -> (Agreement, Appointment, Contract) {
        let org = fixtures::org("o1").id;
        let client = fixtures::client(&org, "c1").id;
        let mut appointment = fixtures::appointment(&org, "p1", &client, T0);
        appointment.job = Some(fixtures::record_id("wo1"));
        let mut contract = fixtures::contract(&org, "k1", &client);
        contract.status = ContractStatus::Signed;
        contract.signature = Some(ContractSignature {
            name: "Jordan Lee".into(),
            drawn: Some(Uuid::from_bytes([7; 16])),
            at: T0 + time::Duration::hours(1),
            ip: Some("203.0.113.9".into()),
            user_agent: Some("Mozilla/5.0 (X11)".into()),
            content: Sha256Digest([0xab; 32]),
        });
        (
            fixtures::agreement(&org, "a1", &client),
            appointment,
            contract,
        )
    }

    #[test]
    fn c7_every_stored_agreement_appointment_and_contract_shape_still_reads() {
        let (agreement, appointment, contract) = written();
        let read = agreement_from_row(agreements::Model {
            org_id: "o1".into(),
            id: "a1".into(),
            client_id: "c1".into(),
            data: stored("agreement"),
        })
        .unwrap_or_else(|e| panic!("agreement no longer reads ({e}); migrate it"));
        assert_eq!(read, agreement);
        let read = appointment_from_row(appointments::Model {
            org_id: "o1".into(),
            id: "p1".into(),
            client_id: "c1".into(),
            starts_at: Instant::new(T0),
            data: stored("appointment"),
        })
        .unwrap_or_else(|e| panic!("appointment no longer reads ({e}); migrate it"));
        assert_eq!(read, appointment);
        let read = contract_from_row(contracts::Model {
            org_id: "o1".into(),
            id: "k1".into(),
            version: 1,
            client_id: "c1".into(),
            signed: true,
            data: stored("contract_signed"),
        })
        .unwrap_or_else(|e| panic!("contract no longer reads ({e}); migrate it"));
        assert_eq!(read, contract);
        let read = contract_from_row(contracts::Model {
            org_id: "o1".into(),
            id: "k1".into(),
            version: 2,
            client_id: "c1".into(),
            signed: false,
            data: stored("contract_with_document"),
        })
        .unwrap_or_else(|e| panic!("contract with a PDF no longer reads ({e}); migrate it"));
        assert_eq!(
            read.document,
            Some(portico_core::model::ContractDocument {
                name: "terms.pdf".into(),
                sha256: Sha256Digest([0xcd; 32]),
                size: 2048,
            })
        );
        assert_eq!((read.version, read.body.as_str()), (2, ""));
        // Written today, each reads back as itself.
        assert_eq!(
            agreement_from_row(
                agreement_to_row(&agreement)
                    .unwrap()
                    .try_into_model()
                    .unwrap()
            )
            .unwrap(),
            agreement
        );
        assert_eq!(
            contract_from_row(
                contract_to_row(&contract)
                    .unwrap()
                    .try_into_model()
                    .unwrap()
            )
            .unwrap(),
            contract
        );
    }
}
