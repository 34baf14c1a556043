//! The case service, wired by job: [`IntakeDesk`] (prepare → link → judge → persist),
//! [`Handling`] (reads, patches and corrections), [`Advisor`] (similar cases and suggested
//! resolutions), [`Views`] (the derived views and the follower that keeps them current) and
//! [`tools`] (export, evaluations). HTTP-free: the API and the CLI both drive it.

mod advice;
mod handling;
mod intake;
mod settings;
pub mod tools;
mod views;

use std::sync::Arc;

pub use self::advice::{Advice, Advisor, DepartmentHint, SimilarCase, Suggestion};
pub use self::handling::{
    AuditEntry, AuditFilter, AuditPage, CaseInHand, DEFAULT_AUDIT_PAGE, Handling, MAX_AUDIT_PAGE,
    MAX_REASON_CHARS, PiiValue, QueueRequest, REVEAL_CONTACT, Revealed,
};
pub use self::intake::{
    Assessment, CaseAnswer, CreateOutcome, Findings, GroupSignal, ImportReport, IntakeDesk,
    IntakeLimits, Signals, intake_of_line,
};
pub use self::settings::{DuplicateSettings, SuggestionSettings};
pub use self::views::{
    AlertRules, CaseLinks, DeadlineWatch, DuplicateView, ExportLimits, Footprint, GroupMembers,
    MAX_LINKED, ProcessMemory, Readiness, SearchItem, SearchPage, Selection, Views, Watch, Work,
    WorkView, measure_footprint, topic_alert,
};
use crate::alerts::AlertCenter;
use crate::error::Result;
use crate::index::CaseIndex;
use crate::store::CaseStore;
use crate::triage::Engine;

/// The service's settings.
#[derive(Debug, Clone, Default)]
pub struct ServiceSettings {
    /// Duplicate detection thresholds.
    pub duplicates: DuplicateSettings,
    /// How many similar cases and suggestions to return.
    pub suggestions: SuggestionSettings,
    /// What one intake may hold.
    pub limits: IntakeLimits,
    /// How hot topics are formed and judged.
    pub topics: crate::trends::TopicSettings,
    /// When alerts are raised.
    pub alert_rules: AlertRules,
    /// Which derived views are built from the store at start.
    pub kept: Kept,
    /// The people cases can be sent to: names, roles and departments (from the API keys).
    pub people: Vec<(String, crate::domain::Role, Vec<String>)>,
}

/// The derived views a service builds from the store at start, besides the search index and
/// the near-duplicate view.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Kept {
    /// Trends, topics and work queues too: the server and the commands that show them.
    #[default]
    All,
    /// Neither, and no alert is raised: bulk commands (import, export, reindex, audit),
    /// which show no trends and list no queue. At a million cases the two read every case at
    /// start and hold about 900 MB.
    Bulk,
}

/// The parts of the service, wired together. `Send + Sync`: share behind an `Arc`.
pub struct Service {
    engine: Arc<Engine>,
    store: Arc<dyn CaseStore>,
    views: Arc<Views>,
    advisor: Arc<Advisor>,
    intake: IntakeDesk,
    handling: Handling,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field("views", &self.views)
            .finish_non_exhaustive()
    }
}

impl Service {
    /// Wires the parts together and builds the derived views from the store (blocking; see
    /// [`Views::start`]). Alert rules raise to `alerts` when given; without, trends and topics
    /// are kept and nothing is raised.
    pub fn start(
        engine: Arc<Engine>,
        store: Arc<dyn CaseStore>,
        index: Arc<CaseIndex>,
        settings: ServiceSettings,
        alerts: Option<Arc<AlertCenter>>,
    ) -> Result<Self> {
        settings.duplicates.validate()?;
        let alerting = alerts.is_some() && settings.kept == Kept::All;
        let watch = if settings.kept == Kept::Bulk {
            Watch::idle()
        } else {
            Watch::new(settings.topics, settings.alert_rules.clone(), alerts)
        };
        let advisor = Arc::new(Advisor::new(Arc::clone(&store), Arc::clone(&index)));
        // Deadline alerts need time limits (the profile's policy) and somewhere to go.
        let deadlines = match (&engine.profile().policy, alerting) {
            (Some(policy), true) if settings.alert_rules.deadlines => DeadlineWatch::new(
                Some(policy.due_soon_share()),
                settings.alert_rules.max_age_hours,
            ),
            _ => DeadlineWatch::off(),
        };
        let share = engine
            .profile()
            .policy
            .as_ref()
            .map_or(0.8, |p| p.due_soon_share());
        let views = Arc::new(Views::start(
            Arc::clone(&store),
            index,
            watch,
            deadlines,
            share,
            settings.kept,
        )?);
        let intake = IntakeDesk::new(
            Arc::clone(&engine),
            Arc::clone(&views),
            Arc::clone(&advisor),
            settings.duplicates,
            settings.suggestions,
            settings.limits,
        );
        let directory = crate::handling::Directory::new(
            engine.profile().policy.as_ref(),
            settings
                .people
                .iter()
                .map(|(n, r, d)| (n.as_str(), *r, d.as_slice())),
        );
        let handling = Handling::new(Arc::clone(&engine), Arc::clone(&views), Arc::new(directory));
        Ok(Service {
            engine,
            store,
            views,
            advisor,
            intake,
            handling,
        })
    }

    /// Intake: triage and new cases.
    pub fn intake(&self) -> &IntakeDesk {
        &self.intake
    }

    /// Reading and changing stored cases.
    pub fn handling(&self) -> &Handling {
        &self.handling
    }

    /// Similar cases and suggestions.
    pub fn advisor(&self) -> &Advisor {
        &self.advisor
    }

    /// The derived views: search, trends, topics, readiness.
    pub fn views(&self) -> &Views {
        &self.views
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The store.
    pub fn store(&self) -> &dyn CaseStore {
        &*self.store
    }

    /// The store, shared: for what follows it beside the service (the case events).
    pub fn store_handle(&self) -> Arc<dyn CaseStore> {
        Arc::clone(&self.store)
    }
}
