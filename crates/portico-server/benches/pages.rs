//! Benchmark: the client's work-order page under load, on SQLite and on PostgreSQL. For each,
//! starts the real `portico serve` (release build) with the demo, then drives 64 keep-alive
//! connections over loopback for a few seconds each at: a static route of the same server
//! (`/healthz`, the ceiling), the work-order page with the page cache (the default), the same
//! page on a server with the cache off, and on that server 256 links to as many typical work
//! orders in turn (`PORTICO_BENCH_LINKS`), so the uncached figure is not one link's alone. Prints requests/s, p50 and p99 for each, then a
//! table of every figure and the page's share of the ceiling; and checks that a revoke stops
//! the link on the very next request (S5) and that the org switch stops it (S8).
//!
//! `PORTICO_BENCH_CONNECTIONS` (default 64) and `PORTICO_BENCH_SECONDS` (default 5) shape it;
//! PostgreSQL is found at `PORTICO_BENCH_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`), in a database of its own dropped at the end.

// Reason: a benchmark stops at the first broken step; there is nobody to report an error to.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{Value, json};

#[path = "support/api.rs"]
mod api;
#[path = "support/load.rs"]
mod load;
#[path = "support/server.rs"]
mod server;

use load::{load, load_each, print};
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

/// One backend's figures.
struct Row {
    backend: &'static str,
    ceiling: load::Figures,
    cached: load::Figures,
    uncached: load::Figures,
    /// The uncached page over many links (of as many work orders) at once.
    spread: load::Figures,
}

/// The link path of the demo's work order.
fn page_of(demo: &Value) -> String {
    format!(
        "/s/{}",
        demo["work_order_share_url"]
            .as_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
    )
}

/// The server's environment: the page cache `on` or `off`, and the database when not SQLite.
fn env_of<'a>(cache: &'a str, database: Option<&'a str>) -> Vec<(&'a str, &'a str)> {
    let mut env = vec![("PORTICO_PAGE_CACHE", cache)];
    env.extend(database.map(|url| ("DATABASE_URL", url)));
    env
}

/// Measures the static route, the cached page and the uncached page on one backend
/// (`databases`: PostgreSQL URLs for the cached and the uncached server, or `None` for SQLite
/// in each one's data folder), then checks S5 and S8 on the cached server.
fn measure(
    backend: &'static str,
    databases: [Option<&str>; 2],
    connections: u64,
    seconds: u64,
    links_wanted: usize,
) -> Row {
    let [cached_db, uncached_db] = databases;
    let server = Server::start(ADMIN, &env_of("on", cached_db));
    let demo = server.demo_with(&env_of("on", cached_db)[1..]);
    let page = page_of(&demo);
    let ceiling = load(server.port, "/healthz", "", connections, seconds);
    print(&format!("{backend}: static route (/healthz)"), &ceiling);
    let cached = load(server.port, &page, "", connections, seconds);
    print(&format!("{backend}: page, cache on"), &cached);

    let uncached_server = Server::start(ADMIN, &env_of("off", uncached_db));
    let uncached_page = page_of(&uncached_server.demo_with(&env_of("off", uncached_db)[1..]));
    let uncached = load(
        uncached_server.port,
        &uncached_page,
        "",
        connections,
        seconds,
    );
    print(&format!("{backend}: page, cache off"), &uncached);
    let spread_links = links(&uncached_server, links_wanted);
    let spread = load_each(
        uncached_server.port,
        &spread_links,
        "",
        connections,
        seconds,
    );
    print(
        &format!("{backend}: {} links, cache off", spread_links.len()),
        &spread,
    );
    drop(uncached_server);
    still_honoured(&server, &demo, &page);
    Row {
        backend,
        ceiling,
        cached,
        uncached,
        spread,
    }
}

/// The paths of `count` links, each to a work order of its own (a typical one: 12 tasks, 3
/// photos, 6 updates), made through the API in an org of their own.
fn links(server: &Server, count: usize) -> Vec<String> {
    let v1 = format!("{}/v1", server.base);
    let agent = api::agent();
    let key = api::business(&agent, &v1, ADMIN, "links");
    (0..count)
        .map(|n| {
            api::call(
                &agent,
                "PUT",
                &format!("{v1}/work-orders/wo-{n}"),
                &key,
                &api::work_order(n),
            );
            let share = api::call(
                &agent,
                "POST",
                &format!("{v1}/records/work_order/wo-{n}/share"),
                &key,
                &json!({}),
            );
            let link = share["link"].as_str().unwrap();
            format!("/s/{}", link.rsplit('/').next().unwrap())
        })
        .collect()
}

/// S5 and S8 still hold after the load, on the very next request.
fn still_honoured(server: &Server, demo: &Value, page: &str) {
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
    assert_eq!(api(demo, "PUT", "/admin/orgs/demo", &org, true), 200);
    let s8 = status_of(server.port, page);
    let mut on = org.clone();
    on["settings"]["client_sharing"] = json!(true);
    assert_eq!(api(demo, "PUT", "/admin/orgs/demo", &on, true), 200);
    let back = status_of(server.port, page);
    assert_eq!(
        api(
            demo,
            "POST",
            &format!("/shares/{share}/revoke"),
            &json!({}),
            false
        ),
        200
    );
    let s5 = status_of(server.port, page);
    println!(
        "S8: org switch off -> {s8} (403 expected), on again -> {back}; S5: revoke -> next request {s5} (404 expected)"
    );
    assert_eq!((s8, back, s5), (403, 200, 404));
}

fn main() {
    let connections = env_or("PORTICO_BENCH_CONNECTIONS", 64);
    let seconds = env_or("PORTICO_BENCH_SECONDS", 5);
    let links_wanted = env_or("PORTICO_BENCH_LINKS", 256);
    println!("Client pages: {connections} keep-alive connections over loopback, {seconds} s each");
    let mut rows = vec![measure(
        "SQLite",
        [None, None],
        connections,
        seconds,
        links_wanted,
    )];
    let admin = std::env::var("PORTICO_BENCH_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let database = || {
        portico_testkit::postgres::PgDatabase::create_in(
            &admin,
            "the client-page benchmark on PostgreSQL",
        )
    };
    match (database(), database()) {
        (Some(cached), Some(uncached)) => rows.push(measure(
            "PostgreSQL",
            [Some(&cached.url), Some(&uncached.url)],
            connections,
            seconds,
            links_wanted,
        )),
        _ => println!("PostgreSQL  skipped: {admin} cannot be reached"),
    }
    println!();
    println!(
        "| database | static route | page, cache on | page, cache off | {links_wanted} links, cache off | cached / static | uncached / static | {links_wanted} links / static | uncached p50 / p99 | {links_wanted} links p50 / p99 |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    let share = |f: &load::Figures, of: &load::Figures| f.rate / of.rate * 100.0;
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
    for row in &rows {
        println!(
            "| {} | {:.0} req/s | {:.0} req/s | {:.0} req/s | {:.0} req/s | {:.0}% | {:.0}% | {:.0}% | {:.1} / {:.1} ms | {:.1} / {:.1} ms |",
            row.backend,
            row.ceiling.rate,
            row.cached.rate,
            row.uncached.rate,
            row.spread.rate,
            share(&row.cached, &row.ceiling),
            share(&row.uncached, &row.ceiling),
            share(&row.spread, &row.ceiling),
            ms(row.uncached.p50),
            ms(row.uncached.p99),
            ms(row.spread.p50),
            ms(row.spread.p99),
        );
    }
}
