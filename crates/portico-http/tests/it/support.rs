//! An app over the in-memory fakes, with an org, staff of every role, a client and an API key
//! created through the API itself.

use std::sync::Arc;

use poem::test::{TestClient, TestResponse};
use poem::{Endpoint, Response};
use portico_core::testing::fixtures::T0;
use portico_core::testing::{
    CountingStore, ManualClock, MemoryBlobs, MemoryStore, SeededRandomness,
};
use portico_core::token::{KeyId, TokenKeys};
use portico_core::{Portico, Ports, ServiceConfig};
use portico_http::HttpConfig;
use serde_json::{Value, json};

pub const ADMIN: &str = "admin-token-for-tests";

pub struct Harness<E> {
    pub client: TestClient<E>,
    pub portico: Portico,
    pub key: String,
    pub store: MemoryStore,
    pub clock: Arc<ManualClock>,
    /// Counts the units of work the service opens (to measure work, not time).
    pub counting: CountingStore,
}

pub fn portico() -> Portico {
    parts().0
}

/// A service over fresh fakes, with handles on its store, clock, blobs and unit counter.
pub fn parts() -> (
    Portico,
    MemoryStore,
    Arc<ManualClock>,
    Arc<MemoryBlobs>,
    CountingStore,
) {
    let store = MemoryStore::new();
    let counting = CountingStore::new(store.clone());
    let clock = Arc::new(ManualClock::new(T0));
    let blobs = Arc::new(MemoryBlobs::default());
    let ports = Ports {
        store: Arc::new(counting.clone()),
        clock: clock.clone(),
        random: Arc::new(SeededRandomness::new(11)),
        blobs: blobs.clone(),
        links: Arc::new(portico_http::PageLinks::new(
            portico_http::PublicUrl::parse("https://share.example").unwrap(),
        )),
    };
    let keys = TokenKeys::new(KeyId(1), &[3; 32]).unwrap();
    let config = ServiceConfig::default();
    let portico = Portico::new(ports, keys, config)
        .with_outbox(Arc::new(store.clone()))
        .with_passwords(Arc::new(portico_core::testing::TestPasswords::default()));
    (portico, store, clock, blobs, counting)
}

pub fn config() -> HttpConfig {
    HttpConfig {
        admin_token: Some(ADMIN.into()),
        max_body_bytes: 64 * 1024,
        max_file_bytes: 256 * 1024,
        public_url: portico_http::PublicUrl::parse("https://api.example").unwrap(),
        pages: portico_http::PagesConfig::default(),
        metrics_token: None,
        limits: portico_http::ConnectionLimits::default(),
        payments: None,
    }
}

pub fn work_order() -> Value {
    json!({
        "client_id": "c1",
        "title": "Rewire kitchen",
        "status": "scheduled",
        "description": "Replace the kitchen circuit.",
        "schedule": { "start": "2026-03-03T08:00:00Z", "technician": "technician" },
        "tasks": [{ "id": "t1", "title": "Isolate circuit" }, { "id": "t2", "title": "Check stock", "internal": true }],
        "files": [{ "id": "f1", "name": "before.jpg", "content_type": "image/jpeg", "shared": true }],
        "parts": [{ "name": "Socket", "quantity": "2", "unit_cost": "4.50" }],
        "updates": [{ "id": "u1", "posted_at": "2026-03-02T09:00:00Z", "body": "On our way", "shared": true }],
        "internal_notes": "Gate code 4411",
        "time_entries": [{ "staff": "technician", "minutes": 90, "hourly_rate": "85.00" }],
        "costs": [{ "description": "Cable", "amount": "32.10" }]
    })
}

pub async fn harness() -> Harness<impl Endpoint<Output = Response>> {
    harness_with(config()).await
}

pub async fn harness_with(config: HttpConfig) -> Harness<impl Endpoint<Output = Response>> {
    harness_over(parts(), config).await
}

/// The signing secret of the Stripe webhooks in tests.
pub const STRIPE_WEBHOOK_SECRET: &str = "whsec_test_portico_secret";

/// A harness that takes payments through `payments`, with Stripe's webhook checker.
pub async fn harness_paying(
    payments: Arc<portico_core::testing::FakePayments>,
) -> Harness<impl Endpoint<Output = Response>> {
    let (portico, store, clock, blobs, counting) = parts();
    let portico = portico.with_payments(payments);
    let config = HttpConfig {
        payments: Some(portico_http::PaymentsConfig {
            script_url: "https://js.stripe.com/v3/".parse().unwrap(),
            publishable_key: "pk_test_portico".into(),
            webhooks: Arc::new(portico_stripe::StripeWebhooks::new(
                STRIPE_WEBHOOK_SECRET.into(),
            )),
        }),
        ..config()
    };
    harness_over((portico, store, clock, blobs, counting), config).await
}

/// A harness whose service sends webhooks through `sender` (I4).
pub async fn harness_hooked(
    sender: Arc<portico_core::testing::FakeWebhooks>,
) -> Harness<impl Endpoint<Output = Response>> {
    let mut config = config();
    // Link openings are written at once, so their events follow the request closely.
    config.pages.opens_flush_every = std::time::Duration::from_millis(20);
    let (portico, store, clock, blobs, counting) = parts();
    let portico = portico.with_webhooks(sender);
    harness_over((portico, store, clock, blobs, counting), config).await
}

async fn harness_over(
    parts: (
        Portico,
        MemoryStore,
        Arc<ManualClock>,
        Arc<MemoryBlobs>,
        CountingStore,
    ),
    config: HttpConfig,
) -> Harness<impl Endpoint<Output = Response>> {
    let (portico, store, clock, _, counting) = parts;
    let client = TestClient::new(portico_http::app(portico.clone(), &config));
    let org = json!({ "name": "Bright Spark Electrical", "plan": "business", "contact_email": "office@brightspark.example" });
    client
        .put("/v1/admin/orgs/org1")
        .header("Authorization", format!("Bearer {ADMIN}"))
        .body_json(&org)
        .send()
        .await
        .assert_status_is_ok();
    let resp = client
        .post("/v1/admin/orgs/org1/api-keys")
        .header("Authorization", format!("Bearer {ADMIN}"))
        .body_json(&json!({"label": "host"}))
        .send()
        .await;
    resp.assert_status_is_ok();
    let key = resp
        .json()
        .await
        .value()
        .object()
        .get("key")
        .string()
        .to_owned();
    let h = Harness {
        client,
        portico,
        key,
        store,
        clock,
        counting,
    };
    for role in [
        "owner",
        "admin",
        "supervisor",
        "sole_trader",
        "technician",
        "apprentice",
    ] {
        h.put(
            &format!("/v1/staff/{role}"),
            &json!({ "name": format!("Sam {role}"), "role": role }),
            "owner",
        )
        .await
        .assert_status_is_ok();
    }
    let client_body = json!({ "name": "Jordan Lee", "email": "jordan@client.example", "address": "12 Elm Street" });
    h.put("/v1/clients/c1", &client_body, "owner")
        .await
        .assert_status_is_ok();
    h
}

impl<E: Endpoint<Output = Response>> Harness<E> {
    pub async fn put(&self, path: &str, body: &Value, staff: &str) -> TestResponse {
        self.client
            .put(path)
            .header("Authorization", format!("Bearer {}", self.key))
            .header("X-Portico-Staff", staff)
            .body_json(body)
            .send()
            .await
    }

    pub async fn post(&self, path: &str, body: &Value, staff: &str) -> TestResponse {
        self.client
            .post(path)
            .header("Authorization", format!("Bearer {}", self.key))
            .header("X-Portico-Staff", staff)
            .body_json(body)
            .send()
            .await
    }

    pub async fn patch(&self, path: &str, body: &Value, staff: &str) -> TestResponse {
        self.client
            .patch(path)
            .header("Authorization", format!("Bearer {}", self.key))
            .header("X-Portico-Staff", staff)
            .body_json(body)
            .send()
            .await
    }

    pub async fn get(&self, path: &str) -> TestResponse {
        self.client
            .get(path)
            .header("Authorization", format!("Bearer {}", self.key))
            .send()
            .await
    }
}

/// The body of a response as JSON.
pub async fn body(resp: TestResponse) -> Value {
    let text = resp.0.into_body().into_string().await.unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// Asserts an error answer: the status and the stable code, in the one error shape.
pub async fn assert_error(resp: TestResponse, status: u16, code: &str) -> Value {
    let actual = resp.0.status().as_u16();
    let value = body(resp).await;
    assert_eq!(actual, status, "status of {value}");
    assert_eq!(value["code"], code, "{value}");
    assert!(
        value["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{value}"
    );
    value
}
