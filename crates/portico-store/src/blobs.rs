//! The blob port on a folder: the embedded default for photo and file bytes.
//!
//! Layout: `{root}/{org}/{file}`, each name the URL-safe base64 of the host's id, so no id (not
//! even `..`) can name a path outside its org's folder. A file holds one line with the media
//! type, then the bytes. Writes go to a temporary file in the same folder and are renamed into
//! place, so a reader sees the old blob or the new one, never a part.

use std::io::{self, ErrorKind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portico_core::ports::{BackendError, Blob, BlobKey, BlobMeta, Blobs};
use tokio::io::AsyncReadExt;

/// The longest media type line a blob file may start with.
const MAX_TYPE_LINE: usize = 128;

/// Photo and file bytes in a folder.
#[derive(Debug)]
pub struct FolderBlobs {
    root: PathBuf,
    next_temp: AtomicU64,
}

impl FolderBlobs {
    /// Blobs under `root`, created when missing.
    pub async fn open(root: impl Into<PathBuf>) -> io::Result<Self> {
        let root = root.into();
        tokio::fs::create_dir_all(&root).await?;
        Ok(Self {
            root,
            next_temp: AtomicU64::new(0),
        })
    }

    fn folder(&self, key: &BlobKey) -> PathBuf {
        self.root.join(URL_SAFE_NO_PAD.encode(key.org.as_str()))
    }

    fn path(&self, key: &BlobKey) -> PathBuf {
        self.folder(key)
            .join(URL_SAFE_NO_PAD.encode(key.file.as_str()))
    }
}

fn corrupt(path: &Path, what: &str) -> BackendError {
    format!("blob file {} is corrupt: {what}", path.display()).into()
}

/// Splits a blob file into its media type and the offset of its bytes.
fn parse_header<'a>(path: &Path, head: &'a [u8]) -> Result<(&'a str, usize), BackendError> {
    let end = head
        .iter()
        .position(|b| *b == b'\n')
        .ok_or_else(|| corrupt(path, "no media type line"))?;
    let content_type =
        std::str::from_utf8(&head[..end]).map_err(|_| corrupt(path, "media type is not UTF-8"))?;
    Ok((content_type, end + 1))
}

fn missing_is_none<T>(result: io::Result<T>) -> Result<Option<T>, BackendError> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Box::new(e)),
    }
}

#[async_trait]
impl Blobs for FolderBlobs {
    async fn put(&self, key: &BlobKey, blob: Blob) -> Result<(), BackendError> {
        if blob.content_type.len() > MAX_TYPE_LINE || blob.content_type.contains('\n') {
            return Err("the media type is too long or spans lines".into());
        }
        let folder = self.folder(key);
        tokio::fs::create_dir_all(&folder).await?;
        let n = self.next_temp.fetch_add(1, Ordering::Relaxed);
        let temp = folder.join(format!(".tmp-{}-{n}", std::process::id()));
        let mut content = Vec::with_capacity(blob.content_type.len() + 1 + blob.bytes.len());
        content.extend_from_slice(blob.content_type.as_bytes());
        content.push(b'\n');
        content.extend_from_slice(&blob.bytes);
        let written = async {
            tokio::fs::write(&temp, &content).await?;
            tokio::fs::File::open(&temp).await?.sync_all().await?;
            tokio::fs::rename(&temp, self.path(key)).await
        }
        .await;
        if written.is_err() {
            // The temporary file is ours alone; leaving it would only waste space.
            let _ = tokio::fs::remove_file(&temp).await;
        }
        Ok(written?)
    }

    async fn get(&self, key: &BlobKey) -> Result<Option<Blob>, BackendError> {
        let path = self.path(key);
        let Some(content) = missing_is_none(tokio::fs::read(&path).await)? else {
            return Ok(None);
        };
        let (content_type, start) = parse_header(&path, &content)?;
        Ok(Some(Blob {
            content_type: content_type.to_owned(),
            bytes: content[start..].to_vec(),
        }))
    }

    async fn head(&self, key: &BlobKey) -> Result<Option<BlobMeta>, BackendError> {
        let path = self.path(key);
        let Some(mut file) = missing_is_none(tokio::fs::File::open(&path).await)? else {
            return Ok(None);
        };
        let len = file.metadata().await?.len();
        let mut head = Vec::with_capacity(MAX_TYPE_LINE + 1);
        (&mut file)
            .take(MAX_TYPE_LINE as u64 + 1)
            .read_to_end(&mut head)
            .await?;
        let (content_type, start) = parse_header(&path, &head)?;
        Ok(Some(BlobMeta {
            content_type: content_type.to_owned(),
            size: len - start as u64,
        }))
    }

    async fn delete(&self, key: &BlobKey) -> Result<(), BackendError> {
        missing_is_none(tokio::fs::remove_file(self.path(key)).await)?;
        Ok(())
    }
}
