//! Reading and writing case rows, audit events and fingerprints: the SQL both the writer and the
//! readers share.

use std::sync::Arc;

use jiff::Timestamp;
use rusqlite::{Connection, ErrorCode, OptionalExtension, params};
use serde_json::{Map, Value};

use crate::domain::{AuditEvent, Case, CaseFacts, CaseId, Neighbour, TriageRecord};
use crate::error::{Error, Result};
use crate::store::{CaseRef, FingerprintRow};

use super::packed::{Column, pack, unpack};

/// The triage column of a case stored without a triage record.
const NO_TRIAGE: &str = "null";

/// A case with the triage recorded at intake.
pub(super) fn load(conn: &Connection, id: &CaseId) -> Result<Option<Case>> {
    let row: Option<(String, String)> = conn
        .prepare_cached("SELECT doc, triage FROM cases WHERE id = ?1")
        .and_then(|mut st| {
            st.query_row([id.as_str()], |r| Ok((text(r, 0)?, text(r, 1)?)))
                .optional()
        })
        .map_err(store_err)?;
    row.map(|(doc, triage)| {
        let mut case = from_json(&doc)?;
        if triage != NO_TRIAGE {
            case.triage = Some(
                TriageRecord::from_json(triage)
                    .map_err(|e| Error::Store(format!("case {id}: its triage record: {e}")))?,
            );
        }
        Ok(case)
    })
    .transpose()
}

/// A case without the triage recorded at intake (lists, search hits, the index: the triage
/// record is most of a case's bytes and none of them need it).
pub(super) fn load_light(conn: &Connection, id: &CaseId) -> Result<Option<Case>> {
    load_doc(conn, id)
}

/// An earlier case as intake compares with it: the same document, its other fields skipped.
/// Read by its row when the caller gave one and the row holds that case, else by its number.
pub(super) fn load_neighbour(conn: &Connection, wanted: &CaseRef) -> Result<Option<Neighbour>> {
    let Some(seq) = wanted.seq else {
        return load_doc(conn, &wanted.id);
    };
    let row: Option<(String, String)> = conn
        .prepare_cached("SELECT id, doc FROM cases WHERE seq = ?1")
        .and_then(|mut st| {
            st.query_row([seq as i64], |r| Ok((r.get(0)?, text(r, 1)?)))
                .optional()
        })
        .map_err(store_err)?;
    match row {
        Some((id, doc)) if id == wanted.id.as_str() => parse_doc(&doc).map(Some),
        _ => {
            // Only an index that no longer matches its store gives a wrong row: each such read
            // costs two lookups instead of one.
            tracing::debug!(case = %wanted.id, seq, "an index hit's row holds another case; read by number");
            load_doc(conn, &wanted.id)
        }
    }
}

/// A case's document (without its triage record), read as `T`.
fn load_doc<T: serde::de::DeserializeOwned>(conn: &Connection, id: &CaseId) -> Result<Option<T>> {
    let doc: Option<String> = conn
        .prepare_cached("SELECT doc FROM cases WHERE id = ?1")
        .and_then(|mut st| st.query_row([id.as_str()], |r| text(r, 0)).optional())
        .map_err(store_err)?;
    doc.map(|d| parse_doc(&d)).transpose()
}

/// The rows `wanted` at positions `missing` (case numbers, or numbers and rows), each read by
/// `load`, as `(position, row)` for those found. One read transaction for all: one snapshot, and one check of the write-ahead
/// log instead of one per case (each check that finds a commit since the last drops the
/// connection's page cache and memory map).
pub(super) fn read_each<K, V>(
    conn: &Connection,
    wanted: &[K],
    missing: &[usize],
    load: impl Fn(&Connection, &K) -> Result<Option<V>>,
) -> Result<Vec<(usize, Arc<V>)>> {
    let _snapshot = conn.unchecked_transaction().map_err(store_err)?;
    let mut read = Vec::new();
    for &i in missing {
        if let Some(row) = load(conn, &wanted[i])? {
            read.push((i, Arc::new(row)));
        }
    }
    Ok(read)
}

/// Writes a new case's row, with what it keeps apart: the text as received and the contact
/// given at intake.
pub(super) fn insert_case(
    conn: &Connection,
    case: &mut Case,
    original_text: &str,
    contact: Option<&str>,
) -> Result<()> {
    let doc = to_json(case);
    let triage = case
        .triage
        .as_ref()
        .map_or(NO_TRIAGE, TriageRecord::as_json);
    conn.prepare_cached(
        "INSERT INTO cases (seq, id, version, received_at, contact_hash, original_text, contact,
             doc, triage)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )
    .and_then(|mut st| {
        st.execute(params![
            case.seq as i64,
            case.id.as_str(),
            case.version as i64,
            case.received_at.as_millisecond(),
            case.contact_hash,
            pack(Column::OriginalText, original_text),
            contact,
            pack(Column::Case, &doc),
            pack(Column::Triage, triage),
        ])
    })
    .map_err(store_err)?;
    write_facts(conn, case)
}

/// Writes (or rewrites) a case's handling facts.
fn write_facts(conn: &Connection, case: &Case) -> Result<()> {
    let facts = serde_json::to_string(&CaseFacts::of(case)).expect("facts always serialise");
    conn.prepare_cached("INSERT OR REPLACE INTO case_facts (seq, facts) VALUES (?1, ?2)")
        .and_then(|mut st| st.execute(params![case.seq as i64, pack(Column::Facts, &facts)]))
        .map_err(store_err)?;
    Ok(())
}

/// The migration hook that fills `case_facts` for the cases stored before it existed.
pub(super) fn fill_facts(tx: &rusqlite::Transaction<'_>) -> rusqlite_migration::HookResult {
    let mut st = tx.prepare("SELECT doc FROM cases ORDER BY seq")?;
    let mut rows = st.query([])?;
    while let Some(row) = rows.next()? {
        let doc = text(row, 0)?;
        let case = from_json(&doc).map_err(|e| {
            rusqlite_migration::HookError::Hook(format!("a stored case does not read: {e}"))
        })?;
        write_facts(tx, &case).map_err(|e| rusqlite_migration::HookError::Hook(e.to_string()))?;
    }
    Ok(())
}

/// Rewrites a case's document and the columns looked up from it (its triage record, original
/// text and fingerprint stay as they were written at insert).
pub(super) fn save(conn: &Connection, case: &mut Case) -> Result<()> {
    let doc = to_json(case);
    conn.prepare_cached(
        "UPDATE cases SET version = ?1, doc = ?2, received_at = ?3, contact_hash = ?4 WHERE id = ?5",
    )
    .and_then(|mut st| {
        st.execute(params![
            case.version as i64,
            pack(Column::Case, &doc),
            case.received_at.as_millisecond(),
            case.contact_hash,
            case.id.as_str()
        ])
    })
    .map_err(store_err)?;
    write_facts(conn, case)
}

/// Writes a new case's fingerprint.
pub(super) fn insert_fingerprint(conn: &Connection, case: &Case, fingerprint: &[u8]) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO fingerprints (seq, id, received_at, fingerprint, duplicate_of)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .and_then(|mut st| {
        st.execute(params![
            case.seq as i64,
            case.id.as_str(),
            case.received_at.as_millisecond(),
            fingerprint,
            case.links.duplicate_of.as_ref().map_or("", |d| d.as_str())
        ])
    })
    .map_err(store_err)?;
    Ok(())
}

/// A fingerprint row as selected by `seq, id, received_at, fingerprint, duplicate_of`.
pub(super) fn fingerprint_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<FingerprintRow> {
    Ok(FingerprintRow {
        seq: r.get::<_, i64>(0)? as u64,
        id: CaseId(r.get(1)?),
        received_at: millis(r.get(2)?),
        fingerprint: r.get(3)?,
        duplicate_of: r
            .get::<_, Option<String>>(4)?
            .map(|d| (!d.is_empty()).then_some(CaseId(d))),
    })
}

/// What an audit event records.
pub(super) struct Event<'a> {
    pub at: Timestamp,
    pub actor: &'a str,
    pub action: &'a str,
    pub before: &'a Value,
    pub after: &'a Value,
    pub note: Option<&'a str>,
}

/// Records an audit event. Its time is never before the last event's (a clock set back does not
/// reorder the trail), so that a time window is a range of `seq` (see `audit.rs`).
pub(super) fn audit(conn: &Connection, id: &CaseId, e: &Event<'_>) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO audit (case_id, at, actor, action, before, after, note)
         VALUES (?1, MAX(?2, COALESCE((SELECT at FROM audit ORDER BY seq DESC LIMIT 1), ?2)),
                 ?3, ?4, ?5, ?6, ?7)",
    )
    .and_then(|mut st| {
        st.execute(params![
            id.as_str(),
            e.at.as_millisecond(),
            e.actor,
            e.action,
            e.before.to_string(),
            e.after.to_string(),
            e.note,
        ])
    })
    .map_err(store_err)?;
    Ok(())
}

/// The columns [`audit_row`] reads, in its order.
pub(super) const AUDIT_COLUMNS: &str = "case_id, at, actor, action, before, after, note";
/// How many columns [`AUDIT_COLUMNS`] names (the index of a column selected after them).
pub(super) const AUDIT_COLUMN_COUNT: usize = 7;

/// An audit event as selected by [`AUDIT_COLUMNS`].
pub(super) fn audit_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<AuditEvent> {
    let parse = |s: String| serde_json::from_str(&s).unwrap_or(Value::Null);
    Ok(AuditEvent {
        case_id: CaseId(row.get(0)?),
        at: millis(row.get(1)?),
        actor: row.get(2)?,
        action: row.get(3)?,
        before: parse(row.get(4)?),
        after: parse(row.get(5)?),
        note: row.get(6)?,
    })
}

/// What a `create` event records: the decisions made at intake.
pub(super) fn created_summary(case: &Case) -> Value {
    serde_json::json!({
        "status": case.status,
        "category": case.category,
        "grade": case.grade,
        "reasons": case.reasons,
        "department": case.department,
        "links": case.links,
    })
}

/// The top-level fields of two versions of a case that differ, as two objects (bookkeeping
/// fields left out).
pub(super) fn changed_fields(before: &Case, after: &Case) -> Result<(Value, Value)> {
    let value = |c: &Case| serde_json::to_value(c).map_err(|e| Error::Store(e.to_string()));
    let (Value::Object(b), Value::Object(mut a)) = (value(before)?, value(after)?) else {
        return Ok((Value::Null, Value::Null));
    };
    let mut old = Map::new();
    let mut new = Map::new();
    let keys: std::collections::BTreeSet<String> = b.keys().chain(a.keys()).cloned().collect();
    for key in keys {
        if matches!(key.as_str(), "version" | "updated_at") {
            continue;
        }
        let bv = b.get(&key).cloned().unwrap_or(Value::Null);
        let av = a.remove(&key).unwrap_or(Value::Null);
        if bv != av {
            old.insert(key.clone(), bv);
            new.insert(key, av);
        }
    }
    Ok((Value::Object(old), Value::Object(new)))
}

/// The case's document, without its triage record (kept in a column of its own). The record
/// is set aside while serialising, not copied.
pub(super) fn to_json(case: &mut Case) -> String {
    let triage = case.triage.take();
    let doc = serde_json::to_string(case).expect("a case always serialises");
    case.triage = triage;
    doc
}

/// A column that may be packed (see `packed.rs`), as its text.
pub(super) fn text(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<String> {
    unpack(row.get_ref(i)?).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Blob, Box::new(e))
    })
}

pub(super) fn from_json(doc: &str) -> Result<Case> {
    parse_doc(doc)
}

/// A stored case's document as `T` (a whole case, or the fields a [`Neighbour`] reads).
fn parse_doc<T: serde::de::DeserializeOwned>(doc: &str) -> Result<T> {
    serde_json::from_str(doc)
        .map_err(|e| Error::Store(format!("a stored case does not parse: {e}")))
}

pub(super) fn millis(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// The store's error for a SQLite error: a full disk is [`Error::StorageFull`], a disk or file
/// system that refuses is [`Error::StorageUnavailable`] (the caller can do nothing but wait),
/// anything else [`Error::Store`].
pub(super) fn store_err(e: rusqlite::Error) -> Error {
    match e.sqlite_error_code() {
        Some(ErrorCode::DiskFull) => Error::StorageFull(e.to_string()),
        // The disk or the file system refuses, or another connection holds the database: the
        // write may succeed later, nothing is wrong with the request.
        Some(
            ErrorCode::SystemIoFailure
            | ErrorCode::ReadOnly
            | ErrorCode::CannotOpen
            | ErrorCode::DatabaseBusy
            | ErrorCode::DatabaseLocked,
        ) => Error::StorageUnavailable(e.to_string()),
        _ => Error::Store(e.to_string()),
    }
}
