//! I4 over HTTP: the host registers, lists, tests and deletes its webhook endpoints (the secret
//! shown once), reads the deliveries' log, and a client's act on a share page reaches the
//! endpoint signed under one `webhook-id`.

use std::sync::Arc;

use poem::{Endpoint, Response};
use portico_core::model::WebhookValue;
use portico_core::service::WebhookConfig;
use portico_core::testing::FakeWebhooks;
use serde_json::{Value, json};

use crate::support::{Harness, assert_error, body, harness, harness_hooked};

async fn register<E: Endpoint<Output = Response>>(h: &Harness<E>, events: &[&str]) -> Value {
    let resp = h
        .post(
            "/v1/webhooks",
            &json!({ "url": "https://hooks.host.example/portico", "events": events }),
            "owner",
        )
        .await;
    resp.assert_status_is_ok();
    body(resp).await
}

async fn deliver<E: Endpoint<Output = Response>>(h: &Harness<E>, sender: &FakeWebhooks) {
    h.portico
        .deliver_webhooks_once(&h.store, sender, &WebhookConfig::default())
        .await
        .unwrap();
}

#[tokio::test]
async fn i4_an_endpoint_is_registered_with_its_secret_shown_once_then_listed_tested_and_deleted() {
    let sender = Arc::new(FakeWebhooks::default());
    let h = harness_hooked(sender.clone()).await;
    let made = register(&h, &["invoice.paid", "quote.decided", "invoice.paid"]).await;
    let secret = made["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"), "{made}");
    assert_eq!(made["events"], json!(["quote.decided", "invoice.paid"]));
    assert_eq!(made["enabled"], true);
    let id = made["id"].as_str().unwrap().to_owned();

    let listed = body(h.get("/v1/webhooks").await).await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["id"], id.as_str());
    assert!(
        !listed.to_string().contains(secret) && listed[0].get("secret").is_none(),
        "the secret is never shown again: {listed}"
    );

    let queued = h
        .post(&format!("/v1/webhooks/{id}/test"), &json!({}), "admin")
        .await;
    queued.assert_status_is_ok();
    let delivery = body(queued).await["delivery_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(delivery.starts_with("msg_"));
    let log = body(h.get("/v1/webhooks/deliveries?state=pending").await).await;
    assert_eq!(log[0]["id"], delivery.as_str());
    assert_eq!(log[0]["type"], "webhook.test");

    deliver(&h, &sender).await;
    let sent = sender.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].id, delivery);
    assert_eq!(sent[0].url, "https://hooks.host.example/portico");
    assert_eq!(
        portico_core::policy::webhooks::secret_of(&sent[0].key),
        secret,
        "signed with the secret the host was shown"
    );
    let log = body(h.get("/v1/webhooks/deliveries").await).await;
    assert_eq!(log[0]["state"], "delivered", "{log}");
    assert_eq!(log[0]["attempts"], 1);

    h.client
        .delete(format!("/v1/webhooks/{id}"))
        .header("Authorization", format!("Bearer {}", h.key))
        .header("X-Portico-Staff", "owner")
        .send()
        .await
        .assert_status_is_ok();
    assert_eq!(body(h.get("/v1/webhooks").await).await, json!([]));
    let again = h
        .client
        .delete(format!("/v1/webhooks/{id}"))
        .header("Authorization", format!("Bearer {}", h.key))
        .header("X-Portico-Staff", "owner")
        .send()
        .await;
    assert_error(again, 404, "not_found").await;
}

#[tokio::test]
async fn i4_bad_urls_unknown_events_other_roles_and_unknown_ids_are_refused_and_nothing_is_stored()
{
    let sender = Arc::new(FakeWebhooks::default());
    let h = harness_hooked(sender).await;
    for (url, events) in [
        ("http://hooks.host.example/in", json!(["invoice.paid"])),
        ("https://localhost/in", json!(["invoice.paid"])),
        ("https://10.0.0.1/in", json!(["invoice.paid"])),
        ("https://hooks.host.example/in", json!(["invoice.refunded"])),
        ("https://hooks.host.example/in", json!([])),
    ] {
        let resp = h
            .post(
                "/v1/webhooks",
                &json!({ "url": url, "events": events }),
                "owner",
            )
            .await;
        assert_error(resp, 400, "invalid_endpoint").await;
    }
    let resp = h
        .post(
            "/v1/webhooks",
            &json!({ "url": "https://hooks.host.example/in", "events": ["invoice.paid"] }),
            "technician",
        )
        .await;
    assert_error(resp, 403, "not_permitted").await;
    let resp = h
        .post(
            "/v1/webhooks",
            &json!({ "url": "https://hooks.host.example/in", "events": ["invoice.paid"] }),
            "nobody",
        )
        .await;
    assert_error(resp, 403, "unknown_staff").await;
    let resp = h
        .post(
            "/v1/webhooks",
            &json!({ "url": 7, "events": "invoice.paid" }),
            "owner",
        )
        .await;
    assert_eq!(resp.0.status().as_u16(), 400);
    assert_eq!(body(h.get("/v1/webhooks").await).await, json!([]));

    for path in [
        "/v1/webhooks/not-a-uuid/test",
        "/v1/webhooks/00000000-0000-0000-0000-000000000000/test",
    ] {
        let resp = h.post(path, &json!({}), "owner").await;
        assert_error(resp, 404, "not_found").await;
    }
    let resp = h.get("/v1/webhooks/deliveries?state=lost").await;
    assert_eq!(resp.0.status().as_u16(), 400);
    let resp = h
        .client
        .get("/v1/webhooks")
        .header("Authorization", "Bearer pk_wrong")
        .send()
        .await;
    assert_error(resp, 401, "unauthorized").await;
}

#[tokio::test]
async fn i4_a_server_without_a_sender_says_webhooks_are_off() {
    let h = harness().await;
    let resp = h
        .post(
            "/v1/webhooks",
            &json!({ "url": "https://hooks.host.example/in", "events": ["invoice.paid"] }),
            "owner",
        )
        .await;
    assert_error(resp, 409, "webhooks_disabled").await;
}

#[tokio::test]
async fn i4_a_quote_decided_on_its_page_reaches_the_endpoint_once_with_its_fields() {
    let sender = Arc::new(FakeWebhooks::default());
    let h = harness_hooked(sender.clone()).await;
    register(&h, &["quote.decided"]).await;
    let quote = json!({
        "client_id": "c1", "number": "Q-1001", "title": "Panel upgrade", "status": "sent",
        "items": [{ "description": "Panel", "quantity": "1", "unit_price": "1200.00" }]
    });
    h.put("/v1/quotes/q1", &quote, "owner")
        .await
        .assert_status_is_ok();
    let share = body(
        h.post("/v1/records/quote/q1/share", &json!({}), "owner")
            .await,
    )
    .await;
    let token = share["link"].as_str().unwrap().rsplit('/').next().unwrap();
    h.portico
        .decide_quote(token, &portico_core::policy::quote::ClientDecision::Approve)
        .await
        .unwrap();
    deliver(&h, &sender).await;
    deliver(&h, &sender).await;
    let sent = sender.sent();
    assert_eq!(sent.len(), 1, "delivered once");
    assert_eq!(sent[0].event.event_type, "quote.decided");
    let field = |name: &str| {
        sent[0]
            .event
            .data
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(field("quote_id"), Some(WebhookValue::Text("q1".into())));
    assert_eq!(
        field("decision"),
        Some(WebhookValue::Text("approved".into()))
    );
}

#[tokio::test]
async fn i4_s11_a_link_opened_three_times_is_reported_once_as_first_opened() {
    let sender = Arc::new(FakeWebhooks::default());
    let h = harness_hooked(sender.clone()).await;
    register(&h, &["link.first_opened"]).await;
    let work_order =
        json!({ "client_id": "c1", "title": "Rewire the kitchen", "status": "scheduled" });
    h.put("/v1/work-orders/wo1", &work_order, "owner")
        .await
        .assert_status_is_ok();
    let share = body(
        h.post("/v1/records/work_order/wo1/share", &json!({}), "owner")
            .await,
    )
    .await;
    let link = share["link"].as_str().unwrap();
    let path = &link[link.find("/s/").unwrap()..];
    for _ in 0..3 {
        h.client.get(path).send().await.assert_status_is_ok();
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    }
    let mut log = Value::Null;
    for _ in 0..100 {
        log = body(h.get("/v1/webhooks/deliveries").await).await;
        if log.as_array().is_some_and(|l| !l.is_empty()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    deliver(&h, &sender).await;
    let sent = sender.sent();
    assert_eq!(sent.len(), 1, "{log}");
    assert_eq!(sent[0].event.event_type, "link.first_opened");
    assert!(
        sent[0].event.data.contains(&(
            "share_id".to_owned(),
            WebhookValue::Text(share["id"].as_str().unwrap().to_owned())
        )),
        "{:?}",
        sent[0].event
    );
    let events = body(h.get("/v1/events").await).await;
    assert_eq!(events["events"][0]["type"], "link.first_opened");
    assert_eq!(events["events"][0]["record_kind"], "work_order");
    assert_eq!(events["events"][0]["record_id"], "wo1");
    assert_eq!(events["events"].as_array().unwrap().len(), 1, "once");
}
