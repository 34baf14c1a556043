//! Every document's facet values of a segment, held dense in memory, for counting facets over
//! hits and checking facet filters hit by hit.
//!
//! tantivy's facet column answers a document's values through its column index (a rank in an
//! optional index, then a multi-valued range), about 28 ns a facet a hit: counting seven
//! facets over a search's hits was most of a broad search's time at a million cases (perf,
//! docs/benchmarks.md). Here a facet with at most 16 values is a bit mask a document, one
//! with more a single ordinal, both two bytes: 14 bytes a case for the seven facets, read in
//! a nanosecond or two. A segment never changes, so its table is built once, when the index
//! opens or at the commit that makes the segment visible (a search meeting a segment without
//! one builds it), and dropped with the segment. A facet with more than 65,535 values or
//! several values of more than 16 stays read from its column.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

use tantivy::fastfield::FacetReader;
use tantivy::index::SegmentId;
use tantivy::schema::Facet;
use tantivy::{DocId, Searcher, SegmentReader};

/// Bytes a case costs in the tables of the index's seven facets (each two bytes).
pub const BYTES_PER_CASE: usize = 2 * super::schema::FACETS.len();

/// One segment's facets, in the order they were asked for.
pub(super) struct FacetTable {
    facets: Vec<TableFacet>,
}

impl FacetTable {
    fn build(reader: &SegmentReader, names: &[&str]) -> tantivy::Result<FacetTable> {
        let facets = names
            .iter()
            .map(|name| TableFacet::build(reader, name))
            .collect::<tantivy::Result<_>>()?;
        Ok(FacetTable { facets })
    }

    /// The facet at `i` of the names the tables were made for.
    pub(super) fn facet(&self, i: usize) -> &TableFacet {
        &self.facets[i]
    }
}

/// One facet of a segment: its values, and each document's.
pub(super) struct TableFacet {
    /// The value of each ordinal (the facet path's last part).
    values: Vec<String>,
    docs: Ords,
}

enum Ords {
    /// At most 16 values: bit `o` set when the document has the value of ordinal `o`.
    Mask(Vec<u16>),
    /// At most one value a document: its ordinal + 1, 0 for none.
    One(Vec<u16>),
    /// Read from the column.
    Column(FacetReader),
}

/// Values a filter allows, in a facet's terms.
pub(super) enum Allowed {
    Mask(u16),
    Ords(Vec<u32>),
}

impl TableFacet {
    fn build(reader: &SegmentReader, name: &str) -> tantivy::Result<TableFacet> {
        let column = reader.facet_reader(name)?;
        let n = column.num_facets();
        let mut values = Vec::with_capacity(n);
        let mut facet = Facet::root();
        for ord in 0..n as u64 {
            column.facet_from_ord(ord, &mut facet)?;
            values.push(
                facet
                    .to_path()
                    .last()
                    .map(|s| s.to_string())
                    .unwrap_or_default(),
            );
        }
        let max_doc = reader.max_doc();
        let docs = if n <= 16 {
            Ords::Mask(
                (0..max_doc)
                    .map(|d| column.facet_ords(d).fold(0u16, |m, o| m | (1 << o)))
                    .collect(),
            )
        } else if n < usize::from(u16::MAX) {
            let mut one = Vec::with_capacity(max_doc as usize);
            let mut single = true;
            for d in 0..max_doc {
                let mut ords = column.facet_ords(d);
                let first = ords.next();
                if ords.next().is_some() {
                    single = false;
                    break;
                }
                one.push(first.map_or(0, |o| o as u16 + 1));
            }
            if single {
                Ords::One(one)
            } else {
                Ords::Column(column)
            }
        } else {
            Ords::Column(column)
        };
        Ok(TableFacet { values, docs })
    }

    /// Number of values (ordinals) in the segment.
    pub(super) fn len(&self) -> usize {
        self.values.len()
    }

    /// The filter allowing `values` (values the segment lacks allow nothing).
    pub(super) fn allowed(&self, values: &[String]) -> Allowed {
        let ords = values
            .iter()
            .filter_map(|v| self.values.iter().position(|x| x == v))
            .map(|o| o as u32);
        match self.docs {
            Ords::Mask(_) => Allowed::Mask(ords.fold(0, |m, o| m | (1 << o))),
            _ => Allowed::Ords(ords.collect()),
        }
    }

    /// Whether `doc` has one of the `allowed` values.
    #[inline]
    pub(super) fn passes(&self, doc: DocId, allowed: &Allowed) -> bool {
        match (&self.docs, allowed) {
            (Ords::Mask(m), Allowed::Mask(a)) => m[doc as usize] & a != 0,
            (Ords::One(v), Allowed::Ords(a)) => {
                let o = v[doc as usize];
                o != 0 && a.contains(&(u32::from(o) - 1))
            }
            (Ords::Column(c), Allowed::Ords(a)) => {
                c.facet_ords(doc).any(|o| a.contains(&(o as u32)))
            }
            _ => false,
        }
    }

    /// `counts` (one slot an ordinal, as [`TableFacet::count`] fills them) by value, the
    /// values counted at least once.
    pub(super) fn by_value(&self, counts: &[u64]) -> BTreeMap<String, u64> {
        counts
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(ord, &n)| (self.values[ord].clone(), n))
            .collect()
    }

    /// Adds `doc`'s values to `counts` (one slot an ordinal).
    #[inline]
    pub(super) fn count(&self, doc: DocId, counts: &mut [u64]) {
        match &self.docs {
            Ords::Mask(m) => {
                let mut bits = m[doc as usize];
                while bits != 0 {
                    counts[bits.trailing_zeros() as usize] += 1;
                    bits &= bits - 1;
                }
            }
            Ords::One(v) => {
                let o = v[doc as usize];
                if o != 0 {
                    counts[usize::from(o) - 1] += 1;
                }
            }
            Ords::Column(c) => {
                for o in c.facet_ords(doc) {
                    counts[o as usize] += 1;
                }
            }
        }
    }
}

/// Adds one segment's counts by value, facet by facet, to `all`'s.
pub(super) fn add_counts(all: &mut [BTreeMap<String, u64>], segment: Vec<BTreeMap<String, u64>>) {
    for (all, segment) in all.iter_mut().zip(segment) {
        for (value, n) in segment {
            *all.entry(value).or_default() += n;
        }
    }
}

type Slot = Arc<OnceLock<Result<Arc<FacetTable>, String>>>;

/// The tables of the segments searched so far, for one list of facets.
pub(super) struct FacetTables {
    names: &'static [&'static str],
    kept: Mutex<HashMap<SegmentId, Slot>>,
}

impl FacetTables {
    /// Tables of the facets `names`.
    pub(super) fn new(names: &'static [&'static str]) -> Self {
        FacetTables {
            names,
            kept: Mutex::default(),
        }
    }

    /// Where each of the facets `names` is in each table.
    pub(super) fn positions(&self, names: &[&str]) -> crate::error::Result<Vec<usize>> {
        names
            .iter()
            .map(|name| {
                self.names.iter().position(|n| n == name).ok_or_else(|| {
                    crate::error::Error::Invalid(format!("no facet called {name:?}"))
                })
            })
            .collect()
    }

    /// The table of `segment`, built on first use; segments gone from `searcher` are dropped.
    pub(super) fn get(
        &self,
        segment: &SegmentReader,
        searcher: &Searcher,
    ) -> tantivy::Result<Arc<FacetTable>> {
        let id = segment.segment_id();
        let slot = {
            // Nothing panics while holding the lock; a poisoned map is still consistent.
            let mut kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
            if !kept.contains_key(&id) {
                super::keep_live(&mut kept, searcher);
            }
            Arc::clone(kept.entry(id).or_default())
        };
        // Built outside the map's lock: a large segment's table takes a moment, and searches
        // of other segments need not wait for it.
        slot.get_or_init(|| {
            FacetTable::build(segment, self.names)
                .map(Arc::new)
                .map_err(|e| e.to_string())
        })
        .clone()
        .map_err(tantivy::TantivyError::InternalError)
    }
}
