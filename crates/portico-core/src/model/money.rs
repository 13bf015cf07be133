//! Money: decimal amounts in a record's currency, never floats. Totals are computed here, once,
//! so every view and email shows the same figures.

use std::fmt;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

/// An ISO 4217 currency code, such as `USD` or `EUR`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

/// A currency code that is not three ASCII capital letters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a currency is three capital letters, such as USD")]
pub struct CurrencyError;

impl Currency {
    /// US dollars, the default for records that name none.
    pub const USD: Currency = Currency(*b"USD");

    /// Checks and wraps a code.
    pub fn new(code: &str) -> Result<Self, CurrencyError> {
        match code.as_bytes() {
            &[a, b, c] if [a, b, c].iter().all(u8::is_ascii_uppercase) => Ok(Self([a, b, c])),
            _ => Err(CurrencyError),
        }
    }

    /// The code, e.g. `"EUR"`.
    pub fn code(&self) -> &str {
        // Only ASCII capitals are ever stored (see `new`).
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }

    /// Digits after the decimal point in this currency's smallest unit.
    pub fn minor_units(self) -> u32 {
        match &self.0 {
            b"JPY" | b"KRW" | b"VND" | b"CLP" | b"ISK" | b"UGX" | b"XAF" | b"XOF" => 0,
            b"BHD" | b"KWD" | b"OMR" | b"JOD" | b"TND" | b"IQD" | b"LYD" => 3,
            _ => 2,
        }
    }

    /// Rounds `amount` to this currency's smallest unit, halves away from zero.
    pub fn round(self, amount: Decimal) -> Decimal {
        amount.round_dp_with_strategy(self.minor_units(), RoundingStrategy::MidpointAwayFromZero)
    }
}

impl Default for Currency {
    fn default() -> Self {
        Self::USD
    }
}

impl TryFrom<String> for Currency {
    type Error = CurrencyError;
    fn try_from(code: String) -> Result<Self, CurrencyError> {
        Self::new(&code)
    }
}

impl From<Currency> for String {
    fn from(c: Currency) -> String {
        c.code().to_owned()
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// An amount in a currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    /// The amount, rounded to the currency's smallest unit.
    pub amount: Decimal,
    /// The currency.
    pub currency: Currency,
}

impl Money {
    /// `amount` in `currency`, rounded to its smallest unit.
    pub fn new(amount: Decimal, currency: Currency) -> Self {
        Self {
            amount: currency.round(amount),
            currency,
        }
    }
}

/// One priced line of a quote or invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineItem {
    /// What is sold.
    pub description: String,
    /// How many (may be fractional: hours, metres).
    pub quantity: Decimal,
    /// Price per unit, before tax.
    pub unit_price: Decimal,
    /// Whether the record's taxes apply to this line.
    #[serde(default = "yes")]
    pub taxable: bool,
    /// What the unit costs the business. Internal (V4): never in a client view.
    #[serde(default)]
    pub unit_cost: Option<Decimal>,
}

fn yes() -> bool {
    true
}

/// A tax applied to the taxable lines of a record, e.g. `VAT 20`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxRate {
    /// The tax's name as the client should read it.
    pub name: String,
    /// The rate in percent (`8.875` for 8.875 %).
    pub percent: Decimal,
}

/// One tax of [`Totals`], with its amount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaxLine {
    /// The tax's name.
    pub name: String,
    /// The rate in percent.
    pub percent: Decimal,
    /// The tax due, rounded to the currency's smallest unit.
    pub amount: Money,
}

/// The figures at the foot of a quote or invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Sum of all lines before tax.
    pub subtotal: Money,
    /// Each tax, in the record's order.
    pub taxes: Vec<TaxLine>,
    /// Subtotal plus every tax.
    pub total: Money,
}

/// Computes the totals of `items` under `taxes`. Each line is rounded to the currency, each tax
/// is computed on the rounded taxable lines and rounded once, so the figures always add up.
pub fn totals(items: &[LineItem], taxes: &[TaxRate], currency: Currency) -> Totals {
    let line = |i: &LineItem| currency.round(i.quantity.saturating_mul(i.unit_price));
    let subtotal = items
        .iter()
        .map(line)
        .fold(Decimal::ZERO, Decimal::saturating_add);
    let taxable = items
        .iter()
        .filter(|i| i.taxable)
        .map(line)
        .fold(Decimal::ZERO, Decimal::saturating_add);
    let taxes: Vec<TaxLine> = taxes
        .iter()
        .map(|t| TaxLine {
            name: t.name.clone(),
            percent: t.percent,
            amount: Money::new(
                taxable.saturating_mul(t.percent) / Decimal::ONE_HUNDRED,
                currency,
            ),
        })
        .collect();
    let total = taxes
        .iter()
        .map(|t| t.amount.amount)
        .fold(subtotal, Decimal::saturating_add);
    Totals {
        subtotal: Money::new(subtotal, currency),
        taxes,
        total: Money::new(total, currency),
    }
}
