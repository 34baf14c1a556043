//! Analysts' search: a Chinese query (words, phrases, AND / OR / NOT), filters, facet counts,
//! highlighted snippets, sorting by relevance or time, and offset cursors.

use std::collections::BTreeMap;
use std::ops::Bound;

use jiff::Timestamp;
use serde::Serialize;
use tantivy::collector::{Count, MultiCollector, TopDocs};
use tantivy::query::{
    AllQuery, BooleanQuery, EmptyQuery, Occur, Query, QueryParser, RangeQuery, TermQuery,
    TermSetQuery,
};
use tantivy::schema::{IndexRecordOption, TantivyDocument, Value};
use tantivy::snippet::SnippetGenerator;
use tantivy::{DateTime, DocAddress, Order, Term};

use super::highlight::Highlighter;
use super::schema::FACETS;
use super::{CaseIndex, facet_value, index_date, index_err};
use super::{by_time, facets};
use crate::domain::CaseId;
use crate::error::{Error, Result};

// A search in time order over many hits has no facets counted in its pass.
const _: () = assert!(by_time::NARROW_FROM > facets::EXACT_UP_TO);

/// Deepest result reachable by paging: deeper pages cost more than they are worth to an
/// analyst; narrow the query or export instead.
pub const MAX_OFFSET: usize = 10_000;
/// Most hits per page.
pub const MAX_LIMIT: usize = 100;
/// Snippet length, in bytes of UTF-8 (about 80 Chinese characters).
pub(super) const SNIPPET_BYTES: usize = 240;

/// How to order hits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Sort {
    /// Best match first (BM25); newest first when the query has no words.
    #[default]
    Relevance,
    /// Most recently received first.
    Newest,
    /// Earliest received first.
    Oldest,
}

/// A search.
#[derive(Debug, Clone, Default)]
pub struct SearchRequest {
    /// The query; empty matches every case. Words are ANDed; `OR`, `NOT` / `-`, `"phrases"` and
    /// parentheses work as in tantivy's query language.
    pub query: String,
    /// Filters as (facet, value); several values of one facet match any of them.
    pub filters: Vec<(String, String)>,
    /// Received at or after.
    pub from: Option<Timestamp>,
    /// Received before.
    pub to: Option<Timestamp>,
    /// Order.
    pub sort: Sort,
    /// Hits per page.
    pub limit: usize,
    /// Hits to skip (from the cursor).
    pub offset: usize,
    /// Whether to count facets.
    pub facets: bool,
    /// Only cases of these departments, whatever the filters say: the caller's scope. Unlike a
    /// department filter it stays when the department facet is counted.
    pub within: Option<Vec<String>>,
    /// Only these case numbers (what `overdue` and `topic` resolve to).
    pub ids: Option<Vec<String>>,
    /// Only cases with a breached deadline now. The views resolve it into `ids`: the index
    /// does not know deadlines.
    pub overdue: bool,
    /// Only the cases of this hot topic (`T12`). The views resolve it into `ids`.
    pub topic: Option<String>,
    /// Only cases with this link (`dup:<id>`, `rep:<id>`, `group:<group id>`).
    pub linked_to: Option<String>,
}

/// One hit.
#[derive(Debug, Clone, Serialize)]
pub struct SearchHit {
    /// Case number.
    pub id: CaseId,
    /// BM25 score (0 when sorted by time).
    pub score: f32,
    /// When received.
    pub received_at: Timestamp,
}

/// A count of hits with one facet value.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FacetCount {
    /// The value.
    pub value: String,
    /// Hits with it.
    pub count: u64,
}

/// A page of hits.
#[derive(Debug, Serialize)]
pub struct SearchResults {
    /// Hits in all pages.
    pub total: usize,
    /// This page.
    pub hits: Vec<SearchHit>,
    /// Counts per facet value over all hits, when asked for.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub facets: BTreeMap<String, Vec<FacetCount>>,
    /// Whether the facet counts are estimated from a sample of the hits (over
    /// [`facets::EXACT_UP_TO`](super::facets::EXACT_UP_TO) of them).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub facets_estimated: bool,
    /// Offset of the next page, if there is one.
    #[serde(skip)]
    pub next_offset: Option<usize>,
    /// Highlights the hits' texts.
    #[serde(skip)]
    pub highlighter: Highlighter,
}

impl CaseIndex {
    /// Runs a search.
    pub fn search(&self, req: &SearchRequest) -> Result<SearchResults> {
        self.guarded("a search", || self.search_unguarded(req))
    }

    fn search_unguarded(&self, req: &SearchRequest) -> Result<SearchResults> {
        if req.offset > MAX_OFFSET {
            return Err(Error::Invalid(format!(
                "cannot page past {MAX_OFFSET} hits: narrow the query or the filters, or use export"
            )));
        }
        let limit = req.limit.clamp(1, MAX_LIMIT);
        let searcher = self.reader.searcher();
        let text_query = self.parse(&req.query)?;
        let filters = self.filters(req)?;
        let unfiltered = filters.is_empty();
        let query = and(text_query.box_clone(), filters);

        // The words' hits bound the search's and every facet's: when they are few, the facets
        // are counted exactly in the search's own pass, as they always were.
        let word_hits = if req.query.trim().is_empty() {
            searcher.num_docs() as usize
        } else {
            text_query.count(&searcher).map_err(index_err)?
        };
        let few = word_hits <= facets::EXACT_UP_TO;
        // A facet with a filter on it is counted apart, without that filter: its other values
        // keep their counts, so several can be picked (disjunctive facets).
        let filtered = |name: &str| req.filters.iter().any(|(f, _)| f == name);
        let free: Vec<&str> = if req.facets {
            FACETS.iter().copied().filter(|n| !filtered(n)).collect()
        } else {
            Vec::new()
        };
        // Without filters the words' hits are the total: counting them again in the search's
        // pass would visit every hit, and a search with nothing else to collect prunes instead
        // (block-WAND skips documents that cannot make the page).
        let mut multi = MultiCollector::new();
        let count = (!unfiltered).then(|| multi.add_collector(Count));
        let in_pass: Vec<_> = if few {
            free.iter()
                .map(|n| (*n, multi.add_collector(facets::collector(n))))
                .collect()
        } else {
            Vec::new()
        };
        let alone = count.is_none() && in_pass.is_empty();
        let mut counted = None;
        let top = TopDocs::with_limit(limit).and_offset(req.offset);
        let order = match req.sort {
            // Without words every case scores the same: the newest are what a desk expects.
            Sort::Relevance if req.query.trim().is_empty() => Some(Order::Desc),
            Sort::Relevance => None,
            Sort::Newest => Some(Order::Desc),
            Sort::Oldest => Some(Order::Asc),
        };
        let (docs, mut fruit): (Vec<(f32, DocAddress)>, _) = match order {
            // Many hits in time order: counted on their own, the page read from the end of
            // the time line (`by_time`).
            Some(order) if word_hits > by_time::NARROW_FROM => {
                let total = if unfiltered {
                    word_hits
                } else {
                    query.count(&searcher).map_err(index_err)?
                };
                let docs = by_time::page(
                    &searcher,
                    self.fields.received_at,
                    &*query,
                    total,
                    (req.offset, limit),
                    order,
                )?;
                counted = Some(total);
                (docs.into_iter().map(|d| (0.0, d)).collect(), None)
            }
            None if alone => (
                searcher
                    .search(&query, &top.order_by_score())
                    .map_err(index_err)?,
                None,
            ),
            None => {
                let (docs, fruit) = searcher
                    .search(&query, &(top.order_by_score(), multi))
                    .map_err(index_err)?;
                (docs, Some(fruit))
            }
            Some(order) => {
                let by_time = top.order_by_fast_field::<DateTime>("received_at", order);
                let (docs, fruit): (Vec<(Option<DateTime>, DocAddress)>, _) = if alone {
                    let docs = searcher.search(&query, &by_time).map_err(index_err)?;
                    (docs, None)
                } else {
                    let (docs, fruit) = searcher
                        .search(&query, &(by_time, multi))
                        .map_err(index_err)?;
                    (docs, Some(fruit))
                };
                (docs.into_iter().map(|(_, d)| (0.0, d)).collect(), fruit)
            }
        };
        let total = match (count, fruit.as_mut()) {
            (Some(count), Some(fruit)) => count.extract(fruit),
            _ => counted.unwrap_or(word_hits),
        };
        let mut facets = BTreeMap::new();
        let mut facets_estimated = false;
        if let Some(fruit) = fruit.as_mut() {
            for (name, handle) in in_pass {
                facets.insert(
                    name.to_string(),
                    facets::values(&handle.extract(fruit), 1.0),
                );
            }
        }
        if req.facets {
            if !few {
                let (counts, estimated) = facets::count(&searcher, &*query, total, &free)?;
                facets.extend(counts);
                facets_estimated |= estimated;
            }
            for name in FACETS.iter().copied().filter(|n| filtered(n)) {
                let mut others = req.clone();
                others.filters.retain(|(f, _)| f != name);
                let q = self.with_filters(text_query.box_clone(), &others)?;
                let hits = if few {
                    word_hits
                } else {
                    q.count(&searcher).map_err(index_err)?
                };
                let (counts, estimated) = facets::count(&searcher, &*q, hits, &[name])?;
                facets.extend(counts);
                facets_estimated |= estimated;
            }
        }

        let mut snippets = SnippetGenerator::create(&searcher, &*text_query, self.fields.text)
            .map_err(index_err)?;
        let mut terms: Vec<String> = Vec::new();
        text_query.query_terms(&mut |term, _| {
            if term.field() == self.fields.text
                && let Some(t) = term.value().as_str()
            {
                terms.push(t.to_string());
            }
        });
        snippets.set_max_num_chars(SNIPPET_BYTES);
        let mut hits = Vec::with_capacity(docs.len());
        for (score, address) in docs {
            let doc: TantivyDocument = searcher.doc(address).map_err(index_err)?;
            let id = doc
                .get_first(self.fields.id)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string();
            let received = doc
                .get_first(self.fields.received_at)
                .and_then(|v| v.as_datetime())
                .map(|d| d.into_timestamp_millis())
                .unwrap_or(0);
            hits.push(SearchHit {
                id: CaseId(id),
                score,
                received_at: Timestamp::from_millisecond(received).unwrap_or(Timestamp::UNIX_EPOCH),
            });
        }
        let next = req.offset + hits.len();
        Ok(SearchResults {
            total,
            next_offset: (next < total && next <= MAX_OFFSET && !hits.is_empty()).then_some(next),
            hits,
            facets,
            facets_estimated,
            highlighter: Highlighter {
                generator: snippets,
                terms,
            },
        })
    }

    pub(super) fn parse(&self, query: &str) -> Result<Box<dyn Query>> {
        if query.trim().is_empty() {
            return Ok(Box::new(AllQuery));
        }
        let mut parser =
            QueryParser::for_index(&self.index, vec![self.fields.title, self.fields.text]);
        parser.set_conjunction_by_default();
        parser.set_field_boost(self.fields.title, 1.5);
        parser
            .parse_query(query)
            .map_err(|e| Error::Invalid(format!("cannot read the query {query:?}: {e}")))
    }

    pub(super) fn with_filters(
        &self,
        text: Box<dyn Query>,
        req: &SearchRequest,
    ) -> Result<Box<dyn Query>> {
        Ok(and(text, self.filters(req)?))
    }

    /// The request's filters as clauses that must hold (none without filters).
    fn filters(&self, req: &SearchRequest) -> Result<Vec<(Occur, Box<dyn Query>)>> {
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut by_facet: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (name, value) in &req.filters {
            by_facet
                .entry(name.as_str())
                .or_default()
                .push(value.as_str());
        }
        for (name, values) in by_facet {
            let field = self.fields.facet(name).ok_or_else(|| {
                Error::Invalid(format!(
                    "cannot filter on {name:?}: filters are {}",
                    FACETS.join(", ")
                ))
            })?;
            let any: Vec<(Occur, Box<dyn Query>)> = values
                .into_iter()
                .map(|v| {
                    let q: Box<dyn Query> = Box::new(TermQuery::new(
                        Term::from_facet(field, &facet_value(v)),
                        IndexRecordOption::Basic,
                    ));
                    (Occur::Should, q)
                })
                .collect();
            clauses.push((Occur::Must, Box::new(BooleanQuery::new(any))));
        }
        if let Some(departments) = &req.within {
            clauses.push((
                Occur::Must,
                self.any_of(self.fields.facet("department"), departments),
            ));
        }
        if let Some(ids) = &req.ids {
            let q: Box<dyn Query> = if ids.is_empty() {
                Box::new(EmptyQuery)
            } else {
                let terms = ids
                    .iter()
                    .map(|id| Term::from_field_text(self.fields.id, id));
                Box::new(TermSetQuery::new(terms))
            };
            clauses.push((Occur::Must, q));
        }
        if let Some(link) = &req.linked_to {
            clauses.push((
                Occur::Must,
                Box::new(TermQuery::new(
                    Term::from_field_text(self.fields.link_to, link),
                    IndexRecordOption::Basic,
                )),
            ));
        }
        if req.from.is_some() || req.to.is_some() {
            clauses.push((Occur::Must, Box::new(self.received_range(req.from, req.to))));
        }
        Ok(clauses)
    }

    /// Cases with any of `values` in the facet `field` (none when `values` is empty).
    fn any_of(&self, field: Option<tantivy::schema::Field>, values: &[String]) -> Box<dyn Query> {
        let Some(field) = field.filter(|_| !values.is_empty()) else {
            return Box::new(EmptyQuery);
        };
        let terms = values
            .iter()
            .map(|v| Term::from_facet(field, &facet_value(v)));
        Box::new(TermSetQuery::new(terms))
    }

    /// Cases received in `[from, to)`.
    pub(super) fn received_range(
        &self,
        from: Option<Timestamp>,
        to: Option<Timestamp>,
    ) -> RangeQuery {
        let term = |t: Timestamp| Term::from_field_date(self.fields.received_at, index_date(t));
        RangeQuery::new(
            from.map_or(Bound::Unbounded, |t| Bound::Included(term(t))),
            to.map_or(Bound::Unbounded, |t| Bound::Excluded(term(t))),
        )
    }
}

/// `text` and every one of `filters`.
fn and(text: Box<dyn Query>, mut filters: Vec<(Occur, Box<dyn Query>)>) -> Box<dyn Query> {
    if filters.is_empty() {
        return text;
    }
    filters.insert(0, (Occur::Must, text));
    Box::new(BooleanQuery::new(filters))
}
