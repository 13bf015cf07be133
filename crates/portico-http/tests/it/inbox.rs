//! C7 through HTTP: a client's messages and service requests in the portal, and the host API
//! that reads and answers them, with the org's event log.

use serde_json::json;

use crate::portal::{csrf_of, text};
use crate::support::{assert_error, body, harness, work_order};

#[tokio::test]
async fn c7_a_client_writes_staff_answer_through_the_api_and_the_portal_marks_it_read() {
    let h = harness().await;
    h.put("/v1/work-orders/wo1", &work_order(), "owner")
        .await
        .assert_status_is_ok();
    h.invite("c1").await;
    h.deliver().await;
    let cookie = h.signed_in().await;
    let (status, threads) = text(h.page("/portal/org1/messages", Some(&cookie)).await).await;
    assert_eq!(status, 200);
    assert!(threads.contains("About: Rewire kitchen"), "{threads}");
    let csrf = csrf_of(&threads);
    let resp = h
        .form(
            "/portal/org1/messages",
            &format!("thread=job%3Awo1&body=Is+Tuesday+fine%3F&csrf={csrf}"),
            Some(&cookie),
        )
        .await;
    resp.assert_status(poem::http::StatusCode::SEE_OTHER);
    let listed = body(h.get("/v1/clients/c1/messages").await).await;
    assert_eq!(listed[0]["from"], "client");
    assert_eq!(listed[0]["job_id"], "wo1");
    assert_eq!(listed[0]["body"], "Is Tuesday fine?");
    let sent = body(
        h.post(
            "/v1/clients/c1/messages",
            &json!({ "body": "Tuesday <is> fine.", "job_id": "wo1" }),
            "technician",
        )
        .await,
    )
    .await;
    assert_eq!(sent["from"], "staff");
    assert_eq!(sent["author_name"], "Sam");
    let (_, home) = text(h.page("/portal/org1/home", Some(&cookie)).await).await;
    assert!(home.contains("1 unread"), "{home}");
    let (status, thread) = text(
        h.page("/portal/org1/messages/jobs/wo1", Some(&cookie))
            .await,
    )
    .await;
    assert_eq!(status, 200);
    assert!(thread.contains("Is Tuesday fine?"), "{thread}");
    assert!(
        thread.contains("Tuesday &#60;is&#62; fine.") && !thread.contains("<is>"),
        "{thread}"
    );
    let (_, home) = text(h.page("/portal/org1/home", Some(&cookie)).await).await;
    assert!(!home.contains("unread"), "read once opened");
    let events = body(h.get("/v1/events?after=0").await).await;
    assert_eq!(events["events"][0]["type"], "portal.first_sign_in");
    assert_eq!(events["events"][0]["client_id"], "c1");
    assert_eq!(events["events"][1]["type"], "message.received");
    assert_eq!(events["events"][1]["seq"], 2);
    assert_eq!(events["next_after"], 2);
    assert_eq!(events["more"], false);
    let marked = body(
        h.post("/v1/clients/c1/messages/read", &json!({}), "owner")
            .await,
    )
    .await;
    assert_eq!(marked["marked"], 1);
    let mail = h.deliver().await;
    assert!(
        mail.iter()
            .any(|m| m.to.as_str() == "jordan@client.example"
                && m.text.contains("Tuesday <is> fine.")),
        "the client is mailed the answer"
    );
    assert!(
        mail.iter()
            .any(|m| m.to.as_str() == "office@brightspark.example"
                && m.text.contains("Is Tuesday fine?")),
        "the business is mailed the message"
    );
}

#[tokio::test]
async fn c7_a_prefilled_service_request_reaches_the_host_and_moves_through_its_states() {
    let h = harness().await;
    h.invite("c1").await;
    h.deliver().await;
    let cookie = h.signed_in().await;
    let (status, form) = text(h.page("/portal/org1/request", Some(&cookie)).await).await;
    assert_eq!(status, 200);
    assert!(form.contains("value=\"Jordan Lee\"") && form.contains("12 Elm Street"));
    let csrf = csrf_of(&form);
    let bad = format!("name=Jordan&description=Leak&date1=tomorrow&csrf={csrf}");
    let (status, page) = text(h.form("/portal/org1/request", &bad, Some(&cookie)).await).await;
    assert_eq!(status, 422);
    assert!(
        page.contains("year-month-day") && page.contains("Leak"),
        "kept what was typed"
    );
    let empty = format!("name=Jordan&description=+&csrf={csrf}");
    let (status, _) = text(h.form("/portal/org1/request", &empty, Some(&cookie)).await).await;
    assert_eq!(status, 422);
    let good = format!(
        "name=Jordan+Lee&email=jordan%40client.example&phone=555&address=12+Elm&description=Leaking+tap&csrf={csrf}"
    );
    let sent = h.form("/portal/org1/request", &good, Some(&cookie)).await;
    sent.assert_status(poem::http::StatusCode::SEE_OTHER);
    sent.assert_header("location", "/portal/org1/request?sent=1");
    let (status, page) = text(h.page("/portal/org1/request?sent=1", Some(&cookie)).await).await;
    assert_eq!(status, 200);
    assert!(page.contains("Request sent"));
    let new = body(h.get("/v1/service-requests?state=new").await).await;
    assert_eq!(new[0]["description"], "Leaking tap");
    assert_eq!(new[0]["client_id"], "c1");
    let id = new[0]["service_request_id"].as_str().unwrap().to_owned();
    let moved = body(
        h.post(
            &format!("/v1/service-requests/{id}/state"),
            &json!({ "state": "converted" }),
            "owner",
        )
        .await,
    )
    .await;
    assert_eq!(moved["state"], "converted");
    assert_eq!(
        body(h.get("/v1/service-requests?state=new").await).await,
        json!([])
    );
    let events = body(h.get("/v1/events").await).await;
    assert_eq!(events["events"][0]["type"], "portal.first_sign_in");
    assert_eq!(events["events"][1]["type"], "service_request.created");
    assert_eq!(events["events"][1]["service_request_id"], id.as_str());
    assert_error(
        h.post(
            "/v1/service-requests/00000000-0000-4000-8000-000000000000/state",
            &json!({ "state": "seen" }),
            "owner",
        )
        .await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        h.post(
            &format!("/v1/service-requests/{id}/state"),
            &json!({ "state": "done" }),
            "owner",
        )
        .await,
        400,
        "bad_request",
    )
    .await;
}

#[tokio::test]
async fn c1_c5_c6_c7_hidden_sections_missing_csrf_and_other_clients_jobs_are_refused() {
    let h = harness().await;
    h.put(
        "/v1/clients/c2",
        &json!({ "name": "Other Person", "email": "other@client.example" }),
        "owner",
    )
    .await
    .assert_status_is_ok();
    let mut theirs = work_order();
    theirs["client_id"] = json!("c2");
    h.put("/v1/work-orders/wo-theirs", &theirs, "owner")
        .await
        .assert_status_is_ok();
    h.invite("c1").await;
    h.deliver().await;
    let cookie = h.signed_in().await;
    let (_, threads) = text(h.page("/portal/org1/messages", Some(&cookie)).await).await;
    let csrf = csrf_of(&threads);
    assert!(!threads.contains("wo-theirs"));
    let (status, _) = text(
        h.page("/portal/org1/messages/jobs/wo-theirs", Some(&cookie))
            .await,
    )
    .await;
    assert_eq!(status, 404);
    for thread in ["job%3Awo-theirs", "job%3A", "nonsense"] {
        let body = format!("thread={thread}&body=hi&csrf={csrf}");
        let (status, _) = text(h.form("/portal/org1/messages", &body, Some(&cookie)).await).await;
        assert_eq!(status, 404, "{thread}");
    }
    let (status, _) = text(
        h.form(
            "/portal/org1/messages",
            "thread=general&body=hi&csrf=forged",
            Some(&cookie),
        )
        .await,
    )
    .await;
    assert_eq!(status, 403, "CSRF");
    let (status, page) = text(
        h.form(
            "/portal/org1/messages",
            &format!("thread=general&body=+%0A+&csrf={csrf}"),
            Some(&cookie),
        )
        .await,
    )
    .await;
    assert_eq!(status, 422);
    assert!(page.contains("write a message"));
    assert_eq!(
        body(h.get("/v1/clients/c2/messages").await).await,
        json!([]),
        "nothing reached the other client"
    );
    h.patch(
        "/v1/org",
        &json!({ "settings": { "portal": { "sections": ["jobs", "estimates"] } } }),
        "owner",
    )
    .await
    .assert_status_is_ok();
    for path in [
        "/portal/org1/messages",
        "/portal/org1/messages/general",
        "/portal/org1/request",
    ] {
        assert_eq!(h.page(path, Some(&cookie)).await.0.status(), 404, "{path}");
    }
    let body = format!("thread=general&body=hi&csrf={csrf}");
    let (status, _) = text(h.form("/portal/org1/messages", &body, Some(&cookie)).await).await;
    assert_eq!(status, 404);
    let (_, home) = text(h.page("/portal/org1/home", Some(&cookie)).await).await;
    assert!(!home.contains("/messages") && !home.contains("/request"));
}

#[tokio::test]
async fn c7_the_host_api_refuses_bad_messages_unknown_clients_and_clients_outside_the_portal() {
    let h = harness().await;
    assert_error(
        h.post("/v1/clients/c1/messages", &json!({ "body": "Hi" }), "owner")
            .await,
        409,
        "not_in_portal",
    )
    .await;
    h.invite("c1").await;
    assert_error(
        h.post(
            "/v1/clients/nobody/messages",
            &json!({ "body": "Hi" }),
            "owner",
        )
        .await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        h.post("/v1/clients/c1/messages", &json!({ "body": "  " }), "owner")
            .await,
        400,
        "validation",
    )
    .await;
    assert_error(
        h.post(
            "/v1/clients/c1/messages",
            &json!({ "body": "Hi", "job_id": "nope" }),
            "owner",
        )
        .await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        h.post("/v1/clients/c1/messages", &json!({ "body": "Hi" }), "ghost")
            .await,
        403,
        "unknown_staff",
    )
    .await;
    assert_error(h.get("/v1/events?after=abc").await, 400, "bad_request").await;
    assert_error(h.get("/v1/events?after=-1").await, 400, "bad_request").await;
    let page = body(h.get("/v1/events?after=99999999999999999").await).await;
    assert_eq!(page["events"], json!([]));
}
