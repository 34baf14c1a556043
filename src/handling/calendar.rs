//! Mainland China's working-day calendar, for SLA deadlines ("N 个工作日内答复"): weekends,
//! statutory holidays and the weekend days worked in exchange (调休上班), per year, from the
//! State Council's notices transcribed in `data/calendar/cn.toml`.
//!
//! Deadlines are counted in Beijing time (UTC+8 all year: no daylight saving since 1991), so
//! no time-zone database is needed. The day of receipt is not counted: a case received on any
//! day is due by the end of the Nth working day after it, as "自受理之日起 N 个工作日" reads.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use jiff::civil::{Date, Time, Weekday};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::domain::beijing;
use crate::error::{Error, Result};

/// The calendar built into the binary.
const BUILTIN: &str = include_str!("../../data/calendar/cn.toml");
/// Days a count of working time may walk before it is refused (a limit is at most a year).
const MAX_WALK_DAYS: usize = 2 * 366;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CalendarFile {
    year: Vec<YearSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct YearSpec {
    year: i16,
    /// Which notice the dates come from: required, so that every year names its source.
    #[allow(dead_code)]
    source: String,
    holidays: Vec<String>,
    workdays: Vec<String>,
}

#[derive(Debug, Default)]
struct YearDays {
    holidays: HashSet<Date>,
    workdays: HashSet<Date>,
}

/// Which days are working days. Immutable; share it.
#[derive(Debug)]
pub struct WorkCalendar {
    years: BTreeMap<i16, YearDays>,
}

/// A deadline some working days after a case was received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deadline {
    /// Working days allowed.
    pub working_days: u32,
    /// The last day, in Beijing time.
    pub due_date: Date,
    /// The last instant: the end of `due_date` in Beijing time.
    pub due: Timestamp,
    /// False when the count passed through a year the calendar has no notice for, where only
    /// weekends are known: the deadline may fall on a holiday.
    pub calendar_complete: bool,
}

impl WorkCalendar {
    /// The built-in calendar (`data/calendar/cn.toml`).
    pub fn builtin() -> Result<Self> {
        Self::parse(BUILTIN, Path::new("data/calendar/cn.toml"))
    }

    /// Parses a calendar file; `path` names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        let bad = |m: String| Error::bad_file(path, m);
        let file: CalendarFile = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        let mut years = BTreeMap::new();
        for spec in file.year {
            let mut days = YearDays::default();
            for entry in &spec.holidays {
                let (from, to) = match entry.split_once("..") {
                    Some((a, b)) => (parse_date(a, path)?, parse_date(b, path)?),
                    None => {
                        let d = parse_date(entry, path)?;
                        (d, d)
                    }
                };
                if to < from || to.since(from).map_or(true, |s| s.get_days() > 31) {
                    return Err(bad(format!(
                        "holiday range `{entry}` must run forwards and last at most a month"
                    )));
                }
                let mut d = from;
                while d <= to {
                    days.holidays.insert(d);
                    d = d.tomorrow().map_err(|e| bad(e.to_string()))?;
                }
            }
            for entry in &spec.workdays {
                let d = parse_date(entry, path)?;
                // A make-up working day is always a Saturday or Sunday: anything else is a typo.
                if !is_weekend(d) {
                    return Err(bad(format!(
                        "make-up working day {d} is a {:?}, not a weekend day",
                        d.weekday()
                    )));
                }
                days.workdays.insert(d);
            }
            if let Some(d) = days.holidays.intersection(&days.workdays).next() {
                return Err(bad(format!(
                    "{d} is listed both as a holiday and as a working day"
                )));
            }
            if let Some(d) = days
                .holidays
                .iter()
                .chain(&days.workdays)
                .find(|d| d.year() != spec.year)
            {
                return Err(bad(format!("{d} is listed under year {}", spec.year)));
            }
            if years.insert(spec.year, days).is_some() {
                return Err(bad(format!("year {} is listed twice", spec.year)));
            }
        }
        Ok(WorkCalendar { years })
    }

    /// The years the calendar has a notice for.
    pub fn years(&self) -> impl Iterator<Item = i16> + '_ {
        self.years.keys().copied()
    }

    /// Whether `date` is a working day, and whether the calendar knows its year. For a year
    /// without a notice, weekends and the fixed-date holidays of the law are days off; the
    /// lunar holidays (春节, 清明, 端午, 中秋) and the 调休 swaps are unknown.
    pub fn is_working_day(&self, date: Date) -> (bool, bool) {
        match self.years.get(&date.year()) {
            Some(y) if y.holidays.contains(&date) => (false, true),
            Some(y) if y.workdays.contains(&date) => (true, true),
            Some(_) => (!is_weekend(date), true),
            None => (!is_weekend(date) && !is_fixed_holiday(date), false),
        }
    }

    /// The deadline `working_days` working days after `received`.
    pub fn deadline(&self, received: Timestamp, working_days: u32) -> Result<Deadline> {
        let mut day = received.to_zoned(beijing()).date();
        let mut complete = true;
        let mut counted = 0;
        while counted < working_days {
            day = day
                .tomorrow()
                .map_err(|e| Error::Invalid(format!("deadline out of range: {e}")))?;
            let (working, known) = self.is_working_day(day);
            complete &= known;
            if working {
                counted += 1;
            }
        }
        let end = day
            .to_datetime(jiff::civil::time(23, 59, 59, 0))
            .to_zoned(beijing())
            .map_err(|e| Error::Invalid(format!("deadline out of range: {e}")))?;
        Ok(Deadline {
            working_days,
            due_date: day,
            due: end.timestamp(),
            calendar_complete: complete,
        })
    }
}

/// The working hours of a working day, in Beijing time: half-open spans, in order, apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkingHours(Vec<(Time, Time)>);

impl Default for WorkingHours {
    /// 09:00–12:00 and 13:30–17:30, the office hours most 承办单位 keep.
    fn default() -> Self {
        WorkingHours(vec![
            (
                jiff::civil::time(9, 0, 0, 0),
                jiff::civil::time(12, 0, 0, 0),
            ),
            (
                jiff::civil::time(13, 30, 0, 0),
                jiff::civil::time(17, 30, 0, 0),
            ),
        ])
    }
}

impl WorkingHours {
    /// Working hours from spans written `"HH:MM-HH:MM"`.
    pub fn parse(spans: &[String]) -> std::result::Result<Self, String> {
        let mut out: Vec<(Time, Time)> = Vec::with_capacity(spans.len());
        for span in spans {
            let (a, b) = span.split_once('-').ok_or_else(|| {
                format!("working hours {span:?}: write them like \"09:00-12:00\"")
            })?;
            let time = |t: &str| {
                t.trim()
                    .parse::<Time>()
                    .map_err(|e| format!("working hours {span:?}: {t:?} is not a time: {e}"))
            };
            let (a, b) = (time(a)?, time(b)?);
            if b <= a {
                return Err(format!("working hours {span:?} end before they start"));
            }
            if out.last().is_some_and(|&(_, end)| a < end) {
                return Err(format!(
                    "working hours {span:?} overlap or come before the span before them"
                ));
            }
            out.push((a, b));
        }
        if out.is_empty() {
            return Err("working hours: give at least one span, like \"09:00-17:00\"".into());
        }
        Ok(WorkingHours(out))
    }

    /// Working time in one working day.
    pub fn per_day(&self) -> SignedDuration {
        self.0.iter().map(|&(a, b)| b.duration_since(a)).sum()
    }
}

/// Paused time: half-open intervals during which no deadline runs.
pub type Paused<'a> = &'a [(Timestamp, Timestamp)];

impl WorkCalendar {
    /// The instant `hours` clock hours after `start`, not counting `paused` time.
    pub fn after_hours(
        &self,
        start: Timestamp,
        hours: u32,
        paused: Paused<'_>,
    ) -> Result<Timestamp> {
        let mut due = add(start, SignedDuration::from_hours(i64::from(hours)))?;
        // Each pause that begins before the running due pushes it by the pause's part after
        // `start`; pauses are taken in order so that one pushed into is counted too.
        let mut pauses: Vec<(Timestamp, Timestamp)> = paused.to_vec();
        pauses.sort();
        for (from, to) in pauses {
            let from = from.max(start);
            if from < due && to > from {
                due = add(due, to.duration_since(from))?;
            }
        }
        Ok(due)
    }

    /// The instant `hours` working hours after `start` (within `working` on working days),
    /// not counting `paused` time, and whether every day it passed through was known.
    pub fn after_working_hours(
        &self,
        start: Timestamp,
        hours: u32,
        working: &WorkingHours,
        paused: Paused<'_>,
    ) -> Result<(Timestamp, bool)> {
        let mut left = SignedDuration::from_hours(i64::from(hours));
        let mut day = start.to_zoned(beijing()).date();
        let mut complete = true;
        for _ in 0..MAX_WALK_DAYS {
            let (is_working, known) = self.is_working_day(day);
            complete &= known;
            if is_working {
                for &(a, b) in &working.0 {
                    let (from, to) = (instant(day, a)?.max(start), instant(day, b)?);
                    if to <= from {
                        continue;
                    }
                    for (x, y) in unpaused(from, to, paused) {
                        let span = y.duration_since(x);
                        if span >= left {
                            return Ok((add(x, left)?, complete));
                        }
                        left -= span;
                    }
                }
            }
            day = day
                .tomorrow()
                .map_err(|e| Error::Invalid(format!("deadline out of range: {e}")))?;
        }
        Err(Error::Invalid(format!(
            "{hours} working hours do not fit in {MAX_WALK_DAYS} days of this calendar"
        )))
    }

    /// The working days in `paused`, each counted from the day it began to the day before it
    /// ended (a pause begun and ended on one day adds none; one over a weekend adds the working
    /// days inside it): what a count of working days is extended by.
    pub fn paused_working_days(&self, paused: Paused<'_>) -> u32 {
        let mut days = HashSet::new();
        for &(from, to) in paused {
            let mut d = from.to_zoned(beijing()).date();
            let end = to.to_zoned(beijing()).date();
            while d < end && days.len() < MAX_WALK_DAYS {
                if self.is_working_day(d).0 {
                    days.insert(d);
                }
                match d.tomorrow() {
                    Ok(next) => d = next,
                    Err(_) => break,
                }
            }
        }
        days.len() as u32
    }
}

/// The parts of `[from, to)` outside every pause.
fn unpaused(from: Timestamp, to: Timestamp, paused: Paused<'_>) -> Vec<(Timestamp, Timestamp)> {
    let mut parts = vec![(from, to)];
    for &(p, q) in paused {
        parts = parts
            .into_iter()
            .flat_map(|(a, b)| {
                let mut kept = Vec::with_capacity(2);
                if q <= a || p >= b {
                    kept.push((a, b));
                } else {
                    if p > a {
                        kept.push((a, p));
                    }
                    if q < b {
                        kept.push((q, b));
                    }
                }
                kept
            })
            .collect();
    }
    parts
}

/// `day` at `time`, in Beijing.
fn instant(day: Date, time: Time) -> Result<Timestamp> {
    day.to_datetime(time)
        .to_zoned(beijing())
        .map(|z| z.timestamp())
        .map_err(|e| Error::Invalid(format!("deadline out of range: {e}")))
}

fn add(t: Timestamp, d: SignedDuration) -> Result<Timestamp> {
    t.checked_add(d)
        .map_err(|e| Error::Invalid(format!("deadline out of range: {e}")))
}

/// 《全国年节及纪念日放假办法》 (as amended 2024): 元旦 1 Jan, 劳动节 1–2 May, 国庆节 1–3 Oct.
fn is_fixed_holiday(d: Date) -> bool {
    matches!(
        (d.month(), d.day()),
        (1, 1) | (5, 1) | (5, 2) | (10, 1) | (10, 2) | (10, 3)
    )
}

fn is_weekend(d: Date) -> bool {
    matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday)
}

fn parse_date(s: &str, path: &Path) -> Result<Date> {
    s.trim()
        .parse()
        .map_err(|e| Error::bad_file(path, format!("`{s}` is not a date (YYYY-MM-DD): {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cal() -> WorkCalendar {
        WorkCalendar::builtin().unwrap()
    }

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn due(received: &str, n: u32) -> (String, bool) {
        let d = cal().deadline(at(received), n).unwrap();
        (d.due_date.to_string(), d.calendar_complete)
    }

    #[test]
    fn knows_2024_to_2026() {
        assert_eq!(cal().years().collect::<Vec<_>>(), vec![2024, 2025, 2026]);
    }

    #[test]
    fn spring_festival_2024() {
        // Fri 9 Feb 2024 + 1: 10–17 Feb are holidays, Sun 18 Feb is worked (调休上班).
        assert_eq!(due("2024-02-09T02:00:00Z", 1), ("2024-02-18".into(), true));
    }

    #[test]
    fn working_hours_skip_nights_weekends_holidays_and_pauses() {
        let c = cal();
        let hours = WorkingHours::default();
        // Fri 26 Sep 2025 16:00 Beijing + 4 working hours: 1.5 h on Friday (to 17:30), none on
        // Saturday, Sun 28 Sep is a 调休 working day: 09:00 + 2.5 h = 11:30.
        let (due, complete) = c
            .after_working_hours(at("2025-09-26T08:00:00Z"), 4, &hours, &[])
            .unwrap();
        assert_eq!(due, at("2025-09-28T03:30:00Z"));
        assert!(complete);
        // Paused from Friday 17:00 to Sunday 10:00: 1 h on Friday, then from 10:00 on Sunday
        // 2 h to 12:00 and 1 h after lunch: 14:30.
        let paused = [(at("2025-09-26T09:00:00Z"), at("2025-09-28T02:00:00Z"))];
        let (due, _) = c
            .after_working_hours(at("2025-09-26T08:00:00Z"), 4, &hours, &paused)
            .unwrap();
        assert_eq!(due, at("2025-09-28T06:30:00Z"));
        // The national holiday: Tue 30 Sep 17:00 + 1 working hour is Thu 9 Oct 09:30.
        let (due, _) = c
            .after_working_hours(at("2025-09-30T09:00:00Z"), 1, &hours, &[])
            .unwrap();
        assert_eq!(due, at("2025-10-09T01:30:00Z"));
    }

    #[test]
    fn clock_hours_skip_only_pauses() {
        let c = cal();
        let start = at("2026-03-02T02:00:00Z");
        assert_eq!(
            c.after_hours(start, 24, &[]).unwrap(),
            at("2026-03-03T02:00:00Z")
        );
        let paused = [(at("2026-03-02T04:00:00Z"), at("2026-03-02T07:00:00Z"))];
        assert_eq!(
            c.after_hours(start, 24, &paused).unwrap(),
            at("2026-03-03T05:00:00Z")
        );
    }

    #[test]
    fn paused_working_days_count_from_the_first_day_to_the_day_before_the_last() {
        let c = cal();
        // Mon 2 Mar 10:00 to Wed 4 Mar 15:00 Beijing: Monday and Tuesday.
        let p = [(at("2026-03-02T02:00:00Z"), at("2026-03-04T07:00:00Z"))];
        assert_eq!(c.paused_working_days(&p), 2);
        // One day only: nothing.
        let same = [(at("2026-03-02T02:00:00Z"), at("2026-03-02T09:00:00Z"))];
        assert_eq!(c.paused_working_days(&same), 0);
        // Fri 6 Mar to Mon 9 Mar: Friday only (the weekend is not working time).
        let weekend = [(at("2026-03-06T02:00:00Z"), at("2026-03-09T02:00:00Z"))];
        assert_eq!(c.paused_working_days(&weekend), 1);
    }

    #[test]
    fn working_hours_are_checked() {
        assert!(WorkingHours::parse(&["09:00-12:00".into(), "13:00-17:00".into()]).is_ok());
        assert!(
            WorkingHours::parse(&["12:00-09:00".into()])
                .unwrap_err()
                .contains("end before")
        );
        assert!(
            WorkingHours::parse(&["09:00-12:00".into(), "11:00-17:00".into()])
                .unwrap_err()
                .contains("overlap")
        );
        assert!(WorkingHours::parse(&[]).is_err());
        assert_eq!(
            WorkingHours::default().per_day(),
            SignedDuration::from_mins(7 * 60)
        );
    }

    #[test]
    fn national_day_week_is_skipped() {
        // Tue 30 Sep 2025 + 1: 1–8 Oct are holidays, Thu 9 Oct is the first working day.
        assert_eq!(due("2025-09-30T02:00:00Z", 1), ("2025-10-09".into(), true));
    }

    #[test]
    fn make_up_sunday_counts() {
        // Fri 26 Sep 2025 + 1: Sat 27 is off, Sun 28 Sep is worked (调休上班).
        assert_eq!(due("2025-09-26T02:00:00Z", 1), ("2025-09-28".into(), true));
    }

    #[test]
    fn spring_festival_2026() {
        // Fri 13 Feb + 1 = Sat 14 Feb (worked); + 2 jumps the 15–23 Feb holiday to Tue 24 Feb.
        assert_eq!(due("2026-02-13T02:00:00Z", 1), ("2026-02-14".into(), true));
        assert_eq!(due("2026-02-13T02:00:00Z", 2), ("2026-02-24".into(), true));
    }

    #[test]
    fn days_are_counted_in_beijing_time() {
        // 17:00 UTC on Fri 13 Feb is 01:00 on Sat 14 Feb in Beijing: the receipt day is the
        // 14th, so one working day later is Tue 24 Feb.
        let d = cal().deadline(at("2026-02-13T17:00:00Z"), 1).unwrap();
        assert_eq!(d.due_date.to_string(), "2026-02-24");
        assert_eq!(d.due, at("2026-02-24T15:59:59Z"), "23:59:59 +08:00");
    }

    #[test]
    fn zero_days_is_the_end_of_the_receipt_day() {
        assert_eq!(due("2026-03-02T01:00:00Z", 0), ("2026-03-02".into(), true));
    }

    #[test]
    fn a_year_without_a_notice_is_flagged() {
        // 30 Dec 2026 (Wed) + 5 reaches into 2027, whose notice is not in the file: 1 Jan is
        // still known to be off (fixed by law), the rest is weekends only.
        assert_eq!(due("2026-12-30T02:00:00Z", 5), ("2027-01-07".into(), false));
        assert_eq!(due("2026-12-01T02:00:00Z", 5), ("2026-12-08".into(), true));
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        let p = Path::new("cal.toml");
        let weekday_workday =
            "[[year]]\nyear = 2026\nsource = \"x\"\nholidays = []\nworkdays = [\"2026-03-04\"]\n";
        let e = WorkCalendar::parse(weekday_workday, p)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("2026-03-04") && e.contains("not a weekend"),
            "{e}"
        );
        let wrong_year =
            "[[year]]\nyear = 2026\nsource = \"x\"\nholidays = [\"2025-10-01\"]\nworkdays = []\n";
        let e = WorkCalendar::parse(wrong_year, p).unwrap_err().to_string();
        assert!(e.contains("listed under year 2026"), "{e}");
        let not_a_date =
            "[[year]]\nyear = 2026\nsource = \"x\"\nholidays = [\"2026-13-01\"]\nworkdays = []\n";
        let e = WorkCalendar::parse(not_a_date, p).unwrap_err().to_string();
        assert!(e.contains("2026-13-01") && e.contains("cal.toml"), "{e}");
    }

    proptest::proptest! {
        #[test]
        fn deadline_is_the_nth_working_day(secs in 1_735_660_800i64..1_798_000_000, n in 1u32..40) {
            // Receipts from 2025-01-01 to late December 2026; a count may run into 2027. Checks
            // the counting (the due date is the nth working day), not the dates in the file.
            let c = cal();
            let received = Timestamp::from_second(secs).unwrap();
            let d = c.deadline(received, n).unwrap();
            proptest::prop_assert!(c.is_working_day(d.due_date).0);
            let mut day = received.to_zoned(beijing()).date();
            let mut seen = 0;
            while day < d.due_date {
                day = day.tomorrow().unwrap();
                seen += u32::from(c.is_working_day(day).0);
            }
            proptest::prop_assert_eq!(seen, n);
        }
    }
}
