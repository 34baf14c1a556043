//! Cases recently read, in memory, of two kinds: light cases (without their intake triage) for
//! lists and search hits, and neighbours (a dozen fields) for intake's comparisons.
//!
//! Every intake reads 30–40 earlier cases (its index neighbours) to compare with, and the same
//! ones come up again and again. From SQLite each costs B-tree walks and, under steady intake,
//! page faults: each read transaction that finds a newer commit drops the connection's page
//! cache and memory map. The writer forgets every case it rewrites (updates, group links) once
//! that has committed, before anyone is answered. A reader caches what it read only if no case
//! was forgotten since it started reading: what it read may predate that rewrite.

use std::sync::{Arc, Mutex, MutexGuard};

use lru::LruCache;

use crate::domain::{Case, CaseId, Neighbour};
use crate::error::Result;

/// Neighbours kept unless configured (`memory.recent_cases`). `tousu memory` on the load
/// test's million cases: 57 MiB for 65,536 neighbours (about 0.9 KB each), where as many whole
/// light cases had taken 158 MiB; so twice as many are kept in less memory than those were.
/// (At 16,384 light cases, three reads in five had missed and gone to SQLite.)
pub(super) const CAPACITY: usize = 131_072;

/// Light cases kept for lists and search hits: a page of hits is read again when a query is
/// repeated or paged, not ten thousand cases later.
pub const LIGHT_CAPACITY: usize = 8_192;

/// One kind of cached case.
pub(super) struct LightCache<V> {
    cases: LruCache<CaseId, Arc<V>>,
    /// Rewrites forgotten so far.
    epoch: u64,
}

impl<V> LightCache<V> {
    /// A cache of at most `capacity` cases (at least one).
    pub fn with_capacity(capacity: usize) -> Self {
        LightCache {
            cases: LruCache::new(capacity.max(1).try_into().expect("capacity is not zero")),
            epoch: 0,
        }
    }

    /// The case, if cached.
    pub fn get(&mut self, id: &CaseId) -> Option<Arc<V>> {
        self.cases.get(id).cloned()
    }

    /// Where the writer's rewrites stand: pass it to [`LightCache::keep`] after reading.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Caches cases read from the store since `epoch`, unless a case was rewritten since.
    pub fn keep(&mut self, epoch: u64, cases: impl IntoIterator<Item = (CaseId, Arc<V>)>) {
        if epoch == self.epoch {
            self.add_new(cases);
        }
    }

    /// Caches cases just created (the writer, after their commit): no reader can hold an
    /// older copy of them.
    fn add_new(&mut self, cases: impl IntoIterator<Item = (CaseId, Arc<V>)>) {
        for (id, case) in cases {
            self.cases.put(id, case);
        }
    }

    /// After a commit: caches the cases it created, then forgets those it rewrote.
    fn committed(
        &mut self,
        created: impl IntoIterator<Item = (CaseId, Arc<V>)>,
        rewritten: &[CaseId],
    ) {
        self.add_new(created);
        if !rewritten.is_empty() {
            self.forget(rewritten);
        }
    }

    /// Forgets rewritten cases (the writer, after their commit).
    fn forget(&mut self, ids: &[CaseId]) {
        self.epoch += 1;
        for id in ids {
            self.cases.pop(id);
        }
    }
}

/// Both caches, which the writer keeps in step with its commits.
pub(super) struct Recent {
    pub light: Mutex<LightCache<Case>>,
    pub neighbours: Mutex<LightCache<Neighbour>>,
}

impl Recent {
    /// `neighbours` neighbours and [`LIGHT_CAPACITY`] light cases.
    pub fn with_capacity(neighbours: usize) -> Self {
        Recent {
            light: Mutex::new(LightCache::with_capacity(LIGHT_CAPACITY)),
            neighbours: Mutex::new(LightCache::with_capacity(neighbours)),
        }
    }

    /// After a commit: caches the cases it created (without their triage record), as both
    /// kinds, then forgets the cases it rewrote, each cache under one lock (a case created and
    /// then linked in the same commit is never seen in its first version).
    pub fn committed(&self, created: &[Arc<Case>], rewritten: &[CaseId]) {
        lock(&self.neighbours).committed(
            created
                .iter()
                .map(|c| (c.id.clone(), Arc::new(Neighbour::from(c.as_ref())))),
            rewritten,
        );
        lock(&self.light).committed(
            created.iter().map(|c| (c.id.clone(), Arc::clone(c))),
            rewritten,
        );
    }
}

/// The cases `wanted` (by number, or number and row; unknown ones left out), from `cache`
/// where it has them; the others by `read_missing` (given their positions in `wanted`, it
/// answers `(position, case)` for those it found), which are then cached unless a case was
/// rewritten while they were read.
pub(super) fn read_through<K: AsRef<CaseId>, V>(
    cache: &Mutex<LightCache<V>>,
    wanted: &[K],
    read_missing: impl FnOnce(&[usize]) -> Result<Vec<(usize, Arc<V>)>>,
) -> Result<Vec<Arc<V>>> {
    let (mut found, epoch) = {
        let mut cache = lock(cache);
        let found: Vec<Option<Arc<V>>> = wanted.iter().map(|w| cache.get(w.as_ref())).collect();
        (found, cache.epoch())
    };
    let missing: Vec<usize> = (0..wanted.len()).filter(|&i| found[i].is_none()).collect();
    if !missing.is_empty() {
        let read = read_missing(&missing)?;
        lock(cache).keep(
            epoch,
            read.iter()
                .map(|(i, c)| (wanted[*i].as_ref().clone(), Arc::clone(c))),
        );
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

    fn case(id: &str, text: &str) -> (CaseId, Arc<Case>) {
        let mut c = crate::store::conformance::sample_case(text, "2026-11-21T17:30:00Z");
        c.id = CaseId(id.into());
        (c.id.clone(), Arc::new(c))
    }

    #[test]
    fn a_case_created_and_rewritten_in_one_commit_is_in_neither_cache() {
        let recent = Recent::with_capacity(16);
        let (a, first) = case("A", "旧");
        let (b, other) = case("B", "别的");
        recent.committed(&[first, other], std::slice::from_ref(&a));
        assert!(lock(&recent.light).get(&a).is_none());
        assert!(lock(&recent.neighbours).get(&a).is_none());
        assert_eq!(lock(&recent.light).get(&b).unwrap().text, "别的");
        assert_eq!(lock(&recent.neighbours).get(&b).unwrap().text, "别的");
        // Either cache's readers that started before the commit keep nothing.
        assert_eq!(lock(&recent.neighbours).epoch(), 1);
        assert_eq!(lock(&recent.light).epoch(), 1);
    }

    #[test]
    fn a_read_that_overlaps_a_rewrite_is_not_kept() {
        let mut cache = LightCache::with_capacity(CAPACITY);
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
