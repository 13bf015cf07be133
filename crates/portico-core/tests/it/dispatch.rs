//! Delivering the outbox (N1, N4, N5): sent once, under the company's name, with the link;
//! temporary failures back off, permanent ones and dead shares go dead.

use portico_core::model::{Delivery, Notification, Record, Section, Sections, WorkStatus};
use portico_core::ports::{Outbox, OutgoingEmail};
use portico_core::service::{DispatchConfig, HostEvent, ShareChange, retry_delay};
use portico_core::testing::MemoryMailer;
use portico_core::testing::fixtures;
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
    assert_eq!(
        (report.sent, report.dead, report.dropped),
        (0, 0, 1),
        "dropped, not dead: nothing failed"
    );
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

/// Enables sharing on the work order and sends the link email, so later rounds see only what
/// the test queues.
fn shared_and_link_sent(w: &World) -> MemoryMailer {
    w.enable(&w.wo);
    let mailer = MemoryMailer::default();
    w.block_on(
        w.portico
            .dispatch_once(&w.store, &mailer, &DispatchConfig::default()),
    )
    .unwrap();
    assert_eq!(mailer.sent().len(), 1, "the link");
    mailer
}

/// Past the burst window: one round; what it sent (after the link) and the last notification.
fn after_the_window(w: &World, mailer: &MemoryMailer) -> (Vec<OutgoingEmail>, Notification) {
    w.clock.advance(Duration::minutes(3));
    w.block_on(
        w.portico
            .dispatch_once(&w.store, mailer, &DispatchConfig::default()),
    )
    .unwrap();
    let sent = mailer.sent()[1..].to_vec();
    let last = w.outbox().pop().unwrap();
    (sent, last)
}

fn dropped_because(n: &Notification) -> &str {
    match &n.delivery {
        Delivery::Dropped { reason, .. } => reason,
        other => panic!("expected dropped, found {other:?}"),
    }
}

fn event(w: &World, event: &HostEvent) {
    let id = w.wo.id.clone();
    w.block_on(w.portico.apply_event(&owner(), &w.org, &id, event))
        .unwrap();
}

/// Ticks the first task (queuing its email), then changes the work order's share.
fn tick_then_change_share(w: &World, change: &ShareChange) {
    let task = w.work_order().tasks[0].id.clone();
    event(w, &HostEvent::TaskDone { task, done: true });
    let share = w.block_on(w.portico.list_shares(&w.org, &w.wo)).unwrap()[0].clone();
    w.block_on(w.portico.change_share(&owner(), &w.org, share.id, change))
        .unwrap();
}

#[test]
fn n3_an_update_made_internal_before_its_email_leaves_is_not_sent() {
    let w = World::new();
    let mailer = shared_and_link_sent(&w);
    let mut update = w.work_order().updates[1].clone();
    update.body = "Parts arrive Tuesday.".into();
    update.shared = true;
    event(
        &w,
        &HostEvent::UpdatePosted {
            update: update.clone(),
        },
    );
    update.shared = false;
    event(&w, &HostEvent::UpdatePosted { update });
    let (sent, last) = after_the_window(&w, &mailer);
    assert!(sent.is_empty(), "{sent:?}");
    assert!(dropped_because(&last).contains("no update"), "{last:?}");
}

#[test]
fn n3_an_update_edited_before_its_email_leaves_is_sent_as_it_reads_now() {
    let w = World::new();
    let mailer = shared_and_link_sent(&w);
    let mut update = w.work_order().updates[1].clone();
    update.body = "Parts arrive Tuesday.".into();
    update.shared = true;
    event(
        &w,
        &HostEvent::UpdatePosted {
            update: update.clone(),
        },
    );
    update.body = "Parts arrive Wednesday.".into();
    event(&w, &HostEvent::UpdatePosted { update });
    let (sent, _) = after_the_window(&w, &mailer);
    assert_eq!(sent.len(), 1);
    assert!(sent[0].text.contains("Parts arrive Wednesday."));
    assert!(!sent[0].text.contains("Tuesday"), "{}", sent[0].text);
}

#[test]
fn n3_a_task_email_is_dropped_when_the_checklist_is_hidden_before_it_leaves() {
    let w = World::new();
    let mailer = shared_and_link_sent(&w);
    tick_then_change_share(
        &w,
        &ShareChange {
            sections: Some(Sections::from(vec![Section::Schedule])),
            recipient: None,
        },
    );
    let (sent, last) = after_the_window(&w, &mailer);
    assert!(sent.is_empty(), "{sent:?}");
    assert!(dropped_because(&last).contains("checklist"), "{last:?}");
}

#[test]
fn n3_a_task_made_internal_or_unticked_before_its_email_leaves_is_not_named() {
    let w = World::new();
    let mailer = shared_and_link_sent(&w);
    let mut wo = w.work_order();
    for (n, title) in ["Fit sockets", "Test circuit", "Tidy up"]
        .iter()
        .enumerate()
    {
        wo.tasks.push(portico_core::model::Task {
            id: fixtures::task_id(&format!("x{n}")),
            title: (*title).into(),
            done: false,
            internal: false,
        });
    }
    w.upsert_wo(&owner(), wo).unwrap();
    for n in 0..3 {
        let task = fixtures::task_id(&format!("x{n}"));
        event(&w, &HostEvent::TaskDone { task, done: true });
    }
    // "Test circuit" made internal, "Tidy up" un-ticked: only "Fit sockets" still holds.
    let mut wo = w.work_order();
    wo.tasks
        .iter_mut()
        .find(|t| t.title == "Test circuit")
        .unwrap()
        .internal = true;
    w.upsert_wo(&owner(), wo).unwrap();
    event(
        &w,
        &HostEvent::TaskDone {
            task: fixtures::task_id("x2"),
            done: false,
        },
    );
    let (sent, _) = after_the_window(&w, &mailer);
    assert_eq!(sent.len(), 1, "one burst, one email");
    assert!(sent[0].text.contains("Fit sockets"));
    assert!(
        !sent[0].text.contains("Test circuit"),
        "an internal task: {}",
        sent[0].text
    );
    assert!(
        !sent[0].text.contains("Tidy up"),
        "a task not done: {}",
        sent[0].text
    );

    // A lone task ticked then un-ticked: nothing to tell.
    event(
        &w,
        &HostEvent::TaskDone {
            task: fixtures::task_id("x0"),
            done: false,
        },
    );
    event(
        &w,
        &HostEvent::TaskDone {
            task: fixtures::task_id("x0"),
            done: true,
        },
    );
    event(
        &w,
        &HostEvent::TaskDone {
            task: fixtures::task_id("x0"),
            done: false,
        },
    );
    let before = mailer.sent().len();
    let (_, last) = after_the_window(&w, &mailer);
    assert_eq!(mailer.sent().len(), before);
    assert!(dropped_because(&last).contains("no task"), "{last:?}");
}

#[test]
fn s6_a_waiting_email_goes_to_the_recipient_of_the_moment_it_leaves() {
    let w = World::new();
    let mailer = shared_and_link_sent(&w);
    tick_then_change_share(
        &w,
        &ShareChange {
            recipient: Some("new.owner@client.example".into()),
            sections: None,
        },
    );
    let (sent, _) = after_the_window(&w, &mailer);
    assert!(!sent.is_empty());
    assert!(
        sent.iter()
            .all(|m| m.to.as_str() == "new.owner@client.example"),
        "{:?}",
        sent.iter().map(|m| m.to.as_str()).collect::<Vec<_>>()
    );
}

#[test]
fn n6_a_status_that_returns_to_where_the_burst_began_sends_nothing() {
    let w = World::new();
    let mailer = shared_and_link_sent(&w);
    event(
        &w,
        &HostEvent::StatusChanged {
            status: WorkStatus::InProgress,
        },
    );
    event(
        &w,
        &HostEvent::StatusChanged {
            status: WorkStatus::Scheduled,
        },
    );
    let (sent, last) = after_the_window(&w, &mailer);
    assert!(sent.is_empty(), "{sent:?}");
    assert!(
        dropped_because(&last).contains("status is back"),
        "{last:?}"
    );
}

#[test]
fn n5_one_poisoned_notification_is_settled_on_its_own() {
    // A notification whose org is gone is dropped, and the rest of the round still goes.
    let w = World::new();
    w.enable(&w.wo);
    let mut ghost = w.outbox()[0].clone();
    ghost.id = portico_core::model::NotificationId(uuid::Uuid::from_u128(9));
    ghost.org_id = portico_core::model::OrgId::new("gone").unwrap();
    w.block_on(async {
        let mut tx = portico_core::ports::Store::begin(&w.store).await.unwrap();
        tx.enqueue(&ghost).await.unwrap();
        tx.commit().await.unwrap();
    });
    let mailer = MemoryMailer::default();
    let report = w
        .block_on(
            w.portico
                .dispatch_once(&w.store, &mailer, &DispatchConfig::default()),
        )
        .unwrap();
    assert_eq!((report.sent, report.dropped), (1, 1));
}

/// N3, V9: a status email names the planned visit only for a work order with a planned start
/// whose share shows the schedule; no other email and no other record does.
#[test]
fn n3_a_status_email_names_the_visit_only_while_the_schedule_is_shown() {
    use portico_core::model::NotificationKind;
    use portico_core::policy::notify::visit_named;
    let org = fixtures::org("o").id;
    let mut wo = fixtures::work_order(&org, "w", None, None);
    let status = NotificationKind::StatusChanged {
        from: "unscheduled".into(),
        to: "scheduled".into(),
    };
    let shown = Sections::ALL;
    let hidden = Sections::ALL.with(Section::Schedule, false);
    let named = visit_named(&status, shown, &Record::WorkOrder(wo.clone())).unwrap();
    assert_eq!(
        (named.start, named.end),
        (wo.schedule.start.unwrap(), wo.schedule.end)
    );
    assert_eq!(
        visit_named(&status, hidden, &Record::WorkOrder(wo.clone())),
        None
    );
    let tasks = NotificationKind::TasksCompleted {
        tasks: vec!["x".into()],
        task_ids: Vec::new(),
    };
    assert_eq!(
        visit_named(&tasks, shown, &Record::WorkOrder(wo.clone())),
        None
    );
    let quote = fixtures::quote(&org, "q", None);
    assert_eq!(visit_named(&status, shown, &Record::Quote(quote)), None);
    wo.schedule.start = None;
    assert_eq!(
        visit_named(&status, shown, &Record::WorkOrder(wo)),
        None,
        "no start planned"
    );
}

#[test]
fn n5_staff_list_emails_by_delivery_state_and_a_round_counts_each_outcome() {
    use portico_core::service::DeliveryState;
    let w = World::new();
    let without = w.block_on(w.portico.notifications(&w.org, None, 50));
    assert!(
        matches!(without, Ok(None)),
        "no outbox to list: {without:?}"
    );
    let portico = w
        .portico
        .clone()
        .with_outbox(std::sync::Arc::new(w.store.clone()));
    for record in [&w.wo, &w.quote, &w.invoice] {
        w.enable(record);
    }
    let (mailer, config) = (MemoryMailer::default(), DispatchConfig::default());
    mailer.fail(Some(false));
    let failing = w
        .block_on(portico.dispatch_once(&w.store, &mailer, &config))
        .unwrap();
    assert_eq!(failing.retried, 3);
    assert_eq!(
        failing.failures,
        vec!["421 try later (fake)".to_owned()],
        "each reason once"
    );
    mailer.fail(None);
    w.clock
        .advance(retry_delay(&config, 1) * 5 / 4 + Duration::seconds(1));
    let sending = w
        .block_on(portico.dispatch_once(&w.store, &mailer, &config))
        .unwrap();
    assert_eq!((sending.sent, sending.retried), (3, 0));
    assert!(sending.failures.is_empty(), "{:?}", sending.failures);
    let mut wo = w.work_order();
    wo.status = WorkStatus::InProgress;
    w.block_on(w.portico.upsert_record(&owner(), &Record::WorkOrder(wo)))
        .unwrap();
    let count = |state| {
        w.block_on(portico.notifications(&w.org, state, 50))
            .unwrap()
            .unwrap()
            .len()
    };
    assert_eq!(count(None), 4);
    assert_eq!(count(Some(DeliveryState::Sent)), 3);
    assert_eq!(count(Some(DeliveryState::Pending)), 1);
    assert_eq!(count(Some(DeliveryState::Dead)), 0);
    assert_eq!(count(Some(DeliveryState::Dropped)), 0);
}

/// An outbox whose sent marks fail, as a database that goes away mid-round would.
struct MarksFail(portico_core::testing::MemoryStore);

#[async_trait::async_trait]
impl Outbox for MarksFail {
    async fn claim_due(
        &self,
        now: time::OffsetDateTime,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<Notification>, portico_core::ports::StoreError> {
        self.0.claim_due(now, limit, lease).await
    }
    async fn mark_sent(
        &self,
        _: portico_core::model::NotificationId,
        _: time::OffsetDateTime,
    ) -> Result<(), portico_core::ports::StoreError> {
        Err(portico_core::ports::StoreError::Conflict("gone".into()))
    }
    async fn retry_at(
        &self,
        id: portico_core::model::NotificationId,
        next_due: time::OffsetDateTime,
        reason: &str,
    ) -> Result<(), portico_core::ports::StoreError> {
        self.0.retry_at(id, next_due, reason).await
    }
    async fn mark_dead(
        &self,
        id: portico_core::model::NotificationId,
        at: time::OffsetDateTime,
        reason: &str,
    ) -> Result<(), portico_core::ports::StoreError> {
        self.0.mark_dead(id, at, reason).await
    }
    async fn mark_dropped(
        &self,
        id: portico_core::model::NotificationId,
        at: time::OffsetDateTime,
        reason: &str,
    ) -> Result<(), portico_core::ports::StoreError> {
        self.0.mark_dropped(id, at, reason).await
    }
    async fn pending_count(&self) -> Result<u64, portico_core::ports::StoreError> {
        self.0.pending_count().await
    }
    async fn stats(
        &self,
        now: time::OffsetDateTime,
    ) -> Result<portico_core::ports::OutboxStats, portico_core::ports::StoreError> {
        self.0.stats(now).await
    }
    async fn notifications_of_org(
        &self,
        org: &portico_core::model::OrgId,
    ) -> Result<Vec<Notification>, portico_core::ports::StoreError> {
        self.0.notifications_of_org(org).await
    }
}

#[test]
fn n5_a_sent_email_whose_mark_fails_is_counted_unsettled_and_comes_back() {
    let w = World::new();
    w.enable(&w.wo);
    w.enable(&w.quote);
    let (mailer, config) = (MemoryMailer::default(), DispatchConfig::default());
    let outbox = MarksFail(w.store.clone());
    let report = w
        .block_on(w.portico.dispatch_once(&outbox, &mailer, &config))
        .unwrap();
    assert_eq!((report.sent, report.unsettled), (2, 2));
    // Still pending: after its lease it goes again, with the same Message-ID (N5).
    assert!(w.outbox().iter().all(|n| n.delivery == Delivery::Pending));
}
