//! C7: agreements, appointments and contracts. The host pushes them in (idempotent by its id);
//! a signed-in client reads their own where the org shows the section, and signs contracts.
//! A signature is kept as made — the digest of the content shown, the typed name, the drawing
//! (through the blob port, under a name no upload can take), the time, address and browser —
//! and its version never changes again: a changed text becomes a new version to sign.

use time::OffsetDateTime;

use super::portal::Signed;
use super::records::{MAX_TEXT, check_amount, check_text};
use super::{InvalidInput, PortalError, Portico, RecordError};
use crate::locale::Presentation;
use crate::model::{
    Agreement, AgreementId, AgreementStatus, Appointment, AppointmentId, ClientId, Contract,
    ContractDocument, ContractId, ContractSignature, ContractStatus, FeedEventKind, FileId,
    NotificationKind, Org, OrgId, PortalSection, RecordKind, RecordRef, Sha256Digest, StaffId,
};
use crate::policy::permissions;
use crate::policy::plans::{
    self as rules, AgreementView, AppointmentView, SignForm, agreement_view, appointment_view,
};
use crate::policy::project::company_card;
use crate::ports::{Blob, BlobKey, StoreError, UnitOfWork};
use crate::view::CompanyCard;

/// A contract as the host sends it: each `PUT` with a changed title or text makes a new
/// version; `void` withdraws the latest version while it is not signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractDraft {
    /// The org.
    pub org_id: OrgId,
    /// The host's id.
    pub id: ContractId,
    /// The client asked to sign; it cannot change once sent.
    pub client_id: ClientId,
    /// Its title.
    pub title: String,
    /// The text to sign (may be empty when a PDF is given).
    pub body: String,
    /// A PDF uploaded through the files route, signed with the text.
    pub document: Option<FileId>,
    /// Withdrawn.
    pub void: bool,
}

/// The portal's agreements page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalAgreements {
    /// The business.
    pub company: CompanyCard,
    /// How dates and money are written.
    pub presentation: Presentation,
    /// The client's agreements, active first, then by title.
    pub agreements: Vec<AgreementView>,
}

/// The portal's appointments page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalAppointments {
    /// The business.
    pub company: CompanyCard,
    /// How times are written.
    pub presentation: Presentation,
    /// Still ahead, soonest first.
    pub upcoming: Vec<AppointmentView>,
    /// Done, called off or gone by, latest first.
    pub past: Vec<AppointmentView>,
}

/// The portal's contracts page, or one contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalContracts {
    /// The business.
    pub company: CompanyCard,
    /// How times are written.
    pub presentation: Presentation,
    /// The versions the client may open: for each contract its signed versions and its
    /// latest version unless withdrawn; waiting ones first, then by id and version.
    pub contracts: Vec<Contract>,
}

/// A signed version with what its printable copy shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCopy {
    /// The business.
    pub company: CompanyCard,
    /// How times are written.
    pub presentation: Presentation,
    /// The signed version.
    pub contract: Contract,
    /// The drawn signature, if one was drawn.
    pub drawing: Option<Blob>,
}

impl Portico {
    // ----- the host -----

    /// C7: creates or replaces an agreement, on behalf of `actor` (a role that may share: the
    /// client sees it in the portal).
    pub async fn put_agreement(
        &self,
        actor: &StaffId,
        agreement: &Agreement,
    ) -> Result<Agreement, RecordError> {
        let mut agreement = agreement.clone();
        check_agreement(&mut agreement)?;
        let mut tx = self.ports.store.begin().await?;
        self.host_may_show(tx.as_mut(), actor, &agreement.org_id, &agreement.client_id)
            .await?;
        tx.put_agreement(&agreement).await?;
        self.commit_and_publish(tx, &agreement.org_id, None).await?;
        Ok(agreement)
    }

    /// The org's agreement `id`.
    pub async fn agreement(&self, org: &OrgId, id: &AgreementId) -> Result<Agreement, RecordError> {
        let mut tx = self.ports.store.begin_read().await?;
        tx.org(org).await?.ok_or(RecordError::UnknownOrg)?;
        tx.agreement(org, id).await?.ok_or(RecordError::NotFound)
    }

    /// C7: creates or replaces an appointment, on behalf of `actor` (a role that may share).
    /// Its technician must be staff of the org, its job a work order of the same client.
    pub async fn put_appointment(
        &self,
        actor: &StaffId,
        appointment: &Appointment,
    ) -> Result<Appointment, RecordError> {
        check_appointment(appointment)?;
        let org = &appointment.org_id;
        let mut tx = self.ports.store.begin().await?;
        self.host_may_show(tx.as_mut(), actor, org, &appointment.client_id)
            .await?;
        if let Some(technician) = &appointment.technician
            && tx.staff(org, technician).await?.is_none()
        {
            return Err(InvalidInput::new("technician", "technician: no such staff member").into());
        }
        if let Some(job) = &appointment.job {
            let reference = RecordRef {
                kind: RecordKind::WorkOrder,
                id: job.clone(),
            };
            let found = tx.record(org, &reference).await?;
            if found.as_ref().and_then(|r| r.value.client_id()) != Some(&appointment.client_id) {
                return Err(InvalidInput::new(
                    "job_id",
                    "job_id: no such work order of this client",
                )
                .into());
            }
        }
        tx.put_appointment(appointment).await?;
        self.commit_and_publish(tx, org, None).await?;
        Ok(appointment.clone())
    }

    /// The org's appointment `id`.
    pub async fn appointment(
        &self,
        org: &OrgId,
        id: &AppointmentId,
    ) -> Result<Appointment, RecordError> {
        let mut tx = self.ports.store.begin_read().await?;
        tx.org(org).await?.ok_or(RecordError::UnknownOrg)?;
        tx.appointment(org, id).await?.ok_or(RecordError::NotFound)
    }

    /// C7: sends a contract to sign, on behalf of `actor` (a role that may share). The same
    /// content again changes nothing (or only withdraws it, with `void`); a changed title or
    /// text makes a new version, and only the latest is signed. A signed latest version cannot
    /// be withdrawn (`Signed`), and the client cannot change. Returns every version.
    pub async fn put_contract(
        &self,
        actor: &StaffId,
        draft: &ContractDraft,
    ) -> Result<Vec<Contract>, RecordError> {
        check_text("title", &draft.title, 500)?;
        check_text("body", &draft.body, Contract::MAX_BODY)?;
        if draft.title.trim().is_empty() {
            return Err(InvalidInput::new("title", "title must not be empty").into());
        }
        if draft.body.trim().is_empty() && draft.document.is_none() {
            return Err(InvalidInput::new(
                "body",
                "body must not be empty without a document: it is what the client signs",
            )
            .into());
        }
        let document = self.contract_document(draft).await?;
        let now = self.now();
        let mut tx = self.ports.store.begin().await?;
        self.host_may_show(tx.as_mut(), actor, &draft.org_id, &draft.client_id)
            .await?;
        let mut versions = tx.contract_versions(&draft.org_id, &draft.id).await?;
        let next = next_version(versions.last(), draft, document.as_ref(), now)?;
        if let Some(changed) = next {
            tx.put_contract(&changed).await?;
            match versions.last_mut() {
                Some(last) if last.version == changed.version => *last = changed,
                _ => versions.push(changed),
            }
            self.commit_and_publish(tx, &draft.org_id, None).await?;
        }
        Ok(versions)
    }

    /// Every version of the org's contract `id`, oldest first.
    pub async fn contract_versions(
        &self,
        org: &OrgId,
        id: &ContractId,
    ) -> Result<Vec<Contract>, RecordError> {
        let mut tx = self.ports.store.begin_read().await?;
        tx.org(org).await?.ok_or(RecordError::UnknownOrg)?;
        let versions = tx.contract_versions(org, id).await?;
        if versions.is_empty() {
            return Err(RecordError::NotFound);
        }
        Ok(versions)
    }

    /// The printable copy of a signed version, for the business.
    pub async fn signed_copy(
        &self,
        org: &OrgId,
        id: &ContractId,
        version: u32,
    ) -> Result<SignedCopy, RecordError> {
        let mut tx = self.ports.store.begin_read().await?;
        let found = tx.org(org).await?.ok_or(RecordError::UnknownOrg)?;
        let contract = tx
            .contract_versions(org, id)
            .await?
            .into_iter()
            .find(|c| c.version == version && c.signature.is_some())
            .ok_or(RecordError::NotFound)?;
        drop(tx);
        let drawing = self
            .drawing(org, &contract)
            .await
            .map_err(RecordError::Backend)?;
        Ok(SignedCopy {
            company: company_card(&found),
            presentation: Presentation::of(&found),
            contract,
            drawing,
        })
    }

    /// The PDF of a version, for the business.
    pub async fn contract_document_bytes(
        &self,
        org: &OrgId,
        id: &ContractId,
        version: u32,
    ) -> Result<Blob, RecordError> {
        let versions = self.contract_versions(org, id).await?;
        let document = versions
            .iter()
            .find(|c| c.version == version)
            .and_then(|c| c.document.as_ref())
            .ok_or(RecordError::NotFound)?;
        self.ports
            .blobs
            .get(&document_key(org, document))
            .await
            .map_err(RecordError::Backend)?
            .ok_or(RecordError::NotFound)
    }

    /// The drawn signature of a signed version, for the business's copy.
    pub async fn contract_signature_image(
        &self,
        org: &OrgId,
        id: &ContractId,
        version: u32,
    ) -> Result<Option<Blob>, RecordError> {
        let versions = self.contract_versions(org, id).await?;
        match versions.iter().find(|c| c.version == version) {
            Some(contract) => self
                .drawing(org, contract)
                .await
                .map_err(RecordError::Backend),
            None => Ok(None),
        }
    }

    // ----- the client, in the portal -----

    /// The client's agreements; `NotFound` when the org does not show them (C1).
    pub async fn portal_agreements(
        &self,
        org: &OrgId,
        session: &str,
    ) -> Result<PortalAgreements, PortalError> {
        let signed = self
            .signed_in_section(org, session, PortalSection::Agreements)
            .await?;
        let mut tx = self.ports.store.begin_read().await?;
        let stored = tx
            .agreements_of_client(&signed.org.id, &signed.client.id)
            .await?;
        drop(tx);
        let presentation = Presentation::of(&signed.org);
        let today = presentation.today(self.now());
        let mut agreements: Vec<AgreementView> =
            stored.iter().map(|a| agreement_view(a, today)).collect();
        agreements.sort_by(|a, b| {
            let active = AgreementStatus::Active;
            (a.status != active, &a.title, &a.id).cmp(&(b.status != active, &b.title, &b.id))
        });
        Ok(PortalAgreements {
            company: company_card(&signed.org),
            presentation,
            agreements,
        })
    }

    /// The client's appointments, upcoming and past; `NotFound` when the org does not show
    /// them (C1).
    pub async fn portal_appointments(
        &self,
        org: &OrgId,
        session: &str,
    ) -> Result<PortalAppointments, PortalError> {
        let signed = self
            .signed_in_section(org, session, PortalSection::Appointments)
            .await?;
        let mut tx = self.ports.store.begin_read().await?;
        let stored = tx
            .appointments_of_client(&signed.org.id, &signed.client.id)
            .await?;
        let jobs = if signed.org.settings.portal.shows(PortalSection::Jobs) {
            self.shown_jobs(tx.as_mut(), &signed).await?
        } else {
            Vec::new()
        };
        let mut views = Vec::with_capacity(stored.len());
        for a in &stored {
            let technician = match &a.technician {
                Some(id) => tx.staff(&signed.org.id, id).await?.map(|s| s.name),
                None => None,
            };
            let job = a
                .job
                .as_ref()
                .and_then(|id| jobs.iter().find(|(j, _)| j == id).cloned());
            views.push(appointment_view(a, technician.as_deref(), job));
        }
        drop(tx);
        let (upcoming, past) = rules::upcoming_and_past(views, self.now());
        Ok(PortalAppointments {
            company: company_card(&signed.org),
            presentation: Presentation::of(&signed.org),
            upcoming,
            past,
        })
    }

    /// The client's contracts they may open; `NotFound` when the org does not show them (C1).
    pub async fn portal_contracts(
        &self,
        org: &OrgId,
        session: &str,
    ) -> Result<PortalContracts, PortalError> {
        let signed = self
            .signed_in_section(org, session, PortalSection::Contracts)
            .await?;
        let mut tx = self.ports.store.begin_read().await?;
        let mut all = tx
            .contracts_of_client(&signed.org.id, &signed.client.id)
            .await?;
        drop(tx);
        all.sort_by(|a, b| (&a.id, a.version).cmp(&(&b.id, b.version)));
        let mut contracts: Vec<Contract> = all
            .chunk_by(|a, b| a.id == b.id)
            .flat_map(rules::shown_versions)
            .cloned()
            .collect();
        contracts.sort_by_key(|c| c.status != ContractStatus::Sent);
        Ok(PortalContracts {
            company: company_card(&signed.org),
            presentation: Presentation::of(&signed.org),
            contracts,
        })
    }

    /// One of the client's contracts: the versions they may open, oldest first; `NotFound`
    /// for one not theirs, not shown, or with none to open.
    pub async fn portal_contract(
        &self,
        org: &OrgId,
        session: &str,
        id: &ContractId,
    ) -> Result<PortalContracts, PortalError> {
        let signed = self
            .signed_in_section(org, session, PortalSection::Contracts)
            .await?;
        let mut tx = self.ports.store.begin_read().await?;
        let versions = own_versions(tx.as_mut(), &signed, id).await?;
        drop(tx);
        let contracts: Vec<Contract> = rules::shown_versions(&versions)
            .into_iter()
            .cloned()
            .collect();
        if contracts.is_empty() {
            return Err(PortalError::NotFound);
        }
        Ok(PortalContracts {
            company: company_card(&signed.org),
            presentation: Presentation::of(&signed.org),
            contracts,
        })
    }

    /// C7: the client signs the latest version of their contract `id`. The signature, its
    /// drawing, the event and the notice to the business commit together; the drawing is
    /// stored first, under a fresh name, so a failed commit leaves only unreferenced bytes.
    pub async fn portal_sign_contract(
        &self,
        org: &OrgId,
        session: &str,
        id: &ContractId,
        form: SignForm,
        ip: Option<String>,
        user_agent: Option<String>,
    ) -> Result<Contract, PortalError> {
        let signed = self
            .signed_in_section(org, session, PortalSection::Contracts)
            .await?;
        let org_id = signed.org.id.clone();
        let mut tx = self.ports.store.begin_read().await?;
        let versions = own_versions(tx.as_mut(), &signed, id).await?;
        drop(tx);
        let checked = rules::check_signature(&versions, form)?;
        let drawn = match checked.drawn {
            Some(bytes) => {
                let image = self.ports.random.uuid();
                let blob = Blob {
                    content_type: "image/png".to_owned(),
                    bytes,
                };
                self.ports
                    .blobs
                    .put(&signature_key(&org_id, image), blob)
                    .await
                    .map_err(PortalError::Backend)?;
                Some(image)
            }
            None => None,
        };
        let now = self.now();
        let mut tx = self.ports.store.begin().await?;
        // Signed against a fresh read: a version sent or signed meanwhile refuses this one.
        let current = own_versions(tx.as_mut(), &signed, id).await?;
        let Some(mut contract) = current.last().cloned() else {
            return Err(PortalError::NotFound);
        };
        if contract.content_digest() != checked.content || contract.status != ContractStatus::Sent {
            return Err(rules::SigningRefused::Changed.into());
        }
        contract.status = ContractStatus::Signed;
        contract.signature = Some(ContractSignature {
            name: checked.name,
            drawn,
            at: now,
            ip: ip.map(|a| bounded(&a, 100)),
            user_agent: user_agent.map(|a| bounded(&a, 500)),
            content: checked.content,
        });
        match tx.put_contract(&contract).await {
            // Signed by a concurrent request after this one read it: the store refused.
            Err(StoreError::Conflict(_)) => return Err(rules::SigningRefused::NotOpen.into()),
            other => other?,
        }
        self.log_event(
            tx.as_mut(),
            &org_id,
            Some(&signed.client.id),
            FeedEventKind::ContractSigned {
                contract: contract.id.clone(),
                version: contract.version,
            },
            now,
        )
        .await?;
        if let Some(to) = signed.org.contact.email.clone() {
            let kind = NotificationKind::ContractSigned {
                name: signed.client.name.clone(),
                title: contract.title.clone(),
                version: contract.version,
                digest: checked.content.to_hex(),
            };
            self.mail_now(tx.as_mut(), &org_id, None, to, kind, now)
                .await?;
        }
        match tx.commit().await {
            // Likewise, for stores that check at commit.
            Err(StoreError::Conflict(_)) => Err(rules::SigningRefused::NotOpen.into()),
            Err(e) => Err(e.into()),
            Ok(()) => Ok(contract),
        }
    }

    /// The PDF of one of the client's versions they may open.
    pub async fn portal_contract_document(
        &self,
        org: &OrgId,
        session: &str,
        id: &ContractId,
        version: u32,
    ) -> Result<Option<Blob>, PortalError> {
        let key = self
            .shown_version(org, session, id, version)
            .await?
            .and_then(|c| c.document.as_ref().map(|d| document_key(org, d)));
        self.blob_at(key).await.map_err(PortalError::Backend)
    }

    /// The drawn signature of one of the client's signed versions.
    pub async fn portal_signature_image(
        &self,
        org: &OrgId,
        session: &str,
        id: &ContractId,
        version: u32,
    ) -> Result<Option<Blob>, PortalError> {
        match self.shown_version(org, session, id, version).await? {
            Some(contract) => self
                .drawing(org, &contract)
                .await
                .map_err(PortalError::Backend),
            None => Ok(None),
        }
    }

    /// Version `version` of the client's contract `id`, if they may open it.
    async fn shown_version(
        &self,
        org: &OrgId,
        session: &str,
        id: &ContractId,
        version: u32,
    ) -> Result<Option<Contract>, PortalError> {
        let shown = self.portal_contract(org, session, id).await?;
        Ok(shown.contracts.into_iter().find(|c| c.version == version))
    }

    /// The bytes under `key`, when there is a key.
    async fn blob_at(
        &self,
        key: Option<BlobKey>,
    ) -> Result<Option<Blob>, crate::ports::BackendError> {
        match key {
            Some(key) => self.ports.blobs.get(&key).await,
            None => Ok(None),
        }
    }

    /// The printable copy of one of the client's signed versions.
    pub async fn portal_signed_copy(
        &self,
        org: &OrgId,
        session: &str,
        id: &ContractId,
        version: u32,
    ) -> Result<SignedCopy, PortalError> {
        let shown = self.portal_contract(org, session, id).await?;
        let contract = shown
            .contracts
            .into_iter()
            .find(|c| c.version == version && c.signature.is_some())
            .ok_or(PortalError::NotFound)?;
        let drawing = self
            .drawing(org, &contract)
            .await
            .map_err(PortalError::Backend)?;
        Ok(SignedCopy {
            company: shown.company,
            presentation: shown.presentation,
            contract,
            drawing,
        })
    }

    /// The drawn signature of `contract`, if one was drawn and its bytes are there.
    async fn drawing(
        &self,
        org: &OrgId,
        contract: &Contract,
    ) -> Result<Option<Blob>, crate::ports::BackendError> {
        let key = contract
            .signature
            .as_ref()
            .and_then(|s| s.drawn)
            .map(|image| signature_key(org, image));
        self.blob_at(key).await
    }

    /// How many of the client's contracts wait for their signature, when the org shows
    /// contracts.
    pub(super) async fn contracts_to_sign(
        &self,
        tx: &mut dyn UnitOfWork,
        signed: &Signed,
    ) -> Result<Option<usize>, StoreError> {
        if !signed.org.settings.portal.shows(PortalSection::Contracts) {
            return Ok(None);
        }
        let mut all = tx
            .contracts_of_client(&signed.org.id, &signed.client.id)
            .await?;
        all.sort_by(|a, b| (&a.id, a.version).cmp(&(&b.id, b.version)));
        Ok(Some(
            all.chunk_by(|a, b| a.id == b.id)
                .filter(|versions| {
                    versions
                        .last()
                        .is_some_and(|c| c.status == ContractStatus::Sent)
                })
                .count(),
        ))
    }

    // ----- helpers -----

    /// The PDF a draft names, copied under its digest (so what is signed never changes with a
    /// later upload under the host's id); `Invalid` for a file not uploaded or not a PDF.
    async fn contract_document(
        &self,
        draft: &ContractDraft,
    ) -> Result<Option<ContractDocument>, RecordError> {
        let Some(file) = &draft.document else {
            return Ok(None);
        };
        let blob = self
            .bytes(&draft.org_id, file)
            .await
            .map_err(RecordError::Backend)?
            .ok_or_else(|| {
                InvalidInput::new(
                    "document_file_id",
                    "document_file_id: no file was uploaded under this id (PUT /v1/files/{id})",
                )
            })?;
        if blob.content_type != "application/pdf" {
            return Err(InvalidInput::new(
                "document_file_id",
                "document_file_id: the uploaded file is not a PDF",
            )
            .into());
        }
        let document = ContractDocument {
            name: file.as_str().to_owned(),
            sha256: Sha256Digest::of(&blob.bytes),
            size: blob.bytes.len() as u64,
        };
        self.ports
            .blobs
            .put(&document_key(&draft.org_id, &document), blob)
            .await
            .map_err(RecordError::Backend)?;
        Ok(Some(document))
    }

    /// The org exists, `actor` is active staff of a role that may share (what is pushed here
    /// shows in the portal at once), and `client` is the org's.
    async fn host_may_show(
        &self,
        tx: &mut dyn UnitOfWork,
        actor: &StaffId,
        org: &OrgId,
        client: &ClientId,
    ) -> Result<Org, RecordError> {
        let found = tx.org(org).await?.ok_or(RecordError::UnknownOrg)?;
        let staff = tx.staff(org, actor).await?;
        let role = permissions::active(staff.as_ref())?.role;
        if !permissions::can_share(role) {
            return Err(permissions::ActorDenied::NotPermitted { role }.into());
        }
        if tx.client(org, client).await?.is_none() {
            return Err(InvalidInput::new("client_id", "client_id: no such client").into());
        }
        Ok(found)
    }
}

/// Every version of the signed-in client's contract `id`; `NotFound` for another client's.
async fn own_versions(
    tx: &mut dyn UnitOfWork,
    signed: &Signed,
    id: &ContractId,
) -> Result<Vec<Contract>, PortalError> {
    let versions = tx.contract_versions(&signed.org.id, id).await?;
    if versions.is_empty() || versions.iter().any(|c| c.client_id != signed.client.id) {
        return Err(PortalError::NotFound);
    }
    Ok(versions)
}

/// What a `PUT` of `draft` writes after `latest`: nothing, the latest changed in place (its
/// status), or a new version.
fn next_version(
    latest: Option<&Contract>,
    draft: &ContractDraft,
    document: Option<&ContractDocument>,
    now: OffsetDateTime,
) -> Result<Option<Contract>, RecordError> {
    let status = if draft.void {
        ContractStatus::Void
    } else {
        ContractStatus::Sent
    };
    let fresh = |version| Contract {
        id: draft.id.clone(),
        version,
        org_id: draft.org_id.clone(),
        client_id: draft.client_id.clone(),
        title: draft.title.clone(),
        body: draft.body.clone(),
        document: document.cloned(),
        status,
        sent_at: now,
        signature: None,
    };
    let Some(latest) = latest else {
        return Ok(Some(fresh(1)));
    };
    if latest.client_id != draft.client_id {
        return Err(InvalidInput::new(
            "client_id",
            "client_id: a contract's client cannot change; send it under a new id",
        )
        .into());
    }
    let same = latest.title == draft.title
        && latest.body == draft.body
        && latest.document.as_ref().map(|d| d.sha256) == document.map(|d| d.sha256);
    match (same, latest.status) {
        (true, s) if s == status => Ok(None),
        // Sent again as it was signed: nothing to do. Withdrawn: too late.
        (true, ContractStatus::Signed) if !draft.void => Ok(None),
        (true, ContractStatus::Signed) => Err(RecordError::Signed(latest.version)),
        (true, _) => Ok(Some(Contract {
            status,
            ..latest.clone()
        })),
        (false, _) => Ok(Some(fresh(latest.version + 1))),
    }
}

/// I6 for agreements: bounded text, dates in order, amounts in range, visits sorted.
fn check_agreement(a: &mut Agreement) -> Result<(), RecordError> {
    check_text("title", &a.title, 500)?;
    if a.title.trim().is_empty() {
        return Err(InvalidInput::new("title", "title must not be empty").into());
    }
    check_text("terms", &a.terms, MAX_TEXT)?;
    check_text("internal_notes", &a.internal_notes, MAX_TEXT)?;
    check_amount("price", a.price.amount)?;
    if let Some(cost) = a.cost {
        check_amount("cost", cost)?;
    }
    if let Some(margin) = a.margin_percent
        && margin.abs() > rust_decimal::Decimal::ONE_THOUSAND
    {
        return Err(InvalidInput::new("margin_percent", "margin_percent is out of range").into());
    }
    if a.ends_on.is_some_and(|end| end < a.starts_on) {
        return Err(InvalidInput::new("ends_on", "ends_on is before starts_on").into());
    }
    if a.visits.len() > Agreement::MAX_VISITS {
        return Err(InvalidInput::new(
            "visits",
            format!("visits has more than {} entries", Agreement::MAX_VISITS),
        )
        .into());
    }
    a.visits = rules::visit_schedule(std::mem::take(&mut a.visits));
    Ok(())
}

/// I6 for appointments: bounded text, a window that does not end before it starts.
fn check_appointment(a: &Appointment) -> Result<(), RecordError> {
    check_text("title", &a.title, 500)?;
    if a.title.trim().is_empty() {
        return Err(InvalidInput::new("title", "title must not be empty").into());
    }
    check_text("address", &a.address, 1000)?;
    check_text("internal_notes", &a.internal_notes, MAX_TEXT)?;
    if a.ends_at.is_some_and(|end| end < a.starts_at) {
        return Err(InvalidInput::new("ends_at", "ends_at is before starts_at").into());
    }
    Ok(())
}

/// Text from the client's request, cut to `max` characters.
fn bounded(text: &str, max: usize) -> String {
    text.chars().filter(|c| !c.is_control()).take(max).collect()
}

fn document_key(org: &OrgId, document: &ContractDocument) -> BlobKey {
    BlobKey {
        org: org.clone(),
        file: FileId::contract_document(&document.sha256.to_hex()),
    }
}

fn signature_key(org: &OrgId, image: uuid::Uuid) -> BlobKey {
    BlobKey {
        org: org.clone(),
        file: FileId::signature_image(image),
    }
}
