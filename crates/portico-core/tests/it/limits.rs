//! I6 at its edges: the longest (or largest) input of each kind is kept and one more is refused
//! with a clear error, never stored.

use rust_decimal::Decimal;

use portico_core::model::{Record, Role, Task, TaxRate};
use portico_core::service::{ClientError, FileError, HelpRequest, MAX_ITEMS, RecordError};
use portico_core::testing::fixtures;

use crate::support::{World, owner, staff_id, token};

#[test]
fn i6_v2_a_help_request_keeps_the_longest_name_message_and_phone_and_refuses_one_more() {
    let w = World::new();
    let link = w.enable(&w.wo).link.unwrap();
    let help = |name: String, phone: Option<String>, message: String| {
        w.block_on(w.portico.ask_for_help(
            token(&link),
            &HelpRequest {
                name,
                phone,
                message,
            },
        ))
    };
    let (name, message, phone) = ("n".repeat(200), "m".repeat(5000), "1".repeat(40));
    help(name.clone(), Some(phone.clone()), message.clone()).unwrap();
    for (row, refused) in [
        ("a name of 201", help("n".repeat(201), None, "m".into())),
        (
            "a message of 5,001",
            help("n".into(), None, "m".repeat(5001)),
        ),
        (
            "a phone of 41",
            help("n".into(), Some("1".repeat(41)), "m".into()),
        ),
    ] {
        assert!(
            matches!(refused, Err(ClientError::Invalid(_))),
            "{row}: {refused:?}"
        );
    }
    let queued = w.outbox().len();
    assert!(queued >= 1, "the longest request was queued");
}

#[test]
fn i6_host_text_and_lists_keep_their_longest_and_refuse_one_more() {
    let w = World::new();
    let mut org = fixtures::org(w.org.as_str());
    org.name = "o".repeat(200);
    w.block_on(w.portico.put_org(&org)).unwrap();
    org.name.push('o');
    let refused = w.block_on(w.portico.put_org(&org));
    assert!(
        matches!(refused, Err(RecordError::Invalid(ref m)) if m.field == "org name"),
        "{refused:?}"
    );

    let task = |i: usize| Task {
        id: fixtures::task_id(&format!("t{i}")),
        title: "t".into(),
        done: false,
        internal: false,
    };
    let mut wo = w.work_order();
    wo.tasks = (0..MAX_ITEMS).map(task).collect();
    w.block_on(
        w.portico
            .upsert_record(&owner(), &Record::WorkOrder(wo.clone())),
    )
    .unwrap();
    wo.tasks.push(task(MAX_ITEMS));
    let refused = w.block_on(w.portico.upsert_record(&owner(), &Record::WorkOrder(wo)));
    assert!(
        matches!(refused, Err(RecordError::Invalid(ref m)) if m.field == "tasks"),
        "{refused:?}"
    );
}

#[test]
fn i6_a_tax_of_100_percent_is_kept_and_more_is_refused() {
    let w = World::new();
    let mut quote = fixtures::quote(&w.org, "q1", Some(&w.client));
    quote.decision = None;
    quote.taxes = vec![TaxRate {
        name: "All of it".into(),
        percent: Decimal::ONE_HUNDRED,
    }];
    w.block_on(
        w.portico
            .upsert_record(&owner(), &Record::Quote(quote.clone())),
    )
    .unwrap();
    quote.taxes[0].percent = Decimal::new(100_001, 3);
    let refused = w.block_on(w.portico.upsert_record(&owner(), &Record::Quote(quote)));
    assert!(
        matches!(refused, Err(RecordError::Invalid(ref m)) if m.field == "tax percent"),
        "{refused:?}"
    );
}

#[test]
fn i1_a_key_label_of_200_is_kept_and_201_refused() {
    let w = World::new();
    w.block_on(w.portico.create_api_key(&w.org, &"k".repeat(200)))
        .unwrap();
    let refused = w.block_on(w.portico.create_api_key(&w.org, &"k".repeat(201)));
    assert!(
        matches!(refused, Err(RecordError::Invalid(_))),
        "{refused:?}"
    );
}

#[test]
fn i6_a_file_of_the_largest_size_is_kept_and_one_byte_more_refused() {
    let w = World::new();
    let max = usize::try_from(w.portico.config().max_file_bytes).unwrap();
    assert_eq!(
        max,
        2 * 1024 * 1024,
        "the world's own limit, not the default"
    );
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.resize(max, 0);
    let put = |bytes: Vec<u8>| {
        w.block_on(w.portico.put_file(
            &staff_id(Role::Owner),
            &w.org,
            &fixtures::file_id("big"),
            "image/png",
            bytes,
        ))
    };
    put(png.clone()).unwrap();
    png.push(0);
    let refused = put(png);
    assert!(
        matches!(refused, Err(FileError::TooLarge { .. })),
        "{refused:?}"
    );
}

#[test]
fn i6_a_record_totalling_the_largest_amount_is_kept_and_more_is_refused() {
    let w = World::new();
    let mut quote = fixtures::quote(&w.org, "q1", Some(&w.client));
    quote.taxes.clear();
    quote.items.truncate(1);
    quote.items[0].quantity = Decimal::new(1000, 0);
    quote.items[0].unit_price = portico_core::service::MAX_AMOUNT;
    w.block_on(
        w.portico
            .upsert_record(&owner(), &Record::Quote(quote.clone())),
    )
    .unwrap();
    quote.items[0].quantity = Decimal::new(100_001, 2);
    let refused = w.block_on(w.portico.upsert_record(&owner(), &Record::Quote(quote)));
    assert!(
        matches!(refused, Err(RecordError::Invalid(ref m)) if m.field == "total"),
        "{refused:?}"
    );
}
