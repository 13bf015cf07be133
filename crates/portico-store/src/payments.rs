//! Rows ⇄ model for online payments (I5): amounts as exact decimal text beside their currency,
//! states by name.

use std::str::FromStr;

use portico_core::model::{
    Currency, IntentId, Money, OrgId, Payment, PaymentAccount, PaymentState, RecordId,
};
use portico_core::ports::StoreError;
use rust_decimal::Decimal;

use crate::convert::corrupt;
use crate::entity::payments;

pub(crate) fn payment_to_row(p: &Payment) -> payments::Model {
    payments::Model {
        intent: p.intent.as_str().to_owned(),
        org_id: p.org_id.as_str().to_owned(),
        invoice_id: p.invoice.as_str().to_owned(),
        account: p.account.as_str().to_owned(),
        amount: p.amount.amount.to_string(),
        currency: p.amount.currency.code().to_owned(),
        client_secret: p.client_secret.clone(),
        state: p.state.as_str().to_owned(),
        created_at: p.created_at.into(),
        updated_at: p.updated_at.into(),
    }
}

pub(crate) fn payment_from_row(row: payments::Model) -> Result<Payment, StoreError> {
    let what = "payment";
    let currency = Currency::new(&row.currency)
        .map_err(|_| corrupt(what, format!("unknown currency {:?}", row.currency)))?;
    let amount = Decimal::from_str(&row.amount).map_err(|e| corrupt(what, e))?;
    Ok(Payment {
        intent: IntentId::new(&row.intent).map_err(|e| corrupt(what, e))?,
        org_id: OrgId::new(&row.org_id).map_err(|e| corrupt(what, e))?,
        invoice: RecordId::new(&row.invoice_id).map_err(|e| corrupt(what, e))?,
        account: PaymentAccount::new(&row.account).map_err(|e| corrupt(what, e))?,
        amount: Money::new(amount, currency),
        client_secret: row.client_secret,
        state: PaymentState::parse(&row.state)
            .ok_or_else(|| corrupt(what, format!("unknown state {:?}", row.state)))?,
        created_at: row.created_at.0,
        updated_at: row.updated_at.0,
    })
}
