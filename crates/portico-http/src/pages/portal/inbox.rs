//! C7 in the portal: the client's message threads with the business, and the service-request
//! form. Each page answers 404 when the org hides its section; each post is CSRF-checked like
//! every portal form and limited per session.

use std::sync::Arc;

use poem::http::StatusCode;
use poem::web::{Data, Form, Multipart, Path, Query};
use poem::{Request, Response, handler};
use portico_core::model::{Author, RecordId, Thread};
use portico_core::policy::inbox::{AttachedPhoto, RequestForm};
use portico_core::service::PortalError;
use serde::Deserialize;
use time::Date;

use super::{At, Body, Pages, accept, failed, form_expired, gone, render};
use crate::pages::{bad_request, internal, see_other, sentence, too_many};

pub(crate) struct ThreadRow {
    pub(crate) url: String,
    pub(crate) title: String,
    pub(crate) count: usize,
    pub(crate) unread: usize,
    pub(crate) last: String,
}

pub(crate) struct MessageRow {
    pub(crate) mine: bool,
    pub(crate) author: String,
    pub(crate) body: String,
    pub(crate) at: String,
}

pub(crate) struct Choice {
    pub(crate) value: String,
    pub(crate) label: String,
}

/// The service-request form's fields as shown.
pub(crate) struct RequestFields {
    pub(crate) name: String,
    pub(crate) email: String,
    pub(crate) phone: String,
    pub(crate) address: String,
    pub(crate) description: String,
    pub(crate) dates: [String; 3],
    pub(crate) today: String,
}

/// A thread as a form field: `general`, or `job:{id}`.
fn thread_value(thread: &Thread) -> String {
    match thread {
        Thread::General => "general".into(),
        Thread::Job(id) => format!("job:{id}"),
    }
}

fn thread_of(value: &str) -> Option<Thread> {
    match value.split_once(':') {
        None if value == "general" => Some(Thread::General),
        Some(("job", id)) => RecordId::new(id).ok().map(Thread::Job),
        _ => None,
    }
}

fn thread_url(at: &At, thread: &Thread) -> String {
    match thread {
        Thread::General => format!("{}/messages/general", at.base),
        Thread::Job(id) => format!(
            "{}/messages/jobs/{}",
            at.base,
            super::path_segment(id.as_str())
        ),
    }
}

#[handler]
pub(crate) async fn portal_threads(
    req: &Request,
    Path(org): Path<String>,
    Data(pages): Data<&Arc<Pages>>,
) -> Response {
    let Some(at) = At::new(pages, req, &org) else {
        return crate::pages::not_found();
    };
    match pages.portico.portal_threads(&at.org, at.session()).await {
        Ok(list) => {
            let show = &list.presentation;
            let threads = list
                .threads
                .iter()
                .map(|t| ThreadRow {
                    url: thread_url(&at, &t.summary.thread),
                    title: t.title.clone(),
                    count: t.summary.count,
                    unread: t.summary.unread,
                    last: show.date_time(t.summary.last_at),
                })
                .collect();
            let choices = std::iter::once(Choice {
                value: "general".into(),
                label: "General question".into(),
            })
            .chain(list.jobs.iter().map(|(id, title)| Choice {
                value: thread_value(&Thread::Job(id.clone())),
                label: format!("About: {title}"),
            }))
            .collect();
            let p = pages.signed_in_page(
                &at,
                "Messages",
                &list.company,
                Body::Threads {
                    csrf: pages.portal_csrf(&at),
                    base: at.base.clone(),
                    threads,
                    choices,
                },
            );
            render(&p, StatusCode::OK)
        }
        Err(e) => failed(&at, &e),
    }
}

async fn thread_page(
    pages: &Pages,
    at: &At,
    thread: &Thread,
    draft: &str,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    match pages
        .portico
        .portal_conversation(&at.org, at.session(), thread)
        .await
    {
        Ok(conversation) => {
            let show = &conversation.presentation;
            let messages = conversation
                .messages
                .iter()
                .map(|m| MessageRow {
                    mine: m.from_client(),
                    author: match &m.author {
                        Author::Client => "You".into(),
                        Author::Staff { name, .. } => name.clone(),
                    },
                    body: m.body.clone(),
                    at: show.date_time(m.at),
                })
                .collect();
            let mut p = pages.signed_in_page(
                at,
                &conversation.title,
                &conversation.company,
                Body::Thread {
                    csrf: pages.portal_csrf(at),
                    base: at.base.clone(),
                    thread: thread_value(thread),
                    messages,
                    draft: draft.to_owned(),
                },
            );
            p.error = error;
            render(&p, status)
        }
        Err(e) => failed(at, &e),
    }
}

#[handler]
pub(crate) async fn portal_general_thread(
    req: &Request,
    Path(org): Path<String>,
    Data(pages): Data<&Arc<Pages>>,
) -> Response {
    let Some(at) = At::new(pages, req, &org) else {
        return crate::pages::not_found();
    };
    thread_page(pages, &at, &Thread::General, "", None, StatusCode::OK).await
}

#[handler]
pub(crate) async fn portal_job_thread(
    req: &Request,
    Path((org, id)): Path<(String, String)>,
    Data(pages): Data<&Arc<Pages>>,
) -> Response {
    let Some(at) = At::new(pages, req, &org) else {
        return crate::pages::not_found();
    };
    let Ok(id) = RecordId::new(&id) else {
        return gone(&at, None);
    };
    thread_page(pages, &at, &Thread::Job(id), "", None, StatusCode::OK).await
}

#[derive(Deserialize)]
pub(crate) struct MessageForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    thread: String,
    #[serde(default)]
    body: String,
}

#[handler]
pub(crate) async fn portal_send_message(
    req: &Request,
    Path(org): Path<String>,
    Data(pages): Data<&Arc<Pages>>,
    form: poem::Result<Form<MessageForm>>,
) -> Response {
    let Some(at) = At::new(pages, req, &org) else {
        return crate::pages::not_found();
    };
    let form = match accept(pages, req, &at, form, true) {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    let Some(thread) = thread_of(&form.thread) else {
        return gone(&at, None);
    };
    if let Err(wait) = pages.portal_writes.spend(&at.session().to_owned()) {
        return too_many(wait);
    }
    match pages
        .portico
        .portal_send_message(&at.org, at.session(), &thread, &form.body)
        .await
    {
        Ok(_) => see_other(&format!("{}#latest", thread_url(&at, &thread))),
        Err(PortalError::Writing(refused)) => {
            let error = Some(sentence(&refused.to_string()));
            thread_page(
                pages,
                &at,
                &thread,
                &form.body,
                error,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e @ (PortalError::NotSignedIn | PortalError::NotFound)) => failed(&at, &e),
        Err(e) => internal(&e),
    }
}

fn fields(form: &RequestForm, dates: [String; 3], today: Date) -> RequestFields {
    RequestFields {
        name: form.name.clone(),
        email: form.email.clone(),
        phone: form.phone.clone(),
        address: form.address.clone(),
        description: form.description.clone(),
        dates,
        today: today.to_string(),
    }
}

#[derive(Deserialize)]
pub(crate) struct RequestQuery {
    sent: Option<String>,
}

#[handler]
pub(crate) async fn portal_request_form(
    req: &Request,
    Path(org): Path<String>,
    Query(query): Query<RequestQuery>,
    Data(pages): Data<&Arc<Pages>>,
) -> Response {
    let Some(at) = At::new(pages, req, &org) else {
        return crate::pages::not_found();
    };
    let shown = if query.sent.is_some() {
        RequestShown::Sent
    } else {
        RequestShown::OnFile
    };
    request_page(pages, &at, shown, StatusCode::OK).await
}

/// What the service-request page shows.
enum RequestShown<'a> {
    /// The form, filled in with the client's details on file.
    OnFile,
    /// The form as it was posted, the dates as typed, and why it was refused.
    Refused(&'a RequestForm, [String; 3], String),
    /// The request was sent.
    Sent,
}

async fn request_page(
    pages: &Pages,
    at: &At,
    shown: RequestShown<'_>,
    status: StatusCode,
) -> Response {
    let prefill = match pages
        .portico
        .portal_request_form(&at.org, at.session())
        .await
    {
        Ok(prefill) => prefill,
        Err(e) => return failed(at, &e),
    };
    let form = |form: &RequestForm, dates: [String; 3]| Body::Request {
        csrf: pages.portal_csrf(at),
        base: at.base.clone(),
        fields: fields(form, dates, prefill.today),
    };
    let (title, body, error) = match shown {
        RequestShown::OnFile => (
            "Request a service",
            form(&prefill.form, Default::default()),
            None,
        ),
        RequestShown::Refused(typed, dates, why) => {
            ("Request a service", form(typed, dates), Some(why))
        }
        RequestShown::Sent => (
            "Request sent",
            Body::RequestSent {
                base: at.base.clone(),
            },
            None,
        ),
    };
    let mut p = pages.signed_in_page(at, title, &prefill.company, body);
    p.error = error;
    render(&p, status)
}

#[derive(Deserialize, Default)]
pub(crate) struct RequestFormBody {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    date1: String,
    #[serde(default)]
    date2: String,
    #[serde(default)]
    date3: String,
}

const DAY: &[time::format_description::FormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]");

/// The most fields a multipart service request may carry (the form has eleven).
const MAX_PARTS: usize = 24;

/// The service-request form as posted: URL-encoded (no photos) or multipart (with them). The
/// photos' types are detected from their bytes.
async fn posted_request(
    form: poem::Result<Form<RequestFormBody>>,
    multipart: poem::Result<Multipart>,
) -> Option<(RequestFormBody, Vec<AttachedPhoto>)> {
    if let Ok(Form(form)) = form {
        return Some((form, Vec::new()));
    }
    let mut multipart = multipart.ok()?;
    let mut form = RequestFormBody::default();
    let mut photos = Vec::new();
    for _ in 0..MAX_PARTS {
        let Ok(Some(field)) = multipart.next_field().await else {
            return Some((form, photos));
        };
        let name = field.name().unwrap_or_default().to_owned();
        if name == "photos" {
            let bytes = field.bytes().await.ok()?;
            let content_type = infer::get(&bytes)
                .map_or("application/octet-stream", |t| t.mime_type())
                .to_owned();
            photos.push(AttachedPhoto {
                content_type,
                bytes,
            });
            continue;
        }
        let text = field.text().await.ok()?;
        let slot = match name.as_str() {
            "csrf" => &mut form.csrf,
            "name" => &mut form.name,
            "email" => &mut form.email,
            "phone" => &mut form.phone,
            "address" => &mut form.address,
            "description" => &mut form.description,
            "date1" => &mut form.date1,
            "date2" => &mut form.date2,
            "date3" => &mut form.date3,
            _ => continue,
        };
        *slot = text;
    }
    None
}

#[handler]
pub(crate) async fn portal_send_request(
    req: &Request,
    Path(org): Path<String>,
    Data(pages): Data<&Arc<Pages>>,
    form: poem::Result<Form<RequestFormBody>>,
    multipart: poem::Result<Multipart>,
) -> Response {
    let Some(at) = At::new(pages, req, &org) else {
        return crate::pages::not_found();
    };
    let Some((posted, photos)) = posted_request(form, multipart).await else {
        return bad_request("The form was incomplete.");
    };
    if !pages.portal_form_ok(req, &at, &posted.csrf, true) {
        return form_expired(&at.base);
    }
    let raw_dates = [posted.date1, posted.date2, posted.date3];
    let mut form = RequestForm {
        name: posted.name,
        email: posted.email,
        phone: posted.phone,
        address: posted.address,
        description: posted.description,
        preferred_dates: Vec::new(),
    };
    for raw in raw_dates.iter().map(|d| d.trim()).filter(|d| !d.is_empty()) {
        let Ok(day) = Date::parse(raw, DAY) else {
            let why = "Please enter dates as year-month-day.".to_owned();
            let shown = RequestShown::Refused(&form, raw_dates, why);
            return request_page(pages, &at, shown, StatusCode::UNPROCESSABLE_ENTITY).await;
        };
        form.preferred_dates.push(day);
    }
    if let Err(wait) = pages.portal_writes.spend(&at.session().to_owned()) {
        return too_many(wait);
    }
    match pages
        .portico
        .portal_send_request(&at.org, at.session(), &form, photos)
        .await
    {
        Ok(_) => see_other(&format!("{}/request?sent=1", at.base)),
        Err(PortalError::Writing(refused)) => {
            let shown = RequestShown::Refused(&form, raw_dates, sentence(&refused.to_string()));
            request_page(pages, &at, shown, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e @ (PortalError::NotSignedIn | PortalError::NotFound)) => failed(&at, &e),
        Err(e) => internal(&e),
    }
}

impl crate::pages::PostedForm for MessageForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

impl crate::pages::PostedForm for RequestFormBody {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}
