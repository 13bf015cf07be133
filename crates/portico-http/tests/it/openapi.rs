//! I6: the OpenAPI document is served and kept in the repository as `docs/openapi.json`.
//! `cargo xtask codegen` rewrites the file (it runs this test with `PORTICO_UPDATE_OPENAPI=1`).

use poem::test::TestClient;

use crate::support::{config, portico};

fn document_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json")
}

#[tokio::test]
async fn i6_openapi_document_is_served_and_kept_in_the_repository() {
    let served = TestClient::new(portico_http::app(portico(), &config()))
        .get("/openapi.json")
        .send()
        .await;
    served.assert_status_is_ok();
    let served = served.0.into_body().into_string().await.unwrap();
    let rendered = portico_http::openapi_json(portico(), &config());
    let parsed: serde_json::Value = serde_json::from_str(&rendered).unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&served).unwrap(),
        parsed
    );
    assert!(parsed["openapi"].as_str().unwrap().starts_with("3."));
    let pretty = format!("{}\n", serde_json::to_string_pretty(&parsed).unwrap());
    let path = document_path();
    if std::env::var_os("PORTICO_UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &pretty).unwrap();
    }
    let kept = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        kept == pretty,
        "docs/openapi.json is out of date: run `cargo xtask codegen`"
    );
}
