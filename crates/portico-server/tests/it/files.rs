//! Files on S3-compatible object storage through the real binary: a photo uploaded through one
//! server lands in the bucket, not the data folder, and another server on the same database and
//! bucket serves it behind the share's link.

use serde_json::json;

use portico_testkit::s3::TestS3;

use crate::support::{Server, agent, call, org_with_key, upload};

/// The token secret both servers share, so a link made on one opens on the other.
const SECRET: &str = "cG9ydGljby1zaGFyZWQtdG9rZW4tc2VjcmV0LWZvci10ZXN0cw";

fn env_for(s3: &TestS3, database: Option<String>) -> Vec<(&'static str, String)> {
    let mut env = vec![
        ("PORTICO_SECRET", SECRET.to_owned()),
        ("PORTICO_S3_BUCKET", s3.bucket.clone()),
        ("PORTICO_S3_PREFIX", "e2e/files".to_owned()),
        ("PORTICO_S3_ENDPOINT", s3.endpoint()),
        ("PORTICO_S3_ALLOW_HTTP", "on".to_owned()),
        ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
    ];
    if let Some(url) = database {
        env.push(("DATABASE_URL", url));
    }
    env
}

#[test]
fn i3_a_photo_uploaded_through_one_server_is_served_by_another_from_the_bucket() {
    let Some(s3) = TestS3::for_test() else {
        return;
    };
    let a = Server::start_with(None, &env_for(&s3, None));
    let v1 = format!("{}/v1", a.base);
    let key = org_with_key(&a, "acme", "Acme Plumbing");
    let (status, _) = call(
        "PUT",
        &format!("{v1}/staff/ann"),
        &key,
        Some("ann"),
        Some(&json!({ "name": "Ann", "role": "owner" })),
    );
    assert_eq!(status, 200);
    let (status, _) = call(
        "PUT",
        &format!("{v1}/clients/c1"),
        &key,
        Some("ann"),
        Some(&json!({ "name": "Jordan", "email": "jordan@client.example" })),
    );
    assert_eq!(status, 200);
    let png = include_bytes!("../../assets/demo-before.png");
    let (status, stored) = upload(&a.base, &key, "ann", "photo1", png);
    assert_eq!(
        (status, &stored["content_type"]),
        (200, &json!("image/png"))
    );
    let wo = json!({ "client_id": "c1", "title": "Fix leak", "status": "scheduled",
        "files": [{ "id": "photo1", "name": "leak.png", "caption": "The leak", "shared": true }] });
    let (status, body) = call(
        "PUT",
        &format!("{v1}/work-orders/wo1"),
        &key,
        Some("ann"),
        Some(&wo),
    );
    assert_eq!(status, 200, "{body}");
    let (status, share) = call(
        "POST",
        &format!("{v1}/records/work_order/wo1/share"),
        &key,
        Some("ann"),
        Some(&json!({})),
    );
    assert_eq!(status, 200, "{share}");
    let link = share["link"].as_str().unwrap();
    let path = &link[link.find("/s/").unwrap()..];
    assert!(
        !a.data.path().join("files").exists()
            || std::fs::read_dir(a.data.path().join("files"))
                .unwrap()
                .next()
                .is_none(),
        "nothing in the data folder: the bytes are in the bucket"
    );

    // B: the same database (A's SQLite file) and bucket, its own data folder.
    let database = format!(
        "sqlite://{}?mode=rwc",
        a.data.path().join("portico.db").display()
    );
    let b = Server::start_with(None, &env_for(&s3, Some(database)));
    for server in [&a, &b] {
        let mut resp = agent()
            .get(format!("{}{path}/files/photo1", server.base))
            .call()
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200, "{}", server.base);
        assert_eq!(resp.headers().get("content-type").unwrap(), "image/png");
        let bytes = resp.body_mut().read_to_vec().unwrap();
        assert_eq!(bytes, png, "{}", server.base);
    }
    let (ok, log) = b.stop();
    assert!(ok, "{log}");
    let (ok, log) = a.stop();
    assert!(ok, "{log}");
}
