//! The real `portico` binary, running: `serve` on a fresh data folder and a free port, stopped
//! when dropped (or with SIGTERM by [`Running::stop`]), and `demo --json` against it. The path
//! of the binary is the caller's (`env!("CARGO_BIN_EXE_portico")` in the server crate's tests
//! and benchmarks).

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free port on the loopback address.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running `portico serve`.
#[derive(Debug)]
pub struct Running {
    child: Option<Child>,
    binary: PathBuf,
    /// The port it listens on.
    pub port: u16,
    /// `http://127.0.0.1:{port}`.
    pub base: String,
    /// Its data folder, removed with it.
    pub data: tempfile::TempDir,
}

impl Running {
    /// Starts `binary serve` with only `PORTICO_BIND`, `PORTICO_DATA_DIR` and `env` in its
    /// environment (a later name wins); its log is kept for [`Running::stop`] when `keep_log`.
    /// Returns once `/healthz` answers 200, or panics after 30 seconds.
    pub fn serve(binary: &Path, env: &[(&str, String)], keep_log: bool) -> Self {
        let data = tempfile::tempdir().unwrap();
        let port = free_port();
        let child = Command::new(binary)
            .arg("serve")
            .env_clear()
            .env("PORTICO_BIND", format!("127.0.0.1:{port}"))
            .env("PORTICO_DATA_DIR", data.path())
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdout(Stdio::null())
            .stderr(if keep_log {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .spawn()
            .unwrap();
        let running = Self {
            child: Some(child),
            binary: binary.to_owned(),
            port,
            base: format!("http://127.0.0.1:{port}"),
            data,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while !running.healthy() {
            assert!(Instant::now() < deadline, "portico did not come up in 30 s");
            std::thread::sleep(Duration::from_millis(50));
        }
        running
    }

    /// Whether `/healthz` answers 200 now.
    fn healthy(&self) -> bool {
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
        let request = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
        if stream.write_all(request.as_bytes()).is_err() {
            return false;
        }
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).is_ok() && &head[9..12] == b"200"
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// `portico demo --json` against this server's data and address.
    pub fn demo(&self) -> serde_json::Value {
        self.demo_with(&[])
    }

    /// [`Running::demo`] with more environment (a `DATABASE_URL`, say, when the server was
    /// started on another database than its data folder's SQLite file).
    pub fn demo_with(&self, env: &[(&str, &str)]) -> serde_json::Value {
        let out = Command::new(&self.binary)
            .args(["demo", "--json"])
            .env_clear()
            .env("PORTICO_DATA_DIR", self.data.path())
            .env("PORTICO_BIND", format!("127.0.0.1:{}", self.port))
            .envs(env.iter().copied())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// Sends SIGTERM, waits, and returns whether it exited successfully and what it logged
    /// (empty unless started with `keep_log`).
    pub fn stop(mut self) -> (bool, String) {
        let mut child = self.child.take().unwrap();
        Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status()
            .unwrap();
        let status = child.wait().unwrap();
        let mut log = String::new();
        if let Some(mut stderr) = child.stderr.take() {
            stderr.read_to_string(&mut log).unwrap();
        }
        (status.success(), log)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
