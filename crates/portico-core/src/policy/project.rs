//! V1–V6: the projection of a record into what its client may see.

use crate::locale::Presentation;
use crate::model::{
    Client, Invoice, InvoiceStatus, LineItem, Money, Org, PaymentStatus, Quote, Record, Section,
    Sections, Staff, StaffId, WorkOrder, totals,
};
use crate::policy::quote;
use crate::view::{
    ClientInfoView, ClientView, CompanyCard, DecisionView, Due, FileView, InvoiceSummaryView,
    InvoiceView, LineView, PartView, QuoteView, ScheduleView, SignatureView, TaskView,
    TechnicianView, UpdateView, ViewBody, WorkOrderView,
};

/// Everything a projection reads. The caller loads it; the projection decides what shows.
#[derive(Debug, Clone, Copy)]
pub struct Projection<'a> {
    /// The org (company card, V2).
    pub org: &'a Org,
    /// The record shared.
    pub record: &'a Record,
    /// The record's client.
    pub client: Option<&'a Client>,
    /// Staff the record names (technician, update authors); only names and photos are read.
    pub staff: &'a [Staff],
    /// A work order's invoices.
    pub invoices: &'a [Invoice],
    /// The share's visible sections.
    pub sections: Sections,
    /// The moment of the view; date rules (a quote's last day, an invoice due today) use the
    /// org's date of it (V9).
    pub now: time::OffsetDateTime,
}

/// The company card every page shows (V2).
pub fn company_card(org: &Org) -> CompanyCard {
    CompanyCard {
        name: org.name.clone(),
        logo: org.logo.clone(),
        phone: org.contact.phone.clone(),
        email: org.contact.email.clone(),
    }
}

/// Projects the record into its client view.
pub fn project(p: &Projection<'_>) -> ClientView {
    let presentation = Presentation::of(p.org);
    let today = presentation.today(p.now);
    let body = match p.record {
        Record::WorkOrder(wo) => ViewBody::WorkOrder(work_order(p, wo)),
        Record::Quote(q) => ViewBody::Quote(quote_view(p, q, today)),
        Record::Invoice(inv) => ViewBody::Invoice(invoice_view(p, inv, today)),
    };
    ClientView {
        company: company_card(p.org),
        kind: p.record.kind(),
        title: p.record.title().to_owned(),
        status: p.record.status_label().to_owned(),
        body,
        presentation,
    }
}

fn staff<'a>(p: &Projection<'a>, id: &StaffId) -> Option<&'a Staff> {
    p.staff.iter().find(|s| &s.id == id)
}

fn client_info(client: &Client) -> ClientInfoView {
    ClientInfoView {
        name: client.name.clone(),
        address: client.address.clone(),
        phone: client.phone.clone(),
        email: client.email.clone(),
    }
}

fn work_order(p: &Projection<'_>, wo: &WorkOrder) -> WorkOrderView {
    let on = |s: Section| p.sections.is_on(s);
    let mut updates: Vec<UpdateView> = wo
        .updates
        .iter()
        .filter(|u| u.shared)
        .map(|u| UpdateView {
            posted_at: u.posted_at,
            author: u
                .author
                .as_ref()
                .and_then(|a| staff(p, a))
                .map(|s| s.name.clone()),
            body: u.body.clone(),
        })
        .collect();
    updates.sort_by_key(|u| std::cmp::Reverse(u.posted_at));
    WorkOrderView {
        client_info: on(Section::ClientInfo)
            .then_some(p.client)
            .flatten()
            .map(client_info),
        scope: on(Section::Scope).then(|| wo.description.clone()),
        schedule: on(Section::Schedule).then(|| ScheduleView {
            start: wo.schedule.start,
            end: wo.schedule.end,
            technician: wo
                .schedule
                .technician
                .as_ref()
                .and_then(|t| staff(p, t))
                .map(|s| TechnicianView {
                    name: s.name.clone(),
                    photo: s.photo.clone(),
                }),
        }),
        checklist: on(Section::Checklist).then(|| {
            wo.tasks
                .iter()
                .filter(|t| !t.internal)
                .map(|t| TaskView {
                    id: t.id.clone(),
                    title: t.title.clone(),
                    done: t.done,
                })
                .collect()
        }),
        photos_files: on(Section::PhotosFiles).then(|| {
            wo.files
                .iter()
                .filter(|f| f.shared)
                .map(|f| FileView {
                    id: f.id.clone(),
                    name: f.name.clone(),
                    content_type: f.content_type.clone(),
                    caption: f.caption.clone(),
                    taken_at: f.taken_at,
                    stage: f.stage,
                })
                .collect()
        }),
        parts_used: on(Section::PartsUsed).then(|| {
            wo.parts
                .iter()
                .map(|part| PartView {
                    name: part.name.clone(),
                    quantity: part.quantity,
                })
                .collect()
        }),
        signature: on(Section::Signature).then(|| {
            wo.signature.as_ref().map(|s| SignatureView {
                signed_by: s.signed_by.clone(),
                signed_at: s.signed_at,
                image: s.image.clone(),
            })
        }),
        invoices: on(Section::Invoices).then(|| {
            p.invoices
                .iter()
                .filter(|i| invoice_shows_on(i, wo))
                .map(|i| InvoiceSummaryView {
                    number: i.number.clone(),
                    total: i.totals().total,
                    paid: Money::new(i.amount_paid, i.currency),
                    due: Money::new(i.amount_due(), i.currency),
                    status: i.payment_status(),
                })
                .collect()
        }),
        updates: on(Section::Updates).then_some(updates),
    }
}

/// V1, V4: an invoice shows in a work order's `invoices` section only when it bills that work
/// order, was issued (drafts and voided ones never show), and names the work order's own
/// client: another client's invoice never reaches this page, whatever the host linked.
pub fn invoice_shows_on(invoice: &Invoice, wo: &WorkOrder) -> bool {
    invoice.org_id == wo.org_id
        && invoice.work_order_id.as_ref() == Some(&wo.id)
        && invoice.status == InvoiceStatus::Issued
        && wo.client_id.is_some()
        && invoice.client_id == wo.client_id
}

fn lines(items: &[LineItem], currency: crate::model::Currency) -> Vec<LineView> {
    items
        .iter()
        .map(|i| LineView {
            description: i.description.clone(),
            quantity: i.quantity,
            unit_price: Money::new(i.unit_price, currency),
            amount: Money::new(i.quantity.saturating_mul(i.unit_price), currency),
        })
        .collect()
}

fn quote_view(p: &Projection<'_>, q: &Quote, today: time::Date) -> QuoteView {
    QuoteView {
        number: q.number.clone(),
        client_name: p.client.map(|c| c.name.clone()),
        items: lines(&q.items, q.currency),
        totals: totals(&q.items, &q.taxes, q.currency),
        valid_until: q.valid_until,
        message: q.client_message.clone(),
        decision: q.decision.as_ref().map(|d| DecisionView {
            kind: d.kind,
            message: d.message.clone(),
            at: d.at,
        }),
        can_decide: quote::decidable(q, today).is_ok(),
    }
}

fn invoice_view(p: &Projection<'_>, inv: &Invoice, today: time::Date) -> InvoiceView {
    InvoiceView {
        number: inv.number.clone(),
        client_name: p.client.map(|c| c.name.clone()),
        items: lines(&inv.items, inv.currency),
        totals: inv.totals(),
        amount_paid: Money::new(inv.amount_paid, inv.currency),
        amount_due: Money::new(inv.amount_due(), inv.currency),
        payment_status: inv.payment_status(),
        due_date: inv.due_date,
        due: inv
            .due_date
            .filter(|_| {
                matches!(
                    inv.payment_status(),
                    PaymentStatus::Unpaid | PaymentStatus::PartiallyPaid
                )
            })
            .map(|date| due(date, today)),
    }
}

/// V9: a due date against the org's date `today` (never UTC's).
pub fn due(date: time::Date, today: time::Date) -> Due {
    match date.cmp(&today) {
        std::cmp::Ordering::Greater => Due::Later,
        std::cmp::Ordering::Equal => Due::Today,
        std::cmp::Ordering::Less => Due::Overdue,
    }
}
