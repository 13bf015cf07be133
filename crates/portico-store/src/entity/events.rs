//! `events`: each org's event log, numbered 1, 2, 3 … per org in commit order; and
//! `event_counters`, the last number given per org (locked by each append until it commits).

use sea_orm::entity::prelude::*;

use crate::columns::Instant;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub org_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub seq: i64,
    pub id: Uuid,
    pub at: Instant,
    pub client_id: Option<String>,
    /// The event's type as a host sees it (`quote.decided` …).
    pub kind: String,
    pub data: Json,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
