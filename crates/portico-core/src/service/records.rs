//! Host changes of records (I2): full upserts and events. Portico derives notifications (N1–N3,
//! N6), expiry (S7) and the share prompt (P1) from the difference between old and new state.

use std::collections::HashSet;

use serde::Serialize;
use time::OffsetDateTime;

use super::{Portico, RecordError, files, retry_on_conflict};
use crate::model::{
    Attachment, Client, FileId, Org, OrgId, Record, RecordKind, RecordRef, Staff, StaffId, TaskId,
    Topic, Update, WorkOrder, WorkStatus,
};
use crate::policy::prompt::{SharePrompt, share_prompt};
use crate::policy::{expiry, notify, permissions, quote};

/// The longest text field Portico accepts from the host.
pub const MAX_TEXT: usize = 20_000;
/// The most items (tasks, files, updates, lines …) of one list on a record.
pub const MAX_ITEMS: usize = 5_000;

/// An event the host reports on a work order (I2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostEvent {
    /// The status changed.
    StatusChanged {
        /// The new status.
        status: WorkStatus,
    },
    /// A checklist task was ticked or un-ticked.
    TaskDone {
        /// Which task.
        task: TaskId,
        /// Done or not.
        done: bool,
    },
    /// An update was posted (or edited, by id), shared with the client or not.
    UpdatePosted {
        /// The update.
        update: Update,
    },
    /// A photo or file was added or replaced.
    FileAdded {
        /// The file.
        file: NewFile,
    },
    /// A photo or file was removed.
    FileRemoved {
        /// Which.
        file: FileId,
    },
    /// A payment was recorded (`true`) or removed (`false`).
    PaymentRecorded {
        /// Whether the job is now paid.
        paid: bool,
    },
    /// The job was reopened; `Completed` goes back to `status` (default in progress).
    Reopen {
        /// The status to go back to.
        status: Option<WorkStatus>,
    },
}

/// A file added by an event; `shared` falls back to the org's default for new photos (V3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFile {
    /// The host's id.
    pub id: FileId,
    /// File name.
    pub name: String,
    /// Checked media type.
    pub content_type: String,
    /// Caption.
    pub caption: Option<String>,
    /// Shared with the client; the org's default when `None`.
    pub shared: Option<bool>,
}

/// What a host change did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordChange {
    /// The record's new version.
    pub version: u64,
    /// The topics of the client emails it queued or merged into a burst.
    pub notifications: Vec<Topic>,
    /// P1: ask staff "share with client?" (work orders, roles that may share).
    pub share_prompt: Option<SharePrompt>,
    /// The active share's expiry after the change (S7).
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
}

impl Portico {
    /// Inserts or replaces an org (host sync).
    pub async fn put_org(&self, org: &Org) -> Result<(), RecordError> {
        check_text("org name", &org.name, 200)?;
        if org.name.trim().is_empty() {
            return Err(RecordError::Invalid("org name must not be empty".into()));
        }
        if !(1..=3650).contains(&org.settings.link_expiry_days) {
            return Err(RecordError::Invalid(
                "link_expiry_days must be between 1 and 3650".into(),
            ));
        }
        let mut tx = self.ports.store.begin().await?;
        tx.put_org(org).await?;
        tx.commit().await?;
        self.publish(&org.id, None);
        Ok(())
    }

    /// Inserts or replaces a staff member (host sync).
    pub async fn put_staff(&self, staff: &Staff) -> Result<(), RecordError> {
        check_text("staff name", &staff.name, 200)?;
        let mut tx = self.ports.store.begin().await?;
        tx.org(&staff.org_id)
            .await?
            .ok_or(RecordError::UnknownOrg)?;
        tx.put_staff(staff).await?;
        tx.commit().await?;
        self.publish(&staff.org_id, None);
        Ok(())
    }

    /// Inserts or replaces a client (host sync).
    pub async fn put_client(&self, client: &Client) -> Result<(), RecordError> {
        check_text("client name", &client.name, 200)?;
        let mut tx = self.ports.store.begin().await?;
        tx.org(&client.org_id)
            .await?
            .ok_or(RecordError::UnknownOrg)?;
        tx.put_client(client).await?;
        tx.commit().await?;
        self.publish(&client.org_id, None);
        Ok(())
    }

    /// Whether new photos of `org` are shared unless the host says otherwise (V3).
    pub async fn photos_shared_by_default(&self, org: &OrgId) -> Result<bool, RecordError> {
        let mut tx = self.ports.store.begin_read().await?;
        let org = tx.org(org).await?.ok_or(RecordError::UnknownOrg)?;
        Ok(org.settings.photos_shared_by_default)
    }

    /// V5: the client's decision on a quote, for the host app (`None` while undecided).
    pub async fn quote_decision(
        &self,
        org: &OrgId,
        quote: &crate::model::RecordId,
    ) -> Result<Option<crate::model::QuoteDecision>, RecordError> {
        let reference = RecordRef {
            kind: RecordKind::Quote,
            id: quote.clone(),
        };
        let mut tx = self.ports.store.begin_read().await?;
        tx.org(org).await?.ok_or(RecordError::UnknownOrg)?;
        match tx.record(org, &reference).await?.map(|r| r.value) {
            Some(Record::Quote(q)) => Ok(q.decision),
            _ => Err(RecordError::NotFound),
        }
    }

    /// I2: a full upsert of a record by the host, on behalf of `actor`.
    pub async fn upsert_record(
        &self,
        actor: &StaffId,
        record: &Record,
    ) -> Result<RecordChange, RecordError> {
        // A file's media type is the one checked from its uploaded bytes, not the host's claim.
        let mut record = record.clone();
        if let Record::WorkOrder(wo) = &mut record {
            for file in &mut wo.files {
                if let Some(checked) = self.checked_type(&wo.org_id, &file.id).await? {
                    file.content_type = checked;
                }
            }
        }
        let record = &record;
        retry_on_conflict!(
            self.try_write(actor, record.org_id(), &record.reference(), |_, _| Ok(
                record.clone()
            ))
            .await
        )
    }

    /// I2: an event on a work order, on behalf of `actor`.
    pub async fn apply_event(
        &self,
        actor: &StaffId,
        org: &OrgId,
        work_order: &crate::model::RecordId,
        event: &HostEvent,
    ) -> Result<RecordChange, RecordError> {
        let reference = RecordRef {
            kind: RecordKind::WorkOrder,
            id: work_order.clone(),
        };
        // A file's media type is the one checked from its uploaded bytes, not the host's claim.
        let mut event = event.clone();
        if let HostEvent::FileAdded { file } = &mut event
            && let Some(checked) = self.checked_type(org, &file.id).await?
        {
            file.content_type = checked;
        }
        let event = &event;
        retry_on_conflict!(
            self.try_write(actor, org, &reference, |old, org| match old {
                Some(Record::WorkOrder(wo)) => {
                    let mut wo = wo.clone();
                    apply(&mut wo, event, org);
                    Ok(Record::WorkOrder(wo))
                }
                _ => Err(RecordError::NotFound),
            })
            .await
        )
    }

    async fn checked_type(
        &self,
        org: &OrgId,
        file: &FileId,
    ) -> Result<Option<String>, RecordError> {
        self.uploaded_type(org, file)
            .await
            .map_err(|e| RecordError::Backend(Box::new(e)))
    }

    async fn try_write(
        &self,
        actor: &StaffId,
        org_id: &OrgId,
        reference: &RecordRef,
        change: impl Fn(Option<&Record>, &Org) -> Result<Record, RecordError>,
    ) -> Result<RecordChange, RecordError> {
        let now = self.now();
        let mut tx = self.ports.store.begin().await?;
        let org = tx.org(org_id).await?.ok_or(RecordError::UnknownOrg)?;
        let staff = tx.staff(org_id, actor).await?;
        let role = permissions::active(staff.as_ref())?.role;
        let old = tx.record(org_id, reference).await?;
        let mut new = change(old.as_ref().map(|o| &o.value), &org)?;
        if new.org_id() != org_id || new.reference() != *reference {
            return Err(RecordError::Invalid(
                "the record's org and id must match the request".into(),
            ));
        }
        validate(&new)?;
        normalise(old.as_ref().map(|o| &o.value), &mut new, now)?;
        let dropped = files::dropped_files(old.as_ref().map(|o| &o.value), &new);
        if !permissions::can_share(role) && shares_more_items(old.as_ref().map(|o| &o.value), &new)
        {
            return Err(RecordError::NotPermitted { role });
        }
        let version = tx.put_record(&new, old.as_ref().map(|o| o.version)).await?;

        let active = tx
            .shares_of_record(org_id, reference)
            .await?
            .into_iter()
            .find(|s| s.value.is_active());
        let mut topics = Vec::new();
        let mut expires_at = None;
        if let Some(stored) = &active {
            let mut share = stored.value.clone();
            share.expires_at = expiry::expiry(share.expires_at, &new, &org, now);
            expires_at = share.expires_at;
            if share.expires_at != stored.value.expires_at {
                tx.update_share(&share, stored.version).await?;
            }
            if let Some(old) = &old
                && notify::may_mail(&share, &org, now)
            {
                for kind in notify::client_events(&old.value, &new, share.sections) {
                    let topic = self
                        .queue(tx.as_mut(), &org, &share, reference, kind, now)
                        .await?;
                    topics.push(topic);
                }
            }
        }
        let prompt = match &new {
            Record::WorkOrder(wo) => {
                let old_wo = match old.as_ref().map(|o| &o.value) {
                    Some(Record::WorkOrder(o)) => Some(o),
                    _ => None,
                };
                let usable = active
                    .as_ref()
                    .filter(|s| notify::may_mail(&s.value, &org, now))
                    .map(|s| s.value.sections);
                share_prompt(old_wo, wo, role, &org, usable)
            }
            Record::Quote(_) | Record::Invoice(_) => None,
        };
        tx.commit().await?;
        self.publish(org_id, Some(reference));
        self.drop_blobs(org_id, &dropped).await;
        Ok(RecordChange {
            version,
            notifications: topics,
            share_prompt: prompt,
            expires_at,
        })
    }
}

/// Applies a host event to a work order.
fn apply(wo: &mut WorkOrder, event: &HostEvent, org: &Org) {
    match event {
        HostEvent::StatusChanged { status } => wo.status = *status,
        HostEvent::TaskDone { task, done } => {
            if let Some(t) = wo.tasks.iter_mut().find(|t| &t.id == task) {
                t.done = *done;
            }
        }
        HostEvent::UpdatePosted { update } => {
            match wo.updates.iter_mut().find(|u| u.id == update.id) {
                Some(existing) => *existing = update.clone(),
                None => wo.updates.push(update.clone()),
            }
        }
        HostEvent::FileAdded { file } => {
            let attachment = Attachment {
                id: file.id.clone(),
                name: file.name.clone(),
                content_type: file.content_type.clone(),
                caption: file.caption.clone(),
                shared: file.shared.unwrap_or(org.settings.photos_shared_by_default),
            };
            match wo.files.iter_mut().find(|f| f.id == file.id) {
                Some(existing) => *existing = attachment,
                None => wo.files.push(attachment),
            }
        }
        HostEvent::FileRemoved { file } => wo.files.retain(|f| &f.id != file),
        HostEvent::PaymentRecorded { paid } => wo.paid = *paid,
        HostEvent::Reopen { status } => {
            if wo.status == WorkStatus::Completed {
                wo.status = status.unwrap_or(WorkStatus::InProgress);
            }
        }
    }
}

/// Fields Portico keeps itself, restored or stamped whatever the host sent.
fn normalise(
    old: Option<&Record>,
    new: &mut Record,
    now: OffsetDateTime,
) -> Result<(), RecordError> {
    match (old, new) {
        (old, Record::WorkOrder(wo)) => {
            let old = match old {
                Some(Record::WorkOrder(o)) => Some(o),
                _ => None,
            };
            expiry::stamp_transitions(old, wo, now);
        }
        (Some(Record::Quote(old)), Record::Quote(q)) => quote::revise(old, q)?,
        (_, Record::Quote(q)) => q.decision = None,
        (_, Record::Invoice(_)) => {}
    }
    Ok(())
}

/// S1: whether `new` shares an update or file that `old` did not.
fn shares_more_items(old: Option<&Record>, new: &Record) -> bool {
    let Record::WorkOrder(new) = new else {
        return false;
    };
    let old = match old {
        Some(Record::WorkOrder(o)) => Some(o),
        _ => None,
    };
    let was_shared_update =
        |u: &Update| old.is_some_and(|o| o.updates.iter().any(|x| x.id == u.id && x.shared));
    let was_shared_file =
        |f: &Attachment| old.is_some_and(|o| o.files.iter().any(|x| x.id == f.id && x.shared));
    new.updates
        .iter()
        .any(|u| u.shared && !was_shared_update(u))
        || new.files.iter().any(|f| f.shared && !was_shared_file(f))
}

fn check_text(what: &str, text: &str, max: usize) -> Result<(), RecordError> {
    if text.chars().count() > max {
        return Err(RecordError::Invalid(format!(
            "{what} is longer than {max} characters"
        )));
    }
    Ok(())
}

fn check_len<T>(what: &str, items: &[T]) -> Result<(), RecordError> {
    if items.len() > MAX_ITEMS {
        return Err(RecordError::Invalid(format!(
            "{what} has more than {MAX_ITEMS} entries"
        )));
    }
    Ok(())
}

fn check_ids<T, K: Eq + std::hash::Hash>(
    what: &str,
    items: &[T],
    key: impl Fn(&T) -> K,
) -> Result<(), RecordError> {
    check_len(what, items)?;
    let mut seen = HashSet::new();
    if !items.iter().all(|i| seen.insert(key(i))) {
        return Err(RecordError::Invalid(format!("{what} has a repeated id")));
    }
    Ok(())
}

fn negative(d: rust_decimal::Decimal) -> bool {
    d.is_sign_negative() && !d.is_zero()
}

fn check_lines(items: &[crate::model::LineItem]) -> Result<(), RecordError> {
    check_len("items", items)?;
    for i in items {
        check_text("item description", &i.description, 2000)?;
        if negative(i.quantity) || negative(i.unit_price) {
            return Err(RecordError::Invalid("a line has a negative amount".into()));
        }
    }
    Ok(())
}

/// Host data is checked before it is stored: bounded sizes, unique ids, no negative money.
fn validate(record: &Record) -> Result<(), RecordError> {
    check_text("title", record.title(), 500)?;
    match record {
        Record::WorkOrder(wo) => {
            check_text("description", &wo.description, MAX_TEXT)?;
            check_text("internal_notes", &wo.internal_notes, MAX_TEXT)?;
            check_ids("tasks", &wo.tasks, |t| t.id.clone())?;
            check_ids("files", &wo.files, |f| f.id.clone())?;
            check_ids("updates", &wo.updates, |u| u.id.clone())?;
            check_len("parts", &wo.parts)?;
            check_len("activity_log", &wo.activity_log)?;
            check_len("time_entries", &wo.time_entries)?;
            check_len("costs", &wo.costs)?;
            for t in &wo.tasks {
                check_text("task title", &t.title, 1000)?;
            }
            for u in &wo.updates {
                check_text("update", &u.body, MAX_TEXT)?;
            }
            if wo.parts.iter().any(|p| negative(p.quantity)) {
                return Err(RecordError::Invalid("a part quantity is negative".into()));
            }
        }
        Record::Quote(q) => {
            check_lines(&q.items)?;
            check_len("taxes", &q.taxes)?;
        }
        Record::Invoice(inv) => {
            check_lines(&inv.items)?;
            check_len("taxes", &inv.taxes)?;
            if negative(inv.amount_paid) {
                return Err(RecordError::Invalid("amount_paid is negative".into()));
            }
        }
    }
    Ok(())
}
