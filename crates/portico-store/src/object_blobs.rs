//! The blob port on S3-compatible object storage (through the `object_store` crate), for
//! servers that share their files: every instance reads what any one wrote.
//!
//! Layout: `{prefix}/{org}/{file}`, each name the URL-safe base64 of the host's id, so no id can
//! name another org's object. The media type travels as the object's `Content-Type`. A `PUT`
//! replaces an object whole, so a reader sees the old blob or the new one, never a part.

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path;
use object_store::{Attribute, Attributes, GetOptions, ObjectStore, PutOptions, PutPayload};
use portico_core::ports::{BackendError, Blob, BlobKey, BlobMeta, Blobs};

/// Photo and file bytes in an S3-compatible bucket.
#[derive(Debug)]
pub struct ObjectBlobs {
    store: Box<dyn ObjectStore>,
    prefix: Path,
}

/// Where the bucket is and how to reach it.
#[derive(Debug, Clone, Default)]
pub struct ObjectConfig {
    /// The bucket (it must exist).
    pub bucket: String,
    /// Objects go under this prefix (may be empty).
    pub prefix: String,
    /// An S3-compatible endpoint instead of AWS (`http://127.0.0.1:9000`, say).
    pub endpoint: Option<String>,
    /// The region (`us-east-1` unless said).
    pub region: Option<String>,
    /// The access key; with the secret below, else taken from the environment (`AWS_*`).
    pub access_key_id: Option<String>,
    /// The secret key.
    pub secret_access_key: Option<String>,
    /// Admit a plain-http endpoint (local servers and tests).
    pub allow_http: bool,
}

impl ObjectBlobs {
    /// Blobs in `config.bucket`, with the `AWS_*` environment filling what `config` leaves
    /// unsaid (credentials, region, endpoint).
    ///
    /// # Errors
    /// When the settings do not make a client (a bad endpoint URL, say).
    pub fn open(config: &ObjectConfig) -> Result<Self, BackendError> {
        let mut builder = AmazonS3Builder::from_env()
            .with_bucket_name(&config.bucket)
            .with_allow_http(config.allow_http);
        if let Some(endpoint) = &config.endpoint {
            builder = builder.with_endpoint(endpoint);
        }
        builder = builder.with_region(config.region.as_deref().unwrap_or("us-east-1"));
        if let (Some(id), Some(secret)) = (&config.access_key_id, &config.secret_access_key) {
            builder = builder
                .with_access_key_id(id)
                .with_secret_access_key(secret);
        }
        let store = builder.build()?;
        Ok(Self {
            store: Box::new(store),
            prefix: Path::from(config.prefix.trim_matches('/')),
        })
    }

    fn path(&self, key: &BlobKey) -> Path {
        self.prefix
            .child(URL_SAFE_NO_PAD.encode(key.org.as_str()))
            .child(URL_SAFE_NO_PAD.encode(key.file.as_str()))
    }
}

fn content_type(attributes: &Attributes) -> String {
    attributes
        .get(&Attribute::ContentType)
        .map_or_else(|| "application/octet-stream".to_owned(), |v| v.to_string())
}

#[async_trait]
impl Blobs for ObjectBlobs {
    async fn put(&self, key: &BlobKey, blob: Blob) -> Result<(), BackendError> {
        let mut attributes = Attributes::new();
        attributes.insert(Attribute::ContentType, blob.content_type.into());
        let options = PutOptions {
            attributes,
            ..PutOptions::default()
        };
        self.store
            .put_opts(&self.path(key), PutPayload::from(blob.bytes), options)
            .await?;
        Ok(())
    }

    async fn get(&self, key: &BlobKey) -> Result<Option<Blob>, BackendError> {
        match self.store.get(&self.path(key)).await {
            Ok(found) => {
                let content_type = content_type(&found.attributes);
                let bytes = found.bytes().await?;
                Ok(Some(Blob {
                    content_type,
                    bytes: bytes.to_vec(),
                }))
            }
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn head(&self, key: &BlobKey) -> Result<Option<BlobMeta>, BackendError> {
        let options = GetOptions {
            head: true,
            ..GetOptions::default()
        };
        match self.store.get_opts(&self.path(key), options).await {
            Ok(found) => Ok(Some(BlobMeta {
                content_type: content_type(&found.attributes),
                size: found.meta.size,
            })),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn delete(&self, key: &BlobKey) -> Result<(), BackendError> {
        match self.store.delete(&self.path(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}
