//! Case events: what an intake or CRM system is told about the cases it follows, so that it
//! need not poll. Labels and ids only: no free text, nothing a complainant wrote.

use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{CaseId, Grade, Status};

/// What happened to a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum EventType {
    /// 受理: the case was stored.
    #[serde(rename = "case.created")]
    Created,
    /// 派单: the case was dispatched to a department (and perhaps a handler).
    #[serde(rename = "case.assigned")]
    Assigned,
    /// Any other step that changed the status (签收, 退单, 答复, 回访, 重办, 挂起, …).
    #[serde(rename = "case.transitioned")]
    Transitioned,
    /// A deadline of the case passed before its step was done (the `sla_breached` alert).
    #[serde(rename = "case.deadline_breached")]
    DeadlineBreached,
    /// The case reached a final status: 办结, 异常结案 or 撤诉.
    #[serde(rename = "case.closed")]
    Closed,
}

impl EventType {
    /// Every type, in the order a case usually meets them.
    pub const ALL: [EventType; 5] = [
        EventType::Created,
        EventType::Assigned,
        EventType::Transitioned,
        EventType::DeadlineBreached,
        EventType::Closed,
    ];

    /// The name sent in the body's `type` and the `X-Tousu-Event` header.
    pub fn code(self) -> &'static str {
        match self {
            EventType::Created => "case.created",
            EventType::Assigned => "case.assigned",
            EventType::Transitioned => "case.transitioned",
            EventType::DeadlineBreached => "case.deadline_breached",
            EventType::Closed => "case.closed",
        }
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// One case event, as POSTed to an `[events]` webhook. Every field is always present (`null`
/// when it does not apply), so that a receiver's schema has one shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseEvent {
    /// Unique and the same on every attempt: a receiver drops a repeat by it. `EV` + the
    /// source's time in Unix milliseconds + `-` + its place in the audit trail (`-D` + the
    /// alert's sequence for a deadline breach).
    pub id: String,
    /// What happened.
    #[serde(rename = "type")]
    pub kind: EventType,
    /// When it happened (the audit event's time; the alert's for a deadline breach).
    pub at: Timestamp,
    /// The case.
    pub case_id: CaseId,
    /// The case's status right after the event.
    pub status: Status,
    /// Its department right after the event.
    pub department: Option<String>,
    /// Its grade right after the event.
    pub grade: Grade,
    /// Its category right after the event.
    pub category: Option<String>,
    /// Who did it (an API key's name; `system` for a deadline breach).
    pub actor: String,
    /// The step taken (`assign`, `accept`, `close`, …; the audit action), `null` for a
    /// creation or a deadline breach.
    pub step: Option<String>,
    /// The status before, when the event changed it.
    pub from_status: Option<Status>,
    /// The status after, when the event changed it.
    pub to_status: Option<Status>,
    /// For a deadline breach: the deadline's step (`confirm`, `reply`, `follow_up`, `close`).
    pub deadline: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_serialise_as_their_codes() {
        for t in EventType::ALL {
            assert_eq!(
                serde_json::to_string(&t).unwrap(),
                format!("\"{}\"", t.code())
            );
        }
    }
}
