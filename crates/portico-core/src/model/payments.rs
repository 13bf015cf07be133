//! Online payments of invoices (I5): the org's connected account with the payment provider, the
//! provider's payment attempts (intents) Portico opened for an invoice, and the provider's
//! events that move them.

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{Money, OrgId, RecordId};

/// The longest provider id Portico keeps (Stripe's are well under it).
pub const MAX_PROVIDER_ID_LEN: usize = 255;

/// A provider id that is not one: empty, too long, or with characters outside `[A-Za-z0-9_]`,
/// or without the prefix its kind needs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} must look like {prefix}… (letters, digits and _ only, at most 255)")]
pub struct ProviderIdError {
    /// What was checked.
    pub what: &'static str,
    /// The prefix it must start with.
    pub prefix: &'static str,
}

fn provider_id(
    what: &'static str,
    prefix: &'static str,
    value: &str,
) -> Result<String, ProviderIdError> {
    let ok = value.len() > prefix.len()
        && value.len() <= MAX_PROVIDER_ID_LEN
        && value.starts_with(prefix)
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if ok {
        Ok(value.to_owned())
    } else {
        Err(ProviderIdError { what, prefix })
    }
}

/// The org's own account with the payment provider (Stripe Connect: `acct_…`). Every provider
/// call made for the org names it, so money goes to the business, never to another org.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PaymentAccount(String);

impl PaymentAccount {
    /// A checked account id.
    pub fn new(id: &str) -> Result<Self, ProviderIdError> {
        provider_id("a Stripe account id", "acct_", id).map(Self)
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for PaymentAccount {
    type Error = ProviderIdError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(&value)
    }
}

impl From<PaymentAccount> for String {
    fn from(value: PaymentAccount) -> Self {
        value.0
    }
}

impl fmt::Display for PaymentAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The provider's id of a payment attempt (a Stripe `PaymentIntent`: `pi_…`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IntentId(String);

impl IntentId {
    /// A checked intent id.
    pub fn new(id: &str) -> Result<Self, ProviderIdError> {
        provider_id("a payment intent id", "pi_", id).map(Self)
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for IntentId {
    type Error = ProviderIdError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(&value)
    }
}

impl From<IntentId> for String {
    fn from(value: IntentId) -> Self {
        value.0
    }
}

impl fmt::Display for IntentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a payment attempt stands, as Portico last learned from the provider's signed events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentState {
    /// Created; the client has not paid with it yet (or may try again after a failure).
    Open,
    /// Paid with a method that takes days to clear (a US bank account): not paid yet, and no
    /// other attempt may start meanwhile.
    Processing,
    /// The money arrived; recorded on the invoice.
    Succeeded,
    /// The last try failed; the invoice is due again, and the same attempt may be tried again.
    Failed,
    /// Withdrawn by Portico: the amount due changed before it was paid.
    Canceled,
}

impl PaymentState {
    /// The state's name, for storage.
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentState::Open => "open",
            PaymentState::Processing => "processing",
            PaymentState::Succeeded => "succeeded",
            PaymentState::Failed => "failed",
            PaymentState::Canceled => "canceled",
        }
    }

    /// The state named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "open" => PaymentState::Open,
            "processing" => PaymentState::Processing,
            "succeeded" => PaymentState::Succeeded,
            "failed" => PaymentState::Failed,
            "canceled" => PaymentState::Canceled,
            _ => return None,
        })
    }

    /// Whether the client may still pay with it (open, or failed and tried again).
    pub fn payable(self) -> bool {
        matches!(self, PaymentState::Open | PaymentState::Failed)
    }
}

/// A payment attempt Portico opened with the provider for an invoice's amount due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    /// The provider's id.
    pub intent: IntentId,
    /// The org paid.
    pub org_id: OrgId,
    /// The invoice paid.
    pub invoice: RecordId,
    /// The account it was opened on.
    pub account: PaymentAccount,
    /// The amount asked: the invoice's amount due when the attempt was opened.
    pub amount: Money,
    /// The secret the provider's script needs to confirm it in the client's browser.
    pub client_secret: String,
    /// Where it stands.
    pub state: PaymentState,
    /// When Portico opened it.
    pub created_at: OffsetDateTime,
    /// When its state last changed.
    pub updated_at: OffsetDateTime,
}

/// What the provider's event says happened to a payment attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProviderEventKind {
    /// `payment_intent.processing`: a bank payment started and will take days.
    Processing,
    /// `payment_intent.succeeded`: the money arrived.
    Succeeded,
    /// `payment_intent.payment_failed`: the try failed.
    Failed,
}

/// A payment provider's event, already verified (signature and time) by the adapter that
/// received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderEvent {
    /// The provider's event id: each is applied once.
    pub id: String,
    /// What happened.
    pub kind: ProviderEventKind,
    /// The attempt it is about.
    pub intent: IntentId,
    /// The connected account it happened on, when the provider says.
    pub account: Option<PaymentAccount>,
    /// The amount the attempt moved, in the currency's smallest unit.
    pub amount_minor: i64,
    /// The currency, as the provider spells it.
    pub currency: String,
}

impl ProviderEvent {
    /// The event's amount in major units of `currency` (e.g. cents to dollars).
    pub fn amount_in(&self, currency: super::Currency) -> Decimal {
        Decimal::new(self.amount_minor, currency.minor_units())
    }
}
