//! A case's deadlines over its life: computed at intake, moved by pauses and extensions,
//! computed again when the grade or category changes, met by the steps, and judged against the
//! clock (open, due soon, breached, met, met late).

use jiff::Timestamp;
use serde::Serialize;

use super::calendar::WorkCalendar;
use super::policy::Policy;
use crate::domain::{Case, Deadline, DeadlineState, Status, Step};
use crate::error::Result;

/// A deadline as it stands at a given time (what an answer shows).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeadlineStanding {
    /// The step.
    pub step: Step,
    /// When it is due.
    pub due: jiff::Timestamp,
    /// Seconds left (negative: overdue); absent once met.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remaining_secs: Option<i64>,
    /// Where it stands.
    pub state: DeadlineState,
    /// Whether the case is suspended, its clock stopped (the due time is as if it resumed now).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub paused: bool,
}

/// The case's pauses as intervals, an open one ending `now`.
fn pauses(case: &Case, now: Timestamp) -> Vec<(Timestamp, Timestamp)> {
    case.handling
        .pauses
        .iter()
        .map(|p| (p.from, p.to.unwrap_or(now).max(p.from)))
        .collect()
}

/// Computes again every deadline not yet met: its limit from the case's current grade and
/// category (a step the policy no longer times keeps its last limit), its due time with the
/// pauses so far (an open one counted to `now`) and the extensions granted.
pub fn refresh(
    case: &mut Case,
    policy: &Policy,
    calendar: &WorkCalendar,
    now: Timestamp,
) -> Result<()> {
    let paused = pauses(case, now);
    let (grade, category) = (case.grade, case.category.clone());
    for d in case.deadlines.iter_mut().filter(|d| d.met_at.is_none()) {
        if let Some(limit) = policy.limit(d.step, grade, category.as_deref()) {
            d.limit = limit;
        }
        let (due, complete) = policy.due(calendar, d.limit, d.start, d.extended_days, &paused)?;
        d.due = due;
        d.calendar_complete = complete;
    }
    Ok(())
}

/// Starts (or starts again) the deadline of `step` from `start`, if the policy times it.
pub fn start(
    case: &mut Case,
    step: Step,
    start: Timestamp,
    policy: &Policy,
    calendar: &WorkCalendar,
) -> Result<()> {
    let Some(limit) = policy.limit(step, case.grade, case.category.as_deref()) else {
        return Ok(());
    };
    let (due, calendar_complete) = policy.due(calendar, limit, start, 0, &[])?;
    let fresh = Deadline {
        step,
        limit,
        start,
        extended_days: 0,
        due,
        calendar_complete,
        met_at: None,
    };
    match case.deadlines.iter_mut().find(|d| d.step == step) {
        Some(d) => *d = fresh,
        None => case.deadlines.push(fresh),
    }
    Ok(())
}

/// Marks the deadline of `step` met at `at` (if it has one and it is not met yet).
pub fn meet(case: &mut Case, step: Step, at: Timestamp) {
    if let Some(d) = case
        .deadlines
        .iter_mut()
        .find(|d| d.step == step && d.met_at.is_none())
    {
        d.met_at = Some(at);
    }
}

/// Where a deadline stands at `now`, "due soon" once `due_soon_share` of its time is used.
pub fn state(d: &Deadline, now: Timestamp, due_soon_share: f64) -> DeadlineState {
    match d.met_at {
        Some(at) if at <= d.due => DeadlineState::Met,
        Some(_) => DeadlineState::MetLate,
        None if now > d.due => DeadlineState::Breached,
        None => {
            let total = d.due.duration_since(d.start).as_secs_f64();
            let used = now.duration_since(d.start).as_secs_f64();
            if total > 0.0 && used / total >= due_soon_share {
                DeadlineState::DueSoon
            } else {
                DeadlineState::Open
            }
        }
    }
}

/// The case's deadlines as they stand at `now`.
pub fn standings(case: &Case, now: Timestamp, due_soon_share: f64) -> Vec<DeadlineStanding> {
    let paused = case.status == Status::Suspended;
    case.deadlines
        .iter()
        .map(|d| {
            let state = state(d, now, due_soon_share);
            DeadlineStanding {
                step: d.step,
                due: d.due,
                remaining_secs: d
                    .met_at
                    .is_none()
                    .then(|| d.due.as_second() - now.as_second()),
                state,
                paused: paused && d.met_at.is_none(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Grade, Limit, Pause};

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn policy() -> Policy {
        let spec = r#"
            default_department = "客服中心"
            tiers = { "一般" = "一线", "严重" = "二线", "重大" = "专班" }
            [sla]
            "一般" = { confirm = "8 working hours", reply = 5, close = 15 }
            "严重" = { confirm = "4 working hours", reply = 3, close = 10 }
            "重大" = { confirm = "1 hour", reply = "24 hours", close = 5 }
        "#;
        Policy::from_spec(toml::from_str(spec).unwrap()).unwrap()
    }

    fn case(grade: Grade, received: &str) -> (Case, Policy, WorkCalendar) {
        let mut c = crate::store::conformance::sample_case("路灯坏了", received);
        c.grade = grade;
        let p = policy();
        let cal = WorkCalendar::builtin().unwrap();
        c.deadlines = p.deadlines(&cal, grade, None, c.received_at).unwrap();
        (c, p, cal)
    }

    fn due(c: &Case, step: Step) -> Timestamp {
        c.deadlines.iter().find(|d| d.step == step).unwrap().due
    }

    /// Received Thu 30 Apr 2026 10:00 Beijing, the day before the 劳动节 holiday (1–5 May);
    /// Sat 9 May is a 调休 working day.
    #[test]
    fn across_a_holiday_and_a_make_up_saturday() {
        let (c, _, _) = case(Grade::General, "2026-04-30T02:00:00Z");
        // 8 working hours: Thu 10:00–12:00 (2), 13:30–17:30 (4), then Wed 6 May 09:00–11:00.
        assert_eq!(due(&c, Step::Confirm), at("2026-05-06T03:00:00Z"));
        // 5 working days after Thu 30 Apr: Wed 6, Thu 7, Fri 8, Sat 9 (调休), Mon 11 May.
        assert_eq!(due(&c, Step::Reply), at("2026-05-11T15:59:59Z"));
    }

    #[test]
    fn a_pause_moves_what_is_not_met_and_a_regrade_times_again() {
        let (mut c, p, cal) = case(Grade::General, "2026-03-02T02:00:00Z");
        meet(&mut c, Step::Confirm, at("2026-03-02T03:00:00Z"));
        let confirm = due(&c, Step::Confirm);
        // Suspended from Tue 3 Mar 09:00 to Thu 5 Mar 09:00: Tuesday and Wednesday.
        c.handling.pauses.push(Pause {
            from: at("2026-03-03T01:00:00Z"),
            to: Some(at("2026-03-05T01:00:00Z")),
            was: Status::Handling,
            reason: "等待用户补充材料".into(),
        });
        refresh(&mut c, &p, &cal, at("2026-03-05T01:00:00Z")).unwrap();
        assert_eq!(due(&c, Step::Confirm), confirm, "a met deadline stays");
        // 5 working days after Mon 2 Mar is Mon 9 Mar; two paused days: Wed 11 Mar.
        assert_eq!(due(&c, Step::Reply), at("2026-03-11T15:59:59Z"));
        // Re-graded 重大: close in 5 working days + the two paused: Wed 11 Mar; reply 24
        // clock hours + the 48 paused: Thu 5 Mar 10:00.
        c.grade = Grade::Major;
        refresh(&mut c, &p, &cal, at("2026-03-05T01:00:00Z")).unwrap();
        assert_eq!(due(&c, Step::Close), at("2026-03-11T15:59:59Z"));
        assert_eq!(due(&c, Step::Reply), at("2026-03-05T02:00:00Z"));
        assert_eq!(
            c.deadlines
                .iter()
                .find(|d| d.step == Step::Reply)
                .unwrap()
                .limit,
            Limit::Hours(24)
        );
    }

    #[test]
    fn states_follow_the_clock() {
        let (mut c, _, _) = case(Grade::Major, "2026-03-02T02:00:00Z");
        let reply = c.deadlines[1].clone();
        let share = 0.8;
        assert_eq!(
            state(&reply, at("2026-03-02T03:00:00Z"), share),
            DeadlineState::Open
        );
        assert_eq!(
            state(&reply, at("2026-03-02T22:00:00Z"), share),
            DeadlineState::DueSoon
        );
        assert_eq!(
            state(&reply, at("2026-03-03T02:00:01Z"), share),
            DeadlineState::Breached
        );
        meet(&mut c, Step::Reply, at("2026-03-03T03:00:00Z"));
        assert_eq!(
            state(&c.deadlines[1], at("2026-03-09T00:00:00Z"), share),
            DeadlineState::MetLate
        );
        let s = standings(&c, at("2026-03-02T03:00:00Z"), share);
        assert_eq!(
            s[0].remaining_secs,
            Some(0),
            "confirm due at 11:00, it is 11:00"
        );
        assert_eq!(s[1].remaining_secs, None);
    }
}
