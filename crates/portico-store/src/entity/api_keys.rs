//! `api_keys`: an org's integration API keys (I1), kept as SHA-256 hashes only.

use sea_orm::entity::prelude::*;

use crate::columns::Instant;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: String,
    pub key_hash: Vec<u8>,
    pub label: String,
    pub created_at: Instant,
    pub revoked_at: Option<Instant>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
