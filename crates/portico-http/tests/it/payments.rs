//! I5 over HTTP: Pay now on an invoice's page, the payment page and its policy, the host's
//! payment routes, and Stripe's webhook checked before anything is applied.

use std::sync::Arc;

use hmac::{Hmac, Mac};
use poem::test::TestResponse;
use poem::{Endpoint, Response};
use portico_core::testing::FakePayments;
use portico_core::testing::fixtures::T0;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::support::{Harness, STRIPE_WEBHOOK_SECRET, assert_error, body, harness_paying};

fn invoice() -> Value {
    json!({
        "client_id": "c1", "number": "INV-2001", "title": "Kitchen rewire", "status": "issued",
        "items": [{ "description": "Labour (hours)", "quantity": "6", "unit_price": "95.00" }],
        "taxes": [{ "name": "Sales tax", "percent": "8.875" }],
        "amount_paid": "200.00", "due_date": "2026-03-31"
    })
}

/// A Stripe-shaped event from the fixtures, about `intent`.
fn fixture(name: &str, intent: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/stripe/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut event: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    if event["data"]["object"]["object"] == "payment_intent" {
        event["data"]["object"]["id"] = json!(intent);
    }
    serde_json::to_vec_pretty(&event).unwrap()
}

/// `Stripe-Signature` over `payload`, signed at `t` with `secret`, as Stripe signs.
fn signature(payload: &[u8], t: i64, secret: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.").as_bytes());
    mac.update(payload);
    let hex = mac
        .finalize()
        .into_bytes()
        .iter()
        .fold(String::new(), |mut out, b| {
            use std::fmt::Write as _;
            let _ = write!(out, "{b:02x}");
            out
        });
    format!("t={t},v1={hex}")
}

async fn deliver<E: Endpoint<Output = Response>>(
    h: &Harness<E>,
    payload: &[u8],
    signature: Option<&str>,
) -> TestResponse {
    let mut req = h
        .client
        .post("/webhooks/stripe")
        .content_type("application/json");
    if let Some(s) = signature {
        req = req.header("Stripe-Signature", s);
    }
    req.body(payload.to_vec()).send().await
}

async fn text(resp: TestResponse) -> (u16, String) {
    let status = resp.0.status().as_u16();
    (status, resp.0.into_body().into_string().await.unwrap())
}

/// An org with its Stripe account connected and invoice `inv1` shared; the share's path.
async fn paying<E: Endpoint<Output = Response>>(h: &Harness<E>) -> String {
    h.put("/v1/invoices/inv1", &invoice(), "owner")
        .await
        .assert_status_is_ok();
    h.put(
        "/v1/payments/account",
        &json!({ "stripe_account": "acct_1Plumbing" }),
        "owner",
    )
    .await
    .assert_status_is_ok();
    let share = body(
        h.post("/v1/records/invoice/inv1/share", &json!({}), "owner")
            .await,
    )
    .await;
    format!(
        "/s/{}",
        share["link"].as_str().unwrap().rsplit('/').next().unwrap()
    )
}

/// The invoice's amount paid as stored, and its payments as the host lists them.
async fn invoice_state<E: Endpoint<Output = Response>>(h: &Harness<E>) -> (String, Vec<Value>) {
    use portico_core::model::{Record, RecordKind, RecordRef};
    use portico_core::ports::Store as _;
    let mut tx = h.store.begin_read().await.unwrap();
    let reference = RecordRef {
        kind: RecordKind::Invoice,
        id: portico_core::model::RecordId::new("inv1").unwrap(),
    };
    let org = portico_core::model::OrgId::new("org1").unwrap();
    let Some(Record::Invoice(inv)) = tx.record(&org, &reference).await.unwrap().map(|r| r.value)
    else {
        panic!("no invoice");
    };
    drop(tx);
    let payments = body(h.get("/v1/invoices/inv1/payments").await).await;
    (
        inv.amount_paid.to_string(),
        payments.as_array().unwrap().clone(),
    )
}

#[tokio::test]
async fn i5_pay_now_opens_the_payment_page_for_the_amount_due_under_its_own_policy() {
    let payments = Arc::new(FakePayments::default());
    let h = harness_paying(payments.clone()).await;
    let path = paying(&h).await;
    let (status, page) = text(h.client.get(&path).send().await).await;
    assert_eq!(status, 200);
    assert!(page.contains(&format!("href=\"{path}/pay\"")), "{page}");
    assert!(
        page.contains("data-reload"),
        "the invoice page follows its status live"
    );

    let resp = h.client.get(format!("{path}/pay")).send().await;
    let policy = resp
        .0
        .headers()
        .get("content-security-policy")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let (status, pay) = text(resp).await;
    assert_eq!(status, 200);
    assert!(
        policy.contains("script-src 'self' https://js.stripe.com"),
        "{policy}"
    );
    assert!(policy.contains("frame-src https://js.stripe.com https://hooks.stripe.com"));
    assert!(policy.contains("connect-src 'self' https://api.stripe.com"));
    assert!(pay.contains("src=\"https://js.stripe.com/v3/\""));
    assert!(pay.contains("data-secret=\"pi_fake1_secret_1\""));
    assert!(pay.contains("data-account=\"acct_1Plumbing\""));
    assert!(pay.contains("data-key=\"pk_test_portico\""));
    assert!(
        pay.contains("$420.59"),
        "the amount due, never one the browser sent"
    );
    assert!(pay.contains("from a bank account"), "USD may pay by ACH");
    let request = &payments.requests()[0];
    assert_eq!(request.amount.amount.to_string(), "420.59");
    // The invoice page keeps the strict policy: no third-party script there.
    let resp = h.client.get(&path).send().await;
    assert_eq!(
        resp.0.headers().get("content-security-policy").unwrap(),
        portico_http::CONTENT_SECURITY_POLICY
    );
    // Opening it again reuses the open intent.
    h.client
        .get(format!("{path}/pay"))
        .send()
        .await
        .assert_status_is_ok();
    assert_eq!(payments.opened(), 1);
    let (_, listed) = invoice_state(&h).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["state"], "open");
    assert_eq!(listed[0]["amount"], "420.59");
}

#[tokio::test]
async fn i5_without_a_connected_account_the_invoice_says_how_else_to_pay() {
    let payments = Arc::new(FakePayments::default());
    let h = harness_paying(payments.clone()).await;
    let path = paying(&h).await;
    // Only an owner, admin or sole trader connects or disconnects; ids are checked.
    assert_error(
        h.put(
            "/v1/payments/account",
            &json!({ "stripe_account": "acct_2Other" }),
            "technician",
        )
        .await,
        403,
        "not_permitted",
    )
    .await;
    for bad in ["", "acct_", "sk_live_123", "acct_1/../x", "acct_1 2"] {
        assert_error(
            h.put(
                "/v1/payments/account",
                &json!({ "stripe_account": bad }),
                "owner",
            )
            .await,
            400,
            "validation",
        )
        .await;
    }
    let account = body(h.get("/v1/payments/account").await).await;
    assert_eq!(account["stripe_account"], "acct_1Plumbing");
    h.client
        .delete("/v1/payments/account")
        .header("Authorization", format!("Bearer {}", h.key))
        .header("X-Portico-Staff", "owner")
        .send()
        .await
        .assert_status_is_ok();
    let account = body(h.get("/v1/payments/account").await).await;
    assert!(account.get("stripe_account").is_none(), "{account}");

    let (_, page) = text(h.client.get(&path).send().await).await;
    assert!(!page.contains("/pay\""), "no Pay now without an account");
    assert!(page.contains("To pay this invoice, please contact Bright Spark Electrical"));
    assert!(page.contains("mailto:office@brightspark.example"));
    let (status, refused) = text(h.client.get(format!("{path}/pay")).send().await).await;
    assert_eq!(status, 409);
    assert!(refused.contains("does not take payments online"));
    assert_eq!(payments.opened(), 0);
}

#[tokio::test]
async fn i5_stripe_webhooks_are_checked_before_anything_is_applied_and_each_applies_once() {
    let payments = Arc::new(FakePayments::default());
    let h = harness_paying(payments.clone()).await;
    let path = paying(&h).await;
    h.client
        .get(format!("{path}/pay"))
        .send()
        .await
        .assert_status_is_ok();
    let now = T0.unix_timestamp();
    let succeeded = fixture("payment_intent.succeeded", "pi_fake1");
    let before = invoice_state(&h).await;

    let mut altered = succeeded.clone();
    let at = altered.iter().position(|b| *b == b'4').unwrap();
    altered[at] = b'9';
    let refusals: [(&str, Vec<u8>, Option<String>); 6] = [
        ("no signature", succeeded.clone(), None),
        (
            "another secret",
            succeeded.clone(),
            Some(signature(&succeeded, now, "whsec_not_the_secret")),
        ),
        (
            "older than five minutes",
            succeeded.clone(),
            Some(signature(&succeeded, now - 301, STRIPE_WEBHOOK_SECRET)),
        ),
        (
            "from the future",
            succeeded.clone(),
            Some(signature(&succeeded, now + 301, STRIPE_WEBHOOK_SECRET)),
        ),
        (
            "one byte altered",
            altered,
            Some(signature(&succeeded, now, STRIPE_WEBHOOK_SECRET)),
        ),
        (
            "malformed header",
            succeeded.clone(),
            Some("v1=abc,t=yesterday".into()),
        ),
    ];
    for (what, payload, sig) in refusals {
        let resp = deliver(&h, &payload, sig.as_deref()).await;
        assert_error(resp, 400, "bad_signature").await;
        assert_eq!(invoice_state(&h).await, before, "{what}: nothing changed");
    }

    // A genuine event of a type Portico does not act on: 2xx, nothing changes.
    let other = fixture("customer.created", "");
    let resp = deliver(
        &h,
        &other,
        Some(&signature(&other, now, STRIPE_WEBHOOK_SECRET)),
    )
    .await;
    resp.assert_status_is_ok();
    assert_eq!(body(resp).await["outcome"], "ignored");
    assert_eq!(invoice_state(&h).await, before);

    // The genuine event: applied once, however often it comes.
    let sig = signature(&succeeded, now, STRIPE_WEBHOOK_SECRET);
    let resp = deliver(&h, &succeeded, Some(&sig)).await;
    resp.assert_status_is_ok();
    assert_eq!(body(resp).await["outcome"], "applied");
    let (paid, listed) = invoice_state(&h).await;
    assert_eq!(paid, "620.59");
    assert_eq!(listed[0]["state"], "succeeded");
    let resp = deliver(&h, &succeeded, Some(&sig)).await;
    resp.assert_status_is_ok();
    assert_eq!(body(resp).await["outcome"], "repeat");
    assert_eq!(invoice_state(&h).await.0, "620.59");

    let (_, page) = text(h.client.get(&path).send().await).await;
    assert!(
        page.contains("data-status=\"paid\""),
        "the page turns to Paid"
    );
    assert!(!page.contains("/pay\""), "nothing left to pay");
    // The host reads it in its event log, and both emails are queued.
    let events = body(h.get("/v1/events?after=0").await).await;
    let paid = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "invoice.paid")
        .cloned()
        .unwrap_or_else(|| panic!("{events}"));
    assert_eq!(paid["invoice_id"], "inv1");
    assert_eq!(paid["amount"], "420.59");
    assert_eq!(paid["payment_id"], "pi_fake1");
    let notes = body(h.get("/v1/notifications").await).await;
    let kinds: Vec<&str> = notes
        .as_array()
        .unwrap_or_else(|| panic!("{notes}"))
        .iter()
        .filter_map(|n| n["topic"].as_str())
        .collect();
    assert!(kinds.contains(&"payment_to_client"), "{kinds:?}");
    assert!(kinds.contains(&"payment_to_business"), "{kinds:?}");
}

#[tokio::test]
async fn i5_ach_processing_then_succeeded_and_processing_then_failed_from_signed_fixtures() {
    let payments = Arc::new(FakePayments::default());
    let h = harness_paying(payments.clone()).await;
    let path = paying(&h).await;
    h.client
        .get(format!("{path}/pay"))
        .send()
        .await
        .assert_status_is_ok();
    let now = T0.unix_timestamp();
    let send = |name: &'static str| {
        let payload = fixture(name, "pi_fake1");
        let sig = signature(&payload, now, STRIPE_WEBHOOK_SECRET);
        let h = &h;
        async move {
            let resp = deliver(h, &payload, Some(&sig)).await;
            resp.assert_status_is_ok();
        }
    };

    send("payment_intent.processing").await;
    let (_, page) = text(h.client.get(&path).send().await).await;
    assert!(page.contains("Payment processing"), "{page}");
    assert!(
        !page.contains("/pay\""),
        "no second payment while one is on its way"
    );
    let (status, _) = text(h.client.get(format!("{path}/pay")).send().await).await;
    assert_eq!(status, 409);

    send("payment_intent.payment_failed").await;
    let (paid, listed) = invoice_state(&h).await;
    assert_eq!(paid, "200.00", "due again");
    assert_eq!(listed[0]["state"], "failed");
    let (_, page) = text(h.client.get(&path).send().await).await;
    assert!(
        page.contains(&format!("href=\"{path}/pay\"")),
        "Pay now again"
    );

    // Tried again from a bank account: processing, then the money arrives.
    let again = |name: &'static str, id: &str| {
        let mut event: Value = serde_json::from_slice(&fixture(name, "pi_fake1")).unwrap();
        event["id"] = json!(id);
        serde_json::to_vec(&event).unwrap()
    };
    for payload in [
        again("payment_intent.processing", "evt_retry_processing"),
        again("payment_intent.succeeded", "evt_retry_succeeded"),
    ] {
        let sig = signature(&payload, now, STRIPE_WEBHOOK_SECRET);
        deliver(&h, &payload, Some(&sig))
            .await
            .assert_status_is_ok();
    }
    let (paid, listed) = invoice_state(&h).await;
    assert_eq!(paid, "620.59");
    assert_eq!(listed[0]["state"], "succeeded");
    assert_eq!(listed.len(), 1, "the failed intent was tried again");
}

#[tokio::test]
async fn i5_c6_the_portal_offers_pay_now_on_the_clients_own_invoices_only() {
    let payments = Arc::new(FakePayments::default());
    let h = harness_paying(payments.clone()).await;
    paying(&h).await;
    h.put(
        "/v1/clients/c2",
        &json!({ "name": "Riley Other", "email": "riley@other.example" }),
        "owner",
    )
    .await
    .assert_status_is_ok();
    h.issue_invoice("inv2", "c2").await;
    h.invite("c1").await;
    let cookie = h.signed_in().await;

    let (status, page) = text(h.page("/portal/org1/r/invoices/inv1", Some(&cookie)).await).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("href=\"/portal/org1/r/invoices/inv1/pay\""),
        "{page}"
    );
    let resp = h
        .page("/portal/org1/r/invoices/inv1/pay", Some(&cookie))
        .await;
    let policy = resp.0.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let (status, pay) = text(resp).await;
    assert_eq!(status, 200);
    assert!(policy.contains("https://js.stripe.com"), "{policy}");
    assert!(pay.contains("data-return=\"/portal/org1/r/invoices/inv1\""));
    // Another client's invoice, or no session: nothing opens, no intent.
    let (status, _) = text(
        h.page("/portal/org1/r/invoices/inv2/pay", Some(&cookie))
            .await,
    )
    .await;
    assert_eq!(status, 404);
    let resp = h.page("/portal/org1/r/invoices/inv1/pay", None).await;
    assert_ne!(resp.0.status().as_u16(), 200);
    assert_eq!(payments.opened(), 1);
}
