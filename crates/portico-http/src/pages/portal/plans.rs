//! C7 in the portal: the client's agreements and appointments (read-only), and contracts to
//! read and sign — a typed name and a tick, plus a drawing on a canvas where JavaScript runs —
//! with a printable signed copy. Each page answers 404 when the org hides its section; the
//! signature post is CSRF-checked and limited per session like every portal form.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use poem::http::{StatusCode, header};
use poem::web::{Data, Form, Path};
use poem::{Request, Response, handler};
use portico_core::locale::Presentation;
use portico_core::model::{
    AgreementStatus, AppointmentStatus, Billing, Contract, ContractId, ContractStatus,
};
use portico_core::policy::plans::{AgreementView, AppointmentView, SignForm, SigningRefused};
use portico_core::service::{PortalError, SignedCopy};
use serde::Deserialize;

use super::{At, Body, Pages, accept, failed, gone, path_segment, render};
use crate::pages::{internal, see_other, sentence, too_many};

pub(crate) struct AgreementRow {
    pub(crate) title: String,
    pub(crate) terms: String,
    pub(crate) status_code: &'static str,
    pub(crate) status_label: &'static str,
    pub(crate) period: String,
    pub(crate) price: String,
    pub(crate) progress: String,
    pub(crate) last_visit: Option<String>,
    pub(crate) next_visit: Option<String>,
    /// Each visit's day and whether it is done.
    pub(crate) visits: Vec<(String, bool)>,
}

pub(crate) struct AppointmentRow {
    pub(crate) title: String,
    pub(crate) when: String,
    pub(crate) technician: Option<String>,
    pub(crate) address: String,
    pub(crate) status_code: &'static str,
    pub(crate) status_label: &'static str,
    /// The job's page and title, while the client sees the job.
    pub(crate) job: Option<(String, String)>,
}

pub(crate) struct ContractRow {
    pub(crate) url: String,
    pub(crate) title: String,
    pub(crate) version: u32,
    pub(crate) status_code: &'static str,
    pub(crate) status_label: &'static str,
    pub(crate) detail: String,
}

/// One version of a contract as its page shows it: to sign, or signed.
pub(crate) struct ContractView {
    pub(crate) title: String,
    pub(crate) version: u32,
    pub(crate) body: String,
    /// The PDF: where to download it (empty in a copy that stands alone), and its name, size
    /// and digest in words.
    pub(crate) document: Option<(String, String)>,
    pub(crate) digest: String,
    pub(crate) sent: String,
    pub(crate) sign: Option<SignFields>,
    pub(crate) signed: Option<SignedBlock>,
    /// Earlier signed versions: their page and label.
    pub(crate) others: Vec<(String, String)>,
}

pub(crate) struct SignFields {
    pub(crate) csrf: String,
    pub(crate) action: String,
    pub(crate) name: String,
}

pub(crate) struct SignedBlock {
    pub(crate) name: String,
    pub(crate) at: String,
    pub(crate) ip: String,
    pub(crate) user_agent: String,
    pub(crate) image: Option<String>,
}

fn billing_words(b: Billing) -> &'static str {
    match b {
        Billing::Once => "once",
        Billing::Weekly => "per week",
        Billing::Monthly => "per month",
        Billing::Quarterly => "per quarter",
        Billing::Yearly => "per year",
    }
}

fn agreement_status(s: AgreementStatus) -> (&'static str, &'static str) {
    match s {
        AgreementStatus::Active => ("open", "Active"),
        AgreementStatus::OnHold => ("on_hold", "On hold"),
        AgreementStatus::Ended => ("settled", "Ended"),
        AgreementStatus::Cancelled => ("void", "Cancelled"),
    }
}

fn appointment_status(s: AppointmentStatus) -> (&'static str, &'static str) {
    match s {
        AppointmentStatus::Scheduled => ("open", "Scheduled"),
        AppointmentStatus::OnTheWay => ("in_progress", "On the way"),
        AppointmentStatus::Done => ("settled", "Done"),
        AppointmentStatus::Cancelled => ("void", "Cancelled"),
    }
}

fn contract_status(s: ContractStatus) -> (&'static str, &'static str) {
    match s {
        ContractStatus::Sent => ("open", "To sign"),
        ContractStatus::Signed => ("settled", "Signed"),
        ContractStatus::Void => ("void", "Withdrawn"),
    }
}

fn agreement_row(a: &AgreementView, show: &Presentation) -> AgreementRow {
    let (status_code, status_label) = agreement_status(a.status);
    let period = match a.ends_on {
        Some(end) => format!("{} \u{2013} {}", show.date(a.starts_on), show.date(end)),
        None => format!("From {}", show.date(a.starts_on)),
    };
    let planned = a.visits.len();
    AgreementRow {
        title: a.title.clone(),
        terms: a.terms.clone(),
        status_code,
        status_label,
        period,
        price: format!("{} {}", show.money(&a.price), billing_words(a.billing)),
        progress: format!(
            "{} of {planned} visit{} done",
            a.done,
            if planned == 1 { "" } else { "s" }
        ),
        last_visit: a.last_visit.map(|d| show.date(d)),
        next_visit: a.next_visit.map(|d| show.date(d)),
        visits: a.visits.iter().map(|v| (show.date(v.on), v.done)).collect(),
    }
}

fn appointment_row(a: &AppointmentView, show: &Presentation, at: &At) -> AppointmentRow {
    let (status_code, status_label) = appointment_status(a.status);
    AppointmentRow {
        title: a.title.clone(),
        when: show.window(a.starts_at, a.ends_at),
        technician: a.technician.clone(),
        address: a.address.clone(),
        status_code,
        status_label,
        job: a.job.as_ref().map(|(id, title)| {
            (
                format!("{}/r/jobs/{}", at.base, path_segment(id.as_str())),
                title.clone(),
            )
        }),
    }
}

fn contract_url(at: &At, id: &ContractId) -> String {
    format!("{}/contracts/{}", at.base, path_segment(id.as_str()))
}

fn version_url(at: &At, c: &Contract) -> String {
    format!("{}/versions/{}", contract_url(at, &c.id), c.version)
}

#[handler]
pub(crate) async fn portal_agreements(
    req: &Request,
    Path(org): Path<String>,
    Data(pages): Data<&Arc<Pages>>,
) -> Response {
    let Some(at) = At::new(pages, req, &org) else {
        return crate::pages::not_found();
    };
    match pages.portico.portal_agreements(&at.org, at.session()).await {
        Ok(list) => {
            let show = &list.presentation;
            let agreements = list
                .agreements
                .iter()
                .map(|a| agreement_row(a, show))
                .collect();
            let p = pages.signed_in_page(
                &at,
                "Service agreements",
                &list.company,
                Body::Agreements { agreements },
            );
            render(&p, StatusCode::OK)
        }
        Err(e) => failed(&at, &e),
    }
}

#[handler]
pub(crate) async fn portal_appointments(
    req: &Request,
    Path(org): Path<String>,
    Data(pages): Data<&Arc<Pages>>,
) -> Response {
    let Some(at) = At::new(pages, req, &org) else {
        return crate::pages::not_found();
    };
    match pages
        .portico
        .portal_appointments(&at.org, at.session())
        .await
    {
        Ok(list) => {
            let show = &list.presentation;
            let rows = |all: &[AppointmentView]| {
                all.iter()
                    .map(|a| appointment_row(a, show, &at))
                    .collect::<Vec<_>>()
            };
            let p = pages.signed_in_page(
                &at,
                "Appointments",
                &list.company,
                Body::Appointments {
                    upcoming: rows(&list.upcoming),
                    past: rows(&list.past),
                },
            );
            render(&p, StatusCode::OK)
        }
        Err(e) => failed(&at, &e),
    }
}

#[handler]
pub(crate) async fn portal_contracts(
    req: &Request,
    Path(org): Path<String>,
    Data(pages): Data<&Arc<Pages>>,
) -> Response {
    let Some(at) = At::new(pages, req, &org) else {
        return crate::pages::not_found();
    };
    match pages.portico.portal_contracts(&at.org, at.session()).await {
        Ok(list) => {
            let show = &list.presentation;
            let contracts = list
                .contracts
                .iter()
                .map(|c| {
                    let (status_code, status_label) = contract_status(c.status);
                    let (url, detail) = match &c.signature {
                        Some(s) => (
                            version_url(&at, c),
                            format!("Signed {} by {}", show.date_time(s.at), s.name),
                        ),
                        None => (
                            contract_url(&at, &c.id),
                            format!("Sent {}", show.date_time(c.sent_at)),
                        ),
                    };
                    ContractRow {
                        url,
                        title: c.title.clone(),
                        version: c.version,
                        status_code,
                        status_label,
                        detail,
                    }
                })
                .collect();
            let p = pages.signed_in_page(
                &at,
                "Contracts",
                &list.company,
                Body::Contracts { contracts },
            );
            render(&p, StatusCode::OK)
        }
        Err(e) => failed(&at, &e),
    }
}

/// What a contract page shows besides the version.
struct Shown<'a> {
    /// The name typed, when a signature was refused.
    typed: &'a str,
    error: Option<String>,
    status: StatusCode,
}

/// The contract's page: its latest version to sign or signed, or the signed version asked for.
async fn contract_page(
    pages: &Pages,
    at: &At,
    id: &ContractId,
    version: Option<u32>,
    shown: Shown<'_>,
) -> Response {
    let list = match pages
        .portico
        .portal_contract(&at.org, at.session(), id)
        .await
    {
        Ok(list) => list,
        Err(e) => return failed(at, &e),
    };
    let show = &list.presentation;
    let chosen = match version {
        Some(n) => list
            .contracts
            .iter()
            .find(|c| c.version == n && c.signature.is_some()),
        None => list.contracts.last(),
    };
    let Some(contract) = chosen else {
        return gone(at, Some(&list.company));
    };
    let others = list
        .contracts
        .iter()
        .filter(|c| c.version != contract.version && c.signature.is_some())
        .map(|c| {
            (
                version_url(at, c),
                format!("Version {} (signed)", c.version),
            )
        })
        .collect();
    let sign = (contract.status == ContractStatus::Sent).then(|| SignFields {
        csrf: pages.portal_csrf(at),
        action: format!("{}/sign", contract_url(at, id)),
        name: shown.typed.to_owned(),
    });
    let view = contract_view(
        contract,
        show,
        sign,
        others,
        Some(version_url(at, contract)),
    );
    let title = contract.title.clone();
    let mut p = pages.signed_in_page(at, &title, &list.company, Body::Contract { contract: view });
    p.error = shown.error;
    render(&p, shown.status)
}

/// A version as shown; `base` is where its signature image lives (`…/signature.png` below it),
/// or `None` to embed the image (a copy that must stand alone).
fn contract_view(
    contract: &Contract,
    show: &Presentation,
    sign: Option<SignFields>,
    others: Vec<(String, String)>,
    base: Option<String>,
) -> ContractView {
    ContractView {
        title: contract.title.clone(),
        version: contract.version,
        body: contract.body.clone(),
        document: contract.document.as_ref().map(|d| {
            (
                base.as_ref()
                    .map(|b| format!("{b}/document.pdf"))
                    .unwrap_or_default(),
                format!(
                    "{} (PDF, {} KB; SHA-256 {})",
                    d.name,
                    d.size.div_ceil(1024),
                    d.sha256.to_hex()
                ),
            )
        }),
        digest: contract.content_digest().to_hex(),
        sent: show.date_time(contract.sent_at),
        sign,
        signed: contract.signature.as_ref().map(|s| SignedBlock {
            name: s.name.clone(),
            at: show.date_time(s.at),
            ip: s.ip.clone().unwrap_or_else(|| "unknown".into()),
            user_agent: s.user_agent.clone().unwrap_or_else(|| "unknown".into()),
            image: s
                .drawn
                .and(base)
                .map(|base| format!("{base}/signature.png")),
        }),
        others,
    }
}

/// The printable copy of a signed version as one page that stands alone: the drawing is
/// embedded. For the business (the integration API).
pub(crate) fn contract_copy(copy: &SignedCopy) -> Result<String, askama::Error> {
    use askama::Template as _;
    let mut view = contract_view(&copy.contract, &copy.presentation, None, Vec::new(), None);
    if let (Some(signed), Some(drawing)) = (&mut view.signed, &copy.drawing) {
        signed.image = Some(format!(
            "data:image/png;base64,{}",
            STANDARD.encode(&drawing.bytes)
        ));
    }
    CopyPage {
        company: crate::pages::view::Company::new(&copy.company, None),
        contract: view,
    }
    .render()
}

#[derive(askama::Template)]
#[template(path = "contract_copy.html")]
struct CopyPage {
    company: crate::pages::view::Company,
    contract: ContractView,
}

#[handler]
pub(crate) async fn portal_contract(
    req: &Request,
    Path((org, id)): Path<(String, String)>,
    Data(pages): Data<&Arc<Pages>>,
) -> Response {
    let Some(at) = At::new(pages, req, &org) else {
        return crate::pages::not_found();
    };
    let Ok(id) = ContractId::new(id) else {
        return gone(&at, None);
    };
    let shown = Shown {
        typed: "",
        error: None,
        status: StatusCode::OK,
    };
    contract_page(pages, &at, &id, None, shown).await
}

#[handler]
pub(crate) async fn portal_contract_version(
    req: &Request,
    Path((org, id, version)): Path<(String, String, String)>,
    Data(pages): Data<&Arc<Pages>>,
) -> Response {
    let Some(at) = At::new(pages, req, &org) else {
        return crate::pages::not_found();
    };
    let (Ok(id), Ok(version)) = (ContractId::new(id), version.parse::<u32>()) else {
        return gone(&at, None);
    };
    let shown = Shown {
        typed: "",
        error: None,
        status: StatusCode::OK,
    };
    contract_page(pages, &at, &id, Some(version), shown).await
}

/// Which file of a contract's version.
#[derive(Clone, Copy)]
enum VersionFile {
    /// Its PDF, as a download.
    Document,
    /// Its drawn signature.
    Signature,
}

async fn version_file(
    pages: &Pages,
    req: &Request,
    (org, id, version): (String, String, String),
    which: VersionFile,
) -> Response {
    let Some(at) = At::new(pages, req, &org) else {
        return crate::pages::not_found();
    };
    let (Ok(id), Ok(version)) = (ContractId::new(id), version.parse::<u32>()) else {
        return gone(&at, None);
    };
    let (org, session) = (&at.org, at.session());
    let found = match which {
        VersionFile::Document => {
            pages
                .portico
                .portal_contract_document(org, session, &id, version)
                .await
        }
        VersionFile::Signature => {
            pages
                .portico
                .portal_signature_image(org, session, &id, version)
                .await
        }
    };
    match found {
        Ok(Some(blob)) => match which {
            VersionFile::Document => crate::pages::file_response(blob),
            VersionFile::Signature => Response::builder()
                .status(StatusCode::OK)
                .header(header::CONTENT_TYPE, "image/png")
                .body(blob.bytes),
        },
        Ok(None) => gone(&at, None),
        Err(e) => failed(&at, &e),
    }
}

#[handler]
pub(crate) async fn portal_contract_document(
    req: &Request,
    Path(path): Path<(String, String, String)>,
    Data(pages): Data<&Arc<Pages>>,
) -> Response {
    version_file(pages, req, path, VersionFile::Document).await
}

#[handler]
pub(crate) async fn portal_signature_image(
    req: &Request,
    Path(path): Path<(String, String, String)>,
    Data(pages): Data<&Arc<Pages>>,
) -> Response {
    version_file(pages, req, path, VersionFile::Signature).await
}

#[derive(Deserialize)]
pub(crate) struct SignBody {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    digest: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    confirm: String,
    /// `data:image/png;base64,…` from the canvas, or empty.
    #[serde(default)]
    drawing: String,
}

impl crate::pages::PostedForm for SignBody {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// The drawing a form carried: nothing, PNG bytes, or something that is not a PNG data URL.
fn drawing(raw: &str) -> Result<Option<Vec<u8>>, SigningRefused> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let data = raw
        .strip_prefix("data:image/png;base64,")
        .ok_or(SigningRefused::Drawing)?;
    STANDARD
        .decode(data)
        .map(Some)
        .map_err(|_| SigningRefused::Drawing)
}

#[handler]
pub(crate) async fn portal_sign_contract(
    req: &Request,
    Path((org, id)): Path<(String, String)>,
    Data(pages): Data<&Arc<Pages>>,
    form: poem::Result<Form<SignBody>>,
) -> Response {
    let Some(at) = At::new(pages, req, &org) else {
        return crate::pages::not_found();
    };
    let posted = match accept(pages, req, &at, form, true) {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    let Ok(id) = ContractId::new(id) else {
        return gone(&at, None);
    };
    let refused = |why: SigningRefused| Shown {
        typed: &posted.name,
        error: Some(sentence(&why.to_string())),
        status: StatusCode::UNPROCESSABLE_ENTITY,
    };
    let drawn = match drawing(&posted.drawing) {
        Ok(drawn) => drawn,
        Err(why) => return contract_page(pages, &at, &id, None, refused(why)).await,
    };
    if let Err(wait) = pages.portal_writes.spend(&at.session().to_owned()) {
        return too_many(wait);
    }
    let form = SignForm {
        version: posted.version.trim().parse().unwrap_or(0),
        digest: posted.digest.trim().to_owned(),
        name: posted.name.clone(),
        confirmed: !posted.confirm.is_empty(),
        drawn,
    };
    let user_agent = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    match pages
        .portico
        .portal_sign_contract(
            &at.org,
            at.session(),
            &id,
            form,
            Some(at.ip.to_string()),
            user_agent,
        )
        .await
    {
        Ok(signed) => see_other(&version_url(&at, &signed)),
        Err(PortalError::Signing(why)) => contract_page(pages, &at, &id, None, refused(why)).await,
        Err(e @ (PortalError::NotSignedIn | PortalError::NotFound)) => failed(&at, &e),
        Err(e) => internal(&e),
    }
}
