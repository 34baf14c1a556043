//! The requests that change a stored case: a patch (corrections, an administrator's edits)
//! and a step of the handling process.

use serde::{Deserialize, Serialize};

use super::{Grade, Remedy, Status};

/// A change to a case (`PATCH /v1/cases/{id}`). Absent fields are left as they are.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CasePatch {
    /// New status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    /// New department.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// New assignee.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    /// The resolution text given to the complainant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<String>,
    /// The remedy given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remedy: Option<Remedy>,
    /// A corrected category (kept as training data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// A corrected grade (kept as training data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grade: Option<Grade>,
}

impl CasePatch {
    /// Whether the patch changes nothing.
    pub fn is_empty(&self) -> bool {
        *self == CasePatch::default()
    }
}

/// A step of the handling process with what it needs (`POST /v1/cases/{id}/actions`). Which
/// fields an action needs is said by the action: `assign` a `department` (and perhaps a
/// `handler`), `return`, `suspend`, `withdraw`, `reopen`, `close_abnormally` and
/// `request_extension` a `reason`, `reply` the `reply` (and perhaps a `remedy` with its
/// `amount`), `follow_up` the `result`, `close` a `root_cause`, `request_extension` the `days`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionRequest {
    /// The action.
    pub action: super::Action,
    /// A note to keep with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// `assign`: the department.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// `assign`: the handler, if one is named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handler: Option<String>,
    /// Why (returns, pauses, withdrawals, reopenings, abnormal closes, extensions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// `reply`: what the complainant was told.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<String>,
    /// `reply`: the remedy given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remedy: Option<Remedy>,
    /// `reply`: the remedy's amount, in yuan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<f64>,
    /// `follow_up`: the complainant's judgement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<super::Satisfaction>,
    /// `follow_up`: whether the complainant says the problem is solved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub solved: Option<bool>,
    /// `follow_up`: what the complainant said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// `close`: the root cause, from the profile's list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_cause: Option<String>,
    /// `request_extension`: the deadline to move (default: close).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<super::Step>,
    /// `request_extension`: working days asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<u32>,
}

impl ActionRequest {
    /// A request for `action` with nothing else.
    pub fn new(action: super::Action) -> Self {
        ActionRequest {
            action,
            note: None,
            department: None,
            handler: None,
            reason: None,
            reply: None,
            remedy: None,
            amount: None,
            result: None,
            solved: None,
            comment: None,
            root_cause: None,
            step: None,
            days: None,
        }
    }
}
