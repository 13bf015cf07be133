//! `portal_grants`: single-use sign-in grants (C3): the nonce and key id their token and code are
//! derived from, and the token's SHA-256 — never the token or the code.

use sea_orm::entity::prelude::*;

use crate::columns::Instant;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "portal_grants")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: String,
    pub client_id: String,
    pub purpose: String,
    pub key_id: i64,
    pub nonce: Vec<u8>,
    pub token_hash: Vec<u8>,
    pub created_at: Instant,
    pub expires_at: Instant,
    pub ended_at: Option<Instant>,
    pub ended_how: Option<String>,
    pub code_failures: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
