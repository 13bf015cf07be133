//! Coalesced page reads. Every uncached client page starts with one look-up
//! ([`crate::page::share_page_sql`]). Under load most of its cost is the statement itself (a
//! round trip to PostgreSQL, a hand-off to and from SQLite's worker thread), not its rows:
//!
//! - At most `lanes` look-ups are in flight at once. The ones that arrive meanwhile wait and go
//!   together in the next statement of the first lane to come free, up to [`MOST_HASHES`]
//!   tokens each; a token asked for several times in one statement is read once.
//! - A busy lane keeps its connection from one statement to the next. sqlx tests a pooled
//!   connection with a round trip each time it goes back to the pool, which would otherwise
//!   cost one more per statement. On SQLite the lane gives its connection back when the pool
//!   has none to spare.
//! - On PostgreSQL the lanes have connections of their own, outside the pool, kept between
//!   busy spells, with `plan_cache_mode = force_generic_plan`: the statement's plan is made
//!   once per connection, not again for every execution (PostgreSQL's default re-plans a join
//!   over an `IN` list of parameters each time, which cost a third of the page rate).
//!
//! A look-up never waits for a statement that was sent before it arrived: it joins only a
//! statement not yet sent, so it reads what was committed before it was asked (a revoke or an
//! org switch is honoured by the very next request, S5 and S8). An idle server sends each
//! look-up at once, alone.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use portico_core::model::Share;
use portico_core::ports::{RecordPage, StoreError};
use portico_core::token::TokenHash;
use sea_orm::sqlx::pool::PoolConnection;
use sea_orm::sqlx::postgres::PgConnection;
use sea_orm::sqlx::{Connection, Postgres, Sqlite};
use sea_orm::{DatabaseBackend, DatabaseConnection, DbErr, QueryResult, RuntimeErr};
use tokio::sync::oneshot;

use crate::db_err;
use crate::page::{Found, MOST_HASHES, pages_of_rows, share_page_sql};

/// The look-ups of one server's uncached pages.
#[derive(Debug)]
pub(crate) struct PageReads {
    db: DatabaseConnection,
    /// The most statements in flight at once.
    lanes: usize,
    queue: Mutex<Queue>,
    lookups: AtomicU64,
    statements: AtomicU64,
    /// On PostgreSQL, the schema the store works in.
    schema: Option<String>,
    /// On PostgreSQL, the lanes' own connections between busy spells.
    spare: Mutex<Vec<PgConnection>>,
    /// The longest one statement may take.
    timeout: std::time::Duration,
}

/// The longest a page look-up's statement may take, by default, before its connection is
/// given up.
pub(crate) const READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The `application_name` of the lanes' own connections on PostgreSQL (`pg_stat_activity`)
/// for a store in `schema` (empty for the default).
pub fn page_reads_application(schema: &str) -> String {
    crate::feed::application_name("portico page reads", schema)
}

/// How many page look-ups a store was asked for, and in how many statements it read them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageReadCounts {
    /// Look-ups asked for ([`portico_core::ports::Store::page_by_token_hash`]).
    pub lookups: u64,
    /// Statements sent for them.
    pub statements: u64,
}

#[derive(Debug, Default)]
struct Queue {
    /// Statements in flight (lanes taken).
    reading: usize,
    /// Look-ups not yet sent, oldest first.
    waiting: Vec<(TokenHash, oneshot::Sender<Found>)>,
}

impl PageReads {
    /// The look-ups of a store on `db` in `schema`, each statement given at most `timeout`.
    pub(crate) fn new(
        db: DatabaseConnection,
        lanes: usize,
        schema: Option<&str>,
        timeout: std::time::Duration,
    ) -> Arc<Self> {
        Arc::new(Self {
            db,
            lanes: lanes.max(1),
            queue: Mutex::new(Queue::default()),
            lookups: AtomicU64::new(0),
            statements: AtomicU64::new(0),
            schema: schema.map(str::to_owned),
            spare: Mutex::new(Vec::new()),
            timeout,
        })
    }

    /// The same look-ups, each statement given at most `timeout`.
    pub(crate) fn with_timeout(&self, timeout: std::time::Duration) -> Arc<Self> {
        Self::new(self.db.clone(), self.lanes, self.schema.as_deref(), timeout)
    }

    pub(crate) fn counts(&self) -> PageReadCounts {
        PageReadCounts {
            lookups: self.lookups.load(Ordering::Relaxed),
            statements: self.statements.load(Ordering::Relaxed),
        }
    }

    /// The share behind `hash` with its page when active (see
    /// [`portico_core::ports::Store::page_by_token_hash`]), read in the next statement sent.
    pub(crate) async fn read(self: &Arc<Self>, hash: TokenHash) -> Found {
        self.lookups.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("portico_page_lookups_total").increment(1);
        let (answer, answered) = oneshot::channel();
        let start = {
            let mut queue = self.queue();
            queue.waiting.push((hash, answer));
            let free = queue.reading < self.lanes;
            if free {
                queue.reading += 1;
            }
            free
        };
        if start {
            // Its own task: a caller that goes away (its client hung up) must not take the
            // answers of the look-ups gathered with its own.
            tokio::spawn(Arc::clone(self).drain());
        }
        answered.await.unwrap_or_else(|_| {
            Err(StoreError::Backend(
                "the page read stopped before it answered".into(),
            ))
        })
    }

    fn queue(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// One lane: sends what waits, as long as anything does, then gives the lane back.
    async fn drain(self: Arc<Self>) {
        let mut lane = Lane {
            reads: &self,
            held: true,
        };
        let mut connection: Option<Held> = None;
        loop {
            let batch: Vec<_> = {
                let mut queue = self.queue();
                if queue.waiting.is_empty() {
                    // Given back under the same lock that saw nothing waiting: a look-up that
                    // arrives next finds the lane free and starts it again.
                    queue.reading -= 1;
                    lane.held = false;
                    drop(queue);
                    if let Some(Held::Postgres(own)) = connection {
                        self.spare().push(own);
                    }
                    return;
                }
                let n = queue.waiting.len().min(MOST_HASHES);
                queue.waiting.drain(..n).collect()
            };
            // A connection kept from before may have died meanwhile (a database restart):
            // its statement is tried once more on a new one.
            let mut kept = connection.take();
            let answers = loop {
                let reused = kept.is_some() || self.has_spare();
                let held = match kept.take() {
                    Some(held) => Ok(held),
                    None => self.acquire().await,
                };
                let mut held = match held {
                    Ok(held) => held,
                    Err(e) => break Err(e),
                };
                self.statements.fetch_add(1, Ordering::Relaxed);
                metrics::counter!("portico_page_statements_total").increment(1);
                // A statement that hangs (a database that stopped answering, a network that
                // fell silent) must not hold its lane and every look-up behind it for good.
                let answers = tokio::time::timeout(self.timeout, held.read(&batch))
                    .await
                    .unwrap_or_else(|_| {
                        Err(StoreError::Backend(
                            "the page look-up took too long; its connection was closed".into(),
                        ))
                    });
                // A connection that failed is closed (a pooled one goes back to the pool,
                // which tests it); so is a pooled one another caller may be waiting for.
                if answers.is_ok() && held.keep(&self.db) {
                    connection = Some(held);
                }
                if answers.is_ok() || !reused {
                    break answers;
                }
                tracing::warn!("a page look-up failed on a kept connection; trying a new one");
            };
            answer(batch, answers);
        }
    }
}

impl PageReads {
    fn spare(&self) -> std::sync::MutexGuard<'_, Vec<PgConnection>> {
        self.spare.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether a lane's own connection is waiting to be used again.
    fn has_spare(&self) -> bool {
        !self.spare().is_empty()
    }

    /// A connection for a lane: on PostgreSQL a spare one of the lanes' own or a new one, on
    /// SQLite one from the pool.
    async fn acquire(&self) -> Result<Held, StoreError> {
        if self.db.get_database_backend() != DatabaseBackend::Postgres {
            let pooled = self
                .db
                .get_sqlite_connection_pool()
                .acquire()
                .await
                .map_err(sqlx_err)?;
            return Ok(Held::Sqlite(pooled));
        }
        let spare = self.spare().pop();
        if let Some(own) = spare {
            return Ok(Held::Postgres(own));
        }
        let options = self
            .db
            .get_postgres_connection_pool()
            .connect_options()
            .as_ref()
            .clone()
            .application_name(&page_reads_application(
                self.schema.as_deref().unwrap_or_default(),
            ));
        let mut own = PgConnection::connect_with(&options)
            .await
            .map_err(sqlx_err)?;
        let setup = match &self.schema {
            Some(schema) => format!(
                "SET plan_cache_mode = force_generic_plan; SET search_path TO \"{}\"",
                schema.replace('"', "\"\"")
            ),
            None => "SET plan_cache_mode = force_generic_plan".to_owned(),
        };
        sea_orm::sqlx::raw_sql(sea_orm::sqlx::AssertSqlSafe(setup))
            .execute(&mut own)
            .await
            .map_err(sqlx_err)?;
        Ok(Held::Postgres(own))
    }
}

/// A lane's connection.
enum Held {
    /// One of the lanes' own.
    Postgres(PgConnection),
    Sqlite(PoolConnection<Sqlite>),
}

impl Held {
    /// Whether to keep this connection for the lane's next statement: always one of the lanes'
    /// own; a pooled one while the pool has another idle, or room to open one.
    fn keep(&self, db: &DatabaseConnection) -> bool {
        match self {
            Self::Postgres(_) => true,
            Self::Sqlite(_) => {
                let pool = db.get_sqlite_connection_pool();
                pool.num_idle() > 0 || pool.size() < pool.options().get_max_connections()
            }
        }
    }

    /// The answers for the distinct hashes of `batch`, in one statement.
    async fn read(
        &mut self,
        batch: &[(TokenHash, oneshot::Sender<Found>)],
    ) -> Result<Vec<(TokenHash, Found)>, StoreError> {
        let mut hashes: Vec<TokenHash> = batch.iter().map(|(hash, _)| *hash).collect();
        hashes.sort_unstable();
        hashes.dedup();
        let rows = match self {
            Self::Postgres(conn) => {
                fetch::<Postgres>(conn, DatabaseBackend::Postgres, &hashes).await?
            }
            Self::Sqlite(conn) => {
                fetch::<Sqlite>(&mut **conn, DatabaseBackend::Sqlite, &hashes).await?
            }
        };
        pages_of_rows(&rows, &hashes)
    }
}

/// The rows of the page statement for `hashes` on `conn`, a connection to `backend`.
async fn fetch<DB>(
    conn: &mut DB::Connection,
    backend: DatabaseBackend,
    hashes: &[TokenHash],
) -> Result<Vec<QueryResult>, StoreError>
where
    DB: sea_orm::sqlx::Database,
    for<'c> &'c mut DB::Connection: sea_orm::sqlx::Executor<'c, Database = DB>,
    for<'q> Vec<u8>: sea_orm::sqlx::Encode<'q, DB> + sea_orm::sqlx::Type<DB>,
    DB::Arguments: sea_orm::sqlx::IntoArguments<DB>,
    QueryResult: From<DB::Row>,
{
    let mut query = sea_orm::sqlx::query::<DB>(share_page_sql(backend, hashes.len()));
    for hash in hashes {
        query = query.bind(hash.0.to_vec());
    }
    Ok(query
        .fetch_all(conn)
        .await
        .map_err(sqlx_err)?
        .into_iter()
        .map(QueryResult::from)
        .collect())
}

fn sqlx_err(e: sea_orm::sqlx::Error) -> StoreError {
    db_err(DbErr::Query(RuntimeErr::SqlxError(Arc::new(e))))
}

/// Gives each look-up of `batch` its answer: a found page moves to its last asker and is copied
/// for the others; a failed statement fails them all.
fn answer(
    batch: Vec<(TokenHash, oneshot::Sender<Found>)>,
    answers: Result<Vec<(TokenHash, Found)>, StoreError>,
) {
    let mut found: HashMap<TokenHash, Shareable> = match answers {
        Ok(found) => found
            .into_iter()
            .map(|(hash, page)| (hash, page.map_err(Arc::new)))
            .collect(),
        Err(e) => {
            let e = Arc::new(e);
            for (_, asker) in batch {
                // The asker may have gone; nobody else wants its answer.
                let _ = asker.send(Err(shared(&e)));
            }
            return;
        }
    };
    let mut askers: HashMap<TokenHash, usize> = HashMap::new();
    for (hash, _) in &batch {
        *askers.entry(*hash).or_default() += 1;
    }
    for (hash, asker) in batch {
        let left = askers.get_mut(&hash).map_or(0, |n| {
            *n -= 1;
            *n
        });
        let own = if left == 0 {
            found.remove(&hash)
        } else {
            found.get(&hash).cloned()
        };
        let _ = asker.send(own.map_or(Ok(None), |page| page.map_err(|e| shared(&e))));
    }
}

/// One token's answer, copied for each of its askers.
type Shareable = Result<Option<(Share, Option<RecordPage>)>, Arc<StoreError>>;

/// A lane held by [`PageReads::drain`]; given back if the task ends without giving it back
/// itself (a panic), so the lanes are never used up.
struct Lane<'a> {
    reads: &'a PageReads,
    held: bool,
}

impl Drop for Lane<'_> {
    fn drop(&mut self) {
        if self.held {
            self.reads.queue().reading -= 1;
        }
    }
}

/// A failure, for each look-up it answers.
fn shared(e: &Arc<StoreError>) -> StoreError {
    match e.as_ref() {
        StoreError::Conflict(what) => StoreError::Conflict(what.clone()),
        StoreError::Corrupt { what, detail } => StoreError::Corrupt {
            what,
            detail: detail.clone(),
        },
        _ => StoreError::Backend(Box::new(Shared(Arc::clone(e)))),
    }
}

/// A backend failure several look-ups share: it shows as, and has the source of, the failure.
#[derive(Debug)]
struct Shared(Arc<StoreError>);

impl std::fmt::Display for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.as_ref() {
            StoreError::Backend(e) => e.fmt(f),
            other => other.fmt(f),
        }
    }
}

impl std::error::Error for Shared {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self.0.as_ref() {
            StoreError::Backend(e) => e.source(),
            _ => None,
        }
    }
}
