//! The release binary as the server benchmarks start it (the testkit's `portico serve` on a
//! fresh data folder and a free port, with its resident memory), and one request on a
//! kept-alive HTTP/1.1 connection for the load loops. Included by path (`#[path = …]`) in each
//! benchmark.

// Reason: each benchmark uses a part of it.
#![allow(dead_code)]

use std::str::FromStr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// `name` from the environment, or `default` when unset or unreadable.
pub(crate) fn env_or<T: FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A running `portico serve` (the testkit's), with what the benchmarks read of it.
pub(crate) struct Server(portico_testkit::binary::Running);

impl std::ops::Deref for Server {
    type Target = portico_testkit::binary::Running;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl Server {
    /// Starts `portico serve` with `admin` as its admin token and `env` on top (a later value
    /// of the same name wins, so `RUST_LOG` may be given); returns once it is healthy.
    pub(crate) fn start(admin: &str, env: &[(&str, &str)]) -> Self {
        let mut all = vec![
            ("PORTICO_ADMIN_TOKEN", admin.to_owned()),
            ("RUST_LOG", "warn".to_owned()),
        ];
        all.extend(env.iter().map(|(k, v)| (*k, (*v).to_owned())));
        let binary = std::path::Path::new(env!("CARGO_BIN_EXE_portico"));
        Self(portico_testkit::binary::Running::serve(binary, &all, false))
    }

    /// Resident memory of the server process, in MiB.
    pub(crate) fn rss_mib(&self) -> f64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        let kib: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0);
        kib / 1024.0
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
