//! The client pages over HTTP (S5, S7–S11, V1–V8): snapshots of each page kind, the leak test,
//! dead links, privacy headers, throttling, the quote form, "Get help" and live status.

use std::num::NonZeroU32;
use std::time::Duration;

use futures_util::StreamExt;
use poem::test::TestResponse;
use poem::{Endpoint, Response};
use portico_core::ports::Outbox;
use portico_http::{CONTENT_SECURITY_POLICY, HttpConfig, PagesConfig};
use serde_json::{Value, json};

use crate::support::{Harness, body, config, harness, harness_with, work_order};

const PNG: &[u8] = &[
    0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n', 0, 0, 0, 13, b'I', b'H', b'D', b'R',
];

/// The path of a share link: `/s/{token}`.
fn path_of(link: &str) -> String {
    format!("/s/{}", link.rsplit('/').next().unwrap())
}

async fn share<E: Endpoint<Output = Response>>(
    h: &Harness<E>,
    kind: &str,
    id: &str,
) -> (String, String) {
    let share = body(
        h.post(
            &format!("/v1/records/{kind}/{id}/share"),
            &json!({}),
            "owner",
        )
        .await,
    )
    .await;
    (
        path_of(share["link"].as_str().unwrap()),
        share["id"].as_str().unwrap().to_owned(),
    )
}

async fn text(resp: TestResponse) -> (u16, String) {
    let status = resp.0.status().as_u16();
    (status, resp.0.into_body().into_string().await.unwrap())
}

fn quote() -> Value {
    json!({
        "client_id": "c1", "number": "Q-1001", "title": "Rewire the kitchen", "status": "sent",
        "items": [
            { "description": "Labour (hours)", "quantity": "6", "unit_price": "95.00" },
            { "description": "Double socket", "quantity": "2", "unit_price": "12.50", "unit_cost": "4.50" }
        ],
        "taxes": [{ "name": "Sales tax", "percent": "8.875" }],
        "valid_until": "2026-04-30",
        "client_message": "Price includes removal of the old wiring.",
        "internal_notes": "Margin is thin on this one"
    })
}

fn invoice() -> Value {
    json!({
        "client_id": "c1", "work_order_id": "wo1", "number": "INV-2001", "title": "Kitchen rewire", "status": "issued",
        "items": [{ "description": "Labour (hours)", "quantity": "6", "unit_price": "95.00" }],
        "taxes": [{ "name": "Sales tax", "percent": "8.875" }],
        "amount_paid": "200.00", "due_date": "2026-03-31",
        "internal_notes": "Chase after the 31st"
    })
}

/// The page with its token and CSRF value replaced, for snapshots.
fn redact(page: &str, path: &str) -> String {
    let token = path.trim_start_matches("/s/");
    let mut out = page.replace(token, "[token]");
    let attr = "name=\"csrf\" value=\"";
    let mut at = 0;
    while let Some(found) = out[at..].find(attr) {
        let from = at + found + attr.len();
        let end = from + out[from..].find('"').unwrap();
        out.replace_range(from..end, "[csrf]");
        at = from;
    }
    out
}

#[tokio::test]
async fn v1_v5_v6_pages_of_each_kind_render_as_snapshotted() {
    let h = harness().await;
    h.put("/v1/work-orders/wo1", &work_order(), "owner")
        .await
        .assert_status_is_ok();
    h.put("/v1/quotes/q1", &quote(), "owner")
        .await
        .assert_status_is_ok();
    h.put("/v1/invoices/inv1", &invoice(), "owner")
        .await
        .assert_status_is_ok();
    let (wo, wo_share) = share(&h, "work_order", "wo1").await;
    let (q, _) = share(&h, "quote", "q1").await;
    let (inv, _) = share(&h, "invoice", "inv1").await;

    for (name, path) in [
        ("work_order_all_sections", &wo),
        ("quote", &q),
        ("invoice", &inv),
    ] {
        let (status, page) = text(h.client.get(path).send().await).await;
        assert_eq!(status, 200, "{name}");
        insta::assert_snapshot!(name, redact(&page, path));
    }
    // Fewer sections: only what they allow is on the page.
    h.patch(
        &format!("/v1/shares/{wo_share}"),
        &json!({ "sections": ["schedule", "checklist"] }),
        "owner",
    )
    .await
    .assert_status_is_ok();
    let (_, page) = text(h.client.get(&wo).send().await).await;
    insta::assert_snapshot!("work_order_schedule_and_checklist", redact(&page, &wo));
    assert!(!page.contains("Your details") && !page.contains("Updates"));
}

/// V9: a job and an invoice in an org far east of UTC and one west of it: every time on the
/// org's clock with its zone, dates and money in its locale, "due today" by the org's date.
#[tokio::test]
async fn v9_pages_show_times_dates_and_money_as_the_org_reads_them() {
    let h = harness().await;
    h.put("/v1/work-orders/wo1", &work_order(), "owner")
        .await
        .assert_status_is_ok();
    let mut due_today = invoice();
    due_today["due_date"] = json!("2026-03-03");
    h.put("/v1/invoices/inv1", &due_today, "owner")
        .await
        .assert_status_is_ok();
    let (wo, _) = share(&h, "work_order", "wo1").await;
    let (inv, _) = share(&h, "invoice", "inv1").await;
    // The test clock reads 2026-03-02 09:00 UTC: already the evening of the 2nd in Sydney,
    // still the night before in Los Angeles. 23:30 UTC is the 3rd in Sydney only.
    h.clock.set(time::macros::datetime!(2026-03-02 23:30 UTC));
    for (name, zone, locale, due_note) in [
        ("sydney_en_au", "Australia/Sydney", "en-AU", Some("(today)")),
        ("los_angeles_en_us", "America/Los_Angeles", "en-US", None),
    ] {
        h.patch(
            "/v1/org",
            &json!({ "settings": { "time_zone": zone, "locale": locale } }),
            "owner",
        )
        .await
        .assert_status_is_ok();
        let (_, page) = text(h.client.get(&wo).send().await).await;
        insta::assert_snapshot!(format!("work_order_{name}"), redact(&page, &wo));
        let (_, page) = text(h.client.get(&inv).send().await).await;
        assert_eq!(page.contains("(today)"), due_note.is_some(), "{name}");
        insta::assert_snapshot!(format!("invoice_{name}"), redact(&page, &inv));
    }
}

#[tokio::test]
async fn v9_an_unknown_time_zone_or_locale_is_refused_naming_the_setting() {
    let h = harness().await;
    for (settings, field) in [
        (json!({ "time_zone": "Mars/Olympus_Mons" }), "time_zone"),
        (json!({ "locale": "tlh-QO" }), "locale"),
    ] {
        let err = crate::support::assert_error(
            h.patch("/v1/org", &json!({ "settings": settings }), "owner")
                .await,
            400,
            "validation",
        )
        .await;
        assert!(err["message"].as_str().unwrap().contains(field), "{err}");
    }
    // Any spelling of a known one is kept in its canonical form.
    let org = body(
        h.patch(
            "/v1/org",
            &json!({ "settings": { "time_zone": "europe/paris", "locale": "fr_fr" } }),
            "owner",
        )
        .await,
    )
    .await;
    assert_eq!(org["settings"]["time_zone"], "Europe/Paris");
    assert_eq!(org["settings"]["locale"], "fr-FR");
}

#[tokio::test]
async fn v4_no_page_file_or_queued_mail_shows_an_internal_marker() {
    let h = harness().await;
    let marker = |field: &str| format!("SECRET-{field}-7f3a");
    let mut wo = work_order();
    wo["internal_notes"] = json!(marker("notes"));
    wo["tasks"] = json!([
        { "id": "t1", "title": "Isolate circuit" },
        { "id": "t2", "title": marker("internal-task"), "internal": true }
    ]);
    wo["files"] = json!([
        { "id": "f1", "name": "before.png", "shared": true },
        { "id": "f2", "name": marker("unshared-file"), "caption": marker("unshared-caption"), "shared": false }
    ]);
    wo["parts"] = json!([{ "name": "Socket", "quantity": "2", "unit_cost": "4.57" }]);
    wo["updates"] = json!([
        { "id": "u1", "posted_at": "2026-03-02T09:00:00Z", "body": "On our way", "shared": true },
        { "id": "u2", "posted_at": "2026-03-02T10:00:00Z", "body": marker("unshared-update"), "shared": false }
    ]);
    wo["activity_log"] = json!([{ "at": "2026-03-02T09:00:00Z", "text": marker("activity") }]);
    wo["time_entries"] = json!([{ "staff": "technician", "minutes": 97, "hourly_rate": "83.19" }]);
    wo["costs"] = json!([{ "description": marker("cost"), "amount": "31.77" }]);
    h.put("/v1/staff/technician", &json!({ "name": "Sam technician", "role": "technician", "email": "SECRET-staff-email-7f3a@staff.example", "phone": "+1 555 7777" }), "owner")
        .await
        .assert_status_is_ok();
    for id in ["f1", "f2"] {
        h.client
            .put(format!("/v1/files/{id}"))
            .header("Authorization", format!("Bearer {}", h.key))
            .header("X-Portico-Staff", "owner")
            .content_type("image/png")
            .body(PNG.to_vec())
            .send()
            .await
            .assert_status_is_ok();
    }
    h.put("/v1/work-orders/wo1", &wo, "owner")
        .await
        .assert_status_is_ok();
    let (path, _) = share(&h, "work_order", "wo1").await;
    // Events that queue client mail: a task done, an update shared, a status change.
    for event in [
        json!({ "type": "task_done", "task_id": "t1", "done": true }),
        json!({ "type": "update_posted", "update": { "id": "u3", "posted_at": "2026-03-03T09:00:00Z", "body": "Halfway", "shared": true } }),
        json!({ "type": "update_posted", "update": { "id": "u4", "posted_at": "2026-03-03T09:30:00Z", "body": marker("internal-post"), "shared": false } }),
        json!({ "type": "status_changed", "status": "in_progress" }),
    ] {
        h.post("/v1/work-orders/wo1/events", &event, "owner")
            .await
            .assert_status_is_ok();
    }

    let (status, page) = text(h.client.get(&path).send().await).await;
    assert_eq!(status, 200);
    let mut seen = vec![page.clone()];
    for (i, _) in page.match_indices("/files/") {
        let end = i + page[i..].find('"').unwrap();
        let url = format!("{path}{}", &page[i..end]);
        let resp = h.client.get(&url).send().await;
        assert_eq!(resp.0.status().as_u16(), 200, "{url}");
        let bytes = resp.0.into_body().into_vec().await.unwrap();
        seen.push(String::from_utf8_lossy(&bytes).into_owned());
    }
    assert!(seen.len() >= 2, "the shared photo is served");
    // The unshared file is not served, even by a guessed URL.
    let (status, _) = text(h.client.get(format!("{path}/files/f2")).send().await).await;
    assert_eq!(status, 404);
    let outbox = h
        .store
        .notifications_of_org(&portico_core::model::OrgId::new("org1").unwrap())
        .await
        .unwrap();
    assert!(outbox.len() >= 3);
    seen.extend(outbox.iter().map(|n| format!("{:?}", n.kind)));
    // The emails themselves, as the dispatcher composes them (past the burst window, N6).
    h.clock.advance(time::Duration::minutes(3));
    let mailer = portico_core::testing::MemoryMailer::default();
    let report = h
        .portico
        .dispatch_once(
            &h.store,
            &mailer,
            &portico_core::service::DispatchConfig::default(),
        )
        .await
        .unwrap();
    assert!(report.sent >= 3, "{report:?}");
    seen.extend(
        mailer
            .sent()
            .into_iter()
            .flat_map(|m| [m.subject, m.text, m.html]),
    );
    // C6, V4: the same work order in the client portal, its files, and every portal mail.
    seen.extend(portal_views(&h).await);
    for text in &seen {
        for needle in ["SECRET-", "7f3a", "83.19", "31.77", "4.57", "+1 555 7777"] {
            assert!(
                !text.contains(needle),
                "{needle} leaked into: {}",
                &text[..text.len().min(300)]
            );
        }
    }
}

/// What the client portal shows of org1's client c1: the home, the job's page and its files,
/// and every portal mail (the invitation, the sign-in link, the password notice).
async fn portal_views<E: poem::Endpoint<Output = poem::Response>>(
    h: &crate::support::Harness<E>,
) -> Vec<String> {
    let mut seen = Vec::new();
    h.invite("c1").await;
    seen.extend(
        h.deliver()
            .await
            .into_iter()
            .flat_map(|m| [m.subject, m.text, m.html]),
    );
    let cookie = h.signed_in().await;
    for portal_path in ["/portal/org1/home", "/portal/org1/r/jobs/wo1"] {
        let (status, page) = crate::portal::text(h.page(portal_path, Some(&cookie)).await).await;
        assert_eq!(status, 200, "{portal_path}");
        seen.push(page);
    }
    let (_, job) =
        crate::portal::text(h.page("/portal/org1/r/jobs/wo1", Some(&cookie)).await).await;
    for (i, _) in job.match_indices("/files/") {
        let start = job[..i].rfind('"').unwrap() + 1;
        let end = i + job[i..].find('"').unwrap();
        let resp = h.page(&job[start..end], Some(&cookie)).await;
        assert_eq!(resp.0.status().as_u16(), 200, "{}", &job[start..end]);
        let bytes = resp.0.into_body().into_vec().await.unwrap();
        seen.push(String::from_utf8_lossy(&bytes).into_owned());
    }
    let (status, _) = crate::portal::text(
        h.page("/portal/org1/r/jobs/wo1/files/f2", Some(&cookie))
            .await,
    )
    .await;
    assert_eq!(
        status, 404,
        "the unshared file is not served in the portal either"
    );
    let csrf = crate::portal::csrf_of(&job);
    h.form(
        "/portal/org1/account",
        &format!("password=correct+horse+battery&csrf={csrf}"),
        Some(&cookie),
    )
    .await;
    seen.extend(
        h.deliver()
            .await
            .into_iter()
            .flat_map(|m| [m.subject, m.text, m.html]),
    );
    seen
}

#[tokio::test]
async fn s5_s7_s8_dead_links_get_their_pages_and_revoked_equals_unknown() {
    let h = harness().await;
    h.put("/v1/work-orders/wo1", &work_order(), "owner")
        .await
        .assert_status_is_ok();
    let (path, share_id) = share(&h, "work_order", "wo1").await;
    h.client.get(&path).send().await.assert_status_is_ok();
    h.post(
        &format!("/v1/shares/{share_id}/revoke"),
        &json!({}),
        "owner",
    )
    .await
    .assert_status_is_ok();

    let revoked = h.client.get(&path).send().await;
    let unknown = h
        .client
        .get("/s/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
        .send()
        .await;
    let malformed = h.client.get("/s/not-a-token").send().await;
    let headers = |r: &TestResponse| {
        let mut v: Vec<(String, String)> =
            r.0.headers()
                .iter()
                .filter(|(k, _)| *k != "date")
                .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_owned()))
                .collect();
        v.sort();
        v
    };
    let (hr, hu, hm) = (headers(&revoked), headers(&unknown), headers(&malformed));
    let (revoked, unknown, malformed) = (
        text(revoked).await,
        text(unknown).await,
        text(malformed).await,
    );
    assert_eq!(revoked.0, 404);
    assert_eq!(revoked, unknown, "S5: no oracle");
    assert_eq!(unknown, malformed);
    assert_eq!(hr, hu);
    assert_eq!(hu, hm);

    // S7: completed and paid, then past the expiry: "no longer active" with the contact.
    let (path, _) = share(&h, "work_order", "wo1").await;
    for event in [
        json!({ "type": "status_changed", "status": "completed" }),
        json!({ "type": "payment_recorded", "paid": true }),
    ] {
        h.post("/v1/work-orders/wo1/events", &event, "owner")
            .await
            .assert_status_is_ok();
    }
    h.clock.advance(time::Duration::days(31));
    let (status, page) = text(h.client.get(&path).send().await).await;
    assert_eq!(status, 410);
    assert!(
        page.contains("no longer active") && page.contains("Bright Spark Electrical"),
        "{page}"
    );

    // S8: the org's switch off: "not available"; on again, the link works.
    h.put("/v1/quotes/q1", &quote(), "owner")
        .await
        .assert_status_is_ok();
    let (q, _) = share(&h, "quote", "q1").await;
    let org = |on: bool| json!({ "name": "Bright Spark Electrical", "plan": "business", "contact_email": "office@brightspark.example", "settings": { "client_sharing": on } });
    let admin = |on: bool| {
        h.client
            .put("/v1/admin/orgs/org1")
            .header("Authorization", format!("Bearer {}", crate::support::ADMIN))
            .body_json(&org(on))
            .send()
    };
    admin(false).await.assert_status_is_ok();
    let (status, page) = text(h.client.get(&q).send().await).await;
    assert_eq!(status, 403);
    assert!(page.contains("Not available"), "{page}");
    admin(true).await.assert_status_is_ok();
    h.client.get(&q).send().await.assert_status_is_ok();
}

#[tokio::test]
async fn s9_every_answer_behind_a_token_is_private_and_robots_disallows_shares() {
    let h = harness().await;
    h.put("/v1/work-orders/wo1", &work_order(), "owner")
        .await
        .assert_status_is_ok();
    h.client
        .put("/v1/files/f1")
        .header("Authorization", format!("Bearer {}", h.key))
        .header("X-Portico-Staff", "owner")
        .content_type("image/png")
        .body(PNG.to_vec())
        .send()
        .await
        .assert_status_is_ok();
    let (path, _) = share(&h, "work_order", "wo1").await;
    for url in [
        path.clone(),
        format!("{path}/files/f1"),
        format!("{path}/files/nope"),
        "/s/unknown".into(),
    ] {
        let resp = h.client.get(&url).send().await;
        let hv = |n: &str| {
            resp.0
                .headers()
                .get(n)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        assert_eq!(hv("cache-control").as_deref(), Some("no-store"), "{url}");
        assert_eq!(
            hv("referrer-policy").as_deref(),
            Some("no-referrer"),
            "{url}"
        );
        assert_eq!(
            hv("x-robots-tag").as_deref(),
            Some("noindex, nofollow"),
            "{url}"
        );
        assert_eq!(
            hv("x-content-type-options").as_deref(),
            Some("nosniff"),
            "{url}"
        );
        let csp = hv("content-security-policy").unwrap();
        assert!(csp.starts_with("default-src 'none'"), "{url}: {csp}");
    }
    let page = h.client.get(&path).send().await;
    assert_eq!(
        page.0.headers().get("content-security-policy").unwrap(),
        CONTENT_SECURITY_POLICY
    );
    let (_, html) = text(page).await;
    assert!(html.contains(r#"<meta name="robots" content="noindex, nofollow">"#));
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "nothing from elsewhere"
    );
    let image = h.client.get(format!("{path}/files/f1")).send().await;
    assert_eq!(image.0.headers().get("content-type").unwrap(), "image/png");
    let (_, robots) = text(h.client.get("/robots.txt").send().await).await;
    assert!(robots.contains("Disallow: /s/"), "{robots}");
}

#[tokio::test]
async fn s10_failed_look_ups_are_throttled_and_valid_links_are_not() {
    let mut config = config();
    config.pages = PagesConfig {
        failed_lookups_per_minute: NonZeroU32::new(3).unwrap(),
        ..PagesConfig::default()
    };
    let h = harness_with(config).await;
    h.put("/v1/work-orders/wo1", &work_order(), "owner")
        .await
        .assert_status_is_ok();
    let (path, _) = share(&h, "work_order", "wo1").await;
    // Valid opens spend nothing.
    for _ in 0..20 {
        h.client.get(&path).send().await.assert_status_is_ok();
    }
    for i in 0..3 {
        let (status, _) = text(h.client.get(format!("/s/guess{i}")).send().await).await;
        assert_eq!(status, 404);
    }
    let blocked = h.client.get("/s/guess-more").send().await;
    assert_eq!(blocked.0.status().as_u16(), 429);
    let retry: u64 = blocked
        .0
        .headers()
        .get("retry-after")
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry >= 1);
    // While blocked, failures get 429 …
    let (status, _) = text(h.client.get("/s/guess-again").send().await).await;
    assert_eq!(status, 429);
    // … but a valid link from the same address (a whole office behind one NAT) still opens.
    h.client.get(&path).send().await.assert_status_is_ok();
    h.client
        .get(format!("{path}/events"))
        .send()
        .await
        .assert_status_is_ok();
    // Without a trusted proxy, X-Forwarded-For is the client's to forge: it changes nothing.
    let forged = h
        .client
        .get("/s/guess-forged")
        .header("X-Forwarded-For", "198.51.100.7")
        .send()
        .await;
    assert_eq!(forged.0.status().as_u16(), 429);
}

/// The test client's connections come from no address (0.0.0.0): trusting it as a proxy lets
/// a test pick the client address through X-Forwarded-For.
fn behind_proxy(failed_per_minute: u32) -> HttpConfig {
    let mut config = config();
    config.pages = PagesConfig {
        failed_lookups_per_minute: NonZeroU32::new(failed_per_minute).unwrap(),
        trusted_proxies: vec!["0.0.0.0/32".parse().unwrap(), "10.0.0.0/8".parse().unwrap()],
        ..PagesConfig::default()
    };
    config
}

#[tokio::test]
async fn s10_behind_a_trusted_proxy_each_client_address_has_its_own_budget() {
    let h = harness_with(behind_proxy(2)).await;
    let from = |xff: &str, n: usize| {
        h.client
            .get(format!("/s/guess{n}"))
            .header("X-Forwarded-For", xff.to_owned())
            .send()
    };
    // The right-most address that is not a trusted proxy is the client; what is left of it is
    // the client's own claim.
    for n in 0..2 {
        let xff = format!("198.51.100.{n}, 203.0.113.9, 10.1.1.1");
        assert_eq!(from(&xff, n).await.0.status().as_u16(), 404);
    }
    assert_eq!(
        from("1.1.1.1, 203.0.113.9", 3).await.0.status().as_u16(),
        429
    );
    assert_eq!(from("203.0.113.10", 4).await.0.status().as_u16(), 404);
}

#[tokio::test]
async fn s10_an_ipv6_guesser_counts_by_its_64_prefix() {
    let h = harness_with(behind_proxy(3)).await;
    let from = |client: String, n: u32| {
        h.client
            .get(format!("/s/guess{n}"))
            .header("X-Forwarded-For", client)
            .send()
    };
    let mut statuses = Vec::new();
    for n in 0..10u32 {
        // Every guess from another address of one /64.
        let status = from(format!("2001:db8:7:7::{n:x}"), n)
            .await
            .0
            .status()
            .as_u16();
        statuses.push(status);
    }
    assert_eq!(&statuses[..3], &[404, 404, 404]);
    assert!(statuses[3..].iter().all(|s| *s == 429), "{statuses:?}");
    let other = from("2001:db8:7:8::1".to_owned(), 99).await;
    assert_eq!(
        other.0.status().as_u16(),
        404,
        "another /64 has its own budget"
    );
}

#[tokio::test]
async fn v5_the_quote_form_decides_once_and_needs_its_csrf_value() {
    let h = harness().await;
    h.put("/v1/quotes/q1", &quote(), "owner")
        .await
        .assert_status_is_ok();
    let (path, _) = share(&h, "quote", "q1").await;
    let (_, page) = text(h.client.get(&path).send().await).await;
    let csrf = {
        let from = page.find("name=\"csrf\" value=\"").unwrap() + "name=\"csrf\" value=\"".len();
        page[from..from + page[from..].find('"').unwrap()].to_owned()
    };
    let post = |decision: &str, csrf: &str, origin: Option<&str>| {
        let mut req = h
            .client
            .post(format!("{path}/decision"))
            .content_type("application/x-www-form-urlencoded")
            .body(format!("decision={decision}&message=&csrf={csrf}"));
        if let Some(o) = origin {
            req = req.header("Origin", o);
        }
        req.send()
    };
    assert_eq!(
        post("approve", "forged", None).await.0.status().as_u16(),
        403
    );
    assert_eq!(
        post("approve", &csrf, Some("https://evil.example"))
            .await
            .0
            .status()
            .as_u16(),
        403
    );
    let cross_site = h
        .client
        .post(format!("{path}/decision"))
        .content_type("application/x-www-form-urlencoded")
        .header("Sec-Fetch-Site", "cross-site")
        .body(format!("decision=approve&message=&csrf={csrf}"))
        .send()
        .await;
    assert_eq!(cross_site.0.status().as_u16(), 403);
    let (status, refused) = text(post("request_changes", &csrf, None).await).await;
    assert_eq!(status, 409, "a change request needs a message");
    assert!(refused.contains("Say what should change."), "{refused}");

    let undecided = h.get("/v1/quotes/q1/decision").await;
    let undecided = crate::support::assert_error(undecided, 404, "not_found").await;
    assert_eq!(undecided["details"]["decided"], false);
    let approved = post("approve", &csrf, Some("https://api.example")).await;
    assert_eq!(approved.0.status().as_u16(), 303);
    let (_, page) = text(h.client.get(&path).send().await).await;
    assert!(page.contains("You approved this quote"), "{page}");
    assert!(!page.contains("name=\"decision\""), "the quote is locked");
    let (status, _) = text(post("decline", &csrf, None).await).await;
    assert_eq!(status, 409);
    // The host reads the decision and sees it in the record's audit log (S12).
    let decision = body(h.get("/v1/quotes/q1/decision").await).await;
    assert_eq!(decision["decision"], "approved");
    let audit = body(h.get("/v1/records/quote/q1/audit").await).await;
    let actions: Vec<(&str, &str)> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["actor"].as_str().unwrap(), e["action"].as_str().unwrap()))
        .collect();
    assert_eq!(
        actions,
        vec![("staff", "share_enabled"), ("client", "quote_decided")]
    );
    let outbox = h
        .store
        .notifications_of_org(&portico_core::model::OrgId::new("org1").unwrap())
        .await
        .unwrap();
    assert!(
        outbox
            .iter()
            .any(|n| n.to.as_str() == "office@brightspark.example"
                && matches!(
                    n.kind,
                    portico_core::model::NotificationKind::QuoteDecided { .. }
                ))
    );
}

#[tokio::test]
async fn v2_get_help_reaches_the_business_through_the_outbox() {
    let h = harness().await;
    h.put("/v1/work-orders/wo1", &work_order(), "owner")
        .await
        .assert_status_is_ok();
    let (path, _) = share(&h, "work_order", "wo1").await;
    let (_, page) = text(h.client.get(&path).send().await).await;
    let from = page.find("name=\"csrf\" value=\"").unwrap() + "name=\"csrf\" value=\"".len();
    let csrf = page[from..from + page[from..].find('"').unwrap()].to_owned();
    let post_help = |form: String| {
        h.client
            .post(format!("{path}/help"))
            .content_type("application/x-www-form-urlencoded")
            .body(form)
            .send()
    };
    let (status, page) =
        text(post_help(format!("name=&phone=&message=hi&csrf={csrf}")).await).await;
    assert_eq!(status, 422);
    assert!(page.contains("Please give your name"), "{page}");
    assert!(page.contains(">hi</textarea>"), "what was typed stays");
    let sent = post_help(format!(
        "name=Jordan&phone=%2B1+555+0142&message=The+breaker+trips&csrf={csrf}"
    ))
    .await;
    assert_eq!(sent.0.status().as_u16(), 303);
    let location = sent
        .0
        .headers()
        .get("location")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let (_, page) = text(
        h.client
            .get(location.split('#').next().unwrap())
            .send()
            .await,
    )
    .await;
    assert!(page.contains("Your message was sent"), "{page}");
    let outbox = h
        .store
        .notifications_of_org(&portico_core::model::OrgId::new("org1").unwrap())
        .await
        .unwrap();
    let help = outbox
        .iter()
        .find(|n| {
            matches!(
                n.kind,
                portico_core::model::NotificationKind::HelpRequested { .. }
            )
        })
        .unwrap();
    assert_eq!(help.to.as_str(), "office@brightspark.example");
}

#[tokio::test]
async fn v7_an_open_page_hears_status_changes_and_a_revoke() {
    let h = harness().await;
    h.put("/v1/work-orders/wo1", &work_order(), "owner")
        .await
        .assert_status_is_ok();
    let (path, share_id) = share(&h, "work_order", "wo1").await;
    let events = h.client.get(format!("{path}/events")).send().await;
    assert_eq!(events.0.content_type(), Some("text/event-stream"));
    let mut stream = events.0.into_body().into_bytes_stream();
    h.post(
        "/v1/work-orders/wo1/events",
        &json!({ "type": "status_changed", "status": "in_progress" }),
        "owner",
    )
    .await
    .assert_status_is_ok();
    let mut seen = String::new();
    while !seen.contains("in_progress") {
        let chunk = tokio::time::timeout(Duration::from_secs(5), stream.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(
        seen.contains("event: status") && seen.contains("In progress"),
        "{seen}"
    );
    h.post(
        &format!("/v1/shares/{share_id}/revoke"),
        &json!({}),
        "owner",
    )
    .await
    .assert_status_is_ok();
    while !seen.contains("event: gone") {
        let chunk = tokio::time::timeout(Duration::from_secs(5), stream.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
}

#[tokio::test]
async fn s11_s5_openings_are_recorded_without_a_write_per_request_and_cached_pages_follow_changes()
{
    let mut config = config();
    config.pages.opens_flush_every = Duration::from_millis(50);
    let h = harness_with(config).await;
    h.put("/v1/work-orders/wo1", &work_order(), "owner")
        .await
        .assert_status_is_ok();
    let (path, share_id) = share(&h, "work_order", "wo1").await;
    let before = body(h.get(&format!("/v1/shares/{share_id}")).await).await;
    assert!(before["first_opened_at"].is_null());
    for _ in 0..3 {
        h.client.get(&path).send().await.assert_status_is_ok();
    }
    let mut info = Value::Null;
    for _ in 0..100 {
        info = body(h.get(&format!("/v1/shares/{share_id}")).await).await;
        if !info["first_opened_at"].is_null() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!info["first_opened_at"].is_null(), "{info}");
    assert!(!info["last_opened_at"].is_null(), "{info}");

    // A served (cached) page follows the very next change: status, sections, revoke.
    h.post(
        "/v1/work-orders/wo1/events",
        &json!({ "type": "status_changed", "status": "on_hold" }),
        "owner",
    )
    .await
    .assert_status_is_ok();
    let (_, page) = text(h.client.get(&path).send().await).await;
    assert!(page.contains(">On hold<"), "the new status at once");
    h.patch(
        &format!("/v1/shares/{share_id}"),
        &json!({ "sections": ["scope"] }),
        "owner",
    )
    .await
    .assert_status_is_ok();
    let (_, page) = text(h.client.get(&path).send().await).await;
    assert!(!page.contains("Checklist"), "sections at once");
    h.post(
        &format!("/v1/shares/{share_id}/revoke"),
        &json!({}),
        "owner",
    )
    .await
    .assert_status_is_ok();
    let (status, _) = text(h.client.get(&path).send().await).await;
    assert_eq!(status, 404, "S5: the very next request");
}

#[tokio::test]
async fn v2_s10_get_help_has_a_budget_per_link_that_rotating_addresses_cannot_escape() {
    let mut config = behind_proxy(30);
    config.pages.help_per_link_burst = NonZeroU32::new(3).unwrap();
    let h = harness_with(config).await;
    h.put("/v1/work-orders/wo1", &work_order(), "owner")
        .await
        .assert_status_is_ok();
    let (path, _) = share(&h, "work_order", "wo1").await;
    let (_, page) = text(h.client.get(&path).send().await).await;
    let from = page.find("name=\"csrf\" value=\"").unwrap() + "name=\"csrf\" value=\"".len();
    let csrf = page[from..from + page[from..].find('"').unwrap()].to_owned();
    let mut statuses = Vec::new();
    for n in 0..12 {
        let resp = h
            .client
            .post(format!("{path}/help"))
            .header("X-Forwarded-For", format!("198.51.100.{n}"))
            .content_type("application/x-www-form-urlencoded")
            .body(format!("name=Jordan&phone=&message=Help+{n}&csrf={csrf}"))
            .send()
            .await;
        statuses.push(resp.0.status().as_u16());
    }
    assert_eq!(&statuses[..3], &[303, 303, 303]);
    assert!(statuses[3..].iter().all(|s| *s == 429), "{statuses:?}");
    let outbox = h
        .store
        .notifications_of_org(&portico_core::model::OrgId::new("org1").unwrap())
        .await
        .unwrap();
    let helps = outbox
        .iter()
        .filter(|n| {
            matches!(
                n.kind,
                portico_core::model::NotificationKind::HelpRequested { .. }
            )
        })
        .count();
    assert_eq!(helps, 3, "three emails to the business, not twelve");
}

#[tokio::test]
async fn s5_s10_unknown_and_revoked_links_get_the_same_bytes() {
    let h = harness().await;
    h.put("/v1/work-orders/wo1", &work_order(), "owner")
        .await
        .assert_status_is_ok();
    let (path, share_id) = share(&h, "work_order", "wo1").await;
    h.post(
        &format!("/v1/shares/{share_id}/revoke"),
        &json!({}),
        "owner",
    )
    .await
    .assert_status_is_ok();
    let revoked = h.client.get(&path).send().await;
    let unknown = h
        .client
        .get("/s/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
        .send()
        .await;
    let headers = |r: &TestResponse| {
        let mut all: Vec<(String, String)> =
            r.0.headers()
                .iter()
                .filter(|(k, _)| k.as_str() != "date")
                .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_owned()))
                .collect();
        all.sort();
        all
    };
    assert_eq!(headers(&revoked), headers(&unknown));
    let (a, revoked_body) = text(revoked).await;
    let (b, unknown_body) = text(unknown).await;
    assert_eq!((a, revoked_body), (b, unknown_body));
}

/// Reads `stream` until `needle` shows up (5 s at most).
pub async fn read_until(
    stream: &mut (impl futures_util::Stream<Item = Result<bytes::Bytes, std::io::Error>> + Unpin),
    seen: &mut String,
    needle: &str,
) {
    while !seen.contains(needle) {
        let chunk = tokio::time::timeout(Duration::from_secs(5), stream.next())
            .await
            .unwrap_or_else(|_| panic!("no {needle:?} within 5 s: {seen}"))
            .unwrap()
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
}

#[tokio::test]
async fn v7_live_streams_are_capped_per_link_and_per_address() {
    let mut config = behind_proxy(30);
    config.pages.live_streams_per_link = 3;
    config.pages.live_streams_per_address = 2;
    let h = harness_with(config).await;
    h.put("/v1/work-orders/wo1", &work_order(), "owner")
        .await
        .assert_status_is_ok();
    let (path, _) = share(&h, "work_order", "wo1").await;
    let open = |address: &str| {
        h.client
            .get(format!("{path}/events"))
            .header("X-Forwarded-For", address.to_owned())
            .send()
    };
    let first = open("198.51.100.1").await;
    let second = open("198.51.100.1").await;
    assert_eq!(second.0.status().as_u16(), 200);
    assert_eq!(
        open("198.51.100.1").await.0.status().as_u16(),
        429,
        "a third from one address"
    );
    let third = open("198.51.100.2").await;
    assert_eq!(third.0.status().as_u16(), 200, "another address");
    assert_eq!(
        open("198.51.100.3").await.0.status().as_u16(),
        429,
        "a fourth on one link"
    );
    drop(first);
    let again = open("198.51.100.3").await;
    assert_eq!(
        again.0.status().as_u16(),
        200,
        "a closed stream frees its seat"
    );
    // The streams still hear their link.
    let mut stream = again.0.into_body().into_bytes_stream();
    h.post(
        "/v1/work-orders/wo1/events",
        &json!({ "type": "status_changed", "status": "in_progress" }),
        "owner",
    )
    .await
    .assert_status_is_ok();
    read_until(&mut stream, &mut String::new(), "in_progress").await;
    drop((second, third));
}

#[tokio::test(start_paused = true)]
async fn v7_s7_an_open_page_hears_its_link_expire_by_time() {
    let h = harness().await;
    h.patch(
        "/v1/org",
        &json!({ "settings": { "link_expiry_days": 1 } }),
        "owner",
    )
    .await
    .assert_status_is_ok();
    h.put("/v1/work-orders/wo1", &work_order(), "owner")
        .await
        .assert_status_is_ok();
    let (path, _) = share(&h, "work_order", "wo1").await;
    for event in [
        json!({ "type": "status_changed", "status": "completed" }),
        json!({ "type": "payment_recorded", "paid": true }),
    ] {
        h.post("/v1/work-orders/wo1/events", &event, "owner")
            .await
            .assert_status_is_ok();
    }
    // Ten seconds before the link expires, the page is open …
    h.clock
        .advance(time::Duration::days(1) - time::Duration::seconds(10));
    let events = h.client.get(format!("{path}/events")).send().await;
    assert_eq!(events.0.status().as_u16(), 200);
    let mut stream = events.0.into_body().into_bytes_stream();
    // … and the expiry passes with no change anywhere: the page still hears it.
    h.clock.advance(time::Duration::seconds(11));
    tokio::time::advance(Duration::from_secs(11)).await;
    read_until(&mut stream, &mut String::new(), "event: gone").await;
}

/// Waits until the counted units of work stop moving (the live groups' re-reads are done).
async fn settled_units<E: Endpoint<Output = Response>>(h: &Harness<E>) -> u64 {
    let mut last = h.counting.units();
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = h.counting.units();
        if now == last {
            return now;
        }
        last = now;
    }
}

async fn set_status<E: Endpoint<Output = Response>>(h: &Harness<E>, id: &str, status: &str) {
    h.post(
        &format!("/v1/work-orders/{id}/events"),
        &json!({ "type": "status_changed", "status": status }),
        "owner",
    )
    .await
    .assert_status_is_ok();
}

#[tokio::test]
async fn v7_a_change_wakes_one_re_read_for_its_own_link_and_none_elsewhere() {
    let h = harness().await;
    for id in ["wo1", "wo2", "wo3"] {
        h.put(&format!("/v1/work-orders/{id}"), &work_order(), "owner")
            .await
            .assert_status_is_ok();
    }
    let (one, _) = share(&h, "work_order", "wo1").await;
    let (two, _) = share(&h, "work_order", "wo2").await;
    // What a status change costs with no page open anywhere on its record.
    let start = settled_units(&h).await;
    set_status(&h, "wo3", "in_progress").await;
    let alone = settled_units(&h).await - start;
    // Eight pages open on wo1's link, one on wo2's.
    let mut watching_one = Vec::new();
    for _ in 0..8 {
        let events = h.client.get(format!("{one}/events")).send().await;
        watching_one.push(events.0.into_body().into_bytes_stream());
    }
    let mut watching_two = h
        .client
        .get(format!("{two}/events"))
        .send()
        .await
        .0
        .into_body()
        .into_bytes_stream();
    let before = settled_units(&h).await;
    set_status(&h, "wo2", "in_progress").await;
    read_until(&mut watching_two, &mut String::new(), "in_progress").await;
    let after_two = settled_units(&h).await;
    assert_eq!(
        after_two - before,
        alone + 1,
        "wo2's one re-read; wo1's eight pages read nothing"
    );
    set_status(&h, "wo1", "in_progress").await;
    for stream in &mut watching_one {
        read_until(stream, &mut String::new(), "in_progress").await;
    }
    let after_one = settled_units(&h).await;
    assert_eq!(
        after_one - after_two,
        alone + 1,
        "one re-read for eight pages of one link"
    );
}
