//! [`AlertCenter`]: where detection hands over alerts, and what the API reads back.

use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use jiff::Timestamp;
use tokio::sync::broadcast;

use super::settings::{AlertSettings, Webhook};
use super::worker::{AlertQueue, Signal, Worker};
use crate::domain::{Alert, AlertRecord};
use crate::error::{Error, Result};
use crate::store::{CaseStore, NewAlert};

/// Alerts a live-feed subscriber may fall behind by before it sees `Lagged` (alerts are rare:
/// a few a minute at the worst).
const FEED_CAPACITY: usize = 256;
/// The severities an alert may have, as grades are named.
const SEVERITIES: [&str; 3] = ["一般", "严重", "重大"];

/// Records alerts, delivers them to the configured webhooks whose filters they pass from one
/// background thread, and keeps their history. Dropping it stops the thread.
pub struct AlertCenter {
    queue: Arc<dyn CaseStore>,
    webhooks: Vec<Webhook>,
    signal: Arc<Signal>,
    feed: broadcast::Sender<Alert>,
    worker: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for AlertCenter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlertCenter")
            .field(
                "webhooks",
                &self.webhooks.iter().map(|w| &w.name).collect::<Vec<_>>(),
            )
            .field("pending", &self.pending())
            .finish()
    }
}

impl AlertCenter {
    /// Takes the alert queue of `store`, fails pending deliveries to webhooks no longer
    /// configured, and starts the delivery thread, which resumes the deliveries still pending.
    /// Blocking (a store write).
    pub fn open(store: Arc<dyn CaseStore>, settings: AlertSettings) -> Result<Arc<Self>> {
        settings.validate()?;
        let queue = store;
        let names: Vec<String> = settings.webhooks.iter().map(|w| w.name.clone()).collect();
        let dropped = queue.fail_unconfigured(&names)?;
        if dropped > 0 {
            tracing::warn!(
                "{dropped} pending alert deliveries failed: their webhooks are no longer configured"
            );
        }
        if queue.pending_deliveries() > 0 {
            tracing::info!(
                "resuming {} pending alert deliveries",
                queue.pending_deliveries()
            );
        }
        let signal = Arc::new(Signal::default());
        let worker = Worker::new(
            AlertQueue(Arc::clone(&queue)),
            Arc::clone(&signal),
            &settings.webhooks,
            settings.retry(),
        );
        let handle = std::thread::Builder::new()
            .name("tousu-alerts".into())
            .spawn(move || {
                crate::background::lower_priority();
                worker.run()
            })
            .map_err(|e| Error::Store(format!("cannot start the alert delivery thread: {e}")))?;
        let (feed, _) = broadcast::channel(FEED_CAPACITY);
        Ok(Arc::new(AlertCenter {
            queue,
            webhooks: settings.webhooks,
            signal,
            feed,
            worker: Mutex::new(Some(handle)),
        }))
    }

    /// Records `alert` (assigning its `id`) with one pending delivery per configured webhook
    /// whose filters it passes ([`Webhook::takes`]), in one transaction that has committed when
    /// this returns, then wakes the delivery thread and publishes the alert on the live feed.
    ///
    /// Returns `Ok(None)`, recording nothing, when the last alert with the same `key` had the
    /// same `fingerprint`: a key alerts again only when its state changed materially. Blocking
    /// (an fsync).
    pub fn raise(&self, alert: Alert) -> Result<Option<Alert>> {
        Ok(self.raise_all(vec![alert])?.pop())
    }

    /// As [`AlertCenter::raise`], for several alerts in one transaction (one `fsync`): the ones
    /// recorded, in order. Nothing is recorded if one of them is invalid.
    pub fn raise_all(&self, alerts: Vec<Alert>) -> Result<Vec<Alert>> {
        for alert in &alerts {
            if alert.key.trim().is_empty() {
                return Err(Error::Invalid("alert has no `key`".to_string()));
            }
            if !SEVERITIES.contains(&alert.severity.as_str()) {
                return Err(Error::Invalid(format!(
                    "alert severity {:?} is not one of 一般, 严重, 重大",
                    alert.severity
                )));
            }
        }
        if alerts.is_empty() {
            return Ok(alerts);
        }
        let routed = alerts
            .into_iter()
            .map(|alert| NewAlert {
                webhooks: self
                    .webhooks
                    .iter()
                    .filter(|w| w.takes(&alert))
                    .map(|w| w.name.clone())
                    .collect(),
                alert,
            })
            .collect();
        let stored = self.queue.insert_alerts(routed)?;
        if !stored.is_empty() && !self.webhooks.is_empty() {
            self.signal.wake();
        }
        for alert in &stored {
            // No subscriber is fine: the feed is for whoever is watching now.
            let _ = self.feed.send(alert.clone());
        }
        Ok(stored)
    }

    /// Alerts created at or after `since` (all when `None`), newest first, at most `limit`
    /// (capped at 1000), with each delivery's status. Blocking (SQLite reads).
    pub fn history(&self, since: Option<Timestamp>, limit: usize) -> Result<Vec<AlertRecord>> {
        self.queue.alert_history(since, limit)
    }

    /// A live feed of alerts as they are raised (for Server-Sent Events). Only alerts raised
    /// after the call arrive; a receiver that falls more than 256 behind gets `Lagged`.
    pub fn subscribe(&self) -> broadcast::Receiver<Alert> {
        self.feed.subscribe()
    }

    /// Deliveries neither delivered nor given up yet. Cheap: a counter, no query.
    pub fn pending(&self) -> usize {
        self.queue.pending_deliveries()
    }
}

impl Drop for AlertCenter {
    /// Stops the delivery thread: at once when it is sleeping (waiting for work or a backoff),
    /// or after the one request in flight, which the request timeout bounds. Waiting for it
    /// keeps that delivery's outcome recorded, so a reopened center does not send it again.
    fn drop(&mut self) {
        self.signal.stop();
        let handle = self
            .worker
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(handle) = handle
            && handle.join().is_err()
        {
            tracing::error!("the alert delivery thread panicked");
        }
    }
}
