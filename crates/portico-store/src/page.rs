//! The read behind every uncached client page, in as few statements as the data allows:
//! [`record_page`] joins the record to its org, its client and (for a work order) its invoices
//! in one statement, outside any transaction (one statement reads one consistent snapshot);
//! [`staff_among`] reads the staff a record names in one more.

use std::sync::OnceLock;

use portico_core::model::{Invoice, OrgId, Record, RecordRef, Staff, StaffId};
use portico_core::ports::{RecordPage, StoreError};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, EntityTrait,
    FromQueryResult, IdenStatic, Iterable, QueryFilter, QueryOrder, QueryResult, Statement,
};

use crate::convert::{self, kind_str};
use crate::db_err;
use crate::entity::{clients, orgs, records, staff};

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

/// The statement, with the backend's placeholders.
fn page_sql(backend: DatabaseBackend) -> &'static str {
    static POSTGRES: OnceLock<String> = OnceLock::new();
    static SQLITE: OnceLock<String> = OnceLock::new();
    let (cell, args) = match backend {
        DatabaseBackend::Postgres => (&POSTGRES, ["$1", "$2", "$3"]),
        _ => (&SQLITE, ["?", "?", "?"]),
    };
    cell.get_or_init(|| {
        let [org, kind, id] = args;
        format!(
            "SELECT {o}, {r}, {c}, {i} \
             FROM records r \
             JOIN orgs o ON o.id = r.org_id \
             LEFT JOIN clients c ON c.org_id = r.org_id AND c.id = r.client_id \
             LEFT JOIN records i ON r.kind = 'work_order' AND i.org_id = r.org_id \
                 AND i.kind = 'invoice' AND i.work_order_id = r.id \
             WHERE r.org_id = {org} AND r.kind = {kind} AND r.id = {id} \
             ORDER BY i.id",
            o = columns::<orgs::Entity>("o", "o_"),
            r = columns::<records::Entity>("r", "r_"),
            c = columns::<clients::Entity>("c", "c_"),
            i = columns::<records::Entity>("i", "i_"),
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
    let Some(first) = rows.first() else {
        return Ok(None);
    };
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
    for row in &rows {
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
