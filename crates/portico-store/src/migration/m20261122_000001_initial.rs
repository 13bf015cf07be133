//! The initial schema: orgs, staff, clients, records, shares, outbox, audit, API keys.

use sea_orm::DatabaseBackend;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum Orgs {
    Table,
    Id,
    Name,
    Plan,
    ClientSharing,
    LinkExpiryDays,
    PhotosSharedByDefault,
    TimeZone,
    Locale,
    ContactPhone,
    ContactEmail,
    Logo,
}

#[derive(DeriveIden)]
enum Staff {
    Table,
    OrgId,
    Id,
    Name,
    Role,
    Active,
    Email,
    Phone,
    Photo,
}

#[derive(DeriveIden)]
enum Clients {
    Table,
    OrgId,
    Id,
    Name,
    Email,
    Phone,
    Address,
}

#[derive(DeriveIden)]
enum Records {
    Table,
    OrgId,
    Kind,
    Id,
    ClientId,
    WorkOrderId,
    Title,
    Status,
    Currency,
    Total,
    AmountDue,
    Body,
    Version,
}

#[derive(DeriveIden)]
enum Shares {
    Table,
    Seq,
    Id,
    OrgId,
    RecordKind,
    RecordId,
    Recipient,
    Sections,
    State,
    RevokedAt,
    RevokedBy,
    KeyId,
    Nonce,
    TokenHash,
    ExpiresAt,
    CreatedAt,
    CreatedBy,
    FirstOpenedAt,
    LastOpenedAt,
    Version,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Seq,
    Id,
    OrgId,
    ShareId,
    RecordKind,
    RecordId,
    Recipient,
    Topic,
    Kind,
    CreatedAt,
    DueAt,
    State,
    SettledAt,
    DeadReason,
    Attempts,
}

#[derive(DeriveIden)]
enum Audit {
    Table,
    Seq,
    Id,
    OrgId,
    RecordKind,
    RecordId,
    ShareId,
    Actor,
    Action,
    At,
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Id,
    OrgId,
    KeyHash,
    Label,
    CreatedAt,
    RevokedAt,
}

fn text(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).string().not_null().take()
}

fn text_null(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).string().null().take()
}

fn moment(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .not_null()
        .take()
}

fn moment_null(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).timestamp_with_time_zone().null().take()
}

fn seq(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .take()
}

fn org_fk(table: impl IntoIden, col: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, col)
        .to(Orgs::Table, Orgs::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .take()
}

/// Money: native NUMERIC on PostgreSQL; text on SQLite, whose NUMERIC affinity would turn
/// `12.50` into a float.
fn amount(col: impl IntoIden, backend: DatabaseBackend) -> ColumnDef {
    let mut def = ColumnDef::new(col);
    match backend {
        DatabaseBackend::Sqlite => def.text(),
        _ => def.decimal_len(20, 4),
    };
    def.null().take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    // Reason: a schema reads best as one definition, top to bottom.
    #[allow(clippy::too_many_lines)]
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        manager
            .create_table(
                Table::create()
                    .table(Orgs::Table)
                    .col(text(Orgs::Id).primary_key())
                    .col(text(Orgs::Name))
                    .col(text(Orgs::Plan))
                    .col(ColumnDef::new(Orgs::ClientSharing).boolean().not_null())
                    .col(ColumnDef::new(Orgs::LinkExpiryDays).integer().not_null())
                    .col(
                        ColumnDef::new(Orgs::PhotosSharedByDefault)
                            .boolean()
                            .not_null(),
                    )
                    .col(text(Orgs::TimeZone))
                    .col(text(Orgs::Locale))
                    .col(text_null(Orgs::ContactPhone))
                    .col(text_null(Orgs::ContactEmail))
                    .col(text_null(Orgs::Logo))
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Staff::Table)
                    .col(text(Staff::OrgId))
                    .col(text(Staff::Id))
                    .col(text(Staff::Name))
                    .col(text(Staff::Role))
                    .col(ColumnDef::new(Staff::Active).boolean().not_null())
                    .col(text_null(Staff::Email))
                    .col(text_null(Staff::Phone))
                    .col(text_null(Staff::Photo))
                    .primary_key(Index::create().col(Staff::OrgId).col(Staff::Id))
                    .foreign_key(&mut org_fk(Staff::Table, Staff::OrgId))
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Clients::Table)
                    .col(text(Clients::OrgId))
                    .col(text(Clients::Id))
                    .col(text(Clients::Name))
                    .col(text_null(Clients::Email))
                    .col(text_null(Clients::Phone))
                    .col(text_null(Clients::Address))
                    .primary_key(Index::create().col(Clients::OrgId).col(Clients::Id))
                    .foreign_key(&mut org_fk(Clients::Table, Clients::OrgId))
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Records::Table)
                    .col(text(Records::OrgId))
                    .col(text(Records::Kind))
                    .col(text(Records::Id))
                    .col(text_null(Records::ClientId))
                    .col(text_null(Records::WorkOrderId))
                    .col(text(Records::Title))
                    .col(text(Records::Status))
                    .col(text(Records::Currency))
                    .col(amount(Records::Total, backend))
                    .col(amount(Records::AmountDue, backend))
                    .col(ColumnDef::new(Records::Body).json_binary().not_null())
                    .col(ColumnDef::new(Records::Version).big_integer().not_null())
                    .primary_key(
                        Index::create()
                            .col(Records::OrgId)
                            .col(Records::Kind)
                            .col(Records::Id),
                    )
                    .foreign_key(&mut org_fk(Records::Table, Records::OrgId))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("records_work_order")
                    .table(Records::Table)
                    .col(Records::OrgId)
                    .col(Records::WorkOrderId)
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Shares::Table)
                    .col(seq(Shares::Seq))
                    .col(ColumnDef::new(Shares::Id).uuid().not_null().unique_key())
                    .col(text(Shares::OrgId))
                    .col(text(Shares::RecordKind))
                    .col(text(Shares::RecordId))
                    .col(text(Shares::Recipient))
                    .col(ColumnDef::new(Shares::Sections).integer().not_null())
                    .col(text(Shares::State))
                    .col(moment_null(Shares::RevokedAt))
                    .col(text_null(Shares::RevokedBy))
                    .col(ColumnDef::new(Shares::KeyId).big_integer().not_null())
                    .col(ColumnDef::new(Shares::Nonce).binary().not_null())
                    .col(
                        ColumnDef::new(Shares::TokenHash)
                            .binary()
                            .not_null()
                            .unique_key(),
                    )
                    .col(moment_null(Shares::ExpiresAt))
                    .col(moment(Shares::CreatedAt))
                    .col(text(Shares::CreatedBy))
                    .col(moment_null(Shares::FirstOpenedAt))
                    .col(moment_null(Shares::LastOpenedAt))
                    .col(ColumnDef::new(Shares::Version).big_integer().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from_tbl(Shares::Table)
                            .from_col(Shares::OrgId)
                            .from_col(Shares::RecordKind)
                            .from_col(Shares::RecordId)
                            .to_tbl(Records::Table)
                            .to_col(Records::OrgId)
                            .to_col(Records::Kind)
                            .to_col(Records::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("shares_record")
                    .table(Shares::Table)
                    .col(Shares::OrgId)
                    .col(Shares::RecordKind)
                    .col(Shares::RecordId)
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Outbox::Table)
                    .col(seq(Outbox::Seq))
                    .col(ColumnDef::new(Outbox::Id).uuid().not_null().unique_key())
                    .col(text(Outbox::OrgId))
                    .col(ColumnDef::new(Outbox::ShareId).uuid().null())
                    .col(text(Outbox::RecordKind))
                    .col(text(Outbox::RecordId))
                    .col(text(Outbox::Recipient))
                    .col(text(Outbox::Topic))
                    .col(ColumnDef::new(Outbox::Kind).json_binary().not_null())
                    .col(moment(Outbox::CreatedAt))
                    .col(moment(Outbox::DueAt))
                    .col(text(Outbox::State))
                    .col(moment_null(Outbox::SettledAt))
                    .col(text_null(Outbox::DeadReason))
                    .col(ColumnDef::new(Outbox::Attempts).integer().not_null())
                    .foreign_key(&mut org_fk(Outbox::Table, Outbox::OrgId))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("outbox_org")
                    .table(Outbox::Table)
                    .col(Outbox::OrgId)
                    .col(Outbox::Seq)
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Audit::Table)
                    .col(seq(Audit::Seq))
                    .col(ColumnDef::new(Audit::Id).uuid().not_null().unique_key())
                    .col(text(Audit::OrgId))
                    .col(text(Audit::RecordKind))
                    .col(text(Audit::RecordId))
                    .col(ColumnDef::new(Audit::ShareId).uuid().null())
                    .col(ColumnDef::new(Audit::Actor).json_binary().not_null())
                    .col(ColumnDef::new(Audit::Action).json_binary().not_null())
                    .col(moment(Audit::At))
                    .foreign_key(&mut org_fk(Audit::Table, Audit::OrgId))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("audit_record")
                    .table(Audit::Table)
                    .col(Audit::OrgId)
                    .col(Audit::RecordKind)
                    .col(Audit::RecordId)
                    .col(Audit::Seq)
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ApiKeys::Table)
                    .col(ColumnDef::new(ApiKeys::Id).uuid().not_null().primary_key())
                    .col(text(ApiKeys::OrgId))
                    .col(
                        ColumnDef::new(ApiKeys::KeyHash)
                            .binary()
                            .not_null()
                            .unique_key(),
                    )
                    .col(text(ApiKeys::Label))
                    .col(moment(ApiKeys::CreatedAt))
                    .col(moment_null(ApiKeys::RevokedAt))
                    .foreign_key(&mut org_fk(ApiKeys::Table, ApiKeys::OrgId))
                    .take(),
            )
            .await?;
        // Partial indexes, written out: both databases take the same statement.
        let db = manager.get_connection();
        for sql in [
            "CREATE UNIQUE INDEX shares_one_active ON shares (org_id, record_kind, record_id) WHERE state = 'active'",
            "CREATE INDEX outbox_due ON outbox (due_at) WHERE state = 'pending'",
            "CREATE INDEX outbox_burst ON outbox (share_id, topic) WHERE state = 'pending' AND attempts = 0",
        ] {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }
}
