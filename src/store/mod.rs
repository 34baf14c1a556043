//! The system of record: cases, their audit trail, idempotency records, import checkpoints and
//! the alert queue.
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
//! with the decisions made at intake, or the closure's action with the fields it changed.
//!
//! **Idempotency.** Records are per caller: the same key from two callers is two records.
//!
//! **Alert queue.** An alert and one pending delivery per webhook are written together; a key
//! whose last alert has the same fingerprint is not written again.

pub mod conformance;
mod sqlite;

use std::sync::Arc;

use jiff::Timestamp;

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

/// A pending alert delivery whose time has come.
#[derive(Debug, Clone, PartialEq)]
pub struct DueDelivery {
    /// The delivery's id (`{alert id}.{n}`).
    pub id: String,
    /// The webhook's name.
    pub webhook: String,
    /// Attempts made so far.
    pub attempts: u32,
    /// What to deliver.
    pub alert: Alert,
}

/// How a delivery attempt ended.
#[derive(Debug, Clone, PartialEq)]
pub enum DeliveryOutcome {
    /// The webhook accepted it on attempt `attempts`.
    Delivered {
        /// Attempts made, this one included.
        attempts: u32,
        /// When.
        at: Timestamp,
    },
    /// It failed; try again at `next_at`.
    Retry {
        /// Attempts made.
        attempts: u32,
        /// When to try again.
        next_at: Timestamp,
        /// Why it failed.
        error: String,
    },
    /// Given up.
    Failed {
        /// Attempts made.
        attempts: u32,
        /// Why.
        error: String,
    },
}

/// Most alerts one history read returns.
pub const HISTORY_MAX: usize = 1000;

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
    /// one pending delivery per webhook, due now, in one transaction. An alert whose key's last
    /// alert has the same fingerprint is left out. Returns the alerts recorded, in order.
    fn insert_alerts(&self, alerts: Vec<Alert>, webhooks: &[String]) -> Result<Vec<Alert>>;

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
