//! Configuration (O5): defaults, then a TOML file, then the environment, each overriding the
//! last; validated before anything starts, with a message that names the setting.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use portico_core::ServiceConfig;
use portico_core::model::Email;
use portico_core::service::DispatchConfig;
use secrecy::{SecretSlice, SecretString};
use serde::Deserialize;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object a line.
    Json,
}

/// The validated settings. `Debug` shows secrets as redacted and the database URL without its
/// password.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where to listen.
    pub bind: SocketAddr,
    /// The public base URL; links are built from it, never from a request's Host header.
    pub public_url: portico_http::PublicUrl,
    /// The database.
    pub database_url: DatabaseUrl,
    /// Where the SQLite file, the generated secret and mail live.
    pub data_dir: PathBuf,
    /// The token key, when given (otherwise generated and kept in the data folder).
    pub secret: Option<SecretSlice<u8>>,
    /// The admin token; the admin routes are closed without one.
    pub admin_token: Option<SecretString>,
    /// Log format.
    pub log_format: LogFormat,
    /// The largest request body accepted, but for file uploads.
    pub max_body_bytes: usize,
    /// The largest photo or file upload accepted.
    pub max_file_bytes: usize,
    /// The address mail is sent from (under each org's name).
    pub mail_from: Email,
    /// Keep rendered client pages in memory (per process).
    pub page_cache: bool,
    /// The most database connections this process opens; `None`: the store's default (16 on
    /// PostgreSQL, 8 on a SQLite file).
    pub database_connections: Option<u32>,
    /// Reverse proxies whose `X-Forwarded-For` is believed (addresses or CIDR ranges).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// SMTP delivery; `None` writes `.eml` files under the data folder instead.
    pub smtp: Option<portico_mail::SmtpConfig>,
    /// How long a burst of task or update emails gathers before it leaves as one (N6).
    pub burst_window: std::time::Duration,
    /// The first retry's delay after a temporary mail failure (then doubling, up to an hour).
    pub mail_retry: std::time::Duration,
    /// How long a failing email keeps being retried before it goes dead.
    pub mail_give_up: std::time::Duration,
    /// How long a dispatcher's claim holds before another may take the email (after a crash).
    pub mail_lease: std::time::Duration,
    /// The listener's connection limits and timeouts.
    pub limits: portico_http::ConnectionLimits,
    /// `/metrics` on the public port needs this token; without it the public port has none.
    pub metrics_token: Option<SecretString>,
    /// A second, private listen address for `/metrics`, `/healthz` and `/readyz` (no token).
    pub metrics_bind: Option<SocketAddr>,
    /// A portal session unused this long ends (C5).
    pub portal_idle: std::time::Duration,
    /// A portal session ends this long after sign-in, however busy (C5).
    pub portal_session: std::time::Duration,
    /// Online payments through Stripe (I5); none: no page offers Pay now.
    pub stripe: Option<StripeSettings>,
    /// Webhooks to host apps (I4).
    pub webhooks: WebhookSettings,
    /// Photo and file bytes in an S3-compatible bucket; none: in `{data}/files`.
    pub s3: Option<portico_store::ObjectConfig>,
}

/// How webhooks to host apps are sent (I4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebhookSettings {
    /// Admit endpoints on loopback, private and link-local addresses (local development and
    /// tests only).
    pub allow_private: bool,
    /// Admit `http://` endpoints (local development and tests only).
    pub allow_http: bool,
    /// How long one post may take.
    pub timeout: Duration,
    /// The first retry's delay after a failed post (then doubling, up to an hour).
    pub retry: Duration,
    /// How long a failing delivery keeps being retried before it goes dead.
    pub give_up: Duration,
}

/// Stripe's keys and addresses (I5). All three keys are given together or none is.
#[derive(Debug, Clone)]
pub struct StripeSettings {
    /// The platform's secret key (`sk_…` or a restricted `rk_…`).
    pub secret_key: SecretString,
    /// The publishable key (`pk_…`) the payment page hands to Stripe.js.
    pub publishable_key: String,
    /// The webhook endpoint's signing secret (`whsec_…`).
    pub webhook_secret: SecretString,
    /// Stripe's API (`https://api.stripe.com/`; a local stand-in in tests).
    pub api_base: url::Url,
    /// Stripe.js (`https://js.stripe.com/v3/`; a local stand-in in tests).
    pub js_url: url::Url,
}

/// The database's URL; `Debug` and `Display` show it with any password redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl std::ops::Deref for DatabaseUrl {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", redact_url(&self.0))
    }
}

impl std::fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&redact_url(&self.0))
    }
}

impl Settings {
    /// The core's settings.
    pub fn service_config(&self) -> ServiceConfig {
        ServiceConfig {
            max_file_bytes: self.max_file_bytes as u64,
            burst_window: span(self.burst_window),
            portal: portico_core::policy::portal::PortalConfig {
                idle_timeout: span(self.portal_idle),
                absolute_timeout: span(self.portal_session),
                ..portico_core::policy::portal::PortalConfig::default()
            },
        }
    }

    /// The HTTP service's settings (the binary lowers the connection caps to what the open-file
    /// limit allows).
    pub fn http_config(&self) -> portico_http::HttpConfig {
        portico_http::HttpConfig {
            admin_token: self.admin_token.clone(),
            max_body_bytes: self.max_body_bytes,
            max_file_bytes: self.max_file_bytes,
            public_url: self.public_url.clone(),
            pages: portico_http::PagesConfig {
                cache: self.page_cache,
                trusted_proxies: self.trusted_proxies.clone(),
                ..portico_http::PagesConfig::default()
            },
            metrics_token: self.metrics_token.clone(),
            limits: self.limits.clone(),
            payments: None,
        }
    }

    /// The webhook dispatcher's settings.
    pub fn webhook_config(&self) -> portico_core::service::WebhookConfig {
        portico_core::service::WebhookConfig {
            first_backoff: span(self.webhooks.retry),
            give_up_after: span(self.webhooks.give_up),
            ..portico_core::service::WebhookConfig::default()
        }
    }

    /// The mail dispatcher's settings.
    pub fn dispatch_config(&self) -> DispatchConfig {
        DispatchConfig {
            first_backoff: span(self.mail_retry),
            give_up_after: span(self.mail_give_up),
            lease: span(self.mail_lease),
            ..DispatchConfig::default()
        }
    }
}

/// A configured span as the core's duration type.
fn span(d: Duration) -> time::Duration {
    time::Duration::try_from(d).unwrap_or(time::Duration::MAX)
}

/// A URL with any password replaced, for logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{}{user}:<redacted>{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

/// A setting that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("invalid setting {setting}: {problem}")]
pub struct ConfigError {
    /// The setting's name, as in the environment.
    pub setting: &'static str,
    /// What is wrong.
    pub problem: String,
}

fn bad(setting: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        setting,
        problem: problem.into(),
    }
}

/// The TOML file's shape; every key optional, unknown keys refused.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    bind: Option<String>,
    public_url: Option<String>,
    database_url: Option<String>,
    data_dir: Option<PathBuf>,
    secret: Option<String>,
    admin_token: Option<String>,
    log_format: Option<String>,
    max_body_bytes: Option<usize>,
    max_file_bytes: Option<usize>,
    mail_from: Option<String>,
    page_cache: Option<Switch>,
    trust_proxy: Option<String>,
    trusted_proxies: Option<Vec<String>>,
    smtp_url: Option<String>,
    burst_window_seconds: Option<u64>,
    database_connections: Option<u64>,
    mail_retry_seconds: Option<u64>,
    mail_give_up_hours: Option<u64>,
    mail_lease_seconds: Option<u64>,
    header_timeout_seconds: Option<u64>,
    body_timeout_seconds: Option<u64>,
    max_connections: Option<u64>,
    max_connections_per_address: Option<u64>,
    metrics_token: Option<String>,
    metrics_bind: Option<String>,
    portal_idle_minutes: Option<u64>,
    portal_session_hours: Option<u64>,
    stripe_secret_key: Option<String>,
    stripe_publishable_key: Option<String>,
    stripe_webhook_secret: Option<String>,
    stripe_api_base: Option<String>,
    stripe_js_url: Option<String>,
    webhook_allow_private: Option<bool>,
    webhook_allow_http: Option<bool>,
    webhook_timeout_seconds: Option<u64>,
    webhook_retry_seconds: Option<u64>,
    webhook_give_up_hours: Option<u64>,
    s3_bucket: Option<String>,
    s3_prefix: Option<String>,
    s3_endpoint: Option<String>,
    s3_region: Option<String>,
    s3_allow_http: Option<bool>,
}

/// An on/off setting in the file: a TOML boolean, or the words `on` and `off`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Switch {
    Bool(bool),
    Word(String),
}

impl Switch {
    fn as_word(&self) -> &str {
        match self {
            Switch::Bool(true) => "on",
            Switch::Bool(false) => "off",
            Switch::Word(w) => w,
        }
    }
}

/// Loads the settings from `file` (if any) and `env` (a variable look-up).
// Reason: one setting after another, in the order the README lists them, reads best as one
// function; each setting's own checks live in the helpers it calls.
#[allow(clippy::too_many_lines)]
pub fn load(
    file: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Settings, ConfigError> {
    let from_file = file.map(read_file).transpose()?.unwrap_or_default();
    let (burst_window, mail_retry, mail_give_up, mail_lease) = mail_timing(env, &from_file)?;
    let limits = connection_limits(env, &from_file)?;
    let (portal_idle, portal_session) = portal_timeouts(env, &from_file)?;
    let webhooks = webhook_settings(env, &from_file)?;
    let s3 = object_storage(env, &from_file)?;
    let pick =
        |name: &str, file_value: Option<String>| env(name).filter(|v| !v.is_empty()).or(file_value);

    let bind = pick("PORTICO_BIND", from_file.bind).unwrap_or_else(|| "127.0.0.1:8080".to_owned());
    let bind: SocketAddr = bind.parse().map_err(|_| {
        bad(
            "PORTICO_BIND",
            format!("{bind:?} is not an address such as 127.0.0.1:8080"),
        )
    })?;

    let public_url = checked_public_url(
        &pick("PORTICO_PUBLIC_URL", from_file.public_url)
            .unwrap_or_else(|| format!("http://{bind}")),
    )?;

    let data_dir = env("PORTICO_DATA_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or(from_file.data_dir)
        .unwrap_or_else(|| PathBuf::from("portico-data"));

    let database_url = database_url(pick("DATABASE_URL", from_file.database_url), &data_dir)?;

    let secret = pick("PORTICO_SECRET", from_file.secret)
        .map(|s| decode_secret(&s))
        .transpose()?;

    let admin_token = pick("PORTICO_ADMIN_TOKEN", from_file.admin_token);
    if admin_token.as_ref().is_some_and(|t| t.len() < 24) {
        return Err(bad("PORTICO_ADMIN_TOKEN", "must be at least 24 characters"));
    }

    let log_format = log_format(pick("PORTICO_LOG_FORMAT", from_file.log_format).as_deref())?;

    let max_body_bytes = byte_size(
        "PORTICO_MAX_BODY_BYTES",
        env("PORTICO_MAX_BODY_BYTES"),
        from_file.max_body_bytes,
        1024 * 1024,
    )?;
    let max_file_bytes = byte_size(
        "PORTICO_MAX_FILE_BYTES",
        env("PORTICO_MAX_FILE_BYTES"),
        from_file.max_file_bytes,
        usize::try_from(ServiceConfig::DEFAULT_MAX_FILE_BYTES).unwrap_or(usize::MAX),
    )?;

    let mail_from = pick("PORTICO_MAIL_FROM", from_file.mail_from)
        .unwrap_or_else(|| "noreply@portico.localhost".to_owned());
    let mail_from =
        Email::parse(&mail_from).map_err(|e| bad("PORTICO_MAIL_FROM", e.to_string()))?;

    let page_cache = on_off(
        "PORTICO_PAGE_CACHE",
        pick(
            "PORTICO_PAGE_CACHE",
            from_file
                .page_cache
                .as_ref()
                .map(|s| s.as_word().to_owned()),
        )
        .as_deref(),
        // On: with SQLite one process owns the data; with PostgreSQL every server hears the
        // others' changes through the store's feed, and the cache is off while it cannot.
        true,
    )?;

    let database_connections = match pick(
        "PORTICO_DATABASE_CONNECTIONS",
        from_file.database_connections.map(|n| n.to_string()),
    ) {
        Some(raw) => {
            let n = bounded("PORTICO_DATABASE_CONNECTIONS", Some(raw), None, 0, 1..=1000)?;
            Some(u32::try_from(n).unwrap_or(1000))
        }
        None => None,
    };

    let trusted_proxies = trusted_proxies(env, from_file.trust_proxy, from_file.trusted_proxies)?;

    let (metrics_token, metrics_bind) = metrics_access(
        pick("PORTICO_METRICS_TOKEN", from_file.metrics_token),
        pick("PORTICO_METRICS_BIND", from_file.metrics_bind),
    )?;

    let stripe = stripe([
        pick("STRIPE_SECRET_KEY", from_file.stripe_secret_key),
        pick("STRIPE_PUBLISHABLE_KEY", from_file.stripe_publishable_key),
        pick("STRIPE_WEBHOOK_SECRET", from_file.stripe_webhook_secret),
        pick("STRIPE_API_BASE", from_file.stripe_api_base),
        pick("STRIPE_JS_URL", from_file.stripe_js_url),
    ])?;

    let smtp = pick("SMTP_URL", from_file.smtp_url)
        .map(|raw| {
            portico_mail::SmtpConfig::from_url(&raw).map_err(|e| bad("SMTP_URL", e.to_string()))
        })
        .transpose()?;

    Ok(Settings {
        bind,
        public_url,
        database_url,
        data_dir,
        secret: secret.map(SecretSlice::from),
        admin_token: admin_token.map(SecretString::from),
        log_format,
        max_body_bytes,
        max_file_bytes,
        mail_from,
        page_cache,
        database_connections,
        trusted_proxies,
        smtp,
        burst_window,
        mail_retry,
        mail_give_up,
        mail_lease,
        limits,
        metrics_token: metrics_token.map(SecretString::from),
        metrics_bind,
        portal_idle,
        portal_session,
        stripe,
        webhooks,
        s3,
    })
}

/// Object storage for files (`PORTICO_S3_*`); the credentials come from the standard `AWS_*`
/// variables (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`).
fn object_storage(
    env: &dyn Fn(&str) -> Option<String>,
    file: &FileSettings,
) -> Result<Option<portico_store::ObjectConfig>, ConfigError> {
    let pick =
        |name: &str, from_file: Option<String>| env(name).filter(|v| !v.is_empty()).or(from_file);
    let bucket = pick("PORTICO_S3_BUCKET", file.s3_bucket.clone());
    let prefix = pick("PORTICO_S3_PREFIX", file.s3_prefix.clone());
    let endpoint = pick("PORTICO_S3_ENDPOINT", file.s3_endpoint.clone());
    let region = pick("PORTICO_S3_REGION", file.s3_region.clone());
    let word = file
        .s3_allow_http
        .map(|b| if b { "on" } else { "off" }.to_owned());
    let allow_http = on_off(
        "PORTICO_S3_ALLOW_HTTP",
        pick("PORTICO_S3_ALLOW_HTTP", word).as_deref(),
        false,
    )?;
    let Some(bucket) = bucket else {
        if prefix.is_some() || endpoint.is_some() {
            return Err(bad(
                "PORTICO_S3_BUCKET",
                "is missing: the other PORTICO_S3_ settings need a bucket",
            ));
        }
        return Ok(None);
    };
    // S3's bucket names: 3 to 63 lower-case letters, digits, dots and hyphens.
    let named = (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
    if !named {
        return Err(bad(
            "PORTICO_S3_BUCKET",
            format!("{bucket:?} is not a bucket name (3 to 63 of a-z, 0-9, '.', '-')"),
        ));
    }
    if let Some(endpoint) = &endpoint
        && url::Url::parse(endpoint)
            .ok()
            .is_none_or(|u| !matches!(u.scheme(), "http" | "https"))
    {
        return Err(bad(
            "PORTICO_S3_ENDPOINT",
            format!("{endpoint:?} is not an http(s) URL"),
        ));
    }
    Ok(Some(portico_store::ObjectConfig {
        bucket,
        prefix: prefix.unwrap_or_default(),
        endpoint,
        region,
        access_key_id: None,
        secret_access_key: None,
        allow_http,
    }))
}

/// I4: the webhook sender's address checks and timings.
fn webhook_settings(
    env: &dyn Fn(&str) -> Option<String>,
    file: &FileSettings,
) -> Result<WebhookSettings, ConfigError> {
    let word = |b: Option<bool>| b.map(|b| if b { "on" } else { "off" }.to_owned());
    let switch = |name: &'static str, from_file: Option<bool>| {
        on_off(
            name,
            env(name)
                .filter(|v| !v.is_empty())
                .or(word(from_file))
                .as_deref(),
            false,
        )
    };
    let seconds = |name: &'static str, from_file, default, range| {
        bounded(name, env(name), from_file, default, range)
    };
    let defaults = portico_core::service::WebhookConfig::default();
    let whole = |d: time::Duration| u64::try_from(d.whole_seconds()).unwrap_or(0);
    Ok(WebhookSettings {
        allow_private: switch("PORTICO_WEBHOOK_ALLOW_PRIVATE", file.webhook_allow_private)?,
        allow_http: switch("PORTICO_WEBHOOK_ALLOW_HTTP", file.webhook_allow_http)?,
        timeout: Duration::from_secs(seconds(
            "PORTICO_WEBHOOK_TIMEOUT_SECONDS",
            file.webhook_timeout_seconds,
            10,
            1..=60,
        )?),
        retry: Duration::from_secs(seconds(
            "PORTICO_WEBHOOK_RETRY_SECONDS",
            file.webhook_retry_seconds,
            whole(defaults.first_backoff),
            1..=3600,
        )?),
        give_up: Duration::from_secs(
            seconds(
                "PORTICO_WEBHOOK_GIVE_UP_HOURS",
                file.webhook_give_up_hours,
                whole(defaults.give_up_after) / 3600,
                1..=720,
            )? * 3600,
        ),
    })
}

/// Stripe's settings: the three keys together (each checked for its prefix), or none.
fn stripe(settings: [Option<String>; 5]) -> Result<Option<StripeSettings>, ConfigError> {
    let [
        secret_key,
        publishable_key,
        webhook_secret,
        api_base,
        js_url,
    ] = settings;
    let (secret_key, publishable_key, webhook_secret) = match (
        secret_key,
        publishable_key,
        webhook_secret,
    ) {
        (None, None, None) => return Ok(None),
        (Some(s), Some(p), Some(w)) => (s, p, w),
        (s, p, _) => {
            let missing = if s.is_none() {
                "STRIPE_SECRET_KEY"
            } else if p.is_none() {
                "STRIPE_PUBLISHABLE_KEY"
            } else {
                "STRIPE_WEBHOOK_SECRET"
            };
            return Err(bad(
                missing,
                "is missing: Stripe needs STRIPE_SECRET_KEY, STRIPE_PUBLISHABLE_KEY and STRIPE_WEBHOOK_SECRET together",
            ));
        }
    };
    let key_like = |v: &str, prefixes: &[&str]| {
        prefixes.iter().any(|p| v.starts_with(p))
            && v.len() > 8
            && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    };
    if !key_like(&secret_key, &["sk_", "rk_"]) {
        return Err(bad(
            "STRIPE_SECRET_KEY",
            "must be a secret key (sk_… or rk_…)",
        ));
    }
    if !key_like(&publishable_key, &["pk_"]) {
        return Err(bad(
            "STRIPE_PUBLISHABLE_KEY",
            "must be a publishable key (pk_…)",
        ));
    }
    if !key_like(&webhook_secret, &["whsec_"]) {
        return Err(bad(
            "STRIPE_WEBHOOK_SECRET",
            "must be the endpoint's signing secret (whsec_…)",
        ));
    }
    let url = |name: &'static str, raw: Option<String>, default: &str| {
        let raw = raw.unwrap_or_else(|| default.to_owned());
        url::Url::parse(&raw)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .ok_or_else(|| bad(name, format!("{raw:?} is not an http(s) URL")))
    };
    Ok(Some(StripeSettings {
        secret_key: SecretString::from(secret_key),
        publishable_key,
        webhook_secret: SecretString::from(webhook_secret),
        api_base: url("STRIPE_API_BASE", api_base, "https://api.stripe.com/")?,
        js_url: url("STRIPE_JS_URL", js_url, "https://js.stripe.com/v3/")?,
    }))
}

/// `DATABASE_URL`, or the SQLite file in the data folder.
fn database_url(raw: Option<String>, data_dir: &Path) -> Result<DatabaseUrl, ConfigError> {
    let database_url = raw.unwrap_or_else(|| {
        format!(
            "sqlite://{}?mode=rwc",
            data_dir.join("portico.db").display()
        )
    });
    if !(database_url.starts_with("sqlite:")
        || database_url.starts_with("postgres://")
        || database_url.starts_with("postgresql://"))
    {
        return Err(bad(
            "DATABASE_URL",
            format!(
                "{} is neither sqlite: nor postgres://",
                redact_url(&database_url)
            ),
        ));
    }
    Ok(DatabaseUrl(database_url))
}

/// The listener's timeouts and connection caps.
fn connection_limits(
    env: &dyn Fn(&str) -> Option<String>,
    file: &FileSettings,
) -> Result<portico_http::ConnectionLimits, ConfigError> {
    let setting = |name: &'static str, from_file, default, range| {
        bounded(name, env(name), from_file, default, range)
    };
    let defaults = portico_http::ConnectionLimits::default();
    let header = setting(
        "PORTICO_HEADER_TIMEOUT_SECONDS",
        file.header_timeout_seconds,
        defaults.header_read_timeout.as_secs(),
        1..=600,
    )?;
    let body = setting(
        "PORTICO_BODY_TIMEOUT_SECONDS",
        file.body_timeout_seconds,
        defaults.body_read_timeout.as_secs(),
        1..=3600,
    )?;
    let total = setting(
        "PORTICO_MAX_CONNECTIONS",
        file.max_connections,
        defaults.max_connections as u64,
        1..=1_000_000,
    )?;
    let per_address = setting(
        "PORTICO_MAX_CONNECTIONS_PER_ADDRESS",
        file.max_connections_per_address,
        defaults.max_connections_per_address as u64,
        1..=1_000_000,
    )?;
    Ok(portico_http::ConnectionLimits {
        header_read_timeout: Duration::from_secs(header),
        body_read_timeout: Duration::from_secs(body),
        max_connections: usize::try_from(total).unwrap_or(usize::MAX),
        max_connections_per_address: usize::try_from(per_address).unwrap_or(usize::MAX),
        ..defaults
    })
}

/// `PORTICO_TRUSTED_PROXIES` (comma-separated) or the file's list; the old on/off switch is
/// refused with a pointer to it.
fn trusted_proxies(
    env: &dyn Fn(&str) -> Option<String>,
    old_switch: Option<String>,
    from_file: Option<Vec<String>>,
) -> Result<Vec<ipnet::IpNet>, ConfigError> {
    // The old switch set to `off` asked for nothing; anything else asked for a trust the new
    // setting must now spell out.
    let old = env("PORTICO_TRUST_PROXY")
        .filter(|v| !v.is_empty())
        .or(old_switch);
    if old.is_some_and(|v| v.trim() != "off") {
        return Err(bad(
            "PORTICO_TRUST_PROXY",
            "is replaced by PORTICO_TRUSTED_PROXIES, the addresses or CIDR ranges of the proxies \
             whose X-Forwarded-For to believe (e.g. 10.0.0.0/8,192.0.2.7)",
        ));
    }
    let entries: Vec<String> = match env("PORTICO_TRUSTED_PROXIES").filter(|v| !v.trim().is_empty())
    {
        Some(raw) => raw.split(',').map(str::to_owned).collect(),
        None => from_file.unwrap_or_default(),
    };
    entries.iter().map(|entry| parse_net(entry)).collect()
}

/// The metrics token (checked) and the operator's listen address (parsed).
fn metrics_access(
    token: Option<String>,
    bind: Option<String>,
) -> Result<(Option<String>, Option<SocketAddr>), ConfigError> {
    if token.as_ref().is_some_and(|t| t.len() < 24) {
        return Err(bad(
            "PORTICO_METRICS_TOKEN",
            "must be at least 24 characters",
        ));
    }
    let bind = bind
        .map(|raw| {
            raw.parse::<SocketAddr>().map_err(|_| {
                bad(
                    "PORTICO_METRICS_BIND",
                    format!("{raw:?} is not an address such as 127.0.0.1:9090"),
                )
            })
        })
        .transpose()?;
    Ok((token, bind))
}

/// An address (a network of one) or a CIDR range.
fn parse_net(entry: &str) -> Result<ipnet::IpNet, ConfigError> {
    let entry = entry.trim();
    entry
        .parse::<ipnet::IpNet>()
        .or_else(|_| entry.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| {
            bad(
                "PORTICO_TRUSTED_PROXIES",
                format!("{entry:?} is neither an address nor a CIDR range such as 10.0.0.0/8"),
            )
        })
}

/// The burst window, the first retry delay, the give-up age and the claim lease of emails.
fn mail_timing(
    env: &dyn Fn(&str) -> Option<String>,
    file: &FileSettings,
) -> Result<(Duration, Duration, Duration, Duration), ConfigError> {
    let seconds = |name: &'static str, from_file, default, range| {
        bounded(name, env(name), from_file, default, range)
    };
    let whole = |d: time::Duration| u64::try_from(d.whole_seconds()).unwrap_or(0);
    let dispatch = DispatchConfig::default();
    let burst = seconds(
        "PORTICO_BURST_WINDOW_SECONDS",
        file.burst_window_seconds,
        whole(ServiceConfig::DEFAULT_BURST_WINDOW),
        0..=3600,
    )?;
    let retry = seconds(
        "PORTICO_MAIL_RETRY_SECONDS",
        file.mail_retry_seconds,
        whole(dispatch.first_backoff),
        1..=3600,
    )?;
    let give_up = seconds(
        "PORTICO_MAIL_GIVE_UP_HOURS",
        file.mail_give_up_hours,
        whole(dispatch.give_up_after) / 3600,
        1..=720,
    )?;
    let lease = seconds(
        "PORTICO_MAIL_LEASE_SECONDS",
        file.mail_lease_seconds,
        whole(dispatch.lease),
        2..=3600,
    )?;
    Ok((
        Duration::from_secs(burst),
        Duration::from_secs(retry),
        Duration::from_secs(give_up * 3600),
        Duration::from_secs(lease),
    ))
}

/// C5: the portal's idle timeout (minutes) and absolute session lifetime (hours).
fn portal_timeouts(
    env: &dyn Fn(&str) -> Option<String>,
    file: &FileSettings,
) -> Result<(Duration, Duration), ConfigError> {
    let portal = portico_core::policy::portal::PortalConfig::default();
    let minutes = |d: time::Duration| u64::try_from(d.whole_minutes()).unwrap_or(0);
    let idle = bounded(
        "PORTICO_PORTAL_IDLE_MINUTES",
        env("PORTICO_PORTAL_IDLE_MINUTES"),
        file.portal_idle_minutes,
        minutes(portal.idle_timeout),
        1..=24 * 60,
    )?;
    let session = bounded(
        "PORTICO_PORTAL_SESSION_HOURS",
        env("PORTICO_PORTAL_SESSION_HOURS"),
        file.portal_session_hours,
        minutes(portal.absolute_timeout) / 60,
        1..=24 * 30,
    )?;
    Ok((
        Duration::from_secs(idle * 60),
        Duration::from_secs(session * 3600),
    ))
}

/// The settings of a TOML file.
fn read_file(path: &Path) -> Result<FileSettings, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        bad(
            "PORTICO_CONFIG",
            format!("cannot read {}: {e}", path.display()),
        )
    })?;
    toml::from_str::<FileSettings>(&text)
        .map_err(|e| bad("PORTICO_CONFIG", format!("{}: {e}", path.display())))
}

/// `text` (the default) or `json`.
fn log_format(raw: Option<&str>) -> Result<LogFormat, ConfigError> {
    match raw {
        None | Some("text") => Ok(LogFormat::Text),
        Some("json") => Ok(LogFormat::Json),
        Some(other) => Err(bad(
            "PORTICO_LOG_FORMAT",
            format!("{other:?} is neither text nor json"),
        )),
    }
}

/// `on`/`true` or `off`/`false`, or `default` when unset.
fn on_off(name: &'static str, raw: Option<&str>, default: bool) -> Result<bool, ConfigError> {
    match raw {
        None => Ok(default),
        Some("on" | "true") => Ok(true),
        Some("off" | "false") => Ok(false),
        Some(other) => Err(bad(name, format!("{other:?} is neither on nor off"))),
    }
}

/// An http(s) base URL, kept without a trailing slash.
fn checked_public_url(raw: &str) -> Result<portico_http::PublicUrl, ConfigError> {
    portico_http::PublicUrl::parse(raw).map_err(|e| bad("PORTICO_PUBLIC_URL", e.to_string()))
}

/// A size in bytes from the environment or the file, between 1 KiB and 64 MiB.
fn byte_size(
    name: &'static str,
    from_env: Option<String>,
    from_file: Option<usize>,
    default: usize,
) -> Result<usize, ConfigError> {
    let bytes = bounded(
        name,
        from_env,
        from_file.map(|v| v as u64),
        default as u64,
        1024..=64 * 1024 * 1024,
    )?;
    usize::try_from(bytes).map_err(|_| bad(name, "is too large for this machine"))
}

/// A whole number from the environment or the file, within `range`.
fn bounded(
    name: &'static str,
    from_env: Option<String>,
    from_file: Option<u64>,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
) -> Result<u64, ConfigError> {
    let value = match from_env.filter(|v| !v.is_empty()) {
        Some(raw) => raw
            .trim()
            .parse()
            .map_err(|_| bad(name, format!("{raw:?} is not a whole number")))?,
        None => from_file.unwrap_or(default),
    };
    if !range.contains(&value) {
        return Err(bad(
            name,
            format!("must be between {} and {}", range.start(), range.end()),
        ));
    }
    Ok(value)
}

/// A secret given as base64 (standard or URL-safe, padded or not) of at least 32 bytes.
pub fn decode_secret(raw: &str) -> Result<Vec<u8>, ConfigError> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let raw = raw.trim();
    let bytes = [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(raw).ok())
        .ok_or_else(|| bad("PORTICO_SECRET", "is not base64"))?;
    if bytes.len() < 32 {
        return Err(bad(
            "PORTICO_SECRET",
            format!("must decode to at least 32 bytes, not {}", bytes.len()),
        ));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn o2_with_nothing_set_it_runs_on_sqlite_in_the_data_folder() {
        let s = load(None, &env(&[])).unwrap();
        assert_eq!(s.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(s.public_url.as_str(), "http://127.0.0.1:8080");
        assert_eq!(
            &*s.database_url,
            "sqlite://portico-data/portico.db?mode=rwc"
        );
        assert!(s.secret.is_none() && s.admin_token.is_none());
    }

    #[test]
    fn o5_i4_object_storage_and_webhook_settings_are_checked_and_default_safe() {
        let s = load(None, &env(&[])).unwrap();
        assert!(s.s3.is_none(), "files in the data folder by default");
        assert!(!s.webhooks.allow_private && !s.webhooks.allow_http);
        let s = load(
            None,
            &env(&[
                ("PORTICO_S3_BUCKET", "portico-files"),
                ("PORTICO_S3_PREFIX", "/prod/"),
                ("PORTICO_S3_ENDPOINT", "http://127.0.0.1:9000"),
                ("PORTICO_S3_ALLOW_HTTP", "on"),
                ("PORTICO_WEBHOOK_RETRY_SECONDS", "5"),
            ]),
        )
        .unwrap();
        let s3 = s.s3.unwrap();
        assert_eq!(
            (s3.bucket.as_str(), s3.prefix.as_str(), s3.allow_http),
            ("portico-files", "/prod/", true)
        );
        assert_eq!(s.webhooks.retry, Duration::from_secs(5));
        for (pairs, name) in [
            (
                vec![("PORTICO_S3_BUCKET", "Bad_Bucket")],
                "PORTICO_S3_BUCKET",
            ),
            (
                vec![
                    ("PORTICO_S3_BUCKET", "ok-bucket"),
                    ("PORTICO_S3_ENDPOINT", "ftp://x"),
                ],
                "PORTICO_S3_ENDPOINT",
            ),
            (
                vec![("PORTICO_S3_ENDPOINT", "http://127.0.0.1:9000")],
                "PORTICO_S3_BUCKET",
            ),
            (
                vec![("PORTICO_WEBHOOK_ALLOW_PRIVATE", "maybe")],
                "PORTICO_WEBHOOK_ALLOW_PRIVATE",
            ),
            (
                vec![("PORTICO_WEBHOOK_TIMEOUT_SECONDS", "0")],
                "PORTICO_WEBHOOK_TIMEOUT_SECONDS",
            ),
        ] {
            let refused = load(None, &env(&pairs)).unwrap_err().to_string();
            assert!(refused.contains(name), "{pairs:?}: {refused}");
        }
    }

    #[test]
    fn o5_the_environment_overrides_the_file_which_overrides_the_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("portico.toml");
        std::fs::write(&file, "bind = \"0.0.0.0:9000\"\npublic_url = \"https://file.example/\"\nlog_format = \"json\"\n").unwrap();
        let s = load(
            Some(&file),
            &env(&[("PORTICO_PUBLIC_URL", "https://env.example")]),
        )
        .unwrap();
        assert_eq!(s.bind.to_string(), "0.0.0.0:9000");
        assert_eq!(s.public_url.as_str(), "https://env.example");
        assert_eq!(s.log_format, LogFormat::Json);
    }

    #[test]
    fn o5_switches_are_toml_booleans_or_words_and_debug_redacts_every_secret() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("portico.toml");
        for (text, cache) in [
            ("page_cache = true\n", true),
            ("page_cache = false\n", false),
            ("page_cache = \"on\"\n", true),
            ("page_cache = \"off\"\n", false),
        ] {
            std::fs::write(&file, text).unwrap();
            let s = load(Some(&file), &env(&[])).unwrap();
            assert_eq!(s.page_cache, cache, "{text}");
        }
        std::fs::write(&file, "page_cache = 1\n").unwrap();
        assert_eq!(
            load(Some(&file), &env(&[])).unwrap_err().setting,
            "PORTICO_CONFIG"
        );
        let s = load(
            None,
            &env(&[
                ("PORTICO_ADMIN_TOKEN", "admin-token-of-at-least-24-chars"),
                ("PORTICO_METRICS_TOKEN", "metrics-token-of-at-least-24"),
                (
                    "PORTICO_SECRET",
                    "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA==",
                ),
                ("DATABASE_URL", "postgres://portico:hunter2@db/p"),
            ]),
        )
        .unwrap();
        let debug = format!("{s:?} {:?}", s.http_config());
        for secret in ["admin-token-of", "metrics-token-of", "hunter2", "c2VjcmV0"] {
            assert!(!debug.contains(secret), "{secret} in {debug}");
        }
        assert!(
            debug.contains("postgres://portico:<redacted>@db/p"),
            "{debug}"
        );
    }

    #[test]
    fn o5_invalid_settings_stop_the_start_with_the_setting_named() {
        let cases = [
            (vec![("PORTICO_BIND", "nowhere")], "PORTICO_BIND"),
            (
                vec![("PORTICO_PUBLIC_URL", "ftp://x")],
                "PORTICO_PUBLIC_URL",
            ),
            (vec![("DATABASE_URL", "mysql://u:pw@h/db")], "DATABASE_URL"),
            (vec![("PORTICO_SECRET", "c2hvcnQ=")], "PORTICO_SECRET"),
            (
                vec![("PORTICO_SECRET", "not base64 at all!")],
                "PORTICO_SECRET",
            ),
            (
                vec![("PORTICO_ADMIN_TOKEN", "short")],
                "PORTICO_ADMIN_TOKEN",
            ),
            (vec![("PORTICO_LOG_FORMAT", "xml")], "PORTICO_LOG_FORMAT"),
            (
                vec![("PORTICO_MAX_BODY_BYTES", "lots")],
                "PORTICO_MAX_BODY_BYTES",
            ),
            (vec![("PORTICO_TRUST_PROXY", "on")], "PORTICO_TRUST_PROXY"),
            (vec![("PORTICO_TRUST_PROXY", "yes")], "PORTICO_TRUST_PROXY"),
            (
                vec![("PORTICO_TRUSTED_PROXIES", "10.0.0.0/8, proxy.example")],
                "PORTICO_TRUSTED_PROXIES",
            ),
            (
                vec![("PORTICO_HEADER_TIMEOUT_SECONDS", "0")],
                "PORTICO_HEADER_TIMEOUT_SECONDS",
            ),
            (
                vec![("PORTICO_MAX_CONNECTIONS_PER_ADDRESS", "many")],
                "PORTICO_MAX_CONNECTIONS_PER_ADDRESS",
            ),
        ];
        for (pairs, setting) in cases {
            let err = load(None, &env(&pairs)).unwrap_err();
            assert_eq!(err.setting, setting, "{err}");
            assert!(
                !err.to_string().contains("pw@"),
                "no password in the message: {err}"
            );
        }
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("bad.toml");
        std::fs::write(&file, "colour = \"blue\"\n").unwrap();
        assert_eq!(
            load(Some(&file), &env(&[])).unwrap_err().setting,
            "PORTICO_CONFIG"
        );
    }

    #[test]
    fn s10_trusted_proxies_and_connection_limits_are_read_from_the_environment_or_the_file() {
        let s = load(
            None,
            &env(&[
                (
                    "PORTICO_TRUSTED_PROXIES",
                    "10.0.0.0/8, 192.0.2.7,2001:db8::/32",
                ),
                ("PORTICO_MAX_CONNECTIONS", "100"),
                ("PORTICO_HEADER_TIMEOUT_SECONDS", "5"),
            ]),
        )
        .unwrap();
        let nets: Vec<String> = s.trusted_proxies.iter().map(ToString::to_string).collect();
        assert_eq!(nets, ["10.0.0.0/8", "192.0.2.7/32", "2001:db8::/32"]);
        assert_eq!(s.limits.max_connections, 100);
        assert_eq!(s.limits.header_read_timeout, Duration::from_secs(5));
        assert_eq!(s.limits.max_connections_per_address, 256, "the default");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("portico.toml");
        std::fs::write(
            &file,
            "trusted_proxies = [\"127.0.0.1\"]\nmax_connections_per_address = 8\n",
        )
        .unwrap();
        let s = load(Some(&file), &env(&[])).unwrap();
        assert_eq!(s.trusted_proxies.len(), 1);
        assert_eq!(s.limits.max_connections_per_address, 8);
        assert!(load(None, &env(&[])).unwrap().trusted_proxies.is_empty());
        let old_off = load(None, &env(&[("PORTICO_TRUST_PROXY", "off")])).unwrap();
        assert!(
            old_off.trusted_proxies.is_empty(),
            "the old switch off still starts"
        );
    }

    #[test]
    fn o4_passwords_never_reach_a_log_line() {
        let s = load(
            None,
            &env(&[
                ("DATABASE_URL", "postgres://portico:hunter2@db:5432/p"),
                ("PORTICO_ADMIN_TOKEN", "a-very-long-admin-token-value"),
            ]),
        )
        .unwrap();
        let shown = format!("{s:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("a-very-long-admin-token-value"),
            "{shown}"
        );
        assert_eq!(
            redact_url("postgres://portico:hunter2@db/p"),
            "postgres://portico:<redacted>@db/p"
        );
    }
}
