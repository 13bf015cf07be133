//! A PostgreSQL database or schema of a test's own.
//!
//! The server is found at `PORTICO_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`). When it cannot be reached, the fixture reports
//! the skipped check (a failure under CI) and returns `None`.

use sea_orm::{ConnectionTrait, Database};

/// Where PostgreSQL is looked for when `PORTICO_TEST_POSTGRES_URL` is unset.
pub const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// The URL of the database fixtures are created from.
pub fn admin_url() -> String {
    std::env::var("PORTICO_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned())
}

/// Runs `sql` statements against `url` on a short-lived runtime of its own thread, so it works
/// from synchronous tests, from async ones and from `Drop`.
fn execute(url: &str, sql: &[String]) -> Result<(), String> {
    let (url, sql) = (url.to_owned(), sql.to_vec());
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        rt.block_on(async {
            let db = Database::connect(&url).await.map_err(|e| e.to_string())?;
            for statement in &sql {
                db.execute_unprepared(statement)
                    .await
                    .map_err(|e| e.to_string())?;
            }
            db.close().await.map_err(|e| e.to_string())
        })
    })
    .join()
    .map_err(|_| "the PostgreSQL fixture's thread panicked".to_owned())?
}

fn unreachable(check: &str, url: &str, why: &str) {
    portico_core::testing::skip_check(
        check,
        &format!(
            "{url} cannot be reached ({why}); start it with: pg_ctlcluster \
             --skip-systemctl-redirect $(ls /etc/postgresql) main start, or set \
             PORTICO_TEST_POSTGRES_URL"
        ),
    );
}

/// A fresh name for something a test creates.
fn fresh(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
}

/// A database of a test's own (for a process that takes a `DATABASE_URL`), dropped with
/// everything in it when this is dropped.
#[derive(Debug)]
pub struct PgDatabase {
    admin_url: String,
    /// The database's name.
    pub name: String,
    /// Its URL.
    pub url: String,
}

impl PgDatabase {
    /// Creates the database; `None` after reporting `check` as skipped when PostgreSQL is
    /// unreachable.
    pub fn create(check: &str) -> Option<Self> {
        Self::create_in(&admin_url(), check)
    }

    /// [`PgDatabase::create`] on the server of `admin_url` (a benchmark's own setting).
    pub fn create_in(admin_url: &str, check: &str) -> Option<Self> {
        let admin_url = admin_url.to_owned();
        let name = fresh("portico_db");
        if let Err(why) = execute(&admin_url, &[format!("CREATE DATABASE {name}")]) {
            unreachable(check, &admin_url, &why);
            return None;
        }
        let base = admin_url
            .rsplit_once('/')
            .map_or(admin_url.as_str(), |(base, _)| base);
        let url = format!("{base}/{name}");
        Some(Self {
            admin_url,
            name,
            url,
        })
    }

    /// Runs `sql` as the administrator, from the database fixtures are created from (to stop
    /// new connections to this one, say, or end some of its sessions).
    pub fn admin(&self, sql: &str) -> Result<(), String> {
        execute(&self.admin_url, &[sql.to_owned()])
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let drop = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        if let Err(e) = execute(&self.admin_url, &[drop]) {
            eprintln!("could not drop test database {}: {e}", self.name);
        }
    }
}

/// A schema of a test's own in the test database (for a store opened in-process with that
/// schema), dropped with everything in it when this is dropped.
#[derive(Debug)]
pub struct PgSchema {
    /// The database's URL.
    pub url: String,
    /// The schema's name.
    pub name: String,
}

impl PgSchema {
    /// Creates the schema; `None` after reporting `check` as skipped when PostgreSQL is
    /// unreachable.
    pub fn create(check: &str) -> Option<Self> {
        let url = admin_url();
        let name = fresh("portico_test");
        if let Err(why) = execute(&url, &[format!("CREATE SCHEMA {name}")]) {
            unreachable(check, &url, &why);
            return None;
        }
        Some(Self { url, name })
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        let drop = format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name);
        if let Err(e) = execute(&self.url, &[drop]) {
            eprintln!("could not drop test schema {}: {e}", self.name);
        }
    }
}
