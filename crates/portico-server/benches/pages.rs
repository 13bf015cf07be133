//! Benchmark: the client's work-order page under load. Starts the real `portico serve` (release
//! build) on SQLite with the demo, then drives 64 keep-alive connections over loopback for a few
//! seconds each at: a static route of the same server (`/healthz`, the ceiling), the work-order
//! page with the page cache (the default on SQLite), and the same page without it. Prints
//! requests/s, p50 and p99 for each and the page's share of the ceiling; then checks that a
//! revoke stops the link on the very next request (S5) and that the org switch stops it (S8).
//!
//! `PORTICO_BENCH_CONNECTIONS` (default 64) and `PORTICO_BENCH_SECONDS` (default 5) shape it.

// Reason: a benchmark stops at the first broken step; there is nobody to report an error to.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const ADMIN: &str = "an-admin-token-for-the-pages-bench";

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Server {
    child: Child,
    port: u16,
    data: tempfile::TempDir,
}

impl Server {
    fn start(cache: bool) -> Self {
        let data = tempfile::tempdir().unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(env!("CARGO_BIN_EXE_portico"))
            .arg("serve")
            .env_clear()
            .env("PORTICO_BIND", format!("127.0.0.1:{port}"))
            .env("PORTICO_DATA_DIR", data.path())
            .env("PORTICO_ADMIN_TOKEN", ADMIN)
            .env("PORTICO_PAGE_CACHE", if cache { "on" } else { "off" })
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let server = Self { child, port, data };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "portico did not come up");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    fn demo(&self) -> Value {
        let out = Command::new(env!("CARGO_BIN_EXE_portico"))
            .args(["demo", "--json"])
            .env_clear()
            .env("PORTICO_DATA_DIR", self.data.path())
            .env("PORTICO_BIND", format!("127.0.0.1:{}", self.port))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One GET on a kept-alive connection; returns the status.
async fn get(stream: &mut TcpStream, request: &[u8], buf: &mut Vec<u8>, chunk: &mut [u8]) -> u16 {
    stream.write_all(request).await.unwrap();
    buf.clear();
    loop {
        let n = stream.read(chunk).await.unwrap();
        assert!(n > 0, "the server closed the connection");
        buf.extend_from_slice(&chunk[..n]);
        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = std::str::from_utf8(&buf[..end])
            .unwrap()
            .to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .map_or(0, |v| v.trim().parse().unwrap());
        if buf.len() >= end + 4 + length {
            return head[9..12].parse().unwrap();
        }
    }
}

struct Figures {
    rate: f64,
    p50: Duration,
    p99: Duration,
}

/// Drives `connections` keep-alive connections at `path` for `seconds`.
fn load(port: u16, path: &str, connections: u64, seconds: u64) -> Figures {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n").into_bytes();
        let stop = Instant::now() + Duration::from_secs(seconds);
        let warm = Instant::now() + Duration::from_millis(500);
        let tasks: Vec<_> = (0..connections)
            .map(|_| {
                let request = request.clone();
                tokio::spawn(async move {
                    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
                    stream.set_nodelay(true).unwrap();
                    let mut buf = Vec::with_capacity(16 * 1024);
                    let mut chunk = vec![0u8; 16 * 1024];
                    let mut latencies = Vec::new();
                    loop {
                        let t = Instant::now();
                        if t >= stop {
                            break;
                        }
                        let status = get(&mut stream, &request, &mut buf, &mut chunk).await;
                        assert_eq!(status, 200);
                        if t >= warm {
                            latencies.push(t.elapsed());
                        }
                    }
                    latencies
                })
            })
            .collect();
        let mut all = Vec::new();
        for task in tasks {
            all.extend(task.await.unwrap());
        }
        all.sort();
        let measured = Duration::from_secs(seconds)
            .checked_sub(Duration::from_millis(500))
            .unwrap_or(Duration::from_secs(1));
        Figures {
            // Reason: a rate for printing.
            rate: {
                #[allow(clippy::cast_precision_loss)]
                let n = all.len() as f64;
                n / measured.as_secs_f64()
            },
            p50: all[all.len() / 2],
            p99: all[all.len() * 99 / 100],
        }
    })
}

fn print(label: &str, f: &Figures) {
    println!(
        "{label:<34} {:>9.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms",
        f.rate,
        f.p50.as_secs_f64() * 1e3,
        f.p99.as_secs_f64() * 1e3
    );
}

fn status_of(port: u16, path: &str) -> u16 {
    let mut resp = ureq::get(format!("http://127.0.0.1:{port}{path}"))
        .config()
        .http_status_as_error(false)
        .build()
        .call()
        .unwrap();
    let _ = resp.body_mut().read_to_string();
    resp.status().as_u16()
}

fn api(demo: &Value, method: &str, path: &str, body: &Value, admin: bool) -> u16 {
    let base = demo["api_base"].as_str().unwrap();
    let bearer = if admin {
        ADMIN
    } else {
        demo["api_key"].as_str().unwrap()
    };
    let req = ureq::http::Request::builder()
        .method(method)
        .uri(format!("{base}{path}"))
        .header("Authorization", format!("Bearer {bearer}"))
        .header("X-Portico-Staff", "demo-owner")
        .header("Content-Type", "application/json")
        .body(body.to_string())
        .unwrap();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    agent.run(req).unwrap().status().as_u16()
}

fn main() {
    let connections = env_or("PORTICO_BENCH_CONNECTIONS", 64);
    let seconds = env_or("PORTICO_BENCH_SECONDS", 5);
    println!(
        "Client pages on SQLite: {connections} keep-alive connections over loopback, {seconds} s each"
    );
    let server = Server::start(true);
    let demo = server.demo();
    let page = format!(
        "/s/{}",
        demo["work_order_share_url"]
            .as_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
    );
    let ceiling = load(server.port, "/healthz", connections, seconds);
    print("static route (/healthz, ceiling)", &ceiling);
    let cached = load(server.port, &page, connections, seconds);
    print("work-order page (page cache on)", &cached);

    let uncached_server = Server::start(false);
    let uncached_demo = uncached_server.demo();
    let uncached_page = format!(
        "/s/{}",
        uncached_demo["work_order_share_url"]
            .as_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
    );
    let uncached = load(uncached_server.port, &uncached_page, connections, seconds);
    print("work-order page (page cache off)", &uncached);
    println!(
        "page / ceiling: {:.0}% with the cache, {:.0}% without",
        cached.rate / ceiling.rate * 100.0,
        uncached.rate / ceiling.rate * 100.0
    );

    // S5 and S8 still hold after the load, on the very next request.
    let share = {
        let agent: ureq::Agent = ureq::Agent::config_builder().build().into();
        let req = ureq::http::Request::builder()
            .method("GET")
            .uri(format!(
                "{}/records/work_order/demo-wo/shares",
                demo["api_base"].as_str().unwrap()
            ))
            .header(
                "Authorization",
                format!("Bearer {}", demo["api_key"].as_str().unwrap()),
            )
            .body(())
            .unwrap();
        let list: Value =
            serde_json::from_str(&agent.run(req).unwrap().body_mut().read_to_string().unwrap())
                .unwrap();
        list.as_array().unwrap().last().unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let org = json!({ "name": "Bright Spark Electrical", "plan": "business", "contact_phone": "+1 555 0100", "contact_email": "office@brightspark.example", "settings": { "client_sharing": false } });
    assert_eq!(api(&demo, "PUT", "/admin/orgs/demo", &org, true), 200);
    let s8 = status_of(server.port, &page);
    let mut on = org.clone();
    on["settings"]["client_sharing"] = json!(true);
    assert_eq!(api(&demo, "PUT", "/admin/orgs/demo", &on, true), 200);
    let back = status_of(server.port, &page);
    assert_eq!(
        api(
            &demo,
            "POST",
            &format!("/shares/{share}/revoke"),
            &json!({}),
            false
        ),
        200
    );
    let s5 = status_of(server.port, &page);
    println!(
        "S8: org switch off -> {s8} (403 expected), on again -> {back}; S5: revoke -> next request {s5} (404 expected)"
    );
    assert_eq!((s8, back, s5), (403, 200, 404));
}
