//! `webhook_endpoints`: where each org's host app hears of events (I4). `events` is a JSON
//! array of event types; `signing_key` the key's base64.

use sea_orm::entity::prelude::*;

use crate::columns::Instant;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_endpoints")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: String,
    pub url: String,
    pub events: String,
    pub signing_key: String,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub created_at: Instant,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
