//! `messages`: client and staff messages of the portal (C7), in the order written (`seq`).

use sea_orm::entity::prelude::*;

use crate::columns::Instant;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "messages")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub seq: i64,
    pub id: Uuid,
    pub org_id: String,
    pub client_id: String,
    /// The job the thread is about; none for the general thread.
    pub job_id: Option<String>,
    /// The staff member who wrote it; none when the client did.
    pub author_staff: Option<String>,
    /// The name the client sees for a staff author.
    pub author_name: Option<String>,
    pub body: String,
    pub at: Instant,
    pub read_at: Option<Instant>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
