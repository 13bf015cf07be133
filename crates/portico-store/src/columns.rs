//! Column types with the exact behaviour Portico needs on both databases.
//!
//! - [`Instant`]: a UTC moment truncated to whole seconds. PostgreSQL stores `timestamptz`;
//!   SQLite stores RFC 3339 text, which compares correctly as text only when every value has
//!   the same width, hence the truncation.
//! - [`Amount`]: a decimal amount. PostgreSQL stores `NUMERIC`; SQLite stores text. sea-orm
//!   reads SQLite decimals through `f64`, so this type reads the text itself and never loses a
//!   digit.

use rust_decimal::Decimal;
use sea_orm::sea_query::{ArrayType, ColumnType, Nullable, ValueType, ValueTypeErr};
use sea_orm::{ColIdx, QueryResult, TryGetError, TryGetable, Value};
use time::{OffsetDateTime, UtcOffset};

/// A UTC moment to the second, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(pub OffsetDateTime);

impl Instant {
    /// `at` in UTC, truncated to the second.
    pub fn new(at: OffsetDateTime) -> Self {
        let utc = at.to_offset(UtcOffset::UTC);
        Self(utc.replace_nanosecond(0).unwrap_or(utc))
    }
}

impl From<OffsetDateTime> for Instant {
    fn from(at: OffsetDateTime) -> Self {
        Self::new(at)
    }
}

impl From<Instant> for Value {
    fn from(i: Instant) -> Self {
        Instant::new(i.0).0.into()
    }
}

impl TryGetable for Instant {
    fn try_get_by<I: ColIdx>(res: &QueryResult, idx: I) -> Result<Self, TryGetError> {
        <OffsetDateTime as TryGetable>::try_get_by(res, idx).map(Instant::new)
    }
}

impl ValueType for Instant {
    fn try_from(v: Value) -> Result<Self, ValueTypeErr> {
        <OffsetDateTime as ValueType>::try_from(v).map(Instant::new)
    }

    fn type_name() -> String {
        "Instant".to_owned()
    }

    fn array_type() -> ArrayType {
        <OffsetDateTime as ValueType>::array_type()
    }

    fn column_type() -> ColumnType {
        ColumnType::TimestampWithTimeZone
    }
}

impl Nullable for Instant {
    fn null() -> Value {
        <OffsetDateTime as Nullable>::null()
    }
}

impl sea_orm::IntoActiveValue<Instant> for Instant {
    fn into_active_value(self) -> sea_orm::ActiveValue<Instant> {
        sea_orm::ActiveValue::Set(self)
    }
}

/// An exact decimal amount, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Amount(pub Decimal);

impl From<Amount> for Value {
    fn from(a: Amount) -> Self {
        a.0.into()
    }
}

impl TryGetable for Amount {
    fn try_get_by<I: ColIdx>(res: &QueryResult, idx: I) -> Result<Self, TryGetError> {
        // SQLite keeps the text; PostgreSQL answers NUMERIC, which does not read as text.
        match <String as TryGetable>::try_get_by(res, idx) {
            Ok(text) => text.parse().map(Amount).map_err(|e| {
                TryGetError::DbErr(sea_orm::DbErr::Type(format!(
                    "stored amount {text:?} is not a decimal: {e}"
                )))
            }),
            Err(TryGetError::Null(col)) => Err(TryGetError::Null(col)),
            Err(_) => <Decimal as TryGetable>::try_get_by(res, idx).map(Amount),
        }
    }
}

impl ValueType for Amount {
    fn try_from(v: Value) -> Result<Self, ValueTypeErr> {
        <Decimal as ValueType>::try_from(v).map(Amount)
    }

    fn type_name() -> String {
        "Amount".to_owned()
    }

    fn array_type() -> ArrayType {
        <Decimal as ValueType>::array_type()
    }

    fn column_type() -> ColumnType {
        ColumnType::Decimal(Some((20, 4)))
    }
}

impl Nullable for Amount {
    fn null() -> Value {
        <Decimal as Nullable>::null()
    }
}

impl sea_orm::IntoActiveValue<Amount> for Amount {
    fn into_active_value(self) -> sea_orm::ActiveValue<Amount> {
        sea_orm::ActiveValue::Set(self)
    }
}
