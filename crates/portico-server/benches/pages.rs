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

use serde_json::{Value, json};

#[path = "support/load.rs"]
mod load;
#[path = "support/server.rs"]
mod server;

use load::{load, print};
use server::{Server, env_or};

const ADMIN: &str = "an-admin-token-for-the-pages-bench";

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
    let server = Server::start(ADMIN, &[("PORTICO_PAGE_CACHE", "on")]);
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
    let ceiling = load(server.port, "/healthz", "", connections, seconds);
    print("static route (/healthz, ceiling)", &ceiling);
    let cached = load(server.port, &page, "", connections, seconds);
    print("work-order page (page cache on)", &cached);

    let uncached_server = Server::start(ADMIN, &[("PORTICO_PAGE_CACHE", "off")]);
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
    let uncached = load(
        uncached_server.port,
        &uncached_page,
        "",
        connections,
        seconds,
    );
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
