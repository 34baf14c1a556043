//! Near duplicates: a derived view of the store's fingerprints, in memory.
//!
//! Each case's MinHash signature hashes to [`BANDS`] band values; two texts that share one are
//! candidates; a candidate whose [`Sketch`] (kept here) rules it out is dropped, and the rest
//! are confirmed on the whole signature (read from the store). As SQLite indexes, the
//! eight band values cost eight random B-tree pages per new case, written at every commit and
//! again at checkpoint: a quarter of the CPU and most of the writes of a create. Here they cost
//! a hash-table insert.
//!
//! Like the search index, the view follows the store: it is rebuilt from the store's
//! fingerprints at start, and the follower adds every case it has not seen. Intake also adds
//! each case it creates as soon as the store has it, before answering, so that the same
//! complaint sent again right after its acknowledgement is found.
//!
//! Memory: about 200 bytes a case (200 MB for a million cases), 32 of them the sketch: without
//! it a lookup read every candidate's signature from the store until one matched, up to
//! [`PER_BAND`] a band for templated texts.

use std::sync::RwLock;

use jiff::Timestamp;
use rustc_hash::{FxHashMap, FxHashSet};

use super::progress::Progress;
use crate::domain::{Case, CaseId};
use crate::error::Result;
use crate::store::{CaseStore, FingerprintRow};
use crate::text::{BANDS, Signature, Sketch};

/// Candidates per band looked at for one lookup: templated texts share bands often.
const PER_BAND: usize = 32;
/// Fingerprints read from the store per step when rebuilding.
const REBUILD_STEP: usize = 10_000;

/// The near-duplicate view.
#[derive(Debug, Default)]
pub struct DuplicateView {
    bands: RwLock<BandIndex>,
}

impl DuplicateView {
    /// The view of every case in `store` (blocking: reads every fingerprint).
    pub fn rebuild(store: &dyn CaseStore, progress: &Progress) -> Result<Self> {
        let mut index = BandIndex::default();
        let mut after = 0;
        loop {
            let rows = store.fingerprints(after, REBUILD_STEP)?;
            let Some(last) = rows.last() else { break };
            after = last.seq;
            for row in &rows {
                index.add_row(row);
            }
            progress.advance(rows.len() as u64);
        }
        progress.finish();
        Ok(DuplicateView {
            bands: RwLock::new(index),
        })
    }

    /// Adds a case just stored (once: a case already in the view is left alone).
    pub fn add(&self, seq: u64, received_at: Timestamp, fingerprint: &Signature) {
        self.write().insert(
            seq,
            received_at.as_millisecond(),
            &fingerprint.bands(),
            fingerprint.sketch(),
        );
    }

    /// Adds the cases of a batch of the change feed that the view has not seen (created by
    /// another process, or by intake before a crash), reading their fingerprints.
    pub fn follow(&self, store: &dyn CaseStore, cases: &[Case]) -> Result<()> {
        let unseen: Vec<u64> = {
            let bands = self.read();
            cases
                .iter()
                .map(|c| c.seq)
                .filter(|s| !bands.seqs.contains(s))
                .collect()
        };
        if unseen.is_empty() {
            return Ok(());
        }
        let rows = store.fingerprints_of(&unseen)?;
        let mut bands = self.write();
        for row in &rows {
            bands.add_row(row);
        }
        Ok(())
    }

    /// The newest case received at or after `since` whose text is a near duplicate of the
    /// text with `fingerprint` (a shared band, confirmed on the whole signature), given as the
    /// case it itself duplicates if it does: the root of the chain, the earliest of them.
    pub fn near_duplicate(
        &self,
        store: &dyn CaseStore,
        fingerprint: &Signature,
        since: Timestamp,
    ) -> Result<Option<CaseId>> {
        let candidates = self.read().candidates(
            &fingerprint.bands(),
            &fingerprint.sketch(),
            since.as_millisecond(),
            PER_BAND,
        );
        if candidates.is_empty() {
            return Ok(None);
        }
        // Newest first, no further than the first match: the newest candidate is usually it,
        // and templated texts can share bands with hundreds.
        let matched = store.find_fingerprint(&candidates, &mut |row| {
            Signature::from_bytes(&row.fingerprint)
                .is_some_and(|s| s.is_near_duplicate(fingerprint))
        })?;
        let Some(row) = matched else {
            return Ok(None);
        };
        let root = match row.duplicate_of {
            Some(recorded) => recorded,
            // Stored before the root was recorded beside the fingerprint: the case says.
            None => store
                .get_many(std::slice::from_ref(&row.id))?
                .first()
                .and_then(|c| c.links.duplicate_of.clone()),
        };
        Ok(Some(root.unwrap_or(row.id)))
    }

    /// Cases in the view.
    pub fn len(&self) -> usize {
        self.read().entries.len()
    }

    /// Whether the view is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BandIndex> {
        self.bands.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BandIndex> {
        self.bands.write().unwrap_or_else(|p| p.into_inner())
    }
}

/// No entry (end of a chain).
const NONE: u32 = u32::MAX;
/// Entries looked at per band, at most: a chain is newest-stored first, so past the window it
/// is mostly older cases (an import of history may store older cases after newer ones).
const WALK: usize = 1024;

/// A case in the index.
#[derive(Debug, Clone, Copy)]
struct Entry {
    seq: u64,
    /// Unix milliseconds.
    received_at: i64,
    /// Per band, the entry added before this one with the same band value.
    earlier: [u32; BANDS],
}

/// Band value → the cases that have it, newest added first.
#[derive(Debug, Default)]
struct BandIndex {
    /// Band value (its low 32 bits: a false match only adds a candidate that the whole
    /// signature then rules out) → the newest entry with it.
    newest: FxHashMap<u32, u32>,
    entries: Vec<Entry>,
    /// Per entry, its signature's sketch (apart: a chain's walk reads only the entries).
    sketches: Vec<Sketch>,
    /// The cases in it, so that each is added once.
    seqs: FxHashSet<u64>,
}

impl BandIndex {
    fn add_row(&mut self, row: &FingerprintRow) {
        if let Some(s) = Signature::from_bytes(&row.fingerprint) {
            self.insert(
                row.seq,
                row.received_at.as_millisecond(),
                &s.bands(),
                s.sketch(),
            );
        }
    }

    /// Adds a case, unless it is in already. Cases are added about in the order they were
    /// stored.
    fn insert(&mut self, seq: u64, received_at: i64, bands: &[u64; BANDS], sketch: Sketch) {
        if !self.seqs.insert(seq) {
            return;
        }
        let at = u32::try_from(self.entries.len()).expect("fewer than 4 billion cases");
        let mut earlier = [NONE; BANDS];
        for (b, value) in bands.iter().enumerate() {
            earlier[b] = self.newest.insert(key(*value), at).unwrap_or(NONE);
        }
        self.entries.push(Entry {
            seq,
            received_at,
            earlier,
        });
        self.sketches.push(sketch);
    }

    /// The cases sharing a band with `bands`, received at or after `since` (Unix ms): per band
    /// the `per_band` most recently stored, newest first, each case once, less those whose
    /// sketch rules out a near duplicate of `sketch`. Templated texts share bands often; the
    /// cap keeps a lookup short.
    fn candidates(
        &self,
        bands: &[u64; BANDS],
        sketch: &Sketch,
        since: i64,
        per_band: usize,
    ) -> Vec<u64> {
        let mut found: Vec<u64> = Vec::new();
        for (b, value) in bands.iter().enumerate() {
            let mut at = self.newest.get(&key(*value)).copied().unwrap_or(NONE);
            let (mut taken, mut walked) = (0, 0);
            while at != NONE && taken < per_band && walked < WALK {
                walked += 1;
                let e = &self.entries[at as usize];
                if e.received_at >= since {
                    taken += 1;
                    if !found.contains(&e.seq)
                        && self.sketches[at as usize].may_be_near_duplicate(sketch)
                    {
                        found.push(e.seq);
                    }
                }
                at = e.earlier[b];
            }
        }
        found.sort_unstable_by(|a, b| b.cmp(a));
        found
    }
}

fn key(band: u64) -> u32 {
    band as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sketch(minimum: u64) -> Sketch {
        Signature([minimum; crate::text::MINHASHES]).sketch()
    }

    fn bands(first: u64) -> [u64; BANDS] {
        std::array::from_fn(|b| first * 100 + b as u64)
    }

    #[test]
    fn finds_cases_sharing_any_band_newest_first_once_each() {
        let mut index = BandIndex::default();
        index.insert(1, 1_000, &bands(7), sketch(0));
        index.insert(2, 2_000, &bands(8), sketch(0));
        let mut shares_one = bands(9);
        shares_one[3] = bands(7)[3];
        index.insert(3, 3_000, &shares_one, sketch(0));
        assert_eq!(index.candidates(&bands(7), &sketch(0), 0, 32), vec![3, 1]);
        assert_eq!(index.candidates(&bands(8), &sketch(0), 0, 32), vec![2]);
        assert!(index.candidates(&bands(5), &sketch(0), 0, 32).is_empty());
        // Added twice (by intake, then by the follower): listed once.
        index.insert(3, 3_000, &shares_one, sketch(0));
        assert_eq!(index.entries.len(), 3);
    }

    #[test]
    fn keeps_to_the_window_and_the_cap_per_band() {
        let mut index = BandIndex::default();
        for seq in 1..=10 {
            index.insert(seq, seq as i64 * 1_000, &bands(7), sketch(0));
        }
        assert_eq!(
            index.candidates(&bands(7), &sketch(0), 8_000, 32),
            vec![10, 9, 8]
        );
        assert_eq!(index.candidates(&bands(7), &sketch(0), 0, 2), vec![10, 9]);
    }

    #[test]
    fn a_sketch_that_rules_out_a_near_duplicate_drops_the_candidate() {
        let mut index = BandIndex::default();
        index.insert(1, 1_000, &bands(7), sketch(0));
        index.insert(2, 2_000, &bands(7), sketch(1));
        assert_eq!(index.candidates(&bands(7), &sketch(0), 0, 32), vec![1]);
        assert_eq!(index.candidates(&bands(7), &sketch(1), 0, 32), vec![2]);
    }
}
