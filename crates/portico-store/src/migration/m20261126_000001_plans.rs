//! What the host pushes in for the portal (C7): agreements, appointments, and contracts with
//! every version kept. A contract's version, once `signed`, is never written again.

use sea_orm_migration::prelude::*;

use super::m20261124_000001_portal::{client_fk, moment, text};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum Agreements {
    Table,
    OrgId,
    Id,
    ClientId,
    Data,
}

#[derive(DeriveIden)]
enum Appointments {
    Table,
    OrgId,
    Id,
    ClientId,
    StartsAt,
    Data,
}

#[derive(DeriveIden)]
enum Contracts {
    Table,
    OrgId,
    Id,
    Version,
    ClientId,
    Signed,
    Data,
}

fn data(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).json_binary().not_null().take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    // Reason: a schema reads best as one definition, top to bottom.
    #[allow(clippy::too_many_lines)]
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Agreements::Table)
                    .col(text(Agreements::OrgId))
                    .col(text(Agreements::Id))
                    .col(text(Agreements::ClientId))
                    .col(data(Agreements::Data))
                    .primary_key(Index::create().col(Agreements::OrgId).col(Agreements::Id))
                    .foreign_key(&mut client_fk(
                        Agreements::Table,
                        Agreements::OrgId,
                        Agreements::ClientId,
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("agreements_of_client")
                    .table(Agreements::Table)
                    .col(Agreements::OrgId)
                    .col(Agreements::ClientId)
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Appointments::Table)
                    .col(text(Appointments::OrgId))
                    .col(text(Appointments::Id))
                    .col(text(Appointments::ClientId))
                    .col(moment(Appointments::StartsAt))
                    .col(data(Appointments::Data))
                    .primary_key(
                        Index::create()
                            .col(Appointments::OrgId)
                            .col(Appointments::Id),
                    )
                    .foreign_key(&mut client_fk(
                        Appointments::Table,
                        Appointments::OrgId,
                        Appointments::ClientId,
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("appointments_of_client")
                    .table(Appointments::Table)
                    .col(Appointments::OrgId)
                    .col(Appointments::ClientId)
                    .col(Appointments::StartsAt)
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Contracts::Table)
                    .col(text(Contracts::OrgId))
                    .col(text(Contracts::Id))
                    .col(ColumnDef::new(Contracts::Version).big_integer().not_null())
                    .col(text(Contracts::ClientId))
                    .col(ColumnDef::new(Contracts::Signed).boolean().not_null())
                    .col(data(Contracts::Data))
                    .primary_key(
                        Index::create()
                            .col(Contracts::OrgId)
                            .col(Contracts::Id)
                            .col(Contracts::Version),
                    )
                    .foreign_key(&mut client_fk(
                        Contracts::Table,
                        Contracts::OrgId,
                        Contracts::ClientId,
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("contracts_of_client")
                    .table(Contracts::Table)
                    .col(Contracts::OrgId)
                    .col(Contracts::ClientId)
                    .take(),
            )
            .await
    }
}
