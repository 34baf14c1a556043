//! Facet counts of a search: exact over up to [`EXACT_UP_TO`] hits, estimated from a sample of
//! that size beyond.
//!
//! Counting reads every hit's value of seven facet columns. At a million cases a broad search
//! (a channel, a common word) has hundreds of thousands of hits, and counting them was two
//! thirds of the search's time (perf, docs/benchmarks.md). Over a sample of 10,000 hits a value
//! with a share of 1 % is estimated to within about ±20 % (two standard errors), and the
//! answer says the counts are estimates. Over every case (an empty search, or a facet counted
//! without the one filter there was) the counts are exact and cost no pass at all: each value's
//! document frequency in the index, less the deleted documents that still hold it.

use std::collections::BTreeMap;

use std::sync::Arc;

use tantivy::collector::{Collector, Count, MultiCollector, SegmentCollector};
use tantivy::query::{AllQuery, Query};
use tantivy::schema::Facet;
use tantivy::{DocId, Score, Searcher, SegmentOrdinal, SegmentReader};

use super::facet_table::{FacetTable, FacetTables, add_counts};
use super::index_err;
use super::search::FacetCount;
use crate::error::Result;

/// Hits counted one by one; past this, a sample of about this many.
pub const EXACT_UP_TO: usize = 10_000;

/// The facets `names` of the hits of `query` (of which there are `hits`), most first, and
/// whether they are estimates.
pub(super) fn count(
    tables: &FacetTables,
    searcher: &Searcher,
    query: &dyn Query,
    hits: usize,
    names: &[&str],
) -> Result<(BTreeMap<String, Vec<FacetCount>>, bool)> {
    count_up_to(tables, searcher, query, hits, names, EXACT_UP_TO)
}

/// [`count`], exact up to `exact` hits.
pub(super) fn count_up_to(
    tables: &FacetTables,
    searcher: &Searcher,
    query: &dyn Query,
    hits: usize,
    names: &[&str],
    exact: usize,
) -> Result<(BTreeMap<String, Vec<FacetCount>>, bool)> {
    if names.is_empty() {
        return Ok((BTreeMap::new(), false));
    }
    if query.downcast_ref::<AllQuery>().is_some() {
        return Ok((count_all(searcher, names)?, false));
    }
    let stride = hits.div_ceil(exact.max(1)).max(1) as u32;
    let mut multi = MultiCollector::new();
    let sampled = multi.add_collector(Count);
    let tally = multi.add_collector(Tally::new(tables, searcher, names)?);
    let mut fruit = searcher
        .search(
            query,
            &Sampled {
                stride,
                inner: multi,
            },
        )
        .map_err(index_err)?;
    let sampled = sampled.extract(&mut fruit);
    // Scaled by what the sample actually held, not by the stride: exact in expectation.
    let scale = if stride == 1 || sampled == 0 {
        1.0
    } else {
        hits as f64 / sampled as f64
    };
    Ok((named(names, tally.extract(&mut fruit), scale), stride > 1))
}

/// Counts per facet (as [`Tally`] gives them), scaled by `scale`, most first, by name.
pub(super) fn named(
    names: &[&str],
    counts: Vec<BTreeMap<String, u64>>,
    scale: f64,
) -> BTreeMap<String, Vec<FacetCount>> {
    names
        .iter()
        .zip(counts)
        .map(|(name, counts)| {
            let values = counts
                .into_iter()
                .map(|(value, count)| FacetCount {
                    value,
                    count: (count as f64 * scale).round() as u64,
                })
                .collect();
            (name.to_string(), sorted(values))
        })
        .collect()
}

/// Counts the values of some facets over the hits, from the segments' [`FacetTables`]: each
/// facet's counts by value.
pub(super) struct Tally<'a> {
    tables: &'a FacetTables,
    searcher: &'a Searcher,
    /// Each counted facet's place in the tables.
    at: Vec<usize>,
}

impl<'a> Tally<'a> {
    pub(super) fn new(
        tables: &'a FacetTables,
        searcher: &'a Searcher,
        names: &[&str],
    ) -> Result<Self> {
        let at = tables.positions(names)?;
        Ok(Tally {
            tables,
            searcher,
            at,
        })
    }
}

impl Collector for Tally<'_> {
    type Fruit = Vec<BTreeMap<String, u64>>;
    type Child = SegmentTally;

    fn for_segment(
        &self,
        _: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<SegmentTally> {
        let table = self.tables.get(reader, self.searcher)?;
        let counts = self
            .at
            .iter()
            .map(|&i| vec![0; table.facet(i).len()])
            .collect();
        Ok(SegmentTally {
            table,
            at: self.at.clone(),
            counts,
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(
        &self,
        fruits: Vec<Vec<BTreeMap<String, u64>>>,
    ) -> tantivy::Result<Vec<BTreeMap<String, u64>>> {
        let mut all = vec![BTreeMap::new(); self.at.len()];
        for fruit in fruits {
            add_counts(&mut all, fruit);
        }
        Ok(all)
    }
}

pub(super) struct SegmentTally {
    table: Arc<FacetTable>,
    at: Vec<usize>,
    counts: Vec<Vec<u64>>,
}

impl SegmentCollector for SegmentTally {
    type Fruit = Vec<BTreeMap<String, u64>>;

    fn collect(&mut self, doc: DocId, _: Score) {
        for (&i, counts) in self.at.iter().zip(&mut self.counts) {
            self.table.facet(i).count(doc, counts);
        }
    }

    fn harvest(self) -> Self::Fruit {
        self.at
            .iter()
            .zip(self.counts)
            .map(|(&i, counts)| self.table.facet(i).by_value(&counts))
            .collect()
    }
}

/// The facets `names` of every live document, exact, from the index's term statistics: a
/// sampled pass over a million documents took several milliseconds (perf, docs/benchmarks.md).
fn count_all(searcher: &Searcher, names: &[&str]) -> Result<BTreeMap<String, Vec<FacetCount>>> {
    let schema = searcher.schema();
    let mut counts: Vec<BTreeMap<String, i64>> = vec![BTreeMap::new(); names.len()];
    for segment in searcher.segment_readers() {
        // Rewritten cases leave deleted documents behind until a merge; the terms' document
        // frequencies still count them. There are few: reading their values is cheap.
        let deleted: Vec<DocId> = match segment.alive_bitset() {
            Some(alive) if segment.num_deleted_docs() > 0 => (0..segment.max_doc())
                .filter(|&d| alive.is_deleted(d))
                .collect(),
            _ => Vec::new(),
        };
        for (name, counts) in names.iter().zip(counts.iter_mut()) {
            let field = schema.get_field(name).map_err(index_err)?;
            let inverted = segment.inverted_index(field).map_err(index_err)?;
            let mut terms = inverted.terms().stream().map_err(index_err)?;
            while terms.advance() {
                // The root facet (every document) is the empty term.
                if terms.key().is_empty() {
                    continue;
                }
                let facet = Facet::from_encoded(terms.key().to_vec()).map_err(index_err)?;
                *counts.entry(last_part(&facet)).or_default() += i64::from(terms.value().doc_freq);
            }
            if deleted.is_empty() {
                continue;
            }
            let reader = segment.facet_reader(name).map_err(index_err)?;
            let mut facet = Facet::root();
            for &doc in &deleted {
                for ord in reader.facet_ords(doc) {
                    reader.facet_from_ord(ord, &mut facet).map_err(index_err)?;
                    *counts.entry(last_part(&facet)).or_default() -= 1;
                }
            }
        }
    }
    Ok(names
        .iter()
        .zip(counts)
        .map(|(name, counts)| {
            let values = counts
                .into_iter()
                .filter(|(_, n)| *n > 0)
                .map(|(value, n)| FacetCount {
                    value,
                    count: n as u64,
                })
                .collect();
            (name.to_string(), sorted(values))
        })
        .collect())
}

fn last_part(facet: &Facet) -> String {
    facet
        .to_path()
        .last()
        .map(|s| s.to_string())
        .unwrap_or_default()
}

/// Most first, then by value.
pub(super) fn sorted(mut values: Vec<FacetCount>) -> Vec<FacetCount> {
    values.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
    values
}

/// A collector that passes on one hit in `stride`, chosen by a hash of the document number:
/// hits are not spread evenly over document numbers (imports come in runs, texts repeat), and
/// a plain `doc % stride` would follow their pattern.
struct Sampled<C> {
    stride: u32,
    inner: C,
}

fn taken(doc: DocId, stride: u32) -> bool {
    // MurmurHash3's finaliser: every bit of the number moves every bit of the hash (a plain
    // multiplication keeps the low bits' pattern, and a stride of 2 would take only even
    // numbers from even ones).
    let mut h = doc;
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^= h >> 16;
    stride == 1 || h.is_multiple_of(stride)
}

impl<C: Collector> Collector for Sampled<C> {
    type Fruit = C::Fruit;
    type Child = SampledSegment<C::Child>;

    fn for_segment(
        &self,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<Self::Child> {
        Ok(SampledSegment {
            stride: self.stride,
            inner: self.inner.for_segment(segment, reader)?,
        })
    }

    fn requires_scoring(&self) -> bool {
        self.inner.requires_scoring()
    }

    fn merge_fruits(
        &self,
        fruits: Vec<<Self::Child as SegmentCollector>::Fruit>,
    ) -> tantivy::Result<Self::Fruit> {
        self.inner.merge_fruits(fruits)
    }
}

struct SampledSegment<S> {
    stride: u32,
    inner: S,
}

impl<S: SegmentCollector> SegmentCollector for SampledSegment<S> {
    type Fruit = S::Fruit;

    fn collect(&mut self, doc: DocId, score: Score) {
        if taken(doc, self.stride) {
            self.inner.collect(doc, score);
        }
    }

    fn harvest(self) -> Self::Fruit {
        self.inner.harvest()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sample_takes_about_one_in_stride_whatever_the_pattern_of_hits() {
        for stride in [2u32, 7, 20, 100] {
            // Every hit, every 3rd, every 49,778th-like period: the share taken stays 1/stride.
            for step in [1u32, 3, 64] {
                let hits: Vec<DocId> = (0..400_000).step_by(step as usize).collect();
                let taken = hits.iter().filter(|&&d| taken(d, stride)).count() as f64;
                let expected = hits.len() as f64 / f64::from(stride);
                // Within four standard deviations of a fair coin of 1/stride.
                assert!(
                    (taken - expected).abs() < 4.0 * expected.sqrt(),
                    "stride {stride}, step {step}: {taken} of {}",
                    hits.len()
                );
            }
        }
        assert!((0..100).all(|d| taken(d, 1)));
    }
}
