//! insta snapshots of the JSON client views: what a client sees, under a few section choices.

use insta::assert_json_snapshot;
use time::macros::datetime;

use portico_core::model::{Record, Role, Section, Sections, Signature};
use portico_core::policy::project::{Projection, project};
use portico_core::policy::quote::{ClientDecision, decide};
use portico_core::testing::fixtures::{self, T0};
use portico_core::view::ClientView;

fn view(record: &Record, sections: Sections) -> ClientView {
    let org = fixtures::org("org1");
    let client = fixtures::client(&org.id, "c1");
    let tech = fixtures::staff(&org.id, "tech", Role::Technician);
    let invoice = fixtures::invoice(&org.id, "inv1", Some(&client.id), Some(record.id()));
    project(&Projection {
        org: &org,
        record,
        client: Some(&client),
        staff: &[tech],
        invoices: &[invoice],
        sections,
        now: T0,
    })
}

fn work_order() -> Record {
    let org = fixtures::org("org1");
    let mut wo = fixtures::work_order(
        &org.id,
        "wo1",
        Some(&"c1".to_owned().try_into().unwrap()),
        Some(&"tech".to_owned().try_into().unwrap()),
    );
    wo.tasks[0].done = true;
    wo.signature = Some(Signature {
        signed_by: "Jordan Lee".into(),
        signed_at: datetime!(2026-03-03 16:30 UTC),
        image: Some(fixtures::file_id("sig")),
    });
    Record::WorkOrder(wo)
}

macro_rules! snapshot {
    ($name:expr, $value:expr) => {
        insta::with_settings!({ omit_expression => true }, {
            assert_json_snapshot!($name, $value, {
                ".**.posted_at" => "[time]",
                ".**.signed_at" => "[time]",
                ".**.start" => "[time]",
                ".**.end" => "[time]",
                ".**.at" => "[time]",
                ".**.id" => "[id]",
            });
        });
    };
}

#[test]
fn v1_work_order_view_all_sections() {
    snapshot!(
        "work_order_all_sections",
        view(&work_order(), Sections::ALL)
    );
}

#[test]
fn v1_work_order_view_no_sections() {
    snapshot!(
        "work_order_no_sections",
        view(&work_order(), Sections::NONE)
    );
}

#[test]
fn v1_work_order_view_schedule_and_updates_only() {
    let sections = Sections::NONE
        .with(Section::Schedule, true)
        .with(Section::Updates, true);
    snapshot!(
        "work_order_schedule_and_updates",
        view(&work_order(), sections)
    );
}

#[test]
fn v5_quote_view_undecided_and_decided() {
    let org = fixtures::org("org1");
    let mut quote = fixtures::quote(&org.id, "q1", Some(&"c1".to_owned().try_into().unwrap()));
    snapshot!(
        "quote_undecided",
        view(&Record::Quote(quote.clone()), Sections::ALL)
    );
    let message = "Could the sockets be white?".to_owned();
    quote.decision = Some(
        decide(
            &quote,
            ClientDecision::RequestChanges { message },
            T0,
            T0.date(),
        )
        .unwrap(),
    );
    snapshot!(
        "quote_changes_requested",
        view(&Record::Quote(quote), Sections::ALL)
    );
}

#[test]
fn v6_invoice_view() {
    let org = fixtures::org("org1");
    let invoice = fixtures::invoice(
        &org.id,
        "inv1",
        Some(&"c1".to_owned().try_into().unwrap()),
        None,
    );
    snapshot!(
        "invoice_partially_paid",
        view(&Record::Invoice(invoice), Sections::ALL)
    );
}
