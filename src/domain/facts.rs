//! A case's handling facts: the few fields work queues, the deadline sweep and KPIs read, in a
//! narrow form the store keeps beside each case (a million of them load in a second, where the
//! whole documents would take a minute).

use std::sync::Arc;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{Case, CaseId, Channel, Grade, Satisfaction, Status, Step};

/// Longest summary kept (characters): enough for a queue's line.
const SUMMARY_CHARS: usize = 40;

/// One deadline, as facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadlineFact {
    /// The step.
    pub step: Step,
    /// When its count started.
    pub start: Timestamp,
    /// When it is due.
    pub due: Timestamp,
    /// When it was met.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub met: Option<Timestamp>,
}

/// What work queues, the deadline sweep and KPIs know of a case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseFacts {
    /// Order of creation.
    pub seq: u64,
    /// Case number.
    pub id: CaseId,
    /// The change sequence of the write these facts are of.
    pub version: u64,
    /// When it was received.
    pub received_at: Timestamp,
    /// Where it is in the process.
    pub status: Status,
    /// Its department.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<Arc<str>>,
    /// Its handler.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<Arc<str>>,
    /// Its category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<Arc<str>>,
    /// Its intake channel.
    pub channel: Channel,
    /// Its grade.
    pub grade: Grade,
    /// Its deadlines.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deadlines: Vec<DeadlineFact>,
    /// When the department first signed for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted_at: Option<Timestamp>,
    /// When the complainant was (last) answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replied_at: Option<Timestamp>,
    /// When it was closed, abnormally closed or withdrawn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<Timestamp>,
    /// The 回访 result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub satisfaction: Option<Satisfaction>,
    /// Whether the complainant said at 回访 that the problem was solved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub solved: Option<bool>,
    /// Times sent back (退单).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub returns: u32,
    /// Times reopened (重办).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub reopened: u32,
    /// Extensions granted.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub extensions: u32,
    /// Whether it repeats an earlier complaint of the same complainant (within the repeat
    /// window).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub repeat: bool,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// A case's line in a list: its title, or the start of its (masked) text. Not kept among the
/// facts (a million of them in memory): lists read it from the cases they show.
pub fn summary_of(case: &Case) -> String {
    case.title
        .as_deref()
        .filter(|t| !t.trim().is_empty())
        .unwrap_or(&case.text)
        .chars()
        .take(SUMMARY_CHARS)
        .collect()
}

impl CaseFacts {
    /// A case `seq` received at `received_at`, triaged by phone as 一般, with nothing else
    /// known: what tests set the rest of.
    #[cfg(test)]
    pub fn blank(seq: u64, received_at: Timestamp) -> Self {
        CaseFacts {
            seq,
            id: CaseId(format!("TS20260301-{seq:06}")),
            version: seq,
            received_at,
            status: Status::Triaged,
            department: None,
            assignee: None,
            category: None,
            channel: Channel::Phone,
            grade: Grade::General,
            deadlines: Vec::new(),
            accepted_at: None,
            replied_at: None,
            closed_at: None,
            satisfaction: None,
            solved: None,
            returns: 0,
            reopened: 0,
            extensions: 0,
            repeat: false,
        }
    }

    /// The facts of `case`.
    pub fn of(case: &Case) -> Self {
        let h = &case.handling;
        CaseFacts {
            seq: case.seq,
            id: case.id.clone(),
            version: case.version,
            received_at: case.received_at,
            status: case.status,
            department: case.department.as_deref().map(Arc::from),
            assignee: case.assignee.as_deref().map(Arc::from),
            category: case.category.as_deref().map(Arc::from),
            channel: case.channel,
            grade: case.grade,
            deadlines: case
                .deadlines
                .iter()
                .map(|d| DeadlineFact {
                    step: d.step,
                    start: d.start,
                    due: d.due,
                    met: d.met_at,
                })
                .collect(),
            accepted_at: h.accepted_at,
            replied_at: case.resolved_at,
            closed_at: h.closed_at,
            satisfaction: h.follow_up.as_ref().map(|f| f.result),
            solved: h.follow_up.as_ref().and_then(|f| f.solved),
            returns: u32::try_from(h.returns.len()).unwrap_or(u32::MAX),
            reopened: h.reopened,
            extensions: u32::try_from(
                h.extensions
                    .iter()
                    .filter(|e| e.granted == Some(true))
                    .count(),
            )
            .unwrap_or(u32::MAX),
            repeat: !case.links.repeat_of.is_empty(),
        }
    }

    /// The deadline of `step`, if the case has one.
    pub fn deadline(&self, step: Step) -> Option<&DeadlineFact> {
        self.deadlines.iter().find(|d| d.step == step)
    }
}
