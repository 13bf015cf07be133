//! A host app's webhook receiver for tests: `hook_receiver.py` beside this file, verifying each
//! delivery with the Standard Webhooks reference library (`standardwebhooks` from `PyPI`), as a
//! host would. It can be stopped and started again on the same port and remembers what it
//! received. Stopped when dropped.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running (or stopped) receiver.
#[derive(Debug)]
pub struct HookReceiver {
    child: Option<Child>,
    /// Its port on 127.0.0.1.
    pub port: u16,
    dir: tempfile::TempDir,
}

impl HookReceiver {
    /// Starts one on a free port; `Err` says why it could not.
    pub fn start() -> Result<Self, String> {
        let port = crate::binary::free_port();
        let mut receiver = Self {
            child: None,
            port,
            dir: tempfile::tempdir().map_err(|e| e.to_string())?,
        };
        receiver.resume()?;
        Ok(receiver)
    }

    /// [`HookReceiver::start`], or `None` with a notice where Python or `standardwebhooks` is
    /// missing — except under CI, where that fails the test rather than skipping it.
    pub fn for_test() -> Option<Self> {
        match Self::start() {
            Ok(receiver) => Some(receiver),
            Err(why) => {
                portico_core::testing::skip_check("a webhook receiver test", &why);
                None
            }
        }
    }

    /// Starts it again on its port after [`HookReceiver::stop`].
    pub fn resume(&mut self) -> Result<(), String> {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/hook_receiver.py");
        let log = self.dir.path().join("stderr.log");
        let mut child = Command::new("python3")
            .arg(script)
            .args(["--port", &self.port.to_string()])
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).map_err(|e| e.to_string())?)
            .spawn()
            .map_err(|e| format!("python3 cannot start: {e}"))?;
        let mut line = String::new();
        if let Some(stdout) = child.stdout.take() {
            let _ = BufReader::new(stdout).read_line(&mut line);
        }
        if line.trim() != "ready" {
            let _ = child.kill();
            let _ = child.wait();
            let err = std::fs::read_to_string(&log).unwrap_or_default();
            return Err(format!(
                "the webhook receiver did not start (python3 -m pip install standardwebhooks): {err}"
            ));
        }
        self.child = Some(child);
        Ok(())
    }

    /// Stops it: connections to its port are refused until [`HookReceiver::resume`].
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The endpoint URL to register (`path` under it).
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}/{path}", self.port)
    }

    /// Sets the secret it verifies with and the status it answers verified deliveries with.
    pub fn control(&self, secret: &str, answer: u16) {
        let body = serde_json::json!({ "secret": secret, "answer": answer }).to_string();
        let resp = ureq::post(&format!("http://127.0.0.1:{}/_control", self.port))
            .header("Content-Type", "application/json")
            .send(body)
            .expect("the receiver takes its settings");
        assert_eq!(resp.status().as_u16(), 204);
    }

    /// Everything posted to it so far, in order: `id`, `timestamp`, `verified` (by the
    /// Standard Webhooks library), `type`, `data`, `answered` (or `error`).
    pub fn received(&self) -> Vec<serde_json::Value> {
        let path = self.dir.path().join("received.jsonl");
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).expect("the receiver writes JSON lines"))
            .collect()
    }

    /// Polls [`HookReceiver::received`] until `done` holds of it or `within` passed; the last
    /// reading.
    pub fn wait_for(
        &self,
        within: Duration,
        done: impl Fn(&[serde_json::Value]) -> bool,
    ) -> Vec<serde_json::Value> {
        let deadline = Instant::now() + within;
        loop {
            let got = self.received();
            if done(&got) || Instant::now() > deadline {
                return got;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for HookReceiver {
    fn drop(&mut self) {
        self.stop();
    }
}
