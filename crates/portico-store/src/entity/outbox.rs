//! `outbox`: notifications waiting to be sent, sent, or given up on (N5).

use sea_orm::entity::prelude::*;

use crate::columns::Instant;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub seq: i64,
    pub id: Uuid,
    pub org_id: String,
    pub share_id: Option<Uuid>,
    pub record_kind: String,
    pub record_id: String,
    pub recipient: String,
    pub topic: String,
    pub kind: Json,
    pub created_at: Instant,
    pub due_at: Instant,
    pub state: String,
    pub settled_at: Option<Instant>,
    /// Why it was settled dead or dropped; while pending, why its last attempt failed.
    pub reason: Option<String>,
    pub attempts: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
