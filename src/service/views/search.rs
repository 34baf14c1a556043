//! Search for analysts: index hits joined with the store's current view of each case.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Serialize;

use super::Views;
use crate::domain::{CaseFacts, CaseId, Channel, DeadlineState, Grade, Status};
use crate::error::{Error, Result};
use crate::handling::{Actor, NextDeadline, next_deadline};
use crate::index::{FacetCount, SearchRequest};

/// Most cases a `topic` or `overdue` filter stands for: more than any analyst pages through,
/// and a bound on the query the index runs.
pub const MAX_LISTED_CASES: usize = 50_000;

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
    /// Handler.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    /// When received.
    pub received_at: Timestamp,
    /// The running deadline due first, marked with the worst standing of any (none when the
    /// case is closed or suspended).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_deadline: Option<NextDeadline>,
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
    /// The facet counts are estimated from a sample of the hits (there are too many to count
    /// one by one quickly).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub facets_estimated: bool,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

impl Views {
    /// Searches the case history as `actor` sees it: a handler or supervisor finds the cases of
    /// their departments only (a department filter outside them matches nothing).
    pub fn search_as(&self, req: &SearchRequest, actor: &Actor) -> Result<SearchPage> {
        self.search(&self.narrowed(req, actor)?)
    }

    /// `req` held to `actor`'s departments (a department filter outside them matches
    /// nothing), with `overdue` and `topic` turned into the case numbers they stand for.
    pub(super) fn narrowed(&self, req: &SearchRequest, actor: &Actor) -> Result<SearchRequest> {
        let mut req = req.clone();
        let scope = actor.scope();
        req.within = scope.map(<[String]>::to_vec);
        let mut ids: Option<Vec<String>> = req.ids.take();
        if let Some(topic) = &req.topic {
            let cases = self
                .shared
                .watch
                .topic_cases(topic, MAX_LISTED_CASES)
                .ok_or_else(|| {
                    Error::Invalid(format!(
                        "topic={topic:?} is not a topic: take the id from GET /v1/topics (topics are kept while the service runs)"
                    ))
                })?;
            let cases: Vec<String> = cases.into_iter().map(|c| c.0).collect();
            ids = Some(match ids {
                Some(asked) => asked.into_iter().filter(|id| cases.contains(id)).collect(),
                None => cases,
            });
        }
        if req.overdue {
            let now = Timestamp::now();
            let work = self.shared.work.read();
            let overdue: std::collections::HashSet<String> = work
                .open_in(scope)
                .filter(|f| {
                    next_deadline(f, now, self.shared.due_soon_share)
                        .is_some_and(|n| n.state == DeadlineState::Breached)
                })
                .take(MAX_LISTED_CASES)
                .map(|f| f.id.0.clone())
                .collect();
            ids = Some(match ids {
                Some(topic) => topic
                    .into_iter()
                    .filter(|id| overdue.contains(id))
                    .collect(),
                None => overdue.into_iter().collect(),
            });
        }
        req.ids = ids;
        Ok(req)
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
        let now = Timestamp::now();
        let hits = results
            .hits
            .into_iter()
            .filter_map(|h| {
                // A case the index knows but the store does not cannot happen unless the store
                // was replaced under a running index; skip rather than show a ghost.
                let c = cases.remove(&h.id)?;
                let next = next_deadline(&CaseFacts::of(&c), now, self.shared.due_soon_share);
                Some(SearchItem {
                    id: h.id,
                    score: h.score,
                    snippet: results.highlighter.snippet(&c.text),
                    title: c.title.clone(),
                    category: c.category.clone(),
                    grade: c.grade,
                    status: c.status,
                    channel: c.channel,
                    department: c.department.clone(),
                    assignee: c.assignee.clone(),
                    received_at: c.received_at,
                    next_deadline: next,
                })
            })
            .collect();
        Ok(SearchPage {
            total: results.total,
            hits,
            facets: results.facets,
            facets_estimated: results.facets_estimated,
            next_cursor: results.next_offset.map(|o| o.to_string()),
        })
    }
}
