//! The SQLite schema and its migrations (tracked in `PRAGMA user_version`).
//!
//! A case is one row: indexed columns for the lookups the store answers itself (id, version,
//! contact, near-duplicate bands) and the whole case as JSON. Search and facets belong to the index.

use rusqlite::Connection;
use rusqlite_migration::{M, Migrations};

use crate::error::{Error, Result};

const MIGRATIONS: &[M<'static>] = &[
    M::up(
        "CREATE TABLE cases (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        version INTEGER NOT NULL,
        received_at INTEGER NOT NULL,          -- Unix milliseconds
        contact_hash TEXT,
        original_text TEXT NOT NULL,
        doc TEXT NOT NULL,                     -- the Case as JSON, without `triage`
        triage TEXT NOT NULL                   -- the triage recorded at intake, as JSON
    );
    CREATE INDEX cases_version ON cases(version);
    CREATE INDEX cases_contact ON cases(contact_hash, received_at) WHERE contact_hash IS NOT NULL;
    -- Near-duplicate signatures in a narrow table of their own: a lookup touches a few small
    -- rows, not the cases' large documents.
    CREATE TABLE signatures (
        seq INTEGER PRIMARY KEY,               -- the case's seq
        id TEXT NOT NULL,
        received_at INTEGER NOT NULL,
        signature BLOB NOT NULL,               -- MinHash
        band0 INTEGER NOT NULL, band1 INTEGER NOT NULL, band2 INTEGER NOT NULL,
        band3 INTEGER NOT NULL, band4 INTEGER NOT NULL, band5 INTEGER NOT NULL,
        band6 INTEGER NOT NULL, band7 INTEGER NOT NULL
    );
    CREATE INDEX signatures_band0 ON signatures(band0, received_at);
    CREATE INDEX signatures_band1 ON signatures(band1, received_at);
    CREATE INDEX signatures_band2 ON signatures(band2, received_at);
    CREATE INDEX signatures_band3 ON signatures(band3, received_at);
    CREATE INDEX signatures_band4 ON signatures(band4, received_at);
    CREATE INDEX signatures_band5 ON signatures(band5, received_at);
    CREATE INDEX signatures_band6 ON signatures(band6, received_at);
    CREATE INDEX signatures_band7 ON signatures(band7, received_at);
    CREATE TABLE day_counters (day TEXT PRIMARY KEY, n INTEGER NOT NULL);
    CREATE TABLE idempotency (
        key TEXT PRIMARY KEY,
        request_hash TEXT NOT NULL,
        case_id TEXT NOT NULL,
        response TEXT NOT NULL,                -- the first response's body, replayed verbatim
        created_at INTEGER NOT NULL
    );
    CREATE TABLE audit (
        seq INTEGER PRIMARY KEY,
        case_id TEXT NOT NULL,
        at INTEGER NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        before TEXT NOT NULL,
        after TEXT NOT NULL
    );
    CREATE INDEX audit_case ON audit(case_id, seq);
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
    ),
    // The band lookups moved into memory (`store::bands`): as indexes the band values cost eight
    // random B-tree pages per new case. The columns stay, to load the in-memory index from.
    M::up(
        "DROP INDEX signatures_band0; DROP INDEX signatures_band1; DROP INDEX signatures_band2;
     DROP INDEX signatures_band3; DROP INDEX signatures_band4; DROP INDEX signatures_band5;
     DROP INDEX signatures_band6; DROP INDEX signatures_band7;",
    ),
];

/// Read-side pragmas: a 64 MiB page cache and memory-mapped reads (no `pread` per page).
pub const READER_PRAGMAS: &str = "PRAGMA busy_timeout = 5000; PRAGMA query_only = ON;
     PRAGMA cache_size = -65536; PRAGMA mmap_size = 1073741824;";

/// Pragmas every connection needs. `synchronous=FULL`: in WAL mode `NORMAL` may lose the last
/// commits on power loss, and an acknowledged intake must survive that.
pub fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA busy_timeout = 5000;
         PRAGMA secure_delete = ON;
         PRAGMA cache_size = -65536;
         PRAGMA mmap_size = 1073741824;",
    )
}

/// Brings the schema up to date.
pub fn migrate(conn: &mut Connection) -> Result<()> {
    Migrations::from_slice(MIGRATIONS)
        .to_latest(conn)
        .map_err(|e| Error::Store(format!("schema migration failed: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid() {
        assert!(Migrations::from_slice(MIGRATIONS).validate().is_ok());
    }
}
