//! Dispatch (派单): the kind of office that should answer a case.

use serde::{Deserialize, Serialize};

/// What set the dispatched department.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DispatchSource {
    /// The dispatch model, learned from the departments named in resolved cases' replies.
    Model,
    /// The profile's category → department table: the model had no kind it knows well enough
    /// (or the profile ships no dispatch model).
    Table,
}

/// A department the dispatch model also considered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DispatchOption {
    /// The kind of office (`教育局`, `属地政府`, …).
    pub department: String,
    /// Its calibrated probability.
    pub confidence: f32,
}

/// The dispatch suggestion of a case: the department a dispatcher (派单员) is offered, with how
/// sure it is and where it comes from. The case's own `department` (who handles it) is set by
/// the profile's table and by whoever assigns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dispatch {
    /// The kind of office for the model (`住建局`: which one is set by the address), the
    /// table's department name otherwise.
    pub department: String,
    /// The model's calibrated probability of it; for the table, the category's.
    pub confidence: f32,
    /// Model or table.
    pub source: DispatchSource,
    /// The profile's own department of that kind (one its routing table names), when it has
    /// one: whom a dispatcher would assign the case to. None when the office is outside the
    /// table (a 属地政府, a 公交公司): the dispatcher transfers it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_department: Option<String>,
    /// The model's next choices, best first (empty for the table).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alternatives: Vec<DispatchOption>,
}
