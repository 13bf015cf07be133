//! A stateful Stripe stand-in for tests: `localstripe` (from `PyPI`) running `stripe_server.py` beside
//! this file, with the Stripe.js stand-in Portico's payment page loads. It speaks the
//! `PaymentIntents` API and sends webhooks signed the Stripe way to the endpoints configured at
//! [`LocalStripe::webhook_config_url`]. Stopped when dropped.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// The secret key tests give Portico (localstripe takes any `sk_…`).
pub const SECRET_KEY: &str = "sk_test_portico_localstripe";
/// The publishable key the payment page hands to the script.
pub const PUBLISHABLE_KEY: &str = "pk_test_portico_localstripe";

/// A running localstripe.
#[derive(Debug)]
pub struct LocalStripe {
    child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
    _log: tempfile::NamedTempFile,
}

impl LocalStripe {
    /// Starts one; `Err` says why it could not.
    pub fn start() -> Result<Self, String> {
        let port = crate::binary::free_port();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/stripe_server.py");
        let log = tempfile::NamedTempFile::new().map_err(|e| e.to_string())?;
        let mut child = Command::new("python3")
            .arg(script)
            .args(["--port", &port.to_string()])
            .stdout(Stdio::piped())
            .stderr(log.reopen().map_err(|e| e.to_string())?)
            .spawn()
            .map_err(|e| format!("python3 cannot start: {e}"))?;
        let mut line = String::new();
        if let Some(stdout) = child.stdout.take() {
            let _ = BufReader::new(stdout).read_line(&mut line);
        }
        if line.trim() != "ready" {
            let _ = child.kill();
            let _ = child.wait();
            let err = std::fs::read_to_string(log.path()).unwrap_or_default();
            return Err(format!(
                "localstripe did not start (python3 -m pip install localstripe): {err}"
            ));
        }
        let stripe = Self {
            child,
            port,
            _log: log,
        };
        // It answers once its loop runs.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if std::time::Instant::now() > deadline {
                return Err("localstripe did not listen".into());
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Ok(stripe)
    }

    /// [`LocalStripe::start`], or `None` with a notice where localstripe is missing — except
    /// under CI, where a missing server fails the test rather than skipping it.
    pub fn for_test() -> Option<Self> {
        match Self::start() {
            Ok(server) => Some(server),
            Err(why) => {
                portico_core::testing::skip_check("a payment test against localstripe", &why);
                None
            }
        }
    }

    /// The API's base (`STRIPE_API_BASE`).
    pub fn api_base(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    /// The Stripe.js stand-in (`STRIPE_JS_URL`).
    pub fn js_url(&self) -> String {
        format!("http://127.0.0.1:{}/js.stripe.com/portico/v3/", self.port)
    }

    /// The route that makes localstripe send its events, signed with `secret`, to `url`.
    pub fn webhook_config_url(&self, id: &str) -> String {
        format!("http://127.0.0.1:{}/_config/webhooks/{id}", self.port)
    }

    /// The route the Stripe.js stand-in confirms a card payment through.
    pub fn confirm_url(&self) -> String {
        format!("http://127.0.0.1:{}/_config/portico/confirm", self.port)
    }
}

impl Drop for LocalStripe {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
