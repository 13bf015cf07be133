//! `orgs`: one row per business.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "orgs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub name: String,
    pub plan: String,
    pub client_sharing: bool,
    pub link_expiry_days: i32,
    pub photos_shared_by_default: bool,
    pub time_zone: String,
    pub locale: String,
    pub contact_phone: Option<String>,
    pub contact_email: Option<String>,
    pub logo: Option<String>,
    pub portal_enabled: bool,
    pub portal_welcome: Option<String>,
    /// The shown sections' names, comma-separated.
    pub portal_sections: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
