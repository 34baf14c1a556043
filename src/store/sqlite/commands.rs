//! The writes the writer runs inside its transaction, each in a savepoint: inserting cases
//! (with their fingerprints, audit events, idempotent answers and linked updates), updating one,
//! recording a read of what a case keeps apart, recording an import checkpoint.

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::rows::{
    Event, audit, changed_fields, created_summary, insert_case, insert_fingerprint, load_light,
    save, store_err, text,
};
use crate::domain::{Case, CaseId, beijing_day_code};
use crate::error::{Error, Result};
use crate::store::{Access, Change, ImportCheckpoint, KeptApart, NewCase, Update, Updated};

/// Runs `f` in a savepoint: its writes are kept only if it succeeds, so one bad command does
/// not undo the rest of its group. (Cases it rewrote stay listed for the cache: forgetting one
/// more cached case is harmless.)
pub(super) fn in_savepoint<T>(tx: &Transaction<'_>, f: impl FnOnce() -> Result<T>) -> Result<T> {
    // Cached statements: `execute_batch` would parse the SQL again for every command.
    let run = |sql: &str| tx.prepare_cached(sql).and_then(|mut st| st.execute([]));
    run("SAVEPOINT cmd").map_err(store_err)?;
    match f() {
        Ok(v) => {
            run("RELEASE cmd").map_err(store_err)?;
            Ok(v)
        }
        Err(e) => {
            tx.execute_batch("ROLLBACK TO cmd; RELEASE cmd")
                .map_err(store_err)?;
            Err(e)
        }
    }
}

/// Stores each item in its own savepoint.
pub(super) fn insert_all(
    tx: &Transaction<'_>,
    next_seq: &mut u64,
    next_version: &mut u64,
    rewritten: &mut Vec<CaseId>,
    items: Vec<NewCase>,
) -> Result<Vec<Result<Case>>> {
    let mut ids: Vec<Option<CaseId>> = Vec::with_capacity(items.len());
    let mut results = Vec::with_capacity(items.len());
    for item in items {
        let r = in_savepoint(tx, || {
            insert(tx, next_seq, next_version, rewritten, item, &ids)
        });
        ids.push(r.as_ref().ok().map(|c| c.id.clone()));
        results.push(r);
    }
    Ok(results)
}

fn insert(
    conn: &Connection,
    next_seq: &mut u64,
    next_version: &mut u64,
    rewritten: &mut Vec<CaseId>,
    new: NewCase,
    earlier: &[Option<CaseId>],
) -> Result<Case> {
    let NewCase {
        mut case,
        original_text,
        contact,
        fingerprint,
        actor,
        idempotency,
        complete,
        also,
    } = new;
    if let Some(idem) = &idempotency {
        let taken: Option<String> = conn
            .prepare_cached(
                "SELECT case_id FROM idempotency_by_caller WHERE caller = ?1 AND key = ?2",
            )
            .and_then(|mut st| {
                st.query_row([&idem.caller, &idem.key], |r| r.get(0))
                    .optional()
            })
            .map_err(store_err)?;
        if let Some(id) = taken {
            return Err(Error::Conflict(format!(
                "Idempotency-Key already used for case {id}"
            )));
        }
    }
    let now = Timestamp::now();
    let day = beijing_day_code(case.received_at);
    let n: i64 = conn
        .prepare_cached(
            "INSERT INTO day_counters (day, n) VALUES (?1, 1)
             ON CONFLICT(day) DO UPDATE SET n = n + 1 RETURNING n",
        )
        .and_then(|mut st| st.query_row([&day], |r| r.get(0)))
        .map_err(store_err)?;
    case.id = CaseId::new(&day, n as u64);
    case.seq = take(next_seq);
    case.version = take(next_version);
    case.created_at = now;
    case.updated_at = now;
    if let Some(complete) = complete {
        let (id, seq, version) = (case.id.clone(), case.seq, case.version);
        guarded("a completion", || complete(&mut case, earlier))?;
        // The store's numbers are the store's.
        (
            case.id,
            case.seq,
            case.version,
            case.created_at,
            case.updated_at,
        ) = (id, seq, version, now, now);
    }
    insert_case(conn, &mut case, &original_text, contact.as_deref())?;
    insert_fingerprint(conn, &case, &fingerprint)?;
    audit(
        conn,
        &case.id,
        &Event {
            at: now,
            actor: &actor,
            action: "create",
            before: &serde_json::Value::Null,
            after: &created_summary(&case),
            note: None,
        },
    )?;
    if let Some(idem) = idempotency {
        let answer = guarded("an idempotent answer", || (idem.answer)(&case))?;
        conn.prepare_cached(
            "INSERT INTO idempotency_by_caller (caller, key, request_hash, case_id, answer, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .and_then(|mut st| {
            st.execute(params![
                idem.caller,
                idem.key,
                idem.request_hash,
                case.id.as_str(),
                answer,
                now.as_millisecond()
            ])
        })
        .map_err(store_err)?;
    }
    for update in also {
        apply(conn, next_version, rewritten, update, now)?;
    }
    Ok(case)
}

/// Applies one update; writes and audits it only if it changes a field.
pub(super) fn apply(
    conn: &Connection,
    next_version: &mut u64,
    rewritten: &mut Vec<CaseId>,
    update: Update,
    now: Timestamp,
) -> Result<Updated> {
    let Update { id, actor, change } = update;
    let before = load_light(conn, &id)?.ok_or_else(|| Error::NotFound(format!("case {id}")))?;
    let mut case = before.clone();
    let action = match change {
        Change::Apply(f) => {
            let action = guarded("an update", || f(&mut case))??;
            // What the store numbers and dates stays as it was.
            (
                case.id,
                case.seq,
                case.version,
                case.created_at,
                case.updated_at,
            ) = (
                before.id.clone(),
                before.seq,
                before.version,
                before.created_at,
                before.updated_at,
            );
            action
        }
        Change::Replace {
            expected_version,
            case: new,
            action,
        } => {
            if before.version != expected_version {
                return Err(Error::Conflict(format!(
                    "case {id} changed since it was read (version {} now, {expected_version} read); read it again",
                    before.version
                )));
            }
            case = Case {
                id: before.id.clone(),
                seq: before.seq,
                version: before.version,
                created_at: before.created_at,
                updated_at: before.updated_at,
                triage: None,
                ..*new
            };
            Some(action)
        }
    };
    let Some(action) = action else {
        return Ok(Updated {
            case: before,
            changed: false,
        });
    };
    let (old, new) = changed_fields(&before, &case)?;
    if new.as_object().is_none_or(serde_json::Map::is_empty) {
        return Ok(Updated {
            case: before,
            changed: false,
        });
    }
    case.version = take(next_version);
    case.updated_at = now;
    save(conn, &mut case)?;
    rewritten.push(case.id.clone());
    audit(
        conn,
        &id,
        &Event {
            at: now,
            actor: &actor,
            action,
            before: &old,
            after: &new,
            note: None,
        },
    )?;
    Ok(Updated {
        case,
        changed: true,
    })
}

/// Records a read of what a case keeps apart (after `access.check` passes on the case as it
/// is) and reads it; the caller answers only once this has committed.
pub(super) fn reveal(conn: &Connection, access: Access, now: Timestamp) -> Result<KeptApart> {
    let Access {
        id,
        actor,
        action,
        note,
        check,
    } = access;
    let case = load_light(conn, &id)?.ok_or_else(|| Error::NotFound(format!("case {id}")))?;
    guarded("an access check", || check(&case))??;
    audit(
        conn,
        &id,
        &Event {
            at: now,
            actor: &actor,
            action,
            before: &serde_json::Value::Null,
            after: &serde_json::json!({}),
            note: Some(&note),
        },
    )?;
    let (original_text, contact) = conn
        .prepare_cached("SELECT original_text, contact FROM cases WHERE id = ?1")
        .and_then(|mut st| st.query_row([id.as_str()], |r| Ok((text(r, 0)?, r.get(1)?))))
        .map_err(store_err)?;
    Ok(KeptApart {
        original_text,
        contact,
    })
}

pub(super) fn save_checkpoint(conn: &Connection, c: &ImportCheckpoint) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    )
    .and_then(|mut st| {
        st.execute(params![
            format!("import:{}", c.file_key),
            c.lines_done.to_string()
        ])
    })
    .map_err(store_err)?;
    Ok(())
}

fn take(counter: &mut u64) -> u64 {
    let v = *counter;
    *counter += 1;
    v
}

/// Runs a caller's closure on the writer thread; a panic in it fails that command, not the
/// writer (which every later write needs).
fn guarded<T>(what: &str, f: impl FnOnce() -> T) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|_| {
        Error::Store(format!(
            "{what} panicked in the store writer; nothing of it was written"
        ))
    })
}
