//! Portico's storage adapter: `portico-core`'s storage ports ([`Store`], [`UnitOfWork`],
//! [`Outbox`]) on sea-orm, with SQLite as the embedded default and PostgreSQL at scale.
//!
//! - API keys (I1) are stored as SHA-256 hashes only.
//! - One constructor from a URL ([`SeaOrmStore::connect`]): `sqlite://path?mode=rwc`,
//!   `sqlite::memory:`, `postgres://…`. Migrations run on connect.
//! - A unit of work is a database transaction. Records and shares carry a version column and
//!   every write names the version it read, so two writers never lose an update: the second
//!   gets `StoreError::Conflict` and the core retries from a fresh read.
//! - The outbox is claimed with `FOR UPDATE SKIP LOCKED` on PostgreSQL, so several dispatchers
//!   never claim one notification twice; SQLite serialises writers.
//!
//! - [`FolderBlobs`] keeps photo and file bytes in a folder (the blob port); [`ObjectBlobs`] in
//!   an S3-compatible bucket, for servers that share their files.
//!
//! [`Store`]: portico_core::ports::Store
//! [`UnitOfWork`]: portico_core::ports::UnitOfWork
//! [`Outbox`]: portico_core::ports::Outbox

mod blobs;
mod columns;
mod convert;
mod document;
pub mod entity;
mod feed;
mod inbox;
pub mod migration;
mod object_blobs;
mod outbox;
mod page;
mod page_reads;
mod payments;
mod plans;
#[cfg(test)]
mod stored_shapes;
mod unit;
mod webhooks;

use std::time::Duration;

use async_trait::async_trait;
use portico_core::model::{OrgId, Share, ShareId};
use portico_core::ports::{ApiKeyInfo, Store, StoreError, UnitOfWork};
use portico_core::token::{ApiKeyHash, TokenHash};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ColumnTrait, ConnectOptions, Database, DatabaseBackend, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, RuntimeErr, SqlErr, SqliteTransactionMode,
    TransactionOptions, TransactionTrait,
};
use sea_orm_migration::MigratorTrait;
use time::OffsetDateTime;

pub use blobs::FolderBlobs;
pub use columns::{Amount, Instant};
use entity::{api_keys, shares};
pub use feed::{ChangeFeed, FeedSettings, Markers};
pub use object_blobs::{ObjectBlobs, ObjectConfig};
pub use page_reads::{PageReadCounts, page_reads_application};

/// How long a pooled connection may sit idle before it is tested on checkout.
const IDLE_BEFORE_TEST: Duration = Duration::from_secs(10);

/// How long a SQLite writer waits for another before giving up with a conflict.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The storage ports on a SQLite or PostgreSQL database.
#[derive(Debug, Clone)]
pub struct SeaOrmStore {
    db: DatabaseConnection,
    /// On PostgreSQL, how this server announces its changes to the others.
    announcer: Option<std::sync::Arc<feed::Announcer>>,
    /// On SQLite, the turn to write: this process's writers queue for it in order, instead of
    /// polling the database's write lock through SQLite's busy handler (whose sleeps of up to
    /// 100 ms set the tail latency under load).
    writer: Option<std::sync::Arc<tokio::sync::Mutex<()>>>,
    /// The look-ups of uncached client pages, coalesced under load.
    pages: std::sync::Arc<page_reads::PageReads>,
}

/// A writer's turn on SQLite (see `SeaOrmStore::writer`), held until its transaction ends.
pub(crate) type WriterTurn = Option<tokio::sync::OwnedMutexGuard<()>>;

/// How many page look-ups may be in flight at once beside a pool of `connections`, on a
/// machine of `cores`: one per two cores, and at most a quarter of the pool (on SQLite the
/// lanes take their connections from the pool, so most of it stays for the units of work; on
/// PostgreSQL they have their own). A look-up that finds every lane busy waits and goes out
/// with the others in the next statement, so fewer lanes mean fewer, larger statements: on 2
/// cores one lane gave 1.5× to 1.9× the pages a second of four on PostgreSQL, and on SQLite
/// 1.1× to 1.5× those of two (whose rate swung between runs).
fn page_lanes(connections: u32, cores: usize) -> usize {
    usize::try_from(connections / 4)
        .unwrap_or(1)
        .min(cores / 2)
        .max(1)
}

/// The cores this process may run on (1 when it cannot tell).
fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// Which database a URL names.
fn backend_of(url: &str) -> Result<DatabaseBackend, StoreError> {
    if url.starts_with("sqlite:") {
        Ok(DatabaseBackend::Sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(DatabaseBackend::Postgres)
    } else {
        Err(StoreError::Backend(
            "the database URL must start with sqlite: or postgres:// (e.g. sqlite://portico.db?mode=rwc)".into(),
        ))
    }
}

impl SeaOrmStore {
    /// Connects to `url` and brings the schema up to date.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_in_schema(url, None).await
    }

    /// Connects to `url` with PostgreSQL's `search_path` set to `schema` (ignored for SQLite),
    /// and brings the schema up to date.
    pub async fn connect_in_schema(url: &str, schema: Option<&str>) -> Result<Self, StoreError> {
        let store = Self::connect_only(url, schema).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Connects to `url` with at most `connections` connections (PostgreSQL's best is about
    /// twice its server's cores; fewer queue in the pool, more contend in the server), and
    /// brings the schema up to date.
    pub async fn connect_with_pool(url: &str, connections: u32) -> Result<Self, StoreError> {
        let store = Self::open(url, None, Some(connections)).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Connects without migrating (for `portico migrate` and checks).
    pub async fn connect_only(url: &str, schema: Option<&str>) -> Result<Self, StoreError> {
        Self::open(url, schema, None).await
    }

    /// Connects; `connections` bounds the pool (the backend's default when `None`: 16 on
    /// PostgreSQL, 8 on a SQLite file; `sqlite::memory:` always has one).
    async fn open(
        url: &str,
        schema: Option<&str>,
        connections: Option<u32>,
    ) -> Result<Self, StoreError> {
        let backend = backend_of(url)?;
        let mut options = ConnectOptions::new(url.to_owned());
        options.sqlx_logging(false);
        // sqlx tests every connection with a round trip when it goes back to the pool; a
        // second one on every checkout would double that for each unit of work. Only a
        // connection idle long enough for a server, proxy or firewall to have dropped it is
        // tested before use.
        options.test_before_acquire_if_idle_for(IDLE_BEFORE_TEST);
        if backend == DatabaseBackend::Sqlite {
            let in_memory = url.contains(":memory:") || url.contains("mode=memory");
            if in_memory {
                // Every connection to `:memory:` is a database of its own: keep exactly one.
                options
                    .max_connections(1)
                    .min_connections(1)
                    .idle_timeout(None)
                    .max_lifetime(None);
            } else {
                options.max_connections(connections.unwrap_or(8));
            }
            options.map_sqlx_sqlite_opts(move |o| {
                let o = o
                    .foreign_keys(true)
                    .busy_timeout(SQLITE_BUSY_TIMEOUT)
                    .synchronous(SqliteSynchronous::Normal);
                if in_memory {
                    o
                } else {
                    o.journal_mode(SqliteJournalMode::Wal)
                }
            });
        } else {
            options.max_connections(connections.unwrap_or(16));
            if let Some(schema) = schema {
                options.set_schema_search_path(schema.to_owned());
            }
        }
        let pool = options.get_max_connections().unwrap_or(1);
        let db = Database::connect(options).await.map_err(db_err)?;
        let announcer = (backend == DatabaseBackend::Postgres).then(|| {
            std::sync::Arc::new(feed::Announcer {
                instance: uuid::Uuid::new_v4(),
                schema: schema.unwrap_or_default().to_owned(),
            })
        });
        let writer = (backend == DatabaseBackend::Sqlite)
            .then(|| std::sync::Arc::new(tokio::sync::Mutex::new(())));
        let pages = page_reads::PageReads::new(
            db.clone(),
            page_lanes(pool, cores()),
            schema,
            page_reads::READ_TIMEOUT,
        );
        Ok(Self {
            db,
            announcer,
            writer,
            pages,
        })
    }

    /// Applies every pending migration.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        migration::Migrator::up(&self.db, None)
            .await
            .map_err(db_err)
    }

    /// A transaction that will write. On SQLite it takes the write lock at `BEGIN IMMEDIATE`,
    /// where the busy timeout applies; a deferred one that reads first and then writes would
    /// fail at once whenever another writer got there in between.
    ///
    /// On SQLite it first waits for this process's turn to write, held with the transaction
    /// (the returned turn must live until it commits or is dropped).
    pub(crate) async fn begin_writing(
        &self,
    ) -> Result<(sea_orm::DatabaseTransaction, WriterTurn), StoreError> {
        let turn = match &self.writer {
            Some(writer) => Some(writer.clone().lock_owned().await),
            None => None,
        };
        let options = TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        };
        let tx = self.db.begin_with_options(options).await.map_err(db_err)?;
        Ok((tx, turn))
    }

    /// Whether the database answers (readiness).
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.db.ping().await.map_err(db_err)
    }

    /// On PostgreSQL, the feed of the changes other servers on the database commit (see
    /// [`ChangeFeed`]); `None` on SQLite, which one process serves.
    pub fn change_feed(&self) -> Option<ChangeFeed> {
        let announcer = self.announcer.as_deref()?;
        Some(ChangeFeed::new(
            announcer.clone(),
            self.db.get_postgres_connection_pool(),
        ))
    }

    fn unit(
        &self,
        tx: sea_orm::DatabaseTransaction,
        writing: bool,
        turn: WriterTurn,
    ) -> Box<dyn UnitOfWork> {
        Box::new(unit::SqlUnit::new(
            tx,
            writing,
            turn,
            self.announcer.clone(),
        ))
    }

    /// This store with each page look-up's statement given at most `timeout` (10 s by
    /// default) before its connection is closed and the look-ups it carried fail.
    #[must_use]
    pub fn with_page_read_timeout(mut self, timeout: Duration) -> Self {
        self.pages = self.pages.with_timeout(timeout);
        self
    }

    /// How many page look-ups this store was asked for and in how many statements it read
    /// them (fewer under load: look-ups that wait are read together). `/metrics` shows the
    /// same as `portico_page_lookups_total` and `portico_page_statements_total`.
    pub fn page_read_counts(&self) -> PageReadCounts {
        self.pages.counts()
    }

    /// The underlying connection, for adapters that need their own queries.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }
}

#[async_trait]
impl Store for SeaOrmStore {
    async fn begin(&self) -> Result<Box<dyn UnitOfWork>, StoreError> {
        let (tx, turn) = self.begin_writing().await?;
        Ok(self.unit(tx, true, turn))
    }

    async fn begin_read(&self) -> Result<Box<dyn UnitOfWork>, StoreError> {
        // A deferred transaction: on SQLite a read snapshot that takes no write lock.
        let tx = self.db.begin().await.map_err(db_err)?;
        Ok(self.unit(tx, false, None))
    }

    async fn share_by_token_hash(&self, hash: &TokenHash) -> Result<Option<Share>, StoreError> {
        shares::Entity::find()
            .filter(shares::Column::TokenHash.eq(hash.0.to_vec()))
            .one(&self.db)
            .await
            .map_err(db_err)?
            .map(convert::share_from_row)
            .transpose()
    }

    async fn page_by_token_hash(
        &self,
        hash: &TokenHash,
    ) -> Result<Option<(Share, Option<portico_core::ports::RecordPage>)>, StoreError> {
        self.pages.read(*hash).await
    }

    async fn record_page(
        &self,
        org: &OrgId,
        record: &portico_core::model::RecordRef,
    ) -> Result<Option<portico_core::ports::RecordPage>, StoreError> {
        page::record_page(&self.db, org, record).await
    }

    async fn staff_among(
        &self,
        org: &OrgId,
        ids: &[portico_core::model::StaffId],
    ) -> Result<Vec<portico_core::model::Staff>, StoreError> {
        page::staff_among(&self.db, org, ids).await
    }

    async fn insert_api_key(
        &self,
        id: uuid::Uuid,
        org: &OrgId,
        key_hash: &ApiKeyHash,
        label: &str,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let row = api_keys::ActiveModel {
            id: sea_orm::Set(id),
            org_id: sea_orm::Set(org.as_str().to_owned()),
            key_hash: sea_orm::Set(key_hash.0.to_vec()),
            label: sea_orm::Set(label.to_owned()),
            created_at: sea_orm::Set(Instant::new(at)),
            revoked_at: sea_orm::Set(None),
        };
        api_keys::Entity::insert(row)
            .exec_without_returning(&self.db)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn api_keys_of_org(&self, org: &OrgId) -> Result<Vec<ApiKeyInfo>, StoreError> {
        Ok(api_keys::Entity::find()
            .filter(api_keys::Column::OrgId.eq(org.as_str()))
            .order_by_asc(api_keys::Column::CreatedAt)
            .order_by_asc(api_keys::Column::Id)
            .all(&self.db)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(|row| ApiKeyInfo {
                id: row.id,
                label: row.label,
                created_at: row.created_at.0,
                revoked_at: row.revoked_at.map(|i| i.0),
            })
            .collect())
    }

    async fn org_of_api_key(&self, key_hash: &ApiKeyHash) -> Result<Option<OrgId>, StoreError> {
        let row = api_keys::Entity::find()
            .filter(api_keys::Column::KeyHash.eq(key_hash.0.to_vec()))
            .filter(api_keys::Column::RevokedAt.is_null())
            .one(&self.db)
            .await
            .map_err(db_err)?;
        row.map(|r| convert::host_id::<OrgId>("api key org", r.org_id))
            .transpose()
    }

    async fn revoke_api_key(
        &self,
        org: &OrgId,
        id: uuid::Uuid,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        api_keys::Entity::update_many()
            .col_expr(api_keys::Column::RevokedAt, Expr::value(Instant::new(at)))
            .filter(api_keys::Column::Id.eq(id))
            .filter(api_keys::Column::OrgId.eq(org.as_str()))
            .filter(api_keys::Column::RevokedAt.is_null())
            .exec(&self.db)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn record_opened(&self, share: ShareId, at: OffsetDateTime) -> Result<bool, StoreError> {
        let at = Instant::new(at);
        shares::Entity::update_many()
            .col_expr(shares::Column::LastOpenedAt, Expr::value(at))
            .filter(shares::Column::Id.eq(share.0))
            .filter(
                shares::Column::LastOpenedAt
                    .is_null()
                    .or(shares::Column::LastOpenedAt.lt(at)),
            )
            .exec(&self.db)
            .await
            .map_err(db_err)?;
        // Whether the first opening is still to claim (in a unit of work, with its event).
        let unclaimed: Option<Option<Instant>> = shares::Entity::find()
            .select_only()
            .column(shares::Column::FirstOpenedAt)
            .filter(shares::Column::Id.eq(share.0))
            .into_tuple()
            .one(&self.db)
            .await
            .map_err(db_err)?;
        Ok(matches!(unclaimed, Some(None)))
    }
}

/// Database error codes that mean "someone else was writing": SQLite busy, locked and stale
/// snapshot; PostgreSQL serialization failure, deadlock and lock not available.
const CONTENTION_CODES: &[&str] = &["5", "6", "261", "262", "517", "40001", "40P01", "55P03"];

/// Maps a sea-orm error into the port's terms: constraint violations and write contention are
/// `Conflict` (the core retries), everything else `Backend`.
pub(crate) fn db_err(e: DbErr) -> StoreError {
    match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(m)) => {
            return StoreError::Conflict(format!("unique constraint: {m}"));
        }
        Some(SqlErr::ForeignKeyConstraintViolation(m)) => {
            return StoreError::Conflict(format!("missing parent row: {m}"));
        }
        _ => {}
    }
    let contended = match &e {
        DbErr::Exec(RuntimeErr::SqlxError(s))
        | DbErr::Query(RuntimeErr::SqlxError(s))
        | DbErr::Conn(RuntimeErr::SqlxError(s)) => match s.as_ref() {
            sea_orm::sqlx::Error::Database(db) => db
                .code()
                .is_some_and(|code| CONTENTION_CODES.contains(&code.as_ref())),
            _ => false,
        },
        _ => false,
    };
    if contended {
        StoreError::Conflict(format!("concurrent write: {e}"))
    } else {
        StoreError::Backend(Box::new(e))
    }
}

// The README's examples are compiled (and, unless marked no_run, run) as doctests here, where
// both crates are in reach.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeDoctests;

#[cfg(test)]
mod tests {
    use super::page_lanes;

    #[test]
    fn page_lanes_are_one_per_two_cores_and_at_most_a_quarter_of_the_pool() {
        assert_eq!(page_lanes(16, 2), 1);
        assert_eq!(page_lanes(16, 1), 1);
        assert_eq!(page_lanes(16, 8), 4);
        assert_eq!(page_lanes(16, 64), 4);
        assert_eq!(page_lanes(8, 64), 2);
        assert_eq!(page_lanes(1, 64), 1);
        assert_eq!(page_lanes(0, 0), 1);
    }
}
