//! I4 through the real binary: webhooks posted to a host's receiver that verifies each one
//! with the Standard Webhooks reference library; a receiver down for a while gets each event
//! once when it is back, under the `webhook-id` the API lists; 410 disables the endpoint (dead
//! and disabled counted in `/metrics`); and
//! with the allow settings off, endpoints on addresses that are not public are refused.

use std::time::Duration;

use portico_testkit::hooks::HookReceiver;
use serde_json::{Value, json};

use crate::payments::attribute;
use crate::support::{Server, agent, call};

/// `portico serve` that may post to the receiver on 127.0.0.1 over plain http, retrying after a
/// second.
fn hooked_server() -> Server {
    Server::start_with(
        None,
        &[
            ("PORTICO_WEBHOOK_ALLOW_PRIVATE", "on".to_owned()),
            ("PORTICO_WEBHOOK_ALLOW_HTTP", "on".to_owned()),
            ("PORTICO_WEBHOOK_RETRY_SECONDS", "1".to_owned()),
            ("PORTICO_WEBHOOK_TIMEOUT_SECONDS", "2".to_owned()),
        ],
    )
}

/// Registers `url` for `events`; the endpoint as answered (with its secret).
pub fn register(server: &Server, key: &str, url: &str, events: &[&str]) -> Value {
    let (status, made) = call(
        "POST",
        &format!("{}/v1/webhooks", server.base),
        key,
        Some("demo-owner"),
        Some(&json!({ "url": url, "events": events })),
    );
    assert_eq!(status, 200, "{made}");
    made
}

fn deliveries(server: &Server, key: &str) -> Vec<Value> {
    let (status, listed) = call(
        "GET",
        &format!("{}/v1/webhooks/deliveries", server.base),
        key,
        None,
        None,
    );
    assert_eq!(status, 200, "{listed}");
    listed.as_array().unwrap().clone()
}

/// Approves the demo quote on its share page, as the client's browser would.
fn approve_the_demo_quote(server: &Server, demo: &Value) {
    let url = demo["quote_share_url"].as_str().unwrap();
    let mut resp = agent().get(url).call().unwrap();
    let page = resp.body_mut().read_to_string().unwrap();
    let csrf = attribute(&page, "name=\"csrf\" value");
    let no_redirects: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let resp = no_redirects
        .post(format!("{url}/decision"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Origin", &server.base)
        .send(format!("decision=approve&message=&csrf={csrf}"))
        .unwrap();
    assert_eq!(resp.status().as_u16(), 303, "the decision is taken");
}

/// The receiver answers 410 Gone to a test event: the endpoint is disabled with the reason,
/// the delivery is dead, and `/metrics` counts both.
fn gone_disables_the_endpoint(server: &Server, key: &str, receiver: &HookReceiver, made: &Value) {
    let id = made["id"].as_str().unwrap();
    receiver.control(made["secret"].as_str().unwrap(), 410);
    let (status, _) = call(
        "POST",
        &format!("{}/v1/webhooks/{id}/test", server.base),
        key,
        Some("demo-owner"),
        None,
    );
    assert_eq!(status, 200);
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let (_, endpoints) = call(
            "GET",
            &format!("{}/v1/webhooks", server.base),
            key,
            None,
            None,
        );
        if endpoints[0]["enabled"] == false {
            assert!(
                endpoints[0]["disabled_reason"]
                    .as_str()
                    .is_some_and(|r| r.contains("410")),
                "{endpoints}"
            );
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{endpoints}");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        deliveries(server, key)
            .iter()
            .any(|d| d["state"] == "dead" && d["type"] == "webhook.test"),
        "the 410'd delivery is dead"
    );
    // The operator sees it too.
    let metrics = crate::support::metrics_text(server);
    for line in [
        "portico_webhooks_dead 1",
        "portico_webhooks_pending 0",
        "portico_webhooks_delivered_total 2",
        "portico_webhook_endpoints_disabled_total 1",
    ] {
        assert!(metrics.contains(line), "{line} missing: {metrics}");
    }
}

#[test]
fn i4_a_receiver_verifies_every_delivery_and_one_down_for_a_while_gets_each_once_when_back() {
    let Some(mut receiver) = HookReceiver::for_test() else {
        return;
    };
    let server = hooked_server();
    let demo = server.demo();
    let key = demo["api_key"].as_str().unwrap();
    let made = register(&server, key, &receiver.url("hooks"), &["quote.decided"]);
    receiver.control(made["secret"].as_str().unwrap(), 204);
    let id = made["id"].as_str().unwrap();

    // A test event arrives, verified by the reference library.
    let (status, queued) = call(
        "POST",
        &format!("{}/v1/webhooks/{id}/test", server.base),
        key,
        Some("demo-owner"),
        None,
    );
    assert_eq!(status, 200, "{queued}");
    let got = receiver.wait_for(Duration::from_secs(15), |r| !r.is_empty());
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["verified"], true, "{got:?}");
    assert_eq!(got[0]["type"], "webhook.test");
    assert_eq!(got[0]["id"], queued["delivery_id"]);

    // The receiver goes down; the client approves the quote meanwhile.
    receiver.stop();
    approve_the_demo_quote(&server, &demo);
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let waiting = loop {
        let listed = deliveries(&server, key);
        let quote = listed
            .iter()
            .find(|d| d["type"] == "quote.decided")
            .cloned();
        if let Some(d) = quote.filter(|d| d["attempts"].as_u64() >= Some(2)) {
            break d;
        }
        assert!(std::time::Instant::now() < deadline, "{listed:?}");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(waiting["state"], "pending", "{waiting}");
    assert!(
        waiting["reason"].as_str().is_some_and(|r| !r.is_empty()),
        "why it waits: {waiting}"
    );

    // Back: delivered once, under the id the API lists, verified.
    receiver.resume().unwrap();
    let got = receiver.wait_for(Duration::from_secs(20), |r| {
        r.iter().any(|e| e["type"] == "quote.decided")
    });
    std::thread::sleep(Duration::from_secs(3));
    let got_later = receiver.received();
    let decided: Vec<&Value> = got_later
        .iter()
        .filter(|e| e["type"] == "quote.decided")
        .collect();
    assert_eq!(decided.len(), 1, "once: {got:?}");
    assert_eq!(decided[0]["verified"], true);
    assert_eq!(decided[0]["id"], waiting["id"], "the same webhook-id");
    assert_eq!(decided[0]["data"]["quote_id"], "demo-quote");
    assert_eq!(decided[0]["data"]["decision"], "approved");
    let listed = deliveries(&server, key);
    let settled = listed.iter().find(|d| d["id"] == waiting["id"]).unwrap();
    assert_eq!(settled["state"], "delivered", "{settled}");

    gone_disables_the_endpoint(&server, key, &receiver, &made);
    let (ok, log) = server.stop();
    assert!(ok, "{log}");
}

#[test]
fn i4_with_the_allow_settings_off_endpoints_that_are_not_public_https_are_refused() {
    let server = Server::start(None);
    let demo = server.demo();
    let key = demo["api_key"].as_str().unwrap();
    for url in [
        "https://127.0.0.1/hooks",
        "https://10.0.0.1/hooks",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hooks",
        "https://localhost/hooks",
        "http://hooks.example/hooks",
    ] {
        let (status, refused) = call(
            "POST",
            &format!("{}/v1/webhooks", server.base),
            key,
            Some("demo-owner"),
            Some(&json!({ "url": url, "events": ["invoice.paid"] })),
        );
        assert_eq!(status, 400, "{url}: {refused}");
        assert_eq!(refused["code"], "invalid_endpoint", "{url}: {refused}");
    }
    let (_, listed) = call(
        "GET",
        &format!("{}/v1/webhooks", server.base),
        key,
        None,
        None,
    );
    assert_eq!(listed, json!([]), "nothing stored");
    let (ok, log) = server.stop();
    assert!(ok, "{log}");
}

#[test]
fn i4_an_endpoint_that_never_answers_holds_up_no_other_host() {
    let Some(receiver) = HookReceiver::for_test() else {
        return;
    };
    // Accepts connections and never answers.
    let hole = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let hole_url = format!("http://{}/hooks", hole.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for socket in hole.incoming() {
            held.push(socket);
        }
    });
    let server = hooked_server();
    let demo = server.demo();
    let key = demo["api_key"].as_str().unwrap();
    let silent = register(&server, key, &hole_url, &["quote.decided"]);
    let good = register(&server, key, &receiver.url("hooks"), &["quote.decided"]);
    receiver.control(good["secret"].as_str().unwrap(), 204);
    let test = |id: &Value| {
        let (status, queued) = call(
            "POST",
            &format!("{}/v1/webhooks/{}/test", server.base, id.as_str().unwrap()),
            key,
            Some("demo-owner"),
            None,
        );
        assert_eq!(status, 200, "{queued}");
        queued["delivery_id"].clone()
    };
    for _ in 0..30 {
        test(&silent["id"]);
    }
    let started = std::time::Instant::now();
    let wanted = test(&good["id"]);
    let got = receiver.wait_for(Duration::from_secs(20), |r| {
        r.iter().any(|e| e["id"] == wanted)
    });
    let took = started.elapsed();
    assert!(got.iter().any(|e| e["id"] == wanted), "{got:?}");
    // Posts time out after 2 s: a round or two's worth, not thirty posts in a row (60 s).
    assert!(
        took < Duration::from_secs(15),
        "the good host waited {took:?}"
    );
    let pending: Vec<Value> = deliveries(&server, key)
        .into_iter()
        .filter(|d| d["state"] == "pending")
        .collect();
    assert_eq!(pending.len(), 30, "{pending:?}");
    let (ok, log) = server.stop();
    assert!(ok, "{log}");
}
