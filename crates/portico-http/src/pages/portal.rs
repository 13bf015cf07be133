//! The client portal's pages (C1–C6, C8), under `/portal/{org}`: the sign-in page (emailed link,
//! code, or password), the scanner-safe confirm page of an emailed link, the signed-in home with
//! the client's invoices, estimates and jobs, each record's page (the same client view as its
//! share page), and the password page.
//!
//! - The session lives in one cookie, `__Host-portico_session` (`HttpOnly; Secure;
//!   SameSite=Lax; Path=/`); the store keeps only its hash and ends it on sign-out.
//! - Every form is CSRF-checked: a MAC of the session (or, before sign-in, of the org) and the
//!   browser's `Sec-Fetch-Site`/`Origin`.
//! - Asking for a link answers the same page at once whatever the address, and does the work
//!   after answering, so neither the page nor its timing tells whether an address is known.
//! - Failed codes and passwords are throttled per address with growing blocks, on top of the
//!   core's per-account waits; emailed links are limited per address and per email.

use std::net::IpAddr;
use std::sync::Arc;

use askama::Template;
use poem::http::{HeaderValue, StatusCode, header};
use poem::web::{Data, Form, Path, Query};
use poem::{Request, Response, handler};
use portico_core::locale::Presentation;
use portico_core::model::{FileId, GrantPurpose, OrgId, RecordId, RecordKind, RecordRef};
use portico_core::service::{
    GrantLook, HelpRequest, Paging, PortalError, PortalHome, PortalItem, PortalList,
};
use portico_core::view::{CompanyCard, status_words};
use serde::Deserialize;

use super::view::{Company, Extras, HelpForm, PortalNav};
use super::{
    DecisionForm, HelpFormBody, Pages, bad_request, client_ip, html, internal, see_other, sentence,
    too_many,
};

mod inbox;
mod plans;

pub(crate) use inbox::{
    portal_general_thread, portal_job_thread, portal_request_form, portal_send_message,
    portal_send_request, portal_threads,
};
pub(crate) use plans::{
    contract_copy, portal_agreements, portal_appointments, portal_contract,
    portal_contract_document, portal_contract_version, portal_contracts, portal_sign_contract,
    portal_signature_image,
};

/// The session cookie's name; `__Host-` binds it to this host, `Secure` and `Path=/`.
pub(crate) const COOKIE: &str = "__Host-portico_session";

/// An org id as a path segment (host ids are URL-safe; only `.` and `..` need escaping).
pub(crate) fn path_segment(org: &str) -> String {
    if org.chars().all(|c| c == '.') {
        org.replace('.', "%2E")
    } else {
        org.to_owned()
    }
}

/// What the portal page shows.
pub(crate) enum Body {
    SignIn {
        enabled: bool,
        csrf: String,
        base: String,
        email: String,
    },
    Forgot {
        csrf: String,
        base: String,
    },
    Sent {
        base: String,
    },
    Confirm {
        csrf: String,
        base: String,
        token: String,
        reset: bool,
    },
    Spent {
        csrf: String,
        base: String,
    },
    Home {
        home: HomeView,
    },
    Account {
        csrf: String,
        base: String,
        has_password: bool,
        welcome: bool,
    },
    Threads {
        csrf: String,
        base: String,
        threads: Vec<inbox::ThreadRow>,
        choices: Vec<inbox::Choice>,
    },
    Thread {
        csrf: String,
        base: String,
        thread: String,
        messages: Vec<inbox::MessageRow>,
        draft: String,
    },
    Request {
        csrf: String,
        base: String,
        fields: inbox::RequestFields,
    },
    RequestSent {
        base: String,
    },
    Agreements {
        agreements: Vec<plans::AgreementRow>,
    },
    Appointments {
        upcoming: Vec<plans::AppointmentRow>,
        past: Vec<plans::AppointmentRow>,
    },
    Contracts {
        contracts: Vec<plans::ContractRow>,
    },
    Contract {
        contract: plans::ContractView,
    },
    Gone,
}

pub(crate) struct HomeView {
    welcome: Option<String>,
    has_password: bool,
    account_url: String,
    /// The messages page and how many answers are unread, when the org shows messages.
    messages: Option<(String, usize)>,
    /// The service-request form, when the org shows it.
    request_url: Option<String>,
    /// The agreements page, when the org shows it.
    agreements_url: Option<String>,
    /// The appointments page, when the org shows it.
    appointments_url: Option<String>,
    /// The contracts page and how many wait for a signature, when the org shows contracts.
    contracts: Option<(String, usize)>,
    lists: Vec<ListView>,
}

struct ListView {
    key: &'static str,
    heading: &'static str,
    empty: &'static str,
    total: usize,
    items: Vec<ItemView>,
    previous: Option<String>,
    next: Option<String>,
}

struct ItemView {
    url: String,
    title: String,
    number: Option<String>,
    status_code: String,
    status_label: String,
    detail: Option<String>,
}

#[derive(Template)]
#[template(path = "portal.html")]
struct PortalPage {
    title: String,
    company: Company,
    nav: Option<PortalNav>,
    notice: Option<String>,
    error: Option<String>,
    body: Body,
}

/// The portal's pieces of a request: the org, its base path, the client's address, the cookie.
struct At {
    org: OrgId,
    base: String,
    ip: IpAddr,
    session: Option<String>,
}

impl At {
    fn new(pages: &Pages, req: &Request, raw_org: &str) -> Option<Self> {
        let org = OrgId::new(raw_org).ok()?;
        let base = format!("/portal/{}", path_segment(org.as_str()));
        Some(Self {
            org,
            base,
            ip: client_ip(pages, req),
            session: session_cookie(req),
        })
    }

    fn session(&self) -> &str {
        self.session.as_deref().unwrap_or_default()
    }
}

fn session_cookie(req: &Request) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_owned())
}

fn set_cookie(resp: &mut Response, value: &str, max_age: Option<i64>) {
    let age = max_age.map_or_else(String::new, |s| format!("; Max-Age={s}"));
    let cookie = format!("{COOKIE}={value}; HttpOnly; Secure; SameSite=Lax; Path=/{age}");
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// The answer to a failed signed-in request: back to sign-in when the session is over, the
/// not-found page for what is not the client's, the error page otherwise.
fn failed(at: &At, e: &PortalError) -> Response {
    match e {
        PortalError::NotSignedIn => signed_out(at),
        PortalError::NotFound => gone(at, None),
        other => internal(other),
    }
}

/// Back to the sign-in page, forgetting the cookie: the session is over.
fn signed_out(at: &At) -> Response {
    let mut resp = see_other(&at.base);
    set_cookie(&mut resp, "", Some(0));
    resp
}

impl Pages {
    /// The MAC a form posted before sign-in carries: of the org.
    fn public_csrf(&self, at: &At) -> String {
        self.portico
            .keys()
            .mac("portal", at.org.as_str().as_bytes())
    }

    /// The MAC a page's forms carry: of the session when signed in, else of the org.
    fn portal_csrf(&self, at: &At) -> String {
        match &at.session {
            Some(s) => self.portico.keys().mac("portal session", s.as_bytes()),
            None => self.public_csrf(at),
        }
    }

    fn portal_form_ok(&self, req: &Request, at: &At, presented: &str, signed_in: bool) -> bool {
        let keys = self.portico.keys();
        let mac_ok = if signed_in {
            at.session
                .as_ref()
                .is_some_and(|s| keys.verify_mac("portal session", s.as_bytes(), presented))
        } else {
            keys.verify_mac("portal", at.org.as_str().as_bytes(), presented)
        };
        self.same_site(req) && mac_ok
    }

    /// A page for a signed-in client: `page` with the portal's navigation.
    fn signed_in_page(&self, at: &At, title: &str, card: &CompanyCard, body: Body) -> PortalPage {
        let mut p = page(title, company(card, at), body);
        p.nav = Some(self.nav(at));
        p
    }

    fn nav(&self, at: &At) -> PortalNav {
        PortalNav {
            home: format!("{}/home", at.base),
            account: format!("{}/account", at.base),
            sign_out: format!("{}/sign-out", at.base),
            csrf: self.portal_csrf(at),
        }
    }
}

fn render(page: &PortalPage, status: StatusCode) -> Response {
    match page.render() {
        Ok(body) => html(status, body),
        Err(e) => internal(&e),
    }
}

fn company(card: &CompanyCard, at: &At) -> Company {
    let mut company = Company::new(card, None);
    if card.logo.is_some() {
        company.logo_url = Some(format!("{}/logo", at.base));
    }
    company
}

fn page(title: &str, company: Company, body: Body) -> PortalPage {
    PortalPage {
        title: title.to_owned(),
        company,
        nav: None,
        notice: None,
        error: None,
        body,
    }
}

/// The one page for anything that is not there (an unknown org, another client's record).
fn gone(at: &At, card: Option<&CompanyCard>) -> Response {
    let company = card.map_or_else(
        || Company {
            name: "Client portal".into(),
            logo_url: None,
            phone: None,
            phone_href: String::new(),
            email: None,
        },
        |c| company(c, at),
    );
    render(
        &page("Not found", company, Body::Gone),
        StatusCode::NOT_FOUND,
    )
}

/// The business card of the org, or the answer for an unknown org (or a failed read).
async fn card(pages: &Pages, at: &At) -> Result<CompanyCard, Response> {
    match entry(pages, at).await? {
        Some((card, _)) => Ok(card),
        None => Err(gone(at, None)),
    }
}

async fn entry(pages: &Pages, at: &At) -> Result<Option<(CompanyCard, bool)>, Response> {
    match pages.portico.portal_entry(&at.org).await {
        Ok(found) => Ok(found.map(|e| (e.company, e.enabled))),
        Err(e) => Err(internal(&e)),
    }
}

/// The sign-in page, with an error or notice and `status`.
async fn sign_in_page(
    pages: &Pages,
    at: &At,
    email: &str,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let (card, enabled) = match entry(pages, at).await {
        Ok(Some(found)) => found,
        Ok(None) => return gone(at, None),
        Err(resp) => return resp,
    };
    let mut p = page(
        &format!("Sign in to {}", card.name),
        company(&card, at),
        Body::SignIn {
            enabled,
            csrf: pages.public_csrf(at),
            base: at.base.clone(),
            email: email.to_owned(),
        },
    );
    p.error = error;
    let status = if enabled {
        status
    } else {
        StatusCode::FORBIDDEN
    };
    render(&p, status)
}

#[handler]
pub(crate) async fn portal_index(
    req: &Request,
    Path(org): Path<String>,
    Data(pages): Data<&Arc<Pages>>,
) -> Response {
    let Some(at) = At::new(pages, req, &org) else {
        return super::not_found();
    };
    if at.session.is_some()
        && pages
            .portico
            .portal_whoami(&at.org, at.session())
            .await
            .is_ok()
    {
        return see_other(&format!("{}/home", at.base));
    }
    sign_in_page(pages, &at, "", None, StatusCode::OK).await
}

#[derive(Deserialize)]
struct EmailForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    csrf: String,
}

/// A posted portal form, once it parsed and passed the CSRF check (signed in: the session's
/// MAC; before sign-in: the org's); the refusal page otherwise.
fn accept<T: super::PostedForm>(
    pages: &Pages,
    req: &Request,
    at: &At,
    form: poem::Result<Form<T>>,
    signed_in: bool,
) -> Result<T, Box<Response>> {
    let Ok(Form(form)) = form else {
        return Err(Box::new(bad_request("The form was incomplete.")));
    };
    if pages.portal_form_ok(req, at, form.csrf(), signed_in) {
        Ok(form)
    } else {
        Err(Box::new(form_expired(&at.base)))
    }
}

fn form_expired(back: &str) -> Response {
    html(
        StatusCode::FORBIDDEN,
        format!(
            "<!doctype html><title>Form expired</title><p>This form could not be accepted. Please <a href=\"{back}\">start again</a>.</p>"
        ),
    )
}

/// Asks for a sign-in link (or a reset link): the same page at once whatever the address; the
/// work is done after answering.
async fn send_link(
    pages: &Arc<Pages>,
    req: &Request,
    at: &At,
    form: poem::Result<Form<EmailForm>>,
    purpose: GrantPurpose,
) -> Response {
    let form = match accept(pages, req, at, form, false) {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    let card = match card(pages, at).await {
        Ok(card) => card,
        Err(resp) => return resp,
    };
    let address = crate::listener::address_key(at.ip);
    if let Err(wait) = pages.portal_mails.spend(&address) {
        return too_many(wait);
    }
    let portico = pages.portico.clone();
    let org = at.org.clone();
    tokio::spawn(async move {
        if let Err(e) = portico.request_sign_in(&org, &form.email, purpose).await {
            tracing::warn!(error = %e, "a portal sign-in request failed");
        }
    });
    render(
        &page(
            "Check your email",
            company(&card, at),
            Body::Sent {
                base: at.base.clone(),
            },
        ),
        StatusCode::OK,
    )
}

#[handler]
pub(crate) async fn portal_request_link(
    req: &Request,
    Path(org): Path<String>,
    Data(pages): Data<&Arc<Pages>>,
    form: poem::Result<Form<EmailForm>>,
) -> Response {
    let Some(at) = At::new(pages, req, &org) else {
        return super::not_found();
    };
    send_link(pages, req, &at, form, GrantPurpose::SignIn).await
}

#[handler]
pub(crate) async fn portal_forgot_page(
    req: &Request,
    Path(org): Path<String>,
    Data(pages): Data<&Arc<Pages>>,
) -> Response {
    let Some(at) = At::new(pages, req, &org) else {
        return super::not_found();
    };
    let card = match entry(pages, &at).await {
        Ok(Some((card, true))) => card,
        Ok(Some(_)) => return sign_in_page(pages, &at, "", None, StatusCode::OK).await,
        Ok(None) => return gone(&at, None),
        Err(resp) => return resp,
    };
    render(
        &page(
            "Forgot your password?",
            company(&card, &at),
            Body::Forgot {
                csrf: pages.public_csrf(&at),
                base: at.base.clone(),
            },
        ),
        StatusCode::OK,
    )
}

#[handler]
pub(crate) async fn portal_request_reset(
    req: &Request,
    Path(org): Path<String>,
    Data(pages): Data<&Arc<Pages>>,
    form: poem::Result<Form<EmailForm>>,
) -> Response {
    let Some(at) = At::new(pages, req, &org) else {
        return super::not_found();
    };
    send_link(pages, req, &at, form, GrantPurpose::Reset).await
}

/// The page an emailed link opens: it changes nothing (mail scanners open every link); its
/// button posts the token back.
#[handler]
pub(crate) async fn portal_confirm_page(
    req: &Request,
    Path((org, token)): Path<(String, String)>,
    Data(pages): Data<&Arc<Pages>>,
) -> Response {
    let Some(at) = At::new(pages, req, &org) else {
        return super::not_found();
    };
    let csrf = pages.public_csrf(&at);
    match pages.portico.peek_grant(&at.org, &token).await {
        Ok(GrantLook::Usable {
            purpose,
            company: card,
        }) => {
            let title = if purpose == GrantPurpose::Reset {
                "Choose a new password".to_owned()
            } else {
                format!("Sign in to {}", card.name)
            };
            render(
                &page(
                    &title,
                    company(&card, &at),
                    Body::Confirm {
                        csrf,
                        base: at.base.clone(),
                        token,
                        reset: purpose == GrantPurpose::Reset,
                    },
                ),
                StatusCode::OK,
            )
        }
        Ok(GrantLook::Spent { company: card }) => spent(&at, &card, csrf),
        Ok(_) => {
            let card = match entry(pages, &at).await {
                Ok(found) => found.map(|(c, _)| c),
                Err(resp) => return resp,
            };
            gone(&at, card.as_ref())
        }
        Err(e) => internal(&e),
    }
}

fn spent(at: &At, card: &CompanyCard, csrf: String) -> Response {
    render(
        &page(
            "This link no longer works",
            company(card, at),
            Body::Spent {
                csrf,
                base: at.base.clone(),
            },
        ),
        StatusCode::GONE,
    )
}

#[derive(Deserialize)]
struct LinkForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    csrf: String,
}

/// Starts the session: the new cookie, and the home (or, after an invitation, the page that
/// offers to set a password).
fn started(at: &At, signed: &portico_core::service::SignedIn) -> Response {
    let to = if signed.purpose == Some(GrantPurpose::Invite) {
        format!("{}/account?welcome=1", at.base)
    } else {
        format!("{}/home", at.base)
    };
    let mut resp = see_other(&to);
    set_cookie(&mut resp, signed.session.expose(), None);
    resp
}

#[handler]
pub(crate) async fn portal_use_link(
    req: &Request,
    Path(org): Path<String>,
    Data(pages): Data<&Arc<Pages>>,
    form: poem::Result<Form<LinkForm>>,
) -> Response {
    let Some(at) = At::new(pages, req, &org) else {
        return super::not_found();
    };
    let form = match accept(pages, req, &at, form, false) {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    let password = form.password.as_deref().filter(|p| !p.is_empty());
    match pages
        .portico
        .use_grant(&at.org, &form.token, password)
        .await
    {
        Ok(signed) => started(&at, &signed),
        Err(PortalError::LinkSpent) => {
            let card = match card(pages, &at).await {
                Ok(card) => card,
                Err(resp) => return resp,
            };
            spent(&at, &card, form.csrf)
        }
        Err(e @ (PortalError::Password(_) | PortalError::PasswordNeeded)) => {
            let card = match card(pages, &at).await {
                Ok(card) => card,
                Err(resp) => return resp,
            };
            let mut p = page(
                "Choose a new password",
                company(&card, &at),
                Body::Confirm {
                    csrf: form.csrf,
                    base: at.base.clone(),
                    token: form.token,
                    reset: true,
                },
            );
            p.error = Some(sentence(&e.to_string()));
            render(&p, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e) => internal(&e),
    }
}

#[derive(Deserialize)]
struct CodeForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    csrf: String,
}

#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
}

/// The answer to a code or password sign-in.
async fn signed_in_or_refused(
    pages: &Pages,
    at: &At,
    email: &str,
    result: Result<portico_core::service::SignedIn, PortalError>,
) -> Response {
    match result {
        Ok(signed) => started(at, &signed),
        // One answer for every refusal, a waiting account's included (the core's); the
        // address's own throttle answers 429 alike for every address.
        Err(PortalError::Refused) => {
            if let Some(wait) = pages.portal_failures.failed(at.ip) {
                return too_many(wait);
            }
            let error = "The email, code or password is not right. Check them, or ask for a new link; after several wrong tries, wait a minute before the next.";
            sign_in_page(
                pages,
                at,
                email,
                Some(error.to_owned()),
                StatusCode::UNAUTHORIZED,
            )
            .await
        }
        Err(PortalError::PasswordsUnavailable) => {
            let error = "Password sign-in is not available; please ask for a link.";
            sign_in_page(
                pages,
                at,
                email,
                Some(error.to_owned()),
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => internal(&e),
    }
}

/// A code or password sign-in form, once its org, CSRF value and address pass (a blocked
/// address waits before any check).
fn sign_in_form<T: super::PostedForm>(
    pages: &Pages,
    req: &Request,
    org: &str,
    form: poem::Result<Form<T>>,
) -> Result<(At, T), Box<Response>> {
    let Some(at) = At::new(pages, req, org) else {
        return Err(Box::new(super::not_found()));
    };
    let form = accept(pages, req, &at, form, false)?;
    if let Some(wait) = pages.portal_failures.blocked_for(at.ip) {
        return Err(Box::new(too_many(wait)));
    }
    Ok((at, form))
}

#[handler]
pub(crate) async fn portal_with_code(
    req: &Request,
    Path(org): Path<String>,
    Data(pages): Data<&Arc<Pages>>,
    form: poem::Result<Form<CodeForm>>,
) -> Response {
    let (at, form) = match sign_in_form(pages, req, &org, form) {
        Ok(found) => found,
        Err(refused) => return *refused,
    };
    let result = pages
        .portico
        .sign_in_with_code(&at.org, &form.email, &form.code)
        .await;
    signed_in_or_refused(pages, &at, &form.email, result).await
}

#[handler]
pub(crate) async fn portal_with_password(
    req: &Request,
    Path(org): Path<String>,
    Data(pages): Data<&Arc<Pages>>,
    form: poem::Result<Form<PasswordForm>>,
) -> Response {
    let (at, form) = match sign_in_form(pages, req, &org, form) {
        Ok(found) => found,
        Err(refused) => return *refused,
    };
    let result = pages
        .portico
        .sign_in_with_password(&at.org, &form.email, &form.password)
        .await;
    signed_in_or_refused(pages, &at, &form.email, result).await
}

/// The portal's forms carry their CSRF value like the share pages' forms.
macro_rules! posted_forms {
    ($($form:ty),*) => {$(
        impl super::PostedForm for $form {
            fn csrf(&self) -> &str {
                &self.csrf
            }
        }
    )*};
}
posted_forms!(
    EmailForm,
    LinkForm,
    CodeForm,
    PasswordForm,
    CsrfForm,
    AccountForm
);

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

#[handler]
pub(crate) async fn portal_sign_out(
    req: &Request,
    Path(org): Path<String>,
    Data(pages): Data<&Arc<Pages>>,
    form: poem::Result<Form<CsrfForm>>,
) -> Response {
    let Some(at) = At::new(pages, req, &org) else {
        return super::not_found();
    };
    if let Err(refused) = accept(pages, req, &at, form, true) {
        return *refused;
    }
    if let Err(e) = pages.portico.sign_out(&at.org, at.session()).await {
        return internal(&e);
    }
    signed_out(&at)
}

#[derive(Deserialize)]
struct HomeQuery {
    page: Option<usize>,
}

fn detail(item: &PortalItem, show: &Presentation) -> Option<String> {
    let date = item.date.map(|d| show.date(d));
    match item.reference.kind {
        RecordKind::Invoice => {
            let due = item.amount_due.as_ref().map(|m| show.money(m));
            Some(match (due, date) {
                (Some(due), Some(date)) => format!("{due} due · due date {date}"),
                (Some(due), None) => format!("{due} due"),
                (None, Some(date)) => format!("Due date {date}"),
                (None, None) => return None,
            })
        }
        RecordKind::Quote => {
            let total = item.total.as_ref().map(|m| show.money(m));
            match (total, date) {
                (Some(total), Some(date)) => Some(format!("{total} · valid until {date}")),
                (Some(total), None) => Some(total),
                (None, Some(date)) => Some(format!("Valid until {date}")),
                (None, None) => None,
            }
        }
        RecordKind::WorkOrder => date.map(|d| format!("Planned {d}")),
    }
}

pub(crate) fn kind_segment(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::WorkOrder => "jobs",
        RecordKind::Quote => "estimates",
        RecordKind::Invoice => "invoices",
    }
}

fn kind_of_segment(segment: &str) -> Option<RecordKind> {
    [
        RecordKind::WorkOrder,
        RecordKind::Quote,
        RecordKind::Invoice,
    ]
    .into_iter()
    .find(|k| kind_segment(*k) == segment)
}

fn home_view(home: &PortalHome, at: &At, page: usize, per_page: usize) -> HomeView {
    let show = &home.presentation;
    let list =
        |key: &'static str, heading: &'static str, empty: &'static str, list: &PortalList| {
            let link = |n: usize| format!("{}/home?page={n}#s-{key}", at.base);
            ListView {
                key,
                heading,
                empty,
                total: list.total,
                items: list
                    .items
                    .iter()
                    .map(|item| ItemView {
                        url: format!(
                            "{}/r/{}/{}",
                            at.base,
                            kind_segment(item.reference.kind),
                            item.reference.id
                        ),
                        title: item.title.clone(),
                        number: item.number.clone(),
                        status_code: item.status.clone(),
                        status_label: status_words(&item.status),
                        detail: detail(item, show),
                    })
                    .collect(),
                previous: (page > 1).then(|| link(page - 1)),
                next: (page.saturating_mul(per_page) < list.total).then(|| link(page + 1)),
            }
        };
    let mut lists = vec![list(
        "invoices",
        "Invoices",
        "No invoices yet.",
        &home.invoices,
    )];
    if let Some(estimates) = &home.estimates {
        lists.push(list(
            "estimates",
            "Estimates",
            "No estimates yet.",
            estimates,
        ));
    }
    if let Some(jobs) = &home.jobs {
        lists.push(list("jobs", "Jobs", "No jobs yet.", jobs));
    }
    HomeView {
        welcome: home.welcome.clone(),
        has_password: home.has_password,
        account_url: format!("{}/account", at.base),
        messages: home
            .unread_messages
            .map(|unread| (format!("{}/messages", at.base), unread)),
        request_url: home
            .service_requests
            .then(|| format!("{}/request", at.base)),
        agreements_url: home.agreements.then(|| format!("{}/agreements", at.base)),
        appointments_url: home
            .appointments
            .then(|| format!("{}/appointments", at.base)),
        contracts: home
            .contracts_to_sign
            .map(|waiting| (format!("{}/contracts", at.base), waiting)),
        lists,
    }
}

#[handler]
pub(crate) async fn portal_home(
    req: &Request,
    Path(org): Path<String>,
    Query(query): Query<HomeQuery>,
    Data(pages): Data<&Arc<Pages>>,
) -> Response {
    let Some(at) = At::new(pages, req, &org) else {
        return super::not_found();
    };
    let paging = Paging {
        page: query.page.unwrap_or(1).clamp(1, 100_000),
        ..Paging::default()
    };
    match pages
        .portico
        .portal_home(&at.org, at.session(), paging)
        .await
    {
        Ok(home) => {
            let p = pages.signed_in_page(
                &at,
                &format!("Hello, {}", home.client_name),
                &home.company,
                Body::Home {
                    home: home_view(&home, &at, paging.page, paging.per_page),
                },
            );
            render(&p, StatusCode::OK)
        }
        Err(e) => failed(&at, &e),
    }
}

#[derive(Deserialize)]
struct AccountQuery {
    welcome: Option<String>,
}

#[derive(Deserialize)]
struct AccountForm {
    #[serde(default)]
    current: Option<String>,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
}

async fn account_page(
    pages: &Pages,
    at: &At,
    welcome: bool,
    notice: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    match pages.portico.portal_whoami(&at.org, at.session()).await {
        Ok((card, _, has_password)) => {
            let mut p = pages.signed_in_page(
                at,
                if has_password {
                    "Change your password"
                } else {
                    "Set a password"
                },
                &card,
                Body::Account {
                    csrf: pages.portal_csrf(at),
                    base: at.base.clone(),
                    has_password,
                    welcome,
                },
            );
            p.notice = notice;
            p.error = error;
            render(&p, status)
        }
        Err(e) => failed(at, &e),
    }
}

#[handler]
pub(crate) async fn portal_account(
    req: &Request,
    Path(org): Path<String>,
    Query(query): Query<AccountQuery>,
    Data(pages): Data<&Arc<Pages>>,
) -> Response {
    let Some(at) = At::new(pages, req, &org) else {
        return super::not_found();
    };
    let welcome = query.welcome.is_some();
    account_page(pages, &at, welcome, None, None, StatusCode::OK).await
}

#[handler]
pub(crate) async fn portal_set_password(
    req: &Request,
    Path(org): Path<String>,
    Data(pages): Data<&Arc<Pages>>,
    form: poem::Result<Form<AccountForm>>,
) -> Response {
    let Some(at) = At::new(pages, req, &org) else {
        return super::not_found();
    };
    let form = match accept(pages, req, &at, form, true) {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    let current = form.current.as_deref().filter(|c| !c.is_empty());
    let result = pages
        .portico
        .set_portal_password(&at.org, at.session(), current, &form.password)
        .await;
    let (notice, error, status) = match result {
        Ok(()) => (
            Some("Your password is set. Other devices were signed out.".to_owned()),
            None,
            StatusCode::OK,
        ),
        Err(PortalError::Password(refused)) => (
            None,
            Some(sentence(&refused.to_string())),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(PortalError::Refused) => (
            None,
            Some("The current password is not right.".to_owned()),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e @ (PortalError::NotSignedIn | PortalError::NotFound)) => return failed(&at, &e),
        Err(e) => return internal(&e),
    };
    account_page(pages, &at, false, notice, error, status).await
}

#[handler]
pub(crate) async fn portal_logo(
    req: &Request,
    Path(org): Path<String>,
    Data(pages): Data<&Arc<Pages>>,
) -> Response {
    let Some(at) = At::new(pages, req, &org) else {
        return super::not_found();
    };
    match pages.portico.portal_logo(&at.org).await {
        Ok(Some(blob)) if blob.content_type.starts_with("image/") => Response::builder()
            .content_type(blob.content_type.as_str())
            .header(header::CONTENT_SECURITY_POLICY, super::FILE_POLICY)
            .body(blob.bytes),
        Ok(_) => gone(&at, None),
        Err(e) => internal(&e),
    }
}

/// The record behind `/r/{kind}/{id}`, if the path names one.
fn reference(kind: &str, id: String) -> Option<RecordRef> {
    Some(RecordRef {
        kind: kind_of_segment(kind)?,
        id: RecordId::new(id).ok()?,
    })
}

async fn record_page(
    pages: &Pages,
    at: &At,
    record: &RecordRef,
    extras: Extras,
    status: StatusCode,
) -> Response {
    match pages
        .portico
        .portal_record(&at.org, at.session(), record)
        .await
    {
        Ok(Some(view)) => {
            let base = format!("{}/r/{}/{}", at.base, kind_segment(record.kind), record.id);
            let sent = extras.pay.as_ref().is_some_and(|p| p.sent);
            let extras = Extras {
                portal: Some(pages.nav(at)),
                pay: pages.pay_box(&at.org, record, &base, sent).await,
                ..extras
            };
            match super::view::render(&view, &base, pages.portal_csrf(at), extras) {
                Ok(body) => html(status, body),
                Err(e) => internal(&e),
            }
        }
        Ok(None) => gone(at, None),
        Err(e) => failed(at, &e),
    }
}

#[derive(Deserialize)]
struct RecordQuery {
    help: Option<String>,
    /// `sent`: back from the payment page (I5).
    payment: Option<String>,
}

#[handler]
pub(crate) async fn portal_record(
    req: &Request,
    Path((org, kind, id)): Path<(String, String, String)>,
    Query(query): Query<RecordQuery>,
    Data(pages): Data<&Arc<Pages>>,
) -> Response {
    let Some(at) = At::new(pages, req, &org) else {
        return super::not_found();
    };
    let Some(record) = reference(&kind, id) else {
        return gone(&at, None);
    };
    let extras = Extras {
        help: HelpForm {
            sent: query.help.as_deref() == Some("sent"),
            ..HelpForm::default()
        },
        // Only the flag is read here: `record_page` makes the box.
        pay: Some(super::view::PayBox {
            url: None,
            due: false,
            processing: false,
            sent: query.payment.as_deref() == Some("sent"),
        }),
        ..Extras::default()
    };
    record_page(pages, &at, &record, extras, StatusCode::OK).await
}

/// `GET /portal/{org}/r/invoice/{id}/pay` (I5).
#[handler]
pub(crate) async fn portal_pay(
    req: &Request,
    Path((org, kind, id)): Path<(String, String, String)>,
    Data(pages): Data<&Arc<Pages>>,
) -> Response {
    let Some(at) = At::new(pages, req, &org) else {
        return super::not_found();
    };
    let Some(record) = reference(&kind, id).filter(|r| r.kind == RecordKind::Invoice) else {
        return gone(&at, None);
    };
    let back = format!("{}/r/{}/{}", at.base, kind_segment(record.kind), record.id);
    match super::pay::portal_pay(pages, &at.org, at.session(), &record.id, &back).await {
        Ok(resp) => resp,
        Err(e) => failed(&at, &e),
    }
}

#[handler]
pub(crate) async fn portal_file(
    req: &Request,
    Path((org, kind, id, file)): Path<(String, String, String, String)>,
    Data(pages): Data<&Arc<Pages>>,
) -> Response {
    let Some(at) = At::new(pages, req, &org) else {
        return super::not_found();
    };
    let (Some(record), Ok(file)) = (reference(&kind, id), FileId::new(file)) else {
        return gone(&at, None);
    };
    match pages
        .portico
        .portal_file(&at.org, at.session(), &record, &file)
        .await
    {
        Ok(Some(blob)) => super::file_response(blob),
        Ok(None) => gone(&at, None),
        Err(e) => failed(&at, &e),
    }
}

#[handler]
pub(crate) async fn portal_decide(
    req: &Request,
    Path((org, kind, id)): Path<(String, String, String)>,
    Data(pages): Data<&Arc<Pages>>,
    form: poem::Result<Form<DecisionForm>>,
) -> Response {
    let Some(at) = At::new(pages, req, &org) else {
        return super::not_found();
    };
    let form = match accept(pages, req, &at, form, true) {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    let Some(record) = reference(&kind, id).filter(|r| r.kind == RecordKind::Quote) else {
        return gone(&at, None);
    };
    let Some(choice) = form.choice() else {
        return bad_request("Unknown decision.");
    };
    let base = format!("{}/r/estimates/{}", at.base, record.id);
    match pages
        .portico
        .portal_decide_quote(&at.org, at.session(), &record.id, &choice)
        .await
    {
        Ok(_) => see_other(&format!("{base}#decision")),
        Err(PortalError::Decision(denied)) => {
            let extras = Extras {
                decision_error: Some(sentence(&denied.to_string())),
                ..Extras::default()
            };
            record_page(pages, &at, &record, extras, StatusCode::CONFLICT).await
        }
        Err(PortalError::NotFound) => gone(&at, None),
        Err(e) => failed(&at, &e),
    }
}

#[handler]
pub(crate) async fn portal_help(
    req: &Request,
    Path((org, kind, id)): Path<(String, String, String)>,
    Data(pages): Data<&Arc<Pages>>,
    form: poem::Result<Form<HelpFormBody>>,
) -> Response {
    let Some(at) = At::new(pages, req, &org) else {
        return super::not_found();
    };
    let form = match accept(pages, req, &at, form, true) {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    let Some(record) = reference(&kind, id) else {
        return gone(&at, None);
    };
    let address = crate::listener::address_key(at.ip);
    if let Err(wait) = pages.help_per_address.spend(&address) {
        return too_many(wait);
    }
    let request = HelpRequest {
        name: form.name.clone(),
        phone: Some(form.phone.clone()),
        message: form.message.clone(),
    };
    let base = format!("{}/r/{}/{}", at.base, kind_segment(record.kind), record.id);
    let error = match pages
        .portico
        .portal_ask_for_help(&at.org, at.session(), &record, &request)
        .await
    {
        Ok(()) => return see_other(&format!("{base}?help=sent#help")),
        Err(e @ (PortalError::NotSignedIn | PortalError::NotFound)) => return failed(&at, &e),
        Err(e @ (PortalError::Invalid(_) | PortalError::NoBusinessEmail)) => {
            sentence(&e.to_string())
        }
        Err(e) => return internal(&e),
    };
    let extras = Extras {
        help: HelpForm {
            name: form.name,
            phone: form.phone,
            message: form.message,
            error: Some(error),
            sent: false,
        },
        ..Extras::default()
    };
    record_page(
        pages,
        &at,
        &record,
        extras,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

/// V7 in the portal: the live status of one of the client's own jobs, for as long as the
/// session lasts and the job is theirs to see.
#[handler]
pub(crate) async fn portal_events(
    req: &Request,
    Path((org, kind, id)): Path<(String, String, String)>,
    Data(pages): Data<&Arc<Pages>>,
) -> Response {
    let Some(at) = At::new(pages, req, &org) else {
        return super::not_found();
    };
    let Some(record) = reference(&kind, id) else {
        return gone(&at, None);
    };
    match pages
        .portico
        .portal_record(&at.org, at.session(), &record)
        .await
    {
        Ok(Some(view)) => {
            let draining = req.extensions().get::<crate::listener::Draining>().cloned();
            let opening = super::live::Opening {
                source: super::live::Source::Portal {
                    session: at.session().to_owned(),
                },
                org: at.org.clone(),
                record,
                status: view.status,
                expires_at: None,
                address: at.ip,
            };
            match super::live::stream(&pages.portico, &pages.hub, opening, draining) {
                Ok(sse) => poem::IntoResponse::into_response(sse),
                // The page works without live updates; its script stops asking.
                Err(_) => too_many(std::time::Duration::from_mins(1)),
            }
        }
        Ok(None) => gone(&at, None),
        Err(e) => failed(&at, &e),
    }
}
