//! What case event, if any, an entry of the audit trail or the alert history is.
//!
//! One entry is at most one event, and a status change is exactly one: `case.assigned` for
//! 派单, `case.closed` for a step that ends the case (办结, 异常结案, 撤诉), `case.transitioned`
//! for every other step that changed the status; all three carry `step`, `from_status` and
//! `to_status`, so a receiver that follows the status reads all three. Notes, call-backs,
//! corrections and extension requests change no status and make no event.

use serde_json::Value;

use crate::domain::{AuditEvent, Case, CaseEvent, EventType, Status};
use crate::store::{AlertEntry, AuditEntry};

/// The alert rule a deadline breach is raised under.
pub const BREACH_RULE: &str = "sla_breached";

/// Actors that load history in bulk (`tousu import`, `tousu replay`): the cases they create
/// are not news to a system following its cases (as such cases raise no alerts either).
const BULK_ACTORS: [&str; 2] = ["import", "replay"];

/// The type of event `e` is, if it is one.
pub fn kind_of(e: &AuditEvent) -> Option<EventType> {
    if e.action == "create" {
        return (!BULK_ACTORS.contains(&e.actor.as_str())).then_some(EventType::Created);
    }
    let to = status(&e.after);
    let changed = to.is_some() && to != status(&e.before);
    match to {
        Some(s) if changed && !s.is_open() => Some(EventType::Closed),
        _ if e.action == "assign" => Some(EventType::Assigned),
        _ if changed => Some(EventType::Transitioned),
        _ => None,
    }
}

/// The event audit entry `entry` is, with `case` as it was right after it.
pub fn from_audit(entry: &AuditEntry, case: &Case) -> Option<CaseEvent> {
    let e = &entry.event;
    let kind = kind_of(e)?;
    let (from, to) = match kind {
        EventType::Created => (None, None),
        _ => (status(&e.before), status(&e.after)),
    };
    let moved = from.is_some() && to.is_some() && from != to;
    Some(CaseEvent {
        id: format!("EV{}-{}", e.at.as_millisecond(), entry.seq),
        kind,
        at: e.at,
        case_id: e.case_id.clone(),
        step: (kind != EventType::Created).then(|| e.action.clone()),
        from_status: from.filter(|_| moved),
        to_status: to.filter(|_| moved),
        actor: e.actor.clone(),
        ..labels(case)
    })
}

/// The `case.deadline_breached` event an alert is, if it is an `sla_breached` alert about a
/// case; `case` as it was when the alert was raised.
pub fn from_breach(entry: &AlertEntry, case: &Case) -> Option<CaseEvent> {
    let alert = &entry.alert;
    if alert.rule != BREACH_RULE || alert.case_id() != Some(case.id.as_str()) {
        return None;
    }
    let deadline = ["deadline", "step"]
        .iter()
        .find_map(|k| alert.data.get(*k).and_then(Value::as_str))
        .map(str::to_string);
    Some(CaseEvent {
        id: format!("EV{}-D{}", alert.created_at.as_millisecond(), entry.seq),
        kind: EventType::DeadlineBreached,
        at: alert.created_at,
        actor: "system".into(),
        deadline,
        ..labels(case)
    })
}

/// An event carrying the case's labels; the rest to be filled in.
fn labels(case: &Case) -> CaseEvent {
    CaseEvent {
        id: String::new(),
        kind: EventType::Transitioned,
        at: case.updated_at,
        case_id: case.id.clone(),
        status: case.status,
        department: case.department.clone(),
        grade: case.grade,
        category: case.category.clone(),
        actor: String::new(),
        step: None,
        from_status: None,
        to_status: None,
        deadline: None,
    }
}

/// The `status` an audit event's `before` or `after` records, if it records one.
fn status(fields: &Value) -> Option<Status> {
    fields
        .get("status")
        .and_then(Value::as_str)
        .and_then(Status::from_code)
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;
    use serde_json::json;

    use super::*;
    use crate::domain::{Alert, CaseId, Grade};

    fn audit(action: &str, actor: &str, before: Value, after: Value) -> AuditEntry {
        AuditEntry {
            seq: 42,
            event: AuditEvent {
                case_id: CaseId("TS20261122-000001".into()),
                at: Timestamp::from_millisecond(1_763_800_000_123).unwrap(),
                actor: actor.into(),
                action: action.into(),
                note: None,
                before,
                after,
            },
        }
    }

    fn case(status: Status) -> Case {
        let mut c = crate::store::conformance::sample_case("宽带断网", "2026-11-22T02:00:00Z");
        c.id = CaseId("TS20261122-000001".into());
        c.status = status;
        c.department = Some("网络运维中心".into());
        c.grade = Grade::Serious;
        c
    }

    fn step(action: &str, from: &str, to: &str) -> AuditEntry {
        audit(
            action,
            "lead",
            json!({"status": from}),
            json!({"status": to}),
        )
    }

    #[test]
    fn each_step_is_at_most_one_event() {
        let kind = |e: &AuditEntry| kind_of(&e.event);
        let create = audit("create", "crm", Value::Null, json!({"status": "triaged"}));
        assert_eq!(kind(&create), Some(EventType::Created));
        assert_eq!(
            kind(&audit("create", "import", Value::Null, json!({}))),
            None,
            "history loaded in bulk is not news"
        );
        assert_eq!(
            kind(&step("assign", "triaged", "assigned")),
            Some(EventType::Assigned)
        );
        assert_eq!(
            kind(&step("accept", "assigned", "handling")),
            Some(EventType::Transitioned)
        );
        for closing in [
            step("close", "followed_up", "closed"),
            step("close_abnormally", "replied", "closed_abnormally"),
            step("withdraw", "handling", "withdrawn"),
        ] {
            assert_eq!(kind(&closing), Some(EventType::Closed));
        }
        let note = audit(
            "note",
            "wang",
            json!({"handling": {}}),
            json!({"handling": {"notes": []}}),
        );
        assert_eq!(kind(&note), None);
        let correct = audit(
            "correct",
            "ana",
            json!({"grade": "一般"}),
            json!({"grade": "重大"}),
        );
        assert_eq!(kind(&correct), None);
        let reassign = audit(
            "assign",
            "lead",
            json!({"department": "计费中心"}),
            json!({"department": "网络运维中心"}),
        );
        assert_eq!(kind(&reassign), Some(EventType::Assigned));
    }

    #[test]
    fn events_carry_labels_and_the_move() {
        let e = from_audit(
            &step("accept", "assigned", "handling"),
            &case(Status::Handling),
        )
        .unwrap();
        assert_eq!(e.id, "EV1763800000123-42");
        assert_eq!(e.kind, EventType::Transitioned);
        assert_eq!(
            (e.from_status, e.to_status, e.status),
            (
                Some(Status::Assigned),
                Some(Status::Handling),
                Status::Handling
            )
        );
        assert_eq!(e.step.as_deref(), Some("accept"));
        assert_eq!(e.actor, "lead");
        assert_eq!(e.department.as_deref(), Some("网络运维中心"));
        assert_eq!(e.grade, Grade::Serious);
        let body = serde_json::to_value(&e).unwrap();
        assert_eq!(body["type"], "case.transitioned");
        assert_eq!(body["grade"], "严重");
        assert!(body["deadline"].is_null(), "every field is present: {body}");

        let created = from_audit(
            &audit("create", "crm", Value::Null, json!({"status": "triaged"})),
            &case(Status::Triaged),
        )
        .unwrap();
        assert_eq!((created.step, created.from_status), (None, None));
    }

    #[test]
    fn a_breach_alert_about_the_case_is_a_breach_event() {
        let alert = |rule: &str| AlertEntry {
            seq: 7,
            alert: Alert {
                id: "AL1-7".into(),
                rule: rule.into(),
                key: "sla:TS20261122-000001:reply".into(),
                fingerprint: "reply".into(),
                title: "超期：TS20261122-000001 答复".into(),
                summary: "s".into(),
                severity: "严重".into(),
                department: Some("网络运维中心".into()),
                created_at: Timestamp::from_millisecond(1_763_800_000_999).unwrap(),
                data: json!({"case": "TS20261122-000001", "deadline": "reply"}),
            },
        };
        let e = from_breach(&alert(BREACH_RULE), &case(Status::Handling)).unwrap();
        assert_eq!(e.id, "EV1763800000999-D7");
        assert_eq!(e.kind, EventType::DeadlineBreached);
        assert_eq!(e.deadline.as_deref(), Some("reply"));
        assert_eq!((e.actor.as_str(), e.status), ("system", Status::Handling));
        assert!(from_breach(&alert("sla_due_soon"), &case(Status::Handling)).is_none());
    }
}
