//! Learning from past cases: the cases most like a complaint, and how similar resolved cases
//! were answered (resolution suggestions and the department that handled them).
//!
//! Candidates come from the index (BM25 over the complaint's distinctive words, resolved cases
//! only, received before the complaint); they are re-ranked by how alike the two complaints
//! read (character-bigram cosine), and acknowledgement-only replies go last: they tell the
//! handler nothing.

mod neighbourhood;

use std::sync::Arc;

use jiff::Timestamp;
use serde::Serialize;

pub(crate) use self::neighbourhood::Neighbourhood;
use crate::domain::{Case, CaseId, Neighbour, Remedy};
use crate::error::Result;
use crate::index::{CaseIndex, SimilarHit, SimilarRequest};
use crate::store::{CaseRef, CaseStore};
use crate::triage::{office_kind, reply};

/// Candidates re-ranked per suggestion list.
const CANDIDATES: usize = 20;

/// Index candidates fetched per intake, shared by the group signal (25 in its window), similar
/// cases (15 re-ranked) and suggestions (20 resolved). The top-k search costs more with k:
/// 60 took about a sixth more CPU per create than 40 (by hand, paced creates at ~1,000/s).
pub(crate) const NEIGHBOURS: usize = 40;

/// Finds similar cases and suggests resolutions, from the index and the store.
pub struct Advisor {
    store: Arc<dyn CaseStore>,
    index: Arc<CaseIndex>,
}

impl std::fmt::Debug for Advisor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Advisor").finish_non_exhaustive()
    }
}

/// A resolution from a similar resolved case.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Suggestion {
    /// The resolved case.
    pub case_id: CaseId,
    /// Its resolution text.
    pub resolution: String,
    /// The remedy given (as recorded, or read from the text).
    pub remedy: Remedy,
    /// The department that handled it (named in the reply, else as recorded).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// How alike the two complaints read (0–1).
    pub score: f32,
}

/// The department similar resolved cases were handled by: a vote of the closest ones, each
/// weighted by how alike it reads.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DepartmentHint {
    /// The department (as most of its voters name it).
    pub department: String,
    /// Share of the weighted vote (0–1).
    pub share: f32,
    /// Resolved cases that named it.
    pub cases: usize,
    /// Resolved cases that named any department.
    pub of: usize,
}

/// Resolutions of similar resolved cases, and who handled them.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Advice {
    /// Resolutions, best first.
    pub suggestions: Vec<Suggestion>,
    /// The department most of the similar resolved cases were handled by (named
    /// `suggested_department` in answers, beside the case's own routed `department`).
    #[serde(
        rename = "suggested_department",
        skip_serializing_if = "Option::is_none"
    )]
    pub department: Option<DepartmentHint>,
}

/// A similar case, summarised.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SimilarCase {
    /// Case number.
    pub id: CaseId,
    /// How alike the two complaints read (0–1).
    pub score: f32,
    /// Category.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Grade.
    pub grade: crate::domain::Grade,
    /// Status.
    pub status: crate::domain::Status,
    /// The department handling it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// When received.
    pub received_at: Timestamp,
    /// The first 80 characters of the (masked) text.
    pub excerpt: String,
}

impl SimilarCase {
    fn of(case: &Neighbour, score: f32) -> Self {
        SimilarCase {
            id: case.id.clone(),
            score,
            category: case.category.clone(),
            grade: case.grade,
            status: case.status,
            department: case.department.clone(),
            received_at: case.received_at,
            excerpt: case.text.chars().take(80).collect(),
        }
    }
}

impl Advisor {
    /// An advisor over `store` and its index.
    pub fn new(store: Arc<dyn CaseStore>, index: Arc<CaseIndex>) -> Self {
        Advisor { store, index }
    }

    /// The index's candidates for a masked text, for intake's three lists (best first).
    pub(crate) fn neighbours(&self, text: &str) -> Result<Vec<SimilarHit>> {
        self.index.similar(
            text,
            &SimilarRequest {
                limit: NEIGHBOURS,
                ..Default::default()
            },
        )
    }

    /// Cases similar to a stored case, best first.
    pub fn similar_to(&self, case: &Case, limit: usize) -> Result<Vec<SimilarCase>> {
        self.similar_cases(&case.text, Some(&case.id), limit)
    }

    /// Cases similar to `text`, best first, re-ranked by bigram cosine.
    pub fn similar_cases(
        &self,
        text: &str,
        exclude: Option<&CaseId>,
        limit: usize,
    ) -> Result<Vec<SimilarCase>> {
        let neighbours = self.index.similar(
            text,
            &SimilarRequest {
                limit: limit * 3,
                exclude: exclude.cloned(),
                ..Default::default()
            },
        )?;
        let mut read = Neighbourhood::new(text);
        self.similar_cases_from(&neighbours, &mut read, exclude, limit)
    }

    /// As [`Advisor::similar_cases`], from the index's candidates for the text.
    pub(crate) fn similar_cases_from(
        &self,
        neighbours: &[SimilarHit],
        read: &mut Neighbourhood,
        exclude: Option<&CaseId>,
        limit: usize,
    ) -> Result<Vec<SimilarCase>> {
        let wanted = similar_candidates(neighbours, exclude, limit);
        let ranked = read.ranked(self.store.as_ref(), &wanted)?;
        Ok(ranked
            .iter()
            .take(limit)
            .map(|(c, s)| SimilarCase::of(c, *s))
            .collect())
    }

    /// Up to `k` resolutions of similar resolved cases received before `before`, and the
    /// department those cases were handled by.
    pub fn advice(&self, text: &str, before: Option<Timestamp>, k: usize) -> Result<Advice> {
        let neighbours = self.index.similar(
            text,
            &SimilarRequest {
                limit: CANDIDATES,
                resolved_only: true,
                to: before,
                ..Default::default()
            },
        )?;
        self.advice_from(&neighbours, &mut Neighbourhood::new(text), before, k)
    }

    /// As [`Advisor::advice`], from the index's candidates for the text.
    pub(crate) fn advice_from(
        &self,
        neighbours: &[SimilarHit],
        read: &mut Neighbourhood,
        before: Option<Timestamp>,
        k: usize,
    ) -> Result<Advice> {
        let wanted = advice_candidates(neighbours, before);
        let mut ranked = read.ranked(self.store.as_ref(), &wanted)?;
        ranked.retain(|(c, _)| c.is_resolved());
        let department = department_vote(&ranked);
        ranked.sort_by(|(a, sa), (b, sb)| {
            let boiler =
                |c: &Neighbour| reply::is_boilerplate(c.resolution.as_deref().unwrap_or(""));
            boiler(a)
                .cmp(&boiler(b))
                .then(sb.total_cmp(sa))
                .then(b.seq.cmp(&a.seq))
        });
        consensus_first(&mut ranked);
        let suggestions = ranked
            .into_iter()
            .take(k)
            .map(|(c, score)| {
                let text = c.resolution.clone().unwrap_or_default();
                Suggestion {
                    remedy: c.remedy.unwrap_or_else(|| reply::remedy(&text)),
                    // The department the reply names handled it; the routed one may have
                    // passed it on.
                    department: reply::department(&text).or_else(|| c.department.clone()),
                    case_id: c.id.clone(),
                    resolution: text,
                    score,
                }
            })
            .collect();
        Ok(Advice {
            suggestions,
            department,
        })
    }
}

/// Voters: the closest resolved cases.
const VOTERS: usize = 10;

/// An index hit as the store reads it: by its row.
pub(crate) fn case_ref(hit: &SimilarHit) -> CaseRef {
    CaseRef {
        id: hit.id.clone(),
        seq: hit.seq,
    }
}

/// The neighbours re-ranked for `limit` similar cases.
pub(crate) fn similar_candidates(
    neighbours: &[SimilarHit],
    exclude: Option<&CaseId>,
    limit: usize,
) -> Vec<CaseRef> {
    neighbours
        .iter()
        .filter(|h| Some(&h.id) != exclude)
        .take(limit * 3)
        .map(case_ref)
        .collect()
}

/// The neighbours whose resolutions may be suggested: resolved, and received before `before`.
pub(crate) fn advice_candidates(
    neighbours: &[SimilarHit],
    before: Option<Timestamp>,
) -> Vec<CaseRef> {
    neighbours
        .iter()
        .filter(|h| h.resolved && before.is_none_or(|b| h.received_at < b))
        .take(CANDIDATES)
        .map(case_ref)
        .collect()
}

/// The department named by the most (similarity-weighted) of the closest resolved cases.
fn department_vote(ranked: &[(Arc<Neighbour>, f32)]) -> Option<DepartmentHint> {
    use std::collections::HashMap;
    let mut weight: HashMap<String, (f32, usize, HashMap<String, usize>)> = HashMap::new();
    let mut voters = 0;
    let mut total = 0.0;
    for (c, score) in ranked.iter().take(VOTERS) {
        let Some(name) = c.resolution.as_deref().and_then(reply::department) else {
            continue;
        };
        voters += 1;
        total += score;
        let e = weight
            .entry(office_kind::canonical_department(&name))
            .or_insert((0.0, 0, HashMap::new()));
        e.0 += score;
        e.1 += 1;
        *e.2.entry(name).or_insert(0) += 1;
    }
    let (_, (w, cases, names)) = weight
        .into_iter()
        .max_by(|a, b| a.1.0.total_cmp(&b.1.0).then_with(|| b.0.cmp(&a.0)))?;
    let department = names
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(&a.0)))?
        .0;
    Some(DepartmentHint {
        department,
        share: if total > 0.0 { w / total } else { 0.0 },
        cases,
        of: voters,
    })
}

/// Replies weighed for consensus.
const CONSENSUS: usize = 5;

/// Moves to the front the reply among the closest few that best agrees with the others (by
/// character F1), weighted by how alike its complaint reads: a reply much like its neighbours'
/// is the typical answer to such a complaint, not one case's particulars.
fn consensus_first(ranked: &mut [(Arc<Neighbour>, f32)]) {
    let n = ranked.len().min(CONSENSUS);
    if n < 3 {
        return;
    }
    let replies: Vec<&str> = ranked[..n]
        .iter()
        .map(|(c, _)| c.resolution.as_deref().unwrap_or(""))
        .collect();
    let best = (0..n)
        .filter(|&i| !reply::is_boilerplate(replies[i]))
        .map(|i| {
            let agreement: f64 = (0..n)
                .filter(|&j| j != i)
                .map(|j| crate::service::tools::char_f1(replies[i], replies[j]))
                .sum::<f64>()
                / (n - 1) as f64;
            (i, agreement as f32 + ranked[i].1)
        })
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(i, _)| i);
    if let Some(i) = best {
        ranked[..=i].rotate_right(1);
    }
}
