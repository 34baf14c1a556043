//! A search whose words have few hits and whose filters are all facets, in one pass over the
//! words' hits: each hit's facet values are checked against the filters, and the page, the
//! total and every facet (a filtered one without its own filter) are counted together.
//!
//! Intersecting the hits with a filter's postings instead seeks through lists that hold most of
//! the store (grade 严重 or 重大, any link), once for the search and once more for every
//! filtered facet: the workbench's faceted search spent its time there at a million cases
//! (perf, docs/benchmarks.md).

use std::collections::BTreeMap;

use std::sync::Arc;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::query::Query;
use tantivy::{DateTime, DocAddress, DocId, Order, Score, Searcher, SegmentOrdinal, SegmentReader};

use super::facet_table::{Allowed, FacetTable, FacetTables, add_counts};
use super::facets;
use super::index_err;
use super::search::FacetCount;
use crate::error::Result;

/// A facet the pass reads.
pub(super) struct Slot<'a> {
    /// The facet.
    pub name: &'a str,
    /// Whether its values are counted in the answer.
    pub counted: bool,
    /// The values a hit must have one of (a filter), if any.
    pub filter: Option<Vec<String>>,
}

/// What the pass found.
pub(super) struct Found {
    /// Hits passing every filter.
    pub total: usize,
    /// The page: score (0 in time order) and address.
    pub page: Vec<(Score, DocAddress)>,
    /// Counts of the counted facets, each without its own filter, most first.
    pub facets: BTreeMap<String, Vec<FacetCount>>,
}

/// What holds for every hit and every facet count: the caller's departments and the span of
/// receipt (`[from, to)`, as the index keeps times).
#[derive(Default)]
pub(super) struct Scope<'a> {
    pub departments: Option<&'a [String]>,
    pub from: Option<DateTime>,
    pub to: Option<DateTime>,
}

/// Runs `words` once, keeping the hits that pass `slots`' filters and lie within `scope`.
pub(super) fn run(
    tables: &FacetTables,
    searcher: &Searcher,
    words: &dyn Query,
    slots: &[Slot],
    scope: Scope,
    order: Option<Order>,
    (offset, limit): (usize, usize),
) -> Result<Found> {
    let names: Vec<&str> = slots.iter().map(|s| s.name).collect();
    let pass = Pass {
        tables,
        searcher,
        at: tables.positions(&names)?,
        department: tables.positions(&["department"])?[0],
        slots,
        scope,
        order,
    };
    let fruits = searcher.search(words, &pass).map_err(index_err)?;
    let mut total = 0;
    let mut hits = Vec::new();
    let mut counts: Vec<BTreeMap<String, u64>> = vec![BTreeMap::new(); slots.len()];
    for fruit in fruits {
        total += fruit.total;
        hits.extend(fruit.hits);
        add_counts(&mut counts, fruit.counts);
    }
    // Best first, or by time; equal keys by address, so that pages never overlap.
    match order {
        None => hits.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.address.cmp(&b.address))),
        Some(Order::Desc) => hits.sort_by(|a, b| b.at.cmp(&a.at).then(a.address.cmp(&b.address))),
        Some(Order::Asc) => hits.sort_by(|a, b| a.at.cmp(&b.at).then(a.address.cmp(&b.address))),
    }
    let page = hits
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(|h| (if order.is_none() { h.score } else { 0.0 }, h.address))
        .collect();
    let (counted, counts): (Vec<&str>, Vec<_>) = slots
        .iter()
        .zip(counts)
        .filter(|(s, _)| s.counted)
        .map(|(s, counts)| (s.name, counts))
        .unzip();
    let facets = facets::named(&counted, counts, 1.0);
    Ok(Found {
        total,
        page,
        facets,
    })
}

struct Pass<'a> {
    tables: &'a FacetTables,
    searcher: &'a Searcher,
    /// Each slot's facet's place in the tables.
    at: Vec<usize>,
    department: usize,
    slots: &'a [Slot<'a>],
    scope: Scope<'a>,
    order: Option<Order>,
}

pub(super) struct Hit {
    score: Score,
    at: i64,
    address: DocAddress,
}

pub(super) struct SegmentFruit {
    total: usize,
    hits: Vec<Hit>,
    counts: Vec<BTreeMap<String, u64>>,
}

impl Collector for Pass<'_> {
    type Fruit = Vec<SegmentFruit>;
    type Child = SegmentPass;

    fn for_segment(
        &self,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<SegmentPass> {
        let table = self.tables.get(reader, self.searcher)?;
        let slots = self
            .slots
            .iter()
            .zip(&self.at)
            .map(|(s, &at)| {
                let facet = table.facet(at);
                SegmentSlot {
                    at,
                    allowed: s.filter.as_deref().map(|values| facet.allowed(values)),
                    counts: vec![0u64; if s.counted { facet.len() } else { 0 }],
                }
            })
            .collect();
        let within = self
            .scope
            .departments
            .map(|departments| table.facet(self.department).allowed(departments));
        let timed = self.order.is_some() || self.scope.from.is_some() || self.scope.to.is_some();
        let received_at = if timed {
            Some(reader.fast_fields().date("received_at")?)
        } else {
            None
        };
        Ok(SegmentPass {
            segment,
            table,
            department: self.department,
            slots,
            within,
            span: (self.scope.from, self.scope.to),
            received_at,
            total: 0,
            hits: Vec::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        self.order.is_none()
    }

    fn merge_fruits(&self, fruits: Vec<SegmentFruit>) -> tantivy::Result<Vec<SegmentFruit>> {
        Ok(fruits)
    }
}

struct SegmentSlot {
    /// The facet's place in the table.
    at: usize,
    allowed: Option<Allowed>,
    counts: Vec<u64>,
}

impl SegmentSlot {
    fn passes(&self, table: &FacetTable, doc: DocId) -> bool {
        match &self.allowed {
            None => true,
            Some(allowed) => table.facet(self.at).passes(doc, allowed),
        }
    }

    fn count(&mut self, table: &FacetTable, doc: DocId) {
        if !self.counts.is_empty() {
            table.facet(self.at).count(doc, &mut self.counts);
        }
    }
}

pub(super) struct SegmentPass {
    segment: SegmentOrdinal,
    table: Arc<FacetTable>,
    department: usize,
    slots: Vec<SegmentSlot>,
    within: Option<Allowed>,
    span: (Option<DateTime>, Option<DateTime>),
    received_at: Option<Column<DateTime>>,
    total: usize,
    hits: Vec<Hit>,
}

impl SegmentCollector for SegmentPass {
    type Fruit = SegmentFruit;

    fn collect(&mut self, doc: DocId, score: Score) {
        if let Some(allowed) = &self.within
            && !self.table.facet(self.department).passes(doc, allowed)
        {
            return;
        }
        let received = self.received_at.as_ref().and_then(|c| c.first(doc));
        let (from, to) = self.span;
        if from.is_some_and(|f| received.is_none_or(|r| r < f))
            || to.is_some_and(|t| received.is_none_or(|r| r >= t))
        {
            return;
        }
        // The one filter the hit fails, if it fails only one: that facet still counts it.
        let mut failed = None;
        for (i, slot) in self.slots.iter().enumerate() {
            if !slot.passes(&self.table, doc) {
                if failed.is_some() {
                    return;
                }
                failed = Some(i);
            }
        }
        match failed {
            Some(i) => self.slots[i].count(&self.table, doc),
            None => {
                self.total += 1;
                let at = received.map_or(0, |d| d.into_timestamp_micros());
                self.hits.push(Hit {
                    score,
                    at,
                    address: DocAddress::new(self.segment, doc),
                });
                for slot in &mut self.slots {
                    slot.count(&self.table, doc);
                }
            }
        }
    }

    fn harvest(self) -> SegmentFruit {
        let counts = self
            .slots
            .iter()
            .map(|s| self.table.facet(s.at).by_value(&s.counts))
            .collect();
        SegmentFruit {
            total: self.total,
            hits: self.hits,
            counts,
        }
    }
}
