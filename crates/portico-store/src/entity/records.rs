//! `records`: work orders, quotes and invoices. The whole record is one JSON document (`body`,
//! `jsonb` on PostgreSQL) read and written at once; the columns beside it are what queries and
//! reports need, including native decimal totals.

use sea_orm::entity::prelude::*;

use crate::columns::Amount;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "records")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub org_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub kind: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub client_id: Option<String>,
    pub work_order_id: Option<String>,
    pub title: String,
    pub status: String,
    pub currency: String,
    pub total: Option<Amount>,
    pub amount_due: Option<Amount>,
    pub body: Json,
    pub version: i64,
    /// The staff the record mentions, a JSON array of ids; `None` on rows written before the
    /// column existed.
    pub staff_ids: Option<Json>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
