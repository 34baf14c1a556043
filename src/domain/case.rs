//! A stored complaint case and the requests that create and change it.

use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{Channel, Deadline, Grade, HandlingRecord, Reason, Remedy, Status};

/// A case number: `TS` + the Beijing date of intake + a per-day sequence, e.g.
/// `TS20261122-000123`. Case numbers are what citizens and staff quote on the phone, so they
/// are short, dated and never reused.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CaseId(pub String);

impl CaseId {
    /// The case number for the `n`th case (1-based) of the Beijing day `yyyymmdd`.
    pub fn new(yyyymmdd: &str, n: u64) -> Self {
        CaseId(format!("TS{yyyymmdd}-{n:06}"))
    }

    /// Whether `s` looks like a case number (so that a typo gets a clear 404, not a scan).
    pub fn is_well_formed(s: &str) -> bool {
        let b = s.as_bytes();
        b.len() >= 17
            && s.starts_with("TS")
            && b[2..10].iter().all(u8::is_ascii_digit)
            && b[10] == b'-'
            && b[11..].iter().all(u8::is_ascii_digit)
    }

    /// The case number as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The case number packed in a `u64` (`yyyymmdd × 10⁹ + n`), for a fast index column;
    /// `None` when it is not well formed or `n` has more than 9 digits.
    pub fn packed(&self) -> Option<u64> {
        if !Self::is_well_formed(&self.0) || self.0.len() > 20 {
            return None;
        }
        let day: u64 = self.0[2..10].parse().ok()?;
        let n: u64 = self.0[11..].parse().ok()?;
        Some(day * PACK + n)
    }

    /// The case number [`CaseId::packed`] gave.
    pub fn unpack(packed: u64) -> Self {
        let day = (packed / PACK).to_string();
        CaseId::new(&day, packed % PACK)
    }
}

/// Room for the day's sequence number in a packed case number.
const PACK: u64 = 1_000_000_000;

impl fmt::Display for CaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A complaint as an intake system sends it (`POST /v1/triage`, `POST /v1/cases`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Intake {
    /// The complaint's words (required).
    pub text: String,
    /// Subject line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Where it came in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
    /// The complainant's phone, id number or e-mail. Kept only in the store's column for it,
    /// for the audited reveal to call back (never in the case, the index, logs or exports);
    /// its salted hash finds repeats. When absent, the first phone or id number in the text is
    /// hashed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    /// When the problem happened.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "super::api_time::deserialize"
    )]
    pub occurred_at: Option<Timestamp>,
    /// When the organisation received it (SLA deadlines count from here); now when absent.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "super::api_time::deserialize"
    )]
    pub received_at: Option<Timestamp>,
    /// The intake system's own fields (ticket number, region, …), kept as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Map<String, Value>>,
}

/// How a case relates to earlier ones. Links, never merges: every case keeps its own record.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Links {
    /// Earlier cases from the same complainant on a similar matter (newest first).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repeat_of: Vec<CaseId>,
    /// The earliest case with (nearly) the same text, e.g. the same complaint sent through two
    /// channels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<CaseId>,
    /// The group complaint this case belongs to (群体投诉).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
}

impl Links {
    /// Whether the case has no links.
    pub fn is_empty(&self) -> bool {
        self.repeat_of.is_empty() && self.duplicate_of.is_none() && self.group_id.is_none()
    }
}

/// An analyst's correction of a prediction: what the model said, what the analyst set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Correction {
    /// The value before the correction.
    pub from: Option<String>,
    /// The corrected value.
    pub to: String,
    /// Who corrected it (the API key's name).
    pub by: String,
    /// When.
    pub at: Timestamp,
}

/// Analysts' corrections of a case's category and grade, kept as training data.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Corrections {
    /// Category correction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<Correction>,
    /// Grade correction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grade: Option<Correction>,
}

impl Corrections {
    /// Whether nothing was corrected.
    pub fn is_empty(&self) -> bool {
        self.category.is_none() && self.grade.is_none()
    }
}

/// A stored case: the intake, its triage, and what handling has done since.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Case {
    /// Case number.
    pub id: CaseId,
    /// Order of creation in the store (1, 2, …).
    pub seq: u64,
    /// Store-wide change sequence of the last write to this case; the index follows it.
    pub version: u64,
    /// When the case was stored.
    pub created_at: Timestamp,
    /// When it was last changed.
    pub updated_at: Timestamp,
    /// When the organisation received it.
    pub received_at: Timestamp,
    /// When the problem happened, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub occurred_at: Option<Timestamp>,
    /// Intake channel.
    pub channel: Channel,
    /// Subject line, PII masked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The complaint, normalised with PII masked: what is indexed, shown and logged.
    pub text: String,
    /// Salted hash of the complainant's contact, for repeat detection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_hash: Option<String>,
    /// Category (the analyst's correction when there is one, else the model's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// The model's confidence in its category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category_confidence: Option<f32>,
    /// Grade (correction, else model raised by rules and links).
    pub grade: Grade,
    /// Reason codes behind the grade, deciding one first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<Reason>,
    /// The model's own grade, before rules and links raised it (absent on cases stored before
    /// it was kept): whether a phrase alone made the case 重大.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_grade: Option<Grade>,
    /// Handling tier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    /// Department handling the case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// Person handling the case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    /// Where the case is in the handling process.
    pub status: Status,
    /// The reply or resolution given to the complainant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<String>,
    /// What remedy was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remedy: Option<Remedy>,
    /// When the resolution was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<Timestamp>,
    /// Keywords of the text (TF-IDF), for topics and explanations.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    /// Repeat, duplicate and group links.
    #[serde(default, skip_serializing_if = "Links::is_empty")]
    pub links: Links,
    /// The deadlines of its handling steps, as last computed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deadlines: Vec<Deadline>,
    /// The record of its handling: notes, call-backs, remedy, follow-up, returns, pauses,
    /// extensions, root cause.
    #[serde(default, skip_serializing_if = "HandlingRecord::is_empty")]
    pub handling: HandlingRecord,
    /// Analysts' corrections of category and grade.
    #[serde(default, skip_serializing_if = "Corrections::is_empty")]
    pub corrections: Corrections,
    /// The intake system's own fields.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub metadata: Map<String, Value>,
    /// The triage as computed at intake (model output, rules, deadlines), for audit: kept and
    /// returned verbatim, never read back by the service. Absent from light reads (lists,
    /// neighbours, the index), which do not need it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub triage: Option<TriageRecord>,
}

/// A JSON record kept verbatim: written once, returned as written, never parsed again (the
/// intake triage is most of a case's bytes, and nothing decides on it after intake).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TriageRecord(Box<serde_json::value::RawValue>);

impl TriageRecord {
    /// The record of `value`, serialised once.
    pub fn of(value: &impl Serialize) -> serde_json::Result<Self> {
        serde_json::value::to_raw_value(value).map(TriageRecord)
    }

    /// A record from its JSON text (as stored); errors when it is not JSON.
    pub fn from_json(json: String) -> serde_json::Result<Self> {
        serde_json::value::RawValue::from_string(json).map(TriageRecord)
    }

    /// The JSON text.
    pub fn as_json(&self) -> &str {
        self.0.get()
    }
}

impl PartialEq for TriageRecord {
    fn eq(&self, other: &Self) -> bool {
        self.as_json() == other.as_json()
    }
}

impl Case {
    /// Whether the case carries a resolution that can be suggested for similar cases.
    pub fn is_resolved(&self) -> bool {
        self.resolution
            .as_deref()
            .is_some_and(|r| !r.trim().is_empty())
    }
}

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

/// One entry of a case's audit trail: who changed what, when, from what to what.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// The case.
    pub case_id: CaseId,
    /// When.
    pub at: Timestamp,
    /// Who (an API key's name, `import`, or `system` for automatic links).
    pub actor: String,
    /// What: `create`, `update`, `correct` (a category or grade correction), `link` (joined
    /// a group complaint), a step of the process (`assign`, `reply`, …), `note`, `contact`;
    /// or a read that changed nothing: `reveal_contact` (the complainant's contact shown).
    pub action: String,
    /// The changed fields before, as JSON (null on create and on a read).
    pub before: Value,
    /// The changed fields after (`{}` on a read).
    pub after: Value,
    /// Why, for a read (the reason given, masked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_case_number_packs_and_unpacks() {
        for id in [
            "TS20261122-000123",
            "TS20251231-999999",
            "TS20270101-1234567",
        ] {
            let id = CaseId(id.to_string());
            let packed = id.packed().expect("well formed");
            assert_eq!(CaseId::unpack(packed), id);
        }
        assert_eq!(CaseId("TS2026-1".into()).packed(), None);
        assert_eq!(CaseId("TS20261122-1234567890".into()).packed(), None);
    }
}
