//! Photo and file bytes (I3): the host uploads them, the blob port keeps them, and only a share's
//! token ever serves them to a client. The media type is detected from the bytes by the adapter
//! that receives them and checked here against [`ALLOWED_FILE_TYPES`].

use std::collections::HashSet;

use super::{FileError, Portico};
use crate::model::{FileId, OrgId, Record, StaffId};
use crate::policy::permissions;
use crate::ports::{Blob, BlobKey, BlobMeta};

/// The media types Portico keeps: photos and documents a client can open in a browser.
pub const ALLOWED_FILE_TYPES: &[&str] = &[
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "image/heic",
    "image/heif",
    "image/avif",
    "application/pdf",
];

impl Portico {
    /// Stores the bytes of `file` for `org`, replacing earlier bytes of the same id, on behalf of
    /// `actor` (any active staff member). `content_type` MUST come from the bytes themselves.
    pub async fn put_file(
        &self,
        actor: &StaffId,
        org: &OrgId,
        file: &FileId,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> Result<BlobMeta, FileError> {
        if bytes.is_empty() {
            return Err(FileError::Empty);
        }
        let max = self.config.max_file_bytes;
        if bytes.len() as u64 > max {
            return Err(FileError::TooLarge { max });
        }
        if !ALLOWED_FILE_TYPES.contains(&content_type) {
            return Err(FileError::UnsupportedType(content_type.to_owned()));
        }
        self.check_may_change_bytes(actor, org, file).await?;
        let meta = BlobMeta {
            content_type: content_type.to_owned(),
            size: bytes.len() as u64,
        };
        let blob = Blob {
            content_type: content_type.to_owned(),
            bytes,
        };
        self.ports
            .blobs
            .put(&key(org, file), blob)
            .await
            .map_err(FileError::Backend)?;
        Ok(meta)
    }

    /// The type and size of a stored file.
    pub async fn file_meta(&self, org: &OrgId, file: &FileId) -> Result<BlobMeta, FileError> {
        self.ports
            .blobs
            .head(&key(org, file))
            .await
            .map_err(FileError::Backend)?
            .ok_or(FileError::NotFound)
    }

    /// Deletes a stored file's bytes, on behalf of `actor`: `NotFound` when none are stored,
    /// `InUse` while a record, the org's logo or a staff photo still points at them.
    pub async fn delete_file(
        &self,
        actor: &StaffId,
        org: &OrgId,
        file: &FileId,
    ) -> Result<(), FileError> {
        let in_use = self.check_may_change_bytes(actor, org, file).await?;
        let key = key(org, file);
        if self
            .ports
            .blobs
            .head(&key)
            .await
            .map_err(FileError::Backend)?
            .is_none()
        {
            return Err(FileError::NotFound);
        }
        if in_use {
            return Err(FileError::InUse);
        }
        self.ports
            .blobs
            .delete(&key)
            .await
            .map_err(FileError::Backend)
    }

    /// Any active staff member may upload new bytes; replacing or deleting bytes something
    /// already points at (a work order's photo, a signature, the logo, a staff photo — what a
    /// client may be shown) changes what a client sees, which needs a sharing role (S1).
    /// Returns whether something points at the bytes.
    async fn check_may_change_bytes(
        &self,
        actor: &StaffId,
        org_id: &OrgId,
        file: &FileId,
    ) -> Result<bool, FileError> {
        let mut tx = self.ports.store.begin_read().await?;
        tx.org(org_id).await?.ok_or(FileError::UnknownOrg)?;
        let staff = tx.staff(org_id, actor).await?;
        let role = permissions::active(staff.as_ref())?.role;
        let in_use = tx.file_in_use(org_id, file).await?;
        if in_use && !permissions::can_share(role) {
            return Err(permissions::ActorDenied::NotPermitted { role }.into());
        }
        Ok(in_use)
    }

    /// Removes the bytes of files a committed change dropped from a record. Best effort: a
    /// failure leaves orphaned bytes that no record points at, never a record pointing at
    /// missing bytes, so it does not undo the change.
    ///
    /// Bytes that something else of the org still points at (another work order, the logo, a
    /// staff photo) are kept.
    pub(crate) async fn drop_blobs(&self, org: &OrgId, files: &[FileId]) {
        if files.is_empty() {
            return;
        }
        let Ok(mut tx) = self.ports.store.begin_read().await else {
            // Without knowing what is in use nothing is deleted: orphaned bytes are harmless.
            return;
        };
        let mut unused = Vec::new();
        for file in files {
            if matches!(tx.file_in_use(org, file).await, Ok(false)) {
                unused.push(file);
            }
        }
        drop(tx);
        for file in unused {
            // Orphaned bytes are harmless and invisible to clients; see the doc above.
            let _ = self.ports.blobs.delete(&key(org, file)).await;
        }
    }

    /// The checked media type of `file`'s stored bytes, if they were uploaded.
    pub(crate) async fn uploaded_type(
        &self,
        org: &OrgId,
        file: &FileId,
    ) -> Result<Option<String>, FileError> {
        Ok(self
            .ports
            .blobs
            .head(&key(org, file))
            .await
            .map_err(FileError::Backend)?
            .map(|m| m.content_type))
    }
}

/// The files `old` had and `new` no longer has: attachments and the signature image.
pub(crate) fn dropped_files(old: Option<&Record>, new: &Record) -> Vec<FileId> {
    let (Some(Record::WorkOrder(old)), Record::WorkOrder(new)) = (old, new) else {
        return Vec::new();
    };
    let kept: HashSet<&FileId> = new
        .files
        .iter()
        .map(|f| &f.id)
        .chain(new.signature.as_ref().and_then(|s| s.image.as_ref()))
        .collect();
    old.files
        .iter()
        .map(|f| &f.id)
        .chain(old.signature.as_ref().and_then(|s| s.image.as_ref()))
        .filter(|id| !kept.contains(id))
        .cloned()
        .collect()
}

impl Portico {
    /// The stored bytes of `file` of `org`, if any: for callers that already decided the
    /// reader may see them.
    pub(super) async fn bytes(
        &self,
        org: &OrgId,
        file: &FileId,
    ) -> Result<Option<crate::ports::Blob>, crate::ports::BackendError> {
        self.ports.blobs.get(&key(org, file)).await
    }
}

fn key(org: &OrgId, file: &FileId) -> BlobKey {
    BlobKey {
        org: org.clone(),
        file: file.clone(),
    }
}
