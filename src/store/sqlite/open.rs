//! Opening the store: the one-process lock, the schema brought up to date, the contact
//! salt, an old `alerts.db` adopted, the writer, readers and checkpointer started.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex};

use r2d2::Pool;
use r2d2_sqlite::SqliteConnectionManager;
use rand::RngCore;
use rusqlite::{Connection, OptionalExtension};

use super::checkpointer::Checkpointer;
use super::light::Recent;
use super::mapping::CommitPace;
use super::rows::store_err;
use super::schema::{configure, migrate, reader_pragmas};
use super::writer::Writer;
use super::{READERS, SqliteStore, alerts, light};
use crate::error::{Error, Result};

/// The store's caches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SqliteMemory {
    /// Page cache of each connection, in MiB.
    pub page_cache_mib: usize,
    /// Earlier cases kept for intake's comparisons (neighbours).
    pub recent_cases: usize,
}

impl Default for SqliteMemory {
    fn default() -> Self {
        SqliteMemory {
            // The memory map serves reads of the first 2 GiB (a million packed cases); the
            // cache holds the writer's pages and what lies past the map.
            page_cache_mib: 16,
            recent_cases: light::CAPACITY,
        }
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the store at `path` and brings its schema up to date. An
    /// `alerts.db` left beside it by an earlier version is copied in once. Fails if another
    /// process has it open.
    pub fn open(path: &Path) -> Result<Self> {
        Self::open_with(path, SqliteMemory::default())
    }

    /// [`SqliteStore::open`] with caches of the given sizes.
    pub fn open_with(path: &Path, memory: SqliteMemory) -> Result<Self> {
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
        if let Some(dir) = dir {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let owner = take_ownership(path)?;
        let mut conn = Connection::open(path)
            .map_err(|e| Error::bad_file(path, format!("cannot open the store: {e}")))?;
        configure(&conn, memory.page_cache_mib).map_err(store_err)?;
        migrate(&mut conn)?;
        let salt = ensure_salt(&conn)?;
        let adopted = alerts::adopt_old_database(&conn, dir.unwrap_or(Path::new(".")))?;
        if adopted > 0 {
            tracing::info!(
                alerts = adopted,
                "alert history copied into the store from alerts.db"
            );
        }
        let pending = Arc::new(AtomicUsize::new(alerts::pending(&conn)?));
        let recent = Arc::new(Recent::with_capacity(memory.recent_cases));
        let pace = Arc::new(CommitPace::default());
        let failure = Arc::new(Mutex::new(None));
        let pragmas = reader_pragmas(memory.page_cache_mib);
        let manager =
            SqliteConnectionManager::file(path).with_init(move |c| c.execute_batch(&pragmas));
        let readers = Pool::builder()
            .max_size(READERS)
            .min_idle(Some(1))
            // r2d2 runs an empty statement on every checkout to see that a connection still
            // works: a network database's can drop, a local file's cannot (a failing one
            // reports its error on the read itself). It was 1 % of a triage's CPU at 1M cases (perf).
            .test_on_check_out(false)
            .build(manager)
            .map_err(|e| Error::Store(format!("cannot open store readers: {e}")))?;
        Ok(SqliteStore {
            path: path.to_path_buf(),
            readers,
            writer: Writer::start(
                conn,
                Arc::clone(&recent),
                Arc::clone(&pace),
                Arc::clone(&pending),
                Arc::clone(&failure),
            )?,
            _checkpointer: Checkpointer::start(path)?,
            salt,
            recent,
            pace,
            pending,
            failure,
            _owner: owner,
        })
    }
}

/// Locks `{path}.lock` for this process (released when the file is closed, also when the
/// process dies).
fn take_ownership(path: &Path) -> Result<std::fs::File> {
    let mut lock_path = path.as_os_str().to_owned();
    lock_path.push(".lock");
    let lock_path = PathBuf::from(lock_path);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| Error::io(&lock_path, e))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(Error::bad_file(
            path,
            "the store is open in another tousu process (a running `tousu serve`?): stop it \
             first, or ask the running service through its API",
        )),
        Err(std::fs::TryLockError::Error(e)) => Err(Error::io(&lock_path, e)),
    }
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
