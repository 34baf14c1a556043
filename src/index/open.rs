//! Opening the index: whole, or started afresh when it is missing, of another schema or
//! damaged, for the caller to refill from the store.

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::AtomicU64;

use tantivy::tokenizer::TokenizerManager;
use tantivy::{Index, IndexReader, ReloadPolicy, TantivyError};

use super::facet_table::FacetTables;
use super::schema::{FACETS, Fields, TOKENIZER};
use super::{CaseIndex, index_err, try_new_writer};
use crate::error::{Error, Result};
use crate::text::ChineseTokenizer;

impl CaseIndex {
    /// Opens the index in `dir`, or creates an empty one when it is missing, of another schema,
    /// or damaged in any way opening it can tell: a segment file missing, truncated or failing
    /// its checksum, or tantivy failing (or panicking) to open it. [`CaseIndex::was_rebuilt`]
    /// then says so, and the caller re-indexes from the store. `tokenizer` must segment as the
    /// rest of the pipeline does. Blocking: the checksums read the whole index once.
    pub fn open(dir: &Path, tokenizer: ChineseTokenizer) -> Result<Self> {
        Self::open_with(dir, tokenizer, super::WRITER_MEMORY_MIB)
    }

    /// [`CaseIndex::open`] with an indexing budget of `writer_mib` (at least 15).
    pub fn open_with(dir: &Path, tokenizer: ChineseTokenizer, writer_mib: usize) -> Result<Self> {
        let writer_memory = writer_mib.max(15) << 20;
        if dir.join("meta.json").exists() {
            let attempt = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                Self::open_existing(dir, tokenizer.clone(), writer_memory)
            }));
            match attempt {
                Ok(Ok(index)) => {
                    index.warm();
                    return Ok(index);
                }
                // Not damage: another process holds it, and deleting it would pull the index
                // from under that process.
                Ok(Err(Unusable::Busy(why))) => {
                    return Err(Error::Index(format!(
                        "the search index in {} is in use by another process ({why}): stop it first",
                        dir.display()
                    )));
                }
                Ok(Err(Unusable::Damaged(why))) => {
                    tracing::warn!(dir = %dir.display(), why, "the search index is unusable; rebuilding it from the store");
                }
                Err(_) => {
                    tracing::warn!(dir = %dir.display(), "the search index panicked on opening; rebuilding it from the store");
                }
            }
        }
        if dir.exists() {
            std::fs::remove_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let (schema, _) = Fields::schema();
        let index = Index::create_in_dir(dir, schema).map_err(index_err)?;
        Self::assemble(dir, index, tokenizer, true, writer_memory)
            .map_err(|u| Error::Index(u.to_string()))
    }

    /// The index in `dir` if it is whole, or why not.
    fn open_existing(
        dir: &Path,
        tokenizer: ChineseTokenizer,
        writer_memory: usize,
    ) -> std::result::Result<Self, Unusable> {
        let index = Index::open_in_dir(dir).map_err(Unusable::damaged)?;
        if index.schema() != Fields::schema().0 {
            return Err(Unusable::Damaged("it has another schema".into()));
        }
        let damaged = index.validate_checksum().map_err(Unusable::damaged)?;
        if !damaged.is_empty() {
            let files: Vec<String> = damaged.iter().map(|p| p.display().to_string()).collect();
            return Err(Unusable::Damaged(format!(
                "damaged files: {}",
                files.join(", ")
            )));
        }
        Self::assemble(dir, index, tokenizer, false, writer_memory)
    }

    fn assemble(
        dir: &Path,
        index: Index,
        tokenizer: ChineseTokenizer,
        rebuilt: bool,
        writer_memory: usize,
    ) -> std::result::Result<Self, Unusable> {
        let (_, fields) = Fields::schema();
        index.tokenizers().register(TOKENIZER, tokenizer.clone());
        let committed: u64 = index
            .load_metas()
            .map_err(Unusable::damaged)?
            .payload
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        let writer = try_new_writer(&index, false, writer_memory).map_err(|e| match e {
            TantivyError::LockFailure(..) => Unusable::Busy(e.to_string()),
            e => Unusable::damaged(e),
        })?;
        let reader: IndexReader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(Unusable::damaged)?;
        // Every segment's postings open: a file missing since the last commit shows here.
        for segment in reader.searcher().segment_readers() {
            for field in [fields.text, fields.title] {
                segment.inverted_index(field).map_err(Unusable::damaged)?;
            }
        }
        let query_tokenizers = TokenizerManager::new();
        query_tokenizers.register(TOKENIZER, tokenizer.for_queries());
        Ok(CaseIndex {
            query_tokenizers,
            hit_columns: Default::default(),
            facet_tables: FacetTables::new(&FACETS),
            dir: dir.to_path_buf(),
            index,
            fields,
            reader,
            writer: Mutex::new(Some(writer)),
            tokenizer,
            added_version: AtomicU64::new(committed),
            committed_version: AtomicU64::new(committed),
            rebuilt,
            bulk: Default::default(),
            damaged: Default::default(),
            writer_memory,
        })
    }
}

/// Why an existing index cannot be used.
enum Unusable {
    /// Another process holds its writer lock: leave it alone.
    Busy(String),
    /// Missing files, failed checksums, another schema: rebuild it.
    Damaged(String),
}

impl Unusable {
    fn damaged(e: impl std::fmt::Display) -> Self {
        Unusable::Damaged(e.to_string())
    }
}

impl std::fmt::Display for Unusable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unusable::Busy(why) | Unusable::Damaged(why) => f.write_str(why),
        }
    }
}
