//! Host changes of records (I2): full upserts and events. Portico derives notifications (N1–N3,
//! N6), expiry (S7) and the share prompt (P1) from the difference between old and new state.

use std::collections::HashSet;

use serde::Serialize;
use time::OffsetDateTime;

use super::{InvalidInput, Portico, RecordError, files, retry_on_conflict};
use crate::locale;
use crate::model::{
    Attachment, AuditAction, Client, FileId, Org, OrgId, Record, RecordKind, RecordRef, ShareId,
    Staff, StaffId, TaskId, Topic, Update, WorkOrder, WorkStatus,
};
use crate::policy::prompt::{SharePrompt, share_prompt};
use crate::policy::{access, expiry, files as file_policy, notify, permissions, quote};

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
    /// When the photo was taken.
    pub taken_at: Option<time::OffsetDateTime>,
    /// Before or after the work.
    pub stage: Option<crate::model::PhotoStage>,
}

/// A host's full upsert of a record (I2), with the files whose `shared` flag it did not say:
/// the core decides those (V3: a file already there keeps its flag, a new one takes the org's
/// default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upsert {
    /// The record as the host sent it.
    pub record: Record,
    /// Files of a work order that came without a share flag.
    pub files_without_share_flag: HashSet<FileId>,
}

impl From<Record> for Upsert {
    fn from(record: Record) -> Self {
        Self {
            record,
            files_without_share_flag: HashSet::new(),
        }
    }
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
    #[serde(serialize_with = "crate::model::serde_time::rfc3339_option::serialize")]
    pub expires_at: Option<OffsetDateTime>,
    /// Shares the change ended: a record whose client changes stops its link, so one client's
    /// details never reach another's recipient. Staff share again to send the new client a link.
    pub ended_shares: Vec<ShareId>,
}

impl Portico {
    /// Inserts or replaces an org (host sync).
    pub async fn put_org(&self, org: &Org) -> Result<(), RecordError> {
        let org = &check_org(org.clone())?;
        let mut tx = self.ports.store.begin().await?;
        let before = tx.org(&org.id).await?;
        tx.put_org(org).await?;
        if let Some(before) = before {
            self.retime_shares(tx.as_mut(), &before, org).await?;
            self.portal_switched(tx.as_mut(), &before, org).await?;
        }
        self.commit_and_publish(tx, &org.id, None).await?;
        Ok(())
    }

    /// Inserts or replaces a staff member (host sync).
    pub async fn put_staff(&self, staff: &Staff) -> Result<(), RecordError> {
        check_contact("staff", &staff.name, staff.phone.as_ref())?;
        let mut tx = self.ports.store.begin().await?;
        tx.org(&staff.org_id)
            .await?
            .ok_or(RecordError::UnknownOrg)?;
        tx.put_staff(staff).await?;
        self.commit_and_publish(tx, &staff.org_id, None).await?;
        Ok(())
    }

    /// Inserts or replaces a client (host sync).
    pub async fn put_client(&self, client: &Client) -> Result<(), RecordError> {
        check_contact("client", &client.name, client.phone.as_ref())?;
        check_optional("client address", client.address.as_ref(), 1000)?;
        let mut tx = self.ports.store.begin().await?;
        tx.org(&client.org_id)
            .await?
            .ok_or(RecordError::UnknownOrg)?;
        tx.put_client(client).await?;
        self.commit_and_publish(tx, &client.org_id, None).await?;
        Ok(())
    }

    /// The org as stored, with every setting in effect.
    pub async fn org(&self, org: &OrgId) -> Result<Org, RecordError> {
        let mut tx = self.ports.store.begin_read().await?;
        tx.org(org).await?.ok_or(RecordError::UnknownOrg)
    }

    /// Changes the org's own details and settings on behalf of `actor` (an owner, admin or
    /// sole trader), in one unit of work: `change` edits the stored org, which is then checked
    /// like [`Portico::put_org`] and written. The plan is the operator's: a change of it is
    /// refused. Returns the org in effect.
    pub async fn change_org(
        &self,
        actor: &StaffId,
        org: &OrgId,
        change: impl Fn(&mut Org) -> Result<(), RecordError>,
    ) -> Result<Org, RecordError> {
        let mut tx = self.ports.store.begin().await?;
        let before = tx.org(org).await?.ok_or(RecordError::UnknownOrg)?;
        let role = permissions::active(tx.staff(org, actor).await?.as_ref())?.role;
        if !permissions::can_manage_org(role) {
            return Err(RecordError::NotOrgManager { role });
        }
        let mut stored = before.clone();
        change(&mut stored)?;
        stored.id = org.clone();
        if stored.plan != before.plan {
            return Err(RecordError::PlanSetByOperator);
        }
        let stored = check_org(stored)?;
        tx.put_org(&stored).await?;
        self.retime_shares(tx.as_mut(), &before, &stored).await?;
        self.portal_switched(tx.as_mut(), &before, &stored).await?;
        self.commit_and_publish(tx, org, None).await?;
        Ok(stored)
    }

    /// S7: a new link lifetime applies to every share whose expiry is still ahead, at once: its
    /// expiry becomes the work order's close plus the new number of days (which may already
    /// have passed: the link is then expired, for good). Links already expired stay so.
    async fn retime_shares(
        &self,
        tx: &mut dyn crate::ports::UnitOfWork,
        before: &Org,
        after: &Org,
    ) -> Result<(), RecordError> {
        if before.settings.link_expiry_days == after.settings.link_expiry_days {
            return Ok(());
        }
        let now = self.now();
        for stored in tx.shares_expiring_after(&after.id, now).await? {
            let Some(record) = tx.record(&after.id, &stored.value.record).await? else {
                continue;
            };
            let mut share = stored.value;
            let moved = expiry::expiry(share.expires_at, &record.value, after, now);
            if moved != share.expires_at {
                share.expires_at = moved;
                tx.update_share(&share, stored.version).await?;
            }
        }
        Ok(())
    }

    /// C8: switching the portal off ends every session of the org in the same unit of work, so
    /// switching it on again restores the portal, not the sessions.
    async fn portal_switched(
        &self,
        tx: &mut dyn crate::ports::UnitOfWork,
        before: &Org,
        after: &Org,
    ) -> Result<(), RecordError> {
        if before.settings.portal.enabled && !after.settings.portal.enabled {
            tx.end_sessions(&after.id, None, None, self.now()).await?;
        }
        Ok(())
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

    /// I2: a full upsert of a record by the host, on behalf of `actor`, every file's share flag
    /// said.
    pub async fn upsert_record(
        &self,
        actor: &StaffId,
        record: &Record,
    ) -> Result<RecordChange, RecordError> {
        self.upsert(actor, &Upsert::from(record.clone())).await
    }

    /// I2: a full upsert of a record by the host, on behalf of `actor`; files whose share flag
    /// it did not say are decided inside the unit of work (V3).
    pub async fn upsert(
        &self,
        actor: &StaffId,
        upsert: &Upsert,
    ) -> Result<RecordChange, RecordError> {
        // A file's media type is the one checked from its uploaded bytes, not the host's claim.
        let mut record = upsert.record.clone();
        if let Record::WorkOrder(wo) = &mut record {
            for file in &mut wo.files {
                if let Some(checked) = self.checked_type(&wo.org_id, &file.id).await? {
                    file.content_type = checked;
                }
            }
        }
        let record = &record;
        let unsaid = &upsert.files_without_share_flag;
        retry_on_conflict!(
            self.try_write(actor, record.org_id(), &record.reference(), |old, org| {
                let mut new = record.clone();
                if let Record::WorkOrder(wo) = &mut new {
                    let old = old.and_then(Record::as_work_order);
                    file_policy::decide_unsaid_sharing(old, wo, unsaid, org);
                }
                Ok(new)
            })
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
                    // An event says no completion or payment time: the stored ones are kept
                    // while their state lasts (S7).
                    wo.completed_at = None;
                    wo.paid_at = None;
                    apply(&mut wo, event, org)?;
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
            return Err(
                InvalidInput::new("id", "the record's org and id must match the request").into(),
            );
        }
        validate(&new)?;
        normalise(old.as_ref().map(|o| &o.value), &mut new, now)?;
        let dropped = files::dropped_files(old.as_ref().map(|o| &o.value), &new);
        if !permissions::can_share(role)
            && permissions::changes_what_clients_see(
                old.as_ref().map(|o| &o.value),
                &new,
                org.settings.photos_shared_by_default,
            )
        {
            return Err(permissions::ActorDenied::NotPermitted { role }.into());
        }
        let version = tx.put_record(&new, old.as_ref().map(|o| o.version)).await?;

        let mut active = tx
            .shares_of_record(org_id, reference)
            .await?
            .into_iter()
            .find(|s| s.value.is_active());
        let mut ended_shares = Vec::new();
        if let (Some(old), Some(stored)) = (&old, &active)
            && access::client_changed(&old.value, &new)
        {
            let share = self
                .end_share(
                    tx.as_mut(),
                    stored,
                    actor,
                    AuditAction::ShareEndedClientChanged,
                    now,
                )
                .await?;
            ended_shares.push(share.id);
            active = None;
        }
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
                let old_wo = old.as_ref().and_then(|o| o.value.as_work_order());
                let usable = active
                    .as_ref()
                    .filter(|s| notify::may_mail(&s.value, &org, now))
                    .map(|s| s.value.sections);
                share_prompt(old_wo, wo, role, &org, usable)
            }
            Record::Quote(_) | Record::Invoice(_) => None,
        };
        self.commit_and_publish(tx, org_id, Some(reference)).await?;
        self.drop_blobs(org_id, &dropped).await;
        Ok(RecordChange {
            version,
            notifications: topics,
            share_prompt: prompt,
            expires_at,
            ended_shares,
        })
    }
}

/// Applies a host event to a work order; a task it names must exist.
fn apply(wo: &mut WorkOrder, event: &HostEvent, org: &Org) -> Result<(), RecordError> {
    match event {
        HostEvent::StatusChanged { status } => wo.status = *status,
        HostEvent::TaskDone { task, done } => {
            let t = wo
                .tasks
                .iter_mut()
                .find(|t| &t.id == task)
                .ok_or_else(|| RecordError::UnknownTask(task.clone()))?;
            t.done = *done;
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
                taken_at: file.taken_at,
                stage: file.stage,
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
    Ok(())
}

/// Fields Portico keeps itself, restored or stamped whatever the host sent.
fn normalise(
    old: Option<&Record>,
    new: &mut Record,
    now: OffsetDateTime,
) -> Result<(), RecordError> {
    match (old, new) {
        (old, Record::WorkOrder(wo)) => {
            expiry::stamp_transitions(old.and_then(Record::as_work_order), wo, now)
                .map_err(|e| InvalidInput::new(e.0, e.to_string()))?;
        }
        (Some(Record::Quote(old)), Record::Quote(q)) => quote::revise(old, q)?,
        (_, Record::Quote(q)) => q.decision = None,
        (_, Record::Invoice(_)) => {}
    }
    Ok(())
}

/// 10^`exp` as a decimal (`exp` at most 19).
const fn power_of_ten(exp: u32) -> rust_decimal::Decimal {
    let n = 10u64.pow(exp);
    rust_decimal::Decimal::from_parts(n as u32, (n >> 32) as u32, 0, false, 0)
}

/// The largest amount Portico accepts in any one money or quantity field: 10^12.
pub const MAX_AMOUNT: rust_decimal::Decimal = power_of_ten(12);

/// The largest total a record may come to: 10^15, below the store's 10^16 column bound.
const MAX_TOTAL: rust_decimal::Decimal = power_of_ten(15);

/// I6: text from the host is bounded and holds no NUL (which no database keeps as text).
pub(super) fn check_text(what: &str, text: &str, max: usize) -> Result<(), RecordError> {
    if text.contains('\0') {
        return Err(InvalidInput::new(what, format!("{what} contains a NUL character")).into());
    }
    if text.chars().count() > max {
        return Err(
            InvalidInput::new(what, format!("{what} is longer than {max} characters")).into(),
        );
    }
    Ok(())
}

fn check_optional(what: &str, text: Option<&String>, max: usize) -> Result<(), RecordError> {
    text.map_or(Ok(()), |t| check_text(what, t, max))
}

/// Host names and contact details: the checks shared by orgs, staff and clients.
fn check_contact(what: &str, name: &str, phone: Option<&String>) -> Result<(), RecordError> {
    check_text(&format!("{what} name"), name, 200)?;
    check_optional(&format!("{what} phone"), phone, 100)
}

fn check_len<T>(what: &str, items: &[T]) -> Result<(), RecordError> {
    if items.len() > MAX_ITEMS {
        return Err(
            InvalidInput::new(what, format!("{what} has more than {MAX_ITEMS} entries")).into(),
        );
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
        return Err(InvalidInput::new(what, format!("{what} has a repeated id")).into());
    }
    Ok(())
}

/// I6: an amount is never negative and never beyond [`MAX_AMOUNT`].
pub(super) fn check_amount(what: &str, d: rust_decimal::Decimal) -> Result<(), RecordError> {
    if d.is_sign_negative() && !d.is_zero() {
        return Err(InvalidInput::new(what, format!("{what} is negative")).into());
    }
    if d > MAX_AMOUNT {
        return Err(InvalidInput::new(what, format!("{what} is larger than {MAX_AMOUNT}")).into());
    }
    Ok(())
}

fn check_priced(
    items: &[crate::model::LineItem],
    taxes: &[crate::model::TaxRate],
    currency: crate::model::Currency,
) -> Result<(), RecordError> {
    check_len("items", items)?;
    check_len("taxes", taxes)?;
    for i in items {
        check_text("item description", &i.description, 2000)?;
        check_amount("item quantity", i.quantity)?;
        check_amount("item unit_price", i.unit_price)?;
        if let Some(cost) = i.unit_cost {
            check_amount("item unit_cost", cost)?;
        }
    }
    for t in taxes {
        check_text("tax name", &t.name, 200)?;
        check_amount("tax percent", t.percent)?;
        if t.percent > rust_decimal::Decimal::ONE_HUNDRED {
            return Err(InvalidInput::new("tax percent", "tax percent is over 100").into());
        }
    }
    let total = crate::model::totals(items, taxes, currency).total.amount;
    if total > MAX_TOTAL {
        return Err(InvalidInput::new(
            "total",
            format!("the record's total is larger than {MAX_TOTAL}"),
        )
        .into());
    }
    Ok(())
}

/// An org's details as the host sends them (I6), with its time zone and locale in their
/// canonical spelling (V9: `australia/sydney` is stored as `Australia/Sydney`, `en_gb` as
/// `en-GB`).
fn check_org(mut org: Org) -> Result<Org, RecordError> {
    check_contact("org", &org.name, org.contact.phone.as_ref())?;
    check_text("time_zone", &org.settings.time_zone, 100)?;
    check_text("locale", &org.settings.locale, 35)?;
    org.settings.time_zone = locale::canonical_zone_name(&org.settings.time_zone)
        .map_err(|e| InvalidInput::new("time_zone", format!("time_zone: {e}")))?;
    let tag = locale::Locale::parse(&org.settings.locale)
        .map_err(|e| InvalidInput::new("locale", format!("locale: {e}")))?
        .tag();
    tag.clone_into(&mut org.settings.locale);
    if org.name.trim().is_empty() {
        return Err(InvalidInput::new("org name", "org name must not be empty").into());
    }
    let portal = &mut org.settings.portal;
    check_optional(
        "portal welcome",
        portal.welcome.as_ref(),
        crate::model::PortalSettings::MAX_WELCOME,
    )?;
    portal.welcome = portal
        .welcome
        .take()
        .map(|w| w.trim().to_owned())
        .filter(|w| !w.is_empty());
    portal.sections.sort();
    portal.sections.dedup();
    if !(1..=3650).contains(&org.settings.link_expiry_days) {
        return Err(InvalidInput::new(
            "link_expiry_days",
            "link_expiry_days must be between 1 and 3650",
        )
        .into());
    }
    Ok(org)
}

/// Host data is checked before it is stored: bounded sizes, unique ids, no NUL, no negative or
/// out-of-range money (I6).
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
            for f in &wo.files {
                check_text("file name", &f.name, 500)?;
                check_optional("file caption", f.caption.as_ref(), 2000)?;
            }
            for u in &wo.updates {
                check_text("update", &u.body, MAX_TEXT)?;
            }
            for p in &wo.parts {
                check_text("part name", &p.name, 500)?;
                check_amount("part quantity", p.quantity)?;
                if let Some(cost) = p.unit_cost {
                    check_amount("part unit_cost", cost)?;
                }
            }
            if let Some(sig) = &wo.signature {
                check_text("signature signed_by", &sig.signed_by, 200)?;
            }
            for a in &wo.activity_log {
                check_text("activity_log text", &a.text, MAX_TEXT)?;
            }
            for t in &wo.time_entries {
                check_text("time_entries note", &t.note, MAX_TEXT)?;
                check_amount("time_entries hourly_rate", t.hourly_rate)?;
            }
            for c in &wo.costs {
                check_text("costs description", &c.description, 2000)?;
                check_amount("costs amount", c.amount)?;
            }
        }
        Record::Quote(q) => {
            check_text("number", &q.number, 100)?;
            check_optional("client_message", q.client_message.as_ref(), MAX_TEXT)?;
            check_text("internal_notes", &q.internal_notes, MAX_TEXT)?;
            check_priced(&q.items, &q.taxes, q.currency)?;
        }
        Record::Invoice(inv) => {
            check_text("number", &inv.number, 100)?;
            check_text("internal_notes", &inv.internal_notes, MAX_TEXT)?;
            check_priced(&inv.items, &inv.taxes, inv.currency)?;
            check_amount("amount_paid", inv.amount_paid)?;
        }
    }
    Ok(())
}
