use super::*;

mod by_time;
mod facets;
mod one_pass;
mod words;
use crate::domain::{CaseId, Grade, Status};
use crate::text::{SegmentConfig, Segmenter};

fn tokenizer() -> ChineseTokenizer {
    let seg = Segmenter::new(SegmentConfig::default());
    ChineseTokenizer::new(seg.jieba(), true)
}

fn case(n: u64, text: &str, at: &str) -> Case {
    let mut c = crate::store::conformance::sample_case(text, at);
    c.id = CaseId(format!("TS20261122-{n:06}"));
    // Rows numbered apart from the case numbers, for hits to show which they carry.
    c.seq = 100 + n;
    c.version = n;
    c
}

fn corpus() -> Vec<Case> {
    let mut cases = vec![
        case(1, "家里宽带断网三天，报修无人处理", "2026-11-01T02:00:00Z"),
        case(2, "话费被多扣了二十元，要求退还", "2026-11-02T02:00:00Z"),
        case(3, "小区宽带经常断网，网速很慢", "2026-11-03T02:00:00Z"),
        case(
            4,
            "营业员态度恶劣，办理携号转网被拒",
            "2026-11-04T02:00:00Z",
        ),
    ];
    cases[1].category = Some("费用问题".into());
    cases[1].grade = Grade::Serious;
    cases[2].resolution = Some("已派维修人员上门更换光猫，网络恢复。".into());
    cases[2].status = Status::Replied;
    cases
}

fn index_of(cases: &[Case]) -> (tempfile::TempDir, CaseIndex) {
    let dir = tempfile::tempdir().unwrap();
    let index = CaseIndex::open(&dir.path().join("index"), tokenizer()).unwrap();
    assert!(index.was_rebuilt());
    index.upsert(cases).unwrap();
    assert!(index.commit().unwrap());
    (dir, index)
}

#[test]
fn searches_chinese_words_with_filters_facets_and_snippets() {
    let (_dir, index) = index_of(&corpus());
    let r = index
        .search(&SearchRequest {
            query: "断网".into(),
            limit: 10,
            facets: true,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(r.total, 2);
    let corpus = corpus();
    for h in &r.hits {
        let text = &corpus.iter().find(|c| c.id == h.id).unwrap().text;
        let snippet = r.highlighter.snippet(text);
        assert!(snippet.contains("<em>断网</em>"), "{snippet}");
    }
    assert_eq!(
        r.highlighter.snippet("话费<多扣>"),
        "话费&lt;多扣&gt;",
        "a text without the query's words: its start, escaped"
    );
    assert_eq!(
        r.facets["category"],
        vec![FacetCount {
            value: "网络问题".into(),
            count: 2
        }]
    );

    let r = index
        .search(&SearchRequest {
            query: "断网 OR 话费".into(),
            filters: vec![("grade".into(), "严重".into())],
            limit: 10,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        r.hits.iter().map(|h| h.id.as_str()).collect::<Vec<_>>(),
        ["TS20261122-000002"]
    );

    let r = index
        .search(&SearchRequest {
            query: "宽带 -报修".into(),
            limit: 10,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        r.hits.iter().map(|h| h.id.as_str()).collect::<Vec<_>>(),
        ["TS20261122-000003"]
    );
}

#[test]
fn sorts_by_time_pages_with_offsets_and_filters_dates() {
    let (_dir, index) = index_of(&corpus());
    let page = |offset| {
        index
            .search(&SearchRequest {
                sort: Sort::Newest,
                limit: 3,
                offset,
                ..Default::default()
            })
            .unwrap()
    };
    let first = page(0);
    assert_eq!(first.total, 4);
    assert_eq!(first.hits[0].id.as_str(), "TS20261122-000004");
    assert_eq!(first.next_offset, Some(3));
    let second = page(3);
    assert_eq!(second.hits[0].id.as_str(), "TS20261122-000001");
    assert_eq!(second.next_offset, None);
    let r = index
        .search(&SearchRequest {
            from: Some("2026-11-02T00:00:00Z".parse().unwrap()),
            to: Some("2026-11-04T00:00:00Z".parse().unwrap()),
            limit: 10,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(r.total, 2);
    assert!(
        index
            .search(&SearchRequest {
                filters: vec![("colour".into(), "red".into())],
                ..Default::default()
            })
            .is_err()
    );
}

#[test]
fn upsert_replaces_and_commit_records_the_version_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("index");
    {
        let index = CaseIndex::open(&path, tokenizer()).unwrap();
        let mut cases = corpus();
        index.upsert(&cases).unwrap();
        cases[0].status = Status::Closed;
        cases[0].version = 9;
        index.upsert(&cases[..1]).unwrap();
        index.commit().unwrap();
        assert_eq!(index.num_docs(), 4);
        assert!(!index.commit().unwrap(), "nothing new to commit");
    }
    let index = CaseIndex::open(&path, tokenizer()).unwrap();
    assert!(!index.was_rebuilt());
    assert_eq!(index.committed_version(), 9);
    let r = index
        .search(&SearchRequest {
            filters: vec![("status".into(), "closed".into())],
            limit: 10,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(r.total, 1);
    index.clear().unwrap();
    assert_eq!(index.num_docs(), 0);
}

#[test]
fn a_corrupt_index_is_started_afresh() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("index");
    std::fs::create_dir_all(&path).unwrap();
    std::fs::write(path.join("meta.json"), "{not json").unwrap();
    let index = CaseIndex::open(&path, tokenizer()).unwrap();
    assert!(index.was_rebuilt());
    assert_eq!(index.committed_version(), 0);
}

#[test]
fn similar_finds_the_same_topic_and_filters_resolved() {
    let (_dir, index) = index_of(&corpus());
    let hits = index
        .similar(
            "我家宽带老是断网",
            &SimilarRequest {
                limit: 5,
                ..Default::default()
            },
        )
        .unwrap();
    let ids: Vec<_> = hits.iter().map(|h| h.id.as_str()).collect();
    assert!(
        ids.len() >= 2 && ids[..2].contains(&"TS20261122-000001"),
        "{ids:?}"
    );
    let resolved = index
        .similar(
            "我家宽带老是断网",
            &SimilarRequest {
                limit: 5,
                resolved_only: true,
                exclude: Some(CaseId("TS20261122-000001".into())),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(
        resolved
            .iter()
            .map(|h| (h.id.as_str(), h.seq))
            .collect::<Vec<_>>(),
        [("TS20261122-000003", Some(103))],
        "a hit carries its case's row in the store"
    );
}

#[test]
fn similar_scores_are_plain_bm25_on_one_segment() {
    use tantivy::collector::TopDocs;
    use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
    let (_dir, index) = index_of(&corpus());
    // Indexing threads may have split the corpus; on one segment the estimates are exact.
    index.compact().unwrap();
    let text = "我家宽带老是断网，网速很慢";
    let query = index.similar_query(text).unwrap();
    let hits = index
        .similar_to_query(
            &query,
            &SimilarRequest {
                limit: 5,
                ..Default::default()
            },
        )
        .unwrap();
    // The same words scored with the searcher's own statistics (exact on one segment).
    let total = index.reader.searcher().num_docs();
    let words: Vec<(Occur, Box<dyn Query>)> = query
        .used(None, total, false)
        .into_iter()
        .map(|(_, t, _)| {
            let q: Box<dyn Query> = Box::new(TermQuery::new(
                t.clone(),
                tantivy::schema::IndexRecordOption::WithFreqs,
            ));
            (Occur::Should, q)
        })
        .collect();
    let searcher = index.reader.searcher();
    let plain = searcher
        .search(
            &BooleanQuery::new(words),
            &TopDocs::with_limit(5).order_by_score(),
        )
        .unwrap();
    assert!(!hits.is_empty());
    assert_eq!(hits.len(), plain.len());
    for (hit, (score, _)) in hits.iter().zip(&plain) {
        assert!((hit.score - score).abs() < 1e-4, "{} vs {score}", hit.score);
    }
}

#[test]
fn similar_reads_each_segment_as_it_now_is() {
    let dir = tempfile::tempdir().unwrap();
    let index = CaseIndex::open(&dir.path().join("index"), tokenizer()).unwrap();
    // A commit per case: many segments, merged in the background as they come.
    for n in 1..=70 {
        let mut c = case(n, "小区宽带经常断网，网速很慢", "2026-11-03T02:00:00Z");
        c.resolution = Some("已派维修人员上门更换光猫。".into());
        index.upsert(&[c]).unwrap();
        assert!(index.commit().unwrap());
    }
    let resolved = |index: &CaseIndex| {
        index
            .similar(
                "宽带断网",
                &SimilarRequest {
                    limit: 100,
                    resolved_only: true,
                    ..Default::default()
                },
            )
            .unwrap()
            .len()
    };
    assert_eq!(resolved(&index), 70);
    // Rewritten without a resolution: the case moves to a new segment, read afresh.
    let mut c = case(7, "小区宽带经常断网，网速很慢", "2026-11-03T02:00:00Z");
    c.version = 71;
    index.upsert(&[c]).unwrap();
    assert!(index.commit().unwrap());
    assert_eq!(resolved(&index), 69);
    // Merged away, the old segments' columns are dropped at the next lookup.
    index.compact().unwrap();
    assert_eq!(resolved(&index), 69);
    assert_eq!(index.reader.searcher().segment_readers().len(), 1);
    assert_eq!(index.hit_columns.len(), 1);
}

#[test]
fn switching_to_bulk_and_back_keeps_what_was_added() {
    let dir = tempfile::tempdir().unwrap();
    let index = CaseIndex::open(&dir.path().join("index"), tokenizer()).unwrap();
    let cases = corpus();
    // Added but not committed: the switch commits it before replacing the writer.
    index.upsert(&cases[..2]).unwrap();
    index.set_bulk(true).unwrap();
    assert_eq!(index.committed_version(), 2);
    assert_eq!(index.num_docs(), 2);
    index.upsert(&cases[2..]).unwrap();
    index.set_bulk(false).unwrap();
    assert_eq!(index.committed_version(), 4);
    assert_eq!(index.num_docs(), 4);
    let mut more = case(5, "宽带又断网了", "2026-11-05T02:00:00Z");
    more.version = 5;
    index.upsert(&[more]).unwrap();
    assert!(index.commit().unwrap());
    assert_eq!(index.num_docs(), 5);
}

#[test]
fn query_words_of_equal_weight_come_in_one_order() {
    let (_dir, index) = index_of(&corpus());
    // 宽带 and 断网 are in two cases each: equal weights.
    let words =
        |q: &SimilarQuery| -> Vec<Term> { q.weighted.iter().map(|w| w.1.clone()).collect() };
    let first = words(&index.similar_query("我家宽带老是断网").unwrap());
    for _ in 0..20 {
        assert_eq!(
            words(&index.similar_query("我家宽带老是断网").unwrap()),
            first
        );
    }
}

#[test]
fn a_read_that_panics_answers_an_error_and_marks_the_index_for_a_check() {
    let (_dir, index) = index_of(&corpus());
    let r: Result<()> = index.guarded("a test read", || panic!("a query tantivy cannot take"));
    assert!(matches!(r, Err(Error::Index(_))));
    assert!(index.take_damage(), "marked for a check");
    assert!(!index.take_damage(), "once");
    // A panic is not proof of damage: these files pass their checksums, so no rebuild.
    assert!(index.is_whole());
    assert_eq!(index.search(&SearchRequest::default()).unwrap().total, 4);
}

#[test]
fn an_index_locked_by_another_writer_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("index");
    let first = CaseIndex::open(&path, tokenizer()).unwrap();
    first.upsert(&corpus()).unwrap();
    first.commit().unwrap();
    let second = CaseIndex::open(&path, tokenizer()).unwrap_err().to_string();
    assert!(second.contains("in use by another process"), "{second}");
    // Not deleted as if damaged: the first still has all it had.
    assert_eq!(first.search(&SearchRequest::default()).unwrap().total, 4);
}

#[test]
fn matches_are_every_hit_oldest_first_or_only_their_count_past_the_most() {
    let mut cases = corpus();
    // Received out of number order, and two at the same time (then by number).
    cases[0].received_at = "2026-11-05T02:00:00Z".parse().unwrap();
    cases[3].received_at = cases[1].received_at;
    let (_dir, index) = index_of(&cases);
    let ids = |m: &Matches| -> Vec<String> {
        m.pages(2)
            .flatten()
            .map(|id| id.as_str()[11..].to_string())
            .collect()
    };
    let all = index.matches(&SearchRequest::default(), 10).unwrap();
    assert!(all.is_listed());
    assert_eq!(ids(&all), ["000002", "000004", "000003", "000001"]);
    let req = SearchRequest {
        query: "断网".into(),
        ..Default::default()
    };
    assert_eq!(ids(&index.matches(&req, 10).unwrap()), ["000003", "000001"]);
    let over = index.matches(&SearchRequest::default(), 3).unwrap();
    assert_eq!((over.total(), over.is_listed()), (4, false));
    assert_eq!(over.pages(10).count(), 0);
}
