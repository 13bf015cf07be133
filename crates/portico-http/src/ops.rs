//! Operating the service (O4): `/healthz`, `/readyz`, `/metrics`, request metrics and logs, and
//! the server loop with graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use poem::http::StatusCode;
use poem::web::Data;
use poem::{
    Endpoint, EndpointExt, IntoResponse, Middleware, Request, Response, Route, get, handler,
};
use portico_core::Portico;

use crate::HttpConfig;

/// Why the service is not ready: what failed, for the log (never for the answer).
#[derive(Debug, thiserror::Error)]
#[error("not ready: {0}")]
pub struct NotReady(#[source] pub Box<dyn std::error::Error + Send + Sync>);

/// What the operations endpoints ask of the running service.
#[async_trait]
pub trait Operations: Send + Sync + 'static {
    /// Whether the database answers; what failed when it does not.
    async fn ready(&self) -> Result<(), NotReady>;
    /// Prometheus text for everything recorded so far (after [`Operations::refresh`]).
    fn render_metrics(&self) -> String;
    /// Updates gauges that are read rather than counted (the outbox depth).
    async fn refresh(&self);
}

type Ops = Arc<dyn Operations>;

#[handler]
fn healthz() -> &'static str {
    "ok"
}

#[handler]
async fn readyz(ops: Data<&Ops>) -> Response {
    match ops.ready().await {
        Ok(()) => "ready".into_response(),
        Err(NotReady(reason)) => {
            tracing::warn!(%reason, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "not ready").into_response()
        }
    }
}

#[handler]
async fn prometheus(ops: Data<&Ops>) -> String {
    ops.refresh().await;
    ops.render_metrics()
}

/// `/metrics` on the public port: only with the metrics token (compared as SHA-256), and not at
/// all without one configured, so the public port carries only pages and the API.
#[handler]
async fn guarded_prometheus(
    req: &Request,
    ops: Data<&Ops>,
    guard: Data<&MetricsGuard>,
) -> Response {
    let Some(expected) = guard.0.0 else {
        return crate::ApiError::from_status(StatusCode::NOT_FOUND, String::new()).into_response();
    };
    let presented = req
        .headers()
        .get(poem::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|token| crate::hash(token.trim()));
    if presented != Some(expected) {
        return crate::ApiError::unauthorized().into_response();
    }
    ops.refresh().await;
    ops.render_metrics().into_response()
}

#[derive(Clone, Copy)]
struct MetricsGuard(Option<[u8; 32]>);

/// The operator's side, for a private listen address: `/metrics`, `/healthz` and `/readyz`,
/// with no token.
pub fn operations_service(ops: Ops) -> impl Endpoint<Output = Response> + use<> {
    Route::new()
        .at("/healthz", get(healthz))
        .at("/readyz", get(readyz))
        .at("/metrics", get(prometheus))
        .data(ops)
}

/// Counts, times and logs requests, labelled by the API's operation id (or `other`), method and
/// status, never by path: ids would make labels unbounded, and tokens must never be logged.
struct RequestMetrics;

impl<E: Endpoint> Middleware<E> for RequestMetrics {
    type Output = RequestMetricsEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        RequestMetricsEndpoint { inner }
    }
}

struct RequestMetricsEndpoint<E> {
    inner: E,
}

impl<E: Endpoint> Endpoint for RequestMetricsEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Self::Output> {
        let method = req.method().to_string();
        let started = Instant::now();
        let resp = match self.inner.call(req).await {
            Ok(out) => out.into_response(),
            Err(err) => err.into_response(),
        };
        let operation = resp
            .extensions()
            .get::<poem_openapi::OperationId>()
            .map_or("other", |id| id.0);
        let status = resp.status().as_u16();
        let elapsed = started.elapsed();
        metrics::counter!(
            "portico_http_requests_total",
            "operation" => operation,
            "method" => method,
            "status" => status.to_string()
        )
        .increment(1);
        metrics::histogram!("portico_http_request_duration_seconds", "operation" => operation)
            .record(elapsed.as_secs_f64());
        tracing::info!(
            operation,
            status,
            elapsed_ms = elapsed.as_secs_f64() * 1000.0,
            "request"
        );
        Ok(resp)
    }
}

/// The whole service: the API ([`crate::app`]) plus `/healthz`, `/readyz`, and `/metrics`
/// behind `config.metrics_token` (absent without one; see [`operations_service`]).
pub fn service(
    portico: Portico,
    config: &HttpConfig,
    ops: Ops,
) -> impl Endpoint<Output = Response> + use<> {
    service_and_drain(portico, config, ops).0
}

/// [`service`], with the [`crate::Drain`] to finish once it stops serving.
pub fn service_and_drain(
    portico: Portico,
    config: &HttpConfig,
    ops: Ops,
) -> (impl Endpoint<Output = Response> + use<>, crate::Drain) {
    let (app, drain) = crate::app_and_drain(portico, config);
    let endpoint = Route::new()
        .at("/healthz", get(healthz))
        .at("/readyz", get(readyz))
        .at("/metrics", get(guarded_prometheus))
        .nest("/", app)
        // Before any routing, here as in `app`: the outer router fails on such a path too.
        .before(crate::literal_invalid_escapes)
        .with(RequestMetrics)
        .data(ops)
        .data(MetricsGuard(config.metrics_token.as_ref().map(|t| {
            crate::hash(secrecy::ExposeSecret::expose_secret(t))
        })));
    (endpoint, drain)
}

/// Serves [`service`] on `bind` until `shutdown` resolves, under the connection limits of
/// `config.limits`; then stops accepting, lets in-flight requests finish within the grace
/// period, and writes the link openings still held in memory (S11, O4).
pub async fn serve(
    portico: Portico,
    config: &HttpConfig,
    ops: Ops,
    bind: SocketAddr,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(bind).await?;
    let (endpoint, drain) = service_and_drain(portico, config, ops);
    let served =
        crate::listener::serve_with_limits(listener, endpoint, config.limits.clone(), shutdown)
            .await;
    drain.finish().await;
    served
}
