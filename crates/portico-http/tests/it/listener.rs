//! The public listener's limits over real sockets: slow or idle connections are cut at the
//! header-read timeout while a normal client is served; the connection caps refuse the excess
//! and serve again once room frees up; a body that does not arrive in time answers 408.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use portico_http::{ConnectionLimits, serve_with_limits};

use crate::support::{config, portico};

/// Serves the app on an ephemeral port under `limits`; stopped when the runtime ends.
fn start(rt: &tokio::runtime::Runtime, limits: ConnectionLimits) -> SocketAddr {
    let mut cfg = config();
    cfg.limits = limits.clone();
    let app = portico_http::app(portico(), &cfg);
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    rt.spawn(serve_with_limits(
        listener,
        app,
        limits,
        std::future::pending(),
    ));
    addr
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A plain `GET /robots.txt` on a fresh connection; the status line, or `None` if refused.
fn fetch(addr: SocketAddr) -> Option<String> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"GET /robots.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    out.lines().next().map(str::to_owned)
}

/// Whether the server has closed `s` (a read returns end of file or a reset).
fn closed(s: &mut TcpStream) -> bool {
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut buf = [0u8; 64];
    match s.read(&mut buf) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => matches!(
            e.kind(),
            std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe
        ),
    }
}

fn limits() -> ConnectionLimits {
    ConnectionLimits {
        header_read_timeout: Duration::from_secs(1),
        body_read_timeout: Duration::from_secs(1),
        max_connections: 64,
        max_connections_per_address: 64,
        shutdown_grace: Duration::from_secs(1),
    }
}

#[test]
fn i6_slow_header_and_idle_connections_are_cut_at_the_timeout_while_others_are_served() {
    let rt = runtime();
    let addr = start(&rt, limits());
    let mut idle = TcpStream::connect(addr).unwrap();
    let mut slow = TcpStream::connect(addr).unwrap();
    let began = Instant::now();
    // A byte every 300 ms never completes a head: activity alone does not keep it open.
    for byte in b"GET /healthz HT" {
        if began.elapsed() > Duration::from_millis(2500) {
            break;
        }
        if slow.write_all(&[*byte]).is_err() {
            break;
        }
        assert_eq!(
            fetch(addr).as_deref(),
            Some("HTTP/1.1 200 OK"),
            "a normal client is served meanwhile"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    assert!(closed(&mut slow), "the slow-header client was cut");
    assert!(closed(&mut idle), "the idle client was cut");
    assert!(
        began.elapsed() < Duration::from_secs(4),
        "cut near the 1 s timeout, not later: {:?}",
        began.elapsed()
    );
}

#[test]
fn i6_the_connection_caps_refuse_the_excess_and_serve_again_when_room_frees_up() {
    for (total, per_address) in [(3, 64), (64, 3)] {
        let rt = runtime();
        let addr = start(
            &rt,
            ConnectionLimits {
                header_read_timeout: Duration::from_secs(30),
                max_connections: total,
                max_connections_per_address: per_address,
                ..limits()
            },
        );
        let held: Vec<TcpStream> = (0..3).map(|_| TcpStream::connect(addr).unwrap()).collect();
        std::thread::sleep(Duration::from_millis(100));
        let mut excess = TcpStream::connect(addr).unwrap();
        assert!(
            closed(&mut excess),
            "the fourth connection is closed at once (total {total}, per address {per_address})"
        );
        drop(held);
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(
            fetch(addr).as_deref(),
            Some("HTTP/1.1 200 OK"),
            "served again once room frees up"
        );
    }
}

#[test]
fn i6_a_body_that_does_not_arrive_in_time_answers_408() {
    let rt = runtime();
    let addr = start(&rt, limits());
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(
        b"PUT /v1/org HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer pk_x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"na",
    )
    .unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    assert!(out.starts_with("HTTP/1.1 408"), "{out}");
    assert!(out.contains("request_timeout"), "{out}");
}

#[test]
fn i6_ipv6_addresses_count_by_their_64_prefix() {
    use std::net::IpAddr;
    let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
    let b: IpAddr = "2001:db8:1:2:ffff:ffff:ffff:ffff".parse().unwrap();
    let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
    let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
    let key = portico_http::address_key;
    assert_eq!(key(a), key(b));
    assert_ne!(key(a), key(c));
    assert_eq!(key(mapped), "192.0.2.7".parse::<IpAddr>().unwrap());
}
