//! The alert history and the delivery queue, in `alerts.db` (SQLite, WAL, `synchronous=FULL`).
//!
//! An alert and its deliveries are written in one transaction, so a raised alert is never
//! without its deliveries and the queue survives a restart: whatever is `pending` is picked up
//! again by the next worker.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};
use rusqlite_migration::{M, Migrations};

use super::alert::{Alert, AlertRecord, DeliveryRecord, DeliveryStatus};
use crate::error::{Error, Result};

const MIGRATIONS: &[M<'static>] = &[M::up(
    "CREATE TABLE alerts (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        key TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        created_at INTEGER NOT NULL,           -- Unix milliseconds
        doc TEXT NOT NULL                      -- the Alert as JSON
    );
    CREATE INDEX alerts_key ON alerts(key, seq);
    CREATE INDEX alerts_created ON alerts(created_at, seq);
    CREATE TABLE deliveries (
        id TEXT PRIMARY KEY,                   -- `{alert id}.{n}`, sent as X-Tousu-Delivery
        alert_id TEXT NOT NULL REFERENCES alerts(id),
        webhook TEXT NOT NULL,                 -- the webhook's name in the config
        status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_at INTEGER NOT NULL,              -- Unix milliseconds
        last_error TEXT,
        delivered_at INTEGER                   -- Unix milliseconds
    );
    CREATE INDEX deliveries_due ON deliveries(next_at) WHERE status = 'pending';
    CREATE INDEX deliveries_alert ON deliveries(alert_id);",
)];

/// Most alerts one history call returns.
pub const HISTORY_MAX: usize = 1000;

/// A delivery whose time has come, with what it is to deliver.
#[derive(Debug, Clone)]
pub(crate) struct Due {
    pub id: String,
    pub webhook: String,
    pub attempts: u32,
    pub alert: Alert,
}

/// The alerts database. One connection behind a mutex: writes are a few small rows per alert
/// or attempt, and nobody holds the lock across a network call.
pub(crate) struct Queue {
    conn: Mutex<Connection>,
    /// Pending deliveries, kept in step with the table so that `/metrics` never waits on SQLite.
    pending: AtomicUsize,
}

impl Queue {
    /// Opens (creating) the database at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Self> {
        let mut conn = Connection::open(path)
            .map_err(|e| Error::bad_file(path, format!("cannot open the alerts database: {e}")))?;
        // `synchronous=FULL`: in WAL mode `NORMAL` may lose the last commits on power loss, and
        // `raise` promises the alert is durable when it returns.
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             PRAGMA foreign_keys = ON;
             PRAGMA busy_timeout = 5000;",
        )
        .map_err(store_err)?;
        Migrations::from_slice(MIGRATIONS)
            .to_latest(&mut conn)
            .map_err(|e| Error::Store(format!("alerts schema migration failed: {e}")))?;
        let pending: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM deliveries WHERE status = 'pending'",
                [],
                |r| r.get(0),
            )
            .map_err(store_err)?;
        Ok(Queue {
            conn: Mutex::new(conn),
            pending: AtomicUsize::new(usize::try_from(pending).unwrap_or(0)),
        })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic elsewhere cannot leave SQLite half-written (an open transaction rolls back
        // when dropped), so a poisoned lock is safe to take over.
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Deliveries not yet delivered or given up.
    pub fn pending(&self) -> usize {
        self.pending.load(Ordering::Relaxed)
    }

    /// Stores each alert (assigning its id) and one pending delivery per webhook in
    /// `webhooks`, due now, in one transaction (one `fsync`): the ones stored, in order. An
    /// alert whose key's last alert has the same fingerprint is left out.
    pub fn insert_all(&self, alerts: Vec<Alert>, webhooks: &[&str]) -> Result<Vec<Alert>> {
        let now = Timestamp::now().as_millisecond();
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(store_err)?;
        let mut stored = Vec::with_capacity(alerts.len());
        for mut alert in alerts {
            // Cached statements: under a burst of cases the follower raises many alerts.
            let last: Option<String> = tx
                .prepare_cached(
                    "SELECT fingerprint FROM alerts WHERE key = ?1 ORDER BY seq DESC LIMIT 1",
                )
                .and_then(|mut st| st.query_row([&alert.key], |r| r.get(0)).optional())
                .map_err(store_err)?;
            if last.as_deref() == Some(alert.fingerprint.as_str()) {
                continue;
            }
            // Only this mutex writes, so max(seq) + 1 is the row's seq: the id is unique in
            // this database, and the millisecond prefix tells databases apart.
            let seq: i64 = tx
                .prepare_cached("SELECT COALESCE(MAX(seq), 0) + 1 FROM alerts")
                .and_then(|mut st| st.query_row([], |r| r.get(0)))
                .map_err(store_err)?;
            alert.id = format!("AL{now}-{seq}");
            let doc = serde_json::to_string(&alert)
                .map_err(|e| Error::Store(format!("alert does not serialise: {e}")))?;
            tx.prepare_cached(
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
                tx.prepare_cached(
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
            stored.push(alert);
        }
        if stored.is_empty() {
            return Ok(stored);
        }
        tx.commit().map_err(store_err)?;
        self.pending
            .fetch_add(webhooks.len() * stored.len(), Ordering::Relaxed);
        Ok(stored)
    }

    /// Up to `limit` pending deliveries due at `now_ms`, oldest due first.
    pub fn due(&self, now_ms: i64, limit: usize) -> Result<Vec<Due>> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT d.id, d.webhook, d.attempts, a.doc FROM deliveries d
                 JOIN alerts a ON a.id = d.alert_id
                 WHERE d.status = 'pending' AND d.next_at <= ?1
                 ORDER BY d.next_at, d.id LIMIT ?2",
            )
            .map_err(store_err)?;
        let rows = stmt
            .query_map(params![now_ms, limit as i64], |r| {
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
            Ok(Due {
                id,
                webhook,
                attempts,
                alert: parse_alert(&doc)?,
            })
        })
        .collect()
    }

    /// When the earliest pending delivery is due, in Unix milliseconds.
    pub fn next_due_at(&self) -> Result<Option<i64>> {
        self.conn()
            .query_row(
                "SELECT MIN(next_at) FROM deliveries WHERE status = 'pending'",
                [],
                |r| r.get(0),
            )
            .map_err(store_err)
    }

    /// The webhook accepted delivery `id` on attempt `attempts`.
    pub fn mark_delivered(&self, id: &str, attempts: u32, now_ms: i64) -> Result<()> {
        self.finish(
            "UPDATE deliveries SET status = 'delivered', attempts = ?2, delivered_at = ?3,
                 last_error = NULL
             WHERE id = ?1 AND status = 'pending'",
            params![id, attempts, now_ms],
        )
        .map(drop)
    }

    /// Attempt `attempts` of delivery `id` failed with `error`; try again at `next_at_ms`.
    pub fn mark_retry(&self, id: &str, attempts: u32, next_at_ms: i64, error: &str) -> Result<()> {
        self.conn()
            .execute(
                "UPDATE deliveries SET attempts = ?2, next_at = ?3, last_error = ?4
                 WHERE id = ?1 AND status = 'pending'",
                params![id, attempts, next_at_ms, error],
            )
            .map_err(store_err)?;
        Ok(())
    }

    /// Delivery `id` is given up after `attempts` attempts, because of `error`.
    pub fn mark_failed(&self, id: &str, attempts: u32, error: &str) -> Result<()> {
        self.finish(
            "UPDATE deliveries SET status = 'failed', attempts = ?2, last_error = ?3
             WHERE id = ?1 AND status = 'pending'",
            params![id, attempts, error],
        )
        .map(drop)
    }

    /// Fails every pending delivery to a webhook not in `configured`, saying why: they could
    /// never be delivered, and should not look as if they might.
    pub fn fail_unconfigured(&self, configured: &[&str]) -> Result<usize> {
        let webhooks: Vec<String> = {
            let conn = self.conn();
            let mut stmt = conn
                .prepare("SELECT DISTINCT webhook FROM deliveries WHERE status = 'pending'")
                .map_err(store_err)?;
            stmt.query_map([], |r| r.get(0))
                .map_err(store_err)?
                .collect::<rusqlite::Result<_>>()
                .map_err(store_err)?
        };
        let mut failed = 0;
        for webhook in webhooks
            .iter()
            .filter(|w| !configured.contains(&w.as_str()))
        {
            let error =
                format!("webhook {webhook:?} is no longer in the configuration; not delivered");
            failed += self.finish(
                "UPDATE deliveries SET status = 'failed', last_error = ?2
                 WHERE webhook = ?1 AND status = 'pending'",
                params![webhook, error],
            )?;
        }
        Ok(failed)
    }

    /// Runs a pending → final update and keeps the pending count in step.
    fn finish(&self, sql: &str, params: impl rusqlite::Params) -> Result<usize> {
        let changed = self.conn().execute(sql, params).map_err(store_err)?;
        if changed > 0 {
            // Saturating: never wrap below zero whatever the interleaving.
            let _ = self
                .pending
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                    Some(n.saturating_sub(changed))
                });
        }
        Ok(changed)
    }

    /// Alerts created at or after `since`, newest first, at most `limit` (capped at
    /// [`HISTORY_MAX`]), each with its deliveries.
    pub fn history(&self, since: Option<Timestamp>, limit: usize) -> Result<Vec<AlertRecord>> {
        let limit = limit.min(HISTORY_MAX) as i64;
        let since = since.map_or(i64::MIN, |t| t.as_millisecond());
        let conn = self.conn();
        let mut alerts = conn
            .prepare_cached(
                "SELECT doc FROM alerts WHERE created_at >= ?1
                 ORDER BY created_at DESC, seq DESC LIMIT ?2",
            )
            .map_err(store_err)?;
        let docs = alerts
            .query_map(params![since, limit], |r| r.get::<_, String>(0))
            .map_err(store_err)?
            .collect::<rusqlite::Result<Vec<_>>>()
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
                            next_at: (status == DeliveryStatus::Pending)
                                .then(|| millis(next_at))
                                .flatten(),
                            last_error,
                            delivered_at: delivered_at.and_then(millis),
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                Ok(AlertRecord { alert, deliveries })
            })
            .collect()
    }
}

fn millis(ms: i64) -> Option<Timestamp> {
    Timestamp::from_millisecond(ms).ok()
}

fn parse_alert(doc: &str) -> Result<Alert> {
    serde_json::from_str(doc)
        .map_err(|e| Error::Store(format!("a stored alert does not parse: {e}")))
}

fn store_err(e: rusqlite::Error) -> Error {
    Error::Store(format!("alerts: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid() {
        assert!(Migrations::from_slice(MIGRATIONS).validate().is_ok());
    }
}
