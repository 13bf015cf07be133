//! Share tokens (S3, S4).
//!
//! A token is `base64url(HMAC-SHA256(server key, "portico share v1" ‖ key id ‖ nonce))`: 256 bits,
//! 43 URL-safe characters. The nonce (256 bits from the CSPRNG behind the
//! [`Randomness`](crate::ports::Randomness) port) and the key's id are stored with the share;
//! the token itself never is. So the database alone never yields a working link (S3), while the
//! server, which holds the key, can show the same link again at any time (S4). Look-ups use the
//! token's SHA-256, stored with a unique index.
//!
//! Keys rotate by id: a new key becomes current for new shares, older keys stay in the ring for
//! the shares minted under them until those are revoked, expired or re-shared.

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Which server key derived a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct KeyId(pub u32);

/// The random input a token is derived from; stored with the share.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Nonce(pub [u8; 32]);

impl fmt::Debug for Nonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Nonce(..)")
    }
}

/// SHA-256 of a token; what the store indexes.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TokenHash(pub [u8; 32]);

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenHash({:02x}{:02x}..)", self.0[0], self.0[1])
    }
}

/// A share token. Its `Debug` and `Display` never print it, so it cannot reach a log by
/// accident; [`ShareToken::expose`] is the one way to read it.
#[derive(Clone, PartialEq, Eq)]
pub struct ShareToken(String);

/// Length of every token Portico mints.
pub const TOKEN_LEN: usize = 43;

impl ShareToken {
    /// Accepts a presented token if it has the shape of one Portico mints; anything else can be
    /// answered "not found" without a look-up.
    pub fn parse(raw: &str) -> Option<Self> {
        (raw.len() == TOKEN_LEN
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        .then(|| Self(raw.to_owned()))
    }

    /// The token's hash, for look-up.
    pub fn hash(&self) -> TokenHash {
        TokenHash(Sha256::digest(self.0.as_bytes()).into())
    }

    /// The token itself, for building a link. Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ShareToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ShareToken(<redacted>)")
    }
}

/// A key the ring cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// Keys must hold at least 32 bytes.
    #[error("a token key must be at least 32 bytes long")]
    TooShort,
    /// The share names a key that is no longer in the ring.
    #[error("token key {0:?} is not configured")]
    Unknown(KeyId),
}

/// The server keys tokens are derived with. `Debug` never prints a key.
#[derive(Clone)]
pub struct TokenKeys {
    current: KeyId,
    keys: BTreeMap<KeyId, Vec<u8>>,
}

impl fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenKeys")
            .field("current", &self.current)
            .field("ids", &self.keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl TokenKeys {
    /// A ring whose one key, `id`, is current.
    pub fn new(id: KeyId, secret: &[u8]) -> Result<Self, KeyError> {
        if secret.len() < 32 {
            return Err(KeyError::TooShort);
        }
        Ok(Self {
            current: id,
            keys: BTreeMap::from([(id, secret.to_vec())]),
        })
    }

    /// Adds an older key, still needed for the shares minted under it.
    pub fn with_previous(mut self, id: KeyId, secret: &[u8]) -> Result<Self, KeyError> {
        if secret.len() < 32 {
            return Err(KeyError::TooShort);
        }
        self.keys.entry(id).or_insert_with(|| secret.to_vec());
        Ok(self)
    }

    /// The key new shares are minted under.
    pub fn current(&self) -> KeyId {
        self.current
    }

    /// Derives the token of a share from its key id and nonce.
    pub fn derive(&self, key: KeyId, nonce: &Nonce) -> Result<ShareToken, KeyError> {
        let secret = self.keys.get(&key).ok_or(KeyError::Unknown(key))?;
        // HMAC takes keys of any length; `new_from_slice` cannot fail for HMAC.
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).map_err(|_| KeyError::TooShort)?;
        mac.update(b"portico share v1");
        mac.update(&key.0.to_be_bytes());
        mac.update(&nonce.0);
        Ok(ShareToken(
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()),
        ))
    }
}

impl TokenKeys {
    /// Derives the token of a portal sign-in grant (C3) from its key id and nonce: the same
    /// shape as a share token, under its own purpose, so neither ever opens the other.
    pub fn derive_sign_in(&self, key: KeyId, nonce: &Nonce) -> Result<ShareToken, KeyError> {
        let secret = self.keys.get(&key).ok_or(KeyError::Unknown(key))?;
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).map_err(|_| KeyError::TooShort)?;
        mac.update(b"portico sign-in v1");
        mac.update(&key.0.to_be_bytes());
        mac.update(&nonce.0);
        Ok(ShareToken(
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()),
        ))
    }

    /// The one-time code mailed beside a grant's link (C3), for signing in on another device:
    /// [`SIGN_IN_CODE_LEN`] digits derived like the token, under another purpose.
    pub fn sign_in_code(&self, key: KeyId, nonce: &Nonce) -> Result<String, KeyError> {
        let secret = self.keys.get(&key).ok_or(KeyError::Unknown(key))?;
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).map_err(|_| KeyError::TooShort)?;
        mac.update(b"portico sign-in code v1");
        mac.update(&key.0.to_be_bytes());
        mac.update(&nonce.0);
        let bytes = mac.finalize().into_bytes();
        let mut wide = [0u8; 8];
        wide.copy_from_slice(&bytes[..8]);
        // 2^64 is about 1.8e19, so reducing modulo 1e8 leaves a bias below 1e-11.
        Ok(format!("{:08}", u64::from_be_bytes(wide) % 100_000_000))
    }

    /// A MAC of `data` for `purpose` under the current key (URL-safe base64), for values a page
    /// hands out and must recognise later, such as a form's CSRF token. Distinct purposes never
    /// yield each other's values, nor a share token.
    pub fn mac(&self, purpose: &str, data: &[u8]) -> String {
        let secret = self.keys.get(&self.current).map_or(&[][..], Vec::as_slice);
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap_or_else(|_| {
            // HMAC accepts keys of any length; this branch cannot run.
            Hmac::<Sha256>::new_from_slice(&[0; 32]).unwrap_or_else(|_| unreachable!())
        });
        mac.update(b"portico mac v1\0");
        mac.update(purpose.as_bytes());
        mac.update(b"\0");
        mac.update(data);
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// Whether `presented` is [`TokenKeys::mac`] of `data` for `purpose`, compared in constant time.
    pub fn verify_mac(&self, purpose: &str, data: &[u8], presented: &str) -> bool {
        let expected = self.mac(purpose, data);
        let (a, b) = (expected.as_bytes(), presented.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

/// Digits of a sign-in code.
pub const SIGN_IN_CODE_LEN: usize = 8;

/// Whether `presented` (spaces and dashes ignored) is `expected`, compared in constant time.
pub fn code_matches(expected: &str, presented: &str) -> bool {
    let cleaned: Vec<u8> = presented
        .bytes()
        .filter(|b| !b.is_ascii_whitespace() && *b != b'-')
        .collect();
    let expected = expected.as_bytes();
    cleaned.len() == expected.len()
        && expected
            .iter()
            .zip(&cleaned)
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A portal session's id (C5): 256 random bits, URL-safe, carried only in the client's cookie.
/// The store keeps its SHA-256. `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionId(String);

impl SessionId {
    /// An id from 32 random bytes.
    pub fn from_random(bytes: [u8; 32]) -> Self {
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Accepts a presented id if it has the shape of one Portico makes.
    pub fn parse(raw: &str) -> Option<Self> {
        (raw.len() == TOKEN_LEN
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        .then(|| Self(raw.to_owned()))
    }

    /// The id's hash, for storage and look-up.
    pub fn hash(&self) -> crate::model::SessionHash {
        crate::model::SessionHash(Sha256::digest(self.0.as_bytes()).into())
    }

    /// The id itself, for the cookie. Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionId(<redacted>)")
    }
}

/// SHA-256 of an integration API key; what the store keeps (I1).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ApiKeyHash(pub [u8; 32]);

impl fmt::Debug for ApiKeyHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKeyHash({:02x}{:02x}..)", self.0[0], self.0[1])
    }
}

/// An org's integration API key: `pk_` and 43 URL-safe characters (256 random bits). It is shown
/// once, when created; only its hash is stored. `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// The prefix every key carries, so a leaked key is recognisable.
    pub const PREFIX: &'static str = "pk_";

    /// A key from 32 random bytes.
    pub fn from_random(bytes: [u8; 32]) -> Self {
        Self(format!("{}{}", Self::PREFIX, URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// Accepts a presented key if it has the shape of one Portico makes.
    pub fn parse(raw: &str) -> Option<Self> {
        let body = raw.strip_prefix(Self::PREFIX)?;
        (body.len() == TOKEN_LEN
            && body
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        .then(|| Self(raw.to_owned()))
    }

    /// The key's hash, for storage and look-up.
    pub fn hash(&self) -> ApiKeyHash {
        ApiKeyHash(Sha256::digest(self.0.as_bytes()).into())
    }

    /// The key itself, to hand to the host once. Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}
