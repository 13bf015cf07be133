//! Fresh databases for tests: SQLite in memory, SQLite in a temporary file, and a PostgreSQL
//! schema of its own per test, dropped when the test ends.
//!
//! PostgreSQL is found at `PORTICO_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`). When it cannot be reached the PostgreSQL tests
//! fail under CI (`CI` set) and are skipped with a notice elsewhere.

use portico_store::SeaOrmStore;
use sea_orm::{ConnectionTrait, Database};

pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

pub fn postgres_url() -> String {
    std::env::var("PORTICO_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned())
}

pub async fn sqlite_memory() -> Option<(SeaOrmStore, ())> {
    Some((SeaOrmStore::connect("sqlite::memory:").await.unwrap(), ()))
}

pub async fn sqlite_file() -> Option<(SeaOrmStore, tempfile::TempDir)> {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("portico.db").display()
    );
    Some((SeaOrmStore::connect(&url).await.unwrap(), dir))
}

/// A PostgreSQL schema that is dropped, with everything in it, when this is dropped.
#[derive(Debug)]
pub struct PgSchema {
    url: String,
    pub name: String,
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        let (url, name) = (self.url.clone(), self.name.clone());
        // Drop runs outside async; a short-lived runtime on its own thread does the clean-up.
        let cleanup = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(async {
                let db = Database::connect(&url).await?;
                db.execute_unprepared(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
                    .await?;
                db.close().await
            })
            .map_err(std::io::Error::other)
        });
        if let Ok(Err(e)) = cleanup.join() {
            eprintln!("could not drop test schema {}: {e}", self.name);
        }
    }
}

pub async fn postgres() -> Option<(SeaOrmStore, PgSchema)> {
    let url = postgres_url();
    let admin = match Database::connect(&url).await {
        Ok(db) => db,
        Err(e) => {
            portico_core::testing::skip_check(
                "the store's PostgreSQL suite",
                &format!(
                    "{url} cannot be reached ({e}); start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start, or set PORTICO_TEST_POSTGRES_URL"
                ),
            );
            return None;
        }
    };
    let name = format!("portico_test_{}", uuid::Uuid::new_v4().simple());
    admin
        .execute_unprepared(&format!("CREATE SCHEMA {name}"))
        .await
        .unwrap();
    admin.close().await.unwrap();
    let guard = PgSchema {
        url: url.clone(),
        name,
    };
    let store = SeaOrmStore::connect_in_schema(&url, Some(&guard.name))
        .await
        .unwrap();
    Some((store, guard))
}
