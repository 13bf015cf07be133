//! Which records point at which uploaded files, so bytes another record (or the org's logo, or
//! a staff photo) still uses are never deleted; and quotes and invoices stored with a `null`
//! date by earlier versions are written without it.

use sea_orm::DatabaseBackend;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum FileRefs {
    Table,
    OrgId,
    FileId,
    RecordKind,
    RecordId,
}

const SQLITE_BACKFILL: &[&str] = &[
    "INSERT OR IGNORE INTO file_refs (org_id, file_id, record_kind, record_id)
     SELECT r.org_id, json_extract(f.value, '$.id'), r.kind, r.id
     FROM records r, json_each(r.body, '$.files') f
     WHERE r.kind = 'work_order' AND json_extract(f.value, '$.id') IS NOT NULL",
    "INSERT OR IGNORE INTO file_refs (org_id, file_id, record_kind, record_id)
     SELECT r.org_id, json_extract(r.body, '$.signature.image'), r.kind, r.id
     FROM records r
     WHERE r.kind = 'work_order' AND json_extract(r.body, '$.signature.image') IS NOT NULL",
    "UPDATE records SET body = json_remove(body, '$.valid_until')
     WHERE json_type(body, '$.valid_until') = 'null'",
    "UPDATE records SET body = json_remove(body, '$.due_date')
     WHERE json_type(body, '$.due_date') = 'null'",
];

const POSTGRES_BACKFILL: &[&str] = &[
    "INSERT INTO file_refs (org_id, file_id, record_kind, record_id)
     SELECT r.org_id, f.value->>'id', r.kind, r.id
     FROM records r, jsonb_array_elements(r.body->'files') f
     WHERE r.kind = 'work_order' AND f.value->>'id' IS NOT NULL
     ON CONFLICT DO NOTHING",
    "INSERT INTO file_refs (org_id, file_id, record_kind, record_id)
     SELECT r.org_id, r.body->'signature'->>'image', r.kind, r.id
     FROM records r
     WHERE r.kind = 'work_order' AND r.body->'signature'->>'image' IS NOT NULL
     ON CONFLICT DO NOTHING",
    "UPDATE records SET body = body - 'valid_until' WHERE body->'valid_until' = 'null'::jsonb",
    "UPDATE records SET body = body - 'due_date' WHERE body->'due_date' = 'null'::jsonb",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let text = |col: FileRefs| ColumnDef::new(col).text().not_null().take();
        manager
            .create_table(
                Table::create()
                    .table(FileRefs::Table)
                    .col(text(FileRefs::OrgId))
                    .col(text(FileRefs::FileId))
                    .col(text(FileRefs::RecordKind))
                    .col(text(FileRefs::RecordId))
                    .primary_key(
                        Index::create()
                            .col(FileRefs::OrgId)
                            .col(FileRefs::FileId)
                            .col(FileRefs::RecordKind)
                            .col(FileRefs::RecordId),
                    )
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("file_refs_of_record")
                    .table(FileRefs::Table)
                    .col(FileRefs::OrgId)
                    .col(FileRefs::RecordKind)
                    .col(FileRefs::RecordId)
                    .take(),
            )
            .await?;
        let statements = match manager.get_database_backend() {
            DatabaseBackend::Postgres => POSTGRES_BACKFILL,
            _ => SQLITE_BACKFILL,
        };
        let db = manager.get_connection();
        for sql in statements {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }
}
