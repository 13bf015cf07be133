//! Rows of what clients send from the portal (messages, service requests) and of the org's
//! event log, with the frozen JSON shape of an event's data.

use portico_core::model::{
    Author, FeedEvent, FeedEventKind, IntentId, Message, MessageId, RequestState, ServiceRequest,
    ServiceRequestId, Thread,
};
use portico_core::ports::StoreError;
use sea_orm::ActiveValue::{NotSet, Set};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::columns::Instant;
use crate::convert::{corrupt, host_id};
use crate::document::{DecisionKindV1, MoneyV1, day, day_text};
use crate::entity::{events, messages, service_requests};

pub(crate) fn message_to_row(m: &Message) -> messages::ActiveModel {
    let (staff, name) = match &m.author {
        Author::Client => (None, None),
        Author::Staff { staff, name } => (Some(staff.as_str().to_owned()), Some(name.clone())),
    };
    messages::ActiveModel {
        seq: NotSet,
        id: Set(m.id.0),
        org_id: Set(m.org_id.as_str().to_owned()),
        client_id: Set(m.client_id.as_str().to_owned()),
        job_id: Set(m.thread.job().map(|j| j.as_str().to_owned())),
        author_staff: Set(staff),
        author_name: Set(name),
        body: Set(m.body.clone()),
        at: Set(Instant::new(m.at)),
        read_at: Set(m.read_at.map(Instant::new)),
    }
}

pub(crate) fn message_from_row(row: messages::Model) -> Result<Message, StoreError> {
    let what = "message";
    let author = match (row.author_staff, row.author_name) {
        (None, None) => Author::Client,
        (Some(staff), Some(name)) => Author::Staff {
            staff: host_id(what, staff)?,
            name,
        },
        _ => return Err(corrupt(what, "a staff author without a name")),
    };
    Ok(Message {
        id: MessageId(row.id),
        org_id: host_id(what, row.org_id)?,
        client_id: host_id(what, row.client_id)?,
        thread: match row.job_id {
            None => Thread::General,
            Some(job) => Thread::Job(host_id(what, job)?),
        },
        author,
        body: row.body,
        at: row.at.0,
        read_at: row.read_at.map(|t| t.0),
    })
}

pub(crate) fn request_to_row(
    r: &ServiceRequest,
) -> Result<service_requests::ActiveModel, StoreError> {
    let days = r
        .preferred_dates
        .iter()
        .map(|d| day_text(*d))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(service_requests::ActiveModel {
        id: Set(r.id.0),
        org_id: Set(r.org_id.as_str().to_owned()),
        client_id: Set(r.client_id.as_str().to_owned()),
        name: Set(r.name.clone()),
        email: Set(r.email.as_ref().map(|e| e.as_str().to_owned())),
        phone: Set(r.phone.clone()),
        address: Set(r.address.clone()),
        description: Set(r.description.clone()),
        preferred_dates: Set(days.join(",")),
        photos: Set(r
            .photos
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",")),
        state: Set(r.state.as_str().to_owned()),
        created_at: Set(Instant::new(r.created_at)),
        updated_at: Set(Instant::new(r.updated_at)),
    })
}

pub(crate) fn request_from_row(row: service_requests::Model) -> Result<ServiceRequest, StoreError> {
    let what = "service request";
    let preferred_dates = row
        .preferred_dates
        .split(',')
        .filter(|d| !d.is_empty())
        .map(|d| day(what, d))
        .collect::<Result<_, _>>()?;
    Ok(ServiceRequest {
        id: ServiceRequestId(row.id),
        org_id: host_id(what, row.org_id)?,
        client_id: host_id(what, row.client_id)?,
        name: row.name,
        email: row
            .email
            .map(|e| portico_core::model::Email::parse(&e).map_err(|e| corrupt(what, e)))
            .transpose()?,
        phone: row.phone,
        address: row.address,
        description: row.description,
        preferred_dates,
        photos: row
            .photos
            .split(',')
            .filter(|p| !p.is_empty())
            .map(|p| Uuid::parse_str(p).map_err(|e| corrupt(what, e)))
            .collect::<Result<_, _>>()?,
        state: RequestState::parse(&row.state)
            .ok_or_else(|| corrupt(what, format!("unknown state {}", row.state)))?,
        created_at: row.created_at.0,
        updated_at: row.updated_at.0,
    })
}

/// Version 1 of an event's data (`events.data`).
#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum FeedEventV1 {
    QuoteDecided {
        quote: String,
        decision: DecisionKindV1,
    },
    MessageReceived {
        message: Uuid,
        job: Option<String>,
    },
    ServiceRequested {
        request: Uuid,
    },
    ContractSigned {
        contract: String,
        version: u32,
    },
    InvoicePaid {
        invoice: String,
        amount: MoneyV1,
        intent: String,
    },
    PaymentFailed {
        invoice: String,
        amount: MoneyV1,
        intent: String,
    },
    LinkFirstOpened {
        share: Uuid,
        record_kind: String,
        record_id: String,
    },
    PortalFirstSignIn,
}

/// The JSON of an event's data, in the current version.
pub(crate) fn event_to_json(kind: &FeedEventKind) -> Result<serde_json::Value, StoreError> {
    let doc = match kind {
        FeedEventKind::QuoteDecided { quote, decision } => FeedEventV1::QuoteDecided {
            quote: quote.as_str().to_owned(),
            decision: (*decision).into(),
        },
        FeedEventKind::MessageReceived { message, job } => FeedEventV1::MessageReceived {
            message: message.0,
            job: job.as_ref().map(|j| j.as_str().to_owned()),
        },
        FeedEventKind::ServiceRequested { request } => {
            FeedEventV1::ServiceRequested { request: request.0 }
        }
        FeedEventKind::ContractSigned { contract, version } => FeedEventV1::ContractSigned {
            contract: contract.as_str().to_owned(),
            version: *version,
        },
        FeedEventKind::InvoicePaid {
            invoice,
            amount,
            intent,
        } => FeedEventV1::InvoicePaid {
            invoice: invoice.as_str().to_owned(),
            amount: MoneyV1::of(amount),
            intent: intent.as_str().to_owned(),
        },
        FeedEventKind::PaymentFailed {
            invoice,
            amount,
            intent,
        } => FeedEventV1::PaymentFailed {
            invoice: invoice.as_str().to_owned(),
            amount: MoneyV1::of(amount),
            intent: intent.as_str().to_owned(),
        },
        FeedEventKind::LinkFirstOpened { share, record } => FeedEventV1::LinkFirstOpened {
            share: share.0,
            record_kind: crate::convert::kind_str(record.kind).to_owned(),
            record_id: record.id.as_str().to_owned(),
        },
        FeedEventKind::PortalFirstSignIn => FeedEventV1::PortalFirstSignIn,
    };
    serde_json::to_value(doc).map_err(|e| StoreError::Backend(Box::new(e)))
}

/// The event data stored as `json`.
pub(crate) fn event_from_json(json: serde_json::Value) -> Result<FeedEventKind, StoreError> {
    let what = "event";
    Ok(
        match serde_json::from_value::<FeedEventV1>(json).map_err(|e| corrupt(what, e))? {
            FeedEventV1::QuoteDecided { quote, decision } => FeedEventKind::QuoteDecided {
                quote: host_id(what, quote)?,
                decision: decision.into(),
            },
            FeedEventV1::MessageReceived { message, job } => FeedEventKind::MessageReceived {
                message: MessageId(message),
                job: job.map(|j| host_id(what, j)).transpose()?,
            },
            FeedEventV1::ServiceRequested { request } => FeedEventKind::ServiceRequested {
                request: ServiceRequestId(request),
            },
            FeedEventV1::ContractSigned { contract, version } => FeedEventKind::ContractSigned {
                contract: host_id(what, contract)?,
                version,
            },
            FeedEventV1::InvoicePaid {
                invoice,
                amount,
                intent,
            } => FeedEventKind::InvoicePaid {
                invoice: host_id(what, invoice)?,
                amount: amount.money()?,
                intent: IntentId::new(&intent).map_err(|e| corrupt(what, e))?,
            },
            FeedEventV1::PaymentFailed {
                invoice,
                amount,
                intent,
            } => FeedEventKind::PaymentFailed {
                invoice: host_id(what, invoice)?,
                amount: amount.money()?,
                intent: IntentId::new(&intent).map_err(|e| corrupt(what, e))?,
            },
            FeedEventV1::LinkFirstOpened {
                share,
                record_kind,
                record_id,
            } => FeedEventKind::LinkFirstOpened {
                share: portico_core::model::ShareId(share),
                record: portico_core::model::RecordRef {
                    kind: crate::convert::kind_from(&record_kind)?,
                    id: host_id(what, record_id)?,
                },
            },
            FeedEventV1::PortalFirstSignIn => FeedEventKind::PortalFirstSignIn,
        },
    )
}

pub(crate) fn event_to_row(e: &FeedEvent, seq: i64) -> Result<events::ActiveModel, StoreError> {
    Ok(events::ActiveModel {
        org_id: Set(e.org_id.as_str().to_owned()),
        seq: Set(seq),
        id: Set(e.id),
        at: Set(Instant::new(e.at)),
        client_id: Set(e.client_id.as_ref().map(|c| c.as_str().to_owned())),
        kind: Set(e.kind.type_name().to_owned()),
        data: Set(event_to_json(&e.kind)?),
    })
}

pub(crate) fn event_from_row(row: events::Model) -> Result<FeedEvent, StoreError> {
    let what = "event";
    Ok(FeedEvent {
        org_id: host_id(what, row.org_id)?,
        seq: u64::try_from(row.seq).map_err(|e| corrupt(what, e))?,
        id: row.id,
        at: row.at.0,
        client_id: row.client_id.map(|c| host_id(what, c)).transpose()?,
        kind: event_from_json(row.data)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c7_every_stored_event_shape_still_reads() {
        let path = format!(
            "{}/tests/fixtures/stored/events-v1.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let stored: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).expect("checked in"))
                .expect("JSON");
        let uuid = Uuid::parse_str("0f0f0f0f-0f0f-4f0f-8f0f-0f0f0f0f0f0f").unwrap();
        let expected = [
            (
                "quote_decided",
                FeedEventKind::QuoteDecided {
                    quote: host_id("t", "q1".to_owned()).unwrap(),
                    decision: portico_core::model::DecisionKind::ChangesRequested,
                },
            ),
            (
                "message_received",
                FeedEventKind::MessageReceived {
                    message: MessageId(uuid),
                    job: Some(host_id("t", "wo1".to_owned()).unwrap()),
                },
            ),
            (
                "service_requested",
                FeedEventKind::ServiceRequested {
                    request: ServiceRequestId(uuid),
                },
            ),
            (
                "contract_signed",
                FeedEventKind::ContractSigned {
                    contract: host_id("t", "c1".to_owned()).unwrap(),
                    version: 2,
                },
            ),
            (
                "invoice_paid",
                FeedEventKind::InvoicePaid {
                    invoice: host_id("t", "inv1".to_owned()).unwrap(),
                    amount: portico_core::model::Money::new(
                        rust_decimal::Decimal::new(73_425, 2),
                        portico_core::model::Currency::USD,
                    ),
                    intent: IntentId::new("pi_3Abc").unwrap(),
                },
            ),
            (
                "payment_failed",
                FeedEventKind::PaymentFailed {
                    invoice: host_id("t", "inv1".to_owned()).unwrap(),
                    amount: portico_core::model::Money::new(
                        rust_decimal::Decimal::new(73_425, 2),
                        portico_core::model::Currency::USD,
                    ),
                    intent: IntentId::new("pi_3Abc").unwrap(),
                },
            ),
            (
                "link_first_opened",
                FeedEventKind::LinkFirstOpened {
                    share: portico_core::model::ShareId(uuid),
                    record: portico_core::model::RecordRef {
                        kind: portico_core::model::RecordKind::Invoice,
                        id: host_id("t", "inv1".to_owned()).unwrap(),
                    },
                },
            ),
            ("portal_first_sign_in", FeedEventKind::PortalFirstSignIn),
        ];
        let stored = stored.as_object().expect("named documents");
        assert_eq!(stored.len(), expected.len(), "one document per shape");
        for (name, kind) in expected {
            let read = event_from_json(stored[name].clone())
                .unwrap_or_else(|e| panic!("{name} no longer reads ({e}); migrate it"));
            assert_eq!(read, kind, "{name}");
            assert_eq!(
                event_from_json(event_to_json(&kind).unwrap()).unwrap(),
                kind
            );
        }
    }
}
