//! The near-duplicate band index, in memory.
//!
//! Each case's MinHash signature hashes to [`BANDS`] band values; two texts that share one are
//! candidates, confirmed on the whole signature (kept in the `signatures` table). As SQLite
//! indexes, the eight band values cost eight random B-tree pages per new case, written to the
//! write-ahead log at every commit and again at checkpoint: a quarter of the CPU and most of
//! the writes of a create. Here they cost a hash-table insert. The table is derived: it is
//! loaded from the `signatures` table when the store opens, and the writer adds each case
//! once its transaction has committed.
//!
//! Memory: about 150 bytes a case (150 MB for a million cases).

use rustc_hash::FxHashMap;

use crate::text::BANDS;

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
pub(super) struct BandIndex {
    /// Band value (its low 32 bits: a false match only adds a candidate that the whole
    /// signature then rules out) → the newest entry with it.
    newest: FxHashMap<u32, u32>,
    entries: Vec<Entry>,
}

impl BandIndex {
    /// Adds a case. Cases are added in the order they were stored.
    pub fn insert(&mut self, seq: u64, received_at: i64, bands: &[u64; BANDS]) {
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
    }

    /// The cases sharing a band with `bands`, received at or after `since` (Unix ms): per band
    /// the `per_band` most recently stored, newest first, each case once. Templated texts share
    /// bands often; the cap keeps a lookup short.
    pub fn candidates(&self, bands: &[u64; BANDS], since: i64, per_band: usize) -> Vec<u64> {
        let mut found: Vec<u64> = Vec::new();
        for (b, value) in bands.iter().enumerate() {
            let mut at = self.newest.get(&key(*value)).copied().unwrap_or(NONE);
            let (mut taken, mut walked) = (0, 0);
            while at != NONE && taken < per_band && walked < WALK {
                walked += 1;
                let e = &self.entries[at as usize];
                if e.received_at >= since {
                    taken += 1;
                    if !found.contains(&e.seq) {
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

    fn bands(first: u64) -> [u64; BANDS] {
        std::array::from_fn(|b| first * 100 + b as u64)
    }

    #[test]
    fn finds_cases_sharing_any_band_newest_first_once_each() {
        let mut index = BandIndex::default();
        index.insert(1, 1_000, &bands(7));
        index.insert(2, 2_000, &bands(8));
        let mut shares_one = bands(9);
        shares_one[3] = bands(7)[3];
        index.insert(3, 3_000, &shares_one);
        assert_eq!(index.candidates(&bands(7), 0, 32), vec![3, 1]);
        assert_eq!(index.candidates(&bands(8), 0, 32), vec![2]);
        assert!(index.candidates(&bands(5), 0, 32).is_empty());
    }

    #[test]
    fn keeps_to_the_window_and_the_cap_per_band() {
        let mut index = BandIndex::default();
        for seq in 1..=10 {
            index.insert(seq, seq as i64 * 1_000, &bands(7));
        }
        assert_eq!(index.candidates(&bands(7), 8_000, 32), vec![10, 9, 8]);
        assert_eq!(index.candidates(&bands(7), 0, 2), vec![10, 9]);
    }
}
