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
    // Due no sooner than the back-off and no later than a quarter more (jitter).
    let due = w.outbox()[0].due_at;
    let now = portico_core::ports::Clock::now(&*w.clock);
    assert!(due >= now + retry_delay(&config, 1), "{due}");
    assert!(due <= now + retry_delay(&config, 1) * 5 / 4, "{due}");
    w.clock
        .advance(retry_delay(&config, 1) * 5 / 4 + Duration::seconds(1));
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

/// A mail port that hands the message over and then hangs, like a process killed between
/// sending and marking.
#[derive(Default)]
struct DiesAfterSending(std::sync::Mutex<Vec<portico_core::ports::OutgoingEmail>>);

#[async_trait::async_trait]
impl portico_core::ports::Mailer for DiesAfterSending {
    async fn send(
        &self,
        email: &portico_core::ports::OutgoingEmail,
    ) -> Result<(), portico_core::ports::MailError> {
        self.0.lock().unwrap().push(email.clone());
        std::future::pending::<()>().await;
        Ok(())
    }
}

#[test]
fn n5_a_crash_between_claim_and_mark_resends_only_with_the_same_message_id() {
    let w = World::new();
    w.enable(&w.wo);
    let config = DispatchConfig::default();

    // Killed after claiming, before sending: the claim's lease runs out, one copy goes.
    let claimed = w
        .block_on(
            w.store
                .claim_due(portico_core::ports::Clock::now(&*w.clock), 10, config.lease),
        )
        .unwrap();
    assert_eq!(claimed.len(), 1);
    let mailer = MemoryMailer::default();
    let early = w
        .block_on(w.portico.dispatch_once(&w.store, &mailer, &config))
        .unwrap();
    assert_eq!(early.sent, 0, "still leased to the dead dispatcher");
    w.clock.advance(config.lease + Duration::seconds(1));
    w.block_on(w.portico.dispatch_once(&w.store, &mailer, &config))
        .unwrap();
    assert_eq!(mailer.sent().len(), 1);

    // Killed after sending, before marking: the resend carries the same Message-ID.
    let mut wo = w.work_order();
    wo.status = WorkStatus::OnHold;
    w.block_on(w.portico.upsert_record(&owner(), &Record::WorkOrder(wo)))
        .unwrap();
    // Past the burst window (N6), the status email is due.
    w.clock.advance(Duration::minutes(3));
    let dying = DiesAfterSending::default();
    let timed = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let cut = timed.block_on(async {
        tokio::time::timeout(
            std::time::Duration::from_millis(50),
            w.portico.dispatch_once(&w.store, &dying, &config),
        )
        .await
    });
    assert!(cut.is_err(), "the dispatcher died mid-send");
    let first = dying.0.lock().unwrap().clone();
    assert_eq!(first.len(), 1);
    w.clock.advance(config.lease + Duration::seconds(1));
    let restarted = MemoryMailer::default();
    w.block_on(w.portico.dispatch_once(&w.store, &restarted, &config))
        .unwrap();
    let second = restarted.sent();
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].message_id, first[0].message_id);
    assert_eq!(w.block_on(w.store.pending_count()).unwrap(), 0);
}
