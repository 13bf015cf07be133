//! What clients send from the portal (C7): messages and service requests; and the org's event
//! log, numbered per org without gaps by a counter row that each append locks until commit.

use sea_orm_migration::prelude::*;

use super::m20261124_000001_portal::{client_fk, moment, moment_null, text};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum Orgs {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    Seq,
    Id,
    OrgId,
    ClientId,
    JobId,
    AuthorStaff,
    AuthorName,
    Body,
    At,
    ReadAt,
}

#[derive(DeriveIden)]
enum ServiceRequests {
    Table,
    Id,
    OrgId,
    ClientId,
    Name,
    Email,
    Phone,
    Address,
    Description,
    PreferredDates,
    State,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum EventCounters {
    Table,
    OrgId,
    LastSeq,
}

#[derive(DeriveIden)]
enum Events {
    Table,
    OrgId,
    Seq,
    Id,
    At,
    ClientId,
    Kind,
    Data,
}

pub(super) fn text_null(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).string().null().take()
}

/// A foreign key to the org, deleting with it.
pub(super) fn org_fk(table: impl IntoIden, col: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, col)
        .to(Orgs::Table, Orgs::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    // Reason: a schema reads best as one definition, top to bottom.
    #[allow(clippy::too_many_lines)]
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Messages::Table)
                    .col(
                        ColumnDef::new(Messages::Seq)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Messages::Id).uuid().not_null().unique_key())
                    .col(text(Messages::OrgId))
                    .col(text(Messages::ClientId))
                    .col(text_null(Messages::JobId))
                    .col(text_null(Messages::AuthorStaff))
                    .col(text_null(Messages::AuthorName))
                    .col(ColumnDef::new(Messages::Body).text().not_null())
                    .col(moment(Messages::At))
                    .col(moment_null(Messages::ReadAt))
                    .foreign_key(&mut client_fk(
                        Messages::Table,
                        Messages::OrgId,
                        Messages::ClientId,
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("messages_of_client")
                    .table(Messages::Table)
                    .col(Messages::OrgId)
                    .col(Messages::ClientId)
                    .col(Messages::Seq)
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ServiceRequests::Table)
                    .col(
                        ColumnDef::new(ServiceRequests::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(text(ServiceRequests::OrgId))
                    .col(text(ServiceRequests::ClientId))
                    .col(text(ServiceRequests::Name))
                    .col(text_null(ServiceRequests::Email))
                    .col(text_null(ServiceRequests::Phone))
                    .col(ColumnDef::new(ServiceRequests::Address).text().null())
                    .col(
                        ColumnDef::new(ServiceRequests::Description)
                            .text()
                            .not_null(),
                    )
                    .col(text(ServiceRequests::PreferredDates))
                    .col(text(ServiceRequests::State))
                    .col(moment(ServiceRequests::CreatedAt))
                    .col(moment(ServiceRequests::UpdatedAt))
                    .foreign_key(&mut client_fk(
                        ServiceRequests::Table,
                        ServiceRequests::OrgId,
                        ServiceRequests::ClientId,
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("service_requests_of_org")
                    .table(ServiceRequests::Table)
                    .col(ServiceRequests::OrgId)
                    .col(ServiceRequests::State)
                    .col(ServiceRequests::CreatedAt)
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(EventCounters::Table)
                    .col(
                        ColumnDef::new(EventCounters::OrgId)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(EventCounters::LastSeq)
                            .big_integer()
                            .not_null(),
                    )
                    .foreign_key(&mut org_fk(EventCounters::Table, EventCounters::OrgId))
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Events::Table)
                    .col(text(Events::OrgId))
                    .col(ColumnDef::new(Events::Seq).big_integer().not_null())
                    .col(ColumnDef::new(Events::Id).uuid().not_null().unique_key())
                    .col(moment(Events::At))
                    .col(text_null(Events::ClientId))
                    .col(text(Events::Kind))
                    .col(ColumnDef::new(Events::Data).json_binary().not_null())
                    .primary_key(Index::create().col(Events::OrgId).col(Events::Seq))
                    .foreign_key(&mut org_fk(Events::Table, Events::OrgId))
                    .take(),
            )
            .await
    }
}
