//! Facet counts past the exact limit: estimated from a sample, close to the exact ones.

use super::*;

#[test]
fn facets_of_many_hits_are_estimated_from_a_sample_close_to_the_exact_counts() {
    let categories = ["网络问题", "费用问题", "服务问题", "业务办理问题"];
    let cases: Vec<Case> = (1..=4000u64)
        .map(|n| {
            let mut c = case(n, "宽带断网", "2026-11-01T02:00:00Z");
            // Shares 40/30/20/10 %, in runs (as imports come), not interleaved.
            let i = match n % 100 {
                0..40 => 0,
                40..70 => 1,
                70..90 => 2,
                _ => 3,
            };
            c.category = Some(categories[i].into());
            c
        })
        .collect();
    let (_dir, index) = index_of(&cases);
    let searcher = index.reader.searcher();
    let query = index.parse("断网").unwrap();
    let (exact, estimated) =
        super::super::facets::count_up_to(&searcher, &*query, 4000, &["category"], 10_000).unwrap();
    assert!(!estimated);
    let (sampled, estimated) =
        super::super::facets::count_up_to(&searcher, &*query, 4000, &["category"], 400).unwrap();
    assert!(estimated);
    for (e, s) in exact["category"].iter().zip(&sampled["category"]) {
        assert_eq!(e.value, s.value, "the same order: {exact:?} {sampled:?}");
        let off = (e.count as f64 - s.count as f64).abs() / e.count as f64;
        assert!(
            off < 0.35,
            "{} exact {} sampled {}",
            e.value,
            e.count,
            s.count
        );
    }
    assert_eq!(exact["category"][0].count, 1600);
}

#[test]
fn facets_of_every_case_are_exact_and_leave_out_rewritten_cases() {
    let categories = ["网络问题", "费用问题", "服务问题"];
    let mut cases: Vec<Case> = (1..=300u64)
        .map(|n| {
            let mut c = case(n, "宽带断网", "2026-11-01T02:00:00Z");
            c.category = Some(categories[(n % 3) as usize].into());
            c
        })
        .collect();
    let (_dir, index) = index_of(&cases);
    // Rewritten cases: their old documents stay in the segment, deleted, until a merge.
    for c in cases.iter_mut().take(30) {
        c.category = Some("业务办理问题".into());
        c.version += 1000;
    }
    index.upsert(&cases[..30]).unwrap();
    assert!(index.commit().unwrap());
    let searcher = index.reader.searcher();
    assert!(
        searcher
            .segment_readers()
            .iter()
            .any(|s| s.num_deleted_docs() > 0),
        "the test needs deleted documents"
    );
    let all = tantivy::query::AllQuery;
    let names = ["category", "grade"];
    let (fast, estimated) =
        super::super::facets::count_up_to(&searcher, &all, 300, &names, 10_000).unwrap();
    assert!(!estimated);
    for name in names {
        let counted = searcher
            .search(&all, &super::super::facets::collector(name))
            .unwrap();
        assert_eq!(
            fast[name],
            super::super::facets::values(&counted, 1.0),
            "{name}"
        );
    }
    let by_value: Vec<(&str, u64)> = fast["category"]
        .iter()
        .map(|f| (f.value.as_str(), f.count))
        .collect();
    assert_eq!(
        by_value,
        [
            ("服务问题", 90),
            ("网络问题", 90),
            ("费用问题", 90),
            ("业务办理问题", 30)
        ]
    );
}
