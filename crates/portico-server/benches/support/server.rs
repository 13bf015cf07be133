//! The release binary as the server benchmarks start it: `portico serve` on a fresh data folder
//! and a free port (stopped when dropped), `portico demo --json` against it, and one request on
//! a kept-alive HTTP/1.1 connection for the load loops. Included by path (`#[path = …]`) in
//! each benchmark.

// Reason: each benchmark uses a part of it.
#![allow(dead_code)]

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// `name` from the environment, or `default` when unset or unreadable.
pub(crate) fn env_or<T: FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A running `portico serve`.
pub(crate) struct Server {
    child: Child,
    pub(crate) port: u16,
    /// `http://127.0.0.1:{port}`.
    pub(crate) base: String,
    data: tempfile::TempDir,
}

impl Server {
    /// Starts `portico serve` with `admin` as its admin token and `env` on top (a later value
    /// of the same name wins, so `RUST_LOG` may be given); returns once `/readyz` answers 200.
    pub(crate) fn start(admin: &str, env: &[(&str, &str)]) -> Self {
        let data = tempfile::tempdir().unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(env!("CARGO_BIN_EXE_portico"))
            .arg("serve")
            .env_clear()
            .env("PORTICO_BIND", format!("127.0.0.1:{port}"))
            .env("PORTICO_DATA_DIR", data.path())
            .env("PORTICO_ADMIN_TOKEN", admin)
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let server = Self {
            child,
            port,
            base: format!("http://127.0.0.1:{port}"),
            data,
        };
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let deadline = Instant::now() + Duration::from_secs(30);
        while agent
            .get(format!("{}/readyz", server.base))
            .call()
            .map_or(true, |r| r.status() != 200)
        {
            assert!(Instant::now() < deadline, "portico did not come up");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// `portico demo --json` against this server's data and address.
    pub(crate) fn demo(&self) -> Value {
        let out = Command::new(env!("CARGO_BIN_EXE_portico"))
            .args(["demo", "--json"])
            .env_clear()
            .env("PORTICO_DATA_DIR", self.data.path())
            .env("PORTICO_BIND", format!("127.0.0.1:{}", self.port))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// Resident memory of the server process, in MiB.
    pub(crate) fn rss_mib(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        let kib: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0);
        kib / 1024.0
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One request on a kept-alive connection, read whole into `buf` through `chunk`: the status,
/// or `None` if the connection failed or closed.
pub(crate) async fn request(
    stream: &mut TcpStream,
    req: &[u8],
    buf: &mut Vec<u8>,
    chunk: &mut [u8],
) -> Option<u16> {
    stream.write_all(req).await.ok()?;
    buf.clear();
    loop {
        let n = stream.read(chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .map_or(0, |v| v.trim().parse().unwrap_or(0));
        if buf.len() >= end + 4 + length {
            return head.get(9..12).and_then(|s| s.parse().ok());
        }
    }
}
