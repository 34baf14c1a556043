//! Idempotency keys: a retried create gets the first answer, another request under the same key
//! is refused, and a retry while the first is still running is a conflict. Keys belong to the
//! caller that sent them.

use std::collections::HashSet;
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use crate::domain::Intake;
use crate::error::{Error, Result};
use crate::store::CaseStore;

/// Longest `Idempotency-Key`, in bytes.
const MAX_KEY_BYTES: usize = 200;

/// Keys of requests still running, per caller.
#[derive(Debug, Default)]
pub(super) struct InFlight(Mutex<HashSet<(String, String)>>);

impl InFlight {
    /// Marks `caller`'s `key` as running until the claim is dropped; a second claim meanwhile is
    /// a conflict (`what` names the request in its message).
    pub fn claim(&self, caller: &str, key: String, what: &str) -> Result<Claim<'_>> {
        let entry = (caller.to_string(), key);
        if !self.lock().insert(entry.clone()) {
            return Err(Error::Busy(format!(
                "{what} is still being processed; retry in a second"
            )));
        }
        Ok(Claim {
            in_flight: self,
            entry,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<(String, String)>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A key in flight; released when dropped, also by a panic.
pub(super) struct Claim<'a> {
    in_flight: &'a InFlight,
    entry: (String, String),
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        self.in_flight.lock().remove(&self.entry);
    }
}

/// An `Idempotency-Key` must be 1 to 200 bytes.
pub(super) fn check_key(key: &str) -> Result<()> {
    if key.is_empty() || key.len() > MAX_KEY_BYTES || key.chars().any(char::is_control) {
        return Err(Error::Invalid(format!(
            "Idempotency-Key must be 1 to {MAX_KEY_BYTES} visible characters"
        )));
    }
    Ok(())
}

/// SHA-256 of the request as parsed (so that key order and whitespace do not matter).
pub(super) fn request_hash(intake: &Intake) -> String {
    let canonical = serde_json::to_string(intake).unwrap_or_default();
    Sha256::digest(canonical.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The first answer under `caller`'s `key`, if there is one and it was for the same request.
pub(super) fn replay(
    store: &dyn CaseStore,
    caller: &str,
    key: &str,
    request_hash: &str,
) -> Result<Option<Vec<u8>>> {
    match store.idempotency(caller, key)? {
        None => Ok(None),
        Some(stored) if stored.request_hash == request_hash => Ok(Some(stored.answer)),
        Some(stored) => Err(Error::IdempotencyMismatch(format!(
            "Idempotency-Key {:?} was used for a different request (case {}); use a new key for a new complaint",
            crate::error::cut(key),
            stored.case_id
        ))),
    }
}
