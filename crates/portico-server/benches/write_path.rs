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

use serde_json::json;

#[path = "support/api.rs"]
mod api;
#[path = "support/server.rs"]
mod server;

use api::{agent, business, call, work_order};
use server::{Server, env_or};

const ADMIN: &str = "an-admin-token-for-the-write-bench";
const RECORDS_PER_CLIENT: usize = 10;

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
    let key = business(&a, &v1, ADMIN, "bench");
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
