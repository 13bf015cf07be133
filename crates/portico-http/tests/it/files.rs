//! Photo and file uploads (I3): the type comes from the bytes, sizes are limited, removing a
//! file from a work order deletes its bytes; duplicate identity headers are refused.

use poem::Endpoint;
use poem::Response;
use poem::test::TestResponse;
use serde_json::json;

use crate::support::{Harness, assert_error, body, harness, work_order};

const PNG: &[u8] = &[
    0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n', 0, 0, 0, 13, b'I', b'H', b'D', b'R',
];
const PDF: &[u8] = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n";

pub async fn upload<E: Endpoint<Output = Response>>(
    h: &Harness<E>,
    id: &str,
    content_type: &str,
    bytes: &[u8],
) -> TestResponse {
    h.client
        .put(format!("/v1/files/{id}"))
        .header("Authorization", format!("Bearer {}", h.key))
        .header("X-Portico-Staff", "technician")
        .content_type(content_type)
        .body(bytes.to_vec())
        .send()
        .await
}

#[tokio::test]
async fn i3_uploads_are_typed_from_their_bytes_and_limited() {
    let h = harness().await;
    // Declared as a JPEG, detected as a PNG: the bytes win.
    let stored = body(upload(&h, "f1", "image/jpeg", PNG).await).await;
    assert_eq!(
        stored,
        json!({ "file_id": "f1", "content_type": "image/png", "size": PNG.len() })
    );
    let pdf = body(upload(&h, "doc", "application/octet-stream", PDF).await).await;
    assert_eq!(pdf["content_type"], "application/pdf");
    assert_eq!(body(h.get("/v1/files/f1").await).await, stored);

    // Markup or a program named like a photo is refused.
    let html = b"<html><script>alert(1)</script></html>";
    let refused = assert_error(
        upload(&h, "evil.jpg", "image/jpeg", html).await,
        415,
        "unsupported_file_type",
    )
    .await;
    assert!(refused["details"]["accepted"].as_array().unwrap().len() >= 5);
    let exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff";
    assert_error(
        upload(&h, "x", "image/png", exe).await,
        415,
        "unsupported_file_type",
    )
    .await;
    assert_error(upload(&h, "x", "image/png", b"").await, 400, "validation").await;

    // Over the upload limit (256 KiB in these tests), before anything is stored.
    let mut big = PNG.to_vec();
    big.resize(300 * 1024, 0);
    assert_error(
        upload(&h, "big", "image/png", &big).await,
        413,
        "payload_too_large",
    )
    .await;
    assert_error(h.get("/v1/files/big").await, 404, "not_found").await;

    // Unknown staff, a hostile id, no key.
    let stranger = h
        .client
        .put("/v1/files/f2")
        .header("Authorization", format!("Bearer {}", h.key))
        .header("X-Portico-Staff", "nobody")
        .content_type("image/png")
        .body(PNG.to_vec())
        .send()
        .await;
    assert_error(stranger, 403, "unknown_staff").await;
    assert_error(
        upload(&h, "a%2Fb", "image/png", PNG).await,
        400,
        "validation",
    )
    .await;
    let anonymous = h
        .client
        .put("/v1/files/f3")
        .content_type("image/png")
        .body(PNG.to_vec())
        .send()
        .await;
    assert_error(anonymous, 401, "unauthorized").await;
    let untyped = h
        .client
        .put("/v1/files/f3")
        .header("Authorization", format!("Bearer {}", h.key))
        .header("X-Portico-Staff", "owner")
        .body(PNG.to_vec())
        .send()
        .await;
    assert_error(untyped, 415, "unsupported_media_type").await;
}

#[tokio::test]
async fn i3_removing_a_file_from_a_work_order_deletes_its_bytes() {
    let h = harness().await;
    upload(&h, "f1", "image/png", PNG)
        .await
        .assert_status_is_ok();
    // The work order of the tests already carries file f1 (declared a JPEG).
    h.put("/v1/work-orders/wo1", &work_order(), "owner")
        .await
        .assert_status_is_ok();
    upload(&h, "f2", "image/png", PNG)
        .await
        .assert_status_is_ok();
    let added = json!({ "type": "file_added", "file": { "id": "f2", "name": "after.png", "content_type": "image/jpeg", "shared": true } });
    h.post("/v1/work-orders/wo1/events", &added, "owner")
        .await
        .assert_status_is_ok();

    let removed = json!({ "type": "file_removed", "file_id": "f1" });
    h.post("/v1/work-orders/wo1/events", &removed, "owner")
        .await
        .assert_status_is_ok();
    assert_error(h.get("/v1/files/f1").await, 404, "not_found").await;
    h.get("/v1/files/f2").await.assert_status_is_ok();

    // A full upsert without f2 drops its bytes too.
    let mut without = work_order();
    without["files"] = json!([]);
    h.put("/v1/work-orders/wo1", &without, "owner")
        .await
        .assert_status_is_ok();
    assert_error(h.get("/v1/files/f2").await, 404, "not_found").await;

    // Direct deletion: once, then 404 like any unknown file; refused while in use.
    upload(&h, "spare", "image/png", PNG)
        .await
        .assert_status_is_ok();
    let delete = |id: &'static str| {
        h.client
            .delete(format!("/v1/files/{id}"))
            .header("Authorization", format!("Bearer {}", h.key))
            .header("X-Portico-Staff", "owner")
            .send()
    };
    delete("spare").await.assert_status_is_ok();
    assert_error(delete("spare").await, 404, "not_found").await;
    assert_error(h.get("/v1/files/spare").await, 404, "not_found").await;
    upload(&h, "f3", "image/png", PNG)
        .await
        .assert_status_is_ok();
    let added =
        json!({ "type": "file_added", "file": { "id": "f3", "name": "f3.png", "shared": false } });
    h.post("/v1/work-orders/wo1/events", &added, "owner")
        .await
        .assert_status_is_ok();
    assert_error(delete("f3").await, 409, "file_in_use").await;
    h.get("/v1/files/f3").await.assert_status_is_ok();
}

#[tokio::test]
async fn i1_a_request_naming_two_actors_or_two_keys_is_refused() {
    let h = harness().await;
    h.put("/v1/work-orders/wo1", &work_order(), "owner")
        .await
        .assert_status_is_ok();
    let two_actors = h
        .client
        .post("/v1/records/work_order/wo1/share")
        .header("Authorization", format!("Bearer {}", h.key))
        .header("X-Portico-Staff", "technician")
        .header("X-Portico-Staff", "owner")
        .body_json(&json!({}))
        .send()
        .await;
    assert_error(two_actors, 400, "bad_request").await;
    let two_keys = h
        .client
        .get("/v1/records/work_order/wo1/shares")
        .header("Authorization", format!("Bearer {}", h.key))
        .header("Authorization", "Bearer pk_other")
        .send()
        .await;
    assert_error(two_keys, 400, "bad_request").await;
}
