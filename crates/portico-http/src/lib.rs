//! Portico's HTTP adapter, on poem and poem-openapi: the integration API for host apps (I1–I3,
//! I6) under `/v1`, the client pages behind a share's token (S5, S7–S11, V1–V9), and the
//! operations endpoints (O4).
//!
//! - Every answer that is not a success is one JSON shape, `{code, message, details?}`
//!   ([`ErrorBody`]), whatever failed: a domain rule, a malformed body, a missing key, an unknown
//!   route, an oversized body. Nothing answers a 500 except a real internal failure, and that
//!   answer says nothing about it.
//! - Bodies are limited ([`HttpConfig::max_body_bytes`]) before anything parses them.
//! - The OpenAPI document is served at `/openapi.json` (interactive docs at `/docs`) and kept in
//!   the repository as `docs/openapi.json`.

mod api;
pub mod dto;
mod error;
mod listener;
mod ops;
mod pages;
mod payments;
mod public_url;

use std::sync::Arc;

use poem::http::StatusCode;
use poem::{Endpoint, EndpointExt, IntoResponse, Middleware, Request, Response, Route};
use poem_openapi::OpenApiService;
use portico_core::Portico;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

pub use error::{ApiError, ErrorBody};
pub use listener::{ConnectionLimits, address_key, serve_with_limits};
pub use ops::{NotReady, Operations, operations_service, serve, service, service_and_drain};
pub use pages::{CONTENT_SECURITY_POLICY, PageLinks, PagesConfig};
pub use public_url::{PublicUrl, PublicUrlError};

/// Settings of the HTTP service. `Debug` shows the tokens as redacted.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// The token that guards the admin routes (orgs, API keys); none disables them.
    pub admin_token: Option<SecretString>,
    /// The largest request body accepted, but for file uploads.
    pub max_body_bytes: usize,
    /// The largest file upload accepted (`PUT /v1/files/…`).
    pub max_file_bytes: usize,
    /// The public base URL, for the API document's server entry and the pages' form origin.
    pub public_url: PublicUrl,
    /// The client pages' limits.
    pub pages: PagesConfig,
    /// The token `/metrics` on the public port asks for (`Authorization: Bearer …`); without
    /// one the public port serves no metrics (serve [`operations_service`] elsewhere).
    pub metrics_token: Option<SecretString>,
    /// Connection limits and timeouts of the listener ([`serve`]); the body-read timeout
    /// applies wherever the service is mounted.
    pub limits: ConnectionLimits,
    /// Online payments (I5); none: no page offers Pay now and `/webhooks/stripe` answers 404.
    pub payments: Option<PaymentsConfig>,
}

/// Online payments (I5): the provider's script for the payment page, and its webhook checker.
#[derive(Clone)]
pub struct PaymentsConfig {
    /// Stripe.js (`https://js.stripe.com/v3/`; a local stand-in in tests). The payment page
    /// alone admits its origin in its Content-Security-Policy.
    pub script_url: url::Url,
    /// The platform's publishable key (`pk_…`), handed to the script.
    pub publishable_key: String,
    /// Checks and reads the provider's webhook requests at `POST /webhooks/stripe`.
    pub webhooks: Arc<dyn portico_core::ports::ProviderWebhooks>,
}

impl std::fmt::Debug for PaymentsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PaymentsConfig")
            .field("script_url", &self.script_url.as_str())
            .field("publishable_key", &self.publishable_key)
            .finish_non_exhaustive()
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            admin_token: None,
            max_body_bytes: 1024 * 1024,
            max_file_bytes: usize::try_from(portico_core::ServiceConfig::DEFAULT_MAX_FILE_BYTES)
                .unwrap_or(usize::MAX),
            public_url: PublicUrl::default(),
            pages: PagesConfig::default(),
            metrics_token: None,
            limits: ConnectionLimits::default(),
            payments: None,
        }
    }
}

/// What every handler reads.
pub(crate) struct State {
    pub(crate) portico: Portico,
    pub(crate) admin_token_hash: Option<[u8; 32]>,
}

const TITLE: &str = "Portico integration API";

fn openapi_service(
    state: Arc<State>,
    public_url: &PublicUrl,
) -> OpenApiService<
    (
        api::IntegrationApi,
        api::PlansApi,
        api::PaymentsApi,
        api::WebhooksApi,
    ),
    (),
> {
    OpenApiService::new(
        (
            api::IntegrationApi {
                state: state.clone(),
            },
            api::PlansApi {
                state: state.clone(),
            },
            api::PaymentsApi {
                state: state.clone(),
            },
            api::WebhooksApi { state },
        ),
        TITLE,
        env!("CARGO_PKG_VERSION"),
    )
    .server(public_url.join("/v1"))
}

/// The OpenAPI 3 document of the integration API, as served at `/openapi.json`.
pub fn openapi_json(portico: Portico, config: &HttpConfig) -> String {
    let state = Arc::new(State {
        portico,
        admin_token_hash: None,
    });
    openapi_service(state, &config.public_url).spec()
}

pub(crate) fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// What a stopping server finishes after its last request: the link openings still held in
/// memory (S11) are written.
#[derive(Debug, Clone)]
pub struct Drain {
    opens: Arc<pages::opens::Opens>,
}

impl Drain {
    /// Writes what is still held; what cannot be written is logged.
    pub async fn finish(&self) {
        self.opens.flush().await;
    }
}

/// The HTTP service: the integration API under `/v1`, its document at `/openapi.json`, the
/// interactive docs at `/docs`, and the client pages under `/s/{token}`.
pub fn app(portico: Portico, config: &HttpConfig) -> impl Endpoint<Output = Response> + use<> {
    app_and_drain(portico, config).0
}

/// [`app`], with the [`Drain`] to finish once it stops serving.
pub fn app_and_drain(
    portico: Portico,
    config: &HttpConfig,
) -> (impl Endpoint<Output = Response> + use<>, Drain) {
    let hub = Arc::new(pages::live::LiveHub::new(pages::live::StreamLimits {
        per_link: config.pages.live_streams_per_link,
        per_address: config.pages.live_streams_per_address,
    }));
    let mut portico = portico.with_changes(hub.clone());
    let cache = config
        .pages
        .cache
        .then(|| Arc::new(pages::PageCache::new()));
    if let Some(cache) = &cache {
        portico = portico.with_changes(cache.clone());
    }
    let pages = Arc::new(pages::Pages::new(
        portico.clone(),
        hub,
        cache,
        &config.public_url,
        &config.pages,
        config.payments.clone(),
    ));
    let drain = Drain {
        opens: pages.opens(),
    };
    let state = Arc::new(State {
        portico,
        admin_token_hash: config.admin_token.as_ref().map(|t| hash(t.expose_secret())),
    });
    let api = openapi_service(state.clone(), &config.public_url);
    let spec = api.spec_endpoint();
    let docs = api.swagger_ui();
    let endpoint = Route::new()
        .nest("/v1", api)
        .at("/openapi.json", spec)
        .nest("/docs", docs)
        .at(
            "/webhooks/stripe",
            poem::post(payments::stripe_webhook).data(Arc::new(payments::Webhooks {
                portico: state.portico.clone(),
                checker: config.payments.as_ref().map(|p| p.webhooks.clone()),
            })),
        )
        .nest("/", pages::routes(pages))
        .with(BodyLimit {
            max: config.max_body_bytes,
            max_file: config.max_file_bytes,
            timeout: config.limits.body_read_timeout,
        })
        .before(single_identity_headers)
        .before(literal_invalid_escapes)
        .data(state)
        .catch_all_error(|err: poem::Error| async move {
            if err.is_from_response() {
                // A handler's own `ApiError`: already in the error shape.
                err.into_response()
            } else {
                ApiError::from_status(err.status(), err.to_string()).into_response()
            }
        });
    (endpoint, drain)
}

/// A path whose percent-escapes do not decode to UTF-8 is taken literally (each `%` escaped as
/// `%25`), so routing never fails on it: such a segment is simply an unknown id or token, and
/// gets the answer an unknown one gets (the error shape, or the client page's "not found" with
/// its privacy headers).
// Reason: `before` takes an async function even when it awaits nothing.
#[allow(clippy::unused_async)]
pub(crate) async fn literal_invalid_escapes(mut req: Request) -> poem::Result<Request> {
    let path = req.uri().path();
    if !path.contains('%')
        || percent_encoding::percent_decode_str(path)
            .decode_utf8()
            .is_ok()
    {
        return Ok(req);
    }
    let literal = path.replace('%', "%25");
    let rebuilt = match req.uri().query() {
        Some(query) => format!("{literal}?{query}"),
        None => literal,
    };
    let mut parts = req.uri().clone().into_parts();
    parts.path_and_query =
        Some(rebuilt.parse().map_err(|_| {
            poem::Error::from_string("the path is not valid", StatusCode::BAD_REQUEST)
        })?);
    *req.uri_mut() = poem::http::Uri::from_parts(parts)
        .map_err(|_| poem::Error::from_string("the path is not valid", StatusCode::BAD_REQUEST))?;
    Ok(req)
}

/// Refuses a request that names its key or its acting staff member more than once: which one
/// counts would be a guess.
// Reason: `before` takes an async function even when it awaits nothing.
#[allow(clippy::unused_async)]
async fn single_identity_headers(req: Request) -> poem::Result<Request> {
    for name in ["authorization", "x-portico-staff"] {
        if req.headers().get_all(name).iter().count() > 1 {
            return Err(poem::Error::from_string(
                format!("the {name} header must be sent once"),
                StatusCode::BAD_REQUEST,
            ));
        }
    }
    Ok(req)
}

/// Reads at most `max` bytes of a request body (`max_file` for file uploads and the portal's
/// service-request form, which carries photos), answering 413
/// beyond it, so no handler ever parses an unbounded body (whether or not the client sent
/// `Content-Length`); a body that takes longer than `timeout` to arrive answers 408.
struct BodyLimit {
    max: usize,
    max_file: usize,
    timeout: std::time::Duration,
}

impl<E: Endpoint> Middleware<E> for BodyLimit {
    type Output = BodyLimitEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        BodyLimitEndpoint {
            inner,
            max: self.max,
            max_file: self.max_file,
            timeout: self.timeout,
        }
    }
}

struct BodyLimitEndpoint<E> {
    inner: E,
    max: usize,
    max_file: usize,
    timeout: std::time::Duration,
}

impl<E: Endpoint> Endpoint for BodyLimitEndpoint<E> {
    type Output = E::Output;

    async fn call(&self, mut req: Request) -> poem::Result<Self::Output> {
        // File uploads, and the portal's service-request form (it carries photos), may be as
        // large as a file; everything else as large as a body.
        let path = req.uri().path();
        let upload = path.starts_with("/v1/files/")
            || (req.method() == poem::http::Method::POST
                && path.starts_with("/portal/")
                && path.ends_with("/request"));
        let max = if upload { self.max_file } else { self.max };
        let too_large = || {
            poem::Error::from_string(
                format!("the body is larger than {max} bytes"),
                StatusCode::PAYLOAD_TOO_LARGE,
            )
        };
        let declared = req
            .headers()
            .get(poem::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|len| len > max as u64) {
            return Err(too_large());
        }
        let read = req.take_body().into_bytes_limit(max);
        let body = tokio::time::timeout(self.timeout, read)
            .await
            .map_err(|_| {
                poem::Error::from_string(
                    format!(
                        "the body did not arrive within {} seconds",
                        self.timeout.as_secs()
                    ),
                    StatusCode::REQUEST_TIMEOUT,
                )
            })?
            .map_err(|e| match e {
                poem::error::ReadBodyError::PayloadTooLarge => too_large(),
                other => poem::Error::from_string(other.to_string(), StatusCode::BAD_REQUEST),
            })?;
        req.set_body(body);
        self.inner.call(req).await
    }
}
