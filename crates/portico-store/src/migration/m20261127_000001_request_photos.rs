//! C7: the photos a client attaches to a service request, as the ids of their blobs
//! (comma-separated, in the client's order; empty for none, as every earlier request reads).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum ServiceRequests {
    Table,
    Photos,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ServiceRequests::Table)
                    .add_column(
                        ColumnDef::new(ServiceRequests::Photos)
                            .string()
                            .not_null()
                            .default(""),
                    )
                    .take(),
            )
            .await
    }
}
