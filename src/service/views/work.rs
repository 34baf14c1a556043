//! The work view: every case's handling facts in memory, for work queues, the deadline sweep
//! and KPIs. Like the near-duplicate view it is derived: loaded from the store's facts at
//! start, fed by the follower with every changed case, and told at once of the changes this
//! process makes itself (so a queue read right after a step shows it).
//!
//! Memory: about 400 bytes a case (400 MB for a million cases); the open ones are also listed
//! apart, so a queue reads only them.

use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use rustc_hash::FxHashSet;

use crate::domain::{Case, CaseFacts};
use crate::error::Result;
use crate::store::CaseStore;

/// Facts read from the store per step when rebuilding.
const REBUILD_STEP: usize = 10_000;

/// The work view.
#[derive(Debug, Default)]
pub struct WorkView {
    inner: RwLock<Work>,
}

/// The facts, by seq.
#[derive(Debug, Default)]
pub struct Work {
    /// Slot `seq - 1` holds the case with that seq.
    rows: Vec<Option<CaseFacts>>,
    /// Seqs of the open cases.
    open: FxHashSet<u64>,
}

impl Work {
    /// Every case's facts, in creation order.
    pub fn all(&self) -> impl Iterator<Item = &CaseFacts> + Clone {
        self.rows.iter().flatten()
    }

    /// The open cases' facts, in no particular order.
    pub fn open(&self) -> impl Iterator<Item = &CaseFacts> {
        self.open
            .iter()
            .filter_map(|seq| self.rows.get(slot(*seq)).and_then(Option::as_ref))
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
    fn put(&mut self, facts: CaseFacts) {
        if facts.seq == 0 {
            return;
        }
        let i = slot(facts.seq);
        if self.rows.len() <= i {
            self.rows.resize_with(i + 1, || None);
        }
        if self.rows[i]
            .as_ref()
            .is_some_and(|kept| kept.version >= facts.version)
        {
            return;
        }
        if facts.status.is_open() {
            self.open.insert(facts.seq);
        } else {
            self.open.remove(&facts.seq);
        }
        self.rows[i] = Some(facts);
    }
}

fn slot(seq: u64) -> usize {
    usize::try_from(seq.saturating_sub(1)).unwrap_or(usize::MAX)
}

impl WorkView {
    /// The view of every case in `store` (blocking: reads every case's facts).
    pub fn rebuild(store: &dyn CaseStore) -> Result<Self> {
        let mut work = Work::default();
        let mut after = 0;
        loop {
            let rows = store.facts(after, REBUILD_STEP)?;
            let Some(last) = rows.last() else { break };
            after = last.seq;
            for f in rows {
                work.put(f);
            }
        }
        Ok(WorkView {
            inner: RwLock::new(work),
        })
    }

    /// The view of these facts (benchmarks, tests).
    pub fn from_facts(facts: impl IntoIterator<Item = CaseFacts>) -> Self {
        let mut work = Work::default();
        for f in facts {
            work.put(f);
        }
        WorkView {
            inner: RwLock::new(work),
        }
    }

    /// Takes cases as they now are (older versions than those kept are ignored).
    pub fn follow<'a>(&self, cases: impl IntoIterator<Item = &'a Case>) {
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
    fn newer_versions_replace_older_and_the_open_list_follows() {
        let view = WorkView::default();
        let mut c = sample_case("路灯坏了", "2026-03-02T01:00:00Z");
        c.seq = 3;
        c.version = 5;
        view.follow([&c]);
        assert_eq!(view.read().open().count(), 1);
        let mut closed = c.clone();
        closed.version = 7;
        closed.status = Status::Closed;
        view.follow([&closed]);
        // An older version arriving late changes nothing.
        view.follow([&c]);
        let w = view.read();
        assert_eq!(w.open().count(), 0);
        assert_eq!(w.all().next().unwrap().status, Status::Closed);
        assert_eq!(w.len(), 1);
    }
}
