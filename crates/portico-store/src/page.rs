//! The read behind every uncached client page, in as few statements as the data allows:
//! [`page_by_token_hash`] finds the share by its token's hash and, when it is active, joins its
//! record, the record's org, client and (for a work order) invoices, in one statement outside
//! any transaction (one statement reads one consistent snapshot); [`staff_among`] reads the
//! staff the record names in one more. [`record_page`] is the same join from a record.

use std::sync::OnceLock;

use portico_core::model::{Invoice, OrgId, Record, RecordRef, Share, Staff, StaffId};
use portico_core::ports::{RecordPage, StoreError};
use portico_core::token::TokenHash;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, EntityTrait,
    FromQueryResult, IdenStatic, Iterable, QueryFilter, QueryOrder, QueryResult, Statement,
};

use crate::convert::{self, kind_str};
use crate::db_err;
use crate::entity::{clients, orgs, records, shares, staff};

/// `alias."column" AS "prefixcolumn"` for every column of `E`.
fn columns<E: EntityTrait>(alias: &str, prefix: &str) -> String
where
    E::Column: Iterable,
{
    E::Column::iter()
        .map(|c| {
            let name = c.as_str();
            format!("{alias}.\"{name}\" AS \"{prefix}{name}\"")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The joins from a record `r` to what its page shows: its org, client and invoices.
const PAGE_JOINS: &str = "\
    LEFT JOIN orgs o ON o.id = r.org_id \
    LEFT JOIN clients c ON c.org_id = r.org_id AND c.id = r.client_id \
    LEFT JOIN records i ON r.kind = 'work_order' AND i.org_id = r.org_id \
        AND i.kind = 'invoice' AND i.work_order_id = r.id";

/// The columns of a page's parts, each under its prefix.
fn page_columns() -> String {
    format!(
        "{o}, {r}, {c}, {i}",
        o = columns::<orgs::Entity>("o", "o_"),
        r = columns::<records::Entity>("r", "r_"),
        c = columns::<clients::Entity>("c", "c_"),
        i = columns::<records::Entity>("i", "i_"),
    )
}

/// A statement built once per backend; `build` gets the backend's first three placeholders.
fn statement(
    backend: DatabaseBackend,
    cells: &'static [OnceLock<String>; 2],
    build: fn([&str; 3]) -> String,
) -> &'static str {
    match backend {
        DatabaseBackend::Postgres => cells[0].get_or_init(|| build(["$1", "$2", "$3"])),
        _ => cells[1].get_or_init(|| build(["?", "?", "?"])),
    }
}

/// One record's page.
fn page_sql(backend: DatabaseBackend) -> &'static str {
    static CELLS: [OnceLock<String>; 2] = [OnceLock::new(), OnceLock::new()];
    statement(backend, &CELLS, |[org, kind, id]| {
        format!(
            "SELECT {columns} FROM records r {PAGE_JOINS} \
             WHERE r.org_id = {org} AND r.kind = {kind} AND r.id = {id} \
             ORDER BY i.id",
            columns = page_columns(),
        )
    })
}

/// A share by its token's hash, and its record's page only when the share is active: for an
/// inactive share every join fails on its first condition, so the statement does the work of
/// the look-up alone.
fn share_page_sql(backend: DatabaseBackend) -> &'static str {
    static CELLS: [OnceLock<String>; 2] = [OnceLock::new(), OnceLock::new()];
    statement(backend, &CELLS, |[hash, _, _]| {
        format!(
            "SELECT {s}, {columns} FROM shares s \
             LEFT JOIN records r ON s.state = 'active' AND r.org_id = s.org_id \
                 AND r.kind = s.record_kind AND r.id = s.record_id \
             {PAGE_JOINS} \
             WHERE s.token_hash = {hash} \
             ORDER BY i.id",
            s = columns::<shares::Entity>("s", "s_"),
            columns = page_columns(),
        )
    })
}

/// Whether the row's left-joined `prefix` part is there (its id is not null).
fn joined(row: &QueryResult, prefix: &str) -> Result<bool, StoreError> {
    let id: Option<String> = row.try_get(prefix, "id").map_err(db_err)?;
    Ok(id.is_some())
}

/// See [`portico_core::ports::Store::record_page`].
pub(crate) async fn record_page(
    db: &DatabaseConnection,
    org: &OrgId,
    record: &RecordRef,
) -> Result<Option<RecordPage>, StoreError> {
    let backend = db.get_database_backend();
    let statement = Statement::from_sql_and_values(
        backend,
        page_sql(backend),
        [
            org.as_str().into(),
            kind_str(record.kind).into(),
            record.id.as_str().into(),
        ],
    );
    let rows = db.query_all_raw(statement).await.map_err(db_err)?;
    page_of_rows(&rows)
}

/// See [`portico_core::ports::Store::page_by_token_hash`].
pub(crate) async fn page_by_token_hash(
    db: &DatabaseConnection,
    hash: &TokenHash,
) -> Result<Option<(Share, Option<RecordPage>)>, StoreError> {
    let backend = db.get_database_backend();
    let statement =
        Statement::from_sql_and_values(backend, share_page_sql(backend), [hash.0.to_vec().into()]);
    let rows = db.query_all_raw(statement).await.map_err(db_err)?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let share =
        convert::share_from_row(shares::Model::from_query_result(first, "s_").map_err(db_err)?)?;
    Ok(Some((share, page_of_rows(&rows)?)))
}

/// The page in `rows` (one per invoice, at least one), or `None` when the record or its org
/// was not joined.
fn page_of_rows(rows: &[QueryResult]) -> Result<Option<RecordPage>, StoreError> {
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    if !joined(first, "r_")? || !joined(first, "o_")? {
        return Ok(None);
    }
    let org = convert::org_from_row(orgs::Model::from_query_result(first, "o_").map_err(db_err)?)?;
    let found =
        convert::record_from_row(records::Model::from_query_result(first, "r_").map_err(db_err)?)?;
    let client = if joined(first, "c_")? {
        Some(convert::client_from_row(
            clients::Model::from_query_result(first, "c_").map_err(db_err)?,
        )?)
    } else {
        None
    };
    let mut invoices: Vec<Invoice> = Vec::new();
    for row in rows {
        if !joined(row, "i_")? {
            continue;
        }
        let row = records::Model::from_query_result(row, "i_").map_err(db_err)?;
        match convert::record_from_row(row)?.value {
            Record::Invoice(invoice) => invoices.push(invoice),
            _ => {
                return Err(convert::corrupt(
                    "record",
                    "an invoice row holds another kind",
                ));
            }
        }
    }
    Ok(Some(RecordPage {
        org,
        record: found,
        client,
        invoices,
    }))
}

/// See [`portico_core::ports::Store::staff_among`].
pub(crate) async fn staff_among(
    db: &DatabaseConnection,
    org: &OrgId,
    ids: &[StaffId],
) -> Result<Vec<Staff>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    staff::Entity::find()
        .filter(staff::Column::OrgId.eq(org.as_str()))
        .filter(staff::Column::Id.is_in(ids.iter().map(StaffId::as_str)))
        .order_by_asc(staff::Column::Id)
        .all(db)
        .await
        .map_err(db_err)?
        .into_iter()
        .map(convert::staff_from_row)
        .collect()
}
