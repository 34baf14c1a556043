//! The SQLite schema and its migrations (tracked in `PRAGMA user_version`).
//!
//! A case is one row: indexed columns for the lookups the store answers itself (id, version,
//! contact) and the whole case as JSON. Search, facets and near-duplicate bands are derived
//! views kept elsewhere.

use rusqlite::Connection;
use rusqlite_migration::{M, Migrations};

use crate::error::{Error, Result};

/// The migrations in order; a migration is never edited once released, only added.
pub(super) const MIGRATIONS: &[M<'static>] = &[
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
    // The store only persists. Near-duplicate fingerprints stay as opaque bytes (the band view
    // computes its bands from them); idempotency records belong to one caller each, and the
    // answer is bytes the store never reads; the alert history and delivery queue, formerly a
    // second database (`alerts.db`), live here, so that they commit with the same writer.
    M::up(
        "CREATE TABLE fingerprints (
        seq INTEGER PRIMARY KEY,               -- the case's seq
        id TEXT NOT NULL,
        received_at INTEGER NOT NULL,          -- Unix milliseconds
        fingerprint BLOB NOT NULL
    );
    INSERT INTO fingerprints (seq, id, received_at, fingerprint)
        SELECT seq, id, received_at, signature FROM signatures;
    DROP TABLE signatures;
    CREATE TABLE idempotency_by_caller (
        caller TEXT NOT NULL,
        key TEXT NOT NULL,
        request_hash TEXT NOT NULL,
        case_id TEXT NOT NULL,
        answer BLOB NOT NULL,                  -- the first answer, replayed verbatim
        created_at INTEGER NOT NULL,
        PRIMARY KEY (caller, key)
    ) WITHOUT ROWID;
    -- Keys recorded before callers were told apart belong to no caller now: a retry after the
    -- upgrade is a new request.
    INSERT INTO idempotency_by_caller (caller, key, request_hash, case_id, answer, created_at)
        SELECT '', key, request_hash, case_id, CAST(response AS BLOB), created_at FROM idempotency;
    DROP TABLE idempotency;
    CREATE TABLE alerts (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        key TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        created_at INTEGER NOT NULL,           -- Unix milliseconds
        doc TEXT NOT NULL                      -- the Alert as JSON
    );
    CREATE INDEX alerts_key ON alerts(key, seq);
    CREATE INDEX alerts_created ON alerts(created_at, seq);
    CREATE TABLE deliveries (
        id TEXT PRIMARY KEY,                   -- `{alert id}.{n}`, sent as X-Tousu-Delivery
        alert_id TEXT NOT NULL REFERENCES alerts(id),
        webhook TEXT NOT NULL,                 -- the webhook's name in the config
        status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_at INTEGER NOT NULL,              -- Unix milliseconds
        last_error TEXT,
        delivered_at INTEGER                   -- Unix milliseconds
    );
    CREATE INDEX deliveries_due ON deliveries(next_at) WHERE status = 'pending';
    CREATE INDEX deliveries_alert ON deliveries(alert_id);",
    ),
];

/// The memory map of every connection: the most SQLite's build allows (`SQLITE_MAX_MMAP_SIZE`,
/// just under 2 GiB). Mapped pages are read in place, file-backed memory the kernel may drop;
/// only pages past the map go through the connection's own page cache.
pub(super) const MMAP_BYTES: u64 = 0x7fff_0000;

/// Read-side pragmas: a page cache of `cache_mib` and the memory map (no `pread` per page).
pub fn reader_pragmas(cache_mib: usize) -> String {
    format!(
        "PRAGMA busy_timeout = 5000; PRAGMA query_only = ON;
         PRAGMA cache_size = -{}; PRAGMA mmap_size = {MMAP_BYTES};",
        cache_mib * 1024
    )
}

/// Pragmas every connection needs. `synchronous=FULL`: in WAL mode `NORMAL` may lose the last
/// commits on power loss, and an acknowledged intake must survive that.
pub fn configure(conn: &Connection, cache_mib: usize) -> rusqlite::Result<()> {
    conn.execute_batch(&format!(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA busy_timeout = 5000;
         PRAGMA secure_delete = ON;
         PRAGMA cache_size = -{};
         PRAGMA mmap_size = {MMAP_BYTES};",
        cache_mib * 1024
    ))
}

/// Every migration: the SQL ones, then the upgrades that need code.
fn migrations() -> Migrations<'static> {
    let mut all = MIGRATIONS.to_vec();
    // Masks the free text of cases written before every field was masked.
    all.push(M::up_with_hook("", super::scrub::scrub));
    // A version is handed out once: a second row with it would be a write the change feed
    // could skip.
    all.push(M::up(
        "DROP INDEX cases_version; CREATE UNIQUE INDEX cases_version ON cases(version);",
    ));
    // Each case's handling facts in a narrow table, written with the case: work queues, the
    // deadline sweep and KPIs load them at start without reading every document.
    all.push(M::up_with_hook(
        "CREATE TABLE case_facts (
            seq INTEGER PRIMARY KEY,            -- the case's seq
            facts TEXT NOT NULL                 -- domain::CaseFacts as JSON
        );",
        super::rows::fill_facts,
    ));
    // Case events out: the events the dispatcher made from the audit trail and the alert
    // history, and their deliveries, delivered in order per case and webhook.
    all.push(M::up(
        "CREATE TABLE events (
        seq INTEGER PRIMARY KEY,               -- queue order
        id TEXT NOT NULL UNIQUE,               -- the event's id, in its body
        case_id TEXT NOT NULL,
        type TEXT NOT NULL,                    -- case.created, case.assigned, ...
        at INTEGER NOT NULL,                   -- Unix milliseconds
        doc TEXT NOT NULL                      -- the CaseEvent as JSON
    );
    CREATE TABLE event_deliveries (
        id TEXT PRIMARY KEY,                   -- `{event id}.{n}`, sent as X-Tousu-Delivery
        event_seq INTEGER NOT NULL REFERENCES events(seq),
        case_id TEXT NOT NULL,
        webhook TEXT NOT NULL,                 -- the webhook's name in [events]
        status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_at INTEGER NOT NULL,              -- Unix milliseconds
        last_error TEXT,
        delivered_at INTEGER                   -- Unix milliseconds
    );
    CREATE INDEX event_deliveries_due ON event_deliveries(next_at) WHERE status = 'pending';
    CREATE INDEX event_deliveries_order ON event_deliveries(webhook, case_id, event_seq)
        WHERE status = 'pending';
    CREATE INDEX event_deliveries_event ON event_deliveries(event_seq);",
    ));
    // The contact given at intake, kept apart like the original text for the audited reveal
    // (cases stored before have none); a read's reason in the audit trail; and the indexes of
    // the audit search across cases. A search pages by `seq` within one filter's index, and
    // turns a time window into a range of `seq` through `audit_at` (times never go back along
    // `seq`), so a page reads about `limit` rows of a trail of millions.
    all.push(M::up(
        "ALTER TABLE cases ADD COLUMN contact TEXT;
         ALTER TABLE audit ADD COLUMN note TEXT;
         CREATE INDEX audit_actor ON audit(actor, seq);
         CREATE INDEX audit_action ON audit(action, seq);
         CREATE INDEX audit_at ON audit(at);",
    ));
    // A near duplicate's root beside its fingerprint, so that linking a new case to it reads
    // one narrow row, not the whole case: '' for none; NULL in rows stored before.
    all.push(M::up(
        "ALTER TABLE fingerprints ADD COLUMN duplicate_of TEXT;",
    ));
    Migrations::new(all)
}

/// Brings the schema up to date.
pub fn migrate(conn: &mut Connection) -> Result<()> {
    migrations()
        .to_latest(conn)
        .map_err(|e| Error::Store(format!("schema migration failed: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid() {
        assert!(migrations().validate().is_ok());
    }
}
