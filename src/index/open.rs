//! Opening the index: whole, or started afresh when it is missing, of another schema or
//! damaged, for the caller to refill from the store.

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::AtomicU64;

use tantivy::{Index, IndexReader, ReloadPolicy};

use super::schema::{Fields, TOKENIZER};
use super::{CaseIndex, index_err, new_writer};
use crate::error::{Error, Result};
use crate::text::ChineseTokenizer;

impl CaseIndex {
    /// Opens the index in `dir`, or creates an empty one when it is missing, of another schema,
    /// or damaged in any way opening it can tell: a segment file missing, truncated or failing
    /// its checksum, or tantivy failing (or panicking) to open it. [`CaseIndex::was_rebuilt`]
    /// then says so, and the caller re-indexes from the store. `tokenizer` must segment as the
    /// rest of the pipeline does. Blocking: the checksums read the whole index once.
    pub fn open(dir: &Path, tokenizer: ChineseTokenizer) -> Result<Self> {
        let opened = if dir.join("meta.json").exists() {
            let attempt = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                Self::open_existing(dir, tokenizer.clone())
            }));
            match attempt {
                Ok(Ok(index)) => Some(index),
                Ok(Err(why)) => {
                    tracing::warn!(dir = %dir.display(), why, "the search index is unusable; rebuilding it from the store");
                    None
                }
                Err(_) => {
                    tracing::warn!(dir = %dir.display(), "the search index panicked on opening; rebuilding it from the store");
                    None
                }
            }
        } else {
            None
        };
        match opened {
            Some(index) => Ok(index),
            None => {
                if dir.exists() {
                    std::fs::remove_dir_all(dir).map_err(|e| Error::io(dir, e))?;
                }
                std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
                let (schema, _) = Fields::schema();
                let index = Index::create_in_dir(dir, schema).map_err(index_err)?;
                Self::assemble(dir, index, tokenizer, true).map_err(Error::Index)
            }
        }
    }

    /// The index in `dir` if it is whole, or why not.
    fn open_existing(dir: &Path, tokenizer: ChineseTokenizer) -> std::result::Result<Self, String> {
        let index = Index::open_in_dir(dir).map_err(|e| e.to_string())?;
        if index.schema() != Fields::schema().0 {
            return Err("it has another schema".into());
        }
        let damaged = index.validate_checksum().map_err(|e| e.to_string())?;
        if !damaged.is_empty() {
            let files: Vec<String> = damaged.iter().map(|p| p.display().to_string()).collect();
            return Err(format!("damaged files: {}", files.join(", ")));
        }
        Self::assemble(dir, index, tokenizer, false)
    }

    fn assemble(
        dir: &Path,
        index: Index,
        tokenizer: ChineseTokenizer,
        rebuilt: bool,
    ) -> std::result::Result<Self, String> {
        let (_, fields) = Fields::schema();
        index.tokenizers().register(TOKENIZER, tokenizer.clone());
        let committed: u64 = index
            .load_metas()
            .map_err(|e| e.to_string())?
            .payload
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        let writer = new_writer(&index, false).map_err(|e| e.to_string())?;
        let reader: IndexReader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(|e: tantivy::TantivyError| e.to_string())?;
        // Every segment's postings open: a file missing since the last commit shows here.
        for segment in reader.searcher().segment_readers() {
            for field in [fields.text, fields.title] {
                segment.inverted_index(field).map_err(|e| e.to_string())?;
            }
        }
        Ok(CaseIndex {
            hit_columns: Default::default(),
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
        })
    }
}
