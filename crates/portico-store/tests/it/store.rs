//! What only a real database can show: the core's service running on each backend, bad rows,
//! native column types, exact money, racing dispatchers, migrations, API keys.

use std::sync::Arc;

use portico_core::model::{
    Delivery, LinkReason, Notification, NotificationId, NotificationKind, Record, RecordKind,
    RecordRef, Role, WorkStatus,
};
use portico_core::ports::{Outbox, Store, StoreError};
use portico_core::service::{EnableShare, HostEvent, Opened};
use portico_core::testing::fixtures::{self, T0};
use portico_core::testing::{ManualClock, MemoryBlobs, SeededRandomness};
use portico_core::token::{KeyId, TokenKeys};
use portico_core::{Portico, Ports, ServiceConfig};
use portico_store::SeaOrmStore;
use rust_decimal::Decimal;
use sea_orm::{ConnectionTrait, DatabaseBackend, EntityTrait, Statement};
use time::Duration;

use crate::support;

/// Makes `$check` a test on a SQLite file and a test on PostgreSQL.
macro_rules! on_both_databases {
    ($($check:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $check() {
                    let (store, _dir) = crate::support::sqlite_file().await.unwrap();
                    super::$check(store).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $check() {
                    let Some((store, _schema)) = crate::support::postgres().await else {
                        return;
                    };
                    super::$check(store).await;
                }
            )*
        }
    };
}

on_both_databases!(
    share_lifecycle,
    bad_rows_are_errors,
    money_is_exact,
    two_dispatchers_send_a_thousand_notifications_once,
    n5_a_poisoned_notification_never_holds_up_another,
    v5_v6_quotes_and_invoices_stored_with_null_dates_read_back,
    v1_a_record_written_before_staff_ids_still_names_its_technician,
    s5_pages_looked_up_together_each_get_their_own_answer
);

/// The core's service on a store, with an org, an owner, a technician, a client, a work order
/// and its invoice.
struct Scene {
    portico: Portico,
    clock: Arc<ManualClock>,
    org: portico_core::model::Org,
    owner: portico_core::model::Staff,
    tech: portico_core::model::Staff,
    wo: portico_core::model::WorkOrder,
}

async fn scene(store: &SeaOrmStore) -> Scene {
    let clock = Arc::new(ManualClock::new(T0));
    let ports = Ports {
        store: Arc::new(store.clone()),
        clock: clock.clone(),
        random: Arc::new(SeededRandomness::new(3)),
        blobs: Arc::new(MemoryBlobs::default()),
        links: Arc::new(portico_core::testing::BaseLinks(
            "http://127.0.0.1:8080".into(),
        )),
    };
    let keys = TokenKeys::new(KeyId(1), &[7; 32]).unwrap();
    let portico = Portico::new(ports, keys, ServiceConfig::default());
    let org = fixtures::org("org1");
    let owner = fixtures::staff(&org.id, "owner", Role::Owner);
    let tech = fixtures::staff(&org.id, "tech", Role::Technician);
    let client = fixtures::client(&org.id, "c1");
    let wo = fixtures::work_order(&org.id, "wo1", Some(&client.id), Some(&tech.id));
    let invoice = fixtures::invoice(&org.id, "inv1", Some(&client.id), Some(&wo.id));
    portico.put_org(&org).await.unwrap();
    portico.put_staff(&owner).await.unwrap();
    portico.put_staff(&tech).await.unwrap();
    portico.put_client(&client).await.unwrap();
    let records = [Record::WorkOrder(wo.clone()), Record::Invoice(invoice)];
    for record in &records {
        portico.upsert_record(&owner.id, record).await.unwrap();
    }
    Scene {
        portico,
        clock,
        org,
        owner,
        tech,
        wo,
    }
}

/// Runs the share lifecycle through the core's service on `store`.
async fn share_lifecycle(store: SeaOrmStore) {
    let Scene {
        portico,
        clock,
        org,
        owner,
        tech,
        wo,
    } = scene(&store).await;
    let reference = RecordRef {
        kind: RecordKind::WorkOrder,
        id: wo.id.clone(),
    };

    let denied = portico
        .enable_share(&tech.id, &org.id, &reference, &EnableShare::default())
        .await;
    assert!(denied.is_err(), "S1: a technician may not share");
    let share = portico
        .enable_share(&owner.id, &org.id, &reference, &EnableShare::default())
        .await
        .unwrap();
    let again = portico
        .enable_share(&owner.id, &org.id, &reference, &EnableShare::default())
        .await
        .unwrap();
    assert_eq!(again.link, share.link, "S4");
    let token = share
        .link
        .as_deref()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let Opened::View { view, .. } = portico.open_link(&token).await.unwrap() else {
        panic!("opens")
    };
    let json = serde_json::to_string(&view).unwrap();
    assert!(
        json.contains("388.58"),
        "the work order's invoice total, exact: {json}"
    );
    assert!(!json.contains("Gate code"), "V4");

    clock.advance(Duration::seconds(90));
    let event = HostEvent::StatusChanged {
        status: WorkStatus::InProgress,
    };
    let change = portico
        .apply_event(&tech.id, &org.id, &wo.id, &event)
        .await
        .unwrap();
    assert_eq!(change.version, 2);
    let sent: Vec<_> = store
        .notifications_of_org(&org.id)
        .await
        .unwrap()
        .into_iter()
        .map(|n| n.kind)
        .collect();
    assert_eq!(sent.len(), 2, "link and status: {sent:?}");

    portico
        .revoke_share(&owner.id, &org.id, share.id)
        .await
        .unwrap();
    assert_eq!(
        portico.open_link(&token).await.unwrap(),
        Opened::NotFound,
        "S5"
    );
    let fresh = portico
        .enable_share(&owner.id, &org.id, &reference, &EnableShare::default())
        .await
        .unwrap();
    assert_ne!(fresh.link, share.link);
    let listed = portico.list_shares(&org.id, &reference).await.unwrap();
    assert_eq!(
        listed.iter().map(|s| s.active).collect::<Vec<_>>(),
        vec![false, true]
    );
    let info = portico.get_share(&org.id, share.id).await.unwrap();
    assert_eq!(info.first_opened_at, Some(T0), "S11");
    let audit = portico.audit_log(&org.id, &reference).await.unwrap();
    assert_eq!(audit.len(), 3, "enable, revoke, re-share");
}

async fn exec(store: &SeaOrmStore, sql: &str) {
    store.connection().execute_unprepared(sql).await.unwrap();
}

/// Rows that no longer parse are errors with context, never panics.
async fn bad_rows_are_errors(store: SeaOrmStore) {
    let org = fixtures::org("org1");
    let wo = fixtures::work_order(&org.id, "wo1", None, None);
    let mut tx = store.begin().await.unwrap();
    tx.put_org(&org).await.unwrap();
    tx.put_record(&Record::WorkOrder(wo.clone()), None)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let body = if store.connection().get_database_backend() == DatabaseBackend::Postgres {
        "'{\"kind\": \"work_order\", \"title\": 42}'::jsonb"
    } else {
        "'{\"kind\": \"work_order\", \"title\": 42}'"
    };
    exec(
        &store,
        &format!("UPDATE records SET body = {body} WHERE id = 'wo1'"),
    )
    .await;
    exec(
        &store,
        "UPDATE orgs SET plan = 'platinum' WHERE id = 'org1'",
    )
    .await;
    let mut tx = store.begin_read().await.unwrap();
    let reference = RecordRef {
        kind: RecordKind::WorkOrder,
        id: wo.id,
    };
    match tx.record(&org.id, &reference).await {
        Err(StoreError::Corrupt { what, .. }) => assert_eq!(what, "record"),
        other => panic!("expected Corrupt, got {other:?}"),
    }
    match tx.org(&org.id).await {
        Err(StoreError::Corrupt { what, .. }) => assert_eq!(what, "org plan"),
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_uses_native_types_for_money_times_ids_and_documents() {
    let Some((store, schema)) = support::postgres().await else {
        return;
    };
    let sql = format!(
        "SELECT table_name || '.' || column_name || ' ' || data_type AS c FROM information_schema.columns \
         WHERE table_schema = '{}' ORDER BY 1",
        schema.name
    );
    let rows = store
        .connection()
        .query_all_raw(Statement::from_string(DatabaseBackend::Postgres, sql))
        .await
        .unwrap();
    let columns: Vec<String> = rows
        .iter()
        .map(|r| r.try_get::<String>("", "c").unwrap())
        .collect();
    for expected in [
        "records.total numeric",
        "records.amount_due numeric",
        "records.body jsonb",
        "shares.id uuid",
        "shares.created_at timestamp with time zone",
        "shares.expires_at timestamp with time zone",
        "shares.token_hash bytea",
        "outbox.due_at timestamp with time zone",
        "outbox.kind jsonb",
        "audit.at timestamp with time zone",
    ] {
        assert!(
            columns.iter().any(|c| c == expected),
            "{expected} missing from {columns:#?}"
        );
    }
}

/// Money reads back exactly on both databases (sea-orm alone would read SQLite decimals as f64).
async fn money_is_exact(store: SeaOrmStore) {
    let org = fixtures::org("org1");
    let mut invoice = fixtures::invoice(&org.id, "inv1", None, None);
    invoice.items[0].unit_price = Decimal::new(1_000_000_000_001, 3); // 1,000,000,000.001
    let mut tx = store.begin().await.unwrap();
    tx.put_org(&org).await.unwrap();
    tx.put_record(&Record::Invoice(invoice.clone()), None)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let row = portico_store::entity::records::Entity::find()
        .one(store.connection())
        .await
        .unwrap()
        .unwrap();
    let total = row.total.unwrap().0;
    assert_eq!(total, invoice.totals().total.amount);
    // 3,000,000,000.00 + 25.98 + 50.00, plus 8.875 % of the taxable 3,000,000,025.98.
    assert_eq!(total.normalize().to_string(), "3266250078.29");
    let due = row.amount_due.unwrap().0;
    assert_eq!(due, invoice.amount_due());
}

fn due_notification(i: u32, at: time::OffsetDateTime) -> Notification {
    let mut bytes = [0u8; 16];
    bytes[..4].copy_from_slice(&i.to_be_bytes());
    Notification {
        id: NotificationId(uuid::Uuid::from_bytes(bytes)),
        org_id: "org1".to_owned().try_into().unwrap(),
        share_id: None,
        record: Some(RecordRef {
            kind: RecordKind::WorkOrder,
            id: "wo1".to_owned().try_into().unwrap(),
        }),
        to: portico_core::model::Email::parse("jordan@client.example").unwrap(),
        kind: NotificationKind::LinkShared {
            reason: LinkReason::Enabled,
        },
        created_at: at,
        due_at: at,
        delivery: Delivery::Pending,
        attempts: 0,
        last_failure: None,
    }
}

/// O3: two dispatchers on separate tasks drain 1,000 notifications; each is claimed once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_concurrent_claims_take_each_notification_once() {
    let Some((store, _schema)) = support::postgres().await else {
        return;
    };
    let mut tx = store.begin().await.unwrap();
    tx.put_org(&fixtures::org("org1")).await.unwrap();
    for i in 0..1000 {
        tx.enqueue(&due_notification(i, T0)).await.unwrap();
    }
    tx.commit().await.unwrap();
    let now = T0 + Duration::minutes(1);
    let dispatcher = |store: SeaOrmStore| {
        tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let batch = store
                    .claim_due(now, 25, Duration::minutes(5))
                    .await
                    .unwrap();
                if batch.is_empty() {
                    break mine;
                }
                for n in batch {
                    store.mark_sent(n.id, now).await.unwrap();
                    mine.push(n.id);
                }
            }
        })
    };
    let (a, b) = (dispatcher(store.clone()), dispatcher(store.clone()));
    let (a, b) = (a.await.unwrap(), b.await.unwrap());
    assert!(
        !a.is_empty() && !b.is_empty(),
        "both dispatchers worked: {} and {}",
        a.len(),
        b.len()
    );
    let mut all: Vec<_> = a.into_iter().chain(b).collect();
    assert_eq!(all.len(), 1000);
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 1000, "no notification claimed twice");
    let org = "org1".to_owned().try_into().unwrap();
    let stored = store.notifications_of_org(&org).await.unwrap();
    assert!(
        stored
            .iter()
            .all(|n| n.attempts == 1 && matches!(n.delivery, Delivery::Sent { .. }))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sub_second_times_compare_correctly_on_sqlite() {
    // Stored times are whole seconds, so SQLite's text comparison orders them correctly.
    let (store, _dir) = support::sqlite_file().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    tx.put_org(&fixtures::org("org1")).await.unwrap();
    tx.enqueue(&due_notification(1, T0 + Duration::milliseconds(300)))
        .await
        .unwrap();
    tx.enqueue(&due_notification(2, T0 + Duration::seconds(2)))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let claimed = store
        .claim_due(T0 + Duration::milliseconds(999), 10, Duration::minutes(1))
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].due_at, T0 + Duration::minutes(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_rerun_safely_and_keep_data() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("p.db").display());
    let store = SeaOrmStore::connect(&url).await.unwrap();
    let mut tx = store.begin().await.unwrap();
    tx.put_org(&fixtures::org("org1")).await.unwrap();
    tx.commit().await.unwrap();
    drop(store);
    let again = SeaOrmStore::connect(&url).await.unwrap();
    again.migrate().await.unwrap();
    let mut tx = again.begin_read().await.unwrap();
    assert!(
        tx.org(&"org1".to_owned().try_into().unwrap())
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn bad_urls_get_clear_errors() {
    for url in ["mysql://x", "", "sqlite:///nonexistent-dir/x/y.db"] {
        let err = SeaOrmStore::connect(url).await.unwrap_err();
        let message = format!("{err}: {:?}", std::error::Error::source(&err));
        assert!(!message.is_empty(), "{url}");
    }
    let err = SeaOrmStore::connect("mysql://x").await.unwrap_err();
    assert!(err.to_string().contains("storage backend failed"));
    assert!(
        format!("{err:?}").contains("sqlite: or postgres://"),
        "{err:?}"
    );
}

/// O3, N5: two dispatchers draining 1,000 notifications at once send each exactly once.
async fn two_dispatchers_send_a_thousand_notifications_once(store: SeaOrmStore) {
    let Scene {
        portico,
        org,
        owner,
        wo,
        ..
    } = scene(&store).await;
    let reference = RecordRef {
        kind: RecordKind::WorkOrder,
        id: wo.id.clone(),
    };
    let share = portico
        .enable_share(&owner.id, &org.id, &reference, &EnableShare::default())
        .await
        .unwrap();
    let mut tx = store.begin().await.unwrap();
    for i in 1..1000u128 {
        let n = Notification {
            id: NotificationId(uuid::Uuid::from_u128(0xD15_0000 + i)),
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
    assert_eq!(store.pending_count().await.unwrap(), 1000);

    let config = portico_core::service::DispatchConfig::default();
    let dispatchers: Vec<_> = (0..2)
        .map(|_| {
            let (portico, store, config) = (portico.clone(), store.clone(), config.clone());
            tokio::spawn(async move {
                let mailer = portico_core::testing::MemoryMailer::default();
                loop {
                    let report = portico.dispatch_once(&store, &mailer, &config).await;
                    match report {
                        Ok(r) if r.sent + r.retried + r.dead == 0 => break,
                        // More to do, or lost a race for SQLite's one write lock: go again.
                        Ok(_) | Err(StoreError::Conflict(_)) => {}
                        Err(e) => panic!("{e}"),
                    }
                }
                mailer.sent()
            })
        })
        .collect();
    let mut ids = Vec::new();
    let mut each = Vec::new();
    for d in dispatchers {
        let sent = d.await.unwrap();
        each.push(sent.len());
        ids.extend(sent.into_iter().map(|m| m.message_id));
    }
    let total = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!((total, ids.len()), (1000, 1000), "each sent once: {each:?}");
    assert_eq!(store.pending_count().await.unwrap(), 0);
}

fn pending_link(
    i: u128,
    org: &portico_core::model::Org,
    share: &portico_core::service::ShareInfo,
    due: time::OffsetDateTime,
) -> Notification {
    Notification {
        id: NotificationId(uuid::Uuid::from_u128(0xB00_0000 + i)),
        org_id: org.id.clone(),
        share_id: Some(share.id),
        record: Some(share.record.clone()),
        to: share.recipient.clone(),
        kind: NotificationKind::LinkShared {
            reason: LinkReason::Enabled,
        },
        created_at: due,
        due_at: due,
        delivery: Delivery::Pending,
        attempts: 0,
        last_failure: None,
    }
}

async fn share_work_order(
    portico: &Portico,
    org: &portico_core::model::OrgId,
    staff: &portico_core::model::StaffId,
    wo: &portico_core::model::RecordId,
) -> portico_core::service::ShareInfo {
    let reference = RecordRef {
        kind: RecordKind::WorkOrder,
        id: wo.clone(),
    };
    portico
        .enable_share(staff, org, &reference, &EnableShare::default())
        .await
        .unwrap()
}

/// A second org with an owner, a client and a shared work order.
async fn another_org_sharing(
    portico: &Portico,
    other: &portico_core::model::Org,
) -> portico_core::service::ShareInfo {
    let owner = fixtures::staff(&other.id, "owner2", Role::Owner);
    let client = fixtures::client(&other.id, "c2");
    let wo = fixtures::work_order(&other.id, "wo2", Some(&client.id), None);
    portico.put_org(other).await.unwrap();
    portico.put_staff(&owner).await.unwrap();
    portico.put_client(&client).await.unwrap();
    portico
        .upsert_record(&owner.id, &Record::WorkOrder(wo.clone()))
        .await
        .unwrap();
    share_work_order(portico, &other.id, &owner.id, &wo.id).await
}

/// The state and reason of the outbox row sent to `to` (by recipient: ids are stored natively,
/// differently per database).
async fn outbox_state(store: &SeaOrmStore, to: &str) -> (String, String) {
    let row = store
        .connection()
        .query_one_raw(Statement::from_string(
            store.connection().get_database_backend(),
            format!("SELECT state, reason FROM outbox WHERE recipient = '{to}'"),
        ))
        .await
        .unwrap()
        .unwrap();
    let state: String = row.try_get("", "state").unwrap();
    let reason: Option<String> = row.try_get("", "reason").unwrap();
    (state, reason.unwrap_or_default())
}

/// A business notification about a quote decision, due at `at`.
fn decided_quote_notice(
    org: &portico_core::model::Org,
    quote: &portico_core::model::RecordId,
    at: time::OffsetDateTime,
) -> Notification {
    Notification {
        id: NotificationId(uuid::Uuid::from_u128(0xBAD)),
        org_id: org.id.clone(),
        share_id: None,
        record: Some(RecordRef {
            kind: RecordKind::Quote,
            id: quote.clone(),
        }),
        to: org.contact.email.clone().unwrap(),
        kind: NotificationKind::QuoteDecided {
            decision: portico_core::model::DecisionKind::Approved,
            message: None,
        },
        created_at: at,
        due_at: at,
        delivery: Delivery::Pending,
        attempts: 0,
        last_failure: None,
    }
}

/// Makes record `record` and the outbox row sent to `to` unreadable, as a bad migration or a
/// hand edit might.
async fn poison(store: &SeaOrmStore, record: &str, to: &str) {
    let postgres = store.connection().get_database_backend() == DatabaseBackend::Postgres;
    let cast = if postgres { "::jsonb" } else { "" };
    exec(
        store,
        &format!(
            "UPDATE records SET body = '{{\"kind\": \"quote\", \"title\": 42}}'{cast} WHERE id = '{record}'"
        ),
    )
    .await;
    exec(
        store,
        &format!(
            "UPDATE outbox SET kind = '{{\"type\": \"no_such_kind\"}}'{cast} WHERE recipient = '{to}'"
        ),
    )
    .await;
}

/// N5: a notification whose record no longer reads, and an outbox row that no longer reads,
/// claimed first among 100 good ones of two orgs, hold none of them up: the 100 go once each;
/// the unreadable row goes dead at once with its reason; the one that cannot be composed backs
/// off like a failing send, then goes dead with its reason.
async fn n5_a_poisoned_notification_never_holds_up_another(store: SeaOrmStore) {
    let Scene {
        portico,
        clock,
        org,
        owner,
        wo,
        ..
    } = scene(&store).await;
    let mine = share_work_order(&portico, &org.id, &owner.id, &wo.id).await;
    let other = fixtures::org("org2");
    let theirs = another_org_sharing(&portico, &other).await;
    let quote = fixtures::quote(
        &org.id,
        "q-poison",
        Some(&fixtures::client(&org.id, "c1").id),
    );
    portico
        .upsert_record(&owner.id, &Record::Quote(quote.clone()))
        .await
        .unwrap();
    // The link emails enabling queued go first, out of the way.
    let config = portico_core::service::DispatchConfig {
        batch: 10,
        ..portico_core::service::DispatchConfig::default()
    };
    let mailer = portico_core::testing::MemoryMailer::default();
    portico
        .dispatch_once(&store, &mailer, &config)
        .await
        .unwrap();
    assert_eq!(mailer.sent().len(), 2);

    let early = T0 - Duration::minutes(1);
    let poisoned = decided_quote_notice(&org, &quote.id, early);
    let mut unreadable = pending_link(0, &org, &mine, early);
    unreadable.to = portico_core::model::Email::parse("unreadable@client.example").unwrap();
    let mut tx = store.begin().await.unwrap();
    tx.enqueue(&poisoned).await.unwrap();
    tx.enqueue(&unreadable).await.unwrap();
    for i in 1..=100u128 {
        let (org, share) = if i % 2 == 0 {
            (&org, &mine)
        } else {
            (&other, &theirs)
        };
        tx.enqueue(&pending_link(i, org, share, T0)).await.unwrap();
    }
    tx.commit().await.unwrap();
    poison(&store, "q-poison", "unreadable@client.example").await;

    let before = mailer.sent().len();
    for _ in 0..30 {
        let r = portico
            .dispatch_once(&store, &mailer, &config)
            .await
            .unwrap();
        assert_eq!(r.unsettled, 0);
        if r.sent + r.retried + r.dead + r.dropped == 0 {
            break;
        }
    }
    let sent: Vec<String> = mailer.sent()[before..]
        .iter()
        .map(|m| m.message_id.clone())
        .collect();
    let mut unique = sent.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        (sent.len(), unique.len()),
        (100, 100),
        "the 100 good ones, once each"
    );
    let (st, reason) = outbox_state(&store, "unreadable@client.example").await;
    assert_eq!(st, "dead");
    assert!(reason.contains("unreadable"), "{reason}");
    let office = org.contact.email.as_ref().unwrap().as_str();
    let (st, _) = outbox_state(&store, office).await;
    assert_eq!(st, "pending", "backing off, like a failing send");

    clock.advance(Duration::days(4));
    let r = portico
        .dispatch_once(&store, &mailer, &config)
        .await
        .unwrap();
    assert_eq!((r.dead, r.sent), (1, 0));
    let (st, reason) = outbox_state(&store, office).await;
    assert_eq!(st, "dead");
    assert!(reason.contains("could not compose"), "{reason}");
}

/// V5, V6: a quote without `valid_until` and an invoice without `due_date`, stored as `null` by
/// earlier versions, read back (and so can be shared, viewed and corrected).
async fn v5_v6_quotes_and_invoices_stored_with_null_dates_read_back(store: SeaOrmStore) {
    let Scene {
        portico,
        org,
        owner,
        ..
    } = scene(&store).await;
    let mut quote = fixtures::quote(&org.id, "q-null", None);
    quote.valid_until = None;
    portico
        .upsert_record(&owner.id, &Record::Quote(quote.clone()))
        .await
        .unwrap();
    let postgres = store.connection().get_database_backend() == DatabaseBackend::Postgres;
    let sql = if postgres {
        "UPDATE records SET body = jsonb_set(body, '{valid_until}', 'null'::jsonb) WHERE id = 'q-null'"
    } else {
        "UPDATE records SET body = json_set(body, '$.valid_until', json('null')) WHERE id = 'q-null'"
    };
    exec(&store, sql).await;
    let mut tx = store.begin_read().await.unwrap();
    let stored = tx
        .record(
            &org.id,
            &RecordRef {
                kind: RecordKind::Quote,
                id: quote.id.clone(),
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.value, Record::Quote(quote.clone()));
    drop(tx);
    quote.title = "Corrected".into();
    portico
        .upsert_record(&owner.id, &Record::Quote(quote))
        .await
        .unwrap();
    let mut invoice = fixtures::invoice(&org.id, "inv-null", None, None);
    invoice.due_date = None;
    portico
        .upsert_record(&owner.id, &Record::Invoice(invoice.clone()))
        .await
        .unwrap();
    let mut tx = store.begin_read().await.unwrap();
    let stored = tx
        .record(
            &org.id,
            &RecordRef {
                kind: RecordKind::Invoice,
                id: invoice.id.clone(),
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.value, Record::Invoice(invoice));
}

/// V1: a work order written before `records.staff_ids` existed (the column `NULL`) says whom it
/// mentions only through its body: its page comes without staff, and the client view still
/// names its technician, read with a statement more.
async fn v1_a_record_written_before_staff_ids_still_names_its_technician(store: SeaOrmStore) {
    let s = scene(&store).await;
    let reference = Record::WorkOrder(s.wo.clone()).reference();
    let page = store
        .record_page(&s.org.id, &reference)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(page.staff, Some(vec![s.tech.clone()]));
    exec(&store, "UPDATE records SET staff_ids = NULL").await;
    let page = store
        .record_page(&s.org.id, &reference)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(page.staff, None);
    assert_eq!(page.invoices.len(), 1);
    let share = s
        .portico
        .enable_share(&s.owner.id, &s.org.id, &reference, &EnableShare::default())
        .await
        .unwrap();
    let token = token_of(&share);
    let Opened::View { view, .. } = s.portico.view_link(&token).await.unwrap() else {
        panic!("the link opens");
    };
    let text = serde_json::to_string(&view).unwrap();
    assert!(text.contains(&s.tech.name), "{text}");
}

/// S5 under load: look-ups of uncached pages asked for at once are read together (fewer
/// statements than look-ups), and each still gets its own link's answer — its share and page,
/// nothing for an unknown token, no page for a revoked link. A record whose body no longer
/// reads fails its own links alone, not the others read in the same statement.
async fn s5_pages_looked_up_together_each_get_their_own_answer(store: SeaOrmStore) {
    use portico_core::token::TokenHash;

    let s = scene(&store).await;
    let hashes = links_to_work_orders(&s).await;
    let (revoked, revoked_id) = hashes[0];
    s.portico
        .revoke_share(&s.owner.id, &s.org.id, revoked_id)
        .await
        .unwrap();
    let unknown = TokenHash([9; 32]);

    // What each link answers when asked alone.
    let alone = |hash: TokenHash| {
        let store = store.clone();
        async move { store.page_by_token_hash(&hash).await.unwrap() }
    };
    let mut expected = std::collections::HashMap::new();
    for (hash, _) in &hashes {
        expected.insert(*hash, alone(*hash).await);
    }
    expected.insert(unknown, None);
    assert!(matches!(expected[&revoked], Some((_, None))), "S5: no page");
    for (hash, _) in &hashes[1..] {
        let (share, page) = expected[hash].clone().unwrap();
        let page = page.expect("an active link has its page");
        assert_eq!(page.record.value.reference(), share.record);
        assert_eq!(page.staff, Some(vec![s.tech.clone()]));
    }

    let asked: Vec<TokenHash> = (0..240)
        .map(|n| match n % 13 {
            12 => unknown,
            i => hashes[i % hashes.len()].0,
        })
        .collect();
    let before = store.page_read_counts();
    let answers = all_at_once(&store, &asked).await;
    for (hash, found) in answers {
        assert_eq!(found.unwrap(), expected[&hash]);
    }
    let after = store.page_read_counts();
    assert_eq!(after.lookups - before.lookups, 240);
    assert!(
        after.statements - before.statements < 240,
        "read together: {before:?} -> {after:?}"
    );

    // On PostgreSQL the look-ups' own connections are cut (a database restart): the next
    // look-ups still answer, on new connections.
    if store.connection().get_database_backend() == DatabaseBackend::Postgres {
        let cut = cut_page_read_connections(&store).await;
        assert!(cut >= 1, "the look-ups have connections of their own");
        for (hash, found) in all_at_once(&store, &asked).await {
            assert_eq!(found.unwrap(), expected[&hash], "after the cut");
        }
    }

    // One record no longer reads: its link fails, the others still answer.
    let broken = hashes[1].0;
    let broken_record = expected[&broken].clone().unwrap().0.record;
    exec(
        &store,
        &format!(
            "UPDATE records SET body = '{{\"kind\":\"work_order\",\"title\":5}}' WHERE id = '{}'",
            broken_record.id.as_str()
        ),
    )
    .await;
    let answers = all_at_once(&store, &asked).await;
    for answer in answers {
        match answer {
            (hash, Err(StoreError::Corrupt { what, .. })) if hash == broken => {
                assert_eq!(what, "record");
            }
            (hash, found) => {
                assert_ne!(hash, broken, "a broken record must not read");
                assert_eq!(found.unwrap(), expected[&hash]);
            }
        }
    }
}

/// Looks up every one of `hashes` at once, each in a task of its own; the answers in order.
async fn all_at_once(
    store: &SeaOrmStore,
    hashes: &[portico_core::token::TokenHash],
) -> Vec<(
    portico_core::token::TokenHash,
    Result<
        Option<(
            portico_core::model::Share,
            Option<portico_core::ports::RecordPage>,
        )>,
        StoreError,
    >,
)> {
    let tasks: Vec<_> = hashes
        .iter()
        .map(|hash| {
            let store = store.clone();
            let hash = *hash;
            tokio::spawn(async move { (hash, store.page_by_token_hash(&hash).await) })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    answers
}

/// Terminates the PostgreSQL connections of `store`'s page look-ups; how many there were.
async fn cut_page_read_connections(store: &SeaOrmStore) -> i64 {
    let one = |sql: String| async move {
        store
            .connection()
            .query_one_raw(Statement::from_string(DatabaseBackend::Postgres, sql))
            .await
            .unwrap()
            .unwrap()
    };
    let schema: String = one("SELECT current_schema() AS s".into())
        .await
        .try_get("", "s")
        .unwrap();
    one(format!(
        "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity WHERE application_name = '{}'",
        portico_store::page_reads_application(&schema)
    ))
    .await
    .try_get("", "n")
    .unwrap()
}

/// The token at the end of a share's link.
fn token_of(shared: &portico_core::service::ShareInfo) -> String {
    shared
        .link
        .as_deref()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned()
}

/// The hash a share's link is looked up by.
fn hash_of(shared: &portico_core::service::ShareInfo) -> portico_core::token::TokenHash {
    portico_core::token::ShareToken::parse(&token_of(shared))
        .unwrap()
        .hash()
}

/// Ten more work orders beside the scene's, and a link to each of the eleven: each token's
/// hash and share.
async fn links_to_work_orders(
    s: &Scene,
) -> Vec<(portico_core::token::TokenHash, portico_core::model::ShareId)> {
    let mut records = Vec::new();
    for n in 2..12 {
        let wo = fixtures::work_order(
            &s.org.id,
            &format!("wo{n}"),
            s.wo.client_id.as_ref(),
            Some(&s.tech.id),
        );
        s.portico
            .upsert_record(&s.owner.id, &Record::WorkOrder(wo.clone()))
            .await
            .unwrap();
        records.push(Record::WorkOrder(wo).reference());
    }
    records.push(Record::WorkOrder(s.wo.clone()).reference());
    let mut hashes = Vec::new();
    for reference in &records {
        let shared = s
            .portico
            .enable_share(
                &s.owner.id,
                &s.org.id,
                reference,
                &EnableShare {
                    recipient: Some("jordan@client.example".into()),
                    sections: None,
                },
            )
            .await
            .unwrap();
        hashes.push((hash_of(&shared), shared.id));
    }
    hashes
}

/// A page look-up whose statement hangs (on PostgreSQL, behind another session's lock on the
/// shares) fails once the store's page read timeout has passed, tried on a new connection
/// once, instead of holding its lane for good; once the lock is gone the link answers again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s5_a_page_look_up_that_hangs_fails_in_time_and_the_next_one_answers() {
    use sea_orm::TransactionTrait;

    let Some((store, _schema)) = support::postgres().await else {
        return;
    };
    let store = store.with_page_read_timeout(std::time::Duration::from_millis(300));
    let s = scene(&store).await;
    let reference = Record::WorkOrder(s.wo.clone()).reference();
    let shared = s
        .portico
        .enable_share(&s.owner.id, &s.org.id, &reference, &EnableShare::default())
        .await
        .unwrap();
    let hash = hash_of(&shared);
    assert!(store.page_by_token_hash(&hash).await.unwrap().is_some());

    let lock = store.connection().begin().await.unwrap();
    lock.execute_unprepared("LOCK TABLE shares IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    let failed = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        store.page_by_token_hash(&hash),
    )
    .await
    .expect("the look-up gives up");
    assert!(matches!(failed, Err(StoreError::Backend(_))), "{failed:?}");
    lock.rollback().await.unwrap();
    let (share, page) = store.page_by_token_hash(&hash).await.unwrap().unwrap();
    assert_eq!(share.id, shared.id);
    assert!(page.is_some());
}
