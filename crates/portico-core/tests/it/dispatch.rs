//! Delivering the outbox (N1, N4, N5): sent once, under the company's name, with the link;
//! temporary failures back off, permanent ones and dead shares go dead.

use portico_core::model::{Delivery, Record, WorkStatus};
use portico_core::ports::Outbox;
use portico_core::service::{DispatchConfig, retry_delay};
use portico_core::testing::MemoryMailer;
use time::Duration;

use crate::support::{World, owner};

#[test]
fn n4_n5_the_outbox_is_sent_once_under_the_company_name_with_the_link() {
    let w = World::new();
    let link = w.enable(&w.wo).link.unwrap();
    let mailer = MemoryMailer::default();
    let config = DispatchConfig::default();
    let report = w
        .block_on(w.portico.dispatch_once(&w.store, &mailer, &config))
        .unwrap();
    assert_eq!((report.sent, report.retried, report.dead), (1, 0, 0));
    let sent = mailer.sent();
    let mail = &sent[0];
    assert_eq!(mail.from_name, "Bright Spark Electrical");
    assert_eq!(
        mail.reply_to.as_ref().unwrap().as_str(),
        "office@brightspark.example"
    );
    assert_eq!(mail.to.as_str(), "jordan@client.example");
    assert!(mail.text.contains(&link) && mail.html.contains(&link));
    let outbox = w.outbox();
    assert_eq!(mail.message_id, format!("{}@portico", outbox[0].id.0));
    assert!(matches!(outbox[0].delivery, Delivery::Sent { .. }));
    // Nothing is sent twice.
    let again = w
        .block_on(w.portico.dispatch_once(&w.store, &mailer, &config))
        .unwrap();
    assert_eq!(again.sent, 0);
    assert_eq!(mailer.sent().len(), 1);
}

#[test]
fn n5_temporary_failures_back_off_and_permanent_ones_go_dead() {
    let w = World::new();
    w.enable(&w.wo);
    let mailer = MemoryMailer::default();
    let config = DispatchConfig::default();
    mailer.fail(Some(false));
    let report = w
        .block_on(w.portico.dispatch_once(&w.store, &mailer, &config))
        .unwrap();
    assert_eq!(report.retried, 1);
    // Not due again until the back-off has passed.
    mailer.fail(None);
    let early = w
        .block_on(w.portico.dispatch_once(&w.store, &mailer, &config))
        .unwrap();
    assert_eq!(early.sent, 0);
    w.clock
        .advance(retry_delay(&config, 1) + Duration::seconds(1));
    let later = w
        .block_on(w.portico.dispatch_once(&w.store, &mailer, &config))
        .unwrap();
    assert_eq!(later.sent, 1);
    assert_eq!(mailer.sent().len(), 1);
    assert!(retry_delay(&config, 2) > retry_delay(&config, 1));
    assert_eq!(retry_delay(&config, 40), config.max_backoff);

    // A permanent refusal goes dead at once.
    let mut wo = w.work_order();
    wo.status = WorkStatus::InProgress;
    w.block_on(w.portico.upsert_record(&owner(), &Record::WorkOrder(wo)))
        .unwrap();
    w.clock.advance(Duration::minutes(5));
    mailer.fail(Some(true));
    let report = w
        .block_on(w.portico.dispatch_once(&w.store, &mailer, &config))
        .unwrap();
    assert_eq!(report.dead, 1);
}

#[test]
fn n1_a_mail_whose_share_was_revoked_before_sending_is_not_sent() {
    let w = World::new();
    let share = w.enable(&w.wo);
    w.block_on(w.portico.revoke_share(&owner(), &w.org, share.id))
        .unwrap();
    let mailer = MemoryMailer::default();
    let report = w
        .block_on(
            w.portico
                .dispatch_once(&w.store, &mailer, &DispatchConfig::default()),
        )
        .unwrap();
    assert_eq!((report.sent, report.dead), (0, 1));
    assert!(mailer.sent().is_empty());
    assert_eq!(w.block_on(w.store.pending_count()).unwrap(), 0);
}
