//! Benchmark: messages per second from the outbox to a local SMTP server (aiosmtpd, started
//! here), with one dispatcher and with two at once, on SQLite. Each round drains 1,000 link
//! emails of a shared work order through `Portico::dispatch_once` and `SmtpMailer`.
//!
//! `PORTICO_BENCH_MESSAGES` (default 1000) sets the count. Needs Python's aiosmtpd.

// Reason: a benchmark stops at the first broken step; there is nobody to report an error to.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Instant;

use portico_core::model::{
    Delivery, LinkReason, Notification, NotificationId, NotificationKind, Record, RecordKind,
    RecordRef, Role,
};
use portico_core::ports::{Outbox, Store};
use portico_core::service::{DispatchConfig, EnableShare};
use portico_core::testing::fixtures::{self, T0};
use portico_core::testing::{ManualClock, MemoryBlobs, SeededRandomness};
use portico_core::token::{KeyId, TokenKeys};
use portico_core::{Portico, Ports, ServiceConfig};
use portico_mail::{SmtpConfig, SmtpMailer, TemplateComposer};
use portico_store::SeaOrmStore;

use portico_testkit::smtp::TestSmtp;

async fn seed(store: &SeaOrmStore, portico: &Portico, round: u128, count: u128) {
    let org = fixtures::org("bench");
    let reference = RecordRef {
        kind: RecordKind::WorkOrder,
        id: portico_core::model::RecordId::new("wo1").unwrap(),
    };
    let share = portico
        .list_shares(&org.id, &reference)
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.active)
        .unwrap();
    let mut tx = store.begin().await.unwrap();
    for i in 0..count {
        let n = Notification {
            id: NotificationId(uuid::Uuid::from_u128((round << 32) + i + 1)),
            org_id: org.id.clone(),
            share_id: Some(share.id),
            record: Some(reference.clone()),
            to: share.recipient.clone(),
            kind: NotificationKind::LinkShared {
                reason: LinkReason::Enabled,
            },
            created_at: T0,
            due_at: T0,
            delivery: Delivery::Pending,
            attempts: 0,
            last_failure: None,
        };
        tx.enqueue(&n).await.unwrap();
    }
    tx.commit().await.unwrap();
}

async fn drain(
    portico: &Portico,
    store: &SeaOrmStore,
    smtp: &SmtpConfig,
    dispatchers: usize,
) -> (u32, f64) {
    let started = Instant::now();
    let tasks: Vec<_> = (0..dispatchers)
        .map(|_| {
            let (portico, store, smtp) = (portico.clone(), store.clone(), smtp.clone());
            tokio::spawn(async move {
                let mailer = SmtpMailer::new(
                    smtp,
                    portico_core::model::Email::parse("bench@portico.example").unwrap(),
                );
                let config = DispatchConfig::default();
                let mut sent = 0;
                loop {
                    match portico.dispatch_once(&store, &mailer, &config).await {
                        Ok(r) if r.sent + r.retried + r.dead == 0 => break,
                        Ok(r) => sent += r.sent,
                        Err(portico_core::ports::StoreError::Conflict(_)) => {}
                        Err(e) => panic!("{e}"),
                    }
                }
                sent
            })
        })
        .collect();
    let mut sent = 0;
    for t in tasks {
        sent += t.await.unwrap();
    }
    (sent, started.elapsed().as_secs_f64())
}

fn main() {
    let count: u128 = std::env::var("PORTICO_BENCH_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let server = match TestSmtp::start(&[]) {
        Ok(server) => server,
        Err(why) => {
            println!("mail bench skipped: {why} (pip install aiosmtpd)");
            return;
        }
    };
    let temp = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let url = format!("sqlite://{}?mode=rwc", temp.path().join("bench.db").display());
        let store = SeaOrmStore::connect(&url).await.unwrap();
        let ports = Ports {
            store: Arc::new(store.clone()),
            clock: Arc::new(ManualClock::new(T0)),
            random: Arc::new(SeededRandomness::new(1)),
            blobs: Arc::new(MemoryBlobs::default()),
            links: Arc::new(portico_core::testing::BaseLinks("http://127.0.0.1:8080".into())),
        };
        let portico = Portico::new(ports, TokenKeys::new(KeyId(1), &[5; 32]).unwrap(), ServiceConfig::default())
            .with_composer(Arc::new(TemplateComposer));
        let org = fixtures::org("bench");
        let owner = fixtures::staff(&org.id, "owner", Role::Owner);
        let client = fixtures::client(&org.id, "c1");
        let wo = fixtures::work_order(&org.id, "wo1", Some(&client.id), None);
        portico.put_org(&org).await.unwrap();
        portico.put_staff(&owner).await.unwrap();
        portico.put_client(&client).await.unwrap();
        portico.upsert_record(&owner.id, &Record::WorkOrder(wo.clone())).await.unwrap();
        let reference = RecordRef { kind: RecordKind::WorkOrder, id: wo.id };
        portico.enable_share(&owner.id, &org.id, &reference, &EnableShare::default()).await.unwrap();
        let smtp = SmtpConfig::from_url(&server.url()).unwrap();
        // The link email of the share itself goes first, unmeasured.
        drain(&portico, &store, &smtp, 1).await;
        println!("Outbox to a local SMTP server (aiosmtpd) on SQLite, {count} messages per round");
        for (round, dispatchers) in [(1, 1), (2, 2)] {
            seed(&store, &portico, round, count).await;
            let (sent, seconds) = drain(&portico, &store, &smtp, dispatchers).await;
            assert_eq!(u128::from(sent), count);
            assert_eq!(store.pending_count().await.unwrap(), 0);
            // Reason: a rate for printing.
            #[allow(clippy::cast_precision_loss)]
            let rate = f64::from(sent) / seconds;
            println!("{dispatchers} dispatcher(s): {sent} messages in {seconds:.2} s = {rate:.0} messages/s");
        }
    });
}
