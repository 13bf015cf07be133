//! The client portal (C1–C5, C8): the org's portal settings; clients' portal accounts, sign-in
//! grants and sessions; an index for a client's records; and portal mails, which are about no
//! record (their outbox rows keep empty record columns).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum Orgs {
    Table,
    PortalEnabled,
    PortalWelcome,
    PortalSections,
}

#[derive(DeriveIden)]
enum Clients {
    Table,
    OrgId,
    Id,
}

#[derive(DeriveIden)]
enum Records {
    Table,
    OrgId,
    ClientId,
}

#[derive(DeriveIden)]
enum PortalAccounts {
    Table,
    OrgId,
    ClientId,
    InvitedAt,
    Enabled,
    PasswordHash,
    PasswordChangedAt,
    LastSignInAt,
    FailedPasswords,
    LastFailedAt,
}

#[derive(DeriveIden)]
enum PortalGrants {
    Table,
    Id,
    OrgId,
    ClientId,
    Purpose,
    KeyId,
    Nonce,
    TokenHash,
    CreatedAt,
    ExpiresAt,
    EndedAt,
    EndedHow,
    CodeFailures,
}

#[derive(DeriveIden)]
enum PortalSessions {
    Table,
    Hash,
    OrgId,
    ClientId,
    CreatedAt,
    LastSeenAt,
    EndedAt,
}

/// Every section, as a new org's default and every existing org's (the portal is on for them).
pub(crate) const ALL_SECTIONS: &str =
    "jobs,estimates,agreements,appointments,contracts,messages,service_requests";

pub(super) fn text(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).string().not_null().take()
}

pub(super) fn moment(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .not_null()
        .take()
}

pub(super) fn moment_null(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).timestamp_with_time_zone().null().take()
}

/// The client a row belongs to; removing the org (and so its clients) removes the row.
pub(super) fn client_fk(
    table: impl IntoIden,
    org: impl IntoIden,
    client: impl IntoIden,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from_tbl(table)
        .from_col(org)
        .from_col(client)
        .to_tbl(Clients::Table)
        .to_col(Clients::OrgId)
        .to_col(Clients::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    // Reason: a schema reads best as one definition, top to bottom.
    #[allow(clippy::too_many_lines)]
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per statement.
        for column in [
            ColumnDef::new(Orgs::PortalEnabled)
                .boolean()
                .not_null()
                .default(true)
                .take(),
            ColumnDef::new(Orgs::PortalWelcome).string().null().take(),
            ColumnDef::new(Orgs::PortalSections)
                .string()
                .not_null()
                .default(ALL_SECTIONS)
                .take(),
        ] {
            manager
                .alter_table(Table::alter().table(Orgs::Table).add_column(column).take())
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("records_of_client")
                    .table(Records::Table)
                    .col(Records::OrgId)
                    .col(Records::ClientId)
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PortalAccounts::Table)
                    .col(text(PortalAccounts::OrgId))
                    .col(text(PortalAccounts::ClientId))
                    .col(moment_null(PortalAccounts::InvitedAt))
                    .col(ColumnDef::new(PortalAccounts::Enabled).boolean().not_null())
                    .col(ColumnDef::new(PortalAccounts::PasswordHash).string().null())
                    .col(moment_null(PortalAccounts::PasswordChangedAt))
                    .col(moment_null(PortalAccounts::LastSignInAt))
                    .col(
                        ColumnDef::new(PortalAccounts::FailedPasswords)
                            .integer()
                            .not_null(),
                    )
                    .col(moment_null(PortalAccounts::LastFailedAt))
                    .primary_key(
                        Index::create()
                            .col(PortalAccounts::OrgId)
                            .col(PortalAccounts::ClientId),
                    )
                    .foreign_key(&mut client_fk(
                        PortalAccounts::Table,
                        PortalAccounts::OrgId,
                        PortalAccounts::ClientId,
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PortalGrants::Table)
                    .col(
                        ColumnDef::new(PortalGrants::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(text(PortalGrants::OrgId))
                    .col(text(PortalGrants::ClientId))
                    .col(text(PortalGrants::Purpose))
                    .col(ColumnDef::new(PortalGrants::KeyId).big_integer().not_null())
                    .col(ColumnDef::new(PortalGrants::Nonce).binary().not_null())
                    .col(
                        ColumnDef::new(PortalGrants::TokenHash)
                            .binary()
                            .not_null()
                            .unique_key(),
                    )
                    .col(moment(PortalGrants::CreatedAt))
                    .col(moment(PortalGrants::ExpiresAt))
                    .col(moment_null(PortalGrants::EndedAt))
                    .col(ColumnDef::new(PortalGrants::EndedHow).string().null())
                    .col(
                        ColumnDef::new(PortalGrants::CodeFailures)
                            .integer()
                            .not_null(),
                    )
                    .foreign_key(&mut client_fk(
                        PortalGrants::Table,
                        PortalGrants::OrgId,
                        PortalGrants::ClientId,
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("portal_grants_of_client")
                    .table(PortalGrants::Table)
                    .col(PortalGrants::OrgId)
                    .col(PortalGrants::ClientId)
                    .col(PortalGrants::CreatedAt)
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PortalSessions::Table)
                    .col(
                        ColumnDef::new(PortalSessions::Hash)
                            .binary()
                            .not_null()
                            .primary_key(),
                    )
                    .col(text(PortalSessions::OrgId))
                    .col(text(PortalSessions::ClientId))
                    .col(moment(PortalSessions::CreatedAt))
                    .col(moment(PortalSessions::LastSeenAt))
                    .col(moment_null(PortalSessions::EndedAt))
                    .foreign_key(&mut client_fk(
                        PortalSessions::Table,
                        PortalSessions::OrgId,
                        PortalSessions::ClientId,
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("portal_sessions_of_client")
                    .table(PortalSessions::Table)
                    .col(PortalSessions::OrgId)
                    .col(PortalSessions::ClientId)
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            PortalSessions::Table.into_iden(),
            PortalGrants::Table.into_iden(),
            PortalAccounts::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).take())
                .await?;
        }
        manager
            .drop_index(
                Index::drop()
                    .name("records_of_client")
                    .table(Records::Table)
                    .to_owned(),
            )
            .await?;
        for column in [
            Orgs::PortalEnabled,
            Orgs::PortalWelcome,
            Orgs::PortalSections,
        ] {
            manager
                .alter_table(Table::alter().table(Orgs::Table).drop_column(column).take())
                .await?;
        }
        Ok(())
    }
}
