//! The case-event queue as the delivery worker drains it, and the request an event becomes:
//! the event as JSON, signed exactly as alerts are (`X-Tousu-Timestamp`, `X-Tousu-Signature`,
//! `X-Tousu-Delivery`), and its type in `X-Tousu-Event`.

use std::sync::Arc;

use jiff::Timestamp;

use crate::alerts::{
    DELIVERY_HEADER, Due, Outbox, Outgoing, SIGNATURE_HEADER, TIMESTAMP_HEADER, Webhook, sign_json,
};
use crate::domain::CaseEvent;
use crate::error::{Error, Result};
use crate::store::{CaseStore, DeliveryOutcome};

/// The event's type (`case.assigned`, …), so a receiver can route before it parses the body.
pub const EVENT_HEADER: &str = "X-Tousu-Event";

/// The store's case-event queue.
pub(crate) struct EventQueue(pub Arc<dyn CaseStore>);

impl Outbox for EventQueue {
    const NOUN: &'static str = "case event";
    type Item = CaseEvent;

    fn due(&self, now: Timestamp, limit: usize) -> Result<Vec<Due<CaseEvent>>> {
        Ok(self
            .0
            .due_events(now, limit)?
            .into_iter()
            .map(|d| Due {
                id: d.id,
                webhook: d.webhook,
                attempts: d.attempts,
                item: d.event,
            })
            .collect())
    }

    fn next_at(&self) -> Result<Option<Timestamp>> {
        self.0.next_event_at()
    }

    fn finish(&self, id: &str, outcome: DeliveryOutcome) -> Result<()> {
        self.0.finish_event(id, outcome)
    }

    fn render(webhook: &Webhook, event: &CaseEvent, id: &str, now: Timestamp) -> Result<Outgoing> {
        render(webhook, event, id, now)
    }
}

/// The request for `event` to `webhook` as delivery `delivery_id`, signed at `now` when the
/// webhook has a secret.
pub fn render(
    webhook: &Webhook,
    event: &CaseEvent,
    delivery_id: &str,
    now: Timestamp,
) -> Result<Outgoing> {
    let body = serde_json::to_string(event)
        .map_err(|e| Error::Invalid(format!("event {} is not JSON: {e}", event.id)))?;
    let ts = now.as_second();
    let mut headers = vec![
        ("Content-Type", "application/json".to_string()),
        (DELIVERY_HEADER, delivery_id.to_string()),
        (EVENT_HEADER, event.kind.code().to_string()),
        (TIMESTAMP_HEADER, ts.to_string()),
    ];
    if let Some(secret) = &webhook.secret {
        headers.push((SIGNATURE_HEADER, sign_json(secret, ts, &body)));
    }
    Ok(Outgoing {
        url: webhook.url.clone(),
        headers,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::verify_signature;
    use crate::domain::{CaseId, EventType, Grade, Status};

    #[test]
    fn an_event_is_signed_json_with_its_type() {
        let event = CaseEvent {
            id: "EV1-1".into(),
            kind: EventType::Closed,
            at: Timestamp::from_second(1_763_800_000).unwrap(),
            case_id: CaseId("TS20261122-000001".into()),
            status: Status::Closed,
            department: Some("网络运维中心".into()),
            grade: Grade::General,
            category: Some("网络问题".into()),
            actor: "lead".into(),
            step: Some("close".into()),
            from_status: Some(Status::FollowedUp),
            to_status: Some(Status::Closed),
            deadline: None,
        };
        let hook = Webhook {
            name: "crm".into(),
            url: "http://crm/hook".into(),
            secret: Some("k".into()),
            ..Webhook::default()
        };
        let now = Timestamp::from_second(1_763_800_100).unwrap();
        let out = render(&hook, &event, "EV1-1.1", now).unwrap();
        let header = |n: &str| {
            out.headers
                .iter()
                .find(|(h, _)| *h == n)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(header(EVENT_HEADER), Some("case.closed"));
        assert_eq!(header(DELIVERY_HEADER), Some("EV1-1.1"));
        let ts = header(TIMESTAMP_HEADER).unwrap();
        assert!(verify_signature(
            "k",
            ts,
            out.body.as_bytes(),
            header(SIGNATURE_HEADER).unwrap()
        ));
        let back: CaseEvent = serde_json::from_str(&out.body).unwrap();
        assert_eq!(back, event);
        let unsigned = Webhook {
            secret: None,
            ..hook
        };
        let out = render(&unsigned, &event, "EV1-1.1", now).unwrap();
        assert!(out.headers.iter().all(|(h, _)| *h != SIGNATURE_HEADER));
    }
}
