//! What the store gives besides cases: a case's data kept apart (read with an audited
//! access), audit searches, import checkpoints, fingerprints.

use jiff::Timestamp;

use crate::domain::{AuditEvent, Case, CaseId};
use crate::error::Result;

/// A case to read: its number, and its row in the store when the caller knows it (the search
/// index's hits carry it). A read by row skips the descent of the numbers' index: on a copy of
/// the 1M-case load store, 35 random reads on a fresh connection took about 60 % less time
/// by row than by number, not counting the rows' decompression; the whole service's CPU a
/// request did not measurably change (docs/benchmarks.md, fifteenth step).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseRef {
    /// The case number.
    pub id: CaseId,
    /// The row (`seq`); a wrong one is not trusted: the row's number is checked.
    pub seq: Option<u64>,
}

impl CaseRef {
    /// A case known by its number only.
    pub fn id(id: CaseId) -> Self {
        CaseRef { id, seq: None }
    }

    /// A case known by its number and its row.
    pub fn at(id: CaseId, seq: u64) -> Self {
        CaseRef { id, seq: Some(seq) }
    }
}

impl AsRef<CaseId> for CaseRef {
    fn as_ref(&self) -> &CaseId {
        &self.id
    }
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
    /// The case this one is a near duplicate of, recorded beside the fingerprint when the case
    /// was stored (`Some(None)`: none); `None` for cases stored before it was recorded there
    /// (the case itself says).
    pub duplicate_of: Option<Option<CaseId>>,
}
