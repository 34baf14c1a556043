//! Pages in time order read from a span at the end of the time line: the same pages as
//! sorting every hit.

use super::*;
use tantivy::Order;

#[test]
fn a_page_from_the_end_of_the_time_line_is_the_page_of_every_hit() {
    // Receipts bunched unevenly (most in the first days, a thin tail, some at the same
    // second) so that the first span tried is often too short and must widen.
    let cases: Vec<Case> = (1..=400u64)
        .map(|n| {
            let day = if n % 7 == 0 { 20 + n % 9 } else { 1 + n % 3 };
            let at = format!("2026-11-{day:02}T{:02}:00:00Z", n % 5);
            let text = if n % 2 == 0 {
                "宽带断网"
            } else {
                "话费多扣"
            };
            case(n, text, &at)
        })
        .collect();
    let (_dir, index) = index_of(&cases);
    let searcher = index.reader.searcher();
    for query in ["", "断网"] {
        let query = index.parse(query).unwrap();
        let hits = query.count(&searcher).unwrap();
        for order in [Order::Desc, Order::Asc] {
            for (offset, limit) in [(0, 1), (0, 10), (5, 20), (30, 7), (190, 20), (380, 30)] {
                let page = |narrow_from| {
                    super::super::by_time::page(
                        narrow_from,
                        &searcher,
                        index.fields.received_at,
                        &*query,
                        hits,
                        (offset, limit),
                        order,
                    )
                    .unwrap()
                };
                let every = page(usize::MAX);
                assert_eq!(every.len(), limit.min(hits.saturating_sub(offset)));
                assert_eq!(page(10), every, "{order:?} {offset}+{limit} of {hits}");
            }
        }
    }
}
