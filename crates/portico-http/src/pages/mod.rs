//! The client pages (S5, S7–S11, V1–V8): what a customer opens from a share link.
//!
//! - One URL form for every record kind, `/s/{token}`; the kind comes from the share. Files
//!   behind the same token (`/s/{token}/files/{id}`), forms posted back to it, live status at
//!   `/s/{token}/events`.
//! - Server-rendered HTML (askama, checked at compile time), one self-hosted stylesheet and one
//!   small script; nothing from a third party. Every answer behind a token carries S9's headers
//!   and a strict Content-Security-Policy.
//! - Unknown and revoked tokens get one identical 404 page (S5); failed look-ups are throttled
//!   per client address (S10), valid links never are.

mod cache;
mod guard;
pub(crate) mod live;
pub(crate) mod opens;
mod pay;
pub(crate) mod portal;

pub(crate) use portal::contract_copy;
mod view;

use std::net::{IpAddr, Ipv4Addr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use poem::http::{HeaderValue, StatusCode, header};
use poem::web::{Data, Form, Path, Query};
use poem::{
    Endpoint, EndpointExt, IntoResponse, Middleware, Request, Response, Route, get, handler, post,
};
use portico_core::Portico;
use portico_core::model::FileId;
use portico_core::policy::quote::ClientDecision;
use portico_core::service::{ClientError, HelpRequest, Opened};
use portico_core::view::CompanyCard;
use serde::Deserialize;

pub(crate) use self::cache::PageCache;

/// The pages' link layout, `{public_url}/s/{token}`: the core's [`portico_core::ports::Links`]
/// port, so the core hands out tokens and this adapter, which serves them, says where.
#[derive(Debug, Clone)]
pub struct PageLinks {
    base: crate::PublicUrl,
}

impl PageLinks {
    /// Links under `public_url`.
    pub fn new(public_url: crate::PublicUrl) -> Self {
        Self { base: public_url }
    }
}

impl portico_core::ports::Links for PageLinks {
    fn share(&self, token: &portico_core::token::ShareToken) -> String {
        self.base.join(&format!("/s/{}", token.expose()))
    }

    fn portal(&self, org: &portico_core::model::OrgId) -> String {
        self.base
            .join(&format!("/portal/{}", portal::path_segment(org.as_str())))
    }

    fn portal_grant(
        &self,
        org: &portico_core::model::OrgId,
        token: &portico_core::token::ShareToken,
    ) -> String {
        self.base.join(&format!(
            "/portal/{}/link/{}",
            portal::path_segment(org.as_str()),
            token.expose()
        ))
    }
}
use self::guard::{Budget, Throttle};
use self::live::LiveHub;
use self::opens::Opens;
use self::view::{Company, Extras, GonePage, HelpForm};

/// The policy every page and file behind a token is served under (S9): nothing but this
/// origin's own stylesheet, script, images and forms.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; img-src 'self'; style-src 'self'; script-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
/// Files are never documents of this origin: no scripts, no plugins, even if opened directly.
const FILE_POLICY: &str = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox";

const CSS: &str = include_str!("../../assets/portico.css");
const PAGE_JS: &str = include_str!("../../assets/page.js");
const PAY_JS: &str = include_str!("../../assets/pay.js");
const ROBOTS: &str = "User-agent: *\nDisallow: /s/\nDisallow: /portal/\n";

/// Settings of the client pages.
#[derive(Debug, Clone)]
pub struct PagesConfig {
    /// Failed token look-ups allowed per client address and minute before it is blocked (S10).
    pub failed_lookups_per_minute: NonZeroU32,
    /// "Get help" messages allowed per client address: a burst, then one per `help_every`.
    pub help_burst: NonZeroU32,
    /// See `help_burst`.
    pub help_every: Duration,
    /// Keep rendered pages in memory (per process: turn it off when several servers share
    /// one database, or another server's revoke would not reach this one's cache).
    pub cache: bool,
    /// How often gathered openings are written (S11).
    pub opens_flush_every: Duration,
    /// "Get help" messages allowed per link, whatever the address: a burst, then one per
    /// `help_per_link_every`.
    pub help_per_link_burst: NonZeroU32,
    /// See `help_per_link_burst`.
    pub help_per_link_every: Duration,
    /// Live-status streams open at most on one link (V7).
    pub live_streams_per_link: usize,
    /// Live-status streams open at most from one client address (V7).
    pub live_streams_per_address: usize,
    /// Reverse proxies (addresses or CIDR ranges) whose `X-Forwarded-For` is believed: when the
    /// peer is one of them, the client is the right-most address in that header that is not.
    /// Empty (the default): the peer is the client.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Portal sign-in and reset emails asked for per client address: a burst, then one per
    /// `portal_mails_every` (C3; the core also limits them per email).
    pub portal_mails_burst: NonZeroU32,
    /// See `portal_mails_burst`.
    pub portal_mails_every: Duration,
    /// Wrong portal codes and passwords per client address and minute before the address is
    /// blocked, with growing blocks (C4).
    pub portal_failures_per_minute: NonZeroU32,
    /// Messages and service requests one portal session may send: a burst, then one per
    /// `portal_writes_every` (C7).
    pub portal_writes_burst: NonZeroU32,
    /// See `portal_writes_burst`.
    pub portal_writes_every: Duration,
}

impl Default for PagesConfig {
    fn default() -> Self {
        Self {
            failed_lookups_per_minute: NonZeroU32::new(30).unwrap_or(NonZeroU32::MIN),
            help_burst: NonZeroU32::new(5).unwrap_or(NonZeroU32::MIN),
            help_every: Duration::from_mins(2),
            cache: true,
            opens_flush_every: Duration::from_secs(2),
            help_per_link_burst: NonZeroU32::new(10).unwrap_or(NonZeroU32::MIN),
            help_per_link_every: Duration::from_mins(10),
            live_streams_per_link: 32,
            live_streams_per_address: 64,
            trusted_proxies: Vec::new(),
            portal_mails_burst: NonZeroU32::new(10).unwrap_or(NonZeroU32::MIN),
            portal_mails_every: Duration::from_mins(6),
            portal_failures_per_minute: NonZeroU32::new(10).unwrap_or(NonZeroU32::MIN),
            portal_writes_burst: NonZeroU32::new(20).unwrap_or(NonZeroU32::MIN),
            portal_writes_every: Duration::from_secs(30),
        }
    }
}

/// What the page handlers share.
pub(crate) struct Pages {
    portico: Portico,
    cache: Option<Arc<PageCache>>,
    opens: Arc<Opens>,
    throttle: Throttle,
    help_per_address: Budget<IpAddr>,
    help_per_link: Budget<String>,
    hub: Arc<LiveHub>,
    trusted_proxies: Vec<ipnet::IpNet>,
    /// `scheme://host[:port]` of the public URL: a form posted from anywhere else is refused.
    origin: String,
    /// Portal sign-in and reset emails asked for per address (C3; the core limits per email).
    portal_mails: Budget<IpAddr>,
    /// Failed portal codes and passwords per address, blocked with growing waits (C4).
    portal_failures: Throttle,
    /// Messages and service requests a portal session may send (C7).
    portal_writes: Budget<String>,
    /// Online payments (I5), when the server takes them.
    payments: Option<crate::PaymentsConfig>,
}

impl Pages {
    /// The pages over `portico`, whose changes must reach `hub` and the returned cache.
    pub(crate) fn new(
        portico: Portico,
        hub: Arc<LiveHub>,
        cache: Option<Arc<PageCache>>,
        public_url: &crate::PublicUrl,
        config: &PagesConfig,
        payments: Option<crate::PaymentsConfig>,
    ) -> Self {
        let origin = public_url.origin().to_owned();
        Self {
            opens: Arc::new(Opens::new(portico.clone(), config.opens_flush_every)),
            portico,
            cache,
            throttle: Throttle::new(config.failed_lookups_per_minute),
            help_per_address: Budget::new(config.help_burst, config.help_every),
            help_per_link: Budget::new(config.help_per_link_burst, config.help_per_link_every),
            hub,
            trusted_proxies: config.trusted_proxies.clone(),
            origin,
            portal_mails: Budget::new(config.portal_mails_burst, config.portal_mails_every),
            portal_failures: Throttle::new(config.portal_failures_per_minute),
            portal_writes: Budget::new(config.portal_writes_burst, config.portal_writes_every),
            payments,
        }
    }

    /// The openings waiting to be written, for the shutdown to flush.
    pub(crate) fn opens(&self) -> Arc<Opens> {
        Arc::clone(&self.opens)
    }

    fn csrf(&self, token: &str) -> String {
        self.portico.keys().mac("csrf", token.as_bytes())
    }

    /// A form post is accepted only with the page's MAC of the token and when the browser does
    /// not say it came from another site: `Sec-Fetch-Site` when sent, else `Origin` (which is
    /// `null` under `Referrer-Policy: no-referrer`, so `null` proves nothing either way).
    fn csrf_ok(&self, req: &Request, token: &str, presented: &str) -> bool {
        self.same_site(req)
            && self
                .portico
                .keys()
                .verify_mac("csrf", token.as_bytes(), presented)
    }

    /// Whether the browser does not say the request came from another site.
    fn same_site(&self, req: &Request) -> bool {
        let header = |name| req.headers().get(name).and_then(|v| v.to_str().ok());
        match header("sec-fetch-site") {
            Some(site) => site == "same-origin",
            None => header("origin").is_none_or(|o| o == "null" || o == self.origin),
        }
    }
}

/// The routes of the client pages, to be nested at the root.
pub(crate) fn routes(pages: Arc<Pages>) -> impl Endpoint<Output = Response> {
    let behind_token = Route::new()
        .at("/:token", get(page))
        .at("/:token/files/:file", get(file))
        .at("/:token/decision", post(decide))
        .at("/:token/help", post(help))
        .at("/:token/events", get(events))
        .at("/:token/pay", get(pay::pay_by_link))
        .with(PrivateHeaders);
    let portal = Route::new()
        .at("/:org", get(portal::portal_index))
        .at("/:org/sign-in", post(portal::portal_request_link))
        .at("/:org/code", post(portal::portal_with_code))
        .at("/:org/password", post(portal::portal_with_password))
        .at(
            "/:org/forgot",
            get(portal::portal_forgot_page).post(portal::portal_request_reset),
        )
        .at("/:org/link", post(portal::portal_use_link))
        .at("/:org/link/:token", get(portal::portal_confirm_page))
        .at("/:org/home", get(portal::portal_home))
        .at(
            "/:org/account",
            get(portal::portal_account).post(portal::portal_set_password),
        )
        .at("/:org/sign-out", post(portal::portal_sign_out))
        .at("/:org/logo", get(portal::portal_logo))
        .at("/:org/r/:kind/:id", get(portal::portal_record))
        .at("/:org/r/:kind/:id/files/:file", get(portal::portal_file))
        .at("/:org/r/:kind/:id/decision", post(portal::portal_decide))
        .at("/:org/r/:kind/:id/help", post(portal::portal_help))
        .at("/:org/r/:kind/:id/events", get(portal::portal_events))
        .at("/:org/r/:kind/:id/pay", get(portal::portal_pay))
        .at(
            "/:org/messages",
            get(portal::portal_threads).post(portal::portal_send_message),
        )
        .at("/:org/messages/general", get(portal::portal_general_thread))
        .at("/:org/messages/jobs/:id", get(portal::portal_job_thread))
        .at(
            "/:org/request",
            get(portal::portal_request_form).post(portal::portal_send_request),
        )
        .at("/:org/agreements", get(portal::portal_agreements))
        .at("/:org/appointments", get(portal::portal_appointments))
        .at("/:org/contracts", get(portal::portal_contracts))
        .at("/:org/contracts/:id", get(portal::portal_contract))
        .at(
            "/:org/contracts/:id/sign",
            post(portal::portal_sign_contract),
        )
        .at(
            "/:org/contracts/:id/versions/:version",
            get(portal::portal_contract_version),
        )
        .at(
            "/:org/contracts/:id/versions/:version/signature.png",
            get(portal::portal_signature_image),
        )
        .at(
            "/:org/contracts/:id/versions/:version/document.pdf",
            get(portal::portal_contract_document),
        )
        .with(PrivateHeaders);
    Route::new()
        .nest("/s", behind_token)
        .nest("/portal", portal)
        .at("/robots.txt", get(robots))
        .at("/assets/portico.css", get(stylesheet))
        .at("/assets/page.js", get(script))
        .at("/assets/pay.js", get(pay_script))
        .data(pages)
}

/// Adds S9's headers and the page policy to every answer behind a token, errors included.
struct PrivateHeaders;

impl<E: Endpoint> Middleware<E> for PrivateHeaders {
    type Output = PrivateHeadersEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        PrivateHeadersEndpoint(inner)
    }
}

struct PrivateHeadersEndpoint<E>(E);

impl<E: Endpoint> Endpoint for PrivateHeadersEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let mut resp = match self.0.call(req).await {
            Ok(out) => out.into_response(),
            Err(err) => err.into_response(),
        };
        // Mark the answer for the request metrics without naming the path (it holds the token).
        resp.extensions_mut()
            .insert(poem_openapi::OperationId("client_page"));
        let headers = resp.headers_mut();
        let fixed = [
            (header::CACHE_CONTROL, "no-store"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::X_FRAME_OPTIONS, "DENY"),
        ];
        for (name, value) in fixed {
            headers.insert(name, HeaderValue::from_static(value));
        }
        headers.insert(
            "x-robots-tag",
            HeaderValue::from_static("noindex, nofollow"),
        );
        headers.insert(
            "permissions-policy",
            HeaderValue::from_static(
                "camera=(), microphone=(), geolocation=(), interest-cohort=()",
            ),
        );
        if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CONTENT_SECURITY_POLICY),
            );
        }
        Ok(resp)
    }
}

/// The client's address: the connection's peer; or, when the peer is a trusted reverse proxy,
/// the right-most `X-Forwarded-For` address that is not itself a trusted proxy (everything to
/// its left is the client's to forge).
fn client_ip(pages: &Pages, req: &Request) -> IpAddr {
    let peer = req
        .remote_addr()
        .as_socket_addr()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), std::net::SocketAddr::ip);
    forwarded_client(peer, &pages.trusted_proxies, req.headers())
}

/// See [`client_ip`].
fn forwarded_client(
    peer: IpAddr,
    trusted: &[ipnet::IpNet],
    headers: &poem::http::HeaderMap,
) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        let Ok(ip) = hop.parse::<IpAddr>() else {
            // An entry that is no address: nothing left of it can be believed.
            break;
        };
        client = ip;
        if !is_trusted(&ip) {
            break;
        }
    }
    client
}

fn html(status: StatusCode, body: String) -> Response {
    Response::builder()
        .status(status)
        .content_type("text/html; charset=utf-8")
        .body(body)
}

fn render_gone(gone: &GonePage, status: StatusCode) -> Response {
    use askama::Template as _;
    match gone.render() {
        Ok(body) => html(status, body),
        Err(e) => internal(&e),
    }
}

/// The one page for unknown and revoked links (S5): the same bytes whatever the reason.
fn not_found() -> Response {
    render_gone(
        &GonePage {
            heading: "Link not found",
            explanation: "This link does not open anything. It may have been mistyped, or the business may have stopped sharing it.",
            company: None,
        },
        StatusCode::NOT_FOUND,
    )
}

fn expired(card: &CompanyCard) -> Response {
    render_gone(
        &GonePage {
            heading: "This link is no longer active",
            explanation: "The job this link showed was completed and paid some time ago, so the link has expired.",
            company: Some(Company::new(card, None)),
        },
        StatusCode::GONE,
    )
}

fn unavailable(card: &CompanyCard) -> Response {
    render_gone(
        &GonePage {
            heading: "Not available",
            explanation: "This page is not available at the moment.",
            company: Some(Company::new(card, None)),
        },
        StatusCode::FORBIDDEN,
    )
}

fn too_many(wait: Duration) -> Response {
    let mut resp = render_gone(
        &GonePage {
            heading: "Too many attempts",
            explanation: "Too many links from your network did not open. Please wait a little and try again.",
            company: None,
        },
        StatusCode::TOO_MANY_REQUESTS,
    );
    let secs = wait.as_secs().max(1).to_string();
    if let Ok(value) = HeaderValue::from_str(&secs) {
        resp.headers_mut().insert(header::RETRY_AFTER, value);
    }
    resp
}

fn internal(e: &dyn std::error::Error) -> Response {
    tracing::error!(error = %e, "client page failed");
    html(
        StatusCode::INTERNAL_SERVER_ERROR,
        "<!doctype html><title>Something went wrong</title><p>Something went wrong on our side. Please try again in a moment.</p>".into(),
    )
}

/// The answer for a link that does not open, counting a failed look-up (S10).
fn closed(pages: &Pages, ip: IpAddr, opened: &Opened) -> Response {
    match opened {
        Opened::Expired(card) => expired(card),
        Opened::Unavailable(card) => unavailable(card),
        // Anything a newer core may add answers as unknown: it never opens a page.
        _ => {
            let answer = match pages.throttle.failed(ip) {
                Some(wait) => too_many(wait),
                None => not_found(),
            };
            metrics::gauge!("portico_throttle_tracked_addresses").set(f64::from(
                u32::try_from(pages.throttle.tracked()).unwrap_or(u32::MAX),
            ));
            answer
        }
    }
}

#[derive(Deserialize)]
struct PageQuery {
    help: Option<String>,
    /// `sent`: back from the payment page (I5).
    payment: Option<String>,
}

impl Pages {
    /// The HTML of `view` behind `token`.
    fn render(
        &self,
        token: &str,
        view: &portico_core::view::ClientView,
        extras: Extras,
    ) -> Result<String, askama::Error> {
        view::render(view, &format!("/s/{token}"), self.csrf(token), extras)
    }

    /// The page again, as it stands now, with a form's error (`extras`) and `status`.
    async fn rerender(&self, token: &str, extras: Extras, status: StatusCode) -> Response {
        let Ok(Opened::View {
            view, org, record, ..
        }) = self.portico.view_link(token).await
        else {
            return not_found();
        };
        let extras = Extras {
            pay: self
                .pay_box(&org, &record, &format!("/s/{token}"), false)
                .await,
            ..extras
        };
        match self.render(token, &view, extras) {
            Ok(body) => html(status, body),
            Err(e) => internal(&e),
        }
    }

    /// The form of a post behind `token`, once it parsed and passed the CSRF check.
    fn accept<T: PostedForm>(
        &self,
        req: &Request,
        token: &str,
        form: poem::Result<Form<T>>,
    ) -> Result<T, Box<Response>> {
        let Ok(Form(form)) = form else {
            return Err(Box::new(bad_request("The form was incomplete.")));
        };
        if !self.csrf_ok(req, token, form.csrf()) {
            return Err(Box::new(html(
                StatusCode::FORBIDDEN,
                "<!doctype html><title>Form expired</title><p>This form could not be accepted. Please open the link again and retry.</p>".into(),
            )));
        }
        Ok(form)
    }
}

/// A form posted back behind a token, carrying the page's CSRF value.
trait PostedForm {
    fn csrf(&self) -> &str;
}

fn bad_request(what: &str) -> Response {
    html(
        StatusCode::BAD_REQUEST,
        format!("<!doctype html><title>Bad request</title><p>{what}</p>"),
    )
}

#[handler]
async fn page(
    req: &Request,
    Path(token): Path<String>,
    Query(query): Query<PageQuery>,
    Data(pages): Data<&Arc<Pages>>,
) -> Response {
    let ip = client_ip(pages, req);
    let plain = query.help.is_none() && query.payment.is_none();
    let kept = |pages: &Pages| {
        pages
            .cache
            .as_ref()
            .and_then(|c| c.get(&token, pages.portico.now()))
    };
    // A kept page is served only once this server has heard every change committed before
    // this request, on any server (S5, S8); it is looked up again after, as what was heard may
    // have dropped it. Otherwise the page is read from the store.
    if plain
        && kept(pages).is_some()
        && pages.portico.caught_up().await
        && let Some(hit) = kept(pages)
    {
        pages.opens.record(hit.share);
        return Response::builder()
            .content_type("text/html; charset=utf-8")
            .body(hit.body.clone());
    }
    let generation = pages.cache.as_ref().map(|c| c.generation());
    match pages.portico.view_link(&token).await {
        Ok(Opened::View {
            view,
            share,
            org,
            record,
            expires_at,
        }) => {
            pages.opens.record(share);
            let base = format!("/s/{token}");
            let sent = query.payment.as_deref() == Some("sent");
            let extras = Extras {
                help: HelpForm {
                    sent: query.help.as_deref() == Some("sent"),
                    ..HelpForm::default()
                },
                pay: pages.pay_box(&org, &record, &base, sent).await,
                ..Extras::default()
            };
            let body = match pages.render(&token, &view, extras) {
                Ok(body) => body,
                Err(e) => return internal(&e),
            };
            if plain && let (Some(cache), Some(generation)) = (&pages.cache, generation) {
                cache.store(generation, token, org, share, expires_at, body.clone());
            }
            html(StatusCode::OK, body)
        }
        Ok(other) => closed(pages, ip, &other),
        Err(e) => internal(&e),
    }
}

#[handler]
async fn file(
    req: &Request,
    Path((token, file)): Path<(String, String)>,
    Data(pages): Data<&Arc<Pages>>,
) -> Response {
    let ip = client_ip(pages, req);
    let Ok(file) = FileId::new(file) else {
        return closed(pages, ip, &Opened::NotFound);
    };
    match pages.portico.file_of_link(&token, &file).await {
        Ok(Some(blob)) => file_response(blob),
        Ok(None) => closed(pages, ip, &Opened::NotFound),
        Err(e) => internal(&e),
    }
}

/// A file's bytes, inline if an image, else as a download, never a document of this origin.
pub(crate) fn file_response(blob: portico_core::ports::Blob) -> Response {
    let disposition = if blob.content_type.starts_with("image/") {
        "inline"
    } else {
        "attachment"
    };
    Response::builder()
        .content_type(blob.content_type.as_str())
        .header(header::CONTENT_DISPOSITION, disposition)
        .header(header::CONTENT_SECURITY_POLICY, FILE_POLICY)
        .body(blob.bytes)
}

#[derive(Deserialize)]
struct DecisionForm {
    decision: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    csrf: String,
}

#[handler]
async fn decide(
    req: &Request,
    Path(token): Path<String>,
    Data(pages): Data<&Arc<Pages>>,
    form: poem::Result<Form<DecisionForm>>,
) -> Response {
    let form = match pages.accept(req, &token, form) {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    let Some(choice) = form.choice() else {
        return bad_request("Unknown decision.");
    };
    match pages.portico.decide_quote(&token, &choice).await {
        Ok(_) => see_other(&format!("/s/{token}#decision")),
        Err(ClientError::Decision(denied)) => {
            let extras = Extras {
                decision_error: Some(sentence(&denied.to_string())),
                ..Extras::default()
            };
            pages.rerender(&token, extras, StatusCode::CONFLICT).await
        }
        Err(ClientError::LinkInactive | ClientError::NotAQuote) => not_found(),
        Err(e) => internal(&e),
    }
}

impl DecisionForm {
    /// The decision the form's button names, with its message; `None` for an unknown one.
    fn choice(&self) -> Option<ClientDecision> {
        let message = Some(self.message.trim().to_owned()).filter(|m| !m.is_empty());
        Some(match self.decision.as_str() {
            "approve" => ClientDecision::Approve,
            "request_changes" => ClientDecision::RequestChanges {
                message: message.unwrap_or_default(),
            },
            "decline" => ClientDecision::Decline { message },
            _ => return None,
        })
    }
}

impl PostedForm for DecisionForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

#[derive(Deserialize)]
struct HelpFormBody {
    #[serde(default)]
    name: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    csrf: String,
}

impl PostedForm for HelpFormBody {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

#[handler]
async fn help(
    req: &Request,
    Path(token): Path<String>,
    Data(pages): Data<&Arc<Pages>>,
    form: poem::Result<Form<HelpFormBody>>,
) -> Response {
    let form = match pages.accept(req, &token, form) {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    // Per address, and per link (so rotating addresses cannot flood the business either).
    let ip = crate::listener::address_key(client_ip(pages, req));
    if let Err(wait) = pages
        .help_per_address
        .spend(&ip)
        .and_then(|()| pages.help_per_link.spend(&token))
    {
        return too_many(wait);
    }
    let request = HelpRequest {
        name: form.name.clone(),
        phone: Some(form.phone.clone()),
        message: form.message.clone(),
    };
    let error = match pages.portico.ask_for_help(&token, &request).await {
        Ok(()) => return see_other(&format!("/s/{token}?help=sent#help")),
        Err(ClientError::LinkInactive) => return not_found(),
        Err(e @ (ClientError::Invalid(_) | ClientError::NoBusinessEmail)) => {
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
    pages
        .rerender(&token, extras, StatusCode::UNPROCESSABLE_ENTITY)
        .await
}

/// A message as a sentence: capitalised, ending with a full stop.
fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    let mut out: String = chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default();
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}

fn see_other(location: &str) -> Response {
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, location)
        .finish()
}

#[handler]
async fn events(
    req: &Request,
    Path(token): Path<String>,
    Data(pages): Data<&Arc<Pages>>,
) -> Response {
    let ip = client_ip(pages, req);
    match pages.portico.view_link(&token).await {
        Ok(Opened::View {
            view,
            org,
            record,
            expires_at,
            ..
        }) => {
            let draining = req.extensions().get::<crate::listener::Draining>().cloned();
            let opening = live::Opening {
                source: live::Source::Link(token),
                org,
                record,
                status: view.status,
                expires_at,
                address: ip,
            };
            match live::stream(&pages.portico, &pages.hub, opening, draining) {
                Ok(sse) => sse.into_response(),
                // The page works without live updates; its script stops asking.
                Err(_) => too_many(Duration::from_mins(1)),
            }
        }
        Ok(other) => closed(pages, ip, &other),
        Err(e) => internal(&e),
    }
}

#[handler]
fn robots() -> Response {
    Response::builder()
        .content_type("text/plain; charset=utf-8")
        .body(ROBOTS)
}

fn asset(content_type: &str, body: &'static str) -> Response {
    Response::builder()
        .content_type(content_type)
        .header(header::CACHE_CONTROL, "public, max-age=3600")
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .body(body)
}

#[handler]
fn stylesheet() -> Response {
    asset("text/css; charset=utf-8", CSS)
}

#[handler]
fn script() -> Response {
    asset("text/javascript; charset=utf-8", PAGE_JS)
}

#[handler]
fn pay_script() -> Response {
    asset("text/javascript; charset=utf-8", PAY_JS)
}
