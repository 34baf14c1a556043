//! Search for analysts: index hits joined with the store's current view of each case.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Serialize;

use super::Views;
use crate::domain::{CaseId, Channel, Grade, Status};
use crate::error::Result;
use crate::handling::Actor;
use crate::index::{FacetCount, SearchRequest};

/// A department no case has: the filter of a search that may find nothing.
const NO_DEPARTMENT: &str = "\u{0}";

/// A hit with the case's current fields.
#[derive(Debug, Clone, Serialize)]
pub struct SearchItem {
    /// Case number.
    pub id: CaseId,
    /// Relevance (0 when sorted by time).
    pub score: f32,
    /// Highlighted fragment (HTML-escaped; matches in `<em>`).
    pub snippet: String,
    /// Title, masked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Category.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Grade.
    pub grade: Grade,
    /// Status.
    pub status: Status,
    /// Channel.
    pub channel: Channel,
    /// Department.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// When received.
    pub received_at: Timestamp,
}

/// A page of search results.
#[derive(Debug, Clone, Serialize)]
pub struct SearchPage {
    /// Hits in all pages.
    pub total: usize,
    /// This page.
    pub hits: Vec<SearchItem>,
    /// Facet counts over all hits.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub facets: BTreeMap<String, Vec<FacetCount>>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

impl Views {
    /// Searches the case history as `actor` sees it: a handler or supervisor finds the cases of
    /// their departments only (a department filter outside them matches nothing).
    pub fn search_as(&self, req: &SearchRequest, actor: &Actor) -> Result<SearchPage> {
        match scoped(req, actor) {
            Some(req) => self.search(&req),
            None => self.search(req),
        }
    }

    /// Searches the case history.
    pub fn search(&self, req: &SearchRequest) -> Result<SearchPage> {
        let results = self.shared.index.search(req)?;
        let ids: Vec<CaseId> = results.hits.iter().map(|h| h.id.clone()).collect();
        let mut cases: BTreeMap<CaseId, _> = self
            .shared
            .store
            .get_many(&ids)?
            .into_iter()
            .map(|c| (c.id.clone(), c))
            .collect();
        let hits = results
            .hits
            .into_iter()
            .filter_map(|h| {
                // A case the index knows but the store does not cannot happen unless the store
                // was replaced under a running index; skip rather than show a ghost.
                let c = cases.remove(&h.id)?;
                Some(SearchItem {
                    id: h.id,
                    score: h.score,
                    snippet: h.snippet,
                    title: c.title.clone(),
                    category: c.category.clone(),
                    grade: c.grade,
                    status: c.status,
                    channel: c.channel,
                    department: c.department.clone(),
                    received_at: c.received_at,
                })
            })
            .collect();
        Ok(SearchPage {
            total: results.total,
            hits,
            facets: results.facets,
            next_cursor: results.next_offset.map(|o| o.to_string()),
        })
    }
}

/// `req` held to `actor`'s departments, or `None` when the actor sees every department: the
/// department filters kept are the actor's; with none of theirs asked for, nothing matches.
pub(super) fn scoped(req: &SearchRequest, actor: &Actor) -> Option<SearchRequest> {
    let scope = actor.scope()?;
    let mut req = req.clone();
    let asked: Vec<String> = req
        .filters
        .iter()
        .filter(|(f, _)| f == "department")
        .map(|(_, v)| v.clone())
        .collect();
    req.filters.retain(|(f, _)| f != "department");
    let allowed: Vec<&String> = if asked.is_empty() {
        scope.iter().collect()
    } else {
        asked.iter().filter(|d| scope.contains(d)).collect()
    };
    if allowed.is_empty() {
        // No department of theirs was asked for: nothing matches.
        req.filters
            .push(("department".into(), NO_DEPARTMENT.into()));
    }
    for d in allowed {
        req.filters.push(("department".into(), d.clone()));
    }
    Some(req)
}
