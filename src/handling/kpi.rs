//! Handling KPIs over the cases received in a period, overall and by a dimension. Each rate
//! comes with its numerator and denominator: the sources agree on few definitions (see the
//! README's KPI table, which states each one), and a reader can recompute any of them.

use jiff::Timestamp;
use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::domain::{CaseFacts, Satisfaction, Status, Step};

/// What KPIs are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    /// The case's department.
    Department,
    /// Its handler.
    Handler,
    /// Its category.
    Category,
    /// Its intake channel.
    Channel,
    /// Its grade.
    Grade,
}

impl GroupBy {
    /// Every dimension.
    pub const ALL: [GroupBy; 5] = [
        GroupBy::Department,
        GroupBy::Handler,
        GroupBy::Category,
        GroupBy::Channel,
        GroupBy::Grade,
    ];

    /// The API's code.
    pub fn code(self) -> &'static str {
        match self {
            GroupBy::Department => "department",
            GroupBy::Handler => "handler",
            GroupBy::Category => "category",
            GroupBy::Channel => "channel",
            GroupBy::Grade => "grade",
        }
    }

    /// The dimension with API code `code`.
    pub fn from_code(code: &str) -> Option<GroupBy> {
        GroupBy::ALL.into_iter().find(|g| g.code() == code)
    }

    fn key(self, f: &CaseFacts) -> Option<&str> {
        match self {
            GroupBy::Department => f.department.as_deref(),
            GroupBy::Handler => f.assignee.as_deref(),
            GroupBy::Category => f.category.as_deref(),
            GroupBy::Channel => Some(f.channel.code()),
            GroupBy::Grade => Some(f.grade.label()),
        }
    }
}

/// A rate: `numerator / denominator`, absent when nothing counts towards it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Rate {
    /// Cases that meet the condition.
    pub numerator: u64,
    /// Cases the rate is over.
    pub denominator: u64,
    /// The share, 0 to 1 (rounded to 4 places).
    pub rate: Option<f64>,
}

impl Rate {
    fn count(&mut self, counts: bool, meets: bool) {
        if counts {
            self.denominator += 1;
            self.numerator += u64::from(meets);
        }
    }

    fn finish(&mut self) {
        self.rate = (self.denominator > 0).then(|| {
            (self.numerator as f64 / self.denominator as f64 * 10_000.0).round() / 10_000.0
        });
    }
}

/// Times from receipt to a step, in hours.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Durations {
    /// Cases that took the step.
    pub cases: u64,
    /// The median (nearest rank), in hours.
    pub median_hours: Option<f64>,
    /// The 90th percentile (nearest rank), in hours.
    pub p90_hours: Option<f64>,
    #[serde(skip)]
    hours: Vec<f64>,
}

impl Durations {
    fn add(&mut self, from: Timestamp, to: Option<Timestamp>) {
        if let Some(to) = to {
            self.hours
                .push(to.duration_since(from).as_secs_f64().max(0.0) / 3600.0);
        }
    }

    fn finish(&mut self) {
        let n = self.hours.len();
        self.cases = n as u64;
        let round = |h: f64| (h * 100.0).round() / 100.0;
        self.median_hours = nearest_rank(&mut self.hours, 0.5).map(round);
        self.p90_hours = nearest_rank(&mut self.hours, 0.9).map(round);
        self.hours = Vec::new();
    }
}

/// The nearest-rank percentile: the smallest value with at least `p` of the values at or below
/// it.
fn nearest_rank(values: &mut [f64], p: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let rank = ((p * values.len() as f64).ceil() as usize).clamp(1, values.len());
    let (_, v, _) = values.select_nth_unstable_by(rank - 1, f64::total_cmp);
    Some(*v)
}

/// The KPIs of one group (or of all cases).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Kpis {
    /// The group's value (absent for the whole, and for cases without one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Cases received in the period.
    pub volume: u64,
    /// Of these, still open.
    pub open: u64,
    /// 受理及时率: confirm deadlines met on time, of those due by now or met.
    pub confirmed_on_time: Rate,
    /// 按时答复率: reply deadlines met on time, of those due by now or met.
    pub replied_on_time: Rate,
    /// 按时办结率: close deadlines met on time, of those due by now or met.
    pub closed_on_time: Rate,
    /// Open cases with a running deadline past due now (suspended ones excepted).
    pub overdue: u64,
    /// Receipt to 签收.
    pub time_to_confirm: Durations,
    /// Receipt to the (last) reply.
    pub time_to_reply: Durations,
    /// Receipt to the end (办结, 异常结案 or 撤诉).
    pub time_to_close: Durations,
    /// 解决率: said solved at 回访, of the 回访 that asked.
    pub solved: Rate,
    /// 满意率: 满意 or 基本满意, of the 回访 with a result.
    pub satisfied: Rate,
    /// 一次办结率: closed (办结) without a 退单 or 重办, of those closed.
    pub closed_first_time: Rate,
    /// 重复投诉率: repeats of the same complainant's complaint within the repeat window, of
    /// the volume.
    pub repeat: Rate,
    /// 延期率: with an extension granted, of the volume.
    pub extended: Rate,
    /// 异常结案率: closed abnormally, of the cases ended (办结, 异常结案, 撤诉).
    pub closed_abnormally: Rate,
}

impl Kpis {
    fn add(&mut self, f: &CaseFacts, now: Timestamp) {
        self.volume += 1;
        self.open += u64::from(f.status.is_open());
        for (step, rate) in [
            (Step::Confirm, &mut self.confirmed_on_time),
            (Step::Reply, &mut self.replied_on_time),
            (Step::Close, &mut self.closed_on_time),
        ] {
            if let Some(d) = f.deadline(step) {
                let due = d.met.is_some() || d.due <= now;
                rate.count(due, d.met.is_some_and(|m| m <= d.due));
            }
        }
        let running_late = f.status.is_open()
            && f.status != Status::Suspended
            && f.deadlines.iter().any(|d| d.met.is_none() && d.due < now);
        self.overdue += u64::from(running_late);
        self.time_to_confirm.add(f.received_at, f.accepted_at);
        self.time_to_reply.add(f.received_at, f.replied_at);
        self.time_to_close.add(f.received_at, f.closed_at);
        self.solved
            .count(f.solved.is_some(), f.solved == Some(true));
        self.satisfied.count(
            f.satisfaction.is_some(),
            matches!(
                f.satisfaction,
                Some(Satisfaction::Satisfied | Satisfaction::FairlySatisfied)
            ),
        );
        self.closed_first_time.count(
            f.status == Status::Closed,
            f.returns == 0 && f.reopened == 0,
        );
        self.repeat.count(true, f.repeat);
        self.extended.count(true, f.extensions > 0);
        self.closed_abnormally
            .count(!f.status.is_open(), f.status == Status::ClosedAbnormally);
    }

    /// Adds `other`'s counts (before either is finished).
    fn merge(&mut self, other: &Kpis) {
        self.volume += other.volume;
        self.open += other.open;
        self.overdue += other.overdue;
        for (r, o) in [
            (&mut self.confirmed_on_time, &other.confirmed_on_time),
            (&mut self.replied_on_time, &other.replied_on_time),
            (&mut self.closed_on_time, &other.closed_on_time),
            (&mut self.solved, &other.solved),
            (&mut self.satisfied, &other.satisfied),
            (&mut self.closed_first_time, &other.closed_first_time),
            (&mut self.repeat, &other.repeat),
            (&mut self.extended, &other.extended),
            (&mut self.closed_abnormally, &other.closed_abnormally),
        ] {
            r.numerator += o.numerator;
            r.denominator += o.denominator;
        }
        for (d, o) in [
            (&mut self.time_to_confirm, &other.time_to_confirm),
            (&mut self.time_to_reply, &other.time_to_reply),
            (&mut self.time_to_close, &other.time_to_close),
        ] {
            d.hours.extend_from_slice(&o.hours);
        }
    }

    fn finish(&mut self) {
        for r in [
            &mut self.confirmed_on_time,
            &mut self.replied_on_time,
            &mut self.closed_on_time,
            &mut self.solved,
            &mut self.satisfied,
            &mut self.closed_first_time,
            &mut self.repeat,
            &mut self.extended,
            &mut self.closed_abnormally,
        ] {
            r.finish();
        }
        for d in [
            &mut self.time_to_confirm,
            &mut self.time_to_reply,
            &mut self.time_to_close,
        ] {
            d.finish();
        }
    }
}

/// The KPIs of a period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KpiReport {
    /// Cases received from…
    pub from: Timestamp,
    /// …until (exclusive).
    pub to: Timestamp,
    /// When the deadlines were judged.
    pub as_of: Timestamp,
    /// The dimension of `groups`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_by: Option<GroupBy>,
    /// Every case of the period.
    pub total: Kpis,
    /// By group, largest first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<Kpis>,
}

/// The KPIs of the cases in `cases` received in `[from, to)`, judged at `now`.
pub fn report<'a>(
    cases: impl Iterator<Item = &'a CaseFacts>,
    from: Timestamp,
    to: Timestamp,
    group_by: Option<GroupBy>,
    now: Timestamp,
) -> KpiReport {
    let mut total = Kpis::default();
    // Borrowed keys: a year of a million cases is half a million lookups.
    let mut groups: FxHashMap<Option<&str>, Kpis> = FxHashMap::default();
    for f in cases.filter(|f| f.received_at >= from && f.received_at < to) {
        match group_by {
            Some(g) => groups.entry(g.key(f)).or_default().add(f, now),
            None => total.add(f, now),
        }
    }
    // Each case is counted once, in its group; the whole is the sum of the groups.
    for k in groups.values() {
        total.merge(k);
    }
    total.finish();
    let mut groups: Vec<Kpis> = groups
        .into_iter()
        .map(|(group, mut k)| {
            k.group = group.map(str::to_string);
            k.finish();
            k
        })
        .collect();
    groups.sort_by(|a, b| b.volume.cmp(&a.volume).then_with(|| a.group.cmp(&b.group)));
    KpiReport {
        from,
        to,
        as_of: now,
        group_by,
        total,
        groups,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{CaseId, Channel, DeadlineFact, Grade};

    fn at(s: &str) -> Timestamp {
        format!("2026-{s}:00Z").parse().unwrap()
    }

    /// A case of department `dept` received at `received`, with (start = receipt, due, met)
    /// for confirm, reply and close.
    fn case(
        seq: u64,
        dept: &str,
        received: &str,
        status: Status,
        deadlines: [(&str, Option<&str>); 3],
    ) -> CaseFacts {
        let steps = [Step::Confirm, Step::Reply, Step::Close];
        CaseFacts {
            id: CaseId(format!("TS20260301-{seq:06}")),
            version: seq,
            status,
            department: Some(dept.into()),
            category: Some("费用问题".into()),
            channel: Channel::Phone,
            grade: Grade::General,
            deadlines: steps
                .iter()
                .zip(deadlines)
                .map(|(step, (due, met))| DeadlineFact {
                    step: *step,
                    start: at(received),
                    due: at(due),
                    met: met.map(at),
                })
                .collect(),
            ..CaseFacts::blank(seq, at(received))
        }
    }

    /// Seven cases, every KPI computed by hand (see the comments) at 20 Mar 00:00 UTC.
    fn fixture() -> Vec<CaseFacts> {
        use Status::*;
        let (a, b) = ("甲部门", "乙部门");
        let mut c1 = case(
            1,
            a,
            "03-02T00:00",
            Closed,
            [
                ("03-02T08:00", Some("03-02T02:00")),
                ("03-09T00:00", Some("03-05T00:00")),
                ("03-23T00:00", Some("03-06T00:00")),
            ],
        );
        c1.accepted_at = Some(at("03-02T02:00")); // 2 h
        c1.replied_at = Some(at("03-05T00:00")); // 72 h
        c1.closed_at = Some(at("03-06T00:00")); // 96 h
        c1.satisfaction = Some(Satisfaction::Satisfied);
        c1.solved = Some(true);
        let mut c2 = case(
            2,
            a,
            "03-03T00:00",
            Closed,
            [
                ("03-03T08:00", Some("03-03T04:00")),
                ("03-06T00:00", Some("03-07T00:00")), // late
                ("03-20T00:00", Some("03-08T00:00")),
            ],
        );
        c2.accepted_at = Some(at("03-03T04:00")); // 4 h
        c2.replied_at = Some(at("03-07T00:00")); // 96 h
        c2.closed_at = Some(at("03-08T00:00")); // 120 h
        c2.satisfaction = Some(Satisfaction::Unsatisfied);
        c2.solved = Some(false);
        c2.returns = 1;
        c2.extensions = 1;
        let mut c3 = case(
            3,
            b,
            "03-10T00:00",
            Handling,
            [
                ("03-10T08:00", Some("03-10T06:00")),
                ("03-15T00:00", None), // overdue
                ("03-31T00:00", None),
            ],
        );
        c3.accepted_at = Some(at("03-10T06:00")); // 6 h
        c3.repeat = true;
        let mut c4 = case(
            4,
            b,
            "03-11T00:00",
            ClosedAbnormally,
            [
                ("03-11T08:00", Some("03-11T01:00")),
                ("03-16T00:00", Some("03-12T00:00")),
                ("03-30T00:00", Some("03-19T00:00")),
            ],
        );
        c4.accepted_at = Some(at("03-11T01:00")); // 1 h
        c4.replied_at = Some(at("03-12T00:00")); // 24 h
        c4.closed_at = Some(at("03-19T00:00")); // 192 h
        let c5 = case(
            5,
            a,
            "03-19T23:00",
            Triaged,
            [
                ("03-20T08:00", None), // not yet due
                ("03-26T00:00", None),
                ("04-09T00:00", None),
            ],
        );
        let c6 = case(
            6,
            a,
            "04-02T00:00",
            Triaged,
            [
                ("04-02T08:00", None),
                ("04-08T00:00", None),
                ("04-20T00:00", None),
            ],
        );
        let mut c7 = case(
            7,
            b,
            "03-12T00:00",
            Withdrawn,
            [
                ("03-12T08:00", Some("03-13T00:00")), // late
                ("03-17T00:00", Some("03-13T00:00")),
                ("03-31T00:00", Some("03-13T00:00")),
            ],
        );
        c7.closed_at = Some(at("03-13T00:00")); // 24 h
        vec![c1, c2, c3, c4, c5, c6, c7]
    }

    fn rate(r: &Rate) -> (u64, u64) {
        (r.numerator, r.denominator)
    }

    #[test]
    fn every_kpi_of_a_small_fixture_as_computed_by_hand() {
        let cases = fixture();
        let r = report(
            cases.iter(),
            at("03-01T00:00"),
            at("04-01T00:00"),
            Some(GroupBy::Department),
            at("03-20T00:00"),
        );
        let t = &r.total;
        assert_eq!((t.volume, t.open), (6, 2), "case 6 is outside the period");
        // Confirm: due or met for 1, 2, 3, 4, 7 (5 not yet due); on time 1–4.
        assert_eq!(rate(&t.confirmed_on_time), (4, 5));
        assert_eq!(t.confirmed_on_time.rate, Some(0.8));
        // Reply: 1 ✓, 2 late, 3 overdue, 4 ✓, 7 ✓ (5 not due).
        assert_eq!(rate(&t.replied_on_time), (3, 5));
        // Close: 1, 2, 4, 7 met in time; 3 and 5 not due.
        assert_eq!(rate(&t.closed_on_time), (4, 4));
        assert_eq!(t.overdue, 1, "case 3's reply");
        // 1, 2, 4, 6 h → median 2, p90 6; 24, 72, 96 h → 72, 96; 24, 96, 120, 192 h → 96, 192.
        assert_eq!(t.time_to_confirm.cases, 4);
        assert_eq!(t.time_to_confirm.median_hours, Some(2.0));
        assert_eq!(t.time_to_confirm.p90_hours, Some(6.0));
        assert_eq!(
            (t.time_to_reply.median_hours, t.time_to_reply.p90_hours),
            (Some(72.0), Some(96.0))
        );
        assert_eq!(
            (t.time_to_close.median_hours, t.time_to_close.p90_hours),
            (Some(96.0), Some(192.0))
        );
        assert_eq!(rate(&t.solved), (1, 2));
        assert_eq!(rate(&t.satisfied), (1, 2));
        assert_eq!(
            rate(&t.closed_first_time),
            (1, 2),
            "case 2 was sent back once"
        );
        assert_eq!(rate(&t.repeat), (1, 6));
        assert_eq!(t.repeat.rate, Some(0.1667));
        assert_eq!(rate(&t.extended), (1, 6));
        assert_eq!(rate(&t.closed_abnormally), (1, 4), "ended: 1, 2, 4, 7");

        let group = |name: &str| {
            r.groups
                .iter()
                .find(|g| g.group.as_deref() == Some(name))
                .unwrap()
        };
        assert_eq!(r.groups.len(), 2);
        let a = group("甲部门");
        assert_eq!(a.volume, 3);
        assert_eq!(rate(&a.replied_on_time), (1, 2));
        let b = group("乙部门");
        assert_eq!(rate(&b.confirmed_on_time), (2, 3));
        assert_eq!(b.overdue, 1);
        assert_eq!(rate(&b.closed_abnormally), (1, 2));
    }

    #[test]
    fn the_whole_is_the_same_whatever_the_grouping() {
        let cases = fixture();
        let run = |g| {
            report(
                cases.iter(),
                at("03-01T00:00"),
                at("04-01T00:00"),
                g,
                at("03-20T00:00"),
            )
        };
        let whole = run(None);
        for g in GroupBy::ALL {
            let r = run(Some(g));
            assert_eq!(r.total, whole.total, "grouped by {g:?}");
            let volume: u64 = r.groups.iter().map(|k| k.volume).sum();
            assert_eq!(volume, whole.total.volume, "grouped by {g:?}");
        }
    }

    #[test]
    fn nothing_to_count_is_no_rate_not_zero() {
        let r = report(
            std::iter::empty(),
            at("03-01T00:00"),
            at("04-01T00:00"),
            None,
            at("03-20T00:00"),
        );
        assert_eq!(r.total.volume, 0);
        assert_eq!(r.total.satisfied.rate, None);
        assert_eq!(r.total.time_to_close.median_hours, None);
    }
}
