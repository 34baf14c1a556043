//! Time buckets on the Beijing clock: hours, days and ISO weeks (Monday first), as indexes
//! counted from the Unix epoch, so that counting is integer arithmetic.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Seconds Beijing is ahead of UTC (no daylight saving).
const BEIJING: i64 = 8 * 3600;

/// A bucket width.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Bucket {
    /// One hour.
    Hour,
    /// One Beijing day.
    #[default]
    Day,
    /// One ISO week, Monday 00:00 Beijing time to the next.
    Week,
}

impl Bucket {
    /// Hours in the bucket.
    pub fn hours(self) -> i64 {
        match self {
            Bucket::Hour => 1,
            Bucket::Day => 24,
            Bucket::Week => 24 * 7,
        }
    }

    /// The bucket holding the hour `hour` (an [`hour_of`] index).
    pub fn of_hour(self, hour: i64) -> i64 {
        match self {
            // 1970-01-01 was a Thursday: shift so that buckets start on Mondays.
            Bucket::Week => (hour + 3 * 24).div_euclid(self.hours()),
            _ => hour.div_euclid(self.hours()),
        }
    }

    /// The first hour of bucket `index`.
    pub fn first_hour(self, index: i64) -> i64 {
        match self {
            Bucket::Week => index * self.hours() - 3 * 24,
            _ => index * self.hours(),
        }
    }

    /// When bucket `index` starts.
    pub fn start(self, index: i64) -> Timestamp {
        timestamp_of_hour(self.first_hour(index))
    }

    /// The parse of `hour`, `day` or `week`.
    pub fn parse(s: &str) -> Option<Bucket> {
        match s {
            "hour" => Some(Bucket::Hour),
            "day" => Some(Bucket::Day),
            "week" => Some(Bucket::Week),
            _ => None,
        }
    }
}

/// The Beijing hour index of `at`.
pub fn hour_of(at: Timestamp) -> i64 {
    (at.as_second() + BEIJING).div_euclid(3600)
}

/// An hour index in 32 bits, for what keeps one per case (a million of them). jiff's
/// timestamps span the years -9999 to 9999, about ±88 million hours: every [`hour_of`] fits.
pub(super) fn compact_hour(hour: i64) -> i32 {
    hour as i32
}

/// When Beijing hour `hour` starts.
pub fn timestamp_of_hour(hour: i64) -> Timestamp {
    Timestamp::from_second(hour * 3600 - BEIJING).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// The Beijing date of `at`, as `yyyy-mm-dd`.
pub fn beijing_date(at: Timestamp) -> String {
    at.to_zoned(crate::domain::beijing())
        .strftime("%Y-%m-%d")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn days_and_weeks_follow_the_beijing_clock() {
        // 2019-02-28 23:30 Beijing is still the 28th (15:30 UTC)…
        let late = ts("2019-02-28T15:30:00Z");
        let day = Bucket::Day.of_hour(hour_of(late));
        assert_eq!(beijing_date(Bucket::Day.start(day)), "2019-02-28");
        // …and 00:30 on 1 March Beijing is 16:30 UTC the day before.
        let early = ts("2019-02-28T16:30:00Z");
        assert_eq!(Bucket::Day.of_hour(hour_of(early)), day + 1);
        // 2019-02-28 was a Thursday: its week starts Monday the 25th.
        let week = Bucket::Week.of_hour(hour_of(late));
        assert_eq!(beijing_date(Bucket::Week.start(week)), "2019-02-25");
        assert_eq!(
            Bucket::Week.of_hour(hour_of(ts("2019-03-03T15:59:59Z"))),
            week,
            "Sunday 23:59 Beijing is the same week"
        );
        assert_eq!(
            Bucket::Week.of_hour(hour_of(ts("2019-03-03T16:00:00Z"))),
            week + 1,
            "Monday 00:00 Beijing starts the next"
        );
    }
}
