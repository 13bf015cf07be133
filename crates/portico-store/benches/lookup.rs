//! Benchmark: a client opening a link, at 1,000 and at 1,000,000 shares, on SQLite and
//! PostgreSQL. Prints the median of (a) the point look-up of a share by its token's hash and
//! (b) the whole `open_link` (look-up, org, record, client, staff, invoices, projection, and the
//! write that records the opening), and the ratio between the sizes.
//!
//! `PORTICO_BENCH_SIZES` (default `1000,1000000`) and `PORTICO_BENCH_BACKENDS` (default
//! `sqlite,postgres`) narrow the run; PostgreSQL is found at `PORTICO_BENCH_POSTGRES_URL`
//! (default `postgres://postgres@127.0.0.1:5432/test`), in a schema of its own dropped at the end.
//!
//! The shares are spread over 1,000 work orders: each has one active share and the rest of its
//! generations revoked, so the shares table holds the full count while the one-active-share rule
//! holds.

use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant as StdInstant};

use portico_core::model::{Record, Role, Sections};
use portico_core::ports::Store;
use portico_core::testing::fixtures::{self, T0};
use portico_core::testing::{ManualClock, MemoryBlobs, SeededRandomness};
use portico_core::token::{KeyId, Nonce, TokenKeys};
use portico_core::{Portico, Ports, ServiceConfig};
use portico_store::SeaOrmStore;
use portico_store::entity::shares;
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::{ConnectionTrait, Database, EntityTrait, TransactionTrait};

const RECORDS: usize = 1000;
const SAMPLES: usize = 2000;

fn median(mut samples: Vec<StdDuration>) -> StdDuration {
    samples.sort();
    samples[samples.len() / 2]
}

fn nonce(i: usize) -> Nonce {
    let mut n = [0u8; 32];
    n[..8].copy_from_slice(&(i as u64).to_be_bytes());
    n[8] = 0xA5;
    Nonce(n)
}

/// Seeds `total` shares over `RECORDS` work orders; returns the active shares' tokens.
async fn seed(store: &SeaOrmStore, keys: &TokenKeys, total: usize) -> Vec<String> {
    let org = fixtures::org("bench");
    let client = fixtures::client(&org.id, "c1");
    let tech = fixtures::staff(&org.id, "tech", Role::Technician);
    let mut tx = store.begin().await.unwrap();
    tx.put_org(&org).await.unwrap();
    tx.put_client(&client).await.unwrap();
    tx.put_staff(&tech).await.unwrap();
    for r in 0..RECORDS {
        let wo = fixtures::work_order(&org.id, &format!("wo{r}"), Some(&client.id), Some(&tech.id));
        tx.put_record(&Record::WorkOrder(wo), None).await.unwrap();
    }
    tx.commit().await.unwrap();

    let db = store.connection();
    let mut tokens = Vec::with_capacity(RECORDS);
    let mut batch = Vec::with_capacity(1000);
    let txn = db.begin().await.unwrap();
    for i in 0..total {
        let record = i % RECORDS;
        let active = i + RECORDS >= total;
        let token = keys.derive(KeyId(1), &nonce(i)).unwrap();
        if active {
            tokens.push(token.expose().to_owned());
        }
        let at = portico_store::Instant::new(T0);
        batch.push(shares::ActiveModel {
            seq: NotSet,
            id: Set(uuid::Uuid::from_u128(i as u128 + 1)),
            org_id: Set("bench".into()),
            record_kind: Set("work_order".into()),
            record_id: Set(format!("wo{record}")),
            recipient: Set("jordan@client.example".into()),
            sections: Set(i32::from(Sections::ALL.bits())),
            state: Set(if active { "active" } else { "revoked" }.into()),
            revoked_at: Set((!active).then_some(at)),
            revoked_by: Set((!active).then(|| "owner".to_owned())),
            key_id: Set(1),
            nonce: Set(nonce(i).0.to_vec()),
            token_hash: Set(token.hash().0.to_vec()),
            expires_at: Set(None),
            created_at: Set(at),
            created_by: Set("owner".into()),
            first_opened_at: Set(None),
            last_opened_at: Set(None),
            version: Set(1),
        });
        if batch.len() == 1000 {
            shares::Entity::insert_many(std::mem::take(&mut batch))
                .exec_without_returning(&txn)
                .await
                .unwrap();
        }
    }
    if !batch.is_empty() {
        shares::Entity::insert_many(batch)
            .exec_without_returning(&txn)
            .await
            .unwrap();
    }
    txn.commit().await.unwrap();
    if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        db.execute_unprepared("ANALYZE").await.unwrap();
    }
    tokens
}

struct Figures {
    lookup: StdDuration,
    open: StdDuration,
}

async fn measure(store: SeaOrmStore, total: usize) -> Figures {
    let keys = TokenKeys::new(KeyId(1), &[42; 32]).unwrap();
    let seeding = StdInstant::now();
    let tokens = seed(&store, &keys, total).await;
    eprintln!("    seeded {total} shares in {:.1?}", seeding.elapsed());
    let ports = Ports {
        store: Arc::new(store.clone()),
        clock: Arc::new(ManualClock::new(T0)),
        random: Arc::new(SeededRandomness::new(1)),
        blobs: Arc::new(MemoryBlobs::default()),
        links: Arc::new(portico_core::testing::BaseLinks(
            "http://127.0.0.1:8080".into(),
        )),
    };
    let portico = Portico::new(ports, keys, ServiceConfig::default());
    let hashes: Vec<_> = tokens
        .iter()
        .map(|t| portico_core::token::ShareToken::parse(t).unwrap().hash())
        .collect();
    // Warm up the connection pool and caches.
    for t in tokens.iter().take(200) {
        portico.open_link(t).await.unwrap();
    }
    let mut lookups = Vec::with_capacity(SAMPLES);
    let mut opens = Vec::with_capacity(SAMPLES);
    for i in 0..SAMPLES {
        let hash = &hashes[(i * 7919) % hashes.len()];
        let t = StdInstant::now();
        let share = store.share_by_token_hash(hash).await.unwrap();
        lookups.push(t.elapsed());
        assert!(share.is_some());
        let token = &tokens[(i * 104_729) % tokens.len()];
        let t = StdInstant::now();
        let opened = portico.open_link(token).await.unwrap();
        opens.push(t.elapsed());
        assert!(matches!(opened, portico_core::service::Opened::View { .. }));
    }
    Figures {
        lookup: median(lookups),
        open: median(opens),
    }
}

async fn postgres_store(url: &str) -> Option<(SeaOrmStore, String)> {
    let admin = match Database::connect(url).await {
        Ok(db) => db,
        Err(e) => {
            eprintln!("  PostgreSQL at {url} cannot be reached ({e}); skipped");
            return None;
        }
    };
    let schema = format!("portico_bench_{}", std::process::id());
    admin
        .execute_unprepared(&format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
        ))
        .await
        .unwrap();
    let store = SeaOrmStore::connect_in_schema(url, Some(&schema))
        .await
        .unwrap();
    Some((store, schema))
}

#[tokio::main]
async fn main() {
    let sizes: Vec<usize> = std::env::var("PORTICO_BENCH_SIZES")
        .unwrap_or_else(|_| "1000,1000000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let backends =
        std::env::var("PORTICO_BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    let pg_url = std::env::var("PORTICO_BENCH_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    println!(
        "portico-store: open a link (median of {SAMPLES}), shares spread over {RECORDS} work orders"
    );
    for backend in backends.split(',').map(str::trim) {
        let mut rows: Vec<(usize, Figures)> = Vec::new();
        for &size in &sizes {
            eprintln!("  {backend}, {size} shares");
            let figures = match backend {
                "sqlite" => {
                    let dir = tempfile::tempdir().unwrap();
                    let url = format!(
                        "sqlite://{}?mode=rwc",
                        dir.path().join("bench.db").display()
                    );
                    let store = SeaOrmStore::connect(&url).await.unwrap();
                    measure(store, size).await
                }
                "postgres" => {
                    let Some((store, schema)) = postgres_store(&pg_url).await else {
                        break;
                    };
                    let figures = measure(store.clone(), size).await;
                    store
                        .connection()
                        .execute_unprepared(&format!("DROP SCHEMA {schema} CASCADE"))
                        .await
                        .unwrap();
                    figures
                }
                other => panic!("unknown backend {other}"),
            };
            println!(
                "  {backend:<8} {size:>9} shares   look-up by token {:>9.1?}   open_link {:>9.1?}",
                figures.lookup, figures.open
            );
            rows.push((size, figures));
        }
        if let (Some((small, a)), Some((large, b))) = (rows.first(), rows.last())
            && small != large
        {
            println!(
                "  {backend:<8} ratio {large}/{small}: look-up {:.2}x, open_link {:.2}x (target: within 1.5x)",
                b.lookup.as_secs_f64() / a.lookup.as_secs_f64(),
                b.open.as_secs_f64() / a.open.as_secs_f64()
            );
        }
    }
}
