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
    let (exact, estimated) = super::super::facets::count_up_to(
        &index.facet_tables,
        &searcher,
        &*query,
        4000,
        &["category"],
        10_000,
    )
    .unwrap();
    assert!(!estimated);
    let (sampled, estimated) = super::super::facets::count_up_to(
        &index.facet_tables,
        &searcher,
        &*query,
        4000,
        &["category"],
        400,
    )
    .unwrap();
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
    let (fast, estimated) = super::super::facets::count_up_to(
        &index.facet_tables,
        &searcher,
        &all,
        300,
        &names,
        10_000,
    )
    .unwrap();
    assert!(!estimated);
    for name in names {
        assert_eq!(fast[name], by_tantivy(&searcher, &all, name), "{name}");
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

/// The counts of facet `name` over the hits of `query` by tantivy's own facet collector.
fn by_tantivy(
    searcher: &tantivy::Searcher,
    query: &dyn tantivy::query::Query,
    name: &str,
) -> Vec<FacetCount> {
    let mut collector = tantivy::collector::FacetCollector::for_field(name);
    collector.add_facet("/");
    let counts = searcher.search(query, &collector).unwrap();
    super::super::facets::sorted(
        counts
            .get("/")
            .map(|(facet, count)| FacetCount {
                value: facet.to_path().last().unwrap().to_string(),
                count,
            })
            .collect(),
    )
}

#[test]
fn the_facet_tables_count_as_tantivy_does_over_deleted_and_multi_valued_documents() {
    // Categories past 16 values (ordinals), grades (bit masks), links (several a case).
    let mut cases: Vec<Case> = (1..=400u64)
        .map(|n| {
            let mut c = case(
                n,
                if n % 2 == 0 {
                    "宽带断网"
                } else {
                    "话费多扣"
                },
                "2026-11-01T02:00:00Z",
            );
            c.category = Some(format!("类别{}", n % 23));
            c.grade = if n % 5 == 0 {
                Grade::Serious
            } else {
                Grade::General
            };
            if n % 3 == 0 {
                c.links.repeat_of = vec![CaseId("TS20261122-000001".into())];
            }
            if n % 4 == 0 {
                c.links.group_id = Some("G1".into());
            }
            c
        })
        .collect();
    let (_dir, index) = index_of(&cases);
    for c in cases.iter_mut().take(40) {
        c.category = Some("改过的".into());
        c.version += 1000;
    }
    index.upsert(&cases[..40]).unwrap();
    assert!(index.commit().unwrap());
    let searcher = index.reader.searcher();
    let query = index.parse("宽带").unwrap();
    let names = ["category", "grade", "linked"];
    let (counted, estimated) = super::super::facets::count_up_to(
        &index.facet_tables,
        &searcher,
        &*query,
        200,
        &names,
        10_000,
    )
    .unwrap();
    assert!(!estimated);
    for name in names {
        assert_eq!(
            counted[name],
            by_tantivy(&searcher, &*query, name),
            "{name}"
        );
    }
    assert!(counted["category"].len() > 16, "{:?}", counted["category"]);
    assert_eq!(counted["linked"].len(), 2, "{:?}", counted["linked"]);
}
