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
/// Longest wait before looking at the store without being told of a change (another replica
/// may write to a shared store).
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
/// Shortest time between two checksum checks of an index a read panicked on.
const CHECK_EVERY: Duration = Duration::from_secs(600);
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
        if shared.stopping.load(Ordering::Acquire) {
            return Err(Error::Index("stopped: the service is shutting down".into()));
        }
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
    let seen = shared.fed_version.load(Ordering::Acquire);
    // From where the index stands — or, when the watch is behind it (cases stored during a
    // re-index, which counts nothing), from where the watch stands: re-adding a few cases to
    // the index is harmless.
    let from = if observe {
        shared.index.added_version().min(seen)
    } else {
        shared.index.added_version()
    };
    let batch = shared.store.changed_since(from, STEP)?;
    let Some(last) = batch.last().map(|c| c.version) else {
        return Ok(0);
    };
    let fresh = batch.partition_point(|c| c.version <= seen);
    if fresh < batch.len() {
        shared.duplicates.follow(&*shared.store, &batch[fresh..])?;
    }
    shared.work.follow(&batch);
    shared.index.upsert(&batch)?;
    // Only a step that counts the cases in the watch moves its mark: those read while it does
    // not (a re-index) are counted by the follower's next step.
    if observe && fresh < batch.len() {
        shared.watch.observe(&batch[fresh..], true);
        shared.fed_version.fetch_max(last, Ordering::AcqRel);
    }
    Ok(batch.len())
}

/// Empties a damaged index so that the follower fills it again from the store. A read that
/// panicked does not prove the index damaged (a query may be at fault): its checksums decide,
/// at most once per [`CHECK_EVERY`].
fn rebuild_if_damaged(shared: &Shared, last_check: &mut Option<Instant>) -> Result<()> {
    if !shared.index.take_damage() {
        return Ok(());
    }
    if last_check.is_some_and(|t| t.elapsed() < CHECK_EVERY) {
        tracing::warn!(
            "a read of the search index panicked again; its checksums were checked recently"
        );
        return Ok(());
    }
    *last_check = Some(Instant::now());
    if shared.index.is_whole() {
        tracing::warn!(
            "a read of the search index panicked, but every file passes its checksum: not rebuilt"
        );
        return Ok(());
    }
    tracing::warn!("rebuilding the damaged search index from the store; not ready until done");
    shared.health.start_rebuild();
    let cleared = shared.index.clear().or_else(|_| {
        shared.index.recover()?;
        shared.index.clear()
    });
    if cleared.is_err() {
        // Tried again at the next step.
        shared.index.mark_damaged();
    }
    cleared
}

/// The follower thread's handle. Dropping it stops the thread (within one step) and commits
/// what is pending.
pub(super) struct Follower {
    wake: Mutex<Option<Sender<()>>>,
    gate: Arc<Mutex<()>>,
    bulk: Arc<AtomicBool>,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Follower {
    /// Starts following the store into the views.
    pub fn start(shared: Arc<Shared>) -> Result<Self> {
        let (tx, rx) = channel();
        let gate = Arc::new(Mutex::new(()));
        let bulk = Arc::new(AtomicBool::new(false));
        let (g, b, s) = (Arc::clone(&gate), Arc::clone(&bulk), Arc::clone(&shared));
        let thread = std::thread::Builder::new()
            .name("tousu-views-follower".into())
            .spawn(move || {
                crate::background::lower_priority();
                follow(&s, &rx, &g, &b)
            })
            .map_err(|e| Error::Index(format!("cannot start the views follower: {e}")))?;
        Ok(Follower {
            wake: Mutex::new(Some(tx)),
            gate,
            bulk,
            shared,
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
        // A rebuild or re-index in progress stops at its next step: shutdown does not wait
        // for the whole store to be read again.
        self.shared.stopping.store(true, Ordering::Release);
        self.wake.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn follow(shared: &Shared, wake: &Receiver<()>, gate: &Mutex<()>, bulk: &AtomicBool) {
    let mut last_commit = Instant::now();
    let mut last_sweep = Instant::now();
    let mut last_check = None;
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
            rebuild_if_damaged(shared, &mut last_check)?;
            // Committing as it goes: a rebuild of a large store becomes searchable (and its
            // lag shrinks) step by step, and a stop loses at most one interval of work.
            while !shared.stopping.load(Ordering::Acquire) && step(shared, true)? > 0 {
                if last_commit.elapsed() >= every && shared.index.commit()? {
                    last_commit = Instant::now();
                }
            }
            if last_sweep.elapsed() >= SWEEP_EVERY {
                let now = jiff::Timestamp::now();
                shared.watch.sweep(now);
                // Timed with the raising: a sweep's cost is also the alerts it stores.
                let started = Instant::now();
                let alerts = shared.deadlines.sweep(&shared.work, &*shared.store, now);
                let crossed = alerts.len();
                shared.watch.raise(alerts);
                shared.deadlines.record(started.elapsed(), crossed);
                last_sweep = Instant::now();
            }
            if (stopping || last_commit.elapsed() >= every) && shared.index.commit()? {
                last_commit = Instant::now();
            }
            shared
                .health
                .caught_up(shared.index.committed_version() >= shared.store.max_version()?);
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
