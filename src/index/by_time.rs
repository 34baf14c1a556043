//! A page of a search in time order. Sorting every hit by its time reads the time of each: at
//! a million cases, "every case, newest first" took 10 ms (perf, docs/benchmarks.md). The
//! newest (or oldest) few of many hits lie in a short span at the end of the time line, so the
//! search looks there first and widens the span until the page is full.

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, InvertedIndexRangeQuery, Occur, Query};
use tantivy::schema::Field;
use tantivy::{DateTime, DocAddress, Order, Searcher, Term};

use super::index_err;
use crate::error::Result;

/// Hits from which a span is tried first; below, sorting them all is as quick.
pub(super) const NARROW_FROM: usize = 20_000;
/// How much longer each next span is.
const WIDEN: f64 = 4.0;

/// The `limit` hits of `query` (of which there are `hits`) after `offset`, in `order` of
/// receipt; spans are tried first from `narrow_from` hits ([`NARROW_FROM`]).
pub(super) fn page(
    narrow_from: usize,
    searcher: &Searcher,
    received_at: Field,
    query: &dyn Query,
    hits: usize,
    (offset, limit): (usize, usize),
    order: Order,
) -> Result<Vec<DocAddress>> {
    let want = offset + limit;
    let span = if hits > narrow_from && want < hits {
        time_line(searcher)?
    } else {
        None
    };
    // Were hits spread evenly over time, this share of the time line would hold the page
    // four times over.
    let mut share = (WIDEN * want as f64 / hits as f64).min(1.0);
    loop {
        let edge = span.filter(|_| share < 1.0).map(|(first, last)| {
            let length = (last - first) as f64 * share;
            match order {
                Order::Desc => last - length as i64,
                Order::Asc => first + length as i64,
            }
        });
        let sort = TopDocs::with_limit(limit)
            .and_offset(offset)
            .order_by_fast_field::<DateTime>("received_at", order);
        let docs: Vec<(Option<DateTime>, DocAddress)> = match edge {
            None => searcher.search(query, &sort),
            Some(edge) => {
                // Whole seconds, as the index holds times.
                let edge = Term::from_field_date(
                    received_at,
                    DateTime::from_timestamp_secs(edge.div_euclid(1_000_000)),
                );
                // Every hit outside the span is older (newer) than every hit inside: when the
                // span holds the page, the page is the whole search's. The span is read from
                // the times' terms: a range over the time column scans all of it, a million
                // values per search (perf, docs/benchmarks.md), where the span holds a few
                // thousand.
                let within = match order {
                    Order::Desc => InvertedIndexRangeQuery::new(
                        std::ops::Bound::Included(edge),
                        std::ops::Bound::Unbounded,
                    ),
                    Order::Asc => InvertedIndexRangeQuery::new(
                        std::ops::Bound::Unbounded,
                        std::ops::Bound::Included(edge),
                    ),
                };
                let bounded = BooleanQuery::new(vec![
                    (Occur::Must, query.box_clone()),
                    (Occur::Must, Box::new(within)),
                ]);
                searcher.search(&bounded, &sort)
            }
        }
        .map_err(index_err)?;
        if edge.is_none() || docs.len() == limit {
            return Ok(docs.into_iter().map(|(_, d)| d).collect());
        }
        share *= WIDEN;
    }
}

/// The first and last time of receipt in the index, in microseconds (deleted documents
/// included: they only widen it).
fn time_line(searcher: &Searcher) -> Result<Option<(i64, i64)>> {
    let mut line: Option<(i64, i64)> = None;
    for segment in searcher.segment_readers() {
        let column = segment
            .fast_fields()
            .date("received_at")
            .map_err(index_err)?;
        let (first, last) = (
            column.min_value().into_timestamp_micros(),
            column.max_value().into_timestamp_micros(),
        );
        line = Some(match line {
            None => (first, last),
            Some((f, l)) => (f.min(first), l.max(last)),
        });
    }
    Ok(line.filter(|(first, last)| first < last))
}
