//! The case service: intake (triage, links, suggestions, durable storage), handling (patches
//! and corrections), search and similar cases, and the follower that keeps the index current.
//! HTTP-free: the API and the CLI both drive it.

mod export;
mod follower;
mod handling;
mod import;
mod intake;
mod neighbourhood;
mod search;
mod settings;
mod signals;
mod suggest;
mod suggest_eval;
mod watch;

use std::sync::Arc;

pub use self::export::ExportFormat;
pub use self::follower::IndexFollower;
pub use self::import::{ImportReport, intake_of_line};
pub use self::intake::{Assessment, CreateOutcome, IntakeLimits};
pub use self::search::{SearchItem, SearchPage};
pub use self::settings::{DuplicateSettings, SuggestionSettings};
pub use self::signals::{GroupSignal, Signals};
pub use self::suggest::{Advice, DepartmentHint, SimilarCase, Suggestion};
pub use self::suggest_eval::{
    ResolvedRow, SuggestionEval, SuggestionScores, char_f1, read_history, write_history,
};
pub use self::watch::{AlertRules, Watch, topic_alert};
use crate::domain::{Case, CaseId};
use crate::error::{Error, Result};
use crate::index::CaseIndex;
use crate::index::SegmentId;
use crate::store::CaseStore;
use crate::triage::Engine;

/// The service's settings.
#[derive(Debug, Clone, Default)]
pub struct ServiceSettings {
    /// Duplicate detection thresholds.
    pub duplicates: DuplicateSettings,
    /// How many similar cases and suggestions to return.
    pub suggestions: SuggestionSettings,
    /// How hot topics are formed and judged.
    pub topics: crate::trends::TopicSettings,
    /// When alerts are raised.
    pub alert_rules: AlertRules,
    /// Keep no trends or topics (commands that show none and raise nothing: import, export,
    /// reindex); they are otherwise rebuilt from the whole store at start.
    pub without_trends: bool,
}

/// Engine, store and index, wired together. `Send + Sync`: share behind an `Arc`.
pub struct Service {
    engine: Arc<Engine>,
    store: Arc<dyn CaseStore>,
    index: Arc<CaseIndex>,
    settings: ServiceSettings,
    follower: IndexFollower,
    watch: Arc<Watch>,
    in_flight: std::sync::Mutex<std::collections::HashSet<String>>,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field("index", &self.index)
            .finish()
    }
}

impl Service {
    /// Wires the parts together: brings the index up to date with the store (blocking: a
    /// rebuilt index re-reads every case) and starts the follower that keeps it so.
    pub fn start(
        engine: Arc<Engine>,
        store: Arc<dyn CaseStore>,
        index: Arc<CaseIndex>,
        settings: ServiceSettings,
    ) -> Result<Self> {
        Self::start_alerting(engine, store, index, settings, None)
    }

    /// [`Service::start`], with alert rules raising to `alerts` (none: trends and topics are
    /// kept, nothing is raised — imports and exports).
    pub fn start_alerting(
        engine: Arc<Engine>,
        store: Arc<dyn CaseStore>,
        index: Arc<CaseIndex>,
        settings: ServiceSettings,
        alerts: Option<Arc<crate::alerts::AlertCenter>>,
    ) -> Result<Self> {
        settings.duplicates.validate()?;
        // The watch is rebuilt from the whole store below: no need to feed it here.
        let caught_up = follower::catch_up(&*store, &index, None, |_| {})?;
        if caught_up > 0 {
            tracing::info!(cases = caught_up, "index caught up with the store");
        }
        let watch = Arc::new(if settings.without_trends {
            Watch::idle()
        } else {
            Watch::new(settings.topics, settings.alert_rules.clone(), alerts)
        });
        let counted = watch.rebuild(&*store)?;
        if counted > 0 {
            tracing::info!(cases = counted, "trends and topics rebuilt from the store");
        }
        let follower =
            IndexFollower::start(Arc::clone(&store), Arc::clone(&index), Arc::clone(&watch))?;
        Ok(Service {
            engine,
            store,
            index,
            settings,
            follower,
            watch,
            in_flight: Default::default(),
        })
    }

    /// Trends, topics and alert rules.
    pub fn watch(&self) -> &Watch {
        &self.watch
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The store.
    pub fn store(&self) -> &dyn CaseStore {
        &*self.store
    }

    /// The index.
    pub fn index(&self) -> &CaseIndex {
        &self.index
    }

    /// A case by number.
    pub fn get(&self, id: &CaseId) -> Result<Case> {
        if !CaseId::is_well_formed(id.as_str()) {
            return Err(Error::NotFound(format!(
                "case {id} (case numbers look like TS20261122-000123)"
            )));
        }
        self.store
            .get(id)?
            .ok_or_else(|| Error::NotFound(format!("case {id}")))
    }

    /// Store versions not yet searchable: how far the index lags behind the store.
    pub fn index_lag(&self) -> Result<u64> {
        Ok(self
            .store
            .max_version()?
            .saturating_sub(self.index.committed_version()))
    }

    /// Waits until everything stored so far is searchable (tests, import, shutdown).
    pub fn sync_index(&self) -> Result<()> {
        // Under the follower's gate: a batch it has indexed but not yet counted would
        // otherwise be missing from trends when this returns.
        self.follower.pause(|| {
            follower::catch_up(&*self.store, &self.index, Some(&self.watch), |_| {}).map(|_| ())
        })
    }

    /// Starts a bulk load: the index commits seldom and merges nothing until
    /// [`Service::end_bulk`]. Returns the segments there were before, which it leaves alone.
    fn begin_bulk(&self) -> Result<Vec<SegmentId>> {
        self.store.set_bulk(true)?;
        if let Err(e) = self.index.set_bulk(true) {
            self.store.set_bulk(false)?;
            return Err(e);
        }
        self.follower.set_bulk(true);
        // After the switch, which committed what intake had added and finished its merges.
        self.index.segment_ids()
    }

    /// Ends a bulk load: brings the index up to date and merges the segments the load made
    /// into one (a small import into a large index does not rewrite the index).
    fn end_bulk(&self, before: &[SegmentId]) -> Result<()> {
        self.follower.set_bulk(false);
        let index = self.index.set_bulk(false);
        self.store.set_bulk(false)?;
        index?;
        self.follower.pause(|| {
            follower::catch_up(&*self.store, &self.index, Some(&self.watch), |_| {})?;
            self.index.compact_except(before).map(drop)
        })
    }

    /// Drops the index's content and rebuilds it from the store, reporting cases indexed.
    pub fn reindex(&self, progress: impl FnMut(u64)) -> Result<u64> {
        self.follower.pause(|| {
            // As a bulk load: more indexing threads, no merges until the one at the end.
            self.index.set_bulk(true)?;
            let done = self
                .index
                .clear()
                .and_then(|()| follower::catch_up(&*self.store, &self.index, None, progress));
            let back = self.index.set_bulk(false);
            let n = done?;
            back?;
            self.index.compact()?;
            Ok(n)
        })
    }
}
