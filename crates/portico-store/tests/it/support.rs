//! Fresh databases for tests: SQLite in memory, SQLite in a temporary file, and a PostgreSQL
//! schema of its own per test (`portico_testkit::postgres`), dropped when the test ends.

use portico_store::SeaOrmStore;
pub use portico_testkit::postgres::PgSchema;

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

/// A store in a PostgreSQL schema of the test's own (dropped with the returned guard).
pub async fn postgres() -> Option<(SeaOrmStore, PgSchema)> {
    let guard = PgSchema::create("the store's PostgreSQL suite")?;
    let store = SeaOrmStore::connect_in_schema(&guard.url, Some(&guard.name))
        .await
        .unwrap();
    Some((store, guard))
}

/// Two stores in one PostgreSQL schema of the test's own, as two servers would have.
pub async fn postgres_pair() -> Option<(SeaOrmStore, SeaOrmStore, PgSchema)> {
    let (a, guard) = postgres().await?;
    let b = SeaOrmStore::connect_in_schema(&guard.url, Some(&guard.name))
        .await
        .unwrap();
    Some((a, b, guard))
}
