//! The folder blob adapter: the core's blob contract, and files that stay inside their folder.

use std::path::{Path, PathBuf};

use portico_core::model::{FileId, OrgId};
use portico_core::ports::{Blob, BlobKey, Blobs};
use portico_core::testing::conformance;
use portico_store::FolderBlobs;

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}

#[tokio::test]
async fn i3_folder_blobs_meet_the_blob_contract_and_stay_in_their_folder() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("files");
    let blobs = FolderBlobs::open(&root).await.unwrap();
    conformance::blobs_contract(&blobs).await;

    // Everything written lies under the root, one folder per org, no temporary files left.
    let files = files_under(dir.path());
    assert!(!files.is_empty());
    for file in &files {
        assert!(file.starts_with(&root), "{} escaped", file.display());
        let name = file.file_name().unwrap().to_string_lossy();
        assert!(!name.starts_with(".tmp"), "left behind: {name}");
        assert_eq!(file.parent().unwrap().parent().unwrap(), root);
    }

    // A second adapter on the same folder (a restart) reads what the first wrote.
    let key = BlobKey {
        org: OrgId::new("org-a").unwrap(),
        file: FileId::new("..").unwrap(),
    };
    let reopened = FolderBlobs::open(&root).await.unwrap();
    assert_eq!(
        reopened.get(&key).await.unwrap().map(|b| b.content_type),
        Some("image/png".to_owned())
    );
}

#[tokio::test]
async fn i3_a_damaged_blob_file_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let blobs = FolderBlobs::open(dir.path()).await.unwrap();
    let key = BlobKey {
        org: OrgId::new("org-a").unwrap(),
        file: FileId::new("f1").unwrap(),
    };
    let blob = Blob {
        content_type: "application/pdf".into(),
        bytes: b"%PDF-1.7".to_vec(),
    };
    blobs.put(&key, blob).await.unwrap();
    let [file] = files_under(dir.path()).try_into().unwrap();
    std::fs::write(&file, b"no header line").unwrap();
    let read = blobs.get(&key).await;
    let message = read.unwrap_err().to_string();
    assert!(message.contains("corrupt"), "{message}");
    assert!(blobs.head(&key).await.is_err());
    // Deleting it still works, so an operator can clear it through the API.
    blobs.delete(&key).await.unwrap();
    assert_eq!(blobs.get(&key).await.unwrap(), None);

    // A type that spans lines could forge the header: refused.
    let forged = Blob {
        content_type: "image/png\nimage/gif".into(),
        bytes: vec![1],
    };
    assert!(blobs.put(&key, forged).await.is_err());
}

#[tokio::test]
async fn i3_object_blobs_meet_the_blob_contract_on_an_s3_compatible_server() {
    let Some(s3) = portico_testkit::s3::TestS3::for_test() else {
        return;
    };
    let config = portico_store::ObjectConfig {
        bucket: s3.bucket.clone(),
        prefix: "tenant-a/files".into(),
        endpoint: Some(s3.endpoint()),
        region: Some("us-east-1".into()),
        access_key_id: Some("testing".into()),
        secret_access_key: Some("testing".into()),
        allow_http: true,
    };
    let blobs = portico_store::ObjectBlobs::open(&config).unwrap();
    conformance::blobs_contract(&blobs).await;

    // A second adapter on the same bucket (another server) reads what the first wrote.
    let key = BlobKey {
        org: OrgId::new("org-s3").unwrap(),
        file: FileId::new("photo-1.jpg").unwrap(),
    };
    let blob = Blob {
        content_type: "image/jpeg".into(),
        bytes: vec![0xff, 0xd8, 0xff, 1, 2, 3],
    };
    blobs.put(&key, blob.clone()).await.unwrap();
    let other = portico_store::ObjectBlobs::open(&config).unwrap();
    assert_eq!(other.get(&key).await.unwrap(), Some(blob));
    // Another prefix (another deployment on the bucket) sees nothing of it.
    let elsewhere = portico_store::ObjectBlobs::open(&portico_store::ObjectConfig {
        prefix: "tenant-b".into(),
        ..config
    })
    .unwrap();
    assert_eq!(elsewhere.get(&key).await.unwrap(), None);
}
