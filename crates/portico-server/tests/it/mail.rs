//! N2 end to end: through the real binary and a real SMTP server (aiosmtpd), the events of a
//! shared work order send exactly the emails N2 lists, no more.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::{ADMIN, Server, call};

struct Smtp {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Smtp {
    fn start() -> Option<Self> {
        Self::start_with(&[])
    }

    fn start_with(args: &[&str]) -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let script = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../portico-mail/tests/support/smtp_server.py");
        let mut child = Command::new("python3")
            .arg(script)
            .args(["--port", &port.to_string(), "--dir"])
            .arg(dir.path().join("inbox"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        if line.trim() != "ready" {
            assert!(
                std::env::var_os("CI").is_none(),
                "the SMTP test server (aiosmtpd) is required in CI"
            );
            eprintln!("skipping the SMTP end-to-end test: aiosmtpd is not installed");
            let _ = child.kill();
            return None;
        }
        Some(Self { child, port, dir })
    }

    /// One header of every message received, in arrival order.
    fn header(&self, name: &str) -> Vec<String> {
        let prefix = format!("{name}: ");
        self.messages()
            .iter()
            .map(|text| {
                text.lines()
                    .find_map(|l| l.strip_prefix(prefix.as_str()))
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect()
    }

    fn messages(&self) -> Vec<String> {
        let inbox = self.dir.path().join("inbox");
        let mut files: Vec<_> = std::fs::read_dir(inbox)
            .map(|d| d.map(|e| e.unwrap().path()).collect())
            .unwrap_or_default();
        files.retain(|p: &std::path::PathBuf| p.extension().is_some_and(|x| x == "eml"));
        files.sort_by_key(|p| {
            p.file_stem()
                .unwrap()
                .to_string_lossy()
                .parse::<u32>()
                .unwrap_or(0)
        });
        files
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect()
    }

    fn subjects(&self) -> Vec<String> {
        self.header("Subject")
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn n2_through_the_binary_smtp_receives_exactly_the_n2_set() {
    let Some(smtp) = Smtp::start() else {
        return;
    };
    let server = Server::start_with(
        None,
        &[
            (
                "SMTP_URL",
                format!("smtp://127.0.0.1:{}?tls=none&timeout=5", smtp.port),
            ),
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
    while smtp.subjects().len() < 4 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    // Nothing else follows.
    std::thread::sleep(Duration::from_secs(4));
    let mut subjects = smtp.subjects();
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
    let Some(slow) = Smtp::start_with(&["--delay-reply", "60"]) else {
        return;
    };
    let fast = Smtp::start().unwrap();
    let data = tempfile::tempdir().unwrap();
    // The demo queues three link emails.
    let demo = crate::support::binary()
        .args(["demo", "--json"])
        .env_clear()
        .env("PORTICO_DATA_DIR", data.path())
        .output()
        .unwrap();
    assert!(demo.status.success());
    let dispatch = |smtp: &Smtp| {
        crate::support::binary()
            .arg("dispatch")
            .env_clear()
            .env("PORTICO_DATA_DIR", data.path())
            .env("PORTICO_MAIL_LEASE_SECONDS", "2")
            .env(
                "SMTP_URL",
                format!("smtp://127.0.0.1:{}?tls=none&timeout=120", smtp.port),
            )
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

    // A new dispatcher takes the claims back once their lease runs out and sends all three.
    let mut second = dispatch(&fast);
    wait_until(30, "the three messages", || fast.messages().len() == 3);
    std::thread::sleep(Duration::from_secs(3));
    second.kill().unwrap();
    second.wait().unwrap();

    let killed = slow.header("Message-ID");
    let resent = fast.header("Message-ID");
    assert_eq!(
        (killed.len(), resent.len()),
        (1, 3),
        "{killed:?} {resent:?}"
    );
    let mut unique = resent.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        3,
        "no message twice from the restarted dispatcher"
    );
    assert!(
        resent.contains(&killed[0]),
        "the one resend carries the Message-ID it was first sent with"
    );
}
