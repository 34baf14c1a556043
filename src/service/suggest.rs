//! Resolution suggestions: how similar resolved cases were answered.
//!
//! Candidates come from the index (BM25 over the complaint's distinctive words, resolved cases
//! only, received before the complaint); they are re-ranked by how alike the two complaints
//! read (character-bigram cosine), and acknowledgement-only replies go last: they tell the
//! handler nothing.

use jiff::Timestamp;
use serde::Serialize;

use super::Service;
use crate::domain::{Case, CaseId, Remedy};
use crate::error::Result;
use crate::index::SimilarRequest;
use crate::text::BigramProfile;
use crate::triage::reply;

/// Candidates re-ranked per suggestion list.
const CANDIDATES: usize = 20;

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
    /// When received.
    pub received_at: Timestamp,
    /// The first 80 characters of the (masked) text.
    pub excerpt: String,
}

impl SimilarCase {
    fn of(case: &Case, score: f32) -> Self {
        SimilarCase {
            id: case.id.clone(),
            score,
            category: case.category.clone(),
            grade: case.grade,
            status: case.status,
            received_at: case.received_at,
            excerpt: case.text.chars().take(80).collect(),
        }
    }
}

impl Service {
    /// Cases similar to `text`, received before `before` if given, best first, re-ranked by
    /// bigram cosine.
    pub fn similar_cases(
        &self,
        text: &str,
        exclude: Option<&CaseId>,
        limit: usize,
    ) -> Result<Vec<SimilarCase>> {
        let ranked = self.ranked(
            text,
            &SimilarRequest {
                limit: (limit * 3).max(limit),
                exclude: exclude.cloned(),
                ..Default::default()
            },
        )?;
        Ok(ranked
            .iter()
            .take(limit)
            .map(|(c, s)| SimilarCase::of(c, *s))
            .collect())
    }

    /// Up to `k` resolutions of similar resolved cases received before `before`.
    pub fn suggestions(
        &self,
        text: &str,
        before: Option<Timestamp>,
        k: usize,
    ) -> Result<Vec<Suggestion>> {
        let mut ranked = self.ranked(
            text,
            &SimilarRequest {
                limit: CANDIDATES,
                resolved_only: true,
                to: before,
                ..Default::default()
            },
        )?;
        ranked.sort_by(|(a, sa), (b, sb)| {
            let boiler = |c: &Case| reply::is_boilerplate(c.resolution.as_deref().unwrap_or(""));
            boiler(a).cmp(&boiler(b)).then(sb.total_cmp(sa))
        });
        Ok(ranked
            .into_iter()
            .filter(|(c, _)| c.is_resolved())
            .take(k)
            .map(|(c, score)| {
                let text = c.resolution.clone().unwrap_or_default();
                Suggestion {
                    remedy: c.remedy.unwrap_or_else(|| reply::remedy(&text)),
                    // The department the reply names handled it; the routed one may have passed it on.
                    department: reply::department(&text).or_else(|| c.department.clone()),
                    case_id: c.id,
                    resolution: text,
                    score,
                }
            })
            .collect())
    }

    /// Index candidates loaded from the store and ordered by bigram cosine with `text`.
    fn ranked(&self, text: &str, req: &SimilarRequest) -> Result<Vec<(Case, f32)>> {
        let ids: Vec<CaseId> = self
            .index
            .similar(text, req)?
            .into_iter()
            .map(|h| h.id)
            .collect();
        let profile = BigramProfile::new(text);
        let mut ranked: Vec<(Case, f32)> = self
            .store
            .get_many(&ids)?
            .into_iter()
            .map(|c| {
                let s = profile.cosine(&BigramProfile::new(&c.text));
                (c, s)
            })
            .collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
        Ok(ranked)
    }
}
