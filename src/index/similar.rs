//! Similar cases: a BM25 query over the complaint's most distinctive words.
//!
//! A query over every word of a complaint is slow at scale (p99 ~0.5 s at 1M cases here); the
//! 16 words with the highest tf·idf carry the topic and answer in milliseconds.

use std::collections::HashMap;

use jiff::Timestamp;
use serde::Serialize;
use tantivy::Term;
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{IndexRecordOption, TantivyDocument, Value};
use tantivy::tokenizer::{TokenStream, Tokenizer};

use super::{CaseIndex, index_err};
use crate::domain::CaseId;
use crate::error::Result;

/// Query words taken from a complaint.
const QUERY_TERMS: usize = 16;

/// What to look for besides the text.
#[derive(Debug, Clone, Default)]
pub struct SimilarRequest {
    /// Most hits.
    pub limit: usize,
    /// A case to leave out (the case itself).
    pub exclude: Option<CaseId>,
    /// Only cases with a resolution.
    pub resolved_only: bool,
    /// Received at or after.
    pub from: Option<Timestamp>,
    /// Received before.
    pub to: Option<Timestamp>,
    /// Query words kept, by tf·idf; `None` for the default 16. (`usize::MAX` gives plain BM25
    /// over every word: the baseline suggestions are measured against.)
    pub max_terms: Option<usize>,
}

/// A similar case.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SimilarHit {
    /// Case number.
    pub id: CaseId,
    /// BM25 score of the case against the query words.
    pub score: f32,
}

impl CaseIndex {
    /// Cases similar to `text`, best first.
    pub fn similar(&self, text: &str, req: &SimilarRequest) -> Result<Vec<SimilarHit>> {
        let searcher = self.reader.searcher();
        let n = searcher.num_docs();
        if n == 0 || req.limit == 0 {
            return Ok(Vec::new());
        }
        let mut tf: HashMap<String, u32> = HashMap::new();
        let mut tokenizer = self.tokenizer.clone();
        let mut stream = tokenizer.token_stream(text);
        while stream.advance() {
            let t = &stream.token().text;
            // Single characters and masks say little about a topic.
            if t.chars().count() >= 2 && !t.contains('〔') {
                *tf.entry(t.clone()).or_insert(0) += 1;
            }
        }
        let mut weighted = Vec::with_capacity(tf.len());
        for (word, count) in tf {
            let term = Term::from_field_text(self.fields.text, &word);
            let df = searcher.doc_freq(&term).map_err(index_err)?;
            if df == 0 {
                continue;
            }
            let idf = (1.0 + (n as f64 - df as f64 + 0.5) / (df as f64 + 0.5)).ln();
            weighted.push((count as f64 * idf, term));
        }
        weighted.sort_by(|a, b| b.0.total_cmp(&a.0));
        let mut should: Vec<(Occur, Box<dyn Query>)> = weighted
            .into_iter()
            .take(req.max_terms.unwrap_or(QUERY_TERMS))
            .map(|(_, term)| {
                let q: Box<dyn Query> =
                    Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs));
                (Occur::Should, q)
            })
            .collect();
        if should.is_empty() {
            return Ok(Vec::new());
        }
        let words: Box<dyn Query> = Box::new(BooleanQuery::new(std::mem::take(&mut should)));
        let mut clauses = vec![(Occur::Must, words)];
        if req.resolved_only {
            clauses.push((
                Occur::Must,
                Box::new(TermQuery::new(
                    Term::from_field_u64(self.fields.resolved, 1),
                    IndexRecordOption::Basic,
                )),
            ));
        }
        if req.from.is_some() || req.to.is_some() {
            clauses.push((Occur::Must, Box::new(self.received_range(req.from, req.to))));
        }
        if let Some(id) = &req.exclude {
            clauses.push((
                Occur::MustNot,
                Box::new(TermQuery::new(
                    Term::from_field_text(self.fields.id, id.as_str()),
                    IndexRecordOption::Basic,
                )),
            ));
        }
        let query = BooleanQuery::new(clauses);
        let top = searcher
            .search(&query, &TopDocs::with_limit(req.limit).order_by_score())
            .map_err(index_err)?;
        let mut hits = Vec::with_capacity(top.len());
        for (score, address) in top {
            let doc: TantivyDocument = searcher.doc(address).map_err(index_err)?;
            if let Some(id) = doc.get_first(self.fields.id).and_then(|v| v.as_str()) {
                hits.push(SimilarHit {
                    id: CaseId(id.to_string()),
                    score,
                });
            }
        }
        Ok(hits)
    }
}
