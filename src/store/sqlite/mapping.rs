//! Whether the store's readers read through the memory map, by how often the writer commits.
//!
//! In WAL mode a reader whose transaction finds a commit it has not seen drops its page cache
//! and unmaps the whole file (SQLite's `sqlite3PagerSharedLock`); the pages it then touches
//! fault in again. While reads dominate, the map is the cheap path: a page of the OS's cache
//! is read in place, with no `pread` and no copy. Under steady creates each read transaction
//! finds a new commit, and the unmapping and faults cost more than reading the few pages it
//! needs with `pread`. `perf` of closed-loop creates at 1M cases put 12 % of the server's CPU in
//! `munmap` and page faults under `load_light`; without the readers' map, creates on a copy of
//! that store (`wrk -c16`, 15 s) took 1.87 ms of CPU a case instead of 2.08, and triage without
//! writes 1.16 ms a request instead of 0.97. So readers map while the writer is quiet and read
//! with `pread` while it commits often.

use std::sync::atomic::{AtomicI64, AtomicU32, Ordering};

use rusqlite::Connection;

/// Commits a second from which readers stop mapping. Chosen between the two measured points
/// (a 12345 desk's intake is a few cases a second, a burst of creates hundreds of commits), not
/// tuned.
pub(super) const BUSY_COMMITS_PER_SECOND: u32 = 20;

/// How often the writer commits: counted per second by the writer, read by the readers.
#[derive(Debug, Default)]
pub(super) struct CommitPace {
    /// Start of the current one-second window (Unix ms).
    window_start: AtomicI64,
    /// Commits in the current window.
    in_window: AtomicU32,
    /// Commits in the window before it (0 when that was not the second just before).
    last_window: AtomicU32,
    /// The last commit (Unix ms).
    last_commit: AtomicI64,
}

impl CommitPace {
    /// Counts a commit at `now_ms` (the writer thread only).
    pub fn committed(&self, now_ms: i64) {
        let start = self.window_start.load(Ordering::Relaxed);
        let elapsed = now_ms - start;
        if elapsed >= 1_000 {
            let before = if elapsed < 2_000 {
                self.in_window.load(Ordering::Relaxed)
            } else {
                0
            };
            self.last_window.store(before, Ordering::Relaxed);
            self.in_window.store(1, Ordering::Relaxed);
            self.window_start.store(now_ms, Ordering::Relaxed);
        } else {
            self.in_window.fetch_add(1, Ordering::Relaxed);
        }
        self.last_commit.store(now_ms, Ordering::Relaxed);
    }

    /// Whether the writer commits often at `now_ms`: as often as
    /// [`BUSY_COMMITS_PER_SECOND`] in the last or the current second, and once in the last.
    pub fn busy(&self, now_ms: i64) -> bool {
        now_ms - self.last_commit.load(Ordering::Relaxed) < 1_000
            && self
                .in_window
                .load(Ordering::Relaxed)
                .max(self.last_window.load(Ordering::Relaxed))
                >= BUSY_COMMITS_PER_SECOND
    }

    /// When the last commit was (Unix ms; 0 before the first).
    #[cfg(test)]
    pub fn last_commit(&self) -> i64 {
        self.last_commit.load(Ordering::Relaxed)
    }
}

/// Maps `conn` up to `map_bytes` or unmaps it (`mapped: false`), unless it already is.
pub(super) fn suit(conn: &Connection, mapped: bool, map_bytes: u64) -> rusqlite::Result<()> {
    let now: i64 = conn
        .prepare_cached("PRAGMA mmap_size")?
        .query_row([], |r| r.get(0))?;
    if (now > 0) != mapped {
        let size = if mapped { map_bytes } else { 0 };
        conn.execute_batch(&format!("PRAGMA mmap_size = {size}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_while_commits_come_often_and_quiet_a_second_after() {
        let pace = CommitPace::default();
        let t0 = 1_000_000;
        pace.committed(t0);
        assert!(!pace.busy(t0), "one commit");
        // 30 commits within a second.
        for i in 1..30 {
            pace.committed(t0 + i * 30);
        }
        assert!(pace.busy(t0 + 900));
        // The next second starts: the last one counts until this one has as many.
        pace.committed(t0 + 1_000);
        assert!(pace.busy(t0 + 1_010));
        assert!(!pace.busy(t0 + 2_100), "no commit for over a second");
        // A commit after a long pause does not inherit the old second's count.
        pace.committed(t0 + 5_000);
        assert!(!pace.busy(t0 + 5_001));
        // A slow, steady writer (a desk's intake) never counts as busy.
        let slow = CommitPace::default();
        for i in 0..100 {
            slow.committed(t0 + i * 200);
            assert!(!slow.busy(t0 + i * 200));
        }
    }

    #[test]
    fn a_connection_is_mapped_or_unmapped_as_asked() {
        let dir = tempfile::tempdir().unwrap();
        let conn = Connection::open(dir.path().join("t.db")).unwrap();
        conn.execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (x);")
            .unwrap();
        let size =
            |c: &Connection| -> i64 { c.query_row("PRAGMA mmap_size", [], |r| r.get(0)).unwrap() };
        suit(&conn, true, 1 << 20).unwrap();
        assert_eq!(size(&conn), 1 << 20);
        suit(&conn, false, 1 << 20).unwrap();
        assert_eq!(size(&conn), 0);
        suit(&conn, false, 1 << 20).unwrap();
        assert_eq!(size(&conn), 0);
    }
}
