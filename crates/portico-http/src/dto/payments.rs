//! Wire types of online payments (I5).

use poem_openapi::{Enum, Object};
use portico_core::model as m;
use time::OffsetDateTime;

/// Connects the org's own Stripe account (Stripe Connect).
#[derive(Debug, Clone, Object)]
pub struct PaymentAccountBody {
    /// The connected account's id, `acct_…`. Every payment of the org's invoices is opened on
    /// it, so the money goes to the business.
    pub stripe_account: String,
}

/// The org's payment set-up.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct PaymentAccountDto {
    /// The connected account, if any: without one, no page offers Pay now and invoice pages
    /// say how else to pay.
    pub stripe_account: Option<String>,
}

/// Where a payment attempt stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum PaymentStateDto {
    /// Opened; not paid with yet.
    Open,
    /// A bank payment on its way (takes days).
    Processing,
    /// Paid: recorded on the invoice.
    Succeeded,
    /// Failed; the invoice is due again.
    Failed,
    /// Withdrawn: the amount due changed before it was paid.
    Canceled,
}

impl From<m::PaymentState> for PaymentStateDto {
    fn from(s: m::PaymentState) -> Self {
        match s {
            m::PaymentState::Open => Self::Open,
            m::PaymentState::Processing => Self::Processing,
            m::PaymentState::Succeeded => Self::Succeeded,
            m::PaymentState::Failed => Self::Failed,
            m::PaymentState::Canceled => Self::Canceled,
        }
    }
}

/// One online payment attempt of an invoice.
#[derive(Debug, Clone, Object)]
pub struct PaymentDto {
    /// Stripe's id of the `PaymentIntent`.
    pub payment_id: String,
    /// The amount asked (the amount due when it was opened), a decimal string.
    pub amount: String,
    /// Its currency.
    pub currency: String,
    /// Where it stands.
    pub state: PaymentStateDto,
    /// When it was opened.
    pub created_at: OffsetDateTime,
    /// When its state last changed.
    pub updated_at: OffsetDateTime,
}

impl From<m::Payment> for PaymentDto {
    fn from(p: m::Payment) -> Self {
        Self {
            payment_id: p.intent.to_string(),
            amount: p.amount.amount.to_string(),
            currency: p.amount.currency.code().to_owned(),
            state: p.state.into(),
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}
