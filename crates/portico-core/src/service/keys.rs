//! I1: the host app's API keys. A key is shown once, when created; only its hash is stored.

use uuid::Uuid;

use super::{InvalidInput, Portico, RecordError};
use crate::model::{OrgId, StaffId};
use crate::policy::permissions;
use crate::ports::ApiKeyInfo;
use crate::token::ApiKey;

impl Portico {
    /// Creates an API key for `org`; returns its id and the key, to hand to the host once.
    pub async fn create_api_key(
        &self,
        org: &OrgId,
        label: &str,
    ) -> Result<(Uuid, ApiKey), RecordError> {
        check_label(label)?;
        let mut tx = self.ports.store.begin_read().await?;
        tx.org(org).await?.ok_or(RecordError::UnknownOrg)?;
        drop(tx);
        let mut bytes = [0; 32];
        self.ports.random.fill(&mut bytes);
        let key = ApiKey::from_random(bytes);
        let id = self.ports.random.uuid();
        self.ports
            .store
            .insert_api_key(id, org, &key.hash(), label, self.now())
            .await?;
        Ok((id, key))
    }

    /// Adds `key`, one the caller made (such as `portico demo`'s, derived from the server secret
    /// so every run prints the same), to `org`'s keys unless it is there already; returns its id,
    /// which is derived from the key's hash. Idempotent; a `Conflict` when that key exists but
    /// is revoked or another org's.
    pub async fn ensure_api_key(
        &self,
        org: &OrgId,
        label: &str,
        key: &ApiKey,
    ) -> Result<Uuid, RecordError> {
        check_label(label)?;
        let mut tx = self.ports.store.begin_read().await?;
        tx.org(org).await?.ok_or(RecordError::UnknownOrg)?;
        drop(tx);
        let hash = key.hash();
        let mut first = [0u8; 16];
        first.copy_from_slice(&hash.0[..16]);
        let id = Uuid::from_bytes(first);
        let store = &self.ports.store;
        match store
            .insert_api_key(id, org, &hash, label, self.now())
            .await
        {
            Ok(()) => Ok(id),
            Err(crate::ports::StoreError::Conflict(_))
                if store.org_of_api_key(&hash).await?.as_ref() == Some(org) =>
            {
                Ok(id)
            }
            Err(crate::ports::StoreError::Conflict(_)) => Err(RecordError::Conflict(
                "this API key exists, revoked or of another org".into(),
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// The org a presented API key belongs to, if it is a live key.
    pub async fn authenticate(&self, presented: &str) -> Result<Option<OrgId>, RecordError> {
        let Some(key) = ApiKey::parse(presented) else {
            return Ok(None);
        };
        Ok(self.ports.store.org_of_api_key(&key.hash()).await?)
    }

    /// Revokes one of `org`'s API keys (the operator's call): effective on the next request.
    /// `false` when the org has no key of that id.
    pub async fn revoke_api_key(&self, org: &OrgId, id: Uuid) -> Result<bool, RecordError> {
        let known = self
            .ports
            .store
            .api_keys_of_org(org)
            .await?
            .iter()
            .any(|k| k.id == id);
        if known {
            self.ports.store.revoke_api_key(org, id, self.now()).await?;
        }
        Ok(known)
    }

    /// I1: the org revokes one of its own keys, on behalf of `actor` (an owner, admin or sole
    /// trader). `false` when the org has no key of that id.
    pub async fn revoke_own_api_key(
        &self,
        actor: &StaffId,
        org: &OrgId,
        id: Uuid,
    ) -> Result<bool, RecordError> {
        self.check_org_manager(actor, org).await?;
        self.revoke_api_key(org, id).await
    }

    /// The org's API keys, live and revoked, oldest first (never a key or its hash).
    pub async fn api_keys(&self, org: &OrgId) -> Result<Vec<ApiKeyInfo>, RecordError> {
        let mut tx = self.ports.store.begin_read().await?;
        tx.org(org).await?.ok_or(RecordError::UnknownOrg)?;
        drop(tx);
        Ok(self.ports.store.api_keys_of_org(org).await?)
    }

    async fn check_org_manager(&self, actor: &StaffId, org: &OrgId) -> Result<(), RecordError> {
        let mut tx = self.ports.store.begin_read().await?;
        tx.org(org).await?.ok_or(RecordError::UnknownOrg)?;
        let role = permissions::active(tx.staff(org, actor).await?.as_ref())?.role;
        if permissions::can_manage_org(role) {
            Ok(())
        } else {
            Err(RecordError::NotOrgManager { role })
        }
    }
}

/// A key's label: at most 200 characters, no NUL.
fn check_label(label: &str) -> Result<(), RecordError> {
    if label.chars().count() > 200 {
        return Err(InvalidInput::new("label", "a key label is at most 200 characters").into());
    }
    if label.contains('\0') {
        return Err(InvalidInput::new("label", "the key label contains a NUL character").into());
    }
    Ok(())
}
