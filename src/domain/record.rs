//! What handling leaves on a case: its deadlines, and the record of the work — notes, call-backs,
//! the remedy, the follow-up and its result, returns, pauses, extensions, the root cause.

use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{Limit, Remedy, Status};

/// A step of handling that has a time limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// 签收 / 受理确认: the department signs for the case. Met by `accept`.
    Confirm,
    /// 答复: the reply to the complainant. Met by `reply`.
    Reply,
    /// 办结: the case closed. Met by `close`, `close_abnormally` or `withdraw`.
    Close,
    /// 回访: the follow-up call, counted from the reply. Met by `follow_up`.
    FollowUp,
}

impl Step {
    /// Every step, in process order.
    pub const ALL: [Step; 4] = [Step::Confirm, Step::Reply, Step::Close, Step::FollowUp];

    /// The API's code for the step.
    pub fn code(self) -> &'static str {
        match self {
            Step::Confirm => "confirm",
            Step::Reply => "reply",
            Step::Close => "close",
            Step::FollowUp => "follow_up",
        }
    }

    /// The Chinese name staff use.
    pub fn label(self) -> &'static str {
        match self {
            Step::Confirm => "签收",
            Step::Reply => "答复",
            Step::Close => "办结",
            Step::FollowUp => "回访",
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// One deadline of a case, as last computed (at intake, and again on a re-grade, a new
/// category, a pause ending or an extension granted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadline {
    /// What must be done by then.
    pub step: Step,
    /// The time allowed, as the policy sets it for the case's grade and category.
    pub limit: Limit,
    /// When the count starts (receipt; the reply, for the follow-up).
    pub start: Timestamp,
    /// Working days added by extensions granted.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub extended_days: u32,
    /// When it is due, paused time and extensions included.
    pub due: Timestamp,
    /// False when the count passed through a year the calendar has no notice for: the due time
    /// may fall on a holiday.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub calendar_complete: bool,
    /// When the step was done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub met_at: Option<Timestamp>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

/// A deadline's standing at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineState {
    /// Running, with time left.
    Open,
    /// Running, and the configured share of its time is used.
    DueSoon,
    /// Past due and not done.
    Breached,
    /// Done in time.
    Met,
    /// Done, after it was due.
    MetLate,
}

/// 回访 result: how the complainant judged the handling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Satisfaction {
    /// 满意
    #[serde(rename = "满意")]
    Satisfied,
    /// 基本满意
    #[serde(rename = "基本满意")]
    FairlySatisfied,
    /// 不满意
    #[serde(rename = "不满意")]
    Unsatisfied,
}

impl Satisfaction {
    /// The Chinese label used in the API and exports.
    pub fn label(self) -> &'static str {
        match self {
            Satisfaction::Satisfied => "满意",
            Satisfaction::FairlySatisfied => "基本满意",
            Satisfaction::Unsatisfied => "不满意",
        }
    }
}

/// A note on a case (free text, masked).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    /// When.
    pub at: Timestamp,
    /// Who.
    pub by: String,
    /// What.
    pub text: String,
}

/// One attempt to reach the complainant (a call-back, a follow-up call).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactAttempt {
    /// When.
    pub at: Timestamp,
    /// Who called.
    pub by: String,
    /// Whether the complainant was reached.
    pub reached: bool,
    /// What came of it (masked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
}

/// The remedy given, with its amount and who approved it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RemedyGiven {
    /// What kind.
    pub kind: Remedy,
    /// The money involved, in yuan (refunds, compensation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<f64>,
    /// The supervisor who approved an amount above the approval limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
    /// Who recorded it.
    pub by: String,
    /// When.
    pub at: Timestamp,
}

/// The 回访 (follow-up call) and its result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUp {
    /// When.
    pub at: Timestamp,
    /// Who called.
    pub by: String,
    /// The complainant's judgement.
    pub result: Satisfaction,
    /// Whether the complainant says the problem is solved (问题是否解决), when asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub solved: Option<bool>,
    /// What they said (masked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// A case sent back by its department (退单).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Returned {
    /// When.
    pub at: Timestamp,
    /// Who sent it back.
    pub by: String,
    /// The department it was with.
    pub department: Option<String>,
    /// Why (masked).
    pub reason: String,
}

/// A time the case was suspended (挂起): its deadlines do not run meanwhile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pause {
    /// Since when.
    pub from: Timestamp,
    /// Until when (absent while still suspended).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Timestamp>,
    /// The status it was suspended from (it goes back there).
    pub was: Status,
    /// Why (masked).
    pub reason: String,
}

/// An extension asked for (延期申请) and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extension {
    /// When it was asked for.
    pub at: Timestamp,
    /// Who asked.
    pub by: String,
    /// The deadline to move.
    pub step: Step,
    /// Working days asked for.
    pub days: u32,
    /// Why (masked).
    pub reason: String,
    /// Granted (`true`) or refused, once decided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub granted: Option<bool>,
    /// Who decided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    /// When.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<Timestamp>,
    /// The decision's note (masked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision_note: Option<String>,
}

/// The record of handling a case.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HandlingRecord {
    /// Notes, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<Note>,
    /// Attempts to reach the complainant, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contacts: Vec<ContactAttempt>,
    /// The remedy given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remedy: Option<RemedyGiven>,
    /// The follow-up call and its result (the latest, after a reopening).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follow_up: Option<FollowUp>,
    /// Times the case was sent back.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub returns: Vec<Returned>,
    /// Times it was suspended.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pauses: Vec<Pause>,
    /// Extensions asked for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extensions: Vec<Extension>,
    /// Times it was reopened (重办) after an unsatisfied follow-up.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub reopened: u32,
    /// The root cause chosen when closing (from the profile's list).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_cause: Option<String>,
    /// When the department signed for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted_at: Option<Timestamp>,
    /// When it was closed (办结, 异常结案 or 撤诉).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<Timestamp>,
    /// Why it was closed abnormally or withdrawn (masked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub close_reason: Option<String>,
}

impl HandlingRecord {
    /// Whether nothing has been recorded.
    pub fn is_empty(&self) -> bool {
        *self == HandlingRecord::default()
    }

    /// The pause in progress, if the case is suspended.
    pub fn open_pause(&self) -> Option<&Pause> {
        self.pauses.last().filter(|p| p.to.is_none())
    }

    /// The extension asked for and not yet decided.
    pub fn pending_extension(&self) -> Option<&Extension> {
        self.extensions.last().filter(|e| e.granted.is_none())
    }
}
