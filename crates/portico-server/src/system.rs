//! The system's clock and CSPRNG as the core's ports, and the token secret.

use std::path::Path;

use anyhow::{Context, Result};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use portico_core::ports::{Clock, Randomness};
use time::OffsetDateTime;

/// The system clock.
#[derive(Debug, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    // Reason: this adapter is the one place that reads the system clock.
    #[allow(clippy::disallowed_methods)]
    fn now(&self) -> OffsetDateTime {
        // Whole seconds, as the store keeps them: an answer shows the same time a later read will.
        let now = OffsetDateTime::now_utc();
        now.replace_nanosecond(0).unwrap_or(now)
    }
}

/// The operating system's CSPRNG (S3).
#[derive(Debug, Clone, Copy)]
pub struct OsRandomness;

impl Randomness for OsRandomness {
    fn fill(&self, dest: &mut [u8]) {
        // Without the OS CSPRNG no token may be minted: stop rather than fall back.
        if let Err(e) = getrandom::fill(dest) {
            tracing::error!(error = %e, "the operating system's random source failed");
            std::process::abort();
        }
    }
}

/// The secret tokens are derived from: the configured one, else the one kept in
/// `data_dir/secret.key`, else a new one written there (readable by this user only).
pub fn token_secret(configured: Option<&[u8]>, data_dir: &Path) -> Result<Vec<u8>> {
    if let Some(secret) = configured {
        return Ok(secret.to_vec());
    }
    let path = data_dir.join("secret.key");
    if path.exists() {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        return crate::config::decode_secret(&text)
            .with_context(|| format!("{} is not a valid secret", path.display()));
    }
    let mut secret = vec![0u8; 32];
    OsRandomness.fill(&mut secret);
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create {}", data_dir.display()))?;
    write_private(&path, STANDARD.encode(&secret).as_bytes())?;
    tracing::info!(path = %path.display(), "PORTICO_SECRET is unset: generated a token secret and kept it in the data folder");
    Ok(secret)
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(bytes)?;
    Ok(())
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("cannot create {}", path.display()))
}
