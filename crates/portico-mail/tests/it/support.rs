//! A real SMTP server per test (`tests/support/smtp_server.rs`), and a small world whose outbox
//! holds a link email.

use std::sync::Arc;

use portico_core::model::{Email, Record, RecordKind, RecordRef, Role};
use portico_core::service::EnableShare;
use portico_core::testing::fixtures::{self, T0};
use portico_core::testing::{ManualClock, MemoryBlobs, MemoryStore, SeededRandomness};
use portico_core::token::{KeyId, TokenKeys};
use portico_core::{Portico, Ports, ServiceConfig};
use portico_mail::SmtpConfig;

pub(crate) use portico_testkit::smtp::TestSmtp;

/// The mail port's settings for `server`.
pub fn config_of(server: &TestSmtp) -> SmtpConfig {
    SmtpConfig::from_url(&server.url()).unwrap()
}

pub fn sender() -> Email {
    Email::parse("notifications@portico.example").unwrap()
}

pub struct World {
    pub portico: Portico,
    pub store: MemoryStore,
    pub clock: Arc<ManualClock>,
}

/// An org, a client and a work order shared once: one link email in the outbox.
pub async fn world() -> World {
    let store = MemoryStore::new();
    let clock = Arc::new(ManualClock::new(T0));
    let ports = Ports {
        store: Arc::new(store.clone()),
        clock: clock.clone(),
        random: Arc::new(SeededRandomness::new(5)),
        blobs: Arc::new(MemoryBlobs::default()),
        links: Arc::new(portico_core::testing::BaseLinks(
            "https://share.example".into(),
        )),
    };
    let keys = TokenKeys::new(KeyId(1), &[9; 32]).unwrap();
    let config = ServiceConfig::default();
    let portico = Portico::new(ports, keys, config);
    let org = fixtures::org("org1");
    let owner = fixtures::staff(&org.id, "owner", Role::Owner);
    let client = fixtures::client(&org.id, "c1");
    let wo = fixtures::work_order(&org.id, "wo1", Some(&client.id), None);
    portico.put_org(&org).await.unwrap();
    portico.put_staff(&owner).await.unwrap();
    portico.put_client(&client).await.unwrap();
    portico
        .upsert_record(&owner.id, &Record::WorkOrder(wo.clone()))
        .await
        .unwrap();
    let reference = RecordRef {
        kind: RecordKind::WorkOrder,
        id: wo.id,
    };
    portico
        .enable_share(&owner.id, &org.id, &reference, &EnableShare::default())
        .await
        .unwrap();
    World {
        portico,
        store,
        clock,
    }
}
