//! [`SqlUnit`]: a unit of work is one database transaction. Dropping it uncommitted rolls back.

use async_trait::async_trait;
use portico_core::model::{
    Agreement, AgreementId, Appointment, AppointmentId, AuditEntry, Client, ClientId, Contract,
    ContractId, Email, FeedEvent, FileId, IntentId, Invoice, Message, Notification, Org, OrgId,
    Payment, PaymentAccount, PortalAccount, PortalSession, Record, RecordId, RecordKind, RecordRef,
    RecordSummary, RequestState, ServiceRequest, ServiceRequestId, SessionHash, Share, ShareId,
    SignInGrant, Staff, StaffId, Topic, Versioned,
};
use portico_core::model::{EndpointId, WebhookDelivery, WebhookEndpoint};
use portico_core::ports::{Change, StoreError, UnitOfWork};
use portico_core::token::TokenHash;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseTransaction, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Statement,
};
use time::OffsetDateTime;

use crate::columns::Instant;
use crate::convert::{self, kind_str};
use crate::entity::{
    agreements, appointments, audit, clients, contracts, events, file_refs, messages, orgs, outbox,
    payment_accounts, payments, portal_accounts, portal_grants, portal_sessions, provider_events,
    records, service_requests, shares, staff, webhook_deliveries, webhook_endpoints,
};
use crate::feed::{Announcer, CHANNEL};
use crate::inbox;
use crate::plans;
use crate::webhooks;
use crate::{WriterTurn, db_err};

/// The per-org counter of the event log (see the inbox migration).
#[derive(sea_orm::DeriveIden)]
enum EventCounters {
    Table,
    OrgId,
    LastSeq,
}

pub(crate) struct SqlUnit {
    tx: DatabaseTransaction,
    /// In a unit that may write, the files each work order read or written in it points at,
    /// with its version: writing it again at that version with the same files leaves its file
    /// refs as they are. `None` in a read-only unit, which keeps no such note.
    files_at: Option<std::collections::HashMap<RecordKey, (u64, Vec<String>)>>,
    /// On SQLite, this writer's turn, given back when the unit ends (fields drop in order, so
    /// after `tx` has committed or rolled back).
    _turn: WriterTurn,
    /// On PostgreSQL, who announces this unit's changes to the other servers.
    announcer: Option<std::sync::Arc<Announcer>>,
}

impl SqlUnit {
    pub(crate) fn new(
        tx: DatabaseTransaction,
        writing: bool,
        turn: WriterTurn,
        announcer: Option<std::sync::Arc<Announcer>>,
    ) -> Self {
        Self {
            tx,
            files_at: writing.then(std::collections::HashMap::new),
            _turn: turn,
            announcer,
        }
    }
}

fn conflict_unless_one(rows: u64, what: &str) -> Result<(), StoreError> {
    if rows == 1 {
        Ok(())
    } else {
        Err(StoreError::Conflict(format!("{what} changed meanwhile")))
    }
}

fn version(v: u64) -> Result<i64, StoreError> {
    i64::try_from(v).map_err(|e| convert::corrupt("version", e))
}

/// A record's key: org, kind and id.
type RecordKey = (String, &'static str, String);

fn key_of(record: &Record) -> RecordKey {
    (
        record.org_id().as_str().to_owned(),
        kind_str(record.kind()),
        record.id().as_str().to_owned(),
    )
}

/// The files a work order points at (attachments and the signature image), sorted, each once;
/// none for other kinds.
fn files_of(record: &Record) -> Vec<String> {
    let Record::WorkOrder(wo) = record else {
        return Vec::new();
    };
    let mut files: Vec<String> = wo
        .files
        .iter()
        .map(|f| f.id.as_str().to_owned())
        .chain(
            wo.signature
                .as_ref()
                .and_then(|s| s.image.as_ref())
                .map(|f| f.as_str().to_owned()),
        )
        .collect();
    files.sort_unstable();
    files.dedup();
    files
}

impl SqlUnit {
    /// Rewrites which files `record` points at (attachments and the signature image), now at
    /// version `next`; nothing when this unit knows the version it replaced pointed at the same
    /// files.
    async fn write_file_refs(
        &mut self,
        record: &Record,
        replaced: Option<u64>,
        next: u64,
    ) -> Result<(), StoreError> {
        // Only work orders point at files, and a record never changes kind.
        if !matches!(record, Record::WorkOrder(_)) {
            return Ok(());
        }
        let key = key_of(record);
        let files = files_of(record);
        let mut unchanged = false;
        if let Some(files_at) = &mut self.files_at {
            unchanged = matches!(
                (replaced, files_at.get(&key)),
                (Some(version), Some((known, before))) if *known == version && *before == files
            );
            files_at.insert(key, (next, files.clone()));
        }
        if unchanged {
            return Ok(());
        }
        let kind = kind_str(record.kind());
        file_refs::Entity::delete_many()
            .filter(file_refs::Column::OrgId.eq(record.org_id().as_str()))
            .filter(file_refs::Column::RecordKind.eq(kind))
            .filter(file_refs::Column::RecordId.eq(record.id().as_str()))
            .exec(&self.tx)
            .await
            .map_err(db_err)?;
        if files.is_empty() {
            return Ok(());
        }
        // In slices, so a work order with thousands of files stays under the bind limits.
        for chunk in files.chunks(500) {
            let rows = chunk.iter().map(|file| file_refs::ActiveModel {
                org_id: Set(record.org_id().as_str().to_owned()),
                file_id: Set(file.clone()),
                record_kind: Set(kind.to_owned()),
                record_id: Set(record.id().as_str().to_owned()),
            });
            file_refs::Entity::insert_many(rows)
                .exec_without_returning(&self.tx)
                .await
                .map_err(db_err)?;
        }
        Ok(())
    }
}

#[async_trait]
impl UnitOfWork for SqlUnit {
    async fn org(&mut self, id: &OrgId) -> Result<Option<Org>, StoreError> {
        orgs::Entity::find_by_id(id.as_str().to_owned())
            .one(&self.tx)
            .await
            .map_err(db_err)?
            .map(convert::org_from_row)
            .transpose()
    }

    async fn put_org(&mut self, org: &Org) -> Result<(), StoreError> {
        use orgs::Column as C;
        orgs::Entity::insert(convert::org_to_row(org))
            .on_conflict(
                OnConflict::column(C::Id)
                    .update_columns([
                        C::Name,
                        C::Plan,
                        C::ClientSharing,
                        C::LinkExpiryDays,
                        C::PhotosSharedByDefault,
                        C::TimeZone,
                        C::Locale,
                        C::ContactPhone,
                        C::ContactEmail,
                        C::Logo,
                        C::PortalEnabled,
                        C::PortalWelcome,
                        C::PortalSections,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(&self.tx)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn staff(&mut self, org: &OrgId, id: &StaffId) -> Result<Option<Staff>, StoreError> {
        staff::Entity::find_by_id((org.as_str().to_owned(), id.as_str().to_owned()))
            .one(&self.tx)
            .await
            .map_err(db_err)?
            .map(convert::staff_from_row)
            .transpose()
    }

    async fn put_staff(&mut self, s: &Staff) -> Result<(), StoreError> {
        use staff::Column as C;
        staff::Entity::insert(convert::staff_to_row(s))
            .on_conflict(
                OnConflict::columns([C::OrgId, C::Id])
                    .update_columns([C::Name, C::Role, C::Active, C::Email, C::Phone, C::Photo])
                    .to_owned(),
            )
            .exec_without_returning(&self.tx)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn client(&mut self, org: &OrgId, id: &ClientId) -> Result<Option<Client>, StoreError> {
        clients::Entity::find_by_id((org.as_str().to_owned(), id.as_str().to_owned()))
            .one(&self.tx)
            .await
            .map_err(db_err)?
            .map(convert::client_from_row)
            .transpose()
    }

    async fn put_client(&mut self, c: &Client) -> Result<(), StoreError> {
        use clients::Column as C;
        clients::Entity::insert(convert::client_to_row(c))
            .on_conflict(
                OnConflict::columns([C::OrgId, C::Id])
                    .update_columns([C::Name, C::Email, C::Phone, C::Address])
                    .to_owned(),
            )
            .exec_without_returning(&self.tx)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn record(
        &mut self,
        org: &OrgId,
        record: &RecordRef,
    ) -> Result<Option<Versioned<Record>>, StoreError> {
        let found = records::Entity::find_by_id((
            org.as_str().to_owned(),
            kind_str(record.kind).to_owned(),
            record.id.as_str().to_owned(),
        ))
        .one(&self.tx)
        .await
        .map_err(db_err)?
        .map(convert::record_from_row)
        .transpose()?;
        if let (Some(files_at), Some(read)) = (&mut self.files_at, &found)
            && matches!(read.value, Record::WorkOrder(_))
        {
            files_at.insert(key_of(&read.value), (read.version, files_of(&read.value)));
        }
        Ok(found)
    }

    async fn put_record(
        &mut self,
        record: &Record,
        expected: Option<u64>,
    ) -> Result<u64, StoreError> {
        let next = expected.unwrap_or(0) + 1;
        let row = convert::record_to_row(record, next)?;
        match expected {
            None => {
                records::Entity::insert(row)
                    .exec_without_returning(&self.tx)
                    .await
                    .map_err(db_err)?;
            }
            Some(expected) => {
                let done = records::Entity::update_many()
                    .set(row)
                    .filter(records::Column::OrgId.eq(record.org_id().as_str()))
                    .filter(records::Column::Kind.eq(kind_str(record.kind())))
                    .filter(records::Column::Id.eq(record.id().as_str()))
                    .filter(records::Column::Version.eq(version(expected)?))
                    .exec(&self.tx)
                    .await
                    .map_err(db_err)?;
                conflict_unless_one(done.rows_affected, "record")?;
            }
        }
        self.write_file_refs(record, expected, next).await?;
        Ok(next)
    }

    async fn file_in_use(&mut self, org: &OrgId, file: &FileId) -> Result<bool, StoreError> {
        let by_record = file_refs::Entity::find()
            .filter(file_refs::Column::OrgId.eq(org.as_str()))
            .filter(file_refs::Column::FileId.eq(file.as_str()))
            .count(&self.tx)
            .await
            .map_err(db_err)?;
        let as_logo = orgs::Entity::find()
            .filter(orgs::Column::Id.eq(org.as_str()))
            .filter(orgs::Column::Logo.eq(file.as_str()))
            .count(&self.tx)
            .await
            .map_err(db_err)?;
        let as_photo = staff::Entity::find()
            .filter(staff::Column::OrgId.eq(org.as_str()))
            .filter(staff::Column::Photo.eq(file.as_str()))
            .count(&self.tx)
            .await
            .map_err(db_err)?;
        Ok(by_record + as_logo + as_photo > 0)
    }

    async fn invoices_of_work_order(
        &mut self,
        org: &OrgId,
        work_order: &RecordId,
    ) -> Result<Vec<Invoice>, StoreError> {
        let rows = records::Entity::find()
            .filter(records::Column::OrgId.eq(org.as_str()))
            .filter(records::Column::WorkOrderId.eq(work_order.as_str()))
            .filter(records::Column::Kind.eq(kind_str(RecordKind::Invoice)))
            .order_by_asc(records::Column::Id)
            .all(&self.tx)
            .await
            .map_err(db_err)?;
        rows.into_iter()
            .map(|row| match convert::record_from_row(row)?.value {
                Record::Invoice(i) => Ok(i),
                _ => Err(convert::corrupt(
                    "record",
                    "an invoice row holds another kind",
                )),
            })
            .collect()
    }

    async fn share(&mut self, id: ShareId) -> Result<Option<Versioned<Share>>, StoreError> {
        shares::Entity::find()
            .filter(shares::Column::Id.eq(id.0))
            .one(&self.tx)
            .await
            .map_err(db_err)?
            .map(convert::versioned_share)
            .transpose()
    }

    async fn shares_of_record(
        &mut self,
        org: &OrgId,
        record: &RecordRef,
    ) -> Result<Vec<Versioned<Share>>, StoreError> {
        shares::Entity::find()
            .filter(shares::Column::OrgId.eq(org.as_str()))
            .filter(shares::Column::RecordKind.eq(kind_str(record.kind)))
            .filter(shares::Column::RecordId.eq(record.id.as_str()))
            .order_by_asc(shares::Column::Seq)
            .all(&self.tx)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(convert::versioned_share)
            .collect()
    }

    async fn shares_expiring_after(
        &mut self,
        org: &OrgId,
        now: OffsetDateTime,
    ) -> Result<Vec<Versioned<Share>>, StoreError> {
        shares::Entity::find()
            .filter(shares::Column::OrgId.eq(org.as_str()))
            .filter(shares::Column::State.eq("active"))
            .filter(shares::Column::ExpiresAt.gt(Instant::new(now)))
            .order_by_asc(shares::Column::Seq)
            .all(&self.tx)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(convert::versioned_share)
            .collect()
    }

    async fn insert_share(&mut self, share: &Share) -> Result<(), StoreError> {
        shares::Entity::insert(convert::share_to_row(share, 1)?)
            .exec_without_returning(&self.tx)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn update_share(&mut self, share: &Share, expected: u64) -> Result<u64, StoreError> {
        use sea_orm::ActiveValue::NotSet;
        let mut row = convert::share_to_row(share, expected + 1)?;
        // Opening times belong to `record_opened`; the id and token never change.
        row.first_opened_at = NotSet;
        row.last_opened_at = NotSet;
        row.id = NotSet;
        row.nonce = NotSet;
        row.token_hash = NotSet;
        let done = shares::Entity::update_many()
            .set(row)
            .filter(shares::Column::Id.eq(share.id.0))
            .filter(shares::Column::Version.eq(version(expected)?))
            .exec(&self.tx)
            .await
            .map_err(db_err)?;
        conflict_unless_one(done.rows_affected, "share")?;
        Ok(expected + 1)
    }

    async fn enqueue(&mut self, notification: &Notification) -> Result<(), StoreError> {
        outbox::Entity::insert(convert::notification_to_row(notification)?)
            .exec_without_returning(&self.tx)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn open_burst(
        &mut self,
        share: ShareId,
        topic: Topic,
        to: &Email,
        now: OffsetDateTime,
    ) -> Result<Option<Notification>, StoreError> {
        outbox::Entity::find()
            .filter(outbox::Column::ShareId.eq(share.0))
            .filter(outbox::Column::Topic.eq(topic.as_str()))
            .filter(outbox::Column::Recipient.eq(to.as_str()))
            .filter(outbox::Column::State.eq("pending"))
            .filter(outbox::Column::Attempts.eq(0))
            .filter(outbox::Column::DueAt.gt(Instant::new(now)))
            .order_by_desc(outbox::Column::Seq)
            .one(&self.tx)
            .await
            .map_err(db_err)?
            .map(convert::notification_from_row)
            .transpose()
    }

    async fn merge_into(&mut self, notification: &Notification) -> Result<(), StoreError> {
        let kind = crate::document::kind_to_json(&notification.kind)?;
        let done = outbox::Entity::update_many()
            .col_expr(outbox::Column::Kind, Expr::value(kind))
            .filter(outbox::Column::Id.eq(notification.id.0))
            .filter(outbox::Column::State.eq("pending"))
            .filter(outbox::Column::Attempts.eq(0))
            .exec(&self.tx)
            .await
            .map_err(db_err)?;
        conflict_unless_one(done.rows_affected, "notification")
    }

    async fn append_audit(&mut self, entry: &AuditEntry) -> Result<(), StoreError> {
        audit::Entity::insert(convert::audit_to_row(entry)?)
            .exec_without_returning(&self.tx)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn audit_of_record(
        &mut self,
        org: &OrgId,
        record: &RecordRef,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        audit::Entity::find()
            .filter(audit::Column::OrgId.eq(org.as_str()))
            .filter(audit::Column::RecordKind.eq(kind_str(record.kind)))
            .filter(audit::Column::RecordId.eq(record.id.as_str()))
            .order_by_asc(audit::Column::Seq)
            .all(&self.tx)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(convert::audit_from_row)
            .collect()
    }

    async fn record_summaries_of_client(
        &mut self,
        org: &OrgId,
        client: &ClientId,
    ) -> Result<Vec<RecordSummary>, StoreError> {
        use sea_orm::{ConnectionTrait as _, QuerySelect as _};
        // The few body fields a list needs, read by the database from the stored document (the
        // store's own format, `document.rs`) as one JSON array, so the document is parsed once
        // per row and no body travels whole.
        let fields = match self.tx.get_database_backend() {
            sea_orm::DatabaseBackend::Postgres => {
                "json_build_array(body->>'number', body->>'due_date', body->>'valid_until', body->'schedule'->>'start', body->>'completed_at')::text"
            }
            _ => {
                "json_extract(body, '$.number', '$.due_date', '$.valid_until', '$.schedule.start', '$.completed_at')"
            }
        };
        let c = records::Column::OrgId;
        let rows = records::Entity::find()
            .select_only()
            .columns([
                records::Column::Kind,
                records::Column::Id,
                records::Column::ClientId,
                records::Column::Title,
                records::Column::Status,
                records::Column::Currency,
                records::Column::Total,
                records::Column::AmountDue,
            ])
            .expr_as(Expr::cust(fields), "fields")
            .filter(c.eq(org.as_str()))
            .filter(records::Column::ClientId.eq(client.as_str()))
            .order_by_asc(records::Column::Kind)
            .order_by_asc(records::Column::Id)
            .into_model::<convert::SummaryRow>()
            .all(&self.tx)
            .await
            .map_err(db_err)?;
        rows.into_iter().map(convert::summary_from_row).collect()
    }

    async fn portal_account(
        &mut self,
        org: &OrgId,
        client: &ClientId,
    ) -> Result<Option<PortalAccount>, StoreError> {
        portal_accounts::Entity::find_by_id((org.as_str().to_owned(), client.as_str().to_owned()))
            .one(&self.tx)
            .await
            .map_err(db_err)?
            .map(convert::account_from_row)
            .transpose()
    }

    async fn put_portal_account(&mut self, account: &PortalAccount) -> Result<(), StoreError> {
        use portal_accounts::Column as C;
        portal_accounts::Entity::insert(convert::account_to_row(account))
            .on_conflict(
                OnConflict::columns([C::OrgId, C::ClientId])
                    .update_columns([
                        C::InvitedAt,
                        C::Enabled,
                        C::PasswordHash,
                        C::PasswordChangedAt,
                        C::LastSignInAt,
                        C::FailedPasswords,
                        C::LastFailedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(&self.tx)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn clients_with_email(
        &mut self,
        org: &OrgId,
        email: &Email,
    ) -> Result<Vec<Client>, StoreError> {
        use sea_orm::sea_query::ExprTrait as _;
        let lower = |e| sea_orm::sea_query::Func::lower(Expr::col(e));
        clients::Entity::find()
            .filter(clients::Column::OrgId.eq(org.as_str()))
            .filter(Expr::expr(lower(clients::Column::Email)).eq(email.as_str().to_lowercase()))
            .order_by_asc(clients::Column::Id)
            .all(&self.tx)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(convert::client_from_row)
            .collect()
    }

    async fn grant_by_token_hash(
        &mut self,
        hash: &TokenHash,
    ) -> Result<Option<SignInGrant>, StoreError> {
        portal_grants::Entity::find()
            .filter(portal_grants::Column::TokenHash.eq(hash.0.to_vec()))
            .one(&self.tx)
            .await
            .map_err(db_err)?
            .map(convert::grant_from_row)
            .transpose()
    }

    async fn grant(&mut self, id: uuid::Uuid) -> Result<Option<SignInGrant>, StoreError> {
        portal_grants::Entity::find_by_id(id)
            .one(&self.tx)
            .await
            .map_err(db_err)?
            .map(convert::grant_from_row)
            .transpose()
    }

    async fn grants_of_client(
        &mut self,
        org: &OrgId,
        client: &ClientId,
        since: OffsetDateTime,
    ) -> Result<Vec<SignInGrant>, StoreError> {
        use portal_grants::Column as C;
        portal_grants::Entity::find()
            .filter(C::OrgId.eq(org.as_str()))
            .filter(C::ClientId.eq(client.as_str()))
            .filter(C::CreatedAt.gte(Instant::new(since)))
            .order_by_desc(C::CreatedAt)
            .order_by_desc(C::Id)
            .all(&self.tx)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(convert::grant_from_row)
            .collect()
    }

    async fn put_grant(&mut self, grant: &SignInGrant) -> Result<(), StoreError> {
        use portal_grants::Column as C;
        portal_grants::Entity::insert(convert::grant_to_row(grant))
            .on_conflict(
                OnConflict::column(C::Id)
                    .update_columns([C::EndedAt, C::EndedHow, C::CodeFailures])
                    .to_owned(),
            )
            .exec_without_returning(&self.tx)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn portal_session(
        &mut self,
        hash: &SessionHash,
    ) -> Result<Option<PortalSession>, StoreError> {
        portal_sessions::Entity::find_by_id(hash.0.to_vec())
            .one(&self.tx)
            .await
            .map_err(db_err)?
            .map(convert::session_from_row)
            .transpose()
    }

    async fn put_session(&mut self, session: &PortalSession) -> Result<(), StoreError> {
        use portal_sessions::Column as C;
        portal_sessions::Entity::insert(convert::session_to_row(session))
            .on_conflict(
                OnConflict::column(C::Hash)
                    .update_columns([C::LastSeenAt, C::EndedAt])
                    .to_owned(),
            )
            .exec_without_returning(&self.tx)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn end_sessions(
        &mut self,
        org: &OrgId,
        client: Option<&ClientId>,
        except: Option<&SessionHash>,
        at: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        use portal_sessions::Column as C;
        let mut update = portal_sessions::Entity::update_many()
            .col_expr(C::EndedAt, Expr::value(Instant::new(at)))
            .filter(C::OrgId.eq(org.as_str()))
            .filter(C::EndedAt.is_null());
        if let Some(client) = client {
            update = update.filter(C::ClientId.eq(client.as_str()));
        }
        if let Some(except) = except {
            update = update.filter(C::Hash.ne(except.0.to_vec()));
        }
        Ok(update.exec(&self.tx).await.map_err(db_err)?.rows_affected)
    }

    async fn put_message(&mut self, message: &Message) -> Result<(), StoreError> {
        use messages::Column as C;
        messages::Entity::insert(inbox::message_to_row(message))
            .on_conflict(
                OnConflict::column(C::Id)
                    .update_column(C::ReadAt)
                    .to_owned(),
            )
            .exec_without_returning(&self.tx)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn messages_of_client(
        &mut self,
        org: &OrgId,
        client: &ClientId,
    ) -> Result<Vec<Message>, StoreError> {
        use messages::Column as C;
        messages::Entity::find()
            .filter(C::OrgId.eq(org.as_str()))
            .filter(C::ClientId.eq(client.as_str()))
            .order_by_asc(C::Seq)
            .all(&self.tx)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(inbox::message_from_row)
            .collect()
    }

    async fn put_service_request(&mut self, request: &ServiceRequest) -> Result<(), StoreError> {
        use service_requests::Column as C;
        service_requests::Entity::insert(inbox::request_to_row(request)?)
            .on_conflict(
                OnConflict::column(C::Id)
                    .update_columns([C::State, C::UpdatedAt])
                    .to_owned(),
            )
            .exec_without_returning(&self.tx)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn service_request(
        &mut self,
        org: &OrgId,
        id: ServiceRequestId,
    ) -> Result<Option<ServiceRequest>, StoreError> {
        use service_requests::Column as C;
        service_requests::Entity::find_by_id(id.0)
            .filter(C::OrgId.eq(org.as_str()))
            .one(&self.tx)
            .await
            .map_err(db_err)?
            .map(inbox::request_from_row)
            .transpose()
    }

    async fn service_requests(
        &mut self,
        org: &OrgId,
        state: Option<RequestState>,
        limit: u32,
    ) -> Result<Vec<ServiceRequest>, StoreError> {
        use service_requests::Column as C;
        let mut query = service_requests::Entity::find().filter(C::OrgId.eq(org.as_str()));
        if let Some(state) = state {
            query = query.filter(C::State.eq(state.as_str()));
        }
        query
            .order_by_asc(C::CreatedAt)
            .order_by_asc(C::Id)
            .limit(u64::from(limit))
            .all(&self.tx)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(inbox::request_from_row)
            .collect()
    }

    async fn append_event(&mut self, event: &FeedEvent) -> Result<u64, StoreError> {
        // The counter row stays locked until this unit commits, so numbers follow commit
        // order and a rolled-back append leaves no gap.
        let mut upsert = Query::insert();
        upsert
            .into_table(EventCounters::Table)
            .columns([EventCounters::OrgId, EventCounters::LastSeq])
            .values([event.org_id.as_str().into(), 1i64.into()])
            .map_err(|e| StoreError::Backend(Box::new(e)))?
            .on_conflict(
                OnConflict::column(EventCounters::OrgId)
                    .value(
                        EventCounters::LastSeq,
                        Expr::col((EventCounters::Table, EventCounters::LastSeq)).add(1),
                    )
                    .to_owned(),
            )
            .returning_col(EventCounters::LastSeq);
        let statement = self.tx.get_database_backend().build(&upsert);
        let seq: i64 = self
            .tx
            .query_one_raw(statement)
            .await
            .map_err(db_err)?
            .ok_or_else(|| convert::corrupt("event counter", "no number returned"))?
            .try_get_by_index(0)
            .map_err(db_err)?;
        events::Entity::insert(inbox::event_to_row(event, seq)?)
            .exec_without_returning(&self.tx)
            .await
            .map_err(db_err)?;
        u64::try_from(seq).map_err(|e| convert::corrupt("event counter", e))
    }

    async fn events_after(
        &mut self,
        org: &OrgId,
        after: u64,
        limit: u32,
    ) -> Result<Vec<FeedEvent>, StoreError> {
        use events::Column as C;
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        events::Entity::find()
            .filter(C::OrgId.eq(org.as_str()))
            .filter(C::Seq.gt(after))
            .order_by_asc(C::Seq)
            .limit(u64::from(limit))
            .all(&self.tx)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(inbox::event_from_row)
            .collect()
    }

    async fn put_agreement(&mut self, agreement: &Agreement) -> Result<(), StoreError> {
        use agreements::Column as C;
        agreements::Entity::insert(plans::agreement_to_row(agreement)?)
            .on_conflict(
                OnConflict::columns([C::OrgId, C::Id])
                    .update_columns([C::ClientId, C::Data])
                    .to_owned(),
            )
            .exec_without_returning(&self.tx)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn agreement(
        &mut self,
        org: &OrgId,
        id: &AgreementId,
    ) -> Result<Option<Agreement>, StoreError> {
        agreements::Entity::find_by_id((org.as_str().to_owned(), id.as_str().to_owned()))
            .one(&self.tx)
            .await
            .map_err(db_err)?
            .map(plans::agreement_from_row)
            .transpose()
    }

    async fn agreements_of_client(
        &mut self,
        org: &OrgId,
        client: &ClientId,
    ) -> Result<Vec<Agreement>, StoreError> {
        use agreements::Column as C;
        agreements::Entity::find()
            .filter(C::OrgId.eq(org.as_str()))
            .filter(C::ClientId.eq(client.as_str()))
            .order_by_asc(C::Id)
            .all(&self.tx)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(plans::agreement_from_row)
            .collect()
    }

    async fn put_appointment(&mut self, appointment: &Appointment) -> Result<(), StoreError> {
        use appointments::Column as C;
        appointments::Entity::insert(plans::appointment_to_row(appointment)?)
            .on_conflict(
                OnConflict::columns([C::OrgId, C::Id])
                    .update_columns([C::ClientId, C::StartsAt, C::Data])
                    .to_owned(),
            )
            .exec_without_returning(&self.tx)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn appointment(
        &mut self,
        org: &OrgId,
        id: &AppointmentId,
    ) -> Result<Option<Appointment>, StoreError> {
        appointments::Entity::find_by_id((org.as_str().to_owned(), id.as_str().to_owned()))
            .one(&self.tx)
            .await
            .map_err(db_err)?
            .map(plans::appointment_from_row)
            .transpose()
    }

    async fn appointments_of_client(
        &mut self,
        org: &OrgId,
        client: &ClientId,
    ) -> Result<Vec<Appointment>, StoreError> {
        use appointments::Column as C;
        appointments::Entity::find()
            .filter(C::OrgId.eq(org.as_str()))
            .filter(C::ClientId.eq(client.as_str()))
            .order_by_asc(C::StartsAt)
            .order_by_asc(C::Id)
            .all(&self.tx)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(plans::appointment_from_row)
            .collect()
    }

    async fn put_contract(&mut self, contract: &Contract) -> Result<(), StoreError> {
        use contracts::Column as C;
        // A version stored signed is left alone: the upsert's WHERE writes nothing, and the
        // unit refuses.
        let written = contracts::Entity::insert(plans::contract_to_row(contract)?)
            .on_conflict(
                OnConflict::columns([C::OrgId, C::Id, C::Version])
                    .update_columns([C::ClientId, C::Signed, C::Data])
                    .action_and_where(Expr::col((contracts::Entity, C::Signed)).eq(false))
                    .to_owned(),
            )
            .exec_without_returning(&self.tx)
            .await
            .map_err(db_err)?;
        if written == 0 {
            return Err(StoreError::Conflict(
                "a signed contract never changes".to_owned(),
            ));
        }
        Ok(())
    }

    async fn contract_versions(
        &mut self,
        org: &OrgId,
        id: &ContractId,
    ) -> Result<Vec<Contract>, StoreError> {
        use contracts::Column as C;
        contracts::Entity::find()
            .filter(C::OrgId.eq(org.as_str()))
            .filter(C::Id.eq(id.as_str()))
            .order_by_asc(C::Version)
            .all(&self.tx)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(plans::contract_from_row)
            .collect()
    }

    async fn contracts_of_client(
        &mut self,
        org: &OrgId,
        client: &ClientId,
    ) -> Result<Vec<Contract>, StoreError> {
        use contracts::Column as C;
        contracts::Entity::find()
            .filter(C::OrgId.eq(org.as_str()))
            .filter(C::ClientId.eq(client.as_str()))
            .order_by_asc(C::Id)
            .order_by_asc(C::Version)
            .all(&self.tx)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(plans::contract_from_row)
            .collect()
    }

    async fn claim_first_opening(
        &mut self,
        share: ShareId,
        at: OffsetDateTime,
    ) -> Result<Option<Share>, StoreError> {
        // Conditional: of units racing for it, the first to write sets it; the others wait on
        // the row and then match nothing.
        let set = shares::Entity::update_many()
            .col_expr(shares::Column::FirstOpenedAt, Expr::value(Instant::new(at)))
            .filter(shares::Column::Id.eq(share.0))
            .filter(shares::Column::FirstOpenedAt.is_null())
            .exec(&self.tx)
            .await
            .map_err(db_err)?;
        if set.rows_affected == 0 {
            return Ok(None);
        }
        Ok(self.share(share).await?.map(|v| v.value))
    }

    async fn endpoints_of_org(&mut self, org: &OrgId) -> Result<Vec<WebhookEndpoint>, StoreError> {
        use webhook_endpoints::Column as C;
        webhook_endpoints::Entity::find()
            .filter(C::OrgId.eq(org.as_str()))
            .order_by_asc(C::CreatedAt)
            .order_by_asc(C::Id)
            .all(&self.tx)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(webhooks::endpoint_from_row)
            .collect()
    }

    async fn put_endpoint(&mut self, endpoint: &WebhookEndpoint) -> Result<(), StoreError> {
        use webhook_endpoints::Column as C;
        let row: webhook_endpoints::ActiveModel = webhooks::endpoint_to_row(endpoint)?.into();
        webhook_endpoints::Entity::insert(row)
            .on_conflict(
                OnConflict::column(C::Id)
                    .update_columns([C::Url, C::Events, C::Enabled, C::DisabledReason])
                    .to_owned(),
            )
            .exec_without_returning(&self.tx)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn delete_endpoint(&mut self, org: &OrgId, id: EndpointId) -> Result<bool, StoreError> {
        use webhook_endpoints::Column as C;
        let gone = webhook_endpoints::Entity::delete_many()
            .filter(C::OrgId.eq(org.as_str()))
            .filter(C::Id.eq(id.0))
            .exec(&self.tx)
            .await
            .map_err(db_err)?;
        Ok(gone.rows_affected > 0)
    }

    async fn enqueue_webhook(&mut self, delivery: &WebhookDelivery) -> Result<(), StoreError> {
        webhook_deliveries::Entity::insert(webhooks::delivery_to_row(delivery)?)
            .exec_without_returning(&self.tx)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn webhook_deliveries_of_org(
        &mut self,
        org: &OrgId,
        state: Option<&str>,
        limit: u32,
    ) -> Result<Vec<WebhookDelivery>, StoreError> {
        use webhook_deliveries::Column as C;
        let mut query = webhook_deliveries::Entity::find().filter(C::OrgId.eq(org.as_str()));
        if let Some(state) = state {
            query = query.filter(C::State.eq(state));
        }
        // A row that no longer reads is left out rather than hiding every other one.
        Ok(query
            .order_by_desc(C::Seq)
            .limit(u64::from(limit))
            .all(&self.tx)
            .await
            .map_err(db_err)?
            .into_iter()
            .filter_map(|row| webhooks::delivery_from_row(row).ok())
            .collect())
    }

    async fn payment_account(&mut self, org: &OrgId) -> Result<Option<PaymentAccount>, StoreError> {
        payment_accounts::Entity::find_by_id(org.as_str().to_owned())
            .one(&self.tx)
            .await
            .map_err(db_err)?
            .map(|row| {
                PaymentAccount::new(&row.account)
                    .map_err(|e| convert::corrupt("payment account", e))
            })
            .transpose()
    }

    async fn put_payment_account(
        &mut self,
        org: &OrgId,
        account: Option<&PaymentAccount>,
    ) -> Result<(), StoreError> {
        use payment_accounts::Column as C;
        let Some(account) = account else {
            payment_accounts::Entity::delete_by_id(org.as_str().to_owned())
                .exec(&self.tx)
                .await
                .map_err(db_err)?;
            return Ok(());
        };
        payment_accounts::Entity::insert(payment_accounts::ActiveModel {
            org_id: Set(org.as_str().to_owned()),
            account: Set(account.as_str().to_owned()),
        })
        .on_conflict(
            OnConflict::column(C::OrgId)
                .update_column(C::Account)
                .to_owned(),
        )
        .exec_without_returning(&self.tx)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn payments_of_invoice(
        &mut self,
        org: &OrgId,
        invoice: &RecordId,
    ) -> Result<Vec<Payment>, StoreError> {
        use payments::Column as C;
        payments::Entity::find()
            .filter(C::OrgId.eq(org.as_str()))
            .filter(C::InvoiceId.eq(invoice.as_str()))
            .order_by_asc(C::CreatedAt)
            .order_by_asc(C::Intent)
            .all(&self.tx)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(crate::payments::payment_from_row)
            .collect()
    }

    async fn payment(&mut self, intent: &IntentId) -> Result<Option<Payment>, StoreError> {
        payments::Entity::find_by_id(intent.as_str().to_owned())
            .one(&self.tx)
            .await
            .map_err(db_err)?
            .map(crate::payments::payment_from_row)
            .transpose()
    }

    async fn put_payment(&mut self, payment: &Payment) -> Result<(), StoreError> {
        use payments::Column as C;
        let row: payments::ActiveModel = crate::payments::payment_to_row(payment).into();
        payments::Entity::insert(row)
            .on_conflict(
                OnConflict::column(C::Intent)
                    .update_columns([C::State, C::UpdatedAt, C::ClientSecret])
                    .to_owned(),
            )
            .exec_without_returning(&self.tx)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn claim_provider_event(
        &mut self,
        id: &str,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        use provider_events::Column as C;
        // `DO NOTHING` rather than a failed insert: a unique violation would abort the whole
        // transaction on PostgreSQL. A racing unit waits on the row until this one ends.
        let inserted = provider_events::Entity::insert(provider_events::ActiveModel {
            id: Set(id.to_owned()),
            received_at: Set(Instant::from(at)),
        })
        .on_conflict(OnConflict::column(C::Id).do_nothing().to_owned())
        .exec_without_returning(&self.tx)
        .await
        .map_err(db_err)?;
        Ok(inserted > 0)
    }

    async fn announce(&mut self, change: &Change) -> Result<(), StoreError> {
        let Some(announcer) = &self.announcer else {
            return Ok(());
        };
        // Delivered by PostgreSQL when, and only if, this transaction commits.
        let notify = Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT pg_notify($1, $2)",
            [CHANNEL.into(), announcer.payload(change)?.into()],
        );
        self.tx.execute_raw(notify).await.map_err(db_err)?;
        Ok(())
    }

    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        self.tx.commit().await.map_err(db_err)
    }
}
