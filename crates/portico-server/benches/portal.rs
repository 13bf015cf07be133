//! Benchmark: the client portal (C5, C7). Starts the real `portico serve` (release build) on
//! SQLite with the demo, gives the demo client 200 issued records (invoices, estimates and jobs)
//! through the API, signs them in through the invitation's link, then drives keep-alive
//! connections for a few seconds each at the static route (the ceiling) and the portal home.
//! Then measures password sign-ins per second (argon2id, OWASP's parameters) at a few
//! connections. Prints requests/s, p50 and p99.
//!
//! `PORTICO_BENCH_CONNECTIONS` (default 64), `PORTICO_BENCH_SECONDS` (default 5) and
//! `PORTICO_BENCH_SIGN_IN_CONNECTIONS` (default 4) shape it.

// Reason: a benchmark stops at the first broken step; there is nobody to report an error to.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use serde_json::{Value, json};

#[path = "support/load.rs"]
mod load;
#[path = "support/server.rs"]
mod server;

use load::{load, print};
use server::{Server, env_or};

const ADMIN: &str = "an-admin-token-for-the-portal-bench";
const RECORDS: usize = 200;
const PASSWORD: &str = "correct horse battery staple";

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into()
}

fn api(demo: &Value, method: &str, path: &str, body: &Value) -> u16 {
    let req = ureq::http::Request::builder()
        .method(method)
        .uri(format!("{}{path}", demo["api_base"].as_str().unwrap()))
        .header(
            "Authorization",
            format!("Bearer {}", demo["api_key"].as_str().unwrap()),
        )
        .header("X-Portico-Staff", "demo-owner")
        .header("Content-Type", "application/json")
        .body(body.to_string())
        .unwrap();
    agent().run(req).unwrap().status().as_u16()
}

/// The demo client's invitation link, once the dispatcher wrote it to the mail folder.
fn invitation(server: &Server) -> String {
    let dir = server.data.path().join("mail");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let found = std::fs::read_dir(&dir).ok().and_then(|entries| {
            entries.filter_map(Result::ok).find_map(|e| {
                let text = std::fs::read_to_string(e.path()).ok()?.replace("=\r\n", "");
                let from = text.find("/portal/demo/link/")?;
                text.get(from..from + "/portal/demo/link/".len() + 43)
                    .map(str::to_owned)
            })
        });
        if let Some(link) = found {
            return link;
        }
        assert!(
            Instant::now() < deadline,
            "no invitation in the mail folder"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn csrf_of(page: &str) -> String {
    let attr = "name=\"csrf\" value=\"";
    let from = page.find(attr).unwrap() + attr.len();
    page[from..from + page[from..].find('"').unwrap()].to_owned()
}

fn post_form(
    server: &Server,
    path: &str,
    body: &str,
    cookie: Option<&str>,
) -> (u16, Option<String>) {
    let mut req = agent()
        .post(format!("{}{path}", server.base))
        .header("Origin", &server.base)
        .content_type("application/x-www-form-urlencoded");
    if let Some(cookie) = cookie {
        req = req.header("Cookie", cookie);
    }
    let resp = req.send(body.to_owned()).unwrap();
    let cookie = resp
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|c| c.split(';').next())
        .map(str::to_owned);
    (resp.status().as_u16(), cookie)
}

fn get_page(server: &Server, path: &str, cookie: Option<&str>) -> (u16, String) {
    let mut req = agent().get(format!("{}{path}", server.base));
    if let Some(cookie) = cookie {
        req = req.header("Cookie", cookie);
    }
    let mut resp = req.call().unwrap();
    (
        resp.status().as_u16(),
        resp.body_mut().read_to_string().unwrap(),
    )
}

/// 200 issued records for the demo client: invoices, estimates and jobs in turn.
fn seed_records(demo: &Value) {
    for i in 0..RECORDS {
        let (path, body) = match i % 3 {
            0 => (
                format!("/invoices/bench-inv-{i}"),
                json!({ "client_id": "demo-client", "number": format!("INV-{i}"), "title": format!("Invoice {i}"),
                        "status": "issued", "currency": "USD", "due_date": "2026-12-01",
                        "items": [{ "description": "Labour", "quantity": "2", "unit_price": "85.00" }] }),
            ),
            1 => (
                format!("/quotes/bench-q-{i}"),
                json!({ "client_id": "demo-client", "number": format!("Q-{i}"), "title": format!("Estimate {i}"),
                        "status": "sent", "currency": "USD", "valid_until": "2026-12-31",
                        "items": [{ "description": "Rewire", "quantity": "1", "unit_price": "1200.00" }] }),
            ),
            _ => (
                format!("/work-orders/bench-wo-{i}"),
                json!({ "client_id": "demo-client", "title": format!("Job {i}"), "status": "scheduled",
                        "schedule": { "start": "2026-12-02T08:00:00Z" } }),
            ),
        };
        assert_eq!(api(demo, "PUT", &path, &body), 200, "{path}");
    }
}

/// Password sign-ins per second at `connections` at once, for `seconds`.
fn sign_ins(server: &Server, csrf: &str, connections: u64, seconds: u64) -> load::Figures {
    let stop = Instant::now() + Duration::from_secs(seconds);
    let body = format!(
        "email=jordan%40client.example&password={}&csrf={csrf}",
        PASSWORD.replace(' ', "+")
    );
    let latencies = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..connections)
            .map(|_| {
                scope.spawn(|| {
                    let mut times = Vec::new();
                    while Instant::now() < stop {
                        let t = Instant::now();
                        let (status, cookie) =
                            post_form(server, "/portal/demo/password", &body, None);
                        assert_eq!(status, 303);
                        assert!(cookie.is_some());
                        times.push(t.elapsed());
                    }
                    times
                })
            })
            .collect();
        let mut all: Vec<Duration> = workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect();
        all.sort();
        all
    });
    load::Figures {
        // Reason: a rate for printing.
        rate: {
            #[allow(clippy::cast_precision_loss)]
            let n = latencies.len() as f64;
            n / Duration::from_secs(seconds).as_secs_f64()
        },
        p50: latencies[latencies.len() / 2],
        p99: latencies[latencies.len() * 99 / 100],
    }
}

fn main() {
    let connections = env_or("PORTICO_BENCH_CONNECTIONS", 64);
    let seconds = env_or("PORTICO_BENCH_SECONDS", 5);
    let sign_in_connections = env_or("PORTICO_BENCH_SIGN_IN_CONNECTIONS", 4);
    let server = Server::start(ADMIN, &[]);
    let demo = server.demo();
    seed_records(&demo);
    println!(
        "Client portal on SQLite: the home of a client with {} records, {connections} keep-alive connections, {seconds} s each",
        RECORDS + 3
    );

    let link = invitation(&server);
    let (_, confirm) = get_page(&server, &link, None);
    let csrf = csrf_of(&confirm);
    let token = link.rsplit('/').next().unwrap();
    let (status, cookie) = post_form(
        &server,
        "/portal/demo/link",
        &format!("token={token}&csrf={csrf}"),
        None,
    );
    assert_eq!(status, 303);
    let cookie = cookie.unwrap();
    let (_, account) = get_page(&server, "/portal/demo/account", Some(&cookie));
    let session_csrf = csrf_of(&account);
    let (status, _) = post_form(
        &server,
        "/portal/demo/account",
        &format!(
            "password={}&csrf={session_csrf}",
            PASSWORD.replace(' ', "+")
        ),
        Some(&cookie),
    );
    assert_eq!(status, 200);
    let (status, home) = get_page(&server, "/portal/demo/home", Some(&cookie));
    assert_eq!(status, 200);
    assert!(
        home.contains("Invoices <span class=\"muted\">(68)</span>"),
        "the 67 seeded and the demo's"
    );

    let ceiling = load(server.port, "/healthz", "", connections, seconds);
    print("static route (/healthz, ceiling)", &ceiling);
    let header = format!("Cookie: {cookie}\r\n");
    let portal = load(
        server.port,
        "/portal/demo/home",
        &header,
        connections,
        seconds,
    );
    print("portal home (203 records)", &portal);
    println!(
        "portal home / ceiling: {:.0}%",
        portal.rate / ceiling.rate * 100.0
    );

    let figures = sign_ins(&server, &csrf, sign_in_connections, seconds);
    print(
        &format!("password sign-ins ({sign_in_connections} at once)"),
        &figures,
    );
    println!("argon2id: m=19456 KiB, t=2, p=1 (OWASP), hashed on the blocking pool");
}
