//! Starting and stopping the real binary.

use std::io::Read as _;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const ADMIN: &str = "an-admin-token-for-the-e2e-tests";
pub const METRICS: &str = "a-metrics-token-for-the-e2e-tests";

pub fn binary() -> Command {
    Command::new(env!("CARGO_BIN_EXE_portico"))
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running `portico serve`, stopped (SIGTERM) when dropped.
pub struct Server {
    child: Option<Child>,
    pub base: String,
    /// The data folder, removed with the server.
    pub data: tempfile::TempDir,
}

impl Server {
    /// Runs `portico demo --json` against this server's data and address.
    pub fn demo(&self) -> Value {
        let out = binary()
            .args(["demo", "--json"])
            .env_clear()
            .env("PORTICO_DATA_DIR", self.data.path())
            .env("PORTICO_BIND", self.base.trim_start_matches("http://"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    pub fn start(database_url: Option<&str>) -> Self {
        Self::start_with(database_url, &[])
    }

    /// Starts `portico serve` with more environment.
    pub fn start_with(database_url: Option<&str>, extra: &[(&str, String)]) -> Self {
        let data = tempfile::tempdir().unwrap();
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let mut cmd = binary();
        cmd.arg("serve")
            .env_clear()
            .env("PORTICO_BIND", format!("127.0.0.1:{port}"))
            .env("PORTICO_DATA_DIR", data.path())
            .env("PORTICO_ADMIN_TOKEN", ADMIN)
            .env("PORTICO_METRICS_TOKEN", METRICS)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if let Some(url) = database_url {
            cmd.env("DATABASE_URL", url);
        }
        for (name, value) in extra {
            cmd.env(name, value);
        }
        let child = cmd.spawn().unwrap();
        let server = Server {
            child: Some(child),
            base,
            data,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(resp) = agent().get(&format!("{}/healthz", server.base)).call()
                && resp.status() == 200
            {
                break;
            }
            assert!(Instant::now() < deadline, "portico did not come up in 30 s");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// Sends SIGTERM, waits, and returns the exit status's success and everything logged.
    pub fn stop(mut self) -> (bool, String) {
        let mut child = self.child.take().unwrap();
        Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status()
            .unwrap();
        let status = child.wait().unwrap();
        let mut log = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut log)
            .unwrap();
        (status.success(), log)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
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
