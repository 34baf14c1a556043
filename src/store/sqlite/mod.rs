//! The embedded default store: one SQLite file in the data directory, in WAL mode with
//! `synchronous=FULL`; one writer thread committing in small groups, a pool of readers.

mod alerts;
mod audit;
mod checkpointer;
mod commands;
mod events;
mod fingerprints;
mod light;
mod mapping;
mod open;
mod packed;
mod pending;
mod rows;
mod schema;
mod scrub;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use r2d2::Pool;
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Connection, OptionalExtension, params};

use self::alerts::AlertWrite;
use self::checkpointer::Checkpointer;
use self::events::EventWrite;
pub use self::light::LIGHT_CAPACITY;
use self::light::{Recent, lock, read_through};
use self::mapping::CommitPace;
pub use self::open::SqliteMemory;
pub use self::packed::unpacked;
use self::rows::{
    AUDIT_COLUMNS, audit_row, from_json, load, load_light, load_neighbour, read_each, store_err,
    text,
};
use self::writer::{Command, Writer};
use super::{
    Access, AlertEntry, AuditEntry, AuditQuery, AuditRow, CaseRef, CaseStore, DeliveryOutcome,
    DueDelivery, DueEvent, EventCursor, FingerprintRow, ImportCheckpoint, KeptApart, NewAlert,
    NewCase, NewEvent, StoredAnswer, Update, Updated,
};
use crate::domain::{Alert, AlertRecord, AuditEvent, Case, CaseFacts, CaseId, Neighbour};
use crate::error::{Error, Result};

/// Readers in the pool: enough for the request threads of a small machine.
const READERS: u32 = 8;

/// SQLite in WAL mode: readers never wait for the writer, and the writer is one thread.
pub struct SqliteStore {
    path: PathBuf,
    readers: Pool<SqliteConnectionManager>,
    writer: Writer,
    _checkpointer: Checkpointer,
    salt: String,
    /// Light cases and neighbours read recently.
    recent: Arc<Recent>,
    /// How often the writer commits: whether readers use the memory map.
    pace: Arc<CommitPace>,
    /// Pending alert deliveries.
    pending: Arc<AtomicUsize>,
    /// Why the writer's last commit failed, until one succeeds.
    failure: Arc<Mutex<Option<String>>>,
    /// Held while open: one process owns a store (its writer numbers cases and versions in
    /// memory, so a second one would hand out the same numbers).
    _owner: std::fs::File,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish()
    }
}

impl SqliteStore {
    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let conn = self
            .readers
            .get()
            .map_err(|e| Error::Store(format!("no store reader free: {e}")))?;
        let busy = self.pace.busy(Timestamp::now().as_millisecond());
        mapping::suit(&conn, !busy, schema::MMAP_BYTES).map_err(store_err)?;
        f(&conn)
    }

    fn cases(&self, sql: &str, params: impl rusqlite::Params) -> Result<Vec<Case>> {
        self.read(|c| {
            let mut st = c.prepare_cached(sql).map_err(store_err)?;
            let docs = st
                .query_map(params, |r| text(r, 0))
                .map_err(store_err)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(store_err)?;
            docs.iter().map(|d| from_json(d)).collect()
        })
    }

    fn alert_write(&self, w: AlertWrite) -> Result<alerts::AlertWritten> {
        self.writer.call(|reply| Command::Alerts(w, reply))
    }

    fn event_write(&self, w: EventWrite) -> Result<events::EventWritten> {
        self.writer.call(|reply| Command::Events(w, reply))
    }
}

impl CaseStore for SqliteStore {
    fn insert(
        &self,
        cases: Vec<NewCase>,
        checkpoint: Option<ImportCheckpoint>,
    ) -> Result<Vec<Result<Case>>> {
        self.writer
            .call(|reply| Command::Insert(cases, checkpoint, reply))
    }

    fn update(&self, update: Update) -> Result<Updated> {
        self.writer.call(|reply| Command::Update(update, reply))
    }

    fn get(&self, id: &CaseId) -> Result<Option<Case>> {
        self.read(|c| load(c, id))
    }

    fn get_many(&self, ids: &[CaseId]) -> Result<Vec<Arc<Case>>> {
        read_through(&self.recent.light, ids, |missing| {
            self.read(|c| read_each(c, ids, missing, load_light))
        })
    }

    fn neighbours(&self, wanted: &[CaseRef]) -> Result<Vec<Arc<Neighbour>>> {
        read_through(&self.recent.neighbours, wanted, |missing| {
            self.read(|c| read_each(c, wanted, missing, load_neighbour))
        })
    }

    fn by_contact(&self, contact_hash: &str, since: Timestamp, limit: usize) -> Result<Vec<Case>> {
        self.cases(
            "SELECT doc FROM cases WHERE contact_hash = ?1 AND received_at >= ?2
             ORDER BY received_at DESC LIMIT ?3",
            params![contact_hash, since.as_millisecond(), limit as i64],
        )
    }

    fn changed_since(&self, version: u64, limit: usize) -> Result<Vec<Case>> {
        self.cases(
            "SELECT doc FROM cases WHERE version > ?1 ORDER BY version LIMIT ?2",
            params![version as i64, limit as i64],
        )
    }

    fn scan(&self, after_seq: u64, limit: usize) -> Result<Vec<Case>> {
        self.cases(
            "SELECT doc FROM cases WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            params![after_seq as i64, limit as i64],
        )
    }

    fn facts(&self, after_seq: u64, limit: usize) -> Result<Vec<CaseFacts>> {
        let rows: Vec<String> = self.read(|c| {
            c.prepare_cached("SELECT facts FROM case_facts WHERE seq > ?1 ORDER BY seq LIMIT ?2")
                .and_then(|mut st| {
                    st.query_map(params![after_seq as i64, limit as i64], |r| text(r, 0))?
                        .collect()
                })
                .map_err(store_err)
        })?;
        rows.iter()
            .map(|f| {
                serde_json::from_str(f)
                    .map_err(|e| Error::Store(format!("stored case facts do not read: {e}")))
            })
            .collect()
    }

    fn fingerprints(&self, after_seq: u64, limit: usize) -> Result<Vec<FingerprintRow>> {
        self.read(|c| fingerprints::after(c, after_seq, limit))
    }

    fn fingerprints_of(&self, seqs: &[u64]) -> Result<Vec<FingerprintRow>> {
        self.read(|c| {
            let mut rows = Vec::with_capacity(seqs.len());
            fingerprints::each(c, seqs, |row| {
                rows.push(row);
                true
            })?;
            Ok(rows)
        })
    }

    fn find_fingerprint(
        &self,
        seqs: &[u64],
        accept: &mut dyn FnMut(&FingerprintRow) -> bool,
    ) -> Result<Option<FingerprintRow>> {
        self.read(|c| {
            let mut found = None;
            // Read no further than the first taken.
            fingerprints::each(c, seqs, |row| {
                if accept(&row) {
                    found = Some(row);
                    return false;
                }
                true
            })?;
            Ok(found)
        })
    }

    fn max_version(&self) -> Result<u64> {
        self.read(|c| {
            c.query_row("SELECT COALESCE(MAX(version), 0) FROM cases", [], |r| {
                r.get::<_, i64>(0)
            })
            .map(|v| v as u64)
            .map_err(store_err)
        })
    }

    fn count(&self) -> Result<u64> {
        self.read(|c| {
            c.query_row("SELECT COUNT(*) FROM cases", [], |r| r.get::<_, i64>(0))
                .map(|v| v as u64)
                .map_err(store_err)
        })
    }

    fn audit(&self, id: &CaseId) -> Result<Vec<AuditEvent>> {
        self.read(|c| {
            c.prepare_cached(&format!(
                "SELECT {AUDIT_COLUMNS} FROM audit WHERE case_id = ?1 ORDER BY seq"
            ))
            .and_then(|mut st| st.query_map([id.as_str()], audit_row)?.collect())
            .map_err(store_err)
        })
    }

    fn audit_search(&self, query: &AuditQuery) -> Result<Vec<AuditRow>> {
        self.read(|c| audit::search(c, query))
    }

    fn reveal(&self, access: Access) -> Result<KeptApart> {
        self.writer.call(|reply| Command::Reveal(access, reply))
    }

    fn idempotency(&self, caller: &str, key: &str) -> Result<Option<StoredAnswer>> {
        self.read(|c| {
            c.prepare_cached(
                "SELECT request_hash, case_id, answer FROM idempotency_by_caller
                 WHERE caller = ?1 AND key = ?2",
            )
            .and_then(|mut st| {
                st.query_row([caller, key], |r| {
                    Ok(StoredAnswer {
                        request_hash: r.get(0)?,
                        case_id: CaseId(r.get(1)?),
                        answer: r.get(2)?,
                    })
                })
                .optional()
            })
            .map_err(store_err)
        })
    }

    fn import_checkpoint(&self, file_key: &str) -> Result<Option<ImportCheckpoint>> {
        self.read(|c| {
            let v: Option<String> = c
                .query_row(
                    "SELECT value FROM meta WHERE key = ?1",
                    [format!("import:{file_key}")],
                    |r| r.get(0),
                )
                .optional()
                .map_err(store_err)?;
            Ok(v.and_then(|v| v.parse().ok())
                .map(|lines_done| ImportCheckpoint {
                    file_key: file_key.to_string(),
                    lines_done,
                }))
        })
    }

    fn bulk_load(&self, on: bool) -> Result<()> {
        self.writer.call(|reply| Command::Bulk(on, reply))
    }

    fn contact_salt(&self) -> &str {
        &self.salt
    }

    fn write_queue_depth(&self) -> usize {
        self.writer.queue_depth()
    }

    fn insert_alerts(&self, alerts: Vec<NewAlert>) -> Result<Vec<Alert>> {
        if alerts.is_empty() {
            return Ok(Vec::new());
        }
        Ok(self.alert_write(AlertWrite::Insert(alerts))?.alerts)
    }

    fn due_deliveries(&self, now: Timestamp, limit: usize) -> Result<Vec<DueDelivery>> {
        self.read(|c| alerts::due(c, now, limit))
    }

    fn next_delivery_at(&self) -> Result<Option<Timestamp>> {
        self.read(alerts::next_due_at)
    }

    fn finish_delivery(&self, id: &str, outcome: DeliveryOutcome) -> Result<()> {
        self.alert_write(AlertWrite::Finish(id.to_string(), outcome))
            .map(drop)
    }

    fn fail_unconfigured(&self, configured: &[String]) -> Result<usize> {
        Ok(self
            .alert_write(AlertWrite::FailUnconfigured(configured.to_vec()))?
            .changed)
    }

    fn alert_history(&self, since: Option<Timestamp>, limit: usize) -> Result<Vec<AlertRecord>> {
        self.read(|c| alerts::history(c, since, limit))
    }

    fn pending_deliveries(&self) -> usize {
        self.pending.load(Ordering::Relaxed)
    }

    fn write_failure(&self) -> Option<String> {
        lock(&self.failure).clone()
    }

    fn audit_since(&self, after_seq: u64, limit: usize) -> Result<Vec<AuditEntry>> {
        self.read(|c| events::audit_since(c, after_seq, limit))
    }

    fn case_as_of(&self, id: &CaseId, audit_seq: u64) -> Result<Option<Case>> {
        self.read(|c| events::case_as_of(c, id, audit_seq))
    }

    fn alerts_since(&self, after_seq: u64, limit: usize) -> Result<Vec<AlertEntry>> {
        self.read(|c| alerts::since(c, after_seq, limit))
    }

    fn event_cursor(&self) -> Result<EventCursor> {
        Ok(self.event_write(EventWrite::Cursor)?.cursor)
    }

    fn queue_events(&self, events: Vec<NewEvent>, cursor: EventCursor) -> Result<()> {
        self.event_write(EventWrite::Queue(events, cursor))
            .map(drop)
    }

    fn due_events(&self, now: Timestamp, limit: usize) -> Result<Vec<DueEvent>> {
        self.read(|c| events::due(c, now, limit))
    }

    fn next_event_at(&self) -> Result<Option<Timestamp>> {
        self.read(events::next_due_at)
    }

    fn finish_event(&self, id: &str, outcome: DeliveryOutcome) -> Result<()> {
        self.event_write(EventWrite::Finish(id.to_string(), outcome))
            .map(drop)
    }

    fn fail_unconfigured_events(&self, configured: &[String]) -> Result<usize> {
        Ok(self
            .event_write(EventWrite::FailUnconfigured(configured.to_vec()))?
            .changed)
    }

    fn pending_events(&self) -> Result<usize> {
        self.read(events::pending)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::conformance;

    /// The store contract, on SQLite.
    #[test]
    fn sqlite_passes_the_store_conformance_suite() {
        conformance::run(|dir| Box::new(SqliteStore::open(&dir.join("tousu.db")).unwrap()));
    }

    #[test]
    fn readers_map_the_file_while_the_writer_is_quiet_and_not_while_it_commits_often() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("tousu.db")).unwrap();
        let mmap = |store: &SqliteStore| -> i64 {
            store
                .read(|c| {
                    c.query_row("PRAGMA mmap_size", [], |r| r.get(0))
                        .map_err(store_err)
                })
                .unwrap()
        };
        assert!(mmap(&store) > 0, "a quiet store's readers read in place");
        let n = conformance::new_case("停水三天", "2026-11-21T17:30:00Z");
        store.insert(vec![n], None).unwrap().remove(0).unwrap();
        assert!(
            store.pace.last_commit() > 0,
            "the writer counts its commits"
        );
        // As many commits in this second as a burst of creates makes (counted here, not made:
        // a slow disk would spread real ones over more than a second).
        let now = Timestamp::now().as_millisecond();
        for _ in 0..mapping::BUSY_COMMITS_PER_SECOND {
            store.pace.committed(now);
        }
        assert_eq!(
            mmap(&store),
            0,
            "readers use pread while the writer is busy"
        );
    }

    #[test]
    fn a_fingerprint_stored_before_roots_were_recorded_says_it_does_not_know() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tousu.db");
        let store = SqliteStore::open(&path).unwrap();
        let n = conformance::new_case("停水三天", "2026-11-21T17:30:00Z");
        let a = store.insert(vec![n], None).unwrap().remove(0).unwrap();
        assert_eq!(
            store.fingerprints_of(&[a.seq]).unwrap()[0].duplicate_of,
            Some(None)
        );
        // As the column's migration leaves the rows before it.
        Connection::open(&path)
            .unwrap()
            .execute("UPDATE fingerprints SET duplicate_of = NULL", [])
            .unwrap();
        assert_eq!(
            store.fingerprints_of(&[a.seq]).unwrap()[0].duplicate_of,
            None
        );
    }

    #[test]
    fn new_cases_are_cached_light_and_rewrites_are_seen() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("tousu.db")).unwrap();
        let mut n = conformance::new_case("小区停水三天", "2026-11-21T17:30:00Z");
        n.case.triage = Some(
            crate::domain::TriageRecord::of(&serde_json::json!({"category": "供水"})).unwrap(),
        );
        let a = store.insert(vec![n], None).unwrap().remove(0).unwrap();
        let cached = lock(&store.recent.light)
            .get(&a.id)
            .expect("a new case is cached");
        let stored = store.read(|c| load_light(c, &a.id)).unwrap().unwrap();
        assert_eq!(*cached, stored);
        assert!(cached.triage.is_none() && a.triage.is_some());
        let neighbour = lock(&store.recent.neighbours)
            .get(&a.id)
            .expect("and as a neighbour");
        assert_eq!(
            *neighbour,
            store
                .read(|c| load_neighbour(c, &CaseRef::at(a.id.clone(), a.seq)))
                .unwrap()
                .unwrap()
        );
        store
            .update(Update {
                id: a.id.clone(),
                actor: "t".into(),
                change: crate::store::Change::apply(|c| {
                    c.department = Some("维修".into());
                    Ok(Some("update"))
                }),
            })
            .unwrap();
        let read = store.get_many(std::slice::from_ref(&a.id)).unwrap();
        assert_eq!(read[0].department.as_deref(), Some("维修"));
        let read = store
            .neighbours(&[CaseRef::at(a.id.clone(), a.seq)])
            .unwrap();
        assert_eq!(read[0].department.as_deref(), Some("维修"));
        // A bulk load does not churn the cache.
        store.bulk_load(true).unwrap();
        let b = store
            .insert(
                vec![conformance::new_case(
                    "路灯坏了一个月",
                    "2026-11-21T17:30:00Z",
                )],
                None,
            )
            .unwrap()
            .remove(0)
            .unwrap();
        store.bulk_load(false).unwrap();
        assert!(lock(&store.recent.light).get(&b.id).is_none());
        assert!(lock(&store.recent.neighbours).get(&b.id).is_none());
    }

    #[test]
    fn an_alerts_db_of_an_earlier_version_is_adopted_once() {
        let dir = tempfile::tempdir().unwrap();
        let old = Connection::open(dir.path().join("alerts.db")).unwrap();
        old.execute_batch(
            "CREATE TABLE alerts (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, key TEXT NOT NULL,
                 fingerprint TEXT NOT NULL, created_at INTEGER NOT NULL, doc TEXT NOT NULL);
             CREATE TABLE deliveries (id TEXT PRIMARY KEY, alert_id TEXT NOT NULL, webhook TEXT NOT NULL,
                 status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL,
                 last_error TEXT, delivered_at INTEGER);",
        )
        .unwrap();
        let alert = serde_json::json!({"id": "AL1-1", "rule": "safety_case", "key": "case:1",
            "fingerprint": "safety", "title": "t", "summary": "s", "severity": "重大",
            "created_at": "2026-11-21T17:30:00Z"});
        old.execute(
            "INSERT INTO alerts VALUES (1, 'AL1-1', 'case:1', 'safety', 1, ?1)",
            [alert.to_string()],
        )
        .unwrap();
        old.execute(
            "INSERT INTO deliveries VALUES ('AL1-1.1', 'AL1-1', 'ops', 'pending', 0, 1, NULL, NULL)",
            [],
        )
        .unwrap();
        drop(old);
        let store = SqliteStore::open(&dir.path().join("tousu.db")).unwrap();
        let history = store.alert_history(None, 10).unwrap();
        assert_eq!(history.len(), 1);
        assert_eq!(history[0].alert.id, "AL1-1");
        assert_eq!(store.pending_deliveries(), 1);
        assert!(!dir.path().join("alerts.db").exists());
        drop(store);
        let store = SqliteStore::open(&dir.path().join("tousu.db")).unwrap();
        assert_eq!(store.alert_history(None, 10).unwrap().len(), 1);
    }

    #[test]
    fn one_process_owns_a_store() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tousu.db");
        let store = SqliteStore::open(&path).unwrap();
        let second = SqliteStore::open(&path).unwrap_err().to_string();
        assert!(second.contains("another tousu process"), "{second}");
        drop(store);
        SqliteStore::open(&path).expect("free again once the first is closed");
    }

    #[test]
    fn a_full_disk_is_its_own_error() {
        let e = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL),
            None,
        );
        assert!(matches!(store_err(e), Error::StorageFull(_)));
    }
}
