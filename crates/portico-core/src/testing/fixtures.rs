//! Ready-made orgs, staff, clients and records for tests and benchmarks.

use rust_decimal::Decimal;
use time::macros::{date, datetime};
use time::{Duration, OffsetDateTime};

use crate::model::{
    ActivityEntry, Agreement, AgreementStatus, Appointment, AppointmentStatus, Attachment, Billing,
    Client, ClientId, Contact, Contract, ContractStatus, CostLine, Currency, Email, FileId,
    Invoice, InvoiceStatus, LineItem, Money, Org, OrgId, OrgSettings, Part, Plan, Quote,
    QuoteStatus, RecordId, RecordRef, Role, Schedule, Sections, Share, ShareId, ShareState, Staff,
    StaffId, Task, TaskId, TaxRate, TimeEntry, Update, UpdateId, Visit, WorkOrder, WorkStatus,
};
use crate::token::{KeyId, Nonce, TokenHash};

/// A fixed moment all fixtures start from.
pub const T0: OffsetDateTime = datetime!(2026-03-02 09:00 UTC);

fn id<T: TryFrom<String>>(raw: &str) -> T
where
    T::Error: std::fmt::Debug,
{
    T::try_from(raw.to_owned()).expect("fixture ids are valid")
}

/// A business-plan org with sharing on.
pub fn org(org_id: &str) -> Org {
    Org {
        id: id(org_id),
        name: "Bright Spark Electrical".into(),
        contact: Contact {
            phone: Some("+1 555 0100".into()),
            email: Some(Email::parse("office@brightspark.example").expect("valid")),
        },
        logo: Some(id("logo")),
        plan: Plan::Business,
        settings: OrgSettings::default(),
    }
}

/// A staff member of `org` with `role`.
pub fn staff(org: &OrgId, staff_id: &str, role: Role) -> Staff {
    Staff {
        id: id(staff_id),
        org_id: org.clone(),
        name: format!("Sam {staff_id}"),
        role,
        active: true,
        email: Some(Email::parse(&format!("{staff_id}@staff.example")).expect("valid")),
        phone: Some("+1 555 0199".into()),
        photo: Some(id(&format!("photo-{staff_id}"))),
    }
}

/// A client of `org`.
pub fn client(org: &OrgId, client_id: &str) -> Client {
    Client {
        id: id(client_id),
        org_id: org.clone(),
        name: "Jordan Lee".into(),
        email: Some(Email::parse("jordan@client.example").expect("valid")),
        phone: Some("+1 555 0142".into()),
        address: Some("12 Elm Street, Springfield".into()),
    }
}

/// A scheduled work order with two tasks (one internal), two files (one shared), two updates
/// (one shared), a part, and internal notes, hours and costs.
pub fn work_order(
    org: &OrgId,
    wo_id: &str,
    client: Option<&ClientId>,
    tech: Option<&StaffId>,
) -> WorkOrder {
    WorkOrder {
        id: id(wo_id),
        org_id: org.clone(),
        client_id: client.cloned(),
        title: "Rewire kitchen".into(),
        status: WorkStatus::Scheduled,
        description: "Replace the kitchen circuit and add two sockets.".into(),
        schedule: Schedule {
            start: Some(T0 + Duration::days(1)),
            end: Some(T0 + Duration::days(2)),
            technician: tech.cloned(),
        },
        tasks: vec![
            Task {
                id: id("t1"),
                title: "Isolate circuit".into(),
                done: false,
                internal: false,
            },
            Task {
                id: id("t2"),
                title: "Check van stock".into(),
                done: false,
                internal: true,
            },
        ],
        files: vec![
            Attachment {
                id: id("f1"),
                name: "before.jpg".into(),
                content_type: "image/jpeg".into(),
                caption: Some("Before".into()),
                shared: true,
                taken_at: None,
                stage: None,
            },
            Attachment {
                id: id("f2"),
                name: "meter.jpg".into(),
                content_type: "image/jpeg".into(),
                caption: None,
                shared: false,
                taken_at: None,
                stage: None,
            },
        ],
        parts: vec![Part {
            name: "Double socket".into(),
            quantity: Decimal::new(2, 0),
            unit_cost: Some(Decimal::new(450, 2)),
        }],
        signature: None,
        updates: vec![
            Update {
                id: id("u1"),
                author: tech.cloned(),
                posted_at: T0,
                body: "We will arrive between 8 and 9.".into(),
                shared: true,
            },
            Update {
                id: id("u2"),
                author: tech.cloned(),
                posted_at: T0,
                body: "Customer's dog is unfriendly.".into(),
                shared: false,
            },
        ],
        paid: false,
        currency: Currency::USD,
        internal_notes: "Gate code 4411.".into(),
        activity_log: vec![ActivityEntry {
            at: T0,
            actor: tech.cloned(),
            text: "Created".into(),
        }],
        time_entries: vec![TimeEntry {
            staff: tech.cloned().unwrap_or_else(|| id("nobody")),
            minutes: 90,
            hourly_rate: Decimal::new(8500, 2),
            note: "Survey".into(),
        }],
        costs: vec![CostLine {
            description: "Cable".into(),
            amount: Decimal::new(3210, 2),
        }],
        completed_at: None,
        paid_at: None,
    }
}

/// A work order of the size the benchmark projects: `tasks` tasks, `files` files (every other
/// one shared) and `updates` updates (every other one shared).
pub fn large_work_order(org: &OrgId, tasks: usize, files: usize, updates: usize) -> WorkOrder {
    let mut wo = work_order(org, "wo-large", Some(&id("c1")), Some(&id("tech")));
    wo.tasks = (0..tasks)
        .map(|i| Task {
            id: id(&format!("t{i}")),
            title: format!("Task number {i}"),
            done: i % 3 == 0,
            internal: i % 5 == 0,
        })
        .collect();
    wo.files = (0..files)
        .map(|i| Attachment {
            id: id(&format!("f{i}")),
            name: format!("photo-{i}.jpg"),
            content_type: "image/jpeg".into(),
            caption: Some(format!("Photo {i}")),
            shared: i % 2 == 0,
            taken_at: None,
            stage: None,
        })
        .collect();
    wo.updates = (0..updates)
        .map(|i| Update {
            id: id(&format!("u{i}")),
            author: Some(id("tech")),
            posted_at: T0 + Duration::minutes(i64::try_from(i).unwrap_or(i64::MAX)),
            body: format!("Update {i}: work is progressing as planned."),
            shared: i % 2 == 0,
        })
        .collect();
    wo
}

fn lines() -> Vec<LineItem> {
    vec![
        LineItem {
            description: "Labour".into(),
            quantity: Decimal::new(3, 0),
            unit_price: Decimal::new(9500, 2),
            taxable: true,
            unit_cost: Some(Decimal::new(4000, 2)),
        },
        LineItem {
            description: "Socket".into(),
            quantity: Decimal::new(2, 0),
            unit_price: Decimal::new(1299, 2),
            taxable: true,
            unit_cost: Some(Decimal::new(450, 2)),
        },
        LineItem {
            description: "Permit fee".into(),
            quantity: Decimal::ONE,
            unit_price: Decimal::new(5000, 2),
            taxable: false,
            unit_cost: None,
        },
    ]
}

/// A sent quote with three lines and one tax.
pub fn quote(org: &OrgId, quote_id: &str, client: Option<&ClientId>) -> Quote {
    Quote {
        id: id(quote_id),
        org_id: org.clone(),
        client_id: client.cloned(),
        number: "Q-1042".into(),
        title: "Kitchen rewire".into(),
        status: QuoteStatus::Sent,
        currency: Currency::USD,
        items: lines(),
        taxes: vec![TaxRate {
            name: "Sales tax".into(),
            percent: Decimal::new(8875, 3),
        }],
        valid_until: Some(date!(2026 - 04 - 01)),
        client_message: Some("Price includes disposal.".into()),
        internal_notes: "Margin 40%.".into(),
        decision: None,
    }
}

/// An issued, partly paid invoice for work order `wo`.
pub fn invoice(
    org: &OrgId,
    invoice_id: &str,
    client: Option<&ClientId>,
    wo: Option<&RecordId>,
) -> Invoice {
    Invoice {
        id: id(invoice_id),
        org_id: org.clone(),
        client_id: client.cloned(),
        work_order_id: wo.cloned(),
        number: "INV-2001".into(),
        title: "Kitchen rewire".into(),
        status: InvoiceStatus::Issued,
        currency: Currency::USD,
        items: lines(),
        taxes: vec![TaxRate {
            name: "Sales tax".into(),
            percent: Decimal::new(8875, 3),
        }],
        amount_paid: Decimal::new(10000, 2),
        due_date: Some(date!(2026 - 03 - 30)),
        internal_notes: "Chase after 30 days.".into(),
    }
}

/// An active share of `record` to the fixture client's email, showing every section, enabled
/// by `owner` at [`T0`], never opened and with no expiry.
pub fn share(org: &OrgId, record: RecordRef) -> Share {
    Share {
        id: ShareId(uuid::Uuid::from_bytes([7; 16])),
        org_id: org.clone(),
        record,
        recipient: Email::parse("jordan@client.example").expect("valid"),
        sections: Sections::ALL,
        state: ShareState::Active,
        key_id: KeyId(1),
        nonce: Nonce([7; 32]),
        token_hash: TokenHash([7; 32]),
        expires_at: None,
        created_at: T0,
        created_by: id("owner"),
        first_opened_at: None,
        last_opened_at: None,
    }
}

/// A valid task id, for tests.
pub fn task_id(raw: &str) -> TaskId {
    id(raw)
}

/// A valid update id, for tests.
pub fn update_id(raw: &str) -> UpdateId {
    id(raw)
}

/// A valid file id, for tests.
pub fn file_id(raw: &str) -> FileId {
    id(raw)
}

/// A valid record id, for tests.
pub fn record_id(raw: &str) -> RecordId {
    id(raw)
}

/// A monthly care plan of `client` with four visits (the first done), a cost, a margin and
/// internal notes.
pub fn agreement(org: &OrgId, agreement_id: &str, client: &ClientId) -> Agreement {
    Agreement {
        id: id(agreement_id),
        org_id: org.clone(),
        client_id: client.clone(),
        title: "Boiler care plan".into(),
        terms: "Yearly service and two safety checks. Parts are billed separately.".into(),
        status: AgreementStatus::Active,
        starts_on: date!(2026 - 01 - 01),
        ends_on: Some(date!(2026 - 12 - 31)),
        price: Money::new(Decimal::new(2_500, 2), Currency::USD),
        billing: Billing::Monthly,
        visits: vec![
            Visit {
                on: date!(2026 - 02 - 10),
                done: true,
            },
            Visit {
                on: date!(2026 - 05 - 12),
                done: false,
            },
            Visit {
                on: date!(2026 - 08 - 11),
                done: false,
            },
            Visit {
                on: date!(2026 - 11 - 10),
                done: false,
            },
        ],
        cost: Some(Decimal::new(1_400, 2)),
        margin_percent: Some(Decimal::new(44, 0)),
        internal_notes: "Dog in the garden; gate code 4412.".into(),
    }
}

/// A two-hour visit of `client`, starting `starts_at`, with the staff member `technician`.
pub fn appointment(
    org: &OrgId,
    appointment_id: &str,
    client: &ClientId,
    starts_at: OffsetDateTime,
) -> Appointment {
    Appointment {
        id: id(appointment_id),
        org_id: org.clone(),
        client_id: client.clone(),
        job: None,
        title: "Annual boiler service".into(),
        starts_at,
        ends_at: Some(starts_at + Duration::hours(2)),
        technician: Some(id("technician")),
        address: "12 Elm Street, Springfield".into(),
        status: AppointmentStatus::Scheduled,
        internal_notes: "Bring the long ladder.".into(),
    }
}

/// Version 1 of a contract to sign, sent at `T0`.
pub fn contract(org: &OrgId, contract_id: &str, client: &ClientId) -> Contract {
    Contract {
        id: id(contract_id),
        version: 1,
        org_id: org.clone(),
        client_id: client.clone(),
        title: "Service terms".into(),
        body: "1. We arrive within the window agreed.\n2. Payment is due in 14 days.".into(),
        document: None,
        status: ContractStatus::Sent,
        sent_at: T0,
        signature: None,
    }
}
