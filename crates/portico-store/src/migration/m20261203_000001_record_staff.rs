//! `records.staff_ids`: the staff a record mentions (a work order's technician and the authors
//! of its updates), as a JSON array of ids, so that a client page reads those staff in the same
//! statement as the record. Rows written before it hold `NULL` until their next write, and are
//! read with a statement more.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::json_binary_null;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum Records {
    Table,
    StaffIds,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Records::Table)
                    .add_column(json_binary_null(Records::StaffIds))
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Records::Table)
                    .drop_column(Records::StaffIds)
                    .take(),
            )
            .await
    }
}
