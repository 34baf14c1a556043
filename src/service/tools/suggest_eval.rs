//! Measuring resolution suggestions on history: index the older cases as resolved, query with
//! the newer ones, and compare the top suggestion with the real reply: the department it names
//! and its character-level F1. Beside it, a plain BM25 top-1 baseline over the same history.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::domain::{CaseId, DispatchSource, parse_time};
use crate::error::{Error, Result};
use crate::index::SimilarRequest;
use crate::service::Service;
use crate::text::mask_free_text;
use crate::triage::{Complaint, office_kind, reply};

/// One resolved case of the history file.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ResolvedRow {
    /// The source's id.
    #[serde(default)]
    pub id: Option<String>,
    /// Subject line.
    #[serde(default)]
    pub title: Option<String>,
    /// The complaint.
    pub text: String,
    /// When it was received.
    pub created_at: String,
    /// The official reply.
    pub resolution: String,
    /// When it was answered.
    #[serde(default)]
    pub resolved_at: Option<String>,
}

/// Scores of one system.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct SuggestionScores {
    /// Of the queries whose real reply names a department, the share where the suggested
    /// department is the same (place prefixes such as `A市` ignored).
    pub department_accuracy: f64,
    /// Mean character F1 of the top suggested reply against the real one.
    pub char_f1: f64,
    /// Queries with any suggestion.
    pub answered: usize,
}

/// The evaluation's result.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SuggestionEval {
    /// History cases (the older share).
    pub history: usize,
    /// Query cases (the newer share).
    pub queries: usize,
    /// Queries whose real reply names a department (the base of department accuracy).
    pub queries_with_department: usize,
    /// Received time of the first query: everything before it is history.
    pub split_at: Timestamp,
    /// tousu's suggestions.
    pub tousu: SuggestionScores,
    /// Plain BM25 over every word of the query, top-1, no re-ranking.
    pub bm25_baseline: SuggestionScores,
    /// Department accuracy of the profile's routing: the department its table gives the
    /// category the model reads in the query (the dispatch baseline that learns nothing).
    pub category_table_department_accuracy: f64,
    /// Department accuracy of dispatch as the triage answer gives it: the profile's dispatch
    /// model, falling back to the table (equal to the table's when no dispatch model ships).
    pub dispatch_department_accuracy: f64,
    /// Of the queries whose real reply names a department, those the dispatch model decided
    /// (the rest fell back to the table).
    pub dispatch_by_model: usize,
    /// Department accuracy on just those.
    pub dispatch_model_accuracy: f64,
}

/// Reads the rows of a history file, oldest first.
pub fn read_history(path: &Path) -> Result<Vec<(Timestamp, ResolvedRow)>> {
    let f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut rows = Vec::new();
    for (i, line) in BufReader::new(f).lines().enumerate() {
        let line = line.map_err(|e| Error::io(path, e))?;
        if line.trim().is_empty() {
            continue;
        }
        let bad = |message: String| Error::BadLine {
            path: path.to_path_buf(),
            line: i + 1,
            message,
        };
        let row: ResolvedRow = serde_json::from_str(&line).map_err(|e| bad(e.to_string()))?;
        let at = parse_time(&row.created_at).map_err(bad)?;
        rows.push((at, row));
    }
    rows.sort_by_key(|(at, _)| *at);
    Ok(rows)
}

/// Character F1 of `predicted` against `gold`: multiset overlap of their non-space characters.
pub fn char_f1(predicted: &str, gold: &str) -> f64 {
    // Sorted character lists, merged: cheaper than two hash maps (suggestions call this for
    // every pair of candidate replies).
    let bag = |s: &str| {
        let mut v: Vec<char> = s.chars().filter(|c| !c.is_whitespace()).collect();
        v.sort_unstable();
        v
    };
    let (p, g) = (bag(predicted), bag(gold));
    let (mut i, mut j, mut overlap) = (0, 0, 0usize);
    while i < p.len() && j < g.len() {
        match p[i].cmp(&g[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                overlap += 1;
                i += 1;
                j += 1;
            }
        }
    }
    if overlap == 0 {
        return 0.0;
    }
    let (precision, recall) = (
        overlap as f64 / p.len() as f64,
        overlap as f64 / g.len() as f64,
    );
    2.0 * precision * recall / (precision + recall)
}

/// Writes the first `n` rows as an import file (the history).
pub fn write_history(rows: &[(Timestamp, ResolvedRow)], out: &Path) -> Result<()> {
    let mut f = std::io::BufWriter::new(std::fs::File::create(out).map_err(|e| Error::io(out, e))?);
    for (_, r) in rows {
        let line = serde_json::to_string(r).map_err(|e| Error::Invalid(e.to_string()))?;
        writeln!(f, "{line}").map_err(|e| Error::io(out, e))?;
    }
    f.flush().map_err(|e| Error::io(out, e))
}

#[derive(Default)]
struct Tally {
    dept_hits: usize,
    f1_sum: f64,
    answered: usize,
}

impl Tally {
    fn add(
        &mut self,
        predicted: Option<(&str, Option<String>)>,
        gold: &str,
        gold_dept: Option<&str>,
    ) {
        let Some((reply_text, dept)) = predicted else {
            return;
        };
        self.answered += 1;
        self.f1_sum += char_f1(reply_text, gold);
        if let (Some(g), Some(d)) = (gold_dept, dept.as_deref())
            && office_kind::same_kind(d, g)
        {
            self.dept_hits += 1;
        }
    }

    fn scores(&self, queries: usize, with_dept: usize) -> SuggestionScores {
        SuggestionScores {
            department_accuracy: self.dept_hits as f64 / with_dept.max(1) as f64,
            char_f1: self.f1_sum / queries.max(1) as f64,
            answered: self.answered,
        }
    }
}

/// Scores suggestions for `queries` against `service`'s store holding the history (imported
/// before).
pub fn evaluate_suggestions(
    service: &Service,
    history: usize,
    queries: &[(Timestamp, ResolvedRow)],
    mut progress: impl FnMut(usize),
) -> Result<SuggestionEval> {
    let mut ours = Tally::default();
    let mut base = Tally::default();
    let mut with_dept = 0;
    let mut table_hits = 0usize;
    let (mut dispatch_hits, mut by_model, mut model_hits) = (0usize, 0usize, 0usize);
    for (i, (at, q)) in queries.iter().enumerate() {
        let masked = service
            .engine()
            .pipeline()
            .prepare(q.title.as_deref(), &q.text)?
            .masked;
        let gold = mask_free_text(&q.resolution).into_owned();
        let gold_dept = reply::department(&gold);
        with_dept += usize::from(gold_dept.is_some());
        if let Some(g) = &gold_dept {
            let triage = service.engine().triage(&Complaint {
                title: q.title.as_deref(),
                text: &q.text,
                received_at: Some(*at),
            })?;
            let same = |d: &str| office_kind::same_kind(d, g);
            table_hits += usize::from(triage.routing.is_some_and(|r| same(&r.department)));
            if let Some(d) = triage.dispatch {
                let hit = usize::from(same(&d.department));
                dispatch_hits += hit;
                if d.source == DispatchSource::Model {
                    by_model += 1;
                    model_hits += hit;
                }
            }
        }

        let advice = service.advisor().advice(&masked, Some(*at), 1)?;
        ours.add(
            advice.suggestions.first().map(|s| {
                let dept = advice.department.as_ref().map(|d| d.department.clone());
                (s.resolution.as_str(), dept)
            }),
            &gold,
            gold_dept.as_deref(),
        );

        let hits = service.views().index().similar(
            &masked,
            &SimilarRequest {
                limit: 1,
                resolved_only: true,
                to: Some(*at),
                max_terms: Some(usize::MAX),
                ..Default::default()
            },
        )?;
        let ids: Vec<CaseId> = hits.into_iter().map(|h| h.id).collect();
        let cases = service.store().get_many(&ids)?;
        let baseline = cases.first().and_then(|c| c.resolution.as_deref());
        base.add(
            baseline.map(|r| (r, reply::department(r))),
            &gold,
            gold_dept.as_deref(),
        );
        progress(i + 1);
    }
    Ok(SuggestionEval {
        history,
        queries: queries.len(),
        queries_with_department: with_dept,
        split_at: queries.first().map_or(Timestamp::UNIX_EPOCH, |(at, _)| *at),
        tousu: ours.scores(queries.len(), with_dept),
        bm25_baseline: base.scores(queries.len(), with_dept),
        category_table_department_accuracy: table_hits as f64 / with_dept.max(1) as f64,
        dispatch_department_accuracy: dispatch_hits as f64 / with_dept.max(1) as f64,
        dispatch_by_model: by_model,
        dispatch_model_accuracy: model_hits as f64 / by_model.max(1) as f64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn char_f1_counts_shared_characters() {
        assert!((char_f1("已转交警支队", "已转交警支队") - 1.0).abs() < 1e-9);
        assert_eq!(char_f1("abc", "xyz"), 0.0);
        let f = char_f1("已转交", "已转交警支队处理");
        assert!((f - 2.0 * 1.0 * 0.375 / 1.375).abs() < 1e-9, "{f}");
    }
}
