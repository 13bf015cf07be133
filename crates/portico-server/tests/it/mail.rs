//! N2 end to end: through the real binary and a real SMTP server (aiosmtpd), the events of a
//! shared work order send exactly the emails N2 lists, no more.

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::{ADMIN, Server, call};

use portico_testkit::smtp::TestSmtp;

#[test]
fn n2_through_the_binary_smtp_receives_exactly_the_n2_set() {
    let Some(smtp) = TestSmtp::for_test(&[]) else {
        return;
    };
    let server = Server::start_with(
        None,
        &[
            ("SMTP_URL", smtp.url()),
            ("PORTICO_BURST_WINDOW_SECONDS", "1".to_owned()),
        ],
    );
    let v1 = format!("{}/v1", server.base);
    call(
        "PUT",
        &format!("{v1}/admin/orgs/acme"),
        ADMIN,
        None,
        Some(
            &json!({ "name": "Acme Plumbing", "plan": "business", "contact_email": "office@acme.example" }),
        ),
    );
    let (_, key) = call(
        "POST",
        &format!("{v1}/admin/orgs/acme/api-keys"),
        ADMIN,
        None,
        Some(&json!({ "label": "e2e" })),
    );
    let key = key["key"].as_str().unwrap().to_owned();
    call(
        "PUT",
        &format!("{v1}/staff/ann"),
        &key,
        Some("ann"),
        Some(&json!({ "name": "Ann", "role": "owner" })),
    );
    call(
        "PUT",
        &format!("{v1}/clients/c1"),
        &key,
        Some("ann"),
        Some(&json!({ "name": "Jordan", "email": "jordan@client.example" })),
    );
    let wo = json!({ "client_id": "c1", "title": "Fix leak", "status": "scheduled", "tasks": [{ "id": "t1", "title": "Replace washer" }] });
    call(
        "PUT",
        &format!("{v1}/work-orders/wo1"),
        &key,
        Some("ann"),
        Some(&wo),
    );
    let events = format!("{v1}/work-orders/wo1/events");
    let (status, _) = call(
        "POST",
        &format!("{v1}/records/work_order/wo1/share"),
        &key,
        Some("ann"),
        Some(&json!({})),
    );
    assert_eq!(status, 200);
    for event in [
        json!({ "type": "task_done", "task_id": "t1", "done": true }),
        json!({ "type": "update_posted", "update": { "id": "u1", "posted_at": "2026-03-02T09:00:00Z", "body": "Parts ordered", "shared": true } }),
        json!({ "type": "update_posted", "update": { "id": "u2", "posted_at": "2026-03-02T09:05:00Z", "body": "Internal: call supplier", "shared": false } }),
        json!({ "type": "status_changed", "status": "in_progress" }),
    ] {
        let (status, body) = call("POST", &events, &key, Some("ann"), Some(&event));
        assert_eq!(status, 200, "{body}");
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while smtp.header("Subject").len() < 4 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    // Nothing else follows.
    std::thread::sleep(Duration::from_secs(4));
    let mut subjects = smtp.header("Subject");
    subjects.sort();
    assert_eq!(
        subjects,
        vec![
            "Acme Plumbing: Fix leak".to_owned(),
            "Fix leak: a task is done".to_owned(),
            "Fix leak: an update from Acme Plumbing".to_owned(),
            "Fix leak: in progress".to_owned(),
        ],
        "link, task completed, update shared, status changed; the internal update sent nothing"
    );
}

/// Waits until `done` holds, up to `secs` seconds.
fn wait_until(secs: u64, what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn n5_killing_the_dispatcher_after_a_send_resends_only_with_the_same_message_id() {
    let Some(slow) = TestSmtp::for_test(&["--delay-reply", "60"]) else {
        return;
    };
    let fast = TestSmtp::for_test(&[]).unwrap();
    let data = tempfile::tempdir().unwrap();
    // The demo queues three link emails, its client's portal invitation and a message from the
    // business.
    let demo = crate::support::binary()
        .args(["demo", "--json"])
        .env_clear()
        .env("PORTICO_DATA_DIR", data.path())
        .output()
        .unwrap();
    assert!(demo.status.success());
    let dispatch = |smtp: &TestSmtp| {
        crate::support::binary()
            .arg("dispatch")
            .env_clear()
            .env("PORTICO_DATA_DIR", data.path())
            .env("PORTICO_MAIL_LEASE_SECONDS", "2")
            .env("SMTP_URL", smtp.url())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    // The first message reaches the server, which holds back its 250: the dispatcher is killed
    // having sent it, before it could mark it sent.
    let mut first = dispatch(&slow);
    wait_until(30, "the first message", || slow.messages().len() == 1);
    first.kill().unwrap();
    first.wait().unwrap();

    // A new dispatcher takes the claims back once their lease runs out and sends all five.
    let mut second = dispatch(&fast);
    wait_until(30, "the five messages", || fast.messages().len() == 5);
    std::thread::sleep(Duration::from_secs(3));
    second.kill().unwrap();
    second.wait().unwrap();

    let killed = slow.header("Message-ID");
    let resent = fast.header("Message-ID");
    assert_eq!(
        (killed.len(), resent.len()),
        (1, 5),
        "{killed:?} {resent:?}"
    );
    let mut unique = resent.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        5,
        "no message twice from the restarted dispatcher"
    );
    assert!(
        resent.contains(&killed[0]),
        "the one resend carries the Message-ID it was first sent with"
    );
}

/// O4, N5: SIGTERM while the dispatcher waits on the mail server's answer lets it finish its
/// round: every email it had claimed is delivered and marked sent, then it exits 0.
#[test]
fn o4_a_stop_mid_send_finishes_the_round_and_marks_it_sent() {
    let Some(slow) = TestSmtp::for_test(&["--delay-reply", "2"]) else {
        return;
    };
    let data = tempfile::tempdir().unwrap();
    let demo = crate::support::binary()
        .args(["demo", "--json"])
        .env_clear()
        .env("PORTICO_DATA_DIR", data.path())
        .output()
        .unwrap();
    assert!(demo.status.success());
    let mut dispatcher = crate::support::binary()
        .arg("dispatch")
        .env_clear()
        .env("PORTICO_DATA_DIR", data.path())
        .env("SMTP_URL", slow.url())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until(30, "the first message", || !slow.messages().is_empty());
    std::process::Command::new("kill")
        .args(["-TERM", &dispatcher.id().to_string()])
        .status()
        .unwrap();
    let status = dispatcher.wait().unwrap();
    assert!(status.success(), "{status}");
    let sent = std::process::Command::new("python3")
        .args([
            "-c",
            "import sqlite3, sys; db = sqlite3.connect(sys.argv[1]); \
             print(db.execute(\"SELECT count(*) FROM outbox WHERE state = 'sent'\").fetchone()[0])",
        ])
        .arg(data.path().join("portico.db"))
        .output()
        .unwrap();
    // The demo's three link emails, its client's portal invitation and the business's message.
    assert_eq!(
        String::from_utf8_lossy(&sent.stdout).trim(),
        "5",
        "the round was finished and settled: {}",
        String::from_utf8_lossy(&sent.stderr)
    );
    assert_eq!(slow.messages().len(), 5);
}
