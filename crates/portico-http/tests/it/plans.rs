//! C7 through HTTP: agreements, appointments and contracts pushed in by the host, read and
//! signed by their client in the portal; the host's signed copy; the job's photo gallery.

use base64::Engine as _;
use serde_json::{Value, json};

use crate::portal::{csrf_of, text};
use crate::support::{ADMIN, assert_error, body, harness, work_order};

/// A page with its CSRF values replaced, for snapshots.
fn redact(page: &str) -> String {
    let mut out = page.to_owned();
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

/// The API key of a second org, `org2`.
async fn other_org_key<E: poem::Endpoint<Output = poem::Response>>(
    h: &crate::support::Harness<E>,
) -> String {
    let client = &h.client;
    client
        .put("/v1/admin/orgs/org2")
        .header("Authorization", format!("Bearer {ADMIN}"))
        .body_json(&json!({ "name": "Other Co", "plan": "business" }))
        .send()
        .await
        .assert_status_is_ok();
    let created = client
        .post("/v1/admin/orgs/org2/api-keys")
        .header("Authorization", format!("Bearer {ADMIN}"))
        .body_json(&json!({"label": "other"}))
        .send()
        .await;
    created
        .json()
        .await
        .value()
        .object()
        .get("key")
        .string()
        .to_owned()
}

/// A small PNG: the signature bytes and an `IHDR` of 600 × 180 (what the canvas sends).
fn png() -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    bytes.extend_from_slice(&600u32.to_be_bytes());
    bytes.extend_from_slice(&180u32.to_be_bytes());
    bytes.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
    bytes
}

fn form_value(raw: &str) -> String {
    percent_encoding::utf8_percent_encode(raw, percent_encoding::NON_ALPHANUMERIC).to_string()
}

fn contract(body: &str) -> Value {
    json!({ "client_id": "c1", "title": "Service terms", "body": body })
}

fn agreement(client: &str) -> Value {
    json!({
        "client_id": client, "title": "Boiler care plan", "terms": "Two visits a year.",
        "starts_on": "2026-01-01", "ends_on": "2026-12-31", "price": "25.00", "billing": "monthly",
        "visits": [{ "on": "2026-05-12" }, { "on": "2026-02-10", "done": true }],
        "cost": "14.00", "margin_percent": "44", "internal_notes": "Gate code 4412"
    })
}

fn appointment(client: &str, starts_at: &str, status: &str) -> Value {
    json!({
        "client_id": client, "title": "Annual service", "starts_at": starts_at,
        "ends_at": "2026-03-09T11:00:00Z", "technician_id": "technician",
        "address": "12 Elm Street", "status": status, "internal_notes": "Bring the long ladder"
    })
}

#[tokio::test]
// Reason: one story, from sending to both parties' signed copies, reads best whole.
#[allow(clippy::too_many_lines)]
async fn c7_a_contract_is_signed_in_the_portal_with_a_drawing_and_both_sides_read_the_signed_copy()
{
    let h = harness().await;
    let text_v1 = "1. We arrive within the window.\n2. Payment is due in 14 days.";
    let sent = body(h.put("/v1/contracts/k1", &contract(text_v1), "owner").await).await;
    assert_eq!(sent["versions"][0]["status"], "sent");
    let digest = sent["versions"][0]["sha256"].as_str().unwrap().to_owned();
    h.invite("c1").await;
    h.deliver().await;
    let cookie = h.signed_in().await;
    let (_, home) = text(h.page("/portal/org1/home", Some(&cookie)).await).await;
    assert!(home.contains("1 to sign"), "{home}");
    let (status, list) = text(h.page("/portal/org1/contracts", Some(&cookie)).await).await;
    assert_eq!(status, 200);
    assert!(list.contains("/portal/org1/contracts/k1") && list.contains("To sign"));
    let (status, page) = text(h.page("/portal/org1/contracts/k1", Some(&cookie)).await).await;
    assert_eq!(status, 200);
    assert!(page.contains(&digest), "the digest of what is shown");
    insta::assert_snapshot!("portal_contract_to_sign", redact(&page));
    let csrf = csrf_of(&page);
    let drawing = format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(png())
    );
    let form = format!(
        "csrf={csrf}&version=1&digest={digest}&name=Jordan+Lee&confirm=yes&drawing={}",
        form_value(&drawing)
    );
    let signed = h
        .form("/portal/org1/contracts/k1/sign", &form, Some(&cookie))
        .await;
    signed.assert_status(poem::http::StatusCode::SEE_OTHER);
    signed.assert_header("location", "/portal/org1/contracts/k1/versions/1");
    let (status, copy) = text(
        h.page("/portal/org1/contracts/k1/versions/1", Some(&cookie))
            .await,
    )
    .await;
    assert_eq!(status, 200);
    assert!(copy.contains("Signed by Jordan Lee") && copy.contains(&digest));
    assert!(copy.contains("/portal/org1/contracts/k1/versions/1/signature.png"));
    insta::assert_snapshot!("portal_contract_signed", redact(&copy));
    let image = h
        .page(
            "/portal/org1/contracts/k1/versions/1/signature.png",
            Some(&cookie),
        )
        .await;
    image.assert_status_is_ok();
    image.assert_header("content-type", "image/png");
    assert_eq!(image.0.into_body().into_vec().await.unwrap(), png());
    // Signing again is refused: the version is signed.
    let (status, _) = text(
        h.form("/portal/org1/contracts/k1/sign", &form, Some(&cookie))
            .await,
    )
    .await;
    assert_eq!(status, 422);

    // The host: the signature's details, the drawing, the printable copy, the event, the mail.
    let read = body(h.get("/v1/contracts/k1").await).await;
    let signature = &read["versions"][0]["signature"];
    assert_eq!(read["versions"][0]["status"], "signed");
    assert_eq!(signature["name"], "Jordan Lee");
    assert_eq!(signature["drawn"], true);
    assert_eq!(signature["sha256"], digest.as_str());
    assert!(signature["ip"].is_string() && signature["signed_at"].is_string());
    let png_back = h.get("/v1/contracts/k1/versions/1/signature").await;
    png_back.assert_status_is_ok();
    assert_eq!(png_back.0.into_body().into_vec().await.unwrap(), png());
    let host_copy = h.get("/v1/contracts/k1/versions/1/copy").await;
    host_copy.assert_status_is_ok();
    let host_copy = host_copy.0.into_body().into_string().await.unwrap();
    assert!(host_copy.contains("data:image/png;base64,") && host_copy.contains(&digest));
    let events = body(h.get("/v1/events").await).await;
    let newest = events["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(newest["type"], "contract.signed");
    assert_eq!(newest["contract_id"], "k1");
    assert_eq!(newest["contract_version"], 1);
    let mail = h.deliver().await;
    assert!(
        mail.iter()
            .any(|m| m.to.as_str() == "office@brightspark.example"
                && m.subject.contains("Service terms")
                && m.text.contains(&digest))
    );

    // The same text again changes nothing; withdrawing it is refused; a new text is version 2.
    let again = body(h.put("/v1/contracts/k1", &contract(text_v1), "owner").await).await;
    assert_eq!(again["versions"].as_array().unwrap().len(), 1);
    let mut void = contract(text_v1);
    void["void"] = json!(true);
    assert_error(
        h.put("/v1/contracts/k1", &void, "owner").await,
        409,
        "signed",
    )
    .await;
    let changed = body(
        h.put("/v1/contracts/k1", &contract("New terms."), "owner")
            .await,
    )
    .await;
    assert_eq!(changed["versions"][1]["status"], "sent");
    assert_eq!(
        changed["versions"][0], read["versions"][0],
        "version 1 untouched"
    );
    let (_, page) = text(h.page("/portal/org1/contracts/k1", Some(&cookie)).await).await;
    assert!(page.contains("New terms.") && page.contains("Version 1 (signed)"));
}

#[tokio::test]
async fn c7_a_signature_without_drawing_works_and_bad_ones_are_refused_with_what_was_typed() {
    let h = harness().await;
    let sent = body(
        h.put("/v1/contracts/k1", &contract("Terms."), "owner")
            .await,
    )
    .await;
    let digest = sent["versions"][0]["sha256"].as_str().unwrap().to_owned();
    h.invite("c1").await;
    h.deliver().await;
    let cookie = h.signed_in().await;
    let (_, page) = text(h.page("/portal/org1/contracts/k1", Some(&cookie)).await).await;
    let csrf = csrf_of(&page);
    let post = |extra: String| {
        let cookie = cookie.clone();
        let h = &h;
        async move {
            text(
                h.form("/portal/org1/contracts/k1/sign", &extra, Some(&cookie))
                    .await,
            )
            .await
        }
    };
    let base = format!("csrf={csrf}&version=1&digest={digest}");
    for (form, expected) in [
        (format!("{base}&name=Jordan+Typed"), "tick the box"),
        (format!("{base}&name=+&confirm=yes"), "full name"),
        (
            format!(
                "{base}&name=Jordan+Typed&confirm=yes&drawing=data%3Aimage%2Fgif%3Bbase64%2CR0lG"
            ),
            "drawn signature",
        ),
        (
            format!(
                "{base}&name=Jordan+Typed&confirm=yes&drawing=data%3Aimage%2Fpng%3Bbase64%2C%21%21"
            ),
            "drawn signature",
        ),
        (
            format!(
                "csrf={csrf}&version=1&digest={}&name=Jordan+Typed&confirm=yes",
                "0".repeat(64)
            ),
            "has changed",
        ),
    ] {
        let (status, page) = post(form.clone()).await;
        assert_eq!(status, 422, "{form}");
        assert!(page.contains(expected), "{expected}: {page}");
    }
    let (status, page) = post(format!("{base}&name=Jordan+Typed")).await;
    assert_eq!(status, 422);
    assert!(
        page.contains("value=\"Jordan Typed\""),
        "kept what was typed"
    );
    let (status, _) = post(format!(
        "csrf=forged&version=1&digest={digest}&name=Jordan&confirm=yes"
    ))
    .await;
    assert_eq!(status, 403, "CSRF");
    // Keyboard and screen-reader users sign with the typed name and the tick alone.
    let (status, _) = post(format!("{base}&name=Jordan+Lee&confirm=yes")).await;
    assert_eq!(status, 303);
    let read = body(h.get("/v1/contracts/k1").await).await;
    assert_eq!(read["versions"][0]["signature"]["drawn"], false);
    assert_error(
        h.get("/v1/contracts/k1/versions/1/signature").await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn c7_agreements_appointments_and_the_job_gallery_show_the_client_theirs_and_nothing_internal()
 {
    let h = harness().await;
    let mut wo = work_order();
    wo["files"] = json!([
        { "id": "f1", "name": "before.jpg", "content_type": "image/jpeg", "shared": true,
          "caption": "Old fuse box", "stage": "before", "taken_at": "2026-03-03T08:30:00Z" },
        { "id": "f2", "name": "after.jpg", "content_type": "image/jpeg", "shared": true,
          "caption": "New consumer unit", "stage": "after", "taken_at": "2026-03-04T15:00:00Z" },
        { "id": "f3", "name": "meter.jpg", "content_type": "image/jpeg", "shared": false,
          "taken_at": "2026-03-04T15:00:00Z" }
    ]);
    h.put("/v1/work-orders/wo1", &wo, "owner")
        .await
        .assert_status_is_ok();
    let stored = body(h.put("/v1/agreements/a1", &agreement("c1"), "owner").await).await;
    assert_eq!(
        stored["visits"][0]["on"], "2026-02-10",
        "kept in date order"
    );
    assert_eq!(stored["visits_done"], 1);
    assert_eq!(
        body(h.get("/v1/agreements/a1").await).await["internal_notes"],
        "Gate code 4412"
    );
    let mut upcoming = appointment("c1", "2026-03-09T09:00:00Z", "scheduled");
    upcoming["job_id"] = json!("wo1");
    h.put("/v1/appointments/p1", &upcoming, "owner")
        .await
        .assert_status_is_ok();
    let mut past = appointment("c1", "2026-02-20T09:00:00Z", "done");
    past["ends_at"] = json!("2026-02-20T10:00:00Z");
    h.put("/v1/appointments/p0", &past, "owner")
        .await
        .assert_status_is_ok();
    assert_eq!(
        body(h.get("/v1/appointments/p1").await).await["job_id"],
        "wo1"
    );
    h.invite("c1").await;
    h.deliver().await;
    let cookie = h.signed_in().await;
    let (status, agreements) = text(h.page("/portal/org1/agreements", Some(&cookie)).await).await;
    assert_eq!(status, 200);
    assert!(agreements.contains("1 of 2 visits done") && !agreements.contains("Gate code"));
    assert!(!agreements.contains("14.00") && !agreements.contains("44"));
    insta::assert_snapshot!("portal_agreements", redact(&agreements));
    let (status, appointments) =
        text(h.page("/portal/org1/appointments", Some(&cookie)).await).await;
    assert_eq!(status, 200);
    assert!(appointments.contains("with Sam") && !appointments.contains("ladder"));
    assert!(appointments.contains("/portal/org1/r/jobs/wo1"));
    let upcoming_at = appointments.find("Upcoming").unwrap();
    let past_at = appointments.find("Past").unwrap();
    let service_at = appointments.find("Annual service").unwrap();
    assert!(upcoming_at < service_at && service_at < past_at);
    insta::assert_snapshot!("portal_appointments", redact(&appointments));
    let (status, job) = text(h.page("/portal/org1/r/jobs/wo1", Some(&cookie)).await).await;
    assert_eq!(status, 200);
    assert!(job.contains("Old fuse box") && job.contains("New consumer unit"));
    assert!(
        !job.contains("meter.jpg"),
        "per-photo shared flags still rule"
    );
    let gallery = &job[job.find("s-files").unwrap()..];
    let gallery = &gallery[..gallery.find("</section>").unwrap()];
    let (mar4, mar3) = (
        gallery.find("Mar 4, 2026").unwrap(),
        gallery.find("Mar 3, 2026").unwrap(),
    );
    assert!(mar4 < mar3, "newest day first");
    assert!(gallery.contains("Before") && gallery.contains("After"));
    insta::assert_snapshot!("portal_job_gallery", gallery);
}

#[tokio::test]
async fn c1_c6_c7_other_clients_other_orgs_and_hidden_sections_answer_404() {
    let h = harness().await;
    h.put(
        "/v1/clients/c2",
        &json!({ "name": "Other Person", "email": "other@client.example" }),
        "owner",
    )
    .await
    .assert_status_is_ok();
    let mut theirs = contract("Their terms.");
    theirs["client_id"] = json!("c2");
    h.put("/v1/contracts/k2", &theirs, "owner")
        .await
        .assert_status_is_ok();
    h.put("/v1/contracts/k1", &contract("Mine."), "owner")
        .await
        .assert_status_is_ok();
    h.put("/v1/agreements/a2", &agreement("c2"), "owner")
        .await
        .assert_status_is_ok();
    h.invite("c1").await;
    h.deliver().await;
    let cookie = h.signed_in().await;
    let (_, page) = text(h.page("/portal/org1/contracts/k1", Some(&cookie)).await).await;
    let csrf = csrf_of(&page);
    for path in [
        "/portal/org1/contracts/k2",
        "/portal/org1/contracts/k2/versions/1",
        "/portal/org1/contracts/k2/versions/1/signature.png",
        "/portal/org1/contracts/nope",
        "/portal/org1/contracts/k1/versions/x",
        "/portal/org1/contracts/k1/versions/1",
        "/portal/org2/contracts/k1",
        "/portal/org2/agreements",
    ] {
        let (status, page) = text(h.page(path, Some(&cookie)).await).await;
        assert_eq!(status, 404, "{path}");
        assert!(!page.contains("Their terms"), "{path}");
    }
    let (_, agreements) = text(h.page("/portal/org1/agreements", Some(&cookie)).await).await;
    assert!(
        !agreements.contains("Boiler care plan"),
        "not the other client's"
    );
    let sign = format!(
        "csrf={csrf}&version=1&digest={}&name=Jordan&confirm=yes",
        "0".repeat(64)
    );
    let (status, _) = text(
        h.form("/portal/org1/contracts/k2/sign", &sign, Some(&cookie))
            .await,
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(
        body(h.get("/v1/contracts/k2").await).await["versions"][0]["status"],
        "sent"
    );

    // Another org's key finds none of this org's.
    let key = other_org_key(&h).await;
    let client = &h.client;
    for path in [
        "/v1/contracts/k1",
        "/v1/agreements/a2",
        "/v1/contracts/k1/versions/1/copy",
    ] {
        client
            .get(path)
            .header("Authorization", format!("Bearer {key}"))
            .send()
            .await
            .assert_status(poem::http::StatusCode::NOT_FOUND);
    }

    // Hidden sections: every route answers 404, and the home page has no link.
    h.patch(
        "/v1/org",
        &json!({ "settings": { "portal": { "sections": ["jobs", "estimates"] } } }),
        "owner",
    )
    .await
    .assert_status_is_ok();
    for path in [
        "/portal/org1/agreements",
        "/portal/org1/appointments",
        "/portal/org1/contracts",
        "/portal/org1/contracts/k1",
    ] {
        assert_eq!(h.page(path, Some(&cookie)).await.0.status(), 404, "{path}");
    }
    let (_, mine) = text(h.page("/portal/org1/home", Some(&cookie)).await).await;
    assert!(
        !mine.contains("/contracts")
            && !mine.contains("/agreements")
            && !mine.contains("/appointments")
    );
}

#[tokio::test]
async fn c7_bad_host_input_for_agreements_appointments_and_contracts_is_a_clear_4xx() {
    let h = harness().await;
    h.put(
        "/v1/clients/c2",
        &json!({ "name": "Other Person", "email": "other@client.example" }),
        "owner",
    )
    .await
    .assert_status_is_ok();
    h.put("/v1/work-orders/wo1", &work_order(), "owner")
        .await
        .assert_status_is_ok();
    h.put("/v1/contracts/k1", &contract("Mine."), "owner")
        .await
        .assert_status_is_ok();
    let mut backwards = agreement("c1");
    backwards["ends_on"] = json!("2025-01-01");
    assert_error(
        h.put("/v1/agreements/a1", &backwards, "owner").await,
        400,
        "validation",
    )
    .await;
    let mut bad_price = agreement("c1");
    bad_price["price"] = json!("lots");
    assert_error(
        h.put("/v1/agreements/a1", &bad_price, "owner").await,
        400,
        "validation",
    )
    .await;
    assert_error(
        h.put("/v1/agreements/a1", &agreement("nobody"), "owner")
            .await,
        400,
        "validation",
    )
    .await;
    assert_error(
        h.put("/v1/agreements/a1", &agreement("c1"), "technician")
            .await,
        403,
        "not_permitted",
    )
    .await;
    assert_error(h.get("/v1/agreements/a1").await, 404, "not_found").await;
    let mut ghost = appointment("c1", "2026-03-09T09:00:00Z", "scheduled");
    ghost["technician_id"] = json!("ghost");
    assert_error(
        h.put("/v1/appointments/p1", &ghost, "owner").await,
        400,
        "validation",
    )
    .await;
    let mut not_theirs = appointment("c2", "2026-03-09T09:00:00Z", "scheduled");
    not_theirs["job_id"] = json!("wo1");
    assert_error(
        h.put("/v1/appointments/p1", &not_theirs, "owner").await,
        400,
        "validation",
    )
    .await;
    let mut early = appointment("c1", "2026-03-10T09:00:00Z", "scheduled");
    early["ends_at"] = json!("2026-03-09T09:00:00Z");
    assert_error(
        h.put("/v1/appointments/p1", &early, "owner").await,
        400,
        "validation",
    )
    .await;
    let mut moved = contract("Mine.");
    moved["client_id"] = json!("c2");
    assert_error(
        h.put("/v1/contracts/k1", &moved, "owner").await,
        400,
        "validation",
    )
    .await;
    assert_error(
        h.put("/v1/contracts/k3", &contract(" \n "), "owner").await,
        400,
        "validation",
    )
    .await;
    let huge = contract(&"x".repeat(100_001));
    assert_error(
        h.put("/v1/contracts/k3", &huge, "owner").await,
        413,
        "payload_too_large",
    )
    .await;
    assert_error(h.get("/v1/contracts/k3").await, 404, "not_found").await;

    // Nothing refused was stored.
    assert_error(h.get("/v1/appointments/p1").await, 404, "not_found").await;
    assert_eq!(
        body(h.get("/v1/contracts/k1").await).await["client_id"],
        "c1"
    );
}

#[tokio::test]
async fn c7_a_service_request_carries_photos_the_host_reads_and_refuses_what_is_not_a_photo() {
    use poem::test::{TestForm, TestFormField};
    let h = harness().await;
    h.invite("c1").await;
    h.deliver().await;
    let cookie = h.signed_in().await;
    let (_, page) = text(h.page("/portal/org1/request", Some(&cookie)).await).await;
    assert!(page.contains("enctype=\"multipart/form-data\"") && page.contains("name=\"photos\""));
    let csrf = csrf_of(&page);
    let form = |photo: Vec<u8>, csrf: &str| {
        TestForm::new()
            .text("csrf", csrf)
            .text("name", "Jordan Lee")
            .text("description", "The porch light flickers.")
            .text("date1", "")
            .field(
                TestFormField::bytes(photo)
                    .name("photos")
                    .filename("porch.png")
                    .content_type("image/png"),
            )
    };
    let post = |form: TestForm| {
        h.client
            .post("/portal/org1/request")
            .header("origin", crate::portal::ORIGIN)
            .header("cookie", &cookie)
            .multipart(form)
            .send()
    };
    // Not a photo, whatever its name and declared type say: refused, nothing kept.
    let (status, refused) = text(post(form(b"<svg onload=alert(1)>".to_vec(), &csrf)).await).await;
    assert_eq!(status, 422);
    assert!(refused.contains("up to three photos"), "{refused}");
    assert_eq!(body(h.get("/v1/service-requests").await).await, json!([]));
    let (status, _) = text(post(form(png(), "forged")).await).await;
    assert_eq!(status, 403, "CSRF in a multipart form too");
    let sent = post(form(png(), &csrf)).await;
    sent.assert_status(poem::http::StatusCode::SEE_OTHER);
    let listed = body(h.get("/v1/service-requests?state=new").await).await;
    assert_eq!(listed[0]["description"], "The porch light flickers.");
    let id = listed[0]["service_request_id"].as_str().unwrap().to_owned();
    let photo = listed[0]["photo_ids"][0].as_str().unwrap().to_owned();
    let got = h
        .get(&format!("/v1/service-requests/{id}/photos/{photo}"))
        .await;
    got.assert_status_is_ok();
    got.assert_header("content-type", "image/png");
    assert_eq!(got.0.into_body().into_vec().await.unwrap(), png());
    let mail = h.deliver().await;
    assert!(
        mail.iter()
            .any(|m| m.to.as_str() == "office@brightspark.example"
                && m.text.contains("1 photo attached")),
        "the business learns of the photo"
    );
    for path in [
        format!("/v1/service-requests/{id}/photos/00000000-0000-4000-8000-000000000000"),
        format!("/v1/service-requests/{id}/photos/not-a-uuid"),
        format!("/v1/service-requests/00000000-0000-4000-8000-000000000000/photos/{photo}"),
    ] {
        assert_error(h.get(&path).await, 404, "not_found").await;
    }
}

#[tokio::test]
async fn c7_a_contract_pdf_is_kept_as_sent_offered_to_the_client_and_signed_with_its_digest() {
    let h = harness().await;
    let pdf_v1: &[u8] = b"%PDF-1.7\n1 0 obj\n<< /Title (Terms v1) >>\nendobj\n";
    crate::files::upload(&h, "terms.pdf", "application/pdf", pdf_v1)
        .await
        .assert_status_is_ok();
    let with_pdf =
        json!({ "client_id": "c1", "title": "Service terms", "document_file_id": "terms.pdf" });
    let sent = body(h.put("/v1/contracts/k1", &with_pdf, "owner").await).await;
    let version = &sent["versions"][0];
    assert_eq!(version["document"]["name"], "terms.pdf");
    assert_eq!(version["document"]["size"], pdf_v1.len());
    let digest = version["sha256"].as_str().unwrap().to_owned();
    // Other bytes under the same file id: the sent version keeps its own copy; sending the
    // contract again makes version 2.
    let pdf_v2: &[u8] = b"%PDF-1.7\n1 0 obj\n<< /Title (Terms v2) >>\nendobj\n";
    crate::files::upload(&h, "terms.pdf", "application/pdf", pdf_v2)
        .await
        .assert_status_is_ok();
    let kept = h.get("/v1/contracts/k1/versions/1/document").await;
    kept.assert_status_is_ok();
    kept.assert_header("content-type", "application/pdf");
    assert_eq!(kept.0.into_body().into_vec().await.unwrap(), pdf_v1);
    let again = body(h.put("/v1/contracts/k1", &with_pdf, "owner").await).await;
    assert_eq!(again["versions"].as_array().unwrap().len(), 2);
    assert_ne!(again["versions"][1]["sha256"], digest.as_str());

    h.invite("c1").await;
    h.deliver().await;
    let cookie = h.signed_in().await;
    let (status, page) = text(h.page("/portal/org1/contracts/k1", Some(&cookie)).await).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("/portal/org1/contracts/k1/versions/2/document.pdf"),
        "{page}"
    );
    assert!(!page.contains("Contract text"), "no empty text block");
    let download = h
        .page(
            "/portal/org1/contracts/k1/versions/2/document.pdf",
            Some(&cookie),
        )
        .await;
    download.assert_status_is_ok();
    download.assert_header("content-type", "application/pdf");
    download.assert_header("content-disposition", "attachment");
    assert_eq!(download.0.into_body().into_vec().await.unwrap(), pdf_v2);
    let (status, _) = text(
        h.page(
            "/portal/org1/contracts/k1/versions/1/document.pdf",
            Some(&cookie),
        )
        .await,
    )
    .await;
    assert_eq!(status, 404, "an unsigned older version is no longer shown");
    let csrf = csrf_of(&page);
    let digest_v2 = again["versions"][1]["sha256"].as_str().unwrap().to_owned();
    let form = format!("csrf={csrf}&version=2&digest={digest_v2}&name=Jordan+Lee&confirm=yes");
    let (status, _) = text(
        h.form("/portal/org1/contracts/k1/sign", &form, Some(&cookie))
            .await,
    )
    .await;
    assert_eq!(status, 303);
    let copy = h.get("/v1/contracts/k1/versions/2/copy").await;
    let copy = copy.0.into_body().into_string().await.unwrap();
    assert!(copy.contains("terms.pdf") && copy.contains(&digest_v2));

    // A file never uploaded, or one that is not a PDF: refused.
    let mut missing = with_pdf.clone();
    missing["document_file_id"] = json!("nope.pdf");
    assert_error(
        h.put("/v1/contracts/k2", &missing, "owner").await,
        400,
        "validation",
    )
    .await;
    crate::files::upload(&h, "photo.png", "image/png", &png())
        .await
        .assert_status_is_ok();
    let mut not_pdf = with_pdf.clone();
    not_pdf["document_file_id"] = json!("photo.png");
    assert_error(
        h.put("/v1/contracts/k2", &not_pdf, "owner").await,
        400,
        "validation",
    )
    .await;
    let mut neither = contract("");
    neither["document_file_id"] = json!(null);
    assert_error(
        h.put("/v1/contracts/k2", &neither, "owner").await,
        400,
        "validation",
    )
    .await;
}
