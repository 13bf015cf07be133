//! Portico's webhook sender (I4): the core's [`WebhookSender`] port over HTTPS.
//!
//! - A delivery is posted as JSON, `{"type", "timestamp", "data"}`, signed the Standard
//!   Webhooks way: `webhook-id` (the same on every try), `webhook-timestamp` (Unix seconds)
//!   and `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, so a host can
//!   verify it with any Standard Webhooks library.
//! - No SSRF: an endpoint must be `https://` and every address it connects to public (no
//!   loopback, private, link-local or metadata address). Names are resolved by this crate's
//!   own resolver, which drops the addresses that are not public at every connection, so a
//!   name that later resolves elsewhere (DNS rebinding) reaches nothing it should not. Address
//!   literals are checked before the request. Redirects are not followed and no proxy from the
//!   environment is used. [`SenderConfig::allow_private`] and [`SenderConfig::allow_http`]
//!   lift the checks for tests and local development.

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use portico_core::model::{WebhookEvent, WebhookValue};
use portico_core::policy::webhooks::{public_address, sign_standard};
use portico_core::ports::{OutgoingWebhook, WebhookSender};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use serde::ser::{Serialize, SerializeMap, Serializer};
use time::format_description::well_known::Rfc3339;
use url::{Host, Url};

/// The longest endpoint URL accepted.
pub const MAX_URL_LEN: usize = 2048;

/// The `User-Agent` of every post.
pub const USER_AGENT: &str = concat!("Portico-Webhooks/", env!("CARGO_PKG_VERSION"));

/// How the sender behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SenderConfig {
    /// Admit endpoints on loopback, private and link-local addresses (tests, local
    /// development). Off in production.
    pub allow_private: bool,
    /// Admit `http://` endpoints. Off in production.
    pub allow_http: bool,
    /// How long one post may take, connection included.
    pub timeout: Duration,
}

impl Default for SenderConfig {
    fn default() -> Self {
        Self {
            allow_private: false,
            allow_http: false,
            timeout: Duration::from_secs(10),
        }
    }
}

/// The HTTP client could not be built.
#[derive(Debug)]
pub struct BuildError(String);

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the webhook HTTP client could not be built: {}", self.0)
    }
}

impl std::error::Error for BuildError {}

/// The [`WebhookSender`] port over HTTP(S).
#[derive(Debug, Clone)]
pub struct HttpWebhookSender {
    config: SenderConfig,
    http: reqwest::Client,
}

/// Resolves names with the system's resolver and keeps only the addresses Portico may call.
#[derive(Debug)]
struct PublicResolver {
    allow_private: bool,
}

impl Resolve for PublicResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let kept: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| allow_private || public_address(a.ip()).is_ok())
                .collect();
            if kept.is_empty() {
                let why = found.first().map_or_else(
                    || "it resolves to no address".to_owned(),
                    |a| refusal(&host, a.ip()),
                );
                return Err(why.into());
            }
            let addrs: Addrs = Box::new(kept.into_iter());
            Ok(addrs)
        })
    }
}

fn refusal(host: &str, ip: IpAddr) -> String {
    match public_address(ip) {
        Ok(()) => format!("{host} resolves to {ip}"),
        Err(why) => format!("{host} resolves to {ip}, {why}, which webhooks may not reach"),
    }
}

impl HttpWebhookSender {
    /// A sender with `config`.
    ///
    /// # Errors
    /// When the TLS stack cannot be set up.
    pub fn new(config: SenderConfig) -> Result<Self, BuildError> {
        let http = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(PublicResolver {
                allow_private: config.allow_private,
            }))
            .build()
            .map_err(|e| BuildError(e.to_string()))?;
        Ok(Self { config, http })
    }

    /// Checks `url`'s form (scheme, no credentials, a host) and, when the host is an address
    /// literal, the address. Names are checked where they resolve.
    fn check_form(&self, url: &str) -> Result<Url, String> {
        if url.len() > MAX_URL_LEN {
            return Err(format!("the URL is longer than {MAX_URL_LEN} characters"));
        }
        let mut parsed = Url::parse(url.trim()).map_err(|e| format!("not a URL: {e}"))?;
        match parsed.scheme() {
            "https" => {}
            "http" if self.config.allow_http => {}
            "http" => return Err("the URL must be https://".into()),
            other => return Err(format!("the URL must be https://, not {other}://")),
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err("the URL must not carry a user name or password".into());
        }
        parsed.set_fragment(None);
        let literal = match parsed.host() {
            None | Some(Host::Domain("")) => return Err("the URL has no host".into()),
            Some(Host::Domain(_)) => None,
            Some(Host::Ipv4(v4)) => Some(IpAddr::V4(v4)),
            Some(Host::Ipv6(v6)) => Some(IpAddr::V6(v6)),
        };
        if let Some(ip) = literal
            && !self.config.allow_private
            && let Err(why) = public_address(ip)
        {
            return Err(format!("{ip} is {why}, which webhooks may not reach"));
        }
        Ok(parsed)
    }
}

#[async_trait]
impl WebhookSender for HttpWebhookSender {
    async fn vet(&self, url: &str) -> Result<String, String> {
        let parsed = self.check_form(url)?;
        if let Some(Host::Domain(name)) = parsed.host() {
            let port = parsed.port_or_known_default().unwrap_or(443);
            let found: Vec<SocketAddr> =
                tokio::time::timeout(self.config.timeout, tokio::net::lookup_host((name, port)))
                    .await
                    .map_err(|_| format!("{name} did not resolve in time"))?
                    .map_err(|_| format!("{name} does not resolve"))?
                    .collect();
            if found.is_empty() {
                return Err(format!("{name} does not resolve"));
            }
            if !self.config.allow_private
                && let Some(bad) = found.iter().find(|a| public_address(a.ip()).is_err())
            {
                return Err(refusal(name, bad.ip()));
            }
        }
        Ok(parsed.to_string())
    }

    async fn send(&self, hook: &OutgoingWebhook<'_>) -> Result<u16, String> {
        let url = self.check_form(hook.url)?;
        let body = payload(hook.event);
        let signature = sign_standard(hook.key, &hook.id, hook.timestamp, &body);
        let response = self
            .http
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", &hook.id)
            .header("webhook-timestamp", hook.timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await
            .map_err(|e| describe(&e))?;
        Ok(response.status().as_u16())
    }
}

/// Why a post got no answer, in words for the host (the error's chain, without the URL's
/// query, which may hold the host's own tokens).
fn describe(e: &reqwest::Error) -> String {
    let mut words = if e.is_timeout() {
        "no answer in time".to_owned()
    } else if e.is_connect() {
        "could not connect".to_owned()
    } else {
        "the request failed".to_owned()
    };
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let _ = write!(words, ": {cause}");
        source = cause.source();
    }
    words
}

/// The body of a delivery: `{"type": …, "timestamp": RFC 3339, "data": {…}}`, the fields in
/// their order. The same event always gives the same bytes.
pub fn payload(event: &WebhookEvent) -> Vec<u8> {
    struct Data<'a>(&'a [(String, WebhookValue)]);
    impl Serialize for Data<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut map = s.serialize_map(Some(self.0.len()))?;
            for (name, value) in self.0 {
                match value {
                    WebhookValue::Text(t) => map.serialize_entry(name, t)?,
                    WebhookValue::Number(n) => map.serialize_entry(name, n)?,
                }
            }
            map.end()
        }
    }
    struct Body<'a>(&'a WebhookEvent);
    impl Serialize for Body<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let at = self
                .0
                .at
                .format(&Rfc3339)
                .map_err(serde::ser::Error::custom)?;
            let mut map = s.serialize_map(Some(3))?;
            map.serialize_entry("type", &self.0.event_type)?;
            map.serialize_entry("timestamp", &at)?;
            map.serialize_entry("data", &Data(&self.0.data))?;
            map.end()
        }
    }
    // Text, numbers and an RFC 3339 time always serialise.
    serde_json::to_vec(&Body(event)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn sender(allow_private: bool, allow_http: bool) -> HttpWebhookSender {
        HttpWebhookSender::new(SenderConfig {
            allow_private,
            allow_http,
            timeout: Duration::from_secs(2),
        })
        .unwrap()
    }

    #[test]
    fn i4_the_body_keeps_the_fields_in_order_and_reads_as_json() {
        let event = WebhookEvent {
            event_type: "invoice.paid".into(),
            at: datetime!(2026-12-02 10:00:00 UTC),
            data: vec![
                ("seq".into(), WebhookValue::Number(7)),
                ("amount".into(), WebhookValue::Text("12.50".into())),
            ],
        };
        let body = String::from_utf8(payload(&event)).unwrap();
        assert_eq!(
            body,
            r#"{"type":"invoice.paid","timestamp":"2026-12-02T10:00:00Z","data":{"seq":7,"amount":"12.50"}}"#
        );
    }

    #[tokio::test]
    async fn i4_ssrf_refuses_loopback_private_link_local_and_metadata_addresses() {
        let strict = sender(false, false);
        for url in [
            "https://127.0.0.1/hook",
            "https://10.0.0.1/hook",
            "https://169.254.169.254/latest/meta-data",
            "https://[::1]/hook",
            "https://[fd00:ec2::254]/hook",
            "https://[::ffff:127.0.0.1]/hook",
            "https://localhost/hook",
            "https://0.0.0.0/hook",
        ] {
            let refused = strict.vet(url).await.expect_err(url);
            assert!(
                refused.contains("may not reach") || refused.contains("resolves to"),
                "{url}: {refused}"
            );
        }
    }

    #[tokio::test]
    async fn i4_endpoint_urls_must_be_https_without_credentials() {
        let strict = sender(false, false);
        for (url, why) in [
            ("http://hooks.example/in", "https://"),
            ("ftp://hooks.example/in", "https://"),
            ("https://user:pw@hooks.example/in", "user name"),
            ("not a url", "not a URL"),
            ("https:///in", "does not resolve"),
        ] {
            let refused = strict.vet(url).await.expect_err(url);
            assert!(refused.contains(why), "{url}: {refused}");
        }
        let long = format!("https://hooks.example/{}", "a".repeat(MAX_URL_LEN));
        assert!(strict.vet(&long).await.unwrap_err().contains("longer"));
    }

    #[tokio::test]
    async fn i4_the_allow_settings_admit_local_http_endpoints() {
        let open = sender(true, true);
        assert_eq!(
            open.vet("http://127.0.0.1:9/in#x").await.unwrap(),
            "http://127.0.0.1:9/in"
        );
        assert!(open.vet("http://localhost:9/in").await.is_ok());
        let https_only = sender(true, false);
        assert!(https_only.vet("http://127.0.0.1:9/in").await.is_err());
    }

    #[tokio::test]
    async fn i4_a_send_to_a_name_that_resolves_to_loopback_reaches_nothing() {
        let strict = sender(false, true);
        let event = WebhookEvent {
            event_type: "webhook.test".into(),
            at: datetime!(2026-12-02 10:00:00 UTC),
            data: vec![],
        };
        for url in ["http://localhost:9/in", "http://127.0.0.1:9/in"] {
            let hook = OutgoingWebhook {
                url,
                id: "msg_1".into(),
                timestamp: 0,
                key: b"k",
                event: &event,
            };
            let failed = strict.send(&hook).await.unwrap_err();
            assert!(
                failed.contains("may not reach") || failed.contains("resolves to"),
                "{url}: {failed}"
            );
        }
    }
}
