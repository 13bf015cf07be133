//! The outbox as dispatchers see it (N5, O3).

use async_trait::async_trait;
use portico_core::model::{Notification, NotificationId, OrgId};
use portico_core::ports::{Outbox, OutboxStats, StoreError};
use sea_orm::sea_query::{Expr, ExprTrait, LockBehavior, LockType};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use time::{Duration, OffsetDateTime};

use crate::columns::Instant;
use crate::entity::outbox;
use crate::{SeaOrmStore, convert, db_err};

/// Claims that lost a race to another writer are tried again this many times.
const CLAIM_ATTEMPTS: usize = 5;

/// Runs `claim` until it does not lose a race to another writer, at most [`CLAIM_ATTEMPTS`]
/// times (the mail outbox's and the webhook deliveries' claims).
pub(crate) async fn with_claim_retries<T, F>(mut claim: impl FnMut() -> F) -> Result<T, StoreError>
where
    F: std::future::Future<Output = Result<T, StoreError>>,
{
    let mut attempt = 1;
    loop {
        match claim().await {
            Err(StoreError::Conflict(_)) if attempt < CLAIM_ATTEMPTS => attempt += 1,
            result => return result,
        }
    }
}

impl SeaOrmStore {
    async fn try_claim(
        &self,
        now: OffsetDateTime,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<Notification>, StoreError> {
        // `_turn` is held until the transaction ends.
        let (tx, _turn) = self.begin_writing().await?;
        let mut due = outbox::Entity::find()
            .select_only()
            .column(outbox::Column::Id)
            .filter(outbox::Column::State.eq("pending"))
            .filter(outbox::Column::DueAt.lte(Instant::new(now)))
            .order_by_asc(outbox::Column::DueAt)
            .order_by_asc(outbox::Column::Seq)
            .limit(u64::from(limit));
        if tx.get_database_backend() == DatabaseBackend::Postgres {
            // Rows another dispatcher is claiming are skipped, not waited for (O3).
            due = due.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
        }
        let ids: Vec<uuid::Uuid> = due.into_tuple().all(&tx).await.map_err(db_err)?;
        if ids.is_empty() {
            tx.commit().await.map_err(db_err)?;
            return Ok(Vec::new());
        }
        outbox::Entity::update_many()
            .col_expr(
                outbox::Column::Attempts,
                Expr::col(outbox::Column::Attempts).add(1),
            )
            .col_expr(
                outbox::Column::DueAt,
                Expr::value(Instant::new(now + lease)),
            )
            .filter(outbox::Column::Id.is_in(ids.clone()))
            .exec(&tx)
            .await
            .map_err(db_err)?;
        let rows = outbox::Entity::find()
            .filter(outbox::Column::Id.is_in(ids.clone()))
            .all(&tx)
            .await
            .map_err(db_err)?;
        let mut claimed = Vec::with_capacity(rows.len());
        for row in rows {
            let id = row.id;
            match convert::notification_from_row(row) {
                Ok(n) => claimed.push(n),
                // A row that no longer reads is given up on here, with the reason, so it never
                // holds up the rows claimed beside it (N5).
                Err(e) => {
                    outbox::Entity::update_many()
                        .col_expr(outbox::Column::State, Expr::value("dead"))
                        .col_expr(outbox::Column::SettledAt, Expr::value(Instant::new(now)))
                        .col_expr(
                            outbox::Column::Reason,
                            Expr::value(Some(format!("unreadable: {e}"))),
                        )
                        .filter(outbox::Column::Id.eq(id))
                        .exec(&tx)
                        .await
                        .map_err(db_err)?;
                }
            }
        }
        tx.commit().await.map_err(db_err)?;
        claimed.sort_by_key(|n| ids.iter().position(|id| *id == n.id.0));
        Ok(claimed)
    }

    async fn settle(
        &self,
        id: NotificationId,
        state: &str,
        at: OffsetDateTime,
        reason: Option<&str>,
    ) -> Result<(), StoreError> {
        outbox::Entity::update_many()
            .col_expr(outbox::Column::State, Expr::value(state))
            .col_expr(outbox::Column::SettledAt, Expr::value(Instant::new(at)))
            .col_expr(
                outbox::Column::Reason,
                Expr::value(reason.map(str::to_owned)),
            )
            .filter(outbox::Column::Id.eq(id.0))
            .filter(outbox::Column::State.eq("pending"))
            .exec(&self.db)
            .await
            .map_err(db_err)?;
        Ok(())
    }
}

#[async_trait]
impl Outbox for SeaOrmStore {
    async fn claim_due(
        &self,
        now: OffsetDateTime,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<Notification>, StoreError> {
        with_claim_retries(|| self.try_claim(now, limit, lease)).await
    }

    async fn mark_sent(&self, id: NotificationId, at: OffsetDateTime) -> Result<(), StoreError> {
        self.settle(id, "sent", at, None).await
    }

    async fn retry_at(
        &self,
        id: NotificationId,
        next_due: OffsetDateTime,
        reason: &str,
    ) -> Result<(), StoreError> {
        outbox::Entity::update_many()
            .col_expr(outbox::Column::DueAt, Expr::value(Instant::new(next_due)))
            .col_expr(outbox::Column::Reason, Expr::value(reason.to_owned()))
            .filter(outbox::Column::Id.eq(id.0))
            .filter(outbox::Column::State.eq("pending"))
            .exec(&self.db)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn mark_dead(
        &self,
        id: NotificationId,
        at: OffsetDateTime,
        reason: &str,
    ) -> Result<(), StoreError> {
        self.settle(id, "dead", at, Some(reason)).await
    }

    async fn mark_dropped(
        &self,
        id: NotificationId,
        at: OffsetDateTime,
        reason: &str,
    ) -> Result<(), StoreError> {
        self.settle(id, "dropped", at, Some(reason)).await
    }

    async fn pending_count(&self) -> Result<u64, StoreError> {
        outbox::Entity::find()
            .filter(outbox::Column::State.eq("pending"))
            .count(&self.db)
            .await
            .map_err(db_err)
    }

    async fn stats(&self, now: OffsetDateTime) -> Result<OutboxStats, StoreError> {
        let count = |state: &'static str| {
            outbox::Entity::find()
                .filter(outbox::Column::State.eq(state))
                .count(&self.db)
        };
        let pending = count("pending").await.map_err(db_err)?;
        let dead = count("dead").await.map_err(db_err)?;
        let oldest: Option<Instant> = outbox::Entity::find()
            .select_only()
            .column(outbox::Column::DueAt)
            .filter(outbox::Column::State.eq("pending"))
            .filter(outbox::Column::DueAt.lte(Instant::new(now)))
            .order_by_asc(outbox::Column::DueAt)
            .limit(1)
            .into_tuple()
            .one(&self.db)
            .await
            .map_err(db_err)?;
        Ok(OutboxStats {
            pending,
            dead,
            oldest_due: oldest.map(|i| i.0),
        })
    }

    async fn notifications_of_org(&self, org: &OrgId) -> Result<Vec<Notification>, StoreError> {
        // A row that no longer reads is left out rather than hiding every other one.
        Ok(outbox::Entity::find()
            .filter(outbox::Column::OrgId.eq(org.as_str()))
            .order_by_asc(outbox::Column::Seq)
            .all(&self.db)
            .await
            .map_err(db_err)?
            .into_iter()
            .filter_map(|row| convert::notification_from_row(row).ok())
            .collect())
    }
}
