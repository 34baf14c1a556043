//! Gathering a search's page, total and facets: the cheapest pass (or passes) for the shape of
//! the search (few or many hits, filters or none, relevance or time order).

use std::collections::BTreeMap;

use tantivy::collector::{Count, MultiCollector, TopDocs};
use tantivy::query::{Occur, Query};
use tantivy::{DateTime, DocAddress, Order, Searcher};

use super::schema::FACETS;
use super::search::{FacetCount, SearchRequest, Sort, and};
use super::{CaseIndex, by_time, facets, index_date, index_err, one_pass};
use crate::error::Result;

// A search in time order over many hits has no facets counted in its pass.
const _: () = assert!(by_time::NARROW_FROM > facets::EXACT_UP_TO);

/// A search's page, total and facets.
pub(super) struct Gathered {
    pub docs: Vec<(f32, DocAddress)>,
    pub total: usize,
    pub facets: BTreeMap<String, Vec<FacetCount>>,
    pub facets_estimated: bool,
}

impl CaseIndex {
    /// The page (`limit` hits after the request's offset), the total and the facets of a
    /// search: `text_query` with `filters`. `one_pass` allows [`one_pass`] where it applies.
    pub(super) fn gather(
        &self,
        searcher: &Searcher,
        req: &SearchRequest,
        text_query: &dyn Query,
        filters: Vec<(Occur, Box<dyn Query>)>,
        limit: usize,
        one_pass: bool,
    ) -> Result<Gathered> {
        // The words' hits bound the search's and every facet's: when they are few, the facets
        // are counted exactly in the search's own pass, as they always were.
        let word_hits = if req.query.trim().is_empty() {
            searcher.num_docs() as usize
        } else {
            text_query.count(searcher).map_err(index_err)?
        };
        let few = word_hits <= facets::EXACT_UP_TO;
        let unfiltered = filters.is_empty();
        if one_pass && few && !unfiltered && req.ids.is_none() && req.linked_to.is_none() {
            return self.gather_in_one_pass(searcher, req, text_query, limit);
        }
        let query = and(text_query.box_clone(), filters);
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
        let in_pass = if few && !free.is_empty() {
            Some(multi.add_collector(facets::Tally::new(&self.facet_tables, searcher, &free)?))
        } else {
            None
        };
        let alone = count.is_none() && in_pass.is_none();
        let top = TopDocs::with_limit(limit).and_offset(req.offset);
        // The page, the pass's collectors' fruit when there was one, and the total when it was
        // counted on its own.
        let (docs, mut fruit, counted): (Vec<(f32, DocAddress)>, _, _) = match order_of(req) {
            // Many hits in time order: counted on their own, the page read from the end of
            // the time line (`by_time`).
            Some(order) if word_hits > by_time::NARROW_FROM => {
                let total = if unfiltered {
                    word_hits
                } else {
                    query.count(searcher).map_err(index_err)?
                };
                let docs = by_time::page(
                    by_time::NARROW_FROM,
                    searcher,
                    self.fields.received_at,
                    &*query,
                    total,
                    (req.offset, limit),
                    order,
                )?;
                (
                    docs.into_iter().map(|d| (0.0, d)).collect(),
                    None,
                    Some(total),
                )
            }
            None if alone => {
                let docs = searcher
                    .search(&query, &top.order_by_score())
                    .map_err(index_err)?;
                (docs, None, None)
            }
            None => {
                let (docs, fruit) = searcher
                    .search(&query, &(top.order_by_score(), multi))
                    .map_err(index_err)?;
                (docs, Some(fruit), None)
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
                (
                    docs.into_iter().map(|(_, d)| (0.0, d)).collect(),
                    fruit,
                    None,
                )
            }
        };
        let total = match (count, fruit.as_mut()) {
            (Some(count), Some(fruit)) => count.extract(fruit),
            _ => counted.unwrap_or(word_hits),
        };
        let mut facets = BTreeMap::new();
        let mut facets_estimated = false;
        if let (Some(fruit), Some(handle)) = (fruit.as_mut(), in_pass) {
            facets.extend(facets::named(&free, handle.extract(fruit), 1.0));
        }
        if req.facets {
            if !few {
                let (counts, estimated) =
                    facets::count(&self.facet_tables, searcher, &*query, total, &free)?;
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
                    q.count(searcher).map_err(index_err)?
                };
                let (counts, estimated) =
                    facets::count(&self.facet_tables, searcher, &*q, hits, &[name])?;
                facets.extend(counts);
                facets_estimated |= estimated;
            }
        }
        Ok(Gathered {
            docs,
            total,
            facets,
            facets_estimated,
        })
    }

    /// [`one_pass::run`] for a search with few hits and only facet filters (and a scope).
    fn gather_in_one_pass(
        &self,
        searcher: &Searcher,
        req: &SearchRequest,
        text_query: &dyn Query,
        limit: usize,
    ) -> Result<Gathered> {
        let filter_of = |name: &str| -> Option<Vec<String>> {
            let values: Vec<String> = req
                .filters
                .iter()
                .filter(|(f, _)| f == name)
                .map(|(_, v)| v.clone())
                .collect();
            (!values.is_empty()).then_some(values)
        };
        let slots: Vec<one_pass::Slot> = FACETS
            .iter()
            .map(|name| one_pass::Slot {
                name,
                counted: req.facets,
                filter: filter_of(name),
            })
            .filter(|s| s.counted || s.filter.is_some())
            .collect();
        let found = one_pass::run(
            &self.facet_tables,
            searcher,
            text_query,
            &slots,
            one_pass::Scope {
                departments: req.within.as_deref(),
                from: req.from.map(index_date),
                to: req.to.map(index_date),
            },
            order_of(req),
            (req.offset, limit),
        )?;
        Ok(Gathered {
            docs: found.page,
            total: found.total,
            facets: found.facets,
            facets_estimated: false,
        })
    }
}

/// The order of hits: `None` for relevance.
fn order_of(req: &SearchRequest) -> Option<Order> {
    match req.sort {
        // Without words every case scores the same: the newest are what a desk expects.
        Sort::Relevance if req.query.trim().is_empty() => Some(Order::Desc),
        Sort::Relevance => None,
        Sort::Newest => Some(Order::Desc),
        Sort::Oldest => Some(Order::Asc),
    }
}
