//! V9: how times, dates, numbers and money read for an org's clients and staff.
//!
//! Every moment is shown in the org's time zone (an IANA name; the zone data is built in, so no
//! system tzdata is needed) with the zone's abbreviation; dates, numbers and money follow the
//! org's locale. Words stay English; the patterns of each locale live in one table
//! ([`Locale::patterns`]), so another locale is one more row.

use std::fmt;

use jiff::tz::TimeZone;
use rust_decimal::Decimal;
use time::{Date, OffsetDateTime, UtcOffset};

use crate::model::{Currency, Money, Org};

/// A locale Portico formats for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Locale {
    /// English (United States): `Mar 3, 2026`, `8:00 AM`, `$1,234.50`.
    EnUs,
    /// English (United Kingdom): `3 Mar 2026`, `08:00`, `£1,234.50`.
    EnGb,
    /// English (Australia): `3 Mar 2026`, `8:00 am`, `$1,234.50`.
    EnAu,
    /// English (Canada): `Mar 3, 2026`, `8:00 a.m.`, `$1,234.50`.
    EnCa,
    /// English (New Zealand): `3 Mar 2026`, `8:00 am`, `$1,234.50`.
    EnNz,
    /// French (France): `03/03/2026`, `08:00`, `1 234,50 €`.
    FrFr,
    /// German (Germany): `03.03.2026`, `08:00`, `1.234,50 €`.
    DeDe,
    /// Spanish (Spain): `3/3/2026`, `8:00`, `1234,50 €` (groups from five digits).
    EsEs,
}

/// A locale tag Portico does not format for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unsupported locale {0:?}: use one of en-US, en-GB, en-AU, en-CA, en-NZ, fr-FR, de-DE, es-ES (or en, fr, de, es)"
)]
pub struct LocaleError(pub String);

/// A time zone name that is not in the IANA database.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown time zone {0:?}: use an IANA name such as Australia/Sydney or America/New_York")]
pub struct ZoneError(pub String);

#[derive(Debug, Clone, Copy)]
enum DateStyle {
    /// `Mar 3, 2026`.
    MonthFirst,
    /// `3 Mar 2026`.
    DayFirst,
    /// Digits: day, month, year with `separator`, padded or not.
    Numeric { separator: char, padded: bool },
}

#[derive(Debug, Clone, Copy)]
enum ClockStyle {
    /// 12-hour with these day-half markers.
    Twelve { am: &'static str, pm: &'static str },
    /// 24-hour, the hour padded to two digits or not.
    TwentyFour { padded: bool },
}

/// How one locale writes dates, times, numbers and money.
#[derive(Debug, Clone, Copy)]
struct Patterns {
    tag: &'static str,
    date: DateStyle,
    clock: ClockStyle,
    /// Between the date and the time.
    date_time_separator: &'static str,
    decimal: char,
    group: &'static str,
    /// Digits before the first group separator appears: 4 in most locales (`1,234`), 5 in
    /// Spanish (`1234`, `12.345`).
    min_grouped_digits: usize,
    /// The currency written after the amount (`12,00 €`) rather than before (`€12.00`).
    currency_after: bool,
    /// The currency this locale writes as a bare `$`.
    home_dollar: Option<&'static str>,
    /// Between a number and `%`.
    percent_separator: &'static str,
}

const NBSP: &str = "\u{a0}";
const NARROW_NBSP: &str = "\u{202f}";

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

impl Locale {
    /// Every supported locale.
    pub const ALL: [Locale; 8] = [
        Locale::EnUs,
        Locale::EnGb,
        Locale::EnAu,
        Locale::EnCa,
        Locale::EnNz,
        Locale::FrFr,
        Locale::DeDe,
        Locale::EsEs,
    ];

    /// Reads a BCP 47 tag: one of the supported locales (any case, `_` or `-`), or a bare
    /// language (`en` is en-US, `fr` fr-FR, `de` de-DE, `es` es-ES).
    pub fn parse(tag: &str) -> Result<Self, LocaleError> {
        let wanted = tag.trim().replace('_', "-").to_ascii_lowercase();
        let bare = match wanted.as_str() {
            "en" => Some(Locale::EnUs),
            "fr" => Some(Locale::FrFr),
            "de" => Some(Locale::DeDe),
            "es" => Some(Locale::EsEs),
            _ => None,
        };
        bare.or_else(|| {
            Self::ALL
                .into_iter()
                .find(|l| l.tag().eq_ignore_ascii_case(&wanted))
        })
        .ok_or_else(|| LocaleError(tag.to_owned()))
    }

    /// The canonical tag, e.g. `en-GB`.
    pub fn tag(self) -> &'static str {
        self.patterns().tag
    }

    fn patterns(self) -> Patterns {
        let english = |tag, date, clock, home| Patterns {
            tag,
            date,
            clock,
            date_time_separator: ", ",
            decimal: '.',
            group: ",",
            min_grouped_digits: 4,
            currency_after: false,
            home_dollar: home,
            percent_separator: "",
        };
        let am_pm = ClockStyle::Twelve { am: "AM", pm: "PM" };
        let am_pm_lower = ClockStyle::Twelve { am: "am", pm: "pm" };
        match self {
            Locale::EnUs => english("en-US", DateStyle::MonthFirst, am_pm, Some("USD")),
            Locale::EnGb => english(
                "en-GB",
                DateStyle::DayFirst,
                ClockStyle::TwentyFour { padded: true },
                None,
            ),
            Locale::EnAu => english("en-AU", DateStyle::DayFirst, am_pm_lower, Some("AUD")),
            Locale::EnCa => english(
                "en-CA",
                DateStyle::MonthFirst,
                ClockStyle::Twelve {
                    am: "a.m.",
                    pm: "p.m.",
                },
                Some("CAD"),
            ),
            Locale::EnNz => english("en-NZ", DateStyle::DayFirst, am_pm_lower, Some("NZD")),
            Locale::FrFr => Patterns {
                tag: "fr-FR",
                date: DateStyle::Numeric {
                    separator: '/',
                    padded: true,
                },
                clock: ClockStyle::TwentyFour { padded: true },
                date_time_separator: " ",
                decimal: ',',
                group: NARROW_NBSP,
                min_grouped_digits: 4,
                currency_after: true,
                home_dollar: None,
                percent_separator: NARROW_NBSP,
            },
            Locale::DeDe => Patterns {
                tag: "de-DE",
                date: DateStyle::Numeric {
                    separator: '.',
                    padded: true,
                },
                clock: ClockStyle::TwentyFour { padded: true },
                date_time_separator: ", ",
                decimal: ',',
                group: ".",
                min_grouped_digits: 4,
                currency_after: true,
                home_dollar: None,
                percent_separator: NBSP,
            },
            Locale::EsEs => Patterns {
                tag: "es-ES",
                date: DateStyle::Numeric {
                    separator: '/',
                    padded: false,
                },
                clock: ClockStyle::TwentyFour { padded: false },
                date_time_separator: ", ",
                decimal: ',',
                group: ".",
                min_grouped_digits: 5,
                currency_after: true,
                home_dollar: None,
                percent_separator: NBSP,
            },
        }
    }
}

impl fmt::Display for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.tag())
    }
}

/// Looks up an IANA time zone in the built-in database.
pub fn time_zone(name: &str) -> Result<TimeZone, ZoneError> {
    let trimmed = name.trim();
    if trimmed.is_empty() || trimmed.len() > 64 {
        return Err(ZoneError(name.to_owned()));
    }
    TimeZone::get(trimmed).map_err(|_| ZoneError(name.to_owned()))
}

/// The canonical spelling of a time zone name (`australia/sydney` → `Australia/Sydney`).
pub fn canonical_zone_name(name: &str) -> Result<String, ZoneError> {
    let zone = time_zone(name)?;
    Ok(zone.iana_name().unwrap_or(name.trim()).to_owned())
}

/// A moment as the org's clock shows it: the local date and time and the zone's abbreviation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalTime {
    /// The local date and time, with the offset in effect.
    pub at: OffsetDateTime,
    /// `AEDT`, `EST`, `UTC`, or `UTC+05:45` where the zone has no letters.
    pub abbreviation: String,
}

/// How one org's people read times, dates and money (V9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presentation {
    zone: TimeZone,
    locale: Locale,
}

impl Default for Presentation {
    fn default() -> Self {
        Self {
            zone: TimeZone::UTC,
            locale: Locale::EnUs,
        }
    }
}

/// Written as the two settings, `{"time_zone": "Australia/Sydney", "locale": "en-AU"}`.
impl serde::Serialize for Presentation {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("Presentation", 2)?;
        s.serialize_field("time_zone", self.zone_name())?;
        s.serialize_field("locale", self.locale.tag())?;
        s.end()
    }
}

impl Presentation {
    /// `zone` and `locale` as they are.
    pub fn new(zone: TimeZone, locale: Locale) -> Self {
        Self { zone, locale }
    }

    /// The org's settings. Both are checked when written; a value stored before that check
    /// reads as UTC or en-US rather than failing a page.
    pub fn of(org: &Org) -> Self {
        Self {
            zone: time_zone(&org.settings.time_zone).unwrap_or(TimeZone::UTC),
            locale: Locale::parse(&org.settings.locale).unwrap_or(Locale::EnUs),
        }
    }

    /// The locale.
    pub fn locale(&self) -> Locale {
        self.locale
    }

    /// The zone's IANA name (`UTC` for a zone without one).
    pub fn zone_name(&self) -> &str {
        self.zone.iana_name().unwrap_or("UTC")
    }

    /// `at` on the org's clock.
    pub fn local(&self, at: OffsetDateTime) -> LocalTime {
        let seconds = at.unix_timestamp();
        let timestamp =
            jiff::Timestamp::from_second(seconds).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        let info = self.zone.to_offset_info(timestamp);
        let offset =
            UtcOffset::from_whole_seconds(info.offset().seconds()).unwrap_or(UtcOffset::UTC);
        let abbreviation = info.abbreviation();
        let abbreviation = if abbreviation.starts_with(['+', '-']) || abbreviation.is_empty() {
            numeric_offset(offset)
        } else {
            abbreviation.to_owned()
        };
        LocalTime {
            at: at.to_offset(offset),
            abbreviation,
        }
    }

    /// The org's date at `now`: the day its quotes expire and its invoices fall due by.
    pub fn today(&self, now: OffsetDateTime) -> Date {
        self.local(now).at.date()
    }

    /// A date: `Mar 3, 2026`, `3 Mar 2026`, `03.03.2026`.
    pub fn date(&self, d: Date) -> String {
        let (day, month, year) = (d.day(), u8::from(d.month()), d.year());
        let name = MONTHS[usize::from(month - 1)];
        match self.locale.patterns().date {
            DateStyle::MonthFirst => format!("{name} {day}, {year}"),
            DateStyle::DayFirst => format!("{day} {name} {year}"),
            DateStyle::Numeric {
                separator,
                padded: true,
            } => format!("{day:02}{separator}{month:02}{separator}{year}"),
            DateStyle::Numeric {
                separator,
                padded: false,
            } => format!("{day}{separator}{month}{separator}{year}"),
        }
    }

    /// A time of day without the date: `8:00 AM`, `08:00`.
    pub fn clock(&self, local: OffsetDateTime) -> String {
        let (hour, minute) = (local.hour(), local.minute());
        match self.locale.patterns().clock {
            ClockStyle::Twelve { am, pm } => {
                let half = if hour < 12 { am } else { pm };
                let twelve = match hour % 12 {
                    0 => 12,
                    h => h,
                };
                format!("{twelve}:{minute:02} {half}")
            }
            ClockStyle::TwentyFour { padded: true } => format!("{hour:02}:{minute:02}"),
            ClockStyle::TwentyFour { padded: false } => format!("{hour}:{minute:02}"),
        }
    }

    /// A moment on the org's clock, with the zone: `Mar 3, 2026, 7:00 PM AEDT`.
    pub fn date_time(&self, at: OffsetDateTime) -> String {
        let local = self.local(at);
        format!(
            "{}{}{} {}",
            self.date(local.at.date()),
            self.locale.patterns().date_time_separator,
            self.clock(local.at),
            local.abbreviation
        )
    }

    /// A planned window: `Mar 3, 2026, 8:00 AM – 4:00 PM AEDT` within one local day, both moments
    /// in full otherwise, the start alone without an end.
    pub fn window(&self, start: OffsetDateTime, end: Option<OffsetDateTime>) -> String {
        let Some(end) = end.filter(|e| *e > start) else {
            return self.date_time(start);
        };
        let (from, to) = (self.local(start), self.local(end));
        if from.at.date() == to.at.date() && from.abbreviation == to.abbreviation {
            format!(
                "{}{}{} \u{2013} {} {}",
                self.date(from.at.date()),
                self.locale.patterns().date_time_separator,
                self.clock(from.at),
                self.clock(to.at),
                to.abbreviation
            )
        } else {
            format!("{} \u{2013} {}", self.date_time(start), self.date_time(end))
        }
    }

    /// A number with the locale's separators, as many decimals as it carries (at least `min`).
    pub fn number(&self, value: Decimal, min_decimals: u32) -> String {
        let p = self.locale.patterns();
        let value = value.normalize();
        let scale = value.scale().max(min_decimals);
        let text = format!("{:.*}", scale as usize, value.abs());
        let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
        let mut out = String::new();
        if value.is_sign_negative() && !value.is_zero() {
            out.push('-');
        }
        let digits = whole.len();
        for (i, c) in whole.chars().enumerate() {
            if i > 0 && (digits - i) % 3 == 0 && digits >= p.min_grouped_digits {
                out.push_str(p.group);
            }
            out.push(c);
        }
        if !fraction.is_empty() {
            out.push(p.decimal);
            out.push_str(fraction);
        }
        out
    }

    /// A quantity without trailing zeros: `2`, `2.5`, `2,5`.
    pub fn quantity(&self, q: Decimal) -> String {
        self.number(q, 0)
    }

    /// A percentage: `10%`, `20 %`, `5,5 %`.
    pub fn percent(&self, p: Decimal) -> String {
        format!(
            "{}{}%",
            self.number(p, 0),
            self.locale.patterns().percent_separator
        )
    }

    /// An amount in its currency: `$1,234.50`, `-€12.00`, `1 234,50 €`, `¥1,500`, `CHF 80.00`.
    /// Zero-decimal currencies (JPY, KRW) show no decimals.
    pub fn money(&self, m: &Money) -> String {
        let p = self.locale.patterns();
        let number = self.number(m.amount.abs(), m.currency.minor_units());
        let sign = if m.amount.is_sign_negative() && !m.amount.is_zero() {
            "-"
        } else {
            ""
        };
        let symbol = symbol(m.currency, p);
        if p.currency_after {
            format!("{sign}{number}{NBSP}{symbol}")
        } else if symbol == m.currency.code() {
            format!("{sign}{symbol}{NBSP}{number}")
        } else {
            format!("{sign}{symbol}{number}")
        }
    }
}

/// How a currency is written in a locale: its symbol where it is unambiguous there, its code
/// otherwise.
fn symbol(currency: Currency, p: Patterns) -> String {
    let code = currency.code();
    if p.home_dollar == Some(code) {
        return "$".to_owned();
    }
    let english = !p.currency_after;
    match code {
        "EUR" => "€",
        "GBP" => "£",
        "JPY" => "¥",
        "KRW" => "₩",
        "INR" => "₹",
        "USD" if english => "US$",
        "CAD" if english => "CA$",
        "AUD" if english => "A$",
        "NZD" if english => "NZ$",
        other => other,
    }
    .to_owned()
}

/// `UTC+05:45`, `UTC-03`, for zones whose abbreviation is only digits.
fn numeric_offset(offset: UtcOffset) -> String {
    let (h, m, _) = offset.as_hms();
    let sign = if offset.is_negative() { '-' } else { '+' };
    if m == 0 {
        format!("UTC{sign}{:02}", h.unsigned_abs())
    } else {
        format!("UTC{sign}{:02}:{:02}", h.unsigned_abs(), m.unsigned_abs())
    }
}
