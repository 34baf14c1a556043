//! Beijing time: deadlines, case numbers and working days are all counted in UTC+8.

use jiff::Timestamp;
use jiff::tz::{Offset, TimeZone};

/// UTC+8, all year (China has no daylight saving time).
pub fn beijing() -> TimeZone {
    TimeZone::fixed(Offset::constant(8))
}

/// One end of a period as a user writes it: a Beijing date (`2026-03-01`: from the start of
/// that day, or with `end`, up to the end of it) or an RFC 3339 time (an end is exclusive), read
/// as [`parse_api_time`] reads it. The error names `name` and says what is accepted.
pub fn period_bound(name: &str, value: &str, end: bool) -> Result<Timestamp, String> {
    let value = value.trim();
    let at = period_bound_unchecked(name, value, end)?;
    // Earlier than any case, and years before 0001 do not print as RFC 3339.
    if at
        < EARLIEST_PERIOD
            .parse::<Timestamp>()
            .expect("a valid timestamp")
    {
        return Err(format!(
            "{name}={value:?} is before 1970-01-01 (Beijing time): no case is that old"
        ));
    }
    Ok(at)
}

/// The earliest time a period may name: 1970-01-01 in Beijing.
const EARLIEST_PERIOD: &str = "1969-12-31T16:00:00Z";

fn period_bound_unchecked(name: &str, value: &str, end: bool) -> Result<Timestamp, String> {
    if let Some(date) = full_date(value) {
        let date = match (end, date.tomorrow()) {
            (false, _) => date,
            (true, Ok(next)) => next,
            // The last day there is ends after the last instant kept: up to that instant.
            (true, Err(_)) => return Ok(Timestamp::MAX),
        };
        return date
            .to_zoned(beijing())
            .map(|z| z.timestamp())
            .map_err(|e| format!("{name}={value:?}: {e}"));
    }
    parse_api_time(value).map_err(|_| {
        let shown: String = value.chars().take(64).collect();
        format!(
            "{name}={shown:?} is not a date (2026-03-01) or an RFC 3339 time (2026-03-01T08:00:00+08:00)"
        )
    })
}

/// `value` as a date written `yyyy-mm-dd`, and nothing else: jiff also reads a date out of a
/// date and time (`2026-03-01T12:00:00+08:00`), dropping the time, which a period must not.
pub fn full_date(value: &str) -> Option<jiff::civil::Date> {
    let b = value.as_bytes();
    let shaped = b.len() == 10
        && b.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        });
    shaped.then(|| value.parse().ok()).flatten()
}

/// The Beijing date of `at` as `yyyymmdd`, as case numbers carry it.
pub fn beijing_day_code(at: Timestamp) -> String {
    at.to_zoned(beijing()).date().strftime("%Y%m%d").to_string()
}

/// A time as found in data files: RFC 3339 with an offset, or a local
/// `YYYY-MM-DD[T ]HH:MM[:SS]` / `YYYY-MM-DD` read as Beijing time (as Chinese systems write it).
pub fn parse_time(s: &str) -> Result<Timestamp, String> {
    let s = s.trim();
    if let Ok(t) = s.parse::<Timestamp>() {
        return Ok(t);
    }
    let civil = s
        .parse::<jiff::civil::DateTime>()
        .or_else(|_| s.parse::<jiff::civil::Date>().map(|d| d.to_datetime(jiff::civil::Time::midnight())))
        .map_err(|_| {
            format!("{s:?} is not a time: use RFC 3339 (2026-11-23T09:30:00+08:00) or 2026-11-23 09:30:00 (Beijing time)")
        })?;
    civil
        .to_zoned(beijing())
        .map(|z| z.timestamp())
        .map_err(|e| format!("{s:?}: {e}"))
}

/// An RFC 3339 time as the API takes it. jiff's `Timestamp` reads nearly all of RFC 3339; the
/// rest, which a client may send all the same, is taken as near as can be: more than nine
/// fractional digits are cut to nine, and a time after jiff's last instant
/// (9999-12-30T22:00:00.999999999Z; RFC 3339 goes on to 9999-12-31T23:59:59-23:59) is that
/// instant.
pub fn parse_api_time(s: &str) -> Result<Timestamp, String> {
    let cut;
    let s = match s.split_once('.') {
        Some((head, tail)) => {
            let digits = tail.bytes().take_while(u8::is_ascii_digit).count();
            if digits > 9 {
                cut = format!("{head}.{}{}", &tail[..9], &tail[digits..]);
                &cut
            } else {
                s
            }
        }
        None => s,
    };
    s.parse::<Timestamp>().or_else(|e| {
        // Past the last instant: the same time a year earlier reads.
        match s.strip_prefix("9999-") {
            Some(rest) if format!("9998-{rest}").parse::<Timestamp>().is_ok() => Ok(Timestamp::MAX),
            _ => Err(e.to_string()),
        }
    })
}

/// serde for an optional API time ([`parse_api_time`]), in a JSON body or a query string:
/// absent and `null` are `None`.
pub mod api_time {
    use jiff::Timestamp;
    use serde::{Deserialize, Deserializer};

    /// Reads an optional API time.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|s| super::parse_api_time(&s).map_err(serde::de::Error::custom))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_period_before_1970_is_refused() {
        assert!(period_bound("from", "1969-12-31", false).is_err());
        assert!(period_bound("from", "0000-01-01", false).is_err());
        assert!(period_bound("from", "1970-01-01", false).is_ok());
    }

    #[test]
    fn every_rfc_3339_time_is_taken() {
        let t = |s: &str| parse_api_time(s).map(|t| t.to_string());
        assert_eq!(
            t("2026-11-23T09:30:00+08:00").unwrap(),
            "2026-11-23T01:30:00Z"
        );
        assert_eq!(
            t("2026-11-23T01:30:00.1234567891234Z").unwrap(),
            "2026-11-23T01:30:00.123456789Z"
        );
        assert_eq!(
            t("9999-12-31T23:59:59Z").unwrap(),
            Timestamp::MAX.to_string()
        );
        assert_eq!(
            t("9999-12-31T23:59:59-23:59").unwrap(),
            Timestamp::MAX.to_string()
        );
        assert_eq!(
            t("0000-01-01T00:00:00+23:59").unwrap(),
            "-000001-12-31T00:01:00Z"
        );
        for bad in [
            "9999-02-29T00:00:00Z",
            "yesterday",
            "2026-13-01T00:00:00Z",
            "9999-",
        ] {
            assert!(t(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn reads_local_times_as_beijing() {
        let t = parse_time("2019-04-25T09:32:09").unwrap();
        assert_eq!(t.to_string(), "2019-04-25T01:32:09Z");
        assert_eq!(parse_time("2019-04-25 09:32:09").unwrap(), t);
        assert_eq!(parse_time("2019-04-25T01:32:09Z").unwrap(), t);
        assert_eq!(
            parse_time("2019-04-25").unwrap().to_string(),
            "2019-04-24T16:00:00Z"
        );
        assert!(parse_time("yesterday").unwrap_err().contains("RFC 3339"));
    }

    #[test]
    fn a_period_bound_is_a_whole_date_or_an_exact_time() {
        let bound = |v: &str, end: bool| period_bound("from", v, end).map(|t| t.to_string());
        assert_eq!(bound("2026-03-01", false).unwrap(), "2026-02-28T16:00:00Z");
        assert_eq!(bound("2026-03-01", true).unwrap(), "2026-03-01T16:00:00Z");
        // A time keeps its time (it was once read as its whole day).
        assert_eq!(
            bound("2026-03-01T12:34:00+08:00", false).unwrap(),
            "2026-03-01T04:34:00Z"
        );
        assert_eq!(
            bound("9999-12-31", true).unwrap(),
            Timestamp::MAX.to_string()
        );
        assert_eq!(
            bound("9999-12-31T23:59:59Z", true).unwrap(),
            Timestamp::MAX.to_string()
        );
        for bad in ["2026-03-01T12:34:00", "20260301", "", "2026-3-1"] {
            assert!(bound(bad, false).unwrap_err().contains("from="), "{bad}");
        }
    }

    #[test]
    fn late_utc_evening_is_the_next_beijing_day() {
        let at: Timestamp = "2026-11-21T17:30:00Z".parse().unwrap();
        assert_eq!(beijing_day_code(at), "20261122");
    }
}
