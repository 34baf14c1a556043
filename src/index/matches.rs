//! Every case a search matches, not a page of them: what an export reads. Only the case numbers
//! and receipt times are collected, from fast columns (no stored document is opened), and
//! sorted oldest first.

use tantivy::collector::{Collector, Count, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

use super::search::SearchRequest;
use super::{CaseIndex, index_err};
use crate::domain::CaseId;
use crate::error::Result;

/// The cases a search matches, oldest received first (equal times by case number): an order
/// that does not change from one export to the next.
#[derive(Debug, Clone, Default)]
pub struct Matches {
    total: usize,
    /// Packed case numbers ([`CaseId::packed`]), in order; empty when there were too many.
    numbers: Vec<u64>,
}

impl Matches {
    /// Cases matched.
    pub fn total(&self) -> usize {
        self.total
    }

    /// Whether the case numbers were collected (there were no more than the most asked for).
    pub fn is_listed(&self) -> bool {
        self.numbers.len() == self.total
    }

    /// The case numbers, in order, `size` at a time.
    pub fn pages(&self, size: usize) -> impl Iterator<Item = Vec<CaseId>> + '_ {
        self.numbers
            .chunks(size.max(1))
            .map(|page| page.iter().map(|&n| CaseId::unpack(n)).collect())
    }
}

impl CaseIndex {
    /// Every case `req` matches (its query, filters and time range; its sort, limit, offset
    /// and facets are not used), oldest first. When more than `max` match, only the count is
    /// returned ([`Matches::is_listed`] is false). Blocking; memory is 16 bytes per match while
    /// sorting, 8 after.
    pub fn matches(&self, req: &SearchRequest, max: usize) -> Result<Matches> {
        self.guarded("an export's search", || self.matches_unguarded(req, max))
    }

    fn matches_unguarded(&self, req: &SearchRequest, max: usize) -> Result<Matches> {
        let searcher = self.reader.searcher();
        let query = self.with_filters(self.parse(&req.query)?, req)?;
        // Counted first, on the same snapshot: a selection too large is refused without
        // collecting it.
        let total = searcher.search(&*query, &Count).map_err(index_err)?;
        if total > max {
            return Ok(Matches {
                total,
                numbers: Vec::new(),
            });
        }
        let mut found = searcher.search(&*query, &ReceiptOrder).map_err(index_err)?;
        found.sort_unstable();
        Ok(Matches {
            total: found.len(),
            numbers: found.into_iter().map(|(_, n)| n).collect(),
        })
    }
}

/// Collects (receipt time in ms, packed case number) of every match.
struct ReceiptOrder;

impl Collector for ReceiptOrder {
    type Fruit = Vec<(i64, u64)>;
    type Child = ReceiptOrderSegment;

    fn for_segment(
        &self,
        _: SegmentOrdinal,
        segment: &SegmentReader,
    ) -> tantivy::Result<Self::Child> {
        let fast = segment.fast_fields();
        Ok(ReceiptOrderSegment {
            number: fast.u64("number")?,
            received_at: fast.date("received_at")?,
            found: Vec::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Vec<(i64, u64)>>) -> tantivy::Result<Vec<(i64, u64)>> {
        Ok(fruits.concat())
    }
}

struct ReceiptOrderSegment {
    number: Column<u64>,
    received_at: Column<tantivy::DateTime>,
    found: Vec<(i64, u64)>,
}

impl SegmentCollector for ReceiptOrderSegment {
    type Fruit = Vec<(i64, u64)>;

    fn collect(&mut self, doc: DocId, _: Score) {
        // Every case number the store gives packs (`TS` + a day + at most 9 digits); a
        // document without one is not a case.
        let Some(number) = self.number.first(doc) else {
            return;
        };
        let at = self
            .received_at
            .first(doc)
            .map_or(0, |d| d.into_timestamp_millis());
        self.found.push((at, number));
    }

    fn harvest(self) -> Vec<(i64, u64)> {
        self.found
    }
}
