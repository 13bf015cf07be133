//! `payments`: the payment attempts (provider intents) Portico opened for invoices (I5), by the
//! provider's id. `amount` is exact decimal text in `currency`.

use sea_orm::entity::prelude::*;

use crate::columns::Instant;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub intent: String,
    pub org_id: String,
    pub invoice_id: String,
    pub account: String,
    pub amount: String,
    pub currency: String,
    pub client_secret: String,
    pub state: String,
    pub created_at: Instant,
    pub updated_at: Instant,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
