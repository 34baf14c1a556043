//! Reading the near-duplicate fingerprints the band view is built from.

use rusqlite::{Connection, OptionalExtension, params};

use super::rows::{fingerprint_row, store_err};
use crate::error::Result;
use crate::store::FingerprintRow;

/// The fingerprints of the cases after `after_seq`, in creation order, at most `limit`.
pub(super) fn after(c: &Connection, after_seq: u64, limit: usize) -> Result<Vec<FingerprintRow>> {
    c.prepare_cached(
        "SELECT seq, id, received_at, fingerprint, duplicate_of FROM fingerprints
         WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    )
    .and_then(|mut st| {
        st.query_map(params![after_seq as i64, limit as i64], fingerprint_row)?
            .collect()
    })
    .map_err(store_err)
}

/// Hands `take` the fingerprint of each of `seqs` that exists, in order, from one snapshot,
/// until it answers false.
pub(super) fn each(
    c: &Connection,
    seqs: &[u64],
    mut take: impl FnMut(FingerprintRow) -> bool,
) -> Result<()> {
    let _snapshot = c.unchecked_transaction().map_err(store_err)?;
    let mut st = c
        .prepare_cached(
            "SELECT seq, id, received_at, fingerprint, duplicate_of FROM fingerprints
             WHERE seq = ?1",
        )
        .map_err(store_err)?;
    for &seq in seqs {
        let row = st
            .query_row([seq as i64], fingerprint_row)
            .optional()
            .map_err(store_err)?;
        if let Some(row) = row
            && !take(row)
        {
            break;
        }
    }
    Ok(())
}
