//! Portico's payment adapter on Stripe (I5).
//!
//! - [`StripePayments`] implements the core's [`Payments`] port with Stripe's `PaymentIntents`
//!   API: each intent is opened on the org's connected account (the `Stripe-Account` header of
//!   Stripe Connect), for the amount the core checked, with an idempotency key, and for card
//!   and, in US dollars, US bank account (ACH) payments. The client confirms it in the browser
//!   with Stripe.js; nothing here charges anything.
//! - [`StripeWebhooks`] checks Stripe's webhook requests (`Stripe-Signature` over the raw body,
//!   constant time, five minutes either way) and reads the `PaymentIntent` events the core
//!   applies. Any other event type is recognised as one to ignore.
//!
//! The API's base address is a setting, so tests point it at a local Stripe stand-in.

use std::time::Duration;

use async_trait::async_trait;
use portico_core::model::{IntentId, Money, PaymentAccount, ProviderEvent, ProviderEventKind};
use portico_core::policy::webhooks::{STRIPE_TOLERANCE_SECONDS, SignatureRefused, verify_stripe};
use portico_core::ports::{
    BackendError, Intent, IntentRequest, Payments, ProviderWebhooks, WebhookRefused,
};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use url::Url;

/// Stripe's live API.
pub const STRIPE_API: &str = "https://api.stripe.com/";

/// The API version Portico's requests and the events it reads are written against.
pub const STRIPE_VERSION: &str = "2024-06-20";

/// How to reach Stripe.
#[derive(Debug, Clone)]
pub struct StripeConfig {
    /// The API's base address ([`STRIPE_API`], or a local stand-in in tests).
    pub api_base: Url,
    /// The platform's secret key (`sk_…`).
    pub secret_key: SecretString,
    /// How long one API call may take.
    pub timeout: Duration,
}

/// Why a Stripe setting was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The secret key is not one.
    #[error("the Stripe secret key must start with sk_ or rk_")]
    SecretKey,
    /// The API base is not http(s).
    #[error("the Stripe API address must be an http or https URL")]
    ApiBase,
    /// The HTTP client could not be built.
    #[error("the HTTP client could not be built: {0}")]
    Client(String),
}

/// The [`Payments`] port on Stripe.
#[derive(Debug, Clone)]
pub struct StripePayments {
    config: StripeConfig,
    http: reqwest::Client,
}

#[derive(Deserialize)]
struct IntentBody {
    id: String,
    client_secret: Option<String>,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: Option<ErrorDetail>,
}

#[derive(Deserialize)]
struct ErrorDetail {
    message: Option<String>,
    code: Option<String>,
}

impl StripePayments {
    /// An adapter with `config`, checked.
    pub fn new(config: StripeConfig) -> Result<Self, ConfigError> {
        let key = config.secret_key.expose_secret();
        if !(key.starts_with("sk_") || key.starts_with("rk_")) || key.len() < 8 {
            return Err(ConfigError::SecretKey);
        }
        if !matches!(config.api_base.scheme(), "http" | "https") {
            return Err(ConfigError::ApiBase);
        }
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ConfigError::Client(e.to_string()))?;
        Ok(Self { config, http })
    }

    fn url(&self, path: &str) -> Result<Url, BackendError> {
        Ok(self.config.api_base.join(path)?)
    }

    async fn post(
        &self,
        path: &str,
        account: &PaymentAccount,
        idempotency_key: Option<&str>,
        form: &[(String, String)],
    ) -> Result<IntentBody, BackendError> {
        let mut request = self
            .http
            .post(self.url(path)?)
            .bearer_auth(self.config.secret_key.expose_secret())
            .header("Stripe-Account", account.as_str())
            .header("Stripe-Version", STRIPE_VERSION)
            .form(form);
        if let Some(key) = idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        let response = request.send().await.map_err(|e| {
            // The error names the URL only, never the key.
            format!("Stripe did not answer: {}", e.without_url())
        })?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| e.without_url().to_string())?;
        if !status.is_success() {
            let detail = serde_json::from_slice::<ErrorBody>(&bytes)
                .ok()
                .and_then(|b| b.error)
                .map(|e| {
                    format!(
                        "{} ({})",
                        e.message.unwrap_or_default(),
                        e.code.unwrap_or_default()
                    )
                })
                .unwrap_or_default();
            return Err(format!("Stripe answered {status}: {detail}").into());
        }
        Ok(serde_json::from_slice(&bytes)
            .map_err(|e| format!("Stripe's answer did not read as an intent: {e}"))?)
    }
}

/// `money` in the currency's smallest unit, as Stripe counts amounts (cents for USD, yen for
/// JPY). `None` if it does not fit or has finer parts than the unit.
pub fn minor_units(money: &Money) -> Option<i64> {
    let scaled = money.amount * Decimal::from(10_i64.checked_pow(money.currency.minor_units())?);
    if scaled.fract() != Decimal::ZERO {
        return None;
    }
    scaled.to_i64()
}

/// The form of a new `PaymentIntent` for `request`.
pub fn intent_form(request: &IntentRequest) -> Result<Vec<(String, String)>, BackendError> {
    let amount = minor_units(&request.amount)
        .filter(|a| *a > 0)
        .ok_or_else(|| format!("{} cannot be paid online", request.amount.amount))?;
    let mut form = vec![
        ("amount".to_owned(), amount.to_string()),
        (
            "currency".to_owned(),
            request.amount.currency.code().to_ascii_lowercase(),
        ),
        ("payment_method_types[0]".to_owned(), "card".to_owned()),
        ("metadata[portico_org]".to_owned(), request.org.to_string()),
        (
            "metadata[portico_invoice]".to_owned(),
            request.invoice.to_string(),
        ),
        (
            "metadata[invoice_number]".to_owned(),
            request.number.clone(),
        ),
    ];
    if request.bank_account {
        form.push((
            "payment_method_types[1]".to_owned(),
            "us_bank_account".to_owned(),
        ));
    }
    Ok(form)
}

#[async_trait]
impl Payments for StripePayments {
    async fn create_intent(&self, request: &IntentRequest) -> Result<Intent, BackendError> {
        let form = intent_form(request)?;
        let body = self
            .post(
                "v1/payment_intents",
                &request.account,
                Some(&request.idempotency_key),
                &form,
            )
            .await?;
        Ok(Intent {
            id: IntentId::new(&body.id)?,
            client_secret: body
                .client_secret
                .ok_or("Stripe's intent came without a client secret")?,
        })
    }

    async fn cancel_intent(
        &self,
        account: &PaymentAccount,
        intent: &IntentId,
    ) -> Result<(), BackendError> {
        let path = format!("v1/payment_intents/{intent}/cancel");
        self.post(&path, account, None, &[]).await.map(drop)
    }
}

/// Why a webhook request was refused or could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// The signature does not hold: nothing is applied.
    #[error(transparent)]
    Signature(#[from] SignatureRefused),
    /// Signed, but not an event Portico can read.
    #[error("the event does not read: {0}")]
    Unreadable(String),
}

/// Checks and reads Stripe's webhook requests.
#[derive(Debug, Clone)]
pub struct StripeWebhooks {
    secret: SecretString,
}

#[derive(Deserialize)]
struct EventBody {
    id: String,
    account: Option<String>,
    data: EventData,
}

#[derive(Deserialize)]
struct EventData {
    object: IntentObject,
}

#[derive(Deserialize)]
struct IntentObject {
    id: String,
    object: String,
    amount: i64,
    amount_received: Option<i64>,
    currency: String,
}

impl StripeWebhooks {
    /// Checks requests against the endpoint's signing secret (`whsec_…`).
    pub fn new(secret: SecretString) -> Self {
        Self { secret }
    }

    /// Checks `payload` against its `Stripe-Signature` header at `now` (Unix seconds) and
    /// reads it: `Ok(None)` for a genuine event of a type Portico does not act on.
    pub fn event(
        &self,
        signature: &str,
        payload: &[u8],
        now: i64,
    ) -> Result<Option<ProviderEvent>, WebhookError> {
        verify_stripe(
            signature,
            payload,
            self.secret.expose_secret(),
            now,
            STRIPE_TOLERANCE_SECONDS,
        )?;
        read_event(payload)
    }
}

impl ProviderWebhooks for StripeWebhooks {
    fn read(
        &self,
        signature: &str,
        payload: &[u8],
        now: time::OffsetDateTime,
    ) -> Result<Option<ProviderEvent>, WebhookRefused> {
        self.event(signature, payload, now.unix_timestamp())
            .map_err(|e| match e {
                WebhookError::Signature(s) => WebhookRefused::Signature(s.to_string()),
                WebhookError::Unreadable(s) => WebhookRefused::Unreadable(s),
            })
    }
}

/// Reads a verified event's body: the `PaymentIntent` events Portico applies, `None` for any
/// other type.
pub fn read_event(payload: &[u8]) -> Result<Option<ProviderEvent>, WebhookError> {
    #[derive(Deserialize)]
    struct Head {
        #[serde(rename = "type")]
        kind: String,
    }
    let unreadable = |e: &dyn std::fmt::Display| WebhookError::Unreadable(e.to_string());
    let head: Head = serde_json::from_slice(payload).map_err(|e| unreadable(&e))?;
    let kind = match head.kind.as_str() {
        "payment_intent.processing" => ProviderEventKind::Processing,
        "payment_intent.succeeded" => ProviderEventKind::Succeeded,
        "payment_intent.payment_failed" => ProviderEventKind::Failed,
        _ => return Ok(None),
    };
    let body: EventBody = serde_json::from_slice(payload).map_err(|e| unreadable(&e))?;
    let id_ok = !body.id.is_empty()
        && body.id.len() <= portico_core::model::MAX_PROVIDER_ID_LEN
        && body
            .id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !id_ok {
        return Err(unreadable(&"the event's id is not one"));
    }
    let object = body.data.object;
    if object.object != "payment_intent" {
        return Err(unreadable(&"the event's object is not a payment intent"));
    }
    let amount_minor = match kind {
        ProviderEventKind::Succeeded => object.amount_received.unwrap_or(object.amount),
        _ => object.amount,
    };
    Ok(Some(ProviderEvent {
        id: body.id,
        kind,
        intent: IntentId::new(&object.id).map_err(|e| unreadable(&e))?,
        account: body
            .account
            .map(|a| PaymentAccount::new(&a))
            .transpose()
            .map_err(|e| unreadable(&e))?,
        amount_minor,
        currency: object.currency,
    }))
}
