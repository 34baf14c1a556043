//! The system of record: cases, their audit trail, idempotency records and import checkpoints.
//!
//! [`CaseStore`] is what the service needs from a store; [`SqliteStore`] is the embedded
//! default (SQLite in WAL mode with `synchronous=FULL`, one writer thread committing in small
//! groups, a pool of readers). A PostgreSQL backend for several replicas implements the same
//! trait. Everything else (search index, trend tables) is derived from the store and can be
//! rebuilt from it.

mod bands;
mod checkpointer;
mod light;
mod schema;
mod sqlite;
mod writer;

use std::sync::Arc;

use jiff::Timestamp;
use serde::Serialize;
use serde_json::{Map, Value};

pub use self::sqlite::SqliteStore;
use crate::domain::{AuditEvent, Case, CaseId};
use crate::error::Result;
use crate::text::Signature;

/// A case to create. The store assigns `id`, `seq`, `version`, `created_at` and `updated_at`
/// (whatever `case` holds there is ignored).
#[derive(Debug, Clone)]
pub struct NewCase {
    /// The case as triaged.
    pub case: Case,
    /// The intake triage already as JSON, when nothing answers with the case (imports): it is
    /// serialised on the thread that triaged it, not by the one writer, and `case.triage`
    /// stays null. `None`: `case.triage` is stored.
    pub triage_json: Option<String>,
    /// The text as received (before normalisation and masking). Kept only in the store: never
    /// indexed, logged or returned.
    pub original_text: String,
    /// MinHash signature of the masked text, for near-duplicate lookups.
    pub signature: Signature,
    /// Who creates it (an API key's name, or `import`).
    pub actor: String,
    /// Idempotency record to commit with the case.
    pub idempotency: Option<IdempotencyRecord>,
    /// Fields to answer with beside the stored case (similar cases, suggestions); with an
    /// idempotency record, the whole answer is kept so that a retry gets it verbatim.
    pub response_extra: Map<String, Value>,
    /// In a [`CaseStore::create_many`], an earlier item of the same call that this case nearly
    /// duplicates: linked once that item has its case number (an import finds such pairs
    /// before either is stored).
    pub duplicate_of_item: Option<usize>,
    /// Earlier cases to put under this case's group id (`case.links.group_id`), raising them
    /// to 重大 with reason `group`, in the same transaction.
    pub group_members: Vec<CaseId>,
}

/// An `Idempotency-Key` and the hash of the request it came with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    /// The client's key.
    pub key: String,
    /// SHA-256 of the request body, to tell a retry from a different request under the same key.
    pub request_hash: String,
}

/// What a key was first answered with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    /// SHA-256 of the first request's body.
    pub request_hash: String,
    /// The case it created.
    pub case_id: CaseId,
    /// The first response's body.
    pub body: String,
}

/// WAL pages between checkpoints while bulk loading (256 MiB of 4 KiB pages).
pub const BULK_CHECKPOINT_PAGES: u32 = 65_536;

/// A stored case and what to answer with it.
#[derive(Debug, Clone, PartialEq)]
pub struct Created {
    /// The case as stored.
    pub case: Case,
    /// [`NewCase::response_extra`].
    pub extra: Map<String, Value>,
}

impl Created {
    /// [`Created::body`] as a JSON value (for a batch's answer): read back from the text, so
    /// that it equals what a replay of the stored text gives (an `f32` written as a `Value`
    /// directly would widen, 0.85 to 0.8500000238418579).
    pub fn to_value(&self) -> Value {
        serde_json::from_str(&self.body()).expect("the answer is JSON")
    }

    /// The answer: the case's JSON with the extra fields (which no case field shares) after
    /// it. Built by the caller, not the writer thread (only an idempotency record needs it
    /// inside the transaction), and written straight from the case: a `Value` tree first would
    /// copy the whole triage once more on every create.
    pub fn body(&self) -> String {
        #[derive(Serialize)]
        struct Answer<'a> {
            #[serde(flatten)]
            case: &'a Case,
            #[serde(flatten)]
            extra: &'a Map<String, Value>,
        }
        serde_json::to_string(&Answer {
            case: &self.case,
            extra: &self.extra,
        })
        .expect("a case always serialises")
    }
}

/// A change to apply to a stored case inside the writer's transaction, so that read, check and
/// write are atomic. Returns the action name for the audit trail, or an error to abort.
pub type CaseUpdate = Box<dyn FnOnce(&mut Case) -> Result<&'static str> + Send>;

/// Where an import stopped: the next line to read of the file with this key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportCheckpoint {
    /// Identifies the file (its path and size).
    pub file_key: String,
    /// Lines done, counting bad ones.
    pub lines_done: u64,
}

/// What the service needs from a system of record.
pub trait CaseStore: Send + Sync + 'static {
    /// Stores a case; returns it as stored. Returns only after the transaction holding the case,
    /// its audit event and its idempotency record has committed durably.
    fn create(&self, new: NewCase) -> Result<Created>;

    /// Stores several cases in one transaction; a failure of one leaves the others stored.
    /// With `checkpoint`, records import progress in the same transaction.
    fn create_many(
        &self,
        new: Vec<NewCase>,
        checkpoint: Option<ImportCheckpoint>,
    ) -> Result<Vec<Result<Created>>>;

    /// Bulk loading on or off. On, the write-ahead log is copied back into the database
    /// seldom (every [`BULK_CHECKPOINT_PAGES`] pages, not every 1,000): a bulk load rewrites
    /// the same index pages in every transaction, and each checkpoint copies them again.
    /// Off checkpoints what the load left.
    fn set_bulk(&self, on: bool) -> Result<()>;

    /// Applies `update` to case `id` and records it in the audit trail as `actor`.
    fn update(&self, id: &CaseId, actor: &str, update: CaseUpdate) -> Result<Case>;

    /// The case with this id.
    fn get(&self, id: &CaseId) -> Result<Option<Case>>;

    /// Cases by id, in the order given, without their intake triage; unknown ids are skipped.
    /// Shared, not copied: they may come from the store's cache of recently read cases.
    fn get_many(&self, ids: &[CaseId]) -> Result<Vec<Arc<Case>>>;

    /// What an idempotency key was first answered with.
    fn idempotency(&self, key: &str) -> Result<Option<StoredResponse>>;

    /// Cases of the complainant with this contact hash received at or after `since`, newest
    /// first, at most `limit`.
    fn by_contact(&self, contact_hash: &str, since: Timestamp, limit: usize) -> Result<Vec<Case>>;

    /// The earliest case received at or after `since` whose text is a near duplicate of the
    /// text with `signature` (a shared band, confirmed on the whole signature), as the case it
    /// itself duplicates if it does (the root of the chain).
    fn near_duplicate(&self, signature: &Signature, since: Timestamp) -> Result<Option<CaseId>>;

    /// Cases changed after store version `version`, in version order, at most `limit`
    /// (without their intake triage).
    fn changed_since(&self, version: u64, limit: usize) -> Result<Vec<Case>>;

    /// Cases in creation order after `seq`, at most `limit` (export, reindex; without their
    /// intake triage).
    fn scan(&self, after_seq: u64, limit: usize) -> Result<Vec<Case>>;

    /// The highest version written (0 for an empty store).
    fn max_version(&self) -> Result<u64>;

    /// Number of cases.
    fn count(&self) -> Result<u64>;

    /// A case's audit trail, oldest first.
    fn audit(&self, id: &CaseId) -> Result<Vec<AuditEvent>>;

    /// Where the import of the file with this key stopped.
    fn import_checkpoint(&self, file_key: &str) -> Result<Option<ImportCheckpoint>>;

    /// Writes waiting for the writer (a gauge for `/metrics`).
    fn write_queue_depth(&self) -> usize;

    /// The salt for contact hashes, created once per store.
    fn contact_salt(&self) -> &str;
}

/// Calls `f` with every case of `store` in creation order, `page` cases at a time (without
/// their intake triage, as [`CaseStore::scan`] gives them).
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
