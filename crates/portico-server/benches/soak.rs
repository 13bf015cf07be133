//! Soak: the release binary on SQLite for a minute under mixed load, as it would face the
//! internet. 32 keep-alive connections read a client page and 32 read the API, while 500
//! live-status streams stay open on 20 links (from 250 loopback addresses), a writer changes a
//! work order's status every 200 ms (so streams wake and re-read), and a guesser tries unknown
//! tokens from a new address for every guess. Prints requests/s and p99 for the page and the
//! API, errors seen by honest clients (expected 0), what the guesser got, streams still open
//! and events they received, and the server's resident memory before and after (expected flat).
//!
//! `PORTICO_SOAK_SECONDS` (default 60) and `PORTICO_SOAK_STREAMS` (default 500) shape it.

// Reason: a benchmark stops at the first broken step; there is nobody to report an error to.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// Reason: the soak is one scenario, read top to bottom.
#![allow(clippy::too_many_lines)]

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

#[path = "support/server.rs"]
mod server;

use server::{Server, env_or, request};

const ADMIN: &str = "an-admin-token-for-the-soak-bench";

/// One gauge from the server's `/metrics`.
fn gauge(port: u16, name: &str) -> String {
    let mut resp = ureq::get(format!("http://127.0.0.1:{port}/metrics"))
        .header("Authorization", format!("Bearer {ADMIN}"))
        .call()
        .unwrap();
    let text = resp.body_mut().read_to_string().unwrap();
    text.lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.split_whitespace().last())
        .unwrap_or("0")
        .to_owned()
}

fn call(demo: &Value, method: &str, path: &str, body: &Value) -> (u16, Value) {
    let base = demo["api_base"].as_str().unwrap();
    let req = ureq::http::Request::builder()
        .method(method)
        .uri(format!("{base}{path}"))
        .header(
            "Authorization",
            format!("Bearer {}", demo["api_key"].as_str().unwrap()),
        )
        .header("X-Portico-Staff", "demo-owner")
        .header("Content-Type", "application/json")
        .body(body.to_string())
        .unwrap();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut resp = agent.run(req).unwrap();
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A connection from loopback address `127.0.0.{host}` (Linux routes all of 127/8 locally).
async fn connect_from(host: u8, third: u8, port: u16) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::from((Ipv4Addr::new(127, 0, third, host), 0)))?;
    socket
        .connect(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
        .await
}

#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    errors: u64,
}

/// Keep-alive connections hammering `req` until `stop`.
async fn honest(port: u16, req: Vec<u8>, connections: usize, stop: Instant) -> Tally {
    let tasks: Vec<_> = (0..connections)
        .map(|_| {
            let req = req.clone();
            tokio::spawn(async move {
                let mut tally = Tally::default();
                let mut buf = Vec::with_capacity(32 * 1024);
                let mut chunk = vec![0u8; 16 * 1024];
                let mut stream = None;
                while Instant::now() < stop {
                    if stream.is_none() {
                        stream = TcpStream::connect(("127.0.0.1", port)).await.ok();
                        if stream.is_none() {
                            tally.errors += 1;
                            tokio::time::sleep(Duration::from_millis(10)).await;
                            continue;
                        }
                    }
                    let t = Instant::now();
                    if let Some(200) =
                        request(stream.as_mut().unwrap(), &req, &mut buf, &mut chunk).await
                    {
                        tally.latencies.push(t.elapsed());
                    } else {
                        tally.errors += 1;
                        stream = None;
                    }
                }
                tally
            })
        })
        .collect();
    let mut all = Tally::default();
    for task in tasks {
        let t = task.await.unwrap();
        all.latencies.extend(t.latencies);
        all.errors += t.errors;
    }
    all.latencies.sort();
    all
}

fn report(label: &str, t: &Tally, seconds: u64) {
    let n = t.latencies.len();
    // Reason: rates for printing.
    #[allow(clippy::cast_precision_loss)]
    let rate = n as f64 / seconds as f64;
    let p99 = t.latencies.get(n * 99 / 100).copied().unwrap_or_default();
    println!(
        "{label:<28} {rate:>8.0} req/s  p99 {:>7.2} ms  honest-client errors {}",
        p99.as_secs_f64() * 1e3,
        t.errors
    );
}

fn main() {
    let seconds = env_or("PORTICO_SOAK_SECONDS", 60);
    let streams: usize = env_or("PORTICO_SOAK_STREAMS", 500);
    let server = Server::start(
        ADMIN,
        &[("PORTICO_METRICS_TOKEN", ADMIN), ("RUST_LOG", "error")],
    );
    let demo = server.demo();
    let port = server.port;
    let (status, _) = call(
        &demo,
        "PUT",
        "/clients/soak-client",
        &json!({ "name": "Soak Client", "email": "soak@client.example" }),
    );
    assert_eq!(status, 200);
    let mut tokens = Vec::new();
    for i in 0..20 {
        let wo = json!({ "client_id": "soak-client", "title": format!("Soak job {i}"), "status": "scheduled" });
        assert_eq!(
            call(&demo, "PUT", &format!("/work-orders/soak-{i}"), &wo).0,
            200
        );
        let (status, share) = call(
            &demo,
            "POST",
            &format!("/records/work_order/soak-{i}/share"),
            &json!({}),
        );
        assert_eq!(status, 200, "{share}");
        tokens.push(
            share["link"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
                .to_owned(),
        );
    }
    let page_token = demo["work_order_share_url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let key = demo["api_key"].as_str().unwrap().to_owned();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        // The live-status streams, spread over links and addresses.
        let events = Arc::new(AtomicU64::new(0));
        let open = Arc::new(AtomicU64::new(0));
        let done = Arc::new(AtomicBool::new(false));
        for i in 0..streams {
            let token = tokens[i % tokens.len()].clone();
            let (events, open, done) = (events.clone(), open.clone(), done.clone());
            let host = 2 + (i % 250) as u8;
            tokio::spawn(async move {
                let Ok(mut s) = connect_from(host, 0, port).await else { return };
                let req = format!("GET /s/{token}/events HTTP/1.1\r\nHost: x\r\n\r\n");
                if s.write_all(req.as_bytes()).await.is_err() {
                    return;
                }
                let mut chunk = [0u8; 4096];
                let mut head = String::new();
                let mut counted = false;
                while !done.load(Ordering::Relaxed) {
                    match tokio::time::timeout(Duration::from_millis(500), s.read(&mut chunk)).await {
                        Ok(Ok(0) | Err(_)) => break,
                        Ok(Ok(n)) => {
                            let text = String::from_utf8_lossy(&chunk[..n]);
                            if !counted {
                                head.push_str(&text);
                                if head.starts_with("HTTP/1.1 200") {
                                    counted = true;
                                    open.fetch_add(1, Ordering::Relaxed);
                                }
                            }
                            events.fetch_add(text.matches("event: status").count() as u64, Ordering::Relaxed);
                        }
                        Err(_) => {}
                    }
                }
                if counted {
                    open.fetch_sub(1, Ordering::Relaxed);
                }
            });
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        let streams_open_at_start = open.load(Ordering::Relaxed);
        let rss_start = server.rss_mib();
        let stop = Instant::now() + Duration::from_secs(seconds);

        // A writer changes statuses (waking the streams of one link at a time).
        let writer_demo = demo.clone();
        let status_writer = tokio::task::spawn_blocking(move || {
            let mut n = 0u64;
            let statuses = ["in_progress", "on_hold", "scheduled"];
            while Instant::now() < stop {
                let body = json!({ "type": "status_changed", "status": statuses[(n % 3) as usize] });
                let path = format!("/work-orders/soak-{}/events", n % 20);
                assert_eq!(call(&writer_demo, "POST", &path, &body).0, 200);
                n += 1;
                std::thread::sleep(Duration::from_millis(200));
            }
            n
        });
        // A guesser: every guess from a new address.
        let guessing = tokio::spawn(async move {
            let (mut not_found, mut throttled, mut refused, mut n) = (0u64, 0u64, 0u64, 0u64);
            let mut buf = Vec::new();
            let mut chunk = vec![0u8; 16 * 1024];
            while Instant::now() < stop {
                let host = (n % 250) as u8 + 2;
                let third = 1 + ((n / 250) % 250) as u8;
                n += 1;
                let Ok(mut s) = connect_from(host, third, port).await else {
                    refused += 1;
                    continue;
                };
                let req = format!("GET /s/guess{n:040} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
                match request(&mut s, req.as_bytes(), &mut buf, &mut chunk).await {
                    Some(404) => not_found += 1,
                    Some(429) => throttled += 1,
                    _ => refused += 1,
                }
            }
            (n, not_found, throttled, refused)
        });
        let page_req = format!("GET /s/{page_token} HTTP/1.1\r\nHost: x\r\n\r\n").into_bytes();
        let api_req = format!(
            "GET /v1/records/work_order/demo-wo/shares HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n\r\n"
        )
        .into_bytes();
        let pages = tokio::spawn(honest(port, page_req, 32, stop));
        let api = tokio::spawn(honest(port, api_req, 32, stop));
        let pages = pages.await.unwrap();
        let api = api.await.unwrap();
        let status_changes = status_writer.await.unwrap();
        let (guesses, not_found, throttled, refused) = guessing.await.unwrap();
        let streams_open_at_end = open.load(Ordering::Relaxed);
        let rss_end = server.rss_mib();
        done.store(true, Ordering::Relaxed);

        println!(
            "Soak on SQLite for {seconds} s: 32 page + 32 API keep-alive connections, {streams} live streams on 20 links, a status change every 200 ms, a guesser rotating addresses"
        );
        report("client page", &pages, seconds);
        report("API (list shares)", &api, seconds);
        println!(
            "live streams open: {streams_open_at_start} at start, {streams_open_at_end} at end; status events received: {}; status changes: {status_changes}",
            events.load(Ordering::Relaxed)
        );
        println!(
            "guesser: {guesses} guesses from rotating addresses -> {not_found} not found, {throttled} throttled, {refused} refused or failed"
        );
        println!(
            "throttle table: {} addresses tracked at the end (bounded, pruned each minute)",
            gauge(port, "portico_throttle_tracked_addresses")
        );
        println!("server RSS: {rss_start:.1} MiB at start, {rss_end:.1} MiB at end");
    });
}
