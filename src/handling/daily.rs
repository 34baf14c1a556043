//! The daily report (日报): what came in on a Beijing day, what each department did that day,
//! what was still open and overdue at its end, and the day's cases by name. Computed from the
//! cases' facts as they are now: a case closed since is counted open at the day's end by its
//! close time; a deadline moved since (an extension, a re-grade) is judged by its current due
//! time.

use jiff::Timestamp;
use serde::Serialize;

use super::kpi::{Kpis, report};
use super::queue::NextDeadline;
use crate::domain::{CaseFacts, CaseId, Channel, DeadlineState, Grade, Status};

/// Most cases listed by name in each list (the counts cover them all).
pub const MAX_LISTED: usize = 20_000;

/// One department's day.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DepartmentDay {
    /// The department (absent: not yet routed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// Cases received that day.
    pub received: u64,
    /// Cases signed for that day.
    pub accepted: u64,
    /// Cases answered that day.
    pub replied: u64,
    /// Cases ended that day (办结, 异常结案, 撤诉).
    pub closed: u64,
    /// Cases open at the day's end.
    pub open: u64,
    /// Of those, with a deadline past due at the day's end.
    pub overdue: u64,
}

/// A case named in the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportCase {
    /// Case number.
    pub id: CaseId,
    /// Title or the start of the (masked) text (read from the case: the facts keep none).
    pub summary: String,
    /// When it was received.
    pub received_at: Timestamp,
    /// Channel.
    pub channel: Channel,
    /// Category.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Grade.
    pub grade: Grade,
    /// Department.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// Handler.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    /// Status now.
    pub status: Status,
    /// For an overdue case: the deadline past due first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overdue: Option<NextDeadline>,
}

/// The daily report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DailyReport {
    /// The Beijing date.
    pub day: String,
    /// Its start…
    pub from: Timestamp,
    /// …and end.
    pub to: Timestamp,
    /// The KPIs of the cases received that day, judged at `as_of`.
    pub received: Kpis,
    /// When "open" and "overdue" are judged: the day's end, or now for today.
    pub as_of: Timestamp,
    /// Each department's day, most received first.
    pub departments: Vec<DepartmentDay>,
    /// The cases received that day, in order (at most [`MAX_LISTED`]; `received.volume`
    /// counts them all).
    pub received_cases: Vec<ReportCase>,
    /// Open cases overdue at `as_of`, the longest overdue first (at most [`MAX_LISTED`]).
    pub overdue_cases: Vec<ReportCase>,
    /// Overdue cases in all (the list may be cut).
    pub overdue_total: u64,
}

fn within(t: Option<Timestamp>, from: Timestamp, to: Timestamp) -> bool {
    t.is_some_and(|t| t >= from && t < to)
}

/// The deadline of `f` past due first at `at`, if one was running and past due then.
fn overdue_at(f: &CaseFacts, at: Timestamp) -> Option<NextDeadline> {
    if f.received_at >= at || f.closed_at.is_some_and(|c| c <= at) {
        return None;
    }
    f.deadlines
        .iter()
        .filter(|d| d.due < at && d.met.is_none_or(|m| m > at))
        .min_by_key(|d| d.due)
        .map(|d| NextDeadline {
            step: d.step,
            due: d.due,
            state: DeadlineState::Breached,
        })
}

fn named(f: &CaseFacts, overdue: Option<NextDeadline>) -> ReportCase {
    ReportCase {
        id: f.id.clone(),
        summary: String::new(),
        received_at: f.received_at,
        channel: f.channel,
        category: f.category.as_deref().map(String::from),
        grade: f.grade,
        department: f.department.as_deref().map(String::from),
        assignee: f.assignee.as_deref().map(String::from),
        status: f.status,
        overdue,
    }
}

/// The report of the Beijing day `[from, to)` named `day`, over `cases`, made at `now`.
pub fn daily<'a>(
    cases: impl Iterator<Item = &'a CaseFacts> + Clone,
    day: &str,
    from: Timestamp,
    to: Timestamp,
    now: Timestamp,
) -> DailyReport {
    let as_of = now.min(to);
    let received = report(cases.clone(), from, to, None, as_of).total;
    let mut departments: std::collections::BTreeMap<Option<String>, DepartmentDay> =
        Default::default();
    let mut received_cases = Vec::new();
    let mut overdue_cases = Vec::new();
    let mut overdue_total = 0;
    for f in cases {
        let open_at_end = f.received_at < as_of && f.closed_at.is_none_or(|c| c > as_of);
        let came = f.received_at >= from && f.received_at < to;
        let acted = [
            within(f.accepted_at, from, to),
            within(f.replied_at, from, to),
            within(f.closed_at, from, to),
        ];
        if !(came || open_at_end || acted.iter().any(|a| *a)) {
            continue;
        }
        let overdue = overdue_at(f, as_of);
        let d = departments
            .entry(f.department.as_deref().map(String::from))
            .or_default();
        d.received += u64::from(came);
        d.accepted += u64::from(acted[0]);
        d.replied += u64::from(acted[1]);
        d.closed += u64::from(acted[2]);
        d.open += u64::from(open_at_end);
        d.overdue += u64::from(overdue.is_some());
        if came {
            received_cases.push(named(f, overdue.clone()));
        }
        if let Some(o) = overdue {
            overdue_total += 1;
            overdue_cases.push(named(f, Some(o)));
        }
    }
    received_cases.sort_by(|a, b| (a.received_at, &a.id.0).cmp(&(b.received_at, &b.id.0)));
    overdue_cases.sort_by(|a, b| {
        let due = |c: &ReportCase| c.overdue.as_ref().map(|o| o.due);
        (due(a), &a.id.0).cmp(&(due(b), &b.id.0))
    });
    overdue_cases.truncate(MAX_LISTED);
    received_cases.truncate(MAX_LISTED);
    let mut departments: Vec<DepartmentDay> = departments
        .into_iter()
        .map(|(department, mut d)| {
            d.department = department;
            d
        })
        .collect();
    departments.sort_by(|a, b| {
        b.received
            .cmp(&a.received)
            .then_with(|| a.department.cmp(&b.department))
    });
    DailyReport {
        day: day.to_string(),
        from,
        to,
        received,
        as_of,
        departments,
        received_cases,
        overdue_cases,
        overdue_total,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{DeadlineFact, Step};

    fn at(s: &str) -> Timestamp {
        format!("2026-03-{s}:00Z").parse().unwrap()
    }

    fn case(seq: u64, received: &str, dept: &str, status: Status, due: &str) -> CaseFacts {
        CaseFacts {
            id: CaseId(format!("TS20260304-{seq:06}")),
            version: 1,
            status,
            department: Some(dept.into()),
            channel: Channel::Hotline12345,
            grade: Grade::General,
            deadlines: vec![DeadlineFact {
                step: Step::Reply,
                start: at(received),
                due: at(due),
                met: None,
            }],
            ..CaseFacts::blank(seq, at(received))
        }
    }

    /// The day is 4 Mar (UTC here for brevity): 00:00 to 24:00.
    #[test]
    fn a_day_counts_arrivals_steps_and_what_was_open_and_overdue_at_its_end() {
        // Received the day before, overdue at 12:00 on the 4th, answered and closed on the 5th:
        // open and overdue at the end of the 4th, though closed now.
        let mut old = case(1, "03T09:00", "水务", Status::Closed, "04T12:00");
        old.replied_at = Some(at("05T08:00"));
        old.closed_at = Some(at("05T09:00"));
        old.deadlines[0].met = Some(at("05T08:00"));
        // Received on the 4th and answered the same day.
        let mut quick = case(2, "04T08:00", "水务", Status::Replied, "09T00:00");
        quick.replied_at = Some(at("04T10:00"));
        quick.accepted_at = Some(at("04T09:00"));
        quick.deadlines[0].met = Some(at("04T10:00"));
        // Received on the 4th, still open, not yet due.
        let fresh = case(3, "04T20:00", "城管", Status::Triaged, "10T00:00");
        // Received on the 5th: not in the day.
        let later = case(4, "05T01:00", "城管", Status::Triaged, "10T00:00");
        let cases = [old, quick, fresh, later];
        let r = daily(
            cases.iter(),
            "2026-03-04",
            at("04T00:00"),
            at("05T00:00"),
            at("20T00:00"),
        );
        assert_eq!(r.as_of, at("05T00:00"), "a past day is judged at its end");
        assert_eq!(r.received.volume, 2);
        let ids = |list: &[ReportCase]| -> Vec<u64> {
            list.iter().map(|c| c.id.0[11..].parse().unwrap()).collect()
        };
        assert_eq!(ids(&r.received_cases), [2, 3]);
        assert_eq!(ids(&r.overdue_cases), [1]);
        assert_eq!(r.overdue_total, 1);
        let water = r
            .departments
            .iter()
            .find(|d| d.department.as_deref() == Some("水务"))
            .unwrap();
        assert_eq!(
            (
                water.received,
                water.accepted,
                water.replied,
                water.closed,
                water.open,
                water.overdue
            ),
            (1, 1, 1, 0, 2, 1)
        );
        let city = r
            .departments
            .iter()
            .find(|d| d.department.as_deref() == Some("城管"))
            .unwrap();
        assert_eq!((city.received, city.open, city.overdue), (1, 1, 0));
        assert_eq!(
            r.departments.len(),
            2,
            "the 5th's case is not in the 4th's report"
        );
    }
}
