//! The derived views: everything kept beside the store and rebuilt from it — the search index,
//! the near-duplicate view, the watch (trends, topics, alert rules) — and the follower thread
//! that feeds them the store's change feed. Analysts' search and export read them.

mod alert_rules;
mod bands;
mod case_alerts;
mod deadline_watch;
mod export;
mod follower;
mod footprint;
mod links;
mod progress;
mod search;
mod watch;
mod work;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;

pub use self::alert_rules::{AlertRules, topic_alert};
pub use self::bands::DuplicateView;
pub use self::deadline_watch::{DeadlineWatch, SweepStats};
pub use self::export::{ExportLimits, Selection};
use self::follower::Follower;
pub use self::footprint::{Footprint, ProcessMemory, measure as measure_footprint};
pub use self::links::{CaseLinks, GroupMembers, MAX_LINKED};
use self::progress::Progress;
pub use self::search::{SearchItem, SearchPage};
pub use self::watch::Watch;
pub use self::work::{Work, WorkView};
use crate::domain::Case;
use crate::error::Result;
use crate::index::{CaseIndex, SegmentId};
use crate::service::Kept;
use crate::store::CaseStore;
use crate::text::Signature;

/// Index lag (in store versions) past which the service reports not ready.
const READY_MAX_LAG: u64 = 10_000;

/// What the follower thread and the views' owner share.
pub(crate) struct Shared {
    pub store: Arc<dyn CaseStore>,
    pub index: Arc<CaseIndex>,
    pub duplicates: DuplicateView,
    pub watch: Arc<Watch>,
    pub work: WorkView,
    pub deadlines: DeadlineWatch,
    /// The share of a deadline's time after which it is due soon (the profile's policy).
    pub due_soon_share: f64,
    pub health: Health,
    /// The highest store version the near-duplicate view and the watch have taken.
    pub fed_version: std::sync::atomic::AtomicU64,
    /// The service is shutting down: long catch-ups stop at their next step.
    pub stopping: AtomicBool,
}

/// What keeps the service from being ready, as the follower and start-up see it.
#[derive(Debug, Default)]
pub(crate) struct Health {
    /// The last step's error, until a step succeeds.
    follower_error: Mutex<Option<String>>,
    /// The index is being rebuilt from the store.
    rebuilding: AtomicBool,
}

impl Health {
    pub fn follower_failed(&self, error: Option<String>) {
        *self
            .follower_error
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = error;
    }

    /// The index was found damaged and is being rebuilt.
    pub fn start_rebuild(&self) {
        self.rebuilding.store(true, Ordering::Release);
    }

    /// What the follower found after a step: whether the index holds everything stored. Only
    /// the follower ends a rebuild (a reader seeing no lag just before the index is emptied
    /// must not).
    pub fn caught_up(&self, caught_up: bool) {
        if caught_up {
            self.rebuilding.store(false, Ordering::Release);
        }
    }

    fn follower_error(&self) -> Option<String> {
        self.follower_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// Whether the service can answer searches with everything stored, and if not, why.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Readiness {
    /// Ready to take traffic.
    pub ready: bool,
    /// Why not, when not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Cases stored.
    pub cases: u64,
    /// Store versions not yet searchable.
    pub index_lag: u64,
}

/// The views and their follower. Dropping it commits the index and stops the follower.
pub struct Views {
    shared: Arc<Shared>,
    follower: Follower,
}

impl std::fmt::Debug for Views {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Views")
            .field("index", &self.shared.index)
            .finish_non_exhaustive()
    }
}

/// A scoped thread's result; its panic goes on in the caller.
fn joined<T>(handle: std::thread::ScopedJoinHandle<'_, T>) -> T {
    handle
        .join()
        .unwrap_or_else(|p| std::panic::resume_unwind(p))
}

impl Views {
    /// Builds the views from `store` and starts following it. Blocking: the near-duplicate
    /// view reads every fingerprint, the watch (unless idle) every case, the work queues
    /// (unless only [`Kept::Bulk`]: an idle view) every case's facts, and an index that
    /// is behind catches up — except an index found missing or damaged, which is rebuilt by
    /// the follower while the service runs, not ready until it is done.
    pub fn start(
        store: Arc<dyn CaseStore>,
        index: Arc<CaseIndex>,
        watch: Watch,
        deadlines: DeadlineWatch,
        due_soon_share: f64,
        kept: Kept,
    ) -> Result<Self> {
        // What the views below are built from at least; anything later is fed again.
        let fed = store.max_version()?;
        let total = store.count()?;
        let watch = Arc::new(watch);
        // The three read different tables and share nothing: built side by side, a restart at
        // a million cases takes the longest one's time, not the sum.
        let (duplicates, work, counted) = std::thread::scope(|s| {
            let duplicates = s.spawn(|| {
                DuplicateView::rebuild(&*store, &Progress::new("near-duplicate view", total))
            });
            let work = s.spawn(|| {
                if kept == Kept::Bulk {
                    return Ok(WorkView::idle());
                }
                let progress = Progress::new("work queues", total);
                WorkView::rebuild(&*store, due_soon_share, &progress)
            });
            let counted = watch.rebuild(&*store, &Progress::new("trends and topics", total));
            (joined(duplicates), joined(work), counted)
        });
        counted?;
        let (duplicates, work) = (duplicates?, work?);
        let shared = Arc::new(Shared {
            store,
            index,
            duplicates,
            watch,
            work,
            deadlines,
            due_soon_share,
            health: Health::default(),
            fed_version: fed.into(),
            stopping: AtomicBool::new(false),
        });
        let cases = shared.store.count()?;
        if shared.index.was_rebuilt() && cases > 0 {
            tracing::warn!(
                cases,
                "no usable search index: rebuilding it from the store; not ready until done"
            );
            shared.health.rebuilding.store(true, Ordering::Release);
        } else {
            let caught_up = follower::catch_up(&shared, false, |_| {})?;
            if caught_up > 0 {
                tracing::info!(cases = caught_up, "index caught up with the store");
            }
        }
        let follower = Follower::start(Arc::clone(&shared))?;
        follower.notify();
        Ok(Views { shared, follower })
    }

    /// The search index.
    pub fn index(&self) -> &CaseIndex {
        &self.shared.index
    }

    /// Trends, topics and alert rules.
    pub fn watch(&self) -> &Watch {
        &self.shared.watch
    }

    /// The near-duplicate view.
    pub fn duplicates(&self) -> &DuplicateView {
        &self.shared.duplicates
    }

    /// What the last deadline sweep did.
    pub fn last_sweep(&self) -> Option<SweepStats> {
        self.shared.deadlines.last()
    }

    /// Every case's handling facts: work queues and KPIs read them.
    pub fn work(&self) -> &WorkView {
        &self.shared.work
    }

    /// Runs the deadline sweep as of `now` (the follower runs it every minute at the current
    /// time): raises `sla_due_soon` and `sla_breached` for the deadlines crossed since, once
    /// each. Returns the alerts handed to the alert center (repeats it drops included).
    pub fn sweep_deadlines(&self, now: jiff::Timestamp) -> usize {
        let started = std::time::Instant::now();
        let alerts = self
            .shared
            .deadlines
            .sweep(&self.shared.work, &*self.shared.store, now);
        let n = alerts.len();
        self.shared.watch.raise(alerts);
        self.shared.deadlines.record(started.elapsed(), n);
        n
    }

    /// Tells the follower the store changed.
    pub fn notify(&self) {
        self.follower.notify();
    }

    /// Takes in a case this process has just changed (the work view at once: a queue read
    /// right after shows the step), the rest by the follower.
    pub fn changed(&self, case: &Case) {
        self.shared.work.follow([case]);
        self.follower.notify();
    }

    /// Takes in cases intake has just stored, before it answers: the near-duplicate view at
    /// once (the same complaint sent again right after is found), the rest by the follower.
    pub fn created<'a>(&self, cases: impl IntoIterator<Item = (&'a Case, &'a Signature)>) {
        for (case, fingerprint) in cases {
            self.shared
                .duplicates
                .add(case.seq, case.received_at, fingerprint);
            self.shared.work.follow([case]);
        }
        self.follower.notify();
    }

    /// Store versions not yet searchable.
    pub fn lag(&self) -> Result<u64> {
        Ok(self
            .shared
            .store
            .max_version()?
            .saturating_sub(self.shared.index.committed_version()))
    }

    /// Whether the views are current enough to serve, and why not.
    pub fn readiness(&self) -> Result<Readiness> {
        let lag = self.lag()?;
        let cases = self.shared.store.count()?;
        let health = &self.shared.health;
        let reason = if let Some(e) = self.shared.store.write_failure() {
            Some(format!(
                "the store cannot write ({e}); nothing is acknowledged until it can"
            ))
        } else if health.rebuilding.load(Ordering::Acquire) {
            Some(format!(
                "the search index is being rebuilt from the store ({lag} versions to go)"
            ))
        } else if let Some(e) = health.follower_error() {
            Some(format!(
                "the search index cannot take new cases ({e}); it retries by itself"
            ))
        } else if lag > READY_MAX_LAG {
            Some(format!(
                "the search index is {lag} versions behind the store; it is catching up"
            ))
        } else {
            None
        };
        Ok(Readiness {
            ready: reason.is_none(),
            reason,
            cases,
            index_lag: lag,
        })
    }

    /// Waits until everything stored so far is in every view (tests, import, shutdown).
    pub fn sync(&self) -> Result<()> {
        // Under the follower's gate: a batch it has indexed but not yet counted would
        // otherwise be missing from trends when this returns.
        self.follower
            .pause(|| follower::catch_up(&self.shared, true, |_| {}).map(drop))
    }

    /// Starts a bulk load: the store favours large transactions, and the index commits seldom
    /// and merges nothing until [`Views::end_bulk`]. Returns the segments there were before,
    /// which it leaves alone.
    pub(crate) fn begin_bulk(&self) -> Result<Vec<SegmentId>> {
        let (store, index) = (&self.shared.store, &self.shared.index);
        store.bulk_load(true)?;
        if let Err(e) = index.set_bulk(true) {
            store.bulk_load(false)?;
            return Err(e);
        }
        self.follower.set_bulk(true);
        // After the switch, which committed what intake had added and finished its merges.
        index.segment_ids()
    }

    /// Ends a bulk load: brings the views up to date and merges the segments the load made
    /// into one (a small import into a large index does not rewrite the index).
    pub(crate) fn end_bulk(&self, before: &[SegmentId]) -> Result<()> {
        self.follower.set_bulk(false);
        let index = self.shared.index.set_bulk(false);
        self.shared.store.bulk_load(false)?;
        index?;
        self.follower.pause(|| {
            follower::catch_up(&self.shared, true, |_| {})?;
            self.shared.index.compact_except(before).map(drop)
        })
    }

    /// Drops the index's content and rebuilds it from the store, reporting cases indexed.
    pub fn reindex(&self, progress: impl FnMut(u64)) -> Result<u64> {
        let shared = &self.shared;
        self.follower.pause(|| {
            // As a bulk load: more indexing threads, no merges until the one at the end.
            shared.index.set_bulk(true)?;
            let done = shared
                .index
                .clear()
                .and_then(|()| follower::catch_up(shared, false, progress));
            let back = shared.index.set_bulk(false);
            let n = done?;
            back?;
            shared.index.compact()?;
            shared.health.rebuilding.store(false, Ordering::Release);
            Ok(n)
        })
    }

    /// The store the views follow.
    pub(crate) fn store(&self) -> &Arc<dyn CaseStore> {
        &self.shared.store
    }
}
