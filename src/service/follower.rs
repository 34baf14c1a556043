//! Keeps the index current: a thread that follows the store's change sequence.
//!
//! The index pulls changes from the store instead of being handed cases by request handlers:
//! versions become visible in the store in commit order, so following them never skips a
//! case, whatever order concurrent requests finish in, and a crash loses nothing the store has.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::watch::Watch;
use crate::error::{Error, Result};
use crate::index::CaseIndex;
use crate::store::CaseStore;

/// Cases read from the store per step.
const STEP: usize = 1000;
/// Longest wait before looking at the store without being told of a change (a second process
/// may write to it).
const POLL: Duration = Duration::from_millis(500);
/// Shortest time between commits under load. A commit makes a segment, and every similar-case
/// lookup visits each small segment until merged: at 200 ms, creates at ~1,000/s took about 6%
/// more CPU (by hand). Cases are searchable within this plus a step.
const COMMIT_EVERY: Duration = Duration::from_millis(500);
/// Time between commits during a bulk import: fewer, larger segments, none merged until the
/// import compacts the index once at its end.
const BULK_COMMIT_EVERY: Duration = Duration::from_secs(5);
/// How often alert rules that depend on the clock (category spikes) are swept.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// Brings `index` up to the store's latest version, committing at the end. Returns the
/// number of cases (re)indexed; `progress` is told the running count.
pub fn catch_up(
    store: &dyn CaseStore,
    index: &CaseIndex,
    watch: Option<&Watch>,
    mut progress: impl FnMut(u64),
) -> Result<u64> {
    let mut done = 0u64;
    loop {
        let batch = store.changed_since(index.added_version(), STEP)?;
        if batch.is_empty() {
            break;
        }
        index.upsert(&batch)?;
        if let Some(w) = watch {
            w.observe(&batch, true);
        }
        done += batch.len() as u64;
        progress(done);
    }
    index.commit()?;
    Ok(done)
}

/// The follower thread's handle. Dropping it commits what is pending and stops the thread.
pub struct IndexFollower {
    wake: Mutex<Option<Sender<()>>>,
    gate: Arc<Mutex<()>>,
    bulk: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl IndexFollower {
    /// Starts following `store` into `index` and `watch` (trends, topics, alert rules).
    pub fn start(
        store: Arc<dyn CaseStore>,
        index: Arc<CaseIndex>,
        watch: Arc<Watch>,
    ) -> Result<Self> {
        let (tx, rx) = channel();
        let gate = Arc::new(Mutex::new(()));
        let bulk = Arc::new(AtomicBool::new(false));
        let (g, b) = (Arc::clone(&gate), Arc::clone(&bulk));
        let thread = std::thread::Builder::new()
            .name("tousu-index-follower".into())
            .spawn(move || {
                crate::background::lower_priority();
                follow(&*store, &index, &watch, &rx, &g, &b)
            })
            .map_err(|e| Error::Index(format!("cannot start the index follower: {e}")))?;
        Ok(IndexFollower {
            wake: Mutex::new(Some(tx)),
            gate,
            bulk,
            thread: Some(thread),
        })
    }

    /// Tells the follower the store changed.
    pub fn notify(&self) {
        if let Some(tx) = &*self.wake.lock().expect("follower lock") {
            let _ = tx.send(());
        }
    }

    /// Bulk import on or off: while on, commits are [`BULK_COMMIT_EVERY`] apart.
    pub fn set_bulk(&self, on: bool) {
        self.bulk.store(on, Ordering::Relaxed);
    }

    /// Runs `f` while the follower is held off (a full re-index).
    pub fn pause<T>(&self, f: impl FnOnce() -> T) -> T {
        let _held = self.gate.lock().expect("follower gate");
        f()
    }
}

impl Drop for IndexFollower {
    fn drop(&mut self) {
        self.wake.lock().expect("follower lock").take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn follow(
    store: &dyn CaseStore,
    index: &CaseIndex,
    watch: &Watch,
    wake: &Receiver<()>,
    gate: &Mutex<()>,
    bulk: &AtomicBool,
) {
    let mut last_commit = Instant::now();
    let mut last_sweep = Instant::now();
    let mut stopping = false;
    while !stopping {
        let every = if bulk.load(Ordering::Relaxed) {
            BULK_COMMIT_EVERY
        } else {
            COMMIT_EVERY
        };
        let wait = if index.added_version() != index.committed_version() {
            every.saturating_sub(last_commit.elapsed())
        } else {
            POLL
        };
        match wake.recv_timeout(wait) {
            Ok(()) => while wake.try_recv().is_ok() {},
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => stopping = true,
        }
        let _held = gate.lock().expect("follower gate");
        let step = (|| -> Result<()> {
            loop {
                let batch = store.changed_since(index.added_version(), STEP)?;
                if batch.is_empty() {
                    break;
                }
                index.upsert(&batch)?;
                watch.observe(&batch, true);
            }
            if last_sweep.elapsed() >= SWEEP_EVERY {
                watch.sweep(jiff::Timestamp::now());
                last_sweep = Instant::now();
            }
            if (stopping || last_commit.elapsed() >= every) && index.commit()? {
                last_commit = Instant::now();
            }
            Ok(())
        })();
        if let Err(e) = step {
            // The store stays the truth: log, back off, and try again from the last version.
            tracing::error!(error = %e, "index follower step failed; retrying");
            std::thread::sleep(POLL);
        }
    }
}
