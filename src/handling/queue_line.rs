//! A department's open cases as dense lines: what a work-queue page reads of each case, side
//! by side in memory. A desk's page counts every queue over all its department's open cases;
//! at a million cases a department with a backlog holds 14,000 of them, and reading each
//! case's facts (and, a pointer further, its deadlines) from wherever they were allocated made
//! the page wait on memory for each (`perf`: half its time in `next_deadline`).

use std::sync::Arc;

use jiff::Timestamp;

use super::queue::{QueuePage, QueueQuery, Standing, Viewer, assemble, item, select};
use crate::domain::{CaseFacts, DeadlineState, Status};

/// What a page reads of one open case, its deadlines reduced to the instants that decide
/// where they stand (to the nanosecond, for the due-soon share the line was made with).
#[derive(Debug, Clone, PartialEq)]
pub struct QueueLine {
    /// The case's seq.
    pub seq: u64,
    status: Status,
    assignee: Option<Arc<str>>,
    /// When the first running deadline is due (ns; `i64::MAX`: none runs).
    first_due_ns: i64,
    /// When the first running deadline becomes due soon (ns; `i64::MAX`: never).
    soon_ns: i64,
}

impl QueueLine {
    /// The line of `f`, a deadline due soon once `share` of its time is used.
    pub fn of(f: &CaseFacts, share: f64) -> Self {
        let ns = |t: Timestamp| i64::try_from(t.as_nanosecond()).unwrap_or(i64::MAX);
        let mut line = QueueLine {
            seq: f.seq,
            status: f.status,
            assignee: f.assignee.clone(),
            first_due_ns: i64::MAX,
            soon_ns: i64::MAX,
        };
        for d in f.deadlines.iter().filter(|d| d.met.is_none()) {
            let (start, due) = (ns(d.start), ns(d.due));
            line.first_due_ns = line.first_due_ns.min(due);
            let total = due.saturating_sub(start);
            if total > 0 {
                let soon = start.saturating_add((total as f64 * share).ceil() as i64);
                line.soon_ns = line.soon_ns.min(soon);
            }
        }
        line
    }

    /// Where the line stands at `now_ns` for the viewer called `viewer`, as
    /// [`super::next_deadline`] says of its facts.
    fn standing(&self, viewer: &str, now_ns: i64) -> Standing {
        let running = self.status != Status::Suspended && self.first_due_ns != i64::MAX;
        let state = if now_ns > self.first_due_ns {
            DeadlineState::Breached
        } else if now_ns >= self.soon_ns {
            DeadlineState::DueSoon
        } else {
            DeadlineState::Open
        };
        let state = running.then_some(state);
        Standing {
            seq: self.seq,
            status: self.status,
            mine: self.assignee.as_deref() == Some(viewer),
            state,
            // In ms, truncated as `Timestamp::as_millisecond` does: a page's order, as
            // [`super::page`] orders.
            first_due_ms: running.then_some(self.first_due_ns / 1_000_000),
        }
    }
}

/// A page of `q.queue` over `lines` (the open cases of the departments asked for, which the
/// viewer may see; lines made with `q.due_soon_share`), each case's line on the page filled
/// from `facts`.
pub fn page_of_lines<'a>(
    lines: impl Iterator<Item = &'a QueueLine>,
    facts: impl Fn(u64) -> Option<&'a CaseFacts>,
    viewer: &Viewer<'_>,
    q: &QueueQuery<'_>,
) -> QueuePage {
    let now_ns = i64::try_from(q.now.as_nanosecond()).unwrap_or(i64::MAX);
    let standing = lines
        .filter(|l| l.status.is_open())
        .map(|l| (l.seq, l.standing(viewer.name, now_ns)));
    let (seqs, counts) = select(standing, q);
    let cases = seqs
        .into_iter()
        .filter_map(&facts)
        .map(|f| item(f, q))
        .collect();
    assemble(q, cases, counts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{DeadlineFact, Step};
    use crate::handling::{Queue, page};

    /// A small deterministic generator, so that a failure repeats.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }
    }

    #[test]
    fn lines_give_the_page_the_facts_give() {
        let now: Timestamp = "2026-03-10T00:00:00Z".parse().unwrap();
        let statuses = [
            Status::Triaged,
            Status::Assigned,
            Status::Handling,
            Status::Returned,
            Status::Replied,
            Status::Suspended,
        ];
        let names: Vec<Arc<str>> = ["wang", "li", "zhao"].map(Arc::from).to_vec();
        let mut rng = Rng(0x2545_F491_4F6C_DD1D);
        let cases: Vec<CaseFacts> = (1..=600u64)
            .map(|seq| {
                // Starts and dues on whole minutes around `now`, so that some deadlines are due
                // soon exactly at it, and many cases share a due minute (the order's ties).
                let minute = |m: u64| now + jiff::SignedDuration::from_mins(m as i64 - 7_200);
                let deadlines = (0..rng.below(4))
                    .map(|i| {
                        let start = rng.below(9_000);
                        DeadlineFact {
                            step: Step::ALL[i as usize],
                            start: minute(start),
                            due: minute(start + rng.below(6_000)),
                            met: (rng.below(4) == 0).then(|| minute(start)),
                        }
                    })
                    .collect();
                CaseFacts {
                    status: statuses[rng.below(6) as usize],
                    department: Some("网络".into()),
                    assignee: (rng.below(4) > 0).then(|| names[rng.below(3) as usize].clone()),
                    deadlines,
                    ..CaseFacts::blank(seq, minute(0))
                }
            })
            .collect();
        let share = 0.8;
        let lines: Vec<QueueLine> = cases.iter().map(|f| QueueLine::of(f, share)).collect();
        let departments = ["网络".to_string()];
        let viewer = Viewer {
            name: "wang",
            departments: Some(&departments),
        };
        for queue in Queue::ALL {
            for (offset, limit) in [(0, 50), (30, 20), (0, 0), (590, 50)] {
                let q = QueueQuery {
                    queue,
                    department: None,
                    offset,
                    limit,
                    now,
                    due_soon_share: share,
                };
                let by_facts = page(cases.iter(), &viewer, &q);
                let by_lines =
                    page_of_lines(lines.iter(), |seq| cases.get(seq as usize - 1), &viewer, &q);
                assert_eq!(by_lines, by_facts, "{queue:?} {offset}+{limit}");
            }
        }
        // The generated cases reach every queue.
        let all = page(
            cases.iter(),
            &viewer,
            &QueueQuery {
                queue: Queue::Mine,
                department: None,
                offset: 0,
                limit: 0,
                now,
                due_soon_share: share,
            },
        );
        let c = all.counts;
        assert!(c.mine > 0 && c.dispatch > 0 && c.due_soon > 0 && c.overdue > 0 && c.follow_up > 0);
    }
}
