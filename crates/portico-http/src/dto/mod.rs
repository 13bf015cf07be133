//! The API's wire types, with OpenAPI schemas, and their checked conversions into the core's
//! model, one module per API tag. Money travels as decimal strings (`"12.50"`), never as JSON
//! numbers; times as RFC 3339.

mod inbox;
mod org;
mod payments;
mod plans;
mod records;
mod shares;
mod webhooks;

pub use inbox::*;
pub use org::*;
pub use payments::*;
pub use plans::*;
pub use records::*;
pub use shares::*;
pub use webhooks::*;

use poem_openapi::Enum;
use portico_core::model::{self as m, Email};
use rust_decimal::Decimal;

use crate::error::ApiError;

/// Turns a host id into its typed form, or a `validation` error naming the field.
pub(crate) fn id<T: TryFrom<String>>(field: &str, raw: String) -> Result<T, ApiError>
where
    T::Error: std::fmt::Display,
{
    T::try_from(raw).map_err(|e| ApiError::validation(format!("{field}: {e}")))
}

fn money(field: &str, raw: &str) -> Result<Decimal, ApiError> {
    let value: Decimal = raw.trim().parse().map_err(|_| {
        ApiError::validation(format!(
            "{field}: {raw:?} is not a decimal number such as \"12.50\""
        ))
    })?;
    Ok(value)
}

fn email(field: &str, raw: Option<String>) -> Result<Option<Email>, ApiError> {
    raw.map(|r| Email::parse(&r).map_err(|e| ApiError::validation(format!("{field}: {e}"))))
        .transpose()
}

fn currency(raw: Option<String>) -> Result<m::Currency, ApiError> {
    raw.map_or(Ok(m::Currency::default()), |c| {
        m::Currency::new(&c).map_err(|e| ApiError::validation(format!("currency: {e}")))
    })
}

macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident => $model:path { $($variant:ident),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
        #[oai(rename_all = "snake_case")]
        pub enum $name { $($variant),* }

        impl From<$name> for $model {
            fn from(v: $name) -> Self {
                match v { $($name::$variant => <$model>::$variant),* }
            }
        }

        impl From<$model> for $name {
            fn from(v: $model) -> Self {
                match v { $(<$model>::$variant => $name::$variant),* }
            }
        }
    };
}

wire_enum!(
    /// An org's plan; only `business` includes client sharing.
    PlanDto => m::Plan { Starter, Pro, Business }
);
wire_enum!(
    /// A staff member's role.
    RoleDto => m::Role { Owner, Admin, Supervisor, SoleTrader, Technician, Apprentice }
);
wire_enum!(
    /// A work order's status.
    WorkStatusDto => m::WorkStatus { Unscheduled, Scheduled, InProgress, OnHold, Completed, Cancelled }
);
wire_enum!(
    /// A quote's status as the host sets it.
    QuoteStatusDto => m::QuoteStatus { Draft, Sent }
);
wire_enum!(
    /// An invoice's status as the host sets it.
    InvoiceStatusDto => m::InvoiceStatus { Draft, Issued, Void }
);
wire_enum!(
    /// A work-order section a share can show or hide.
    SectionDto => m::Section { ClientInfo, Scope, Schedule, Checklist, PhotosFiles, PartsUsed, Signature, Invoices, Updates }
);
wire_enum!(
    /// Which side of the work a photo shows.
    PhotoStageDto => m::PhotoStage { Before, After }
);
wire_enum!(
    /// How often an agreement is billed.
    BillingDto => m::Billing { Once, Weekly, Monthly, Quarterly, Yearly }
);
wire_enum!(
    /// Where an agreement stands.
    AgreementStatusDto => m::AgreementStatus { Active, OnHold, Ended, Cancelled }
);
wire_enum!(
    /// Where an appointment stands.
    AppointmentStatusDto => m::AppointmentStatus { Scheduled, OnTheWay, Done, Cancelled }
);
wire_enum!(
    /// Where a contract's version stands.
    ContractStatusDto => m::ContractStatus { Sent, Signed, Void }
);
wire_enum!(
    /// The kind of a record.
    RecordKindDto => m::RecordKind { WorkOrder, Quote, Invoice }
);

fn yes() -> bool {
    true
}
