//! The integration API as the benchmarks drive it: a blocking agent, one call that must
//! answer 200, a business set up from scratch, and a typical work order. Included by path
//! (`#[path = …]`) in the benchmarks that write through the API.

// Reason: each benchmark uses a part of it.
#![allow(dead_code)]

use std::time::Duration;

use serde_json::{Value, json};

pub(crate) fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// `method url` with `body` as the staff member `owner`; panics unless it answers 200.
pub(crate) fn call(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    bearer: &str,
    body: &Value,
) -> Value {
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

/// Creates the org `org` through the admin API (token `admin`) under `v1`, with an owner, a
/// technician (`tech`) and a client (`c1`); returns an API key of the org.
pub(crate) fn business(agent: &ureq::Agent, v1: &str, admin: &str, org: &str) -> String {
    call(
        agent,
        "PUT",
        &format!("{v1}/admin/orgs/{org}"),
        admin,
        &json!({ "name": "Bench Electrical", "plan": "business" }),
    );
    let key = call(
        agent,
        "POST",
        &format!("{v1}/admin/orgs/{org}/api-keys"),
        admin,
        &json!({ "label": "bench" }),
    )["key"]
        .as_str()
        .unwrap()
        .to_owned();
    for (id, role) in [("owner", "owner"), ("tech", "technician")] {
        call(
            agent,
            "PUT",
            &format!("{v1}/staff/{id}"),
            &key,
            &json!({ "name": id, "role": role }),
        );
    }
    call(
        agent,
        "PUT",
        &format!("{v1}/clients/c1"),
        &key,
        &json!({ "name": "Jordan", "email": "jordan@client.example" }),
    );
    key
}

/// A typical work order; `step` ticks tasks and adds shared updates as the job goes on.
pub(crate) fn work_order(step: usize) -> Value {
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
