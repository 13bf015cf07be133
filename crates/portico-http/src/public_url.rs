//! The service's public base address, checked once.

use std::fmt;

/// The public base address of the service, such as `https://share.example.com` (a path prefix
/// is allowed). Links, the API document's server entry and the pages' form origin are built
/// from it, never from a request's `Host` header. Always `http` or `https` with a host, no
/// credentials, query or fragment, and kept without a trailing slash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl {
    base: String,
    origin: String,
}

/// Why a public URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an http(s) URL with a host and without credentials, query or fragment")]
pub struct PublicUrlError(pub String);

impl PublicUrl {
    /// Checks `raw`; a trailing slash is dropped.
    pub fn parse(raw: &str) -> Result<Self, PublicUrlError> {
        let refused = || PublicUrlError(raw.to_owned());
        let trimmed = raw.trim_end_matches('/');
        if trimmed.contains(char::is_whitespace) {
            return Err(refused());
        }
        let url = url::Url::parse(trimmed).map_err(|_| refused())?;
        let fits = matches!(url.scheme(), "http" | "https")
            && url.host_str().is_some_and(|h| !h.is_empty())
            && url.username().is_empty()
            && url.password().is_none()
            && url.query().is_none()
            && url.fragment().is_none();
        if !fits {
            return Err(refused());
        }
        Ok(Self {
            base: trimmed.to_owned(),
            origin: url.origin().ascii_serialization(),
        })
    }

    /// The base, without a trailing slash.
    pub fn as_str(&self) -> &str {
        &self.base
    }

    /// `scheme://host[:port]`: what a browser sends as `Origin` from the pages.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The address of `path` (which starts with `/`) under the base.
    pub fn join(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Default for PublicUrl {
    /// `http://127.0.0.1:8080`, the address the binary listens on by default.
    fn default() -> Self {
        Self {
            base: "http://127.0.0.1:8080".to_owned(),
            origin: "http://127.0.0.1:8080".to_owned(),
        }
    }
}

impl fmt::Display for PublicUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.base)
    }
}
