//! A case's links read both ways: the earlier cases it repeats or duplicates, the later ones
//! that repeat or duplicate it, its group complaint's members, and the same complainant's
//! other cases. Each list holds only cases the caller may see, newest first.

use jiff::Timestamp;
use serde::Serialize;

use super::Views;
use super::search::SearchItem;
use crate::domain::{Case, CaseId};
use crate::error::Result;
use crate::handling::Actor;
use crate::index::{SearchRequest, Sort};

/// Most cases in one list.
pub const MAX_LINKED: usize = 50;

/// The complainant's cases read before the caller's scope is applied.
const SAME_COMPLAINANT_READ: usize = 500;

/// The complainant's cases are looked for from this far back.
const SAME_COMPLAINANT_DAYS: i64 = 3 * 365;

/// A case's links, both ways.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CaseLinks {
    /// Earlier cases of the same complainant on a similar matter that this case repeats.
    pub repeat_of: Vec<SearchItem>,
    /// Later cases that repeat this one.
    pub repeated_by: Vec<SearchItem>,
    /// The earliest case with (nearly) the same text, which this one duplicates.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<SearchItem>,
    /// Later cases with (nearly) the same text.
    pub duplicates: Vec<SearchItem>,
    /// The group complaint (群体投诉) this case is in, with its members.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<GroupMembers>,
    /// The same complainant's other cases (by the hash of their contact), whatever their
    /// matter.
    pub same_complainant: Vec<SearchItem>,
}

/// A group complaint and the members the caller may see.
#[derive(Debug, Clone, Serialize)]
pub struct GroupMembers {
    /// The group's id.
    pub id: String,
    /// Members the caller may see, this case included.
    pub total: usize,
    /// The newest of them.
    pub members: Vec<SearchItem>,
}

impl Views {
    /// `case`'s links as `actor` may see them. Blocking.
    pub fn links(&self, case: &Case, actor: &Actor) -> Result<CaseLinks> {
        let list = |req: SearchRequest| -> Result<(usize, Vec<SearchItem>)> {
            let req = SearchRequest {
                sort: Sort::Newest,
                limit: MAX_LINKED,
                facets: false,
                ..req
            };
            let page = self.search(&self.narrowed(&req, actor)?)?;
            Ok((page.total, page.hits))
        };
        let ids = |ids: Vec<&CaseId>| SearchRequest {
            ids: Some(ids.into_iter().map(|i| i.as_str().to_string()).collect()),
            ..SearchRequest::default()
        };
        let linked_to = |link: String| SearchRequest {
            linked_to: Some(link),
            ..SearchRequest::default()
        };
        let mut links = CaseLinks::default();
        if !case.links.repeat_of.is_empty() {
            links.repeat_of = list(ids(case.links.repeat_of.iter().collect()))?.1;
        }
        if let Some(d) = &case.links.duplicate_of {
            links.duplicate_of = list(ids(vec![d]))?.1.into_iter().next();
        }
        links.repeated_by = list(linked_to(format!("rep:{}", case.id.as_str())))?.1;
        links.duplicates = list(linked_to(format!("dup:{}", case.id.as_str())))?.1;
        if let Some(g) = &case.links.group_id {
            let (total, members) = list(linked_to(format!("group:{g}")))?;
            links.group = Some(GroupMembers {
                id: g.clone(),
                total,
                members,
            });
        }
        if let Some(hash) = &case.contact_hash {
            let since = case
                .received_at
                .checked_sub(jiff::SignedDuration::from_hours(SAME_COMPLAINANT_DAYS * 24))
                .unwrap_or(Timestamp::UNIX_EPOCH);
            // Read well past the list's length: a scoped caller's own cases may be older than
            // other departments' newest.
            let theirs = self
                .shared
                .store
                .by_contact(hash, since, SAME_COMPLAINANT_READ)?;
            let others: Vec<&CaseId> = theirs
                .iter()
                .map(|c| &c.id)
                .filter(|id| **id != case.id)
                .collect();
            if !others.is_empty() {
                links.same_complainant = list(ids(others))?.1;
            }
        }
        Ok(links)
    }
}
