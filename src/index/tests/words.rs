//! Queries are read in whole words against an index of words and the words inside them.

use super::*;

/// The first ten hits of `query`.
fn search(index: &CaseIndex, query: &str) -> SearchResults {
    index
        .search(&SearchRequest {
            query: query.into(),
            limit: 10,
            ..Default::default()
        })
        .unwrap()
}

#[test]
fn a_word_the_words_inside_it_and_phrases_of_whole_words_all_find_the_case() {
    let (_dir, index) = index_of(&[
        case(
            1,
            "申请提取住房公积金，中华人民共和国成立七十周年",
            "2026-11-01T02:00:00Z",
        ),
        case(
            2,
            "住房面积测量有误，公积金贷款利率过高",
            "2026-11-02T02:00:00Z",
        ),
    ]);
    let hits = |q: &str| -> Vec<String> {
        let r = search(&index, q);
        let mut ids: Vec<String> = r.hits.into_iter().map(|h| h.id.0).collect();
        ids.sort();
        ids
    };
    let both = vec!["TS20261122-000001".to_string(), "TS20261122-000002".into()];
    let first = vec!["TS20261122-000001".to_string()];
    assert_eq!(hits("公积金"), both);
    assert_eq!(hits("公积"), both, "a word inside a word");
    assert_eq!(hits("\"住房公积金\""), first, "a phrase of whole words");
    assert_eq!(
        hits("住房公积金"),
        first,
        "words of one query word stay a phrase"
    );
    assert_eq!(
        hits("\"公积金 中华人民共和国\""),
        first,
        "a phrase across a comma"
    );
    assert_eq!(hits("人民"), first);
}

#[test]
fn a_query_word_is_one_term_not_a_phrase_of_its_parts() {
    let (_dir, index) = index_of(&corpus());
    // A phrase reads positions: at a million cases that was a tenth of the search's time.
    let q = index.parse("公积金").unwrap();
    assert!(!format!("{q:?}").contains("Phrase"), "{q:?}");
    let q = index.parse("住房公积金").unwrap();
    assert!(format!("{q:?}").contains("Phrase"), "{q:?}");
}

#[test]
fn a_snippet_of_a_word_whose_parts_come_before_it_highlights_the_word() {
    // A real text on which a snippet's fragment once began inside 公积金 (at 积金, which
    // jieba gives before the word) and tantivy panicked on the highlight before it. Where the
    // fragment breaks depends on what comes before: every length of lead-in is tried.
    let tail = "办理公积金贷款时则被公积金中心认定为二套房,要求首付提高到60%,首付多出几十万,\
                本人无力承担。开发商不肯退房,公积金中心和住建委标准打架。(编号0998245)";
    let texts: Vec<String> = (0..90)
        .map(|n| format!("{}{tail}", "投诉".repeat(n)))
        .collect();
    let cases: Vec<Case> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| case(i as u64 + 1, t, "2026-11-01T02:00:00Z"))
        .collect();
    let (_dir, index) = index_of(&cases);
    for q in ["公积金", "积金", "公积"] {
        let r = search(&index, q);
        assert_eq!(r.total, texts.len(), "{q}");
        for text in &texts {
            let snippet = r.highlighter.snippet(text);
            assert!(snippet.contains("<em>"), "{q}: {snippet}");
        }
    }
}
