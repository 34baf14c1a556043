//! The embedded default store: one SQLite file in the data directory.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use jiff::Timestamp;
use r2d2::Pool;
use r2d2_sqlite::SqliteConnectionManager;
use rand::RngCore;
use rusqlite::{Connection, OptionalExtension, params};

use super::bands::BandIndex;
use super::checkpointer::Checkpointer;
use super::light::{LightCache, lock};
use super::schema::{READER_PRAGMAS, configure, migrate};
use super::writer::{Command, Writer, audit_row, from_json, load, load_light, store_err};
use super::{CaseStore, CaseUpdate, Created, ImportCheckpoint, NewCase, StoredResponse};
use crate::domain::{AuditEvent, Case, CaseId};
use crate::error::{Error, Result};
use crate::text::{BANDS, Signature};

/// Readers in the pool: enough for the request threads of a small machine.
const READERS: u32 = 8;

/// SQLite in WAL mode: readers never wait for the writer, and the writer is one thread.
pub struct SqliteStore {
    path: PathBuf,
    readers: Pool<SqliteConnectionManager>,
    writer: Writer,
    _checkpointer: Checkpointer,
    salt: String,
    bands: Arc<RwLock<BandIndex>>,
    light: Arc<Mutex<LightCache>>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish()
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the store at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let mut conn = Connection::open(path)
            .map_err(|e| Error::bad_file(path, format!("cannot open the store: {e}")))?;
        configure(&conn).map_err(store_err)?;
        migrate(&mut conn)?;
        let salt = ensure_salt(&conn)?;
        let bands = Arc::new(RwLock::new(load_bands(&conn)?));
        let light = Arc::new(Mutex::new(LightCache::default()));
        let manager =
            SqliteConnectionManager::file(path).with_init(|c| c.execute_batch(READER_PRAGMAS));
        let readers = Pool::builder()
            .max_size(READERS)
            .min_idle(Some(1))
            .build(manager)
            .map_err(|e| Error::Store(format!("cannot open store readers: {e}")))?;
        Ok(SqliteStore {
            path: path.to_path_buf(),
            readers,
            writer: Writer::start(conn, Arc::clone(&bands), Arc::clone(&light))?,
            _checkpointer: Checkpointer::start(path)?,
            salt,
            bands,
            light,
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let conn = self
            .readers
            .get()
            .map_err(|e| Error::Store(format!("no store reader free: {e}")))?;
        f(&conn)
    }

    fn cases(&self, sql: &str, params: impl rusqlite::Params) -> Result<Vec<Case>> {
        self.read(|c| {
            let mut st = c.prepare_cached(sql).map_err(store_err)?;
            let docs = st
                .query_map(params, |r| r.get::<_, String>(0))
                .map_err(store_err)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(store_err)?;
            docs.iter().map(|d| from_json(d)).collect()
        })
    }
}

/// The near-duplicate band index of every stored case.
fn load_bands(conn: &Connection) -> Result<BandIndex> {
    let mut index = BandIndex::default();
    let mut st = conn
        .prepare(
            "SELECT seq, received_at, band0, band1, band2, band3, band4, band5, band6, band7
             FROM signatures ORDER BY seq",
        )
        .map_err(store_err)?;
    let mut rows = st.query([]).map_err(store_err)?;
    while let Some(r) = rows.next().map_err(store_err)? {
        let mut bands = [0u64; BANDS];
        for (b, band) in bands.iter_mut().enumerate() {
            *band = r.get::<_, i64>(2 + b).map_err(store_err)? as u64;
        }
        let seq: i64 = r.get(0).map_err(store_err)?;
        index.insert(seq as u64, r.get(1).map_err(store_err)?, &bands);
    }
    Ok(index)
}

/// The per-store salt for contact hashes, made once from the OS's randomness.
fn ensure_salt(conn: &Connection) -> Result<String> {
    let existing: Option<String> = conn
        .query_row(
            "SELECT value FROM meta WHERE key = 'contact_salt'",
            [],
            |r| r.get(0),
        )
        .optional()
        .map_err(store_err)?;
    if let Some(s) = existing {
        return Ok(s);
    }
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    let salt: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    conn.execute(
        "INSERT INTO meta (key, value) VALUES ('contact_salt', ?1)",
        [&salt],
    )
    .map_err(store_err)?;
    Ok(salt)
}

impl CaseStore for SqliteStore {
    fn create(&self, new: NewCase) -> Result<Created> {
        self.writer
            .call(|reply| Command::Create(Box::new(new), reply))
    }

    fn create_many(
        &self,
        new: Vec<NewCase>,
        checkpoint: Option<ImportCheckpoint>,
    ) -> Result<Vec<Result<Created>>> {
        self.writer
            .call(|reply| Command::CreateMany(new, checkpoint, reply))
    }

    fn set_bulk(&self, on: bool) -> Result<()> {
        self.writer.call(|reply| Command::Bulk(on, reply))
    }

    fn update(&self, id: &CaseId, actor: &str, update: CaseUpdate) -> Result<Case> {
        self.writer
            .call(|reply| Command::Update(id.clone(), actor.to_string(), update, reply))
    }

    fn get(&self, id: &CaseId) -> Result<Option<Case>> {
        self.read(|c| load(c, id))
    }

    fn get_many(&self, ids: &[CaseId]) -> Result<Vec<Arc<Case>>> {
        let (mut found, epoch) = {
            let mut cache = lock(&self.light);
            let found: Vec<Option<Arc<Case>>> = ids.iter().map(|id| cache.get(id)).collect();
            (found, cache.epoch())
        };
        if found.iter().any(Option::is_none) {
            let read = self.read(|c| {
                // One read transaction for all: one snapshot, and one check of the write-ahead
                // log instead of one per case (each check that finds a commit since the last
                // drops the connection's page cache and memory map).
                let _snapshot = c.unchecked_transaction().map_err(store_err)?;
                let mut read = Vec::new();
                for (i, id) in ids.iter().enumerate() {
                    if found[i].is_none()
                        && let Some(case) = load_light(c, id)?
                    {
                        read.push((i, Arc::new(case)));
                    }
                }
                Ok(read)
            })?;
            lock(&self.light).keep(epoch, read.iter().map(|(_, c)| Arc::clone(c)));
            for (i, case) in read {
                found[i] = Some(case);
            }
        }
        Ok(found.into_iter().flatten().collect())
    }

    fn idempotency(&self, key: &str) -> Result<Option<StoredResponse>> {
        self.read(|c| {
            c.query_row(
                "SELECT request_hash, case_id, response FROM idempotency WHERE key = ?1",
                [key],
                |r| {
                    Ok(StoredResponse {
                        request_hash: r.get(0)?,
                        case_id: CaseId(r.get(1)?),
                        body: r.get(2)?,
                    })
                },
            )
            .optional()
            .map_err(store_err)
        })
    }

    fn by_contact(&self, contact_hash: &str, since: Timestamp, limit: usize) -> Result<Vec<Case>> {
        self.cases(
            "SELECT doc FROM cases WHERE contact_hash = ?1 AND received_at >= ?2
             ORDER BY received_at DESC LIMIT ?3",
            params![contact_hash, since.as_millisecond(), limit as i64],
        )
    }

    fn near_duplicate(&self, signature: &Signature, since: Timestamp) -> Result<Option<CaseId>> {
        // Per band, the 32 newest candidates in the window (templated texts share bands
        // often); a match anywhere in a duplicate chain leads to its root.
        let candidates = self.bands.read().expect("band index lock").candidates(
            &signature.bands(),
            since.as_millisecond(),
            32,
        );
        if candidates.is_empty() {
            return Ok(None);
        }
        self.read(|c| {
            let mut st = c
                .prepare_cached("SELECT id, signature FROM signatures WHERE seq = ?1")
                .map_err(store_err)?;
            for seq in candidates {
                let row: Option<(String, Vec<u8>)> = st
                    .query_row([seq as i64], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()
                    .map_err(store_err)?;
                let Some((id, sig)) = row else { continue };
                if Signature::from_bytes(&sig).is_some_and(|s| s.is_near_duplicate(signature)) {
                    let root: Option<String> = c
                        .prepare_cached(
                            "SELECT json_extract(doc, '$.links.duplicate_of') FROM cases WHERE id = ?1",
                        )
                        .and_then(|mut st| st.query_row([&id], |r| r.get(0)))
                        .map_err(store_err)?;
                    return Ok(Some(CaseId(root.unwrap_or(id))));
                }
            }
            Ok(None)
        })
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
            let mut st = c
                .prepare_cached(
                    "SELECT case_id, at, actor, action, before, after FROM audit
                     WHERE case_id = ?1 ORDER BY seq",
                )
                .map_err(store_err)?;
            st.query_map([id.as_str()], audit_row)
                .map_err(store_err)?
                .collect::<rusqlite::Result<Vec<_>>>()
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

    fn write_queue_depth(&self) -> usize {
        self.writer.queue_depth()
    }

    fn contact_salt(&self) -> &str {
        &self.salt
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Grade, Status};
    use crate::store::IdempotencyRecord;

    fn new_case(text: &str) -> NewCase {
        NewCase {
            triage_json: None,
            duplicate_of_item: None,
            case: Case::test_case(text, "2026-11-21T17:30:00Z"),
            original_text: text.into(),
            signature: Signature::of(text),
            actor: "test".into(),
            idempotency: None,
            response_extra: Default::default(),
            group_members: vec![],
        }
    }

    /// A new case with an intake triage, as the service sends them.
    fn triaged(text: &str) -> NewCase {
        let mut n = new_case(text);
        n.case.triage = serde_json::json!({"category": "供水"});
        n
    }

    #[test]
    fn numbers_cases_per_beijing_day_and_reads_them_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("tousu.db")).unwrap();
        let a = store.create(new_case("宽带断网三天")).unwrap().case;
        let b = store.create(new_case("话费多扣了二十元")).unwrap().case;
        assert_eq!(a.id.as_str(), "TS20261122-000001");
        assert_eq!(b.id.as_str(), "TS20261122-000002");
        assert!(b.version > a.version && b.seq > a.seq);
        assert_eq!(store.get(&a.id).unwrap().unwrap(), a);
        assert_eq!(store.count().unwrap(), 2);
        assert_eq!(store.audit(&a.id).unwrap()[0].action, "create");
        let since: Timestamp = "2026-11-01T00:00:00Z".parse().unwrap();
        assert_eq!(store.by_contact("h1", since, 10).unwrap().len(), 2);
        let dup = store
            .near_duplicate(&Signature::of("宽带断网三天"), since)
            .unwrap();
        assert_eq!(dup, Some(a.id.clone()));
        drop(store);
        // Reopened, the counters continue and the band index is loaded again.
        let store = SqliteStore::open(&dir.path().join("tousu.db")).unwrap();
        let resent = Signature::of("宽带断网三天");
        assert_eq!(
            store.near_duplicate(&resent, since).unwrap(),
            Some(a.id.clone())
        );
        let after: Timestamp = "2026-11-22T00:00:00Z".parse().unwrap();
        assert_eq!(store.near_duplicate(&resent, after).unwrap(), None);
        let c = store.create(new_case("营业厅态度差")).unwrap().case;
        assert_eq!(c.id.as_str(), "TS20261122-000003");
        assert!(c.version > b.version);
        assert_eq!(store.changed_since(b.version, 10).unwrap(), vec![c]);
    }

    #[test]
    fn updates_are_audited_and_a_failed_one_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("tousu.db")).unwrap();
        let a = store.create(new_case("宽带断网三天")).unwrap().case;
        // Read once, so that the case is in the light-case cache when it is updated.
        assert_eq!(
            store.get_many(std::slice::from_ref(&a.id)).unwrap()[0].status,
            Status::Triaged
        );
        let updated = store
            .update(
                &a.id,
                "alice",
                Box::new(|c| {
                    c.status = Status::Investigating;
                    Ok("update")
                }),
            )
            .unwrap();
        assert_eq!(updated.status, Status::Investigating);
        assert_eq!(
            store.get_many(std::slice::from_ref(&a.id)).unwrap()[0].status,
            Status::Investigating,
            "a cached case is forgotten once its update commits"
        );
        let trail = store.audit(&a.id).unwrap();
        assert_eq!(trail.len(), 2);
        assert_eq!(trail[1].actor, "alice");
        assert_eq!(trail[1].after["status"], "investigating");
        assert_eq!(trail[1].before["status"], "triaged");
        let err = store
            .update(&a.id, "bob", Box::new(|_| Err(Error::Invalid("no".into()))))
            .unwrap_err();
        assert!(matches!(err, Error::Invalid(_)));
        assert_eq!(store.get(&a.id).unwrap().unwrap(), updated);
        let missing = store
            .update(
                &CaseId("TS20260101-000009".into()),
                "bob",
                Box::new(|_| Ok("update")),
            )
            .unwrap_err();
        assert!(matches!(missing, Error::NotFound(_)));
    }

    #[test]
    fn idempotency_key_is_committed_with_the_case_and_cannot_be_reused() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("tousu.db")).unwrap();
        let mut n = new_case("宽带断网三天");
        n.idempotency = Some(IdempotencyRecord {
            key: "k1".into(),
            request_hash: "r1".into(),
        });
        let a = store.create(n.clone()).unwrap().case;
        let stored = store.idempotency("k1").unwrap().unwrap();
        assert_eq!(stored.case_id, a.id);
        assert!(matches!(store.create(n), Err(Error::Conflict(_))));
        assert_eq!(store.count().unwrap(), 1);
    }

    #[test]
    fn group_members_are_raised_in_the_same_transaction() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("tousu.db")).unwrap();
        let a = store.create(new_case("小区停水三天")).unwrap().case;
        let mut n = new_case("小区停水三天了");
        n.case.links.group_id = Some("G1".into());
        n.group_members = vec![a.id.clone()];
        store.create(n).unwrap();
        let a2 = store.get(&a.id).unwrap().unwrap();
        assert_eq!(a2.grade, Grade::Major);
        assert_eq!(a2.reasons, vec![crate::domain::Reason::Group]);
        assert_eq!(a2.links.group_id.as_deref(), Some("G1"));
        assert!(a2.version > a.version);
    }

    #[test]
    fn new_cases_are_cached_as_stored_and_their_rewrites_are_seen() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("tousu.db")).unwrap();
        let a = store.create(triaged("小区停水三天")).unwrap().case;
        let cached = lock(&store.light).get(&a.id).expect("a new case is cached");
        let stored = store.read(|c| load_light(c, &a.id)).unwrap().unwrap();
        assert_eq!(*cached, stored);
        assert!(cached.triage.is_null() && !a.triage.is_null());
        let mut n = new_case("小区停水三天了");
        n.case.links.group_id = Some("G1".into());
        n.group_members = vec![a.id.clone()];
        store.create(n).unwrap();
        let read = store.get_many(std::slice::from_ref(&a.id)).unwrap();
        assert_eq!(read[0].links.group_id.as_deref(), Some("G1"));
        assert_eq!(read[0].grade, Grade::Major);
        // A bulk load does not churn the cache.
        store.set_bulk(true).unwrap();
        let b = store.create(new_case("路灯坏了一个月")).unwrap().case;
        store.set_bulk(false).unwrap();
        assert!(lock(&store.light).get(&b.id).is_none());
    }

    #[test]
    fn the_answer_text_is_the_answer_value() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("tousu.db")).unwrap();
        let mut n = triaged("小区停水三天");
        n.case.category_confidence = Some(0.85);
        n.response_extra
            .insert("similar".into(), serde_json::json!([{"id": "TS1"}]));
        let c = store.create(n).unwrap();
        // As a replay reads the stored text back: an f32 as written, not widened.
        let body = c.body();
        assert!(body.contains(r#""category_confidence":0.85,"#), "{body}");
        let text: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(text, c.to_value());
        assert_eq!(text["similar"][0]["id"], "TS1");
        assert_eq!(text["triage"]["category"], "供水");
    }

    #[test]
    fn batch_keeps_good_items_and_records_the_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("tousu.db")).unwrap();
        let mut bad = new_case("重复键");
        bad.idempotency = Some(IdempotencyRecord {
            key: "same".into(),
            request_hash: "x".into(),
        });
        let items = vec![new_case("一"), bad.clone(), bad, new_case("二")];
        let results = store
            .create_many(
                items,
                Some(ImportCheckpoint {
                    file_key: "f".into(),
                    lines_done: 4,
                }),
            )
            .unwrap();
        assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 3);
        assert!(results[2].is_err());
        assert_eq!(store.count().unwrap(), 3);
        assert_eq!(store.import_checkpoint("f").unwrap().unwrap().lines_done, 4);
        assert_eq!(store.scan(0, 10).unwrap().len(), 3);
    }
}
