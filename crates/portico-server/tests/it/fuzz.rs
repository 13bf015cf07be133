//! I6 from outside: schemathesis (from Python's package index) generates requests from the served OpenAPI document,
//! positive and negative, with stateful links, against the real binary on SQLite and on
//! PostgreSQL. The bar: no server error and no answer that breaks the document's schema.
//!
//! Bounded by `PORTICO_FUZZ_SECONDS` (default 40) per database for the org's routes, plus a
//! quarter of that for the admin routes. Run alone with
//! `cargo test -p portico-server --test it fuzz`.

use std::process::Command;

use serde_json::json;

use crate::support::{ADMIN, Server, call, pg_database};

fn schemathesis_available() -> bool {
    Command::new("schemathesis")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// An org with sharing on, an owner, a client and one of each record, so generated requests
/// reach real data; returns the org's API key.
fn seed(base: &str) -> String {
    let (status, _) = call(
        "PUT",
        &format!("{base}/v1/admin/orgs/fuzz"),
        ADMIN,
        None,
        Some(
            &json!({ "name": "Fuzz Plumbing", "plan": "business", "contact_email": "office@fuzz.example" }),
        ),
    );
    assert_eq!(status, 200);
    let (status, key) = call(
        "POST",
        &format!("{base}/v1/admin/orgs/fuzz/api-keys"),
        ADMIN,
        None,
        Some(&json!({ "label": "fuzz" })),
    );
    assert_eq!(status, 200);
    let key = key["key"].as_str().unwrap().to_owned();
    let put = |path: &str, body: serde_json::Value| {
        let (status, answer) = call(
            "PUT",
            &format!("{base}/v1{path}"),
            &key,
            Some("owner"),
            Some(&body),
        );
        assert_eq!(status, 200, "{path}: {answer}");
    };
    put(
        "/staff/owner",
        json!({ "name": "Olive Owner", "role": "owner" }),
    );
    put(
        "/clients/c1",
        json!({ "name": "Casey Client", "email": "casey@client.example" }),
    );
    put(
        "/work-orders/wo1",
        json!({ "client_id": "c1", "title": "Fix the tap", "status": "scheduled",
                "tasks": [{ "id": "t1", "title": "Replace washer" }] }),
    );
    put(
        "/quotes/q1",
        json!({ "client_id": "c1", "number": "Q-1", "title": "New tap", "status": "sent",
                "items": [{ "description": "Tap", "quantity": "1", "unit_price": "80" }] }),
    );
    put(
        "/invoices/i1",
        json!({ "client_id": "c1", "work_order_id": "wo1", "number": "I-1", "title": "Tap", "status": "issued",
                "items": [{ "description": "Tap", "quantity": "1", "unit_price": "80" }] }),
    );
    key
}

/// The checks: at least no server error and no schema violation (`PORTICO_FUZZ_CHECKS` widens it).
fn checks() -> &'static str {
    std::env::var("PORTICO_FUZZ_CHECKS")
        .ok()
        .map_or("not_a_server_error,response_schema_conformance,content_type_conformance,status_code_conformance", |c| c.leak())
}

fn run(base: &str, bearer: &str, tag_filter: &[&str], seconds: u64) {
    let out = Command::new("schemathesis")
        .arg("run")
        .arg(format!("{base}/openapi.json"))
        .args(["--checks", checks()])
        .args(["-H", &format!("Authorization: Bearer {bearer}")])
        .args(["-H", "X-Portico-Staff: owner"])
        .args(tag_filter)
        .args(["--max-time", &seconds.to_string()])
        .args(["--workers", "1", "--suppress-health-check", "all"])
        .args(["--warnings", "off", "--no-color"])
        .output()
        .expect("schemathesis runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let summary: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("generated") || l.contains("passed") || l.contains("failed"))
        .collect();
    eprintln!("schemathesis {tag_filter:?}: {}", summary.join(" | "));
    assert!(
        out.status.success(),
        "schemathesis found failures ({tag_filter:?}):\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn fuzz(server: &Server) {
    let seconds: u64 = std::env::var("PORTICO_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(40);
    let key = seed(&server.base);
    // The org's own key must survive its run: revoking itself would end the run's coverage.
    run(
        &server.base,
        &key,
        &[
            "--exclude-tag",
            "Admin",
            "--exclude-operation-id",
            "revoke_own_api_key",
        ],
        seconds,
    );
    run(
        &server.base,
        ADMIN,
        &["--include-tag", "Admin"],
        (seconds / 4).max(5),
    );
}

/// A server that logs errors only: thousands of requests would otherwise fill the log pipe the
/// harness reads only at the end.
fn quiet_server(database_url: Option<&str>) -> Server {
    Server::start_with(database_url, &[("RUST_LOG", "error".to_owned())])
}

fn available() -> bool {
    if schemathesis_available() {
        return true;
    }
    portico_core::testing::skip_check(
        "the API fuzzing test",
        "schemathesis is missing (python3 -m pip install schemathesis)",
    );
    false
}

#[test]
fn i6_generated_requests_get_no_server_error_or_schema_violation_on_sqlite() {
    if !available() {
        return;
    }
    fuzz(&quiet_server(None));
}

#[test]
fn i6_generated_requests_get_no_server_error_or_schema_violation_on_postgresql() {
    if !available() {
        return;
    }
    let Some(db) = pg_database() else {
        return;
    };
    fuzz(&quiet_server(Some(&db.url)));
}
