//! Copies the write-ahead log back into the database on a thread of its own, so that the
//! writer, and every intake waiting on its commit, does not stall while pages are copied and
//! the database file is synced. The writer's own automatic checkpoint stays as the backstop
//! that lets the log start again from its beginning (only the writer can do that); it then
//! finds little left to copy.

use std::path::Path;
use std::sync::mpsc::{RecvTimeoutError, Sender, channel};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::Connection;

use super::schema::configure;
use crate::error::{Error, Result};

/// Time between checkpoints. A checkpoint with nothing to copy costs a look at the log's
/// header.
const EVERY: Duration = Duration::from_millis(200);

/// The checkpointing thread; dropping the handle stops it.
pub(super) struct Checkpointer {
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts checkpointing the database at `path` (already created by the writer).
    pub fn start(path: &Path) -> Result<Self> {
        let conn = Connection::open(path)
            .map_err(|e| Error::bad_file(path, format!("cannot open the store: {e}")))?;
        // A checkpoint copies pages from the log to the file: it needs next to no cache.
        configure(&conn, 2).map_err(|e| Error::Store(e.to_string()))?;
        let (stop, stopped) = channel::<()>();
        let thread = std::thread::Builder::new()
            .name("tousu-store-checkpointer".into())
            .spawn(move || {
                crate::background::lower_priority();
                // Said once per run of failures (a full disk fails every 200 ms), and again
                // when they end.
                let mut failing = false;
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(EVERY) {
                    // PASSIVE: copies what no reader still needs, never waits on the writer.
                    match conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                        Err(e) if !failing => {
                            failing = true;
                            tracing::warn!(error = %e, "store checkpoints fail; the writer's own will do");
                        }
                        Ok(()) if failing => {
                            failing = false;
                            tracing::info!("store checkpoints work again");
                        }
                        _ => {}
                    }
                }
            })
            .map_err(|e| Error::Store(format!("cannot start the checkpoint thread: {e}")))?;
        Ok(Checkpointer {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
