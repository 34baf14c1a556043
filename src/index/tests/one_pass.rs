//! A search with few hits and facet filters in one pass over the words' hits: the same total,
//! page and facets as intersecting the filters' postings.

use super::*;
use crate::domain::{CaseId, Channel};

fn varied() -> Vec<Case> {
    let categories = ["网络问题", "费用问题", "服务问题"];
    let departments = [Some("网络运维中心"), Some("计费中心"), None];
    let channels = [Channel::Phone, Channel::Web, Channel::Wechat];
    let grades = [Grade::General, Grade::Serious, Grade::Major];
    (1..=240u64)
        .map(|n| {
            // Words repeated a varying number of times: varied scores.
            let text = format!(
                "{}宽带断网{}",
                "家里".repeat((n % 4) as usize + 1),
                "报修无人处理".repeat((n % 5) as usize)
            );
            let at = format!("2026-11-{:02}T{:02}:{:02}:00Z", 1 + n % 20, n % 24, n % 60);
            let mut c = case(n, &text, &at);
            c.category = Some(categories[(n % 3) as usize].into());
            c.department = departments[(n % 7 % 3) as usize].map(Into::into);
            c.channel = channels[(n % 5 % 3) as usize];
            c.grade = grades[(n % 11 % 3) as usize];
            if n % 6 == 0 {
                c.links.group_id = Some(format!("G{}", n % 4));
            }
            if n % 9 == 0 {
                c.links.repeat_of = vec![CaseId("TS20261122-000001".into())];
            }
            c
        })
        .collect()
}

#[test]
fn one_pass_over_few_hits_gives_the_page_total_and_facets_of_the_postings_intersection() {
    let (_dir, index) = index_of(&varied());
    let searcher = index.reader.searcher();
    // The words and filters of a request; facets counted, every hit on the page.
    let words = |query: &str, filters: &[(&str, &str)]| SearchRequest {
        query: query.into(),
        filters: filters
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect(),
        facets: true,
        limit: 100,
        ..Default::default()
    };
    let requests = [
        words("断网", &[("grade", "严重"), ("grade", "重大")]),
        SearchRequest {
            sort: Sort::Newest,
            offset: 3,
            limit: 10,
            ..words(
                "宽带",
                &[
                    ("category", "网络问题"),
                    ("channel", "wechat"),
                    ("linked", "group"),
                ],
            )
        },
        SearchRequest {
            within: Some(vec!["网络运维中心".into()]),
            sort: Sort::Oldest,
            limit: 20,
            ..words(
                "报修",
                &[("grade", "一般"), ("linked", "repeat"), ("linked", "group")],
            )
        },
        SearchRequest {
            within: Some(vec!["计费中心".into(), "网络运维中心".into()]),
            ..words("断网", &[("department", "计费中心")])
        },
        SearchRequest {
            limit: 10,
            ..words("断网", &[("category", "没有这一类")])
        },
        SearchRequest {
            within: Some(Vec::new()),
            limit: 10,
            ..words("断网", &[])
        },
        SearchRequest {
            from: Some("2026-11-05T00:00:00Z".parse().unwrap()),
            to: Some("2026-11-12T07:00:00Z".parse().unwrap()),
            sort: Sort::Newest,
            ..words("断网", &[("grade", "严重"), ("category", "网络问题")])
        },
        SearchRequest {
            facets: false,
            ..words("断网", &[("channel", "phone")])
        },
    ];
    for req in &requests {
        let text = index.parse(&req.query).unwrap();
        let gather = |one_pass| {
            index
                .gather(
                    &searcher,
                    req,
                    &*text,
                    index.filters(req).unwrap(),
                    req.limit,
                    one_pass,
                )
                .unwrap()
        };
        let (fast, plain) = (gather(true), gather(false));
        assert_eq!(fast.total, plain.total, "{req:?}");
        assert_eq!(fast.facets, plain.facets, "{req:?}");
        assert!(!fast.facets_estimated);
        let ids = |g: &super::super::gather::Gathered| -> Vec<(u32, String)> {
            g.docs
                .iter()
                .map(|(score, a)| ((score * 1000.0).round() as u32, format!("{a:?}")))
                .collect()
        };
        assert_eq!(ids(&fast), ids(&plain), "{req:?}");
    }
    // The requests above do reach the one pass, and find something to compare.
    let first = &requests[0];
    let text = index.parse(&first.query).unwrap();
    let found = index
        .gather(
            &searcher,
            first,
            &*text,
            index.filters(first).unwrap(),
            100,
            true,
        )
        .unwrap();
    assert!(found.total > 20 && found.total < 240, "{}", found.total);
    assert_eq!(
        found.facets["grade"].len(),
        3,
        "grade counted without its own filter"
    );
}
