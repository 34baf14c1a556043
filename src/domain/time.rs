//! Beijing time: deadlines, case numbers and working days are all counted in UTC+8.

use jiff::Timestamp;
use jiff::tz::{Offset, TimeZone};

/// UTC+8, all year (China has no daylight saving time).
pub fn beijing() -> TimeZone {
    TimeZone::fixed(Offset::constant(8))
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn late_utc_evening_is_the_next_beijing_day() {
        let at: Timestamp = "2026-11-21T17:30:00Z".parse().unwrap();
        assert_eq!(beijing_day_code(at), "20261122");
    }
}
