//! [`EventHub`]: the dispatcher and the delivery worker for case events, started together and
//! stopped together.

use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use super::delivery::EventQueue;
use super::dispatcher::Dispatcher;
use super::settings::EventSettings;
use crate::alerts::{Signal, Worker};
use crate::error::{Error, Result};
use crate::store::CaseStore;

/// Turns the store's audit trail (and `sla_breached` alerts) into case events and delivers them
/// to the `[events]` webhooks, from two background threads. Dropping it stops both.
pub struct EventHub {
    store: Arc<dyn CaseStore>,
    signals: Vec<Arc<Signal>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl std::fmt::Debug for EventHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventHub")
            .field("running", &!self.signals.is_empty())
            .finish_non_exhaustive()
    }
}

impl EventHub {
    /// Checks `settings`, fails pending deliveries to webhooks no longer configured, and, when
    /// some webhook is configured, starts the dispatcher at the store's cursor (the feeds' ends
    /// on the first start) and the delivery worker, which resumes what is still pending. With
    /// no webhook nothing runs and the cursor stays where it was. Blocking (store writes).
    pub fn open(store: Arc<dyn CaseStore>, settings: EventSettings) -> Result<Self> {
        settings.validate()?;
        let names: Vec<String> = settings.webhooks.iter().map(|w| w.name.clone()).collect();
        let dropped = store.fail_unconfigured_events(&names)?;
        if dropped > 0 {
            tracing::warn!(
                "{dropped} pending case-event deliveries failed: their webhooks are no longer configured"
            );
        }
        let mut hub = EventHub {
            store: Arc::clone(&store),
            signals: Vec::new(),
            threads: Mutex::new(Vec::new()),
        };
        if settings.webhooks.is_empty() {
            return Ok(hub);
        }
        for w in settings.webhooks.iter().filter(|w| w.secret.is_none()) {
            tracing::warn!(webhook = %w.name, "events: this webhook has no `secret`: its receiver cannot tell a forged event from a real one");
        }
        let cursor = store.event_cursor()?;
        let deliver = Arc::new(Signal::default());
        let dispatch = Arc::new(Signal::default());
        let webhooks: Vec<_> = settings.webhooks.iter().map(|w| w.as_webhook()).collect();
        let worker = Worker::new(
            EventQueue(Arc::clone(&store)),
            Arc::clone(&deliver),
            &webhooks,
            settings.retry(),
        );
        let dispatcher = Dispatcher {
            store,
            webhooks: settings.webhooks,
            signal: Arc::clone(&dispatch),
            deliver: Arc::clone(&deliver),
            cursor,
        };
        // Registered before the threads start: a failure to start the second stops the first
        // as the hub is dropped.
        hub.signals = vec![dispatch, deliver];
        hub.spawn("tousu-events", move || dispatcher.run())?;
        hub.spawn("tousu-events-out", move || worker.run())?;
        tracing::info!(
            audit_seq = cursor.audit_seq,
            alert_seq = cursor.alert_seq,
            "case events: following the audit trail"
        );
        Ok(hub)
    }

    fn spawn(&self, name: &str, run: impl FnOnce() + Send + 'static) -> Result<()> {
        let handle = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                crate::background::lower_priority();
                run()
            })
            .map_err(|e| Error::Store(format!("cannot start the {name} thread: {e}")))?;
        self.threads
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(handle);
        Ok(())
    }

    /// Case-event deliveries neither delivered nor given up. Blocking (a count query).
    pub fn pending(&self) -> Result<usize> {
        self.store.pending_events()
    }
}

impl Drop for EventHub {
    /// Stops both threads: at once when they sleep, or after the pass or the one request in
    /// flight (bounded by the request timeout). Waiting keeps the last outcome recorded, so a
    /// reopened hub does not send that delivery again.
    fn drop(&mut self) {
        for signal in &self.signals {
            signal.stop();
        }
        let threads = std::mem::take(self.threads.get_mut().unwrap_or_else(|p| p.into_inner()));
        for handle in threads {
            if handle.join().is_err() {
                tracing::error!("a case-event thread panicked");
            }
        }
    }
}
