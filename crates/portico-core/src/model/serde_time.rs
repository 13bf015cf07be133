//! Wire formats for times: RFC 3339 for moments, `YYYY-MM-DD` for days.

time::serde::format_description!(pub(crate) iso_date, Date, "[year]-[month]-[day]");
