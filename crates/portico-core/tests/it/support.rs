//! A small world to run the service in: fakes, one org with staff of every role, a client, a
//! work order, a quote and an invoice.

use std::sync::Arc;

use portico_core::model::{
    ClientId, Notification, OrgId, Record, RecordKind, RecordRef, Role, StaffId, WorkOrder,
};
use portico_core::ports::Outbox;
use portico_core::service::{EnableShare, Opened, ShareInfo};
use portico_core::testing::fixtures::{self, T0};
use portico_core::testing::{
    FakePayments, FakeWebhooks, ManualClock, MemoryBlobs, MemoryStore, SeededRandomness,
};
use portico_core::token::{KeyId, TokenKeys};
use portico_core::{Portico, Ports, ServiceConfig};

pub const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef-test-secret";

pub struct World {
    pub rt: tokio::runtime::Runtime,
    pub portico: Portico,
    pub store: MemoryStore,
    pub clock: Arc<ManualClock>,
    pub blobs: Arc<MemoryBlobs>,
    pub payments: Arc<FakePayments>,
    pub webhooks: Arc<FakeWebhooks>,
    pub org: OrgId,
    pub client: ClientId,
    pub wo: RecordRef,
    pub quote: RecordRef,
    pub invoice: RecordRef,
}

pub fn staff_id(role: Role) -> StaffId {
    StaffId::new(role.as_str()).unwrap()
}

/// The token at the end of a share's link.
pub fn token(link: &str) -> &str {
    link.rsplit('/').next().unwrap()
}

pub fn owner() -> StaffId {
    staff_id(Role::Owner)
}

impl World {
    pub fn new() -> Self {
        Self::with_seed(7)
    }

    pub fn with_seed(seed: u64) -> Self {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let store = MemoryStore::new();
        let clock = Arc::new(ManualClock::new(T0));
        let blobs = Arc::new(MemoryBlobs::default());
        let ports = Ports {
            store: Arc::new(store.clone()),
            clock: clock.clone(),
            random: Arc::new(SeededRandomness::new(seed)),
            blobs: blobs.clone(),
            links: Arc::new(portico_core::testing::BaseLinks(
                "https://share.example/".into(),
            )),
        };
        let keys = TokenKeys::new(KeyId(1), SECRET).unwrap();
        // A file limit of its own (not the default), so tests read the limit from the service.
        let config = ServiceConfig {
            max_file_bytes: 2 * 1024 * 1024,
            ..ServiceConfig::default()
        };
        let payments = Arc::new(FakePayments::default());
        let webhooks = Arc::new(FakeWebhooks::default());
        let portico = Portico::new(ports, keys, config)
            .with_passwords(Arc::new(portico_core::testing::TestPasswords::default()))
            .with_payments(payments.clone())
            .with_webhooks(webhooks.clone());
        let org = fixtures::org("org1");
        let client = fixtures::client(&org.id, "c1");
        let tech = staff_id(Role::Technician);
        let wo = fixtures::work_order(&org.id, "wo1", Some(&client.id), Some(&tech));
        let quote = fixtures::quote(&org.id, "q1", Some(&client.id));
        let invoice = fixtures::invoice(&org.id, "inv1", Some(&client.id), Some(&wo.id));
        rt.block_on(async {
            portico.put_org(&org).await.unwrap();
            for role in Role::ALL {
                let staff = fixtures::staff(&org.id, role.as_str(), role);
                portico.put_staff(&staff).await.unwrap();
            }
            portico.put_client(&client).await.unwrap();
            for record in [
                Record::WorkOrder(wo.clone()),
                Record::Quote(quote.clone()),
                Record::Invoice(invoice.clone()),
            ] {
                portico.upsert_record(&owner(), &record).await.unwrap();
            }
        });
        let reference = |kind, id: &portico_core::model::RecordId| RecordRef {
            kind,
            id: id.clone(),
        };
        Self {
            wo: reference(RecordKind::WorkOrder, &wo.id),
            quote: reference(RecordKind::Quote, &quote.id),
            invoice: reference(RecordKind::Invoice, &invoice.id),
            rt,
            portico,
            store,
            clock,
            blobs,
            payments,
            webhooks,
            org: org.id,
            client: client.id,
        }
    }

    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    pub fn enable(&self, record: &RecordRef) -> ShareInfo {
        self.block_on(self.portico.enable_share(
            &owner(),
            &self.org,
            record,
            &EnableShare::default(),
        ))
        .unwrap()
    }

    pub fn open(&self, link: &str) -> Opened {
        let token = link.rsplit('/').next().unwrap();
        self.block_on(self.portico.open_link(token)).unwrap()
    }

    pub fn work_order(&self) -> WorkOrder {
        self.block_on(async {
            let mut tx = portico_core::ports::Store::begin(&self.store)
                .await
                .unwrap();
            match tx.record(&self.org, &self.wo).await.unwrap().unwrap().value {
                Record::WorkOrder(wo) => wo,
                other => panic!("not a work order: {other:?}"),
            }
        })
    }

    pub fn upsert_wo(
        &self,
        actor: &StaffId,
        wo: WorkOrder,
    ) -> Result<portico_core::service::RecordChange, portico_core::service::RecordError> {
        self.block_on(self.portico.upsert_record(actor, &Record::WorkOrder(wo)))
    }

    pub fn outbox(&self) -> Vec<Notification> {
        self.block_on(self.store.notifications_of_org(&self.org))
            .unwrap()
    }

    pub fn put_org(&self, change: impl FnOnce(&mut portico_core::model::Org)) {
        let mut org = fixtures::org("org1");
        change(&mut org);
        self.block_on(self.portico.put_org(&org)).unwrap();
    }
}

/// The kind of answer opening a link gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    View,
    NotFound,
    Expired,
    Unavailable,
}

pub fn answer(opened: &Opened) -> Answer {
    match opened {
        Opened::View { .. } => Answer::View,
        Opened::NotFound => Answer::NotFound,
        Opened::Expired(_) => Answer::Expired,
        Opened::Unavailable(_) => Answer::Unavailable,
        other => panic!("an answer these tests do not know: {other:?}"),
    }
}
