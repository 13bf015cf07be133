//! Benchmark: the API's write path. Starts the real `portico serve` (release build) on SQLite
//! and on PostgreSQL, shares a set of work orders, then has concurrent clients upsert them over
//! loopback (`PUT /v1/work-orders/{id}`: a typical work order of 12 tasks, 3 photos, 6 updates,
//! parts, notes and time, each upsert ticking a task or posting an update, so each one also
//! queues a client email). Prints upserts per second and the p50/p99 latency.
//!
//! `PORTICO_BENCH_CLIENTS` (default 16), `PORTICO_BENCH_UPSERTS` (per client, default 250) and
//! `PORTICO_BENCH_BACKENDS` (default `sqlite,postgres`) shape the run; PostgreSQL is found at
//! `PORTICO_BENCH_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`), in a
//! database of its own dropped at the end.

// Reason: a benchmark stops at the first broken step; there is nobody to report an error to.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use serde_json::{Value, json};

#[path = "support/server.rs"]
mod server;

use server::{Server, env_or};

const ADMIN: &str = "an-admin-token-for-the-write-bench";
const RECORDS_PER_CLIENT: usize = 10;

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

fn call(agent: &ureq::Agent, method: &str, url: &str, bearer: &str, body: &Value) -> Value {
    let req = ureq::http::Request::builder()
        .method(method)
        .uri(url)
        .header("Authorization", format!("Bearer {bearer}"))
        .header("X-Portico-Staff", "owner")
        .header("Content-Type", "application/json")
        .body(body.to_string())
        .unwrap();
    let mut resp = agent.run(req).unwrap();
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().unwrap();
    assert_eq!(status, 200, "{method} {url}: {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// A typical work order; `step` ticks tasks and adds shared updates as the job goes on.
fn work_order(step: usize) -> Value {
    let tasks: Vec<Value> = (0..12)
        .map(|t| json!({ "id": format!("t{t}"), "title": format!("Step {t} of the job"), "done": t < step % 12, "internal": t == 11 }))
        .collect();
    let updates: Vec<Value> = (0..6 + step / 12 % 4)
        .map(|u| json!({ "id": format!("u{u}"), "posted_at": "2026-03-02T09:00:00Z", "body": format!("Update {u}: on site, work progressing as planned."), "shared": u % 2 == 0 }))
        .collect();
    json!({
        "client_id": "c1",
        "title": "Replace the kitchen circuit and two sockets",
        "status": "in_progress",
        "description": "Isolate, rewire, test and certify the kitchen ring main.",
        "schedule": { "start": "2026-03-03T08:00:00Z", "end": "2026-03-03T16:00:00Z", "technician": "tech" },
        "tasks": tasks,
        "files": [
            { "id": "f1", "name": "before.jpg", "content_type": "image/jpeg", "shared": true },
            { "id": "f2", "name": "board.jpg", "content_type": "image/jpeg", "shared": true },
            { "id": "f3", "name": "meter.jpg", "content_type": "image/jpeg", "shared": false }
        ],
        "parts": [
            { "name": "Double socket", "quantity": "2", "unit_cost": "4.50" },
            { "name": "2.5mm cable (m)", "quantity": "25", "unit_cost": "0.85" }
        ],
        "updates": updates,
        "internal_notes": "Gate code 4411. Dog in the garden.",
        "time_entries": [{ "staff": "tech", "minutes": 240, "hourly_rate": "85.00" }],
        "costs": [{ "description": "Cable", "amount": "21.25" }]
    })
}

// Reason: a rate for printing; counts this small are exact in an f64.
#[allow(clippy::cast_precision_loss)]
fn rate(count: usize, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    // Reason: an index into a sample list; the float is a rank, not money.
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

fn run(label: &str, database_url: Option<&str>, clients: usize, per_client: usize) {
    let server = Server::start(
        ADMIN,
        &database_url.map_or(Vec::new(), |url| vec![("DATABASE_URL", url)]),
    );
    let v1 = format!("{}/v1", server.base);
    let a = agent();
    call(
        &a,
        "PUT",
        &format!("{v1}/admin/orgs/bench"),
        ADMIN,
        &json!({ "name": "Bench Electrical", "plan": "business" }),
    );
    let key = call(
        &a,
        "POST",
        &format!("{v1}/admin/orgs/bench/api-keys"),
        ADMIN,
        &json!({ "label": "bench" }),
    )["key"]
        .as_str()
        .unwrap()
        .to_owned();
    for (id, role) in [("owner", "owner"), ("tech", "technician")] {
        call(
            &a,
            "PUT",
            &format!("{v1}/staff/{id}"),
            &key,
            &json!({ "name": id, "role": role }),
        );
    }
    call(
        &a,
        "PUT",
        &format!("{v1}/clients/c1"),
        &key,
        &json!({ "name": "Jordan", "email": "jordan@client.example" }),
    );
    for c in 0..clients {
        for r in 0..RECORDS_PER_CLIENT {
            call(
                &a,
                "PUT",
                &format!("{v1}/work-orders/wo-{c}-{r}"),
                &key,
                &work_order(0),
            );
            call(
                &a,
                "POST",
                &format!("{v1}/records/work_order/wo-{c}-{r}/share"),
                &key,
                &json!({}),
            );
        }
    }

    let started = Instant::now();
    let threads: Vec<_> = (0..clients)
        .map(|c| {
            let v1 = v1.clone();
            let key = key.clone();
            std::thread::spawn(move || {
                let a = agent();
                let mut latencies = Vec::with_capacity(per_client);
                for i in 0..per_client {
                    let r = i % RECORDS_PER_CLIENT;
                    let step = 1 + i / RECORDS_PER_CLIENT;
                    let t = Instant::now();
                    call(
                        &a,
                        "PUT",
                        &format!("{v1}/work-orders/wo-{c}-{r}"),
                        &key,
                        &work_order(step),
                    );
                    latencies.push(t.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut latencies: Vec<Duration> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    let elapsed = started.elapsed();
    latencies.sort();
    let total = latencies.len();
    println!(
        "{label:<10} {clients:>3} clients  {total:>6} upserts in {:>6.2} s  {:>7.0} upserts/s  p50 {:>7.2} ms  p99 {:>7.2} ms",
        elapsed.as_secs_f64(),
        rate(total, elapsed),
        percentile(&latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
    );
}

fn main() {
    let clients = env_or("PORTICO_BENCH_CLIENTS", 16);
    let per_client = env_or("PORTICO_BENCH_UPSERTS", 250);
    let backends =
        std::env::var("PORTICO_BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    println!(
        "API write path: PUT /v1/work-orders/{{id}} over loopback, each upsert changing a shared work order"
    );
    for backend in backends.split(',') {
        match backend.trim() {
            "sqlite" => run("SQLite", None, clients, per_client),
            "postgres" => {
                let admin = std::env::var("PORTICO_BENCH_POSTGRES_URL")
                    .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
                let Some(db) = portico_testkit::postgres::PgDatabase::create_in(
                    &admin,
                    "the write-path benchmark on PostgreSQL",
                ) else {
                    println!("PostgreSQL  skipped: {admin} cannot be reached");
                    continue;
                };
                run("PostgreSQL", Some(&db.url), clients, per_client);
            }
            other => panic!("unknown backend {other:?}: sqlite or postgres"),
        }
    }
}
