//! The outbox's `dead_reason` becomes `reason`: why a dead or dropped notification was settled,
//! and, while one is pending, why its last attempt failed.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum Outbox {
    Table,
    DeadReason,
    Reason,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Outbox::Table)
                    .rename_column(Outbox::DeadReason, Outbox::Reason)
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Outbox::Table)
                    .rename_column(Outbox::Reason, Outbox::DeadReason)
                    .take(),
            )
            .await
    }
}
