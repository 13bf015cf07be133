//! V9: times in the org's time zone, dates, numbers and money in its locale, date rules on the
//! org's date.

use jiff::tz::AmbiguousOffset;
use portico_core::locale::{Locale, Presentation, canonical_zone_name, time_zone};
use portico_core::model::{Currency, Money};
use portico_core::policy::project::due;
use portico_core::view::Due;
use proptest::prelude::*;
use rust_decimal::Decimal;
use time::macros::{date, datetime};
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

fn show(zone: &str, locale: Locale) -> Presentation {
    Presentation::new(time_zone(zone).unwrap(), locale)
}

fn money(amount: &str, currency: &str) -> Money {
    Money::new(amount.parse().unwrap(), Currency::new(currency).unwrap())
}

#[test]
fn v9_every_locale_writes_dates_times_and_money_its_own_way() {
    // 2026-03-03 08:05 in Sydney (AEDT, +11) is 2026-03-02 21:05 UTC.
    let at = datetime!(2026-03-02 21:05 UTC);
    let rows = [
        (
            Locale::EnUs,
            "Mar 3, 2026, 8:05 AM AEDT",
            "$1,234.50",
            "-€12.00",
        ),
        (
            Locale::EnGb,
            "3 Mar 2026, 08:05 AEDT",
            "US$1,234.50",
            "-€12.00",
        ),
        (
            Locale::EnAu,
            "3 Mar 2026, 8:05 am AEDT",
            "US$1,234.50",
            "-€12.00",
        ),
        (
            Locale::EnCa,
            "Mar 3, 2026, 8:05 a.m. AEDT",
            "US$1,234.50",
            "-€12.00",
        ),
        (
            Locale::EnNz,
            "3 Mar 2026, 8:05 am AEDT",
            "US$1,234.50",
            "-€12.00",
        ),
        (
            Locale::FrFr,
            "03/03/2026 08:05 AEDT",
            "1\u{202f}234,50\u{a0}USD",
            "-12,00\u{a0}€",
        ),
        (
            Locale::DeDe,
            "03.03.2026, 08:05 AEDT",
            "1.234,50\u{a0}USD",
            "-12,00\u{a0}€",
        ),
        (
            Locale::EsEs,
            "3/3/2026, 8:05 AEDT",
            "1234,50\u{a0}USD",
            "-12,00\u{a0}€",
        ),
    ];
    for (locale, when, usd, eur) in rows {
        let p = show("Australia/Sydney", locale);
        assert_eq!(p.date_time(at), when, "{locale}");
        assert_eq!(p.money(&money("1234.5", "USD")), usd, "{locale}");
        assert_eq!(p.money(&money("-12", "EUR")), eur, "{locale}");
    }
}

#[test]
fn v9_a_locale_writes_its_own_dollar_bare_and_others_marked() {
    let cases = [
        (Locale::EnUs, "USD", "$5.00"),
        (Locale::EnAu, "AUD", "$5.00"),
        (Locale::EnCa, "CAD", "$5.00"),
        (Locale::EnNz, "NZD", "$5.00"),
        (Locale::EnUs, "AUD", "A$5.00"),
        (Locale::EnAu, "NZD", "NZ$5.00"),
        (Locale::EnGb, "GBP", "£5.00"),
        (Locale::EnGb, "CHF", "CHF\u{a0}5.00"),
    ];
    for (locale, currency, expected) in cases {
        let p = show("UTC", locale);
        assert_eq!(
            p.money(&money("5", currency)),
            expected,
            "{locale} {currency}"
        );
    }
}

#[test]
fn v9_zero_decimal_currencies_show_no_decimals_and_three_decimal_ones_show_three() {
    let p = show("Asia/Tokyo", Locale::EnUs);
    assert_eq!(p.money(&money("1500", "JPY")), "¥1,500");
    assert_eq!(p.money(&money("250000", "KRW")), "₩250,000");
    assert_eq!(p.money(&money("1.5", "KWD")), "KWD\u{a0}1.500");
    let fr = show("Europe/Paris", Locale::FrFr);
    assert_eq!(fr.money(&money("1500", "JPY")), "1\u{202f}500\u{a0}¥");
}

#[test]
fn v9_spanish_groups_thousands_only_from_five_digits() {
    let p = show("Europe/Madrid", Locale::EsEs);
    assert_eq!(p.money(&money("1234", "EUR")), "1234,00\u{a0}€");
    assert_eq!(p.money(&money("12345.6", "EUR")), "12.345,60\u{a0}€");
    assert_eq!(p.money(&money("1234567", "EUR")), "1.234.567,00\u{a0}€");
}

#[test]
fn v9_quantities_and_percentages_use_the_locale_decimal_mark() {
    let en = show("UTC", Locale::EnGb);
    let de = show("Europe/Berlin", Locale::DeDe);
    let half: Decimal = "2.50".parse().unwrap();
    assert_eq!(en.quantity(half), "2.5");
    assert_eq!(de.quantity(half), "2,5");
    assert_eq!(en.percent("10".parse().unwrap()), "10%");
    assert_eq!(de.percent("19".parse().unwrap()), "19\u{a0}%");
    assert_eq!(
        show("UTC", Locale::FrFr).percent("5.5".parse().unwrap()),
        "5,5\u{202f}%"
    );
}

#[test]
fn v9_zones_without_letters_show_their_offset() {
    let at = datetime!(2026-06-01 12:00 UTC);
    assert_eq!(
        show("Asia/Kathmandu", Locale::EnGb).date_time(at),
        "1 Jun 2026, 17:45 UTC+05:45"
    );
    assert_eq!(
        show("America/Sao_Paulo", Locale::EnGb).date_time(at),
        "1 Jun 2026, 09:00 UTC-03"
    );
    assert_eq!(
        show("UTC", Locale::EnGb).date_time(at),
        "1 Jun 2026, 12:00 UTC"
    );
}

#[test]
fn v9_daylight_saving_shows_the_abbreviation_in_effect_at_that_moment() {
    let p = show("America/New_York", Locale::EnUs);
    assert_eq!(
        p.date_time(datetime!(2026-01-15 14:00 UTC)),
        "Jan 15, 2026, 9:00 AM EST"
    );
    assert_eq!(
        p.date_time(datetime!(2026-07-15 13:00 UTC)),
        "Jul 15, 2026, 9:00 AM EDT"
    );
    // The repeated hour of the autumn change reads differently on each side.
    let first = p.date_time(datetime!(2026-11-01 05:30 UTC));
    let second = p.date_time(datetime!(2026-11-01 06:30 UTC));
    assert_eq!(first, "Nov 1, 2026, 1:30 AM EDT");
    assert_eq!(second, "Nov 1, 2026, 1:30 AM EST");
}

#[test]
fn v9_a_window_within_one_day_names_the_day_once() {
    let p = show("Pacific/Auckland", Locale::EnNz);
    let start = datetime!(2026-03-02 19:00 UTC); // 8:00 am NZDT on the 3rd
    let end = datetime!(2026-03-03 03:00 UTC); // 4:00 pm
    assert_eq!(
        p.window(start, Some(end)),
        "3 Mar 2026, 8:00 am \u{2013} 4:00 pm NZDT"
    );
    assert_eq!(
        p.window(start, Some(end + time::Duration::days(1))),
        "3 Mar 2026, 8:00 am NZDT \u{2013} 4 Mar 2026, 4:00 pm NZDT"
    );
    assert_eq!(p.window(start, None), "3 Mar 2026, 8:00 am NZDT");
}

#[test]
fn v9_today_is_the_orgs_date_not_utcs() {
    // 23:30 UTC on the 2nd is already the 3rd in Sydney and still the 2nd in Los Angeles.
    let now = datetime!(2026-03-02 23:30 UTC);
    assert_eq!(
        show("Australia/Sydney", Locale::EnAu).today(now),
        date!(2026 - 03 - 03)
    );
    assert_eq!(
        show("America/Los_Angeles", Locale::EnUs).today(now),
        date!(2026 - 03 - 02)
    );
    assert_eq!(
        due(date!(2026 - 03 - 03), date!(2026 - 03 - 03)),
        Due::Today
    );
    assert_eq!(
        due(date!(2026 - 03 - 02), date!(2026 - 03 - 03)),
        Due::Overdue
    );
    assert_eq!(
        due(date!(2026 - 03 - 04), date!(2026 - 03 - 03)),
        Due::Later
    );
}

#[test]
fn v9_settings_are_read_in_any_case_and_unknown_ones_are_named() {
    assert_eq!(
        canonical_zone_name("australia/sydney").unwrap(),
        "Australia/Sydney"
    );
    assert!(canonical_zone_name("Mars/Olympus_Mons").is_err());
    assert!(canonical_zone_name("").is_err());
    assert!(canonical_zone_name("../../etc/passwd").is_err());
    assert_eq!(Locale::parse("en_gb").unwrap(), Locale::EnGb);
    assert_eq!(Locale::parse("EN").unwrap(), Locale::EnUs);
    assert_eq!(Locale::parse("de").unwrap(), Locale::DeDe);
    let err = Locale::parse("tlh-QO").unwrap_err().to_string();
    assert!(err.contains("tlh-QO") && err.contains("en-GB"), "{err}");
    for l in Locale::ALL {
        assert_eq!(Locale::parse(l.tag()).unwrap(), l);
    }
}

/// Reads a shown moment back: the inverse of [`Presentation::date_time`] for every locale,
/// written independently of it.
fn parse_back(shown: &str, locale: Locale, zone: &str) -> OffsetDateTime {
    let (rest, abbreviation) = shown.rsplit_once(' ').unwrap();
    let (date_text, clock_text) = match locale {
        Locale::FrFr => {
            let (d, c) = rest.split_once(' ').unwrap();
            (d.to_owned(), c.to_owned())
        }
        Locale::EnUs | Locale::EnCa => {
            // "Mar 3, 2026, 8:05 AM"
            let mut parts = rest.splitn(3, ", ");
            let month_day = parts.next().unwrap();
            let year = parts.next().unwrap();
            (
                format!("{month_day} {year}"),
                parts.next().unwrap().to_owned(),
            )
        }
        _ => {
            let (d, c) = rest.split_once(", ").unwrap();
            (d.to_owned(), c.to_owned())
        }
    };
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let words: Vec<&str> = date_text.split([' ', '/', '.']).collect();
    let (day, month, year): (u8, u8, i32) = match locale {
        Locale::EnUs | Locale::EnCa => (
            words[1].parse().unwrap(),
            months.iter().position(|m| *m == words[0]).unwrap() as u8 + 1,
            words[2].parse().unwrap(),
        ),
        Locale::EnGb | Locale::EnAu | Locale::EnNz => (
            words[0].parse().unwrap(),
            months.iter().position(|m| *m == words[1]).unwrap() as u8 + 1,
            words[2].parse().unwrap(),
        ),
        Locale::FrFr | Locale::DeDe | Locale::EsEs => (
            words[0].parse().unwrap(),
            words[1].parse().unwrap(),
            words[2].parse().unwrap(),
        ),
    };
    let (hm, half) = clock_text.split_once(' ').unwrap_or((&clock_text, ""));
    let (h, m) = hm.split_once(':').unwrap();
    let mut hour: u8 = h.parse().unwrap();
    let minute: u8 = m.parse().unwrap();
    match half {
        "AM" | "am" | "a.m." if hour == 12 => hour = 0,
        "PM" | "pm" | "p.m." if hour != 12 => hour += 12,
        _ => {}
    }
    // The zone's offsets at that local time: one, or two in the repeated hour of a change;
    // the one whose abbreviation was shown is the one meant.
    let civil = jiff::civil::datetime(
        i16::try_from(year).unwrap(),
        i8::try_from(month).unwrap(),
        i8::try_from(day).unwrap(),
        i8::try_from(hour).unwrap(),
        i8::try_from(minute).unwrap(),
        0,
        0,
    );
    let offsets = match time_zone(zone)
        .unwrap()
        .to_ambiguous_timestamp(civil)
        .offset()
    {
        AmbiguousOffset::Unambiguous { offset } => vec![offset],
        AmbiguousOffset::Fold { before, after } | AmbiguousOffset::Gap { before, after } => {
            vec![before, after]
        }
    };
    let local = PrimitiveDateTime::new(
        Date::from_calendar_date(year, Month::try_from(month).unwrap(), day).unwrap(),
        Time::from_hms(hour, minute, 0).unwrap(),
    );
    let p = show(zone, locale);
    let candidates: Vec<OffsetDateTime> = offsets
        .into_iter()
        .map(|o| local.assume_offset(UtcOffset::from_whole_seconds(o.seconds()).unwrap()))
        .filter(|at| p.local(*at).abbreviation == abbreviation)
        .collect();
    assert_eq!(
        candidates.len(),
        1,
        "{shown} in {zone} reads back as {candidates:?}"
    );
    candidates[0].to_offset(UtcOffset::UTC)
}

const ZONES: [&str; 9] = [
    "UTC",
    "Pacific/Auckland",
    "Australia/Sydney",
    "Asia/Tokyo",
    "Asia/Kathmandu",
    "Europe/Paris",
    "America/St_Johns",
    "America/New_York",
    "America/Los_Angeles",
];

proptest! {
    /// V9: the instant shown, read back in the org's zone, is the stored one (to the minute
    /// shown), in every locale and across daylight-saving changes.
    #[test]
    fn v9_the_instant_shown_reads_back_as_the_stored_one(
        seconds in 946_684_800i64..2_082_758_400, // 2000 – 2036
        zone in prop::sample::select(&ZONES[..]),
        locale in prop::sample::select(&Locale::ALL[..]),
    ) {
        let stored = OffsetDateTime::from_unix_timestamp(seconds - seconds.rem_euclid(60)).unwrap();
        let p = show(zone, locale);
        let shown = p.date_time(stored);
        prop_assert_eq!(parse_back(&shown, locale, zone), stored, "{}", shown);
    }
}
