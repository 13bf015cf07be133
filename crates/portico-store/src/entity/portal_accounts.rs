//! `portal_accounts`: a client's portal account (C2, C4): invited, enabled, password hash.

use sea_orm::entity::prelude::*;

use crate::columns::Instant;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "portal_accounts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub org_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub client_id: String,
    pub invited_at: Option<Instant>,
    pub enabled: bool,
    pub password_hash: Option<String>,
    pub password_changed_at: Option<Instant>,
    pub last_sign_in_at: Option<Instant>,
    pub failed_passwords: i32,
    pub last_failed_at: Option<Instant>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
