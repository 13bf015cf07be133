//! Starting and stopping the real binary.

use std::process::Command;
use std::time::Duration;

use serde_json::Value;

pub const ADMIN: &str = "an-admin-token-for-the-e2e-tests";
pub const METRICS: &str = "a-metrics-token-for-the-e2e-tests";

pub fn binary() -> Command {
    Command::new(env!("CARGO_BIN_EXE_portico"))
}

pub use portico_testkit::binary::free_port;

/// A running `portico serve` with the tests' admin and metrics tokens, stopped (SIGTERM by
/// [`Server::stop`], or killed) when dropped.
pub struct Server(portico_testkit::binary::Running);

impl std::ops::Deref for Server {
    type Target = portico_testkit::binary::Running;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl std::ops::DerefMut for Server {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl Server {
    pub fn start(database_url: Option<&str>) -> Self {
        Self::start_with(database_url, &[])
    }

    /// Starts `portico serve` with more environment.
    pub fn start_with(database_url: Option<&str>, extra: &[(&str, String)]) -> Self {
        let mut env = vec![
            ("PORTICO_ADMIN_TOKEN", ADMIN.to_owned()),
            ("PORTICO_METRICS_TOKEN", METRICS.to_owned()),
            ("RUST_LOG", "info".to_owned()),
        ];
        if let Some(url) = database_url {
            env.push(("DATABASE_URL", url.to_owned()));
        }
        env.extend(extra.iter().map(|(k, v)| (*k, v.clone())));
        let binary = std::path::Path::new(env!("CARGO_BIN_EXE_portico"));
        Self(portico_testkit::binary::Running::serve(binary, &env, true))
    }

    /// Sends SIGTERM, waits, and returns the exit status's success and everything logged.
    pub fn stop(self) -> (bool, String) {
        self.0.stop()
    }
}

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

/// One call: method, URL, bearer, acting staff, JSON body; returns status and JSON body.
pub fn call(
    method: &str,
    url: &str,
    bearer: &str,
    staff: Option<&str>,
    body: Option<&Value>,
) -> (u16, Value) {
    let agent = agent();
    let mut req = ureq::http::Request::builder()
        .method(method)
        .uri(url)
        .header("Authorization", format!("Bearer {bearer}"))
        .header("Content-Type", "application/json");
    if let Some(staff) = staff {
        req = req.header("X-Portico-Staff", staff);
    }
    let body = body
        .map(std::string::ToString::to_string)
        .unwrap_or_default();
    let mut resp = agent.run(req.body(body).unwrap()).unwrap();
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().unwrap();
    let value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, value)
}

/// Creates org `org` (`name`, business plan) through the admin routes; an API key of it.
pub fn org_with_key(server: &Server, org: &str, name: &str) -> String {
    let v1 = format!("{}/v1", server.base);
    let (status, body) = call(
        "PUT",
        &format!("{v1}/admin/orgs/{org}"),
        ADMIN,
        None,
        Some(&serde_json::json!({ "name": name, "plan": "business" })),
    );
    assert_eq!(status, 200, "{body}");
    let (status, key) = call(
        "POST",
        &format!("{v1}/admin/orgs/{org}/api-keys"),
        ADMIN,
        None,
        Some(&serde_json::json!({ "label": "e2e" })),
    );
    assert_eq!(status, 200, "{key}");
    key["key"].as_str().unwrap().to_owned()
}

/// `server`'s `/metrics` as its operator reads them (with the metrics token).
pub fn metrics_text(server: &Server) -> String {
    let mut resp = agent()
        .get(format!("{}/metrics", server.base))
        .header("Authorization", format!("Bearer {METRICS}"))
        .call()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200, "/metrics with the token");
    resp.body_mut().read_to_string().unwrap()
}

/// Uploads `bytes` as file `id`; returns status and JSON body.
pub fn upload(base: &str, key: &str, staff: &str, id: &str, bytes: &[u8]) -> (u16, Value) {
    let req = ureq::http::Request::builder()
        .method("PUT")
        .uri(format!("{base}/v1/files/{id}"))
        .header("Authorization", format!("Bearer {key}"))
        .header("X-Portico-Staff", staff)
        .header("Content-Type", "application/octet-stream")
        .body(bytes.to_vec())
        .unwrap();
    let mut resp = agent().run(req).unwrap();
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// A PostgreSQL database of a test's own for the binary, dropped afterwards; `None` (with a
/// notice, or a failure under CI) when PostgreSQL is unreachable.
pub fn pg_database() -> Option<portico_testkit::postgres::PgDatabase> {
    portico_testkit::postgres::PgDatabase::create("a PostgreSQL test of the binary")
}

/// The first `.eml` file the dispatcher wrote that contains `needle`, waiting up to 15 s for it
/// (the dispatcher writes one file at a time, in no promised order).
pub fn mail_with(server: &Server, needle: &str) -> Option<String> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let found = mails(server, 0).into_iter().find(|m| m.contains(needle));
        if found.is_some() || std::time::Instant::now() > deadline {
            return found;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// The `.eml` files the dispatcher wrote, once at least `count` are there (or 15 s passed).
pub fn mails(server: &Server, count: usize) -> Vec<String> {
    let dir = server.data.path().join("mail");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let found: Vec<String> = std::fs::read_dir(&dir)
            .map(|entries| {
                entries
                    .map(|e| e.unwrap().path())
                    .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                    // Undo quoted-printable's soft line breaks, so phrases can be matched.
                    .map(|p| std::fs::read_to_string(p).unwrap().replace("=\r\n", ""))
                    .collect()
            })
            .unwrap_or_default();
        if found.len() >= count || std::time::Instant::now() > deadline {
            return found;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}
