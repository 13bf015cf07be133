//! `shares`: one row per token generation. `token_hash` is unique; a partial unique index keeps
//! one active share per record.

use sea_orm::entity::prelude::*;

use crate::columns::Instant;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "shares")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub seq: i64,
    pub id: Uuid,
    pub org_id: String,
    pub record_kind: String,
    pub record_id: String,
    pub recipient: String,
    pub sections: i32,
    pub state: String,
    pub revoked_at: Option<Instant>,
    pub revoked_by: Option<String>,
    pub key_id: i64,
    pub nonce: Vec<u8>,
    pub token_hash: Vec<u8>,
    pub expires_at: Option<Instant>,
    pub created_at: Instant,
    pub created_by: String,
    pub first_opened_at: Option<Instant>,
    pub last_opened_at: Option<Instant>,
    pub version: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
