//! Work queues: what is waiting for whom. A queue is a filter over the open cases a caller may
//! see, ordered by the deadline that comes first; each page comes with every queue's count,
//! so a desk sees at a glance how much is due soon or overdue.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use jiff::Timestamp;
use serde::Serialize;

use crate::domain::{CaseFacts, CaseId, DeadlineState, Grade, Status, Step};

/// The queues.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Queue {
    /// Open cases assigned to the caller.
    Mine,
    /// Every open case of the caller's departments (all departments for roles not held to
    /// any).
    Department,
    /// 待派单: triaged or sent back, waiting to be dispatched.
    Dispatch,
    /// A running deadline has used its due-soon share of time (and none is past).
    DueSoon,
    /// A running deadline is past due.
    Overdue,
    /// 待回访: answered, waiting for the follow-up call.
    FollowUp,
}

impl Queue {
    /// Every queue.
    pub const ALL: [Queue; 6] = [
        Queue::Mine,
        Queue::Department,
        Queue::Dispatch,
        Queue::DueSoon,
        Queue::Overdue,
        Queue::FollowUp,
    ];

    /// The API's code.
    pub fn code(self) -> &'static str {
        match self {
            Queue::Mine => "mine",
            Queue::Department => "department",
            Queue::Dispatch => "dispatch",
            Queue::DueSoon => "due_soon",
            Queue::Overdue => "overdue",
            Queue::FollowUp => "follow_up",
        }
    }

    /// Its place in [`Queue::ALL`] (and in a page's counts).
    fn slot(self) -> usize {
        Queue::ALL.iter().position(|x| *x == self).unwrap_or(0)
    }

    /// The queue with API code `code`.
    pub fn from_code(code: &str) -> Option<Queue> {
        Queue::ALL.into_iter().find(|q| q.code() == code)
    }
}

/// How many open cases each queue holds for the caller.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct QueueCounts {
    /// [`Queue::Mine`].
    pub mine: u64,
    /// [`Queue::Department`].
    pub department: u64,
    /// [`Queue::Dispatch`].
    pub dispatch: u64,
    /// [`Queue::DueSoon`].
    pub due_soon: u64,
    /// [`Queue::Overdue`].
    pub overdue: u64,
    /// [`Queue::FollowUp`].
    pub follow_up: u64,
}

/// The deadline that comes first among a case's running ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NextDeadline {
    /// The step.
    pub step: Step,
    /// When it is due.
    pub due: Timestamp,
    /// Where it stands.
    pub state: DeadlineState,
}

/// One line of a queue.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueueItem {
    /// Case number.
    pub id: CaseId,
    /// Title, or the start of the (masked) text (read from the case: the facts keep none).
    pub summary: String,
    /// Status.
    pub status: Status,
    /// Grade.
    pub grade: Grade,
    /// Category.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Department.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// Handler.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    /// When it was received.
    pub received_at: Timestamp,
    /// The running deadline due first (none while suspended: its clock is stopped).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_deadline: Option<NextDeadline>,
}

/// A page of a queue.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueuePage {
    /// Which queue.
    pub queue: Queue,
    /// Cases in this queue.
    pub total: u64,
    /// Every queue's count, for the same caller and department.
    pub counts: QueueCounts,
    /// The page, the deadline due first first.
    pub cases: Vec<QueueItem>,
}

/// Who asks, and what they may see.
#[derive(Debug, Clone, Copy)]
pub struct Viewer<'a> {
    /// Their name (the handler name cases are assigned to).
    pub name: &'a str,
    /// The departments they are held to (`None`: all).
    pub departments: Option<&'a [String]>,
}

/// What is asked for.
#[derive(Debug, Clone, Copy)]
pub struct QueueQuery<'a> {
    /// The queue.
    pub queue: Queue,
    /// Only this department (within the viewer's).
    pub department: Option<&'a str>,
    /// Cases skipped.
    pub offset: usize,
    /// Cases on the page.
    pub limit: usize,
    /// The time the deadlines are judged at.
    pub now: Timestamp,
    /// The share of a deadline's time after which it is due soon.
    pub due_soon_share: f64,
}

/// Where a case's running deadlines stand at `now`: the one due first, and whether any is
/// overdue or due soon. A suspended case's clock is stopped: nothing of it is due.
pub fn next_deadline(f: &CaseFacts, now: Timestamp, share: f64) -> Option<NextDeadline> {
    if f.status == Status::Suspended || !f.status.is_open() {
        return None;
    }
    let mut next: Option<NextDeadline> = None;
    let mut worst = DeadlineState::Open;
    for d in f.deadlines.iter().filter(|d| d.met.is_none()) {
        let state = if now > d.due {
            DeadlineState::Breached
        } else {
            let total = d.due.duration_since(d.start).as_secs_f64();
            let used = now.duration_since(d.start).as_secs_f64();
            if total > 0.0 && used / total >= share {
                DeadlineState::DueSoon
            } else {
                DeadlineState::Open
            }
        };
        worst = worse(worst, state);
        if next.as_ref().is_none_or(|n| d.due < n.due) {
            next = Some(NextDeadline {
                step: d.step,
                due: d.due,
                state,
            });
        }
    }
    // The line shows the first deadline, marked with the worst standing of any.
    next.map(|mut n| {
        n.state = worse(n.state, worst);
        n
    })
}

fn worse(a: DeadlineState, b: DeadlineState) -> DeadlineState {
    let rank = |s| match s {
        DeadlineState::Breached => 2,
        DeadlineState::DueSoon => 1,
        _ => 0,
    };
    if rank(b) > rank(a) { b } else { a }
}

/// Whether the viewer may see cases of `department`.
fn sees(viewer: &Viewer<'_>, department: Option<&str>) -> bool {
    viewer
        .departments
        .is_none_or(|ds| ds.iter().any(|d| Some(d.as_str()) == department))
}

/// A case in the running for a page, ordered by (due, seq).
struct Candidate<P> {
    key: (i64, u64),
    case: P,
}

impl<P> PartialEq for Candidate<P> {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

impl<P> Eq for Candidate<P> {}

impl<P> PartialOrd for Candidate<P> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<P> Ord for Candidate<P> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key.cmp(&other.key)
    }
}

/// What a page needs to know of an open case the viewer may see.
pub(super) struct Standing {
    pub seq: u64,
    pub status: Status,
    /// Assigned to the viewer.
    pub mine: bool,
    /// Where its running deadlines stand (`None`: none runs).
    pub state: Option<DeadlineState>,
    /// When its first running deadline is due (Unix ms).
    pub first_due_ms: Option<i64>,
}

/// The page's cases (after `q.offset`, due first) and every queue's count, of `cases`.
pub(super) fn select<P>(
    cases: impl Iterator<Item = (P, Standing)>,
    q: &QueueQuery<'_>,
) -> (Vec<P>, [u64; 6]) {
    let want = q.queue.slot();
    let keep = q.offset.saturating_add(q.limit);
    // The `keep` first by (due, seq): a max-heap of the best so far.
    let mut best: BinaryHeap<Candidate<P>> = BinaryHeap::new();
    let mut counts = [0u64; 6];
    for (case, s) in cases {
        let is_in = [
            s.mine,
            true,
            matches!(s.status, Status::Triaged | Status::Returned),
            s.state == Some(DeadlineState::DueSoon),
            s.state == Some(DeadlineState::Breached),
            s.status == Status::Replied,
        ];
        for (c, yes) in counts.iter_mut().zip(is_in) {
            *c += u64::from(yes);
        }
        if !is_in[want] || keep == 0 {
            continue;
        }
        let key = (s.first_due_ms.unwrap_or(i64::MAX), s.seq);
        if best.len() == keep {
            match best.peek() {
                Some(top) if top.key > key => {
                    best.pop();
                }
                _ => continue,
            }
        }
        best.push(Candidate { key, case });
    }
    let cases = best
        .into_sorted_vec()
        .into_iter()
        .skip(q.offset)
        .map(|c| c.case)
        .collect();
    (cases, counts)
}

/// The line of a page for `f`.
pub(super) fn item(f: &CaseFacts, q: &QueueQuery<'_>) -> QueueItem {
    QueueItem {
        id: f.id.clone(),
        summary: String::new(),
        status: f.status,
        grade: f.grade,
        category: f.category.as_deref().map(String::from),
        department: f.department.as_deref().map(String::from),
        assignee: f.assignee.as_deref().map(String::from),
        received_at: f.received_at,
        next_deadline: next_deadline(f, q.now, q.due_soon_share),
    }
}

/// The page of `q.queue` with `cases` on it and every queue's `counts`.
pub(super) fn assemble(q: &QueueQuery<'_>, cases: Vec<QueueItem>, counts: [u64; 6]) -> QueuePage {
    let want = q.queue.slot();
    QueuePage {
        queue: q.queue,
        total: counts[want],
        counts: QueueCounts {
            mine: counts[0],
            department: counts[1],
            dispatch: counts[2],
            due_soon: counts[3],
            overdue: counts[4],
            follow_up: counts[5],
        },
        cases,
    }
}

/// A page of `q.queue` over `open` (the open cases; closed ones are skipped anyway) for
/// `viewer`, with every queue's count.
pub fn page<'a>(
    open: impl Iterator<Item = &'a CaseFacts>,
    viewer: &Viewer<'_>,
    q: &QueueQuery<'_>,
) -> QueuePage {
    let standing = open
        .filter(|f| {
            f.status.is_open()
                && sees(viewer, f.department.as_deref())
                && q.department
                    .is_none_or(|d| f.department.as_deref() == Some(d))
        })
        .map(|f| {
            let next = next_deadline(f, q.now, q.due_soon_share);
            let s = Standing {
                seq: f.seq,
                status: f.status,
                mine: f.assignee.as_deref() == Some(viewer.name),
                state: next.as_ref().map(|n| n.state),
                first_due_ms: next.as_ref().map(|n| n.due.as_millisecond()),
            };
            (f, s)
        });
    let (cases, counts) = select(standing, q);
    let cases = cases.into_iter().map(|f| item(f, q)).collect();
    assemble(q, cases, counts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Channel, DeadlineFact};

    fn at(s: &str) -> Timestamp {
        format!("2026-03-{s}:00Z").parse().unwrap()
    }

    fn case(seq: u64, status: Status, dept: &str, assignee: Option<&str>, due: &str) -> CaseFacts {
        CaseFacts {
            id: CaseId(format!("TS20260302-{seq:06}")),
            version: seq,
            status,
            department: Some(dept.into()),
            assignee: assignee.map(Into::into),
            channel: Channel::Phone,
            grade: Grade::General,
            deadlines: vec![DeadlineFact {
                step: Step::Close,
                start: at("02T00:00"),
                due: at(due),
                met: None,
            }],
            ..CaseFacts::blank(seq, at("02T00:00"))
        }
    }

    #[test]
    fn queues_count_for_the_viewer_and_list_the_deadline_due_first_first() {
        use Status::*;
        let cases = [
            case(1, Handling, "网络", Some("wang"), "12T00:00"), // due soon at the 10th
            case(2, Assigned, "网络", Some("wang"), "05T00:00"), // overdue
            case(3, Triaged, "网络", None, "20T00:00"),
            case(4, Replied, "网络", Some("li"), "22T00:00"),
            case(5, Suspended, "网络", Some("wang"), "04T00:00"), // stopped: not overdue
            case(6, Handling, "计费", Some("wang"), "06T00:00"),  // another department
            case(7, Closed, "网络", Some("wang"), "01T00:00"),
        ];
        let departments = ["网络".to_string()];
        let viewer = Viewer {
            name: "wang",
            departments: Some(&departments),
        };
        let query = |queue, offset, limit| QueueQuery {
            queue,
            department: None,
            offset,
            limit,
            now: at("10T00:00"),
            due_soon_share: 0.8,
        };
        let p = page(cases.iter(), &viewer, &query(Queue::Mine, 0, 50));
        assert_eq!(
            p.counts,
            QueueCounts {
                mine: 3,
                department: 5,
                dispatch: 1,
                due_soon: 1,
                overdue: 1,
                follow_up: 1,
            }
        );
        assert_eq!(p.total, 3);
        let ids: Vec<u64> = p
            .cases
            .iter()
            .map(|c| c.id.0[11..].parse().unwrap())
            .collect();
        assert_eq!(
            ids,
            [2, 1, 5],
            "by due; the suspended case has none running"
        );
        assert_eq!(
            p.cases[0].next_deadline.as_ref().unwrap().state,
            DeadlineState::Breached
        );
        let p = page(cases.iter(), &viewer, &query(Queue::Department, 1, 2));
        let ids: Vec<&str> = p.cases.iter().map(|c| &c.id.0[11..]).collect();
        assert_eq!(ids, ["000001", "000003"], "the second page of two");
        assert_eq!(p.total, 5);
        // An unscoped viewer sees the other department's case too.
        let all = Viewer {
            name: "lead",
            departments: None,
        };
        let p = page(cases.iter(), &all, &query(Queue::Overdue, 0, 50));
        assert_eq!(p.total, 2);
        assert_eq!(p.counts.mine, 0);
    }
}
