//! `webhook_deliveries`: one event for one endpoint (I4), in the order queued (`seq`). `data`
//! is the event's fields as a versioned JSON document; `state` is `pending`, `delivered` or
//! `dead`.

use sea_orm::entity::prelude::*;

use crate::columns::Instant;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_deliveries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub seq: i64,
    pub id: Uuid,
    pub org_id: String,
    pub endpoint_id: Uuid,
    pub event_type: String,
    pub occurred_at: Instant,
    pub data: String,
    pub created_at: Instant,
    pub due_at: Instant,
    pub attempts: i32,
    pub state: String,
    pub settled_at: Option<Instant>,
    pub reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
