//! I6: malformed and hostile input thrown at every route of the OpenAPI document never gets a
//! 5xx, and every error answer has the one error shape.

use poem::http::Method;
use serde_json::Value;

use crate::support::{ADMIN, harness};

const BODIES: &[&[u8]] = &[
    b"",
    b"{",
    b"null",
    b"[]",
    b"\"text\"",
    b"{\"name\": 1, \"plan\": [], \"status\": {}}",
    b"{\"type\": \"nonsense\"}",
    b"{\"sections\": [\"not_a_section\"], \"recipient\": \"a@\"}",
    b"{\"title\": \"\\u0000\\ud800\", \"tasks\": [{\"id\": \"\"}]}",
    b"{\"quantity\": \"1e999999\", \"unit_price\": \"-0\", \"amount_paid\": \"99999999999999999999999999999\"}",
    b"\xff\xfe\xfd",
];

fn nested(depth: usize) -> Vec<u8> {
    let mut v = vec![b'['; depth];
    v.extend(std::iter::repeat_n(b']', depth));
    v
}

#[tokio::test]
async fn i6_hostile_bodies_at_every_route_never_get_a_5xx() {
    let h = harness().await;
    let doc: Value = serde_json::from_str(&portico_http::openapi_json(
        crate::support::portico(),
        &crate::support::config(),
    ))
    .unwrap();
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 12, "every route is in the document");
    let junk_ids = [
        "wo1",
        "..",
        "%00",
        "x".repeat(300).leak() as &str,
        "work_order",
        "00000000-0000-0000-0000-000000000000",
    ];
    let mut bodies: Vec<Vec<u8>> = BODIES.iter().map(|b| b.to_vec()).collect();
    bodies.push(nested(5000));
    let mut sent = 0;
    for (path, ops) in paths {
        for (method, _) in ops.as_object().unwrap() {
            for junk in junk_ids {
                let url = format!(
                    "/v1{}",
                    path.split('/')
                        .map(|seg| if seg.starts_with('{') { junk } else { seg })
                        .collect::<Vec<_>>()
                        .join("/")
                );
                for body in &bodies {
                    for auth in [h.key.as_str(), ADMIN, "pk_bogus"] {
                        let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                        let resp = h
                            .client
                            .request(method, &url)
                            .header("Authorization", format!("Bearer {auth}"))
                            .header("X-Portico-Staff", "owner")
                            .content_type("application/json")
                            .body(body.clone())
                            .send()
                            .await;
                        let status = resp.0.status();
                        assert!(
                            !status.is_server_error(),
                            "{status} for {url} with {:?}",
                            String::from_utf8_lossy(body)
                        );
                        if !status.is_success() {
                            let text = resp.0.into_body().into_string().await.unwrap();
                            let v: Value = serde_json::from_str(&text)
                                .unwrap_or_else(|_| panic!("{status} {url}: not JSON: {text}"));
                            assert!(
                                v["code"].is_string() && v["message"].is_string(),
                                "{url}: {v}"
                            );
                        }
                        sent += 1;
                    }
                }
            }
        }
    }
    assert!(sent > 1000, "sent {sent}");
}

/// I6: a path with invalid percent-encoding gets the one error shape (the API) or the page
/// answer of an unknown link with the S9 headers (the client pages); an unknown method on a
/// known route gets 405.
#[tokio::test]
async fn i6_bad_percent_encoding_and_unknown_methods_get_the_error_shape() {
    let h = harness().await;
    for path in [
        "/v1/records/work_order/%FF%FE/shares",
        "/v1/shares/%FF%FE",
        "/v1/files/%C3%28",
    ] {
        let resp = h.get(path).await;
        let status = resp.0.status().as_u16();
        assert_eq!(
            resp.0.headers()["content-type"],
            "application/json; charset=utf-8",
            "{path}"
        );
        let v = crate::support::body(resp).await;
        assert!(status == 400 || status == 404, "{path}: {status} {v}");
        assert!(
            v["code"].is_string() && v["message"].is_string(),
            "{path}: {v}"
        );
    }
    let resp = h
        .put(
            "/v1/staff/%FF%FE",
            &serde_json::json!({"name": "x", "role": "owner"}),
            "owner",
        )
        .await;
    let v = crate::support::assert_error(resp, 400, "validation").await;
    assert!(v["message"].as_str().unwrap().contains("staff_id"), "{v}");
    for path in ["/s/%FF%FE", "/s/%FF%FE/files/x", "/s/%C3%28/events"] {
        let resp = h.client.get(path).send().await;
        let status = resp.0.status().as_u16();
        assert_eq!(status, 404, "{path}");
        let headers = resp.0.headers();
        assert_eq!(headers["cache-control"], "no-store", "{path}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{path}");
        assert_eq!(headers["x-robots-tag"], "noindex, nofollow", "{path}");
    }
    let resp = h
        .client
        .delete("/v1/org")
        .header("Authorization", format!("Bearer {}", h.key))
        .send()
        .await;
    crate::support::assert_error(resp, 405, "method_not_allowed").await;
}

// ---- O5: the public base address

#[test]
fn o5_public_urls_are_checked_and_kept_without_a_trailing_slash() {
    for (raw, base, origin) in [
        (
            "https://share.example",
            "https://share.example",
            "https://share.example",
        ),
        (
            "https://share.example/",
            "https://share.example",
            "https://share.example",
        ),
        (
            "http://127.0.0.1:8080",
            "http://127.0.0.1:8080",
            "http://127.0.0.1:8080",
        ),
        (
            "https://x.example:443/portico//",
            "https://x.example:443/portico",
            "https://x.example",
        ),
    ] {
        let url = portico_http::PublicUrl::parse(raw).unwrap();
        assert_eq!((url.as_str(), url.origin()), (base, origin), "{raw}");
    }
    let url = portico_http::PublicUrl::parse("https://x.example/portico").unwrap();
    assert_eq!(url.join("/v1"), "https://x.example/portico/v1");
    for bad in [
        "",
        "share.example",
        "ftp://share.example",
        "https://",
        "https://user:pw@share.example",
        "https://share.example/?a=1",
        "https://share.example/#top",
        "https://share .example",
    ] {
        assert!(portico_http::PublicUrl::parse(bad).is_err(), "{bad:?}");
    }
    assert_eq!(
        portico_http::PublicUrl::default(),
        portico_http::PublicUrl::parse("http://127.0.0.1:8080").unwrap()
    );
}
