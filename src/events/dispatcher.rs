//! The dispatcher: tails the audit trail and the alert history from the durable cursor, turns
//! their entries into case events, and queues each with a delivery per webhook that takes its
//! type, moving the cursor in the same transaction. A restart resumes at the cursor: nothing is
//! queued twice, nothing is skipped.
//!
//! The two feeds are merged by time (an audit event's `at`, an alert's `created_at`), so a
//! deadline breach sits among a case's steps where it happened; a breach event reads the case
//! as of the last audit event merged before it.

use std::sync::Arc;
use std::time::Duration;

use super::mapping::{self, BREACH_RULE};
use super::settings::EventWebhook;
use crate::alerts::Signal;
use crate::domain::{Case, CaseEvent, CaseId};
use crate::error::{Error, Result};
use crate::store::{AlertEntry, AuditEntry, CaseStore, EventCursor, NewEvent};

/// Entries read from each feed per pass.
const BATCH: usize = 512;
/// Wait between passes that found nothing new: a case's events are queued within this of its
/// commit, for two indexed reads per poll.
const POLL: Duration = Duration::from_millis(200);
/// Pause after the store failed, so a broken disk does not become a busy loop.
const ERROR_PAUSE: Duration = Duration::from_secs(5);

/// The state the dispatcher thread owns.
pub(crate) struct Dispatcher {
    pub store: Arc<dyn CaseStore>,
    pub webhooks: Vec<EventWebhook>,
    /// Its own stop signal.
    pub signal: Arc<Signal>,
    /// The delivery worker's: woken when events are queued.
    pub deliver: Arc<Signal>,
    pub cursor: EventCursor,
}

impl Dispatcher {
    /// Runs until [`Signal::stop`].
    pub fn run(mut self) {
        loop {
            if self.signal.begin_pass() {
                return;
            }
            match self.pass() {
                Ok(true) => continue,
                Ok(false) => self.signal.sleep(POLL),
                Err(e) => {
                    tracing::error!("case events: cannot read or queue: {e}");
                    self.signal.sleep(ERROR_PAUSE);
                }
            }
        }
    }

    /// One pass over what the feeds hold past the cursor; whether there may be more.
    fn pass(&mut self) -> Result<bool> {
        let audit = self.store.audit_since(self.cursor.audit_seq, BATCH)?;
        let alerts = self.store.alerts_since(self.cursor.alert_seq, BATCH)?;
        if audit.is_empty() && alerts.is_empty() {
            return Ok(false);
        }
        let more = audit.len() == BATCH || alerts.len() == BATCH;
        let mut cursor = self.cursor;
        let mut events = Vec::new();
        for entry in merge(&audit, &alerts) {
            let event = match entry {
                Entry::Audit(a) => {
                    cursor.audit_seq = a.seq;
                    self.audit_event(a)?
                }
                Entry::Alert(a) => {
                    cursor.alert_seq = a.seq;
                    self.breach_event(a, cursor.audit_seq)?
                }
            };
            if let Some(event) = event {
                let webhooks: Vec<String> = self
                    .webhooks
                    .iter()
                    .filter(|w| w.takes(event.kind))
                    .map(|w| w.name.clone())
                    .collect();
                if !webhooks.is_empty() {
                    events.push(NewEvent { event, webhooks });
                }
            }
        }
        let queued = !events.is_empty();
        self.store.queue_events(events, cursor)?;
        self.cursor = cursor;
        if queued {
            self.deliver.wake();
        }
        Ok(more)
    }

    fn audit_event(&self, entry: &AuditEntry) -> Result<Option<CaseEvent>> {
        if mapping::kind_of(&entry.event).is_none() {
            return Ok(None);
        }
        let case = self.case_as_of(&entry.event.case_id, entry.seq)?;
        Ok(case.and_then(|c| mapping::from_audit(entry, &c)))
    }

    fn breach_event(&self, entry: &AlertEntry, audit_seq: u64) -> Result<Option<CaseEvent>> {
        let Some(id) = entry
            .alert
            .case_id()
            .filter(|_| entry.alert.rule == BREACH_RULE)
        else {
            return Ok(None);
        };
        let case = self.case_as_of(&CaseId(id.to_string()), audit_seq)?;
        Ok(case.and_then(|c| mapping::from_breach(entry, &c)))
    }

    /// The case as of audit event `seq`; the current case when its history cannot be read
    /// back (a stored document older than this version): labels a little late are better
    /// than a lost event. A store that cannot be read is an error (the pass is retried).
    fn case_as_of(&self, id: &CaseId, seq: u64) -> Result<Option<Case>> {
        match self.store.case_as_of(id, seq) {
            Err(Error::Store(e)) => {
                tracing::warn!(case = %id, "case events: the case as of audit event {seq} cannot be read ({e}); its current labels are sent");
                Ok(self
                    .store
                    .get_many(std::slice::from_ref(id))?
                    .first()
                    .map(|c| (**c).clone()))
            }
            other => {
                let case = other?;
                if case.is_none() {
                    tracing::warn!(case = %id, "case events: no such case; its event is skipped");
                }
                Ok(case)
            }
        }
    }
}

/// An entry of one of the two feeds.
enum Entry<'a> {
    Audit(&'a AuditEntry),
    Alert(&'a AlertEntry),
}

/// Both feeds in time order, each in its own `seq` order. When a full batch runs out first,
/// the merge stops there: the next entries of that feed may come before the rest of the
/// other's, and are read in the next pass.
fn merge<'a>(audit: &'a [AuditEntry], alerts: &'a [AlertEntry]) -> Vec<Entry<'a>> {
    let (audit_full, alerts_full) = (audit.len() == BATCH, alerts.len() == BATCH);
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::with_capacity(audit.len() + alerts.len());
    loop {
        match (audit.get(i), alerts.get(j)) {
            (Some(a), Some(b)) if a.event.at <= b.alert.created_at => {
                out.push(Entry::Audit(a));
                i += 1;
            }
            (_, Some(b)) if audit.get(i).is_some() || !audit_full => {
                out.push(Entry::Alert(b));
                j += 1;
            }
            (Some(a), None) if !alerts_full => {
                out.push(Entry::Audit(a));
                i += 1;
            }
            _ => return out,
        }
    }
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;
    use serde_json::Value;

    use super::*;
    use crate::domain::{Alert, AuditEvent};

    fn audit(seq: u64, ms: i64) -> AuditEntry {
        AuditEntry {
            seq,
            event: AuditEvent {
                case_id: CaseId("TS20261122-000001".into()),
                at: Timestamp::from_millisecond(ms).unwrap(),
                actor: "a".into(),
                action: "note".into(),
                note: None,
                before: Value::Null,
                after: Value::Null,
            },
        }
    }

    fn alert(seq: u64, ms: i64) -> AlertEntry {
        AlertEntry {
            seq,
            alert: Alert {
                id: String::new(),
                rule: BREACH_RULE.into(),
                key: "k".into(),
                fingerprint: "f".into(),
                title: "t".into(),
                summary: "s".into(),
                severity: "一般".into(),
                department: None,
                created_at: Timestamp::from_millisecond(ms).unwrap(),
                data: Value::Null,
            },
        }
    }

    fn order(entries: &[Entry<'_>]) -> Vec<String> {
        entries
            .iter()
            .map(|e| match e {
                Entry::Audit(a) => format!("u{}", a.seq),
                Entry::Alert(a) => format!("a{}", a.seq),
            })
            .collect()
    }

    #[test]
    fn feeds_merge_by_time() {
        let audit = [audit(1, 10), audit(2, 30), audit(3, 50)];
        let alerts = [alert(1, 20), alert(2, 60)];
        assert_eq!(
            order(&merge(&audit, &alerts)),
            ["u1", "a1", "u2", "u3", "a2"]
        );
        assert_eq!(order(&merge(&audit, &[])), ["u1", "u2", "u3"]);
        assert_eq!(order(&merge(&[], &alerts)), ["a1", "a2"]);
    }

    #[test]
    fn a_full_batch_that_runs_out_stops_the_merge() {
        let full: Vec<AuditEntry> = (1..=BATCH as u64).map(|s| audit(s, s as i64)).collect();
        let alerts = [alert(1, 5), alert(2, 1_000_000_000)];
        let merged = order(&merge(&full, &alerts));
        assert_eq!(
            merged.len(),
            BATCH + 1,
            "the later alert waits for the next pass"
        );
        assert_eq!(merged[5], "a1");
    }
}
