//! The service's fixed memory: caches whose size does not follow the store's. What grows with
//! the store (work queues, near-duplicate bands, trends, topics) is reported per case at start
//! and in `/metrics`; see docs/operations.md.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::store::SqliteMemory;

/// Memory settings (`[memory]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Memory {
    /// SQLite's page cache of each store connection (the writer and each of 8 readers), in
    /// MiB. Pages within the first 2 GiB of the database file are read through a memory map
    /// (file-backed, not counted here); the cache holds the rest and the writer's changes.
    pub store_cache_mib: usize,
    /// Earlier cases kept in memory for intake's comparisons (neighbours: the text, the
    /// resolution and a few fields of each; see `tousu memory` for what they cost). 8,192
    /// light cases for lists and search hits are kept besides.
    pub recent_cases: usize,
    /// The search index's indexing buffer, in MiB (at least 15).
    pub index_writer_mib: usize,
    /// How long the allocator keeps memory freed by requests before giving it back to the
    /// system, in milliseconds: 0 at once (the default), 10 mimalloc's own default, -1 never.
    /// `MIMALLOC_PURGE_DELAY` in the environment wins.
    pub allocator_purge_delay_ms: i64,
    /// Whether the process may use transparent huge pages (off by default: memory returned
    /// and taken again would be zeroed 2 MiB at a time). `MIMALLOC_ALLOW_THP` in the
    /// environment wins.
    pub transparent_huge_pages: bool,
}

impl Default for Memory {
    fn default() -> Self {
        let store = SqliteMemory::default();
        Memory {
            store_cache_mib: store.page_cache_mib,
            recent_cases: store.recent_cases,
            index_writer_mib: crate::index::WRITER_MEMORY_MIB,
            allocator_purge_delay_ms: 0,
            transparent_huge_pages: false,
        }
    }
}

impl Memory {
    /// Refuses settings the store or index cannot run with.
    pub fn validate(&self) -> Result<()> {
        if self.store_cache_mib == 0 || self.store_cache_mib > 4096 {
            return Err(Error::Invalid(format!(
                "memory.store_cache_mib is {}: give 1 to 4096 (MiB per connection)",
                self.store_cache_mib
            )));
        }
        if self.recent_cases == 0 {
            return Err(Error::Invalid(format!(
                "memory.recent_cases is 0: give at least 1 ({} is the default)",
                Memory::default().recent_cases
            )));
        }
        if !(15..=4096).contains(&self.index_writer_mib) {
            return Err(Error::Invalid(format!(
                "memory.index_writer_mib is {}: give 15 to 4096 (tantivy needs 15 MiB at least)",
                self.index_writer_mib
            )));
        }
        if self.allocator_purge_delay_ms < -1 || self.allocator_purge_delay_ms > 60_000 {
            return Err(Error::Invalid(format!(
                "memory.allocator_purge_delay_ms is {}: give -1 (never) or 0 to 60000 ms",
                self.allocator_purge_delay_ms
            )));
        }
        Ok(())
    }

    /// The store's part.
    pub fn store(&self) -> SqliteMemory {
        SqliteMemory {
            page_cache_mib: self.store_cache_mib,
            recent_cases: self.recent_cases,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_nonsense_is_refused_with_the_key() {
        Memory::default().validate().unwrap();
        let zero = Memory {
            recent_cases: 0,
            ..Memory::default()
        };
        assert!(
            zero.validate()
                .unwrap_err()
                .to_string()
                .contains("recent_cases")
        );
        let small = Memory {
            index_writer_mib: 8,
            ..Memory::default()
        };
        assert!(
            small
                .validate()
                .unwrap_err()
                .to_string()
                .contains("index_writer_mib")
        );
        let parsed: Memory = toml::from_str("store_cache_mib = 8").unwrap();
        assert_eq!(parsed.store_cache_mib, 8);
        assert_eq!(parsed.recent_cases, Memory::default().recent_cases);
    }
}
