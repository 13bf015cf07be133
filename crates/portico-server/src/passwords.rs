//! The portal's password hasher (C4): argon2id with OWASP's parameters (19 MiB, 2 passes, one
//! lane), hashing on tokio's blocking pool so a sign-in never stalls the executor.

use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use async_trait::async_trait;
use portico_core::model::PasswordHash;
use portico_core::ports::{BackendError, Passwords};

/// argon2id with fixed parameters; a stored hash names its own, so older hashes still verify
/// after the parameters change.
#[derive(Debug, Clone)]
pub struct Argon2Passwords {
    params: Params,
}

impl Argon2Passwords {
    /// Memory per hash, in KiB (OWASP's first recommended setting for argon2id).
    pub const MEMORY_KIB: u32 = 19 * 1024;
    /// Passes over the memory.
    pub const PASSES: u32 = 2;
    /// Lanes.
    pub const LANES: u32 = 1;

    /// The hasher with OWASP's parameters.
    pub fn owasp() -> Result<Self, BackendError> {
        let params = Params::new(Self::MEMORY_KIB, Self::PASSES, Self::LANES, None)
            .map_err(|e| BackendError::from(e.to_string()))?;
        Ok(Self { params })
    }

    fn argon(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }
}

#[async_trait]
impl Passwords for Argon2Passwords {
    async fn hash(&self, password: &str) -> Result<PasswordHash, BackendError> {
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).map_err(|e| BackendError::from(e.to_string()))?;
        let argon = self.argon();
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || {
            let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
            argon
                .hash_password(password.as_bytes(), &salt)
                .map(|h| PasswordHash(h.to_string()))
                .map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| BackendError::from(e.to_string()))?
        .map_err(BackendError::from)
    }

    async fn verify(&self, password: &str, hash: &PasswordHash) -> Result<bool, BackendError> {
        let argon = self.argon();
        let password = password.to_owned();
        let stored = hash.0.clone();
        tokio::task::spawn_blocking(move || {
            // A hash that does not parse never matches.
            argon2::password_hash::PasswordHash::new(&stored)
                .is_ok_and(|parsed| argon.verify_password(password.as_bytes(), &parsed).is_ok())
        })
        .await
        .map_err(|e| BackendError::from(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn c4_argon2id_hashes_verify_and_differ_by_salt() {
        let hasher = Argon2Passwords::owasp().unwrap();
        let a = hasher.hash("correct horse battery").await.unwrap();
        let b = hasher.hash("correct horse battery").await.unwrap();
        assert!(
            a.0.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{}",
            a.0
        );
        assert_ne!(a, b, "a fresh salt each time");
        assert!(hasher.verify("correct horse battery", &a).await.unwrap());
        assert!(!hasher.verify("correct horse batterY", &a).await.unwrap());
        assert!(
            !hasher
                .verify("x", &PasswordHash("not a hash".into()))
                .await
                .unwrap()
        );
    }
}
