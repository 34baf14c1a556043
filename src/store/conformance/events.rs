//! The feeds the case-event dispatcher reads, and the case-event queue.

use std::path::Path;

use jiff::{SignedDuration, Timestamp};

use super::{Make, new_case, one, update};
use crate::domain::{CaseEvent, CaseId, EventType, Grade, Status};
use crate::store::{DeliveryOutcome, EventCursor, NewEvent};

fn event(id: &str, case: &CaseId, kind: EventType) -> CaseEvent {
    CaseEvent {
        id: id.into(),
        kind,
        at: Timestamp::now(),
        case_id: case.clone(),
        status: Status::Triaged,
        department: None,
        grade: Grade::General,
        category: None,
        actor: "test".into(),
        step: None,
        from_status: None,
        to_status: None,
        deadline: None,
    }
}

fn to(event: CaseEvent, webhooks: &[&str]) -> NewEvent {
    NewEvent {
        event,
        webhooks: webhooks.iter().map(|w| w.to_string()).collect(),
    }
}

/// The audit trail read by seq and as of an event; the cursor starts at the feeds' ends and
/// only moves forward, durably; deliveries come due in order per case and webhook.
pub(super) fn event_queue(make: Make<'_>, dir: &Path) {
    let (a, b, cursor) = {
        let store = make(dir);
        let a = one(&*store, new_case("宽带断网三天", "2026-11-21T10:00:00Z"));
        let cursor = store.event_cursor().unwrap();
        assert_eq!(
            cursor,
            EventCursor {
                audit_seq: 1,
                alert_seq: 0
            },
            "a store's history is behind the first cursor"
        );
        store
            .update(update(&a.id, |c| {
                c.department = Some("网络运维中心".into());
                Ok(Some("assign"))
            }))
            .unwrap();
        store
            .update(update(&a.id, |c| {
                c.status = Status::Handling;
                Ok(Some("accept"))
            }))
            .unwrap();
        let b = one(&*store, new_case("话费多扣", "2026-11-21T11:00:00Z"));
        (a, b, cursor)
    };
    let store = make(dir);
    assert_eq!(
        store.event_cursor().unwrap(),
        cursor,
        "the cursor is durable"
    );
    let trail = store.audit_since(cursor.audit_seq, 100).unwrap();
    let actions: Vec<&str> = trail.iter().map(|e| e.event.action.as_str()).collect();
    assert_eq!(actions, ["assign", "accept", "create"]);
    assert!(trail.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(trail[0].event.case_id, a.id);
    assert_eq!(trail[1].event.after["status"], "handling");
    assert_eq!(
        store.audit_since(trail[0].seq, 1).unwrap()[0].seq,
        trail[1].seq
    );

    let created = store.case_as_of(&a.id, cursor.audit_seq).unwrap().unwrap();
    assert_eq!(
        (created.department, created.status),
        (None, Status::Triaged)
    );
    let assigned = store.case_as_of(&a.id, trail[0].seq).unwrap().unwrap();
    assert_eq!(assigned.department.as_deref(), Some("网络运维中心"));
    assert_eq!(assigned.status, Status::Triaged);
    let now = store.case_as_of(&a.id, trail[1].seq).unwrap().unwrap();
    assert_eq!(now.status, Status::Handling);
    assert_eq!(
        store.case_as_of(&a.id, trail[2].seq).unwrap().as_ref(),
        Some(&now),
        "an event of another case undoes nothing"
    );
    assert!(
        store
            .case_as_of(&CaseId("TS20991231-000001".into()), 1)
            .unwrap()
            .is_none()
    );

    let moved = EventCursor {
        audit_seq: trail[2].seq,
        alert_seq: 0,
    };
    store
        .queue_events(
            vec![
                to(event("EV1", &a.id, EventType::Assigned), &["crm", "bi"]),
                to(event("EV2", &a.id, EventType::Transitioned), &["crm", "bi"]),
                to(event("EV3", &b.id, EventType::Created), &["crm"]),
            ],
            moved,
        )
        .unwrap();
    assert_eq!(store.event_cursor().unwrap(), moved);
    // Queued again (say, by a dispatcher that lost its answer) with an older cursor: nothing
    // is queued twice, and the cursor does not go back.
    store
        .queue_events(
            vec![to(event("EV1", &a.id, EventType::Assigned), &["crm"])],
            cursor,
        )
        .unwrap();
    assert_eq!(store.event_cursor().unwrap(), moved);
    assert_eq!(store.pending_events().unwrap(), 5);

    let due = |store: &dyn crate::store::CaseStore| -> Vec<String> {
        let mut ids: Vec<String> = store
            .due_events(Timestamp::now(), 100)
            .unwrap()
            .into_iter()
            .map(|d| d.id)
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(
        due(&*store),
        ["EV1.1", "EV1.2", "EV3.1"],
        "a case's second event waits for its first"
    );
    let first = store.due_events(Timestamp::now(), 1).unwrap().remove(0);
    assert_eq!(first.attempts, 0);
    assert!(first.event.id.starts_with("EV"));
    store
        .finish_event(
            "EV1.1",
            DeliveryOutcome::Delivered {
                attempts: 1,
                at: Timestamp::now(),
            },
        )
        .unwrap();
    let later = Timestamp::now() + SignedDuration::from_hours(1);
    store
        .finish_event(
            "EV1.2",
            DeliveryOutcome::Retry {
                attempts: 1,
                next_at: later,
                error: "HTTP 503".into(),
            },
        )
        .unwrap();
    assert_eq!(
        due(&*store),
        ["EV2.1", "EV3.1"],
        "to `bi`, the second event waits out the first one's backoff"
    );
    for id in ["EV2.1", "EV3.1"] {
        store
            .finish_event(
                id,
                DeliveryOutcome::Delivered {
                    attempts: 1,
                    at: Timestamp::now(),
                },
            )
            .unwrap();
    }
    assert_eq!(
        store.next_event_at().unwrap(),
        Some(Timestamp::from_millisecond(later.as_millisecond()).unwrap()),
        "the next due is the retry, not the event waiting behind it"
    );
    assert_eq!(store.pending_events().unwrap(), 2);
    // A finished delivery stays finished.
    store
        .finish_event(
            "EV1.1",
            DeliveryOutcome::Failed {
                attempts: 2,
                error: "late".into(),
            },
        )
        .unwrap();
    assert_eq!(store.pending_events().unwrap(), 2);
    assert_eq!(
        store
            .fail_unconfigured_events(&["crm".to_string()])
            .unwrap(),
        2
    );
    assert_eq!(store.pending_events().unwrap(), 0);
    assert_eq!(store.next_event_at().unwrap(), None);
}
