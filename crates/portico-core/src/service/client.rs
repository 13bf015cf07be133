//! What clients do behind a link: open it (S5, S7, S8, S11, V1–V6) and decide on a quote (V5).

use super::{ClientError, HelpRefused, Portico, retry_on_conflict};
use time::OffsetDateTime;

use crate::locale::Presentation;
use crate::model::{
    Actor, AuditAction, FeedEventKind, FileId, Invoice, NotificationKind, Org, OrgId, Record,
    RecordKind, RecordRef, Share, ShareId, Staff, Versioned,
};
use crate::policy::access::{self, Access};
use crate::policy::project::{Projection, company_card, project};
use crate::policy::quote::{self, ClientDecision};
use crate::ports::{Blob, StoreError, UnitOfWork};
use crate::token::{ShareToken, TokenHash};
use crate::view::{ClientView, CompanyCard};

/// What opening a link gets.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Opened {
    /// The client view.
    View {
        /// The share opened (for files and live status behind the same token).
        share: ShareId,
        /// The org the share belongs to.
        org: OrgId,
        /// The record the share opens (live status listens for its changes).
        record: RecordRef,
        /// When the link stops opening (S7), if an expiry is set; a cached page must not
        /// outlive it.
        expires_at: Option<OffsetDateTime>,
        /// What the client sees.
        view: Box<ClientView>,
    },
    /// Unknown or revoked: one answer for both (S5).
    NotFound,
    /// Expired (S7): "no longer active", with the company's contact.
    Expired(CompanyCard),
    /// Sharing is off for the org (S8): "not available".
    Unavailable(CompanyCard),
}

/// A client's "Get help" message (V2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelpRequest {
    /// Their name.
    pub name: String,
    /// A phone number to call back on.
    pub phone: Option<String>,
    /// What they need.
    pub message: String,
}

impl HelpRequest {
    /// The request trimmed and checked: a name (up to 200 characters), a message (up to 5,000),
    /// and a phone number of digits, spaces and `+ ( ) - .` (up to 40), if any.
    pub(super) fn checked(&self) -> Result<Self, ClientError> {
        let name = self.name.trim();
        let message = self.message.trim();
        let phone = self
            .phone
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty());
        if name.is_empty() || name.chars().count() > 200 {
            return Err(HelpRefused::Name.into());
        }
        if message.is_empty() || message.chars().count() > 5000 {
            return Err(HelpRefused::Message.into());
        }
        if phone.is_some_and(|p| {
            p.len() > 40
                || !p
                    .chars()
                    .all(|c| c.is_ascii_digit() || " +()-.".contains(c))
        }) {
            return Err(HelpRefused::Phone.into());
        }
        let clean = |s: &str| {
            s.chars()
                .filter(|c| !c.is_control() || *c == '\n')
                .collect()
        };
        Ok(Self {
            name: clean(name),
            phone: phone.map(str::to_owned),
            message: clean(message),
        })
    }
}

/// A link that opens, with what it opens.
pub(super) struct Resolved {
    pub(super) share: Share,
    pub(super) org: Org,
    pub(super) record: Versioned<Record>,
}

impl Portico {
    /// Resolves a presented token to its share and org, checking the token was minted for it,
    /// and opens a unit of work for what follows (`write`: one that may write).
    async fn resolve(
        &self,
        raw_token: &str,
        write: bool,
    ) -> Result<Result<(Share, Org, Box<dyn UnitOfWork>), Opened>, StoreError> {
        let share = match self.share_of_token(raw_token).await? {
            Ok(share) => share,
            Err(answer) => return Ok(Err(answer)),
        };
        let mut tx = if write {
            self.ports.store.begin().await?
        } else {
            self.ports.store.begin_read().await?
        };
        let Some(org) = tx.org(&share.org_id).await? else {
            return Ok(Err(Opened::NotFound));
        };
        Ok(self.admit(&share, &org).map(|()| (share, org, tx)))
    }

    /// Whether `share` of `org` opens now (S5, S7, S8), or the answer instead.
    fn admit(&self, share: &Share, org: &Org) -> Result<(), Opened> {
        match access::access(Some(share), org, self.now()) {
            Access::Granted => Ok(()),
            Access::NotFound => Err(Opened::NotFound),
            Access::Expired => Err(Opened::Expired(company_card(org))),
            Access::Unavailable => Err(Opened::Unavailable(company_card(org))),
        }
    }

    /// The share a presented token was minted for, or the answer for a dead link: one point
    /// look-up, and the key derivation only for a share that may still open.
    async fn share_of_token(&self, raw_token: &str) -> Result<Result<Share, Opened>, StoreError> {
        let Some(token) = ShareToken::parse(raw_token) else {
            return Ok(Err(Opened::NotFound));
        };
        let hash = token.hash();
        let found = self.ports.store.share_by_token_hash(&hash).await?;
        Ok(self.may_open(found, &hash))
    }

    /// The share found for a token's `hash`, if it may still open: not revoked (unless closed
    /// only after it had expired, S7), and minted under this server's key.
    fn may_open(&self, found: Option<Share>, hash: &TokenHash) -> Result<Share, Opened> {
        let Some(share) = found else {
            return Err(Opened::NotFound);
        };
        // S5, S10: a revoked link fails exactly as an unknown one does, with no more work (no
        // key derivation, no transaction, no org read), so neither the answer nor its cost
        // tells that the link once existed.
        if !share.is_active() && !share.closed_after_expiry() {
            return Err(Opened::NotFound);
        }
        // A row that matches the hash but not the server key (forged in the database, or minted
        // under a key since removed) does not open.
        let genuine = self
            .keys
            .derive(share.key_id, &share.nonce)
            .is_ok_and(|t| t.hash() == *hash);
        if !genuine {
            return Err(Opened::NotFound);
        }
        Ok(share)
    }

    pub(super) async fn resolve_record(
        &self,
        raw_token: &str,
        write: bool,
    ) -> Result<Result<(Resolved, Box<dyn UnitOfWork>), Opened>, StoreError> {
        let (share, org, mut tx) = match self.resolve(raw_token, write).await? {
            Ok(found) => found,
            Err(answer) => return Ok(Err(answer)),
        };
        match tx.record(&share.org_id, &share.record).await? {
            Some(record) => Ok(Ok((Resolved { share, org, record }, tx))),
            None => Ok(Err(Opened::NotFound)),
        }
    }

    async fn view_of(
        &self,
        tx: &mut dyn UnitOfWork,
        found: &Resolved,
    ) -> Result<ClientView, StoreError> {
        self.project_record(tx, &found.org, &found.record.value, found.share.sections)
            .await
    }

    /// The client view of `record` with `sections` shown, reading what it names (client,
    /// technician and update authors, a work order's invoices) through `tx`: the one way both
    /// share pages and the portal build a view (V1–V6).
    pub(super) async fn project_record(
        &self,
        tx: &mut dyn UnitOfWork,
        org: &Org,
        record: &Record,
        sections: crate::model::Sections,
    ) -> Result<ClientView, StoreError> {
        let org_id = &org.id;
        let client = match record.client_id() {
            Some(id) => tx.client(org_id, id).await?,
            None => None,
        };
        let mut staff: Vec<Staff> = Vec::new();
        let mut invoices: Vec<Invoice> = Vec::new();
        if let Record::WorkOrder(wo) = record {
            for id in record.staff_shown() {
                staff.extend(tx.staff(org_id, &id).await?);
            }
            invoices = tx.invoices_of_work_order(org_id, &wo.id).await?;
        }
        Ok(project(&Projection {
            org,
            record,
            client: client.as_ref(),
            staff: &staff,
            invoices: &invoices,
            sections,
            now: self.now(),
        }))
    }

    /// Opens a link: the client view, or the one answer for a dead link. Records the opening
    /// (S11); opening never mails anyone.
    pub async fn open_link(&self, raw_token: &str) -> Result<Opened, ClientError> {
        let opened = self.view_link(raw_token).await?;
        if let Opened::View { share, .. } = &opened {
            self.record_opened(*share, self.now()).await?;
        }
        Ok(opened)
    }

    /// What opening a link shows, without recording the opening: for callers that record
    /// openings themselves ([`Portico::record_opened`]), coalescing them under load.
    ///
    /// The path of every uncached page, so it reads as little as it can: the share by its
    /// token's hash with, when it is active, its page in the same read
    /// ([`Store::page_by_token_hash`]: org, record, client, invoices and the staff the record
    /// mentions); no transaction. Only a page that comes without its staff costs a read more.
    ///
    /// [`Store::page_by_token_hash`]: crate::ports::Store::page_by_token_hash
    pub async fn view_link(&self, raw_token: &str) -> Result<Opened, ClientError> {
        let Some(token) = ShareToken::parse(raw_token) else {
            return Ok(Opened::NotFound);
        };
        let hash = token.hash();
        let store = &self.ports.store;
        let (found, page) = match store.page_by_token_hash(&hash).await? {
            Some((share, page)) => (Some(share), page),
            None => (None, None),
        };
        let share = match self.may_open(found, &hash) {
            Ok(share) => share,
            Err(answer) => return Ok(answer),
        };
        let page = match page {
            Some(page) => Some(page),
            // Closed after it expired: its page says so, with the org's contact.
            None if !share.is_active() => store.record_page(&share.org_id, &share.record).await?,
            None => None,
        };
        let Some(page) = page else {
            return Ok(Opened::NotFound);
        };
        if let Err(answer) = self.admit(&share, &page.org) {
            return Ok(answer);
        }
        let named = page.record.value.staff_shown();
        let staff = match page.staff {
            Some(staff) => staff,
            None if named.is_empty() => Vec::new(),
            None => store.staff_among(&share.org_id, &named).await?,
        };
        let view = project(&Projection {
            org: &page.org,
            record: &page.record.value,
            client: page.client.as_ref(),
            staff: &staff,
            invoices: &page.invoices,
            sections: share.sections,
            now: self.now(),
        });
        Ok(Opened::View {
            share: share.id,
            org: share.org_id,
            record: share.record,
            expires_at: share.expires_at,
            view: Box::new(view),
        })
    }

    /// S11: records that `share` was opened at `at` (first time kept, last time moved on). The
    /// first opening is claimed in a unit of work with its `link.first_opened` event (I4), so
    /// the event exists exactly when the first opening was written, once.
    pub async fn record_opened(
        &self,
        share: ShareId,
        at: OffsetDateTime,
    ) -> Result<(), ClientError> {
        if self.ports.store.record_opened(share, at).await? {
            retry_on_conflict!(self.try_first_opening(share, at).await)?;
        }
        Ok(())
    }

    async fn try_first_opening(
        &self,
        share: ShareId,
        at: OffsetDateTime,
    ) -> Result<(), ClientError> {
        let mut tx = self.ports.store.begin().await?;
        let Some(share) = tx.claim_first_opening(share, at).await? else {
            return Ok(());
        };
        let client = tx
            .record(&share.org_id, &share.record)
            .await?
            .and_then(|r| r.value.client_id().cloned());
        let kind = FeedEventKind::LinkFirstOpened {
            share: share.id,
            record: share.record.clone(),
        };
        self.log_event(tx.as_mut(), &share.org_id, client.as_ref(), kind, at)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The bytes of a file behind a link, only while the link opens and the client view shows
    /// the file (a shared photo or file, the technician's photo, the signature, the logo).
    /// `None` for every other case, alike.
    pub async fn file_of_link(
        &self,
        raw_token: &str,
        file: &FileId,
    ) -> Result<Option<Blob>, ClientError> {
        let Opened::View { view, org, .. } = self.view_link(raw_token).await? else {
            return Ok(None);
        };
        if !view.shows_file(file) {
            return Ok(None);
        }
        self.bytes(&org, file).await.map_err(ClientError::Backend)
    }

    /// V2: the client's "Get help" message, mailed to the business through the outbox.
    pub async fn ask_for_help(
        &self,
        raw_token: &str,
        request: &HelpRequest,
    ) -> Result<(), ClientError> {
        let request = request.checked()?;
        let now = self.now();
        let Ok((found, mut tx)) = self.resolve_record(raw_token, true).await? else {
            return Err(ClientError::LinkInactive);
        };
        if found.org.contact.email.is_none() {
            return Err(ClientError::NoBusinessEmail);
        }
        let kind = NotificationKind::HelpRequested {
            name: request.name,
            phone: request.phone,
            message: request.message,
        };
        let reference = found.share.record.clone();
        self.queue(tx.as_mut(), &found.org, &found.share, &reference, kind, now)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// V5: the client's decision on the quote behind a link. It locks the quote, is audited,
    /// and notifies the business.
    pub async fn decide_quote(
        &self,
        raw_token: &str,
        choice: &ClientDecision,
    ) -> Result<ClientView, ClientError> {
        retry_on_conflict!(self.try_decide(raw_token, choice).await)
    }

    async fn try_decide(
        &self,
        raw_token: &str,
        choice: &ClientDecision,
    ) -> Result<ClientView, ClientError> {
        let now = self.now();
        let Ok((mut found, mut tx)) = self.resolve_record(raw_token, true).await? else {
            return Err(ClientError::LinkInactive);
        };
        if found.share.record.kind != RecordKind::Quote {
            return Err(ClientError::NotAQuote);
        }
        let Record::Quote(q) = &mut found.record.value else {
            return Err(ClientError::NotAQuote);
        };
        let (kind, action, event) = decide(q, choice, &found.org, now)?;
        tx.put_record(&found.record.value, Some(found.record.version))
            .await?;
        let reference = found.share.record.clone();
        self.log_event(
            tx.as_mut(),
            &found.org.id,
            found.record.value.client_id(),
            event,
            now,
        )
        .await?;
        self.queue(tx.as_mut(), &found.org, &found.share, &reference, kind, now)
            .await?;
        self.audit(tx.as_mut(), &found.share, Actor::Client, action, now)
            .await?;
        let view = self.view_of(tx.as_mut(), &found).await?;
        self.commit_and_publish(tx, &found.share.org_id, Some(&found.share.record))
            .await?;
        Ok(view)
    }
}

/// V5: `choice` on `q` against the org's date; on success the quote holds the decision (locked),
/// and the business's notice, the audit action and the host's event are returned — the one rule
/// of the share page and the portal alike.
pub(super) fn decide(
    q: &mut crate::model::Quote,
    choice: &ClientDecision,
    org: &Org,
    now: OffsetDateTime,
) -> Result<(NotificationKind, AuditAction, FeedEventKind), quote::DecisionDenied> {
    let today = Presentation::of(org).today(now);
    let decision = quote::decide(q, choice.clone(), now, today)?;
    let kind = NotificationKind::QuoteDecided {
        decision: decision.kind,
        message: decision.message.clone(),
    };
    let action = AuditAction::QuoteDecided {
        decision: decision.kind,
    };
    let event = FeedEventKind::QuoteDecided {
        quote: q.id.clone(),
        decision: decision.kind,
    };
    q.decision = Some(decision);
    Ok((kind, action, event))
}
