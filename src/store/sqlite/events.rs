//! The case-event queue and the feeds it is filled from: the audit trail and the alert history
//! read by `seq`, a case read as of one of its audit events, and the queued events with their
//! deliveries. The dispatcher's cursor lives in `meta` and moves in the same transaction as the
//! events it produced.

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;

use super::alerts::{fail_unconfigured, finish};
use super::rows::{
    AUDIT_COLUMN_COUNT, AUDIT_COLUMNS, audit_row, from_json, millis, store_err, text,
};
use crate::domain::{Case, CaseEvent, CaseId};
use crate::error::{Error, Result};
use crate::store::{AuditEntry, DeliveryOutcome, DueEvent, EventCursor, NewEvent};

/// The delivery table, shaped as the alerts' (see `alerts::finish`).
const DELIVERIES: &str = "event_deliveries";
/// The cursor's rows in `meta`.
const AUDIT_KEY: &str = "events:audit_seq";
const ALERT_KEY: &str = "events:alert_seq";

/// A write to the event queue, run by the writer in its transaction.
pub(super) enum EventWrite {
    /// The cursor, recorded at the feeds' ends if there is none yet.
    Cursor,
    /// Queue events and move the cursor.
    Queue(Vec<NewEvent>, EventCursor),
    /// How one delivery attempt ended.
    Finish(String, DeliveryOutcome),
    /// Fail the pending deliveries to webhooks not in the list.
    FailUnconfigured(Vec<String>),
}

/// What an event write did.
pub(super) struct EventWritten {
    /// The cursor (for [`EventWrite::Cursor`]).
    pub cursor: EventCursor,
    /// Deliveries changed (for the others).
    pub changed: usize,
}

pub(super) fn write(conn: &Connection, w: EventWrite) -> Result<EventWritten> {
    let done = |changed| EventWritten {
        cursor: EventCursor::default(),
        changed,
    };
    match w {
        EventWrite::Cursor => Ok(EventWritten {
            cursor: cursor(conn)?,
            changed: 0,
        }),
        EventWrite::Queue(events, to) => queue(conn, events, to).map(done),
        EventWrite::Finish(id, outcome) => finish(conn, DELIVERIES, &id, &outcome).map(done),
        EventWrite::FailUnconfigured(configured) => {
            fail_unconfigured(conn, DELIVERIES, &configured).map(done)
        }
    }
}

fn meta_seq(conn: &Connection, key: &str) -> Result<Option<u64>> {
    let v: Option<String> = conn
        .prepare_cached("SELECT value FROM meta WHERE key = ?1")
        .and_then(|mut st| st.query_row([key], |r| r.get(0)).optional())
        .map_err(store_err)?;
    v.map(|v| {
        v.parse()
            .map_err(|_| Error::Store(format!("meta {key} is not a number: {v:?}")))
    })
    .transpose()
}

fn set_meta_seq(conn: &Connection, key: &str, seq: u64) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    )
    .and_then(|mut st| st.execute(params![key, seq.to_string()]))
    .map_err(store_err)?;
    Ok(())
}

/// The stored cursor, or the feeds' ends recorded as the cursor.
fn cursor(conn: &Connection) -> Result<EventCursor> {
    if let (Some(audit_seq), Some(alert_seq)) =
        (meta_seq(conn, AUDIT_KEY)?, meta_seq(conn, ALERT_KEY)?)
    {
        return Ok(EventCursor {
            audit_seq,
            alert_seq,
        });
    }
    let max = |table: &str| -> Result<u64> {
        conn.query_row(
            &format!("SELECT COALESCE(MAX(seq), 0) FROM {table}"),
            [],
            |r| r.get::<_, i64>(0),
        )
        .map(|v| v as u64)
        .map_err(store_err)
    };
    let ends = EventCursor {
        audit_seq: max("audit")?,
        alert_seq: max("alerts")?,
    };
    set_meta_seq(conn, AUDIT_KEY, ends.audit_seq)?;
    set_meta_seq(conn, ALERT_KEY, ends.alert_seq)?;
    Ok(ends)
}

fn queue(conn: &Connection, events: Vec<NewEvent>, to: EventCursor) -> Result<usize> {
    let now = Timestamp::now().as_millisecond();
    let mut queued = 0;
    for NewEvent { event, webhooks } in events {
        let doc = serde_json::to_string(&event)
            .map_err(|e| Error::Store(format!("event does not serialise: {e}")))?;
        let seq: Option<i64> = conn
            .prepare_cached(
                "INSERT INTO events (id, case_id, type, at, doc) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT(id) DO NOTHING RETURNING seq",
            )
            .and_then(|mut st| {
                st.query_row(
                    params![
                        event.id,
                        event.case_id.as_str(),
                        event.kind.code(),
                        event.at.as_millisecond(),
                        doc
                    ],
                    |r| r.get(0),
                )
                .optional()
            })
            .map_err(store_err)?;
        let Some(seq) = seq else { continue };
        for (n, webhook) in webhooks.iter().enumerate() {
            conn.prepare_cached(
                "INSERT INTO event_deliveries (id, event_seq, case_id, webhook, status, attempts, next_at)
                 VALUES (?1, ?2, ?3, ?4, 'pending', 0, ?5)",
            )
            .and_then(|mut st| {
                st.execute(params![
                    format!("{}.{}", event.id, n + 1),
                    seq,
                    event.case_id.as_str(),
                    webhook,
                    now
                ])
            })
            .map_err(store_err)?;
        }
        queued += 1;
    }
    // The cursor only moves forward: a late writer with an old cursor does not rewind it.
    let at = cursor(conn)?;
    set_meta_seq(conn, AUDIT_KEY, at.audit_seq.max(to.audit_seq))?;
    set_meta_seq(conn, ALERT_KEY, at.alert_seq.max(to.alert_seq))?;
    Ok(queued)
}

/// Audit events with `seq` above `after`, in order, at most `limit`.
pub(super) fn audit_since(conn: &Connection, after: u64, limit: usize) -> Result<Vec<AuditEntry>> {
    conn.prepare_cached(&format!(
        "SELECT {AUDIT_COLUMNS}, seq FROM audit WHERE seq > ?1 ORDER BY seq LIMIT ?2"
    ))
    .and_then(|mut st| {
        st.query_map(params![after as i64, limit as i64], |r| {
            Ok(AuditEntry {
                event: audit_row(r)?,
                seq: r.get::<_, i64>(AUDIT_COLUMN_COUNT)? as u64,
            })
        })?
        .collect()
    })
    .map_err(store_err)
}

/// The case as it was right after its audit event `seq`: the current document with the
/// `before` values of its later events put back, newest first. Run in one read transaction.
pub(super) fn case_as_of(conn: &Connection, id: &CaseId, seq: u64) -> Result<Option<Case>> {
    let _snapshot = conn.unchecked_transaction().map_err(store_err)?;
    let doc: Option<String> = conn
        .prepare_cached("SELECT doc FROM cases WHERE id = ?1")
        .and_then(|mut st| st.query_row([id.as_str()], |r| text(r, 0)).optional())
        .map_err(store_err)?;
    let Some(doc) = doc else { return Ok(None) };
    let later: Vec<String> = conn
        .prepare_cached(
            "SELECT before FROM audit WHERE case_id = ?1 AND seq > ?2 ORDER BY seq DESC",
        )
        .and_then(|mut st| {
            st.query_map(params![id.as_str(), seq as i64], |r| r.get(0))?
                .collect()
        })
        .map_err(store_err)?;
    if later.is_empty() {
        return from_json(&doc).map(Some);
    }
    let mut case: Value = serde_json::from_str(&doc)
        .map_err(|e| Error::Store(format!("a stored case does not parse: {e}")))?;
    let Value::Object(fields) = &mut case else {
        return Err(Error::Store(format!("case {id} is not a JSON object")));
    };
    for before in later {
        let Ok(Value::Object(before)) = serde_json::from_str::<Value>(&before) else {
            continue;
        };
        for (key, value) in before {
            // A field absent before (an empty list, no value) was written as null: absent
            // again, its default comes back.
            if value.is_null() {
                fields.remove(&key);
            } else {
                fields.insert(key, value);
            }
        }
    }
    serde_json::from_value(case)
        .map(Some)
        .map_err(|e| Error::Store(format!("case {id} as of audit event {seq}: {e}")))
}

/// Pending deliveries that are the first of their case to their webhook.
const HEAD_OF_LINE: &str = "d.status = 'pending' AND NOT EXISTS (
        SELECT 1 FROM event_deliveries p
        WHERE p.status = 'pending' AND p.webhook = d.webhook AND p.case_id = d.case_id
          AND p.event_seq < d.event_seq)";

/// Up to `limit` deliveries due at `now`, each the first pending of its case to its webhook.
pub(super) fn due(conn: &Connection, now: Timestamp, limit: usize) -> Result<Vec<DueEvent>> {
    let rows: Vec<(String, String, u32, String)> = conn
        .prepare_cached(&format!(
            "SELECT d.id, d.webhook, d.attempts, e.doc FROM event_deliveries d
             JOIN events e ON e.seq = d.event_seq
             WHERE {HEAD_OF_LINE} AND d.next_at <= ?1
             ORDER BY d.next_at, d.event_seq LIMIT ?2"
        ))
        .and_then(|mut st| {
            st.query_map(params![now.as_millisecond(), limit as i64], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?
            .collect()
        })
        .map_err(store_err)?;
    rows.into_iter()
        .map(|(id, webhook, attempts, doc)| {
            let event: CaseEvent = serde_json::from_str(&doc)
                .map_err(|e| Error::Store(format!("a queued event does not parse: {e}")))?;
            Ok(DueEvent {
                id,
                webhook,
                attempts,
                event,
            })
        })
        .collect()
}

/// When the earliest delivery [`due`] would hand out is due: one waiting behind an earlier
/// event of its case does not count, or the worker would wake for it in a loop.
pub(super) fn next_due_at(conn: &Connection) -> Result<Option<Timestamp>> {
    let ms: Option<i64> = conn
        .prepare_cached(&format!(
            "SELECT MIN(d.next_at) FROM event_deliveries d WHERE {HEAD_OF_LINE}"
        ))
        .and_then(|mut st| st.query_row([], |r| r.get(0)))
        .map_err(store_err)?;
    Ok(ms.map(millis))
}

/// Deliveries still pending.
pub(super) fn pending(conn: &Connection) -> Result<usize> {
    let n: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM event_deliveries WHERE status = 'pending'",
            [],
            |r| r.get(0),
        )
        .map_err(store_err)?;
    Ok(usize::try_from(n).unwrap_or(0))
}
