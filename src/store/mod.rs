//! The system of record: cases, their audit trail, idempotency records, import checkpoints, the
//! alert queue and the case-event queue.
//!
//! The store only persists. It decides nothing about complaints (no grade is raised in here:
//! the service decides and hands the store ordinary updates) and speaks no wire format (an
//! idempotent answer is opaque bytes it keeps and gives back). Everything else — the search
//! index, the near-duplicate bands, trends — is derived from it by following its change feed,
//! and can be rebuilt from it.
//!
//! [`SqliteStore`] is the embedded default. A backend for several replicas (PostgreSQL)
//! implements [`CaseStore`] against the contract below alone, and must pass the same
//! [`conformance`] suite.
//!
//! # The contract
//!
//! **Durability.** A write method returns only after its transaction has committed durably: an
//! acknowledged case, update, idempotency record, checkpoint or alert survives `kill -9` and
//! power loss.
//!
//! **Numbering.** The store assigns each new case its `id` (`TS` + Beijing day of
//! `received_at` + a per-day number from 1, never reused), `seq` (creation order, from 1, never
//! reused) and `created_at`; whatever the caller put there is ignored. Every write of a case
//! (its creation, each update) gives it a new `version` from one store-wide sequence and sets
//! `updated_at`.
//!
//! **The change feed.** [`CaseStore::changed_since`]`(v)` returns the cases whose current
//! version is above `v`, in version order. A reader never sees version N+1 before version N:
//! once a reader has seen a version, every lower version that will ever be visible already is.
//! (Versions may have gaps — a write that failed took one — but never arrive late.) So a
//! follower that remembers the highest version it has seen and asks for what is above it never
//! misses a write. SQLite keeps this by writing from one thread; a backend with concurrent
//! writers must hand out versions under the same lock that orders its commits (or expose only
//! versions below the oldest transaction still open).
//!
//! **What a write may change.** A case's `id`, `seq` and `created_at` never change, and
//! `version` and `updated_at` are the store's (whatever a closure or a replacement sets there is
//! put back). Every other field may change; the lookups follow (`by_contact` by the current
//! contact hash and receipt time). The fingerprint and the original text are written once, at
//! insert.
//!
//! **Atomic writes.** [`CaseStore::insert`] commits its items in one transaction, but each
//! item on its own terms: an item that fails (a reused idempotency key, a failing closure)
//! leaves nothing of itself, and the others are stored. An item's idempotency record and its
//! [`NewCase::also`] updates commit with it or not at all. An update's closure runs inside the
//! transaction: read, check and write are atomic.
//!
//! **Reads.** [`CaseStore::get`] returns the whole case (with its triage record); list reads
//! (`get_many`, `by_contact`, `changed_since`, `scan`) return light cases, without it;
//! [`CaseStore::neighbours`] returns a dozen fields of each. Every read after an update's
//! commit sees it, cached or not.
//!
//! **Audit.** Every write of a case records an [`AuditEvent`] in the same transaction: `create`
//! with the decisions made at intake, or the closure's action with the fields it changed. The
//! audit trail is numbered (`seq`, from 1, never reused) in the order events commit, and an
//! event's time is never before the time of the event numbered before it: a time window is a
//! range of numbers ([`CaseStore::audit_search`]).
//!
//! **What is kept apart.** The text as received ([`NewCase::original_text`]) and the contact
//! given at intake ([`NewCase::contact`]) are written once, at insert, beside the case and never
//! in it: no read returns them but [`CaseStore::reveal`], which records who read them and why
//! and returns them only once that record has committed.
//!
//! **Idempotency.** Records are per caller: the same key from two callers is two records.
//!
//! **Alert queue.** An alert and one pending delivery per webhook named with it are written
//! together; a key whose last alert has the same fingerprint is not written again.
//!
//! **The audit trail and the alert history as feeds.** [`CaseStore::audit_since`] and
//! [`CaseStore::alerts_since`] hand out entries in `seq` order, and, like the change feed, never
//! seq N+1 before N: a reader that remembers the last seq it saw misses nothing.
//! [`CaseStore::case_as_of`] reads a case as it was right after one of its audit events.
//!
//! **Case-event queue.** Events, their pending deliveries and the dispatcher's [`EventCursor`]
//! are written in one transaction, so an entry of the feeds becomes its events exactly once. A
//! delivery is handed out as due only when no earlier event of the same case is still pending
//! to the same webhook: a receiver gets a case's events in order.

pub mod conformance;
mod outbox;
mod reads;
mod sqlite;
mod writes;

use std::sync::Arc;

use jiff::Timestamp;

pub use self::outbox::{
    AlertEntry, AuditEntry, DeliveryOutcome, DueDelivery, DueEvent, EventCursor, HISTORY_MAX,
    NewAlert, NewEvent,
};
pub use self::reads::{
    Access, AuditQuery, AuditRow, CaseRef, CheckFn, FingerprintRow, ImportCheckpoint, KeptApart,
};
pub use self::sqlite::{LIGHT_CAPACITY, SqliteMemory, SqliteStore, unpacked};
pub use self::writes::{
    ApplyFn, Change, Complete, MakeAnswer, NewCase, NewIdempotency, StoredAnswer, Update, Updated,
};
use crate::domain::{Alert, AlertRecord, AuditEvent, Case, CaseFacts, CaseId, Neighbour};
use crate::error::Result;

/// What the service needs from a system of record. See the module docs for the contract.
pub trait CaseStore: Send + Sync + 'static {
    // Cases.

    /// Stores new cases in one transaction (with `checkpoint` if given); each item stored or
    /// failed on its own, in order. Returns the stored cases as written (with their triage
    /// records).
    fn insert(
        &self,
        cases: Vec<NewCase>,
        checkpoint: Option<ImportCheckpoint>,
    ) -> Result<Vec<Result<Case>>>;

    /// Changes one case, recording the change in the audit trail as `actor`. Unknown id:
    /// [`crate::Error::NotFound`].
    fn update(&self, update: Update) -> Result<Updated>;

    /// The case with this id, with its triage record.
    fn get(&self, id: &CaseId) -> Result<Option<Case>>;

    /// Light cases by id, in the order given; unknown ids are skipped. Shared, not copied:
    /// they may come from a cache of recently read cases.
    fn get_many(&self, ids: &[CaseId]) -> Result<Vec<Arc<Case>>>;

    /// Earlier cases as intake compares with them ([`Neighbour`]: a dozen fields of each),
    /// by number (read by row where given), in the order given; unknown ones are skipped.
    /// Shared, not copied: they come from a cache of recent neighbours where it has them.
    fn neighbours(&self, wanted: &[CaseRef]) -> Result<Vec<Arc<Neighbour>>>;

    /// Light cases of the complainant with this contact hash received at or after `since`,
    /// newest first, at most `limit`.
    fn by_contact(&self, contact_hash: &str, since: Timestamp, limit: usize) -> Result<Vec<Case>>;

    /// Light cases whose version is above `version`, in version order, at most `limit` (see
    /// the change feed in the module docs).
    fn changed_since(&self, version: u64, limit: usize) -> Result<Vec<Case>>;

    /// Light cases in creation order after `after_seq`, at most `limit`.
    fn scan(&self, after_seq: u64, limit: usize) -> Result<Vec<Case>>;

    /// Handling facts ([`CaseFacts`], as of each case's last write) in creation order after
    /// `after_seq`, at most `limit`.
    fn facts(&self, after_seq: u64, limit: usize) -> Result<Vec<CaseFacts>>;

    /// Fingerprints in creation order after `after_seq`, at most `limit`.
    fn fingerprints(&self, after_seq: u64, limit: usize) -> Result<Vec<FingerprintRow>>;

    /// The fingerprints of the cases with these seqs (unknown ones skipped), in the order given.
    fn fingerprints_of(&self, seqs: &[u64]) -> Result<Vec<FingerprintRow>>;

    /// The first fingerprint, in the order of `seqs`, that `accept` takes: read one at a time
    /// and no further than needed (the default reads a few at a time).
    fn find_fingerprint(
        &self,
        seqs: &[u64],
        accept: &mut dyn FnMut(&FingerprintRow) -> bool,
    ) -> Result<Option<FingerprintRow>> {
        for some in seqs.chunks(8) {
            if let Some(row) = self.fingerprints_of(some)?.into_iter().find(|r| accept(r)) {
                return Ok(Some(row));
            }
        }
        Ok(None)
    }

    /// The highest version written (0 for an empty store).
    fn max_version(&self) -> Result<u64>;

    /// Number of cases.
    fn count(&self) -> Result<u64>;

    /// A case's audit trail, oldest first.
    fn audit(&self, id: &CaseId) -> Result<Vec<AuditEvent>>;

    /// Audit events of every case that match `query`, newest (highest `seq`) first, at most
    /// `query.limit`. With indexes on actor, action, case and time: a page costs about
    /// `limit` rows read when one filter is given, whatever the size of the trail.
    fn audit_search(&self, query: &AuditQuery) -> Result<Vec<AuditRow>>;

    /// Records that `access.actor` read what case `access.id` keeps apart (its text as
    /// received, the contact given at intake) as an audit event (`access.action`, with
    /// `access.note`; before null, after `{}`), and returns what was read only once that event
    /// has committed durably: a read that cannot be recorded shows nothing. The case is not
    /// changed (no new version). Unknown id: [`crate::Error::NotFound`]; `access.check`'s
    /// error is returned as it is, with nothing recorded.
    fn reveal(&self, access: Access) -> Result<KeptApart>;

    /// What `caller`'s idempotency `key` was first answered with.
    fn idempotency(&self, caller: &str, key: &str) -> Result<Option<StoredAnswer>>;

    /// Where the import of the file with this key stopped.
    fn import_checkpoint(&self, file_key: &str) -> Result<Option<ImportCheckpoint>>;

    /// A bulk load starts (`true`) or ends: a hint to favour many large transactions over
    /// short commit latency. Nothing about the contract changes.
    fn bulk_load(&self, on: bool) -> Result<()>;

    /// The salt for contact hashes: made once per store, never changed.
    fn contact_salt(&self) -> &str;

    /// Writes waiting to be committed (a gauge for `/metrics`).
    fn write_queue_depth(&self) -> usize;

    /// Why the last write could not commit (a full disk, an I/O error), until one does: the
    /// service is not ready meanwhile. Cheap: no query.
    fn write_failure(&self) -> Option<String> {
        None
    }

    // The alert queue.

    /// Records alerts (assigning each its `id`, `AL` + milliseconds + `-` + a sequence) with
    /// one pending delivery per webhook named with it, due now, in one transaction. An alert
    /// whose key's last alert has the same fingerprint is left out. Returns the alerts
    /// recorded, in order.
    fn insert_alerts(&self, alerts: Vec<NewAlert>) -> Result<Vec<Alert>>;

    /// Up to `limit` pending deliveries due at `now`, earliest due first.
    fn due_deliveries(&self, now: Timestamp, limit: usize) -> Result<Vec<DueDelivery>>;

    /// When the earliest pending delivery is due.
    fn next_delivery_at(&self) -> Result<Option<Timestamp>>;

    /// Records how an attempt at pending delivery `id` ended (a delivery no longer pending is
    /// left as it is).
    fn finish_delivery(&self, id: &str, outcome: DeliveryOutcome) -> Result<()>;

    /// Fails every pending delivery to a webhook not in `configured`, saying why; returns how
    /// many.
    fn fail_unconfigured(&self, configured: &[String]) -> Result<usize>;

    /// Alerts created at or after `since` (all when `None`), newest first, at most `limit`
    /// (capped at [`HISTORY_MAX`]), each with its deliveries.
    fn alert_history(&self, since: Option<Timestamp>, limit: usize) -> Result<Vec<AlertRecord>>;

    /// Deliveries neither delivered nor given up. Cheap: no query.
    fn pending_deliveries(&self) -> usize;

    // The feeds the case-event dispatcher reads.

    /// Audit events with `seq` above `after_seq`, in `seq` order, at most `limit`.
    fn audit_since(&self, after_seq: u64, limit: usize) -> Result<Vec<AuditEntry>>;

    /// The case (light) as it was right after its audit event `audit_seq`: the current case
    /// with the changes of its later audit events undone, read in one snapshot. `None` for an
    /// unknown case.
    fn case_as_of(&self, id: &CaseId, audit_seq: u64) -> Result<Option<Case>>;

    /// Alerts with `seq` above `after_seq`, in `seq` order, at most `limit`.
    fn alerts_since(&self, after_seq: u64, limit: usize) -> Result<Vec<AlertEntry>>;

    // The case-event queue.

    /// Where the dispatcher stands. On a store that has no cursor yet, the current ends of
    /// both feeds, recorded: the history of a store is not sent as news.
    fn event_cursor(&self) -> Result<EventCursor>;

    /// Records events with one pending delivery per webhook named with each, due now, and moves
    /// the cursor to `cursor` (never back), in one transaction. An event whose id is already
    /// queued is left out.
    fn queue_events(&self, events: Vec<NewEvent>, cursor: EventCursor) -> Result<()>;

    /// Up to `limit` pending event deliveries due at `now`, earliest due first, each the
    /// earliest still pending of its case to its webhook.
    fn due_events(&self, now: Timestamp, limit: usize) -> Result<Vec<DueEvent>>;

    /// When the earliest delivery [`CaseStore::due_events`] would hand out is due.
    fn next_event_at(&self) -> Result<Option<Timestamp>>;

    /// Records how an attempt at pending event delivery `id` ended (one no longer pending is
    /// left as it is).
    fn finish_event(&self, id: &str, outcome: DeliveryOutcome) -> Result<()>;

    /// Fails every pending event delivery to a webhook not in `configured`, saying why;
    /// returns how many.
    fn fail_unconfigured_events(&self, configured: &[String]) -> Result<usize>;

    /// Event deliveries neither delivered nor given up (a count query).
    fn pending_events(&self) -> Result<usize>;
}

/// Calls `f` with every case of `store` in creation order, `page` light cases at a time.
pub fn for_each_page(
    store: &dyn CaseStore,
    page: usize,
    mut f: impl FnMut(&[Case]) -> Result<()>,
) -> Result<()> {
    let mut after = 0u64;
    loop {
        let cases = store.scan(after, page)?;
        let Some(last) = cases.last() else {
            return Ok(());
        };
        after = last.seq;
        f(&cases)?;
    }
}
