//! The search index (tantivy): Chinese full-text search over masked case text, filters and
//! facet counts, highlighted snippets, and similar-case lookups.
//!
//! The index is derived from the store. Each commit carries, as its payload, the highest store
//! version it contains; on start the service re-indexes whatever the store has beyond it, and a
//! missing or unreadable index is rebuilt from the store.

mod by_time;
mod facet_table;
mod facets;
mod gather;
mod highlight;
mod matches;
mod one_pass;
mod open;
mod schema;
mod search;
mod similar;

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

pub use tantivy::index::SegmentId;
use tantivy::indexer::{LogMergePolicy, NoMergePolicy};
use tantivy::schema::Facet;
use tantivy::tokenizer::TokenizerManager;
use tantivy::{DateTime, Index, IndexReader, IndexWriter, Term};

pub use self::facet_table::BYTES_PER_CASE as FACET_TABLE_BYTES_PER_CASE;
pub use self::highlight::Highlighter;
pub use self::matches::Matches;
pub use self::schema::FACETS;
use self::schema::Fields;
pub use self::search::{FacetCount, SearchHit, SearchRequest, SearchResults, Sort};
pub use self::similar::{SimilarHit, SimilarQuery, SimilarRequest};
use crate::domain::Case;
use crate::error::{Error, Result};
use crate::text::ChineseTokenizer;

/// Indexing memory budget, shared by the writer's threads, unless configured
/// (`memory.index_writer_mib`).
pub const WRITER_MEMORY_MIB: usize = 96;
/// Tries of a compaction that a background merge overlaps.
const COMPACT_ATTEMPTS: u32 = 50;
/// Indexing threads during a bulk load ([`CaseIndex::set_bulk`]); one otherwise.
const BULK_INDEXING_THREADS: usize = 2;

/// A writer for steady intake (one indexing thread, log merges) or a bulk load (more threads,
/// no merges until the load compacts). Created on a thread of lower priority: tantivy's
/// indexing and merging threads, started here, inherit it and give way to requests.
fn new_writer(index: &Index, bulk: bool, memory: usize) -> Result<IndexWriter> {
    try_new_writer(index, bulk, memory).map_err(index_err)
}

/// [`new_writer`], with tantivy's error (opening tells a lock held elsewhere from damage).
fn try_new_writer(index: &Index, bulk: bool, memory: usize) -> tantivy::Result<IndexWriter> {
    let threads = if bulk { BULK_INDEXING_THREADS } else { 1 };
    let writer: IndexWriter = std::thread::scope(|s| {
        s.spawn(|| {
            crate::background::lower_priority();
            index.writer_with_num_threads(threads, memory)
        })
        .join()
        .expect("the index writer's thread")
    })?;
    writer.set_merge_policy(merge_policy(bulk));
    Ok(writer)
}

/// None during a bulk load; tantivy's default log merges otherwise.
fn merge_policy(bulk: bool) -> Box<dyn tantivy::indexer::MergePolicy> {
    if bulk {
        Box::new(NoMergePolicy)
    } else {
        Box::new(LogMergePolicy::default())
    }
}

/// Drops from a per-segment cache the segments `searcher` no longer has (merged away: what
/// is kept for them holds the deleted files' memory maps open).
fn keep_live<T>(kept: &mut std::collections::HashMap<SegmentId, T>, searcher: &tantivy::Searcher) {
    let live: std::collections::HashSet<SegmentId> = searcher
        .segment_readers()
        .iter()
        .map(|s| s.segment_id())
        .collect();
    kept.retain(|id, _| live.contains(id));
}

/// The writer, unless a switch of writers failed.
fn present(slot: &mut Option<IndexWriter>) -> Result<&mut IndexWriter> {
    slot.as_mut().ok_or_else(|| {
        Error::Index(
            "the index writer could not be reopened after a bulk switch (the log says why); restart the service"
                .into(),
        )
    })
}

/// A case index in one directory.
pub struct CaseIndex {
    dir: PathBuf,
    index: Index,
    fields: Fields,
    reader: IndexReader,
    /// `None` only if a switch of writers failed ([`CaseIndex::set_bulk`]).
    writer: Mutex<Option<IndexWriter>>,
    tokenizer: ChineseTokenizer,
    /// The tokenizers queries are read with: whole words, where the index has their parts too.
    query_tokenizers: TokenizerManager,
    /// Highest store version added to the writer.
    added_version: AtomicU64,
    /// Highest store version in the last commit (the commit payload).
    committed_version: AtomicU64,
    rebuilt: bool,
    /// In a bulk load ([`CaseIndex::set_bulk`]).
    bulk: AtomicBool,
    /// A read panicked: the index must be rebuilt.
    damaged: AtomicBool,
    /// Each live segment's columns that similar-case hits read, opened once per segment.
    hit_columns: similar::HitColumnsCache,
    /// Each live segment's facet values, dense ([`facet_table`]).
    facet_tables: facet_table::FacetTables,
    /// The writer's memory budget, in bytes.
    writer_memory: usize,
}

impl std::fmt::Debug for CaseIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaseIndex").field("dir", &self.dir).finish()
    }
}

impl CaseIndex {
    /// Runs a read of the index; a panic in tantivy (damaged data it did not check) becomes
    /// an error for this request only, and marks the index for a rebuild
    /// ([`CaseIndex::take_damage`]).
    fn guarded<T>(&self, what: &str, read: impl FnOnce() -> Result<T>) -> Result<T> {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(read)) {
            Ok(r) => r,
            Err(_) => {
                self.damaged.store(true, Ordering::Release);
                tracing::error!(
                    what,
                    "the search index panicked: it is damaged and will be rebuilt from the store"
                );
                Err(Error::Index(format!(
                    "the search index failed on {what}: it is damaged and is being rebuilt from the store"
                )))
            }
        }
    }

    /// Whether a read panicked since the last call (the caller checks [`CaseIndex::is_whole`]).
    pub fn take_damage(&self) -> bool {
        self.damaged.swap(false, Ordering::AcqRel)
    }

    /// Marks the index as possibly damaged again (a rebuild that could not start).
    pub fn mark_damaged(&self) {
        self.damaged.store(true, Ordering::Release);
    }

    /// Whether every file of the index passes its checksum. Blocking: reads the whole index.
    pub fn is_whole(&self) -> bool {
        let check = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.index.validate_checksum()
        }));
        matches!(check, Ok(Ok(damaged)) if damaged.is_empty())
    }

    /// Whether `open` found no usable index and started an empty one.
    pub fn was_rebuilt(&self) -> bool {
        self.rebuilt
    }

    /// The highest store version the last commit holds.
    pub fn committed_version(&self) -> u64 {
        self.committed_version.load(Ordering::Acquire)
    }

    /// The highest store version added (committed or not).
    pub fn added_version(&self) -> u64 {
        self.added_version.load(Ordering::Acquire)
    }

    /// Documents searchable now.
    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Adds or replaces cases. Call in store version order: the index remembers the highest
    /// version added, and commits record it.
    pub fn upsert(&self, cases: &[Case]) -> Result<()> {
        let mut slot = self.writer.lock().expect("index writer lock");
        let writer = present(&mut slot)?;
        for case in cases {
            writer.delete_term(Term::from_field_text(self.fields.id, case.id.as_str()));
            writer
                .add_document(self.fields.document(case))
                .map_err(index_err)?;
            self.added_version.fetch_max(case.version, Ordering::AcqRel);
        }
        Ok(())
    }

    /// Commits what was added (if anything) with the highest added version as payload, and
    /// makes it searchable. Returns whether there was anything to commit.
    pub fn commit(&self) -> Result<bool> {
        let committed = {
            let mut slot = self.writer.lock().expect("index writer lock");
            self.commit_with(present(&mut slot)?)?
        };
        // A bulk load's segments are merged at its end, which warms the merged ones.
        if committed && !self.bulk.load(Ordering::Acquire) {
            self.warm();
        }
        Ok(committed)
    }

    /// Builds the facet tables of segments no search has met yet (new ones, and merges made
    /// visible by the last reload), here rather than in the first search that meets them: a
    /// million-case segment's takes some 60 ms.
    pub(super) fn warm(&self) {
        let searcher = self.reader.searcher();
        for segment in searcher.segment_readers() {
            if let Err(e) = self.facet_tables.get(segment, &searcher) {
                tracing::warn!(error = %e, "a segment's facet table could not be built");
            }
        }
    }

    fn commit_with(&self, writer: &mut IndexWriter) -> Result<bool> {
        let version = self.added_version();
        if version == self.committed_version() {
            return Ok(false);
        }
        let mut prepared = writer.prepare_commit().map_err(index_err)?;
        prepared.set_payload(&version.to_string());
        prepared.commit().map_err(index_err)?;
        self.committed_version.store(version, Ordering::Release);
        self.reader.reload().map_err(index_err)?;
        Ok(true)
    }

    /// Bulk loading on or off. On, segments are not merged as they come (a bulk load would
    /// merge the same documents again at every level); turn it off, then [`CaseIndex::compact`]
    /// once. Off is tantivy's default log merge policy.
    ///
    /// The writer is replaced by one with as many indexing threads as the mode wants (what it
    /// had added is committed first). Each thread makes its own segment at every commit: under
    /// steady intake, one thread keeps up and halves the small segments every search visits
    /// (and merges); a bulk load indexes faster on two.
    pub fn set_bulk(&self, on: bool) -> Result<()> {
        let mut slot = self.writer.lock().expect("index writer lock");
        if let Some(writer) = slot.as_mut()
            && let Err(e) = self.commit_with(writer)
        {
            // The writer stays, with its documents; only its merge policy follows the mode
            // (a bulk policy left on would never merge again).
            writer.set_merge_policy(merge_policy(on));
            return Err(e);
        }
        if let Some(old) = slot.take()
            && let Err(e) = old.wait_merging_threads()
        {
            // A failed merge leaves its segments as they were; nothing is lost.
            tracing::warn!(error = %e, "a merge of the replaced index writer failed");
        }
        *slot = Some(new_writer(&self.index, on, self.writer_memory)?);
        self.bulk.store(on, Ordering::Release);
        Ok(())
    }

    /// Drops whatever was added since the last commit and makes sure there is a working
    /// writer (the one there was, rolled back, or a new one), so that the caller can add the
    /// dropped cases again from the store. For after a failed add or commit (a full disk, say):
    /// tantivy's writer may be unusable then, and what it held is lost anyway.
    pub fn recover(&self) -> Result<()> {
        let mut slot = self.writer.lock().expect("index writer lock");
        let bulk = self.bulk.load(Ordering::Acquire);
        if let Some(mut writer) = slot.take() {
            match writer.rollback() {
                Ok(_) => {
                    // A rolled-back writer starts over with tantivy's default merge policy.
                    writer.set_merge_policy(merge_policy(bulk));
                    *slot = Some(writer);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "the index writer cannot roll back; replacing it");
                    drop(writer);
                }
            }
        }
        if slot.is_none() {
            *slot = Some(new_writer(
                &self.index,
                self.bulk.load(Ordering::Acquire),
                self.writer_memory,
            )?);
        }
        self.added_version
            .store(self.committed_version(), Ordering::Release);
        Ok(())
    }

    /// Searchable segments.
    pub fn segments(&self) -> Result<usize> {
        Ok(self
            .index
            .searchable_segment_ids()
            .map_err(index_err)?
            .len())
    }

    /// The searchable segments' ids.
    pub fn segment_ids(&self) -> Result<Vec<SegmentId>> {
        self.index.searchable_segment_ids().map_err(index_err)
    }

    /// Merges every segment into one and waits for it. After a bulk load the index is left
    /// in many segments, and every term lookup visits each: one segment makes similar-case
    /// and search queries several times cheaper. Returns the segments merged.
    pub fn compact(&self) -> Result<usize> {
        self.compact_except(&[])
    }

    /// Merges the segments not in `keep` (those a bulk load made) into one and waits for it.
    /// Returns the segments merged.
    pub fn compact_except(&self, keep: &[SegmentId]) -> Result<usize> {
        let mut slot = self.writer.lock().expect("index writer lock");
        let writer = present(&mut slot)?;
        let mut attempt = 0;
        let merged = loop {
            let segments: Vec<SegmentId> = self
                .segment_ids()?
                .into_iter()
                .filter(|s| !keep.contains(s))
                .collect();
            if segments.len() <= 1 {
                break segments.len();
            }
            match writer.merge(&segments).wait() {
                Ok(_) => break segments.len(),
                // A background merge (steady intake's policy) took some of them: list the
                // segments again once it has ended.
                Err(tantivy::TantivyError::InvalidArgument(_)) if attempt < COMPACT_ATTEMPTS => {
                    attempt += 1;
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
                Err(e) => return Err(index_err(e)),
            }
        };
        if merged > 1 {
            // Merged-away files go now, not at the next commit.
            writer.garbage_collect_files().wait().map_err(index_err)?;
        }
        drop(slot);
        self.reader.reload().map_err(index_err)?;
        self.warm();
        Ok(merged)
    }

    /// Empties the index (for a full re-index) and commits that, with version 0.
    pub fn clear(&self) -> Result<()> {
        let mut slot = self.writer.lock().expect("index writer lock");
        let writer = present(&mut slot)?;
        writer.delete_all_documents().map_err(index_err)?;
        let mut prepared = writer.prepare_commit().map_err(index_err)?;
        prepared.set_payload("0");
        prepared.commit().map_err(index_err)?;
        drop(slot);
        self.added_version.store(0, Ordering::Release);
        self.committed_version.store(0, Ordering::Release);
        self.reader.reload().map_err(index_err)
    }
}

/// A time as the index keeps it: nanoseconds in an `i64`, about the years 1677 to 2262. A time
/// outside that is taken as the nearest end of it (no case lies there: intake takes only times
/// from 2000 to now), where `DateTime::from_timestamp_millis` would overflow.
fn index_date(t: jiff::Timestamp) -> DateTime {
    const MAX_MILLIS: i64 = i64::MAX / 1_000_000;
    DateTime::from_timestamp_millis(t.as_millisecond().clamp(-MAX_MILLIS, MAX_MILLIS))
}

/// The facet for a value: one level under the root, with `/` (which would start a sub-level)
/// replaced.
fn facet_value(value: &str) -> Facet {
    Facet::from_path([value.replace('/', "／")])
}

fn index_err(e: impl std::fmt::Display) -> Error {
    Error::Index(e.to_string())
}

#[cfg(test)]
mod tests;
