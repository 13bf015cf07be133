//! V7, V8 and V5 in a real browser: headless Chromium driven over `WebDriver` (`chromedriver`),
//! against the real binary and its demo. Each page at 360x740 and 1280x800: the title and status
//! are visible and nothing overflows sideways; a quote approved through the real form; a status
//! change shown live. Screenshots go to `target/browser-artifacts/` (not committed).
//!
//! Needs `chromium` and `chromedriver` (Debian packages; `.ci/run` installs them). Without them
//! the test is skipped with a notice, except under CI, where it fails.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

use crate::support::{Server, agent, call};

/// `WebDriver` calls can be slow while Chromium starts on a busy machine.
fn driver_agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(90)))
        .build()
        .into()
}

struct Driver {
    child: Child,
    base: String,
    session: String,
}

impl Driver {
    fn start() -> Option<Self> {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = match Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
        {
            Ok(child) => child,
            Err(e) => {
                assert!(
                    std::env::var_os("CI").is_none(),
                    "chromedriver is required in CI: {e}"
                );
                eprintln!("skipping the browser test: chromedriver cannot start ({e})");
                return None;
            }
        };
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while agent().get(format!("{base}/status")).call().is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not come up");
            std::thread::sleep(Duration::from_millis(100));
        }
        let mut driver = Self {
            child,
            base,
            session: String::new(),
        };
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"]
            }
        }}});
        let created = driver.post("/session", &caps);
        created["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("{created}"))
            .clone_into(&mut driver.session);
        Some(driver)
    }

    fn post(&self, path: &str, body: &Value) -> Value {
        let url = if path == "/session" {
            format!("{}{path}", self.base)
        } else {
            format!("{}/session/{}{path}", self.base, self.session)
        };
        let req = ureq::http::Request::builder()
            .method("POST")
            .uri(url)
            .header("Content-Type", "application/json")
            .body(body.to_string())
            .unwrap();
        let mut resp = driver_agent().run(req).unwrap();
        let text = resp.body_mut().read_to_string().unwrap();
        let value: Value = serde_json::from_str(&text).unwrap();
        value["value"].clone()
    }

    fn get(&self, path: &str) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut resp = driver_agent().get(url).call().unwrap();
        let value: Value =
            serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap();
        value["value"].clone()
    }

    fn script(&self, js: &str) -> Value {
        self.post("/execute/sync", &json!({ "script": js, "args": [] }))
    }

    fn size(&self, width: u32, height: u32) {
        self.post("/window/rect", &json!({ "width": width, "height": height }));
    }

    fn open(&self, url: &str) {
        self.post("/url", &json!({ "url": url }));
    }

    fn screenshot(&self, name: &str) {
        let png = self.get("/screenshot");
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap())
            .unwrap();
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/browser-artifacts");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), bytes).unwrap();
    }

    fn wait_for(&self, what: &str, js: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.script(js) != json!(true) {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let url = format!("{}/session/{}", self.base, self.session);
            let _ = agent().delete(url).call();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether the page's key content is visible and nothing is wider than the window.
const LAYOUT_CHECK: &str = r"
const visible = (el) => { if (!el) return false; const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
const widest = Math.max(document.documentElement.scrollWidth, document.body.scrollWidth);
return {
  title: document.querySelector('h1') && document.querySelector('h1').textContent,
  visible: visible(document.querySelector('h1')) && visible(document.querySelector('.badge')) && visible(document.querySelector('.company-name')),
  overflow: widest - window.innerWidth,
};
";

#[test]
fn v8_v5_v7_pages_in_a_real_browser() {
    let Some(driver) = Driver::start() else {
        return;
    };
    let server = Server::start(None);
    let demo = server.demo();
    let pages = [
        ("work_order", "work_order_share_url", "Rewire kitchen"),
        ("quote", "quote_share_url", "Kitchen rewire"),
        ("invoice", "invoice_share_url", "Kitchen rewire, deposit"),
    ];
    for (width, height) in [(360, 740), (1280, 800)] {
        driver.size(width, height);
        for (name, key, title) in pages {
            driver.open(demo[key].as_str().unwrap());
            let layout = driver.script(LAYOUT_CHECK);
            assert_eq!(layout["title"], title, "{name} at {width}px: {layout}");
            assert_eq!(layout["visible"], true, "{name} at {width}px: {layout}");
            assert!(
                layout["overflow"].as_i64().unwrap() <= 0,
                "{name} overflows sideways at {width}px: {layout}"
            );
            driver.screenshot(&format!("{name}-{width}"));
        }
    }

    // V5: approve through the real form.
    driver.size(360, 740);
    driver.open(demo["quote_share_url"].as_str().unwrap());
    let button = driver.post(
        "/element",
        &json!({ "using": "css selector", "value": "button[value=approve]" }),
    );
    let id = button
        .as_object()
        .unwrap()
        .values()
        .next()
        .unwrap()
        .as_str()
        .unwrap()
        .to_owned();
    driver.post(&format!("/element/{id}/click"), &json!({}));
    driver.wait_for(
        "the decision to show",
        "return document.body.innerText.includes('You approved this quote');",
    );
    driver.screenshot("quote-approved-360");

    // V7: a host event changes the status on the open page, without a reload.
    driver.open(demo["work_order_share_url"].as_str().unwrap());
    driver.script("window.portico_not_reloaded = true; return true;");
    driver.wait_for(
        "the event stream",
        "return document.querySelector('[data-status]').dataset.connected === 'true';",
    );
    let (status, body) = call(
        "POST",
        &format!(
            "{}/work-orders/demo-wo/events",
            demo["api_base"].as_str().unwrap()
        ),
        demo["api_key"].as_str().unwrap(),
        Some("demo-owner"),
        Some(&json!({ "type": "status_changed", "status": "on_hold" })),
    );
    assert_eq!(status, 200, "{body}");
    driver.wait_for(
        "the live status",
        "return document.querySelector('[data-status]').dataset.status === 'on_hold' && window.portico_not_reloaded === true;",
    );
    let label = driver.script("return document.querySelector('[data-status]').textContent;");
    assert_eq!(label, "On hold");
    driver.screenshot("work_order-live-360");
}
