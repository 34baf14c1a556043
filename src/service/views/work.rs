//! The work view: every case's handling facts in memory, for work queues, the deadline sweep
//! and KPIs. Like the near-duplicate view it is derived: loaded from the store's facts at
//! start, fed by the follower with every changed case, and told at once of the changes this
//! process makes itself (so a queue read right after a step shows it).
//!
//! Memory: measured by `tousu memory` (docs/operations.md#memory); the names in the facts are
//! shared, their lines (summaries) are not kept. The open cases are also listed apart, so a
//! queue reads only them: all of them in creation order, the order their facts lie in memory
//! (`cargo bench --bench handling` with every case open: the overdue queue of all departments
//! 253 → 41–59 ms, two runs), and each department's as dense queue lines
//! ([`QueueLine`]: a handler's page over 50,000 open cases 11.2–14.5 ms → 0.6 ms, for about 66
//! bytes more an open case).

use std::collections::BTreeSet;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use rustc_hash::{FxHashMap, FxHashSet};

use super::progress::Progress;
use crate::domain::{Case, CaseFacts};
use crate::error::Result;
use crate::handling::{QueueLine, QueuePage, QueueQuery, Viewer, page, page_of_lines};
use crate::store::CaseStore;

/// Facts read from the store per step when rebuilding.
const REBUILD_STEP: usize = 10_000;

/// The work view.
#[derive(Debug, Default)]
pub struct WorkView {
    inner: RwLock<Work>,
    /// Keeps nothing: see [`WorkView::idle`].
    idle: bool,
}

/// The due-soon share of a view told none (a profile without a handling policy).
pub(crate) const DEFAULT_SHARE: f64 = 0.8;

/// The facts, by seq.
#[derive(Debug)]
pub struct Work {
    /// Slot `seq - 1` holds the case with that seq.
    rows: Vec<Option<CaseFacts>>,
    /// The same slots' receipt times (Unix ms; `i64::MIN` for an empty slot): a period's
    /// cases are found without reading every case's facts.
    received: Vec<i64>,
    /// Seqs of the open cases.
    open: BTreeSet<u64>,
    /// The same by department, as dense queue lines: a desk's queue reads its own cases, not
    /// every open one, and not their facts.
    open_by_department: FxHashMap<Arc<str>, Lines>,
    /// The share of a deadline's time after which it is due soon (the lines are made with it).
    share: f64,
    /// Every department, category and handler named, once: a million cases share a few
    /// hundred names.
    names: FxHashSet<Arc<str>>,
}

impl Default for Work {
    fn default() -> Self {
        Work {
            rows: Vec::new(),
            received: Vec::new(),
            open: BTreeSet::new(),
            open_by_department: FxHashMap::default(),
            share: DEFAULT_SHARE,
            names: FxHashSet::default(),
        }
    }
}

/// A department's open cases: their queue lines side by side, and where each seq's is.
#[derive(Debug, Default)]
struct Lines {
    lines: Vec<QueueLine>,
    at: FxHashMap<u64, usize>,
}

impl Lines {
    fn put(&mut self, line: QueueLine) {
        match self.at.get(&line.seq) {
            Some(&i) => self.lines[i] = line,
            None => {
                self.at.insert(line.seq, self.lines.len());
                self.lines.push(line);
            }
        }
    }

    fn remove(&mut self, seq: u64) {
        let Some(i) = self.at.remove(&seq) else {
            return;
        };
        self.lines.swap_remove(i);
        if let Some(moved) = self.lines.get(i) {
            self.at.insert(moved.seq, i);
        }
    }
}

impl Work {
    /// Every case's facts, in creation order.
    pub fn all(&self) -> impl Iterator<Item = &CaseFacts> + Clone {
        self.rows.iter().flatten()
    }

    /// The facts of the cases received in `[from, to)`, in creation order.
    pub fn received_between(
        &self,
        from: jiff::Timestamp,
        to: jiff::Timestamp,
    ) -> impl Iterator<Item = &CaseFacts> {
        let (from, to) = (from.as_millisecond(), to.as_millisecond());
        self.received
            .iter()
            .zip(&self.rows)
            .filter(move |(r, _)| (from..to).contains(*r))
            .filter_map(|(_, f)| f.as_ref())
    }

    /// The open cases' facts, in creation order.
    pub fn open(&self) -> impl Iterator<Item = &CaseFacts> {
        self.open
            .iter()
            .filter_map(|seq| self.rows.get(slot(*seq)).and_then(Option::as_ref))
    }

    /// The open cases of `departments` (`None`: every open case, in creation order), a
    /// department's in no particular order.
    pub fn open_in<'a>(
        &'a self,
        departments: Option<&'a [String]>,
    ) -> Box<dyn Iterator<Item = &'a CaseFacts> + 'a> {
        let Some(departments) = departments else {
            return Box::new(self.open());
        };
        Box::new(
            once_each(departments)
                .filter_map(|d| self.open_by_department.get(d))
                .flat_map(|l| &l.lines)
                .filter_map(|l| self.facts(l.seq)),
        )
    }

    /// The facts of the case with `seq`.
    fn facts(&self, seq: u64) -> Option<&CaseFacts> {
        self.rows.get(slot(seq)).and_then(Option::as_ref)
    }

    /// A page of `q.queue` for `viewer`, with every queue's count: a viewer held to
    /// departments (or a query for one) reads those departments' queue lines, one of every
    /// department reads every open case's facts, in creation order.
    pub fn queue_page(&self, viewer: &Viewer<'_>, q: &QueueQuery<'_>) -> QueuePage {
        let departments: Vec<&str> = match (q.department, viewer.departments) {
            (None, None) => return page(self.open(), viewer, q),
            _ if q.due_soon_share != self.share => {
                return page(self.open_in(viewer.departments), viewer, q);
            }
            (Some(d), None) => vec![d],
            (Some(d), Some(ds)) if ds.iter().any(|x| x == d) => vec![d],
            (Some(_), Some(_)) => Vec::new(),
            (None, Some(ds)) => once_each(ds).collect(),
        };
        let lines = departments
            .into_iter()
            .filter_map(|d| self.open_by_department.get(d))
            .flat_map(|l| &l.lines);
        page_of_lines(lines, |seq| self.facts(seq), viewer, q)
    }

    /// Open cases known.
    pub fn open_len(&self) -> usize {
        self.open.len()
    }

    /// Cases known.
    pub fn len(&self) -> usize {
        self.rows.iter().filter(|r| r.is_some()).count()
    }

    /// Whether no case is known.
    pub fn is_empty(&self) -> bool {
        self.rows.iter().all(Option::is_none)
    }

    /// Takes `facts` unless what is kept is as new or newer.
    fn put(&mut self, mut facts: CaseFacts) {
        if facts.seq == 0 {
            return;
        }
        for name in [
            &mut facts.department,
            &mut facts.category,
            &mut facts.assignee,
        ]
        .into_iter()
        .flatten()
        {
            *name = self.intern(name);
        }
        let i = slot(facts.seq);
        if self.rows.len() <= i {
            self.rows.resize_with(i + 1, || None);
            self.received.resize(i + 1, i64::MIN);
        }
        if self.rows[i]
            .as_ref()
            .is_some_and(|kept| kept.version >= facts.version)
        {
            return;
        }
        if let Some(d) = self.rows[i].as_ref().and_then(|k| k.department.as_deref())
            && let Some(lines) = self.open_by_department.get_mut(d)
        {
            lines.remove(facts.seq);
        }
        if facts.status.is_open() {
            self.open.insert(facts.seq);
            if let Some(d) = &facts.department {
                self.open_by_department
                    .entry(Arc::clone(d))
                    .or_default()
                    .put(QueueLine::of(&facts, self.share));
            }
        } else {
            self.open.remove(&facts.seq);
        }
        self.received[i] = facts.received_at.as_millisecond();
        self.rows[i] = Some(facts);
    }
}

impl Work {
    /// The one copy of `name`.
    fn intern(&mut self, name: &Arc<str>) -> Arc<str> {
        if let Some(kept) = self.names.get(name) {
            return Arc::clone(kept);
        }
        self.names.insert(Arc::clone(name));
        Arc::clone(name)
    }
}

/// `departments` with a department named twice read once.
fn once_each(departments: &[String]) -> impl Iterator<Item = &str> {
    departments
        .iter()
        .enumerate()
        .filter(|(i, d)| !departments[..*i].contains(d))
        .map(|(_, d)| d.as_str())
}

fn slot(seq: u64) -> usize {
    usize::try_from(seq.saturating_sub(1)).unwrap_or(usize::MAX)
}

impl WorkView {
    /// The view of every case in `store` (blocking: reads every case's facts).
    pub fn rebuild(store: &dyn CaseStore, share: f64, progress: &Progress) -> Result<Self> {
        let mut work = Work {
            share,
            ..Work::default()
        };
        let mut after = 0;
        loop {
            let rows = store.facts(after, REBUILD_STEP)?;
            let Some(last) = rows.last() else { break };
            after = last.seq;
            progress.advance(rows.len() as u64);
            for f in rows {
                work.put(f);
            }
        }
        progress.finish();
        Ok(WorkView {
            inner: RwLock::new(work),
            idle: false,
        })
    }

    /// A view that keeps nothing and stays empty, for commands that list no queue (import,
    /// export, reindex, audit): at a million cases building the view reads every case's facts
    /// (about 6 s here) and holds ~600 MB, which such a command would throw away.
    pub fn idle() -> Self {
        WorkView {
            idle: true,
            ..WorkView::default()
        }
    }

    /// The view of these facts (benchmarks, tests).
    pub fn from_facts(facts: impl IntoIterator<Item = CaseFacts>, share: f64) -> Self {
        let mut work = Work {
            share,
            ..Work::default()
        };
        for f in facts {
            work.put(f);
        }
        WorkView {
            inner: RwLock::new(work),
            idle: false,
        }
    }

    /// Takes cases as they now are (older versions than those kept are ignored).
    pub fn follow<'a>(&self, cases: impl IntoIterator<Item = &'a Case>) {
        if self.idle {
            return;
        }
        let facts: Vec<CaseFacts> = cases.into_iter().map(CaseFacts::of).collect();
        if facts.is_empty() {
            return;
        }
        let mut w = self.write();
        for f in facts {
            w.put(f);
        }
    }

    /// Reads the view.
    pub fn read(&self) -> RwLockReadGuard<'_, Work> {
        self.inner.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Work> {
        self.inner.write().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Status;
    use crate::store::conformance::sample_case;

    #[test]
    fn an_idle_view_keeps_nothing_it_is_shown() {
        let mut c = sample_case("路灯坏了", "2026-03-02T01:00:00Z");
        c.seq = 1;
        c.department = Some("网络运维中心".into());
        let (kept, idle) = (WorkView::default(), WorkView::idle());
        kept.follow([&c]);
        idle.follow([&c]);
        assert_eq!(kept.read().open().count(), 1);
        assert_eq!(idle.read().open().count(), 0);
        assert_eq!(idle.read().open_len(), 0);
    }

    #[test]
    fn newer_versions_replace_older_and_the_open_list_follows() {
        let view = WorkView::default();
        let mut c = sample_case("路灯坏了", "2026-03-02T01:00:00Z");
        c.seq = 3;
        c.version = 5;
        c.department = Some("网络运维中心".into());
        view.follow([&c]);
        let dept = ["网络运维中心".to_string()];
        assert_eq!(view.read().open().count(), 1);
        assert_eq!(view.read().open_in(Some(&dept)).count(), 1);
        assert_eq!(view.read().open_in(Some(&["别的部门".into()])).count(), 0);
        // Re-routed: it leaves its old department's list.
        let mut moved = c.clone();
        moved.version = 6;
        moved.department = Some("别的部门".into());
        view.follow([&moved]);
        assert_eq!(view.read().open_in(Some(&dept)).count(), 0);
        assert_eq!(view.read().open_in(Some(&["别的部门".into()])).count(), 1);
        let mut closed = moved.clone();
        closed.version = 7;
        closed.status = Status::Closed;
        view.follow([&closed]);
        // An older version arriving late changes nothing.
        view.follow([&c]);
        let w = view.read();
        assert_eq!(w.open().count(), 0);
        assert_eq!(w.open_in(Some(&["别的部门".into()])).count(), 0);
        assert_eq!(w.all().next().unwrap().status, Status::Closed);
        let received = c.received_at;
        let minute = jiff::SignedDuration::from_mins(1);
        assert_eq!(w.received_between(received, received + minute).count(), 1);
        assert_eq!(w.received_between(received - minute, received).count(), 0);
        assert_eq!(w.len(), 1);
    }

    #[test]
    fn a_departments_lines_follow_closes_and_moves_in_any_order() {
        let view = WorkView::default();
        let case = |seq: u64, version: u64, dept: &str, status: Status| {
            let mut c = sample_case("路灯坏了", "2026-03-02T01:00:00Z");
            c.id = crate::domain::CaseId(format!("TS20260302-{seq:06}"));
            c.seq = seq;
            c.version = version;
            c.department = Some(dept.into());
            c.status = status;
            c
        };
        for seq in 1..=4 {
            view.follow([&case(seq, seq, "城管", Status::Assigned)]);
        }
        // The first closes (the last line takes its place), then that one moves away.
        view.follow([&case(1, 10, "城管", Status::Closed)]);
        view.follow([&case(4, 11, "环保", Status::Assigned)]);
        let w = view.read();
        let q = crate::handling::QueueQuery {
            queue: crate::handling::Queue::Department,
            department: None,
            offset: 0,
            limit: 50,
            now: jiff::Timestamp::now(),
            due_soon_share: DEFAULT_SHARE,
        };
        let desk = |d: &str| {
            let ds = [d.to_string()];
            let viewer = crate::handling::Viewer {
                name: "wang",
                departments: Some(&ds),
            };
            let seqs: Vec<String> = w
                .queue_page(&viewer, &q)
                .cases
                .iter()
                .map(|c| c.id.0[11..].to_string())
                .collect();
            seqs
        };
        assert_eq!(desk("城管"), ["000002", "000003"]);
        assert_eq!(desk("环保"), ["000004"]);
        assert_eq!(w.open_in(Some(&["城管".into()])).count(), 2);
    }
}
