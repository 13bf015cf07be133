//! I4, I5: the signatures on webhooks both ways, and which endpoint addresses Portico will
//! call. Pure functions: the payment and delivery adapters that use them live outside the core.
//!
//! - Incoming from the payment provider: Stripe's `Stripe-Signature` header
//!   (`t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.payload">`, possibly several `v1`), checked in
//!   constant time and within a tolerance of the clock.
//! - Outgoing to the host app: the Standard Webhooks scheme (`webhook-id`, `webhook-timestamp`,
//!   `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.payload">`, the secret written
//!   `whsec_<base64>`), so a host verifies with any of that scheme's libraries.
//! - No SSRF: an endpoint whose address is loopback, private, link-local, shared, unspecified,
//!   multicast or a cloud metadata address is refused unless the operator allows them.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// HMAC-SHA256 keyed with `key`.
fn keyed(key: &[u8]) -> HmacSha256 {
    HmacSha256::new_from_slice(key).unwrap_or_else(|_| {
        // HMAC accepts keys of any length; this branch cannot run.
        HmacSha256::new_from_slice(&[0; 32]).unwrap_or_else(|_| unreachable!())
    })
}

/// How far a provider's signature time may be from the clock: Stripe's own default.
pub const STRIPE_TOLERANCE_SECONDS: i64 = 300;

/// Why a provider's webhook was refused. The request changes nothing either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureRefused {
    /// No header, or one without a time and a `v1` signature.
    #[error("the signature header is missing or malformed")]
    Malformed,
    /// The signed time is further from the clock than the tolerance (a replay, or a clock off).
    #[error("the signature is too old or from the future")]
    OutsideTolerance,
    /// No `v1` signature matches the body with the secret.
    #[error("no signature matches")]
    Mismatch,
}

/// Checks Stripe's `Stripe-Signature` `header` over the raw `payload` with the endpoint's
/// `secret`, at `now` (Unix seconds), allowing `tolerance` seconds either way. Any one of the
/// header's `v1` signatures may match (Stripe sends several while a secret is rolled).
pub fn verify_stripe(
    header: &str,
    payload: &[u8],
    secret: &str,
    now: i64,
    tolerance: i64,
) -> Result<(), SignatureRefused> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", v)) => signatures.extend(hex(v)),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureRefused::Malformed)?;
    if signatures.is_empty() {
        return Err(SignatureRefused::Malformed);
    }
    if (now - timestamp).abs() > tolerance {
        return Err(SignatureRefused::OutsideTolerance);
    }
    let matches = |expected: &Vec<u8>| {
        let mut mac = keyed(secret.as_bytes());
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(payload);
        // `verify_slice` compares in constant time.
        mac.verify_slice(expected).is_ok()
    };
    if signatures.iter().any(matches) {
        Ok(())
    } else {
        Err(SignatureRefused::Mismatch)
    }
}

/// `raw` as bytes, when it is an even number of hex digits.
fn hex(raw: &str) -> Option<Vec<u8>> {
    if raw.is_empty() || !raw.len().is_multiple_of(2) || !raw.is_ascii() {
        return None;
    }
    (0..raw.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&raw[i..i + 2], 16).ok())
        .collect()
}

/// Why a Standard Webhooks secret was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a webhook secret is `whsec_` followed by base64 of 24 to 64 bytes")]
pub struct BadSecret;

/// The key bytes of a `whsec_<base64>` secret.
pub fn secret_key(secret: &str) -> Result<Vec<u8>, BadSecret> {
    let encoded = secret.strip_prefix("whsec_").ok_or(BadSecret)?;
    let key = STANDARD.decode(encoded).map_err(|_| BadSecret)?;
    if (24..=64).contains(&key.len()) {
        Ok(key)
    } else {
        Err(BadSecret)
    }
}

/// A fresh secret in the `whsec_` form from `key` (24 to 64 random bytes).
pub fn secret_of(key: &[u8]) -> String {
    format!("whsec_{}", STANDARD.encode(key))
}

/// The `webhook-signature` header's value for one delivery: `v1,<base64 HMAC-SHA256>` of
/// `"{id}.{timestamp}.{payload}"`. The same id, time and payload always sign alike, so a retry
/// carries the same signature as long as it carries the same time.
pub fn sign_standard(key: &[u8], id: &str, timestamp: i64, payload: &[u8]) -> String {
    let mut mac = keyed(key);
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// Why an endpoint address is refused (I4: no SSRF).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AddressRefused {
    /// This machine.
    #[error("a loopback address")]
    Loopback,
    /// A private network (RFC 1918, unique local, shared address space).
    #[error("a private address")]
    Private,
    /// Link-local (which holds the cloud metadata services).
    #[error("a link-local or metadata address")]
    LinkLocal,
    /// Unspecified, broadcast, multicast, documentation or otherwise not a public host.
    #[error("not a public address")]
    NotPublic,
}

/// Whether Portico may call `ip` for a host's webhook: `Ok` for a public unicast address.
pub fn public_address(ip: IpAddr) -> Result<(), AddressRefused> {
    match ip {
        IpAddr::V4(v4) => public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => public_v4(v4),
            None => public_v6(v6),
        },
    }
}

fn public_v4(ip: Ipv4Addr) -> Result<(), AddressRefused> {
    let [a, b, ..] = ip.octets();
    if ip.is_loopback() {
        Err(AddressRefused::Loopback)
    } else if ip.is_private() || (a == 100 && (64..128).contains(&b)) {
        // 100.64.0.0/10 is carrier-grade NAT: as private as RFC 1918 for a caller.
        Err(AddressRefused::Private)
    } else if ip.is_link_local() {
        Err(AddressRefused::LinkLocal)
    } else if ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || a >= 240
        || (a == 192 && b == 0 && ip.octets()[2] == 0)
        || (a == 198 && (b == 18 || b == 19))
    {
        Err(AddressRefused::NotPublic)
    } else {
        Ok(())
    }
}

fn public_v6(ip: Ipv6Addr) -> Result<(), AddressRefused> {
    let first = ip.segments()[0];
    if ip.is_loopback() {
        Err(AddressRefused::Loopback)
    } else if first & 0xfe00 == 0xfc00 {
        // fc00::/7, unique local; fd00:ec2::254 (a cloud metadata address) is among them.
        Err(AddressRefused::Private)
    } else if first & 0xffc0 == 0xfe80 {
        Err(AddressRefused::LinkLocal)
    } else if ip.is_unspecified()
        || ip.is_multicast()
        || first == 0x2001 && ip.segments()[1] == 0x0db8
        || first == 0x0064 && ip.segments()[1] == 0xff9b
        || ip.to_ipv4().is_some()
    {
        // Documentation, NAT64 and IPv4-compatible forms reach no public host directly.
        Err(AddressRefused::NotPublic)
    } else {
        Ok(())
    }
}

/// An event type a host asked for that Portico does not send.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("events must name at least one of {known}; {given:?} is not one")]
pub struct UnknownEventType {
    /// What was asked for.
    pub given: String,
    /// The types there are, comma-separated.
    pub known: String,
}

/// I4: the event types an endpoint subscribes to: at least one, each of `known`, without
/// repeats, in `known`'s order.
pub fn event_types(asked: &[String], known: &[&str]) -> Result<Vec<String>, UnknownEventType> {
    let refuse = |given: &str| UnknownEventType {
        given: given.chars().take(100).collect(),
        known: known.join(", "),
    };
    if asked.is_empty() {
        return Err(refuse(""));
    }
    if let Some(unknown) = asked.iter().find(|a| !known.contains(&a.as_str())) {
        return Err(refuse(unknown));
    }
    Ok(known
        .iter()
        .filter(|k| asked.iter().any(|a| a == *k))
        .map(|k| (*k).to_owned())
        .collect())
}
