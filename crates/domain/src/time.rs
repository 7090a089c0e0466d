//! RFC 3339 timestamps on the wire and in backups: written by chrono's serde (`…Z`, 0, 3, 6
//! or 9 fraction digits), read by a small strict reader instead of chrono's general date
//! parser (whose format machinery weighs ~10 KB in the tablet's wasm).
//!
//! Accepted: `YYYY-MM-DD` `T` `HH:MM:SS` [`.` digits] then `Z` or `±HH:MM` / `±HHMM`, as every
//! writer sends them; like chrono, also `t` or a space for `T`, `z` for `Z`, a leap second
//! `:60`, any number of fraction digits (nanoseconds kept, further digits ignored).
//! Refused where chrono's relaxed reader accepted them (no client writes them): whitespace
//! anywhere else (leading, trailing, around `-` and `:`, before the offset), fields with fewer
//! digits (`2026-3-2`, `9:05:00`) or a signed or other-width year, `UTC` as the offset, the
//! Unicode minus sign `−` in the offset, and any other separator than one `:` in the offset.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveTime, Utc};

/// The years a stored timestamp may fall in (UTC). Anything else is a tablet's clock gone wrong,
/// and years outside 0000–9999 cannot even be written back in RFC 3339's four digits.
pub const EARLIEST_TIMESTAMP_YEAR: i32 = 2000;
pub const LATEST_TIMESTAMP_YEAR: i32 = 2100;

/// Whether a timestamp is in the years the server stores (see [`EARLIEST_TIMESTAMP_YEAR`]).
pub fn timestamp_in_range(at: DateTime<Utc>) -> bool {
    (EARLIEST_TIMESTAMP_YEAR..=LATEST_TIMESTAMP_YEAR).contains(&at.year())
}

/// Reads an RFC 3339 date and time (see the module for exactly what is accepted).
pub fn parse_rfc3339(s: &str) -> Option<DateTime<Utc>> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |digits: &[u8]| -> Option<u32> {
        digits.iter().try_fold(0u32, |n, c| c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0')))
    };
    let (year, month, day) = (num(&b[..4])?, num(&b[5..7])?, num(&b[8..10])?);
    let (hour, minute, second) = (num(&b[11..13])?, num(&b[14..16])?, num(&b[17..19])?);
    let mut rest = &b[19..];
    let mut nano = 0;
    if let Some(fraction) = rest.strip_prefix(b".") {
        let digits = fraction.iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return None;
        }
        let kept = digits.min(9);
        nano = num(&fraction[..kept])? * 10u32.pow(9 - kept as u32);
        rest = &fraction[digits..];
    }
    let offset = match rest {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), hours @ .., ] if hours.len() == 4 || (hours.len() == 5 && hours[2] == b':') => {
            let (h, m) = (num(&hours[..2])?, num(&hours[hours.len() - 2..])?);
            if m > 59 {
                return None;
            }
            let seconds = (h * 60 + m) as i32 * 60;
            if *sign == b'-' {
                -seconds
            } else {
                seconds
            }
        }
        _ => return None,
    };
    // A leap second is the 59th second's second billion nanoseconds, as chrono keeps it.
    let (second, leap) = if second == 60 { (59, 1_000_000_000) } else { (second, 0) };
    let local = NaiveDate::from_ymd_opt(year as i32, month, day)?.and_time(NaiveTime::from_hms_nano_opt(hour, minute, second, nano + leap)?);
    Some(local.and_local_timezone(FixedOffset::east_opt(offset)?).single()?.to_utc())
}

/// Reads an ISO date, exactly `YYYY-MM-DD` (what the records, the backups and the browser's
/// date inputs hold). Chrono's `NaiveDate::from_str` also took whitespace around the fields,
/// fields with fewer digits (`2026-3-2`) and signed years; refusing them lets the wasm drop
/// chrono's general parser once every date is read here (see `date`).
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |digits: &[u8]| -> Option<u32> {
        digits.iter().try_fold(0u32, |n, c| c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0')))
    };
    NaiveDate::from_ymd_opt(num(&b[..4])? as i32, num(&b[5..7])?, num(&b[8..10])?)
}

/// `#[serde(with = "crate::time::date")]` for a `NaiveDate`: chrono writes it, [`parse_date`] reads it.
pub mod date {
    use chrono::NaiveDate;
    use serde::{Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(date: &NaiveDate, serializer: S) -> Result<S::Ok, S::Error> {
        date.serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<NaiveDate, D::Error> {
        super::read_str(deserializer, super::parse_date, "a date (2026-03-02)")
    }
}

/// Reads a JSON string with `parse`; a string it refuses is an invalid value, `expecting` said.
fn read_str<'de, D: serde::Deserializer<'de>, T>(deserializer: D, parse: fn(&str) -> Option<T>, expecting: &'static str) -> Result<T, D::Error> {
    struct StrVisitor<T> {
        parse: fn(&str) -> Option<T>,
        expecting: &'static str,
    }
    impl<T> serde::de::Visitor<'_> for StrVisitor<T> {
        type Value = T;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str(self.expecting)
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<T, E> {
            (self.parse)(v).ok_or_else(|| E::invalid_value(serde::de::Unexpected::Str(v), &self))
        }
    }
    deserializer.deserialize_str(StrVisitor { parse, expecting })
}

/// A timestamp read by [`parse_rfc3339`] (for hand-written deserializers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rfc3339(pub DateTime<Utc>);

impl<'de> serde::Deserialize<'de> for Rfc3339 {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        read_str(deserializer, parse_rfc3339, "an RFC 3339 date and time (2026-03-02T10:00:00Z)").map(Rfc3339)
    }
}

/// `#[serde(with = "crate::time::rfc3339")]` for a `DateTime<Utc>`: chrono writes it, [`parse_rfc3339`] reads it.
pub mod rfc3339 {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
        at.serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<DateTime<Utc>, D::Error> {
        super::Rfc3339::deserialize(deserializer).map(|t| t.0)
    }
}

/// The same for an `Option<DateTime<Utc>>` (`null` is `None`; give the field `#[serde(default)]`
/// so that a missing one is too).
pub mod rfc3339_option {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(at: &Option<DateTime<Utc>>, serializer: S) -> Result<S::Ok, S::Error> {
        at.serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        Option::<super::Rfc3339>::deserialize(deserializer).map(|t| t.map(|t| t.0))
    }
}

/// `#[serde(with = "crate::time::date_option")]` for an `Option<NaiveDate>` (null or absent: `None`).
pub mod date_option {
    use chrono::NaiveDate;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(date: &Option<NaiveDate>, serializer: S) -> Result<S::Ok, S::Error> {
        date.serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<NaiveDate>, D::Error> {
        struct Date(NaiveDate);
        impl<'de> Deserialize<'de> for Date {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                super::date::deserialize(deserializer).map(Date)
            }
        }
        Option::<Date>::deserialize(deserializer).map(|d| d.map(|d| d.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chrono(s: &str) -> Option<DateTime<Utc>> {
        s.parse::<DateTime<Utc>>().ok()
    }

    #[test]
    fn what_clients_send_reads_like_chrono() {
        for s in [
            "2026-03-02T10:00:00Z",
            "2026-03-02T10:00:00.5Z",
            "2026-03-02T10:00:00.123Z",
            "2026-03-02T10:00:00.123456Z",
            "2026-03-02T10:00:00.123456789Z",
            "2026-03-02T10:00:00.1234567891234Z",
            "2026-03-02T11:30:00+01:30",
            "2026-03-02T01:00:00-09:00",
            "2026-03-02T10:00:00+0100",
            "2026-03-02T10:00:00-00:00",
            "2026-03-02t10:00:00z",
            "2026-03-02 10:00:00Z",
            "2016-12-31T23:59:60Z",
            "2016-12-31T23:59:60.5+00:00",
            "0000-01-01T00:00:00+01:00",
            "9999-12-31T23:59:59-23:59",
            "2024-02-29T00:00:00Z",
        ] {
            assert_eq!(parse_rfc3339(s), chrono(s), "{s}");
            assert!(parse_rfc3339(s).is_some(), "{s}");
        }
        assert_eq!(parse_rfc3339("2026-03-02T11:30:00+01:30"), parse_rfc3339("2026-03-02T10:00:00Z"));
        assert_eq!(parse_rfc3339("2026-03-02T10:00:00.25Z").unwrap().timestamp_subsec_nanos(), 250_000_000);
    }

    #[test]
    fn impossible_values_are_refused_like_chrono() {
        for s in [
            "",
            "2026-03-02",
            "2026-03-02T10:00:00",
            "2026-02-29T10:00:00Z",
            "2026-13-02T10:00:00Z",
            "2026-00-02T10:00:00Z",
            "2026-03-32T10:00:00Z",
            "2026-03-02T24:00:00Z",
            "2026-03-02T10:60:00Z",
            "2026-03-02T10:00:61Z",
            "2026-03-02T10:00:00.Z",
            "2026-03-02T10:00:00+24:00",
            "2026-03-02T10:00:00+01:60",
            "2026-03-02T10:00:00+01",
            "2026-03-02T10:00:00+1:00",
            "2026-03-02T10:00:00Zx",
            "2026-03-02X10:00:00Z",
            "2026/03/02T10:00:00Z",
            "2026-03-02T10:00:00,5Z",
            "2026-03-02T10:00:00+01:00:00",
            "2026-03-02T10:00:0aZ",
            "2026-03-02T10:00:00ZZ",
            "２０２６-03-02T10:00:00Z",
        ] {
            assert_eq!(parse_rfc3339(s), None, "{s}");
            assert_eq!(chrono(s), None, "{s}");
        }
    }

    /// What chrono's relaxed reader accepts and this one refuses (see the module).
    #[test]
    fn documented_refusals() {
        for s in [
            " 2026-03-02T10:00:00Z",
            "2026-03-02T10:00:00Z ",
            "2026-03-02T10:00:00 Z",
            "2026 -03-02T10:00:00Z",
            "2026-03-02T10: 00:00Z",
            "2026-3-2T10:00:00Z",
            "2026-03-02T9:05:00Z",
            "+2026-03-02T10:00:00Z",
            "2026-03-02T10:00:00UTC",
            "2026-03-02T10:00:00utc",
            "2026-03-02T10:00:00−01:00",
            "2026-03-02T10:00:00+01 00",
            "2026-03-02T10:00:00+01::00",
        ] {
            assert!(chrono(s).is_some(), "chrono reads {s}");
            assert_eq!(parse_rfc3339(s), None, "{s}");
        }
    }

    #[test]
    fn serde_reads_and_writes_like_chrono() {
        #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
        struct T {
            #[serde(with = "rfc3339")]
            at: DateTime<Utc>,
            #[serde(default, with = "rfc3339_option")]
            maybe: Option<DateTime<Utc>>,
        }
        #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
        struct C {
            at: DateTime<Utc>,
            #[serde(default)]
            maybe: Option<DateTime<Utc>>,
        }
        for text in [
            r#"{"at":"2026-03-02T10:00:00.5+01:00","maybe":"2026-03-02T10:00:00Z"}"#,
            r#"{"at":"2026-03-02T10:00:00Z","maybe":null}"#,
            r#"{"at":"2026-03-02T10:00:00Z"}"#,
        ] {
            let ours: T = serde_json::from_str(text).unwrap();
            let theirs: C = serde_json::from_str(text).unwrap();
            assert_eq!((ours.at, ours.maybe), (theirs.at, theirs.maybe));
            assert_eq!(serde_json::to_string(&ours).unwrap(), serde_json::to_string(&theirs).unwrap());
        }
        for text in [r#"{"at":"2026-03-02"}"#, r#"{"at":5}"#, r#"{"at":null}"#, r#"{"at":"2026-03-02T10:00:00Z","maybe":1}"#] {
            assert!(serde_json::from_str::<T>(text).is_err(), "{text}");
            assert!(serde_json::from_str::<C>(text).is_err(), "{text}");
        }
        let e = serde_json::from_str::<T>(r#"{"at":"hier"}"#).unwrap_err().to_string();
        assert!(e.contains("invalid value: string \"hier\", expected an RFC 3339 date and time"), "{e}");
    }

    #[test]
    fn dates_read_like_chrono_in_their_iso_form() {
        for s in ["2026-03-02", "2024-02-29", "0000-01-01", "9999-12-31"] {
            assert_eq!(parse_date(s), s.parse::<NaiveDate>().ok(), "{s}");
            assert!(parse_date(s).is_some(), "{s}");
        }
        for s in ["", "2026-02-29", "2026-13-01", "2026-00-10", "2026-01-32", "2026/03/02", "2026-03-02T", "20260302", "2026-03-0x"] {
            assert_eq!(parse_date(s), None, "{s}");
            assert_eq!(s.parse::<NaiveDate>().ok(), None, "{s}");
        }
        // What chrono also took (see parse_date).
        for s in [" 2026-03-02", "2026-03-02 ", "2026 - 03 - 02", "2026-3-2", "+2026-03-02", "-0001-03-02"] {
            assert!(s.parse::<NaiveDate>().is_ok(), "chrono reads {s}");
            assert_eq!(parse_date(s), None, "{s}");
        }
        #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
        struct T {
            #[serde(with = "date")]
            d: NaiveDate,
        }
        let t: T = serde_json::from_str(r#"{"d":"2026-03-02"}"#).unwrap();
        assert_eq!(serde_json::to_string(&t).unwrap(), r#"{"d":"2026-03-02"}"#);
        let e = serde_json::from_str::<T>(r#"{"d":"02/03/2026"}"#).unwrap_err().to_string();
        assert!(e.contains("expected a date (2026-03-02)"), "{e}");
    }

    #[test]
    fn stored_timestamps_stay_in_2000_to_2100() {
        for s in ["2000-01-01T00:00:00Z", "2026-03-02T10:00:00Z", "2100-12-31T23:59:59Z", "2000-01-01T00:30:00+00:30"] {
            assert!(timestamp_in_range(parse_rfc3339(s).unwrap()), "{s}");
        }
        for s in ["0000-01-01T00:00:00+01:00", "9999-12-31T23:59:59-23:59", "1999-12-31T23:59:59Z", "2101-01-01T00:00:00Z", "2000-01-01T00:30:00+01:00"] {
            assert!(!timestamp_in_range(parse_rfc3339(s).unwrap()), "{s}");
        }
    }

    proptest::proptest! {
        /// Any day, and impossible ones, written as ISO dates: read exactly like chrono.
        #[test]
        fn generated_dates_read_like_chrono(year in 0u32..10_000, month in 0u32..14, day in 0u32..33) {
            let s = format!("{year:04}-{month:02}-{day:02}");
            proptest::prop_assert_eq!(parse_date(&s), s.parse::<NaiveDate>().ok(), "{}", s);
        }

        /// Texts of date characters: never read otherwise than chrono.
        #[test]
        fn dates_never_accepted_where_chrono_refuses(s in "[-+ 0-9]{8,12}") {
            if let Some(d) = parse_date(&s) {
                proptest::prop_assert_eq!(Some(d), s.parse::<NaiveDate>().ok(), "{}", s);
            }
        }

        /// Generated timestamps in every form clients may write: read exactly like chrono.
        #[test]
        fn generated_timestamps_read_like_chrono(
            year in 0u32..10_000, month in 0u32..14, day in 0u32..33, hour in 0u32..25, minute in 0u32..61, second in 0u32..62,
            fraction in proptest::option::of("[0-9]{1,12}"), sep in 0usize..3, offset in 0usize..4,
            off_h in 0u32..30, off_m in 0u32..61, negative in proptest::bool::ANY,
        ) {
            let sep = ['T', 't', ' '][sep];
            let fraction = fraction.map(|f| format!(".{f}")).unwrap_or_default();
            let sign = if negative { '-' } else { '+' };
            let offset = match offset {
                0 => "Z".to_owned(),
                1 => "z".to_owned(),
                2 => format!("{sign}{off_h:02}:{off_m:02}"),
                _ => format!("{sign}{off_h:02}{off_m:02}"),
            };
            let s = format!("{year:04}-{month:02}-{day:02}{sep}{hour:02}:{minute:02}:{second:02}{fraction}{offset}");
            proptest::prop_assert_eq!(parse_rfc3339(&s), chrono(&s), "{}", s);
        }

        /// Any text made of a timestamp's characters: what this reader accepts, chrono accepts
        /// with the same value (it never reads a text chrono refuses, nor reads one otherwise).
        #[test]
        fn never_accepts_what_chrono_refuses(s in "[0-9]{4}[-0-9 ]{0,4}[0-9]{0,2}[Tt :0-9]{0,12}[.0-9]{0,4}[-+:0-9Zz ]{0,7}") {
            if let Some(t) = parse_rfc3339(&s) {
                proptest::prop_assert_eq!(Some(t), chrono(&s), "{}", s);
            }
        }

        /// Every instant, as chrono writes it, reads back to itself.
        #[test]
        fn chronos_own_output_reads_back(secs in -62_167_219_200i64..253_402_300_799, nanos in 0u32..1_000_000_000) {
            let t = DateTime::<Utc>::from_timestamp(secs, nanos).unwrap();
            let written = serde_json::to_string(&t).unwrap();
            proptest::prop_assert_eq!(parse_rfc3339(written.trim_matches('"')), Some(t));
            proptest::prop_assert_eq!(parse_rfc3339(&t.to_rfc3339()), Some(t));
        }
    }
}
