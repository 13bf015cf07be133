//! C7: messages between a client and the business, the client's service requests, and the
//! org's event log a host polls (`events after n`). A client writes only under their own session
//! and only where the org shows the section; staff answer and read through the host app. Every
//! client action is appended to the event log in the unit of work that makes it, and mails the
//! business through the outbox (N5).

use time::OffsetDateTime;

use super::portal::Signed;
use super::{PortalError, Portico, StaffError};
use crate::locale::Presentation;
use crate::model::{
    Author, ClientId, FeedEvent, FeedEventKind, Message, MessageId, NotificationKind, OrgId,
    PortalSection, RecordId, RecordKind, RecordRef, RequestState, ServiceRequest, ServiceRequestId,
    StaffId, Thread,
};
use crate::policy::inbox::{self, AttachedPhoto, RequestForm, ThreadSummary};
use crate::policy::permissions;
use crate::policy::portal as rules;
use crate::policy::project::company_card;
use crate::ports::{Blob, BlobKey, StoreError, UnitOfWork};
use crate::view::CompanyCard;

/// The most events one read of the log returns.
pub const MAX_EVENTS_PER_READ: u32 = 500;

/// One of the client's threads as the portal lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadEntry {
    /// Which thread, with its count, unread count and last time.
    pub summary: ThreadSummary,
    /// "General", or the job's title.
    pub title: String,
}

/// The portal's messages page: the client's threads, and the jobs a new thread may be about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalThreads {
    /// The business.
    pub company: CompanyCard,
    /// How times are written.
    pub presentation: Presentation,
    /// Threads that hold a message, the general one first.
    pub threads: Vec<ThreadEntry>,
    /// The client's jobs shown in the portal (id and title), to write about one.
    pub jobs: Vec<(RecordId, String)>,
}

/// One thread as the client reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    /// The business.
    pub company: CompanyCard,
    /// How times are written.
    pub presentation: Presentation,
    /// Which thread.
    pub thread: Thread,
    /// "General", or the job's title.
    pub title: String,
    /// Its messages, oldest first.
    pub messages: Vec<Message>,
}

/// The service-request form, filled in with what the business has on file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestPrefill {
    /// The business.
    pub company: CompanyCard,
    /// The client's details on file, and no description or dates yet.
    pub form: RequestForm,
    /// Today in the org's time zone: the first day the form offers.
    pub today: time::Date,
}

const GENERAL: &str = "General";

impl Portico {
    // ----- the client, in the portal -----

    /// The client's threads and the jobs they may write about; `NotFound` when the org does
    /// not show messages (C1).
    pub async fn portal_threads(
        &self,
        org: &OrgId,
        session: &str,
    ) -> Result<PortalThreads, PortalError> {
        let signed = self
            .signed_in_section(org, session, PortalSection::Messages)
            .await?;
        let mut tx = self.ports.store.begin_read().await?;
        let jobs = self.shown_jobs(tx.as_mut(), &signed).await?;
        let messages = tx
            .messages_of_client(&signed.org.id, &signed.client.id)
            .await?;
        drop(tx);
        let threads = inbox::threads(&messages)
            .into_iter()
            .filter_map(|summary| {
                let title = title_of(&summary.thread, &jobs)?;
                Some(ThreadEntry { summary, title })
            })
            .collect();
        Ok(PortalThreads {
            company: company_card(&signed.org),
            presentation: Presentation::of(&signed.org),
            threads,
            jobs,
        })
    }

    /// One of the client's threads; the business's messages in it become read. A job thread is
    /// there only while the job is the client's and shown (C6).
    pub async fn portal_conversation(
        &self,
        org: &OrgId,
        session: &str,
        thread: &Thread,
    ) -> Result<Conversation, PortalError> {
        let signed = self
            .signed_in_section(org, session, PortalSection::Messages)
            .await?;
        let mut tx = self.ports.store.begin_read().await?;
        let title = self.thread_title(tx.as_mut(), &signed, thread).await?;
        let mut messages: Vec<Message> = tx
            .messages_of_client(&signed.org.id, &signed.client.id)
            .await?
            .into_iter()
            .filter(|m| &m.thread == thread)
            .collect();
        drop(tx);
        // Most opens find nothing new: only then is a writing unit (a write lock) taken.
        if messages.iter().any(inbox::unread_by_client) {
            let now = self.now();
            let mut tx = self.ports.store.begin().await?;
            for m in messages.iter_mut().filter(|m| inbox::unread_by_client(m)) {
                m.read_at = Some(now);
                tx.put_message(m).await?;
            }
            tx.commit().await?;
        }
        Ok(Conversation {
            company: company_card(&signed.org),
            presentation: Presentation::of(&signed.org),
            thread: thread.clone(),
            title,
            messages,
        })
    }

    /// C7: the client writes to the business in one of their threads. The message, its event
    /// and the notice to the business (when it has an address) commit together.
    pub async fn portal_send_message(
        &self,
        org: &OrgId,
        session: &str,
        thread: &Thread,
        body: &str,
    ) -> Result<Message, PortalError> {
        let body = inbox::message_body(body)?;
        let signed = self
            .signed_in_section(org, session, PortalSection::Messages)
            .await?;
        let now = self.now();
        let mut tx = self.ports.store.begin().await?;
        let title = self.thread_title(tx.as_mut(), &signed, thread).await?;
        let message = Message {
            id: MessageId(self.ports.random.uuid()),
            org_id: signed.org.id.clone(),
            client_id: signed.client.id.clone(),
            thread: thread.clone(),
            author: Author::Client,
            body,
            at: now,
            read_at: None,
        };
        tx.put_message(&message).await?;
        self.log_event(
            tx.as_mut(),
            &signed.org.id,
            Some(&signed.client.id),
            FeedEventKind::MessageReceived {
                message: message.id,
                job: thread.job().cloned(),
            },
            now,
        )
        .await?;
        if let Some(to) = signed.org.contact.email.clone() {
            let kind = NotificationKind::MessageFromClient {
                name: signed.client.name.clone(),
                body: message.body.clone(),
                job: thread.job().map(|_| title),
            };
            let record = thread.job().map(|id| RecordRef {
                kind: RecordKind::WorkOrder,
                id: id.clone(),
            });
            self.mail_now(tx.as_mut(), &signed.org.id, record.as_ref(), to, kind, now)
                .await?;
        }
        tx.commit().await?;
        Ok(message)
    }

    /// How many of the business's messages the client has not read, when the org shows
    /// messages.
    pub(super) async fn unread_of(
        &self,
        tx: &mut dyn UnitOfWork,
        signed: &Signed,
    ) -> Result<Option<usize>, StoreError> {
        if !signed.org.settings.portal.shows(PortalSection::Messages) {
            return Ok(None);
        }
        let messages = tx
            .messages_of_client(&signed.org.id, &signed.client.id)
            .await?;
        Ok(Some(
            messages
                .iter()
                .filter(|m| inbox::unread_by_client(m))
                .count(),
        ))
    }

    /// The service-request form, filled in with the client's details on file; `NotFound` when
    /// the org does not show the form (C1).
    pub async fn portal_request_form(
        &self,
        org: &OrgId,
        session: &str,
    ) -> Result<RequestPrefill, PortalError> {
        let signed = self
            .signed_in_section(org, session, PortalSection::ServiceRequests)
            .await?;
        let client = &signed.client;
        Ok(RequestPrefill {
            company: company_card(&signed.org),
            form: RequestForm {
                name: client.name.clone(),
                email: client
                    .email
                    .as_ref()
                    .map(|e| e.as_str().to_owned())
                    .unwrap_or_default(),
                phone: client.phone.clone().unwrap_or_default(),
                address: client.address.clone().unwrap_or_default(),
                description: String::new(),
                preferred_dates: Vec::new(),
            },
            today: Presentation::of(&signed.org).today(self.now()),
        })
    }

    /// C7: the client asks for work. The request, its event and the notice to the business
    /// (when it has an address) commit together.
    pub async fn portal_send_request(
        &self,
        org: &OrgId,
        session: &str,
        form: &RequestForm,
        photos: Vec<AttachedPhoto>,
    ) -> Result<ServiceRequest, PortalError> {
        let signed = self
            .signed_in_section(org, session, PortalSection::ServiceRequests)
            .await?;
        let now = self.now();
        let checked = inbox::request(form, Presentation::of(&signed.org).today(now))?;
        let photos = inbox::photos(photos, self.config.max_file_bytes)?;
        // The bytes go first, under fresh names: a unit that then fails leaves only bytes no
        // request points at.
        let mut photo_ids = Vec::with_capacity(photos.len());
        for photo in photos {
            let id = self.ports.random.uuid();
            let blob = Blob {
                content_type: photo.content_type,
                bytes: photo.bytes,
            };
            self.ports
                .blobs
                .put(&request_photo_key(&signed.org.id, id), blob)
                .await
                .map_err(PortalError::Backend)?;
            photo_ids.push(id);
        }
        let request = ServiceRequest {
            id: ServiceRequestId(self.ports.random.uuid()),
            org_id: signed.org.id.clone(),
            client_id: signed.client.id.clone(),
            name: checked.name,
            email: checked.email,
            phone: checked.phone,
            address: checked.address,
            description: checked.description,
            preferred_dates: checked.preferred_dates,
            photos: photo_ids,
            state: RequestState::New,
            created_at: now,
            updated_at: now,
        };
        let mut tx = self.ports.store.begin().await?;
        tx.put_service_request(&request).await?;
        self.log_event(
            tx.as_mut(),
            &signed.org.id,
            Some(&signed.client.id),
            FeedEventKind::ServiceRequested {
                request: request.id,
            },
            now,
        )
        .await?;
        if let Some(to) = signed.org.contact.email.clone() {
            let kind = NotificationKind::ServiceRequested {
                name: request.name.clone(),
                email: request.email.clone(),
                phone: request.phone.clone(),
                address: request.address.clone(),
                description: request.description.clone(),
                preferred_dates: request.preferred_dates.clone(),
                photos: u32::try_from(request.photos.len()).unwrap_or(u32::MAX),
            };
            self.mail_now(tx.as_mut(), &signed.org.id, None, to, kind, now)
                .await?;
        }
        tx.commit().await?;
        Ok(request)
    }

    // ----- the business, through the host app -----

    /// Every message of the client's threads, oldest first.
    pub async fn client_messages(
        &self,
        org: &OrgId,
        client: &ClientId,
    ) -> Result<Vec<Message>, StaffError> {
        let mut tx = self.ports.store.begin_read().await?;
        tx.org(org).await?.ok_or(StaffError::UnknownOrg)?;
        tx.client(org, client)
            .await?
            .ok_or(StaffError::NotFound("client"))?;
        Ok(tx.messages_of_client(org, client).await?)
    }

    /// C7: `actor` answers the client, in their general thread or the one about `job` (a work
    /// order of theirs). The client must be able to read it: the portal on and their login on.
    /// They are mailed (while that still holds when the mail leaves).
    pub async fn send_client_message(
        &self,
        org: &OrgId,
        actor: &StaffId,
        client: &ClientId,
        job: Option<&RecordId>,
        body: &str,
    ) -> Result<Message, StaffError> {
        let body = inbox::message_body(body)?;
        let now = self.now();
        let mut tx = self.ports.store.begin().await?;
        let org = tx.org(org).await?.ok_or(StaffError::UnknownOrg)?;
        let staff = tx.staff(&org.id, actor).await?;
        let staff = permissions::active(staff.as_ref())?.clone();
        let client = tx
            .client(&org.id, client)
            .await?
            .ok_or(StaffError::NotFound("client"))?;
        if !org.settings.portal.enabled {
            return Err(StaffError::PortalOff);
        }
        if !tx
            .portal_account(&org.id, &client.id)
            .await?
            .is_some_and(|a| a.enabled && a.invited_at.is_some())
        {
            return Err(StaffError::NotInPortal);
        }
        let thread = match job {
            None => Thread::General,
            Some(id) => {
                let reference = RecordRef {
                    kind: RecordKind::WorkOrder,
                    id: id.clone(),
                };
                let theirs = tx
                    .record(&org.id, &reference)
                    .await?
                    .is_some_and(|r| r.value.client_id() == Some(&client.id));
                if !theirs {
                    return Err(StaffError::NotFound("job"));
                }
                Thread::Job(id.clone())
            }
        };
        let author = first_name(&staff.name).unwrap_or(&org.name).to_owned();
        let message = Message {
            id: MessageId(self.ports.random.uuid()),
            org_id: org.id.clone(),
            client_id: client.id.clone(),
            thread,
            author: Author::Staff {
                staff: staff.id.clone(),
                name: author.clone(),
            },
            body,
            at: now,
            read_at: None,
        };
        tx.put_message(&message).await?;
        if let Some(to) = client.email.clone() {
            let kind = NotificationKind::MessageFromStaff {
                client: client.id.clone(),
                author,
                body: message.body.clone(),
            };
            self.mail_now(tx.as_mut(), &org.id, None, to, kind, now)
                .await?;
        }
        tx.commit().await?;
        Ok(message)
    }

    /// Marks every message the client wrote as read by the business; returns how many were
    /// unread.
    pub async fn mark_client_messages_read(
        &self,
        org: &OrgId,
        actor: &StaffId,
        client: &ClientId,
    ) -> Result<usize, StaffError> {
        let now = self.now();
        let mut tx = self.ports.store.begin().await?;
        tx.org(org).await?.ok_or(StaffError::UnknownOrg)?;
        permissions::active(tx.staff(org, actor).await?.as_ref())?;
        tx.client(org, client)
            .await?
            .ok_or(StaffError::NotFound("client"))?;
        let mut marked = 0;
        for mut m in tx.messages_of_client(org, client).await? {
            if m.from_client() && m.read_at.is_none() {
                m.read_at = Some(now);
                tx.put_message(&m).await?;
                marked += 1;
            }
        }
        tx.commit().await?;
        Ok(marked)
    }

    /// The org's service requests, in `state` when named, oldest first, at most `limit`.
    pub async fn service_requests(
        &self,
        org: &OrgId,
        state: Option<RequestState>,
        limit: u32,
    ) -> Result<Vec<ServiceRequest>, StaffError> {
        let mut tx = self.ports.store.begin_read().await?;
        tx.org(org).await?.ok_or(StaffError::UnknownOrg)?;
        Ok(tx.service_requests(org, state, limit).await?)
    }

    /// Moves a service request to `state` on behalf of `actor` (seen, converted; or back).
    pub async fn set_service_request_state(
        &self,
        org: &OrgId,
        actor: &StaffId,
        id: ServiceRequestId,
        state: RequestState,
    ) -> Result<ServiceRequest, StaffError> {
        let now = self.now();
        let mut tx = self.ports.store.begin().await?;
        tx.org(org).await?.ok_or(StaffError::UnknownOrg)?;
        permissions::active(tx.staff(org, actor).await?.as_ref())?;
        let mut request = tx
            .service_request(org, id)
            .await?
            .ok_or(StaffError::NotFound("service request"))?;
        if request.state != state {
            request.state = state;
            request.updated_at = now;
            tx.put_service_request(&request).await?;
            tx.commit().await?;
        }
        Ok(request)
    }

    /// The org's events numbered after `after`, in order, at most `limit` (capped at
    /// [`MAX_EVENTS_PER_READ`]).
    pub async fn events(
        &self,
        org: &OrgId,
        after: u64,
        limit: u32,
    ) -> Result<Vec<FeedEvent>, StaffError> {
        let mut tx = self.ports.store.begin_read().await?;
        tx.org(org).await?.ok_or(StaffError::UnknownOrg)?;
        Ok(tx
            .events_after(org, after, limit.clamp(1, MAX_EVENTS_PER_READ))
            .await?)
    }

    /// A photo the client attached to the org's service request `id`.
    pub async fn service_request_photo(
        &self,
        org: &OrgId,
        id: ServiceRequestId,
        photo: uuid::Uuid,
    ) -> Result<Blob, StaffError> {
        let mut tx = self.ports.store.begin_read().await?;
        tx.org(org).await?.ok_or(StaffError::UnknownOrg)?;
        let request = tx
            .service_request(org, id)
            .await?
            .ok_or(StaffError::NotFound("service request"))?;
        drop(tx);
        if !request.photos.contains(&photo) {
            return Err(StaffError::NotFound("photo"));
        }
        self.ports
            .blobs
            .get(&request_photo_key(org, photo))
            .await
            .map_err(StaffError::Backend)?
            .ok_or(StaffError::NotFound("photo"))
    }

    // ----- helpers -----

    /// Appends an event to the org's log, in the caller's unit of work.
    pub(super) async fn log_event(
        &self,
        tx: &mut dyn UnitOfWork,
        org: &OrgId,
        client: Option<&ClientId>,
        kind: FeedEventKind,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut event = FeedEvent {
            org_id: org.clone(),
            seq: 0,
            id: self.ports.random.uuid(),
            at,
            client_id: client.cloned(),
            kind,
        };
        event.seq = tx.append_event(&event).await?;
        self.queue_webhooks(tx, &event).await
    }

    /// The session, when the org shows `section` (else `NotFound`, as for anything not there).
    pub(super) async fn signed_in_section(
        &self,
        org: &OrgId,
        session: &str,
        section: PortalSection,
    ) -> Result<Signed, PortalError> {
        let signed = self.signed(org, session).await?;
        if signed.org.settings.portal.shows(section) {
            Ok(signed)
        } else {
            Err(PortalError::NotFound)
        }
    }

    /// The client's jobs the portal shows, with their titles, newest first.
    pub(super) async fn shown_jobs(
        &self,
        tx: &mut dyn UnitOfWork,
        signed: &Signed,
    ) -> Result<Vec<(RecordId, String)>, StoreError> {
        let mut records = tx
            .record_summaries_of_client(&signed.org.id, &signed.client.id)
            .await?;
        records.retain(|r| {
            r.reference.kind == RecordKind::WorkOrder
                && rules::shown(r, &signed.client.id, &signed.org.settings.portal)
        });
        rules::sort_for_client(&mut records);
        Ok(records
            .into_iter()
            .map(|r| (r.reference.id, r.title))
            .collect())
    }

    /// The title of one of the client's threads; `NotFound` for a job not theirs or not shown.
    async fn thread_title(
        &self,
        tx: &mut dyn UnitOfWork,
        signed: &Signed,
        thread: &Thread,
    ) -> Result<String, PortalError> {
        match thread {
            Thread::General => Ok(GENERAL.to_owned()),
            Thread::Job(id) => {
                let reference = RecordRef {
                    kind: RecordKind::WorkOrder,
                    id: id.clone(),
                };
                let record = self
                    .own_record(tx, signed, &reference)
                    .await?
                    .ok_or(PortalError::NotFound)?;
                Ok(record.value.title().to_owned())
            }
        }
    }
}

/// A thread's title from the jobs shown; `None` for a job no longer shown (its thread is hidden
/// with it).
fn title_of(thread: &Thread, jobs: &[(RecordId, String)]) -> Option<String> {
    match thread {
        Thread::General => Some(GENERAL.to_owned()),
        Thread::Job(id) => jobs
            .iter()
            .find(|(job, _)| job == id)
            .map(|(_, title)| title.clone()),
    }
}

fn request_photo_key(org: &OrgId, photo: uuid::Uuid) -> BlobKey {
    BlobKey {
        org: org.clone(),
        file: crate::model::FileId::request_photo(photo),
    }
}

/// The first word of a name, the way a client is greeted by staff.
fn first_name(name: &str) -> Option<&str> {
    name.split_whitespace().next()
}
