//! The public listener: what a server facing the internet with no proxy in front needs before
//! any request is parsed. A connection must send a complete request head within the header-read
//! timeout, and a kept-alive connection that sends nothing more is closed by the same timer, so
//! idle and slow-header sockets cannot pile up. Open connections are capped in total and per
//! client address (an IPv6 address counts by its /64), so one peer cannot take every file
//! descriptor; the excess is closed at once and served again as soon as room frees up. Bodies
//! have their own read timeout ([`ConnectionLimits::body_read_timeout`], applied where bodies
//! are read). Shutdown stops accepting, lets in-flight requests finish within a grace period,
//! then returns.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use poem::web::{LocalAddr, RemoteAddr};
use poem::{Endpoint, EndpointExt, IntoEndpoint};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// Limits on connections, before any request is parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// How long a connection may take to send a complete request head, counted from when it
    /// opens or its previous response ended (so it is also the keep-alive idle timeout).
    pub header_read_timeout: Duration,
    /// How long a request body may take to arrive in full.
    pub body_read_timeout: Duration,
    /// Open connections at most, in total.
    pub max_connections: usize,
    /// Open connections at most from one client address (an IPv6 /64 counts as one).
    pub max_connections_per_address: usize,
    /// How long shutdown waits for in-flight requests.
    pub shutdown_grace: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(30),
            max_connections: 4096,
            max_connections_per_address: 256,
            shutdown_grace: Duration::from_secs(30),
        }
    }
}

/// Put on every request the listener serves: turns true when the server starts shutting down,
/// so responses that would otherwise never end (live-status streams) finish, and shutdown does
/// not wait out its grace period for them.
#[derive(Debug, Clone)]
pub(crate) struct Draining(tokio::sync::watch::Receiver<bool>);

impl Draining {
    /// Resolves once the server is shutting down (never, if the listener is gone without it).
    pub(crate) async fn started(mut self) {
        let _ = self.0.wait_for(|draining| *draining).await;
    }
}

/// The key connections are counted under: the address, or its /64 for IPv6.
pub fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                IpAddr::V4(v4)
            } else {
                IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into())
            }
        }
    }
}

/// Open connections per address key.
#[derive(Debug, Default)]
struct PerAddress(Mutex<HashMap<IpAddr, usize>>);

/// One connection counted against its address; uncounted when dropped.
struct AddressSlot {
    table: Arc<PerAddress>,
    key: IpAddr,
}

impl PerAddress {
    fn enter(table: &Arc<Self>, ip: IpAddr, max: usize) -> Option<AddressSlot> {
        let key = address_key(ip);
        let mut counts = table
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let count = counts.entry(key).or_insert(0);
        if *count >= max {
            return None;
        }
        *count += 1;
        Some(AddressSlot {
            table: table.clone(),
            key,
        })
    }
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let mut counts = self
            .table
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(count) = counts.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&self.key);
            }
        }
    }
}

/// Serves `ep` on `listener` under `limits` until `shutdown` resolves; then stops accepting and
/// waits up to `limits.shutdown_grace` for open connections to finish their requests.
pub async fn serve_with_limits<E>(
    listener: TcpListener,
    ep: E,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()>
where
    E: IntoEndpoint,
    E::Endpoint: 'static,
{
    let ep = Arc::new(ep.into_endpoint().map_to_response());
    let local = listener.local_addr()?;
    let graceful = GracefulShutdown::new();
    let total = Arc::new(Semaphore::new(limits.max_connections));
    let per_address = Arc::new(PerAddress::default());
    let (drain, draining) = tokio::sync::watch::channel(false);
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of descriptors or a connection reset before accept: wait a moment
                    // rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Ok(permit) = total.clone().try_acquire_owned() else {
            metrics::counter!("portico_connections_refused_total", "reason" => "total")
                .increment(1);
            drop(stream);
            continue;
        };
        let Some(slot) =
            PerAddress::enter(&per_address, peer.ip(), limits.max_connections_per_address)
        else {
            metrics::counter!("portico_connections_refused_total", "reason" => "per_address")
                .increment(1);
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let ep = ep.clone();
        let draining = draining.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<_>| {
            let ep = ep.clone();
            req.extensions_mut().insert(Draining(draining.clone()));
            async move {
                let req = poem::Request::from((
                    req,
                    LocalAddr(local.into()),
                    RemoteAddr(peer.into()),
                    poem::http::uri::Scheme::HTTP,
                ));
                Ok::<hyper::Response<_>, Infallible>(ep.get_response(req).await.into())
            }
        });
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            let _held = (permit, slot);
            // A connection closed by its peer or by a timeout ends here; nothing to report.
            let _ = connection.await;
        });
    }
    drop(listener);
    let _ = drain.send(true);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(limits.shutdown_grace) => {
            tracing::warn!("connections still open after the shutdown grace period; closing them");
        }
    }
    Ok(())
}
