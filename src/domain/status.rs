//! Where a case is in the handling process, and the steps that move it: the vocabulary of the
//! process a profile writes down (`[process]` in `data/profiles/<profile>.toml`).
//!
//! 受理/分类分级 (triaged) → 派单 (assigned) → 签收, 调查/处理 (handling) → 答复 (replied) →
//! 回访 (followed up) → 办结/归档 (closed); and the side paths: 退单 (returned), 挂起
//! (suspended), 重办 (back to handling), 异常结案 (closed abnormally), 撤诉 (withdrawn).

use std::fmt;

use serde::{Deserialize, Serialize};

/// Where a case is in the handling process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// 受理, 分类分级: stored, triaged, routed; waiting to be dispatched.
    Triaged,
    /// 派单: dispatched to a department (and perhaps a handler), not yet signed for.
    Assigned,
    /// 签收, 调查/处理: the department has it and is working on it.
    #[serde(alias = "investigating")]
    Handling,
    /// 答复: the complainant has been given the department's reply.
    Replied,
    /// 回访: the follow-up call is done (its result is on the case).
    FollowedUp,
    /// 办结/归档: closed; no further changes.
    #[serde(alias = "archived")]
    Closed,
    /// 退单: the department sent it back, with its reason; to be dispatched again.
    Returned,
    /// 挂起: waiting on the complainant; the deadlines' clocks stop.
    Suspended,
    /// 撤诉: the complainant withdrew it.
    Withdrawn,
    /// 异常结案: closed without the usual steps (say, the complainant could not be reached).
    ClosedAbnormally,
}

impl Status {
    /// Every status, in process order, side paths last.
    pub const ALL: [Status; 10] = [
        Status::Triaged,
        Status::Assigned,
        Status::Handling,
        Status::Replied,
        Status::FollowedUp,
        Status::Closed,
        Status::Returned,
        Status::Suspended,
        Status::Withdrawn,
        Status::ClosedAbnormally,
    ];

    /// The API's code for the status.
    pub fn code(self) -> &'static str {
        match self {
            Status::Triaged => "triaged",
            Status::Assigned => "assigned",
            Status::Handling => "handling",
            Status::Replied => "replied",
            Status::FollowedUp => "followed_up",
            Status::Closed => "closed",
            Status::Returned => "returned",
            Status::Suspended => "suspended",
            Status::Withdrawn => "withdrawn",
            Status::ClosedAbnormally => "closed_abnormally",
        }
    }

    /// The Chinese name staff use.
    pub fn label(self) -> &'static str {
        match self {
            Status::Triaged => "已受理",
            Status::Assigned => "已派单",
            Status::Handling => "办理中",
            Status::Replied => "已答复",
            Status::FollowedUp => "已回访",
            Status::Closed => "已办结",
            Status::Returned => "已退单",
            Status::Suspended => "已挂起",
            Status::Withdrawn => "已撤诉",
            Status::ClosedAbnormally => "异常结案",
        }
    }

    /// The status with API code `code` (the codes of earlier versions, `investigating` and
    /// `archived`, included).
    pub fn from_code(code: &str) -> Option<Status> {
        match code {
            "investigating" => Some(Status::Handling),
            "archived" => Some(Status::Closed),
            code => Status::ALL.into_iter().find(|s| s.code() == code),
        }
    }

    /// Whether the case is still being worked (its deadlines run, it sits in work queues).
    pub fn is_open(self) -> bool {
        !matches!(
            self,
            Status::Closed | Status::Withdrawn | Status::ClosedAbnormally
        )
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A step of the handling process, as staff take it (`POST /v1/cases/{id}/actions`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// 派单: dispatch to a department (and perhaps a handler).
    Assign,
    /// 签收: the department signs for the case and starts work.
    Accept,
    /// 退单: the department sends the case back, with its reason.
    Return,
    /// 答复: the reply given to the complainant.
    Reply,
    /// 回访: the follow-up call and its result.
    FollowUp,
    /// 办结: close, with the root cause.
    Close,
    /// 重办: back to handling after an unsatisfied follow-up.
    Reopen,
    /// 挂起: wait on the complainant; the deadlines stop.
    Suspend,
    /// Resume after 挂起: the deadlines run again.
    Resume,
    /// 撤诉: the complainant withdrew.
    Withdraw,
    /// 异常结案: close without the usual steps.
    CloseAbnormally,
    /// 延期申请: ask for more time, with the reason.
    RequestExtension,
    /// Grant the extension asked for: the deadline moves.
    GrantExtension,
    /// Refuse the extension asked for.
    RefuseExtension,
}

impl Action {
    /// Every action.
    pub const ALL: [Action; 14] = [
        Action::Assign,
        Action::Accept,
        Action::Return,
        Action::Reply,
        Action::FollowUp,
        Action::Close,
        Action::Reopen,
        Action::Suspend,
        Action::Resume,
        Action::Withdraw,
        Action::CloseAbnormally,
        Action::RequestExtension,
        Action::GrantExtension,
        Action::RefuseExtension,
    ];

    /// The API's code for the action.
    pub fn code(self) -> &'static str {
        match self {
            Action::Assign => "assign",
            Action::Accept => "accept",
            Action::Return => "return",
            Action::Reply => "reply",
            Action::FollowUp => "follow_up",
            Action::Close => "close",
            Action::Reopen => "reopen",
            Action::Suspend => "suspend",
            Action::Resume => "resume",
            Action::Withdraw => "withdraw",
            Action::CloseAbnormally => "close_abnormally",
            Action::RequestExtension => "request_extension",
            Action::GrantExtension => "grant_extension",
            Action::RefuseExtension => "refuse_extension",
        }
    }

    /// The Chinese name staff use.
    pub fn label(self) -> &'static str {
        match self {
            Action::Assign => "派单",
            Action::Accept => "签收",
            Action::Return => "退单",
            Action::Reply => "答复",
            Action::FollowUp => "回访",
            Action::Close => "办结",
            Action::Reopen => "重办",
            Action::Suspend => "挂起",
            Action::Resume => "恢复",
            Action::Withdraw => "撤诉",
            Action::CloseAbnormally => "异常结案",
            Action::RequestExtension => "延期申请",
            Action::GrantExtension => "批准延期",
            Action::RefuseExtension => "驳回延期",
        }
    }

    /// The action with API code `code`.
    pub fn from_code(code: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.code() == code)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_old_codes_are_read() {
        for s in Status::ALL {
            assert_eq!(Status::from_code(s.code()), Some(s));
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.code())
            );
        }
        for a in Action::ALL {
            assert_eq!(Action::from_code(a.code()), Some(a));
        }
        let old: Status = serde_json::from_str("\"investigating\"").unwrap();
        assert_eq!(old, Status::Handling);
        let old: Status = serde_json::from_str("\"archived\"").unwrap();
        assert_eq!(old, Status::Closed);
        assert!(!Status::Closed.is_open() && Status::Suspended.is_open());
    }
}
