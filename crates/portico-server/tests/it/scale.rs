//! Two `portico serve` on one PostgreSQL database and one bucket, both with their page caches on
//! (the default): a change made through one is honoured by the other on its very next request,
//! reaches the other's live pages within a second, and each email goes out once.

use std::io::{BufRead as _, BufReader};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use portico_testkit::s3::TestS3;

use crate::support::{Server, agent, call, org_with_key, upload};

/// The token secret both servers share, so a link made on one opens on the other.
const SECRET: &str = "cG9ydGljby1zaGFyZWQtdG9rZW4tc2VjcmV0LWZvci1zY2FsZQ";

/// Shares made, revoked on A and checked on B one by one.
const REVOKES: usize = 12;

fn env_for(s3: &TestS3, database: &str) -> Vec<(&'static str, String)> {
    vec![
        ("DATABASE_URL", database.to_owned()),
        ("PORTICO_SECRET", SECRET.to_owned()),
        ("PORTICO_S3_BUCKET", s3.bucket.clone()),
        ("PORTICO_S3_PREFIX", "scale/files".to_owned()),
        ("PORTICO_S3_ENDPOINT", s3.endpoint()),
        ("PORTICO_S3_ALLOW_HTTP", "on".to_owned()),
        ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
        ("PORTICO_BURST_WINDOW_SECONDS", "1".to_owned()),
    ]
}

fn status_of(url: &str) -> u16 {
    agent().get(url).call().unwrap().status().as_u16()
}

/// The page of `path` on `server`, twice, so that its cache holds it.
fn warm(server: &Server, path: &str) {
    for _ in 0..2 {
        assert_eq!(status_of(&format!("{}{path}", server.base)), 200, "{path}");
    }
}

/// Waits until `server`'s change feed listens (its gauge on `/metrics` reads 1).
fn feed_listening(server: &Server) {
    eventually(
        &format!("the change feed of {} listening", server.base),
        || listening(server) == Some(true),
    );
}

/// Sets up org `acme` through `a`: its owner, a client, a work order with a photo, shared; and
/// `REVOKES` more work orders, each shared. Returns the key, then the path and share id of the
/// photo's link and of each other link.
fn scene(a: &Server) -> (String, (String, String), Vec<(String, String)>) {
    let v1 = format!("{}/v1", a.base);
    let key = org_with_key(a, "acme", "Acme Plumbing");
    let put = |path: &str, body: &Value| {
        let (status, answer) = call("PUT", &format!("{v1}{path}"), &key, Some("ann"), Some(body));
        assert_eq!(status, 200, "{path}: {answer}");
    };
    put("/staff/ann", &json!({ "name": "Ann", "role": "owner" }));
    put(
        "/clients/c1",
        &json!({ "name": "Jordan", "email": "jordan@client.example" }),
    );
    let png = include_bytes!("../../assets/demo-before.png");
    let (status, _) = upload(&a.base, &key, "ann", "photo1", png);
    assert_eq!(status, 200);
    let share = |id: &str| {
        let (status, share) = call(
            "POST",
            &format!("{v1}/records/work_order/{id}/share"),
            &key,
            Some("ann"),
            Some(&json!({})),
        );
        assert_eq!(status, 200, "{share}");
        let link = share["link"].as_str().unwrap();
        let path = link[link.find("/s/").unwrap()..].to_owned();
        (path, share["id"].as_str().unwrap().to_owned())
    };
    put(
        "/work-orders/wo1",
        &json!({ "client_id": "c1", "title": "Fix leak", "status": "scheduled",
            "files": [{ "id": "photo1", "name": "leak.png", "caption": "The leak", "shared": true }] }),
    );
    let main = share("wo1");
    let others = (0..REVOKES)
        .map(|i| {
            let id = format!("wo-r{i}");
            put(
                &format!("/work-orders/{id}"),
                &json!({ "client_id": "c1", "title": format!("Job {i}"), "status": "scheduled" }),
            );
            share(&id)
        })
        .collect();
    (key, main, others)
}

/// Revokes share `id` through the API at `v1`.
fn revoke(key: &str, v1: &str, id: &str) {
    let (status, body) = call(
        "POST",
        &format!("{v1}/shares/{id}/revoke"),
        key,
        Some("ann"),
        Some(&json!({})),
    );
    assert_eq!(status, 200, "{body}");
}

/// Opens the live-status stream of `path` on `server`; every event's text arrives on the
/// returned channel.
fn listen(server: &Server, path: &str) -> mpsc::Receiver<String> {
    let (tell, heard) = mpsc::channel();
    let resp = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent()
        .get(format!("{}{path}/events", server.base))
        .call()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    std::thread::spawn(move || {
        let mut reader = BufReader::new(resp.into_body().into_reader());
        let mut event = String::new();
        let mut line = String::new();
        while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
            if line.trim().is_empty() {
                if tell.send(std::mem::take(&mut event)).is_err() {
                    return;
                }
            } else {
                event.push_str(&line);
            }
            line.clear();
        }
    });
    heard
}

/// The first event containing `needle`, and how long it took from `since`.
fn heard_within(heard: &mpsc::Receiver<String>, needle: &str, since: Instant) -> Duration {
    let deadline = since + Duration::from_secs(10);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match heard.recv_timeout(left) {
            Ok(event) if event.contains(needle) => return since.elapsed(),
            Ok(_) => {}
            Err(e) => panic!("no event with {needle:?} within 10 s: {e}"),
        }
    }
}

/// The Message-IDs of the `.eml` files `server` wrote.
fn message_ids(server: &Server) -> Vec<String> {
    crate::support::mails(server, 0)
        .iter()
        .filter_map(|m| {
            m.lines()
                .find(|l| l.to_ascii_lowercase().starts_with("message-id:"))
                .map(|l| l["message-id:".len()..].trim().to_owned())
        })
        .collect()
}

#[test]
fn s5_s8_v7_n5_two_servers_on_one_postgresql_honour_each_others_changes_at_once() {
    let Some(db) = crate::support::pg_database() else {
        return;
    };
    let Some(s3) = TestS3::for_test() else {
        return;
    };
    let a = Server::start_with(None, &env_for(&s3, &db.url));
    let b = Server::start_with(None, &env_for(&s3, &db.url));
    feed_listening(&a);
    feed_listening(&b);
    let (key, (main, _), others) = scene(&a);
    let v1 = format!("{}/v1", a.base);
    // Every link mailed before any is revoked (a revoke drops a link's mail still waiting).
    settled_mail(&key, &v1);

    // I3: the photo uploaded through A is in the bucket, not A's data folder, and B serves it.
    let files = a.data.path().join("files");
    assert!(
        std::fs::read_dir(&files).map_or(true, |mut entries| entries.next().is_none()),
        "nothing in {}",
        files.display()
    );
    let mut photo = agent()
        .get(format!("{}{main}/files/photo1", b.base))
        .call()
        .unwrap();
    assert_eq!(photo.status().as_u16(), 200);
    let png = include_bytes!("../../assets/demo-before.png");
    assert_eq!(photo.body_mut().read_to_vec().unwrap(), png);

    // V7: a status change through A reaches a live page held open on B within a second.
    warm(&b, &main);
    let live = listen(&b, &main);
    let since = Instant::now();
    let (status, body) = call(
        "POST",
        &format!("{v1}/work-orders/wo1/events"),
        &key,
        Some("ann"),
        Some(&json!({ "type": "status_changed", "status": "in_progress" })),
    );
    assert_eq!(status, 200, "{body}");
    let took = heard_within(&live, "In progress", since);
    assert!(
        took < Duration::from_secs(1),
        "B's live page heard it after {took:?}"
    );
    eprintln!("status change through A heard on B's live page after {took:?}");
    // B's cached page shows it on the next request too.
    let mut page = agent().get(format!("{}{main}", b.base)).call().unwrap();
    assert!(
        page.body_mut()
            .read_to_string()
            .unwrap()
            .contains("In progress")
    );

    // S5: a revoke through A is honoured by B on the very next request, its cache warm.
    for (path, id) in &others {
        warm(&a, path);
        warm(&b, path);
        revoke(&key, &v1, id);
        assert_eq!(status_of(&format!("{}{path}", b.base)), 404, "{path} on B");
        assert_eq!(status_of(&format!("{}{path}", a.base)), 404, "{path} on A");
    }

    // S8: the org's sharing switched off through A: B answers 403 at once.
    warm(&b, &main);
    let (status, body) = call(
        "PATCH",
        &format!("{v1}/org"),
        &key,
        Some("ann"),
        Some(&json!({ "settings": { "client_sharing": false } })),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(status_of(&format!("{}{main}", b.base)), 403);
    let (status, _) = call(
        "PATCH",
        &format!("{v1}/org"),
        &key,
        Some("ann"),
        Some(&json!({ "settings": { "client_sharing": true } })),
    );
    assert_eq!(status, 200);
    assert_eq!(status_of(&format!("{}{main}", b.base)), 200);

    emails_go_out_once(&a, &b, &key, &v1);
    for server in [b, a] {
        let (ok, log) = server.stop();
        assert!(ok, "{log}");
    }
}

/// N5: with both servers' dispatchers running, every email the org queued is written once, by
/// one of them.
fn emails_go_out_once(a: &Server, b: &Server, key: &str, v1: &str) {
    let sent = settled_mail(key, v1);
    let expected: Vec<String> = sent
        .iter()
        .filter(|n| n["state"] == "sent")
        .map(|n| format!("<{}@portico>", n["id"].as_str().unwrap()))
        .collect();
    assert!(
        expected.len() > REVOKES,
        "every share mailed its link: {sent:?}"
    );
    let mut written = message_ids(a);
    let from_a = written.len();
    written.extend(message_ids(b));
    let mut unique = written.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), written.len(), "an email was written twice");
    let mut expected_sorted = expected;
    expected_sorted.sort();
    assert_eq!(unique, expected_sorted);
    eprintln!(
        "{} emails: {from_a} written by A, {} by B",
        written.len(),
        written.len() - from_a
    );
}

/// The org's emails once none is pending (or 30 s passed).
fn settled_mail(key: &str, v1: &str) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, listed) = call(
            "GET",
            &format!("{v1}/notifications?limit=500"),
            key,
            None,
            None,
        );
        assert_eq!(status, 200, "{listed}");
        let listed = listed.as_array().unwrap().clone();
        let pending = listed.iter().filter(|n| n["state"] == "pending").count();
        if pending == 0 || Instant::now() > deadline {
            return listed;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Whether `server`'s change feed listens now, by its gauge on `/metrics` (`None` before the
/// gauge is first set).
fn listening(server: &Server) -> Option<bool> {
    let text = crate::support::metrics_text(server);
    let value = text
        .lines()
        .find_map(|l| l.strip_prefix("portico_change_feed_listening "))?;
    Some(value.trim() == "1")
}

/// Waits up to 15 s for `check`.
fn eventually(what: &str, check: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !check() {
        assert!(Instant::now() < deadline, "{what} did not happen in 15 s");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn s5_a_revoke_that_another_server_could_not_hear_is_still_honoured_there() {
    let Some(db) = crate::support::pg_database() else {
        return;
    };
    let env = [
        ("DATABASE_URL", db.url.clone()),
        ("PORTICO_SECRET", SECRET.to_owned()),
    ];
    let a = Server::start_with(None, &env);
    let b = Server::start_with(None, &env);
    feed_listening(&a);
    feed_listening(&b);
    let (key, (path, id), _) = scene(&a);
    let v1 = format!("{}/v1", a.base);
    warm(&b, &path);

    // B's notification connection is cut, and it cannot connect again: the revoke made on A
    // meanwhile is announced to no one on B's side.
    db.admin(&format!(
        "ALTER DATABASE {} ALLOW_CONNECTIONS false",
        db.name
    ))
    .unwrap();
    db.admin(&format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'portico change feed%' AND datname = '{}'",
        db.name
    ))
    .unwrap();
    eventually("B's feed losing its connection", || {
        listening(&b) == Some(false)
    });
    revoke(&key, &v1, &id);
    // B's cache was dropped when its feed went down, so it reads the revoke from the database.
    assert_eq!(status_of(&format!("{}{path}", b.base)), 404);

    db.admin(&format!(
        "ALTER DATABASE {} ALLOW_CONNECTIONS true",
        db.name
    ))
    .unwrap();
    feed_listening(&b);
    assert_eq!(status_of(&format!("{}{path}", b.base)), 404);
    for server in [b, a] {
        let (ok, log) = server.stop();
        assert!(ok, "{log}");
    }
}
