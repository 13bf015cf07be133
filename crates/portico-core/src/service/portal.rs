//! The client portal (C1–C6, C8): staff invite clients and switch their login; clients ask for
//! a sign-in link or code, sign in with it or a password, and — signed in — see their own
//! records and decide on their quotes. Every decision is [`crate::policy::portal`]'s; sessions
//! and grants live in the store, so a restart or another instance keeps everyone signed in.

use time::{Duration, OffsetDateTime};

use super::{HelpRequest, PortalError, Portico, retry_on_conflict};
use crate::locale::Presentation;
use crate::model::RecordSummary;
use crate::model::{
    Actor, AuditEntry, AuditId, Client, ClientId, Delivery, Email, FileId, GrantEnd, GrantPurpose,
    Money, Notification, NotificationId, NotificationKind, Org, OrgId, PortalAccount,
    PortalSection, PortalSession, Record, RecordKind, RecordRef, Sections, SignInGrant, Versioned,
};
use crate::policy::permissions;
use crate::policy::portal::{
    self as rules, GrantState, SessionState, Standing, may_sign_in, sort_for_client,
};
use crate::policy::project::company_card;
use crate::policy::quote::ClientDecision;
use crate::ports::{Blob, StoreError, UnitOfWork};
use crate::token::{SessionId, ShareToken, code_matches};
use crate::view::{ClientView, CompanyCard};

/// What the portal's sign-in page shows before anyone signs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalEntry {
    /// The business.
    pub company: CompanyCard,
    /// Whether the portal is on (C8); off, the page says so and offers the business's contact.
    pub enabled: bool,
}

/// What a presented sign-in link is worth, without using it (mail scanners open links).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum GrantLook {
    /// It can still sign in, once.
    Usable {
        /// What it is for (a reset asks for a new password).
        purpose: GrantPurpose,
        /// The business.
        company: CompanyCard,
    },
    /// It expired, was used, or was replaced: the page offers to send a new one.
    Spent {
        /// The business.
        company: CompanyCard,
    },
    /// It is no link of this org's portal.
    NotFound,
}

/// A session just started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    /// The id for the client's cookie; the store keeps only its hash.
    pub session: SessionId,
    /// The client signed in.
    pub client: ClientId,
    /// What the grant was for, when a link or code signed them in (an invitation offers to set
    /// a password next).
    pub purpose: Option<GrantPurpose>,
}

/// One record in the client's lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalItem {
    /// Which record.
    pub reference: RecordRef,
    /// Its title.
    pub title: String,
    /// A quote's or invoice's printed number.
    pub number: Option<String>,
    /// The status label (as on the record's page).
    pub status: String,
    /// Open, settled or void.
    pub standing: Standing,
    /// An invoice's or quote's total.
    pub total: Option<Money>,
    /// What an invoice still asks for.
    pub amount_due: Option<Money>,
    /// The date the list shows: due date, valid-until, or planned start.
    pub date: Option<time::Date>,
}

/// One list of the portal, a page of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalList {
    /// The items of the page asked for.
    pub items: Vec<PortalItem>,
    /// How many there are in all.
    pub total: usize,
}

/// A signed-in client's home: the welcome, then their invoices (always), estimates and jobs
/// (when the org shows them).
#[derive(Debug, Clone, PartialEq, Eq)]
// Reason: each flag says whether one link of the home page shows; an enum would not read better.
#[allow(clippy::struct_excessive_bools)]
pub struct PortalHome {
    /// The business.
    pub company: CompanyCard,
    /// How dates and money are written (the org's zone and locale).
    pub presentation: Presentation,
    /// The client's name.
    pub client_name: String,
    /// The org's welcome message.
    pub welcome: Option<String>,
    /// Whether the client has a password (else the page offers to set one).
    pub has_password: bool,
    /// How many of the business's messages are unread, when the org shows messages.
    pub unread_messages: Option<usize>,
    /// How many contracts wait for the client's signature, when the org shows contracts.
    pub contracts_to_sign: Option<usize>,
    /// Whether the org shows agreements.
    pub agreements: bool,
    /// Whether the org shows appointments.
    pub appointments: bool,
    /// Whether the org shows the service-request form.
    pub service_requests: bool,
    /// Invoices, always shown.
    pub invoices: PortalList,
    /// Estimates, when shown.
    pub estimates: Option<PortalList>,
    /// Jobs, when shown.
    pub jobs: Option<PortalList>,
}

/// A page of a list: `page` counts from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    /// Which page.
    pub page: usize,
    /// Items per page.
    pub per_page: usize,
}

impl Default for Paging {
    fn default() -> Self {
        Self {
            page: 1,
            per_page: 50,
        }
    }
}

/// A validated session, with what it belongs to.
pub(super) struct Signed {
    pub(super) session: PortalSession,
    pub(super) org: Org,
    pub(super) client: Client,
    pub(super) account: PortalAccount,
}

impl Portico {
    // ----- host side (C2) -----

    /// C2: invites `client` to the portal on behalf of `actor` (a role that may share): the
    /// account is made (or enabled again), and an email with the portal's address and a sign-in
    /// link that also offers to set a password is queued.
    pub async fn invite_to_portal(
        &self,
        org: &OrgId,
        actor: &crate::model::StaffId,
        client: &ClientId,
    ) -> Result<PortalAccount, PortalError> {
        let now = self.now();
        let mut tx = self.ports.store.begin().await?;
        let org = tx.org(org).await?.ok_or(PortalError::UnknownOrg)?;
        permissions::sharer(tx.staff(&org.id, actor).await?.as_ref())?;
        if !org.plan.includes_sharing() {
            return Err(PortalError::PlanLacksPortal);
        }
        if !org.settings.portal.enabled {
            return Err(PortalError::PortalOff);
        }
        let client = tx
            .client(&org.id, client)
            .await?
            .ok_or(PortalError::NotFound)?;
        let email = client.email.clone().ok_or(PortalError::NoEmail)?;
        let mut account = tx
            .portal_account(&org.id, &client.id)
            .await?
            .unwrap_or_else(|| PortalAccount::new(org.id.clone(), client.id.clone()));
        account.invited_at = Some(now);
        account.enabled = true;
        tx.put_portal_account(&account).await?;
        let grant = self
            .mint_grant(tx.as_mut(), &org, &client.id, GrantPurpose::Invite, now)
            .await?;
        let kind = NotificationKind::PortalInvite {
            client: client.id.clone(),
            grant: grant.id,
        };
        self.mail_now(tx.as_mut(), &org.id, None, email, kind, now)
            .await?;
        tx.commit().await?;
        Ok(account)
    }

    /// C2: switches `client`'s portal login on or off on behalf of `actor`. Off ends every
    /// session of the client in the same unit of work.
    pub async fn set_portal_login(
        &self,
        org: &OrgId,
        actor: &crate::model::StaffId,
        client: &ClientId,
        enabled: bool,
    ) -> Result<PortalAccount, PortalError> {
        let now = self.now();
        let mut tx = self.ports.store.begin().await?;
        let org = tx.org(org).await?.ok_or(PortalError::UnknownOrg)?;
        permissions::sharer(tx.staff(&org.id, actor).await?.as_ref())?;
        tx.client(&org.id, client)
            .await?
            .ok_or(PortalError::NotFound)?;
        let mut account = tx
            .portal_account(&org.id, client)
            .await?
            .unwrap_or_else(|| PortalAccount::new(org.id.clone(), client.clone()));
        account.enabled = enabled;
        tx.put_portal_account(&account).await?;
        if !enabled {
            tx.end_sessions(&org.id, Some(client), None, now).await?;
        }
        tx.commit().await?;
        Ok(account)
    }

    /// The client's portal account as the host sees it (`None`: never invited nor switched).
    pub async fn portal_account(
        &self,
        org: &OrgId,
        client: &ClientId,
    ) -> Result<Option<PortalAccount>, PortalError> {
        let mut tx = self.ports.store.begin_read().await?;
        tx.org(org).await?.ok_or(PortalError::UnknownOrg)?;
        tx.client(org, client).await?.ok_or(PortalError::NotFound)?;
        Ok(tx.portal_account(org, client).await?)
    }

    // ----- signing in (C3, C4) -----

    /// The sign-in page's business card and whether the portal is on; `None` for an unknown org.
    pub async fn portal_entry(&self, org: &OrgId) -> Result<Option<PortalEntry>, PortalError> {
        let mut tx = self.ports.store.begin_read().await?;
        Ok(tx.org(org).await?.map(|org| PortalEntry {
            company: company_card(&org),
            enabled: org.settings.portal.enabled,
        }))
    }

    /// The org's logo for the portal's pages (shown before sign-in, as on printed invoices).
    pub async fn portal_logo(&self, org: &OrgId) -> Result<Option<Blob>, PortalError> {
        let mut tx = self.ports.store.begin_read().await?;
        let Some(logo) = tx.org(org).await?.and_then(|o| o.logo) else {
            return Ok(None);
        };
        drop(tx);
        self.bytes(org, &logo).await.map_err(PortalError::Backend)
    }

    /// C3, C4: someone asks for a sign-in link (`SignIn`) or a password reset (`Reset`) for
    /// `email`. When a client of the org may sign in with it and was sent fewer than the
    /// hourly limit, a grant is made and its email queued, due at once. The answer is the same
    /// in every case, so it tells nobody whether the address is known.
    pub async fn request_sign_in(
        &self,
        org: &OrgId,
        email: &str,
        purpose: GrantPurpose,
    ) -> Result<(), PortalError> {
        let purpose = match purpose {
            GrantPurpose::Reset => GrantPurpose::Reset,
            GrantPurpose::SignIn | GrantPurpose::Invite => GrantPurpose::SignIn,
        };
        let now = self.now();
        let mut tx = self.ports.store.begin().await?;
        let Some((org, client, _)) = self.signer(tx.as_mut(), org, email).await? else {
            return Ok(());
        };
        let sent = tx
            .grants_of_client(&org.id, &client.id, now - Duration::hours(1))
            .await?
            .iter()
            .filter(|g| g.purpose != GrantPurpose::Invite)
            .count();
        if !rules::may_mail(sent, &self.config.portal) {
            return Ok(());
        }
        let Some(to) = client.email.clone() else {
            return Ok(());
        };
        let grant = self
            .mint_grant(tx.as_mut(), &org, &client.id, purpose, now)
            .await?;
        let kind = match purpose {
            GrantPurpose::Reset => NotificationKind::PasswordReset {
                client: client.id.clone(),
                grant: grant.id,
            },
            _ => NotificationKind::PortalSignIn {
                client: client.id.clone(),
                grant: grant.id,
            },
        };
        self.mail_now(tx.as_mut(), &org.id, None, to, kind, now)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// What the link with `token` is worth, changing nothing: mail scanners open every link,
    /// so only [`Portico::use_grant`], posted from the page, signs in.
    pub async fn peek_grant(&self, org: &OrgId, token: &str) -> Result<GrantLook, PortalError> {
        let mut tx = self.ports.store.begin_read().await?;
        let Some(org) = tx.org(org).await? else {
            return Ok(GrantLook::NotFound);
        };
        let Some(grant) = self.grant_of_token(tx.as_mut(), &org, token).await? else {
            return Ok(GrantLook::NotFound);
        };
        let company = company_card(&org);
        Ok(match rules::grant_state(&grant, self.now()) {
            GrantState::Usable if org.settings.portal.enabled => GrantLook::Usable {
                purpose: grant.purpose,
                company,
            },
            _ => GrantLook::Spent { company },
        })
    }

    /// C3, C4: uses the link's grant, once: starts a session. A reset link needs
    /// `new_password`, which becomes the client's password, ends every other session and mails
    /// a notice; other links ignore one.
    pub async fn use_grant(
        &self,
        org: &OrgId,
        token: &str,
        new_password: Option<&str>,
    ) -> Result<SignedIn, PortalError> {
        let hashed = match new_password {
            Some(password) => Some(self.hash_new_password(password, None).await?),
            None => None,
        };
        retry_on_conflict!(self.try_use_grant(org, token, hashed.clone()).await)
    }

    async fn try_use_grant(
        &self,
        org: &OrgId,
        token: &str,
        new_password: Option<crate::model::PasswordHash>,
    ) -> Result<SignedIn, PortalError> {
        let now = self.now();
        let mut tx = self.ports.store.begin().await?;
        let org = tx.org(org).await?.ok_or(PortalError::LinkSpent)?;
        let grant = self
            .grant_of_token(tx.as_mut(), &org, token)
            .await?
            .ok_or(PortalError::LinkSpent)?;
        if rules::grant_state(&grant, now) != GrantState::Usable {
            return Err(PortalError::LinkSpent);
        }
        if grant.purpose == GrantPurpose::Reset && new_password.is_none() {
            return Err(PortalError::PasswordNeeded);
        }
        // Only a reset link sets a password; a sign-in or invitation link posted with one just
        // signs in (a password is then set, with the notice, from the password page).
        let new_password = new_password.filter(|_| grant.purpose == GrantPurpose::Reset);
        let signed = self
            .start_session(tx.as_mut(), &org, grant, new_password, now)
            .await?;
        tx.commit().await?;
        Ok(signed)
    }

    /// C3: signs in with the code mailed beside the link (for another device), once. Wrong
    /// codes wear the grant out after the configured number of tries.
    pub async fn sign_in_with_code(
        &self,
        org: &OrgId,
        email: &str,
        code: &str,
    ) -> Result<SignedIn, PortalError> {
        let now = self.now();
        let mut tx = self.ports.store.begin().await?;
        let Some((org, client, _)) = self.signer(tx.as_mut(), org, email).await? else {
            return Err(PortalError::Refused);
        };
        let since = now - self.config.portal.invite_ttl;
        let grants = tx.grants_of_client(&org.id, &client.id, since).await?;
        let Some(mut grant) = grants.into_iter().find(|g| {
            g.purpose != GrantPurpose::Reset && rules::grant_state(g, now) == GrantState::Usable
        }) else {
            return Err(PortalError::Refused);
        };
        let expected = self.keys.sign_in_code(grant.key_id, &grant.nonce)?;
        if code_matches(&expected, code) {
            let signed = self
                .start_session(tx.as_mut(), &org, grant, None, now)
                .await?;
            tx.commit().await?;
            return Ok(signed);
        }
        grant.code_failures = grant.code_failures.saturating_add(1);
        if grant.code_failures >= self.config.portal.code_attempts {
            grant.ended = Some((now, GrantEnd::TooManyCodes));
        }
        tx.put_grant(&grant).await?;
        tx.commit().await?;
        Err(PortalError::Refused)
    }

    /// C4: signs in with email and password. Wrong passwords slow the account down (growing
    /// waits, never a lock-out). A try during a wait is refused unchecked, and answers — in
    /// kind and in hashing work — like a wrong password or an unknown email (C3: no answer
    /// tells that an address has an account).
    pub async fn sign_in_with_password(
        &self,
        org: &OrgId,
        email: &str,
        password: &str,
    ) -> Result<SignedIn, PortalError> {
        let passwords = self
            .passwords
            .clone()
            .ok_or(PortalError::PasswordsUnavailable)?;
        let now = self.now();
        let mut tx = self.ports.store.begin_read().await?;
        let found = self.signer(tx.as_mut(), org, email).await?;
        drop(tx);
        let checkable = found.filter(|(_, _, a)| {
            a.password_hash.is_some() && rules::password_wait(a, now, &self.config.portal).is_none()
        });
        let Some((org, client, account)) = checkable else {
            // The same work as a real check, so timing tells nothing either.
            passwords
                .hash(password)
                .await
                .map_err(PortalError::Backend)?;
            return Err(PortalError::Refused);
        };
        let Some(hash) = &account.password_hash else {
            return Err(PortalError::Refused);
        };
        let right = passwords
            .verify(password, hash)
            .await
            .map_err(PortalError::Backend)?;
        let mut tx = self.ports.store.begin().await?;
        let mut account = tx
            .portal_account(&org.id, &client.id)
            .await?
            .ok_or(PortalError::Refused)?;
        if !right {
            account.failed_passwords = account.failed_passwords.saturating_add(1);
            account.last_failed_at = Some(now);
            tx.put_portal_account(&account).await?;
            tx.commit().await?;
            return Err(PortalError::Refused);
        }
        let signed = self
            .open_session(tx.as_mut(), &org, &client.id, account, None, now)
            .await?;
        tx.commit().await?;
        Ok(signed)
    }

    /// C5: ends the session on the server (the page also drops the cookie).
    pub async fn sign_out(&self, org: &OrgId, session: &str) -> Result<(), PortalError> {
        let Some(id) = SessionId::parse(session) else {
            return Ok(());
        };
        let mut tx = self.ports.store.begin().await?;
        if let Some(mut stored) = tx.portal_session(&id.hash()).await?
            && &stored.org_id == org
            && stored.ended_at.is_none()
        {
            stored.ended_at = Some(self.now());
            tx.put_session(&stored).await?;
            tx.commit().await?;
        }
        Ok(())
    }

    /// C4: a signed-in client sets a password (first time: no current one needed) or changes
    /// it (the current one must be given). Every other session ends, and a notice is mailed.
    pub async fn set_portal_password(
        &self,
        org: &OrgId,
        session: &str,
        current: Option<&str>,
        new_password: &str,
    ) -> Result<(), PortalError> {
        let signed = self.signed(org, session).await?;
        if let Some(hash) = &signed.account.password_hash {
            let passwords = self
                .passwords
                .clone()
                .ok_or(PortalError::PasswordsUnavailable)?;
            let right = match current {
                Some(current) => passwords
                    .verify(current, hash)
                    .await
                    .map_err(PortalError::Backend)?,
                None => false,
            };
            if !right {
                return Err(PortalError::Refused);
            }
        }
        let hashed = self
            .hash_new_password(new_password, signed.client.email.as_ref())
            .await?;
        let now = self.now();
        let mut tx = self.ports.store.begin().await?;
        let mut account = tx
            .portal_account(&signed.org.id, &signed.client.id)
            .await?
            .ok_or(PortalError::NotSignedIn)?;
        account.password_hash = Some(hashed);
        account.password_changed_at = Some(now);
        account.failed_passwords = 0;
        account.last_failed_at = None;
        tx.put_portal_account(&account).await?;
        tx.end_sessions(
            &signed.org.id,
            Some(&signed.client.id),
            Some(&signed.session.hash),
            now,
        )
        .await?;
        if let Some(to) = signed.client.email.clone() {
            let kind = NotificationKind::PasswordChanged {
                client: signed.client.id.clone(),
            };
            self.mail_now(tx.as_mut(), &signed.org.id, None, to, kind, now)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    // ----- the signed-in portal (C1, C5, C6) -----

    /// The client's home: welcome, invoices, and the estimates and jobs the org shows, each
    /// sorted open first and newest first, `paging` applied to each list.
    pub async fn portal_home(
        &self,
        org: &OrgId,
        session: &str,
        paging: Paging,
    ) -> Result<PortalHome, PortalError> {
        let signed = self.signed(org, session).await?;
        let mut tx = self.ports.store.begin_read().await?;
        let mut records = tx
            .record_summaries_of_client(&signed.org.id, &signed.client.id)
            .await?;
        let unread_messages = self.unread_of(tx.as_mut(), &signed).await?;
        let contracts_to_sign = self.contracts_to_sign(tx.as_mut(), &signed).await?;
        drop(tx);
        let settings = &signed.org.settings.portal;
        records.retain(|r| rules::shown(r, &signed.client.id, settings));
        sort_for_client(&mut records);
        let list = |kind: RecordKind| {
            let of_kind: Vec<&RecordSummary> = records
                .iter()
                .filter(|r| r.reference.kind == kind)
                .collect();
            let total = of_kind.len();
            let per_page = paging.per_page.max(1);
            let items = of_kind
                .into_iter()
                .skip(paging.page.saturating_sub(1).saturating_mul(per_page))
                .take(per_page)
                .map(item)
                .collect();
            PortalList { items, total }
        };
        Ok(PortalHome {
            company: company_card(&signed.org),
            presentation: Presentation::of(&signed.org),
            client_name: signed.client.name.clone(),
            welcome: settings.welcome.clone(),
            has_password: signed.account.password_hash.is_some(),
            unread_messages,
            contracts_to_sign,
            agreements: settings.shows(PortalSection::Agreements),
            appointments: settings.shows(PortalSection::Appointments),
            service_requests: settings.shows(PortalSection::ServiceRequests),
            invoices: list(RecordKind::Invoice),
            estimates: settings
                .shows(PortalSection::Estimates)
                .then(|| list(RecordKind::Quote)),
            jobs: settings
                .shows(PortalSection::Jobs)
                .then(|| list(RecordKind::WorkOrder)),
        })
    }

    /// Whether the session works, with the client's name and whether they have a password
    /// (for pages that show no record).
    pub async fn portal_whoami(
        &self,
        org: &OrgId,
        session: &str,
    ) -> Result<(CompanyCard, String, bool), PortalError> {
        let signed = self.signed(org, session).await?;
        Ok((
            company_card(&signed.org),
            signed.client.name,
            signed.account.password_hash.is_some(),
        ))
    }

    /// C6: the client view of one of the client's own records — the same projection as its
    /// share page (V1–V6), with the sections its latest share shows (all, if never shared).
    /// `None` for anything not theirs or not shown, alike.
    pub async fn portal_record(
        &self,
        org: &OrgId,
        session: &str,
        record: &RecordRef,
    ) -> Result<Option<ClientView>, PortalError> {
        let signed = self.signed(org, session).await?;
        let mut tx = self.ports.store.begin_read().await?;
        let Some(found) = self.own_record(tx.as_mut(), &signed, record).await? else {
            return Ok(None);
        };
        let sections = self
            .sections_of(tx.as_mut(), &signed.org.id, record)
            .await?;
        let view = self
            .project_record(tx.as_mut(), &signed.org, &found.value, sections)
            .await?;
        Ok(Some(view))
    }

    /// The bytes of a file of one of the client's own records, only while its view shows it.
    pub async fn portal_file(
        &self,
        org: &OrgId,
        session: &str,
        record: &RecordRef,
        file: &FileId,
    ) -> Result<Option<Blob>, PortalError> {
        let Some(view) = self.portal_record(org, session, record).await? else {
            return Ok(None);
        };
        if !view.shows_file(file) {
            return Ok(None);
        }
        self.bytes(org, file).await.map_err(PortalError::Backend)
    }

    /// V5 through the portal: the signed-in client decides on their own quote; the same lock,
    /// audit entry and notice to the business as on the share page.
    pub async fn portal_decide_quote(
        &self,
        org: &OrgId,
        session: &str,
        quote_id: &crate::model::RecordId,
        choice: &ClientDecision,
    ) -> Result<ClientView, PortalError> {
        let reference = RecordRef {
            kind: RecordKind::Quote,
            id: quote_id.clone(),
        };
        retry_on_conflict!(
            self.try_portal_decide(org, session, &reference, choice)
                .await
        )
    }

    async fn try_portal_decide(
        &self,
        org: &OrgId,
        session: &str,
        reference: &RecordRef,
        choice: &ClientDecision,
    ) -> Result<ClientView, PortalError> {
        let signed = self.signed(org, session).await?;
        let now = self.now();
        let mut tx = self.ports.store.begin().await?;
        let Some(mut found) = self.own_record(tx.as_mut(), &signed, reference).await? else {
            return Err(PortalError::NotFound);
        };
        let Record::Quote(q) = &mut found.value else {
            return Err(PortalError::NotFound);
        };
        let (kind, action, event) = super::client::decide(q, choice, &signed.org, now)?;
        tx.put_record(&found.value, Some(found.version)).await?;
        self.log_event(
            tx.as_mut(),
            &signed.org.id,
            Some(&signed.client.id),
            event,
            now,
        )
        .await?;
        if let Some(to) = signed.org.contact.email.clone() {
            self.mail_now(tx.as_mut(), &signed.org.id, Some(reference), to, kind, now)
                .await?;
        }
        tx.append_audit(&AuditEntry {
            id: AuditId(self.ports.random.uuid()),
            org_id: signed.org.id.clone(),
            record: reference.clone(),
            share_id: None,
            actor: Actor::Client,
            action,
            at: now,
        })
        .await?;
        let sections = self
            .sections_of(tx.as_mut(), &signed.org.id, reference)
            .await?;
        let view = self
            .project_record(tx.as_mut(), &signed.org, &found.value, sections)
            .await?;
        self.commit_and_publish(tx, &signed.org.id, Some(reference))
            .await?;
        Ok(view)
    }

    /// V2 through the portal: the signed-in client's message about one of their records,
    /// mailed to the business.
    pub async fn portal_ask_for_help(
        &self,
        org: &OrgId,
        session: &str,
        record: &RecordRef,
        request: &HelpRequest,
    ) -> Result<(), PortalError> {
        let request = request.checked().map_err(|e| match e {
            super::ClientError::Invalid(refused) => PortalError::Invalid(refused),
            _ => PortalError::Refused,
        })?;
        let signed = self.signed(org, session).await?;
        let now = self.now();
        let mut tx = self.ports.store.begin().await?;
        if self
            .own_record(tx.as_mut(), &signed, record)
            .await?
            .is_none()
        {
            return Err(PortalError::NotFound);
        }
        let to = signed
            .org
            .contact
            .email
            .clone()
            .ok_or(PortalError::NoBusinessEmail)?;
        let kind = NotificationKind::HelpRequested {
            name: request.name,
            phone: request.phone,
            message: request.message,
        };
        self.mail_now(tx.as_mut(), &signed.org.id, Some(record), to, kind, now)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    // ----- helpers -----

    /// The session behind `raw`, if it still works (C5, C2, C8); its last-seen time is written
    /// at most once per `touch_every`.
    pub(super) async fn signed(&self, org: &OrgId, raw: &str) -> Result<Signed, PortalError> {
        let id = SessionId::parse(raw).ok_or(PortalError::NotSignedIn)?;
        let now = self.now();
        let mut tx = self.ports.store.begin_read().await?;
        let session = tx
            .portal_session(&id.hash())
            .await?
            .ok_or(PortalError::NotSignedIn)?;
        if &session.org_id != org {
            // Signed in elsewhere: nothing of this org is theirs (C6).
            return Err(PortalError::NotFound);
        }
        let org = tx.org(org).await?.ok_or(PortalError::NotSignedIn)?;
        let account = tx.portal_account(&org.id, &session.client_id).await?;
        let client = tx
            .client(&org.id, &session.client_id)
            .await?
            .ok_or(PortalError::NotSignedIn)?;
        drop(tx);
        let state =
            rules::session_state(&session, &org, account.as_ref(), now, &self.config.portal);
        let (SessionState::Live { touch }, Some(account)) = (state, account) else {
            return Err(PortalError::NotSignedIn);
        };
        let mut session = session;
        if touch {
            session.last_seen_at = now;
            let mut tx = self.ports.store.begin().await?;
            // Written only if it is still live: an end committed meanwhile wins.
            if tx
                .portal_session(&session.hash)
                .await?
                .is_some_and(|s| s.ended_at.is_none())
            {
                tx.put_session(&session).await?;
                tx.commit().await?;
            }
        }
        Ok(Signed {
            session,
            org,
            client,
            account,
        })
    }

    /// The org and the client who may sign in with `email`: the first, by id, of the org's
    /// clients with that address on file who may (C1–C3).
    async fn signer(
        &self,
        tx: &mut dyn UnitOfWork,
        org: &OrgId,
        email: &str,
    ) -> Result<Option<(Org, Client, PortalAccount)>, StoreError> {
        let Ok(parsed) = Email::parse(email) else {
            return Ok(None);
        };
        let Some(org) = tx.org(org).await? else {
            return Ok(None);
        };
        for client in tx.clients_with_email(&org.id, &parsed).await? {
            let account = tx.portal_account(&org.id, &client.id).await?;
            if may_sign_in(&org, &client, account.as_ref(), email).is_ok()
                && let Some(account) = account
            {
                return Ok(Some((org, client, account)));
            }
        }
        Ok(None)
    }

    /// The grant of `org` whose token is `raw`, checked against the server key.
    async fn grant_of_token(
        &self,
        tx: &mut dyn UnitOfWork,
        org: &Org,
        raw: &str,
    ) -> Result<Option<SignInGrant>, StoreError> {
        let Some(token) = ShareToken::parse(raw) else {
            return Ok(None);
        };
        let hash = token.hash();
        let Some(grant) = tx.grant_by_token_hash(&hash).await? else {
            return Ok(None);
        };
        let genuine = self
            .keys
            .derive_sign_in(grant.key_id, &grant.nonce)
            .is_ok_and(|t| t.hash() == hash);
        Ok((genuine && grant.org_id == org.id).then_some(grant))
    }

    /// A new grant for `client`; every grant of theirs still open ends, replaced (C3: a newer
    /// link never leaves an older one working beside it, nor revives one).
    async fn mint_grant(
        &self,
        tx: &mut dyn UnitOfWork,
        org: &Org,
        client: &ClientId,
        purpose: GrantPurpose,
        now: OffsetDateTime,
    ) -> Result<SignInGrant, PortalError> {
        let config = &self.config.portal;
        let oldest = now
            - config
                .invite_ttl
                .max(config.sign_in_ttl)
                .max(config.reset_ttl);
        for mut open in tx.grants_of_client(&org.id, client, oldest).await? {
            if rules::grant_state(&open, now) == GrantState::Usable {
                open.ended = Some((now, GrantEnd::Superseded));
                tx.put_grant(&open).await?;
            }
        }
        let key_id = self.keys.current();
        let nonce = self.ports.random.nonce();
        let token = self.keys.derive_sign_in(key_id, &nonce)?;
        let grant = SignInGrant {
            id: self.ports.random.uuid(),
            org_id: org.id.clone(),
            client_id: client.clone(),
            purpose,
            key_id,
            nonce,
            token_hash: token.hash(),
            created_at: now,
            expires_at: now + config.ttl(purpose),
            ended: None,
            code_failures: 0,
        };
        tx.put_grant(&grant).await?;
        Ok(grant)
    }

    /// Uses `grant`: checks its client may still sign in, ends it, and opens a session (with
    /// the new password of a reset).
    async fn start_session(
        &self,
        tx: &mut dyn UnitOfWork,
        org: &Org,
        mut grant: SignInGrant,
        new_password: Option<crate::model::PasswordHash>,
        now: OffsetDateTime,
    ) -> Result<SignedIn, PortalError> {
        let client = tx
            .client(&org.id, &grant.client_id)
            .await?
            .ok_or(PortalError::LinkSpent)?;
        let account = tx.portal_account(&org.id, &client.id).await?;
        let on_file = client.email.as_ref().map(Email::as_str).unwrap_or_default();
        if may_sign_in(org, &client, account.as_ref(), on_file).is_err() {
            return Err(PortalError::LinkSpent);
        }
        let Some(mut account) = account else {
            return Err(PortalError::LinkSpent);
        };
        grant.ended = Some((now, GrantEnd::Used));
        tx.put_grant(&grant).await?;
        if let Some(hash) = new_password {
            account.password_hash = Some(hash);
            account.password_changed_at = Some(now);
            tx.end_sessions(&org.id, Some(&client.id), None, now)
                .await?;
            if let Some(to) = client.email.clone() {
                let kind = NotificationKind::PasswordChanged {
                    client: client.id.clone(),
                };
                self.mail_now(tx, &org.id, None, to, kind, now).await?;
            }
        }
        self.open_session(tx, org, &client.id, account, Some(grant.purpose), now)
            .await
    }

    /// Opens a fresh session for `client` (a new random id, C5) and notes the sign-in.
    async fn open_session(
        &self,
        tx: &mut dyn UnitOfWork,
        org: &Org,
        client: &ClientId,
        mut account: PortalAccount,
        purpose: Option<GrantPurpose>,
        now: OffsetDateTime,
    ) -> Result<SignedIn, PortalError> {
        let first = account.last_sign_in_at.is_none();
        account.last_sign_in_at = Some(now);
        account.failed_passwords = 0;
        account.last_failed_at = None;
        tx.put_portal_account(&account).await?;
        if first {
            self.log_event(
                tx,
                &org.id,
                Some(client),
                crate::model::FeedEventKind::PortalFirstSignIn,
                now,
            )
            .await?;
        }
        let mut bytes = [0u8; 32];
        self.ports.random.fill(&mut bytes);
        let id = SessionId::from_random(bytes);
        tx.put_session(&PortalSession {
            hash: id.hash(),
            org_id: org.id.clone(),
            client_id: client.clone(),
            created_at: now,
            last_seen_at: now,
            ended_at: None,
        })
        .await?;
        Ok(SignedIn {
            session: id,
            client: client.clone(),
            purpose,
        })
    }

    /// The client's own record `reference`, if the portal shows it to them (C6, C1).
    pub(super) async fn own_record(
        &self,
        tx: &mut dyn UnitOfWork,
        signed: &Signed,
        reference: &RecordRef,
    ) -> Result<Option<Versioned<Record>>, StoreError> {
        let settings = &signed.org.settings.portal;
        Ok(tx.record(&signed.org.id, reference).await?.filter(|r| {
            r.value.org_id() == &signed.org.id
                && rules::shown(&RecordSummary::of(&r.value), &signed.client.id, settings)
        }))
    }

    /// The sections the portal shows of a record: those its latest share shows (the business's
    /// choice for this record), or every section when it was never shared.
    async fn sections_of(
        &self,
        tx: &mut dyn UnitOfWork,
        org: &OrgId,
        record: &RecordRef,
    ) -> Result<Sections, StoreError> {
        Ok(tx
            .shares_of_record(org, record)
            .await?
            .last()
            .map_or(Sections::ALL, |s| s.value.sections))
    }

    /// A checked and hashed new password.
    async fn hash_new_password(
        &self,
        password: &str,
        email: Option<&Email>,
    ) -> Result<crate::model::PasswordHash, PortalError> {
        rules::password_acceptable(password, email)?;
        let passwords = self
            .passwords
            .clone()
            .ok_or(PortalError::PasswordsUnavailable)?;
        passwords.hash(password).await.map_err(PortalError::Backend)
    }

    /// Queues a message that leaves at once (portal mails and notices to the business; never
    /// held for a burst, N6).
    pub(super) async fn mail_now(
        &self,
        tx: &mut dyn UnitOfWork,
        org: &OrgId,
        record: Option<&RecordRef>,
        to: Email,
        kind: NotificationKind,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        tx.enqueue(&Notification {
            id: NotificationId(self.ports.random.uuid()),
            org_id: org.clone(),
            share_id: None,
            record: record.cloned(),
            to,
            kind,
            created_at: now,
            due_at: now,
            delivery: Delivery::Pending,
            attempts: 0,
            last_failure: None,
        })
        .await
    }
}

fn item(summary: &RecordSummary) -> PortalItem {
    PortalItem {
        reference: summary.reference.clone(),
        title: summary.title.clone(),
        number: summary.number.clone(),
        status: summary.status.clone(),
        standing: rules::standing(summary),
        total: summary.total,
        amount_due: summary.amount_due,
        date: summary.date,
    }
}
