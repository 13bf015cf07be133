//! Staff share actions: enable (S1–S4), get, change (S6), revoke (S5), list (I3), audit (S12).

use serde::Serialize;
use time::OffsetDateTime;

use super::{Portico, ShareError, retry_on_conflict};
use crate::locale::Presentation;
use crate::model::{
    Actor, AuditAction, AuditEntry, AuditId, Email, LinkReason, NotificationKind, OrgId, RecordRef,
    Sections, Share, ShareId, ShareState, StaffId, Versioned,
};
use crate::policy::{access, expiry, notify, permissions};
use crate::ports::UnitOfWork;

/// What staff ask for when enabling sharing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnableShare {
    /// The recipient; the client's email when `None` (S2).
    pub recipient: Option<String>,
    /// The visible sections; all when `None` (V1).
    pub sections: Option<Sections>,
}

/// A change of a share (S6); `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShareChange {
    /// A new recipient; they are sent the link.
    pub recipient: Option<String>,
    /// New visible sections.
    pub sections: Option<Sections>,
}

/// A share as staff see it (I3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShareInfo {
    /// The share's id.
    pub id: ShareId,
    /// The record it opens.
    pub record: RecordRef,
    /// The link, while the share is enabled (S4: fetchable at any time).
    pub link: Option<String>,
    /// Who receives it.
    pub recipient: Email,
    /// The visible sections.
    pub sections: Sections,
    /// Whether the share is enabled.
    pub active: bool,
    /// When it was revoked.
    #[serde(serialize_with = "crate::model::serde_time::rfc3339_option::serialize")]
    pub revoked_at: Option<OffsetDateTime>,
    /// When the link expires or expired (S7).
    #[serde(serialize_with = "crate::model::serde_time::rfc3339_option::serialize")]
    pub expires_at: Option<OffsetDateTime>,
    /// The org's date of that moment, in its time zone (V9).
    #[serde(serialize_with = "crate::model::serde_time::iso_date_option::serialize")]
    pub expires_on: Option<time::Date>,
    /// When it was enabled.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// First opened (S11).
    #[serde(serialize_with = "crate::model::serde_time::rfc3339_option::serialize")]
    pub first_opened_at: Option<OffsetDateTime>,
    /// Last opened (S11).
    #[serde(serialize_with = "crate::model::serde_time::rfc3339_option::serialize")]
    pub last_opened_at: Option<OffsetDateTime>,
}

impl Portico {
    /// Staff information about a share, its dates as the org `show`s them; the link is derived
    /// only while it is enabled.
    pub fn share_info(&self, share: &Share, show: &Presentation) -> Result<ShareInfo, ShareError> {
        let (active, revoked_at) = match &share.state {
            ShareState::Active => (true, None),
            ShareState::Revoked { at, .. } => (false, Some(*at)),
        };
        Ok(ShareInfo {
            id: share.id,
            record: share.record.clone(),
            link: if active {
                Some(self.link(share)?)
            } else {
                None
            },
            recipient: share.recipient.clone(),
            sections: share.sections,
            active,
            revoked_at,
            expires_at: share.expires_at,
            expires_on: share.expires_at.map(|at| show.today(at)),
            created_at: share.created_at,
            first_opened_at: share.first_opened_at,
            last_opened_at: share.last_opened_at,
        })
    }

    /// S1–S4: enables sharing of a record and returns its link. Enabling again while a share
    /// is active returns the same link (applying any changed recipient or sections as
    /// [`Portico::change_share`] would); after a revoke or expiry it mints a fresh token.
    pub async fn enable_share(
        &self,
        actor: &StaffId,
        org: &OrgId,
        record: &RecordRef,
        request: &EnableShare,
    ) -> Result<ShareInfo, ShareError> {
        let (info, show) = retry_on_conflict!(self.try_enable(actor, org, record, request).await)?;
        match &info {
            // Enabling again with other choices changes the share (S6).
            ShareOutcome::Existing(share)
                if request.recipient.is_some() || request.sections.is_some() =>
            {
                let change = ShareChange {
                    recipient: request.recipient.clone(),
                    sections: request.sections,
                };
                self.change_share(actor, org, share.id, &change).await
            }
            ShareOutcome::Existing(share) | ShareOutcome::Minted(share) => {
                self.share_info(share, &show)
            }
        }
    }

    async fn try_enable(
        &self,
        actor: &StaffId,
        org_id: &OrgId,
        reference: &RecordRef,
        request: &EnableShare,
    ) -> Result<(ShareOutcome, Presentation), ShareError> {
        let now = self.now();
        let mut tx = self.ports.store.begin().await?;
        let org = tx.org(org_id).await?.ok_or(ShareError::UnknownOrg)?;
        let staff = tx.staff(org_id, actor).await?;
        permissions::sharer(staff.as_ref())?;
        let record = tx
            .record(org_id, reference)
            .await?
            .ok_or(ShareError::RecordNotFound)?
            .value;
        let client = match record.client_id() {
            Some(id) => tx.client(org_id, id).await?,
            None => None,
        };
        let recipient = access::share_preconditions(
            &org,
            &record,
            client.as_ref(),
            request.recipient.as_deref(),
        )?;
        let shares = tx.shares_of_record(org_id, reference).await?;
        let active = shares.iter().find(|s| s.value.is_active());
        if let Some(current) = active.filter(|s| !s.value.is_expired(now)) {
            let existing = ShareOutcome::Existing(current.value.clone());
            return Ok((existing, Presentation::of(&org)));
        }
        let expires_at = expiry::expiry(None, &record, &org, now);
        if let Some(at) = expires_at.filter(|at| *at <= now) {
            return Err(ShareError::RecordExpired(at));
        }
        // An expired share is dead for good; it is closed so the record has one active share.
        if let Some(dead) = active {
            let mut closed = dead.value.clone();
            closed.state = ShareState::Revoked {
                at: now,
                by: actor.clone(),
            };
            tx.update_share(&closed, dead.version).await?;
        }
        let nonce = self.ports.random.nonce();
        let key_id = self.keys.current();
        let token = self.keys.derive(key_id, &nonce)?;
        let share = Share {
            id: ShareId(self.ports.random.uuid()),
            org_id: org_id.clone(),
            record: reference.clone(),
            recipient,
            sections: request.sections.unwrap_or_default(),
            state: ShareState::Active,
            key_id,
            nonce,
            token_hash: token.hash(),
            expires_at,
            created_at: now,
            created_by: actor.clone(),
            first_opened_at: None,
            last_opened_at: None,
        };
        tx.insert_share(&share).await?;
        let (reason, action) = if shares.is_empty() {
            (LinkReason::Enabled, AuditAction::ShareEnabled)
        } else {
            (LinkReason::Reshared, AuditAction::ShareReshared)
        };
        self.queue(
            tx.as_mut(),
            &org,
            &share,
            reference,
            NotificationKind::LinkShared { reason },
            now,
        )
        .await?;
        self.audit(
            tx.as_mut(),
            &share,
            Actor::Staff(actor.clone()),
            action,
            now,
        )
        .await?;
        self.commit_and_publish(tx, org_id, Some(reference)).await?;
        Ok((ShareOutcome::Minted(share), Presentation::of(&org)))
    }

    /// The share with `id` in `org`, as staff see it.
    pub async fn get_share(&self, org: &OrgId, id: ShareId) -> Result<ShareInfo, ShareError> {
        let mut tx = self.ports.store.begin_read().await?;
        let share = owned_share(tx.as_mut(), org, id).await?;
        let show = tx
            .org(org)
            .await?
            .map(|o| Presentation::of(&o))
            .unwrap_or_default();
        self.share_info(&share.value, &show)
    }

    /// Every share of a record, oldest first; only the active one carries a link.
    pub async fn list_shares(
        &self,
        org: &OrgId,
        record: &RecordRef,
    ) -> Result<Vec<ShareInfo>, ShareError> {
        let mut tx = self.ports.store.begin_read().await?;
        let show = Presentation::of(&tx.org(org).await?.ok_or(ShareError::UnknownOrg)?);
        tx.record(org, record)
            .await?
            .ok_or(ShareError::RecordNotFound)?;
        tx.shares_of_record(org, record)
            .await?
            .iter()
            .map(|s| self.share_info(&s.value, &show))
            .collect()
    }

    /// S6: changes the recipient and/or sections; the link stays the same. A new recipient is
    /// sent the link (while the share may mail, N1).
    pub async fn change_share(
        &self,
        actor: &StaffId,
        org: &OrgId,
        id: ShareId,
        change: &ShareChange,
    ) -> Result<ShareInfo, ShareError> {
        let (share, show) = retry_on_conflict!(self.try_change(actor, org, id, change).await)?;
        self.share_info(&share, &show)
    }

    async fn try_change(
        &self,
        actor: &StaffId,
        org_id: &OrgId,
        id: ShareId,
        change: &ShareChange,
    ) -> Result<(Share, Presentation), ShareError> {
        let now = self.now();
        let recipient = change.recipient.as_deref().map(Email::parse).transpose()?;
        let mut tx = self.ports.store.begin().await?;
        let org = tx.org(org_id).await?.ok_or(ShareError::UnknownOrg)?;
        permissions::sharer(tx.staff(org_id, actor).await?.as_ref())?;
        let stored = owned_share(tx.as_mut(), org_id, id).await?;
        if !stored.value.is_active() {
            return Err(ShareError::Revoked);
        }
        let mut share = stored.value.clone();
        let by = Actor::Staff(actor.clone());
        if let Some(to) = recipient.filter(|to| *to != share.recipient) {
            let from = std::mem::replace(&mut share.recipient, to.clone());
            if notify::may_mail(&share, &org, now) {
                let kind = NotificationKind::LinkShared {
                    reason: crate::model::LinkReason::NewRecipient,
                };
                self.queue(tx.as_mut(), &org, &share, &share.record, kind, now)
                    .await?;
            }
            let action = AuditAction::RecipientChanged { from, to };
            self.audit(tx.as_mut(), &share, by.clone(), action, now)
                .await?;
        }
        if let Some(to) = change.sections.filter(|s| *s != share.sections) {
            let from = std::mem::replace(&mut share.sections, to);
            let action = AuditAction::SectionsChanged { from, to };
            self.audit(tx.as_mut(), &share, by, action, now).await?;
        }
        if share != stored.value {
            tx.update_share(&share, stored.version).await?;
            self.commit_and_publish(tx, org_id, Some(&share.record))
                .await?;
        }
        Ok((share, Presentation::of(&org)))
    }

    /// S5: revokes a share; its link stops on the very next request. Revoking a revoked share
    /// changes nothing.
    pub async fn revoke_share(
        &self,
        actor: &StaffId,
        org: &OrgId,
        id: ShareId,
    ) -> Result<ShareInfo, ShareError> {
        let (share, show) = retry_on_conflict!(self.try_revoke(actor, org, id).await)?;
        self.share_info(&share, &show)
    }

    async fn try_revoke(
        &self,
        actor: &StaffId,
        org_id: &OrgId,
        id: ShareId,
    ) -> Result<(Share, Presentation), ShareError> {
        let now = self.now();
        let mut tx = self.ports.store.begin().await?;
        let show = Presentation::of(&tx.org(org_id).await?.ok_or(ShareError::UnknownOrg)?);
        permissions::sharer(tx.staff(org_id, actor).await?.as_ref())?;
        let stored = owned_share(tx.as_mut(), org_id, id).await?;
        if !stored.value.is_active() {
            return Ok((stored.value, show));
        }
        let share = self
            .end_share(tx.as_mut(), &stored, actor, AuditAction::ShareRevoked, now)
            .await?;
        self.commit_and_publish(tx, org_id, Some(&share.record))
            .await?;
        Ok((share, show))
    }

    /// Ends `stored` on behalf of `actor` (S5: its link never opens again) and audits why.
    pub(super) async fn end_share(
        &self,
        tx: &mut dyn UnitOfWork,
        stored: &Versioned<Share>,
        actor: &StaffId,
        why: AuditAction,
        now: OffsetDateTime,
    ) -> Result<Share, crate::ports::StoreError> {
        let mut share = stored.value.clone();
        share.state = ShareState::Revoked {
            at: now,
            by: actor.clone(),
        };
        tx.update_share(&share, stored.version).await?;
        self.audit(tx, &share, Actor::Staff(actor.clone()), why, now)
            .await?;
        Ok(share)
    }

    /// S12: the audit log of a record, oldest first. For staff only. `RecordNotFound` for a
    /// record the org does not have (another org's looks the same).
    pub async fn audit_log(
        &self,
        org: &OrgId,
        record: &RecordRef,
    ) -> Result<Vec<AuditEntry>, ShareError> {
        let mut tx = self.ports.store.begin_read().await?;
        tx.org(org).await?.ok_or(ShareError::UnknownOrg)?;
        tx.record(org, record)
            .await?
            .ok_or(ShareError::RecordNotFound)?;
        Ok(tx.audit_of_record(org, record).await?)
    }

    pub(super) async fn audit(
        &self,
        tx: &mut dyn UnitOfWork,
        share: &Share,
        actor: Actor,
        action: AuditAction,
        at: OffsetDateTime,
    ) -> Result<(), crate::ports::StoreError> {
        tx.append_audit(&AuditEntry {
            id: AuditId(self.ports.random.uuid()),
            org_id: share.org_id.clone(),
            record: share.record.clone(),
            share_id: Some(share.id),
            actor,
            action,
            at,
        })
        .await
    }
}

/// Whether enabling found the active share or minted a new one.
enum ShareOutcome {
    Existing(Share),
    Minted(Share),
}

async fn owned_share(
    tx: &mut dyn UnitOfWork,
    org: &OrgId,
    id: ShareId,
) -> Result<Versioned<Share>, ShareError> {
    tx.share(id)
        .await?
        .filter(|s| &s.value.org_id == org)
        .ok_or(ShareError::ShareNotFound)
}
