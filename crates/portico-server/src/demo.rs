//! `portico demo`: a demo org with staff, a client, a work order (tasks, photos, shared and
//! internal updates, internal notes), a quote and an invoice, all three shared. Running it again
//! changes nothing and prints the same links and key.

use anyhow::{Context, Result};
use hmac::{Hmac, Mac};
use portico_core::Portico;
use portico_core::model::{
    ActivityEntry, Agreement, AgreementStatus, Appointment, AppointmentStatus, Attachment, Billing,
    Client, ClientId, Contact, CostLine, Currency, Email, Invoice, InvoiceStatus, LineItem, Money,
    Org, OrgId, OrgSettings, Part, PhotoStage, Plan, Quote, QuoteStatus, Record, RecordKind,
    RecordRef, Role, Schedule, Staff, StaffId, Task, TaxRate, TimeEntry, Update, Visit, WorkOrder,
    WorkStatus,
};
use portico_core::service::{ContractDraft, EnableShare};
use portico_core::token::ApiKey;
use rust_decimal::Decimal;
use serde::Serialize;
use sha2::Sha256;
use time::macros::{date, datetime};

/// What the demo prints.
#[derive(Debug, Serialize)]
pub struct DemoLinks {
    /// The integration API's base URL.
    pub api_base: String,
    /// An API key of the demo org.
    pub api_key: String,
    /// The demo org's id.
    pub org_id: String,
    /// The work order's share link.
    pub work_order_share_url: String,
    /// The quote's share link.
    pub quote_share_url: String,
    /// The invoice's share link.
    pub invoice_share_url: String,
    /// The demo org's client portal (C3): sign in there as `portal_email`.
    pub portal_url: String,
    /// The demo client's email, invited to the portal; the invitation and sign-in mails go
    /// to the mail folder (or SMTP) once `serve` runs.
    pub portal_email: String,
}

fn id<T: TryFrom<String>>(raw: &str) -> Result<T>
where
    T::Error: std::error::Error + Send + Sync + 'static,
{
    Ok(T::try_from(raw.to_owned())?)
}

fn email(raw: &str) -> Result<Email> {
    Ok(Email::parse(raw)?)
}

/// The demo's API key, derived from the token secret so every run prints the same one.
fn demo_key(secret: &[u8]) -> Result<ApiKey> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).context("the token secret is unusable")?;
    mac.update(b"portico demo api key");
    Ok(ApiKey::from_random(mac.finalize().into_bytes().into()))
}

/// The photos' bytes, so the work order's pages can show them (uploading again replaces).
async fn upload_photos(portico: &Portico, org: &OrgId, owner: &StaffId) -> Result<()> {
    for (file, bytes) in [
        (
            "photo-before",
            &include_bytes!("../assets/demo-before.png")[..],
        ),
        (
            "photo-meter",
            &include_bytes!("../assets/demo-meter.png")[..],
        ),
    ] {
        portico
            .put_file(owner, org, &id(file)?, "image/png", bytes.to_vec())
            .await?;
    }
    Ok(())
}

/// Seeds the demo and returns its links.
pub async fn seed(
    portico: &Portico,
    secret: &[u8],
    public_url: &portico_http::PublicUrl,
) -> Result<DemoLinks> {
    let org_id: OrgId = id("demo")?;
    portico
        .put_org(&Org {
            id: org_id.clone(),
            name: "Bright Spark Electrical".into(),
            contact: Contact {
                phone: Some("+1 555 0100".into()),
                email: Some(email("office@brightspark.example")?),
            },
            logo: None,
            plan: Plan::Business,
            settings: OrgSettings::default(),
        })
        .await?;
    let owner = Staff {
        id: id("demo-owner")?,
        org_id: org_id.clone(),
        name: "Alex Owner".into(),
        role: Role::Owner,
        active: true,
        email: Some(email("alex@brightspark.example")?),
        phone: Some("+1 555 0101".into()),
        photo: None,
    };
    let tech = Staff {
        id: id("demo-tech")?,
        name: "Sam Spark".into(),
        role: Role::Technician,
        email: Some(email("sam@brightspark.example")?),
        phone: Some("+1 555 0102".into()),
        ..owner.clone()
    };
    portico.put_staff(&owner).await?;
    portico.put_staff(&tech).await?;
    let client = Client {
        id: id("demo-client")?,
        org_id: org_id.clone(),
        name: "Jordan Lee".into(),
        email: Some(email("jordan@client.example")?),
        phone: Some("+1 555 0142".into()),
        address: Some("12 Elm Street, Springfield".into()),
    };
    portico.put_client(&client).await?;
    upload_photos(portico, &org_id, &owner.id).await?;

    let records = records(&org_id, &client.id, &owner.id, &tech.id)?;
    let mut links = Vec::new();
    for record in records {
        let reference = RecordRef {
            kind: record.kind(),
            id: record.id().clone(),
        };
        portico.upsert_record(&owner.id, &record).await?;
        let share = portico
            .enable_share(&owner.id, &org_id, &reference, &EnableShare::default())
            .await?;
        links.push((
            reference.kind,
            share.link.context("an enabled share has a link")?,
        ));
    }
    let link = |kind: RecordKind| {
        links
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, l)| l.clone())
            .unwrap_or_default()
    };

    let key = demo_key(secret)?;
    portico.ensure_api_key(&org_id, "demo", &key).await?;
    portico
        .invite_to_portal(&org_id, &owner.id, &client.id)
        .await?;
    portal_extras(portico, &org_id, &owner.id, &tech.id, &client.id).await?;
    let portal_email = client
        .email
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default();
    Ok(DemoLinks {
        api_base: public_url.join("/v1"),
        api_key: key.expose().to_owned(),
        org_id: org_id.to_string(),
        work_order_share_url: link(RecordKind::WorkOrder),
        quote_share_url: link(RecordKind::Quote),
        invoice_share_url: link(RecordKind::Invoice),
        portal_url: public_url.join(&format!("/portal/{org_id}")),
        portal_email,
    })
}

/// The portal's other sections: a care plan with its visits, a past and a coming appointment,
/// a contract to sign and a message from the business (sent once: seeding again adds none).
// Reason: demo data reads best as one literal, top to bottom.
#[allow(clippy::too_many_lines)]
async fn portal_extras(
    portico: &Portico,
    org: &OrgId,
    owner: &StaffId,
    tech: &StaffId,
    client: &ClientId,
) -> Result<()> {
    let now = portico.now();
    let today = now.date();
    let visits = (-1..=2)
        .map(|quarter: i64| Visit {
            on: today + time::Duration::days(91 * quarter + 7),
            done: quarter < 0,
        })
        .collect();
    portico
        .put_agreement(
            owner,
            &Agreement {
                id: id("demo-plan")?,
                org_id: org.clone(),
                client_id: client.clone(),
                title: "Home electrical safety plan".into(),
                terms: "A safety inspection every quarter, priority call-outs within 24 hours \
                        and 10% off parts. Cancel at any time with a month's notice."
                    .into(),
                status: AgreementStatus::Active,
                starts_on: today - time::Duration::days(120),
                ends_on: Some(today + time::Duration::days(245)),
                price: Money::new(Decimal::new(2_900, 2), Currency::USD),
                billing: Billing::Monthly,
                visits,
                cost: Some(Decimal::new(1_100, 2)),
                margin_percent: Some(Decimal::new(62, 0)),
                internal_notes: "Upsell the EV charger at the next visit.".into(),
            },
        )
        .await?;
    let start = |days: i64, hour: u8| -> Result<time::OffsetDateTime> {
        Ok((today + time::Duration::days(days))
            .with_hms(hour, 0, 0)?
            .assume_utc())
    };
    for (key, title, at, status, job) in [
        (
            "demo-visit-1",
            "Kitchen rewire, first day",
            start(-6, 8)?,
            AppointmentStatus::Done,
            Some(id("demo-wo")?),
        ),
        (
            "demo-visit-2",
            "Quarterly safety inspection",
            start(7, 9)?,
            AppointmentStatus::Scheduled,
            None,
        ),
    ] {
        portico
            .put_appointment(
                owner,
                &Appointment {
                    id: id(key)?,
                    org_id: org.clone(),
                    client_id: client.clone(),
                    job,
                    title: title.into(),
                    starts_at: at,
                    ends_at: Some(at + time::Duration::hours(3)),
                    technician: Some(tech.clone()),
                    address: "12 Elm Street, Springfield".into(),
                    status,
                    internal_notes: "Park on the drive.".into(),
                },
            )
            .await?;
    }
    portico
        .put_contract(
            owner,
            &ContractDraft {
                org_id: org.clone(),
                id: id("demo-terms")?,
                client_id: client.clone(),
                title: "Safety plan agreement".into(),
                body: "1. Bright Spark Electrical inspects the home's wiring every quarter.\n\
                       2. Call-outs are answered within 24 hours.\n\
                       3. The plan costs $29.00 a month, billed on the 1st.\n\
                       4. Either side may end the plan with one month's notice."
                    .into(),
                document: None,
                void: false,
            },
        )
        .await?;
    if portico.client_messages(org, client).await?.is_empty() {
        portico
            .send_client_message(
                org,
                owner,
                client,
                Some(&id("demo-wo")?),
                "Hi Jordan, Sam will finish the sockets tomorrow morning. Any questions, just reply here.",
            )
            .await?;
    }
    Ok(())
}

/// The demo's work order, quote and invoice.
// Reason: demo data reads best as one literal, top to bottom.
#[allow(clippy::too_many_lines)]
fn records(org: &OrgId, client: &ClientId, owner: &StaffId, tech: &StaffId) -> Result<Vec<Record>> {
    let posted = datetime!(2026-03-02 09:00 UTC);
    let work_order = WorkOrder {
        id: id("demo-wo")?,
        org_id: org.clone(),
        client_id: Some(client.clone()),
        title: "Rewire kitchen".into(),
        status: WorkStatus::InProgress,
        description: "Replace the kitchen circuit and add two double sockets by the worktop."
            .into(),
        schedule: Schedule {
            start: Some(datetime!(2026-03-03 08:00 UTC)),
            end: Some(datetime!(2026-03-04 16:00 UTC)),
            technician: Some(tech.clone()),
        },
        tasks: vec![
            Task {
                id: id("t1")?,
                title: "Isolate the kitchen circuit".into(),
                done: true,
                internal: false,
            },
            Task {
                id: id("t2")?,
                title: "Run new cable".into(),
                done: false,
                internal: false,
            },
            Task {
                id: id("t3")?,
                title: "Fit and test sockets".into(),
                done: false,
                internal: false,
            },
            Task {
                id: id("t4")?,
                title: "Restock the van".into(),
                done: false,
                internal: true,
            },
        ],
        files: vec![
            Attachment {
                id: id("photo-before")?,
                name: "before.png".into(),
                content_type: "image/png".into(),
                caption: Some("Before we started".into()),
                shared: true,
                taken_at: Some(datetime!(2026-03-03 08:30 UTC)),
                stage: Some(PhotoStage::Before),
            },
            Attachment {
                id: id("photo-meter")?,
                name: "meter.png".into(),
                content_type: "image/png".into(),
                caption: None,
                shared: false,
                taken_at: Some(datetime!(2026-03-04 15:00 UTC)),
                stage: Some(PhotoStage::After),
            },
        ],
        parts: vec![Part {
            name: "Double socket, white".into(),
            quantity: Decimal::new(2, 0),
            unit_cost: Some(Decimal::new(450, 2)),
        }],
        signature: None,
        updates: vec![
            Update {
                id: id("u1")?,
                author: Some(tech.clone()),
                posted_at: posted,
                body: "We will arrive between 8 and 9.".into(),
                shared: true,
            },
            Update {
                id: id("u2")?,
                author: Some(tech.clone()),
                posted_at: posted,
                body: "Customer's dog is nervous; use the side gate.".into(),
                shared: false,
            },
        ],
        paid: false,
        currency: Currency::USD,
        internal_notes: "Gate code 4411. Quote margin 40%.".into(),
        activity_log: vec![ActivityEntry {
            at: posted,
            actor: Some(owner.clone()),
            text: "Job created".into(),
        }],
        time_entries: vec![TimeEntry {
            staff: tech.clone(),
            minutes: 90,
            hourly_rate: Decimal::new(8500, 2),
            note: "Survey".into(),
        }],
        costs: vec![CostLine {
            description: "Cable, 25 m".into(),
            amount: Decimal::new(3210, 2),
        }],
        completed_at: None,
        paid_at: None,
    };
    let items = vec![
        LineItem {
            description: "Labour (hours)".into(),
            quantity: Decimal::new(6, 0),
            unit_price: Decimal::new(9500, 2),
            taxable: true,
            unit_cost: Some(Decimal::new(4000, 2)),
        },
        LineItem {
            description: "Double socket, white".into(),
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
    ];
    let taxes = vec![TaxRate {
        name: "Sales tax".into(),
        percent: Decimal::new(8875, 3),
    }];
    let quote = Quote {
        id: id("demo-quote")?,
        org_id: org.clone(),
        client_id: Some(client.clone()),
        number: "Q-1042".into(),
        title: "Kitchen rewire".into(),
        status: QuoteStatus::Sent,
        currency: Currency::USD,
        items: items.clone(),
        taxes: taxes.clone(),
        valid_until: Some(date!(2030 - 12 - 31)),
        client_message: Some("The price includes disposal of the old wiring.".into()),
        internal_notes: "Room to discount 5%.".into(),
        decision: None,
    };
    let invoice = Invoice {
        id: id("demo-invoice")?,
        org_id: org.clone(),
        client_id: Some(client.clone()),
        work_order_id: Some(work_order.id.clone()),
        number: "INV-2001".into(),
        title: "Kitchen rewire, deposit".into(),
        status: InvoiceStatus::Issued,
        currency: Currency::USD,
        items,
        taxes,
        amount_paid: Decimal::new(20000, 2),
        due_date: Some(date!(2030 - 12 - 31)),
        internal_notes: "Chase after 30 days.".into(),
    };
    Ok(vec![
        Record::WorkOrder(work_order),
        Record::Quote(quote),
        Record::Invoice(invoice),
    ])
}
