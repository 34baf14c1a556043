//! The SQLite schema and its migrations (tracked in `PRAGMA user_version`).
//!
//! A case is one row: indexed columns for the lookups the store answers itself (id, version,
//! contact, near-duplicate bands) and the whole case as JSON. Search and facets belong to the index.

use rusqlite::Connection;
use rusqlite_migration::{M, Migrations};

use crate::error::{Error, Result};

const MIGRATIONS: &[M<'static>] = &[M::up(
    "CREATE TABLE cases (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        version INTEGER NOT NULL,
        received_at INTEGER NOT NULL,          -- Unix milliseconds
        contact_hash TEXT,
        signature BLOB NOT NULL,               -- MinHash, for near duplicates
        band0 INTEGER NOT NULL, band1 INTEGER NOT NULL, band2 INTEGER NOT NULL,
        band3 INTEGER NOT NULL, band4 INTEGER NOT NULL, band5 INTEGER NOT NULL,
        band6 INTEGER NOT NULL, band7 INTEGER NOT NULL,
        original_text TEXT NOT NULL,
        doc TEXT NOT NULL                      -- the Case as JSON
    );
    CREATE INDEX cases_version ON cases(version);
    CREATE INDEX cases_contact ON cases(contact_hash, received_at) WHERE contact_hash IS NOT NULL;
    CREATE INDEX cases_band0 ON cases(band0, received_at);
    CREATE INDEX cases_band1 ON cases(band1, received_at);
    CREATE INDEX cases_band2 ON cases(band2, received_at);
    CREATE INDEX cases_band3 ON cases(band3, received_at);
    CREATE INDEX cases_band4 ON cases(band4, received_at);
    CREATE INDEX cases_band5 ON cases(band5, received_at);
    CREATE INDEX cases_band6 ON cases(band6, received_at);
    CREATE INDEX cases_band7 ON cases(band7, received_at);
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
)];

/// Pragmas every connection needs. `synchronous=FULL`: in WAL mode `NORMAL` may lose the last
/// commits on power loss, and an acknowledged intake must survive that.
pub fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA busy_timeout = 5000;
         PRAGMA secure_delete = ON;",
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
