//! What a write to the store carries and answers: a new case with what commits with it, a
//! change to a stored case.

use crate::domain::{Case, CaseId};
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
