//! Analysts' search: a Chinese query (words, phrases, AND / OR / NOT), filters, facet counts,
//! highlighted snippets, sorting by relevance or time, and offset cursors.

use std::collections::BTreeMap;
use std::ops::Bound;

use jiff::Timestamp;
use serde::Serialize;
use tantivy::Term;
use tantivy::query::{
    AllQuery, BooleanQuery, ConstScoreQuery, EmptyQuery, Occur, Query, QueryParser, RangeQuery,
    TermQuery, TermSetQuery,
};
use tantivy::schema::{IndexRecordOption, TantivyDocument, Value};
use tantivy::snippet::SnippetGenerator;

use super::gather::Gathered;
use super::highlight::Highlighter;
use super::schema::FACETS;
use super::{CaseIndex, facet_value, index_date, index_err};
use crate::domain::CaseId;
use crate::error::{Error, Result};

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

        let Gathered {
            docs,
            total,
            facets,
            facets_estimated,
        } = self.gather(&searcher, req, &*text_query, filters, limit, true)?;

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
        let mut parser = QueryParser::new(
            self.index.schema(),
            vec![self.fields.title, self.fields.text],
            self.query_tokenizers.clone(),
        );
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

    /// The request's filters as clauses that must hold (none without filters). They add
    /// nothing to a hit's score: a rarer grade is not a better match.
    pub(super) fn filters(&self, req: &SearchRequest) -> Result<Vec<(Occur, Box<dyn Query>)>> {
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
            let mut any: Vec<(Occur, Box<dyn Query>)> = values
                .into_iter()
                .map(|v| {
                    let q: Box<dyn Query> = Box::new(TermQuery::new(
                        Term::from_facet(field, &facet_value(v)),
                        IndexRecordOption::Basic,
                    ));
                    (Occur::Should, q)
                })
                .collect();
            // One value is its term alone: a term counts its hits from the dictionary, a
            // union of one visits them.
            let q: Box<dyn Query> = match any.len() {
                1 => any.pop().expect("one value").1,
                _ => Box::new(BooleanQuery::new(any)),
            };
            clauses.push((Occur::Must, q));
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
        Ok(clauses
            .into_iter()
            .map(|(occur, q)| {
                let q: Box<dyn Query> = Box::new(ConstScoreQuery::new(q, 0.0));
                (occur, q)
            })
            .collect())
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
pub(super) fn and(
    text: Box<dyn Query>,
    mut filters: Vec<(Occur, Box<dyn Query>)>,
) -> Box<dyn Query> {
    if filters.is_empty() {
        return text;
    }
    // Without words, the filters alone: one filter is then its own query, whose hits a term
    // counts without visiting them.
    if text.downcast_ref::<AllQuery>().is_none() {
        filters.insert(0, (Occur::Must, text));
    }
    match filters.len() {
        1 if filters[0].0 == Occur::Must => filters.pop().expect("one filter").1,
        _ => Box::new(BooleanQuery::new(filters)),
    }
}
