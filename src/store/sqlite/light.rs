//! Light cases (without their intake triage) recently read, in memory.
//!
//! Every intake reads 30–60 earlier cases (its index neighbours) to compare with, and the same
//! ones come up again and again. From SQLite each costs B-tree walks and, under steady intake,
//! page faults: each read transaction that finds a newer commit drops the connection's page
//! cache and memory map. The writer forgets every case it rewrites (updates, group links) once
//! that has committed, before anyone is answered. A reader caches what it read only if no case
//! was forgotten since it started reading: what it read may predate that rewrite.

use std::sync::{Arc, Mutex, MutexGuard};

use lru::LruCache;

use crate::domain::{Case, CaseId};
use crate::error::Result;

/// Light cases kept unless configured (`memory.recent_cases`). Measured by hand on the load
/// test's cases: about 1.9 KB each (the server's anonymous memory after the same run grew by
/// 91 MB from 16,384 to 65,536 entries), so ~120 MB when full; at 16,384, three reads in five
/// missed and went to SQLite.
pub(super) const CAPACITY: usize = 65_536;

/// The cache.
pub(super) struct LightCache {
    cases: LruCache<CaseId, Arc<Case>>,
    /// Rewrites forgotten so far.
    epoch: u64,
}

impl Default for LightCache {
    fn default() -> Self {
        LightCache::with_capacity(CAPACITY)
    }
}

impl LightCache {
    /// A cache of at most `capacity` cases (at least one).
    pub fn with_capacity(capacity: usize) -> Self {
        LightCache {
            cases: LruCache::new(capacity.max(1).try_into().expect("capacity is not zero")),
            epoch: 0,
        }
    }

    /// The case, if cached.
    pub fn get(&mut self, id: &CaseId) -> Option<Arc<Case>> {
        self.cases.get(id).cloned()
    }

    /// Where the writer's rewrites stand: pass it to [`LightCache::keep`] after reading.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Caches cases read from the store since `epoch`, unless a case was rewritten since.
    pub fn keep(&mut self, epoch: u64, cases: impl IntoIterator<Item = Arc<Case>>) {
        if epoch == self.epoch {
            self.add_new(cases);
        }
    }

    /// Caches cases just created (the writer, after their commit): no reader can hold an
    /// older copy of them.
    pub fn add_new(&mut self, cases: impl IntoIterator<Item = Arc<Case>>) {
        for case in cases {
            self.cases.put(case.id.clone(), case);
        }
    }

    /// Forgets rewritten cases (the writer, after their commit).
    pub fn forget(&mut self, ids: &[CaseId]) {
        self.epoch += 1;
        for id in ids {
            self.cases.pop(id);
        }
    }
}

/// The cases with `ids` (unknown ones left out), from `cache` where it has them; the others
/// by `read_missing` (given their positions in `ids`, it answers `(position, case)` for those
/// it found), which are then cached unless a case was rewritten while they were read.
pub(super) fn read_through(
    cache: &Mutex<LightCache>,
    ids: &[CaseId],
    read_missing: impl FnOnce(&[usize]) -> Result<Vec<(usize, Arc<Case>)>>,
) -> Result<Vec<Arc<Case>>> {
    let (mut found, epoch) = {
        let mut cache = lock(cache);
        let found: Vec<Option<Arc<Case>>> = ids.iter().map(|id| cache.get(id)).collect();
        (found, cache.epoch())
    };
    let missing: Vec<usize> = (0..ids.len()).filter(|&i| found[i].is_none()).collect();
    if !missing.is_empty() {
        let read = read_missing(&missing)?;
        lock(cache).keep(epoch, read.iter().map(|(_, c)| Arc::clone(c)));
        for (i, case) in read {
            found[i] = Some(case);
        }
    }
    Ok(found.into_iter().flatten().collect())
}

/// A lock of the store's memory (the cache, the last failure). Nothing panics while holding
/// one, but a poisoned lock is safe to take over anyway: each leaves its value consistent.
pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(id: &str, text: &str) -> Arc<Case> {
        let mut c = crate::store::conformance::sample_case(text, "2026-11-21T17:30:00Z");
        c.id = CaseId(id.into());
        Arc::new(c)
    }

    #[test]
    fn a_read_that_overlaps_a_rewrite_is_not_kept() {
        let mut cache = LightCache::default();
        let before = cache.epoch();
        cache.keep(before, [case("A", "旧")]);
        assert_eq!(cache.get(&CaseId("A".into())).unwrap().text, "旧");
        // A reader starts, the writer rewrites A, the reader's (older) copy must not stay.
        let reading = cache.epoch();
        cache.forget(&[CaseId("A".into())]);
        assert!(cache.get(&CaseId("A".into())).is_none());
        cache.keep(reading, [case("A", "旧")]);
        assert!(cache.get(&CaseId("A".into())).is_none());
        cache.keep(cache.epoch(), [case("A", "新")]);
        assert_eq!(cache.get(&CaseId("A".into())).unwrap().text, "新");
    }
}
