//! A real SMTP server for tests and benchmarks: Python's aiosmtpd running `smtp_server.py`
//! beside this file, stopped when dropped.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A running aiosmtpd writing each accepted message to `inbox/<n>.eml`.
#[derive(Debug)]
pub struct TestSmtp {
    child: Child,
    pub port: u16,
    temp: tempfile::TempDir,
}

impl TestSmtp {
    /// Starts a server with the script's `args` (`--fail-first N`, `--reject`,
    /// `--delay-reply S`); `Err` says why it could not start.
    pub fn start(args: &[&str]) -> Result<Self, String> {
        let port = TcpListener::bind("127.0.0.1:0")
            .map_err(|e| e.to_string())?
            .local_addr()
            .map_err(|e| e.to_string())?
            .port();
        Self::start_at(port, tempfile::tempdir().map_err(|e| e.to_string())?, args)
    }

    /// [`TestSmtp::start`], or `None` with a notice where aiosmtpd is missing — except under CI,
    /// where a missing server fails the test rather than skipping it.
    pub fn for_test(args: &[&str]) -> Option<Self> {
        match Self::start(args) {
            Ok(server) => Some(server),
            Err(why) => {
                portico_core::testing::skip_check("an SMTP test against aiosmtpd", &why);
                None
            }
        }
    }

    fn start_at(port: u16, temp: tempfile::TempDir, args: &[&str]) -> Result<Self, String> {
        let child = spawn(port, &temp.path().join("inbox"), args)?;
        Ok(Self { child, port, temp })
    }

    /// `SMTP_URL` for this server.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}?tls=none&timeout=30", self.port)
    }

    /// The messages received so far, in arrival order.
    pub fn messages(&self) -> Vec<String> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.temp.path().join("inbox"))
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        files.retain(|p| p.extension().is_some_and(|x| x == "eml"));
        files.sort_by_key(|p| {
            p.file_stem()
                .and_then(|s| s.to_str())
                .and_then(|s| s.parse::<u32>().ok())
                .unwrap_or(0)
        });
        files
            .iter()
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .collect()
    }

    /// One header of every message received, in arrival order.
    pub fn header(&self, name: &str) -> Vec<String> {
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

    /// Stops the server (connections are refused); [`TestSmtp::start_again`] brings it back.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts a stopped server again on the same port, keeping what it received.
    pub fn start_again(&mut self) -> Result<(), String> {
        self.child = spawn(self.port, &self.temp.path().join("inbox"), &[])?;
        Ok(())
    }
}

/// Starts the script on `port`, writing into `inbox`, and waits for its "ready".
fn spawn(port: u16, inbox: &Path, args: &[&str]) -> Result<Child, String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/smtp_server.py");
    let log_path = inbox.with_file_name("smtp-server.log");
    let log = std::fs::File::create(&log_path).map_err(|e| e.to_string())?;
    let mut child = Command::new("python3")
        .arg(script)
        .args(["--port", &port.to_string(), "--dir"])
        .arg(inbox)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .map_err(|e| format!("python3 cannot start: {e}"))?;
    let mut line = String::new();
    if let Some(stdout) = child.stdout.take() {
        let _ = BufReader::new(stdout).read_line(&mut line);
    }
    if line.trim() != "ready" {
        let _ = child.kill();
        let _ = child.wait();
        let err = std::fs::read_to_string(&log_path).unwrap_or_default();
        return Err(format!(
            "the SMTP test server (aiosmtpd) did not start: {err}"
        ));
    }
    Ok(child)
}

impl Drop for TestSmtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
