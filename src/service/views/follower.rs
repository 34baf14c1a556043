//! Keeps the derived views current: a thread that follows the store's change feed into the
//! search index, the near-duplicate view and the watch (trends, topics, alert rules).
//!
//! The views pull changes from the store instead of being handed cases by request handlers.
//! The store's change feed never hands out a version before a lower one (its contract), so
//! following it never skips a case, whatever order concurrent requests finish in, and a crash
//! loses nothing the store has. When the index cannot take a batch (a full disk, say), the
//! follower drops what the index had not committed and reads it from the store again, until
//! it succeeds.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::Shared;
use crate::error::{Error, Result};

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
/// Longest pause between tries after a failed step (doubling from [`POLL`]).
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// Brings the views up to the store's latest version, committing the index at the end.
/// Returns the number of cases read; `progress` is told the running count. With `observe`,
/// the watch counts them too (it is rebuilt on its own at start).
pub(super) fn catch_up(
    shared: &Shared,
    observe: bool,
    mut progress: impl FnMut(u64),
) -> Result<u64> {
    let mut done = 0u64;
    loop {
        let n = step(shared, observe)?;
        if n == 0 {
            break;
        }
        done += n as u64;
        progress(done);
    }
    shared.index.commit()?;
    Ok(done)
}

/// Feeds one batch of the change feed to every view; returns its size. The index follows
/// from its own last version; the near-duplicate view and the watch take only what they have
/// not seen (an index being rebuilt reads the store again from the start).
fn step(shared: &Shared, observe: bool) -> Result<usize> {
    let batch = shared
        .store
        .changed_since(shared.index.added_version(), STEP)?;
    let Some(last) = batch.last().map(|c| c.version) else {
        return Ok(0);
    };
    let seen = shared.fed_version.load(Ordering::Acquire);
    let fresh = batch.partition_point(|c| c.version <= seen);
    if fresh < batch.len() {
        shared.duplicates.follow(&*shared.store, &batch[fresh..])?;
    }
    shared.index.upsert(&batch)?;
    if fresh < batch.len() {
        if observe {
            shared.watch.observe(&batch[fresh..], true);
        }
        shared.fed_version.fetch_max(last, Ordering::AcqRel);
    }
    Ok(batch.len())
}

/// Empties a damaged index so that the follower fills it again from the store.
fn start_rebuild(shared: &Shared) -> Result<()> {
    tracing::warn!("rebuilding the damaged search index from the store; not ready until done");
    shared.health.start_rebuild();
    if shared.index.clear().is_err() {
        shared.index.recover()?;
        shared.index.clear()?;
    }
    Ok(())
}

/// The follower thread's handle. Dropping it commits what is pending and stops the thread.
pub(super) struct Follower {
    wake: Mutex<Option<Sender<()>>>,
    gate: Arc<Mutex<()>>,
    bulk: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Follower {
    /// Starts following the store into the views.
    pub fn start(shared: Arc<Shared>) -> Result<Self> {
        let (tx, rx) = channel();
        let gate = Arc::new(Mutex::new(()));
        let bulk = Arc::new(AtomicBool::new(false));
        let (g, b) = (Arc::clone(&gate), Arc::clone(&bulk));
        let thread = std::thread::Builder::new()
            .name("tousu-views-follower".into())
            .spawn(move || {
                crate::background::lower_priority();
                follow(&shared, &rx, &g, &b)
            })
            .map_err(|e| Error::Index(format!("cannot start the views follower: {e}")))?;
        Ok(Follower {
            wake: Mutex::new(Some(tx)),
            gate,
            bulk,
            thread: Some(thread),
        })
    }

    /// Tells the follower the store changed.
    pub fn notify(&self) {
        if let Some(tx) = &*self.wake.lock().unwrap_or_else(|p| p.into_inner()) {
            let _ = tx.send(());
        }
    }

    /// Bulk import on or off: while on, commits are [`BULK_COMMIT_EVERY`] apart.
    pub fn set_bulk(&self, on: bool) {
        self.bulk.store(on, Ordering::Relaxed);
    }

    /// Runs `f` while the follower is held off (a full re-index, a catch-up).
    pub fn pause<T>(&self, f: impl FnOnce() -> T) -> T {
        let _held = self.gate.lock().unwrap_or_else(|p| p.into_inner());
        f()
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        self.wake.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn follow(shared: &Shared, wake: &Receiver<()>, gate: &Mutex<()>, bulk: &AtomicBool) {
    let mut last_commit = Instant::now();
    let mut last_sweep = Instant::now();
    let mut backoff = POLL;
    let mut stopping = false;
    while !stopping {
        let every = if bulk.load(Ordering::Relaxed) {
            BULK_COMMIT_EVERY
        } else {
            COMMIT_EVERY
        };
        let wait = if shared.index.added_version() != shared.index.committed_version() {
            every.saturating_sub(last_commit.elapsed())
        } else {
            POLL
        };
        match wake.recv_timeout(wait) {
            Ok(()) => while wake.try_recv().is_ok() {},
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => stopping = true,
        }
        let _held = gate.lock().unwrap_or_else(|p| p.into_inner());
        let outcome = (|| -> Result<()> {
            if shared.index.take_damage() {
                start_rebuild(shared)?;
            }
            while step(shared, true)? > 0 {}
            if last_sweep.elapsed() >= SWEEP_EVERY {
                shared.watch.sweep(jiff::Timestamp::now());
                last_sweep = Instant::now();
            }
            if (stopping || last_commit.elapsed() >= every) && shared.index.commit()? {
                last_commit = Instant::now();
            }
            Ok(())
        })();
        match outcome {
            Ok(()) => {
                if backoff > POLL {
                    tracing::info!("the views follower caught up again");
                }
                backoff = POLL;
                shared.health.follower_failed(None);
            }
            Err(e) => {
                // The store stays the truth: whatever the index had not committed is dropped
                // and read again from the store, once the cause (a full disk, say) is gone.
                tracing::error!(error = %e, retry_in_ms = backoff.as_millis() as u64, "views follower step failed; retrying");
                shared.health.follower_failed(Some(e.to_string()));
                if let Err(e) = shared.index.recover() {
                    tracing::error!(error = %e, "the index writer could not be reopened");
                }
                if stopping {
                    break;
                }
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}
