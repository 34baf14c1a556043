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
//! (`get_many`, `by_contact`, `changed_since`, `scan`) return light cases, without it.
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
mod sqlite;

use std::sync::Arc;

use jiff::Timestamp;

pub use self::outbox::{
    AlertEntry, AuditEntry, DeliveryOutcome, DueDelivery, DueEvent, EventCursor, HISTORY_MAX,
    NewAlert, NewEvent,
};
pub use self::sqlite::SqliteStore;
use crate::domain::{Alert, AlertRecord, AuditEvent, Case, CaseFacts, CaseId};
use crate::error::Result;

/// A case to create, with what commits with it.
pub struct NewCase {
    /// The case. The store sets `id`, `seq`, `version`, `created_at` and `updated_at`.
    pub case: Case,
    /// The text as received, before normalisation and masking. Kept in its own column for a
    /// later, audited reveal: never indexed, logged or returned by any read here.
    pub original_text: String,
    /// The complainant's contact as the intake system gave it (phone, id number, e-mail), to
    /// call back. Kept like `original_text`: only [`CaseStore::reveal`] returns it.
    pub contact: Option<String>,
    /// The near-duplicate fingerprint of the case's text: opaque bytes kept for the derived
    /// band view ([`CaseStore::fingerprints`]).
    pub fingerprint: Vec<u8>,
    /// Who creates it (an API key's name, `import`, `replay`).
    pub actor: String,
    /// The idempotency record to commit with the case.
    pub idempotency: Option<NewIdempotency>,
    /// Completes the case inside the transaction, once the items stored before it in the same
    /// [`CaseStore::insert`] have their ids (given in item order; `None` for an item that
    /// failed). An import links a near duplicate of an earlier line of its own chunk this way.
    pub complete: Option<Complete>,
    /// Changes of other cases that commit with this one or not at all (joining earlier cases
    /// to a group complaint).
    pub also: Vec<Update>,
}

impl std::fmt::Debug for NewCase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewCase")
            .field("case", &self.case.id)
            .field("actor", &self.actor)
            .field("also", &self.also.len())
            .finish_non_exhaustive()
    }
}

/// See [`NewCase::complete`].
pub type Complete = Box<dyn FnOnce(&mut Case, &[Option<CaseId>]) + Send>;

/// An idempotency record to write with a new case.
pub struct NewIdempotency {
    /// Whose key (the API key's name): keys of different callers never meet.
    pub caller: String,
    /// The caller's `Idempotency-Key`.
    pub key: String,
    /// A hash of the request, to tell a retry from another request under the same key.
    pub request_hash: String,
    /// Makes the answer to keep, from the case as stored (inside the transaction, after its
    /// numbers are assigned). The store keeps the bytes and never reads them.
    pub answer: MakeAnswer,
}

/// See [`NewIdempotency::answer`].
pub type MakeAnswer = Box<dyn FnOnce(&Case) -> Vec<u8> + Send>;

/// See [`Change::Apply`].
pub type ApplyFn = Box<dyn FnOnce(&mut Case) -> Result<Option<&'static str>> + Send>;

/// What an idempotency key was first answered with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAnswer {
    /// The first request's hash.
    pub request_hash: String,
    /// The case it created.
    pub case_id: CaseId,
    /// The first answer, as made by [`NewIdempotency::answer`].
    pub answer: Vec<u8>,
}

/// A change to one stored case.
pub struct Update {
    /// The case.
    pub id: CaseId,
    /// Who changes it (recorded in the audit trail).
    pub actor: String,
    /// The change.
    pub change: Change,
}

/// How a stored case changes.
pub enum Change {
    /// Run a closure on the current case inside the transaction. It returns the audit action
    /// (`update`, `correct`, `link`, …), `None` to leave the case as it is, or an error to
    /// abort (nothing is written).
    Apply(ApplyFn),
    /// Replace the case with `case` if its version is still `expected_version` (compare and
    /// set); otherwise fail with [`crate::Error::Conflict`] and write nothing.
    Replace {
        /// The version the caller read.
        expected_version: u64,
        /// The new content (`id`, `seq`, `version`, `created_at` and `updated_at` are the
        /// store's).
        case: Box<Case>,
        /// The audit action.
        action: &'static str,
    },
}

impl Change {
    /// [`Change::Apply`] of `f`.
    pub fn apply(
        f: impl FnOnce(&mut Case) -> Result<Option<&'static str>> + Send + 'static,
    ) -> Self {
        Change::Apply(Box::new(f))
    }
}

/// What an update did.
#[derive(Debug, Clone, PartialEq)]
pub struct Updated {
    /// The case as it now is (light: without its triage record).
    pub case: Case,
    /// Whether anything was written: `false` when the closure said `None` or changed no field.
    pub changed: bool,
}

/// See [`Access::check`].
pub type CheckFn = Box<dyn FnOnce(&Case) -> Result<()> + Send>;

/// A read of what a case keeps apart from its document, to be recorded in its audit trail.
pub struct Access {
    /// The case.
    pub id: CaseId,
    /// Who reads (recorded).
    pub actor: String,
    /// The audit action (`reveal_contact`).
    pub action: &'static str,
    /// Why, as the reader said it (recorded as the event's note; masked by the caller).
    pub note: String,
    /// Runs on the case inside the transaction, before anything is written: an error (the
    /// case is outside the reader's departments by now) records nothing and returns nothing.
    pub check: CheckFn,
}

impl std::fmt::Debug for Access {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Access")
            .field("id", &self.id)
            .field("actor", &self.actor)
            .field("action", &self.action)
            .finish_non_exhaustive()
    }
}

/// What a case keeps apart from its document: given only by [`CaseStore::reveal`].
#[derive(Clone, PartialEq, Eq)]
pub struct KeptApart {
    /// The text as received, before normalisation and masking.
    pub original_text: String,
    /// The contact the intake system gave, if any.
    pub contact: Option<String>,
}

impl std::fmt::Debug for KeptApart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never printed: a debug log of it would be a leak.
        f.write_str("KeptApart { .. }")
    }
}

/// Which audit events to find ([`CaseStore::audit_search`]); every filter given must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// Who acted, exactly.
    pub actor: Option<String>,
    /// The action, exactly.
    pub action: Option<String>,
    /// The case.
    pub case_id: Option<CaseId>,
    /// At or after.
    pub from: Option<Timestamp>,
    /// Before.
    pub to: Option<Timestamp>,
    /// Only events numbered below this (the last `seq` of the page before).
    pub before: Option<u64>,
    /// Most events returned.
    pub limit: usize,
}

/// An audit event with its number in the trail.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRow {
    /// The event's number: events are numbered from 1 in the order they commit.
    pub seq: u64,
    /// The event.
    pub event: AuditEvent,
}

/// Where an import stopped: the next line to read of the file with this key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportCheckpoint {
    /// Identifies the file (its name and a hash of its head).
    pub file_key: String,
    /// Lines done, counting bad ones.
    pub lines_done: u64,
}

/// A case's near-duplicate fingerprint, as the band view reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FingerprintRow {
    /// The case's creation order.
    pub seq: u64,
    /// The case.
    pub id: CaseId,
    /// When it was received.
    pub received_at: Timestamp,
    /// [`NewCase::fingerprint`].
    pub fingerprint: Vec<u8>,
}

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
