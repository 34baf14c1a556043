//! The delivery thread: takes due deliveries from a queue, POSTs them, and records the outcome
//! with a backoff for the next try. One worker per queue: the alerts', and the case events'
//! ([`Outbox`] says what each queue gives and how it is rendered).
//!
//! Delivery is exactly once per webhook as far as the queue can make it: an outcome is recorded
//! only after the webhook answered, and a restart resumes whatever is still pending. The one gap
//! is a crash after the webhook accepted a POST and before the commit: the next run sends it
//! again. Every attempt carries the same `X-Tousu-Delivery` id so a receiver can drop that
//! repeat (the chat robots cannot, and will show the alert twice in that rare case).

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use jiff::Timestamp;
use xxhash_rust::xxh3::xxh3_64_with_seed;

use super::channel::{self, Outgoing};
use super::settings::{Retry, Webhook, redacted_url};
use crate::domain::Alert;
use crate::error::Result;
use crate::store::{CaseStore, DeliveryOutcome};

/// Per-request budget (resolve, connect, TLS, send, answer): the chat robots answer in well
/// under a second, and a hung receiver must not hold up the rest of the queue for long.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Deliveries taken from the queue per pass; between two the worker checks for shutdown.
const BATCH: usize = 16;
/// Longest sleep with nothing due. Raising an alert wakes the worker at once, so this only
/// bounds how stale the worker's view can get if a wake-up were ever missed.
const IDLE_WAIT: Duration = Duration::from_secs(60);
/// Pause after the database itself failed, so a broken disk does not become a busy loop.
const ERROR_PAUSE: Duration = Duration::from_secs(5);
/// Enough of a webhook's answer to judge it (`{"errcode":0,...}`); the rest is not read.
const ANSWER_LIMIT: u64 = 64 * 1024;
/// Jitter is ±20 %: a multiplier of 800..=1200 per mille.
const JITTER_PERMILLE: u64 = 400;

/// Wakes the worker (new work, shutdown) and tells the owner when it has exited.
#[derive(Default)]
pub(crate) struct Signal {
    state: Mutex<SignalState>,
    changed: Condvar,
}

#[derive(Default)]
struct SignalState {
    wake: bool,
    stop: bool,
}

impl Signal {
    fn state(&self) -> MutexGuard<'_, SignalState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// New work is queued.
    pub fn wake(&self) {
        self.state().wake = true;
        self.changed.notify_all();
    }

    /// Ask the worker to stop; it does before its next delivery or at once if asleep.
    pub fn stop(&self) {
        self.state().stop = true;
        self.changed.notify_all();
    }

    pub fn stopping(&self) -> bool {
        self.state().stop
    }

    /// Clears a pending wake-up before the worker reads the queue: a raise after this point
    /// sets it again, so none is lost. Returns whether to stop.
    pub fn begin_pass(&self) -> bool {
        let mut state = self.state();
        state.wake = false;
        state.stop
    }

    /// Sleeps until woken, stopped, or `timeout` has passed.
    pub fn sleep(&self, timeout: Duration) {
        let state = self.state();
        let _ = self
            .changed
            .wait_timeout_while(state, timeout, |s| !s.wake && !s.stop);
    }
}

/// One delivery whose time has come, as a queue hands it to the worker.
pub(crate) struct Due<T> {
    /// The delivery's id (sent as `X-Tousu-Delivery`).
    pub id: String,
    /// The webhook's name.
    pub webhook: String,
    /// Attempts made so far.
    pub attempts: u32,
    /// What to deliver.
    pub item: T,
}

/// A persisted delivery queue a [`Worker`] drains.
pub(crate) trait Outbox: Send + 'static {
    /// What is delivered, for the logs (`alert`, `case event`).
    const NOUN: &'static str;
    /// What one delivery carries.
    type Item;
    /// Up to `limit` deliveries due at `now`, to be tried in this order.
    fn due(&self, now: Timestamp, limit: usize) -> Result<Vec<Due<Self::Item>>>;
    /// When the next delivery [`Outbox::due`] would give is due.
    fn next_at(&self) -> Result<Option<Timestamp>>;
    /// Records how an attempt ended.
    fn finish(&self, id: &str, outcome: DeliveryOutcome) -> Result<()>;
    /// The request for `item` to `webhook` as delivery `id`, signed at `now`.
    fn render(webhook: &Webhook, item: &Self::Item, id: &str, now: Timestamp) -> Result<Outgoing>;
}

/// The alert queue in the store.
pub(crate) struct AlertQueue(pub Arc<dyn CaseStore>);

impl Outbox for AlertQueue {
    const NOUN: &'static str = "alert";
    type Item = Alert;

    fn due(&self, now: Timestamp, limit: usize) -> Result<Vec<Due<Alert>>> {
        Ok(self
            .0
            .due_deliveries(now, limit)?
            .into_iter()
            .map(|d| Due {
                id: d.id,
                webhook: d.webhook,
                attempts: d.attempts,
                item: d.alert,
            })
            .collect())
    }

    fn next_at(&self) -> Result<Option<Timestamp>> {
        self.0.next_delivery_at()
    }

    fn finish(&self, id: &str, outcome: DeliveryOutcome) -> Result<()> {
        self.0.finish_delivery(id, outcome)
    }

    fn render(webhook: &Webhook, alert: &Alert, id: &str, now: Timestamp) -> Result<Outgoing> {
        channel::render(webhook, alert, id, now)
    }
}

/// The state the delivery thread owns.
pub(crate) struct Worker<Q: Outbox> {
    queue: Q,
    signal: Arc<Signal>,
    webhooks: HashMap<String, Webhook>,
    retry: Retry,
    agent: ureq::Agent,
}

impl<Q: Outbox> Worker<Q> {
    pub fn new(queue: Q, signal: Arc<Signal>, webhooks: &[Webhook], retry: Retry) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(REQUEST_TIMEOUT))
            // Judge the status ourselves; a 5xx is an answer to record, not an error.
            .http_status_as_error(false)
            // A redirected POST would turn into a GET and be lost: treat 3xx as a failure.
            .max_redirects(0)
            .user_agent(concat!("tousu/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        let webhooks = webhooks
            .iter()
            .map(|w| (w.name.clone(), w.clone()))
            .collect();
        Worker {
            queue,
            signal,
            webhooks,
            retry,
            agent,
        }
    }

    /// Runs until [`Signal::stop`].
    pub fn run(self) {
        let noun = Q::NOUN;
        loop {
            if self.signal.begin_pass() {
                return;
            }
            let due = match self.queue.due(Timestamp::now(), BATCH) {
                Ok(due) => due,
                Err(e) => {
                    tracing::error!("{noun} delivery: cannot read the queue: {e}");
                    self.signal.sleep(ERROR_PAUSE);
                    continue;
                }
            };
            for delivery in &due {
                if self.signal.stopping() {
                    return;
                }
                self.deliver(delivery);
            }
            if due.len() == BATCH {
                continue;
            }
            let wait = match self.queue.next_at() {
                Ok(Some(at)) => Duration::from_millis(
                    u64::try_from(at.as_millisecond() - now_ms()).unwrap_or(0),
                ),
                Ok(None) => IDLE_WAIT,
                Err(e) => {
                    tracing::error!("{noun} delivery: cannot read the queue: {e}");
                    ERROR_PAUSE
                }
            };
            if !wait.is_zero() {
                self.signal.sleep(wait.min(IDLE_WAIT));
            }
        }
    }

    /// One attempt at one delivery, and its outcome recorded.
    fn deliver(&self, due: &Due<Q::Item>) {
        let noun = Q::NOUN;
        let attempt = due.attempts.saturating_add(1);
        let outcome = match self.webhooks.get(&due.webhook) {
            None => DeliveryOutcome::Failed {
                attempts: due.attempts,
                error: format!(
                    "webhook {:?} is no longer in the configuration; not delivered",
                    due.webhook
                ),
            },
            Some(webhook) => match self.post(webhook, due) {
                Ok(()) => {
                    tracing::info!(delivery = %due.id, webhook = %due.webhook, attempt, "{noun} delivered");
                    DeliveryOutcome::Delivered {
                        attempts: attempt,
                        at: Timestamp::now(),
                    }
                }
                Err(error) if attempt >= self.retry.max_attempts => {
                    tracing::error!(delivery = %due.id, webhook = %due.webhook, attempt, "{noun} delivery given up: {error}");
                    DeliveryOutcome::Failed {
                        attempts: attempt,
                        error: format!(
                            "gave up after {attempt} attempt{}: {error}",
                            if attempt == 1 { "" } else { "s" }
                        ),
                    }
                }
                Err(error) => {
                    let wait = backoff_ms(&self.retry, &due.id, attempt);
                    tracing::warn!(delivery = %due.id, webhook = %due.webhook, attempt, retry_in_ms = wait, "{noun} delivery failed: {error}");
                    let next = Timestamp::now()
                        + jiff::SignedDuration::from_millis(
                            i64::try_from(wait).unwrap_or(i64::MAX / 2),
                        );
                    DeliveryOutcome::Retry {
                        attempts: attempt,
                        next_at: next,
                        error,
                    }
                }
            },
        };
        let recorded = self.queue.finish(&due.id, outcome);
        if let Err(e) = recorded {
            tracing::error!(delivery = %due.id, "{noun} delivery: cannot record the outcome: {e}");
        }
    }

    /// POSTs the delivery; `Err` says why it did not count as delivered.
    fn post(&self, webhook: &Webhook, due: &Due<Q::Item>) -> std::result::Result<(), String> {
        let out =
            Q::render(webhook, &due.item, &due.id, Timestamp::now()).map_err(|e| e.to_string())?;
        let hide_url = |message: String| hide_url(message, &out, webhook);
        let mut request = self.agent.post(&out.url);
        for (name, value) in &out.headers {
            request = request.header(*name, value);
        }
        let mut response = request
            .send(out.body.as_bytes())
            .map_err(|e| hide_url(e.to_string()))?;
        let status = response.status().as_u16();
        // An unreadable answer to a 2xx still counts as accepted (the chat robots' refusals
        // are readable JSON); for anything else the status says enough.
        let answer = response
            .body_mut()
            .with_config()
            .limit(ANSWER_LIMIT)
            .read_to_string()
            .unwrap_or_default();
        channel::check_response(webhook.kind, status, &answer)
    }
}

/// Robot tokens live in webhook URLs; they must not end up in `last_error` or the logs.
fn hide_url(message: String, out: &Outgoing, webhook: &Webhook) -> String {
    message
        .replace(&out.url, &redacted_url(&out.url))
        .replace(&webhook.url, &redacted_url(&webhook.url))
}

/// The wait after failed attempt number `attempts` (1-based): `first_backoff_ms` doubling per
/// failure, capped at `max_backoff_ms`, then ±20 % jitter. The jitter is a hash of the delivery
/// id and attempt: deterministic (no RNG to seed) yet different across deliveries, so those
/// that failed together do not all retry in the same instant.
pub(crate) fn backoff_ms(settings: &Retry, delivery_id: &str, attempts: u32) -> u64 {
    let doublings = attempts.saturating_sub(1).min(63);
    let base = settings
        .first_backoff_ms
        .saturating_mul(1u64 << doublings)
        .min(settings.max_backoff_ms);
    let permille = 1000 - JITTER_PERMILLE / 2
        + xxh3_64_with_seed(delivery_id.as_bytes(), u64::from(attempts)) % (JITTER_PERMILLE + 1);
    u64::try_from(u128::from(base) * u128::from(permille) / 1000).unwrap_or(u64::MAX)
}

fn now_ms() -> i64 {
    Timestamp::now().as_millisecond()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_the_cap_within_jitter() {
        let s = super::super::AlertSettings::default().retry();
        for (attempt, base) in [
            (1, 1_000),
            (2, 2_000),
            (3, 4_000),
            (9, 256_000),
            (10, 300_000),
            (40, 300_000),
        ] {
            let wait = backoff_ms(&s, "AL1-1.1", attempt);
            assert!(
                wait >= base * 8 / 10 && wait <= base * 12 / 10,
                "attempt {attempt}: {wait} vs {base}"
            );
        }
        assert_eq!(backoff_ms(&s, "AL1-1.1", 3), backoff_ms(&s, "AL1-1.1", 3));
        let spread: std::collections::HashSet<_> = (0..20)
            .map(|i| backoff_ms(&s, &format!("AL1-{i}.1"), 1))
            .collect();
        assert!(spread.len() > 10, "jitter spreads deliveries: {spread:?}");
    }

    #[test]
    fn hides_robot_tokens_in_errors() {
        let webhook = Webhook {
            name: "w".into(),
            kind: super::super::settings::WebhookKind::Wecom,
            url: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=SECRETKEY".into(),
            secret: None,
            ..Webhook::default()
        };
        let out = Outgoing {
            url: webhook.url.clone(),
            headers: Vec::new(),
            body: String::new(),
        };
        let shown = hide_url(format!("bad uri: {}", webhook.url), &out, &webhook);
        assert!(!shown.contains("SECRETKEY"), "{shown}");
    }
}
