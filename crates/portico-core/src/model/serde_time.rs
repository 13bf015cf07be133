//! Wire formats for times in what the core serializes (the client views and the use cases'
//! answers): RFC 3339 for moments, `YYYY-MM-DD` for days, `null` for none.

use serde::Serializer;
use time::format_description::FormatItem;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime};

const ISO_DATE: &[FormatItem<'static>] = format_description!("[year]-[month]-[day]");

/// `Option<Date>` as `YYYY-MM-DD`, `None` as `null`.
pub(crate) mod iso_date_option {
    use super::{Date, ISO_DATE, Serializer};

    // Reason: serde's `serialize_with` calls `serialize(&field, …)`, so the signature is fixed.
    #[allow(clippy::ref_option, clippy::trivially_copy_pass_by_ref)]
    pub(crate) fn serialize<S: Serializer>(value: &Option<Date>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(date) => {
                let text = date.format(ISO_DATE).map_err(serde::ser::Error::custom)?;
                s.serialize_some(&text)
            }
            None => s.serialize_none(),
        }
    }
}

/// `Option<OffsetDateTime>` as RFC 3339, `None` as `null`.
pub(crate) mod rfc3339_option {
    use super::{OffsetDateTime, Rfc3339, Serializer};

    // Reason: serde's `serialize_with` calls `serialize(&field, …)`, so the signature is fixed.
    #[allow(clippy::ref_option)]
    pub(crate) fn serialize<S: Serializer>(
        value: &Option<OffsetDateTime>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(at) => {
                let text = at.format(&Rfc3339).map_err(serde::ser::Error::custom)?;
                s.serialize_some(&text)
            }
            None => s.serialize_none(),
        }
    }
}
