//! O1, O2, O4, O5 and I1–I3 through the real binary.

use serde_json::{Value, json};

use crate::support::{
    ADMIN, Server, agent, binary, call, mail_with, mails, org_with_key, pg_database, upload,
};

/// The issue's walk: org and staff, a work order, a technician refused, the owner sharing,
/// sharing again, changing sections, revoking, re-sharing. Returns the secrets it saw.
// Reason: one scenario, step after step, reads best in one piece.
#[allow(clippy::too_many_lines)]
fn walk(server: &Server) -> Vec<String> {
    let v1 = format!("{}/v1", server.base);
    let key = org_with_key(server, "acme", "Acme Plumbing");
    for (id, role) in [("ann", "owner"), ("tom", "technician")] {
        let (status, body) = call(
            "PUT",
            &format!("{v1}/staff/{id}"),
            &key,
            Some("ann"),
            Some(&json!({ "name": id, "role": role })),
        );
        assert_eq!(status, 200, "{body}");
    }
    call(
        "PUT",
        &format!("{v1}/clients/c1"),
        &key,
        Some("ann"),
        Some(&json!({ "name": "Jordan", "email": "jordan@client.example" })),
    );
    let wo = json!({ "client_id": "c1", "title": "Fix leak", "status": "scheduled", "tasks": [{ "id": "t1", "title": "Replace washer" }] });
    let (status, change) = call(
        "PUT",
        &format!("{v1}/work-orders/wo1"),
        &key,
        Some("ann"),
        Some(&wo),
    );
    assert_eq!(status, 200, "{change}");

    let (status, refused) = call(
        "POST",
        &format!("{v1}/records/work_order/wo1/share"),
        &key,
        Some("tom"),
        Some(&json!({})),
    );
    assert_eq!(
        (status, refused["code"].as_str()),
        (403, Some("not_permitted")),
        "{refused}"
    );
    let (status, share) = call(
        "POST",
        &format!("{v1}/records/work_order/wo1/share"),
        &key,
        Some("ann"),
        Some(&json!({})),
    );
    assert_eq!(status, 200, "{share}");
    let link = share["link"].as_str().unwrap().to_owned();
    assert!(
        link.starts_with(&format!("{}/s/", server.base)),
        "links come from the public URL: {link}"
    );
    let (_, again) = call(
        "POST",
        &format!("{v1}/records/work_order/wo1/share"),
        &key,
        Some("ann"),
        Some(&json!({})),
    );
    assert_eq!(again["link"], share["link"], "S4");
    let id = share["id"].as_str().unwrap();
    let (status, changed) = call(
        "PATCH",
        &format!("{v1}/shares/{id}"),
        &key,
        Some("ann"),
        Some(&json!({ "sections": ["scope", "checklist"] })),
    );
    assert_eq!(
        (status, &changed["sections"]),
        (200, &json!(["scope", "checklist"]))
    );
    let (status, revoked) = call(
        "POST",
        &format!("{v1}/shares/{id}/revoke"),
        &key,
        Some("ann"),
        None,
    );
    assert_eq!((status, &revoked["active"]), (200, &json!(false)));
    let (_, fresh) = call(
        "POST",
        &format!("{v1}/records/work_order/wo1/share"),
        &key,
        Some("ann"),
        Some(&json!({})),
    );
    assert_ne!(fresh["link"], share["link"], "a fresh token after a revoke");
    let (_, listed) = call(
        "GET",
        &format!("{v1}/records/work_order/wo1/shares"),
        &key,
        None,
        None,
    );
    let generations: Vec<(bool, bool)> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["active"] == json!(true), s["link"].is_string()))
        .collect();
    assert_eq!(
        generations,
        vec![(false, false), (true, true)],
        "the old share is dead and shows no link"
    );

    // A photo: uploaded, kept under the data folder, typed from its bytes, and its bytes
    // deleted when the work order drops it.
    let png = include_bytes!("../../assets/demo-before.png");
    let (status, stored) = upload(&server.base, &key, "tom", "photo1", png);
    assert_eq!(
        (status, &stored["content_type"]),
        (200, &json!("image/png"))
    );
    let added = json!({ "type": "file_added", "file": { "id": "photo1", "name": "leak.png", "content_type": "image/png", "shared": false } });
    let (status, body) = call(
        "POST",
        &format!("{v1}/work-orders/wo1/events"),
        &key,
        Some("tom"),
        Some(&added),
    );
    assert_eq!(status, 200, "{body}");
    let files = server.data.path().join("files");
    assert_eq!(walkdir_count(&files), 1);
    let removed = json!({ "type": "file_removed", "file_id": "photo1" });
    let (status, _) = call(
        "POST",
        &format!("{v1}/work-orders/wo1/events"),
        &key,
        Some("ann"),
        Some(&removed),
    );
    assert_eq!(status, 200);
    assert_eq!(walkdir_count(&files), 0, "the bytes went with the file");
    let (status, _) = call("GET", &format!("{v1}/files/photo1"), &key, None, None);
    assert_eq!(status, 404);

    let metrics = metrics(server);
    assert!(
        metrics.contains("portico_http_requests_total{operation=\"enable_share\""),
        "{metrics}"
    );
    // O4: the outbox's depth, its dead and how long the oldest due email has waited.
    for gauge in [
        "portico_outbox_pending",
        "portico_outbox_dead",
        "portico_outbox_oldest_due_age_seconds",
    ] {
        assert!(metrics.contains(gauge), "{gauge} missing: {metrics}");
    }
    let token = |l: &str| l.rsplit('/').next().unwrap().to_owned();
    vec![key, token(&link), token(fresh["link"].as_str().unwrap())]
}

/// How many files lie anywhere under `dir`.
fn walkdir_count(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .map(|e| e.unwrap().path())
            .map(|p| if p.is_dir() { walkdir_count(&p) } else { 1 })
            .sum()
    })
}

/// The operator's metrics (200 with the token, which `metrics_text` checks), after checking
/// that they are refused without it.
fn metrics(server: &Server) -> String {
    let anonymous = crate::support::agent()
        .get(&format!("{}/metrics", server.base))
        .call()
        .unwrap();
    assert_eq!(anonymous.status().as_u16(), 401, "metrics need the token");
    crate::support::metrics_text(server)
}

fn check_walk_and_logs(server: Server) {
    let secrets = walk(&server);
    // Link emails leave through the outbox as .eml files: the re-share's surely; the first
    // share's only if the dispatcher sent it before the revoke (after it, N1 stops it).
    let mut sent = mails(&server, 1);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while !sent.iter().any(|m| m.contains("with you again")) && std::time::Instant::now() < deadline
    {
        sent = mails(&server, sent.len() + 1);
    }
    assert!(
        sent.iter().any(|m| m.contains("with you again")),
        "{sent:?}"
    );
    assert!(sent.len() <= 2, "{sent:?}");
    for mail in &sent {
        assert!(
            mail.contains("From: \"Acme Plumbing\" <noreply@portico.localhost>"),
            "{mail}"
        );
        assert!(mail.contains("To: <jordan@client.example>"), "{mail}");
        assert!(
            mail.contains(&format!("{}/s/", server.base)),
            "the link: {mail}"
        );
    }
    let (ready, _) = call("GET", &format!("{}/readyz", server.base), "", None, None);
    assert_eq!(ready, 200);
    let (exited_cleanly, log) = server.stop();
    assert!(exited_cleanly, "SIGTERM ends portico with status 0:\n{log}");
    assert!(log.contains("shutting down"), "{log}");
    for secret in secrets {
        assert!(!log.contains(&secret), "a key or token reached the log");
    }
    assert!(!log.contains(ADMIN), "the admin token reached the log");
}

#[test]
fn o1_serve_on_sqlite_walks_the_share_lifecycle() {
    check_walk_and_logs(Server::start(None));
}

#[test]
fn o2_serve_on_postgres_walks_the_share_lifecycle() {
    let Some(db) = pg_database() else {
        return;
    };
    check_walk_and_logs(Server::start(Some(&db.url)));
}

#[test]
fn o1_demo_prints_working_links_and_running_it_twice_changes_nothing() {
    let data = tempfile::tempdir().unwrap();
    let run = || {
        let out = binary()
            .args(["demo", "--json"])
            .env_clear()
            .env("PORTICO_DATA_DIR", data.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let first = run();
    let second = run();
    assert_eq!(first, second, "the same links and key");
    for key in [
        "api_base",
        "api_key",
        "org_id",
        "work_order_share_url",
        "quote_share_url",
        "invoice_share_url",
        "portal_url",
        "portal_email",
    ] {
        assert!(
            first[key].as_str().is_some_and(|v| !v.is_empty()),
            "{key} in {first}"
        );
    }
    // The printed key works against a server on the same data.
    let db = format!(
        "sqlite://{}?mode=rwc",
        data.path().join("portico.db").display()
    );
    let server = Server::start(Some(&db));
    let (status, shares) = call(
        "GET",
        &format!("{}/v1/records/work_order/demo-wo/shares", server.base),
        first["api_key"].as_str().unwrap(),
        None,
        None,
    );
    assert_eq!(status, 200, "{shares}");
    assert_eq!(
        shares.as_array().unwrap().len(),
        1,
        "no duplicate shares after two runs"
    );
}

/// C2, C3: the demo's invitation reaches the mail folder, its link opens a confirm page that
/// changes nothing, and the confirm button's post signs the client in to the portal.
#[test]
fn c2_c3_the_demo_invitation_in_the_mail_folder_signs_in_through_its_confirm_page() {
    let server = Server::start(None);
    let demo = server.demo();
    let portal = demo["portal_url"].as_str().unwrap();
    assert_eq!(portal, format!("{}/portal/demo", server.base));
    assert_eq!(demo["portal_email"], "jordan@client.example");
    let mail = mail_with(&server, "/portal/demo/link/").expect("the invitation");
    assert!(mail.contains("To: <jordan@client.example>"), "{mail}");
    let from = mail.find("/portal/demo/link/").unwrap() + "/portal/demo/link/".len();
    let token = &mail[from..from + 43];
    let confirm = format!("{portal}/link/{token}");
    for _ in 0..3 {
        let (status, opened) = get_page(&confirm, &[]);
        assert_eq!(status, 200);
        assert!(
            opened.contains("Sign in to Bright Spark Electrical"),
            "{opened}"
        );
    }
    let (_, opened) = get_page(&confirm, &[]);
    let attr = "name=\"csrf\" value=\"";
    let at = opened.find(attr).unwrap() + attr.len();
    let csrf = &opened[at..at + opened[at..].find('"').unwrap()];
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .new_agent();
    let resp = agent
        .post(format!("{portal}/link"))
        .header("Origin", &server.base)
        .content_type("application/x-www-form-urlencoded")
        .send(format!("token={token}&csrf={csrf}"))
        .unwrap();
    assert_eq!(resp.status().as_u16(), 303);
    let cookie = resp
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|c| c.split(';').next())
        .unwrap()
        .to_owned();
    let (status, home) = get_page(&format!("{portal}/home"), &[("Cookie", &cookie)]);
    assert_eq!(status, 200);
    assert!(
        home.contains("Hello, Jordan Lee") && home.contains("Kitchen rewire"),
        "{home}"
    );
}

fn get_page(url: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let mut req = agent().get(url);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let mut resp = req.call().unwrap();
    (
        resp.status().as_u16(),
        resp.body_mut().read_to_string().unwrap(),
    )
}

#[test]
fn o5_invalid_configuration_stops_the_start_naming_the_setting() {
    let out = binary()
        .arg("serve")
        .env_clear()
        .env("PORTICO_BIND", "not-an-address")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("PORTICO_BIND"), "{err}");
    let out = binary()
        .arg("migrate")
        .env_clear()
        .env("DATABASE_URL", "mysql://u:secret-pw@h/db")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("DATABASE_URL") && !err.contains("secret-pw"),
        "{err}"
    );
    for (name, value) in [
        ("PORTICO_PAGE_CACHE", "maybe"),
        ("PORTICO_DATABASE_CONNECTIONS", "0"),
        ("PORTICO_DATABASE_CONNECTIONS", "lots"),
        ("PORTICO_MAIL_FROM", "not an address"),
        ("PORTICO_MAX_FILE_BYTES", "12MB"),
        ("PORTICO_PUBLIC_URL", "ftp://x"),
        ("PORTICO_MAIL_GIVE_UP_HOURS", "0"),
        ("PORTICO_BURST_WINDOW_SECONDS", "soon"),
        ("SMTP_URL", "smtp://user:hunter2@mail.example?tls=maybe"),
    ] {
        let out = binary()
            .arg("serve")
            .env_clear()
            .env(name, value)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{name}={value} was accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(name), "{name}: {err}");
        assert!(
            !err.contains("hunter2"),
            "a password reached the error: {err}"
        );
    }
}

#[test]
fn o1_migrate_brings_a_new_database_up_to_date() {
    let data = tempfile::tempdir().unwrap();
    let out = binary()
        .arg("migrate")
        .env_clear()
        .env("PORTICO_DATA_DIR", data.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(data.path().join("portico.db").exists());
    assert!(String::from_utf8_lossy(&out.stdout).contains("up to date"));
}

/// O4: the public port carries only pages and the API — `/metrics` there needs its token, and
/// without one configured it is not served; a private operator address serves metrics, health
/// and readiness with no token.
#[test]
fn o4_metrics_are_private_to_the_operator() {
    let port = crate::support::free_port();
    let server = Server::start_with(
        None,
        &[
            ("PORTICO_METRICS_TOKEN", String::new()),
            ("PORTICO_METRICS_BIND", format!("127.0.0.1:{port}")),
        ],
    );
    let get = |url: String| {
        let mut resp = crate::support::agent().get(&url).call().unwrap();
        (
            resp.status().as_u16(),
            resp.body_mut().read_to_string().unwrap(),
        )
    };
    let (status, _) = get(format!("{}/metrics", server.base));
    assert_eq!(status, 404, "no metrics on the public port without a token");
    let (status, text) = get(format!("http://127.0.0.1:{port}/metrics"));
    assert_eq!(status, 200);
    assert!(text.contains("portico_outbox_pending"), "{text}");
    assert_eq!(get(format!("http://127.0.0.1:{port}/readyz")).0, 200);
    assert_eq!(
        get(format!("http://127.0.0.1:{port}/v1/org")).0,
        404,
        "no API there"
    );
}

/// I6, S9 through the whole service: a path whose escapes are not UTF-8 is an unknown link
/// (the 404 page with its privacy headers) or an unknown id (the error shape).
#[test]
fn i6_invalid_escapes_reach_the_unknown_link_page_and_the_error_shape() {
    let server = Server::start(None);
    let resp = crate::support::agent()
        .get(&format!("{}/s/%FF%FE", server.base))
        .call()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 404);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let (status, body) = crate::support::call(
        "PUT",
        &format!("{}/v1/staff/%FF%FE", server.base),
        "pk_x",
        Some("owner"),
        Some(&serde_json::json!({ "name": "x", "role": "owner" })),
    );
    assert!(status == 400 || status == 401, "{status} {body}");
    assert!(body["code"].is_string(), "{body}");
}

/// The `sh` block under a README heading, as written there.
fn readme_block(heading: &str) -> String {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let after = &readme[readme
        .find(heading)
        .unwrap_or_else(|| panic!("{heading} not in README"))..];
    let start = after.find("```sh\n").unwrap() + "```sh\n".len();
    after[start..start + after[start..].find("```").unwrap()].to_owned()
}

/// I1: an operator following the README's first steps — org, API key, then the host app's
/// first calls with that key — gets a working org, with nothing else to read.
#[test]
fn i1_the_readmes_first_steps_for_an_operator_work_as_written() {
    let server = Server::start(None);
    let steps = readme_block("### First steps for an operator");
    let out = std::process::Command::new("bash")
        .args(["-euo", "pipefail", "-c", &steps])
        .env("BASE", &server.base)
        .env("PORTICO_ADMIN_TOKEN", ADMIN)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the README's steps failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (status, org) = call(
        "GET",
        &format!("{}/v1/admin/orgs/acme", server.base),
        ADMIN,
        None,
        None,
    );
    assert_eq!(status, 200, "{org}");
    assert_eq!(org["name"], "Acme Plumbing");
    assert_eq!(org["settings"]["time_zone"], "America/Chicago");
    let (_, keys) = call(
        "GET",
        &format!("{}/v1/admin/orgs/acme/api-keys", server.base),
        ADMIN,
        None,
        None,
    );
    assert_eq!(keys.as_array().map(Vec::len), Some(1), "{keys}");
    assert!(
        stdout.contains("\"Alex Rivera\""),
        "the staff member was added: {stdout}"
    );
}

/// O4, S11: a stop right after a link is opened (before the periodic write of openings) still
/// records the opening; the exit is 0.
#[test]
fn o4_a_stop_right_after_an_opening_still_records_it() {
    let mut server = Server::start(None);
    let demo = server.demo();
    let page = agent()
        .get(demo["work_order_share_url"].as_str().unwrap())
        .call()
        .unwrap();
    assert_eq!(page.status(), 200);
    let data = std::mem::replace(&mut server.data, tempfile::tempdir().unwrap());
    let (exited_cleanly, log) = server.stop();
    assert!(exited_cleanly, "SIGTERM ends portico with status 0:\n{log}");
    let db = data.path().join("portico.db");
    let opened = std::process::Command::new("python3")
        .args([
            "-c",
            "import sqlite3, sys; db = sqlite3.connect(sys.argv[1]); \
             print(db.execute('SELECT count(*) FROM shares WHERE first_opened_at IS NOT NULL').fetchone()[0])",
        ])
        .arg(&db)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&opened.stdout).trim(),
        "1",
        "the opening was written at shutdown: {}\n{log}",
        String::from_utf8_lossy(&opened.stderr)
    );
}
