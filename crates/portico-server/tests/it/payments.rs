//! I5 against a stateful Stripe stand-in (localstripe): the real binary opens a `PaymentIntent`
//! for the demo invoice's amount due on the org's connected account, the intent is confirmed
//! with a test card the way Stripe.js confirms it, localstripe sends its signed
//! `payment_intent.succeeded`, and the invoice is paid only then: S7's clock started on the
//! job, the receipt and the business's notice mailed, `invoice.paid` in the host's event log
//! and posted to its webhook.

use std::time::{Duration, Instant};

use portico_testkit::hooks::HookReceiver;
use portico_testkit::stripe::{LocalStripe, PUBLISHABLE_KEY, SECRET_KEY};
use serde_json::{Value, json};

use crate::support::{Server, agent, call, mail_with};

pub const WEBHOOK_SECRET: &str = "whsec_portico_e2e_localstripe";

/// `portico serve` taking payments through `stripe`, which sends its webhooks back to it; the
/// demo seeded, its org's Stripe account connected. Returns the server and the demo's links.
pub fn paying_server(stripe: &LocalStripe) -> (Server, Value) {
    let server = Server::start_with(
        None,
        &[
            ("STRIPE_SECRET_KEY", SECRET_KEY.to_owned()),
            ("STRIPE_PUBLISHABLE_KEY", PUBLISHABLE_KEY.to_owned()),
            ("STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET.to_owned()),
            ("STRIPE_API_BASE", stripe.api_base()),
            ("STRIPE_JS_URL", stripe.js_url()),
            // The host's webhook receiver runs on 127.0.0.1 over plain http.
            ("PORTICO_WEBHOOK_ALLOW_PRIVATE", "on".to_owned()),
            ("PORTICO_WEBHOOK_ALLOW_HTTP", "on".to_owned()),
        ],
    );
    let demo = server.demo();
    let form = format!(
        "url={}/webhooks/stripe&secret={WEBHOOK_SECRET}",
        server.base
    );
    let resp = agent()
        .post(stripe.webhook_config_url("portico"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send(form)
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200, "localstripe took the webhook");
    let key = demo["api_key"].as_str().unwrap();
    let (status, body) = call(
        "PUT",
        &format!("{}/v1/payments/account", server.base),
        key,
        Some("demo-owner"),
        Some(&json!({ "stripe_account": "acct_1DemoElectrical" })),
    );
    assert_eq!(status, 200, "{body}");
    (server, demo)
}

fn page(url: &str) -> (u16, String) {
    let mut resp = agent().get(url).call().unwrap();
    (
        resp.status().as_u16(),
        resp.body_mut().read_to_string().unwrap(),
    )
}

/// The value of `attr="…"` in `html`.
pub fn attribute(html: &str, attr: &str) -> String {
    let start = html
        .find(&format!("{attr}=\""))
        .unwrap_or_else(|| panic!("no {attr} in {html}"))
        + attr.len()
        + 2;
    html[start..start + html[start..].find('"').unwrap()].to_owned()
}

/// Polls the invoice's payments until one is `state` (or 20 s passed).
pub fn wait_for_payment(server: &Server, key: &str, state: &str) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, listed) = call(
            "GET",
            &format!("{}/v1/invoices/demo-invoice/payments", server.base),
            key,
            None,
            None,
        );
        assert_eq!(status, 200, "{listed}");
        let listed = listed.as_array().unwrap().clone();
        if listed.iter().any(|p| p["state"] == state) || Instant::now() > deadline {
            return listed;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Follows the invoice page's Pay now to the payment page; checks the intent Portico opened
/// there, as localstripe holds it, is the amount due in cents, in USD. Returns the intent's id,
/// its client secret and the amount due.
fn open_the_pay_page(
    server: &Server,
    stripe: &LocalStripe,
    key: &str,
    invoice_url: &str,
) -> (String, String, String) {
    let (status, invoice) = page(invoice_url);
    assert_eq!(status, 200);
    let pay_url = format!(
        "{}{}",
        server.base,
        attribute(&invoice, "class=\"button pay-now\" href")
    );
    let (status, pay) = page(&pay_url);
    assert_eq!(status, 200, "{pay}");
    let secret = attribute(&pay, "data-secret");
    assert!(
        pay.contains(&stripe.js_url()),
        "the page loads the configured Stripe.js"
    );
    let intent = secret.split("_secret_").next().unwrap().to_owned();
    let listed = wait_for_payment(server, key, "open");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["payment_id"], intent.as_str());
    let due = listed[0]["amount"].as_str().unwrap().to_owned();

    // localstripe holds the intent Portico opened: the amount due, in cents, in USD.
    let mut resp = agent()
        .get(format!("{}v1/payment_intents/{intent}", stripe.api_base()))
        .header("Authorization", format!("Bearer {SECRET_KEY}"))
        .call()
        .unwrap();
    let held: Value = serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap();
    let cents: i64 = due.replace('.', "").parse().unwrap();
    assert_eq!(held["amount"], cents, "{held}");
    assert_eq!(held["currency"], "usd");
    assert_eq!(held["metadata"]["portico_invoice"], "demo-invoice");

    (intent, secret, due)
}

/// Confirms the intent of `secret` with a test card, as Stripe.js confirms it.
fn confirm_with_a_test_card(stripe: &LocalStripe, secret: &str) {
    let confirm = json!({ "client_secret": secret, "card": {
        "number": "4242424242424242", "exp_month": "12", "exp_year": "2034", "cvc": "123" } });
    let mut resp = agent()
        .post(stripe.confirm_url())
        .header("Content-Type", "text/plain")
        .send(confirm.to_string())
        .unwrap();
    let confirmed: Value =
        serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(
        confirmed["paymentIntent"]["status"], "succeeded",
        "{confirmed}"
    );
}

#[test]
fn i5_a_test_card_pays_the_amount_due_and_only_stripes_signed_webhook_marks_the_invoice_paid() {
    let Some(stripe) = LocalStripe::for_test() else {
        return;
    };
    let Some(receiver) = HookReceiver::for_test() else {
        return;
    };
    let (server, demo) = paying_server(&stripe);
    let key = demo["api_key"].as_str().unwrap();
    let invoice_url = demo["invoice_share_url"].as_str().unwrap();
    let hook = crate::webhooks::register(&server, key, &receiver.url("paid"), &["invoice.paid"]);
    receiver.control(hook["secret"].as_str().unwrap(), 204);
    // The job is finished: paying its invoice starts its link's expiry clock (S7).
    let (status, body) = call(
        "POST",
        &format!("{}/v1/work-orders/demo-wo/events", server.base),
        key,
        Some("demo-owner"),
        Some(&json!({ "type": "status_changed", "status": "completed" })),
    );
    assert_eq!(status, 200, "{body}");

    let (intent, secret, due) = open_the_pay_page(&server, &stripe, key, invoice_url);

    // Nothing is paid before Stripe says so.
    let (_, shares) = call(
        "GET",
        &format!("{}/v1/records/work_order/demo-wo/shares", server.base),
        key,
        None,
        None,
    );
    assert!(shares[0]["expires_at"].is_null(), "{shares}");

    confirm_with_a_test_card(&stripe, &secret);

    let listed = wait_for_payment(&server, key, "succeeded");
    assert_eq!(
        listed[0]["state"], "succeeded",
        "the signed webhook arrived: {listed:?}"
    );
    let (_, invoice) = page(invoice_url);
    assert!(invoice.contains("data-status=\"paid\""), "{invoice}");
    assert!(!invoice.contains("pay-now"), "nothing left to pay");
    let (_, shares) = call(
        "GET",
        &format!("{}/v1/records/work_order/demo-wo/shares", server.base),
        key,
        None,
        None,
    );
    assert!(
        shares[0]["expires_at"].is_string(),
        "S7: the job is completed and paid, its link's clock runs: {shares}"
    );
    let (_, events) = call(
        "GET",
        &format!("{}/v1/events?after=0", server.base),
        key,
        None,
        None,
    );
    let paid = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "invoice.paid")
        .cloned()
        .unwrap_or_else(|| panic!("{events}"));
    assert_eq!(paid["payment_id"], intent.as_str());
    assert_eq!(paid["amount"], due.as_str());
    let receipt =
        mail_with(&server, "Keep this email as your receipt").expect("the client's receipt");
    assert!(receipt.contains("Receipt from"), "{receipt}");
    let notice = mail_with(&server, "paid invoice INV-2001").expect("the business's notice");
    assert!(notice.contains("online"), "{notice}");
    // The host hears of it through its webhook, signed the Standard Webhooks way.
    let heard = receiver.wait_for(Duration::from_secs(15), |r| !r.is_empty());
    assert_eq!(heard.len(), 1, "{heard:?}");
    assert_eq!(heard[0]["verified"], true, "{heard:?}");
    assert_eq!(heard[0]["type"], "invoice.paid");
    assert_eq!(heard[0]["data"]["invoice_id"], "demo-invoice");
    assert_eq!(heard[0]["data"]["payment_id"], intent.as_str());
    assert_eq!(heard[0]["data"]["amount"], due.as_str());
    let (ok, log) = server.stop();
    assert!(ok, "{log}");
}
