//! The client portal's pages (C1–C6, C8) through the HTTP service: sign-in by link, code and
//! password, sessions in a cookie, CSRF, and isolation between clients and orgs.

use std::time::{Duration, Instant};

use poem::test::TestResponse;
use poem::{Endpoint, Response};
use portico_core::ports::OutgoingEmail;
use portico_core::service::DispatchConfig;
use portico_core::testing::MemoryMailer;
use serde_json::json;

use crate::support::{Harness, harness};

pub const ORIGIN: &str = "https://api.example";

pub async fn text(resp: TestResponse) -> (u16, String) {
    let status = resp.0.status().as_u16();
    let body = resp.0.into_body().into_string().await.unwrap();
    (status, body)
}

pub fn csrf_of(page: &str) -> String {
    let attr = "name=\"csrf\" value=\"";
    let from = page.find(attr).expect("a form with a csrf value") + attr.len();
    page[from..from + page[from..].find('"').unwrap()].to_owned()
}

fn cookie_of(resp: &TestResponse) -> Option<String> {
    resp.0
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("__Host-portico_session="))
        .map(|c| c.split(';').next().unwrap().to_owned())
}

impl<E: Endpoint<Output = Response>> Harness<E> {
    pub async fn invite(&self, client: &str) {
        let resp = self
            .post(
                &format!("/v1/clients/{client}/portal/invite"),
                &json!({}),
                "owner",
            )
            .await;
        resp.assert_status_is_ok();
    }

    pub async fn deliver(&self) -> Vec<OutgoingEmail> {
        let mailer = MemoryMailer::default();
        self.portico
            .dispatch_once(&self.store, &mailer, &DispatchConfig::default())
            .await
            .unwrap();
        mailer.sent()
    }

    pub async fn page(&self, path: &str, cookie: Option<&str>) -> TestResponse {
        let mut req = self.client.get(path);
        if let Some(cookie) = cookie {
            req = req.header("cookie", cookie);
        }
        req.send().await
    }

    pub async fn form(&self, path: &str, body: &str, cookie: Option<&str>) -> TestResponse {
        let mut req = self
            .client
            .post(path)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("origin", ORIGIN)
            .body(body.to_owned());
        if let Some(cookie) = cookie {
            req = req.header("cookie", cookie);
        }
        req.send().await
    }

    /// The sign-in page's CSRF value.
    pub async fn public_csrf(&self, org: &str) -> String {
        let (_, page) = text(self.page(&format!("/portal/{org}"), None).await).await;
        csrf_of(&page)
    }

    /// Asks for a link for `email` and waits until the request's background work is done.
    pub async fn ask_link(&self, org: &str, email: &str) -> (u16, String) {
        let csrf = self.public_csrf(org).await;
        let body = format!("email={}&csrf={csrf}", urlencode(email));
        let answer = text(
            self.form(&format!("/portal/{org}/sign-in"), &body, None)
                .await,
        )
        .await;
        tokio::time::sleep(Duration::from_millis(30)).await;
        answer
    }

    /// The token of the newest portal link mailed.
    pub async fn mailed_token(&self) -> String {
        let sent = self.deliver().await;
        let mail = sent.last().expect("a mail went out");
        let link = mail
            .text
            .split_whitespace()
            .find(|w| w.contains("/link/"))
            .expect("a sign-in link");
        link.rsplit('/').next().unwrap().to_owned()
    }

    /// Signs c1 in through an emailed link; the session cookie.
    pub async fn signed_in(&self) -> String {
        self.ask_link("org1", "jordan@client.example").await;
        let token = self.mailed_token().await;
        let csrf = self.public_csrf("org1").await;
        let resp = self
            .form(
                "/portal/org1/link",
                &format!("token={token}&csrf={csrf}"),
                None,
            )
            .await;
        resp.assert_status(poem::http::StatusCode::SEE_OTHER);
        cookie_of(&resp).expect("a session cookie")
    }

    pub async fn issue_invoice(&self, id: &str, client: &str) {
        let invoice = json!({
            "client_id": client, "number": id, "title": format!("Invoice {id}"),
            "status": "issued", "currency": "USD",
            "items": [{ "description": "Labour", "quantity": "1", "unit_price": "100.00" }],
            "internal_notes": "INTERNAL-MARKER margin 40%"
        });
        self.put(&format!("/v1/invoices/{id}"), &invoice, "owner")
            .await
            .assert_status_is_ok();
    }
}

fn urlencode(raw: &str) -> String {
    raw.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn c3_asking_for_a_link_answers_alike_for_known_and_unknown_emails_in_status_body_and_time() {
    // A budget per address large enough for the 32 asks of one test address.
    let mut config = crate::support::config();
    config.pages.portal_mails_burst = std::num::NonZeroU32::new(100).unwrap();
    let h = crate::support::harness_with(config).await;
    h.invite("c1").await;
    h.deliver().await;
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    let mut answers = Vec::new();
    for i in 0..16 {
        for (email, times) in [
            ("jordan@client.example", &mut known),
            ("nobody@nowhere.example", &mut unknown),
        ] {
            let csrf = h.public_csrf("org1").await;
            let body = format!("email={}&csrf={csrf}", urlencode(email));
            let started = Instant::now();
            let answer = text(h.form("/portal/org1/sign-in", &body, None).await).await;
            times.push(started.elapsed());
            answers.push(answer);
        }
        let _ = i;
    }
    assert!(
        answers.iter().all(|a| a == &answers[0]),
        "one answer for all"
    );
    assert_eq!(answers[0].0, 200);
    assert!(answers[0].1.contains("Check your email"));
    known.sort();
    unknown.sort();
    let (k, u) = (known[known.len() / 2], unknown[unknown.len() / 2]);
    let gap = k.abs_diff(u);
    assert!(
        gap < Duration::from_millis(5) || gap < k.max(u) / 2,
        "median answer times differ: known {k:?}, unknown {u:?}"
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    let queued = h
        .portico
        .notifications(&portico_core::model::OrgId::new("org1").unwrap(), None, 100)
        .await
        .unwrap()
        .unwrap();
    let sign_ins: Vec<_> = queued
        .iter()
        .filter(|n| n.kind.topic() == portico_core::model::Topic::PortalSignIn)
        .collect();
    assert_eq!(
        sign_ins.len(),
        5,
        "only the known client, five times an hour"
    );
    assert!(
        sign_ins
            .iter()
            .all(|n| n.to.as_str() == "jordan@client.example")
    );
    let sent = h.deliver().await;
    assert_eq!(
        sent.len(),
        1,
        "each newer link replaced the one before; the newest leaves"
    );
}

#[tokio::test]
async fn c3_opening_a_link_five_times_changes_nothing_and_the_post_signs_in_once() {
    let h = harness().await;
    h.invite("c1").await;
    h.deliver().await;
    h.ask_link("org1", "jordan@client.example").await;
    let token = h.mailed_token().await;
    for _ in 0..5 {
        let (status, page) = text(h.page(&format!("/portal/org1/link/{token}"), None).await).await;
        assert_eq!(status, 200);
        assert!(
            page.contains("Sign in to Bright Spark Electrical"),
            "{page}"
        );
    }
    let csrf = h.public_csrf("org1").await;
    let first = h
        .form(
            "/portal/org1/link",
            &format!("token={token}&csrf={csrf}"),
            None,
        )
        .await;
    first.assert_status(poem::http::StatusCode::SEE_OTHER);
    let cookie = first
        .0
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("__Host-portico_session="));
    for attribute in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    let again = h
        .form(
            "/portal/org1/link",
            &format!("token={token}&csrf={csrf}"),
            None,
        )
        .await;
    let (status, page) = text(again).await;
    assert_eq!(status, 410, "used once only");
    assert!(page.contains("Send me a new link"));
}

#[tokio::test]
async fn c3_an_expired_link_shows_a_page_that_sends_a_new_one() {
    let h = harness().await;
    h.invite("c1").await;
    h.deliver().await;
    h.ask_link("org1", "jordan@client.example").await;
    let token = h.mailed_token().await;
    h.clock.advance(time::Duration::minutes(16));
    let (status, page) = text(h.page(&format!("/portal/org1/link/{token}"), None).await).await;
    assert_eq!(status, 410);
    assert!(page.contains("no longer works") && page.contains("Send me a new link"));
    let csrf = csrf_of(&page);
    let resend = h
        .form(
            "/portal/org1/sign-in",
            &format!("email=jordan%40client.example&csrf={csrf}"),
            None,
        )
        .await;
    assert_eq!(text(resend).await.0, 200);
    tokio::time::sleep(Duration::from_millis(30)).await;
    assert_eq!(h.deliver().await.len(), 1, "a new link went out");
}

#[tokio::test]
async fn c3_the_code_from_the_email_signs_in_once() {
    let h = harness().await;
    h.invite("c1").await;
    h.deliver().await;
    h.ask_link("org1", "jordan@client.example").await;
    let mail = h.deliver().await.pop().unwrap();
    let after = &mail.text[mail.text.rfind("code").expect("the mail gives a code")..];
    let code: String = after
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(|c| c.is_ascii_digit() || *c == ' ')
        .collect();
    assert_eq!(code.trim().replace(' ', "").len(), 8, "{}", mail.text);
    let csrf = h.public_csrf("org1").await;
    let body = format!(
        "email=jordan%40client.example&code={}&csrf={csrf}",
        urlencode(&code)
    );
    let first = h.form("/portal/org1/code", &body, None).await;
    first.assert_status(poem::http::StatusCode::SEE_OTHER);
    assert!(cookie_of(&first).is_some());
    let (status, page) = text(h.form("/portal/org1/code", &body, None).await).await;
    assert_eq!(status, 401);
    assert!(page.contains("not right"));
}

// Reason: one client's way from the invitation to a reset reads best top to bottom.
#[allow(clippy::too_many_lines)]
#[tokio::test]
async fn c4_a_password_is_set_signs_in_and_a_reset_ends_every_other_session() {
    let h = harness().await;
    h.invite("c1").await;
    let token = h.mailed_token().await;
    let csrf = h.public_csrf("org1").await;
    let resp = h
        .form(
            "/portal/org1/link",
            &format!("token={token}&csrf={csrf}"),
            None,
        )
        .await;
    assert_eq!(
        resp.0.headers().get("location").unwrap(),
        "/portal/org1/account?welcome=1",
        "an invitation leads to setting a password"
    );
    let cookie = cookie_of(&resp).unwrap();
    let (_, page) = text(
        h.page("/portal/org1/account?welcome=1", Some(&cookie))
            .await,
    )
    .await;
    assert!(page.contains("Set a password"));
    let csrf = csrf_of(&page);
    let (status, page) = text(
        h.form(
            "/portal/org1/account",
            &format!("password=short&csrf={csrf}"),
            Some(&cookie),
        )
        .await,
    )
    .await;
    assert_eq!(status, 422);
    assert!(page.contains("at least 10 characters"));
    let (status, _) = text(
        h.form(
            "/portal/org1/account",
            &format!("password=correct+horse+battery&csrf={csrf}"),
            Some(&cookie),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);

    let public = h.public_csrf("org1").await;
    let with_password =
        |password: &str| format!("email=Jordan%40client.example&password={password}&csrf={public}");
    let laptop = h
        .form(
            "/portal/org1/password",
            &with_password("correct+horse+battery"),
            None,
        )
        .await;
    laptop.assert_status(poem::http::StatusCode::SEE_OTHER);
    let laptop = cookie_of(&laptop).unwrap();
    let (status, _) = text(
        h.form(
            "/portal/org1/password",
            &with_password("wrong+password+1"),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, 401);

    // Forgot: the reset link's page asks for a new password; the post ends both sessions.
    h.deliver().await;
    let (_, forgot) = text(h.page("/portal/org1/forgot", None).await).await;
    let forgot_csrf = csrf_of(&forgot);
    h.form(
        "/portal/org1/forgot",
        &format!("email=jordan%40client.example&csrf={forgot_csrf}"),
        None,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(30)).await;
    let token = h.mailed_token().await;
    let (_, page) = text(h.page(&format!("/portal/org1/link/{token}"), None).await).await;
    assert!(page.contains("Choose a new password"));
    let (status, again) = text(
        h.form(
            "/portal/org1/link",
            &format!("token={token}&csrf={public}"),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(
        status, 422,
        "a reset link without a new password asks again"
    );
    assert!(again.contains("Choose a new password"));
    let reset = h
        .form(
            "/portal/org1/link",
            &format!("token={token}&password=a+brand+new+passphrase&csrf={public}"),
            None,
        )
        .await;
    reset.assert_status(poem::http::StatusCode::SEE_OTHER);
    let fresh = cookie_of(&reset).unwrap();
    for old in [&cookie, &laptop] {
        let resp = h.page("/portal/org1/home", Some(old)).await;
        assert_eq!(resp.0.status().as_u16(), 303, "the reset ended it");
    }
    assert_eq!(
        h.page("/portal/org1/home", Some(&fresh)).await.0.status(),
        200
    );
    let notices = h.deliver().await;
    assert!(
        notices
            .iter()
            .any(|m| m.subject.contains("password was changed"))
    );
}

#[tokio::test]
async fn c5_every_portal_form_needs_its_csrf_value_and_a_same_site_origin() {
    let h = harness().await;
    h.invite("c1").await;
    h.deliver().await;
    let cookie = h.signed_in().await;
    let (_, home) = text(h.page("/portal/org1/home", Some(&cookie)).await).await;
    let csrf = csrf_of(&home);
    let public = h.public_csrf("org1").await;
    for (path, body) in [
        ("/portal/org1/sign-out", "csrf=forged".to_owned()),
        (
            "/portal/org1/account",
            "password=correct+horse+battery&csrf=forged".to_owned(),
        ),
        (
            "/portal/org1/sign-in",
            "email=jordan%40client.example&csrf=forged".to_owned(),
        ),
        ("/portal/org1/sign-out", format!("csrf={public}")),
    ] {
        let (status, _) = text(h.form(path, &body, Some(&cookie)).await).await;
        assert_eq!(status, 403, "{path} {body}");
    }
    let cross_site = h
        .client
        .post("/portal/org1/sign-out")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", cookie.clone())
        .header("sec-fetch-site", "cross-site")
        .body(format!("csrf={csrf}"))
        .send()
        .await;
    assert_eq!(cross_site.0.status().as_u16(), 403);
    assert_eq!(
        h.page("/portal/org1/home", Some(&cookie)).await.0.status(),
        200
    );
    let out = h
        .form(
            "/portal/org1/sign-out",
            &format!("csrf={csrf}"),
            Some(&cookie),
        )
        .await;
    out.assert_status(poem::http::StatusCode::SEE_OTHER);
    assert_eq!(
        h.page("/portal/org1/home", Some(&cookie)).await.0.status(),
        303,
        "signed out on the server"
    );
}

#[tokio::test]
async fn c2_c8_a_disabled_client_or_a_switched_off_portal_ends_a_live_session_on_the_next_request()
{
    let h = harness().await;
    h.invite("c1").await;
    h.deliver().await;
    let cookie = h.signed_in().await;
    assert_eq!(
        h.page("/portal/org1/home", Some(&cookie)).await.0.status(),
        200
    );
    h.put(
        "/v1/clients/c1/portal",
        &json!({ "enabled": false }),
        "owner",
    )
    .await
    .assert_status_is_ok();
    assert_eq!(
        h.page("/portal/org1/home", Some(&cookie)).await.0.status(),
        303
    );
    let state = h.get("/v1/clients/c1/portal").await;
    let state = crate::support::body(state).await;
    assert_eq!(state["enabled"], false);
    assert_eq!(state["invited"], true);

    h.put(
        "/v1/clients/c1/portal",
        &json!({ "enabled": true }),
        "owner",
    )
    .await
    .assert_status_is_ok();
    let cookie = h.signed_in().await;
    h.patch(
        "/v1/org",
        &json!({ "settings": { "portal": { "enabled": false } } }),
        "owner",
    )
    .await
    .assert_status_is_ok();
    assert_eq!(
        h.page("/portal/org1/home", Some(&cookie)).await.0.status(),
        303
    );
    let (status, page) = text(h.page("/portal/org1", None).await).await;
    assert_eq!(status, 403);
    assert!(page.contains("not available") && page.contains("office@brightspark.example"));
}

#[tokio::test]
async fn c6_every_portal_route_with_another_clients_or_another_orgs_ids_is_404_never_data() {
    let h = harness().await;
    h.put(
        "/v1/clients/c2",
        &json!({ "name": "Other Person", "email": "other@client.example" }),
        "owner",
    )
    .await
    .assert_status_is_ok();
    h.issue_invoice("inv-mine", "c1").await;
    h.issue_invoice("inv-theirs", "c2").await;
    h.invite("c1").await;
    h.deliver().await;
    let cookie = h.signed_in().await;
    let (status, home) = text(h.page("/portal/org1/home", Some(&cookie)).await).await;
    assert_eq!(status, 200);
    assert!(home.contains("Invoice inv-mine") && !home.contains("inv-theirs"));
    let (status, mine) = text(
        h.page("/portal/org1/r/invoices/inv-mine", Some(&cookie))
            .await,
    )
    .await;
    assert_eq!(status, 200);
    assert!(!mine.contains("INTERNAL-MARKER"), "V4 in the portal");
    let csrf = csrf_of(&mine);
    for path in [
        "/portal/org1/r/invoices/inv-theirs",
        "/portal/org1/r/invoices/inv-theirs/files/logo",
        "/portal/org1/r/estimates/inv-theirs",
        "/portal/org1/r/invoices/nope",
        "/portal/org1/r/nonsense/inv-mine",
        "/portal/org2/home",
        "/portal/org2/r/invoices/inv-mine",
    ] {
        let (status, page) = text(h.page(path, Some(&cookie)).await).await;
        assert_eq!(status, 404, "{path}");
        assert!(
            !page.contains("Other Person") && !page.contains("Invoice inv"),
            "{path}"
        );
    }
    for path in [
        "/portal/org1/r/estimates/inv-theirs/decision",
        "/portal/org1/r/invoices/inv-theirs/help",
    ] {
        let body = format!("decision=approve&name=J&message=hi&csrf={csrf}");
        let (status, _) = text(h.form(path, &body, Some(&cookie)).await).await;
        assert_eq!(status, 404, "{path}");
    }
}

#[tokio::test]
async fn c3_c4_an_account_slowed_by_wrong_passwords_answers_like_an_unknown_address() {
    let h = harness().await;
    h.invite("c1").await;
    h.deliver().await;
    let cookie = h.signed_in().await;
    let (_, account) = text(h.page("/portal/org1/account", Some(&cookie)).await).await;
    let csrf = csrf_of(&account);
    h.form(
        "/portal/org1/account",
        &format!("password=correct+horse+battery&csrf={csrf}"),
        Some(&cookie),
    )
    .await;
    let public = h.public_csrf("org1").await;
    let mut answers = Vec::new();
    for email in ["jordan%40client.example", "nobody%40nowhere.example"] {
        for _ in 0..4 {
            let body = format!("email={email}&password=wrong+password+1&csrf={public}");
            let (status, page) = text(h.form("/portal/org1/password", &body, None).await).await;
            answers.push((status, page.contains("is not right")));
        }
    }
    assert!(
        answers.iter().all(|a| *a == (401, true)),
        "the fourth try on the known account waits, and says so no differently: {answers:?}"
    );
}

#[tokio::test]
async fn c3_link_requests_are_limited_per_address() {
    let h = harness().await;
    let mut statuses = Vec::new();
    for i in 0..12 {
        let (status, _) = h
            .ask_link("org1", &format!("someone{i}@client.example"))
            .await;
        statuses.push(status);
    }
    assert_eq!(&statuses[..10], &[200; 10]);
    assert_eq!(
        &statuses[10..],
        &[429, 429],
        "past the burst, the address waits"
    );
}

#[tokio::test]
async fn v7_c5_a_portal_job_page_hears_status_changes_until_its_session_ends() {
    let h = harness().await;
    h.put(
        "/v1/work-orders/wo1",
        &crate::support::work_order(),
        "owner",
    )
    .await
    .assert_status_is_ok();
    h.invite("c1").await;
    h.deliver().await;
    let cookie = h.signed_in().await;
    let (_, page) = text(h.page("/portal/org1/r/jobs/wo1", Some(&cookie)).await).await;
    assert!(
        page.contains("data-live=\"/portal/org1/r/jobs/wo1/events\""),
        "{page}"
    );
    let events = h
        .page("/portal/org1/r/jobs/wo1/events", Some(&cookie))
        .await;
    assert_eq!(events.0.content_type(), Some("text/event-stream"));
    let mut stream = events.0.into_body().into_bytes_stream();
    let mut seen = String::new();
    let status = |s: &str| json!({ "type": "status_changed", "status": s });
    h.post(
        "/v1/work-orders/wo1/events",
        &status("in_progress"),
        "owner",
    )
    .await
    .assert_status_is_ok();
    crate::pages::read_until(&mut stream, &mut seen, "in_progress").await;
    assert!(seen.contains("event: status"), "{seen}");
    let csrf = csrf_of(&page);
    h.form(
        "/portal/org1/sign-out",
        &format!("csrf={csrf}"),
        Some(&cookie),
    )
    .await;
    h.post("/v1/work-orders/wo1/events", &status("on_hold"), "owner")
        .await
        .assert_status_is_ok();
    crate::pages::read_until(&mut stream, &mut seen, "event: gone").await;
    assert!(
        !seen.contains("on_hold"),
        "a signed-out page hears nothing more: {seen}"
    );
    let (status, _) = text(
        h.page("/portal/org1/r/jobs/wo1/events", Some(&cookie))
            .await,
    )
    .await;
    assert_eq!(status, 303, "no stream without a session");
}

#[tokio::test]
async fn s9_c5_portal_answers_carry_the_private_headers_and_the_page_policy() {
    let h = harness().await;
    for path in [
        "/portal/org1",
        "/portal/org1/home",
        "/portal/nobody",
        "/portal/org1/link/x",
    ] {
        let resp = h.page(path, None).await;
        let headers = resp.0.headers();
        assert_eq!(headers.get("cache-control").unwrap(), "no-store", "{path}");
        assert_eq!(
            headers.get("referrer-policy").unwrap(),
            "no-referrer",
            "{path}"
        );
        assert_eq!(headers.get("x-frame-options").unwrap(), "DENY", "{path}");
        assert_eq!(
            headers.get("content-security-policy").unwrap(),
            portico_http::CONTENT_SECURITY_POLICY,
            "{path}"
        );
    }
}
