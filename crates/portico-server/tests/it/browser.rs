//! V7, V8 and V5 in a real browser: headless Chromium driven over `WebDriver` (`chromedriver`),
//! against the real binary and its demo. Each page kind (job, quote, invoice, a dead link) at
//! 360x740 and 1280x800: the title and status are visible, nothing overflows sideways, and
//! axe-core finds no serious or critical accessibility violation; the invoice's print button
//! opens the print dialog; a quote approved with the keyboard alone; a status change shown live.
//! Screenshots go to `target/browser-artifacts/` (not committed).
//!
//! The client portal (C2–C5, C7) walked the same way: the demo's invitation read from the mail
//! folder, a password set, sign-out, a sign-in by emailed link through its confirm button, an
//! estimate accepted, sign-out; its pages at both sizes, checked by axe-core.
//!
//! Needs `chromium` and `chromedriver` (Debian packages) and axe-core's `axe.min.js` (npm; at
//! `PORTICO_AXE_JS`); `.ci/run` installs them. Without them the test is skipped with a notice
//! and listed at the end of `cargo xtask ci`, except under CI, where it fails.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

use crate::support::{Server, agent, call, mails};

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
                portico_core::testing::skip_check(
                    "the browser test",
                    &format!(
                        "chromedriver cannot start ({e}); apt-get install chromium chromium-driver"
                    ),
                );
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

    /// Runs `js`, which calls `arguments[arguments.length - 1]` with its answer.
    fn script_async(&self, js: &str) -> Value {
        self.post("/execute/async", &json!({ "script": js, "args": [] }))
    }

    /// Presses and releases one key (a `WebDriver` key code such as `\u{E004}`, Tab).
    fn press(&self, key: &str) {
        self.post(
            "/actions",
            &json!({ "actions": [{ "type": "key", "id": "keyboard", "actions": [
                { "type": "keyDown", "value": key }, { "type": "keyUp", "value": key }
            ]}]}),
        );
    }

    /// The serious and critical axe-core violations of the open page, one line each.
    fn axe_violations(&self, axe: &str) -> Vec<String> {
        self.script(&format!("{axe}\nreturn true;"));
        let found = self.script_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { resultTypes: ['violations'] }).then((r) => done(r.violations
               .filter((v) => v.impact === 'serious' || v.impact === 'critical')
               .map((v) => v.impact + ' ' + v.id + ': ' + v.help + ' at ' + v.nodes.map((n) => n.target.join(' ')).join(', '))
             )).catch((e) => done(['axe failed: ' + e]));",
        );
        found
            .as_array()
            .unwrap_or_else(|| panic!("{found}"))
            .iter()
            .map(|v| v.as_str().unwrap_or_default().to_owned())
            .collect()
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

/// axe-core's script, or `None` (skipped, with a notice) where it is not installed.
fn axe_source() -> Option<String> {
    let path = std::env::var_os("PORTICO_AXE_JS").map_or_else(
        || {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../target/tools/axe-core-4.14.1/axe.min.js")
        },
        PathBuf::from,
    );
    match std::fs::read_to_string(&path) {
        Ok(source) => Some(source),
        Err(e) => {
            portico_core::testing::skip_check(
                "the accessibility checks (axe-core)",
                &format!(
                    "{} cannot be read ({e}); bash .ci/run fetches it",
                    path.display()
                ),
            );
            None
        }
    }
}

/// V5, V8: Tab from the top of the quote page to Approve, every stop on the way visibly
/// focused, and Enter decides.
fn approve_with_the_keyboard(driver: &Driver, quote_url: &str) {
    driver.open(quote_url);
    let mut stops = Vec::new();
    loop {
        driver.press("\u{E004}");
        let focus = driver.script(
            "const e = document.activeElement; const s = getComputedStyle(e);
             return { what: e.tagName + (e.value ? '=' + e.value : '') + ' ' + (e.textContent || '').trim().slice(0, 30),
                      approve: e.matches('button[value=approve]'),
                      ring: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0 };",
        );
        stops.push(focus["what"].as_str().unwrap_or_default().to_owned());
        assert_eq!(
            focus["ring"], true,
            "no visible focus on {focus} after {stops:?}"
        );
        if focus["approve"] == json!(true) {
            break;
        }
        assert!(
            stops.len() < 30,
            "Approve is not reachable with Tab: {stops:?}"
        );
    }
    driver.press("\u{E007}");
    driver.wait_for(
        "the decision to show",
        "return document.body.innerText.includes('You approved this quote');",
    );
}

#[test]
fn v8_v5_v7_pages_in_a_real_browser() {
    let Some(driver) = Driver::start() else {
        return;
    };
    let axe = axe_source();
    if let Some(axe) = &axe {
        // The checker itself finds what it should: an image without a text alternative.
        driver.open("data:text/html,<!doctype html><html lang=en><title>t</title><main><img src=x.png></main></html>");
        let found = driver.axe_violations(axe);
        assert!(
            found.iter().any(|v| v.contains("image-alt")),
            "axe-core did not run: {found:?}"
        );
    }
    let server = Server::start(None);
    let demo = server.demo();
    let dead = format!("{}/s/{}", server.base, "A".repeat(43));
    let pages = [
        (
            "work_order",
            demo["work_order_share_url"].as_str().unwrap(),
            "Rewire kitchen",
        ),
        (
            "quote",
            demo["quote_share_url"].as_str().unwrap(),
            "Kitchen rewire",
        ),
        (
            "invoice",
            demo["invoice_share_url"].as_str().unwrap(),
            "Kitchen rewire, deposit",
        ),
        ("dead_link", dead.as_str(), "Link not found"),
    ];
    for (width, height) in [(360, 740), (1280, 800)] {
        driver.size(width, height);
        for (name, url, title) in pages {
            driver.open(url);
            let layout = driver.script(LAYOUT_CHECK);
            assert_eq!(layout["title"], title, "{name} at {width}px: {layout}");
            if name != "dead_link" {
                assert_eq!(layout["visible"], true, "{name} at {width}px: {layout}");
            }
            assert!(
                layout["overflow"].as_i64().unwrap() <= 0,
                "{name} overflows sideways at {width}px: {layout}"
            );
            if let Some(axe) = &axe {
                let violations = driver.axe_violations(axe);
                assert!(
                    violations.is_empty(),
                    "{name} at {width}px has accessibility violations:\n{}",
                    violations.join("\n")
                );
            }
            driver.screenshot(&format!("{name}-{width}"));
        }
    }

    // The invoice can be printed or saved as a PDF: the button shows and opens the dialog.
    driver.open(demo["invoice_share_url"].as_str().unwrap());
    let printed = driver.script(
        "const b = document.querySelector('[data-print]');
         if (!b || b.hidden || b.getBoundingClientRect().height === 0) return 'no visible button';
         window.print = () => { window.portico_printed = true; };
         b.click();
         return window.portico_printed === true;",
    );
    assert_eq!(printed, json!(true), "{printed}");

    // V5 with the keyboard alone.
    driver.size(360, 740);
    approve_with_the_keyboard(&driver, demo["quote_share_url"].as_str().unwrap());
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

/// The newest sign-in link under `portal` in the mail folder that is not one of `seen`.
fn fresh_link(server: &Server, portal: &str, seen: &[String]) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let found = mails(server, seen.len() + 1)
            .iter()
            .filter_map(|m| {
                let from = m.find(&format!("{portal}/link/"))?;
                let end = from + portal.len() + "/link/".len() + 43;
                m.get(from..end).map(str::to_owned)
            })
            .find(|l| !seen.contains(l));
        if let Some(link) = found {
            return link;
        }
        assert!(Instant::now() < deadline, "no new sign-in mail arrived");
    }
}

/// Checks the open portal page's layout (and accessibility, when axe-core is there) at both
/// sizes, with a screenshot of each.
fn check_portal_page(driver: &Driver, axe: Option<&String>, name: &str) {
    for (width, height) in [(360, 740), (1280, 800)] {
        driver.size(width, height);
        let overflow = driver.script(
            "return Math.max(document.documentElement.scrollWidth, document.body.scrollWidth) - window.innerWidth;",
        );
        assert!(
            overflow.as_i64().unwrap() <= 0,
            "{name} overflows at {width}px"
        );
        if let Some(axe) = axe {
            let violations = driver.axe_violations(axe);
            assert!(
                violations.is_empty(),
                "{name} at {width}px has accessibility violations:\n{}",
                violations.join("\n")
            );
        }
        driver.screenshot(&format!("portal-{name}-{width}"));
    }
}

/// Submits the form of the element matching `selector` (a button) by clicking it.
fn click(driver: &Driver, selector: &str) {
    let clicked = driver.script(&format!(
        "const b = document.querySelector({selector:?}); if (!b) return false; b.click(); return true;"
    ));
    assert_eq!(clicked, json!(true), "nothing matches {selector}");
}

fn fill(driver: &Driver, selector: &str, value: &str) {
    let filled = driver.script(&format!(
        "const e = document.querySelector({selector:?}); if (!e) return false; e.value = {value:?}; return true;"
    ));
    assert_eq!(filled, json!(true), "nothing matches {selector}");
}

#[test]
fn c2_c3_c4_c7_the_portal_in_a_real_browser() {
    let Some(driver) = Driver::start() else {
        return;
    };
    let axe = axe_source();
    let server = Server::start(None);
    let demo = server.demo();
    let portal = demo["portal_url"].as_str().unwrap().to_owned();
    let mut seen = Vec::new();

    // The invitation, from the mail folder: its confirm page, then setting a password.
    let invite = fresh_link(&server, &portal, &seen);
    seen.push(invite.clone());
    driver.size(360, 740);
    driver.open(&invite);
    driver.wait_for(
        "the confirm page",
        "return document.body.innerText.includes('Sign in to Bright Spark Electrical');",
    );
    check_portal_page(&driver, axe.as_ref(), "confirm");
    click(&driver, "form[action$='/link'] button");
    driver.wait_for(
        "the password page",
        "return document.body.innerText.includes('Set a password');",
    );
    check_portal_page(&driver, axe.as_ref(), "set-password");
    fill(&driver, "#account-password", "correct horse battery");
    click(&driver, "form[action$='/account'] button");
    driver.wait_for(
        "the password to be set",
        "return document.body.innerText.includes('Your password is set');",
    );
    click(&driver, "form[action$='/sign-out'] button");
    driver.wait_for(
        "the sign-in page",
        "return document.body.innerText.includes('Email me a sign-in link');",
    );
    check_portal_page(&driver, axe.as_ref(), "sign-in");

    // A sign-in by emailed link, through the confirm button.
    fill(
        &driver,
        "#link-email",
        demo["portal_email"].as_str().unwrap(),
    );
    click(&driver, "form[action$='/sign-in'] button");
    driver.wait_for(
        "the check-your-email page",
        "return document.body.innerText.includes('Check your email');",
    );
    let link = fresh_link(&server, &portal, &seen);
    driver.open(&link);
    click(&driver, "form[action$='/link'] button");
    driver.wait_for(
        "the home page",
        "return document.body.innerText.includes('Hello, Jordan Lee');",
    );
    check_portal_page(&driver, axe.as_ref(), "home");

    // An estimate accepted from the portal, with the keyboard alone (V8).
    let estimate =
        driver.script("return document.querySelector(\"a[href*='/r/estimates/']\").href;");
    let estimate = estimate.as_str().unwrap().to_owned();
    driver.open(&estimate);
    driver.wait_for(
        "the estimate",
        "return !!document.querySelector('button[value=approve]');",
    );
    check_portal_page(&driver, axe.as_ref(), "estimate");
    driver.size(360, 740);
    approve_with_the_keyboard(&driver, &estimate);
    driver.screenshot("portal-estimate-approved-360");
    click(&driver, "form[action$='/sign-out'] button");
    driver.wait_for(
        "the sign-in page again",
        "return document.body.innerText.includes('Email me a sign-in link');",
    );
    let (status, decision) = call(
        "GET",
        &format!(
            "{}/quotes/demo-quote/decision",
            demo["api_base"].as_str().unwrap()
        ),
        demo["api_key"].as_str().unwrap(),
        None,
        None,
    );
    assert_eq!(status, 200, "the host reads the decision");
    assert_eq!(decision["decision"], "approved");
}

/// Opens `url`, waits until `ready` (a script answering `true`), then checks the page as
/// [`check_portal_page`] does under `name`.
fn visit(driver: &Driver, axe: Option<&String>, url: &str, name: &str, ready: &str) {
    driver.open(url);
    driver.wait_for(name, ready);
    check_portal_page(driver, axe, name);
}

/// Draws a stroke across the canvas matching `selector` with `WebDriver` pointer actions, as a
/// mouse would.
fn draw(driver: &Driver, selector: &str) {
    driver.script(&format!(
        "document.querySelector({selector:?}).scrollIntoView({{ block: 'center' }}); return true;"
    ));
    let found = driver.post(
        "/element",
        &json!({ "using": "css selector", "value": selector }),
    );
    let element = found
        .as_object()
        .and_then(|o| o.values().next())
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no {selector}: {found}"))
        .to_owned();
    let origin = json!({ "element-6066-11e4-a52e-4f735466cecf": element });
    let mut steps = vec![
        json!({ "type": "pointerMove", "duration": 0, "origin": origin, "x": -120, "y": 10 }),
        json!({ "type": "pointerDown", "button": 0 }),
    ];
    for (x, y) in [(30, -25), (30, 30), (30, -30), (30, 25), (40, -10), (40, 5)] {
        steps.push(
            json!({ "type": "pointerMove", "duration": 50, "origin": "pointer", "x": x, "y": y }),
        );
    }
    steps.push(json!({ "type": "pointerUp", "button": 0 }));
    driver.post(
        "/actions",
        &json!({ "actions": [{ "type": "pointer", "id": "mouse",
            "parameters": { "pointerType": "mouse" }, "actions": steps }] }),
    );
}

#[test]
// Reason: one client's walk through every new section reads best whole.
#[allow(clippy::too_many_lines)]
fn c7_i4_sign_write_and_request_in_the_portal_in_a_real_browser_and_the_host_hears_each_once() {
    let Some(driver) = Driver::start() else {
        return;
    };
    let Some(receiver) = portico_testkit::hooks::HookReceiver::for_test() else {
        return;
    };
    let axe = axe_source();
    // The host's webhook receiver runs on 127.0.0.1 over plain http.
    let server = Server::start_with(
        None,
        &[
            ("PORTICO_WEBHOOK_ALLOW_PRIVATE", "on".to_owned()),
            ("PORTICO_WEBHOOK_ALLOW_HTTP", "on".to_owned()),
        ],
    );
    let demo = server.demo();
    let portal = demo["portal_url"].as_str().unwrap().to_owned();
    let (api, key) = (
        demo["api_base"].as_str().unwrap().to_owned(),
        demo["api_key"].as_str().unwrap().to_owned(),
    );
    let hook = crate::webhooks::register(
        &server,
        &key,
        &receiver.url("portico"),
        &portico_core::model::WEBHOOK_EVENT_TYPES,
    );
    receiver.control(hook["secret"].as_str().unwrap(), 204);
    let invite = fresh_link(&server, &portal, &[]);
    driver.size(360, 740);
    driver.open(&invite);
    click(&driver, "form[action$='/link'] button");
    driver.wait_for(
        "the welcome page",
        "return document.body.innerText.includes('Set a password');",
    );

    // The sections the demo seeds, each at both sizes.
    visit(
        &driver,
        axe.as_ref(),
        &format!("{portal}/agreements"),
        "agreements",
        "return document.body.innerText.includes('Home electrical safety plan');",
    );
    visit(
        &driver,
        axe.as_ref(),
        &format!("{portal}/appointments"),
        "appointments",
        "return document.body.innerText.includes('Quarterly safety inspection');",
    );
    visit(
        &driver,
        axe.as_ref(),
        &format!("{portal}/r/jobs/demo-wo"),
        "job-gallery",
        "return !!document.querySelector('.gallery img');",
    );

    // A contract, signed with a drawing made by pointer actions.
    visit(
        &driver,
        axe.as_ref(),
        &format!("{portal}/contracts"),
        "contracts",
        "return document.body.innerText.includes('Safety plan agreement');",
    );
    visit(
        &driver,
        axe.as_ref(),
        &format!("{portal}/contracts/demo-terms"),
        "contract-to-sign",
        "return !document.querySelector('[data-signature-pad]').hidden;",
    );
    driver.size(360, 740);
    draw(&driver, "[data-signature-pad] canvas");
    let inked = driver.script(
        "const c = document.querySelector('[data-signature-pad] canvas');
         const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
         for (let i = 3; i < d.length; i += 4) { if (d[i] > 0) return true; }
         return false;",
    );
    assert_eq!(inked, json!(true), "the pointer drew on the canvas");
    fill(&driver, "#sign-name", "Jordan Lee");
    driver.script("document.querySelector('#sign-confirm').checked = true; return true;");
    click(&driver, "form[data-signature-form] button[type=submit]");
    driver.wait_for(
        "the signed copy",
        "const i = document.querySelector('img.signature'); return !!i && i.complete && i.naturalWidth > 0;",
    );
    let audit = driver.script("return document.querySelector('.audit').innerText;");
    assert!(
        audit.as_str().unwrap().contains("Signed by Jordan Lee"),
        "{audit}"
    );
    check_portal_page(&driver, axe.as_ref(), "contract-signed");
    let (status, read) = call(
        "GET",
        &format!("{api}/contracts/demo-terms"),
        &key,
        None,
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(read["versions"][0]["signature"]["drawn"], true);
    let drawing = agent()
        .get(format!("{api}/contracts/demo-terms/versions/1/signature"))
        .header("Authorization", format!("Bearer {key}"))
        .call()
        .unwrap();
    assert_eq!(drawing.status().as_u16(), 200, "the host reads the drawing");
    assert_eq!(drawing.headers().get("content-type").unwrap(), "image/png");

    // A message, and the staff answer posted through the API arriving in the thread.
    visit(
        &driver,
        axe.as_ref(),
        &format!("{portal}/messages"),
        "messages",
        "return !!document.querySelector('#new-body');",
    );
    fill(
        &driver,
        "#new-body",
        "Can you also look at the porch light?",
    );
    click(&driver, "form[action$='/messages'] button");
    driver.wait_for(
        "the general thread",
        "return document.body.innerText.includes('Can you also look at the porch light?');",
    );
    let (status, _) = call(
        "POST",
        &format!("{api}/clients/demo-client/messages"),
        &key,
        Some("demo-owner"),
        Some(&json!({ "body": "Yes, Sam will check it on Tuesday." })),
    );
    assert_eq!(status, 200);
    visit(
        &driver,
        axe.as_ref(),
        &format!("{portal}/messages/general"),
        "thread",
        "return document.body.innerText.includes('Yes, Sam will check it on Tuesday.');",
    );

    // A service request with the details on file already filled in.
    visit(
        &driver,
        axe.as_ref(),
        &format!("{portal}/request"),
        "request",
        "return document.querySelector('#rq-name').value === 'Jordan Lee'
            && document.querySelector('#rq-address').value.includes('12 Elm Street');",
    );
    fill(&driver, "#rq-description", "The porch light flickers.");
    click(&driver, "form[action$='/request'] button");
    driver.wait_for(
        "the sent page",
        "return document.body.innerText.includes('Request sent');",
    );
    driver.screenshot("portal-request-sent-360");
    let (status, requests) = call(
        "GET",
        &format!("{api}/service-requests?state=new"),
        &key,
        None,
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(requests[0]["description"], "The porch light flickers.");
    assert_eq!(requests[0]["name"], "Jordan Lee");

    // The host heard of each, once, verified with the Standard Webhooks library; and of the
    // work order's link opened for the first time (twice opened).
    let job = demo["work_order_share_url"].as_str().unwrap();
    for _ in 0..2 {
        assert_eq!(agent().get(job).call().unwrap().status().as_u16(), 200);
    }
    let expected = [
        "contract.signed",
        "link.first_opened",
        "message.received",
        "portal.first_sign_in",
        "service_request.created",
    ];
    let heard = receiver.wait_for(std::time::Duration::from_secs(20), |r| {
        expected.iter().all(|t| r.iter().any(|e| e["type"] == *t))
    });
    let mut types: Vec<&str> = heard.iter().filter_map(|e| e["type"].as_str()).collect();
    types.sort_unstable();
    assert_eq!(types, expected, "each once: {heard:?}");
    assert!(heard.iter().all(|e| e["verified"] == true), "{heard:?}");
}

/// The serious and critical axe-core violations of the open page outside `exclude` (content
/// the page does not own, such as the payment provider's card element).
fn axe_violations_outside(driver: &Driver, axe: &str, exclude: &str) -> Vec<String> {
    driver.script(&format!("{axe}\nreturn true;"));
    let found = driver.script_async(&format!(
        "const done = arguments[arguments.length - 1];
         axe.run({{ exclude: [[{exclude:?}]] }}, {{ resultTypes: ['violations'] }}).then((r) => done(r.violations
           .filter((v) => v.impact === 'serious' || v.impact === 'critical')
           .map((v) => v.impact + ' ' + v.id + ': ' + v.help + ' at ' + v.nodes.map((n) => n.target.join(' ')).join(', '))
         )).catch((e) => done(['axe failed: ' + e]));"
    ));
    found
        .as_array()
        .unwrap_or_else(|| panic!("{found}"))
        .iter()
        .map(|v| v.as_str().unwrap_or_default().to_owned())
        .collect()
}

/// I5 in a real browser: the invoice link, Pay now, the test card typed into the payment
/// page's card element (localstripe's Stripe.js stand-in), Pay, back to the invoice, which
/// turns to Paid by itself once Stripe's signed webhook arrives (live status).
#[test]
fn i5_pay_now_with_a_test_card_in_a_real_browser() {
    let Some(stripe) = portico_testkit::stripe::LocalStripe::for_test() else {
        return;
    };
    let Some(driver) = Driver::start() else {
        return;
    };
    let axe = axe_source();
    let (server, demo) = crate::payments::paying_server(&stripe);
    let invoice = demo["invoice_share_url"].as_str().unwrap();
    driver.size(360, 740);
    driver.open(invoice);
    driver.wait_for(
        "Pay now on the invoice",
        "return !!document.querySelector('a.pay-now');",
    );
    driver.screenshot("pay-invoice-due-360");
    click(&driver, "a.pay-now");
    driver.wait_for(
        "the card element",
        "return !!document.querySelector('#card-element input') && !document.querySelector('#pay-card').disabled;",
    );
    for (width, height) in [(360, 740), (1280, 800)] {
        driver.size(width, height);
        let overflow = driver.script(
            "return Math.max(document.documentElement.scrollWidth, document.body.scrollWidth) - window.innerWidth;",
        );
        assert!(
            overflow.as_i64().unwrap() <= 0,
            "the payment page overflows at {width}px"
        );
        if let Some(axe) = &axe {
            let violations = axe_violations_outside(&driver, axe, "#card-element");
            assert!(
                violations.is_empty(),
                "the payment page at {width}px has accessibility violations:\n{}",
                violations.join("\n")
            );
        }
    }
    driver.size(360, 740);
    fill(&driver, "#pay-name", "Jordan Lee");
    let typed = driver.script(
        "const values = { number: '4242424242424242', exp_month: '12', exp_year: '34', cvc: '123', postal_code: '10001' };
         let n = 0;
         document.querySelectorAll('#card-element input').forEach((input) => {
           const v = values[input.getAttribute('placeholder')];
           if (v !== undefined) { input.value = v; input.dispatchEvent(new Event('input', { bubbles: true })); n += 1; }
         });
         return n;",
    );
    assert_eq!(typed, json!(5), "the card element's five fields");
    driver.screenshot("pay-card-360");
    click(&driver, "#pay-card");
    driver.wait_for(
        "the way back to the invoice",
        "return location.search.includes('payment=sent');",
    );
    driver.wait_for(
        "the invoice to turn to Paid by itself",
        "const b = document.querySelector('.badge'); return !!b && b.getAttribute('data-status') === 'paid' && !document.querySelector('a.pay-now');",
    );
    assert!(
        driver
            .script("return document.body.innerText.includes('your payment arrived');")
            .as_bool()
            .unwrap_or(false),
        "the thanks once it is paid"
    );
    driver.script("window.scrollTo(0, 0); return true;");
    driver.screenshot("pay-invoice-paid-360");
    let key = demo["api_key"].as_str().unwrap();
    let listed = crate::payments::wait_for_payment(&server, key, "succeeded");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["state"], "succeeded");
}
