//! The alert history and delivery queue, in the store's own database.
//!
//! An alert and its deliveries are written in one transaction by the store's writer, so a raised
//! alert is never without its deliveries and the queue survives a restart: whatever is
//! `pending` is picked up again by the next delivery worker.

use std::path::Path;

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};

use super::rows::{millis, store_err};
use crate::domain::{Alert, AlertRecord, DeliveryRecord, DeliveryStatus};
use crate::error::{Error, Result};
use crate::store::{AlertEntry, DeliveryOutcome, DueDelivery, HISTORY_MAX, NewAlert};

/// A write to the alert tables, run by the writer in its transaction.
pub(super) enum AlertWrite {
    /// Record alerts with a delivery per webhook named with each.
    Insert(Vec<NewAlert>),
    /// How one delivery attempt ended.
    Finish(String, DeliveryOutcome),
    /// Fail the pending deliveries to webhooks not in the list.
    FailUnconfigured(Vec<String>),
}

/// What an alert write did.
pub(super) struct AlertWritten {
    /// The alerts recorded (for [`AlertWrite::Insert`]).
    pub alerts: Vec<Alert>,
    /// Deliveries that changed (failed or finished; for the other writes).
    pub changed: usize,
    /// How the number of pending deliveries moved.
    pub pending_delta: isize,
}

pub(super) fn write(conn: &Connection, w: AlertWrite) -> Result<AlertWritten> {
    match w {
        AlertWrite::Insert(alerts) => {
            let (stored, deliveries) = insert(conn, alerts)?;
            Ok(AlertWritten {
                pending_delta: deliveries as isize,
                alerts: stored,
                changed: 0,
            })
        }
        AlertWrite::Finish(id, outcome) => {
            let changed = finish(conn, "deliveries", &id, &outcome)?;
            let done = !matches!(outcome, DeliveryOutcome::Retry { .. });
            Ok(AlertWritten {
                alerts: Vec::new(),
                changed,
                pending_delta: if done { -(changed as isize) } else { 0 },
            })
        }
        AlertWrite::FailUnconfigured(configured) => {
            let changed = fail_unconfigured(conn, "deliveries", &configured)?;
            Ok(AlertWritten {
                alerts: Vec::new(),
                changed,
                pending_delta: -(changed as isize),
            })
        }
    }
}

/// Records the alerts not already recorded; returns them and how many deliveries were queued.
fn insert(conn: &Connection, alerts: Vec<NewAlert>) -> Result<(Vec<Alert>, usize)> {
    let now = Timestamp::now().as_millisecond();
    let mut stored = Vec::with_capacity(alerts.len());
    let mut deliveries = 0;
    for NewAlert {
        mut alert,
        webhooks,
    } in alerts
    {
        // Cached statements: under a burst of cases the follower raises many alerts.
        let last: Option<String> = conn
            .prepare_cached(
                "SELECT fingerprint FROM alerts WHERE key = ?1 ORDER BY seq DESC LIMIT 1",
            )
            .and_then(|mut st| st.query_row([&alert.key], |r| r.get(0)).optional())
            .map_err(store_err)?;
        if last.as_deref() == Some(alert.fingerprint.as_str()) {
            continue;
        }
        // Only the writer writes, so max(seq) + 1 is the row's seq: the id is unique in this
        // database, and the millisecond prefix tells databases apart.
        let seq: i64 = conn
            .prepare_cached("SELECT COALESCE(MAX(seq), 0) + 1 FROM alerts")
            .and_then(|mut st| st.query_row([], |r| r.get(0)))
            .map_err(store_err)?;
        alert.id = format!("AL{now}-{seq}");
        let doc = serde_json::to_string(&alert)
            .map_err(|e| Error::Store(format!("alert does not serialise: {e}")))?;
        conn.prepare_cached(
            "INSERT INTO alerts (seq, id, key, fingerprint, created_at, doc)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .and_then(|mut st| {
            st.execute(params![
                seq,
                alert.id,
                alert.key,
                alert.fingerprint,
                alert.created_at.as_millisecond(),
                doc
            ])
        })
        .map_err(store_err)?;
        for (n, webhook) in webhooks.iter().enumerate() {
            conn.prepare_cached(
                "INSERT INTO deliveries (id, alert_id, webhook, status, attempts, next_at)
                 VALUES (?1, ?2, ?3, 'pending', 0, ?4)",
            )
            .and_then(|mut st| {
                st.execute(params![
                    format!("{}.{}", alert.id, n + 1),
                    alert.id,
                    webhook,
                    now
                ])
            })
            .map_err(store_err)?;
        }
        deliveries += webhooks.len();
        stored.push(alert);
    }
    Ok((stored, deliveries))
}

/// Alerts with `seq` above `after`, in order, at most `limit`.
pub(super) fn since(conn: &Connection, after: u64, limit: usize) -> Result<Vec<AlertEntry>> {
    let rows: Vec<(i64, String)> = conn
        .prepare_cached("SELECT seq, doc FROM alerts WHERE seq > ?1 ORDER BY seq LIMIT ?2")
        .and_then(|mut st| {
            st.query_map(params![after as i64, limit as i64], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?
            .collect()
        })
        .map_err(store_err)?;
    rows.into_iter()
        .map(|(seq, doc)| {
            Ok(AlertEntry {
                seq: seq as u64,
                alert: parse_alert(&doc)?,
            })
        })
        .collect()
}

/// Records an attempt's outcome in `table` (`deliveries` or `event_deliveries`: the same
/// columns); a delivery no longer pending is left as it is.
pub(super) fn finish(
    conn: &Connection,
    table: &str,
    id: &str,
    outcome: &DeliveryOutcome,
) -> Result<usize> {
    let r = match outcome {
        DeliveryOutcome::Delivered { attempts, at } => conn
            .prepare_cached(&format!(
                "UPDATE {table} SET status = 'delivered', attempts = ?2, delivered_at = ?3,
                     last_error = NULL
                 WHERE id = ?1 AND status = 'pending'"
            ))
            .and_then(|mut st| st.execute(params![id, attempts, at.as_millisecond()])),
        DeliveryOutcome::Retry {
            attempts,
            next_at,
            error,
        } => conn
            .prepare_cached(&format!(
                "UPDATE {table} SET attempts = ?2, next_at = ?3, last_error = ?4
                 WHERE id = ?1 AND status = 'pending'"
            ))
            .and_then(|mut st| st.execute(params![id, attempts, next_at.as_millisecond(), error])),
        DeliveryOutcome::Failed { attempts, error } => conn
            .prepare_cached(&format!(
                "UPDATE {table} SET status = 'failed', attempts = ?2, last_error = ?3
                 WHERE id = ?1 AND status = 'pending'"
            ))
            .and_then(|mut st| st.execute(params![id, attempts, error])),
    };
    r.map_err(store_err)
}

/// Fails the pending deliveries of `table` to webhooks not in `configured`.
pub(super) fn fail_unconfigured(
    conn: &Connection,
    table: &str,
    configured: &[String],
) -> Result<usize> {
    let webhooks: Vec<String> = conn
        .prepare(&format!(
            "SELECT DISTINCT webhook FROM {table} WHERE status = 'pending'"
        ))
        .and_then(|mut st| st.query_map([], |r| r.get(0))?.collect())
        .map_err(store_err)?;
    let mut failed = 0;
    for webhook in webhooks.iter().filter(|w| !configured.contains(w)) {
        let error = format!("webhook {webhook:?} is no longer in the configuration; not delivered");
        failed += conn
            .execute(
                &format!(
                    "UPDATE {table} SET status = 'failed', last_error = ?2
                     WHERE webhook = ?1 AND status = 'pending'"
                ),
                params![webhook, error],
            )
            .map_err(store_err)?;
    }
    Ok(failed)
}

/// Pending deliveries.
pub(super) fn pending(conn: &Connection) -> Result<usize> {
    let n: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM deliveries WHERE status = 'pending'",
            [],
            |r| r.get(0),
        )
        .map_err(store_err)?;
    Ok(usize::try_from(n).unwrap_or(0))
}

/// Up to `limit` pending deliveries due at `now`, oldest due first.
pub(super) fn due(conn: &Connection, now: Timestamp, limit: usize) -> Result<Vec<DueDelivery>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT d.id, d.webhook, d.attempts, a.doc FROM deliveries d
             JOIN alerts a ON a.id = d.alert_id
             WHERE d.status = 'pending' AND d.next_at <= ?1
             ORDER BY d.next_at, d.id LIMIT ?2",
        )
        .map_err(store_err)?;
    let rows = stmt
        .query_map(params![now.as_millisecond(), limit as i64], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, u32>(2)?,
                r.get::<_, String>(3)?,
            ))
        })
        .map_err(store_err)?;
    rows.map(|row| {
        let (id, webhook, attempts, doc) = row.map_err(store_err)?;
        Ok(DueDelivery {
            id,
            webhook,
            attempts,
            alert: parse_alert(&doc)?,
        })
    })
    .collect()
}

/// When the earliest pending delivery is due.
pub(super) fn next_due_at(conn: &Connection) -> Result<Option<Timestamp>> {
    let ms: Option<i64> = conn
        .query_row(
            "SELECT MIN(next_at) FROM deliveries WHERE status = 'pending'",
            [],
            |r| r.get(0),
        )
        .map_err(store_err)?;
    Ok(ms.map(millis))
}

/// Alerts created at or after `since`, newest first, at most `limit` (capped at
/// [`HISTORY_MAX`]), each with its deliveries.
pub(super) fn history(
    conn: &Connection,
    since: Option<Timestamp>,
    limit: usize,
) -> Result<Vec<AlertRecord>> {
    let limit = limit.min(HISTORY_MAX) as i64;
    let since = since.map_or(i64::MIN, |t| t.as_millisecond());
    let docs: Vec<String> = conn
        .prepare_cached(
            "SELECT doc FROM alerts WHERE created_at >= ?1
             ORDER BY created_at DESC, seq DESC LIMIT ?2",
        )
        .and_then(|mut st| st.query_map(params![since, limit], |r| r.get(0))?.collect())
        .map_err(store_err)?;
    let mut deliveries = conn
        .prepare_cached(
            "SELECT id, webhook, status, attempts, next_at, last_error, delivered_at
             FROM deliveries WHERE alert_id = ?1 ORDER BY id",
        )
        .map_err(store_err)?;
    docs.iter()
        .map(|doc| {
            let alert = parse_alert(doc)?;
            let rows = deliveries
                .query_map([&alert.id], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, u32>(3)?,
                        r.get::<_, i64>(4)?,
                        r.get::<_, Option<String>>(5)?,
                        r.get::<_, Option<i64>>(6)?,
                    ))
                })
                .map_err(store_err)?;
            let deliveries = rows
                .map(|row| {
                    let (id, webhook, status, attempts, next_at, last_error, delivered_at) =
                        row.map_err(store_err)?;
                    let status = DeliveryStatus::parse(&status).ok_or_else(|| {
                        Error::Store(format!("delivery {id} has unknown status {status:?}"))
                    })?;
                    Ok(DeliveryRecord {
                        id,
                        webhook,
                        status,
                        attempts,
                        next_at: (status == DeliveryStatus::Pending).then(|| millis(next_at)),
                        last_error,
                        delivered_at: delivered_at.map(millis),
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(AlertRecord { alert, deliveries })
        })
        .collect()
}

/// The alerts database of earlier versions (`alerts.db` beside the store).
const OLD_ALERTS_DB: &str = "alerts.db";

/// Copies the history and queue of an `alerts.db` left by an earlier version into the store,
/// once, and renames the old file so that it is not read again. Returns the alerts copied.
pub(super) fn adopt_old_database(conn: &Connection, dir: &Path) -> Result<u64> {
    let old = dir.join(OLD_ALERTS_DB);
    if !old.exists() {
        return Ok(0);
    }
    let path = old
        .to_str()
        .ok_or_else(|| Error::bad_file(&old, "the path is not UTF-8"))?;
    let copied = (|| -> rusqlite::Result<u64> {
        conn.execute("ATTACH DATABASE ?1 AS old", [path])?;
        let copy = conn.execute_batch(
            "BEGIN;
             INSERT OR IGNORE INTO alerts SELECT seq, id, key, fingerprint, created_at, doc FROM old.alerts;
             INSERT OR IGNORE INTO deliveries
                 SELECT id, alert_id, webhook, status, attempts, next_at, last_error, delivered_at
                 FROM old.deliveries;
             COMMIT;",
        );
        let n: rusqlite::Result<i64> =
            conn.query_row("SELECT COUNT(*) FROM old.alerts", [], |r| r.get(0));
        conn.execute("DETACH DATABASE old", [])?;
        copy?;
        Ok(n? as u64)
    })()
    .map_err(|e| Error::bad_file(&old, format!("cannot copy its alerts into the store: {e}")))?;
    let moved = dir.join(format!("{OLD_ALERTS_DB}.adopted"));
    std::fs::rename(&old, &moved).map_err(|e| Error::io(&old, e))?;
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(dir.join(format!("{OLD_ALERTS_DB}{suffix}")));
    }
    Ok(copied)
}

fn parse_alert(doc: &str) -> Result<Alert> {
    serde_json::from_str(doc)
        .map_err(|e| Error::Store(format!("a stored alert does not parse: {e}")))
}
