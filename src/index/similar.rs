//! Similar cases: a BM25 query over the complaint's most distinctive words.
//!
//! A query over every word of a complaint is slow at scale (p99 ~0.5 s at 1M cases here); the
//! 6 words with the highest tf·idf that are not in more than one case in 20 carry the topic.
//! Block-WAND reads most of a word's postings unless its score bound is low, so the cost of a
//! lookup grows with the words' postings: at 1M cases a similar-cases request took about
//! 1.2 ms of CPU with 10 words of any frequency, 0.7 ms with 6 uncommon ones. On the
//! suggestion evaluation's history, 3 to 12 words (with or without the cap) gave a department
//! vote right for 25 to 32 queries of 128 with no trend in the count, and reply F1 within
//! 0.005 (see docs/benchmarks.md).

use std::collections::HashMap;
use std::sync::Mutex;

use jiff::Timestamp;
use serde::Serialize;
use tantivy::Term;
use tantivy::collector::TopDocs;
use tantivy::index::SegmentId;
use tantivy::query::{Bm25StatisticsProvider, BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::tokenizer::{TokenStream, Tokenizer};

use super::{CaseIndex, index_err};
use crate::domain::CaseId;
use crate::error::Result;

/// Query words taken from a complaint.
const QUERY_TERMS: usize = 6;
/// Words in a larger share of the cases than this are left out of the query (小区, 反映,
/// 问题: they say little about which cases are alike, and their postings are the longest)...
const MAX_CASE_SHARE: f64 = 0.05;
/// ...when they are in more cases than this too (shorter postings cost nothing: a small
/// store keeps all its words)...
const COMMON_FROM_CASES: u64 = 100;
/// ...unless fewer query words than this would be left: then the least common fill up.
const MIN_QUERY_TERMS: usize = 2;
/// Hits fetched per hit wanted before filtering.
const OVERFETCH: usize = 4;

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
    /// Query words kept, by tf·idf, whatever their frequency; `None` for the default: the 6
    /// best that are in at most one case in 20. (`usize::MAX` gives plain BM25 over every
    /// word: the baseline suggestions are measured against.)
    pub max_terms: Option<usize>,
}

/// A complaint's words weighted by tf·idf against the index, best first.
#[derive(Debug, Clone, Default)]
pub struct SimilarQuery {
    /// tf·idf, the word, and its document frequency in the whole index (estimated).
    pub(super) weighted: Vec<(f64, Term, u64)>,
}

impl SimilarQuery {
    /// The words a lookup asks for: the first `max_terms` by weight when given, else the
    /// first [`QUERY_TERMS`] not in more than [`MAX_CASE_SHARE`] of the index's `total`
    /// cases (nor [`COMMON_FROM_CASES`]), the least common of the others filling up to
    /// [`MIN_QUERY_TERMS`]. For a stored case's own text (`stored`), words in one case only
    /// are its own and find nothing else: they are left out, not to take the places of words
    /// that can.
    pub(super) fn used(
        &self,
        max_terms: Option<usize>,
        total: u64,
        stored: bool,
    ) -> Vec<&(f64, Term, u64)> {
        if let Some(m) = max_terms {
            return self.weighted.iter().take(m).collect();
        }
        let own = |df: u64| stored && df <= 1;
        let common = |df: u64| df > COMMON_FROM_CASES && df as f64 > MAX_CASE_SHARE * total as f64;
        let mut used: Vec<_> = self
            .weighted
            .iter()
            .filter(|w| !common(w.2) && !own(w.2))
            .take(QUERY_TERMS)
            .collect();
        if used.len() < MIN_QUERY_TERMS {
            let mut others: Vec<_> = self.weighted.iter().filter(|w| common(w.2)).collect();
            others.sort_by_key(|w| w.2);
            let missing = MIN_QUERY_TERMS - used.len();
            used.extend(others.into_iter().take(missing));
        }
        used
    }
}

/// A similar case.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SimilarHit {
    /// Case number.
    pub id: CaseId,
    /// Its row in the store (its `seq`).
    pub seq: Option<u64>,
    /// BM25 score of the case against the query words.
    pub score: f32,
    /// When it was received.
    pub received_at: Timestamp,
    /// Whether it has a resolution.
    pub resolved: bool,
}

impl CaseIndex {
    /// Cases similar to `text`, best first.
    pub fn similar(&self, text: &str, req: &SimilarRequest) -> Result<Vec<SimilarHit>> {
        self.guarded("a similar-case lookup", || {
            self.similar_unguarded(text, req)
        })
    }

    fn similar_unguarded(&self, text: &str, req: &SimilarRequest) -> Result<Vec<SimilarHit>> {
        let query = self.similar_query(text)?;
        self.similar_to_query(&query, req)
    }

    /// The weighted words of `text`, to run several similar-case lookups with one analysis.
    pub fn similar_query(&self, text: &str) -> Result<SimilarQuery> {
        let searcher = self.reader.searcher();
        let total_docs = searcher.total_num_docs().map_err(index_err)?;
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
        // The weights only rank the words. The largest segment's document frequencies rank
        // them as the whole index's would, at one dictionary lookup per word instead of one
        // per segment (under steady intake the index is one large segment and many fresh
        // small ones); a word it lacks is counted over every segment.
        let largest = searcher
            .segment_readers()
            .iter()
            .max_by_key(|s| s.num_docs())
            .map(|s| s.inverted_index(self.fields.text).map(|i| (i, s.max_doc())))
            .transpose()
            .map_err(index_err)?;
        let mut weighted = Vec::with_capacity(tf.len());
        for (word, count) in tf {
            let term = Term::from_field_text(self.fields.text, &word);
            let in_largest = match &largest {
                Some((inverted, docs)) => {
                    let df = inverted.doc_freq(&term).map_err(index_err)?;
                    (df > 0).then_some((u64::from(df), u64::from(*docs)))
                }
                None => None,
            };
            // Both counts include deleted documents (rewritten cases until merged), as
            // tantivy's own BM25 statistics do.
            let (df, n) = match in_largest {
                Some(counts) => counts,
                None => (searcher.doc_freq(&term).map_err(index_err)?, total_docs),
            };
            if df == 0 {
                continue;
            }
            let idf = (1.0 + (n as f64 - df as f64 + 0.5) / (df as f64 + 0.5)).ln();
            // Scaled from the largest segment to the index, for BM25 (`QueryStatistics`);
            // counted over the index, as it is.
            let in_index = (df as f64 * total_docs as f64 / n.max(1) as f64).round() as u64;
            weighted.push((count as f64 * idf, term, in_index.max(1)));
        }
        // Equal weights by the word, not by the hash map's (per-process random) order: the
        // words kept must not change from one run to the next.
        weighted.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        Ok(SimilarQuery { weighted })
    }

    /// Cases similar to a prepared query, best first.
    pub fn similar_to_query(
        &self,
        query: &SimilarQuery,
        req: &SimilarRequest,
    ) -> Result<Vec<SimilarHit>> {
        let searcher = self.reader.searcher();
        if searcher.num_docs() == 0 || req.limit == 0 {
            return Ok(Vec::new());
        }
        let total = searcher.total_num_docs().map_err(index_err)?;
        let used = query.used(req.max_terms, total, req.exclude.is_some());
        let should: Vec<(Occur, Box<dyn Query>)> = used
            .iter()
            .map(|(_, term, _)| {
                let term = (*term).clone();
                let q: Box<dyn Query> =
                    Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs));
                (Occur::Should, q)
            })
            .collect();
        if should.is_empty() {
            return Ok(Vec::new());
        }
        let words = BooleanQuery::new(should);
        // The bare union of words is scored with block-WAND pruning; a filter nested beside
        // it would make tantivy walk every posting of every word (hundreds of ms at 100k
        // cases). So the filters apply to the best `limit × OVERFETCH` candidates: a case that
        // is not among them is not similar enough to matter.
        let filtered = req.resolved_only || req.from.is_some() || req.to.is_some();
        let fetch = if filtered {
            req.limit.saturating_mul(OVERFETCH)
        } else {
            req.limit
        }
        .saturating_add(usize::from(req.exclude.is_some()));
        let statistics = QueryStatistics::new(&searcher, self.fields.text, &used, total)?;
        let top = searcher
            .search_with_statistics_provider(
                &words,
                &TopDocs::with_limit(fetch).order_by_score(),
                &statistics,
            )
            .map_err(index_err)?;
        let hits = self.filtered(&searcher, top, req)?;
        Ok(hits)
    }

    /// The hits that pass the request's filters, in order, read from fast columns.
    fn filtered(
        &self,
        searcher: &tantivy::Searcher,
        top: Vec<(f32, tantivy::DocAddress)>,
        req: &SimilarRequest,
    ) -> Result<Vec<SimilarHit>> {
        let mut columns: HashMap<u32, HitColumns> = HashMap::new();
        let exclude = req.exclude.as_ref().and_then(CaseId::packed);
        let mut hits = Vec::with_capacity(req.limit);
        for (score, address) in top {
            let c = match columns.entry(address.segment_ord) {
                std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
                std::collections::hash_map::Entry::Vacant(v) => {
                    let segment = searcher.segment_reader(address.segment_ord);
                    v.insert(self.hit_columns.get(segment, searcher)?)
                }
            };
            let doc = address.doc_id;
            let Some(number) = c.number.first(doc) else {
                continue;
            };
            if exclude == Some(number) {
                continue;
            }
            let resolved = c.resolved.first(doc) == Some(1);
            if req.resolved_only && !resolved {
                continue;
            }
            let at = c
                .received_at
                .first(doc)
                .map(|d| d.into_timestamp_millis())
                .unwrap_or(0);
            if req.from.is_some_and(|f| at < f.as_millisecond())
                || req.to.is_some_and(|t| at >= t.as_millisecond())
            {
                continue;
            }
            hits.push(SimilarHit {
                id: CaseId::unpack(number),
                seq: c.seq.first(doc),
                score,
                received_at: Timestamp::from_millisecond(at).unwrap_or(Timestamp::UNIX_EPOCH),
                resolved,
            });
            if hits.len() == req.limit {
                break;
            }
        }
        Ok(hits)
    }
}

/// BM25 statistics for a similar-case query: the index's totals counted once per query (not
/// once per word), and each word's document frequency as [`CaseIndex::similar_query`]
/// estimated it, instead of a dictionary lookup per word in every segment (under steady intake:
/// one large segment and many fresh small ones).
struct QueryStatistics<'a> {
    searcher: &'a tantivy::Searcher,
    text: Field,
    total_docs: u64,
    text_tokens: u64,
    doc_freq: HashMap<&'a Term, u64>,
}

impl<'a> QueryStatistics<'a> {
    fn new(
        searcher: &'a tantivy::Searcher,
        text: Field,
        words: &[&'a (f64, Term, u64)],
        total_docs: u64,
    ) -> Result<Self> {
        Ok(QueryStatistics {
            searcher,
            text,
            total_docs,
            text_tokens: searcher.total_num_tokens(text).map_err(index_err)?,
            doc_freq: words.iter().map(|(_, t, df)| (t, *df)).collect(),
        })
    }
}

impl Bm25StatisticsProvider for QueryStatistics<'_> {
    fn total_num_tokens(&self, field: Field) -> tantivy::Result<u64> {
        if field == self.text {
            Ok(self.text_tokens)
        } else {
            self.searcher.total_num_tokens(field)
        }
    }

    fn total_num_docs(&self) -> tantivy::Result<u64> {
        Ok(self.total_docs)
    }

    fn doc_freq(&self, term: &Term) -> tantivy::Result<u64> {
        match self.doc_freq.get(term) {
            // The index may have changed since the estimate (another searcher): BM25 needs
            // the frequency within the total.
            Some(df) => Ok((*df).clamp(1, self.total_docs.max(1))),
            None => self.searcher.doc_freq(term),
        }
    }
}

/// The [`HitColumns`] of segments seen so far: opening them costs column-directory lookups
/// on every query (a fiftieth of a create), and a segment's columns never change.
#[derive(Default)]
pub(super) struct HitColumnsCache(Mutex<HashMap<SegmentId, HitColumns>>);

impl HitColumnsCache {
    /// Segments kept.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.0.lock().map(|m| m.len()).unwrap_or(0)
    }

    fn get(
        &self,
        segment: &tantivy::SegmentReader,
        searcher: &tantivy::Searcher,
    ) -> Result<HitColumns> {
        let id = segment.segment_id();
        // Nothing panics while holding the lock; a poisoned map is still consistent.
        let mut kept = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = kept.get(&id) {
            return Ok(c.clone());
        }
        // A segment not seen before: the searcher changed, and merged-away segments go (their
        // columns hold the deleted files' memory maps open).
        super::keep_live(&mut kept, searcher);
        let c = HitColumns::open(segment)?;
        kept.insert(id, c.clone());
        Ok(c)
    }
}

/// One segment's fast columns that a similar-case hit needs.
#[derive(Clone)]
struct HitColumns {
    number: tantivy::columnar::Column<u64>,
    seq: tantivy::columnar::Column<u64>,
    received_at: tantivy::columnar::Column<tantivy::DateTime>,
    resolved: tantivy::columnar::Column<u64>,
}

impl HitColumns {
    fn open(segment: &tantivy::SegmentReader) -> Result<Self> {
        let fast = segment.fast_fields();
        Ok(HitColumns {
            number: fast.u64("number").map_err(index_err)?,
            seq: fast.u64("seq").map_err(index_err)?,
            received_at: fast.date("received_at").map_err(index_err)?,
            resolved: fast.u64("resolved").map_err(index_err)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(dfs: &[u64]) -> SimilarQuery {
        let text = tantivy::schema::Field::from_field_id(0);
        SimilarQuery {
            weighted: dfs
                .iter()
                .enumerate()
                .map(|(i, &df)| {
                    (
                        100.0 - i as f64,
                        Term::from_field_text(text, &format!("词{i}")),
                        df,
                    )
                })
                .collect(),
        }
    }

    fn dfs(used: &[&(f64, Term, u64)]) -> Vec<u64> {
        used.iter().map(|w| w.2).collect()
    }

    #[test]
    fn a_lookup_asks_for_six_words_not_in_one_case_in_twenty() {
        // Of a million cases: 60,000 is more than one in twenty, 40,000 is not.
        let q = query(&[60_000, 10, 20, 40_000, 30, 70_000, 40, 50, 60, 70]);
        assert_eq!(
            dfs(&q.used(None, 1_000_000, false)),
            [10, 20, 40_000, 30, 40, 50]
        );
        // The baseline and callers that name a count get the best words whatever they are.
        assert_eq!(dfs(&q.used(Some(3), 1_000_000, false)), [60_000, 10, 20]);
        assert_eq!(q.used(Some(usize::MAX), 1_000_000, true).len(), 10);
    }

    #[test]
    fn common_words_fill_up_a_short_query_and_a_small_store_keeps_all_its_words() {
        // Only one uncommon word: the least common of the rest make two.
        let q = query(&[90_000, 5, 70_000, 300_000]);
        assert_eq!(dfs(&q.used(None, 1_000_000, false)), [5, 70_000]);
        // In a store of 40 cases every word is in more than one in twenty, but in so few
        // that it costs nothing.
        let q = query(&[30, 12, 3, 8, 1, 2, 9, 4]);
        assert_eq!(dfs(&q.used(None, 40, false)), [30, 12, 3, 8, 1, 2]);
        // A stored case's words found in it alone are left out of its own lookup.
        assert_eq!(dfs(&q.used(None, 40, true)), [30, 12, 3, 8, 2, 9]);
    }
}
