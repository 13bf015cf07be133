//! `audit`: the audit log (S12), append-only.

use sea_orm::entity::prelude::*;

use crate::columns::Instant;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "audit")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub seq: i64,
    pub id: Uuid,
    pub org_id: String,
    pub record_kind: String,
    pub record_id: String,
    pub share_id: Option<Uuid>,
    pub actor: Json,
    pub action: Json,
    pub at: Instant,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
