//! Wire formats for times: RFC 3339 for moments, `YYYY-MM-DD` for days.
//!
//! The optional forms read an absent field, `null` and a string alike, wherever the value sits:
//! `time`'s own option visitors refuse the `null` that serde hands over inside an internally
//! tagged enum such as [`Record`](super::Record), which once made stored quotes unreadable.

use serde::{Deserialize, Deserializer, Serializer};
use time::format_description::FormatItem;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime};

const ISO_DATE: &[FormatItem<'static>] = format_description!("[year]-[month]-[day]");

/// `Option<Date>` as `YYYY-MM-DD`, `None` as `null`.
pub(crate) mod iso_date_option {
    use super::{Date, Deserialize, Deserializer, ISO_DATE, Serializer};

    // Reason: serde's `with` calls `serialize(&field, …)`, so the signature is fixed.
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

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Date>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|text| Date::parse(&text, ISO_DATE).map_err(serde::de::Error::custom))
            .transpose()
    }
}

/// `Option<OffsetDateTime>` as RFC 3339, `None` as `null`.
pub(crate) mod rfc3339_option {
    use super::{Deserialize, Deserializer, OffsetDateTime, Rfc3339, Serializer};

    // Reason: serde's `with` calls `serialize(&field, …)`, so the signature is fixed.
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

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<OffsetDateTime>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|text| OffsetDateTime::parse(&text, &Rfc3339).map_err(serde::de::Error::custom))
            .transpose()
    }
}
