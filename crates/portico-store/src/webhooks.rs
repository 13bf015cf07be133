//! Webhooks to the host app (I4): rows ⇄ model, the dispatcher's side of the deliveries, and the
//! store's own format for a delivery's data (a JSON array of `{"name", "text"|"number"}`, the
//! same fields in the same order on every try).

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use portico_core::model::{
    DeliveryId, EndpointId, OrgId, WebhookDelivery, WebhookEndpoint, WebhookEvent, WebhookState,
    WebhookValue,
};
use portico_core::ports::{StoreError, WebhookOutbox, WebhookSettle};
use sea_orm::sea_query::{Expr, ExprTrait, LockBehavior, LockType};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::columns::Instant;
use crate::convert::corrupt;
use crate::entity::{webhook_deliveries, webhook_endpoints};
use crate::{SeaOrmStore, db_err};

/// Version 1 of one field of a delivery's data.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FieldV1 {
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    number: Option<i64>,
}

pub(crate) fn endpoint_to_row(e: &WebhookEndpoint) -> Result<webhook_endpoints::Model, StoreError> {
    Ok(webhook_endpoints::Model {
        id: e.id.0,
        org_id: e.org_id.as_str().to_owned(),
        url: e.url.clone(),
        events: serde_json::to_string(&e.events).map_err(|e| StoreError::Backend(Box::new(e)))?,
        signing_key: STANDARD.encode(&e.key),
        enabled: e.enabled,
        disabled_reason: e.disabled_reason.clone(),
        created_at: e.created_at.into(),
    })
}

pub(crate) fn endpoint_from_row(
    row: webhook_endpoints::Model,
) -> Result<WebhookEndpoint, StoreError> {
    let what = "webhook endpoint";
    Ok(WebhookEndpoint {
        id: EndpointId(row.id),
        org_id: OrgId::new(&row.org_id).map_err(|e| corrupt(what, e))?,
        url: row.url,
        events: serde_json::from_str(&row.events).map_err(|e| corrupt(what, e))?,
        key: STANDARD
            .decode(row.signing_key.as_bytes())
            .map_err(|e| corrupt(what, e))?,
        enabled: row.enabled,
        disabled_reason: row.disabled_reason,
        created_at: row.created_at.0,
    })
}

fn data_to_text(data: &[(String, WebhookValue)]) -> Result<String, StoreError> {
    let fields: Vec<FieldV1> = data
        .iter()
        .map(|(name, value)| match value {
            WebhookValue::Text(t) => FieldV1 {
                name: name.clone(),
                text: Some(t.clone()),
                number: None,
            },
            WebhookValue::Number(n) => FieldV1 {
                name: name.clone(),
                text: None,
                number: Some(*n),
            },
        })
        .collect();
    serde_json::to_string(&fields).map_err(|e| StoreError::Backend(Box::new(e)))
}

fn data_from_text(text: &str) -> Result<Vec<(String, WebhookValue)>, StoreError> {
    let what = "webhook delivery";
    let fields: Vec<FieldV1> = serde_json::from_str(text).map_err(|e| corrupt(what, e))?;
    fields
        .into_iter()
        .map(|f| match (f.text, f.number) {
            (Some(t), None) => Ok((f.name, WebhookValue::Text(t))),
            (None, Some(n)) => Ok((f.name, WebhookValue::Number(n))),
            _ => Err(corrupt(
                what,
                format!("field {:?} needs exactly one of text and number", f.name),
            )),
        })
        .collect()
}

/// When a delivery was settled and why it is dead, if it is.
fn settled_parts(state: &WebhookState) -> (Option<Instant>, Option<String>) {
    match state {
        WebhookState::Pending => (None, None),
        WebhookState::Delivered { at } => (Some(Instant::new(*at)), None),
        WebhookState::Dead { at, reason } => (Some(Instant::new(*at)), Some(reason.clone())),
    }
}

pub(crate) fn delivery_to_row(
    d: &WebhookDelivery,
) -> Result<webhook_deliveries::ActiveModel, StoreError> {
    use sea_orm::ActiveValue::{NotSet, Set};
    let (settled_at, reason) = settled_parts(&d.state);
    Ok(webhook_deliveries::ActiveModel {
        seq: NotSet,
        id: Set(d.id.0),
        org_id: Set(d.org_id.as_str().to_owned()),
        endpoint_id: Set(d.endpoint.0),
        event_type: Set(d.event.event_type.clone()),
        occurred_at: Set(d.event.at.into()),
        data: Set(data_to_text(&d.event.data)?),
        created_at: Set(d.created_at.into()),
        due_at: Set(d.due_at.into()),
        attempts: Set(i32::try_from(d.attempts).unwrap_or(i32::MAX)),
        state: Set(d.state.as_str().to_owned()),
        settled_at: Set(settled_at),
        reason: Set(reason.or_else(|| d.last_failure.clone())),
    })
}

pub(crate) fn delivery_from_row(
    row: webhook_deliveries::Model,
) -> Result<WebhookDelivery, StoreError> {
    let what = "webhook delivery";
    let settled = || {
        row.settled_at
            .map(|i| i.0)
            .ok_or_else(|| corrupt(what, "a settled delivery has no settled_at"))
    };
    let (state, last_failure) = match row.state.as_str() {
        "pending" => (WebhookState::Pending, row.reason.clone()),
        "delivered" => (WebhookState::Delivered { at: settled()? }, None),
        "dead" => (
            WebhookState::Dead {
                at: settled()?,
                reason: row.reason.clone().unwrap_or_default(),
            },
            None,
        ),
        other => return Err(corrupt(what, format!("unknown state {other:?}"))),
    };
    Ok(WebhookDelivery {
        id: DeliveryId(row.id),
        org_id: OrgId::new(&row.org_id).map_err(|e| corrupt(what, e))?,
        endpoint: EndpointId(row.endpoint_id),
        event: WebhookEvent {
            event_type: row.event_type,
            at: row.occurred_at.0,
            data: data_from_text(&row.data)?,
        },
        created_at: row.created_at.0,
        due_at: row.due_at.0,
        attempts: u32::try_from(row.attempts).map_err(|e| corrupt(what, e))?,
        state,
        last_failure,
    })
}

type Claimed = Vec<(WebhookDelivery, Option<WebhookEndpoint>)>;

impl SeaOrmStore {
    async fn try_claim_webhooks(
        &self,
        now: OffsetDateTime,
        limit: u32,
        lease: Duration,
    ) -> Result<Claimed, StoreError> {
        use webhook_deliveries::Column as C;
        // `_turn` is held until the transaction ends.
        let (tx, _turn) = self.begin_writing().await?;
        let mut due = webhook_deliveries::Entity::find()
            .select_only()
            .column(C::Id)
            .filter(C::State.eq("pending"))
            .filter(C::DueAt.lte(Instant::new(now)))
            .order_by_asc(C::DueAt)
            .order_by_asc(C::Seq)
            .limit(u64::from(limit));
        if tx.get_database_backend() == DatabaseBackend::Postgres {
            // Rows another dispatcher is claiming are skipped, not waited for.
            due = due.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
        }
        let ids: Vec<uuid::Uuid> = due.into_tuple().all(&tx).await.map_err(db_err)?;
        if ids.is_empty() {
            tx.commit().await.map_err(db_err)?;
            return Ok(Vec::new());
        }
        webhook_deliveries::Entity::update_many()
            .col_expr(C::Attempts, Expr::col(C::Attempts).add(1))
            .col_expr(C::DueAt, Expr::value(Instant::new(now + lease)))
            .filter(C::Id.is_in(ids.clone()))
            .exec(&tx)
            .await
            .map_err(db_err)?;
        let rows = webhook_deliveries::Entity::find()
            .filter(C::Id.is_in(ids.clone()))
            .all(&tx)
            .await
            .map_err(db_err)?;
        let endpoint_ids: Vec<uuid::Uuid> = rows.iter().map(|r| r.endpoint_id).collect();
        let endpoints: Vec<WebhookEndpoint> = webhook_endpoints::Entity::find()
            .filter(webhook_endpoints::Column::Id.is_in(endpoint_ids))
            .all(&tx)
            .await
            .map_err(db_err)?
            .into_iter()
            .filter_map(|row| endpoint_from_row(row).ok())
            .collect();
        let mut claimed = Vec::with_capacity(rows.len());
        for row in rows {
            let id = row.id;
            match delivery_from_row(row) {
                Ok(d) => {
                    let endpoint = endpoints.iter().find(|e| e.id == d.endpoint).cloned();
                    claimed.push((d, endpoint));
                }
                // A row that no longer reads is given up on with the reason, so it never holds
                // up the rows claimed beside it.
                Err(e) => {
                    webhook_deliveries::Entity::update_many()
                        .col_expr(C::State, Expr::value("dead"))
                        .col_expr(C::SettledAt, Expr::value(Instant::new(now)))
                        .col_expr(C::Reason, Expr::value(Some(format!("unreadable: {e}"))))
                        .filter(C::Id.eq(id))
                        .exec(&tx)
                        .await
                        .map_err(db_err)?;
                }
            }
        }
        tx.commit().await.map_err(db_err)?;
        claimed.sort_by_key(|(d, _)| ids.iter().position(|id| *id == d.id.0));
        Ok(claimed)
    }
}

#[async_trait]
impl WebhookOutbox for SeaOrmStore {
    async fn claim_webhooks(
        &self,
        now: OffsetDateTime,
        limit: u32,
        lease: Duration,
    ) -> Result<Claimed, StoreError> {
        crate::outbox::with_claim_retries(|| self.try_claim_webhooks(now, limit, lease)).await
    }

    async fn settle_webhook(
        &self,
        id: DeliveryId,
        settle: &WebhookSettle,
    ) -> Result<(), StoreError> {
        use webhook_deliveries::Column as C;
        let update = webhook_deliveries::Entity::update_many();
        let update = match settle {
            WebhookSettle::Delivered { at } => update
                .col_expr(C::State, Expr::value("delivered"))
                .col_expr(C::SettledAt, Expr::value(Instant::new(*at)))
                .col_expr(C::Reason, Expr::value(Option::<String>::None)),
            WebhookSettle::Retry { at, failure } => update
                .col_expr(C::DueAt, Expr::value(Instant::new(*at)))
                .col_expr(C::Reason, Expr::value(failure.clone())),
            WebhookSettle::Dead { at, reason } => update
                .col_expr(C::State, Expr::value("dead"))
                .col_expr(C::SettledAt, Expr::value(Instant::new(*at)))
                .col_expr(C::Reason, Expr::value(reason.clone())),
        };
        update
            .filter(C::Id.eq(id.0))
            .filter(C::State.eq("pending"))
            .exec(&self.db)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn disable_endpoint(
        &self,
        org: &OrgId,
        id: EndpointId,
        reason: &str,
    ) -> Result<(), StoreError> {
        use webhook_endpoints::Column as C;
        webhook_endpoints::Entity::update_many()
            .col_expr(C::Enabled, Expr::value(false))
            .col_expr(C::DisabledReason, Expr::value(reason.to_owned()))
            .filter(C::Id.eq(id.0))
            .filter(C::OrgId.eq(org.as_str()))
            .exec(&self.db)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn webhook_counts(&self) -> Result<(u64, u64), StoreError> {
        use webhook_deliveries::Column as C;
        let count = |state: &'static str| {
            webhook_deliveries::Entity::find()
                .filter(C::State.eq(state))
                .count(&self.db)
        };
        Ok((
            count("pending").await.map_err(db_err)?,
            count("dead").await.map_err(db_err)?,
        ))
    }
}
