//! The integration API end to end on the fakes (I1–I3, S1–S6, P1, I6).

use portico_core::service::Opened;
use serde_json::json;

use crate::support::{ADMIN, assert_error, body, harness, work_order};

#[tokio::test]
async fn i3_share_walk_technician_refused_owner_shares_changes_revokes_reshares() {
    let h = harness().await;
    let change = body(h.put("/v1/work-orders/wo1", &work_order(), "owner").await).await;
    assert_eq!(change["version"], 1);
    assert_eq!(
        change["share_prompt"]["first_schedule"], true,
        "P1 on the first schedule: {change}"
    );

    let refused = h
        .post("/v1/records/work_order/wo1/share", &json!({}), "technician")
        .await;
    let error = assert_error(refused, 403, "not_permitted").await;
    assert_eq!(error["details"]["role"], "technician");

    let share = body(
        h.post("/v1/records/work_order/wo1/share", &json!({}), "owner")
            .await,
    )
    .await;
    let link = share["link"].as_str().unwrap().to_owned();
    assert!(link.starts_with("https://share.example/s/"), "{link}");
    assert_eq!(share["recipient"], "jordan@client.example");
    assert_eq!(share["sections"].as_array().unwrap().len(), 9);
    let again = body(
        h.post("/v1/records/work_order/wo1/share", &json!({}), "owner")
            .await,
    )
    .await;
    assert_eq!(again["link"], share["link"], "S4: the same link");

    let id = share["id"].as_str().unwrap().to_owned();
    let changed = h
        .patch(
            &format!("/v1/shares/{id}"),
            &json!({ "sections": ["schedule", "updates"] }),
            "admin",
        )
        .await;
    let changed = body(changed).await;
    assert_eq!(changed["sections"], json!(["schedule", "updates"]));
    assert_eq!(changed["link"], share["link"], "S6: the link stays");
    let fetched = body(h.get(&format!("/v1/shares/{id}")).await).await;
    assert_eq!(fetched["sections"], json!(["schedule", "updates"]));

    let revoked = body(
        h.post(&format!("/v1/shares/{id}/revoke"), &json!({}), "owner")
            .await,
    )
    .await;
    assert_eq!(revoked["active"], false);
    assert!(revoked["link"].is_null());
    let token = link.rsplit('/').next().unwrap();
    assert_eq!(
        h.portico.open_link(token).await.unwrap(),
        Opened::NotFound,
        "S5"
    );

    let fresh = body(
        h.post("/v1/records/work_order/wo1/share", &json!({}), "owner")
            .await,
    )
    .await;
    assert_ne!(fresh["link"], share["link"], "a fresh token");
    let fresh_token = fresh["link"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    assert!(matches!(
        h.portico.open_link(&fresh_token).await.unwrap(),
        Opened::View { .. }
    ));
    assert_eq!(
        h.portico.open_link(token).await.unwrap(),
        Opened::NotFound,
        "the old link never works again"
    );
    let listed = body(h.get("/v1/records/work_order/wo1/shares").await).await;
    assert_eq!(listed.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn i2_events_and_upserts_of_quotes_and_invoices() {
    let h = harness().await;
    h.put("/v1/work-orders/wo1", &work_order(), "owner")
        .await
        .assert_status_is_ok();
    h.post("/v1/records/work_order/wo1/share", &json!({}), "owner")
        .await
        .assert_status_is_ok();
    let ticked = body(
        h.post(
            "/v1/work-orders/wo1/events",
            &json!({ "type": "task_done", "task_id": "t1", "done": true }),
            "technician",
        )
        .await,
    )
    .await;
    assert_eq!(
        ticked["notifications"],
        json!(["tasks_completed"]),
        "{ticked}"
    );
    let status = body(
        h.post(
            "/v1/work-orders/wo1/events",
            &json!({ "type": "status_changed", "status": "in_progress" }),
            "technician",
        )
        .await,
    )
    .await;
    assert_eq!(status["notifications"], json!(["status_changed"]));
    let shared_by_tech = h.post(
        "/v1/work-orders/wo1/events",
        &json!({ "type": "update_posted", "update": { "id": "u9", "posted_at": "2026-03-02T10:00:00Z", "body": "Done soon", "shared": true } }),
        "technician",
    ).await;
    assert_error(shared_by_tech, 403, "not_permitted").await;
    let quote = json!({
        "client_id": "c1", "number": "Q-1", "title": "Rewire", "status": "sent",
        "items": [{ "description": "Labour", "quantity": "3", "unit_price": "95.00" }],
        "taxes": [{ "name": "Sales tax", "percent": "8.875" }]
    });
    assert_eq!(
        body(h.put("/v1/quotes/q1", &quote, "owner").await).await["version"],
        1
    );
    let invoice = json!({
        "client_id": "c1", "work_order_id": "wo1", "number": "INV-1", "title": "Rewire", "status": "issued",
        "items": [{ "description": "Labour", "quantity": "3", "unit_price": "95.00" }], "amount_paid": "100.00"
    });
    h.put("/v1/invoices/inv1", &invoice, "owner")
        .await
        .assert_status_is_ok();
    let mut bad_money = invoice.clone();
    bad_money["amount_paid"] = json!("12,50");
    assert_error(
        h.put("/v1/invoices/inv1", &bad_money, "owner").await,
        400,
        "validation",
    )
    .await;
    let mut wrong_money = invoice.clone();
    wrong_money["amount_paid"] = json!(["12.50"]);
    assert_error(
        h.put("/v1/invoices/inv1", &wrong_money, "owner").await,
        400,
        "bad_request",
    )
    .await;
}

#[tokio::test]
async fn i1_keys_and_admin_token_are_required() {
    let h = harness().await;
    let none = h
        .client
        .get("/v1/records/work_order/wo1/shares")
        .send()
        .await;
    assert_error(none, 401, "unauthorized").await;
    let wrong = h
        .client
        .get("/v1/records/work_order/wo1/shares")
        .header("Authorization", "Bearer pk_nope")
        .send()
        .await;
    assert_error(wrong, 401, "unauthorized").await;
    let org = json!({ "name": "Evil", "plan": "business" });
    let with_key = h
        .client
        .put("/v1/admin/orgs/evil")
        .header("Authorization", format!("Bearer {}", h.key))
        .body_json(&org)
        .send()
        .await;
    assert_error(with_key, 401, "unauthorized").await;
    let with_admin = h
        .client
        .put("/v1/admin/orgs/evil")
        .header("Authorization", format!("Bearer {ADMIN}"))
        .body_json(&org)
        .send()
        .await;
    with_admin.assert_status_is_ok();
    let no_staff = h
        .client
        .put("/v1/work-orders/wo1")
        .header("Authorization", format!("Bearer {}", h.key))
        .body_json(&work_order())
        .send()
        .await;
    assert_error(no_staff, 400, "bad_request").await;
    let ghost = h.put("/v1/work-orders/wo1", &work_order(), "ghost").await;
    assert_error(ghost, 403, "unknown_staff").await;
}

#[tokio::test]
async fn i6_errors_have_one_shape_and_never_500() {
    let h = harness().await;
    let auth = format!("Bearer {}", h.key);
    let malformed = h
        .client
        .put("/v1/clients/c2")
        .header("Authorization", &auth)
        .header("X-Portico-Staff", "owner")
        .content_type("application/json")
        .body("{\"name\": ")
        .send()
        .await;
    assert_error(malformed, 400, "bad_request").await;
    let wrong_type = h
        .put(
            "/v1/clients/c2",
            &json!({ "name": { "first": "Jo" } }),
            "owner",
        )
        .await;
    assert_error(wrong_type, 400, "bad_request").await;
    let bad_id = h
        .put("/v1/clients/bad%20id", &json!({ "name": "x" }), "owner")
        .await;
    assert_error(bad_id, 400, "validation").await;
    let bad_email = h
        .put(
            "/v1/clients/c2",
            &json!({ "name": "x", "email": "not an email\r\nBcc: x@y.z" }),
            "owner",
        )
        .await;
    assert_error(bad_email, 400, "validation").await;
    let unknown_route = h.get("/v1/nothing-here").await;
    assert_error(unknown_route, 404, "not_found").await;
    let unknown_share = h
        .get("/v1/shares/00000000-0000-0000-0000-000000000000")
        .await;
    assert_error(unknown_share, 404, "not_found").await;
    let not_uuid = h.get("/v1/shares/zzz").await;
    assert_error(not_uuid, 404, "not_found").await;
    let huge = "x".repeat(70 * 1024);
    let too_large = h
        .put("/v1/clients/c2", &json!({ "name": huge }), "owner")
        .await;
    assert_error(too_large, 413, "payload_too_large").await;
    let bad_utf8 = h
        .client
        .put("/v1/clients/c2")
        .header("Authorization", &auth)
        .header("X-Portico-Staff", "owner")
        .content_type("application/json")
        .body(vec![b'{', 0xff, 0xfe, b'}'])
        .send()
        .await;
    assert_error(bad_utf8, 400, "bad_request").await;
    let no_client = h
        .put(
            "/v1/work-orders/wo2",
            &{
                let mut wo = work_order();
                wo["client_id"] = json!(null);
                wo
            },
            "owner",
        )
        .await;
    no_client.assert_status_is_ok();
    let share = h
        .post("/v1/records/work_order/wo2/share", &json!({}), "owner")
        .await;
    assert_error(share, 400, "no_client").await;
    // The operator moves the org to a plan without sharing.
    let starter = json!({ "name": "Small Co", "plan": "starter" });
    h.client
        .put("/v1/admin/orgs/org1")
        .header("Authorization", format!("Bearer {ADMIN}"))
        .body_json(&starter)
        .send()
        .await
        .assert_status_is_ok();
    let plan = h
        .post("/v1/records/work_order/wo2/share", &json!({}), "owner")
        .await;
    let error = assert_error(plan, 403, "plan_required").await;
    assert_eq!(error["details"]["required"], "business");
}

#[tokio::test]
async fn n5_staff_see_the_emails_and_why_one_failed_while_pending_and_once_dead() {
    let h = harness().await;
    h.put("/v1/work-orders/wo1", &work_order(), "owner")
        .await
        .assert_status_is_ok();
    h.post("/v1/records/work_order/wo1/share", &json!({}), "owner")
        .await
        .assert_status_is_ok();
    let listed = body(h.get("/v1/notifications").await).await;
    assert_eq!(listed[0]["topic"], "link_shared");
    assert_eq!(listed[0]["state"], "pending");
    assert_eq!(listed[0]["to"], "jordan@client.example");

    let mailer = portico_core::testing::MemoryMailer::default();
    mailer.fail(Some(false));
    let report = h
        .portico
        .dispatch_once(
            &h.store,
            &mailer,
            &portico_core::service::DispatchConfig::default(),
        )
        .await
        .unwrap();
    assert_eq!(report.retried, 1);
    assert_eq!(report.failures.len(), 1, "{report:?}");
    let pending = body(h.get("/v1/notifications?state=pending").await).await;
    assert!(
        pending[0]["reason"].as_str().unwrap().contains("421"),
        "a pending email says why its last attempt failed: {pending}"
    );
    h.clock.advance(time::Duration::hours(1));
    mailer.fail(Some(true));
    let report = h
        .portico
        .dispatch_once(
            &h.store,
            &mailer,
            &portico_core::service::DispatchConfig::default(),
        )
        .await
        .unwrap();
    assert_eq!(report.dead, 1);
    let dead = body(h.get("/v1/notifications?state=dead").await).await;
    assert_eq!(dead.as_array().unwrap().len(), 1, "{dead}");
    assert!(
        dead[0]["reason"].as_str().unwrap().contains("550"),
        "{dead}"
    );
    let sent = body(h.get("/v1/notifications?state=sent").await).await;
    assert!(sent.as_array().unwrap().is_empty());
    assert_error(
        h.get("/v1/notifications?state=lost").await,
        400,
        "bad_request",
    )
    .await;
}

/// I6: unknown records, and another org's, answer 404 on their share and audit lists.
#[tokio::test]
async fn i3_unknown_records_answer_404_on_their_shares_and_audit() {
    let h = harness().await;
    h.put("/v1/work-orders/wo1", &work_order(), "owner")
        .await
        .assert_status_is_ok();
    h.get("/v1/records/work_order/wo1/shares")
        .await
        .assert_status_is_ok();
    for path in [
        "/v1/records/work_order/nope/shares",
        "/v1/records/work_order/nope/audit",
        "/v1/records/quote/wo1/shares",
        "/v1/records/invoice/wo1/audit",
    ] {
        assert_error(h.get(path).await, 404, "not_found").await;
    }
}

/// The org with every value in effect; a partial change keeps what it leaves out.
#[tokio::test]
async fn i1_the_org_reads_back_and_changes_in_part() {
    let h = harness().await;
    let org = body(h.get("/v1/org").await).await;
    assert_eq!(org["name"], "Bright Spark Electrical");
    assert_eq!(org["settings"]["link_expiry_days"], 30);
    assert_eq!(org["settings"]["client_sharing"], true);
    assert_eq!(org["contact_email"], "office@brightspark.example");
    assert!(
        org.get("contact_phone").is_none(),
        "absent, not null: {org}"
    );
    let patched = body(
        h.patch(
            "/v1/org",
            &json!({ "settings": { "photos_shared_by_default": true }, "contact_phone": "+1 555 0100" }),
            "owner",
        )
        .await,
    )
    .await;
    assert_eq!(patched["settings"]["photos_shared_by_default"], true);
    assert_eq!(patched["settings"]["link_expiry_days"], 30, "kept");
    assert_eq!(
        patched["contact_email"], "office@brightspark.example",
        "kept"
    );
    assert_eq!(patched["contact_phone"], "+1 555 0100");
    let cleared = body(
        h.patch("/v1/org", &json!({ "contact_phone": null }), "owner")
            .await,
    )
    .await;
    assert!(cleared.get("contact_phone").is_none(), "{cleared}");
    assert_eq!(body(h.get("/v1/org").await).await, cleared);
    let refused = h
        .patch(
            "/v1/org",
            &json!({ "settings": { "link_expiry_days": 0 } }),
            "owner",
        )
        .await;
    let error = assert_error(refused, 400, "validation").await;
    assert_eq!(
        error["details"]["field"], "link_expiry_days",
        "the refused value is named for machines too: {error}"
    );
    let refused = h
        .patch(
            "/v1/org",
            &json!({ "contact_email": "not an email" }),
            "owner",
        )
        .await;
    assert_eq!(refused.0.status().as_u16(), 400);
    assert_eq!(
        body(h.get("/v1/org").await).await,
        cleared,
        "nothing changed"
    );
    let admin = h
        .client
        .get("/v1/admin/orgs/org1")
        .header("Authorization", format!("Bearer {ADMIN}"))
        .send()
        .await;
    assert_eq!(body(admin).await, cleared);
}

/// I6: NUL in any text and amounts beyond the store's range answer 400 naming the field.
#[tokio::test]
async fn i6_nul_text_and_huge_amounts_are_400_naming_the_field() {
    let h = harness().await;
    let mut wo = work_order();
    wo["tasks"][0]["title"] = json!("Isolate\u{0}circuit");
    let v = assert_error(
        h.put("/v1/work-orders/wo1", &wo, "owner").await,
        400,
        "validation",
    )
    .await;
    assert!(v["message"].as_str().unwrap().contains("task title"), "{v}");
    let mut wo = work_order();
    wo["costs"][0]["amount"] = json!("10000000000000000");
    let v = assert_error(
        h.put("/v1/work-orders/wo1", &wo, "owner").await,
        400,
        "validation",
    )
    .await;
    assert!(
        v["message"].as_str().unwrap().contains("costs amount"),
        "{v}"
    );
    let key = h
        .client
        .post("/v1/admin/orgs/org1/api-keys")
        .header("Authorization", format!("Bearer {ADMIN}"))
        .body_json(&json!({ "label": "host\u{0}" }))
        .send()
        .await;
    assert_error(key, 400, "validation").await;
    let client = json!({ "name": "Jordan\u{0}Lee" });
    assert_error(
        h.put("/v1/clients/c2", &client, "owner").await,
        400,
        "validation",
    )
    .await;
    // A schema-valid quote without its optional date is stored readably and re-written.
    let quote = json!({ "client_id": "c1", "number": "Q-1", "title": "Plain", "status": "sent",
        "items": [{ "description": "Labour", "quantity": "1", "unit_price": "10" }] });
    h.put("/v1/quotes/plain-q", &quote, "owner")
        .await
        .assert_status_is_ok();
    h.post("/v1/records/quote/plain-q/share", &json!({}), "owner")
        .await
        .assert_status_is_ok();
    h.put("/v1/quotes/plain-q", &quote, "owner")
        .await
        .assert_status_is_ok();
    let change = body(h.put("/v1/work-orders/wo1", &work_order(), "owner").await).await;
    assert!(
        change.get("expires_at").is_none(),
        "absent, not null: {change}"
    );
}

/// V3 over the API: a full upsert that leaves out `shared` keeps a private photo private under
/// an org that shares new photos by default.
#[tokio::test]
async fn v3_an_upsert_leaving_out_shared_keeps_a_private_photo_private() {
    let h = harness().await;
    let mut wo = work_order();
    wo["files"] = json!([{ "id": "private", "name": "meter.jpg", "shared": false }]);
    h.put("/v1/work-orders/wo1", &wo, "owner")
        .await
        .assert_status_is_ok();
    h.patch(
        "/v1/org",
        &json!({ "settings": { "photos_shared_by_default": true } }),
        "owner",
    )
    .await
    .assert_status_is_ok();
    wo["files"] =
        json!([{ "id": "private", "name": "meter.jpg" }, { "id": "new", "name": "new.jpg" }]);
    h.put("/v1/work-orders/wo1", &wo, "owner")
        .await
        .assert_status_is_ok();
    let share = body(
        h.post("/v1/records/work_order/wo1/share", &json!({}), "owner")
            .await,
    )
    .await;
    let token = share["link"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let Opened::View { view, .. } = h.portico.open_link(&token).await.unwrap() else {
        panic!("the link opens")
    };
    let json = serde_json::to_string(&view).unwrap();
    assert!(
        json.contains("new.jpg") && !json.contains("meter.jpg"),
        "{json}"
    );
}

/// A record moved to another client ends its share; the answer names the ended share.
#[tokio::test]
async fn v4_moving_a_shared_record_to_another_client_ends_its_link() {
    let h = harness().await;
    h.put("/v1/work-orders/wo1", &work_order(), "owner")
        .await
        .assert_status_is_ok();
    let share = body(
        h.post("/v1/records/work_order/wo1/share", &json!({}), "owner")
            .await,
    )
    .await;
    h.put(
        "/v1/clients/c2",
        &json!({ "name": "Other Person", "email": "other@client.example" }),
        "owner",
    )
    .await
    .assert_status_is_ok();
    let mut wo = work_order();
    wo["client_id"] = json!("c2");
    let change = body(h.put("/v1/work-orders/wo1", &wo, "owner").await).await;
    assert_eq!(change["ended_share_ids"], json!([share["id"]]));
    let token = share["link"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    assert!(matches!(
        h.portico.open_link(&token).await.unwrap(),
        Opened::NotFound
    ));
}

/// S2, I1: the plan is the operator's: the org's own key cannot lift it; org-wide settings need
/// an owner, admin or sole trader named as the actor.
#[tokio::test]
async fn s2_the_plan_is_set_only_through_the_admin_routes_and_settings_need_an_org_manager() {
    let h = harness().await;
    let mut org = body(h.get("/v1/org").await).await;
    assert_eq!(org["plan"], "business");
    // Down to starter by the operator …
    let starter = json!({ "name": "Bright Spark Electrical", "plan": "starter", "contact_email": "office@brightspark.example" });
    h.client
        .put("/v1/admin/orgs/org1")
        .header("Authorization", format!("Bearer {ADMIN}"))
        .body_json(&starter)
        .send()
        .await
        .assert_status_is_ok();
    // … and the org's own key cannot lift it back.
    let lifted = json!({ "name": "Bright Spark Electrical", "plan": "business", "contact_email": "office@brightspark.example" });
    assert_error(
        h.put("/v1/org", &lifted, "owner").await,
        403,
        "plan_set_by_operator",
    )
    .await;
    assert_eq!(body(h.get("/v1/org").await).await["plan"], "starter");
    org["plan"] = json!("starter");
    let same_plan = json!({ "name": "Renamed", "plan": "starter" });
    let renamed = body(h.put("/v1/org", &same_plan, "owner").await).await;
    assert_eq!(renamed["name"], "Renamed");
    for role in ["technician", "apprentice", "supervisor"] {
        let refused = h
            .patch(
                "/v1/org",
                &json!({ "settings": { "client_sharing": false } }),
                role,
            )
            .await;
        let e = assert_error(refused, 403, "not_permitted").await;
        assert_eq!(e["details"]["role"], role);
    }
    for role in ["admin", "sole_trader", "owner"] {
        h.patch("/v1/org", &json!({ "name": format!("By {role}") }), role)
            .await
            .assert_status_is_ok();
    }
    let without_actor = h
        .client
        .patch("/v1/org")
        .header("Authorization", format!("Bearer {}", h.key))
        .body_json(&json!({ "name": "Nobody" }))
        .send()
        .await;
    assert_eq!(without_actor.0.status().as_u16(), 400);
}

/// I1: keys are listed without their secret and revoked by the org's manager or the operator,
/// effective on the next request.
#[tokio::test]
async fn i1_api_keys_are_listed_without_secrets_and_revoked_at_once() {
    let h = harness().await;
    let second = body(
        h.client
            .post("/v1/admin/orgs/org1/api-keys")
            .header("Authorization", format!("Bearer {ADMIN}"))
            .body_json(&json!({ "label": "second" }))
            .send()
            .await,
    )
    .await;
    let second_key = second["key"].as_str().unwrap().to_owned();
    let second_id = second["id"].as_str().unwrap().to_owned();
    let listed = body(h.get("/v1/api-keys").await).await;
    let text = listed.to_string();
    assert_eq!(listed.as_array().unwrap().len(), 2, "{listed}");
    assert!(
        !text.contains(&second_key) && !text.contains(&h.key),
        "no secret: {text}"
    );
    assert_eq!(listed[1]["label"], "second");
    assert!(listed[1].get("revoked_at").is_none());
    let use_second = || {
        h.client
            .get("/v1/org")
            .header("Authorization", format!("Bearer {second_key}"))
            .send()
    };
    use_second().await.assert_status_is_ok();
    let revoke = |staff: &'static str, id: String| {
        h.client
            .delete(format!("/v1/api-keys/{id}"))
            .header("Authorization", format!("Bearer {}", h.key))
            .header("X-Portico-Staff", staff)
            .send()
    };
    assert_error(
        revoke("technician", second_id.clone()).await,
        403,
        "not_permitted",
    )
    .await;
    revoke("owner", second_id.clone())
        .await
        .assert_status_is_ok();
    assert_error(use_second().await, 401, "unauthorized").await;
    assert_error(
        revoke("owner", "00000000-0000-0000-0000-000000000000".into()).await,
        404,
        "not_found",
    )
    .await;
    let listed = body(h.get("/v1/api-keys").await).await;
    assert!(listed[1]["revoked_at"].is_string(), "{listed}");
    // The operator revokes the first key: the org's own calls stop at once.
    let first_id = listed[0]["id"].as_str().unwrap().to_owned();
    h.client
        .delete(format!("/v1/admin/orgs/org1/api-keys/{first_id}"))
        .header("Authorization", format!("Bearer {ADMIN}"))
        .send()
        .await
        .assert_status_is_ok();
    assert_error(h.get("/v1/org").await, 401, "unauthorized").await;
}

/// I2: an event naming a task the work order does not have answers 404 naming it, and changes
/// nothing.
#[tokio::test]
async fn i2_task_done_for_an_unknown_task_is_404_naming_it() {
    let h = harness().await;
    h.put("/v1/work-orders/wo1", &work_order(), "owner")
        .await
        .assert_status_is_ok();
    let event = json!({ "type": "task_done", "task_id": "t9", "done": true });
    let e = assert_error(
        h.post("/v1/work-orders/wo1/events", &event, "owner").await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(e["details"]["task_id"], "t9");
    assert!(e["message"].as_str().unwrap().contains("t9"), "{e}");
}

/// S7: a host importing a finished job says when it was completed and paid; the link's days
/// count from the later of the two, and a time in the future is a 400 naming the field.
#[tokio::test]
async fn s7_completed_at_and_paid_at_from_the_host_start_the_links_clock() {
    let h = harness().await;
    let mut wo = work_order();
    wo["status"] = json!("completed");
    wo["paid"] = json!(true);
    wo["completed_at"] = json!("2026-02-20T10:00:00Z");
    wo["paid_at"] = json!("2026-02-25T16:30:00Z");
    h.put("/v1/work-orders/wo1", &wo, "owner")
        .await
        .assert_status_is_ok();
    let share = body(
        h.post("/v1/records/work_order/wo1/share", &json!({}), "owner")
            .await,
    )
    .await;
    assert_eq!(share["expires_at"], "2026-03-27T16:30:00Z", "{share}");
    wo["paid_at"] = json!("2030-01-01T00:00:00Z");
    let err = assert_error(
        h.put("/v1/work-orders/wo1", &wo, "owner").await,
        400,
        "validation",
    )
    .await;
    assert!(
        err["message"].as_str().unwrap().contains("paid_at"),
        "{err}"
    );
}
